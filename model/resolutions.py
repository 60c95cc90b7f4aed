"""Resolutions: what happened, as dated facts with sources, to score a forecast against.

A resolutions file is TOML with one ``[[fact]]`` table per fact (see docs/scoring.md)::

    [resolutions]                      # optional
    title = "What happened"
    forecast_start = "2013-03"         # optional: refuse forecasts that start elsewhere

    [[fact]]                           # a number
    id = "exports-2014"
    kind = "number"
    variable = "exports_annual"        # annual sum of the monthly exports_gbp_m
    year = 2014
    value = 3900.0                     # GBP million
    source = "ONS ..."

    [[fact]]                           # an event in a window of months (inclusive)
    kind = "event"
    event = "dialogue_suspended"
    start = "2013-03"
    end = "2014-12"
    happened = false
    source = "..."

    [[fact]]                           # a state in one month
    kind = "state"
    variable = "relations_band"        # or outcome, dialogue_active, sanctions, ladder
    date = "2015-06"
    value = "cool"
    source = "..."

Parsing (:func:`load_resolutions`) checks the file alone; :func:`check_against`
checks it against a forecast (dates inside it, variables present). Every problem is a
one-line :class:`DialogueError` naming the file and the fact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.agents.relations import BANDS
from model.errors import DialogueError
from model.results import OUTCOMES, classify
from model.validation import (
    YEAR_MONTH,
    clip,
    numbered_entries,
    only_sections,
    parse_toml,
    pick_error,
    read_toml_text,
    suggest,
    wanted,
)

MAX_FACTS = 10_000

# Numbers summed over a calendar year (all 12 months must be inside the forecast):
# name -> (results variable, words).
ANNUAL = {
    "exports_annual": ("exports_gbp_m", "UK goods exports to Russia in the year, GBP million"),
    "expulsions_annual": (("expulsions", "russian_expulsions"), "diplomats expelled in the year, both ways"),
    "incidents_annual": ("incidents", "incidents on UK soil in the year"),
}
# Numbers read in one month: results variables of the contract (docs/architecture.md).
MONTHLY = ("relations", "exports_gbp_m", "protest", "grievance", "repression", "threat", "syria_divergence",
           "values_concern", "us_russia", "pressure")
NUMBER_VARIABLES = (*ANNUAL, *MONTHLY)

# Events: name -> (words, results variable, the per-month indicator). An event "happened
# in the window" when its indicator holds in at least one month of the window.
EVENTS: dict[str, tuple[str, str, Any]] = {
    "dialogue_suspended": ("the Strategic Dialogue was suspended", "dialogue_active", lambda v: ~v.astype(bool)),
    "expulsions": ("diplomats were expelled (either side)", ("expulsions", "russian_expulsions"), lambda v: v > 0),
    "sanctions": ("EU sanctions on Russia were in force", "sanctions", lambda v: v.astype(bool)),
    "major_incident": ("a major incident on UK soil", "major_incidents", lambda v: v > 0),
    "incident": ("an incident on UK soil", "incidents", lambda v: v > 0),
    "harassment": ("a harassment campaign against UK diplomats began", "harassment", lambda v: v.astype(bool)),
    "crisis": ("an unforeseen crisis began", "crisis", lambda v: v.astype(bool)),
    "formula": ("a 'formula of words' was found at a 2+2", "formula", lambda v: v.astype(bool)),
    "meeting": ("a 2+2 meeting took place", "meeting", lambda v: v.astype(bool)),
    "rebel_aid": ("the UK armed Syrian rebels", "rebel_aid", lambda v: v.astype(bool)),
}
# States in one month: name -> (words, allowed values).
BAND_NAMES = tuple(b[0] for b in BANDS)
STATES: dict[str, tuple[str, tuple]] = {
    "relations_band": ("named band of the relations index", BAND_NAMES),
    "outcome": ("outcome class (the horizon rules applied in that month)", OUTCOMES),
    "dialogue_active": ("the Strategic Dialogue was active", (True, False)),
    "sanctions": ("EU sanctions on Russia were in force", (True, False)),
    "ladder": ("UK response rung", (0, 1, 2, 3)),
}

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class _Base(BaseModel):
    model_config = _STRICT
    id: str | None = Field(None, min_length=1, max_length=100)
    kind: str
    source: str = Field(min_length=1, max_length=2_000)
    note: str | None = Field(None, max_length=2_000)


class NumberFact(_Base):
    kind: Literal["number"]
    variable: str
    value: float
    year: int | None = Field(None, ge=1900, le=2100)
    date: str | None = Field(None, pattern=YEAR_MONTH)


class EventFact(_Base):
    kind: Literal["event"]
    event: str
    start: str = Field(pattern=YEAR_MONTH)
    end: str = Field(pattern=YEAR_MONTH)
    happened: bool


class StateFact(_Base):
    kind: Literal["state"]
    variable: str
    date: str = Field(pattern=YEAR_MONTH)
    value: str | bool | int


class _Header(BaseModel):
    model_config = _STRICT
    title: str | None = Field(None, max_length=500)
    forecast_start: str | None = Field(None, pattern=YEAR_MONTH)
    note: str | None = Field(None, max_length=5_000)


_MODELS = {"number": NumberFact, "event": EventFact, "state": StateFact}
Fact = NumberFact | EventFact | StateFact


@dataclass(frozen=True)
class Resolutions:
    """A validated resolutions file: its facts in file order, each with an ``id``."""

    facts: tuple[Fact, ...]
    path: str = "resolutions"
    title: str = ""
    forecast_start: str | None = None

    def where(self, i: int) -> str:
        """'FILE: fact 3 ('exports-2014')' for messages."""
        return _where(self.path, i, self.facts[i].id)


def _where(path: str, i: int, fid: str | None) -> str:
    return f"{path}: fact {i + 1}" + (f" ('{fid}')" if fid else "")


def load_resolutions(path: str | Path) -> Resolutions:
    """Read and validate a resolutions TOML file (on its own, without a forecast)."""
    return parse_resolutions(read_toml_text(path, "resolutions"), str(Path(path)))


def parse_resolutions(text: str, name: str = "resolutions") -> Resolutions:
    """Validate resolutions TOML text; ``name`` labels messages."""
    doc = parse_toml(text, name)
    only_sections(doc, name, "resolutions", "fact")
    header = _header(doc.get("resolutions", {}), name)
    out = numbered_entries(doc, name, entry="fact", limit=MAX_FACTS, docs="docs/scoring.md",
                           parse=lambda raw, i: _fact(raw, i, name), where=lambda i, fid: _where(name, i, fid))
    return Resolutions(tuple(out), name, header.title or "", header.forecast_start)


def _header(raw: Any, name: str) -> _Header:
    if not isinstance(raw, dict):
        raise DialogueError(f"{name}: [resolutions] must be a table")
    try:
        return _Header.model_validate(raw)
    except ValidationError as exc:
        err = pick_error(exc)
        key = ".".join(str(k) for k in err["loc"])
        if err["type"] == "extra_forbidden":
            return _fail(f"{name}: [resolutions] has unknown key '{key}'"
                         f"{suggest(key, _Header.model_fields)}")
        return _fail(f"{name}: [resolutions] {key} {_explain(err)}")


def _fail(msg: str):
    raise DialogueError(msg)


def _fact(raw: Any, i: int, name: str) -> Fact:
    if not isinstance(raw, dict):
        raise DialogueError(f"{name}: fact {i + 1} must be a table ([[fact]])")
    fid = raw.get("id") if isinstance(raw.get("id"), str) else None
    where = _where(name, i, fid)
    kind = raw.get("kind")
    if kind not in _MODELS:
        hint = suggest(str(kind), _MODELS) if isinstance(kind, str) else ""
        got = "is missing" if kind is None else f"is {clip(kind)}"
        raise DialogueError(f"{where}: kind {got}{hint}; use one of number, event, state")
    model = _MODELS[kind]
    # Names before values: an unknown variable is the likelier mistake, and says what to write.
    _check_names(raw, kind, where)
    try:
        fact = model.model_validate(raw)
    except ValidationError as exc:
        err = pick_error(exc)
        key = ".".join(str(k) for k in err["loc"])
        if err["type"] == "extra_forbidden":
            raise DialogueError(f"{where}: unknown key '{key}'{suggest(key, model.model_fields)}; "
                                f"a {kind} fact has {', '.join(k for k in model.model_fields)}") from None
        if err["type"] == "missing":
            raise DialogueError(f"{where}: '{key}' is missing; add {key} = ... ({_need(kind, key)})") from None
        raise DialogueError(f"{where}: {key} {_explain(err)}") from None
    _check_fact(fact, where)
    return fact


def _need(kind: str, key: str) -> str:
    return {
        "source": "where the fact comes from: a citation and URL",
        "value": "the number" if kind == "number" else "the state",
        "variable": f"one of {', '.join(NUMBER_VARIABLES if kind == 'number' else STATES)}",
        "event": f"one of {', '.join(EVENTS)}",
        "start": "first month of the window, YYYY-MM", "end": "last month of the window, YYYY-MM",
        "happened": "true or false", "date": "the month, YYYY-MM",
    }.get(key, "see docs/scoring.md")


def _explain(err: dict[str, Any]) -> str:
    if err["type"] == "string_pattern_mismatch":
        return f"must be a month written YYYY-MM, got {clip(err.get('input'))}"
    if err["type"] in ("string_too_short",):
        return "must not be empty"
    if err["type"] in ("greater_than_equal", "less_than_equal"):
        return f"is out of range: {err['msg'].lower()}, got {clip(err.get('input'))}"
    return wanted(err)


def _check_names(raw: dict, kind: str, where: str) -> None:
    if kind == "event":
        ev = raw.get("event")
        if isinstance(ev, str) and ev not in EVENTS:
            raise DialogueError(f"{where}: unknown event '{clip(ev, 40)[1:-1]}'{suggest(ev, EVENTS)}; "
                                f"events are {', '.join(EVENTS)}")
        return
    var = raw.get("variable")
    options = NUMBER_VARIABLES if kind == "number" else tuple(STATES)
    if isinstance(var, str) and var not in options:
        other = STATES if kind == "number" else NUMBER_VARIABLES
        also = f" ('{var}' is a {'state' if kind == 'number' else 'number'} variable)" if var in other else ""
        raise DialogueError(f"{where}: unknown {kind} variable '{clip(var, 40)[1:-1]}'{also}"
                            f"{suggest(var, options)}; {kind} variables are {', '.join(options)}")


def _check_fact(fact: Fact, where: str) -> None:
    if isinstance(fact, NumberFact):
        annual = fact.variable in ANNUAL
        if annual and fact.year is None:
            raise DialogueError(f"{where}: {fact.variable} is a yearly total; give year = YYYY (not date)")
        if annual and fact.date is not None:
            raise DialogueError(f"{where}: {fact.variable} is a yearly total; give year = YYYY, not date")
        if not annual and fact.date is None:
            raise DialogueError(f"{where}: {fact.variable} is read in one month; give date = \"YYYY-MM\"")
        if not annual and fact.year is not None:
            raise DialogueError(f"{where}: {fact.variable} is read in one month; give date = \"YYYY-MM\", not year")
        if not math.isfinite(fact.value):  # pragma: no cover - strict mode already refuses nan/inf
            raise DialogueError(f"{where}: value must be a finite number")
        if fact.variable in ("exports_annual", "exports_gbp_m", "expulsions_annual", "incidents_annual") \
                and fact.value < 0:
            raise DialogueError(f"{where}: value must be 0 or more for {fact.variable}, got {fact.value:g}")
    elif isinstance(fact, EventFact):
        if fact.end < fact.start:
            raise DialogueError(f"{where}: end {fact.end} is before start {fact.start}; swap them")
    else:
        allowed = STATES[fact.variable][1]
        ok = any(type(fact.value) is type(a) and fact.value == a for a in allowed)
        if not ok:
            words = ", ".join(str(a).lower() if isinstance(a, bool) else str(a) for a in allowed)
            hint = suggest(fact.value, [str(a) for a in allowed]) if isinstance(fact.value, str) else ""
            raise DialogueError(f"{where}: value {clip(fact.value)} is not a {fact.variable} state{hint}; "
                                f"use one of {words}")


# ---------------------------------------------------------------- against a forecast

def months(ds: xr.Dataset) -> pd.PeriodIndex:
    """The forecast's months."""
    return pd.DatetimeIndex(ds["time"].values).to_period("M")


def span(ds: xr.Dataset) -> str:
    m = months(ds)
    return f"{m[0]} to {m[-1]}"


def full_years(ds: xr.Dataset) -> list[int]:
    """Calendar years whose 12 months are all inside the forecast."""
    m = months(ds)
    return [y for y in range(m[0].year, m[-1].year + 1) if (m.year == y).sum() == 12]


def check_against(res: Resolutions, ds: xr.Dataset) -> None:
    """Refuse facts the forecast cannot score: dates outside it, missing variables,
    or a different start from the file's ``forecast_start``."""
    m = months(ds)
    first, last = str(m[0]), str(m[-1])
    if res.forecast_start and res.forecast_start != first:
        raise DialogueError(f"{res.path}: resolves a forecast starting {res.forecast_start}, but this forecast "
                            f"starts {first}; score a forecast from {res.forecast_start} or change forecast_start")
    for i, f in enumerate(res.facts):
        where = res.where(i)
        for var in _variables(f):
            if var not in ds:
                raise DialogueError(f"{where}: the forecast file has no '{var}' variable; re-run it with "
                                    "this version of 'dialogue run'")
        if isinstance(f, NumberFact) and f.year is not None:
            years = full_years(ds)
            if f.year not in years:
                inside = f"full years {years[0]} to {years[-1]}" if years else "no full calendar year"
                part = " is only partly inside" if any(m.year == f.year) else " is outside"
                raise DialogueError(f"{where}: year {f.year}{part} the forecast ({first} to {last}); "
                                    f"a yearly total needs all 12 months, and the forecast covers {inside}")
        for d in _dates(f):
            if not first <= d <= last:
                raise DialogueError(f"{where}: {d} is outside the forecast ({first} to {last}); "
                                    "use a month inside it, or score a longer forecast")


def _variables(f: Fact) -> tuple[str, ...]:
    """The results variables a fact reads (an event or a yearly total may read both sides' counts)."""
    if isinstance(f, NumberFact):
        var = ANNUAL[f.variable][0] if f.variable in ANNUAL else f.variable
    elif isinstance(f, EventFact):
        var = EVENTS[f.event][1]
    else:
        var = {"relations_band": "relations", "outcome": "relations"}.get(f.variable, f.variable)
    return var if isinstance(var, tuple) else (var,)


def variable_values(ds: xr.Dataset, names: str | tuple[str, ...]) -> np.ndarray:
    """(run, time) values of one variable, or the sum of several (both sides' expulsions)."""
    names = names if isinstance(names, tuple) else (names,)
    return sum(ds[n].values.astype(np.float64) for n in names)


def _dates(f: Fact) -> list[str]:
    if isinstance(f, EventFact):
        return [f.start, f.end]
    return [f.date] if getattr(f, "date", None) else []


def _month_index(ds: xr.Dataset, month: str) -> int:
    return int(np.flatnonzero(months(ds) == pd.Period(month, "M"))[0])


def number_sample(f: NumberFact, ds: xr.Dataset) -> np.ndarray:
    """The forecast ensemble (one value per run) for a number fact."""
    if f.variable in ANNUAL:
        sel = np.asarray(months(ds).year == f.year)
        return variable_values(ds, ANNUAL[f.variable][0])[:, sel].sum(axis=1)
    return ds[f.variable].values[:, _month_index(ds, f.date)].astype(np.float64)


def event_outcomes(f: EventFact | StateFact, ds: xr.Dataset) -> np.ndarray:
    """Per run: did the event happen in the window / was the state as stated? (bool)"""
    if isinstance(f, EventFact):
        _, var, indicator = EVENTS[f.event]
        a, b = _month_index(ds, f.start), _month_index(ds, f.end)
        values = variable_values(ds, var) if isinstance(var, tuple) else ds[var].values
        return np.asarray(indicator(values[:, a:b + 1])).any(axis=1)
    return state_values(f.variable, ds, f.date) == f.value


def state_values(variable: str, ds: xr.Dataset, month: str) -> np.ndarray:
    """Per run, the value of a state variable in ``month``."""
    t = _month_index(ds, month)
    if variable == "relations_band":
        return band_names(ds["relations"].values[:, t])
    if variable == "outcome":
        return classify(ds["relations"].values[:, t], ds["sanctions"].values[:, t].astype(bool))
    if variable in ("dialogue_active", "sanctions"):
        return ds[variable].values[:, t].astype(bool)
    return ds[variable].values[:, t].astype(np.int64)


def band_names(relations: np.ndarray) -> np.ndarray:
    """Named band of each relations value (as ``summarize`` counts them)."""
    edges = [b[2] for b in BANDS[:-1]]
    return np.asarray(BAND_NAMES)[np.searchsorted(edges, np.asarray(relations), side="left")]


def describe(f: Fact) -> str:
    """A fact in a few words, for tables."""
    if isinstance(f, NumberFact):
        when = str(f.year) if f.year is not None else f.date
        return f"{f.variable} {when} = {f.value:,.6g}"
    if isinstance(f, EventFact):
        return f"{f.event} {f.start}..{f.end}: {'yes' if f.happened else 'no'}"
    value = str(f.value).lower() if isinstance(f.value, bool) else f.value
    return f"{f.variable} {f.date} = {value}"
