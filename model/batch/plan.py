"""A batch plan: the resolved points (scenario x sweep point) and their chunks.

Everything that decides the numbers in a batch is in the plan, and its hash
(:attr:`BatchPlan.inputs_hash`) is what ``--resume`` checks. How the chunks are
executed (in process, local processes, a Dask cluster) is not part of it: every
chunk is ``simulate(point scenario, runs, seed, horizon, run_offset)``, and
randomness is keyed by (seed, global run index), so the numbers do not depend on
the worker or the order.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.batch.sweep import Sweep, is_sweep_file, load_sweep
from model.errors import DialogueError
from model.scenario import Scenario, load_scenario, resolve_path

FORMAT = "dialogue-batch"
# 2: chunks carry their identity and checksums; 3: per-run parameters as one (run, param)
# variable and driver contributions as one (run, driver, time) variable; design points
FORMAT_VERSION = 3
DEFAULT_CHUNK = 10_000


@dataclass(frozen=True)
class Point:
    """One scenario (or one sweep point over a base scenario) to simulate."""

    id: str
    index: int
    scenario: Scenario          # resolved, with run settings (runs, seed, horizon) applied
    base: str                   # the base scenario's name
    sweep: str                  # sweep name, "" for a plain scenario
    values: dict[str, float]    # swept parameter values at this point
    # A design point: per-run parameter values (checked, one array per parameter, a
    # row per run) and where they came from; None for an ordinary point.
    design: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)
    design_info: dict[str, Any] = field(default_factory=dict, compare=False)
    stream_block: int = 0       # >0: rows share random streams in blocks of this size (stream = row // block)

    @property
    def runs(self) -> int:
        return self.scenario.run.runs

    @property
    def seed(self) -> int:
        return self.scenario.run.seed

    @property
    def horizon(self) -> int:
        return self.scenario.run.horizon


@dataclass(frozen=True)
class ChunkTask:
    """Runs ``run_offset .. run_offset + runs - 1`` of one point."""

    point: str
    index: int
    run_offset: int
    runs: int
    scenario: Scenario
    variables: tuple[str, ...] | None   # None: all recorded variables; (): none (summaries only)
    compress: bool = False
    inputs_hash: str = ""               # the batch's, written into the chunk to tie it to its batch
    # This chunk's rows of the point's design (rows run_offset .. run_offset + runs - 1).
    design: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)
    stream_block: int = 0
    # The observations to condition the point on (model.observations.Observations); such a
    # point is one chunk, since sequential Monte Carlo weighs its whole ensemble at once.
    observations: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.point}/chunk-{self.index:06d}"


@dataclass
class BatchPlan:
    points: list[Point]
    chunk_size: int
    variables: tuple[str, ...] | None
    compress: bool
    sweeps: list[dict] = field(default_factory=list)
    # --observed: every point is conditioned on these (model.observations.Observations).
    observations: Any = None

    def chunk_runs(self, p: Point) -> int:
        """Runs per chunk of point ``p``: conditioning on observations couples a point's runs
        (resampling), so such a point is one chunk whatever --chunk-size."""
        return p.runs if self.observations is not None else self.chunk_size

    def chunks(self) -> list[ChunkTask]:
        out = []
        h = self.inputs_hash
        for p in self.points:
            size = self.chunk_runs(p)
            for i, start in enumerate(range(0, p.runs, size)):
                stop = min(p.runs, start + size)
                rows = None if p.design is None else {k: v[start:stop] for k, v in p.design.items()}
                out.append(ChunkTask(p.id, i, start, stop - start, p.scenario,
                                     self.variables, self.compress, h, rows, p.stream_block, self.observations))
        return out

    @property
    def total_runs(self) -> int:
        return sum(p.runs for p in self.points)

    def inputs(self) -> dict:
        """Everything that decides the results (hashed for ``--resume``)."""
        from model import __version__

        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "version": __version__,
            "chunk_size": self.chunk_size,
            "variables": None if self.variables is None else list(self.variables),
            "compress": self.compress,
            "points": [{"id": p.id, "runs": p.runs, "seed": p.seed, "horizon": p.horizon,
                        "values": p.values, "scenario_toml": p.scenario.to_toml()}
                       | ({"design": design_digest(p.design) | {"stream_block": p.stream_block}}
                          if p.design is not None else {})
                       for p in self.points],
        } | ({"observations": observations_digest(self.observations)} if self.observations is not None else {})

    @functools.cached_property
    def inputs_hash(self) -> str:
        blob = json.dumps(self.inputs(), sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def observations_digest(obs: Any) -> dict[str, Any]:
    """What the input hash needs of an observations file: its text's sha256 and entries."""
    return {"sha256": hashlib.sha256(obs.text.encode()).hexdigest(), "entries": len(obs),
            "file": Path(obs.path).name}


def describe_difference(old: dict, new: dict) -> str:
    """What differs between two ``inputs()`` dicts, in a few words."""
    if old.get("observations") != new.get("observations"):
        def what(d: dict) -> str:
            o = d.get("observations")
            return f"'{o.get('file', '?')}' ({o.get('entries', '?')} entries)" if isinstance(o, dict) else "none"
        return (f"--observed was {what(old)}, now {what(new)}"
                + (" (same name, other contents)" if what(old) == what(new) else ""))
    for key, label in (("format_version", "batch format version"), ("version", "package version"),
                       ("chunk_size", "--chunk-size"),
                       ("variables", "--variables"), ("compress", "--compress")):
        if old.get(key) != new.get(key):
            return f"{label} was {old.get(key)!r}, now {new.get(key)!r}"
    op, np_ = old.get("points", []), new.get("points", [])
    oid, nid = [p["id"] for p in op], [p["id"] for p in np_]
    if oid != nid:
        gone = [i for i in oid if i not in nid]
        added = [i for i in nid if i not in oid]
        parts = [f"missing {', '.join(gone[:3])}"] if gone else []
        parts += [f"new {', '.join(added[:3])}"] if added else []
        return "the scenarios or sweep points differ (" + ("; ".join(parts) or "order changed") + ")"
    for a, b in zip(op, np_, strict=True):
        for key, label in (("runs", "--runs"), ("seed", "--seed"), ("horizon", "--horizon")):
            if a[key] != b[key]:
                return f"{label} for {a['id']} was {a[key]}, now {b[key]}"
        if a["values"] != b["values"]:
            return f"the swept values of {a['id']} differ"
        if a.get("design") != b.get("design"):
            return f"the design of {a['id']} differs (another design file, or the file has changed)"
        if a["scenario_toml"] != b["scenario_toml"]:
            return f"scenario {a['id']} has changed since the batch started"
    return "the inputs differ"


def design_digest(design: dict[str, np.ndarray]) -> dict[str, Any]:
    """Names, rows and sha256 of a checked design (what the input hash needs of it)."""
    h = hashlib.sha256()
    for name, arr in design.items():
        h.update(name.encode() + b"\0")
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return {"params": list(design), "rows": int(next(iter(design.values())).size), "sha256": h.hexdigest()}


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"
    return s[:80]


def parse_variables(text: str | None) -> tuple[str, ...] | None:
    """``--variables``: comma-separated recorded variable names; 'all' or None for all,
    'none' for summaries only."""
    from model.engine import RECORDED

    if text is None or text.strip().lower() == "all":
        return None
    if text.strip().lower() == "none":
        return ()
    names = [t.strip() for t in text.split(",") if t.strip()]
    for n in names:
        if n not in RECORDED:
            close = difflib.get_close_matches(n, list(RECORDED), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f"; choose from {', '.join(RECORDED)}"
            raise DialogueError(f"--variables: unknown variable '{n}'{hint}")
    return tuple(dict.fromkeys(names))


def build_plan(refs: list[str] | tuple[str, ...] = (), sweeps: list[str] | tuple[str, ...] = (),
               runs: int | None = None, seed: int | None = None, horizon: int | None = None,
               chunk_size: int = DEFAULT_CHUNK, variables: tuple[str, ...] | None = None,
               compress: bool = False, design: str | Path | Any = None,
               observed: str | Path | Any = None) -> BatchPlan:
    """Resolve scenarios and sweep files into points. ``runs``/``seed``/``horizon``
    override the sweep's, which override the scenario's.

    ``design``: a design file (``.csv``/``.parquet``) or table (DataFrame, dict of
    arrays): every plain scenario becomes a design point running one run per row
    (``runs``, if given, must equal the rows). Saltelli/Morris sweeps become design
    points too (one run per row of their SALib sample; ``runs`` does not apply).

    ``observed``: an observations file (or parsed :class:`model.observations.Observations`)
    that conditions every point by sequential Monte Carlo (docs/updating.md); each point
    then runs as one chunk, and the file is part of the input hash."""
    from model.batch.design_file import load_design

    if chunk_size < 1:
        raise DialogueError("--chunk-size must be at least 1")
    scenario_refs, sweep_files = [], list(sweeps)
    for r in refs:
        (sweep_files if is_sweep_file(r) else scenario_refs).append(r)
    if not scenario_refs and not sweep_files:
        raise DialogueError("name at least one scenario (e.g. baseline) or a sweep file (--sweep FILE.toml)")
    table, table_info = None, {}
    if design is not None:
        if not scenario_refs:
            raise DialogueError("--design needs a scenario to run it on, e.g. 'dialogue batch baseline --design "
                                "FILE.csv'")
        table, table_info = load_design(design, runs)

    def run_settings(sc: Scenario, sw: Sweep | None) -> Scenario:
        o = {}
        for key, cli in (("runs", runs), ("seed", seed), ("horizon", horizon)):
            val = cli if cli is not None else (getattr(sw, key) if sw is not None else None)
            if val is not None:
                o[f"run.{key}"] = val
        return sc.with_overrides(o)

    points: list[Point] = []
    used: set[str] = set()

    def unique(pid: str) -> str:
        base, k = pid, 2
        while pid in used:
            pid = f"{base}-{k}"
            k += 1
        used.add(pid)
        return pid

    for ref in scenario_refs:
        sc = load_scenario(ref)
        if table is not None:  # one run per row (load_design checked that --runs, if given, agrees)
            sc = _settings(sc.with_overrides({"run.runs": int(table_info["rows"])}), seed, horizon)
        else:
            sc = run_settings(sc, None)
        pid = unique(_slug(sc.name))
        points.append(Point(pid, len(points), sc, sc.name, "", {}, table, dict(table_info)))
    sweep_docs = []
    for f in sweep_files:
        sw, path = load_sweep(f)
        base = load_scenario(resolve_path(sw.scenario, relative_to=path.parent))
        if sw.is_design:
            # One point: SALib's sample over the swept parameters, one run per row.
            from model.design import check_design

            rows = check_design(sw.design_table(), where=f"{path}: the {sw.method} sample")
            sc = _settings(base.with_overrides({"run.runs": sw.design_rows()}),
                           seed if seed is not None else sw.seed, horizon if horizon is not None else sw.horizon)
            pid = unique(_slug(sw.name))
            sc = sc.model_copy(update={"name": pid, "description": f"Sweep '{sw.name}': {sw.method} sample "
                                       f"({sw.design_rows():,} rows) over {', '.join(sw.params)} on '{base.name}'"})
            info = {"source": sw.method, "sweep": sw.name, "rows": sw.design_rows(), "params": list(rows),
                    "stream_block": sw.stream_block}
            points.append(Point(pid, len(points), sc, base.name, sw.name, {}, rows, info, sw.stream_block))
            sweep_docs.append({"file": str(path), "name": sw.name, "text": path.read_text(encoding="utf-8"),
                               "resolved": sw.model_dump(), "points": 1, "rows": sw.design_rows()})
            continue
        base = run_settings(base, sw)
        vals = sw.point_values()
        width = max(4, len(str(len(vals) - 1)))
        sname = _slug(sw.name)
        for i, v in enumerate(vals):
            pid = unique(f"{sname}-{i:0{width}d}")
            sc = base.with_overrides(v)
            desc = ", ".join(f"{k} = {x:.6g}" for k, x in v.items())
            sc = sc.model_copy(update={"name": pid, "description": f"Sweep '{sw.name}' point {i} over "
                                                                     f"'{base.name}': {desc}"})
            points.append(Point(pid, len(points), sc, base.name, sw.name, v))
        sweep_docs.append({"file": str(path), "name": sw.name, "text": path.read_text(encoding="utf-8"),
                           "resolved": sw.model_dump(), "points": len(vals)})
    obs = _observations(observed, points) if observed is not None else None
    if runs is not None and points and all(p.design is not None for p in points):
        bad = next((p for p in points if p.runs != runs), None)
        if bad is not None:
            raise DialogueError(f"--runs {runs:,}: design point {bad.id} runs once per row ({bad.runs:,} rows); "
                                "leave --runs out")
    return BatchPlan(points, int(chunk_size), variables, bool(compress), sweep_docs, obs)


def _observations(observed: Any, points: list[Point]) -> Any:
    """The observations file, checked against every point's months before any work."""
    from model.observations import as_observations, check_schedule

    obs = as_observations(observed)
    for p in points:
        if p.design is not None:
            raise DialogueError(f"--observed cannot condition design point {p.id}: resampling would reorder the "
                                "designed rows; drop --design (or the saltelli/morris sweep), or --observed")
        try:
            check_schedule(obs, p.scenario.initial.start, p.horizon)
        except DialogueError as exc:
            raise DialogueError(f"point {p.id}: {exc}") from None
    return obs


def _settings(sc: Scenario, seed: int | None, horizon: int | None) -> Scenario:
    """Seed and horizon overrides only (a design point's runs are its rows)."""
    return sc.with_overrides({f"run.{k}": v for k, v in (("seed", seed), ("horizon", horizon)) if v is not None})


def sweep_param_names(plan: BatchPlan) -> list[str]:
    """Parameters swept anywhere in the batch, in first-seen order."""
    names: dict[str, None] = {}
    for p in plan.points:
        for k in p.values:
            names.setdefault(k, None)
    return list(names)

