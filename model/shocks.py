"""Dated shocks: one-off events a scenario pins to a month or a window of months.

A scenario's ``[[shocks]]`` entries say "a Litvinenko-scale incident in May 2013"
instead of raising a base rate for five years (docs/shocks.md)::

    [[shocks]]
    kind = "major_incident"
    month = "2013-04"
    until = "2013-06"      # optional window: each run draws its own month in it
    size = 3.0             # optional, in the kind's units (:data:`UNITS`)

The rules ask :func:`forced` each month which runs a shock of their kind hits, and
how hard. A run's month within a window is drawn once, from a stream keyed by its
global run index (:mod:`model.rng`), so a run gets the same month alone, in a
chunk, in the ensemble engine or in the reference engine.

This module holds no model dynamics: what a shock does is the rules' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.rng import PARAM_MONTH

if TYPE_CHECKING:  # model.scenario imports this module
    from model.scenario import Scenario, Shock

KINDS = ("major_incident", "crisis", "expulsion_round", "sanctions", "formula", "no_formula")

# What each kind is, in a few words (dashboard, brief, `describe`).
LABELS = {
    "major_incident": "a major incident on UK soil (Litvinenko-scale)",
    "crisis": "an international crisis",
    "expulsion_round": "a round of expulsions of Russian diplomats by the UK",
    "sanctions": "an EU sanctions decision",
    "formula": "a 2+2 meeting that finds a formula of words",
    "no_formula": "a 2+2 meeting that finds no formula of words",
}

# The unit of ``size`` for each kind; None: the kind takes no size.
UNITS: dict[str, str | None] = {
    "major_incident": "relations cost in Goldstein points",
    "crisis": "severity in Goldstein points",
    "expulsion_round": "diplomats the UK expels",
    "sanctions": "share of UK exports to Russia hit, 0 to 1",
    "formula": "relations gain in Goldstein points",
    "no_formula": None,
}

# The largest size each kind accepts: the Goldstein scale is 20 points wide (-10 to +10);
# a share is at most 1; 200 diplomats is several times any post-war round (105 in 1971).
SIZE_MAX: dict[str, float] = {"major_incident": 20.0, "crisis": 20.0, "expulsion_round": 200.0,
                              "sanctions": 1.0, "formula": 20.0}

def month_index(start: str, when: str) -> int:
    """Months from ``start`` to ``when`` (both YYYY-MM)."""
    y0, m0 = map(int, start.split("-"))
    y1, m1 = map(int, when.split("-"))
    return (y1 - y0) * 12 + (m1 - m0)


def month_at(start: str, index: int) -> str:
    """The YYYY-MM ``index`` months after ``start``."""
    y, m = map(int, start.split("-"))
    y, m = divmod(y * 12 + m - 1 + index, 12)
    return f"{y:04d}-{m + 1:02d}"


def window(shock: Shock) -> tuple[str, str]:
    """(first, last) month a shock can fall in (the same month twice for a fixed date)."""
    return shock.month, shock.until or shock.month


def label(shock: Shock) -> str:
    """Kind and month(s), as messages name a shock: ``crisis 2013-05..2013-07``."""
    first, last = window(shock)
    return f"{shock.kind} {first}" + (f"..{last}" if last != first else "")


def _size_words(shock: Shock) -> str:
    if shock.size is None:
        return "size drawn by the model"
    x = shock.size
    return {"major_incident": f"costing relations {x:g} Goldstein points",
            "crisis": f"severity {x:g} Goldstein points",
            "expulsion_round": f"{x:g} diplomats expelled",
            "sanctions": f"{x:.0%} of exports hit",
            "formula": f"relations gain {x:g} Goldstein points"}[shock.kind]


def describe(shock: Shock) -> str:
    """One line of plain text: what, when and how big (the note is not included).

    >>> from model.scenario import Shock
    >>> describe(Shock(kind="crisis", month="2013-05", until="2013-07", size=2.0))
    'An international crisis, in one month from 2013-05 to 2013-07 (drawn per run), severity 2 Goldstein points'
    """
    first, last = window(shock)
    when = f"in {first}" if first == last else f"in one month from {first} to {last} (drawn per run)"
    what = LABELS[shock.kind]
    text = f"{what[0].upper()}{what[1:]}, {when}"
    return text if shock.kind == "no_formula" else f"{text}, {_size_words(shock)}"


# ---------------------------------------------------------------- validation


def size_problem(kind: str, size: float | None) -> str | None:
    """Why ``size`` does not suit ``kind`` (a message tail), or None. Negative sizes are
    refused by the field itself."""
    if size is None:
        return None
    if UNITS[kind] is None:
        return (f"size = {size:g} is not allowed: {kind} is {LABELS[kind]} and takes no size; "
                "remove the size line")
    if size > SIZE_MAX[kind]:
        return (f"size = {size:g} is out of range; for {kind} ({UNITS[kind]}) it must be between 0 "
                f"and {SIZE_MAX[kind]:g}")
    if kind == "expulsion_round" and size != int(size):
        return f"size = {size:g} is not a whole number of diplomats; write a whole number such as {round(size)}"
    return None


def schedule_problem(shocks: list[Shock] | tuple[Shock, ...], start: str, horizon: int,
                     names: list[str] | None = None) -> str | None:
    """The first problem with shocks in a resolved scenario, as one line, or None:
    a month outside the simulated months, or overlapping windows of one kind.
    ``names[i]`` is how to call shock ``i`` (default ``shocks[i]``)."""
    names = names or [f"shocks[{i}]" for i in range(len(shocks))]
    last = month_at(start, horizon - 1)
    for i, sh in enumerate(shocks):
        first, end = window(sh)
        if first < start:
            return (f"{names[i]} ({label(sh)}) is before the scenario's start month, {start}; "
                    f"use a month from {start} to {last}")
        if end > last:
            key = "until" if sh.until else "month"
            need = month_index(start, end) + 1
            return (f"{names[i]} ({label(sh)}): {key} = {end} is after the last simulated month, {last} "
                    f"(start {start}, horizon {horizon} months); use a month up to {last}, or a horizon of at "
                    f"least {need} months")
    for j, b in enumerate(shocks):
        for i, a in enumerate(shocks[:j]):
            if a.kind == b.kind and window(a)[0] <= window(b)[1] and window(b)[0] <= window(a)[1]:
                return (f"{names[j]} ({label(b)}) overlaps {names[i]} ({label(a)}): windows of one kind must not "
                        f"overlap; merge them into one window, or move one")
    return None


# ---------------------------------------------------------------- the engine's view


@dataclass
class _Plan:
    """Per model: each kind's shocks as (per-run month index or one shared index, size)."""

    by_kind: dict[str, list[tuple[np.ndarray | int, float]]]
    months: dict[str, frozenset[int]]  # months in which a kind can hit any run
    none: tuple[np.ndarray, np.ndarray]  # read-only (all False, all NaN)


def _plan(m: Any) -> _Plan:
    sc: Scenario = m.scenario
    start = sc.initial.start
    none_mask = np.zeros(m.n, dtype=bool)
    none_size = np.full(m.n, np.nan)
    none_mask.setflags(write=False)
    none_size.setflags(write=False)
    by_kind: dict[str, list[tuple[np.ndarray | int, float]]] = {k: [] for k in KINDS}
    months: dict[str, set[int]] = {k: set() for k in KINDS}
    table = np.full((len(sc.shocks), m.n), -1, dtype=np.int64)
    for i, sh in enumerate(sc.shocks):
        first, last = (month_index(start, x) for x in window(sh))
        size = np.nan if sh.size is None else float(sh.size)
        if last == first:
            at: np.ndarray | int = first
            table[i] = first
        else:
            # Uniform over the window's months; u < 1 always, the min() guards rounding.
            u = m.rng.uniform(f"shock:{i}", month=PARAM_MONTH)
            width = last - first + 1
            at = first + np.minimum((u * width).astype(np.int64), width - 1)
            table[i] = at
        by_kind[sh.kind].append((at, size))
        months[sh.kind].update(range(first, last + 1))
    m._shock_months = table  # (shocks, runs): each run's month index for each shock
    return _Plan(by_kind, {k: frozenset(v) for k, v in months.items()}, (none_mask, none_size))


def forced(m: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Which runs a shock of ``kind`` hits in the model's current month, and its size.

    Returns ``(mask, size)``, both of shape ``(m.n,)``: ``size`` is NaN where no shock
    hit or the shock left the size to the model. Windows of one kind never overlap
    (validation refuses it), so at most one shock of a kind hits a run in a month.
    The arrays may be shared and read-only: copy before changing them.
    """
    plan: _Plan | None = getattr(m, "_shock_plan", None)
    if plan is None:
        plan = m._shock_plan = _plan(m)
    t = m.month
    if t not in plan.months.get(kind, ()):
        if kind not in plan.by_kind:
            raise ValueError(f"unknown shock kind {kind!r}; one of {', '.join(KINDS)}")
        return plan.none
    mask = np.zeros(m.n, dtype=bool)
    size = np.full(m.n, np.nan)
    for at, s in plan.by_kind[kind]:
        hit = (at == t) if isinstance(at, np.ndarray) else np.full(m.n, at == t)
        mask |= hit
        size[hit] = s
    return mask, size


def shock_months(m: Any) -> np.ndarray:
    """Each run's month index for each shock, shape ``(shocks, runs)`` (draws it if needed)."""
    if getattr(m, "_shock_plan", None) is None:
        m._shock_plan = _plan(m)
    return m._shock_months
