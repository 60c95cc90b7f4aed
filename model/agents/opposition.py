"""Russian opposition and public: discontent and protest mobilisation.

State: ``grievance`` (share of the public disaffected, 0-1) and ``protest``
(share actively mobilised, 0-1, never above grievance). Protest follows a
Granovetter threshold cascade: a disaffected citizen joins when visible protest,
plus any election spark, exceeds a personal threshold that repression raises.
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.params import ParamSpec

GROUP = "Russian opposition and public"

PARAMS = (
    ParamSpec(
        "protest_growth", "Growth of discontent", "per month (logistic rate)",
        -0.05, 0.10, 0.02, "triangular", 0.02, GROUP,
        "How fast the disaffected share of the Russian public grows while no reform "
        "agenda is offered. Negative values mean discontent fades.",
        "'The Russian protest movement has not gone away and the government seems "
        "incapable of framing a serious reform agenda, so discontent will probably "
        "continue to grow.' The 2%/month default is invented: it lifts grievance from "
        "0.35 to about 0.6 in five years; the spread reaches zero growth, since "
        "'probably' leaves room for none.", headline=True),
    ParamSpec(
        "threshold_mean", "Typical protest threshold", "share of public",
        0.0, 0.5, 0.16, "triangular", 0.05, GROUP,
        "Visible protest (share of the public) a typical disaffected citizen needs to see "
        "before joining in.",
        "Invented (Granovetter threshold model); chosen so that the starting state is "
        "near its own equilibrium."),
    ParamSpec(
        "threshold_spread", "Spread of protest thresholds", "share of public",
        0.02, 0.30, 0.15, "fixed", 0.0, GROUP,
        "Scale of the logistic spread of personal thresholds; smaller means more "
        "abrupt cascades.", "Invented (Granovetter threshold model): at 0.15 the cascade "
        "tips on its own only once about 60% of the public is disaffected."),
    ParamSpec(
        "deterrence", "Deterrent effect of repression", "threshold points per unit repression",
        0.0, 0.5, 0.10, "triangular", 0.05, GROUP,
        "How much repression raises everyone's protest threshold in the short run.",
        "'Putin has chosen to repress the opposition and smear it as a tool of western "
        "interests.' Size invented."),
    ParamSpec(
        "backlash", "Grievance fed by repression", "per month per unit repression",
        0.0, 0.02, 0.004, "uniform", 0.004, GROUP,
        "How much sustained repression adds to discontent later on.",
        "'These problems are likely to get worse before they get better.' Size invented; "
        "the range includes no backlash at all."),
    ParamSpec(
        "election_spark", "Election flashpoint", "threshold points",
        0.0, 0.30, 0.08, "triangular", 0.05, GROUP,
        "Extra mobilisation during an election campaign (the election month and the "
        "two before it).",
        "'Next year's elections in Moscow look certain to provide a flashpoint where the "
        "interests of the elite and the aspirations of the public once again prove "
        "impossible to reconcile.' Size invented."),
    ParamSpec(
        "protest_momentum", "Speed of mobilisation", "share of gap closed per month",
        0.1, 1.0, 0.5, "fixed", 0.0, GROUP,
        "How quickly protest moves towards the level the cascade supports.",
        "Invented: protest waves in 2011-12 built over weeks, not a day."),
)


def grow_discontent(m) -> None:
    """Discontent grows logistically while there is no reform agenda, and sustained
    repression adds to it later (backlash, through the slow repression memory).

    Encodes: "the government seems incapable of framing a serious reform agenda, so
    discontent will probably continue to grow." Parameters: ``protest_growth``
    (logistic rate per month), ``backlash`` (per month per unit repression).
    """
    s, p = m.s, m.p
    g = s.grievance
    s.grievance = np.clip(g + (p.protest_growth * g + p.backlash * s.repression_memory)
                          * (1 - g), 0.0, 1.0)


def mobilise(m) -> None:
    """Threshold cascade: the disaffected join when visible protest plus any
    election spark exceeds their threshold, which repression raises.

    Encodes: "Next year's elections in Moscow look certain to provide a flashpoint"
    and "Putin has chosen to repress the opposition". Parameters: ``threshold_mean``,
    ``threshold_spread``, ``deterrence``, ``election_spark``, ``protest_momentum``.
    """
    s, p = m.s, m.p
    spark = p.election_spark * m.campaign
    z = (s.protest + spark - p.deterrence * s.repression - p.threshold_mean) / p.threshold_spread
    joining = s.grievance / (1.0 + np.exp(-z))
    s.protest = np.clip(s.protest + p.protest_momentum * (joining - s.protest), 0.0, s.grievance)


class Opposition(Actor):
    name = "opposition"
    phase = 0.10
    rules = (grow_discontent, mobilise)
    PARAMS = PARAMS
