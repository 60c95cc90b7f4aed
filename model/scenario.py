"""Scenarios: validated, inheritable TOML files of assumptions.

A scenario file has these sections, all optional::

    name = "crackdown"
    description = "What the scenario asks."
    extends = "baseline"           # a shipped name or a path relative to this file

    [run]        runs, seed, horizon (months)
    [initial]    start month and starting state (see :class:`Initial`)
    [calendar]   first 2+2 meeting, meeting interval, elections
    [params]     name = value, or name = {value = .., dist = .., spread = ..}
    [[shocks]]   dated one-off events: kind, month (or a window to until), size (docs/shocks.md)

Files are validated one by one (so an error names the file it is in), then
merged parent-first (a child's ``[[shocks]]`` are appended to its parent's).
Every problem raises :class:`DialogueError` with one line naming the file, the
key and the fix.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import tomli_w
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from model.errors import DialogueError
from model.params import DIST_KINDS, DistKind, ParamSpec, registry
from model.shocks import KINDS as SHOCK_KINDS
from model.shocks import UNITS as SHOCK_UNITS
from model.shocks import label as shock_label
from model.shocks import schedule_problem, size_problem
from model.validation import (
    BOUND_TOLERANCE,
    MAX_DEPTH,
    MAX_DESCRIPTION_CHARS,
    MAX_ELECTIONS,
    MAX_FILE_BYTES,
    MAX_HORIZON,
    MAX_MONTH,
    MAX_NAME_CHARS,
    MAX_PATH_PART_CHARS,
    MAX_REF_CHARS,
    MAX_RUNS,
    MAX_SHOCK_NOTE_CHARS,
    MAX_SHOCKS,
    MIN_HORIZON,
    MIN_MONTH,
    MIN_RUNS,
    YEAR_MONTH,
    bound_words,
    clip,
    field_bounds,
    nesting_depth,
    pick_error,
    shorten,
    suggest,
    wanted,
)


def _month_in_range(value: str) -> str:
    # YYYY-MM strings sort as months do, so plain comparison is enough.
    if not MIN_MONTH <= value <= MAX_MONTH:
        raise PydanticCustomError("month_range", "month outside the supported range")
    return value


# A calendar month, YYYY-MM, within the supported range (see model.validation).
Month = Annotated[str, Field(pattern=YEAR_MONTH), AfterValidator(_month_in_range)]


def _shipped_dir() -> Path:
    """Where the shipped scenarios are: $DIALOGUE_SCENARIOS if set, else inside the
    installed package (a wheel holds them as model/scenarios), else the checkout's
    top-level scenarios/ (an editable install, or a source tree on sys.path)."""
    if os.environ.get("DIALOGUE_SCENARIOS"):
        return Path(os.environ["DIALOGUE_SCENARIOS"])
    here = Path(__file__).resolve().parent
    return here / "scenarios" if (here / "scenarios").is_dir() else here.parent / "scenarios"


SHIPPED_DIR = _shipped_dir()


def no_shipped_hint() -> str:
    """Why no shipped scenario was found, and the fix (for one-line errors)."""
    if os.environ.get("DIALOGUE_SCENARIOS"):
        return (f"DIALOGUE_SCENARIOS={SHIPPED_DIR} holds no scenario .toml files; point it at a folder "
                "that does, or unset it to use the shipped scenarios")
    return (f"no shipped scenarios in {SHIPPED_DIR}: the installation is incomplete; reinstall it "
            "(pip install . or pip install -e . in the source folder)")


_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class RunSettings(BaseModel):
    """Monte Carlo settings; ``simulate`` arguments override them."""

    model_config = _STRICT
    runs: int = Field(2000, ge=MIN_RUNS, le=MAX_RUNS, title="Monte Carlo runs", description="futures simulated")
    seed: int = Field(20130313, ge=0, le=2**63 - 1, title="Seed", description="random seed")
    horizon: int = Field(60, ge=MIN_HORIZON, le=MAX_HORIZON, title="Horizon", description="months simulated")


class Initial(BaseModel):
    """The state of the world in the start month (defaults: March 2013)."""

    model_config = _STRICT
    start: Month = Field("2013-03", title="Start month", description="YYYY-MM")
    relations: float = Field(1.0, ge=-10, le=10, title="Relations index",
                             description="Goldstein points; 1.0 is 'cool' with a dialogue just agreed")
    protest: float = Field(0.12, ge=0, le=1, title="Protest", description="share of public mobilised")
    grievance: float = Field(0.35, ge=0, le=1, title="Discontent", description="share of public disaffected")
    repression: float = Field(0.55, ge=0, le=1, title="Repression", description="index 0-1")
    syria_divergence: float = Field(0.8, ge=0, le=1, title="Syria divergence", description="index 0-1")
    exports_gbp_m: float = Field(417.0, gt=0, le=100_000, title="Monthly exports",
                                 description="GBP million; 2012 average grown to March 2013")
    export_growth: float = Field(0.064, gt=-1, le=1, title="Recent export growth",
                                 description="per year; +6.4% in 2012 (ONS)")
    us_russia: float = Field(0.2, ge=-1, le=1, title="US-Russia relations", description="index -1 to 1")
    pressure: float = Field(0.3, ge=0, le=50, title="UK escalation pressure",
                            description="pressure points left by the 2012 incidents")
    ladder: int = Field(0, ge=0, le=3, title="UK response rung",
                        description="0 none, 1 note, 2 dialogue suspended, 3 expulsions")
    sanctions: bool = Field(False, title="EU sanctions in force", description="true or false")


class Election(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    date: Month


DEFAULT_ELECTIONS = (
    Election(name="Moscow City Duma", date="2014-09"),
    Election(name="State Duma", date="2016-09"),
    Election(name="Presidential", date="2018-03"),
)


class Calendar(BaseModel):
    """Scheduled events. Elections are flashpoints; meetings alternate venues."""

    model_config = _STRICT
    first_meeting: Month = Field("2013-03", title="First 2+2 meeting")
    meeting_interval: int = Field(12, ge=1, le=60, title="Months between 2+2 meetings")
    campaign_months: int = Field(3, ge=1, le=12, title="Campaign length",
                                 description="months of mobilisation ending with the election month")
    elections: list[Election] = Field(default_factory=lambda: list(DEFAULT_ELECTIONS), max_length=MAX_ELECTIONS)


def _shock_kind(value: str) -> str:
    if value not in SHOCK_KINDS:
        raise PydanticCustomError("shock_kind", "not a shock kind")
    return value


class Shock(BaseModel):
    """A dated one-off event (docs/shocks.md): a ``[[shocks]]`` entry."""

    model_config = _STRICT
    kind: Annotated[str, AfterValidator(_shock_kind)] = Field(
        title="Kind", description="what happens: " + ", ".join(SHOCK_KINDS))
    month: Month = Field(title="Month", description="YYYY-MM; with until, the first month of the window")
    until: Month | None = Field(None, title="Window end", description=(
        "YYYY-MM, optional: the last month of a window; each run draws its own month uniformly in it"))
    size: float | None = Field(None, ge=0, title="Size", description=(
        "optional, in the kind's units; left out, the model draws it. "
        + "; ".join(f"{k}: {u}" for k, u in SHOCK_UNITS.items() if u)
        + "; no_formula takes no size"))
    note: str | None = Field(None, max_length=MAX_SHOCK_NOTE_CHARS, title="Note",
                             description="free text, shown as plain text")

    @model_validator(mode="after")
    def _consistent(self) -> Shock:
        if self.until is not None and self.until < self.month:
            raise PydanticCustomError("shock", "until = {until} is before month = {month}; the window must "
                                      "end in or after its first month", {"until": self.until, "month": self.month})
        problem = size_problem(self.kind, self.size)
        if problem:
            raise PydanticCustomError("shock", "{problem}", {"problem": problem})
        return self


class ParamSetting(BaseModel):
    model_config = _STRICT
    value: float
    dist: DistKind
    spread: float = Field(ge=0)


class _ParamEntry(BaseModel):
    """A ``[params]`` entry written as a table; any field may be left out."""

    model_config = _STRICT
    value: float | None = None
    dist: DistKind | None = None
    spread: float | None = Field(None, ge=0)


class _File(BaseModel):
    """One scenario file as written (before inheritance)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    description: str | None = Field(None, max_length=MAX_DESCRIPTION_CHARS)
    extends: str | None = Field(None, min_length=1, max_length=MAX_REF_CHARS)
    run: RunSettings | None = None
    initial: Initial | None = None
    calendar: Calendar | None = None
    params: dict[str, float | _ParamEntry] = {}
    shocks: list[Shock] = Field(default_factory=list, max_length=MAX_SHOCKS)


class Scenario(BaseModel):
    """A fully resolved scenario: every parameter has a value, dist and spread."""

    model_config = ConfigDict(frozen=True)
    name: str
    description: str = ""
    run: RunSettings = RunSettings()
    initial: Initial = Initial()
    calendar: Calendar = Calendar()
    params: dict[str, ParamSetting]
    shocks: tuple[Shock, ...] = ()  # parent's first, then the child's (docs/shocks.md)
    source: str = ""
    # Overrides applied since loading ("repression=0.8"), so results can say what changed.
    changes: tuple[str, ...] = ()

    def value(self, name: str) -> float:
        return self.params[name].value

    @property
    def label(self) -> str:
        """The name plus any overrides, e.g. ``baseline + repression=0.8``."""
        return f"{self.name} + {', '.join(self.changes)}" if self.changes else self.name

    def to_toml(self) -> str:
        """The resolved scenario as TOML: loading it gives this scenario back."""
        doc: dict[str, Any] = {"name": self.name, "description": self.description,
                               "run": self.run.model_dump(), "initial": self.initial.model_dump(),
                               "calendar": self.calendar.model_dump()}
        doc["params"] = {n: s.model_dump() for n, s in self.params.items()}
        if self.shocks:  # left out when empty, so a scenario without shocks hashes as before
            doc["shocks"] = [s.model_dump(exclude_none=True) for s in self.shocks]
        return tomli_w.dumps(doc)

    def with_overrides(self, overrides: dict[str, Any] | None) -> Scenario:
        """A copy with overrides applied and validated.

        Keys: a parameter name (sets its value), ``name.dist`` or ``name.spread``,
        ``initial.<field>``, ``calendar.<field>`` or ``run.<field>``.
        """
        if not overrides:
            return self
        data = self.model_dump()
        changes = dict(c.split("=", 1) for c in self.changes)
        for key, val in overrides.items():
            if isinstance(val, (dict, list)) and nesting_depth(val) > MAX_DEPTH:
                raise DialogueError(f"override {key}: nested too deeply; at most {MAX_DEPTH} levels")
            section, _, field = key.partition(".")
            if section != "run":  # run settings say how much to simulate, not what is assumed
                changes.pop(key, None)
                changes[key.removesuffix(".value")] = _show(val)
            if section in ("initial", "calendar", "run") and field:
                model = {"initial": Initial, "calendar": Calendar, "run": RunSettings}[section]
                if field not in model.model_fields:
                    raise DialogueError(f"unknown setting '{key}'{suggest(field, model.model_fields, section + '.')}")
                data[section][field] = val
                continue
            name, attr = section, field or "value"
            specs = registry()
            if name not in specs:
                raise DialogueError(f"unknown parameter '{name}'{suggest(name, specs)}")
            if attr not in ("value", "dist", "spread"):
                raise DialogueError(f"unknown field '{key}': use {name}, {name}.dist or {name}.spread")
            data["params"][name][attr] = val
        try:
            sections = {k: data[k] for k in ("run", "initial", "calendar")}
            checked = _File.model_validate(sections | {"params": data["params"]})
        except ValidationError as exc:
            raise DialogueError(f"override: {_explain(exc)}") from None
        params = {n: _check_param(specs_get(n), _as_setting(e), "override") for n, e in checked.params.items()}
        # Shocks stay as they are, but a new start or horizon may leave one outside the simulated months.
        problem = schedule_problem(self.shocks, checked.initial.start, checked.run.horizon)
        if problem:
            raise DialogueError(f"{self.source or 'override'}: {problem}")
        return self.model_copy(update={
            "run": checked.run, "initial": checked.initial, "calendar": checked.calendar,
            "params": params, "source": self.source,
            "changes": tuple(f"{k}={v}" for k, v in changes.items())})

    def with_shocks(self, shocks: list[Shock | dict[str, Any]], where: str = "added shock") -> Scenario:
        """A copy with ``shocks`` appended to its own (as a child file's would be), checked."""
        if not shocks:
            return self
        extra = []
        for i, s in enumerate(shocks, start=len(self.shocks)):
            try:
                extra.append(s if isinstance(s, Shock) else Shock.model_validate(s))
            except ValidationError as exc:
                raise DialogueError(f"{where}: {_explain(exc, ('shocks', i))}") from None
        out = (*self.shocks, *extra)
        if len(out) > MAX_SHOCKS:
            raise DialogueError(f"{where}: {len(out)} shocks in all; a scenario may hold at most {MAX_SHOCKS}")
        problem = schedule_problem(out, self.initial.start, self.run.horizon)
        if problem:
            raise DialogueError(f"{where}: {problem}")
        added = [f"shocks[{len(self.shocks) + i}]={shock_label(s)}" for i, s in enumerate(extra)]
        return self.model_copy(update={"shocks": out, "changes": (*self.changes, *added)})


def _show(value: Any) -> str:
    """An override value as a label shows it: 0.8, true, 2014-01."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)[:40]


def specs_get(name: str) -> ParamSpec:
    return registry()[name]


def _as_setting(entry: float | _ParamEntry) -> dict[str, Any]:
    if isinstance(entry, _ParamEntry):
        return entry.model_dump(exclude_none=True)
    return {"value": entry}


def _explain(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> str:
    """One line from the first pydantic error, with bounds and suggestions. ``prefix``:
    where the validated model sits in a scenario, e.g. ``("shocks", 3)``."""
    err = pick_error(exc)
    loc = [shorten(str(x), 40) for x in (*prefix, *err["loc"])
           if not str(x).startswith(("float", "_ParamEntry", "function"))]
    where = _loc_text(loc)
    kind, got = err["type"], err.get("input")
    if kind == "extra_forbidden":
        in_shock = loc[0] == "shocks" and len(loc) == 3
        parent_fields = Shock.model_fields if in_shock else _fields_at(loc[:-1])
        section = _loc_text(loc[:-1]) or "the top level"
        return f"unknown key {clip(loc[-1])} in [{section}]{suggest(loc[-1], parent_fields)}"
    if loc == ["shocks"] and kind == "list_type":
        return f"shocks must be a list of tables, got {clip(got)}; write each shock under its own [[shocks]] header"
    if kind == "shock_kind":
        return (f"{where} = {clip(got)} is not a kind of shock; use one of {', '.join(SHOCK_KINDS)}"
                f"{suggest(str(got), SHOCK_KINDS)}")
    if kind == "shock":  # a check across a shock's fields: name it by kind and month
        named = isinstance(got, dict) and all(isinstance(got.get(k), str) for k in ("kind", "month"))
        shown = f" ({got['kind']} {got['month']})" if named else ""
        return f"{where}{shown}: {err['msg']}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        info = _field_at(loc)
        words = bound_words(*field_bounds(info.metadata)) if info is not None else bound_words(
            *[err.get("ctx", {}).get(k) for k in ("ge", "le")])
        return f"{where} = {clip(got)} is out of range; it must be {words}"
    if kind == "month_range":
        return f"{where} = {clip(got)} is outside the supported range; use a month from {MIN_MONTH} to {MAX_MONTH}"
    if kind == "string_too_long":
        return f"{where} is too long ({len(got):,} characters); use at most {err['ctx']['max_length']}"
    if kind == "string_too_short":
        return f"{where} is empty; write some text or leave the key out"
    if kind == "too_long":
        return f"{where} has too many entries; use at most {err['ctx']['max_length']}"
    if kind == "string_pattern_mismatch":
        return f"{where} = {clip(got)} is not a month; write it as YYYY-MM, e.g. \"2013-03\""
    if kind == "literal_error":
        return f"{where} = {clip(got)} is not a distribution; use one of {', '.join(DIST_KINDS)}"
    if kind == "missing":
        return f"{where} is missing"
    return f"{where} {wanted(err)}"


def _loc_text(loc: list[str]) -> str:
    """An error location as a scenario author reads it: ``shocks[2].size``, ``calendar.first_meeting``."""
    if len(loc) > 1 and loc[0] == "shocks" and loc[1].isdigit():
        return ".".join([f"shocks[{loc[1]}]", *loc[2:]])
    return ".".join(loc)


def _fields_at(loc: list[str]):
    model: Any = _File
    for part in loc:
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return registry() if part == "params" or model is dict else []
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if hasattr(a, "model_fields")), dict)
        if part == "params":
            return _ParamEntry.model_fields if len(loc) > 1 else registry()
    return model.model_fields if hasattr(model, "model_fields") else []


def _field_at(loc: list[str]) -> Any:
    """The pydantic field an error location points into (for its bounds), or None."""
    model: Any = _File
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is not None:
            info = fields.get(part)
            if info is None:
                return None
            model = info.annotation
        elif get_origin(model) in (list, dict):
            model = get_args(model)[-1]  # a list item or a table's value
        else:
            return info
        if get_origin(model) in (Union, UnionType):  # X | None, float | _ParamEntry: the table member
            args = [a for a in get_args(model) if a is not type(None)]
            model = next((a for a in args if hasattr(a, "model_fields")), args[0])
    return info


def _check_param(spec: ParamSpec, entry: dict[str, Any], where: str) -> ParamSetting:
    value = entry.get("value", spec.default)
    dist = entry.get("dist", spec.dist)
    spread = entry.get("spread", spec.spread if dist == spec.dist else _default_spread(spec))
    # Within a few ulps of a bound is the bound (samplers overshoot by rounding).
    slack = BOUND_TOLERANCE * (spec.high - spec.low)
    if spec.low - slack <= value <= spec.high + slack:
        value = min(max(value, spec.low), spec.high)
    else:
        raise DialogueError(f"{where}: params.{spec.name} = {value:g} is out of range; "
                            f"it must be between {spec.low:g} and {spec.high:g} ({spec.units})")
    if spread > spec.high - spec.low:
        raise DialogueError(f"{where}: params.{spec.name}.spread = {spread:g} is wider than the "
                            f"whole range; use at most {spec.high - spec.low:g}")
    return ParamSetting(value=float(value), dist=dist, spread=float(spread))


def _default_spread(spec: ParamSpec) -> float:
    """Spread used when a file switches a fixed parameter to a random one."""
    return spec.spread or (spec.high - spec.low) / 10


# ---------------------------------------------------------------- loading


def shipped() -> dict[str, Path]:
    """Shipped scenarios by name, baseline first."""
    files = sorted(SHIPPED_DIR.glob("*.toml"), key=lambda p: (p.stem != "baseline", p.stem))
    return {p.stem: p for p in files}


def resolve_path(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario reference (path or shipped name) to an existing file."""
    ref = str(ref)
    candidates = []
    if relative_to is not None:
        candidates += [relative_to / ref, relative_to / f"{ref}.toml"]
    candidates += [Path(ref)]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    if ref in shipped():
        return shipped()[ref].resolve()
    if Path(ref).is_dir():
        raise DialogueError(f"{ref} is a folder, not a scenario file")
    if not shipped():
        raise DialogueError(f"scenario '{ref}' not found: no such file, and {no_shipped_hint()}")
    raise DialogueError(f"scenario '{ref}' not found: no such file, and no shipped scenario of "
                        f"that name (shipped: {', '.join(shipped())}){suggest(ref, shipped())}")


def _read(path: Path) -> _File:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DialogueError(f"{path}: scenario file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        text = path.read_bytes().decode("utf-8-sig")  # -sig: a byte-order mark is accepted
    except OSError as exc:
        raise DialogueError(f"{path}: cannot read scenario file ({exc.strerror or exc.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise DialogueError(f"{path}: not UTF-8 text; save the scenario file as UTF-8") from None
    return parse(_parse_toml(text, str(path)), str(path))


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    """TOML text to a dict, within the size and nesting limits (docs/limits.md)."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise DialogueError(f"{where}: scenario is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors write
    deep = f"{where}: tables or arrays nested too deeply; a scenario needs at most {MAX_DEPTH} levels"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DialogueError(f"{where}: malformed TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise DialogueError(deep) from None
    if nesting_depth(raw) > MAX_DEPTH:
        raise DialogueError(deep)
    return raw


def parse(raw: dict[str, Any], where: str = "scenario") -> _File:
    """Validate one scenario document (a dict as from TOML), before inheritance."""
    if nesting_depth(raw) > MAX_DEPTH:
        raise DialogueError(f"{where}: tables or arrays nested too deeply; a scenario needs at most {MAX_DEPTH} levels")
    try:
        f = _File.model_validate(raw)
    except ValidationError as exc:
        raise DialogueError(f"{where}: {_explain(exc)}") from None
    specs = registry()
    for name, entry in f.params.items():
        if name not in specs:
            raise DialogueError(f"{where}: unknown parameter {clip(name)} in [params]{suggest(name, specs)}")
        _check_param(specs[name], _as_setting(entry), where)
    return f


def _merge(files: list[tuple[_File, Path]]) -> dict[str, Any]:
    """Merge files parent-first; only keys a file actually sets override."""
    out: dict[str, Any] = {"run": {}, "initial": {}, "calendar": {}, "params": {}, "shocks": []}
    for f, path in files:
        # A child's shocks join its parent's; each remembers its file, for messages.
        out["shocks"] += [(sh, path, i) for i, sh in enumerate(f.shocks)]
        for section in ("run", "initial", "calendar"):
            sub = getattr(f, section)
            if sub is not None:
                out[section].update(sub.model_dump(exclude_unset=True))
        for name, entry in f.params.items():
            out["params"].setdefault(name, {}).update(_as_setting(entry))
        for key in ("name", "description"):
            if getattr(f, key) is not None:
                out[key] = getattr(f, key)
    return out


def _check_ref(ref: str, where: str = "scenario") -> None:
    """Refuse a reference no file system would take, before it reaches one."""
    if len(ref) > MAX_REF_CHARS:
        raise DialogueError(f"{where} reference is too long ({len(ref):,} characters); "
                            f"use a shipped name or a path of at most {MAX_REF_CHARS}")
    if "\x00" in ref:
        raise DialogueError(f"{where} reference {clip(ref)} contains a NUL character")
    longest = max((len(part) for part in ref.replace("\\", "/").split("/")), default=0)
    if longest > MAX_PATH_PART_CHARS:
        raise DialogueError(f"{where} reference {clip(ref)}: a file or folder name in it has {longest:,} "
                            f"characters; the limit is {MAX_PATH_PART_CHARS}")


def _resolve(ref: str | Path, relative_to: Path | None = None) -> Path:
    _check_ref(str(ref))
    try:
        return resolve_path(ref, relative_to)
    except OSError as exc:
        raise DialogueError(f"scenario {clip(str(ref))} cannot be opened ({exc.strerror or exc.__class__.__name__})") \
            from None


def _chain(f: _File, path: Path, where: str, upload: bool = False) -> list[tuple[_File, Path]]:
    """The file and its ancestors, parent-first. An upload may extend only a shipped
    scenario, by name: it must not reach files on the server."""
    chain: list[tuple[_File, Path]] = [(f, path)]
    seen = [path]
    while f.extends is not None:
        if upload and len(chain) == 1:
            names = shipped()
            if f.extends not in names:
                # The same words whether or not such a file exists: an upload must not probe the server.
                raise DialogueError(f"{where}: extends = {clip(f.extends)} is not allowed; an uploaded scenario "
                                    f"may extend only a shipped scenario by name ({', '.join(names) or 'none'})")
            path = names[f.extends].resolve()
        else:
            path = _resolve(f.extends, relative_to=path.parent)
        if path in seen:
            cycle = " -> ".join(p.stem for p in [*seen, path])
            raise DialogueError(f"extends cycle: {cycle}; remove one of these 'extends' lines")
        seen.append(path)
        f = _read(path)
        chain.append((f, path))
    chain.reverse()
    return chain


def _build(chain: list[tuple[_File, Path]], where: str, default_name: str, source: str) -> Scenario:
    merged = _merge(chain)
    specs = registry()
    params = {n: _check_param(s, merged["params"].get(n, {}), where) for n, s in specs.items()}
    calendar = merged["calendar"]
    if "first_meeting" not in calendar:
        calendar = calendar | {"first_meeting": merged["initial"].get("start", "2013-03")}
    try:
        sc = Scenario(name=merged.get("name", default_name), description=merged.get("description", ""),
                      run=RunSettings(**merged["run"]), initial=Initial(**merged["initial"]),
                      calendar=Calendar(**calendar), params=params, source=source,
                      shocks=tuple(sh for sh, _, _ in merged["shocks"]))
    except ValidationError as exc:
        raise DialogueError(f"{where}: {_explain(exc)}") from None
    if len(sc.shocks) > MAX_SHOCKS:
        raise DialogueError(f"{where}: {len(sc.shocks)} shocks with those inherited through extends; "
                            f"a scenario may hold at most {MAX_SHOCKS}")
    own = chain[-1][1]
    names = [f"shocks[{i}]" if path == own else f"shocks[{i}] of {path.name}" for _, path, i in merged["shocks"]]
    problem = schedule_problem(sc.shocks, sc.initial.start, sc.run.horizon, names)
    if problem:
        raise DialogueError(f"{where}: {problem}")
    return sc


def load_scenario(ref: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario by shipped name or path, resolve ``extends`` and validate.

    >>> load_scenario("baseline").value("repression")
    0.6
    """
    path = _resolve(ref)
    chain = _chain(_read(path), path, str(path))
    return _build(chain, str(path), path.stem, str(path)).with_overrides(overrides)


def load_scenario_text(text: str, name: str = "uploaded") -> Scenario:
    """Validate a scenario given as TOML text (e.g. an upload). ``extends`` may name
    only a shipped scenario: an upload cannot read files on the server."""
    where = shorten(str(name), MAX_NAME_CHARS)
    f = parse(_parse_toml(text, where), where)
    stem = Path(where).stem or "uploaded"
    return _build(_chain(f, Path(f"<{where}>"), where, upload=True), where, stem, where)
