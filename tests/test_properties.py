"""Property tests: for any assumptions in range and any seed, state stays in bounds,
nothing is NaN and the driver contributions sum to the change in relations."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import load_scenario, simulate
from model.agents.relations import DRIVERS
from model.params import HEADLINE, registry

BASE = load_scenario("baseline")
SPECS = registry()


def _value(name):
    s = SPECS[name]
    return st.floats(s.low, s.high, allow_nan=False)


extremes = st.fixed_dictionaries(
    {n: _value(n) for n in HEADLINE},
    optional={n: _value(n) for n in ("incident_rate", "crisis_rate", "election_spark", "uk_engagement",
                                     "relations_anchor", "escalation_threshold", "major_incident_cost")},
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=extremes, seed=st.integers(0, 2**32), start_rel=st.floats(-10, 10))
def test_bounds_no_nan_and_contributions_sum(values, seed, start_rel):
    sc = BASE.with_overrides(values | {"initial.relations": start_rel})
    ds = simulate(sc, runs=64, seed=seed, horizon=30)
    for v in ds.data_vars:
        if ds[v].dtype.kind == "f":
            assert not np.isnan(ds[v].values).any(), v
    rel = ds["relations"].values
    assert rel.min() >= -10 and rel.max() <= 10
    for v in ("protest", "grievance", "repression", "threat", "syria_divergence", "values_concern"):
        x = ds[v].values
        assert x.min() >= 0 and x.max() <= 1, v
    assert (ds["protest"].values <= ds["grievance"].values + 1e-6).all()
    assert (ds["exports_gbp_m"].values > 0).all()
    assert set(np.unique(ds["ladder"].values)) <= {0, 1, 2, 3, 4}
    total = sum(ds[f"contrib_{d}"].values for d in DRIVERS)
    change = np.diff(np.concatenate([np.full((rel.shape[0], 1), start_rel), rel], axis=1))
    np.testing.assert_allclose(total, change, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(SPECS)), u=st.floats(0.0005, 0.9995),
       dist=st.sampled_from(["uniform", "triangular", "normal", "beta", "fixed"]), frac=st.floats(0, 1))
def test_parameter_draws_stay_in_range(name, u, dist, frac):
    from model.params import sample

    s = SPECS[name]
    value = s.low + frac * (s.high - s.low)
    x = sample(s, value, dist, (s.high - s.low) / 4, np.array([u, 1 - u]))
    assert np.isfinite(x).all() and (x >= s.low - 1e-12).all() and (x <= s.high + 1e-12).all()
