"""Trade and investment: UK goods exports to Russia, and the engagement
constituency they build ("ballast").

State: ``exports`` (GBP million this month) = exp(``export_trend`` +
``export_dev``): a trend level that grows at the underlying rate less political
drag, and a mean-reverting deviation from it. ``export_growth`` is smoothed annual
log growth, which drives the ballast terms.

Why trend plus deviation rather than a random walk: around their 2002-2012
log-linear trend, annual exports deviate with sd 0.19 and almost no persistence
(lag-one autocorrelation -0.09; the 2009 fall was undone by 2011). A random walk
with the same year-to-year volatility would widen the five-year fan about three
times too much. Uncertainty about the trend itself is carried by ``trade_growth``.
Defaults are calibrated on ONS exports 2002-2012 (see :mod:`model.calibration`).
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec

GROUP = "Trade and investment"

PARAMS = (
    ParamSpec(
        "trade_growth", "Underlying export growth", "per year",
        -0.20, 0.40, 0.10, "triangular", 0.10, GROUP,
        "Trend growth of UK goods exports to Russia before any political drag.",
        "'The 15% growth in British exports to Russia last year looks healthy enough "
        "until you consider that annual growth averaged 21% in the preceding decade, "
        "despite often fraught relations.' Calibrated: ONS gives +6.4% for 2012 and a "
        "2002-2012 log-linear trend of +15.6% a year; the 10% default sits between "
        "them because the article reads 2012 as a slowdown, and the spread covers both.",
        headline=True),
    ParamSpec(
        "trade_volatility", "Export deviation from trend", "sd of log deviation",
        0.0, 0.5, 0.19, "fixed", 0.0, GROUP,
        "How far exports wander from their trend path (the long-run sd of the log "
        "deviation; 0.19 is about +/-20%).",
        "Calibrated: the sd of annual log exports around their 2002-2012 log-linear "
        "trend is 0.19 (it includes the 2009 fall)."),
    ParamSpec(
        "trade_persistence", "Persistence of export deviations", "share kept per month",
        0.0, 0.99, 0.80, "fixed", 0.0, GROUP,
        "How much of this month's deviation from trend is still there next month.",
        "Calibrated: the deviations around the 2002-2012 trend have lag-one-year "
        "autocorrelation of about zero (-0.09); 0.8 a month is 0.07 a year."),
    ParamSpec(
        "political_drag", "Political-risk drag on exports", "growth points per year per point below 0",
        0.0, 0.05, 0.01, "uniform", 0.01, GROUP,
        "Annual growth lost for each point the relations index is below zero.",
        "'despite often fraught relations': trade grew through bad years, so the drag "
        "is small. Invented."),
    ParamSpec(
        "sanctions_trade_hit", "Export fall when sanctions begin", "share of exports",
        0.0, 0.6, 0.15, "triangular", 0.10, GROUP,
        "One-off fall in exports in the month sanctions are imposed.", "Invented."),
)


def grow_exports(m) -> None:
    """The trend grows at the underlying rate less a political-risk drag, and falls
    once when sanctions begin; exports deviate from it by a calibrated,
    mean-reverting amount.

    Encodes: "annual growth averaged 21% in the preceding decade, despite often
    fraught relations" (a real but small drag). Parameters: ``trade_growth``,
    ``trade_volatility``, ``trade_persistence``, ``political_drag``,
    ``sanctions_trade_hit``.
    """
    s, p = m.s, m.p
    annual = np.log1p(p.trade_growth) - p.political_drag * np.maximum(0.0, -s.relations)
    hit = np.log1p(-p.sanctions_trade_hit) * (s.sanctions & ~s.sanctions_before)
    s.export_trend = s.export_trend + annual / 12.0 + hit
    shock_sd = p.trade_volatility * np.sqrt(1.0 - p.trade_persistence**2)
    dev = p.trade_persistence * s.export_dev + shock_sd * m.rng.normal("exports")
    step = annual / 12.0 + hit + dev - s.export_dev
    s.export_dev = dev
    s.exports = np.exp(s.export_trend + dev)
    # Smoothed annual growth (one-year memory): the constituency reacts to the trend.
    s.export_growth = s.export_growth + (12.0 * step - s.export_growth) / 12.0
    s.sanctions_before = s.sanctions.copy()


class Trade(Actor):
    name = "trade"
    phase = 0.50
    rules = (grow_exports,)
    PARAMS = PARAMS
