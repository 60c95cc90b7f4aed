"""Each rule's direction of effect, one rule at a time on a real Model.

Every test applies one rule to two otherwise identical models that differ in one
input, and checks the sign of the difference in the rule's output.
"""

from __future__ import annotations

import numpy as np

from model.agents import (
    dialogue,
    eu,
    exiles,
    kremlin,
    opposition,
    outside_world,
    relations,
    russia,
    spy_rows,
    trade,
    uk_government,
)


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
    for m in (nb, b):
        _set(m, repression_memory=0.8)  # repression well above its 2013 level
        opposition.grow_discontent(m)
    assert (b.s.grievance > nb.s.grievance).all()
    priced = make_model(protest_growth=0.0, backlash=0.05)
    _set(priced, repression_memory=0.55)  # the 2013 level is already priced into discontent
    before = priced.s.grievance.copy()
    opposition.grow_discontent(priced)
    np.testing.assert_array_equal(priced.s.grievance, before)


def test_discontent_grows_towards_its_ceiling_and_never_past_it(make_model):
    low, high = make_model(n=50, discontent_ceiling=0.4), make_model(n=50, discontent_ceiling=0.8)
    for m in (low, high):
        _set(m, grievance=0.35, repression_memory=0.9)
        for _ in range(600):
            opposition.grow_discontent(m)
    assert (high.s.grievance > low.s.grievance).all()
    assert (low.s.grievance <= 0.4).all() and (low.s.grievance > 0.39).all()
    assert (high.s.grievance <= 0.8).all() and (high.s.grievance > 0.75).all()


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
    assert (m.s.expulsions > 0).all() and m.s.uk_opened.all() and not m.s.dialogue_active.any()
    assert not m.s.sanctions.any()  # sanctions are the EU's decision
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
    assert (huge.s.ladder == 3).all() and not huge.s.sanctions.any()  # three rungs: expulsions is the top
    held = make_model()
    _set(held, ladder=3, pressure=50.0)
    uk_government.climb_ladder(held)
    assert not held.s.expulsions.any() and not held.s.uk_opened.any()  # a round on reaching the rung, not each month


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
    for m in (close, apart):
        m.month = m.rng.month = 12  # a later 2+2: the article's own is sure of a formula
    _set(close, syria_divergence=0.0)
    _set(apart, syria_divergence=1.0)
    dialogue.meet(close)
    dialogue.meet(apart)
    assert close.s.formula.mean() > apart.s.formula.mean()
    assert (close.contrib["dialogue"][close.s.formula] > 0).all()
    off = make_model()
    off.month = off.rng.month = 12
    off.s.dialogue_active = np.zeros(off.n, dtype=bool)
    dialogue.meet(off)
    assert not off.s.meeting.any() and not off.s.formula.any()


def test_the_first_meeting_finds_a_formula_whatever_the_gap(make_model):
    apart = make_model(n=2000, formula_chance=0.1, formula_divergence_penalty=1.0)
    _set(apart, syria_divergence=1.0, dialogue_active=False)
    dialogue.meet(apart)
    assert apart.s.formula.all() and (apart.contrib["dialogue"] > 0).all()


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


def test_pressure_read_as_a_foreign_plot_raises_threat_and_the_us_does_not(make_model):
    calm, pressed = make_model(foreign_plot=0.4), make_model(foreign_plot=0.4)
    _set(pressed, ladder=3, sanctions=True)
    for m in (calm, pressed):
        kremlin.perceive_threat(m)
    assert (pressed.s.threat > calm.s.threat).all()
    deaf = make_model(foreign_plot=0.0)
    _set(deaf, ladder=3, sanctions=True)
    kremlin.perceive_threat(deaf)
    np.testing.assert_array_equal(deaf.s.threat, calm.s.threat)
    cold = make_model()
    _set(cold, us_russia=-1.0)
    kremlin.perceive_threat(cold)
    warm = make_model()
    _set(warm, us_russia=1.0)
    kremlin.perceive_threat(warm)
    np.testing.assert_array_equal(cold.s.threat, warm.s.threat)


def test_threat_saturates_below_one(make_model):
    m = make_model(threat_sensitivity=8.0, foreign_plot=0.6)
    _set(m, protest=1.0, ladder=3, sanctions=True, threat=0.0)
    for _ in range(300):
        kremlin.perceive_threat(m)
    assert (m.s.threat < 1.0).all() and (m.s.threat > 0.99).all()


def test_a_regime_crisis_is_flagged_by_mass_mobilisation_and_lasts(make_model):
    m = make_model(regime_crisis_protest=0.3, protest_momentum=1.0, threshold_mean=0.0, deterrence=0.0)
    _set(m, grievance=0.9, protest=0.5)
    opposition.mobilise(m)
    assert m.s.regime_crisis.all()
    _set(m, grievance=0.05, protest=0.0)
    opposition.mobilise(m)
    assert m.s.regime_crisis.all() and (m.s.protest < 0.3).all()
    quiet = make_model()
    opposition.mobilise(quiet)  # March 2013: far below a mass mobilisation
    assert not quiet.s.regime_crisis.any()


def test_eu_sanctions_need_compound_pressure_and_a_lower_threshold_brings_them_sooner(make_model):
    one = make_model(eu_threshold=6.0)
    _set(one, crisis=True, crisis_level=1.5)  # one crisis of the Georgia kind
    eu.weigh_sanctions(one)
    assert not one.s.sanctions.any()
    many = make_model(eu_threshold=6.0)
    _set(many, crisis=True, crisis_level=3.0, major_incidents=1, expulsions=4.0, eu_pressure=2.0)
    eu.weigh_sanctions(many)
    assert many.s.sanctions.all() and (many.contrib["responses"] < 0).all()
    lax, strict = make_model(eu_threshold=3.0), make_model(eu_threshold=10.0)
    for m in (lax, strict):
        _set(m, eu_pressure=np.linspace(0, 12, m.n))
        eu.weigh_sanctions(m)
    assert lax.s.sanctions.sum() > strict.s.sanctions.sum() > 0
    assert (lax.s.sanctions >= strict.s.sanctions).all()


def test_eu_pressure_fades_and_sanctions_lift_only_once_it_has_halved(make_model):
    m = make_model(eu_threshold=6.0, eu_pressure_decay=0.1, sanctions_lift_chance=1.0)
    _set(m, eu_pressure=np.linspace(0, 8, m.n), sanctions=True, values_concern=0.0)
    eu.weigh_sanctions(m)
    assert (m.s.eu_pressure <= np.linspace(0, 8, m.n)).all()
    np.testing.assert_array_equal(m.s.sanctions, m.s.eu_pressure >= 3.0)


def test_russia_answers_more_rounds_the_more_reciprocal_it_is(make_model):
    lo, hi = make_model(reciprocity=0.2), make_model(reciprocity=0.95)
    for m in (lo, hi):
        _set(m, uk_opened=True, expulsions=4.0, russian_expulsions=0.0)
        russia.reciprocate_expulsions(m)
    assert (hi.s.russian_expulsions > 0).mean() > (lo.s.russian_expulsions > 0).mean()
    assert (hi.s.russian_expulsions[hi.s.russian_expulsions > 0] == 4.0).all()  # in kind
    assert (hi.contrib["russian_answers"][hi.s.russian_expulsions > 0] < 0).all()
    none = make_model(reciprocity=1.0)
    _set(none, uk_opened=False, expulsions=4.0, russian_expulsions=0.0)  # a UK reply, not a UK-opened round
    russia.reciprocate_expulsions(none)
    assert not none.s.russian_expulsions.any()


def test_russian_countermeasures_only_while_the_uk_escalates_and_once_an_episode(make_model):
    calm = make_model(countermeasure_chance=1.0)
    _set(calm, ladder=1)
    russia.counter_uk_institutions(calm)
    assert not calm.s.countermeasure.any()
    hot = make_model(countermeasure_chance=1.0)
    _set(hot, ladder=2)
    russia.counter_uk_institutions(hot)
    assert hot.s.countermeasure.all() and (hot.contrib["russian_answers"] < 0).all()
    russia.counter_uk_institutions(hot)
    assert not hot.s.countermeasure.any()  # once per episode
    _set(hot, ladder=0)
    russia.counter_uk_institutions(hot)  # the episode ends
    _set(hot, sanctions=True)
    russia.counter_uk_institutions(hot)  # a new one: sanctions in force
    assert hot.s.countermeasure.all()


def test_russia_answers_new_sanctions_with_counter_sanctions_that_cut_exports(make_model):
    m = make_model(counter_sanctions_chance=1.0)
    _set(m, sanctions=True, sanctions_before=np.arange(m.n) % 2 == 0)
    russia.counter_uk_institutions(m)
    np.testing.assert_array_equal(m.s.counter_sanctions, np.arange(m.n) % 2 == 1)  # new sanctions only
    free, hit = make_model(counter_sanctions_trade_hit=0.3), make_model(counter_sanctions_trade_hit=0.3)
    _set(hit, counter_sanctions=True)
    trade.grow_exports(free)
    trade.grow_exports(hit)
    assert (hit.s.exports < free.s.exports).all()


def test_russia_suspends_formats_only_on_the_expulsions_rung_and_that_stops_the_dialogue(make_model):
    below = make_model(russia_suspension_chance=1.0)
    _set(below, ladder=2)
    russia.suspend_formats(below)
    assert not below.s.russia_suspended.any()
    top = make_model(russia_suspension_chance=1.0)
    _set(top, ladder=3)
    russia.suspend_formats(top)
    assert top.s.russia_suspended.all() and not top.s.dialogue_active.any()
    assert (top.contrib["russian_answers"] < 0).all()
    _set(top, ladder=1)  # the UK steps down; Russia keeps its suspension until it resumes
    top.p.deescalation_chance[:] = 0.0
    russia.suspend_formats(top)
    assert top.s.russia_suspended.all() and not top.s.dialogue_active.any()
    uk_government.climb_ladder(top)  # the UK's own ladder does not reopen a format Russia closed
    assert not top.s.dialogue_active.any()
    top.p.deescalation_chance[:] = 1.0
    russia.suspend_formats(top)
    assert not top.s.russia_suspended.any() and top.s.dialogue_active.all()
    assert (top.contrib["dialogue"] > 0).all()


def test_spy_rows_break_at_their_rate_and_each_side_can_open(make_model):
    none = make_model(spy_row_rate=0.0)
    spy_rows.break_spy_rows(none)
    assert not none.s.expulsions.any() and not none.s.russian_expulsions.any()
    m = make_model(n=20000, spy_row_rate=0.05, spy_row_uk_first=0.6, reciprocity=0.0)
    spy_rows.break_spy_rows(m)
    uk, ru = m.s.expulsions > 0, m.s.russian_expulsions > 0
    assert 0.04 < (uk | ru).mean() < 0.06 and not (uk & ru).any()  # no replies at reciprocity 0
    assert uk.sum() > ru.sum() > 0 and m.s.uk_opened[uk].all() and not m.s.uk_opened[ru].any()
    assert (m.contrib["hostility"][uk | ru] < 0).all() and (m.contrib["hostility"][~(uk | ru)] == 0).all()


def test_bigger_median_rounds_expel_more(make_model):
    small, big = make_model(n=5000), make_model(n=5000)
    a = uk_government.round_size(small, "expulsion_size", 2.0)
    b = uk_government.round_size(big, "expulsion_size", 12.0)
    assert (b >= a).all() and b.mean() > a.mean()


def test_crises_last_longer_with_a_longer_typical_length(make_model):
    short, long = make_model(crisis_rate=1.0, crisis_duration=1.0), make_model(crisis_rate=1.0, crisis_duration=12.0)
    for m in (short, long):
        outside_world.strike_crises(m)
    assert (long.s.crisis_left >= short.s.crisis_left).all() and long.s.crisis_left.mean() > short.s.crisis_left.mean()
    assert short.s.in_crisis.all() and (short.s.crisis_left >= 1).all()


def test_a_major_incident_opens_a_crisis_the_next_month(make_model):
    m = make_model(crisis_rate=0.0)
    _set(m, major_incidents=np.arange(m.n) % 2)
    outside_world.strike_crises(m)
    np.testing.assert_array_equal(m.s.crisis, np.arange(m.n) % 2 == 1)
    assert (m.contrib["shocks"][m.s.crisis] <= m.contrib["shocks"][~m.s.crisis].max()).all()
