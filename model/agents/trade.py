"""Trade and investment: UK goods exports to Russia, and the engagement
constituency they build ("ballast").

State: ``exports`` (GBP million this month), ``export_growth`` (smoothed annual
log growth, which drives the ballast term in :mod:`model.relations`).
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
        "trade_volatility", "Export volatility", "sd of annual log growth",
        0.0, 0.5, 0.28, "fixed", 0.0, GROUP,
        "Year-to-year randomness of exports (applied monthly as sd / sqrt(12)).",
        "Calibrated: the sd of annual log growth of exports 2003-2012 is 0.28 "
        "(it includes the 2009 fall)."),
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
    """Exports grow at trend less a political-risk drag, with calibrated noise; a
    one-off fall when sanctions begin.

    Encodes: "annual growth averaged 21% in the preceding decade, despite often
    fraught relations" (a real but small drag). Parameters: ``trade_growth``,
    ``trade_volatility``, ``political_drag``, ``sanctions_trade_hit``.
    """
    s, p = m.s, m.p
    annual = np.log1p(p.trade_growth) - p.political_drag * np.maximum(0.0, -s.relations)
    step = annual / 12.0 + p.trade_volatility / np.sqrt(12.0) * m.rng.normal("exports")
    hit = np.log1p(-p.sanctions_trade_hit) * (s.sanctions & ~s.sanctions_before)
    step = step + hit
    s.exports = s.exports * np.exp(step)
    # Smoothed annual growth (one-year memory): the constituency reacts to the trend.
    s.export_growth = s.export_growth + (12.0 * step - s.export_growth) / 12.0
    s.sanctions_before = s.sanctions.copy()


class Trade(Actor):
    name = "trade"
    phase = 0.50
    rules = (grow_exports,)
    PARAMS = PARAMS
