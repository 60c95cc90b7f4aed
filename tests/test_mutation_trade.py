"""Exact bookings of ``trade.shock_exports`` (issue 14; its mutants survived without these).

The rule adds an annual export shock, drawn at the start and every January and held in
between, and a random walk in the trend's growth rate. Every parameter gets a distinct
value, the state a spread per run, and the draws are recomputed from an independent
``Streams`` on the same key and month (as in ``test_bookings.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from model.agents import trade
from model.engine import Model
from model.rng import Streams

SEED = 5  # the make_model fixture's seed


def _z(m: Model, stream: str) -> np.ndarray:
    """The standard normals ``m`` draws for ``stream`` this month, from an independent generator."""
    return special.ndtri(Streams(SEED, m.run_ids).uniform(stream, m.month))


def _model(make_model, baseline, start: str, month: int) -> Model:
    m = make_model(n=5, trade_shock_sd=0.23, trade_trend_drift=0.07)
    m.scenario = baseline.with_overrides({"initial.start": start})
    m.month = month
    m.rng.month = month
    m.s.export_trend = np.log(np.array([417.0, 300.0, 500.0, 100.0, 800.0]))
    m.s.export_dev = np.array([0.0, 0.1, -0.2, 0.05, 0.3])
    m.s.export_shock = np.array([0.02, -0.3, 0.0, 0.11, -0.05])
    m.s.export_drift = np.array([0.0, 0.04, -0.06, 0.1, -0.01])
    m.s.export_growth = np.array([0.064, 0.0, -0.1, 0.2, 0.5])
    return m


def _is_new_year(start: str, month: int) -> bool:
    """The shock is redrawn at the start and in every January (calendar arithmetic done afresh)."""
    year, mon = int(start[:4]), int(start[5:7])
    total = year * 12 + (mon - 1) + month
    return month == 0 or total % 12 == 0


@pytest.mark.parametrize("start,month", [("2013-03", 0), ("2013-03", 3), ("2013-03", 10), ("2013-03", 22),
                                         ("2014-01", 0), ("2014-01", 1), ("2014-01", 11), ("2014-01", 12),
                                         ("2015-12", 1), ("2015-12", 2)])
def test_shock_exports_books_shock_drift_trend_and_growth_exactly(make_model, baseline, start, month):
    m = _model(make_model, baseline, start, month)
    trend, dev, shock, drift, eg = (m.s.export_trend.copy(), m.s.export_dev.copy(), m.s.export_shock.copy(),
                                    m.s.export_drift.copy(), m.s.export_growth.copy())
    trade.shock_exports(m)
    new_shock = 0.23 * _z(m, "export_shock") if _is_new_year(start, month) else shock
    new_drift = drift + 0.07 / np.sqrt(12) * _z(m, "export_drift")
    new_trend = trend + new_drift / 12
    np.testing.assert_allclose(m.s.export_shock, new_shock, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(m.s.export_drift, new_drift, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(m.s.export_trend, new_trend, rtol=1e-14)
    np.testing.assert_allclose(m.s.exports, np.exp(new_trend + dev + new_shock), rtol=1e-12)
    np.testing.assert_allclose(m.s.export_growth, eg + new_drift / 12 + (new_shock - shock), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_array_equal(m.s.export_dev, dev)  # the deviation is grow_exports' alone


def test_the_shock_is_redrawn_in_exactly_the_januaries(make_model, baseline):
    """Over three years from March, the shock changes at month 0 and months 10, 22, 34 only."""
    m = make_model(n=3, trade_shock_sd=0.23, trade_trend_drift=0.07)
    changed = []
    for month in range(36):
        m.month = m.rng.month = month
        before = m.s.export_shock.copy()
        trade.shock_exports(m)
        if not np.array_equal(m.s.export_shock, before):
            changed.append(month)
    assert changed == [0, 10, 22, 34]


def test_without_shock_or_drift_the_rule_changes_only_the_exports_level(make_model, baseline):
    m = _model(make_model, baseline, "2013-03", 10)
    m.p.trade_shock_sd[:] = 0.0
    m.p.trade_trend_drift[:] = 0.0
    trend, dev, drift, eg = m.s.export_trend.copy(), m.s.export_dev.copy(), m.s.export_drift.copy(), \
        m.s.export_growth.copy()
    shock = m.s.export_shock.copy()
    trade.shock_exports(m)
    np.testing.assert_array_equal(m.s.export_shock, 0.0)
    np.testing.assert_array_equal(m.s.export_drift, drift)
    np.testing.assert_allclose(m.s.export_trend, trend + drift / 12, rtol=1e-14)
    np.testing.assert_allclose(m.s.export_growth, eg + drift / 12 - shock, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.s.exports, np.exp(m.s.export_trend + dev), rtol=1e-12)
