"""Calibration of the trade actor on UK goods exports to Russia, 2002-2012.

Only data known in March 2013 is used (the shipped CSV stops at 2012). The
functions here compute the reference numbers that the trade parameters' defaults
are chosen from; ``tests/test_calibration.py`` checks the defaults against them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np


@lru_cache(maxsize=1)
def trade_history() -> tuple[np.ndarray, np.ndarray]:
    """(years, annual UK goods exports to Russia in GBP million)."""
    text = resources.files("model.data").joinpath(
        "uk_goods_trade_with_russia_2002_2012.csv").read_text()
    rows = [r for r in csv.reader(line for line in text.splitlines()
                                  if line and not line.startswith("#"))]
    header, body = rows[0], rows[1:]
    yi, ei = header.index("year"), header.index("exports_gbp_m")
    years = np.array([int(r[yi]) for r in body])
    exports = np.array([float(r[ei]) for r in body])
    return years, exports


@dataclass(frozen=True)
class TradeCalibration:
    trend_growth: float        # OLS log-linear trend 2002-2012, as simple annual rate
    growth_2012: float         # last observed year-on-year growth
    mean_growth_2002_2011: float  # arithmetic mean of yearly growth, the article's "21%"
    log_growth_sd: float       # sd of annual log growth (year-to-year volatility)
    residual_sd: float         # sd of log exports around the log-linear trend
    residual_ar1: float        # lag-one-year autocorrelation of those deviations
    exports_2012: float        # GBP million, calendar 2012
    monthly_start: float       # GBP million in March 2013 if the trend since mid-2012 held


@lru_cache(maxsize=1)
def calibrate_trade(start_growth: float | None = None) -> TradeCalibration:
    years, exports = trade_history()
    logs = np.log(exports)
    coef = np.polyfit(years, logs, 1)
    slope = coef[0]
    resid = logs - np.polyval(coef, years)
    growth = np.diff(logs)
    simple = np.exp(growth) - 1
    g2012 = float(simple[-1])
    g = g2012 if start_growth is None else start_growth
    # Mid-2012 to mid-March 2013 is 8.5 months; grow the 2012 monthly average by it.
    monthly = exports[-1] / 12 * (1 + g) ** (8.5 / 12)
    return TradeCalibration(
        trend_growth=float(np.exp(slope) - 1),
        growth_2012=g2012,
        mean_growth_2002_2011=float(simple[:-1].mean()),
        log_growth_sd=float(growth.std(ddof=1)),
        residual_sd=float(resid.std(ddof=2)),
        residual_ar1=float(np.corrcoef(resid[:-1], resid[1:])[0, 1]),
        exports_2012=float(exports[-1]),
        monthly_start=float(monthly),
    )


def steady_state_anchor() -> float:
    """The ``relations_anchor`` at which March 2013 is a steady state.

    The relationship had been a stable 'cool pragmatism' since the 2010 change of
    government, so with every driver held at its March 2013 level and events at
    their base rates, expected relations should neither rise nor fall from the
    starting +1. Solving the relations ledger's expected monthly change for zero
    gives this anchor; the default in :mod:`model.agents.relations` is it,
    rounded. Expected event costs use the defaults of each actor's parameters.
    """
    from model.agents.uk_government import RUNG_COSTS
    from model.params import registry
    from model.scenario import Initial

    p = {k: s.default for k, s in registry().items()}
    ini = Initial()
    dr = ini.repression - 0.5
    incidents = p["incident_rate"] * np.exp(1.5 * dr) * (
        (1 - p["major_incident_share"]) * p["incident_cost"] + p["major_incident_share"] * p["major_incident_cost"])
    exiles = p["exile_rate"] * np.exp(2.0 * dr) * p["asylum_grant_share"] * p["asylum_cost"]
    hostility = p["harassment_rate"] * np.exp(2.0 * dr) * p["harassment_cost"]
    crises = p["crisis_rate"] * p["crisis_severity"]
    # A major incident takes the ladder to expulsions (note + suspension + expulsion costs).
    responses = (p["incident_rate"] * np.exp(1.5 * dr) * p["major_incident_share"]
                 * p["response_cost"] * RUNG_COSTS[:3].sum())
    formula = p["formula_chance"] * (1 - p["formula_divergence_penalty"] * ini.syria_divergence) \
        * p["formula_gain"] / 12
    events = incidents + exiles + hostility + crises + responses - formula
    slow = (-p["weight_syria"] * ini.syria_divergence - p["weight_values"] * ini.repression
            - p["weight_protest"] * ini.protest
            + p["weight_trade"] * np.tanh(np.log1p(ini.export_growth) / 0.10)
            + p["weight_us"] * ini.us_russia)
    return float(ini.relations - slow + events / p["relaxation"])
