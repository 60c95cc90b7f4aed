"""The batch summary table, combined from per-chunk partials (never whole ensembles).

One row per point (scenario or sweep point); the columns are documented in
``docs/batch.md`` ("Summary table"). Probabilities and standard errors use the
same formulas as :func:`model.analysis.prob_with_se`, quantiles the same numpy
calls as :func:`model.analysis.summarize` on the run-ordered horizon slice, so a
batch's summary equals the summary of its full ensemble.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from model.batch.chunks import EVENT_SLUGS, partial_path
from model.batch.integrity import read_partial
from model.batch.plan import BatchPlan, Point, sweep_param_names
from model.errors import DialogueError

QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)


def _q(name: str, q: float) -> str:
    return f"{name}_q{round(q * 100):02d}"


def _combine(out: Path, point: Point, chunk_size: int) -> dict[str, np.ndarray]:
    parts = [read_partial(partial_path(out, point.id, i)) for i, _ in enumerate(range(0, point.runs, chunk_size))]
    return {
        "n": int(sum(int(p["n"][0]) for p in parts)),
        "run_ids": np.concatenate([p["run_ids"] for p in parts]),
        "outcome_counts": np.sum([p["outcome_counts"] for p in parts], axis=0),
        "event_by_month": np.sum([p["event_by_month"] for p in parts], axis=0),
        "relations_end": np.concatenate([p["relations_end"] for p in parts]),
        "exports_end": np.concatenate([p["exports_end"] for p in parts]),
        "driver_run_totals": np.concatenate([p["driver_run_totals"] for p in parts], axis=1),
    }


def _p_se(count: int, n: int) -> tuple[float, float]:
    # As model.analysis.prob_with_se: p = mean of the mask; se = sqrt(p (1 - p) / n).
    p = float(count / n) if n else float("nan")
    return p, float(np.sqrt(p * (1 - p) / n)) if n else float("nan")


def _quantiles(x: np.ndarray) -> dict[float, float]:
    out = {q: float(np.quantile(x, q)) for q in QUANTILES}
    out[0.5] = float(np.median(x))  # as summarize()
    return out


def build_summary(plan: BatchPlan, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, events_by_month) from the partials on disk."""
    from model.agents.relations import BANDS, DRIVERS
    from model.results import OUTCOMES

    swept = sweep_param_names(plan)
    rows, monthly = [], []
    for pt in plan.points:
        c = _combine(out, pt, plan.chunk_runs(pt))
        n = c["n"]
        if not np.array_equal(c["run_ids"], np.arange(pt.runs)):
            raise DialogueError(f"{out}: the partial summaries of {pt.id} do not cover runs 0..{pt.runs - 1} in "
                                "order; rerun with --resume to verify and recompute the damaged chunks")
        times = pd.period_range(pt.scenario.initial.start, periods=pt.horizon, freq="M")
        row: dict = {"point": pt.id, "point_index": pt.index, "scenario": pt.base, "sweep": pt.sweep,
                     "design": design_label(pt)}
        for name in swept:  # a designed parameter has no one value at this point
            designed = pt.design is not None and name in pt.design
            row[f"param_{name}"] = float("nan") if designed else float(pt.scenario.params[name].value)
        row |= {"runs": n, "seed": pt.seed, "horizon_months": pt.horizon,
                "start": str(times[0]), "horizon": str(times[-1])}
        for k, cnt in zip(OUTCOMES, c["outcome_counts"], strict=True):
            row[f"outcome_{k}_p"], row[f"outcome_{k}_se"] = _p_se(int(cnt), n)
        for j, slug in enumerate(EVENT_SLUGS.values()):
            row[f"event_{slug}_p"], row[f"event_{slug}_se"] = _p_se(int(c["event_by_month"][j, -1]), n)
        for var, x in (("relations", c["relations_end"]), ("exports", c["exports_end"])):
            row[f"{var}_mean"] = float(np.mean(x))
            for q, v in _quantiles(x).items():
                row[_q(var, q)] = v
        edges = [b[2] for b in BANDS[:-1]]
        idx = np.searchsorted(edges, c["relations_end"], side="left")
        for i, b in enumerate(BANDS):
            row[f"band_{b[0]}"] = float((idx == i).mean())
        for d, tot in zip(DRIVERS, c["driver_run_totals"], strict=True):
            row[f"driver_{d}"] = float(tot.mean())
        row["ensemble"] = "" if plan.variables == () else f"ensembles/{pt.id}"
        rows.append(row)
        ev = pd.DataFrame({slug: c["event_by_month"][j] / n for j, slug in enumerate(EVENT_SLUGS.values())})
        ev.insert(0, "time", times.to_timestamp())
        ev.insert(0, "point", pt.id)
        monthly.append(ev)
    summary = pd.DataFrame(rows)
    events = pd.concat(monthly, ignore_index=True) if monthly else pd.DataFrame()
    return summary, events


def design_label(pt: Point) -> str:
    """The summary's ``design`` cell: "" (no design), the sweep method, or the file name."""
    if pt.design is None:
        return ""
    info = pt.design_info
    return str(info.get("name") or info.get("source") or "table")


def summary_columns(swept: list[str] | None = None) -> list[str]:
    """The summary table's columns, in order (``swept``: the swept parameters)."""
    from model.agents.relations import BANDS, DRIVERS
    from model.results import OUTCOMES

    cols = ["point", "point_index", "scenario", "sweep", "design"] + [f"param_{n}" for n in (swept or [])]
    cols += ["runs", "seed", "horizon_months", "start", "horizon"]
    cols += [f"outcome_{k}_{s}" for k in OUTCOMES for s in ("p", "se")]
    cols += [f"event_{e}_{s}" for e in EVENT_SLUGS.values() for s in ("p", "se")]
    for var in ("relations", "exports"):
        cols += [f"{var}_mean"] + [_q(var, q) for q in QUANTILES]
    cols += [f"band_{b[0]}" for b in BANDS] + [f"driver_{d}" for d in DRIVERS] + ["ensemble"]
    return cols
