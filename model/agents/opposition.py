"""Russian opposition and public: discontent and protest mobilisation.

State: ``grievance`` (share of the public disaffected, 0-1), ``protest``
(share actively mobilised, 0-1, never above grievance) and ``regime_crisis``
(mass mobilisation has happened in this run).

The protest scale: the share of adults taking part in, or ready to join, political
protest. March 2013 is set at 0.12 (about one adult in eight), the modeller's
reading of the months after the 2011-12 wave, when the largest Moscow rallies since
the 1990s had drawn tens of thousands; a share of 0.3 or more would be a mass
mobilisation beyond anything seen since 1991, which the model flags as a regime
crisis rather than carrying on as if nothing had changed. Protest follows a
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
        -0.05, 0.10, 0.010, "normal", 0.02, GROUP,
        "How fast the disaffected share of the Russian public grows while no reform "
        "agenda is offered. Negative values mean discontent fades.",
        "'The Russian protest movement has not gone away and the government seems "
        "incapable of framing a serious reform agenda, so discontent will probably "
        "continue to grow.' The 1%/month default is invented: it lifts discontent from "
        "0.35 towards its ceiling over several years. 'Probably' is read as the PHIA "
        "'likely' (55-75%): the normal spread (sd 0.02) gives growth above zero in 69% of "
        "runs, and discontent ends higher than it started in about 70% (docs/behaviour.md); "
        "it fades in the rest.", headline=True),
    ParamSpec(
        "discontent_ceiling", "Ceiling of discontent", "share of public",
        0.3, 0.9, 0.55, "triangular", 0.15, GROUP,
        "The largest share of the public that can become disaffected while the regime "
        "keeps its core support: discontent grows logistically towards it.",
        "Invented: 'Putin ... has signalled his determination to cling to power at all "
        "costs' and did so with a loyal majority behind him in 2012; a ceiling of 0.55 "
        "leaves a loyal core of 45%. Wide, since nothing in the article pins it."),
    ParamSpec(
        "threshold_mean", "Typical protest threshold", "share of public",
        0.0, 0.5, 0.20, "triangular", 0.05, GROUP,
        "Visible protest (share of the public) a typical disaffected citizen needs to see "
        "before joining in, before repression's deterrence is added.",
        "Invented (Granovetter threshold model); chosen so that the starting state is "
        "near its own equilibrium at protest 0.12 and discontent 0.35."),
    ParamSpec(
        "threshold_spread", "Spread of protest thresholds", "share of public",
        0.05, 0.50, 0.30, "triangular", 0.08, GROUP,
        "Scale of the logistic spread of personal thresholds; smaller means more "
        "abrupt cascades.", "Invented (Granovetter threshold model): thresholds differ "
        "widely, so protest follows discontent smoothly (the cascade's slope stays well "
        "below one) instead of tipping at once; the spread reaches 0.22, where an "
        "election spark can tip it."),
    ParamSpec(
        "deterrence", "Deterrent effect of repression", "threshold points per unit repression",
        0.0, 0.5, 0.20, "triangular", 0.08, GROUP,
        "How much repression raises everyone's protest threshold in the short run.",
        "'Putin has chosen to repress the opposition and smear it as a tool of western "
        "interests.' Size invented."),
    ParamSpec(
        "backlash", "Grievance fed by repression", "per month per unit repression above the 2013 level",
        0.0, 0.05, 0.01, "uniform", 0.01, GROUP,
        "How much repression beyond its March 2013 level adds to discontent later on "
        "(through a one-year memory of repression).",
        "'These problems are likely to get worse before they get better.' Size invented; "
        "the range includes no backlash at all. Measured from the 2013 level so that "
        "today's repression, already priced into today's discontent, does not grow it."),
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
        0.1, 1.0, 0.5, "triangular", 0.2, GROUP,
        "How quickly protest moves towards the level the cascade supports.",
        "Invented: protest waves in 2011-12 built over weeks, not a day."),
    ParamSpec(
        "regime_crisis_protest", "Protest that makes a regime crisis", "share of public",
        0.15, 0.6, 0.30, "fixed", 0.0, GROUP,
        "Protest at or above this share of the public is a mass mobilisation beyond "
        "anything seen in Russia since 1991: the run is flagged as a regime crisis.",
        "'The Putin elite lives in fear of an Orange Revolution scenario'. A definition, "
        "so fixed: the threshold names an outcome rather than driving one; the 2011-12 "
        "wave, the largest since the 1990s, stayed far below a third of the public."),
)

# Repression at the March 2013 start: backlash counts only repression beyond it.
REPRESSION_2013 = 0.55


def grow_discontent(m) -> None:
    """Discontent grows logistically towards its ceiling while there is no reform
    agenda, and repression beyond its 2013 level adds to it later (backlash, through
    the slow repression memory).

    Encodes: "the government seems incapable of framing a serious reform agenda, so
    discontent will probably continue to grow" and "these problems are likely to get
    worse before they get better". Parameters: ``protest_growth`` (logistic rate per
    month), ``discontent_ceiling``, ``backlash`` (per month per unit repression).
    """
    s, p = m.s, m.p
    g = s.grievance
    room = 1.0 - g / p.discontent_ceiling
    push = p.protest_growth * g + p.backlash * np.maximum(0.0, s.repression_memory - REPRESSION_2013)
    s.grievance = np.clip(g + push * np.where(push > 0, np.maximum(room, 0.0), 1.0), 0.0, 1.0)


def mobilise(m) -> None:
    """Threshold cascade: the disaffected join when visible protest plus any
    election spark exceeds their threshold, which repression raises. A mobilisation
    beyond ``regime_crisis_protest`` flags a regime crisis, which lasts.

    Encodes: "Next year's elections in Moscow look certain to provide a flashpoint",
    "Putin has chosen to repress the opposition" and "The Putin elite lives in fear of
    an Orange Revolution scenario". Parameters: ``threshold_mean``,
    ``threshold_spread``, ``deterrence``, ``election_spark``, ``protest_momentum``,
    ``regime_crisis_protest``.
    """
    s, p = m.s, m.p
    spark = p.election_spark * m.campaign
    z = (s.protest + spark - p.deterrence * s.repression - p.threshold_mean) / p.threshold_spread
    joining = s.grievance / (1.0 + np.exp(-z))
    s.protest = np.clip(s.protest + p.protest_momentum * (joining - s.protest), 0.0, s.grievance)
    s.regime_crisis = s.regime_crisis | (s.protest >= p.regime_crisis_protest)


class Opposition(Actor):
    name = "opposition"
    phase = 0.10
    rules = (grow_discontent, mobilise)
    PARAMS = PARAMS
