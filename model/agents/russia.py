"""Russia's answers to the UK: reciprocal expulsions, counter-measures against UK
institutions, counter-sanctions, and suspended formats.

State: ``russian_expulsions`` (British diplomats Russia expels this month),
``countermeasure`` (Russia moved against a UK institution this month),
``countered`` (it has done so in the current episode), ``counter_sanctions``
(Russia answered EU sanctions this month) and ``russia_suspended`` (Russia has
suspended cooperation formats, which stops the Strategic Dialogue too).

The modeller's addition, from the pre-2013 record: every opening expulsion round
with a known reply was answered, usually in kind and within days; after the 2007
expulsions Russia ended counter-terrorism cooperation, and within months it closed
British Council offices (docs/reference-events.md). The rhetoric that turns UK
pressure into Kremlin hostility is in :func:`model.agents.kremlin.perceive_threat`.
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec

GROUP = "Russia's answers"

PARAMS = (
    ParamSpec(
        "reciprocity", "Chance an expulsion round is answered in kind", "probability",
        0.0, 1.0, 0.90, "triangular", 0.15, GROUP,
        "Chance that the other side answers an opening round of expulsions with a round "
        "of the same size, within the month.",
        "From the reference class: 8 of 8 opening rounds with a known reply were answered, "
        "7 of them with the same number, median 3 days later; Laplace (8 + 1) / (8 + 2) = "
        "0.90, with a spread from 0.75 to 1 for eight cases."),
    ParamSpec(
        "reply_cost", "Relations cost of a reply in kind", "Goldstein points",
        0.0, 3.0, 0.5, "triangular", 0.3, GROUP,
        "Fall in relations when Russia answers a round of expulsions in kind, or suspends "
        "cooperation formats.",
        "Invented: a reply in kind usually closes a round (the 1985 spiral 'stopped at "
        "31-31'), so it costs less than the round itself."),
    ParamSpec(
        "countermeasure_chance", "Counter-measures against UK institutions", "per month while the UK escalates",
        0.0, 0.5, 0.15, "uniform", 0.1, GROUP,
        "Monthly chance, while the dialogue is suspended by the UK, the UK has expelled "
        "diplomats or sanctions are in force, that Russia moves against a UK institution "
        "(once per episode).",
        "From the reference class: British Council offices were ordered closed in "
        "December 2007, five months after the UK's July 2007 expulsions; about 0.15 a month."),
    ParamSpec(
        "countermeasure_cost", "Relations cost of a counter-measure", "Goldstein points",
        0.0, 3.0, 0.7, "triangular", 0.35, GROUP,
        "Fall in relations when Russia closes or restricts a UK institution.",
        "Invented: the Foreign Secretary called the 2008 closures 'reprehensible'."),
    ParamSpec(
        "counter_sanctions_chance", "Chance Russia answers sanctions", "probability",
        0.0, 1.0, 0.90, "triangular", 0.2, GROUP,
        "Chance that Russia answers EU sanctions with counter-sanctions that hit UK exports.",
        "Invented: no sanctions before 2013, so no record; the reciprocity of the "
        "reference class's expulsion rounds (0.90) is borrowed, as the nearest evidence "
        "of how Moscow answers."),
    ParamSpec(
        "counter_sanctions_trade_hit", "Export fall from counter-sanctions", "share of exports",
        0.0, 0.6, 0.10, "triangular", 0.07, GROUP,
        "One-off fall in UK exports to Russia when counter-sanctions begin.", "Invented."),
    ParamSpec(
        "russia_suspension_chance", "Chance Russia suspends formats", "per month while the UK has expelled",
        0.0, 1.0, 0.5, "uniform", 0.3, GROUP,
        "Monthly chance that Russia suspends cooperation formats (the dialogue among "
        "them) while the UK is on the expulsions rung; it resumes them with the UK's "
        "``deescalation_chance`` once the UK has stepped below suspension.",
        "From the reference class: Russia ended counter-terrorism cooperation three days "
        "after the UK's July 2007 expulsions, and it was still frozen in 2011. Invented "
        "rate, with a wide spread for one case."),
)


def reciprocate_expulsions(m) -> None:
    """Russia answers a round of expulsions the UK opens with a round of the same
    size, within the month, with the reciprocity of the record.

    Encodes the pre-2013 norm of expulsions in kind (docs/reference-events.md), and
    the article's "denounce any pressure to compromise as a foreign plot".
    Parameters: ``reciprocity``, ``reply_cost``.
    """
    s, p = m.s, m.p
    reply = s.uk_opened & m.rng.bernoulli("reciprocate", p.reciprocity)
    # In kind: the UK's round, unless Russia already expelled more this month (a spy row of its own).
    s.russian_expulsions = np.where(reply, np.maximum(s.russian_expulsions, s.expulsions), s.russian_expulsions)
    m.contribute("russian_answers", -p.reply_cost * reply)


def counter_uk_institutions(m) -> None:
    """While the UK escalates (dialogue suspended, diplomats expelled) or sanctions
    are in force, Russia may move against a UK institution, once per episode; and it
    answers new sanctions with counter-sanctions on UK exports (see trade.py).

    Encodes the record of the British Council closures of 2007-08 after the
    Litvinenko expulsions, and "denounce any pressure to compromise as a foreign
    plot to undermine Russian sovereignty". Parameters: ``countermeasure_chance``,
    ``countermeasure_cost``, ``counter_sanctions_chance``.
    """
    s, p = m.s, m.p
    escalating = (s.ladder >= 2) | s.sanctions
    s.countered = s.countered & escalating  # an episode ends when the UK is back below suspension
    act = escalating & ~s.countered & m.rng.bernoulli("countermeasure", p.countermeasure_chance)
    s.countermeasure = act
    s.countered = s.countered | act
    s.counter_sanctions = s.sanctions & ~s.sanctions_before \
        & m.rng.bernoulli("counter_sanctions", p.counter_sanctions_chance)
    m.contribute("russian_answers", -p.countermeasure_cost * act)


def suspend_formats(m) -> None:
    """While the UK is on the expulsions rung, Russia may suspend cooperation
    formats, which stops the Strategic Dialogue whatever the UK does; it resumes them
    at the UK's de-escalation pace once the UK is below suspension.

    Encodes (the modeller's addition, from the pre-2013 reference class: Russia ended
    counter-terrorism cooperation after the UK's expulsions of July 2007) the
    article's "the gap between the two governments still looks too wide for a
    substantive breakthrough in relations". Parameters: ``russia_suspension_chance``,
    ``deescalation_chance``, ``reply_cost`` (its cost: Russia answering in kind).
    """
    s, p = m.s, m.p
    start = ~s.russia_suspended & (s.ladder >= 3) & m.rng.bernoulli("russia_suspends", p.russia_suspension_chance)
    resume = s.russia_suspended & (s.ladder < 2) & m.rng.bernoulli("russia_resumes", p.deescalation_chance)
    s.russia_suspended = (s.russia_suspended | start) & ~resume
    s.dialogue_active = (s.ladder < 2) & ~s.russia_suspended
    m.contribute("russian_answers", -p.reply_cost * start)
    m.contribute("dialogue", p.resume_gain * resume)


class Russia(Actor):
    name = "russia"
    phase = 0.45
    rules = (reciprocate_expulsions, counter_uk_institutions, suspend_formats)
    PARAMS = PARAMS
