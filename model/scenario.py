"""Scenarios: validated, inheritable TOML files of assumptions.

A scenario file has these sections, all optional::

    name = "crackdown"
    description = "What the scenario asks."
    extends = "baseline"           # a shipped name or a path relative to this file

    [run]        runs, seed, horizon (months)
    [initial]    start month and starting state (see :class:`Initial`)
    [calendar]   first 2+2 meeting, meeting interval, elections
    [params]     name = value, or name = {value = .., dist = .., spread = ..}

Files are validated one by one (so an error names the file it is in), then
merged parent-first. Every problem raises :class:`DialogueError` with one line
naming the file, the key and the fix.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.errors import DialogueError
from model.params import DIST_KINDS, DistKind, ParamSpec, registry
from model.validation import pick_error, suggest, wanted

YEAR_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
SHIPPED_DIR = Path(os.environ.get("DIALOGUE_SCENARIOS",
                                  Path(__file__).resolve().parent.parent / "scenarios"))

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class RunSettings(BaseModel):
    """Monte Carlo settings; ``simulate`` arguments override them."""

    model_config = _STRICT
    runs: int = Field(2000, ge=1, le=10_000_000, title="Monte Carlo runs", description="futures simulated")
    seed: int = Field(20130313, ge=0, le=2**63 - 1, title="Seed", description="random seed")
    horizon: int = Field(60, ge=1, le=600, title="Horizon", description="months simulated")


class Initial(BaseModel):
    """The state of the world in the start month (defaults: March 2013)."""

    model_config = _STRICT
    start: str = Field("2013-03", pattern=YEAR_MONTH, title="Start month", description="YYYY-MM")
    relations: float = Field(1.0, ge=-10, le=10, title="Relations index",
                             description="Goldstein points; 1.0 is 'cool' with a dialogue just agreed")
    protest: float = Field(0.12, ge=0, le=1, title="Protest", description="share of public mobilised")
    grievance: float = Field(0.35, ge=0, le=1, title="Discontent", description="share of public disaffected")
    repression: float = Field(0.55, ge=0, le=1, title="Repression", description="index 0-1")
    syria_divergence: float = Field(0.8, ge=0, le=1, title="Syria divergence", description="index 0-1")
    exports_gbp_m: float = Field(417.0, gt=0, le=100_000, title="Monthly exports",
                                 description="GBP million; 2012 average grown to March 2013")
    export_growth: float = Field(0.064, ge=-1, le=1, title="Recent export growth",
                                 description="per year; +6.4% in 2012 (ONS)")
    us_russia: float = Field(0.2, ge=-1, le=1, title="US-Russia relations", description="index -1 to 1")
    pressure: float = Field(0.3, ge=0, le=50, title="UK escalation pressure",
                            description="pressure points left by the 2012 incidents")
    ladder: int = Field(0, ge=0, le=4, title="UK response rung",
                        description="0 none, 1 note, 2 dialogue suspended, 3 expulsions, 4 sanctions")


class Election(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1)
    date: str = Field(pattern=YEAR_MONTH)


DEFAULT_ELECTIONS = (
    Election(name="Moscow City Duma", date="2014-09"),
    Election(name="State Duma", date="2016-09"),
    Election(name="Presidential", date="2018-03"),
)


class Calendar(BaseModel):
    """Scheduled events. Elections are flashpoints; meetings alternate venues."""

    model_config = _STRICT
    first_meeting: str = Field("2013-03", pattern=YEAR_MONTH, title="First 2+2 meeting")
    meeting_interval: int = Field(12, ge=1, le=60, title="Months between 2+2 meetings")
    campaign_months: int = Field(3, ge=1, le=12, title="Campaign length",
                                 description="months of mobilisation ending with the election month")
    elections: list[Election] = Field(default_factory=lambda: list(DEFAULT_ELECTIONS))


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

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = None
    description: str | None = None
    extends: str | None = None
    run: RunSettings | None = None
    initial: Initial | None = None
    calendar: Calendar | None = None
    params: dict[str, float | _ParamEntry] = {}


class Scenario(BaseModel):
    """A fully resolved scenario: every parameter has a value, dist and spread."""

    model_config = ConfigDict(frozen=True)
    name: str
    description: str = ""
    run: RunSettings = RunSettings()
    initial: Initial = Initial()
    calendar: Calendar = Calendar()
    params: dict[str, ParamSetting]
    source: str = ""

    def value(self, name: str) -> float:
        return self.params[name].value

    def to_toml(self) -> str:
        """The resolved scenario as TOML: loading it gives this scenario back."""
        doc: dict[str, Any] = {"name": self.name, "description": self.description,
                               "run": self.run.model_dump(), "initial": self.initial.model_dump(),
                               "calendar": self.calendar.model_dump()}
        doc["params"] = {n: s.model_dump() for n, s in self.params.items()}
        return tomli_w.dumps(doc)

    def with_overrides(self, overrides: dict[str, Any] | None) -> Scenario:
        """A copy with overrides applied and validated.

        Keys: a parameter name (sets its value), ``name.dist`` or ``name.spread``,
        ``initial.<field>``, ``calendar.<field>`` or ``run.<field>``.
        """
        if not overrides:
            return self
        data = self.model_dump()
        for key, val in overrides.items():
            section, _, field = key.partition(".")
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
        return self.model_copy(update={
            "run": checked.run, "initial": checked.initial, "calendar": checked.calendar,
            "params": params, "source": self.source})


def specs_get(name: str) -> ParamSpec:
    return registry()[name]


def _as_setting(entry: float | _ParamEntry) -> dict[str, Any]:
    if isinstance(entry, _ParamEntry):
        return entry.model_dump(exclude_none=True)
    return {"value": entry}


def _explain(exc: ValidationError) -> str:
    """One line from the first pydantic error, with bounds and suggestions."""
    err = pick_error(exc)
    loc = [str(x) for x in err["loc"] if not str(x).startswith(("float", "_ParamEntry", "function"))]
    where = ".".join(loc)
    kind, got = err["type"], err.get("input")
    if kind == "extra_forbidden":
        parent_fields = _fields_at(loc[:-1])
        section = ".".join(loc[:-1]) or "the top level"
        return f"unknown key '{loc[-1]}' in [{section}]{suggest(loc[-1], parent_fields)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        lo, hi = _bounds_at(loc)
        return f"{where} = {got!r} is out of range; it must be between {lo} and {hi}"
    if kind == "string_pattern_mismatch":
        return f"{where} = {got!r} is not a month; write it as YYYY-MM, e.g. \"2013-03\""
    if kind == "literal_error":
        return f"{where} = {got!r} is not a distribution; use one of {', '.join(DIST_KINDS)}"
    if kind == "missing":
        return f"{where} is missing"
    return f"{where} {wanted(err)}"


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


def _bounds_at(loc: list[str]) -> tuple[Any, Any]:
    sections = {"initial": Initial, "calendar": Calendar, "run": RunSettings}
    if len(loc) >= 2 and loc[0] in sections:
        meta = sections[loc[0]].model_fields[loc[1]].metadata
        lo = next((getattr(m, a) for m in meta for a in ("ge", "gt") if hasattr(m, a)), "-inf")
        hi = next((getattr(m, a) for m in meta for a in ("le", "lt") if hasattr(m, a)), "inf")
        return lo, hi
    return 0, "inf"


def _check_param(spec: ParamSpec, entry: dict[str, Any], where: str) -> ParamSetting:
    value = entry.get("value", spec.default)
    dist = entry.get("dist", spec.dist)
    spread = entry.get("spread", spec.spread if dist == spec.dist else _default_spread(spec))
    if not spec.low <= value <= spec.high:
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
    names = ", ".join(shipped()) or "none"
    raise DialogueError(f"scenario '{ref}' not found: no such file, and no shipped scenario of "
                        f"that name (shipped: {names}){suggest(ref, shipped())}")


def _read(path: Path) -> _File:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(f"{path}: cannot read scenario file ({exc.__class__.__name__}: {exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DialogueError(f"{path}: malformed TOML: {exc}") from None
    return parse(raw, str(path))


def parse(raw: dict[str, Any], where: str = "scenario") -> _File:
    """Validate one scenario document (a dict as from TOML), before inheritance."""
    try:
        f = _File.model_validate(raw)
    except ValidationError as exc:
        raise DialogueError(f"{where}: {_explain(exc)}") from None
    specs = registry()
    for name, entry in f.params.items():
        if name not in specs:
            raise DialogueError(f"{where}: unknown parameter '{name}' in [params]{suggest(name, specs)}")
        _check_param(specs[name], _as_setting(entry), where)
    return f


def _merge(files: list[tuple[_File, Path]]) -> dict[str, Any]:
    """Merge files parent-first; only keys a file actually sets override."""
    out: dict[str, Any] = {"run": {}, "initial": {}, "calendar": {}, "params": {}}
    for f, _ in files:
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


def load_scenario(ref: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario by shipped name or path, resolve ``extends`` and validate.

    >>> load_scenario("baseline").value("repression")
    0.6
    """
    path = resolve_path(ref)
    chain: list[tuple[_File, Path]] = []
    seen: list[Path] = []
    while True:
        if path in seen:
            cycle = " -> ".join(p.stem for p in [*seen, path])
            raise DialogueError(f"extends cycle: {cycle}; remove one of these 'extends' lines")
        seen.append(path)
        f = _read(path)
        chain.append((f, path))
        if f.extends is None:
            break
        path = resolve_path(f.extends, relative_to=path.parent)
    chain.reverse()
    merged = _merge(chain)
    specs = registry()
    params = {n: _check_param(s, merged["params"].get(n, {}), str(seen[0])) for n, s in specs.items()}
    scenario = Scenario(
        name=merged.get("name", seen[0].stem),
        description=merged.get("description", ""),
        run=RunSettings(**merged["run"]),
        initial=Initial(**merged["initial"]),
        calendar=Calendar(**merged["calendar"]) if "first_meeting" in merged["calendar"]
        else Calendar(**(merged["calendar"] | {"first_meeting": merged["initial"].get("start", "2013-03")})),
        params=params,
        source=str(seen[0]),
    )
    return scenario.with_overrides(overrides)


def load_scenario_text(text: str, name: str = "uploaded") -> Scenario:
    """Validate a scenario given as TOML text (e.g. an upload); ``extends`` may name
    a shipped scenario."""
    import tempfile

    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DialogueError(f"{name}: malformed TOML: {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{Path(name).stem or 'uploaded'}.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_scenario(path)
        except DialogueError as exc:
            raise DialogueError(str(exc).replace(str(path), name)) from None

