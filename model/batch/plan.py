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

from model.batch.sweep import Sweep, is_sweep_file, load_sweep
from model.errors import DialogueError
from model.scenario import Scenario, load_scenario, resolve_path

FORMAT = "dialogue-batch"
FORMAT_VERSION = 2  # 2: chunks carry their identity and checksums
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

    def chunks(self) -> list[ChunkTask]:
        out = []
        h = self.inputs_hash
        for p in self.points:
            for i, start in enumerate(range(0, p.runs, self.chunk_size)):
                out.append(ChunkTask(p.id, i, start, min(self.chunk_size, p.runs - start), p.scenario,
                                     self.variables, self.compress, h))
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
                        "values": p.values, "scenario_toml": p.scenario.to_toml()} for p in self.points],
        }

    @functools.cached_property
    def inputs_hash(self) -> str:
        blob = json.dumps(self.inputs(), sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def describe_difference(old: dict, new: dict) -> str:
    """What differs between two ``inputs()`` dicts, in a few words."""
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
        if a["scenario_toml"] != b["scenario_toml"]:
            return f"scenario {a['id']} has changed since the batch started"
    return "the inputs differ"


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
               compress: bool = False) -> BatchPlan:
    """Resolve scenarios and sweep files into points. ``runs``/``seed``/``horizon``
    override the sweep's, which override the scenario's."""
    if chunk_size < 1:
        raise DialogueError("--chunk-size must be at least 1")
    scenario_refs, sweep_files = [], list(sweeps)
    for r in refs:
        (sweep_files if is_sweep_file(r) else scenario_refs).append(r)
    if not scenario_refs and not sweep_files:
        raise DialogueError("name at least one scenario (e.g. baseline) or a sweep file (--sweep FILE.toml)")

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
        sc = run_settings(load_scenario(ref), None)
        pid = unique(_slug(sc.name))
        points.append(Point(pid, len(points), sc, sc.name, "", {}))
    sweep_docs = []
    for f in sweep_files:
        sw, path = load_sweep(f)
        base = load_scenario(resolve_path(sw.scenario, relative_to=path.parent))
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
    return BatchPlan(points, int(chunk_size), variables, bool(compress), sweep_docs)


def sweep_param_names(plan: BatchPlan) -> list[str]:
    """Parameters swept anywhere in the batch, in first-seen order."""
    names: dict[str, None] = {}
    for p in plan.points:
        for k in p.values:
            names.setdefault(k, None)
    return list(names)

