"""Exact bookings: every rule moves state and books relations by exactly its parameters' amounts.

Each test builds a small real Model, hand-sets a distinct value for every parameter the
rule reads (so swapping two of them changes the answer) and a spread of states per run,
applies the rule once and compares with the rule's documented formula computed here.
Random events are recomputed from an independent ``Streams`` on the same key and month,
inverted with scipy, so the test fixes which runs have an event and books exact amounts.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

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
from model.agents.relations import DRIVERS
from model.engine import CalendarPlan, Model, initial_state
from model.rng import Streams

SEED = 5  # the make_model fixture's seed


def _u(m: Model, stream: str) -> np.ndarray:
    """The uniforms ``m`` draws for ``stream`` this month, from an independent generator."""
    return Streams(SEED, m.run_ids).uniform(stream, m.month)


def _set(m: Model, **state) -> None:
    for k, v in state.items():
        cur = np.asarray(getattr(m.s, k))
        setattr(m.s, k, np.broadcast_to(np.asarray(v, dtype=cur.dtype), (m.n,)).copy())


def _booked(m: Model, **expected) -> None:
    """Each named driver booked exactly its amount, every other driver nothing."""
    for d in DRIVERS:
        want = expected.get(d, 0.0)
        np.testing.assert_allclose(m.contrib[d], np.broadcast_to(want, (m.n,)), rtol=1e-12, atol=1e-12,
                                   err_msg=d)


def _only(m: Model, driver: str, expected) -> None:
    """``driver`` booked exactly ``expected``, every other driver nothing."""
    _booked(m, **{driver: expected})


def _round(median, spread, u) -> np.ndarray:
    """A round of expulsions as documented: lognormal around the median, whole people, 1 to 200."""
    return np.clip(np.round(median * np.exp(spread * special.ndtri(u))), 1.0, 200.0)


@pytest.fixture
def shocked(baseline):
    """A Model like ``make_model``'s whose scenario carries dated ``shocks``, at month ``month``."""

    def _make(shocks: list[dict], n: int = 50, month: int = 0, **param_values) -> Model:
        sc = baseline.with_overrides({f"{k}.dist": "fixed" for k in baseline.params}).with_shocks(shocks)
        m = Model(sc, np.arange(n), SEED, horizon=60)
        for k, v in param_values.items():
            setattr(m.p, k, np.full(n, float(v)))
        m.month = m.rng.month = month
        return m

    return _make


def test_discontent_grows_logistically_to_its_ceiling_plus_backlash_above_2013(make_model):
    p = dict(protest_growth=0.03, backlash=0.011, discontent_ceiling=0.62)
    m = make_model(n=7, **p)
    g = np.array([0.0, 0.1, 0.35, 0.6, 0.62, 0.8, 1.0])  # at the ceiling, above it, at 1
    mem = np.array([0.9, 0.2, 0.55, 0.7, 0.3, 0.95, 0.3])  # below, at and above the 2013 level 0.55
    _set(m, grievance=g, repression_memory=mem)
    opposition.grow_discontent(m)
    push = 0.03 * g + 0.011 * np.maximum(0.0, mem - 0.55)
    room = np.maximum(1 - g / 0.62, 0.0)  # growing: only into the room left below the ceiling
    np.testing.assert_allclose(m.s.grievance, np.clip(g + push * room, 0, 1), rtol=1e-14)
    assert m.s.grievance[0] > 0 and m.s.grievance[1] < 0.1 + 0.03 * 0.1  # backlash at 0; the ceiling slows growth
    np.testing.assert_array_equal(m.s.grievance[4:], g[4:])  # at or above the ceiling, growth stops
    fade = make_model(n=2, protest_growth=-0.05, backlash=0.0, discontent_ceiling=0.5)
    _set(fade, grievance=np.array([0.4, 0.7]), repression_memory=0.9)
    opposition.grow_discontent(fade)  # fading is not held back by the ceiling
    np.testing.assert_allclose(fade.s.grievance, [0.4 - 0.05 * 0.4, 0.7 - 0.05 * 0.7], rtol=1e-14)
    _booked(m)


@pytest.mark.parametrize("campaign", [0.0, 1.0])
def test_mobilisation_follows_the_threshold_cascade(make_model, campaign):
    p = dict(threshold_mean=0.17, threshold_spread=0.13, deterrence=0.21, election_spark=0.07,
             protest_momentum=0.45)
    m = make_model(n=4, **p)
    m.campaign = campaign
    protest = np.array([0.05, 0.12, 0.3, 0.5])
    grievance = np.array([0.3, 0.35, 0.8, 0.3])  # the last run starts above its grievance
    rep = np.array([0.2, 0.55, 0.9, 0.4])
    _set(m, protest=protest, grievance=grievance, repression=rep)
    opposition.mobilise(m)
    z = (protest + p["election_spark"] * campaign - p["deterrence"] * rep - p["threshold_mean"]) / p["threshold_spread"]
    joining = grievance / (1 + np.exp(-z))
    want = np.minimum(protest + p["protest_momentum"] * (joining - protest), grievance)
    np.testing.assert_allclose(m.s.protest, want, rtol=1e-13)
    assert m.s.protest[3] == 0.3  # capped at grievance


def test_threat_saturates_with_protest_and_adds_pressure_read_as_a_foreign_plot(make_model):
    m = make_model(n=6, threat_sensitivity=2.7, foreign_plot=0.37)
    protest = np.array([0.0, 0.1, 0.2, 0.6, 0.1, 1.0])
    ladder = np.array([0, 3, 1, 2, 3, 0])
    sanc = np.array([False, True, False, True, False, False])
    us = np.array([0.5, -0.4, 0.0, 0.0, -1.0, 1.0])  # the US does not enter
    threat = np.array([0.3, 0.3, 0.9, 0.2, 0.0, 1.0])
    _set(m, protest=protest, ladder=ladder, sanctions=sanc, us_russia=us, threat=threat)
    kremlin.perceive_threat(m)
    from_protest = 1 - np.exp(-2.7 * protest)
    plot = 0.37 * (ladder / 3 + sanc) / 2
    target = 1 - (1 - from_protest) * (1 - plot)
    np.testing.assert_allclose(m.s.threat, threat + 0.3 * (target - threat), rtol=1e-13)
    cold = make_model(n=6, threat_sensitivity=2.7, foreign_plot=0.37)
    _set(cold, protest=protest, ladder=ladder, sanctions=sanc, us_russia=-1.0, threat=threat)
    kremlin.perceive_threat(cold)
    np.testing.assert_array_equal(cold.s.threat, m.s.threat)
    _booked(m)


def test_repression_moves_to_its_target_and_memory_follows(make_model):
    m = make_model(n=4, repression=0.7, repression_speed=0.23)
    threat = np.array([0.0, 0.3, 0.9, 0.4])
    rep = np.array([0.55, 0.1, 0.95, 0.0])
    mem = np.array([0.5, 0.2, 0.6, 0.0])
    _set(m, threat=threat, repression=rep, repression_memory=mem)
    kremlin.repress(m)
    target = 0.7 * (0.75 + 0.5 * threat)
    new = rep + 0.23 * (target - rep)
    np.testing.assert_allclose(m.s.repression, new, rtol=1e-13)
    np.testing.assert_allclose(m.s.repression_memory, mem + (new - mem) / 12, rtol=1e-13)
    strong = make_model(n=1, repression=0.9, repression_speed=0.5)
    _set(strong, threat=1.0, repression=0.5)
    kremlin.repress(strong)
    np.testing.assert_allclose(strong.s.repression, 0.5 + 0.5 * (1.0 - 0.5))  # 0.9 x 1.25 capped at 1
    _booked(m)


def test_ngo_law_books_its_cost_at_exactly_the_step(make_model):
    m = make_model(n=4, ngo_step=0.125, ngo_cost=0.37)
    rep = np.array([0.625, 0.6, 0.9, 0.5])  # at the step, below it, above it, at the old level
    vc = np.array([0.4, 0.4, 0.98, 0.3])
    _set(m, repression=rep, ngo_level=0.5, values_concern=vc)
    kremlin.restrict_foreign_ngos(m)
    law = np.array([True, False, True, False])
    np.testing.assert_allclose(m.s.ngo_level, np.where(law, rep, 0.5))
    np.testing.assert_allclose(m.s.values_concern, [0.45, 0.4, 1.0, 0.3])
    _only(m, "repression", -0.37 * law)


def test_harassment_books_its_cost_and_pressure(make_model):
    n = 400
    m = make_model(n=n, harassment_rate=0.11, harassment_cost=0.43)
    rep = np.linspace(0, 1, n)
    threat = np.linspace(1, 0, n) ** 2
    _set(m, repression=rep, threat=threat, pressure=0.25)
    kremlin.harass_diplomats(m)
    rate = 0.11 * np.exp(2.0 * (rep - 0.5)) * (0.5 + threat) / (0.5 + 0.3)
    hit = _u(m, "harassment") < rate
    assert 20 < hit.sum() < n - 20
    np.testing.assert_array_equal(m.s.harassment, hit)
    np.testing.assert_allclose(m.s.pressure, 0.25 + 0.5 * hit)
    _only(m, "hostility", -0.43 * hit)


def test_syria_stance_closes_a_share_of_the_remaining_gap_plus_noise(make_model):
    m = make_model(n=6, syria_divergence=0.62, syria_regime_link=0.27, syria_volatility=0.045)
    sd = np.array([0.8, 0.1, 0.5, 0.99, 0.0, 0.6])
    threat = np.array([0.3, 0.9, 0.0, 1.0, 0.5, 0.0])
    offset = np.array([0.0, 0.0, 0.1, 0.4, 0.0, -5.0])  # the last pushes below -1: clipped
    _set(m, syria_divergence=sd, threat=threat, syria_offset=offset)
    kremlin.protect_assad(m)
    push = 0.27 * (threat - 0.3) + offset
    # A hardening push closes its share of the gap up to 1, an easing one of the gap down to 0.
    target = np.where(push > 0, 0.62 + (1 - 0.62) * push, 0.62 + 0.62 * np.maximum(push, -1.0))
    want = np.clip(sd + 0.1 * (target - sd) + 0.045 * special.ndtri(_u(m, "syria")), 0, 1)
    np.testing.assert_allclose(m.s.syria_divergence, want, rtol=1e-13)
    _booked(m)


def test_values_concern_follows_repression_and_adds_pressure(make_model):
    m = make_model(n=4, values_speed=0.17, values_pressure=0.09)
    vc = np.array([0.2, 0.5, 0.9, 0.7])
    rep = np.array([0.9, 0.8, 0.1, 0.7])
    _set(m, values_concern=vc, repression=rep, pressure=1.5)
    uk_government.weigh_values(m)
    new = vc + 0.17 * (rep - vc)
    np.testing.assert_allclose(m.s.values_concern, new, rtol=1e-14)
    np.testing.assert_allclose(m.s.pressure, 1.5 + 0.09 * np.maximum(0.0, new - 0.5), rtol=1e-14)


def test_rebel_aid_books_its_cost_and_divergence_once(make_model):
    n = 300
    m = make_model(n=n, rebel_aid_chance=0.2, rebel_aid_divergence=0.13, rebel_aid_cost=0.77)
    sd = np.where(np.arange(n) % 3 == 0, 0.5, 0.8)  # a third exactly at 0.5: not "wide"
    already = np.arange(n) % 5 == 0
    _set(m, syria_divergence=sd, rebel_aid=already, syria_offset=0.05)
    uk_government.consider_rebel_aid(m)
    decide = ~already & (sd > 0.5) & (_u(m, "rebel_aid") < 0.2)
    assert decide.sum() > 10
    np.testing.assert_array_equal(m.s.rebel_aid, already | decide)
    np.testing.assert_allclose(m.s.syria_offset, 0.05 + 0.13 * decide)
    _only(m, "syria_divergence", -0.77 * decide)


def test_each_asylum_grant_books_its_cost(make_model):
    n = 200
    m = make_model(n=n, asylum_grant_share=0.55, asylum_cost=0.35)
    arrivals = np.arange(n) % 4
    m.s.arrivals = arrivals.astype(np.int64)
    uk_government.decide_asylum(m)
    want = sum((k < arrivals) & (_u(m, f"asylum:{k}") < 0.55) for k in range(3))
    assert 0 < want.sum() < arrivals.sum()
    np.testing.assert_array_equal(m.s.asylum_grants, want)
    _only(m, "exiles", -0.35 * want)


# The ladder as documented: rungs (note, suspension, expulsions) at 1, 2.5 and 3.5 times the
# escalation threshold, costing 0.3, 1 and 2 times response_cost (see UK government parameters).
THRESH = (1.0, 2.5, 3.5)
COSTS = (0.2, 1.0, 1.2)  # RUNG_COSTS as documented: note, suspension, expulsions


def test_ladder_climbs_costs_and_steps_down_exactly(make_model):
    p = dict(uk_engagement=0.4, escalation_threshold=1.3, goodwill_buffer=0.06, trade_constituency=0.25,
             pressure_decay=0.2, deescalation_chance=0.5, response_cost=1.1, expulsion_size=3.4,
             expulsion_size_spread=0.7, resume_gain=0.6)
    n = 600
    m = make_model(n=n, **p)
    g = np.random.default_rng(0)
    rel = g.choice([-10.0, -3.0, 0.0, 2.5, 10.0], n)
    growth = g.choice([-0.3, 0.0, 0.064, 0.4], n)
    ladder = g.integers(0, 4, n)
    pressure = g.choice([0.0, 0.2, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 9.0, 20.0], n)
    suspended = g.random(n) < 0.3  # Russia's own suspension keeps the format closed whatever the UK does
    sanc = g.random(n) < 0.5
    _set(m, relations=rel, export_growth=growth, ladder=ladder, pressure=pressure, russia_suspended=suspended,
         sanctions=sanc)
    m.s.dialogue_active = ladder < 2
    uk_government.climb_ladder(m)
    down_u = _u(m, "deescalate")
    size = _round(3.4, 0.7, _u(m, "expulsion_size"))
    assert len(set(size)) >= 5
    for i in range(n):
        goodwill = min(1.5, max(0.5, 1 + p["goodwill_buffer"] * rel[i]))
        ballast = 1 + p["trade_constituency"] * np.tanh(growth[i] / 0.1)
        tol = p["escalation_threshold"] * (0.5 + p["uk_engagement"]) * goodwill * ballast
        reached = sum(pressure[i] >= tol * f for f in THRESH)
        L = ladder[i]
        top = max(L, reached)
        cost = p["response_cost"] * sum(COSTS[L:top])
        down = (reached <= L and L > 0 and pressure[i] < 0.5 * tol * THRESH[max(L - 1, 0)]
                and down_u[i] < p["deescalation_chance"])
        new = top - down
        assert m.s.ladder[i] == new, i
        assert m.s.dialogue_active[i] == (new < 2 and not suspended[i]), i
        expel = L < 3 <= new
        assert m.s.expulsions[i] == (size[i] if expel else 0.0) and m.s.uk_opened[i] == expel, i
        np.testing.assert_allclose(m.contrib["responses"][i], -cost, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(m.contrib["dialogue"][i], 0.6 if (down and L == 2) else 0.0)
    np.testing.assert_array_equal(m.s.sanctions, sanc)  # sanctions are the EU's, not a rung
    np.testing.assert_allclose(m.s.pressure, pressure * 0.8)
    assert len(set(zip(ladder, m.s.ladder, strict=True))) >= 9  # many (from, to) pairs exercised
    assert m.s.expulsions.max() <= 200 and (m.s.expulsions == np.round(m.s.expulsions)).all()


def test_arrivals_are_poisson_at_the_scaled_rate(make_model):
    n = 500
    m = make_model(n=n, exile_rate=0.37)
    rep = np.linspace(0, 1, n)
    _set(m, repression=rep)
    exiles.arrive(m)
    want = stats.poisson.ppf(_u(m, "arrivals"), 0.37 * np.exp(2.0 * (rep - 0.5)))
    np.testing.assert_array_equal(m.s.arrivals, want)


def test_incidents_book_minor_and_major_costs_and_pressure(make_model):
    n = 2000
    m = make_model(n=n, incident_rate=0.17, major_incident_share=0.35, incident_cost=0.7,
                   major_incident_cost=3.3)
    rep = np.linspace(0, 1, n)
    _set(m, repression=rep, pressure=0.5)
    exiles.bring_problems_ashore(m)
    k = stats.poisson.ppf(_u(m, "incidents"), 0.17 * np.exp(1.5 * (rep - 0.5)))
    major = (k > 0) & (_u(m, "major") < 1 - 0.65**k)
    minor = k - major
    assert major.sum() > 10 and (minor > 0).sum() > 10 and (k >= 2).any()
    np.testing.assert_array_equal(m.s.incidents, k)
    np.testing.assert_array_equal(m.s.major_incidents, major)
    np.testing.assert_allclose(m.s.pressure, 0.5 + minor + 4.0 * major)
    _only(m, "incidents", -(0.7 * minor + 3.3 * major))


def test_exports_follow_trend_drag_sanctions_counter_sanctions_and_deviation(make_model):
    p = dict(trade_growth=0.12, trade_volatility=0.21, trade_persistence=0.7, political_drag=0.013,
             sanctions_trade_hit=0.22, counter_sanctions_trade_hit=0.09)
    m = make_model(n=6, **p)
    rel = np.array([1.0, -4.0, -10.0, 0.0, -2.0, 3.0])
    sanc = np.array([False, True, True, False, True, False])
    before = np.array([False, False, True, True, False, False])
    counter = np.array([False, True, False, False, False, False])
    dev = np.array([0.0, 0.1, -0.2, 0.05, 0.3, -0.1])
    trend = np.log(np.array([417.0, 300.0, 500.0, 417.0, 100.0, 800.0]))
    eg = np.array([0.064, 0.0, -0.1, 0.2, 0.5, 0.064])
    _set(m, relations=rel, sanctions=sanc, sanctions_before=before, counter_sanctions=counter, export_dev=dev,
         export_trend=trend, export_growth=eg)
    trade.grow_exports(m)
    annual = np.log1p(0.12) - 0.013 * np.maximum(0, -rel)
    hit = np.log(1 - 0.22) * (sanc & ~before) + np.log(1 - 0.09) * counter
    new_dev = 0.7 * dev + 0.21 * np.sqrt(1 - 0.49) * special.ndtri(_u(m, "exports"))
    new_trend = trend + annual / 12 + hit
    np.testing.assert_allclose(m.s.export_trend, new_trend, rtol=1e-14)
    np.testing.assert_allclose(m.s.export_dev, new_dev, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.s.exports, np.exp(new_trend + new_dev), rtol=1e-12)
    step = annual / 12 + hit + new_dev - dev
    np.testing.assert_allclose(m.s.export_growth, eg + (12 * step - eg) / 12, rtol=1e-12, atol=1e-15)
    _booked(m)


def test_later_meetings_find_a_formula_with_the_stated_chance_and_book_its_gain(make_model):
    n = 400
    m = make_model(n=n, formula_chance=0.85, formula_divergence_penalty=0.45, formula_gain=0.35)
    m.month = m.rng.month = 12  # the second 2+2, a year after the article's
    sd = np.linspace(0, 1, n)
    active = np.arange(n) % 4 != 0
    _set(m, syria_divergence=sd, dialogue_active=active)
    dialogue.meet(m)
    formula = active & (_u(m, "formula") < 0.85 * (1 - 0.45 * sd))
    np.testing.assert_array_equal(m.s.meeting, active)
    np.testing.assert_array_equal(m.s.formula, formula)
    assert 0 < formula.sum() < active.sum()
    _only(m, "dialogue", 0.35 * formula)
    m.s.dialogue_active[:] = False  # the meeting flag is a copy, not a view of the format's state
    assert m.s.meeting.sum() == active.sum()


@pytest.mark.parametrize("month", [1, 11, 13, 30])
def test_no_meeting_between_scheduled_2_plus_2s(make_model, month):
    m = make_model(n=20, formula_chance=1.0, formula_divergence_penalty=0.0, formula_gain=0.35)
    m.month = m.rng.month = month
    dialogue.meet(m)
    assert not m.s.meeting.any() and not m.s.formula.any()
    _booked(m)


def test_the_articles_meeting_finds_a_formula_in_every_run(make_model):
    """'A formula of words will be found': the first 2+2 (March 2013) finds one whatever the chance,
    the Syria gap or a suspension before it; it books the formula's gain."""
    n = 300
    m = make_model(n=n, formula_chance=0.05, formula_divergence_penalty=0.95, formula_gain=0.27)
    assert m.month == 0 and m.calendar.first_meeting == 0 and m.calendar.first_is_article_meeting
    _set(m, syria_divergence=np.linspace(0, 1, n), dialogue_active=np.arange(n) % 3 != 0)
    dialogue.meet(m)
    assert m.s.meeting.all() and m.s.formula.all()
    _only(m, "dialogue", np.full(n, 0.27))


def test_only_the_articles_own_meeting_is_sure_of_a_formula(baseline):
    later = baseline.with_overrides({"initial.start": "2013-06", "calendar.first_meeting": "2013-03"})
    assert not CalendarPlan.from_scenario(later).first_is_article_meeting  # March 2013 is before this start
    moved = baseline.with_overrides({"calendar.first_meeting": "2013-05"})
    plan = CalendarPlan.from_scenario(moved)
    assert plan.first_meeting == 2 and not plan.first_is_article_meeting
    n = 400
    m = Model(moved.with_overrides({f"{k}.dist": "fixed" for k in moved.params}), np.arange(n), SEED, horizon=12)
    m.p.formula_chance[:] = 0.6
    m.p.formula_divergence_penalty[:] = 0.3
    m.month = m.rng.month = 2
    dialogue.meet(m)
    want = _u(m, "formula") < 0.6 * (1 - 0.3 * m.s.syria_divergence)
    np.testing.assert_array_equal(m.s.formula, want)
    assert 0 < want.sum() < n


def test_venues_alternate_starting_in_london():
    assert [dialogue.StrategicDialogue.venue(i) for i in range(4)] == ["London", "Moscow", "London", "Moscow"]


def test_us_russia_drifts_a_tenth_of_the_way_plus_noise(make_model):
    m = make_model(n=4, us_reset=0.35, us_volatility=0.07)
    us = np.array([0.2, -0.9, 1.0, -1.0])
    _set(m, us_russia=us)
    outside_world.drift_us_russia(m)
    want = np.clip(us + 0.1 * (0.35 - us) + 0.07 * special.ndtri(_u(m, "us_russia")), -1, 1)
    np.testing.assert_allclose(m.s.us_russia, want, rtol=1e-13)
    edge = make_model(n=2, us_reset=1.0, us_volatility=0.3)
    _set(edge, us_russia=np.array([1.0, -1.0]))
    edge.rng.month = 0
    outside_world.drift_us_russia(edge)
    assert (np.abs(edge.s.us_russia) <= 1).all()


def test_crises_start_last_and_end_exactly(make_model):
    p = dict(crisis_rate=0.15, crisis_severity=1.7, crisis_duration=2.6, crisis_duration_spread=1.3, noise=0.12)
    n = 800
    m = make_model(n=n, **p)
    g = np.random.default_rng(3)
    in_crisis = g.random(n) < 0.4
    left = np.where(in_crisis, g.choice([1.0, 2.0, 5.0], n), 0.0)
    level = np.where(in_crisis, g.choice([0.4, 2.2], n), 0.0)
    major = (g.random(n) < 0.1).astype(np.int64)  # last month's major incidents
    us = np.where(np.arange(n) % 2 == 0, 0.5, -0.9)
    _set(m, us_russia=us, pressure=1.0, in_crisis=in_crisis, crisis_left=left, crisis_level=level,
         major_incidents=major)
    outside_world.strike_crises(m)
    still = in_crisis & (left > 1)  # a crisis with one month left ends now
    onset = ~still & ((_u(m, "crisis") < 0.15) | (major > 0))
    size = 1.7 * np.maximum(0.0, 1 + 0.5 * special.ndtri(_u(m, "crisis_size")))
    months = np.clip(np.ceil(2.6 * np.exp(1.3 * special.ndtri(_u(m, "crisis_length")))), 1, 120)
    assert onset.sum() > 50 and (onset & (size == 0)).any() and (onset & (major > 0) & in_crisis).any()
    assert (still & (major > 0)).any()  # a major incident during a crisis is absorbed by it
    np.testing.assert_array_equal(m.s.crisis, onset)
    np.testing.assert_array_equal(m.s.in_crisis, still | onset)
    np.testing.assert_allclose(m.s.crisis_left, np.where(onset, months, np.where(still, left - 1, 0.0)))
    np.testing.assert_allclose(m.s.crisis_level, np.where(onset, size, np.where(still, level, 0.0)))
    np.testing.assert_allclose(m.s.us_russia, np.where(onset, np.maximum(-1.0, us - 0.2), us))
    np.testing.assert_allclose(m.s.pressure, 1.0 + onset * size / 3, rtol=1e-13)
    _only(m, "shocks", -(onset * size) + 0.12 * special.ndtri(_u(m, "noise")))


def test_a_crisis_holds_relations_down_while_it_lasts_then_ends_after_its_months(make_model):
    """A crisis of L months is under way in exactly L months; its severity is held in the
    equilibrium meanwhile, so the crisis's net effect on relations stays at -severity, then fades."""
    m = make_model(n=1, crisis_rate=0.0, noise=0.0, relaxation=0.2)
    m.reference_terms = None
    relations.pull_toward_equilibrium(m)  # the start month's equilibrium, no crisis
    relations.close_month(m)
    _set(m, in_crisis=True, crisis_left=4.0, crisis_level=2.5, crisis=True)  # a 4-month crisis began
    m.stocks[DRIVERS.index("shocks")] = -2.5  # its onset jolt
    held, effect = [], []
    for _ in range(7):
        outside_world.strike_crises(m)
        relations.pull_toward_equilibrium(m)
        relations.close_month(m)
        held.append(bool(m.s.in_crisis[0]))
        effect.append(float(m.stocks[DRIVERS.index("shocks")][0]))
    assert held == [True, True, True, False, False, False, False]
    np.testing.assert_allclose(effect[:3], -2.5, rtol=1e-12)
    np.testing.assert_allclose(effect[3:], -2.5 * 0.8 ** np.arange(1, 5), rtol=1e-12)
    assert not m.s.crisis[0] and m.s.crisis_level[0] == 0.0


W = dict(relaxation=0.13, relations_anchor=4.1, weight_syria=2.3, weight_values=1.7, weight_protest=2.9,
         weight_trade=1.1, weight_us=0.8)


def _terms(sd, vc, protest, growth, us):
    return {"syria_divergence": -W["weight_syria"] * sd, "repression": -W["weight_values"] * vc,
            "protest_growth": -W["weight_protest"] * protest,
            "trade_growth": W["weight_trade"] * np.tanh(growth / 0.1), "us_russia": W["weight_us"] * us}


def test_slow_drivers_book_the_pull_of_their_change_with_their_own_weight(make_model):
    m = make_model(n=3, **W)
    start = dict(syria_divergence=np.array([0.8, 0.2, 0.5]), values_concern=np.array([0.55, 0.1, 0.9]),
                 protest=np.array([0.12, 0.0, 0.4]), export_growth=np.array([0.064, -0.1, 0.3]),
                 us_russia=np.array([0.2, -0.5, 0.9]), relations=np.array([1.0, -3.0, 6.0]))
    _set(m, **start)
    relations.pull_toward_equilibrium(m)
    ref = _terms(*(start[k] for k in ("syria_divergence", "values_concern", "protest", "export_growth",
                                      "us_russia")))
    gap = start["relations"] - (4.1 + sum(ref.values()))
    np.testing.assert_allclose(m.stocks[DRIVERS.index("reversion")], gap, rtol=1e-13)
    _only(m, "reversion", 0.0)
    m.new_month()
    later = dict(syria_divergence=np.array([1.0, 0.3, 0.5]), values_concern=np.array([0.7, 0.0, 0.2]),
                 protest=np.array([0.3, 0.05, 0.1]), export_growth=np.array([-0.2, 0.1, 0.3]),
                 us_russia=np.array([-0.4, 0.5, 0.0]))
    _set(m, **later)
    relations.pull_toward_equilibrium(m)
    now = _terms(*later.values())
    for d in DRIVERS:
        want = 0.13 * (now[d] - ref[d]) if d in now else 0.0
        np.testing.assert_allclose(m.contrib[d], want, rtol=1e-12, atol=1e-15, err_msg=d)


def test_close_month_decays_stocks_applies_and_records(make_model):
    m = make_model(n=3, relaxation=0.13)
    _set(m, relations=np.array([1.0, 9.5, -9.0]), meeting=True, formula=True)
    stocks = np.arange(len(DRIVERS) * 3, dtype=float).reshape(len(DRIVERS), 3) / 50 - 0.3
    m.stocks[:] = stocks
    m.contribute("incidents", np.array([-0.5, 0.0, -2.0]))
    m.contribute("incidents", np.array([-0.25, 0.0, 0.0]))  # bookings add up
    m.contribute("dialogue", np.array([0.4, 3.0, 0.0]))
    flows = m.contrib_rows.copy()
    relations.close_month(m)
    change = flows - 0.13 * stocks
    delta = change.sum(axis=0)
    # Run 0 stays inside; run 1 would cross +10 and run 2 -10: all contributions scale together.
    scale = np.array([1.0, (10 - 9.5) / delta[1], (-10 + 9.0) / delta[2]])
    assert delta[1] > 0.5 and delta[2] < -1.0
    want_rel = np.array([1.0 + delta[0], 10.0, -10.0])
    np.testing.assert_allclose(m.out["relations"][0], want_rel, rtol=1e-12)
    np.testing.assert_allclose(m.s.relations, want_rel, rtol=1e-12)
    for i, d in enumerate(DRIVERS):
        np.testing.assert_allclose(m.out[f"contrib_{d}"][0], change[i] * scale, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.stocks, stocks + change * scale, rtol=1e-12, atol=1e-15)
    assert m.out["meeting"][0].all() and m.out["formula"][0].all()  # recorded before clearing
    assert not m.s.meeting.any() and not m.s.formula.any()
    assert m.month == 1 and m.rng.month == 1 and not m.contrib_rows.any()


def test_record_stores_every_state_under_its_name(make_model):
    m = make_model(n=2)
    _set(m, exports=np.array([123.0, 456.0]), pressure=np.array([1.5, 2.5]), ladder=np.array([1, 3]))
    m.month = 2
    m.record()
    np.testing.assert_array_equal(m.out["exports_gbp_m"][2], [123.0, 456.0])
    np.testing.assert_array_equal(m.out["pressure"][2], [1.5, 2.5])
    np.testing.assert_array_equal(m.out["ladder"][2], [1, 3])


def test_initial_state_is_the_scenarios_start(baseline):
    sc = baseline.with_overrides({"initial.relations": -2.5, "initial.protest": 0.3, "initial.grievance": 0.5,
                                  "initial.repression": 0.45, "initial.syria_divergence": 0.6,
                                  "initial.exports_gbp_m": 250.0, "initial.export_growth": 0.2,
                                  "initial.us_russia": -0.3, "initial.pressure": 2.0, "initial.ladder": 2})
    s = initial_state(sc, 3)
    for name, value in (("relations", -2.5), ("protest", 0.3), ("grievance", 0.5), ("repression", 0.45),
                        ("repression_memory", 0.45), ("ngo_level", 0.45), ("values_concern", 0.45),
                        ("syria_divergence", 0.6), ("exports", 250.0), ("us_russia", -0.3), ("pressure", 2.0),
                        ("threat", 1 - np.exp(-3.0 * 0.3)), ("export_growth", np.log1p(0.2)),
                        ("export_trend", np.log(250.0))):
        np.testing.assert_allclose(getattr(s, name), np.full(3, value), err_msg=name)
    assert (s.ladder == 2).all() and not s.dialogue_active.any() and not s.sanctions.any()
    assert not s.syria_offset.any() and not s.export_dev.any() and not s.eu_pressure.any()
    np.testing.assert_allclose(initial_state(baseline, 1).threat, 1 - np.exp(-0.36))  # about 0.3 in March 2013
    top = initial_state(baseline.with_overrides({"initial.protest": 0.6, "initial.ladder": 3,
                                                 "initial.sanctions": True}), 1)
    assert top.threat[0] == 1 - np.exp(-1.8) and top.sanctions.all() and top.sanctions_before.all()
    assert top.ladder[0] == 3 and not top.dialogue_active.any()
    for name in ("expulsions", "russian_expulsions", "uk_opened", "countermeasure", "countered", "counter_sanctions",
                 "russia_suspended", "incidents", "major_incidents", "arrivals", "asylum_grants", "harassment",
                 "crisis", "in_crisis", "crisis_left", "crisis_level", "regime_crisis", "meeting", "formula",
                 "rebel_aid"):
        assert not getattr(s, name).any(), name


def test_bounded_states_are_clipped_exactly_at_their_lower_edges(make_model):
    n = 200
    m = make_model(n=n, syria_divergence=0.0, syria_regime_link=0.0, syria_volatility=0.2, us_reset=-1.0,
                   us_volatility=0.3)
    _set(m, syria_divergence=0.0, threat=0.3, syria_offset=0.0, us_russia=-1.0)
    kremlin.protect_assad(m)
    outside_world.drift_us_russia(m)
    sd = 0.2 * special.ndtri(_u(m, "syria"))
    us = -1.0 + 0.3 * special.ndtri(_u(m, "us_russia"))
    assert (sd < 0).sum() > 50 and (us < -1).sum() > 50
    np.testing.assert_allclose(m.s.syria_divergence, np.maximum(sd, 0.0), rtol=1e-13)
    np.testing.assert_allclose(m.s.us_russia, np.maximum(us, -1.0), rtol=1e-13)


def test_ladder_thresholds_are_inclusive_and_stepping_down_needs_pressure_strictly_below_half(make_model):
    # Tolerance exactly 1: threshold 1, engagement 0.5, relations 0 and flat exports.
    p = dict(escalation_threshold=1.0, uk_engagement=0.5, goodwill_buffer=0.03, trade_constituency=0.2,
             deescalation_chance=1.0, pressure_decay=0.15, response_cost=1.0)
    m = make_model(n=5, **p)
    _set(m, relations=0.0, export_growth=0.0, ladder=0, pressure=np.array([0.999, 1.0, 2.5, 3.5, 60.0]))
    m.s.dialogue_active = np.ones(5, dtype=bool)
    uk_government.climb_ladder(m)
    np.testing.assert_array_equal(m.s.ladder, [0, 1, 2, 3, 3])  # a rung is reached AT its threshold; 3 is the top
    down = make_model(n=2, **p)
    # From rung L the UK steps down below half of rung L's own threshold (2.5 for L=2, so 1.25).
    _set(down, relations=0.0, export_growth=0.0, ladder=2, pressure=np.array([1.25, 1.2499]))
    uk_government.climb_ladder(down)  # only strictly below steps down
    np.testing.assert_array_equal(down.s.ladder, [2, 1])


def test_close_month_warns_about_nothing_when_a_month_is_quiet(make_model):
    import warnings

    m = make_model(n=3, relaxation=0.1)
    _set(m, relations=np.array([10.0, -10.0, 0.0]))  # at both bounds, and nothing booked anywhere
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        relations.close_month(m)
    np.testing.assert_array_equal(m.s.relations, [10.0, -10.0, 0.0])


@pytest.mark.parametrize("value, band", [
    (-10.0, "hostile"), (-6.0, "hostile"), (-5.99, "confrontational"), (-2.0, "confrontational"),
    (-1.99, "cool"), (0.0, "cool"), (2.0, "cool"), (2.01, "constructive"), (6.0, "constructive"),
    (6.01, "partnership"), (10.0, "partnership")])
def test_bands_include_their_upper_edges(value, band):
    assert relations.band_of(np.array([value]))[0] == band
    assert list(relations.band_of(np.array([-8.0, -4.0, 0.5, 4.0, 8.0]))) == [b[0] for b in relations.BANDS]


def test_a_model_uses_parameters_it_is_given(baseline):
    given = {n: np.full(2, float(st.value)) for n, st in baseline.params.items()}
    given["incident_cost"] = np.array([0.25, 2.75])
    m = Model(baseline, np.arange(2, dtype=np.int32), seed=1, horizon=3, params=given)
    np.testing.assert_array_equal(m.p.incident_cost, [0.25, 2.75])
    assert m.scenario is baseline and m.n == 2 and m.run_ids.dtype == np.int64


# ---------------------------------------------------------------- rules added for issue 10


def test_regime_crisis_is_flagged_at_its_protest_share_and_lasts(make_model):
    p = dict(threshold_mean=0.1, threshold_spread=0.2, deterrence=0.05, election_spark=0.0, protest_momentum=1.0,
             regime_crisis_protest=0.27)
    m = make_model(n=5, **p)
    grievance = np.array([0.9, 0.9, 0.2, 0.9, 0.2])
    protest = np.array([0.5, 0.3, 0.05, 0.5, 0.05])
    flagged = np.array([False, False, False, False, True])  # the last had one before: it lasts
    _set(m, grievance=grievance, protest=protest, repression=0.5, regime_crisis=flagged)
    opposition.mobilise(m)
    z = (protest - 0.05 * 0.5 - 0.1) / 0.2
    want = np.minimum(grievance / (1 + np.exp(-z)), grievance)
    np.testing.assert_allclose(m.s.protest, want, rtol=1e-13)
    np.testing.assert_array_equal(m.s.regime_crisis, flagged | (want >= 0.27))
    assert m.s.regime_crisis.sum() >= 3 and not m.s.regime_crisis[2]
    edge = make_model(n=2, protest_momentum=0.1, regime_crisis_protest=0.27)
    _set(edge, grievance=0.27, protest=1.0)  # protest lands exactly on the grievance cap, 0.27
    opposition.mobilise(edge)
    assert (edge.s.protest == 0.27).all() and edge.s.regime_crisis.all()  # at the share counts
    _booked(m)


def test_eu_weighs_sanctions_exactly(make_model):
    p = dict(eu_threshold=4.3, eu_pressure_decay=0.17, sanctions_lift_chance=0.35, sanctions_cost=2.2)
    n = 1000
    m = make_model(n=n, **p)
    g = np.random.default_rng(7)
    eu_p = g.choice([0.0, 1.0, 2.0, 3.0, 4.0, 5.2, 9.0], n)
    crisis = g.random(n) < 0.3
    level = g.choice([0.5, 1.7, 3.0], n)
    major = (g.random(n) < 0.2).astype(np.int64)
    expelled = g.choice([0.0, 0.0, 3.0, 7.0], n)
    vc = g.choice([0.2, 0.5, 0.8, 1.0], n)
    sanc = g.random(n) < 0.4
    _set(m, eu_pressure=eu_p, crisis=crisis, crisis_level=level, major_incidents=major, expulsions=expelled,
         values_concern=vc, sanctions=sanc, sanctions_before=~sanc)
    eu.weigh_sanctions(m)
    # Documented: a crisis adds its severity, a major incident 1.5, a UK round 1, values concern 0.1 above 0.5.
    new = (eu_p * (1 - 0.17) + crisis * level + 1.5 * major + 1.0 * (expelled > 0)
           + 0.1 * np.maximum(0.0, vc - 0.5))
    impose = ~sanc & (new >= 4.3)
    lift = sanc & (new < 0.5 * 4.3) & (_u(m, "lift_sanctions") < 0.35)
    assert impose.sum() > 20 and lift.sum() > 20 and (sanc & ~lift).sum() > 20
    np.testing.assert_allclose(m.s.eu_pressure, new, rtol=1e-14)
    np.testing.assert_array_equal(m.s.sanctions, (sanc | impose) & ~lift)
    np.testing.assert_array_equal(m.s.sanctions_before, sanc)
    assert m.s.sanctions_before is not m.s.sanctions
    _only(m, "responses", -2.2 * impose)


def test_russia_answers_uk_rounds_in_kind(make_model):
    p = dict(reciprocity=0.63, reply_cost=0.47)
    n = 400
    m = make_model(n=n, **p)
    g = np.random.default_rng(11)
    opened = g.random(n) < 0.5
    size = np.where(opened, g.choice([1.0, 4.0, 23.0], n), 0.0)
    spy = np.where(g.random(n) < 0.1, 2.0, 0.0)  # a Russian-first spy row this month
    _set(m, uk_opened=opened, expulsions=size, russian_expulsions=spy)
    russia.reciprocate_expulsions(m)
    reply = opened & (_u(m, "reciprocate") < 0.63)
    assert 20 < reply.sum() < opened.sum() - 20
    # In kind, unless Russia's own spy row this month was larger.
    np.testing.assert_array_equal(m.s.russian_expulsions, np.where(reply, np.maximum(size, spy), spy))
    _only(m, "russian_answers", -0.47 * reply)


def test_russia_counters_uk_institutions_once_per_episode_and_answers_sanctions(make_model):
    p = dict(countermeasure_chance=0.37, countermeasure_cost=0.83, counter_sanctions_chance=0.58)
    n = 1200
    m = make_model(n=n, **p)
    g = np.random.default_rng(12)
    ladder = g.integers(0, 4, n)
    sanc = g.random(n) < 0.4
    before = g.random(n) < 0.5
    countered = g.random(n) < 0.3
    _set(m, ladder=ladder, sanctions=sanc, sanctions_before=before, countered=countered)
    russia.counter_uk_institutions(m)
    escalating = (ladder >= 2) | sanc
    episode = countered & escalating  # an episode ends once the UK is below suspension without sanctions
    act = escalating & ~episode & (_u(m, "countermeasure") < 0.37)
    counter = sanc & ~before & (_u(m, "counter_sanctions") < 0.58)
    assert act.sum() > 50 and counter.sum() > 50 and (countered & ~escalating).any()
    np.testing.assert_array_equal(m.s.countermeasure, act)
    np.testing.assert_array_equal(m.s.countered, episode | act)
    np.testing.assert_array_equal(m.s.counter_sanctions, counter)
    _only(m, "russian_answers", -0.83 * act)


def test_russia_suspends_formats_on_the_expulsions_rung_and_resumes_below_suspension(make_model):
    p = dict(russia_suspension_chance=0.41, deescalation_chance=0.27, reply_cost=1.3, response_cost=2.9,
             resume_gain=0.55)
    n = 1200
    m = make_model(n=n, **p)
    g = np.random.default_rng(13)
    ladder = g.integers(0, 4, n)
    suspended = g.random(n) < 0.5
    _set(m, ladder=ladder, russia_suspended=suspended, dialogue_active=g.random(n) < 0.5)
    russia.suspend_formats(m)
    start = ~suspended & (ladder >= 3) & (_u(m, "russia_suspends") < 0.41)
    resume = suspended & (ladder < 2) & (_u(m, "russia_resumes") < 0.27)
    assert start.sum() > 30 and resume.sum() > 30
    now = (suspended | start) & ~resume
    np.testing.assert_array_equal(m.s.russia_suspended, now)
    np.testing.assert_array_equal(m.s.dialogue_active, (ladder < 2) & ~now)
    _booked(m, russian_answers=-1.3 * start, dialogue=0.55 * resume)


def test_spy_rows_open_rounds_and_the_uk_answers_russian_first_rows(make_model):
    p = dict(spy_row_rate=0.3, spy_row_uk_first=0.45, spy_row_cost=0.66, expulsion_size=4.2,
             expulsion_size_spread=0.9, reciprocity=0.7)
    n = 2000
    m = make_model(n=n, **p)
    g = np.random.default_rng(14)
    ladder_round = np.where(g.random(n) < 0.2, g.choice([2.0, 30.0], n), 0.0)  # the UK ladder's round this month
    opened = ladder_round > 0
    _set(m, expulsions=ladder_round, uk_opened=opened, russian_expulsions=9.0)
    spy_rows.break_spy_rows(m)
    row = _u(m, "spy_row") < 0.3
    uk_first = row & (_u(m, "spy_row_side") < 0.45)
    russia_first = row & ~uk_first
    size = _round(4.2, 0.9, _u(m, "spy_row_size"))
    uk_reply = russia_first & (_u(m, "spy_row_reply") < 0.7)
    assert (uk_first & opened).any() and uk_reply.sum() > 50 and (russia_first & ~uk_reply).sum() > 20
    np.testing.assert_array_equal(m.s.expulsions,
                                  np.where(uk_first, np.maximum(ladder_round, size),
                                           np.where(uk_reply, np.maximum(ladder_round, size), ladder_round)))
    np.testing.assert_array_equal(m.s.uk_opened, opened | uk_first)  # Russia answers the rounds the UK opens
    np.testing.assert_array_equal(m.s.russian_expulsions, np.where(russia_first, size, 0.0))
    _only(m, "hostility", -0.66 * row)


@pytest.mark.parametrize("median, spread", [(3.0, 1.5), (1.0, 2.5), (30.0, 2.5), (7.4, 0.3)])
def test_round_sizes_are_lognormal_whole_people_from_1_to_200(make_model, median, spread):
    n = 20000
    m = make_model(n=n, expulsion_size_spread=spread)
    size = uk_government.round_size(m, "expulsion_size", median)
    want = _round(median, spread, _u(m, "expulsion_size"))
    np.testing.assert_array_equal(size, want)
    assert (size == np.round(size)).all() and size.min() >= 1 and size.max() <= 200
    # The lognormal's median, in whole people: half the rounds at most that size, half at least.
    mid = np.round(median)
    assert (size <= mid).mean() > 0.48 and (size >= mid).mean() > 0.48
    if spread == 2.5:
        assert (size == 1).any() and (median < 10 or (size == 200).any())  # both clips reached


# ---------------------------------------------------------------- dated shocks act in each rule


def test_a_major_incident_shock_makes_one_in_its_month_at_its_size(shocked):
    p = dict(incident_rate=0.0, major_incident_share=0.0, incident_cost=0.7, major_incident_cost=3.3)
    m = shocked([{"kind": "major_incident", "month": "2013-05", "size": 4.6}], month=2, **p)
    _set(m, pressure=0.5)
    exiles.bring_problems_ashore(m)
    assert (m.s.major_incidents == 1).all() and (m.s.incidents == 1).all()
    np.testing.assert_allclose(m.s.pressure, 0.5 + 4.0)
    _only(m, "incidents", np.full(m.n, -4.6))
    drawn = shocked([{"kind": "major_incident", "month": "2013-05"}], month=2, **p)  # no size: the parameter's
    exiles.bring_problems_ashore(drawn)
    _only(drawn, "incidents", np.full(drawn.n, -3.3))
    before = shocked([{"kind": "major_incident", "month": "2013-05", "size": 4.6}], month=1, **p)
    exiles.bring_problems_ashore(before)
    assert not before.s.major_incidents.any()
    _booked(before)


def test_a_crisis_shock_opens_one_at_its_severity_unless_one_is_under_way(shocked):
    p = dict(crisis_rate=0.0, crisis_severity=1.7, noise=0.0, crisis_duration=2.0, crisis_duration_spread=1.0)
    m = shocked([{"kind": "crisis", "month": "2013-07", "size": 3.9}], n=40, month=4, **p)
    under_way = np.arange(40) % 4 == 0
    _set(m, in_crisis=under_way, crisis_left=np.where(under_way, 3.0, 0.0), crisis_level=np.where(under_way, 1.0, 0))
    outside_world.strike_crises(m)
    np.testing.assert_array_equal(m.s.crisis, ~under_way)
    assert m.s.in_crisis.all()
    np.testing.assert_allclose(m.s.crisis_level, np.where(under_way, 1.0, 3.9))
    _only(m, "shocks", -3.9 * ~under_way)


def test_an_expulsion_round_shock_expels_its_size_and_russia_may_answer(shocked):
    p = dict(escalation_threshold=5.0, response_cost=1.1, reciprocity=1.0, reply_cost=0.47)
    m = shocked([{"kind": "expulsion_round", "month": "2013-04", "size": 17}], n=8, month=1, **p)
    ladder = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    _set(m, ladder=ladder, pressure=0.0)
    uk_government.climb_ladder(m)
    assert (m.s.ladder == 3).all() and (m.s.expulsions == 17).all() and m.s.uk_opened.all()
    cum = np.concatenate([[0.0], np.cumsum(COSTS)])
    _only(m, "responses", -1.1 * (cum[3] - cum[ladder]))  # rungs climbed to get there; none if already on it
    russia.reciprocate_expulsions(m)
    assert (m.s.russian_expulsions == 17).all()
    drawn = shocked([{"kind": "expulsion_round", "month": "2013-04"}], n=200, month=1, expulsion_size=6.0,
                    expulsion_size_spread=1.2)
    uk_government.climb_ladder(drawn)
    np.testing.assert_array_equal(drawn.s.expulsions, _round(6.0, 1.2, _u(drawn, "expulsion_size")))


def test_a_sanctions_shock_imposes_them_and_hits_exports_by_its_share(shocked):
    p = dict(eu_threshold=15.0, sanctions_cost=2.2, sanctions_trade_hit=0.2, counter_sanctions_trade_hit=0.0,
             trade_volatility=0.0, political_drag=0.0)
    m = shocked([{"kind": "sanctions", "month": "2013-06", "size": 0.35}], n=6, month=3, **p)
    already = np.array([True, False, False, False, False, False])
    _set(m, sanctions=already, eu_pressure=0.0, values_concern=0.0)
    eu.weigh_sanctions(m)
    assert m.s.sanctions.all()
    _only(m, "responses", -2.2 * ~already)
    trend = m.s.export_trend.copy()
    trade.grow_exports(m)
    annual = np.log1p(m.p.trade_growth) / 12
    np.testing.assert_allclose(m.s.export_trend - trend, annual + np.log(0.65) * ~already, rtol=1e-12)
    lifted = shocked([{"kind": "sanctions", "month": "2013-06"}], n=4, month=3, eu_threshold=15.0,
                     sanctions_lift_chance=1.0)
    _set(lifted, sanctions=True, eu_pressure=0.0)
    eu.weigh_sanctions(lifted)  # a sanctions decision in force this month is not lifted in it
    assert lifted.s.sanctions.all()


def test_formula_and_no_formula_shocks_hold_a_meeting_with_that_outcome(shocked):
    p = dict(formula_chance=0.0, formula_gain=0.35)
    m = shocked([{"kind": "formula", "month": "2013-08", "size": 1.25}], n=10, month=5, **p)
    _set(m, dialogue_active=np.arange(10) % 2 == 0)  # held even while suspended, outside the calendar
    dialogue.meet(m)
    assert m.s.meeting.all() and m.s.formula.all()
    _only(m, "dialogue", np.full(10, 1.25))
    plain = shocked([{"kind": "formula", "month": "2013-08"}], n=10, month=5, **p)
    dialogue.meet(plain)
    _only(plain, "dialogue", np.full(10, 0.35))
    fail = shocked([{"kind": "no_formula", "month": "2013-03"}], n=10, month=0, formula_chance=1.0)
    dialogue.meet(fail)  # even the article's own meeting
    assert fail.s.meeting.all() and not fail.s.formula.any()
    _booked(fail)
    later = shocked([{"kind": "no_formula", "month": "2014-03"}], n=10, month=12, formula_chance=1.0,
                    formula_divergence_penalty=0.0)
    dialogue.meet(later)
    assert later.s.meeting.all() and not later.s.formula.any()
