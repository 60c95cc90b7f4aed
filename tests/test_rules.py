"""Each rule's direction of effect, one rule at a time on a real Model.

Every test applies one rule to two otherwise identical models that differ in one
input, and checks the sign of the difference in the rule's output.
"""

from __future__ import annotations

import numpy as np

from model.agents import dialogue, exiles, kremlin, opposition, outside_world, relations, trade, uk_government


def _set(m, **state):
    for k, v in state.items():
        cur = getattr(m.s, k)
        setattr(m.s, k, np.full(m.n, v, dtype=np.asarray(cur).dtype))


def test_discontent_grows_with_protest_growth_and_backlash(make_model):
    lo, hi = make_model(protest_growth=0.0, backlash=0.0), make_model(protest_growth=0.05, backlash=0.0)
    opposition.grow_discontent(lo)
    opposition.grow_discontent(hi)
    assert (hi.s.grievance > lo.s.grievance).all()
    nb, b = make_model(protest_growth=0.0, backlash=0.0), make_model(protest_growth=0.0, backlash=0.02)
    opposition.grow_discontent(nb)
    opposition.grow_discontent(b)
    assert (b.s.grievance > nb.s.grievance).all()


def test_election_campaign_raises_protest_and_repression_deters(make_model):
    calm, campaign = make_model(), make_model()
    campaign.campaign = 1.0
    opposition.mobilise(calm)
    opposition.mobilise(campaign)
    assert (campaign.s.protest > calm.s.protest).all()
    soft, hard = make_model(), make_model()
    _set(soft, repression=0.2)
    _set(hard, repression=0.9)
    opposition.mobilise(soft)
    opposition.mobilise(hard)
    assert (hard.s.protest < soft.s.protest).all()
    assert (hard.s.protest <= hard.s.grievance).all()


def test_protest_raises_threat_and_threat_raises_repression(make_model):
    quiet, loud = make_model(), make_model()
    _set(loud, protest=0.4)
    kremlin.perceive_threat(quiet)
    kremlin.perceive_threat(loud)
    assert (loud.s.threat > quiet.s.threat).all()
    calm, alarmed = make_model(), make_model()
    _set(alarmed, threat=0.9)
    kremlin.repress(calm)
    kremlin.repress(alarmed)
    assert (alarmed.s.repression > calm.s.repression).all()


def test_repressiveness_raises_repression(make_model):
    lo, hi = make_model(repression=0.3), make_model(repression=0.9)
    kremlin.repress(lo)
    kremlin.repress(hi)
    assert (hi.s.repression > lo.s.repression).all()


def test_ngo_restriction_when_repression_ratchets_up(make_model):
    m = make_model()
    _set(m, repression=0.7, ngo_level=0.55)
    before = m.s.values_concern.copy()
    kremlin.restrict_foreign_ngos(m)
    assert (m.contrib["repression"] < 0).all()
    assert (m.s.values_concern > before).all()
    assert np.allclose(m.s.ngo_level, 0.7)
    again = make_model()
    _set(again, repression=0.56, ngo_level=0.55)
    kremlin.restrict_foreign_ngos(again)
    assert (again.contrib["repression"] == 0).all()


def test_harassment_rises_with_repression_and_costs_relations(make_model):
    lo, hi = make_model(n=20000, harassment_rate=0.05), make_model(n=20000, harassment_rate=0.05)
    _set(lo, repression=0.2)
    _set(hi, repression=0.9)
    kremlin.harass_diplomats(lo)
    kremlin.harass_diplomats(hi)
    assert hi.s.harassment.mean() > lo.s.harassment.mean()
    assert (hi.contrib["hostility"][hi.s.harassment] < 0).all()
    assert (hi.contrib["hostility"][~hi.s.harassment] == 0).all()


def test_syria_stance_follows_aim_and_threat(make_model):
    narrow, wide = make_model(syria_divergence=0.2), make_model(syria_divergence=1.0)
    kremlin.protect_assad(narrow)
    kremlin.protect_assad(wide)
    assert (wide.s.syria_divergence > narrow.s.syria_divergence).all()
    calm, alarmed = make_model(), make_model()
    _set(alarmed, threat=1.0)
    kremlin.protect_assad(calm)
    kremlin.protect_assad(alarmed)
    assert (alarmed.s.syria_divergence >= calm.s.syria_divergence).all()
    assert (alarmed.s.syria_divergence > calm.s.syria_divergence).any()


def test_values_concern_follows_repression(make_model):
    m = make_model()
    _set(m, repression=0.9, values_concern=0.5)
    uk_government.weigh_values(m)
    assert (m.s.values_concern > 0.5).all() and (m.s.values_concern < 0.9).all()


def test_rebel_aid_only_while_gap_is_wide(make_model):
    wide, narrow = make_model(rebel_aid_chance=0.2), make_model(rebel_aid_chance=0.2)
    _set(narrow, syria_divergence=0.3)
    uk_government.consider_rebel_aid(wide)
    uk_government.consider_rebel_aid(narrow)
    assert wide.s.rebel_aid.any() and not narrow.s.rebel_aid.any()
    armed = wide.s.rebel_aid
    assert (wide.s.syria_offset[armed] > 0).all() and (wide.contrib["syria_divergence"][armed] < 0).all()
    again = wide.s.rebel_aid.copy()
    uk_government.consider_rebel_aid(wide)  # a decision is taken once
    assert (wide.s.syria_offset[again] == wide.p.rebel_aid_divergence[again]).all()


def test_asylum_grants_never_exceed_arrivals(make_model):
    m = make_model(asylum_grant_share=1.0)
    m.s.arrivals = np.arange(m.n) % 3
    uk_government.decide_asylum(m)
    assert np.array_equal(m.s.asylum_grants, m.s.arrivals)
    assert (m.contrib["exiles"][m.s.arrivals > 0] < 0).all()
    none = make_model(asylum_grant_share=0.0)
    none.s.arrivals = np.arange(none.n) % 3
    uk_government.decide_asylum(none)
    assert not none.s.asylum_grants.any()


def test_ladder_climbs_under_pressure_and_steps_down_when_it_fades(make_model):
    m = make_model()
    _set(m, pressure=5.0)  # a major incident on top of background pressure
    uk_government.climb_ladder(m)
    assert (m.s.ladder == 3).all()
    assert (m.s.expulsions > 0).all() and not m.s.dialogue_active.any() and not m.s.sanctions.any()
    assert (m.contrib["responses"] < 0).all()
    m2 = make_model(deescalation_chance=1.0)
    _set(m2, ladder=2, pressure=0.0)
    m2.s.dialogue_active = m2.s.ladder < 2
    uk_government.climb_ladder(m2)
    assert (m2.s.ladder == 1).all() and m2.s.dialogue_active.all()
    assert (m2.contrib["dialogue"] > 0).all()
    huge = make_model()
    _set(huge, pressure=50.0)
    uk_government.climb_ladder(huge)
    assert huge.s.sanctions.all()


def test_engagement_raises_the_bar_for_escalation(make_model):
    hawk, dove = make_model(uk_engagement=0.0), make_model(uk_engagement=1.0)
    _set(hawk, pressure=2.0)
    _set(dove, pressure=2.0)
    uk_government.climb_ladder(hawk)
    uk_government.climb_ladder(dove)
    assert (hawk.s.ladder > dove.s.ladder).all()


def test_exiles_and_incidents_rise_with_repression(make_model):
    lo, hi = make_model(n=20000), make_model(n=20000)
    _set(lo, repression=0.2)
    _set(hi, repression=0.95)
    for m in (lo, hi):
        exiles.arrive(m)
        exiles.bring_problems_ashore(m)
    assert hi.s.arrivals.mean() > lo.s.arrivals.mean()
    assert hi.s.incidents.mean() > lo.s.incidents.mean()
    hit = hi.s.incidents > 0
    assert (hi.contrib["incidents"][hit] < 0).all() and (hi.contrib["incidents"][~hit] == 0).all()
    assert (hi.s.major_incidents <= hi.s.incidents).all()


def test_exports_grow_with_trend_and_suffer_from_hostility_and_sanctions(make_model):
    slow, fast = make_model(trade_growth=0.0), make_model(trade_growth=0.3)
    trade.grow_exports(slow)
    trade.grow_exports(fast)
    assert (fast.s.exports > slow.s.exports).all()
    calm, hostile = make_model(political_drag=0.05), make_model(political_drag=0.05)
    _set(hostile, relations=-8.0)
    trade.grow_exports(calm)
    trade.grow_exports(hostile)
    assert (hostile.s.exports < calm.s.exports).all()
    free, sanctioned = make_model(), make_model()
    sanctioned.s.sanctions = np.ones(sanctioned.n, dtype=bool)
    trade.grow_exports(free)
    trade.grow_exports(sanctioned)
    assert (sanctioned.s.exports < free.s.exports).all()


def test_formula_of_words_is_rarer_as_divergence_grows_and_needs_the_format(make_model):
    close, apart = make_model(n=20000), make_model(n=20000)
    _set(close, syria_divergence=0.0)
    _set(apart, syria_divergence=1.0)
    dialogue.meet(close)
    dialogue.meet(apart)
    assert close.s.formula.mean() > apart.s.formula.mean()
    assert (close.contrib["dialogue"][close.s.formula] > 0).all()
    off = make_model()
    off.s.dialogue_active = np.zeros(off.n, dtype=bool)
    dialogue.meet(off)
    assert not off.s.meeting.any() and not off.s.formula.any()


def test_us_russia_drifts_to_reset_and_crises_cost_relations(make_model):
    m = make_model(us_reset=1.0, us_volatility=0.0)
    outside_world.drift_us_russia(m)
    assert (m.s.us_russia > 0.2).all()
    c = make_model(n=20000, crisis_rate=1.0, crisis_severity=2.0, noise=0.0)
    outside_world.strike_crises(c)
    assert c.s.crisis.all()
    assert c.contrib["shocks"].mean() < -1.5 and (c.s.us_russia < 0.2).all()


def test_slow_drivers_pull_relations_by_their_change(make_model):
    m = make_model()
    relations.pull_toward_equilibrium(m)  # fixes the start month's reference levels
    for d in ("syria_divergence", "repression", "protest_growth", "trade_growth", "us_russia"):
        assert np.allclose(m.contrib[d], 0.0)
    m.new_month()
    _set(m, syria_divergence=1.0, values_concern=0.9, protest=0.4, us_russia=-0.5, export_growth=-0.2)
    relations.pull_toward_equilibrium(m)
    for d in ("syria_divergence", "repression", "protest_growth", "trade_growth", "us_russia"):
        assert (m.contrib[d] < 0).all(), d


def test_ledger_books_every_change_and_respects_bounds(make_model):
    m = make_model()
    m.contribute("shocks", np.full(m.n, -30.0))
    m.contribute("dialogue", np.full(m.n, 5.0))
    before = m.s.relations.copy()
    relations.close_month(m)
    assert np.allclose(m.s.relations, -10.0)
    booked = sum(m.out[f"contrib_{d}"][0] for d in relations.DRIVERS)
    np.testing.assert_allclose(m.out["relations"][0] - before, booked, atol=1e-12)


def test_export_deviations_revert_to_trend(make_model):
    m = make_model(n=20000)
    start = m.s.exports.copy()
    for month in range(120):
        m.rng.month = month
        trade.grow_exports(m)
    dev = np.log(m.s.exports) - m.s.export_trend
    # Stationary: the spread of deviations settles at trade_volatility instead of growing.
    assert abs(dev.std() - m.p.trade_volatility[0]) < 0.02
    growth = np.log(m.s.exports / start)
    assert abs(np.median(growth) - 10 * np.log1p(m.p.trade_growth[0])) < 0.05
