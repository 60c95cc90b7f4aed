"""Sweep files: which assumptions to vary, over what values, in a batch.

A sweep is a TOML file naming a base scenario and the parameters to vary::

    name = "syria_repression_grid"
    scenario = "baseline"          # shipped name, or a path relative to this file
    method = "grid"                # or "lhs" (Latin hypercube)
    runs = 2000                    # runs per point (default: the scenario's)
    seed = 20130313                # simulation seed (default: the scenario's)

    [params.repression]
    values = [0.3, 0.6, 0.9]       # a grid axis written out ...
    [params.syria_divergence]
    low = 0.2                      # ... or low/high/steps (np.linspace)
    high = 1.0
    steps = 5

For ``method = "lhs"`` give ``points`` (how many) and optionally ``lhs_seed``;
each parameter's ``low``/``high`` default to the parameter's whole range.

A swept value sets the parameter's *value*, the centre of its uncertainty
distribution (as ``--set`` does); the spread and kind are the scenario's.
Every problem raises :class:`DialogueError` with one line naming the file, the
key and the fix.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.errors import DialogueError
from model.params import registry
from model.validation import pick_error, suggest, wanted

MAX_POINTS = 100_000


class SweepParam(BaseModel):
    """One swept parameter: ``values``, or ``low``/``high`` (+ ``steps`` on a grid)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    values: list[float] | None = Field(None, min_length=1)
    low: float | None = None
    high: float | None = None
    steps: int | None = Field(None, ge=1, le=10_000)


class Sweep(BaseModel):
    """A sweep file, validated."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(None, min_length=1, max_length=80)
    description: str = ""
    scenario: str = Field(min_length=1)
    method: Literal["grid", "lhs"] = "grid"
    points: int | None = Field(None, ge=1, le=MAX_POINTS)
    lhs_seed: int = Field(0, ge=0, le=2**63 - 1)
    runs: int | None = Field(None, ge=1, le=10_000_000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    horizon: int | None = Field(None, ge=1, le=600)
    params: dict[str, SweepParam] = Field(min_length=1)

    def point_values(self) -> list[dict[str, float]]:
        """Every point of the sweep as ``{parameter: value}``, in a fixed order."""
        specs = registry()
        if self.method == "grid":
            axes = []
            for p in self.params.values():
                if p.values is not None:
                    axes.append([float(v) for v in p.values])
                else:
                    axes.append([float(v) for v in np.linspace(p.low, p.high, p.steps)])
            return [dict(zip(self.params, combo, strict=True)) for combo in itertools.product(*axes)]
        # Latin hypercube: each parameter's range cut into `points` equal strata, one
        # draw per stratum, strata shuffled independently per parameter.
        rng = np.random.default_rng(self.lhs_seed)
        n = int(self.points)
        cols = {}
        for name, p in self.params.items():
            lo = specs[name].low if p.low is None else p.low
            hi = specs[name].high if p.high is None else p.high
            u = (rng.permutation(n) + rng.random(n)) / n
            cols[name] = lo + (hi - lo) * u
        return [{k: float(v[i]) for k, v in cols.items()} for i in range(n)]


def _explain(exc: ValidationError) -> str:
    err = pick_error(exc)
    loc = [str(x) for x in err["loc"]]
    where = ".".join(loc) or "the file"
    kind, got = err["type"], err.get("input")
    if kind == "extra_forbidden":
        parent = Sweep.model_fields if len(loc) == 1 else SweepParam.model_fields
        section = f"[{'.'.join(loc[:-1])}]" if len(loc) > 1 else "the top level"
        return f"unknown key '{loc[-1]}' in {section}{suggest(loc[-1], parent)}"
    if kind == "missing":
        return f"'{where}' is missing"
    if kind in ("greater_than_equal", "less_than_equal", "too_short", "too_long"):
        ctx = err.get("ctx", {})
        bound = {"greater_than_equal": f"at least {ctx.get('ge')}", "less_than_equal": f"at most {ctx.get('le')}",
                 "too_short": "not empty", "too_long": "shorter"}[kind]
        return f"{where} = {got!r} is out of range; it must be {bound}"
    if kind == "literal_error":
        return f"{where} = {got!r}: use \"grid\" or \"lhs\""
    return f"{where} {wanted(err)}"


def parse_sweep(raw: dict[str, Any], where: str = "sweep") -> Sweep:
    """Validate a sweep document (a dict as from TOML)."""
    try:
        sw = Sweep.model_validate(raw)
    except ValidationError as exc:
        raise DialogueError(f"{where}: {_explain(exc)}") from None
    specs = registry()
    for name, p in sw.params.items():
        if name not in specs:
            raise DialogueError(f"{where}: unknown parameter '{name}' in [params]{suggest(name, specs)}; "
                                "'dialogue params baseline' lists them")
        spec = specs[name]
        rng = f"[{spec.low:g}, {spec.high:g}]"
        key = f"params.{name}"
        if sw.method == "grid":
            if p.values is not None and (p.low is not None or p.high is not None or p.steps is not None):
                raise DialogueError(f"{where}: [{key}] give either 'values' or 'low'/'high'/'steps', not both")
            if p.values is None and (p.low is None or p.high is None or p.steps is None):
                missing = [k for k in ("low", "high", "steps") if getattr(p, k) is None]
                raise DialogueError(f"{where}: [{key}] needs 'values = [...]' or low, high and steps "
                                    f"(missing {', '.join(missing)})")
        else:
            if p.values is not None or p.steps is not None:
                raise DialogueError(f"{where}: [{key}] a Latin hypercube samples between low and high; "
                                    "remove 'values'/'steps' (or use method = \"grid\")")
        vals = list(p.values or []) + [v for v in (p.low, p.high) if v is not None]
        for v in vals:
            if not spec.low <= v <= spec.high:
                raise DialogueError(f"{where}: {key} value {v:g} is outside the parameter's range; "
                                    f"it must be between {spec.low:g} and {spec.high:g} ({spec.units})")
        if p.low is not None and p.high is not None and p.low > p.high:
            raise DialogueError(f"{where}: [{key}] low = {p.low:g} is above high = {p.high:g} "
                                f"(the parameter's range is {rng})")
    if sw.method == "lhs" and sw.points is None:
        raise DialogueError(f"{where}: method = \"lhs\" needs 'points = N' (how many sweep points)")
    if sw.method == "grid" and sw.points is not None:
        raise DialogueError(f"{where}: 'points' is for method = \"lhs\"; a grid's points are its values")
    if sw.method == "grid":
        n = 1
        for p in sw.params.values():
            n *= len(p.values) if p.values is not None else p.steps
        if n > MAX_POINTS:
            raise DialogueError(f"{where}: the grid has {n:,} points; at most {MAX_POINTS:,} are allowed")
    return sw


def load_sweep(path: str | Path) -> tuple[Sweep, Path]:
    """Read and validate a sweep file; returns the sweep and its resolved path."""
    p = Path(path)
    if p.is_dir():
        raise DialogueError(f"{p} is a folder, not a sweep file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialogueError(f"sweep file {p} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(f"{p}: cannot read sweep file ({exc.__class__.__name__})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DialogueError(f"{p}: malformed TOML: {exc}") from None
    sw = parse_sweep(raw, str(p))
    if sw.name is None:
        sw = sw.model_copy(update={"name": p.stem})
    return sw, p.resolve()


def is_sweep_file(path: str | Path) -> bool:
    """Whether a TOML file is a sweep (has a top-level ``scenario`` or ``method`` key)
    rather than a scenario (which uses ``extends``)."""
    p = Path(path)
    if p.suffix != ".toml" or not p.is_file():
        return False
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^\s*(scenario|method)\s*=", text, flags=re.MULTILINE) is not None
