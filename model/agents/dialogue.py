"""The Strategic Dialogue: yearly 2+2 meetings of foreign and defence ministers,
alternating London and Moscow, each of which may find "a formula of words".

State: ``meeting`` (a 2+2 was held this month), ``formula`` (it found a formula
of words). Suspension and resumption are rungs of the UK response ladder
(:mod:`model.agents.uk_government`); a suspended format holds no meetings.
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec
from model.shocks import forced

GROUP = "Strategic Dialogue"

PARAMS = (
    ParamSpec(
        "formula_chance", "Chance of a formula of words", "probability at zero divergence",
        0.0, 1.0, 0.90, "beta", 0.05, GROUP,
        "Chance a 2+2 meeting ends with an agreed form of words when the Syria gap is "
        "closed; it falls with divergence (see the next parameter).",
        "'A formula of words will be found to gloss over these differences, but the "
        "reality is that the two countries want different things.' Invented."),
    ParamSpec(
        "formula_divergence_penalty", "How divergence blocks a formula", "share of chance lost at full divergence",
        0.0, 1.0, 0.50, "triangular", 0.25, GROUP,
        "Chance of a formula = chance x (1 - penalty x Syria divergence).",
        "'the gap between the two governments still looks too wide for a substantive "
        "breakthrough'. Invented."),
    ParamSpec(
        "formula_gain", "Relations gain from a formula of words", "Goldstein points",
        0.0, 2.0, 0.40, "triangular", 0.20, GROUP,
        "Rise in relations when a meeting finds a formula of words: a small improvement, "
        "not a breakthrough.",
        "'Whether the results of the meeting live up to the weighty designation of being "
        "'strategic' remains to be seen'. Invented."),
    ParamSpec(
        "resume_gain", "Relations gain when the dialogue resumes", "Goldstein points",
        0.0, 2.0, 0.50, "triangular", 0.25, GROUP,
        "Rise in relations when a suspended dialogue is resumed.", "Invented."),
)


def meet(m) -> None:
    """Where the format is in force, the 2+2 meets on its calendar. The first meeting
    of the scenario's calendar finds a formula of words, as the article expects;
    later ones find one with a chance that falls as the Syria gap widens, and
    relations improve a little. A scenario's dated ``formula`` or ``no_formula``
    shock holds a meeting in its month, with that outcome (a ``formula`` shock's size
    is the gain).

    Encodes: "A formula of words will be found to gloss over these differences, but
    the reality is that the two countries want different things." Parameters:
    ``formula_chance``, ``formula_divergence_penalty``, ``formula_gain``.
    """
    s, p = m.s, m.p
    cal = m.calendar
    since = m.month - cal.first_meeting
    scheduled = since >= 0 and since % cal.meeting_interval == 0
    found, gain = forced(m, "formula")
    failed, _ = forced(m, "no_formula")
    if not (scheduled or found.any() or failed.any()):
        return
    first = scheduled and since == 0 and cal.first_is_article_meeting
    chance = 1.0 if first else p.formula_chance * (1.0 - p.formula_divergence_penalty * s.syria_divergence)
    # The article's meeting is "tomorrow": it is held whatever happens first.
    s.meeting = ((s.dialogue_active | first) & scheduled) | found | failed
    s.formula = ((s.meeting & m.rng.bernoulli("formula", chance)) | found) & ~failed
    m.contribute("dialogue", np.where(found & ~np.isnan(gain), gain, p.formula_gain) * s.formula)


class StrategicDialogue(Actor):
    name = "dialogue"
    phase = 0.60
    rules = (meet,)
    PARAMS = PARAMS

    @staticmethod
    def venue(meeting_index: int) -> str:
        """The first meeting is in London; they alternate after that."""
        return ("London", "Moscow")[meeting_index % 2]


def clear_meeting_flags(m) -> None:
    """Months without a meeting record no meeting (called by the ledger)."""
    m.s.meeting = np.zeros(m.n, dtype=bool)
    m.s.formula = np.zeros(m.n, dtype=bool)
