"""Sensitivity indices of a finished saltelli/morris sweep batch: ``analyze_sweep(path)``.

The sample is rebuilt from the sweep recorded in the manifest (and checked against
the design's sha256 recorded there), the outputs come from each chunk's per-run
partial summaries (so it works with ``--variables none`` too), and the estimators
are SALib's, through :func:`model.sensitivity.analyze` (as ``dialogue sensitivity``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from model.batch.chunks import EVENT_SLUGS, partial_path
from model.batch.integrity import read_partial
from model.errors import DialogueError

# model.sensitivity output name -> event slug in the partials' ``events_end``
_EVENT_OUTPUTS = {"dialogue_suspended": "dialogue_suspended", "expulsions": "diplomats_expelled",
                  "sanctions": "sanctions"}
_METHOD = {"saltelli": "sobol", "morris": "morris"}


def _outputs(parts: list[dict], names: list[str]) -> dict[str, np.ndarray]:
    """Per-run outputs at the horizon (run order) from a point's partial summaries."""
    from model.results import OUTCOMES

    outcome = np.concatenate([p["outcome_run"] for p in parts]).astype(np.int64)
    events = np.concatenate([p["events_end"] for p in parts], axis=1)
    slugs = list(EVENT_SLUGS.values())
    res: dict[str, np.ndarray] = {k: (outcome == i).astype(np.float64) for i, k in enumerate(OUTCOMES)}
    res["confrontation_or_worse"] = res["rupture"] + res["confrontation"]
    for out, slug in _EVENT_OUTPUTS.items():
        res[out] = events[slugs.index(slug)].astype(np.float64)
    res["relations"] = np.concatenate([p["relations_end"] for p in parts])
    res["exports"] = np.concatenate([p["exports_end"] for p in parts])
    return {n: res[n] for n in names}


def analyze_sweep(path: str | Path, outputs: str | Iterable[str] | None = None,
                  num_resamples: int = 100, seed: int = 0) -> pd.DataFrame:
    """Sobol' (saltelli sweeps) or Morris (morris sweeps) indices of every design
    sweep point of the batch at ``path``, as a tidy table: one row per (point,
    output, parameter), with ``S1, S1_conf, ST, ST_conf`` (sobol) or ``mu, mu_star,
    sigma, mu_star_conf`` (morris). ``outputs``: names as in ``dialogue
    sensitivity --outputs`` (default all), at the horizon."""
    from model.batch.plan import design_digest
    from model.batch.store import load_batch
    from model.batch.sweep import Sweep
    from model.design import check_design
    from model.sensitivity import OUTPUTS, analyze, check_outputs

    names = check_outputs(outputs)
    b = load_batch(path)
    sweeps = {s.get("name"): s for s in b.manifest.get("sweeps", [])}
    rows = []
    points = [p for p in b.manifest["points"] if p.get("design", {}).get("source") in _METHOD]
    if not points:
        raise DialogueError(f"{b.path}: no saltelli or morris sweep in this batch; run one with "
                            "'dialogue batch --sweep FILE.toml' (method = \"saltelli\" or \"morris\")")
    for p in points:
        sw = Sweep.model_validate(sweeps[p["sweep"]]["resolved"])
        table = check_design(sw.design_table())
        if design_digest(table)["sha256"] != p["design"]["sha256"]:
            raise DialogueError(f"{b.path}: the {sw.method} sample of {p['id']} cannot be rebuilt exactly (another "
                                "SALib version?); analyse the stored parameters (ensemble 'params') with SALib")
        prob = sw.salib_problem()
        x = np.column_stack([table[n] for n in prob["names"]])
        parts = [read_partial(partial_path(b.path, p["id"], i)) for i in range(p["chunks"])]
        ys = _outputs(parts, names)
        method = _METHOD[sw.method]
        keys = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else ("mu", "mu_star", "sigma",
                                                                              "mu_star_conf")
        for out in names:
            y = ys[out]
            constant = bool(np.ptp(y) == 0)
            res = {} if constant else analyze(method, prob, x, y, num_resamples, seed)
            for k, name in enumerate(prob["names"]):
                row = {"point": p["id"], "sweep": sw.name, "method": method, "output": out,
                       "output_label": OUTPUTS[out][0], "mean": float(y.mean()), "param": name,
                       "low": prob["bounds"][k][0], "high": prob["bounds"][k][1], "rows": int(y.size),
                       "constant": constant}
                row |= {key: (float(res[key][k]) if res else np.nan) for key in keys}
                rows.append(row)
    return pd.DataFrame(rows)
