"""The European Union: the channel through which sanctions on Russia come.

State: ``eu_pressure`` (pressure on the EU to act, in pressure points, built by
crises, grave incidents and UK escalation, fading each month), ``sanctions`` (EU
sanctions on Russia, which the UK applies, are in force) and ``sanctions_before``
(they were in force last month).

The modeller's addition, not the article's: the article names no sanctions. UK
sanctions on Russia come through the EU in practice, and through 2012 there were
none: the EU rejected them after the 2008 Georgia war (docs/reference-events.md).
So the decision is an EU-level threshold that a single crisis of the Georgia kind
does not reach; a grave incident on UK soil on top of one can.
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec
from model.shocks import forced

GROUP = "European Union"

PARAMS = (
    ParamSpec(
        "eu_threshold", "EU pressure for sanctions", "pressure points",
        2.0, 15.0, 6.0, "triangular", 2.0, GROUP,
        "Pressure on the EU at which it imposes sanctions on Russia. A crisis adds its "
        "severity in Goldstein points, a major incident on UK soil 1.5, a UK expulsion "
        "round 1, and UK values concern a little each month.",
        "From the reference class: no EU sanctions in 1992-2012, and none after the Georgia "
        "war, when Poland and the Baltic states proposed them, nor after the Litvinenko "
        "murder (docs/reference-events.md). The default 6 is above what a crisis of the "
        "Georgia kind adds (its severity: mean 1.5, sd 0.75) and above what a major incident "
        "adds with the crisis and expulsions it brings (about 4), so it takes compound "
        "events. Invented."),
    ParamSpec(
        "eu_pressure_decay", "Fading of EU pressure", "share per month",
        0.02, 0.5, 0.10, "triangular", 0.05, GROUP,
        "Share of the pressure on the EU that fades each month.",
        "Invented: EU attention lasts longer than a government's (about a half-year "
        "half-life); the EU resumed partnership talks three months after the Georgia war."),
    ParamSpec(
        "sanctions_lift_chance", "Chance the EU lifts sanctions", "per month once pressure has eased",
        0.0, 0.2, 0.03, "uniform", 0.02, GROUP,
        "Monthly chance that sanctions are lifted once the pressure is below half the "
        "threshold.", "Invented: sanctions are hard to lift, as they need unanimity."),
    ParamSpec(
        "sanctions_cost", "Relations cost of sanctions", "Goldstein points",
        0.0, 6.0, 2.5, "triangular", 1.0, GROUP,
        "Fall in relations when sanctions are imposed.", "Invented: graver than expelling "
        "diplomats (2 x the suspension cost)."),
)

# Pressure on the EU per event (points): a crisis adds its severity.
MAJOR_INCIDENT_PRESSURE = 1.5
EXPULSION_PRESSURE = 1.0
VALUES_PRESSURE = 0.1  # per month per unit of UK values concern above 0.5


def weigh_sanctions(m) -> None:
    """Pressure on the EU builds with crises, grave incidents on UK soil, UK
    expulsions and concern about repression, and fades; the EU imposes sanctions when
    it passes the threshold and may lift them once it has halved. A scenario's dated
    ``sanctions`` shock imposes them in its month (its size is the share of exports
    hit; see trade.py).

    Encodes the issue's rule that sanctions on Russia come through the EU, and the
    article's "the continued erosion of democratic standards in Russia itself which is
    now impacting on the country's external relations". Parameters: ``eu_threshold``,
    ``eu_pressure_decay``, ``sanctions_lift_chance``, ``sanctions_cost``.
    """
    s, p = m.s, m.p
    s.eu_pressure = (s.eu_pressure * (1.0 - p.eu_pressure_decay) + s.crisis * s.crisis_level
                     + MAJOR_INCIDENT_PRESSURE * s.major_incidents + EXPULSION_PRESSURE * (s.expulsions > 0)
                     + VALUES_PRESSURE * np.maximum(0.0, s.values_concern - 0.5))
    forced_on, _ = forced(m, "sanctions")
    impose = ~s.sanctions & ((s.eu_pressure >= p.eu_threshold) | forced_on)
    lift = s.sanctions & ~forced_on & (s.eu_pressure < 0.5 * p.eu_threshold) \
        & m.rng.bernoulli("lift_sanctions", p.sanctions_lift_chance)
    s.sanctions_before = s.sanctions.copy()
    s.sanctions = (s.sanctions | impose) & ~lift
    m.contribute("responses", -p.sanctions_cost * impose)


class EuropeanUnion(Actor):
    name = "eu"
    phase = 0.42
    rules = (weigh_sanctions,)
    PARAMS = PARAMS
