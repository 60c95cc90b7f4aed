"""Weighted (SMC) summaries against independent computations (issue 14: mutation gaps).

An ensemble conditioned on observations and not resampled carries unequal run weights
(``model.results.add_weights``); ``model.analysis`` then weighs every figure. With integer
weights ``k_i`` a weighted ensemble is the same distribution as the ensemble with run ``i``
repeated ``k_i`` times, so every share and mean here is checked against the unweighted
arithmetic of that expanded ensemble, and every quantile against a plain-Python walk of the
weighted sample (each run's weight centred on its value, linear in between; on equal weights
numpy's "hazen" quantile). Also: the bootstrap counts behind ``median_shift`` (checked with a
cleared cache, since a cached entry from an earlier test would hide them) and ``run_weights``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model import analysis as a
from model.agents.relations import BANDS, DRIVERS
from model.results import add_weights, classify, run_weights

K = np.array([3, 1, 5, 2, 1, 7, 1, 4, 2])  # integer weights of the nine runs


def _ds(attrs: bool = True) -> xr.Dataset:
    """Nine runs, four months; the last month's relations sit on band edges and between them."""
    rng = np.random.default_rng(7)
    runs, months = len(K), 4
    rel = rng.uniform(-9, 9, (runs, months)).round(3)
    rel[:, -1] = [-6.0, -2.0, 2.0, 6.0, -8.5, 0.5, 3.25, -3.5, 7.5]
    exports = rng.uniform(100, 900, (runs, months)).round(2)
    active = rng.random((runs, months)) > 0.3
    expulsions = (rng.random((runs, months)) > 0.8) * rng.integers(1, 4, (runs, months))
    russian = (rng.random((runs, months)) > 0.8) * 2
    sanctions = rng.random((runs, months)) > 0.75
    major = (rng.random((runs, months)) > 0.85).astype(int)
    regime = np.zeros((runs, months), bool)
    regime[[1, 5], 2:] = True
    regime[7, 3] = True
    data = {"relations": rel, "exports_gbp_m": exports, "dialogue_active": active, "expulsions": expulsions,
            "russian_expulsions": russian, "sanctions": sanctions, "major_incidents": major, "regime_crisis": regime}
    time = pd.period_range("2014-11", periods=months, freq="M").to_timestamp()
    ds = xr.Dataset({k: (("run", "time"), v) for k, v in data.items()},
                    coords={"run": np.arange(100, 100 + runs), "time": time})
    for d in DRIVERS:
        ds[f"contrib_{d}"] = (("run", "time"), rng.normal(0, 1, (runs, months)))
    ds["outcome"] = ("run", classify(rel[:, -1], sanctions[:, -1]))
    if attrs:
        ds.attrs.update(seed=23, initial_relations=-0.75, scenario="baseline", scenario_label="baseline (y=2)")
    return ds


def _weighted(ds: xr.Dataset, k=K) -> xr.Dataset:
    """``ds`` with run weights ``k / sum(k)`` (sums to 1, as the SMC writes them)."""
    k = np.asarray(k, dtype=float)
    return add_weights(ds.copy(), k / k.sum(), np.arange(len(k)), '{"updates": []}', "# obs", 2)


def _expanded(ds: xr.Dataset, k=K) -> xr.Dataset:
    """``ds`` with run ``i`` repeated ``k_i`` times: the same distribution, equally weighted."""
    return ds.isel(run=np.repeat(np.arange(len(k)), k))


def _ref_quantile(x, qs, w) -> list[float]:
    """Weighted quantile by a plain walk: runs sorted by value (ties by position), weights
    normalised, each run's weight centred on its value, linear in between, clamped at the ends."""
    pairs = sorted((float(xi), i, float(wi)) for i, (xi, wi) in enumerate(zip(x, w, strict=True)) if wi > 0)
    total = sum(p[2] for p in pairs)
    pos, acc = [], 0.0
    for _, _, wi in pairs:
        pos.append((acc + wi / 2) / total)
        acc += wi
    out = []
    for q in qs:
        if q <= pos[0]:
            out.append(pairs[0][0])
        elif q >= pos[-1]:
            out.append(pairs[-1][0])
        else:
            j = next(j for j in range(1, len(pos)) if pos[j] >= q)
            t = (q - pos[j - 1]) / (pos[j] - pos[j - 1])
            out.append(pairs[j - 1][0] + t * (pairs[j][0] - pairs[j - 1][0]))
    return out


# ---------------------------------------------------------------- the weighted helpers


def test_weighted_share_and_its_error_with_the_effective_sample_size():
    w = np.array([0.5, 0.25, 0.25])
    p, se = a.prob_with_se(np.array([True, False, True]), w)
    assert p == 0.75
    assert se == pytest.approx(np.sqrt(0.75 * 0.25 * (0.25 + 0.0625 + 0.0625)), rel=1e-14)  # ess = 1 / sum(w^2)
    # a count mask: any nonzero entry holds
    assert a.prob_with_se(np.array([2, 0, 3]), w) == (p, se)
    assert a.prob_with_se(np.array([0, 0, 0]), w) == (0.0, 0.0)


def test_a_weighted_share_of_one_rounded_above_one_has_no_error():
    w = np.full(20, 1 / 20)  # sums to 1.0000000000000002 in floating point
    p, se = a.prob_with_se(np.ones(20, bool), w)
    assert p > 1.0 and se == 0.0  # p (1 - p) is a hair below zero: clipped, not NaN


def test_weighted_quantile_is_the_walk_of_the_weighted_sample():
    x = np.array([4.0, -1.0, 2.5, 9.0, 0.0, 2.5, 7.0])
    w = np.array([1.0, 3.0, 0.5, 2.0, 1.5, 0.25, 1.75])  # not normalised: divided by its sum
    qs = [0.0, 0.02, 0.1, 0.25, 0.4, 0.5, 0.61, 0.75, 0.9, 0.97, 1.0]
    np.testing.assert_allclose(a.weighted_quantile(x, qs, w), _ref_quantile(x, qs, w), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.weighted_quantile(list(x), qs, list(w)), _ref_quantile(x, qs, w), atol=1e-12)


def test_weighted_quantile_skips_zero_weights_even_at_the_ends():
    x = np.array([-5.0, 1.0, 2.0, 3.0, 50.0])
    w = np.array([0.0, 1.0, 2.0, 1.0, 0.0])
    got = a.weighted_quantile(x, [0.0, 0.125, 0.5, 0.875, 1.0], w)
    np.testing.assert_allclose(got, [1.0, 1.0, 2.0, 3.0, 3.0], atol=1e-12)
    assert a.weighted_quantile(x, [0.3], w)[0] == pytest.approx(1.0 + (0.3 - 0.125) / 0.375)


def test_weighted_quantile_of_equal_weights_is_numpys_hazen_quantile():
    x = np.random.default_rng(2).normal(size=25)
    qs = np.linspace(0, 1, 41)
    np.testing.assert_allclose(a.weighted_quantile(x, qs, np.full(25, 0.04)),
                               np.quantile(x, qs, method="hazen"), atol=1e-12)


def test_weighted_quantile_at_a_runs_centre_is_that_of_the_repeated_sample():
    x = np.array([3.0, -2.0, 8.0, 0.5])
    k = np.array([3, 5, 1, 7])  # odd: each run's centre is one of its copies
    order = np.argsort(x)
    centres = (np.cumsum(k[order]) - k[order] / 2) / k.sum()
    got = a.weighted_quantile(x, centres, k / k.sum())
    np.testing.assert_allclose(got, x[order], atol=1e-12)
    np.testing.assert_allclose(got, np.quantile(np.repeat(x, k), centres, method="hazen"), atol=1e-12)


def test_weighted_quantile_without_weights_is_numpys_default():
    x = [0.0, 1.0, 2.0, 3.0]
    np.testing.assert_allclose(a.weighted_quantile(x, [0.1, 0.5, 0.9]), [0.3, 1.5, 2.7])


def test_weighted_quantile_works_in_double_precision():
    # relations are stored as float32: the quantiles of their float64 values, weighted or not
    x = np.array([0.1, 0.2, 0.7], dtype=np.float32)
    got = a.weighted_quantile(x, [0.5, 0.25])
    assert got.dtype == np.float64
    assert got.tolist() == np.quantile(x.astype(np.float64), [0.5, 0.25]).tolist()
    w = np.array([0.1, 0.3, 0.6], dtype=np.float32)
    qs = np.linspace(0, 1, 11)
    np.testing.assert_allclose(a.weighted_quantile(x, qs, w), _ref_quantile(x, qs, w), rtol=0, atol=1e-15)


def test_weighted_quantile_orders_tied_values_by_run():
    # Ties split the weight by run order (a stable sort), whatever numpy's default sort does.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, 60).astype(float)
    w = rng.uniform(0.1, 1.0, 60)
    qs = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(a.weighted_quantile(x, qs, w), _ref_quantile(x, qs, w), atol=1e-12)


def test_run_mean_weighs_the_first_axis():
    v = np.arange(24, dtype=float).reshape(4, 6) ** 1.5
    w = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(a._run_mean(v, w), np.average(v, axis=0, weights=w), rtol=1e-14)
    np.testing.assert_allclose(a._run_mean(v, None), v.mean(axis=0), rtol=1e-14)
    v3 = v.reshape(4, 2, 3)
    np.testing.assert_allclose(a._run_mean(v3, w), np.average(v3, axis=0, weights=w), rtol=1e-14)
    np.testing.assert_allclose(a._run_mean(v[:, 0], w), np.dot(w, v[:, 0]), rtol=1e-14)


def test_wsum_is_the_weighted_sum():
    assert a._wsum(np.array([0.5, 0.25, 0.25]), np.array([True, False, True])) == 0.75
    assert a._wsum(np.array([2.0, 3.0]), np.array([4, -1])) == 5.0
    assert isinstance(a._wsum(np.array([2.0]), np.array([1])), float)
    # summed in double precision, whatever the weights' type
    w32 = np.full(10, 0.1, dtype=np.float32)
    assert a._wsum(w32, np.ones(10, bool)) == pytest.approx(10 * float(w32[0]), rel=1e-15)


# ---------------------------------------------------------------- weighted tables and summary


def test_weighted_event_table_is_the_expanded_ensembles():
    ds = _ds()
    got, want = a.event_cumprob(_weighted(ds)), a.event_cumprob(_expanded(ds))
    assert list(got.columns) == list(want.columns) and got.index.equals(want.index)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-12, atol=1e-15)
    assert got.index.name == "time"
    assert not np.allclose(got.values, a.event_cumprob(ds).values)  # the weights are used
    # the regime crisis: runs 1 and 5 from month 2 (weights 1 and 7 of 26), run 7 in month 3 (4)
    np.testing.assert_allclose(got["regime crisis in Russia"], [0, 0, 8 / 26, 12 / 26], atol=1e-15)


def test_weighted_contributions_are_the_expanded_ensembles():
    ds = _ds()
    got, want = a.contributions(_weighted(ds)), a.contributions(_expanded(ds))
    assert list(got.columns) == list(DRIVERS) and got.index.equals(want.index)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-12, atol=1e-14)


def test_weighted_fan_is_the_weighted_quantile_of_each_month():
    ds = _weighted(_ds())
    w = K / K.sum()
    for var in ("relations", "exports_gbp_m"):
        f = a.fan(ds, var)
        assert list(f.columns) == [0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975]
        assert f.index.equals(pd.DatetimeIndex(ds["time"].values))
        for t in range(ds.sizes["time"]):
            np.testing.assert_allclose(f.iloc[t].values, _ref_quantile(ds[var].values[:, t], f.columns, w),
                                       atol=1e-9)
    f = a.fan(ds.transpose("time", "run"), quantiles=(0.3, 0.6))
    np.testing.assert_allclose(f.iloc[-1].values, _ref_quantile(ds["relations"].values[:, -1], [0.3, 0.6], w),
                               atol=1e-12)


def test_weighted_summary_is_the_expanded_ensembles_with_the_effective_sample_size():
    ds = _ds()
    s, e = a.summarize(_weighted(ds)), a.summarize(_expanded(ds))
    w = K / K.sum()
    inv_ess = float((w ** 2).sum())
    assert (s.scenario, s.scenario_name, s.runs, s.seed, s.start, s.horizon, s.relations_start) == (
        "baseline (y=2)", "baseline", 9, 23, "2014-11", "2015-02", -0.75)
    for table in ("outcomes", "events"):
        mine, theirs = getattr(s, table), getattr(e, table)
        assert list(mine) == list(theirs)
        for k, (p, se) in mine.items():
            assert p == pytest.approx(theirs[k][0], abs=1e-14), k
            assert se == pytest.approx(np.sqrt(max(p * (1 - p), 0.0) * inv_ess), abs=1e-14), k
    assert s.bands == pytest.approx(e.bands, abs=1e-14)
    assert list(s.bands) == [b[0] for b in BANDS]
    assert s.drivers == pytest.approx(e.drivers, rel=1e-12, abs=1e-14)
    assert list(s.drivers) == list(DRIVERS)
    assert s.relations_mean == pytest.approx(e.relations_mean, rel=1e-14)
    rel, exp_ = ds["relations"].values[:, -1], ds["exports_gbp_m"].values[:, -1]
    want = _ref_quantile(rel, [0.1, 0.5, 0.9], w) + _ref_quantile(exp_, [0.1, 0.5, 0.9], w)
    got = [s.relations_p10, s.relations_median, s.relations_p90, s.exports_p10, s.exports_median, s.exports_p90]
    assert got == pytest.approx(want, abs=1e-12)
    assert all(type(v) is float for v in got + [s.relations_mean, *s.bands.values(), *s.drivers.values()])


def test_weighted_summary_by_hand():
    # The last month: relations -6 -2 2 6 -8.5 0.5 3.25 -3.5 7.5; bands include their upper edges.
    s = a.summarize(_weighted(_ds()))
    n = K.sum()
    assert s.bands == pytest.approx({"hostile": (3 + 1) / n, "confrontational": (1 + 4) / n,
                                     "cool": (5 + 7) / n, "constructive": (2 + 1) / n, "partnership": 2 / n},
                                    abs=1e-15)
    assert s.events["regime crisis in Russia"][0] == pytest.approx(12 / n, abs=1e-15)  # runs 1, 5 and 7
    assert s.relations_mean == pytest.approx(float(np.dot(K, [-6, -2, 2, 6, -8.5, 0.5, 3.25, -3.5, 7.5])) / n)


def test_weighted_summary_defaults_without_attributes():
    s = a.summarize(_weighted(_ds(attrs=False)))
    assert (s.seed, s.scenario, s.scenario_name) == (-1, "?", "?")
    assert np.isnan(s.relations_start)


def test_weighted_summary_reads_the_weights_from_the_dataset():
    ds = _ds()
    k2 = np.array([1, 1, 1, 1, 1, 1, 1, 1, 9])  # almost all weight on run 8 (relations +7.5)
    s = a.summarize(_weighted(ds, k2))
    assert s.bands["partnership"] == pytest.approx(9 / 17)
    assert s.relations_median == pytest.approx(_ref_quantile(ds["relations"].values[:, -1], [0.5], k2)[0])


# ---------------------------------------------------------------- results: weights


def test_add_weights_stores_weights_ancestry_and_the_updates():
    ds = _ds()
    out = add_weights(ds, [1, 2, 1, 0, 0, 0, 0, 0, 0], np.arange(9.0) + 3, '{"u": 1}', 'x = "y"', np.int32(3))
    assert out is ds
    assert ds["weight"].dtype == np.float64 and ds["ancestor"].dtype == np.int64
    assert ds["weight"].dims == ("run",) and ds["ancestor"].dims == ("run",)
    assert ds["weight"].values.tolist() == [1.0, 2.0, 1.0, 0, 0, 0, 0, 0, 0]
    assert ds["ancestor"].values.tolist() == list(range(3, 12))
    assert ds["weight"].attrs == {"long_name": "posterior weight of the run", "units": "1 (sums to 1 over runs)"}
    assert ds["ancestor"].attrs == {"long_name": "the prior run (global run index) this run descends from"}
    assert (ds.attrs["smc"], ds.attrs["observations_toml"], ds.attrs["smc_updates"]) == ('{"u": 1}', 'x = "y"', 3)
    assert type(ds.attrs["smc_updates"]) is int
    assert ds.attrs["seed"] == 23  # the other attributes stay


def test_run_weights_normalises_unequal_weights_and_ignores_equal_ones():
    ds = _ds()
    assert run_weights(ds) is None
    ds["weight"] = ("run", np.array([1, 1, 2, 0, 0, 0, 0, 0, 4]))
    w = run_weights(ds)
    assert w.dtype == np.float64 and w.tolist() == [0.125, 0.125, 0.25, 0, 0, 0, 0, 0, 0.5]
    ds["weight"] = ("run", np.full(9, 0.3))
    assert run_weights(ds) is None
    ds["weight"] = ("run", np.array([0.3] * 8 + [0.30000001]))  # only the last differs
    assert run_weights(ds) is not None
    empty = ds.isel(run=slice(0, 0))
    assert run_weights(empty) is None
    assert run_weights(ds.isel(run=[4])) is None  # one run: equal weights
    w32 = np.array([0.1] * 8 + [0.2], dtype=np.float32)
    ds["weight"] = ("run", w32)  # read in double precision
    w = run_weights(ds)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, w32.astype(np.float64) / w32.astype(np.float64).sum(), rtol=1e-14)


# ---------------------------------------------------------------- the bootstrap counts


def test_boot_counts_count_each_runs_draws_and_are_cached():
    a._BOOT_COUNTS.clear()  # an entry left by another test would hide the computation
    ca, cb = a._boot_counts(31, 6, 5, 7, False)
    g = np.random.default_rng(31)
    ia, ib = g.integers(0, 5, (6, 5)), g.integers(0, 7, (6, 7))
    assert ca.shape == (6, 5) and cb.shape == (6, 7)
    np.testing.assert_array_equal(ca, [np.bincount(r, minlength=5) for r in ia])
    np.testing.assert_array_equal(cb, [np.bincount(r, minlength=7) for r in ib])
    assert not ca.flags.writeable and not cb.flags.writeable
    assert a._BOOT_COUNTS[(31, 6, 5, 7, False)][0] is ca
    assert a._boot_counts(31, 6, 5, 7, False)[1] is cb
    pa, pb = a._boot_counts(31, 6, 5, 5, True)
    assert pa is pb
    np.testing.assert_array_equal(pa, [np.bincount(r, minlength=5) for r in np.random.default_rng(31).integers(
        0, 5, (6, 5))])


def test_boot_counts_cache_holds_four_entries():
    a._BOOT_COUNTS.clear()
    for seed in range(4):
        a._boot_counts(seed, 3, 4, 4, True)
    assert len(a._BOOT_COUNTS) == 4
    a._boot_counts(9, 3, 4, 4, True)
    assert list(a._BOOT_COUNTS) == [(9, 3, 4, 4, True)]


@pytest.mark.parametrize("n", [1, 2, 7, 8])
def test_boot_medians_are_the_resampled_medians(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    idx = rng.integers(0, n, (30, n))
    counts = np.array([np.bincount(r, minlength=n) for r in idx])
    np.testing.assert_allclose(a._boot_medians(x, counts), np.median(x[idx], axis=1), rtol=1e-14)


def test_median_shift_recomputes_after_the_cache_is_cleared():
    a._BOOT_COUNTS.clear()
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=41), rng.normal(size=37)
    s = a.median_shift("m", x, y, False, boot=50, seed=2)
    g = np.random.default_rng(2)
    ia, ib = g.integers(0, 41, (50, 41)), g.integers(0, 37, (50, 37))
    reps = np.median(x[ia], axis=1) - np.median(y[ib], axis=1)
    assert s.se == pytest.approx(reps.std(ddof=1), rel=1e-12)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert (s.lo, s.hi) == (pytest.approx(min(lo, s.diff)), pytest.approx(max(hi, s.diff)))


def test_the_regime_crisis_note_shows_only_when_a_run_has_one():
    s = a.summarize(_weighted(_ds()))
    note = "  (a regime crisis is a mass mobilisation beyond anything seen since 1991;"
    assert s.events[a.REGIME_CRISIS][0] > 0 and note in s.text()
    s.events[a.REGIME_CRISIS] = (1.0, 0.0)  # every run: no spread, still noted
    assert note in s.text()
    s.events[a.REGIME_CRISIS] = (0.0, 0.0)
    assert "regime crisis is" not in s.text()
    del s.events[a.REGIME_CRISIS]  # a summary without the event (older results) has no note
    assert "regime crisis" not in s.text()


# ---------------------------------------------------------------- results: the Dataset's axes


def test_build_dataset_puts_run_and_time_on_their_own_axes_as_int64_ids():
    from model import load_scenario
    from model.results import build_dataset

    out = {"relations": np.array([[0.5, -7.0, 3.0], [1.0, -2.0, 2.5]]), "sanctions": np.zeros((2, 3), bool)}
    ds = build_dataset(out, {}, np.array([7, 8, 9], dtype=np.int32), load_scenario("baseline"), 1, 2)
    assert dict(ds.sizes) == {"run": 3, "time": 2}
    assert ds["run"].dims == ("run",) and ds["time"].dims == ("time",)
    assert list(ds.indexes) == ["run", "time"]
    assert ds["run"].dtype == np.int64 and ds["run"].values.tolist() == [7, 8, 9]
    assert ds.sel(run=8)["relations"].values.tolist() == [-7.0, -2.0]
    assert ds["outcome"].values.tolist() == ["cool", "confrontation", "thaw"]  # the horizon row


def test_classify_at_the_band_edges_and_with_sanctions():
    rel = np.array([-6.0, -5.999, -6.5, -2.0, -1.999, 2.0, 2.001, 9.0, 9.0, -3.0])
    sanctions = np.array([False, False, False, False, False, False, False, True, False, True])
    assert classify(rel, sanctions).tolist() == [
        "rupture", "confrontation", "rupture", "confrontation", "cool", "cool", "thaw", "rupture", "thaw", "rupture"]
