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
    growth_2002_2007: float    # mean log growth a year over 2002-07
    growth_2007_2012: float    # mean log growth a year over 2007-12
    trend_drift: float         # yearly sd of a random-walk growth rate giving that difference
    monthly_dev_var: float     # Var(change in annual mean log) from the monthly AR(1) deviations
    drift_var: float           # the same from the trend drift, over one year
    shock_sd: float            # annual shock sd making the model's Var(annual log growth) the data's
    growth_se: float           # standard error of the mean annual log growth 2002-2012
    growth_spread: float       # triangular spread with that sd: sqrt(6) x growth_se


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
    # Trend drift: the growth rate as a random walk with yearly sd d. The difference of the
    # mean rates of two adjacent five-year windows then has variance 3.4 d^2 (sum of the
    # squared weights of the yearly innovations), so d = |difference| / sqrt(3.4).
    i07 = int(np.flatnonzero(years == 2007)[0])
    g1 = float((logs[i07] - logs[0]) / (years[i07] - years[0]))
    g2 = float((logs[-1] - logs[i07]) / (years[-1] - years[i07]))
    drift = abs(g2 - g1) / np.sqrt(_window_weight_sq(5))
    from model.params import registry

    specs = registry()
    vd = annual_change_var_ar1(specs["trade_volatility"].default, specs["trade_persistence"].default)
    vdrift = annual_change_var_drift(specs["trade_trend_drift"].default)
    # Blocks held for a calendar year and independent across years: Var(change) = 2 sd^2.
    shock = float(np.sqrt(max(0.0, growth.var(ddof=1) - vd - vdrift) / 2))
    return TradeCalibration(
        trend_growth=float(np.exp(slope) - 1),
        growth_2012=g2012,
        mean_growth_2002_2011=float(simple[:-1].mean()),
        log_growth_sd=float(growth.std(ddof=1)),
        residual_sd=float(resid.std(ddof=2)),
        residual_ar1=float(np.corrcoef(resid[:-1], resid[1:])[0, 1]),
        exports_2012=float(exports[-1]),
        monthly_start=float(monthly),
        growth_2002_2007=g1, growth_2007_2012=g2, trend_drift=float(drift),
        monthly_dev_var=vd, drift_var=vdrift, shock_sd=shock,
        growth_se=float(growth.std(ddof=1) / np.sqrt(len(growth))),
        growth_spread=float(np.sqrt(6) * growth.std(ddof=1) / np.sqrt(len(growth))),
    )


def _window_weight_sq(w: int) -> float:
    """Sum of squared weights of the yearly innovations of a random-walk rate in the
    difference of the mean rates of two adjacent ``w``-year windows (3.4 for w = 5)."""
    first = sum(((s - 1) / w) ** 2 for s in range(2, w + 1))
    second = sum(((2 * w + 1 - s) / w) ** 2 for s in range(w + 1, 2 * w + 1))
    return first + second


def annual_change_var_ar1(sd: float, rho: float) -> float:
    """Var(mean of months 13-24 minus mean of months 1-12) of a stationary monthly AR(1)
    with long-run sd ``sd`` and persistence ``rho`` (log exports: annual log growth)."""
    k = np.arange(24)
    cov = sd**2 * rho ** np.abs(k[:, None] - k[None, :])
    w = np.r_[-np.ones(12), np.ones(12)] / 12
    return float(w @ cov @ w)


def annual_change_var_drift(drift: float) -> float:
    """Var(change in annual mean log level) over the first two years from a growth
    rate that is a random walk with yearly sd ``drift`` (monthly steps drift/sqrt(12)),
    starting at zero; the level adds rate/12 each month."""
    # Level in month t (1..24) = sum over s <= t of (t - s + 1) / 12 * e_s, e_s ~ N(0, drift^2 / 12).
    t = np.arange(1, 25)
    load = np.clip(t[:, None] - t[None, :] + 1, 0, None) / 12.0  # level_t on e_s
    w = np.r_[-np.ones(12), np.ones(12)] / 12
    coef = w @ load
    return float((coef**2).sum() * drift**2 / 12)


def trade_calibration_markdown(c: TradeCalibration | None = None) -> str:
    """The calibration arithmetic of the export shocks, for docs/calibration.md."""
    from model.params import registry

    c = c or calibrate_trade()
    s = registry()
    k = np.arange(12)
    vmean = float(s["trade_volatility"].default ** 2
                  * (s["trade_persistence"].default ** np.abs(k[:, None] - k[None, :])).mean())
    return "\n".join([
        f"- Target: the sd of annual log growth of ONS exports 2002-2012 is {c.log_growth_sd:.3f} "
        f"(variance {c.log_growth_sd ** 2:.4f}; all ten years, 2009's {np.log(2328 / 4072):+.3f} among them).",
        f"- Monthly deviations (`trade_volatility` {s['trade_volatility'].default:g}, `trade_persistence` "
        f"{s['trade_persistence'].default:g}, unchanged) give annual log growth a variance of "
        f"{c.monthly_dev_var:.4f}: a third of the target.",
        f"- Trend drift: log growth averaged {c.growth_2002_2007:.3f} a year in 2002-07 and "
        f"{c.growth_2007_2012:.3f} in 2007-12; for a random-walk rate the difference of two five-year means has "
        f"variance 3.4 times the yearly variance, so the drift is |{c.growth_2007_2012:.3f} - "
        f"{c.growth_2002_2007:.3f}| / sqrt(3.4) = {c.trend_drift:.3f} (`trade_trend_drift` "
        f"{s['trade_trend_drift'].default:g}; one comparison, so loose). It adds {c.drift_var:.4f} in the first year.",
        f"- Annual shock held for a calendar year, independent across years (as the annual deviations are: "
        f"lag-one autocorrelation {c.residual_ar1:+.2f}): variance of annual growth 2 x sd^2, so sd = "
        f"sqrt(({c.log_growth_sd ** 2:.4f} - {c.monthly_dev_var:.4f} - {c.drift_var:.4f}) / 2) = {c.shock_sd:.3f} "
        f"(`trade_shock_sd` {s['trade_shock_sd'].default:g}).",
        f"- Trend growth uncertainty: the standard error of the mean annual log growth 2002-2012 is "
        f"{c.log_growth_sd:.3f} / sqrt({round(c.log_growth_sd ** 2 / c.growth_se ** 2)}) = {c.growth_se:.3f}; a "
        f"triangular spread of sqrt(6) x {c.growth_se:.3f} = {c.growth_spread:.3f} has that sd (`trade_growth` "
        f"spread {s['trade_growth'].spread:g}, was 0.1).",
        f"- Check: the annual deviations from trend then have sd sqrt({c.shock_sd:.3f}^2 + {vmean:.4f}) = "
        f"{np.sqrt(c.shock_sd ** 2 + vmean):.3f} ({vmean:.4f}: the variance of the annual mean of the monthly "
        f"deviations), against the data's {c.residual_sd:.3f} around the log-linear trend.",
    ])


def steady_state_anchor() -> float:
    """The ``relations_anchor`` at which March 2013 is a steady state.

    The relationship had been a stable 'cool pragmatism' since the 2010 change of
    government, so with every driver held at its March 2013 level and events at
    their base rates, expected relations should neither rise nor fall from the
    starting +1. Solving the relations ledger's expected monthly change for zero
    gives this anchor; the default in :mod:`model.agents.relations` is it,
    rounded. Expected event costs use the defaults of each actor's parameters; the
    rare compound events (EU sanctions, Russian counter-measures) are left out, and
    a crisis's lasting part enters as its expected share of time in force.
    """
    from model.agents.uk_government import RUNG_COSTS
    from model.params import registry
    from model.scenario import Initial

    p = {k: s.default for k, s in registry().items()}
    ini = Initial()
    dr = ini.repression - 0.5
    major = p["incident_rate"] * np.exp(1.5 * dr) * p["major_incident_share"]
    incidents = p["incident_rate"] * np.exp(1.5 * dr) * (1 - p["major_incident_share"]) * p["incident_cost"] \
        + major * p["major_incident_cost"]
    exiles = p["exile_rate"] * np.exp(2.0 * dr) * p["asylum_grant_share"] * p["asylum_cost"]
    hostility = p["harassment_rate"] * np.exp(2.0 * dr) * p["harassment_cost"] + p["spy_row_rate"] * p["spy_row_cost"]
    # A crisis costs its severity at once (decaying at the relaxation rate once it ends) and
    # holds the equilibrium down while it lasts: mean length of a lognormal capped at 120 months.
    z = np.random.default_rng(0).standard_normal(200_000)
    months = np.clip(np.ceil(p["crisis_duration"] * np.exp(p["crisis_duration_spread"] * z)), 1, 120).mean()
    starts = p["crisis_rate"] + major  # a major incident opens a crisis too
    crises = starts * p["crisis_severity"]
    held = starts * months * p["crisis_severity"]
    # A major incident takes the ladder to expulsions (note + suspension + expulsion costs),
    # which Russia answers in kind and may meet by suspending formats.
    responses = major * (p["response_cost"] * RUNG_COSTS.sum()
                         + (p["reciprocity"] + p["russia_suspension_chance"]) * p["reply_cost"])
    spy_replies = p["spy_row_rate"] * p["spy_row_uk_first"] * p["reciprocity"] * p["reply_cost"]
    formula = p["formula_chance"] * (1 - p["formula_divergence_penalty"] * ini.syria_divergence) \
        * p["formula_gain"] / 12
    events = incidents + exiles + hostility + crises + responses + spy_replies - formula
    slow = (-p["weight_syria"] * ini.syria_divergence - p["weight_values"] * ini.repression
            - p["weight_protest"] * ini.protest
            + p["weight_trade"] * np.tanh(np.log1p(ini.export_growth) / 0.10)
            + p["weight_us"] * ini.us_russia)
    return float(ini.relations - slow + events / p["relaxation"] + held)
