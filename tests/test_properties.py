"""Property tests: for any assumptions in range, any seed and any dated shocks, every
bounded state the engine records stays in its documented range, nothing is NaN and the
driver contributions sum to the change in relations.

The strategy draws EVERY parameter from {its low end, its high end, an interior value}
(and sometimes fixes every distribution, so runs sit exactly on the extremes), the start
state from the edges of its ranges too, and up to one dated shock of each kind: a bound
broken only at an extreme is found.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import DialogueError, load_scenario, simulate
from model.agents.relations import DRIVERS
from model.engine import RECORDED
from model.params import registry
from model.scenario import Initial
from model.shocks import KINDS, SIZE_MAX, month_at

BASE = load_scenario("baseline")
SPECS = registry()
HORIZON = 30


def _edge_or_inside(low: float, high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([low, high]), st.floats(low, high, allow_nan=False))


VALUES = {n: _edge_or_inside(s.low, s.high) for n, s in SPECS.items()}  # every parameter, both ends
values = st.fixed_dictionaries(VALUES)
START = {
    "initial.relations": _edge_or_inside(-10.0, 10.0),
    "initial.protest": _edge_or_inside(0.0, 1.0),
    "initial.grievance": _edge_or_inside(0.0, 1.0),
    "initial.repression": _edge_or_inside(0.0, 1.0),
    "initial.syria_divergence": _edge_or_inside(0.0, 1.0),
    "initial.us_russia": _edge_or_inside(-1.0, 1.0),
    "initial.export_growth": _edge_or_inside(-0.99, 1.0),  # -1 itself: see the test below
    "initial.exports_gbp_m": _edge_or_inside(0.01, 100_000.0),
    "initial.pressure": _edge_or_inside(0.0, 50.0),
    "initial.ladder": st.integers(0, 3),
    "initial.sanctions": st.booleans(),
}
start = st.fixed_dictionaries(START)


@st.composite
def shocks(draw) -> list[dict]:
    """At most one shock of each kind (windows of one kind must not overlap), anywhere in the run."""
    out = []
    for kind in draw(st.lists(st.sampled_from(KINDS), unique=True, max_size=3)):
        first = draw(st.integers(0, HORIZON - 1))
        last = draw(st.integers(first, min(HORIZON - 1, first + 4)))
        sh = {"kind": kind, "month": month_at("2013-03", first), "until": month_at("2013-03", last)}
        if kind in SIZE_MAX and draw(st.booleans()):
            size = draw(_edge_or_inside(0.0, SIZE_MAX[kind]))
            sh["size"] = float(round(size)) if kind == "expulsion_round" else size
        out.append(sh)
    return out


def _in(x, lo, hi) -> bool:
    return bool(np.isfinite(x).all() and x.min() >= lo and x.max() <= hi)


def _sticky(v) -> bool:
    """Once true, true for good."""
    return bool((np.diff(v.astype(int), axis=1) >= 0).all())


def _whole(v, hi) -> bool:
    return _in(v, 0, hi) and bool((v == np.round(v)).all())


def _sanctions_onset(d) -> np.ndarray:
    s = d["sanctions"].values
    before = np.concatenate([np.full((s.shape[0], 1), bool(d.attrs["start_sanctions"])), s[:, :-1]], axis=1)
    return s & ~before


def _regime(d, v) -> bool:
    """Flagged from the first month protest reaches the run's line, for good. Protest is stored
    as float32, so a peak within 1e-6 of the line may go either way."""
    peak = np.maximum.accumulate(d["protest"].values.astype(float), axis=1)
    line = d["param_regime_crisis_protest"].values[:, None]
    return _sticky(v) and bool(((v == (peak >= line)) | (np.abs(peak - line) < 1e-6)).all())


def _meetings(d, v) -> bool:
    """A meeting needs the format, except the article's own 2+2 (month 0) and a dated meeting shock."""
    free = np.zeros(v.shape[1], dtype=bool)
    free[0] = True
    free[list(d.attrs["meeting_shock_months"])] = True
    return not (v & ~d["dialogue_active"].values)[:, ~free].any()


# Rounds are whole diplomats: drawn ones 1 to 150, a dated round up to its largest size.
ROUND_MAX = max(150.0, SIZE_MAX["expulsion_round"])

# Every recorded state and its documented range (contributions are checked by their sum).
CHECKS = {
    "relations": lambda d, v: _in(v, -10, 10),
    "protest": lambda d, v: _in(v, 0, 1) and (v <= d["grievance"].values + 1e-6).all(),
    "grievance": lambda d, v: _in(v, 0, 1),
    "repression": lambda d, v: _in(v, 0, 1),
    "threat": lambda d, v: _in(v, 0, 1),
    "syria_divergence": lambda d, v: _in(v, 0, 1),
    "values_concern": lambda d, v: _in(v, 0, 1),
    "us_russia": lambda d, v: _in(v, -1, 1),
    "exports_gbp_m": lambda d, v: np.isfinite(v).all() and (v > 0).all(),
    "pressure": lambda d, v: np.isfinite(v).all() and (v >= 0).all(),
    "eu_pressure": lambda d, v: np.isfinite(v).all() and (v >= 0).all(),
    "ladder": lambda d, v: _in(v, 0, 3),
    "russia_suspended": lambda d, v: v.dtype == bool,
    # The format is open only while the UK is below suspension and Russia has not suspended it.
    "dialogue_active": lambda d, v: np.array_equal(v, (d["ladder"].values < 2) & ~d["russia_suspended"].values),
    "sanctions": lambda d, v: v.dtype == bool,
    "counter_sanctions": lambda d, v: not (v & ~_sanctions_onset(d)).any(),  # answers new sanctions only
    "expulsions": lambda d, v: _whole(v, ROUND_MAX),
    "russian_expulsions": lambda d, v: _whole(v, ROUND_MAX),
    "countermeasure": lambda d, v: not (v & ~((d["ladder"].values >= 2) | d["sanctions"].values)).any(),
    "incidents": lambda d, v: (v >= 0).all(),
    "major_incidents": lambda d, v: _in(v, 0, 1) and (v <= d["incidents"].values).all(),
    "asylum_grants": lambda d, v: (v >= 0).all(),
    "harassment": lambda d, v: v.dtype == bool,
    "crisis": lambda d, v: not (v & ~d["in_crisis"].values).any(),  # a crisis that begins is under way
    "in_crisis": lambda d, v: v.dtype == bool,
    "regime_crisis": _regime,
    "meeting": _meetings,
    "formula": lambda d, v: not (v & ~d["meeting"].values).any(),
    "rebel_aid": lambda d, v: _sticky(v),  # decided once, for good
}


def test_every_recorded_state_has_a_bounds_check():
    assert set(CHECKS) == {k for k in RECORDED if not k.startswith("contrib_")}


def test_the_strategies_reach_every_parameter_and_start_field():
    assert set(VALUES) == set(SPECS)
    for name, spec in SPECS.items():  # both ends of every range are among the drawn values
        ends = VALUES[name].wrapped_strategy.original_strategies[0] if hasattr(VALUES[name], "wrapped_strategy") \
            else VALUES[name].original_strategies[0]
        assert set(ends.elements) == {spec.low, spec.high}, name
    assert set(START) == {f"initial.{f}" for f in Initial.model_fields if f != "start"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=values, start=start, fixed=st.booleans(), seed=st.integers(0, 2**32), dated=shocks())
def test_bounds_no_nan_and_contributions_sum(values, start, fixed, seed, dated):
    over = values | start | ({f"{n}.dist": "fixed" for n in SPECS} if fixed else {})
    sc = BASE.with_overrides(over).with_shocks(dated)
    ds = simulate(sc, runs=64, seed=seed, horizon=HORIZON)
    ds.attrs["start_sanctions"] = int(start["initial.sanctions"])
    ds.attrs["meeting_shock_months"] = [
        i for sh in dated if sh["kind"] in ("formula", "no_formula")
        for i in range(HORIZON) if sh["month"] <= month_at("2013-03", i) <= sh["until"]]
    for v in ds.data_vars:
        if ds[v].dtype.kind == "f":
            assert not np.isnan(ds[v].values).any(), v
    for name, ok in CHECKS.items():
        assert ok(ds, ds[name].values), name
    if not any(sh["kind"] == "no_formula" for sh in dated):
        assert ds["formula"].values[:, 0].all()  # the article's formula of words, in every run
    rel = ds["relations"].values
    total = sum(ds[f"contrib_{d}"].values for d in DRIVERS)
    first = np.full((rel.shape[0], 1), start["initial.relations"])
    np.testing.assert_allclose(total, np.diff(np.concatenate([first, rel], axis=1)), atol=1e-9)


def test_a_start_with_exports_halting_is_refused_and_near_it_gives_no_nan():
    """-1 would mean exports stop dead: log1p(-1) = -inf, and relations turned NaN. The field is
    now above -1, so -1 is refused with one line, and a start just above it stays finite."""
    with pytest.raises(DialogueError, match=r"initial.export_growth = -1.0 is out of range; it must be above -1"):
        BASE.with_overrides({"initial.export_growth": -1.0})
    ds = simulate(BASE.with_overrides({"initial.export_growth": -0.99}), runs=4, seed=1, horizon=3)
    assert not np.isnan(ds["relations"].values).any()


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(SPECS)), u=st.floats(0.0005, 0.9995),
       dist=st.sampled_from(["uniform", "triangular", "normal", "beta", "fixed"]), frac=st.floats(0, 1))
def test_parameter_draws_stay_in_range(name, u, dist, frac):
    from model.params import sample

    s = SPECS[name]
    value = s.low + frac * (s.high - s.low)
    x = sample(s, value, dist, (s.high - s.low) / 4, np.array([u, 1 - u]))
    assert np.isfinite(x).all() and (x >= s.low - 1e-12).all() and (x <= s.high + 1e-12).all()
