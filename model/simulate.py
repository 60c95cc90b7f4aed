"""``simulate``: the one entry point from a scenario to a results Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from model.design import check_design, design_rows
from model.engine import ENGINES, RECORDED
from model.errors import DialogueError
from model.results import build_dataset
from model.scenario import Scenario, load_scenario

# Results held in memory at once; past this, batches stream chunks to disk instead.
MAX_IN_MEMORY_BYTES = 6e9


def simulate(scenario: Scenario | str | Path, runs: int | None = None, seed: int | None = None,
             horizon: int | None = None, overrides: dict[str, Any] | None = None,
             engine: str = "ensemble", run_offset: int = 0, design: Any = None) -> xr.Dataset:
    """Run the Monte Carlo ensemble and return the results Dataset.

    ``runs``, ``seed`` and ``horizon`` default to the scenario's ``[run]`` section.
    ``run_offset`` gives the global index of the first run, so a batch split into
    chunks draws exactly the numbers the unsplit batch would.

    ``design`` is a per-run parameter table (DataFrame or dict of arrays; see
    :mod:`model.design`): one run per row, the row's values replacing those
    parameters' draws. Runs then default to the number of rows. Row ``i`` is run
    ``run_offset + i``, so it gives the same result alone (with that offset) as
    inside the design. The designed names are recorded in ``ds.attrs["design"]``.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    table = None
    if design is not None:
        table = check_design(design, runs)
        runs = design_rows(table)
    sc = sc.with_overrides({f"run.{k}": v for k, v in
                            (("runs", runs), ("seed", seed), ("horizon", horizon)) if v is not None})
    sc = sc.with_overrides(overrides)
    if engine not in ENGINES:
        raise DialogueError(f"unknown engine '{engine}'; use one of {', '.join(ENGINES)}")
    if run_offset < 0:
        raise DialogueError("run_offset must be 0 or more")
    r = sc.run
    need = r.runs * r.horizon * sum(np.dtype(dt).itemsize for dt in RECORDED.values())
    if need > MAX_IN_MEMORY_BYTES:
        raise DialogueError(
            f"{r.runs:,} runs x {r.horizon} months needs about {need / 1e9:.1f} GB in memory; "
            f"use fewer runs, or 'dialogue batch', which streams chunks to disk")
    run_ids = np.arange(run_offset, run_offset + r.runs)
    out, params = ENGINES[engine](sc, run_ids, r.seed, r.horizon, design=table)
    ds = build_dataset(out, params, run_ids, sc, r.seed, r.horizon)
    if table is not None:
        ds.attrs["design"] = ",".join(table)
        for name in table:
            ds[f"param_{name}"].attrs["source"] = "design"
    return ds
