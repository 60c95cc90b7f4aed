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
             engine: str = "ensemble", run_offset: int = 0, design: Any = None,
             observations: Any = None, min_ess: float | None = None, final_resample: bool = True,
             stepwise: bool = False) -> xr.Dataset:
    """Run the Monte Carlo ensemble and return the results Dataset.

    ``runs``, ``seed`` and ``horizon`` default to the scenario's ``[run]`` section.
    ``run_offset`` gives the global index of the first run, so a batch split into
    chunks draws exactly the numbers the unsplit batch would.

    ``design`` is a per-run parameter table (DataFrame or dict of arrays; see
    :mod:`model.design`): one run per row, the row's values replacing those
    parameters' draws. Runs then default to the number of rows. Row ``i`` is run
    ``run_offset + i``, so it gives the same result alone (with that offset) as
    inside the design. The designed names are recorded in ``ds.attrs["design"]``.

    ``observations`` (an observations TOML path or a parsed
    :class:`model.observations.Observations`) conditions the ensemble on what has
    happened since the start, by sequential Monte Carlo (:mod:`model.smc`,
    docs/updating.md). The Dataset then has per-run ``weight`` and ``ancestor`` and
    the updates' diagnostics in ``ds.attrs["smc"]`` (JSON). ``min_ess``: draw more runs
    until every update keeps that effective sample size (the Dataset may then hold
    more runs than asked for). With ``final_resample=False`` the last update's weights
    are kept rather than resampled. ``stepwise`` also records, in ``attrs["smc"]``, the key
    probabilities given the observations through each update (a fork of the ensemble run to
    the horizon per update: slower). Resampling couples the runs, so a conditioned
    ensemble is a function of all its runs: split into chunks it would differ.
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
    if observations is not None:
        return _conditioned(sc, observations, engine, table, run_offset, min_ess, final_resample, stepwise)
    if min_ess is not None:
        raise DialogueError("min_ess applies only with observations; give observations=..., or drop min_ess")
    run_ids = np.arange(run_offset, run_offset + r.runs)
    out, params = ENGINES[engine](sc, run_ids, r.seed, r.horizon, design=table)
    ds = build_dataset(out, params, run_ids, sc, r.seed, r.horizon)
    if table is not None:
        ds.attrs["design"] = ",".join(table)
        for name in table:
            ds[f"param_{name}"].attrs["source"] = "design"
    return ds


def _conditioned(sc: Scenario, observations: Any, engine: str, table: Any, run_offset: int,
                 min_ess: float | None, final_resample: bool, stepwise: bool = False) -> xr.Dataset:
    """The ensemble conditioned on observations (see :func:`simulate`)."""
    from model.observations import as_observations
    from model.results import add_weights
    from model.smc import MAX_GROWTH, condition

    if engine != "ensemble":
        raise DialogueError(f"the '{engine}' engine runs one run at a time and cannot condition on observations, "
                            "which weighs the whole ensemble at once; use engine 'ensemble'")
    if table is not None:
        raise DialogueError("observations cannot be combined with a design: resampling would reorder the "
                            "designed rows; condition the scenario without a design")
    if min_ess is not None and not (isinstance(min_ess, (int, float)) and min_ess >= 1):
        raise DialogueError(f"min_ess must be a number of runs, 1 or more, got {min_ess!r}")
    obs = as_observations(observations)
    r = sc.run
    per_run = r.horizon * sum(np.dtype(dt).itemsize for dt in RECORDED.values())
    res = condition(sc, r.runs, r.seed, r.horizon, obs, min_ess=min_ess, run_offset=run_offset,
                    final_resample=final_resample, stepwise=stepwise,
                    max_runs=min(MAX_GROWTH * r.runs, max(r.runs, int(MAX_IN_MEMORY_BYTES // per_run))))
    run_ids = np.arange(run_offset, run_offset + res.weight.size)
    ds = build_dataset(res.out, res.params, run_ids, sc, r.seed, r.horizon)
    return add_weights(ds, res.weight, res.ancestor, res.to_json(), obs.text, len(res.updates))
