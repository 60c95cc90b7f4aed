"""Design runs: a per-run parameter table through ``simulate(scenario, design=...)``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model import DialogueError, simulate

DESIGN = pd.DataFrame({"repression": [0.2, 0.5, 0.9, 0.95, 0.35],
                       "relaxation": [0.05, 0.1, 0.2, 0.3, 0.45],
                       "syria_divergence": [0.1, 0.9, 0.5, 0.0, 1.0]})


def _diff(a: xr.Dataset, b: xr.Dataset) -> list[str]:
    return [v for v in a.data_vars if not np.array_equal(a[v].values, b[v].values)]


def test_design_row_is_bit_identical_alone_and_inside(baseline):
    whole = simulate(baseline, design=DESIGN, seed=3, horizon=30)
    assert whole.sizes["run"] == len(DESIGN)
    for i in range(len(DESIGN)):
        alone = simulate(baseline, design=DESIGN.iloc[[i]], seed=3, horizon=30, run_offset=i)
        assert _diff(whole.isel(run=[i]), alone) == []


def test_reference_engine_agrees_on_a_design(baseline):
    ens = simulate(baseline, design=DESIGN, seed=5, horizon=24)
    ref = simulate(baseline, design=DESIGN, seed=5, horizon=24, engine="reference")
    assert _diff(ens, ref) == []


def test_design_sets_its_columns_and_draws_the_rest_as_usual(baseline):
    plain = simulate(baseline, runs=len(DESIGN), seed=8, horizon=12)
    ds = simulate(baseline, design={k: v.to_numpy() for k, v in DESIGN.items()}, seed=8, horizon=12)
    for name in DESIGN:
        assert np.array_equal(ds[f"param_{name}"].values, DESIGN[name].to_numpy())
        assert ds[f"param_{name}"].attrs["source"] == "design"
    # Undesigned parameters: exactly the draws of an ordinary run with the same seed.
    for name in ("protest_growth", "trade_growth", "weight_syria"):
        assert np.array_equal(ds[f"param_{name}"].values, plain[f"param_{name}"].values)
    assert ds.attrs["design"] == "repression,relaxation,syria_divergence"
    # And the design changes the futures (repression 0.2 vs the scenario's draw).
    assert not np.array_equal(ds["relations"].values, plain["relations"].values)


def test_design_without_design_is_unchanged(baseline):
    a = simulate(baseline, runs=50, seed=2, horizon=12)
    b = simulate(baseline, runs=50, seed=2, horizon=12, design=None)
    assert _diff(a, b) == [] and "design" not in a.attrs


def test_param_prefix_and_ulp_clipping(baseline):
    hi = 1.0 + 2 * np.spacing(1.0)  # rounding noise above the bound: clipped, not refused
    ds = simulate(baseline, design={"param_repression": [hi, 0.0]}, seed=1, horizon=6)
    assert ds["param_repression"].values.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("design, runs, words", [
    ({"represion": [0.5]}, None, "did you mean 'repression'"),
    ({"repression": [0.5, 1.2]}, None, "row 1 = 1.2 is out of range; it must be between 0 and 1"),
    ({"repression": [0.5, np.nan]}, None, "missing"),
    (pd.DataFrame({"repression": []}), None, "no rows"),
    ({}, None, "no columns"),
    ({"repression": [0.5, 0.6], "relaxation": [0.1]}, None, "different lengths"),
    ({"repression": ["high"]}, None, "numbers"),
    ({"repression": [0.5, 0.6]}, 3, "2 rows but runs = 3"),
])
def test_bad_designs_are_one_line_errors(baseline, design, runs, words):
    with pytest.raises(DialogueError) as e:
        simulate(baseline, design=design, runs=runs, seed=1, horizon=6)
    assert words in str(e.value)
    assert "\n" not in str(e.value)
