"""UK government: values concern, Syria policy, asylum decisions and the response
ladder to incidents and hostility.

State: ``values_concern`` (0-1), ``pressure`` (escalation pressure, built by
incidents and harassment, fading each month), ``ladder`` (0 none, 1 protest note,
2 dialogue suspended, 3 diplomats expelled), ``expulsions`` (Russian diplomats the
UK expels this month), ``rebel_aid`` (the UK has decided to arm Syrian rebels),
``asylum_grants`` (this month). Sanctions are the EU's decision (:mod:`model.agents.eu`).

The response ladder is the modeller's addition, not the article's: the article
names the provocations (incidents, harassment, asylum rows) and the 2007 expulsions
that followed Litvinenko, and the ladder turns them into the UK's graded answers.
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec
from model.shocks import forced

GROUP = "UK government"

# Ladder rungs as multiples of the escalation threshold, and their relations costs
# as multiples of ``response_cost`` (a note is cheap, expulsions dearest). Invented
# ratios, ordered as the ladder: note, suspension, expulsions.
RUNG_THRESHOLDS = np.array([1.0, 2.5, 3.5])
RUNG_COSTS = np.array([0.2, 1.0, 1.2])
LADDER_NAMES = ("none", "protest note", "dialogue suspended", "diplomats expelled")
EXPELLED = 3  # the rung at which the UK expels diplomats
MAX_ROUND = 200  # diplomats in one round: about twice the largest on record (105 in 1971), as for dated shocks

PARAMS = (
    ParamSpec(
        "uk_engagement", "UK appetite for engagement", "index 0-1",
        0.0, 1.0, 0.60, "triangular", 0.15, GROUP,
        "0 is a UK that escalates at the first provocation, 1 one that absorbs a lot "
        "to keep engagement; it scales every rung of the response ladder by "
        "(0.5 + engagement).",
        "'Achieving a UK version of the 'reset' with Russia was one of the priorities "
        "William Hague brought with him to the Foreign Office.' Size invented."),
    ParamSpec(
        "values_speed", "Speed of UK values concern", "share of gap closed per month",
        0.01, 0.5, 0.10, "triangular", 0.05, GROUP,
        "How quickly UK concern about democracy and human rights follows repression.",
        "'most Conservatives remain just as wary of Russia's credentials on democracy "
        "and human rights as anyone else.' Speed invented."),
    ParamSpec(
        "rebel_aid_chance", "Chance the UK arms Syrian rebels", "per month while divergence > 0.5",
        0.0, 0.2, 0.03, "uniform", 0.03, GROUP,
        "Monthly chance that the UK decides to give military aid to the Syrian rebels.",
        "'William Hague is now exploring options for providing military aid to the "
        "rebels.' Rate invented; the range includes never."),
    ParamSpec(
        "rebel_aid_divergence", "Divergence added by arming rebels", "share of the remaining gap",
        0.0, 0.8, 0.30, "triangular", 0.15, GROUP,
        "Lasting rise in the Syria gap once the UK arms the rebels: it closes this share "
        "of the distance between Russia's aim and wholly opposed aims.", "Invented."),
    ParamSpec(
        "rebel_aid_cost", "Relations cost of arming rebels", "Goldstein points",
        0.0, 3.0, 0.8, "triangular", 0.4, GROUP,
        "Immediate fall in relations when the UK decides to arm the rebels.", "Invented."),
    ParamSpec(
        "asylum_grant_share", "Share of asylum cases granted", "probability",
        0.0, 1.0, 0.70, "beta", 0.10, GROUP,
        "Share of prominent Russian asylum claims the UK grants.",
        "'The decision to grant political asylum to Andrei Borodin ... will be taken by "
        "the Kremlin as another hostile gesture.' Share invented."),
    ParamSpec(
        "asylum_cost", "Relations cost of an asylum grant", "Goldstein points",
        0.0, 2.0, 0.3, "triangular", 0.2, GROUP,
        "Fall in relations for each prominent asylum grant.", "Invented."),
    ParamSpec(
        "escalation_threshold", "Pressure for a protest note", "pressure points",
        0.2, 5.0, 1.0, "triangular", 0.3, GROUP,
        "Escalation pressure (1 per minor incident, 4 per major, 0.5 per harassment "
        "campaign) at which the UK sends a protest note; suspension and expulsions "
        "need 2.5 and 3.5 times as much.",
        "The Litvinenko affair led to expulsions, so one major incident on top of "
        "background pressure should reach that rung. Sizes invented."),
    ParamSpec(
        "pressure_decay", "Fading of escalation pressure", "share per month",
        0.02, 0.5, 0.15, "triangular", 0.07, GROUP,
        "Share of escalation pressure that fades each month.", "Invented: about a four-month half-life."),
    ParamSpec(
        "deescalation_chance", "Chance of stepping down the ladder", "per month once pressure has eased",
        0.0, 0.5, 0.10, "uniform", 0.05, GROUP,
        "Monthly chance of stepping one rung down once pressure is below half the "
        "threshold of the current rung. Resuming the dialogue happens this way.",
        "'A formula of words will be found to gloss over these differences.' Rate invented."),
    ParamSpec(
        "response_cost", "Relations cost of suspending the dialogue", "Goldstein points",
        0.0, 4.0, 1.0, "triangular", 0.5, GROUP,
        "Fall in relations when the UK suspends the dialogue; a note costs 0.2x and "
        "expulsions 1.2x this (Russia's answers, the incident and the crisis it opens are "
        "booked separately).", "Invented: scaled so that a Litvinenko-scale incident, with "
        "the note, suspension and expulsions it brings, Russia's answers and the crisis, "
        "takes relations from 'cool' to 'confrontational' (about -5), the article's "
        "'nadir', but not to 'hostile'."),
    ParamSpec(
        "expulsion_size", "Diplomats expelled in a round", "diplomats (median)",
        1.0, 30.0, 3.0, "triangular", 2.0, GROUP,
        "Median number of diplomats the side that moves first expels in a round; each "
        "round's size is lognormal around it (next parameter).",
        "From the pre-2013 reference class (docs/reference-events.md): opening rounds of "
        "1, 1, 4 and 4 in 1992-2012 (median 2.5), and 5, 6, 11, 25 and 105 earlier "
        "(median 5 over 1971-2012); the Litvinenko round of 2007 was four each way."),
    ParamSpec(
        "expulsion_size_spread", "Spread of round sizes", "log-sd",
        0.3, 2.5, 1.5, "triangular", 0.5, GROUP,
        "Spread of round sizes on a log scale; 1.5 lets one round in ten exceed seven "
        "times the median.",
        "From the reference class: log sizes of the opening rounds of 1971-2012 have "
        "sd 1.47."),
    ParamSpec(
        "goodwill_buffer", "Goodwill that delays escalation", "share of each rung per Goldstein point",
        0.0, 0.1, 0.03, "triangular", 0.015, GROUP,
        "Each point of relations above zero raises every rung of the ladder by this share "
        "(and each point below lowers it): a government with a working relationship to lose "
        "escalates later. Capped at +/-50%.",
        "'The two countries might not become close allies, but a relationship based on trade "
        "and mutual regard for each other's interests might at least be in the offing.' Size invented."),
    ParamSpec(
        "trade_constituency", "Trade constituency for engagement", "share of each rung at strong export growth",
        0.0, 0.5, 0.10, "triangular", 0.07, GROUP,
        "How much strongly growing exports raise every rung of the ladder (the term is "
        "tanh(growth / 10%), so shrinking trade lowers them): business lobbies for calm.",
        "'Achieving a UK version of the 'reset' with Russia was one of the priorities William "
        "Hague brought with him to the Foreign Office', but 'the results so far will have been a "
        "disappointment': a weak brake. Size invented."),
    ParamSpec(
        "values_pressure", "Escalation pressure from values concern", "pressure points per month",
        0.0, 0.5, 0.05, "triangular", 0.03, GROUP,
        "Monthly pressure added per unit of values concern above 0.5.", "Invented."),
)


def weigh_values(m) -> None:
    """UK values concern follows Russian repression; high concern adds steady
    pressure to respond.

    Encodes: "the continued erosion of democratic standards in Russia itself which is
    now impacting on the country's external relations in a way that is becoming
    impossible to ignore." Parameters: ``values_speed``, ``values_pressure``.
    """
    s, p = m.s, m.p
    s.values_concern = s.values_concern + p.values_speed * (s.repression - s.values_concern)
    s.pressure = s.pressure + p.values_pressure * np.maximum(0.0, s.values_concern - 0.5)


def consider_rebel_aid(m) -> None:
    """While the Syria gap is wide the UK may decide, once, to arm the rebels: the
    gap widens for good and relations dip.

    Encodes: "William Hague is now exploring options for providing military aid to
    the rebels and clearly envisages a future without President Assad as the only
    acceptable option". Parameters: ``rebel_aid_chance``, ``rebel_aid_divergence``,
    ``rebel_aid_cost``.
    """
    s, p = m.s, m.p
    decide = ~s.rebel_aid & (s.syria_divergence > 0.5) & m.rng.bernoulli("rebel_aid", p.rebel_aid_chance)
    s.rebel_aid = s.rebel_aid | decide
    s.syria_offset = s.syria_offset + p.rebel_aid_divergence * decide
    m.contribute("syria_divergence", -p.rebel_aid_cost * decide)


def decide_asylum(m) -> None:
    """Each prominent exile's asylum claim is granted with a fixed chance; Moscow
    reads every grant as hostile.

    Encodes: "The decision to grant political asylum to Andrei Borodin ... will be
    taken by the Kremlin as another hostile gesture." Parameters:
    ``asylum_grant_share``, ``asylum_cost``.
    """
    s, p = m.s, m.p
    grants = np.zeros_like(s.arrivals)
    # One uniform per arrival slot: a run's grants depend only on its own draws.
    for k in range(int(s.arrivals.max(initial=0))):
        grants = grants + ((k < s.arrivals) & m.rng.bernoulli(f"asylum:{k}", p.asylum_grant_share))
    s.asylum_grants = grants
    m.contribute("exiles", -p.asylum_cost * grants)


def round_size(m, stream: str, median) -> np.ndarray:
    """Diplomats expelled in a round: lognormal around ``median`` with the
    reference class's spread, whole people, at least one."""
    draw = median * np.exp(m.p.expulsion_size_spread * m.rng.normal(stream))
    return np.clip(np.round(draw), 1.0, MAX_ROUND)


def climb_ladder(m) -> None:
    """Escalation pressure fades; the UK climbs to the highest rung whose threshold
    the pressure reaches (several at once after a grave incident: note, suspension,
    expulsions); once pressure is below half the threshold of the current rung, it
    may step down one rung a month (the dialogue resumes). Reaching the expulsions
    rung expels a round of diplomats sized from the reference class; a scenario's
    dated ``expulsion_round`` shock does so in its month (its size in diplomats).

    Every rung is raised by engagement, by goodwill (relations above zero) and by a
    trade constituency (growing exports), so poor relations and shrinking trade make
    escalation easier.

    Encodes (the modeller's ladder, not the article's) the article's "more than six
    years on from the Litvinenko affair" (the expulsions of 2007) and "a relationship
    based on trade and mutual regard for each other's interests". Parameters: ``uk_engagement``,
    ``escalation_threshold``, ``goodwill_buffer``, ``trade_constituency``,
    ``pressure_decay``, ``deescalation_chance``, ``response_cost``,
    ``expulsion_size``, ``expulsion_size_spread``.
    """
    s, p = m.s, m.p
    goodwill = np.clip(1.0 + p.goodwill_buffer * s.relations, 0.5, 1.5)
    ballast = 1.0 + p.trade_constituency * np.tanh(s.export_growth / 0.10)
    tolerance = p.escalation_threshold * (0.5 + p.uk_engagement) * goodwill * ballast
    reached = np.zeros_like(s.ladder)
    for factor in RUNG_THRESHOLDS:
        reached += s.pressure >= tolerance * factor
    forced_round, forced_size = forced(m, "expulsion_round")
    reached = np.where(forced_round, np.maximum(reached, EXPELLED), reached)
    L = s.ladder
    up = reached > L
    climbed = np.maximum(L, reached)
    # Cost of every rung climbed this month: the cumulative cost table, differenced.
    cum = np.concatenate([[0.0], np.cumsum(RUNG_COSTS)])
    m.contribute("responses", -p.response_cost * (cum[climbed] - cum[L]))
    own_need = tolerance * RUNG_THRESHOLDS[np.maximum(L - 1, 0)]
    down = ~up & (L > 0) & (s.pressure < 0.5 * own_need) & m.rng.bernoulli("deescalate", p.deescalation_chance)
    new = climbed - down
    # Resuming the dialogue is the dialogue's own gain, so it is booked there.
    m.contribute("dialogue", p.resume_gain * (down & (L == 2)))
    expel = ((L < EXPELLED) & (new >= EXPELLED)) | forced_round
    if expel.any():  # rare: draw sizes only in a month with a round (keyed per run, so no draw shifts)
        size = np.where(forced_round & ~np.isnan(forced_size), forced_size,
                        round_size(m, "expulsion_size", p.expulsion_size))
        s.expulsions = np.where(expel, size, 0.0)
    else:
        s.expulsions = np.zeros(m.n)
    s.uk_opened = expel
    s.ladder = new
    s.dialogue_active = (new < 2) & ~s.russia_suspended
    s.pressure = s.pressure * (1.0 - p.pressure_decay)


class UKGovernment(Actor):
    name = "uk_government"
    phase = 0.40
    rules = (weigh_values, consider_rebel_aid, decide_asylum, climb_ladder)
    PARAMS = PARAMS
