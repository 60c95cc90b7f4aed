"""The observables contract of ``simulate``'s Dataset, and results files on disk."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest

from model import DialogueError, simulate, summarize
from model.agents.relations import DRIVERS
from model.params import registry
from model.results import OUTCOMES, classify, load, save

REQUIRED = ["relations", "protest", "repression", "syria_divergence", "exports_gbp_m", "dialogue_active",
            "expulsions", "sanctions", "incidents",
            # Russia's answers, the EU's decision and lasting crises (issue 10)
            "russian_expulsions", "russia_suspended", "counter_sanctions", "eu_pressure", "countermeasure",
            "in_crisis", "regime_crisis"]


def test_dims_time_axis_and_variables(small_ds):
    ds = small_ds
    assert ds["relations"].dims == ("run", "time")
    assert ds.sizes["time"] == 60
    assert pd.Timestamp(ds.time.values[0]) == pd.Timestamp("2013-03-01")
    assert pd.Timestamp(ds.time.values[-1]) == pd.Timestamp("2018-02-01")
    for v in REQUIRED:
        assert v in ds, v
    for d in ("protest_growth", "repression", "syria_divergence", "trade_growth", "incidents", "dialogue",
              "shocks", "russian_answers"):
        assert f"contrib_{d}" in ds
    for name in registry():
        assert ds[f"param_{name}"].dims == ("run",)
    assert ds["dialogue_active"].dtype == bool and ds["sanctions"].dtype == bool
    for key in ("scenario_toml", "seed", "runs", "version", "git_commit", "created"):
        assert key in ds.attrs
    assert ds.attrs["runs"] == 400 and ds.attrs["seed"] == 11


def test_contributions_sum_to_change(small_ds):
    ds = small_ds
    total = sum(ds[f"contrib_{d}"] for d in DRIVERS)
    rel = ds["relations"].values
    change = np.diff(np.concatenate([np.full((rel.shape[0], 1), ds.attrs["initial_relations"]), rel], axis=1))
    np.testing.assert_allclose(total.values, change, atol=1e-9)


def test_outcome_follows_its_rules(small_ds):
    end = small_ds.isel(time=-1)
    rel, sanc, out = end["relations"].values, end["sanctions"].values, small_ds["outcome"].values
    assert set(out) <= set(OUTCOMES)
    assert ((out == "rupture") == (sanc | (rel <= -6))).all()
    assert ((out == "thaw") == (~sanc & (rel > 2))).all()
    assert list(classify(np.array([-6.0, -5.9, -2.0, 2.0, 2.01]), np.zeros(5, bool))) == [
        "rupture", "confrontation", "confrontation", "cool", "thaw"]


def _before(a: np.ndarray, first=0) -> np.ndarray:
    """Each month's previous value (``first`` before the first month)."""
    return np.concatenate([np.full((a.shape[0], 1), first, dtype=a.dtype), a[:, :-1]], axis=1)


def _per_run(ds, name: str) -> np.ndarray:
    """A run's sampled parameter, as a (run, 1) column against (run, time) arrays."""
    return ds[f"param_{name}"].values[:, None]


def test_event_variables_are_consistent(small_ds):
    ds = small_ds
    v = {k: ds[k].values for k in ("ladder", "dialogue_active", "russia_suspended", "sanctions", "counter_sanctions",
                                   "eu_pressure", "expulsions", "russian_expulsions", "countermeasure", "crisis",
                                   "in_crisis", "regime_crisis", "protest", "meeting")}
    ladder = v["ladder"]
    # The UK ladder has three rungs (note, suspension, expulsions); sanctions are the EU's, not a rung.
    assert ladder.min() >= 0 and ladder.max() <= 3
    # The dialogue stops when the UK suspends it (rung 2+) or Russia suspends its formats.
    assert np.array_equal(v["dialogue_active"], (ladder < 2) & ~v["russia_suspended"])
    assert v["russia_suspended"].any()  # so the line above tests Russia's half too
    # Russia suspends formats only while the UK is on the expulsions rung.
    began = v["russia_suspended"] & ~_before(v["russia_suspended"], False)
    assert (ladder[began] == 3).all()
    # Climbing to the expulsions rung expels a round; rounds are whole diplomats, at least one.
    climbed = (_before(ladder) < 3) & (ladder == 3)
    assert climbed.any() and (v["expulsions"][climbed] > 0).all()
    for side in ("expulsions", "russian_expulsions"):
        x = v[side]
        assert (x >= 0).all() and (x == np.round(x)).all(), side
    # Russia answers a round the UK opens in kind, or not at all.
    answered = climbed & (v["russian_expulsions"] > 0)
    assert answered.any() and (v["russian_expulsions"][answered] == v["expulsions"][answered]).all()
    # The EU imposes sanctions only once its pressure reaches the run's threshold (no dated shock in
    # the baseline); Russia answers with counter-sanctions only in the month they begin.
    started_with = tomllib.loads(ds.attrs["scenario_toml"])["initial"]["sanctions"]
    onset = v["sanctions"] & ~_before(v["sanctions"], started_with)
    assert (v["eu_pressure"] >= _per_run(ds, "eu_threshold"))[onset].all()
    assert not (v["counter_sanctions"] & ~onset).any()
    # Counter-measures against UK institutions come only while the UK escalates or sanctions bite.
    assert v["countermeasure"].any()
    assert not (v["countermeasure"] & ~((ladder >= 2) | v["sanctions"])).any()
    # A crisis that begins is under way; a regime crisis lasts, and begins only at mass mobilisation.
    assert not (v["crisis"] & ~v["in_crisis"]).any()
    rc = v["regime_crisis"]
    assert (rc >= _before(rc, False)).all()
    rc_began = rc & ~_before(rc, False)
    assert (v["protest"] >= _per_run(ds, "regime_crisis_protest"))[rc_began].all()
    assert (ds["major_incidents"] <= ds["incidents"]).all()
    # 2+2s meet only while the dialogue is active, except the article's own meeting in the first month,
    # which is held whatever happens first.
    assert not v["meeting"][:, 1:][~v["dialogue_active"][:, 1:]].any()
    assert v["meeting"][:, 0].all()
    months = pd.DatetimeIndex(ds.time.values).month
    assert not v["meeting"][:, months != 3].any()  # 2+2s are held each March


def test_save_and_load_round_trip(tmp_path, small_ds):
    p = save(small_ds, tmp_path / "r.nc")
    back = load(p)
    for v in ("relations", "dialogue_active", "outcome", "contrib_shocks", "param_repression"):
        np.testing.assert_array_equal(back[v].values, small_ds[v].values)
    assert back.attrs["scenario_toml"] == small_ds.attrs["scenario_toml"]
    assert summarize(back).outcomes == summarize(small_ds).outcomes
    assert not list(tmp_path.glob(".*partial"))


def test_bad_results_files(tmp_path, small_ds):
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not a netcdf file")
    with pytest.raises(DialogueError, match="not a readable NetCDF results file"):
        load(junk)
    with pytest.raises(DialogueError, match="not found"):
        load(tmp_path / "missing.nc")
    other = tmp_path / "other.nc"
    small_ds[["protest"]].drop_attrs().to_netcdf(other, engine="h5netcdf")
    with pytest.raises(DialogueError, match="not a results file"):
        load(other)
    with pytest.raises(DialogueError, match="end in .nc"):
        save(small_ds, tmp_path / "r.csv")


def test_failed_write_leaves_nothing(tmp_path, small_ds):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.access(ro, os.W_OK):  # root ignores permissions; use a missing folder instead
            with pytest.raises(DialogueError, match="does not exist"):
                save(small_ds, tmp_path / "nope" / "r.nc")
        else:
            with pytest.raises(DialogueError, match="permission denied"):
                save(small_ds, ro / "r.nc")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_summary_numbers_match_the_dataset(small_ds):
    s = summarize(small_ds)
    end = small_ds.isel(time=-1)
    assert s.relations_median == pytest.approx(float(np.median(end["relations"])))
    assert s.outcomes["rupture"][0] == pytest.approx((small_ds["outcome"] == "rupture").mean().item())
    susp = (~small_ds["dialogue_active"]).any("time").mean().item()
    assert s.events["dialogue suspended"][0] == pytest.approx(susp)
    assert sum(p for p, _ in s.outcomes.values()) == pytest.approx(1.0)
    p, se = s.events["dialogue suspended"]
    assert se == pytest.approx(np.sqrt(p * (1 - p) / 400))
    assert "rupture" in s.text() and len(s.to_frame()) > 10


def test_horizon_and_runs_arguments(baseline):
    ds = simulate(baseline, runs=7, seed=1, horizon=13)
    assert ds.sizes == {"run": 7, "time": 13}
    with pytest.raises(DialogueError, match="unknown engine"):
        simulate(baseline, runs=7, engine="turbo")


def test_too_large_for_memory_points_to_batch(baseline, small_ds):
    # The estimate is what the results would hold: the bytes of one run-month of every recorded
    # (run, time) variable, measured on a real result, times runs x months.
    per_cell = sum(small_ds[v].dtype.itemsize for v in small_ds.data_vars if small_ds[v].dims == ("run", "time"))
    gb = 2_000_000 * 60 * per_cell / 1e9
    assert gb > 10  # far beyond what one process should hold
    with pytest.raises(DialogueError, match=rf"needs about {gb:.1f} GB.*dialogue batch"):
        simulate(baseline, runs=2_000_000, horizon=60)


def test_estimate_matches_the_file_written(tmp_path, small_ds):
    from model.results import estimate_bytes

    p = save(small_ds, tmp_path / "r.nc")
    size = p.stat().st_size
    est = estimate_bytes(small_ds.sizes["run"], small_ds.sizes["time"])
    assert size <= est <= 1.1 * size + 1_000_000  # never under, a little over


def test_label_and_name_in_attrs(tmp_path, baseline):
    ds = simulate(baseline.with_overrides({"repression": 0.8}), runs=5, horizon=3)
    assert ds.attrs["scenario"] == "baseline"
    assert ds.attrs["scenario_label"] == "baseline + repression=0.8"
    back = load(save(ds, tmp_path / "l.nc"))
    assert back.attrs["scenario_label"] == "baseline + repression=0.8"


def test_save_refuses_to_overwrite_when_asked(tmp_path, small_ds):
    p = save(small_ds.isel(run=slice(0, 5)), tmp_path / "r.nc")
    before = p.read_bytes()
    with pytest.raises(DialogueError, match="already exists; add --force"):
        save(small_ds, p, overwrite=False)
    assert p.read_bytes() == before
    save(small_ds.isel(run=slice(0, 7)), p)  # the library default still overwrites
    assert load(p).sizes["run"] == 7
