"""Trade and investment: UK goods exports to Russia, and the engagement
constituency they build ("ballast").

State: ``exports`` (GBP million this month) = exp(``export_trend`` +
``export_dev`` + ``export_shock``): a trend level that grows at the underlying rate
less political drag (plus a slowly drifting ``export_drift`` in that rate), a
mean-reverting monthly deviation from it, and an annual shock held for a calendar
year. ``export_growth`` is smoothed annual log growth, which drives the ballast terms.

Why trend plus deviations rather than a random walk: around their 2002-2012
log-linear trend, annual exports deviate with sd 0.19 and almost no persistence
(lag-one autocorrelation -0.09; the 2009 fall was undone by 2011). A random walk
with the same year-to-year volatility would widen the five-year fan about three
times too much.

Why an annual shock as well (issue 9): monthly deviations mean-revert within months
and average out over a calendar year (their annual mean has sd 0.13), so on their own
they gave an annual fan far narrower than the series' year-to-year volatility (sd of
annual log growth 0.28, with the -43% of 2009). A shock drawn each January (and at the
start) and held for the year persists for a year and is independent of the next, as
the annual deviations are. Uncertainty about the trend is carried by ``trade_growth``
(per run) and by ``trade_trend_drift`` (the rate itself wanders).
Defaults are calibrated on ONS exports 2002-2012 (see :mod:`model.calibration`).
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec
from model.shocks import forced

GROUP = "Trade and investment"

PARAMS = (
    ParamSpec(
        "trade_growth", "Underlying export growth", "per year",
        -0.20, 0.30, 0.10, "triangular", 0.21, GROUP,
        "Trend growth of UK goods exports to Russia before any political drag.",
        "'The 15% growth in British exports to Russia last year looks healthy enough "
        "until you consider that annual growth averaged 21% in the preceding decade, "
        "despite often fraught relations.' Calibrated: ONS gives +6.4% for 2012 and a "
        "2002-2012 log-linear trend of +15.6% a year; the 10% default sits between "
        "them because the article reads 2012 as a slowdown; the range stops at 30%, since "
        "five years above the 2000s' 21% would be without precedent. The spread is calibrated on "
        "2002-2012 (issue 9): the standard error of the mean annual log growth is 0.088, "
        "and a triangular spread of sqrt(6) x 0.088 = 0.21 has that sd; it covers both readings.",
        headline=True),
    ParamSpec(
        "trade_volatility", "Export deviation from trend", "sd of log deviation",
        0.0, 0.5, 0.19, "normal", 0.04, GROUP,
        "How far exports wander from their trend path (the long-run sd of the log "
        "deviation; 0.19 is about +/-20%).",
        "Calibrated: the sd of annual log exports around their 2002-2012 log-linear "
        "trend is 0.19 (it includes the 2009 fall). The spread is that estimate's sampling "
        "error: an sd from 11 years is uncertain by about 1 / sqrt(2 x 10) = 22%, 0.04."),
    ParamSpec(
        "trade_persistence", "Persistence of export deviations", "share kept per month",
        0.0, 0.99, 0.80, "triangular", 0.10, GROUP,
        "How much of this month's deviation from trend is still there next month.",
        "Calibrated: the deviations around the 2002-2012 trend have lag-one-year "
        "autocorrelation of about zero (-0.09); 0.8 a month is 0.07 a year. With ten "
        "annual pairs that autocorrelation is uncertain by about 0.3, so the spread runs "
        "from 0.7 (0.01 a year) to 0.9 (0.28 a year)."),
    ParamSpec(
        "trade_shock_sd", "Annual export shock", "sd of log exports over a calendar year",
        0.0, 0.5, 0.15, "normal", 0.035, GROUP,
        "Size of a shock to exports drawn each January (and at the start) and held for that "
        "calendar year, on top of the monthly deviations: a good or bad year for trade.",
        "'The 15% growth in British exports to Russia last year looks healthy enough until you "
        "consider that annual growth averaged 21% in the preceding decade': single years differ "
        "a lot from the decade. Calibrated on 2002-2012: with the monthly deviations and the "
        "trend drift, it makes the sd of annual log growth equal the series' 0.28 (all ten "
        "years, the 2009 fall among them): model.calibration.calibrate_trade. The spread is "
        "the sampling error of an sd from ten growth rates (about 24%)."),
    ParamSpec(
        "trade_trend_drift", "Drift in export trend growth", "sd of the change in trend growth per year",
        0.0, 0.2, 0.06, "triangular", 0.04, GROUP,
        "How far the underlying growth rate itself wanders: a random walk in the trend's growth, "
        "so the trend path is uncertain and the fan widens with the horizon.",
        "'annual growth averaged 21% in the preceding decade' yet 15% (ONS: 6.4%) last year: the "
        "trend rate moves. Calibrated on 2002-2012, loosely (one comparison): log growth averaged "
        "0.21 a year in 2002-07 and 0.10 in 2007-12; for a random-walk rate the difference of two "
        "five-year means has sd 1.84 times the yearly drift, so 0.11 / 1.84 = 0.06. One "
        "comparison, so the spread is wide (0.02 to 0.10)."),
    ParamSpec(
        "political_drag", "Political-risk drag on exports", "growth points per year per point below 0",
        0.0, 0.05, 0.01, "uniform", 0.01, GROUP,
        "Annual growth lost for each point the relations index is below zero.",
        "'despite often fraught relations': trade grew through bad years, so the drag "
        "is small. Invented."),
    ParamSpec(
        "sanctions_trade_hit", "Export fall when sanctions begin", "share of exports",
        0.0, 0.6, 0.20, "triangular", 0.10, GROUP,
        "One-off fall in exports in the month sanctions are imposed.", "Invented: sanctions "
        "on a partner cut trade at once (licences, finance, insurance); no pre-2013 UK "
        "case to calibrate on."),
)


def grow_exports(m) -> None:
    """The trend grows at the underlying rate less a political-risk drag, and falls
    once when sanctions begin (and again if Russia answers with counter-sanctions);
    exports deviate from it by a calibrated, mean-reverting amount. A dated
    ``sanctions`` shock with a size hits exports by that share instead.

    Encodes: "annual growth averaged 21% in the preceding decade, despite often
    fraught relations" (a real but small drag). Parameters: ``trade_growth``,
    ``trade_volatility``, ``trade_persistence``, ``political_drag``,
    ``sanctions_trade_hit``, ``counter_sanctions_trade_hit``.
    """
    s, p = m.s, m.p
    annual = np.log1p(p.trade_growth) - p.political_drag * np.maximum(0.0, -s.relations)
    forced_on, forced_size = forced(m, "sanctions")
    share = np.where(forced_on & ~np.isnan(forced_size), forced_size, p.sanctions_trade_hit)
    onset = s.sanctions & ~s.sanctions_before
    hit = np.log1p(-np.minimum(share, 0.99)) * onset \
        + np.log1p(-p.counter_sanctions_trade_hit) * s.counter_sanctions
    s.export_trend = s.export_trend + annual / 12.0 + hit
    shock_sd = p.trade_volatility * np.sqrt(1.0 - p.trade_persistence**2)
    dev = p.trade_persistence * s.export_dev + shock_sd * m.rng.normal("exports")
    step = annual / 12.0 + hit + dev - s.export_dev
    s.export_dev = dev
    s.exports = np.exp(s.export_trend + dev)  # shock_exports adds the annual shock
    # Smoothed annual growth (one-year memory): the constituency reacts to the trend.
    s.export_growth = s.export_growth + (12.0 * step - s.export_growth) / 12.0


def shock_exports(m) -> None:
    """Add this year's export shock and the drift of the trend's growth rate.

    Encodes: "annual growth averaged 21% in the preceding decade" against "15% ...
    last year": a year can differ sharply from the trend (the shock, drawn each January
    and at the start, held for the calendar year), and the trend rate itself moves (a
    random walk in its growth, ``export_drift``, log growth per year). Runs after
    :func:`grow_exports` in the same month, so that rule keeps its own bookkeeping.
    Parameters: ``trade_shock_sd``, ``trade_trend_drift``.
    """
    s, p = m.s, m.p
    start_month = int(m.scenario.initial.start[5:7])
    old_shock = s.export_shock
    if m.month == 0 or (start_month - 1 + m.month) % 12 == 0:  # the start, and every January
        s.export_shock = p.trade_shock_sd * m.rng.normal("export_shock")
    s.export_drift = s.export_drift + p.trade_trend_drift / np.sqrt(12.0) * m.rng.normal("export_drift")
    s.export_trend = s.export_trend + s.export_drift / 12.0
    s.exports = np.exp(s.export_trend + s.export_dev + s.export_shock)
    # The smoothed growth takes this month's step at weight one (see grow_exports).
    s.export_growth = s.export_growth + s.export_drift / 12.0 + (s.export_shock - old_shock)


class Trade(Actor):
    name = "trade"
    phase = 0.50
    rules = (grow_exports, shock_exports)
    PARAMS = PARAMS
