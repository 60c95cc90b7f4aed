"""Randomness wiring: the counter-based streams, and the per-run parameter draws built on them.

A stream-key bug can keep every run in bounds and every sum exact while making all
draws come from one uniform, so these tests check independence directly: distinct
names, months, runs and seeds give distinct, uncorrelated uniforms; per-run parameter
draws are mutually uncorrelated; changing one parameter leaves the others' draws alone.
"""

from __future__ import annotations

import zlib
from itertools import combinations

import numpy as np
import pytest
from scipy import special, stats

from model.engine import draw_params
from model.params import HEADLINE, ParamSpec, beta_shape, registry, sample
from model.rng import PARAM_MONTH, Streams, _fmix, _fmix_int, stream_id

RUNS = 2000
# Every stream name the rules draw from (see model/agents), plus a parameter stream.
NAMES = ("formula", "arrivals", "incidents", "major", "harassment", "syria", "rebel_aid", "asylum:0",
         "asylum:1", "deescalate", "exports", "us_russia", "crisis", "crisis_size", "noise", "param:repression")


def _streams(seed: int = 20130313, n: int = RUNS) -> Streams:
    return Streams(seed, np.arange(n))


def test_uniforms_are_pinned_across_versions():
    """Published results depend on the exact hash: any change to it must be deliberate."""
    s = Streams(20130313, np.array([0, 1, 2, 1000]))
    np.testing.assert_array_equal(
        s.uniform("formula", 0), [0.15446553718996509, 0.7852101996464151, 0.9896840308468347, 0.02541999420979585])
    np.testing.assert_array_equal(
        s.uniform("param:repression", PARAM_MONTH),
        [0.47840453581861814, 0.9675281062555825, 0.499138265716705, 0.31460908658149317])
    assert stream_id("formula") == zlib.crc32(b"formula") == 1731287169


def test_scalar_and_array_hashes_agree():
    xs = [0, 1, 2**32 + 7, 2**63 + 12345, 2**64 - 1]
    arr = _fmix(np.array(xs, dtype=np.uint64))
    assert [_fmix_int(x) for x in xs] == [int(v) for v in arr]
    assert len(set(_fmix_int(x) for x in xs)) == len(xs)


def test_uniforms_are_uniform_and_open():
    u = _streams(n=20000).uniform("formula", 3)
    assert u.min() > 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 0.001
    assert np.unique(u).size == u.size


def test_distinct_names_months_runs_and_seeds_give_independent_uniforms():
    s = _streams()
    draws = {name: s.uniform(name, 0) for name in NAMES}
    draws |= {f"formula@{m}": s.uniform("formula", m) for m in (-1, 1, 2, 13)}
    draws["seed+1"] = _streams(seed=20130314).uniform("formula", 0)
    draws["runs+1"] = Streams(20130313, np.arange(1, RUNS + 1)).uniform("formula", 0)
    names = list(draws)
    rho = stats.spearmanr(np.column_stack(list(draws.values())))[0]
    for i, j in combinations(range(len(names)), 2):
        assert not np.array_equal(draws[names[i]], draws[names[j]]), (names[i], names[j])
        assert abs(rho[i, j]) < 0.1, (names[i], names[j], rho[i, j])


def test_the_current_month_selects_the_stream():
    s = _streams(n=50)
    s.month = 7
    np.testing.assert_array_equal(s.uniform("noise"), s.uniform("noise", 7))
    assert not np.array_equal(s.uniform("noise"), s.uniform("noise", 0))


def test_a_run_draws_the_same_numbers_in_any_subset():
    whole = _streams(n=100)
    part = Streams(20130313, np.array([97, 3, 42]))
    for name in ("formula", "param:trade_growth"):
        np.testing.assert_array_equal(part.uniform(name, 5), whole.uniform(name, 5)[[97, 3, 42]])
    assert part.size == 3


def test_normal_bernoulli_and_poisson_are_inverse_cdfs_of_the_uniform():
    s = _streams(n=5000)
    s.month = 4
    u = s.uniform("x")
    np.testing.assert_array_equal(s.normal("x"), special.ndtri(u))
    p = np.linspace(0, 1, u.size)
    np.testing.assert_array_equal(s.bernoulli("x", p), u < p)
    lam = np.linspace(0.0, 2.8, u.size)
    k = s.poisson("x", lam)
    np.testing.assert_array_equal(k, stats.poisson.ppf(u, lam).astype(np.int64))
    assert k.dtype == np.int64 and k.min() == 0 and k.max() >= 5
    assert not s.poisson("x", 0.0).any()


def _uncertain(specs):
    return [n for n, sp in specs.items() if sp.dist != "fixed" and sp.spread > 0]


def test_parameter_draws_are_mutually_uncorrelated(baseline):
    params = draw_params(baseline, _streams())
    names = _uncertain(registry())
    assert len(names) > 20
    for n in names:
        assert np.unique(params[n]).size > RUNS // 2, n  # really drawn per run
    rho = stats.spearmanr(np.column_stack([params[n] for n in names]))[0]
    off = np.abs(rho - np.eye(len(names)))
    worst = np.unravel_index(off.argmax(), off.shape)
    assert off.max() < 0.1, (names[worst[0]], names[worst[1]], off.max())


def test_parameter_draws_use_the_parameter_month(baseline):
    s = _streams(n=50)
    s.month = 9  # the model's current month must not matter
    params = draw_params(baseline, s)
    spec = registry()["trade_growth"]
    st = baseline.params["trade_growth"]
    u = _streams(n=50).uniform("param:trade_growth", PARAM_MONTH)
    np.testing.assert_array_equal(params["trade_growth"], sample(spec, st.value, st.dist, st.spread, u))


@pytest.mark.parametrize("name", ["repression", "incident_cost", "formula_chance", "us_reset", "backlash"])
def test_changing_one_distribution_leaves_every_other_draw_unchanged(baseline, name):
    spec = registry()[name]
    before = draw_params(baseline, _streams(n=300))
    changed = baseline.with_overrides({name: (spec.low + spec.high) / 2 + 0.01 * (spec.high - spec.low),
                                       f"{name}.dist": "uniform", f"{name}.spread": (spec.high - spec.low) / 3})
    after = draw_params(changed, _streams(n=300))
    assert not np.array_equal(before[name], after[name])
    for other in before:
        if other != name:
            np.testing.assert_array_equal(before[other], after[other], err_msg=other)


# --- inverse-CDF sampling of each distribution kind ----------------------------------

U = (np.arange(1, 400) - 0.5) / 399  # a fine grid of uniforms


def test_fixed_and_zero_spread_give_the_value():
    spec = registry()["incident_cost"]
    for dist, spread in (("fixed", 0.4), ("uniform", 0.0), ("normal", 0.0), ("beta", -1.0)):
        np.testing.assert_array_equal(sample(spec, 1.3, dist, spread, U), np.full(U.shape, 1.3))


def test_uniform_and_triangular_are_truncated_to_the_range():
    spec = registry()["incident_cost"]  # range [0, 3]
    np.testing.assert_allclose(sample(spec, 1.0, "uniform", 0.5, U), 0.5 + 1.0 * U)
    np.testing.assert_allclose(sample(spec, 0.2, "uniform", 0.5, U), 0.0 + 0.7 * U)  # cut at the low end
    np.testing.assert_allclose(sample(spec, 2.9, "uniform", 0.5, U), 2.4 + 0.6 * U)  # cut at the high end
    for value, spread, a, b in ((1.0, 0.4, 0.6, 1.4), (0.1, 0.4, 0.0, 0.5), (2.8, 0.4, 2.4, 3.0)):
        want = stats.triang.ppf(U, (value - a) / (b - a), loc=a, scale=b - a)
        np.testing.assert_allclose(sample(spec, value, "triangular", spread, U), want, atol=1e-12)


def test_normal_is_truncated_to_the_range():
    spec = registry()["incident_cost"]
    for value, sd in ((1.0, 0.5), (0.2, 0.8), (2.9, 1.0)):
        lo, hi = (spec.low - value) / sd, (spec.high - value) / sd
        want = stats.truncnorm.ppf(U, lo, hi, loc=value, scale=sd)
        np.testing.assert_allclose(sample(spec, value, "normal", sd, U), want, atol=1e-9)


def test_beta_has_the_stated_mean_and_sd_on_the_range():
    spec = registry()["major_incident_cost"]  # range [0, 8]
    x = sample(spec, 3.0, "beta", 1.0, U)
    assert spec.low <= x.min() and x.max() <= spec.high
    assert abs(x.mean() - 3.0) < 0.01 and abs(x.std() - 1.0) < 0.02
    a, b = beta_shape(np.array(3.0 / 8), np.array(1.0 / 8))
    np.testing.assert_allclose(x, 8 * stats.beta.ppf(U, a, b), atol=1e-9)


def test_beta_on_a_range_that_does_not_start_at_zero():
    spec = _spec(low=2.0, high=6.0, default=3.0, dist="beta", spread=0.5)
    x = sample(spec, 3.0, "beta", 0.5, U)
    assert 2.0 <= x.min() and x.max() <= 6.0
    assert abs(x.mean() - 3.0) < 0.01 and abs(x.std() - 0.5) < 0.02


def test_a_range_of_one_point_gives_that_point():
    spec = _spec(low=1.0, high=1.0, default=1.0)
    for dist in ("uniform", "triangular"):
        np.testing.assert_array_equal(sample(spec, 1.0, dist, 0.5, U), np.full(U.shape, 1.0))


def test_beta_shape_keeps_positive_shapes_at_the_edges():
    a, b = beta_shape(np.array([0.0, 0.5, 1.0, 0.3]), np.array([0.9, 0.2, 0.9, 0.1]))
    assert (a > 0).all() and (b > 0).all()
    m = np.array([0.01, 0.5, 0.99, 0.3])
    np.testing.assert_allclose(a / (a + b), m)  # mean clipped into [0.01, 0.99]
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    cap = 0.9 * np.sqrt(m * (1 - m))
    np.testing.assert_allclose(np.sqrt(var), np.minimum([0.9, 0.2, 0.9, 0.1], cap))


# --- parameter specifications -------------------------------------------------------

def _spec(low: float = 0.0, high: float = 1.0, default: float = 0.5, dist: str = "triangular",
          spread: float = 0.2, step: float = 0.0) -> ParamSpec:
    return ParamSpec("x", "X", "units", low, high, default, dist, spread, "group", "help", "source", step=step)


def test_a_spec_accepts_defaults_on_its_edges_and_refuses_them_outside():
    assert _spec(default=0.0).default == 0.0 and _spec(default=1.0).default == 1.0
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError, match="default outside its range"):
            _spec(default=bad)
    with pytest.raises(ValueError, match="unknown distribution"):
        _spec(dist="lognormal")


@pytest.mark.parametrize("low, high, step, want", [
    (0.0, 1.0, 0.0, 0.01), (0.0, 0.2, 0.0, 0.002), (0.5, 6.0, 0.0, 0.05), (1.0, 10.0, 0.0, 0.1),
    (-5.0, 8.0, 0.0, 0.1), (0.0, 0.04, 0.0, 0.0005), (0.0, 1.0, 0.25, 0.25)])
def test_widget_step_gives_about_a_hundred_round_positions(low, high, step, want):
    assert _spec(low, high, low, step=step).widget_step == pytest.approx(want, rel=1e-12)


def test_describe_dist_states_each_kind_with_its_truncated_range():
    s = _spec()
    assert s.describe_dist() == "triangular(0.3, 0.5, 0.7)"
    assert s.describe_dist(0.1, "uniform", 0.2) == "uniform(0, 0.3)"
    assert s.describe_dist(0.95, "uniform", 0.2) == "uniform(0.75, 1)"
    assert s.describe_dist(0.95, "triangular") == "triangular(0.75, 0.95, 1)"
    assert s.describe_dist(dist="normal", spread=0.3) == "normal(0.5, sd 0.3) in [0, 1]"
    assert s.describe_dist(0.4, "beta", 0.1) == "beta(mean 0.4, sd 0.1) on [0, 1]"
    assert s.describe_dist(0.4, "fixed") == "fixed(0.4)"
    assert s.describe_dist(0.4, "normal", 0.0) == "fixed(0.4)"
    assert _spec(dist="fixed", spread=0.0).describe_dist() == "fixed(0.5)"


def test_registry_lists_every_actor_parameter_once_headline_first():
    from model.agents import ACTORS

    reg = registry()
    declared = [s.name for a in ACTORS for s in a.PARAMS]
    assert sorted(reg) == sorted(declared) and len(declared) == len(set(declared))
    assert tuple(reg)[:len(HEADLINE)] == HEADLINE
    rest = [n for n in declared if n not in HEADLINE]
    assert list(reg)[len(HEADLINE):] == rest
    assert all(reg[n].name == n for n in reg)
    reg.pop("repression")
    assert "repression" in registry()  # callers get a copy


def test_registry_refuses_a_parameter_declared_twice(monkeypatch):
    import model.agents
    from model.agents import Kremlin
    from model.params import _registry

    monkeypatch.setattr(model.agents, "ACTORS", (Kremlin, Kremlin))
    _registry.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="declared twice"):
            registry()
    finally:
        monkeypatch.undo()
        _registry.cache_clear()
    assert "trade_growth" in registry()


def test_designed_parameters_leave_every_other_draw_unchanged(baseline):
    plain = draw_params(baseline, _streams(n=4))
    designed = draw_params(baseline, _streams(n=4), design={"expulsion_size": [1, 2, 3, 10],
                                                            "repression": np.array([0.1, 0.2, 0.3, 0.4])})
    np.testing.assert_array_equal(designed["expulsion_size"], [1.0, 2.0, 3.0, 10.0])
    assert designed["expulsion_size"].dtype == np.float64  # integers in a design are still float draws
    np.testing.assert_array_equal(designed["repression"], [0.1, 0.2, 0.3, 0.4])
    for name in plain:
        if name not in ("expulsion_size", "repression"):
            np.testing.assert_array_equal(designed[name], plain[name], err_msg=name)
