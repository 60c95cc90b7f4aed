"""Observations: what has happened since the forecast began, to condition it on.

An observations file is TOML with one ``[[observation]]`` table per fact (see
docs/updating.md). Each is dated, has a source, and is one of three things::

    [observations]                       # optional
    title = "What has happened since March 2013"

    [[observation]]                      # an event that happened in a month (or window)
    event = "formula"
    month = "2013-03"
    source = "The article: the first 2+2 meeting, London, 13 March 2013"

    [[observation]]                      # an event that did NOT happen by a date
    event = "expulsion_round"
    until = "2013-09"                    # from the start month to this month
    happened = false
    source = "..."

    [[observation]]                      # a measured level, with its error (one sd)
    variable = "exports_gbp_m"
    month = "2013-06"
    value = 640.0
    sd = 40.0
    source = "..."

Parsing (:func:`load_observations`, :func:`parse_observations`) checks the file
alone; :func:`check_schedule` checks it against a scenario's months. Every problem
is a one-line :class:`DialogueError` naming the file, the entry and the fix.

The per-month indicators (:func:`indicator`) and the level likelihood read the
engine's recorded arrays (months x runs), so the filter (:mod:`model.smc`) and the
tests on a results Dataset (:func:`holds`) apply one definition.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.errors import DialogueError, number
from model.shocks import month_at, month_index
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

MAX_OBSERVATIONS = 1_000

Get = Callable[[str], np.ndarray]  # variable -> recorded rows (months x runs)

# Events: name -> (words, negated words, recorded variables, per-month indicator). An event
# happened in a window when its indicator holds in at least one month of it.
EVENTS: dict[str, tuple[str, str, tuple[str, ...], Callable[[Get], np.ndarray]]] = {
    "formula": ("a 2+2 meeting found a formula of words", "no formula found", ("formula",),
                lambda g: g("formula").astype(bool)),
    "no_formula": ("a 2+2 meeting found no formula of words", "no meeting without a formula",
                   ("meeting", "formula"), lambda g: g("meeting").astype(bool) & ~g("formula").astype(bool)),
    "expulsion_round": ("diplomats were expelled (either side)", "no expulsion round",
                        ("expulsions", "russian_expulsions"),
                        lambda g: (g("expulsions") > 0) | (g("russian_expulsions") > 0)),
    "uk_expulsion_round": ("the UK expelled Russian diplomats", "no UK expulsion round", ("expulsions",),
                           lambda g: g("expulsions") > 0),
    "russian_expulsion_round": ("Russia expelled British diplomats", "no Russian expulsion round",
                                ("russian_expulsions",), lambda g: g("russian_expulsions") > 0),
    "major_incident": ("a major incident on UK soil (Litvinenko-scale)", "no major incident",
                       ("major_incidents",), lambda g: g("major_incidents") > 0),
    "incident": ("an incident on UK soil", "no incident", ("incidents",), lambda g: g("incidents") > 0),
    "sanctions": ("EU sanctions on Russia were in force", "no sanctions in force", ("sanctions",),
                  lambda g: g("sanctions").astype(bool)),
    "dialogue_suspended": ("the Strategic Dialogue was suspended", "dialogue not suspended",
                           ("dialogue_active",), lambda g: ~g("dialogue_active").astype(bool)),
    # Resumed: active in a month after a month it was not (the row before the window is read too).
    "dialogue_resumed": ("the Strategic Dialogue resumed after a suspension", "dialogue not resumed",
                         ("dialogue_active",), lambda g: g("dialogue_active").astype(bool)),
    "crisis": ("an international crisis began", "no crisis began", ("crisis",), lambda g: g("crisis").astype(bool)),
    "harassment": ("a harassment campaign against UK diplomats began", "no harassment campaign",
                   ("harassment",), lambda g: g("harassment").astype(bool)),
    "meeting": ("a 2+2 meeting took place", "no 2+2 meeting", ("meeting",), lambda g: g("meeting").astype(bool)),
    "rebel_aid": ("the UK armed Syrian rebels", "no arms for Syrian rebels", ("rebel_aid",),
                  lambda g: g("rebel_aid").astype(bool)),
}

# Levels: variable -> (words with units, lowest, highest value on the model's scale).
LEVELS: dict[str, tuple[str, float, float]] = {
    "exports_gbp_m": ("UK goods exports to Russia, GBP million in the month", 0.0, math.inf),
    "protest": ("share of the Russian public mobilised, 0 to 1", 0.0, 1.0),
    "repression": ("repression index, 0 to 1", 0.0, 1.0),
    "grievance": ("share of the Russian public disaffected, 0 to 1", 0.0, 1.0),
    "threat": ("Kremlin threat perception, 0 to 1", 0.0, 1.0),
    "values_concern": ("UK concern about values, 0 to 1", 0.0, 1.0),
    "syria_divergence": ("UK-Russia divergence over Syria, 0 to 1", 0.0, 1.0),
    "us_russia": ("US-Russia relations, -1 to 1", -1.0, 1.0),
    "relations": ("UK-Russia relations, Goldstein -10 to +10", -10.0, 10.0),
}
# A level none of whose runs comes within this many sds of it matches no run.
MATCH_SDS = 5.0

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Observation(BaseModel):
    """One ``[[observation]]``: an event (``event``, ``month``/``until``, ``happened``) or a
    level (``variable``, ``month``, ``value``, ``sd``)."""

    model_config = _STRICT
    id: str | None = Field(None, min_length=1, max_length=100)
    event: str | None = None
    variable: str | None = None
    month: str | None = Field(None, pattern=YEAR_MONTH)
    until: str | None = Field(None, pattern=YEAR_MONTH)
    happened: bool | None = None
    value: float | int | None = None
    sd: float | int | None = None
    source: str = Field(min_length=1, max_length=2_000)
    note: str | None = Field(None, max_length=2_000)

    @property
    def is_event(self) -> bool:
        return self.event is not None


class _Header(BaseModel):
    model_config = _STRICT
    title: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=5_000)


@dataclass(frozen=True)
class Observations:
    """A validated observations file: its entries in file order, each with an ``id``."""

    entries: tuple[Observation, ...]
    path: str = "observations"
    title: str = ""
    text: str = ""  # the TOML as given (kept in the results' attributes)

    def where(self, i: int) -> str:
        """'FILE: observation 3 ('formula-march')' for messages."""
        return _where(self.path, i, self.entries[i].id)

    def __len__(self) -> int:
        return len(self.entries)


def _where(path: str, i: int, oid: str | None) -> str:
    return f"{path}: {_name(i, oid)}"


def _name(i: int, oid: str | None) -> str:
    """'observation 3 ('formula-march')'; a default id is not repeated."""
    return f"observation {i + 1}" + (f" ('{oid}')" if oid and oid != f"observation-{i + 1}" else "")


def load_observations(path: str | Path) -> Observations:
    """Read and validate an observations TOML file (on its own, without a scenario)."""
    return parse_observations(read_toml_text(path, "observations"), str(Path(path)))


def as_observations(obs: Observations | str | Path) -> Observations:
    """A parsed object as it is; a path loaded."""
    return obs if isinstance(obs, Observations) else load_observations(obs)


def parse_observations(text: str, name: str = "observations") -> Observations:
    """Validate observations TOML text; ``name`` labels messages."""
    doc = parse_toml(text, name)
    only_sections(doc, name, "observations", "observation")
    header = _header(doc.get("observations", {}), name)
    out = numbered_entries(doc, name, entry="observation", limit=MAX_OBSERVATIONS,
                           docs="docs/updating.md", parse=lambda raw, i: _entry(raw, i, name),
                           where=lambda i, oid: _where(name, i, oid))
    obs = Observations(tuple(out), name, header.title or "", text)
    problem = contradiction(obs)
    if problem:
        raise DialogueError(problem)
    return obs


def _header(raw: Any, name: str) -> _Header:
    if not isinstance(raw, dict):
        raise DialogueError(f"{name}: [observations] must be a table")
    try:
        return _Header.model_validate(raw)
    except ValidationError as exc:
        err = pick_error(exc)
        key = ".".join(str(k) for k in err["loc"])
        if err["type"] == "extra_forbidden":
            raise DialogueError(f"{name}: [observations] has unknown key '{clip(key, 40)[1:-1]}'"
                                f"{suggest(key, _Header.model_fields)}; it takes title and note") from None
        raise DialogueError(f"{name}: [observations] {key} {wanted(err)}") from None


_FIELDS_EVENT = ("id", "event", "month", "until", "happened", "source", "note")
_FIELDS_LEVEL = ("id", "variable", "month", "value", "sd", "source", "note")


def _entry(raw: Any, i: int, name: str) -> Observation:
    if not isinstance(raw, dict):
        raise DialogueError(f"{name}: observation {i + 1} must be a table ([[observation]])")
    oid = raw.get("id") if isinstance(raw.get("id"), str) else None
    where = _where(name, i, oid)
    has_event, has_var = "event" in raw, "variable" in raw
    if has_event == has_var:
        both = "has both event and variable" if has_event else "has neither event nor variable"
        raise DialogueError(f"{where}: {both}; give event = \"...\" for something that happened (or not), "
                            "or variable = \"...\" with value and sd for a measured level")
    _check_names(raw, where)
    _check_numbers(raw, where)
    try:
        ob = Observation.model_validate(raw)
    except ValidationError as exc:
        err = pick_error(exc)
        key = ".".join(str(k) for k in err["loc"])
        fields = _FIELDS_EVENT if has_event else _FIELDS_LEVEL
        if err["type"] == "extra_forbidden":
            raise DialogueError(f"{where}: unknown key '{clip(key, 40)[1:-1]}'{suggest(key, fields)}; "
                                f"{'an event' if has_event else 'a level'} observation has "
                                f"{', '.join(fields)}") from None
        if err["type"] == "missing":
            raise DialogueError(f"{where}: '{key}' is missing; add {key} = ... (where the fact comes from: "
                                "a citation and URL)") from None
        if err["type"] == "string_pattern_mismatch":
            raise DialogueError(f"{where}: {key} must be a month written YYYY-MM, got {clip(err.get('input'))}") \
                from None
        if err["type"] == "string_too_short":
            raise DialogueError(f"{where}: {key} must not be empty") from None
        raise DialogueError(f"{where}: {key} {wanted(err)}") from None
    _check_shape(ob, where)
    return ob


def _check_names(raw: dict, where: str) -> None:
    if "event" in raw:
        ev = raw["event"]
        if not isinstance(ev, str):
            raise DialogueError(f"{where}: event must be text in quotes, one of {', '.join(EVENTS)}")
        if ev not in EVENTS:
            also = f" ('{ev}' is a level variable: give variable, value and sd)" if ev in LEVELS else ""
            raise DialogueError(f"{where}: unknown event '{clip(ev, 40)[1:-1]}'{also}{suggest(ev, EVENTS)}; "
                                f"events are {', '.join(EVENTS)}")
        return
    var = raw["variable"]
    if not isinstance(var, str):
        raise DialogueError(f"{where}: variable must be text in quotes, one of {', '.join(LEVELS)}")
    if var not in LEVELS:
        also = f" ('{var}' is an event: give event = \"{var}\")" if var in EVENTS else ""
        raise DialogueError(f"{where}: unknown variable '{clip(var, 40)[1:-1]}'{also}{suggest(var, LEVELS)}; "
                            f"measured levels are {', '.join(LEVELS)}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_numbers(raw: dict, where: str) -> None:
    """``value`` and ``sd`` before pydantic, so a malformed error gets its own message."""
    if "variable" not in raw:
        return
    var = raw["variable"]
    words, lo, hi = LEVELS[var]
    for key in ("value", "sd"):
        if key not in raw:
            what = f"the measured {words}" if key == "value" else f"its error, one standard deviation in the " \
                                                                   f"same units ({words})"
            raise DialogueError(f"{where}: '{key}' is missing; add {key} = ... ({what})")
    v, sd = raw["value"], raw["sd"]
    if not _is_number(v) or not math.isfinite(v):
        raise DialogueError(f"{where}: value must be a finite number ({words}), got {clip(v)}")
    if not _is_number(sd) or not math.isfinite(sd) or sd <= 0:
        hint = " (write the number itself, not a percentage)" if isinstance(sd, str) and "%" in sd else ""
        raise DialogueError(f"{where}: sd = {clip(sd)} is not a valid error{hint}; give one standard deviation "
                            f"as a positive number in the variable's units ({words}), e.g. sd = "
                            f"{_example_sd(var)}")
    if not lo <= v <= hi:
        rng = f"at least {lo:g}" if hi == math.inf else f"between {lo:g} and {hi:g}"
        raise DialogueError(f"{where}: value = {number(v)} is outside the {var} scale; it must be {rng} ({words})")


def _example_sd(var: str) -> str:
    return {"exports_gbp_m": "40", "relations": "0.5", "us_russia": "0.1"}.get(var, "0.05")


def _check_shape(ob: Observation, where: str) -> None:
    if ob.is_event:
        if ob.value is not None or ob.sd is not None:
            raise DialogueError(f"{where}: an event takes no value or sd; remove them (or give variable = ... "
                                "for a measured level)")
        if ob.month is None and ob.until is None:
            raise DialogueError(f"{where}: no date; give month = \"YYYY-MM\" (optionally with until = \"YYYY-MM\" "
                                "for a window), or until alone for 'by that month'")
        if ob.month and ob.until and ob.until < ob.month:
            raise DialogueError(f"{where}: until = {ob.until} is before month = {ob.month}; the window must end in "
                                "or after its first month")
    else:
        if ob.month is None:
            raise DialogueError(f"{where}: a measured level needs month = \"YYYY-MM\", the month it was measured")
        if ob.until is not None or ob.happened is not None:
            key = "until" if ob.until is not None else "happened"
            raise DialogueError(f"{where}: a measured level takes no {key}; remove it (levels are read in one month)")


# ---------------------------------------------------------------- words and windows


def window(ob: Observation, start: str) -> tuple[str, str]:
    """(first, last) month of the observation; ``until`` alone runs from ``start``."""
    if ob.month is None:
        return start, ob.until  # type: ignore[return-value]
    return ob.month, ob.until or ob.month


def happened(ob: Observation) -> bool:
    return ob.happened is not False


def describe(ob: Observation) -> str:
    """A few words, as messages quote it: 'dialogue suspended in 2013-05',
    'no expulsion round by 2013-09', 'exports_gbp_m in 2013-06 = 640 +/- 40'."""
    if not ob.is_event:
        return f"{ob.variable} in {ob.month} = {ob.value:,.6g} +/- {ob.sd:,.6g}"
    if ob.month is None:
        when = f"by {ob.until}"
    elif ob.until and ob.until != ob.month:
        when = f"in {ob.month}..{ob.until}"
    else:
        when = f"in {ob.month}"
    what = ob.event.replace("_", " ") if happened(ob) else EVENTS[ob.event][1]  # type: ignore[union-attr]
    return f"{what} {when}"


def contradiction(obs: Observations) -> str | None:
    """Two observations that cannot both hold, as one line, or None: an event that
    happened in a window and did not happen over a window containing it; a 2+2 that
    both found and did not find a formula in one month; two measurements of one level in
    one month more than ``MATCH_SDS`` combined errors apart."""
    ents = obs.entries
    lo = "0000-00"  # 'until' alone: from the start, which every window starts on or after
    for j, b in enumerate(ents):
        for i, a in enumerate(ents[:j]):
            if not a.is_event and not b.is_event and a.variable == b.variable and a.month == b.month:
                apart = abs(float(a.value) - float(b.value)) / math.hypot(float(a.sd), float(b.sd))  # type: ignore[arg-type]
                if apart > MATCH_SDS:
                    return (f"{obs.where(j)} ('{describe(b)}') contradicts {_name(i, a.id)} ('{describe(a)}'): two "
                            f"measurements of one month {apart:.0f} combined errors apart; correct one, or widen "
                            "their sd")
            if not (a.is_event and b.is_event):
                continue
            if a.event == b.event and happened(a) != happened(b):
                yes, no = (a, b) if happened(a) else (b, a)
                (y0, y1), (n0, n1) = window(yes, lo), window(no, lo)
                if n0 <= y0 and y1 <= n1:
                    return (f"{obs.where(j)} ('{describe(b)}') contradicts {_name(i, a.id)} ('{describe(a)}'): "
                            f"'{describe(yes)}' falls inside the window of '{describe(no)}'; correct one of them")
            wa, wb = window(a, lo), window(b, lo)
            if {a.event, b.event} == {"formula", "no_formula"} and happened(a) and happened(b) \
                    and wa == wb and wa[0] == wa[1]:
                return (f"{obs.where(j)} ('{describe(b)}') contradicts {_name(i, a.id)} ('{describe(a)}'): a month "
                        "has at most one 2+2 meeting; correct one of them")
    return None


def check_schedule(obs: Observations, start: str, horizon: int) -> None:
    """Refuse observations outside the simulated months (``start`` and ``horizon``
    months after it): before the start, or after the last month."""
    last = month_at(start, horizon - 1)
    for i, ob in enumerate(obs.entries):
        first, end = window(ob, start)
        if first < start:
            raise DialogueError(f"{obs.where(i)} ('{describe(ob)}'): {first} is before the scenario's start month, "
                                f"{start}; the start state is known already, so observe months from {start} to "
                                f"{last}")
        if end > last:
            need = month_index(start, end) + 1
            raise DialogueError(f"{obs.where(i)} ('{describe(ob)}'): {end} is after the last simulated month, "
                                f"{last} (start {start}, horizon {horizon} months); use a month up to {last}, "
                                f"or a horizon of at least {need} months")


# ---------------------------------------------------------------- likelihood


def indicator(ob: Observation, get: Get, a: int, b: int, initial_active: bool = True) -> np.ndarray:
    """Per run (bool): did the event happen in months ``a..b`` (indices from the start)?
    ``get(var)`` returns the recorded rows ``0..b`` (months x runs)."""
    ind = EVENTS[ob.event][3]  # type: ignore[index]
    rows = ind(lambda v: get(v)[:b + 1])
    if ob.event == "dialogue_resumed":
        before = np.empty_like(rows)
        before[0] = initial_active
        before[1:] = rows[:-1]
        rows = rows & ~before
    hit = rows[a:b + 1].any(axis=0)
    return hit if happened(ob) else ~hit


def log_likelihood(ob: Observation, get: Get, a: int, b: int, initial_active: bool = True) -> np.ndarray:
    """Per run: log of the probability of what was seen. Events: 0 where it holds,
    -inf where not. Levels: Gaussian in the measurement error (up to a constant)."""
    if ob.is_event:
        return np.where(indicator(ob, get, a, b, initial_active), 0.0, -np.inf)
    x = get(ob.variable)[b].astype(np.float64)  # type: ignore[arg-type]
    z = (x - float(ob.value)) / float(ob.sd)  # type: ignore[arg-type]
    return -0.5 * z * z


def holds(ob: Observation, ds: xr.Dataset) -> np.ndarray:
    """Per run of a results Dataset: does the observation hold? For a level: is the
    run within ``MATCH_SDS`` errors of it? (Tests and reports; same definitions.)"""
    start = str(ds.attrs.get("start"))
    first, end = window(ob, start)
    a, b = month_index(start, first), month_index(start, end)
    initial = _initial_active(ds)
    get = lambda v: ds[v].values.T  # noqa: E731 - months x runs, as the engine records
    if ob.is_event:
        return indicator(ob, get, a, b, initial)
    return np.abs(get(ob.variable)[b] - float(ob.value)) <= MATCH_SDS * float(ob.sd)  # type: ignore[arg-type]


def _initial_active(ds: xr.Dataset) -> bool:
    """Was the dialogue active in the start state? (``dialogue_resumed`` needs the month before.)"""
    try:
        ini = tomllib.loads(ds.attrs["scenario_toml"]).get("initial", {})
        return int(ini.get("ladder", 0)) < 2
    except (KeyError, tomllib.TOMLDecodeError):
        return True
