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
