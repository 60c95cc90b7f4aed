"""Outside world: US-Russia relations (the 'reset') and unforeseen crises.

State: ``us_russia`` (-1 hostile to +1 warm), ``crisis`` (a crisis began this
month), ``in_crisis`` (a crisis is under way), ``crisis_left`` (its months still to
run) and ``crisis_level`` (its severity in Goldstein points while it lasts).
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec
from model.shocks import forced

GROUP = "Outside world"

PARAMS = (
    ParamSpec(
        "us_reset", "US-Russia 'reset'", "index -1 to 1",
        -1.0, 1.0, 0.20, "triangular", 0.30, GROUP,
        "Level US-Russia relations drift towards: 1 a full reset, -1 open hostility. "
        "It colours the background of UK-Russia relations a little (see ``weight_us``) "
        "but does not drive the Kremlin's campaign.",
        "'Mostly this is aimed at America, despite the fact that President Obama has "
        "taken steps to minimise areas of disagreement with Russia.' Level invented: "
        "mildly positive, with room for the reset to fail."),
    ParamSpec(
        "us_volatility", "Month-to-month US-Russia noise", "index points per month (sd)",
        0.0, 0.3, 0.05, "triangular", 0.025, GROUP,
        "Random movement in US-Russia relations.", "Invented: about +/-0.15 around the "
        "reset level at any time."),
    ParamSpec(
        "crisis_rate", "Crises of relations", "per month",
        0.0, 0.1, 0.008, "triangular", 0.005, GROUP,
        "Base rate of crises that chill Russia's relations with the West and that the "
        "article does not foresee (a war, a spy row that spirals, a cut-off). Major "
        "incidents on UK soil open crises of their own, on top of this rate.",
        "From the pre-2013 reference class (docs/reference-events.md): three crises of "
        "UK-Russian relations in 1992-2012 (the 1996 spy row, the Litvinenko freeze, the "
        "2008 Georgia war); the Litvinenko one came from a major incident, which the model "
        "draws separately, so two in 21 years: 0.095 a year, 0.008 a month. The spread "
        "reaches 0.013 (the Jeffreys rate of all three), since the record is thin."),
    ParamSpec(
        "crisis_duration", "Typical crisis length", "months (median)",
        0.25, 24.0, 2.0, "triangular", 1.5, GROUP,
        "Median length of a crisis; lengths are lognormal around it (next parameter), "
        "and relations stay down by the crisis's severity until it ends.",
        "From the reference class: crises lasted 7, 11, 99 and 1,754 days (median 55 "
        "days, about two months); a crisis either settles within weeks or becomes a "
        "years-long freeze, as the Litvinenko affair did."),
    ParamSpec(
        "crisis_duration_spread", "Spread of crisis lengths", "log-sd",
        0.5, 3.5, 2.5, "triangular", 0.75, GROUP,
        "Spread of crisis lengths on a log scale: 2.5 means a tenth of crises last over "
        "25 times the median.",
        "From the reference class: the log-durations of the four sourced crises have "
        "sd 2.5 (7 days to 4.8 years); four cases, so the spread is wide."),
    ParamSpec(
        "crisis_severity", "Severity of a crisis", "Goldstein points",
        0.0, 5.0, 1.5, "triangular", 0.75, GROUP,
        "Mean fall in relations while a crisis lasts (the draw is normal with sd half "
        "the mean; a draw below zero counts as zero).", "Invented: the Goldstein scale "
        "codes a freeze of contacts at about -2 to -4 on a daily scale; a month's tone "
        "moves less."),
    ParamSpec(
        "noise", "Month-to-month relations noise", "Goldstein points (sd)",
        0.0, 1.0, 0.15, "triangular", 0.08, GROUP,
        "Small events the model does not name.", "Invented."),
)


def drift_us_russia(m) -> None:
    """US-Russia relations drift towards the reset level with noise, and crises chill
    them.

    Encodes: "President Obama has taken steps to minimise areas of disagreement with
    Russia". Parameters: ``us_reset``, ``us_volatility``.
    """
    s, p = m.s, m.p
    step = 0.1 * (p.us_reset - s.us_russia) + p.us_volatility * m.rng.normal("us_russia")
    s.us_russia = np.clip(s.us_russia + step, -1.0, 1.0)


def strike_crises(m) -> None:
    """Crises start at a base rate from the pre-2013 record and last: relations fall
    by the crisis's severity at once and stay down until it ends (the lasting part is
    held in the equilibrium; see relations.py), then recover. Small unnamed events add
    noise. A scenario's dated ``crisis`` shocks start one in the month given, with
    their size as severity; a dated crisis that falls while one is under way is
    absorbed by it (one crisis at a time).

    Encodes (the modeller's addition, not the article's) "After the nadir of the
    Litvinenko affair": relations move on events nobody forecast and stay down for a
    while, and the model must not assume that the world holds still. Parameters:
    ``crisis_rate``, ``crisis_duration``, ``crisis_duration_spread``,
    ``crisis_severity``, ``noise``. A major incident on UK soil opens a crisis the
    month after it (the Litvinenko affair of 2006 opened a freeze that lasted until
    2011: docs/reference-events.md).
    """
    s, p = m.s, m.p
    ending = s.in_crisis & (s.crisis_left <= 1.0)
    s.crisis_left = np.maximum(s.crisis_left - 1.0, 0.0)
    s.in_crisis = s.in_crisis & ~ending
    s.crisis_level = np.where(s.in_crisis, s.crisis_level, 0.0)
    forced_on, forced_size = forced(m, "crisis")
    # A major incident on UK soil last month opens a crisis of relations, as Litvinenko did.
    onset = ~s.in_crisis & (m.rng.bernoulli("crisis", p.crisis_rate) | forced_on | (s.major_incidents > 0))
    if onset.any():  # rare: draw severity and length only in a month a crisis starts (keyed per run)
        size = p.crisis_severity * np.maximum(0.0, 1.0 + 0.5 * m.rng.normal("crisis_size"))
        size = np.where(forced_on & ~np.isnan(forced_size), forced_size, size)
        months = p.crisis_duration * np.exp(p.crisis_duration_spread * m.rng.normal("crisis_length"))
    else:
        size = months = np.zeros(m.n)
    s.crisis = onset
    s.in_crisis = s.in_crisis | onset
    s.crisis_left = np.where(onset, np.clip(np.ceil(months), 1.0, 120.0), s.crisis_left)
    s.crisis_level = np.where(onset, size, s.crisis_level)
    s.us_russia = np.where(onset, np.maximum(-1.0, s.us_russia - 0.2), s.us_russia)
    s.pressure = s.pressure + onset * size / 3.0
    m.contribute("shocks", -(onset * size) + p.noise * m.rng.normal("noise"))


class OutsideWorld(Actor):
    name = "outside_world"
    phase = 0.05
    rules = (drift_us_russia, strike_crises)
    PARAMS = PARAMS
