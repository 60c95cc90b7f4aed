"""Spy rows: expulsion rounds that intelligence cases open, whatever the politics.

State: writes ``expulsions`` (Russian diplomats the UK expels this month) and
``russian_expulsions`` (British diplomats Russia expels this month) when a spy row
breaks; the other side's reply in kind is drawn here for Russian-first rows and by
:mod:`model.agents.russia` for British-first ones.

The modeller's addition, from the pre-2013 record rather than the article: most
UK-Russian expulsion rounds were spy cases (1995, 1996, 2010), not answers to a
political crisis, and the UK's response ladder alone made rounds about five times
rarer than the record (issue 9). The article's own example is of the kind: Denis
Keefe "under siege from Russian journalists following media allegations that he
is a British spy".
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.agents.uk_government import round_size
from model.params import ParamSpec

GROUP = "Spy rows"

PARAMS = (
    ParamSpec(
        "spy_row_rate", "Spy rows that end in expulsions", "per month",
        0.0, 0.05, 0.012, "triangular", 0.008, GROUP,
        "Base rate of intelligence cases that open a round of expulsions, at either "
        "side's initiative.",
        "From the reference class (docs/reference-events.md): four expulsion rounds in "
        "1992-2012, of which three were spy cases (1995, 1996, 2010) and one the "
        "Litvinenko answer, which the response ladder models; 3 / 21 years = 0.14 a year, "
        "0.012 a month. Quiet single expulsions were surely missed, so this is a floor."),
    ParamSpec(
        "spy_row_uk_first", "Share of spy rows the UK opens", "probability",
        0.0, 1.0, 0.6, "triangular", 0.3, GROUP,
        "Share of spy rows in which the UK expels first (otherwise Russia does).",
        "From the reference class: the UK opened 1995 and 2010, Russia 1996; Laplace "
        "(2 + 1) / (3 + 2) = 0.6, with a wide spread for three cases."),
    ParamSpec(
        "spy_row_cost", "Relations cost of a spy row", "Goldstein points",
        0.0, 2.0, 0.4, "triangular", 0.2, GROUP,
        "Fall in relations when a spy row opens an expulsion round (the reply in kind "
        "costs again, as one of Russia's answers).",
        "Invented: such rows were 'settled' in days and did not derail relations "
        "(the 1996 Foreign Office hoped it 'would be the end of the matter')."),
)


def break_spy_rows(m) -> None:
    """Spy rows break at a base rate; the side that moves first expels a round sized
    from the reference class. When Russia moves first, the UK answers in kind with
    the reciprocity of the record.

    Encodes the record behind "media allegations that he is a British spy" (the
    Keefe affair) and the expulsion rounds of 1995, 1996 and 2010. Parameters:
    ``spy_row_rate``, ``spy_row_uk_first``, ``spy_row_cost``, ``expulsion_size``,
    ``reciprocity`` (for the UK's reply).
    """
    s, p = m.s, m.p
    row = m.rng.bernoulli("spy_row", p.spy_row_rate)
    uk_first = row & m.rng.bernoulli("spy_row_side", p.spy_row_uk_first)
    russia_first = row & ~uk_first
    # Rare: draw sizes only in a month with a row (keyed per run, so no other draw shifts).
    size = round_size(m, "spy_row_size", p.expulsion_size) if row.any() else np.zeros(m.n)
    uk_reply = russia_first & m.rng.bernoulli("spy_row_reply", p.reciprocity)
    s.expulsions = np.where(uk_first, np.maximum(s.expulsions, size),
                            np.where(uk_reply, np.maximum(s.expulsions, size), s.expulsions))
    s.uk_opened = s.uk_opened | uk_first  # Russia answers rounds the UK opens, not its replies
    s.russian_expulsions = np.where(russia_first, size, 0.0)
    m.contribute("hostility", -p.spy_row_cost * row)


class SpyRows(Actor):
    name = "spy_rows"
    phase = 0.41
    rules = (break_spy_rows,)
    PARAMS = PARAMS
