"""Edges of the rewritten rules that the mutation campaign of issue 14 found untested
(docs/testing.md, third pass): states held inside their scales at the extremes, a sanctions
shock that takes every export, crises capped at ten years, and a round of one diplomat."""

from __future__ import annotations

import numpy as np

from model.agents import eu, kremlin, outside_world, trade
from model.engine import Model
from model.scenario import load_scenario


def _fixed(n: int, **params) -> Model:
    base = load_scenario("baseline")
    sc = base.with_overrides({f"{k}.dist": "fixed" for k in base.params})
    m = Model(sc, np.arange(n), 7, horizon=12)
    for k, v in params.items():
        setattr(m.p, k, np.full(n, float(v)))
    return m


def test_syria_stance_stays_inside_its_scale_at_the_extremes():
    """Aim 1, the strongest link, full threat and arming the rebels push the target past 1 and the
    noise pushes further: the stance is still at most 1 (and the push is clipped at +1, so the target
    is exactly 1 before noise)."""
    n = 4000
    m = _fixed(n, syria_divergence=0.9, syria_regime_link=1.0, syria_volatility=0.2)
    m.s.threat = np.ones(n)
    m.s.syria_offset = np.full(n, 0.8)      # the UK has armed the rebels
    m.s.syria_divergence = np.full(n, 0.99)
    kremlin.protect_assad(m)
    noise = 0.2 * m.rng.normal("syria")
    want = np.clip(0.99 + 0.1 * (1.0 - 0.99) + noise, 0, 1)  # target: 0.9 + 0.1 x clip(1.5, -1, 1) = 1
    np.testing.assert_allclose(m.s.syria_divergence, want, rtol=0, atol=1e-15)
    assert m.s.syria_divergence.max() == 1.0 and (noise > 0.01).sum() > 1000


def test_a_sanctions_shock_of_size_one_takes_99_percent_of_exports_not_all():
    """Share 1 is capped at 0.99 in the log, so exports fall a hundredfold and stay finite."""
    n = 5
    m = _fixed(n, trade_volatility=0.0, political_drag=0.0, counter_sanctions_trade_hit=0.0)
    m.s.sanctions = np.ones(n, dtype=bool)
    m.s.sanctions_before = np.zeros(n, dtype=bool)
    m.s.counter_sanctions = np.zeros(n, dtype=bool)
    m.scenario = m.scenario.with_shocks([{"kind": "sanctions", "month": "2013-03", "size": 1.0}])
    trend0 = m.s.export_trend.copy()
    trade.grow_exports(m)
    annual = np.log1p(m.p.trade_growth)
    np.testing.assert_allclose(m.s.export_trend - trend0, annual / 12 + np.log(0.01), rtol=1e-12)
    assert np.isfinite(m.s.exports).all() and (m.s.exports > 0).all()


def test_crises_last_at_most_120_months():
    """A long median and the widest spread draw lengths past ten years: they are held at 120."""
    n = 3000
    m = _fixed(n, crisis_rate=1.0, crisis_duration=24.0, crisis_duration_spread=3.5)
    outside_world.strike_crises(m)
    assert m.s.crisis.all()
    months = np.ceil(24.0 * np.exp(3.5 * m.rng.normal("crisis_length")))
    np.testing.assert_array_equal(m.s.crisis_left, np.clip(months, 1, 120))
    assert (months > 120).sum() > 100 and m.s.crisis_left.max() == 120


def test_a_uk_round_of_one_diplomat_adds_the_expulsion_pressure_on_the_eu():
    n = 3
    m = _fixed(n, eu_pressure_decay=0.1, eu_threshold=15.0)
    m.s.eu_pressure = np.zeros(n)
    m.s.crisis = np.zeros(n, dtype=bool)
    m.s.major_incidents = np.zeros(n, dtype=np.int64)
    m.s.values_concern = np.full(n, 0.5)
    m.s.expulsions = np.array([0.0, 1.0, 7.0])
    eu.weigh_sanctions(m)
    np.testing.assert_allclose(m.s.eu_pressure, [0.0, eu.EXPULSION_PRESSURE, eu.EXPULSION_PRESSURE])


def test_a_fork_after_a_reindex_mid_campaign_with_windowed_shocks_carries_on_exactly():
    """The hardest fork the SMC filter makes: after a resample (generation 1, runs permuted), in the
    middle of the Moscow campaign (months 16-18), with shocks whose month each run drew in a window.
    The fork and the original, advanced to the horizon, record the same months bit for bit; and the
    fork shares no array with the original (changing one leaves the other as it was)."""
    base = load_scenario("baseline")
    sc = base.with_shocks([{"kind": "crisis", "month": "2013-05", "until": "2016-12", "size": 2.0},
                           {"kind": "major_incident", "month": "2014-01", "until": "2017-06"},
                           {"kind": "formula", "month": "2014-11"}])  # a fixed month too
    n = 300
    m = Model(sc, np.arange(n), 11, horizon=40)
    m.advance(10)
    from model.shocks import shock_months

    before = shock_months(m).copy()
    idx = np.random.default_rng(3).permutation(n)
    m.reindex(idx, generation=1)
    np.testing.assert_array_equal(shock_months(m), before[:, idx])  # each run keeps its ancestor's months
    m.advance(17)
    assert m.campaign == 1.0  # mid-campaign
    twin = m.fork()
    snapshot = {k: np.array(v, copy=True) for k, v in vars(m.s).items() if isinstance(v, np.ndarray)}
    twin.s.relations[:] = 99.0  # a fork that shared memory would change the original
    twin.p.repression[:] = -1.0
    for k, v in snapshot.items():
        np.testing.assert_array_equal(getattr(m.s, k), v, err_msg=k)
    assert (m.p.repression >= 0).all()
    twin = m.fork()
    m.advance(40)
    twin.advance(40)
    for name in m.out:
        np.testing.assert_array_equal(twin.out[name], m.out[name], err_msg=name)


def test_forks_early_in_overlapping_campaigns_carry_on_exactly():
    """Elections in May and June 2013 (three-month campaigns from the start month and from April, so
    they overlap, and the first began at the run's start): forks taken in months 1 and 2 carry on
    exactly as the unforked run does."""
    base = load_scenario("baseline")
    from model.scenario import Election

    elections = [Election(name="May", date="2013-05"), Election(name="June", date="2013-06")]
    sc = base.model_copy(update={"calendar": base.calendar.model_copy(update={"elections": elections})})
    n = 200
    full = Model(sc, np.arange(n), 13, horizon=8)
    full.run()
    for at in (1, 2):
        m = Model(sc, np.arange(n), 13, horizon=8)
        m.advance(at)
        twin = m.fork()
        twin.advance(8)
        for name in full.out:
            np.testing.assert_array_equal(twin.out[name], full.out[name], err_msg=f"fork at {at}: {name}")


def test_copies_of_one_run_part_ways_after_a_reindex():
    """Resampling copies a run; the copies must then draw fresh randomness keyed to the new generation,
    not the futures their slots had before the resample (which would tie the posterior to the prior's
    draws), and each copy goes its own way."""
    n = 50
    m = Model(load_scenario("baseline"), np.arange(n), 17, horizon=30)
    m.advance(6)
    m.reindex(np.zeros(n, dtype=np.int64), generation=1)
    from model.rng import Streams

    # Not the draws each slot would have made without the resample (generation 0), and distinct.
    fresh = m.rng.uniform("noise")
    assert m.rng.generation == 1 and m.rng.month == 6
    assert not np.isin(fresh, Streams(17, np.arange(n)).uniform("noise", 6)).any()
    m.advance(30)
    after = m.out["relations"][6:]
    assert len({tuple(np.round(after[:, i], 12)) for i in range(n)}) == n  # every copy on its own path
    np.testing.assert_array_equal(m.out["relations"][:6], np.repeat(m.out["relations"][:6, :1], n, axis=1))
