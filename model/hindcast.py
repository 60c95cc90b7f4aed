"""Hindcast mode: start a scenario at an earlier month from the record known then.

``hindcast_scenario(sc, "2008-03")`` returns ``sc`` started in March 2008, its
starting state taken from :func:`start_values` (documented in docs/calibration.md):

- exports (every number from the ONS annual series, years before the origin only). The
  state is read the way the trade actor models exports (:mod:`model.agents.trade`): a
  log-linear trend plus a deviation from it that keeps almost nothing from one year to
  the next (0.8 a month, 0.07 a year; the annual shock keeps nothing). So the start is
  (a) the log-linear trend fitted to all ONS years before the origin: its line at the
  middle of the start month is the start level (``exports_gbp_m``, which the engine
  takes as the trend's level), and its slope is ``trade_growth`` (by its definition the
  underlying trend growth; spread sqrt(6) x the standard error of the mean annual log
  growth known then, the rule of the default); and (b) the last year's observed
  deviation from that line, which the model's dynamics would carry forward decaying at
  the calibrated persistence: ``start_deviation`` is it, decayed from mid-year to the
  start month (0.8 a month for 6.5 months to January: a quarter of it is left). The
  scenario has no field for an initial deviation (``model.scenario.Initial``), so the
  start is on the trend line and (b) is dropped; the table in docs/calibration.md shows
  its size (at most 0.09 in log, from January 2010, and gone within months). The
  previous rule, the last year's level grown at the last year's growth
  (``rule="last_year"``, kept for the before/after comparison), put the last year's
  whole deviation into the trend, where the model keeps it for ever, and grew it: from
  January 2009 it extrapolated 2008's +41%, from January 2010 2009's -43%.
  Recent export growth (which drives the ballast terms, not exports) is the last year's
  observed growth, as in the baseline.
- relations and protest: ``model/data/hindcast_start.csv``, one row per year (each row
  says which pre-origin fact sets it); every other state keeps the baseline's March
  2013 value, for the record gives no number for it;
- calendar: the Strategic Dialogue did not exist before 2013, so the scenario's first
  2+2 meeting (2013-03) is kept and no meeting is held before it; the Russian federal
  elections between the origin and 2013 (fixed by law, so known in advance) are added.

The baseline scenario is not a hindcast and keeps its documented start (2012's exports
/ 12 grown at 2012's growth to March 2013: GBP 417m, with the article's slowdown reading
of ``trade_growth`` 0.10); the hindcast from 2013-03 starts on the 2002-2012 trend line
(GBP 459m) with the trend's 15.6%.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from model.errors import DialogueError

FIRST_YEAR, LAST_YEAR = 2004, 2013  # two ONS years (2002, 2003) are needed before the first origin
FIRST_START, LAST_START = f"{FIRST_YEAR}-01", f"{LAST_YEAR}-12"

# Russian federal elections 2004-2012 (dates fixed by law, so known before each).
PAST_ELECTIONS = (
    ("Presidential", "2004-03"), ("State Duma", "2007-12"), ("Presidential", "2008-03"),
    ("State Duma", "2011-12"), ("Presidential", "2012-03"),
)


@dataclass(frozen=True)
class StartValues:
    """The starting values of a hindcast from ``start`` (YYYY-MM)."""

    start: str
    last_year: int            # the last ONS year known at the start
    last_exports: float       # GBP million in last_year
    last_growth: float        # last_year on the year before, simple rate
    trend_growth: float       # log-linear OLS trend of the years up to last_year, simple rate
    exports_gbp_m: float      # monthly level in the start month (by ``rule``)
    trend_level: float        # the fitted trend line in the start month, GBP m a month
    last_year_level: float    # the last year's level grown at its growth to the start month
    start_deviation: float    # last year's log deviation from the trend, decayed to the start
    trade_growth: float       # parameter value
    trade_growth_spread: float
    relations: float
    protest: float
    reason: str
    rule: str = "trend"

    def overrides(self) -> dict[str, Any]:
        """Scenario overrides (``Scenario.with_overrides`` keys)."""
        return {"initial.start": self.start, "initial.exports_gbp_m": round(self.exports_gbp_m, 6),
                "initial.export_growth": round(self.last_growth, 6), "initial.relations": self.relations,
                "initial.protest": self.protest, "trade_growth": round(self.trade_growth, 6),
                "trade_growth.spread": round(self.trade_growth_spread, 6)}


def check_start(start: str) -> tuple[int, int]:
    """(year, month) of a hindcast start, or a one-line error naming the range."""
    parts = start.split("-") if isinstance(start, str) else []
    ok = len(parts) == 2 and len(parts[0]) == 4 and len(parts[1]) == 2 and all(p.isdigit() for p in parts)
    if not ok or not 1 <= int(parts[1]) <= 12:
        raise DialogueError(f"--start {str(start)[:40]!r} is not a month; write it as YYYY-MM, e.g. --start 2008-03")
    if not FIRST_START <= start <= LAST_START:
        raise DialogueError(f"--start {start} is outside the hindcast table; use a month from {FIRST_START} to "
                            f"{LAST_START} (the ONS series starts in 2002 and stops in 2012)")
    return int(parts[0]), int(parts[1])


@lru_cache(maxsize=1)
def _state_rows() -> tuple[tuple[int, int, float, float, str], ...]:
    text = resources.files("model.data").joinpath("hindcast_start.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return tuple((int(r["year"]), int(r["from_month"]), float(r["relations"]), float(r["protest"]), r["reason"])
                 for r in rows)


def _state_at(year: int, month: int) -> tuple[float, float, str]:
    """The last hindcast_start.csv row dated at or before (year, month)."""
    rows = [r for r in _state_rows() if (r[0], r[1]) <= (year, month)]
    return rows[-1][2:]


RULES = ("trend", "last_year")


def start_values(start: str, rule: str = "trend") -> StartValues:
    """The hindcast starting values for ``start`` (see the module docstring); ``rule="last_year"``
    is the previous export start rule, kept for the before/after comparison."""
    from model.calibration import trade_history
    from model.params import registry

    if rule not in RULES:
        raise ValueError(f"unknown start rule {rule!r}")
    year, month = check_start(start)
    years, exports = trade_history()
    keep = years < year
    y, e = years[keep], exports[keep]
    last, prev = float(e[-1]), float(e[-2])
    g = last / prev - 1
    slope, icept = np.polyfit(y, np.log(e), 1)
    trend = float(np.exp(slope) - 1)
    # An annual total is 12 x the mid-year monthly level; from mid last year to the middle of
    # the start month is 6 + month - 0.5 months.
    ahead = (5.5 + month) / 12
    on_trend = float(np.exp(icept + slope * (y[-1] + ahead)) / 12)
    last_rule = last / 12 * (1 + g) ** ahead
    rho = registry()["trade_persistence"].default  # a month
    deviation = float((np.log(last) - (icept + slope * y[-1])) * rho ** (5.5 + month))
    spec = registry()["trade_growth"]
    tg = float(np.clip(trend, spec.low, spec.high))
    # Uncertainty of the trend known then: sqrt(6) x the standard error of the mean annual log
    # growth (a triangular spread with that sd, the rule of the default); with one known
    # growth year there is no standard error: half the parameter's range.
    d = np.diff(np.log(e))
    spread = float(np.sqrt(6) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else (spec.high - spec.low) / 2
    relations, protest, reason = _state_at(year, month)
    level = on_trend if rule == "trend" else last_rule
    return StartValues(start, int(y[-1]), last, g, trend, level, on_trend, last_rule, deviation, tg, spread,
                       relations, protest, reason, rule)


def hindcast_overrides(sc, start: str, rule: str = "trend") -> dict[str, Any]:
    """The overrides that start scenario ``sc`` at ``start``, calendar included."""
    out = start_values(start, rule).overrides()
    past = [{"name": n, "date": d} for n, d in PAST_ELECTIONS if d >= start]
    known = [e.model_dump() for e in sc.calendar.elections]
    out["calendar.elections"] = past + [e for e in known if e not in past]
    # Keep the Strategic Dialogue where it was: no 2+2 meeting before it existed (2013-03).
    out["calendar.first_meeting"] = max(sc.calendar.first_meeting, "2013-03")
    return out


def hindcast_scenario(sc, start: str, rule: str = "trend"):
    """``sc`` started at ``start`` from the record known then (a new Scenario). Its label
    says ``hindcast=START`` rather than listing every override."""
    out = sc.with_overrides(hindcast_overrides(sc, start, rule))
    return out.model_copy(update={"changes": (*sc.changes, f"hindcast={start}")})


def table() -> list[StartValues]:
    """The starting values for January of every origin year (docs/calibration.md)."""
    return [start_values(f"{y}-01") for y in range(FIRST_YEAR, LAST_YEAR + 1)]
