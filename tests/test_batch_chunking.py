"""Batch arithmetic with uneven chunking (issue 14): a short last chunk, and chunk
sizes that do not divide the runs, give a summary equal to ``summarize()`` of the
full ensemble (shares and means are combined over runs, never averaged per chunk)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import load_scenario, simulate, summarize
from model.analysis import event_flags, prob_with_se
from model.batch import build_plan, load_batch, run_batch
from model.batch.chunks import EVENT_SLUGS
from model.results import OUTCOMES

RUNS, HORIZON = 250, 12


@pytest.fixture(scope="module")
def full():
    ds = simulate(load_scenario("crackdown"), runs=RUNS, horizon=HORIZON)
    return ds, summarize(ds)


@pytest.fixture(scope="module")
def even(tmp_path_factory):
    out = tmp_path_factory.mktemp("even") / "b"
    run_batch(build_plan(["crackdown"], runs=RUNS, horizon=HORIZON, chunk_size=RUNS, variables=()), out,
              progress=False)
    return load_batch(out).summary


@pytest.mark.parametrize("chunk_size", [100, 7, 249, 240])  # 100+100+50; 35x7+5; 249+1; 240+10
def test_uneven_chunks_summary_equals_summarize_of_the_full_ensemble(tmp_path, full, even, chunk_size):
    ds, s = full
    out = tmp_path / "b"
    plan = build_plan(["crackdown"], runs=RUNS, horizon=HORIZON, chunk_size=chunk_size, variables=())
    sizes = [t.runs for t in plan.chunks()]
    assert sum(sizes) == RUNS and sizes[-1] < chunk_size  # a short last chunk
    run_batch(plan, out, progress=False)
    row = load_batch(out).summary.iloc[0]
    for k in OUTCOMES:
        assert (row[f"outcome_{k}_p"], row[f"outcome_{k}_se"]) == s.outcomes[k]
    flags = event_flags(ds)
    for name, slug in EVENT_SLUGS.items():
        assert (row[f"event_{slug}_p"], row[f"event_{slug}_se"]) == prob_with_se(flags[name].isel(time=-1))
    for band, share in s.bands.items():
        assert row[f"band_{band}"] == share  # a share over all runs, not a mean of chunk shares
    for d, v in s.drivers.items():
        assert row[f"driver_{d}"] == pytest.approx(v, rel=1e-12, abs=1e-12)
    rel = ds["relations"].isel(time=-1).values
    assert row["relations_mean"] == pytest.approx(rel.mean(), abs=1e-12)
    assert (row["relations_q10"], row["relations_q50"], row["relations_q90"]) == (
        s.relations_p10, s.relations_median, s.relations_p90)
    assert row["exports_q50"] == s.exports_median
    assert row["runs"] == RUNS
    # And identical, column by column, to the same batch in one chunk.
    pd.testing.assert_series_equal(row.drop(["ensemble"]), even.iloc[0].drop(["ensemble"]), check_exact=False,
                                   rtol=1e-13, check_names=False)
    assert np.isfinite(row["relations_q95"])
