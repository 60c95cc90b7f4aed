"""Outside world: US-Russia relations (the 'reset') and unforeseen crises.

State: ``us_russia`` (-1 hostile to +1 warm), ``crisis`` (a crisis began this month).
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec

GROUP = "Outside world"

PARAMS = (
    ParamSpec(
        "us_reset", "US-Russia 'reset'", "index -1 to 1",
        -1.0, 1.0, 0.20, "triangular", 0.30, GROUP,
        "Level US-Russia relations drift towards: 1 a full reset, -1 open hostility.",
        "'Mostly this is aimed at America, despite the fact that President Obama has "
        "taken steps to minimise areas of disagreement with Russia.' Level invented: "
        "mildly positive, with room for the reset to fail."),
    ParamSpec(
        "us_volatility", "Month-to-month US-Russia noise", "index points per month (sd)",
        0.0, 0.3, 0.05, "fixed", 0.0, GROUP,
        "Random movement in US-Russia relations.", "Invented."),
    ParamSpec(
        "crisis_rate", "Unforeseen crises", "per month",
        0.0, 0.2, 0.035, "triangular", 0.02, GROUP,
        "Base rate of crises that jolt Russia's relations with the West and that the "
        "article does not foresee.",
        "Invented base rate from the record known in 2013: Yukos (2003), Beslan (2004), "
        "the gas cut-offs (2006, 2009), Georgia (2008) and the Libya vote (2011), about "
        "six in 2000-2012, or 0.04 a month; the world does not hold still."),
    ParamSpec(
        "crisis_severity", "Severity of a crisis", "Goldstein points",
        0.0, 5.0, 1.5, "triangular", 0.75, GROUP,
        "Mean fall in relations when a crisis strikes (the draw is normal with sd half "
        "the mean, so a few crises help).", "Invented."),
    ParamSpec(
        "noise", "Month-to-month relations noise", "Goldstein points (sd)",
        0.0, 1.0, 0.15, "fixed", 0.0, GROUP,
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
    """Unforeseen crises at a documented base rate, and small unnamed events.

    Encodes the issue's rule that "the model must not assume that the world holds
    still"; the article's own list of shocks (Litvinenko, Georgia-era "nadir") shows
    relations move on events nobody forecast. Parameters: ``crisis_rate``,
    ``crisis_severity``, ``noise``.
    """
    s, p = m.s, m.p
    s.crisis = m.rng.bernoulli("crisis", p.crisis_rate)
    jolt = -p.crisis_severity * (1.0 + 0.5 * m.rng.normal("crisis_size"))
    s.us_russia = np.where(s.crisis, np.maximum(-1.0, s.us_russia - 0.2), s.us_russia)
    s.pressure = s.pressure + s.crisis * np.maximum(0.0, -jolt) / 3.0
    m.contribute("shocks", s.crisis * jolt + p.noise * m.rng.normal("noise"))


class OutsideWorld(Actor):
    name = "outside_world"
    phase = 0.05
    rules = (drift_us_russia, strike_crises)
    PARAMS = PARAMS
