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

``method = "saltelli"`` or ``"morris"`` makes SALib's sample over the swept
parameters (``low``/``high`` as above; ``points``: SALib's N, the base sample size
for Saltelli, a power of two, or the number of Morris trajectories;
``sample_seed``) and runs it as ONE design point: one run per row, each row's
values replacing those parameters' draws (:meth:`Sweep.design_table`).

A swept value sets the parameter's *value*, the centre of its uncertainty
distribution (as ``--set`` does); the spread and kind are the scenario's.
Every problem raises :class:`DialogueError` with one line naming the file, the
key and the fix. Enforced limits (docs/batch.md, "Limits"): the file at most
:data:`MAX_SWEEP_BYTES`, tables and arrays nested at most :data:`MAX_SWEEP_DEPTH`
deep, at most :data:`MAX_POINTS` points, :data:`MAX_VALUES` values per axis.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.errors import DialogueError, number
from model.params import registry
from model.validation import MAX_DEPTH, MAX_FILE_BYTES, clip, nesting_depth, pick_error, suggest, wanted

MAX_POINTS = 100_000
# Limits of our own (the scenario parser keeps its in model.validation; same values).
MAX_SWEEP_BYTES = MAX_FILE_BYTES  # a sweep file, as a scenario file; the shipped ones are under 1 kB
MAX_SWEEP_DEPTH = MAX_DEPTH    # nested tables/arrays in a sweep document (the schema needs 3)
MAX_VALUES = 10_000           # values in one grid axis (as steps)
MAX_NAME = 80                 # sweep name (it names the points and folders)
MAX_DESCRIPTION = 5_000
MAX_REF = 1_024               # the base scenario reference (a name or a path)
MAX_DESIGN_ROWS = 10_000_000  # rows of a saltelli/morris sample (as --runs)
DESIGN_METHODS = ("saltelli", "morris")
MORRIS_LEVELS = 4             # as model.sensitivity, whose analysis is reused


class SweepParam(BaseModel):
    """One swept parameter: ``values``, or ``low``/``high`` (+ ``steps`` on a grid)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    values: list[float] | None = Field(None, min_length=1, max_length=MAX_VALUES)
    low: float | None = None
    high: float | None = None
    steps: int | None = Field(None, ge=1, le=MAX_VALUES)


class Sweep(BaseModel):
    """A sweep file, validated."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    scenario: str = Field(min_length=1, max_length=MAX_REF)
    method: Literal["grid", "lhs", "saltelli", "morris"] = "grid"
    points: int | None = Field(None, ge=1, le=MAX_POINTS)
    lhs_seed: int = Field(0, ge=0, le=2**63 - 1)
    sample_seed: int = Field(0, ge=0, le=2**32 - 1)
    streams: Literal["block", "row"] | None = None
    runs: int | None = Field(None, ge=1, le=10_000_000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    horizon: int | None = Field(None, ge=1, le=600)
    params: dict[str, SweepParam] = Field(min_length=1)

    @property
    def is_design(self) -> bool:
        """Saltelli/Morris: one design point (a run per sample row), not sweep points."""
        return self.method in DESIGN_METHODS

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each swept parameter's (low, high): as given, else the parameter's whole range."""
        specs = registry()
        return {name: (specs[name].low if p.low is None else float(p.low),
                       specs[name].high if p.high is None else float(p.high)) for name, p in self.params.items()}

    def salib_problem(self) -> dict[str, Any]:
        """The SALib problem: the swept parameters over their sweep ranges."""
        b = self.bounds()
        return {"num_vars": len(b), "names": list(b), "bounds": [list(v) for v in b.values()]}

    def design_table(self):
        """``saltelli``/``morris``: SALib's sample as a design table (DataFrame, one row
        per run, one column per swept parameter); the same rows every time."""
        import pandas as pd
        from SALib.sample import morris, sobol

        prob = self.salib_problem()
        if self.method == "saltelli":
            x = sobol.sample(prob, int(self.points), calc_second_order=False, seed=self.sample_seed)
        elif self.method == "morris":
            x = morris.sample(prob, int(self.points), num_levels=MORRIS_LEVELS, seed=self.sample_seed)
        else:
            raise DialogueError(f"method = \"{self.method}\" makes sweep points, not a design")
        return pd.DataFrame(x, columns=prob["names"])

    @property
    def stream_block(self) -> int:
        """Rows that share one random stream: a Saltelli block (A, AB_1..AB_D, B) or a
        Morris trajectory with ``streams = "block"`` (the default), so a row differs
        from its block's others by its parameters, not by chance; 0 for one stream per
        row (``streams = "row"``, exactly ``simulate(scenario, design=sample)``)."""
        if not self.is_design or self.streams == "row":
            return 0
        return len(self.params) + (2 if self.method == "saltelli" else 1)

    def design_rows(self) -> int:
        """Rows (runs) of the saltelli/morris sample, without drawing it."""
        d = len(self.params)
        return int(self.points) * (d + 2 if self.method == "saltelli" else d + 1)

    def point_values(self) -> list[dict[str, float]]:
        """Every point of the sweep as ``{parameter: value}``, in a fixed order (a
        saltelli/morris sweep is one point, with no swept values: its design varies)."""
        specs = registry()
        if self.is_design:
            return [{}]
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
        section = section if len(section) <= 60 else f"{section[:57]}..."
        return f"unknown key {clip(loc[-1])} in {section}{suggest(loc[-1][:200], parent)}"
    if kind == "missing":
        return f"'{where}' is missing"
    if kind in ("greater_than_equal", "less_than_equal", "too_short", "too_long", "string_too_short",
                "string_too_long"):
        ctx = err.get("ctx", {})
        bound = {"greater_than_equal": f"at least {ctx.get('ge')}", "less_than_equal": f"at most {ctx.get('le')}",
                 "too_short": "not empty", "string_too_short": "not empty",
                 "too_long": f"at most {ctx.get('max_length')} long",
                 "string_too_long": f"at most {ctx.get('max_length')} characters long"}[kind]
        return f"{where} = {clip(got)} is out of range; it must be {bound}"
    if kind == "literal_error":
        if loc == ["streams"]:
            return f"streams = {clip(got)}: use \"block\" (rows of a block share chance) or \"row\""
        return f"{where} = {clip(got)}: use \"grid\", \"lhs\", \"saltelli\" or \"morris\""
    return f"{where} must be {wanted(err).removeprefix('must be ').split(', got ')[0]}, got {clip(got)} " \
           f"({type(got).__name__})"


def parse_sweep(raw: dict[str, Any], where: str = "sweep") -> Sweep:
    """Validate a sweep document (a dict as from TOML)."""
    if not isinstance(raw, dict):
        raise DialogueError(f"{where}: a sweep must be a table of keys, got {type(raw).__name__}")
    if nesting_depth(raw) > MAX_SWEEP_DEPTH:
        raise DialogueError(f"{where}: tables or arrays nested too deeply; a sweep allows at most "
                            f"{MAX_SWEEP_DEPTH} levels")
    try:
        sw = Sweep.model_validate(raw)
    except ValidationError as exc:
        raise DialogueError(f"{where}: {_explain(exc)}") from None
    specs = registry()
    for name, p in sw.params.items():
        if name not in specs:
            raise DialogueError(f"{where}: unknown parameter {clip(name)} in [params]{suggest(name[:200], specs)}; "
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
                what = "a Latin hypercube" if sw.method == "lhs" else f"a {sw.method} sample"
                raise DialogueError(f"{where}: [{key}] {what} samples between low and high; "
                                    "remove 'values'/'steps' (or use method = \"grid\")")
        vals = list(p.values or []) + [v for v in (p.low, p.high) if v is not None]
        for v in vals:
            if not spec.low <= v <= spec.high:
                raise DialogueError(f"{where}: {key} value {number(v)} is outside the parameter's range; "
                                    f"it must be between {spec.low:g} and {spec.high:g} ({spec.units})")
        if p.low is not None and p.high is not None and p.low > p.high:
            raise DialogueError(f"{where}: [{key}] low = {p.low:g} is above high = {p.high:g} "
                                f"(the parameter's range is {rng})")
    if sw.method == "lhs" and sw.points is None:
        raise DialogueError(f"{where}: method = \"lhs\" needs 'points = N' (how many sweep points)")
    if sw.is_design:
        _check_design_sweep(sw, where)
    else:
        for key in ("sample_seed", "streams"):
            if key in raw:
                raise DialogueError(f"{where}: '{key}' is for method = \"saltelli\" or \"morris\" (this sweep is "
                                    f"{sw.method})")
    if sw.method == "grid" and sw.points is not None:
        raise DialogueError(f"{where}: 'points' is for method = \"lhs\"; a grid's points are its values")
    if sw.method == "grid":
        n = 1
        for p in sw.params.values():
            n *= len(p.values) if p.values is not None else p.steps
        if n > MAX_POINTS:
            raise DialogueError(f"{where}: the grid has {n:,} points; at most {MAX_POINTS:,} are allowed")
    return sw


def _check_design_sweep(sw: Sweep, where: str) -> None:
    """The extra rules of a saltelli/morris sweep (one line each)."""
    m = sw.method
    if sw.points is None:
        what = "the base sample size N, a power of two" if m == "saltelli" else "the number of trajectories r"
        raise DialogueError(f"{where}: method = \"{m}\" needs 'points = N' ({what}; rows = "
                            f"N x {'(parameters + 2)' if m == 'saltelli' else '(parameters + 1)'})")
    n = int(sw.points)
    if m == "saltelli" and n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise DialogueError(f"{where}: points = {n} is not a power of two, which Saltelli's Sobol' sequence "
                            f"needs; use {lo} or {2 * lo}")
    if m == "morris" and n < 2:
        raise DialogueError(f"{where}: points = {n}: Morris needs at least 2 trajectories (10 to 50 is usual)")
    if sw.lhs_seed:
        raise DialogueError(f"{where}: 'lhs_seed' is for method = \"lhs\"; a {m} sample uses 'sample_seed'")
    if sw.runs is not None:
        raise DialogueError(f"{where}: 'runs' does not apply to method = \"{m}\": the sample runs once per row "
                            f"({sw.design_rows():,} rows); remove it and set the rows with 'points'")
    for name, (lo, hi) in sw.bounds().items():
        if not lo < hi:
            raise DialogueError(f"{where}: [params.{name}] low and high are both {lo:g}; a {m} sample needs "
                                "low below high")
    if sw.design_rows() > MAX_DESIGN_ROWS:
        raise DialogueError(f"{where}: points = {n} gives {sw.design_rows():,} rows; at most "
                            f"{MAX_DESIGN_ROWS:,} are allowed")


def load_sweep(path: str | Path) -> tuple[Sweep, Path]:
    """Read and validate a sweep file; returns the sweep and its resolved path."""
    p = Path(path)
    if len(str(p)) > 4096:
        raise DialogueError(f"sweep file {clip(str(p))}: the path is too long (at most 4096 characters)")
    try:
        if p.is_dir():
            raise DialogueError(f"{p} is a folder, not a sweep file")
        size = p.stat().st_size
        if size > MAX_SWEEP_BYTES:
            raise DialogueError(f"{p}: sweep file is {size:,} bytes; the limit is {MAX_SWEEP_BYTES:,}")
        text = p.read_bytes().decode("utf-8-sig")  # -sig: a byte-order mark is accepted
    except FileNotFoundError:
        raise DialogueError(f"sweep file {p} not found") from None
    except UnicodeDecodeError:
        raise DialogueError(f"{p}: not UTF-8 text; save the sweep file as UTF-8") from None
    except OSError as exc:
        raise DialogueError(f"{p}: cannot read sweep file ({exc.strerror or exc.__class__.__name__})") from None
    sw = parse_sweep(parse_toml(text, str(p)), str(p))
    if sw.name is None:
        sw = sw.model_copy(update={"name": p.stem})
    return sw, p.resolve()


def parse_toml(text: str, where: str = "sweep") -> dict[str, Any]:
    """Sweep TOML text to a dict, within the size and nesting limits."""
    if len(text) > MAX_SWEEP_BYTES:
        raise DialogueError(f"{where}: sweep is {len(text):,} characters; the limit is {MAX_SWEEP_BYTES:,} bytes")
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise DialogueError(f"{where}: malformed TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise DialogueError(f"{where}: tables or arrays nested too deeply; a sweep allows at most "
                            f"{MAX_SWEEP_DEPTH} levels") from None
    return raw


def is_sweep_file(path: str | Path) -> bool:
    """Whether a TOML file is a sweep (has a top-level ``scenario`` or ``method`` key)
    rather than a scenario (which uses ``extends``)."""
    p = Path(path)
    try:
        if p.suffix != ".toml" or not p.is_file() or p.stat().st_size > MAX_SWEEP_BYTES:
            return False
        text = p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):  # incl. a name too long: not a readable sweep
        return False
    return re.search(r"^\s*(scenario|method)\s*=", text, flags=re.MULTILINE) is not None
