"""Trade calibration on ONS exports 2002-2012, and the steady-state anchor."""

from __future__ import annotations

import numpy as np
import pytest

from model.calibration import calibrate_trade, steady_state_anchor, trade_history
from model.params import registry
from model.scenario import Initial


def test_history_is_the_shipped_data():
    years, exports = trade_history()
    assert years[0] == 2002 and years[-1] == 2012 and len(years) == 11
    assert exports[-1] == 4791 and exports[0] == 1013


def test_calibrated_reference_numbers():
    c = calibrate_trade()
    _, e = trade_history()
    assert c.growth_2012 == pytest.approx(e[-1] / e[-2] - 1)
    assert 0.15 < c.trend_growth < 0.17  # log-linear OLS 2002-2012
    assert 0.19 < c.mean_growth_2002_2011 < 0.23  # the article's "averaged 21%"
    assert c.log_growth_sd == pytest.approx(np.diff(np.log(e)).std(ddof=1))
    assert 0.18 < c.residual_sd < 0.20 and -0.2 < c.residual_ar1 < 0.05


def test_trade_defaults_sit_on_the_calibration():
    c = calibrate_trade()
    specs = registry()
    g = specs["trade_growth"]
    assert c.growth_2012 < g.default < c.trend_growth
    lo, hi = g.default - g.spread, g.default + g.spread
    assert lo <= c.growth_2012 and hi >= c.trend_growth  # the spread covers both readings
    assert specs["trade_volatility"].default == pytest.approx(c.residual_sd, abs=0.005)
    # Deviations barely persist from one year to the next: monthly persistence^12 ~ annual AR(1).
    assert abs(specs["trade_persistence"].default ** 12 - c.residual_ar1) < 0.2
    ini = Initial()
    assert ini.exports_gbp_m == pytest.approx(c.monthly_start, rel=0.01)
    assert ini.export_growth == pytest.approx(c.growth_2012, abs=0.001)


def test_shock_and_drift_calibration_recomputed_by_hand():
    """The annual-shock, trend-drift and trend-spread figures, from the series by hand."""
    from model.calibration import annual_change_var_ar1, annual_change_var_drift

    c = calibrate_trade()
    _, e = trade_history()
    d = np.diff(np.log(e))
    # Two five-year windows of mean log growth: 2002-07 and 2007-12.
    g1, g2 = np.log(e[5] / e[0]) / 5, np.log(e[10] / e[5]) / 5
    assert (c.growth_2002_2007, c.growth_2007_2012) == pytest.approx((g1, g2))
    # Weights of the yearly innovations in (mean of years 6-10) - (mean of years 1-5): (s-1)/5, then (11-s)/5.
    w = [(s - 1) / 5 for s in range(2, 6)] + [(11 - s) / 5 for s in range(6, 11)]
    assert sum(x * x for x in w) == pytest.approx(3.4)
    assert c.trend_drift == pytest.approx(abs(g2 - g1) / np.sqrt(3.4))
    # Monthly AR(1): variance of the change in annual means, by brute-force simulation.
    rng = np.random.default_rng(1)
    n, rho, sd = 200_000, 0.8, 0.19
    x = np.empty((n, 24))
    x[:, 0] = sd * rng.standard_normal(n)
    for t in range(1, 24):
        x[:, t] = rho * x[:, t - 1] + sd * np.sqrt(1 - rho**2) * rng.standard_normal(n)
    sim = (x[:, 12:].mean(1) - x[:, :12].mean(1)).var()
    assert annual_change_var_ar1(sd, rho) == pytest.approx(sim, rel=0.02)
    # Drift: the growth rate a random walk with monthly steps drift/sqrt(12), level adds rate/12.
    steps = 0.06 / np.sqrt(12) * rng.standard_normal((n, 24))
    level = np.cumsum(np.cumsum(steps, axis=1) / 12, axis=1)
    sim = (level[:, 12:].mean(1) - level[:, :12].mean(1)).var()
    assert annual_change_var_drift(0.06) == pytest.approx(sim, rel=0.03)
    shock = np.sqrt((d.var(ddof=1) - c.monthly_dev_var - c.drift_var) / 2)
    assert c.shock_sd == pytest.approx(shock) and 0.14 < c.shock_sd < 0.17
    assert c.growth_se == pytest.approx(d.std(ddof=1) / np.sqrt(10))


def test_new_trade_defaults_sit_on_the_calibration():
    c = calibrate_trade()
    specs = registry()
    assert specs["trade_shock_sd"].default == pytest.approx(c.shock_sd, abs=0.005)
    assert specs["trade_trend_drift"].default == pytest.approx(c.trend_drift, abs=0.005)
    assert specs["trade_growth"].spread == pytest.approx(c.growth_spread, abs=0.005)


def test_model_annual_growth_volatility_matches_the_series(baseline):
    """End to end: with trend growth fixed and no political drag, the simulated sd of annual
    log growth (calendar years 2014 to 2015) is the series' 0.28, and was 0.17 before the fix."""
    from model import simulate

    _, e = trade_history()
    target = np.diff(np.log(e)).std(ddof=1)
    fixed = {"trade_growth.dist": "fixed", "political_drag": 0.0, "sanctions_trade_hit": 0.0}
    for extra, lo, hi in (({}, target - 0.03, target + 0.03),
                          ({"trade_shock_sd": 0.0, "trade_trend_drift": 0.0}, 0.12, 0.19)):
        ds = simulate(baseline.with_overrides(fixed | extra), runs=4000, seed=8, horizon=34)
        x = ds["exports_gbp_m"].values
        years = ds["time"].dt.year.values
        a14, a15 = x[:, years == 2014].sum(1), x[:, years == 2015].sum(1)
        sd = np.log(a15 / a14).std()
        print(f"\nsd of annual log growth 2014-15: {sd:.3f} (series {target:.3f}; overrides {extra})")
        assert lo < sd < hi


def test_anchor_default_is_the_steady_state():
    assert registry()["relations_anchor"].default == pytest.approx(steady_state_anchor(), abs=0.15)


def test_steady_state_holds_when_drivers_are_frozen(baseline):
    """With discontent not growing, the US level fixed, no rebel aid and the Syria
    aim at its starting level, mean relations stay near the start over two years."""
    from model import simulate

    frozen = {"protest_growth": 0.0, "backlash": 0.0, "rebel_aid_chance": 0.0, "us_reset": 0.2,
              **{f"{k}.dist": "fixed" for k in baseline.params}}
    ds = simulate(baseline.with_overrides(frozen), runs=4000, seed=3, horizon=24)
    mean_path = ds["relations"].mean("run").values
    assert abs(mean_path[-1] - 1.0) < 1.0
