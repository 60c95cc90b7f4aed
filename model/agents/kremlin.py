"""Kremlin: threat perception, repression, NGO restrictions, harassment of UK
diplomats, and a Syria stance tied to regime security.

State: ``threat`` (0-1), ``repression`` (0-1), ``repression_memory`` (a slow
average of repression that feeds later grievance), ``syria_divergence`` (0-1),
``ngo_level`` (repression level at the last NGO restriction), ``harassment``
(a harassment campaign against UK diplomats began this month).
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor, scaled_rate
from model.params import ParamSpec

GROUP = "Kremlin"

PARAMS = (
    ParamSpec(
        "repression", "Kremlin repressiveness", "index 0-1",
        0.0, 1.0, 0.60, "beta", 0.10, GROUP,
        "How hard the Kremlin cracks down for a given threat: the level repression "
        "settles at is repressiveness x (0.75 + 0.5 x threat).",
        "'President Putin, who has signalled his determination to cling to power at all "
        "costs, will continue to choose repression and denounce any pressure to "
        "compromise as a foreign plot to undermine Russian sovereignty.' The 0.6 default "
        "is invented to reproduce the March 2013 level (0.6 x (0.75 + 0.5 x 0.3) = 0.54).",
        headline=True),
    ParamSpec(
        "threat_sensitivity", "Threat perception per unit of protest", "e-folds per share protesting",
        0.5, 8.0, 3.0, "triangular", 1.0, GROUP,
        "How alarmed the Kremlin becomes as the public takes to the streets: threat from "
        "protest is 1 - exp(-sensitivity x protest), so it rises steeply at first and "
        "saturates (an elite cannot be more than wholly alarmed).",
        "'Unnerved by the rise of the protest movement that accompanied his return as "
        "president'; 'The Putin elite lives in fear of an Orange Revolution scenario'. "
        "The default 3.0 gives the March 2013 threat of 0.3 at protest 0.12; invented."),
    ParamSpec(
        "foreign_plot", "Western pressure read as a foreign plot",
        "threat at the top of the UK ladder with EU sanctions",
        0.0, 0.6, 0.25, "triangular", 0.15, GROUP,
        "How much UK escalation (a rung of the response ladder: note, suspension, "
        "expulsions) and EU sanctions add to the Kremlin's threat perception, and so to "
        "repression, harassment and the Syria stance.",
        "'will continue to choose repression and denounce any pressure to compromise as a "
        "foreign plot to undermine Russian sovereignty.' Size invented: full UK escalation "
        "with sanctions alarms the Kremlin about as much as the 2013 protests did."),
    ParamSpec(
        "repression_speed", "Speed of the crackdown", "share of gap closed per month",
        0.02, 0.5, 0.15, "triangular", 0.07, GROUP,
        "How quickly repression moves to the level the threat calls for.",
        "Invented: laws and prosecutions take months."),
    ParamSpec(
        "harassment_rate", "Harassment of UK diplomats", "campaigns per month at repression 0.5",
        0.0, 0.2, 0.025, "triangular", 0.015, GROUP,
        "Base rate of media and official campaigns against UK diplomats; it rises "
        "e-fold per 0.5 of repression above 0.5, and with threat.",
        "'Denis Keefe ... under siege from Russian journalists' and 'the sustained "
        "harassment experienced by the UK's former ambassador, Tony Brenton'. Two "
        "campaigns in about 80 months (2006-2013) gives 0.025 a month."),
    ParamSpec(
        "harassment_cost", "Relations cost of a harassment campaign", "Goldstein points",
        0.0, 3.0, 0.5, "triangular", 0.3, GROUP,
        "Immediate fall in relations when a campaign against UK diplomats begins.",
        "Invented; Goldstein codes a verbal accusation at about -2 on a daily scale, and "
        "a monthly index moves less."),
    ParamSpec(
        "ngo_step", "Repression rise that brings a new NGO law", "index points",
        0.02, 0.3, 0.05, "triangular", 0.02, GROUP,
        "Each time repression rises this far above its level at the last restriction, "
        "a new restriction on foreign-funded NGOs is passed.",
        "'New steps to stop foreign financing of NGOs have been accompanied by an "
        "increase in hardline official rhetoric.' Step size invented."),
    ParamSpec(
        "ngo_cost", "Relations cost of an NGO restriction", "Goldstein points",
        0.0, 2.0, 0.3, "triangular", 0.15, GROUP,
        "Fall in relations when a new NGO restriction is passed.", "Invented."),
    ParamSpec(
        "syria_divergence", "UK-Russia divergence over Syria", "index 0-1",
        0.0, 1.0, 0.80, "triangular", 0.20, GROUP,
        "Long-run gap between UK and Russian aims in Syria: 0 is a common understanding, "
        "1 is wholly opposed aims.",
        "'The UK and Russia seem no nearer to a common understanding of what needs to "
        "happen ... the reality is that the two countries want different things.' The "
        "0.8 default is invented: wide, but they still meet and talk; the spread (0.6 "
        "to 1.0) runs from a gap that talks could narrow to wholly opposed aims.", headline=True),
    ParamSpec(
        "syria_regime_link", "Syria stance tied to regime security", "index per unit of threat",
        0.0, 1.0, 0.30, "triangular", 0.15, GROUP,
        "How much the Kremlin's own threat perception hardens its Syria stance: a rise in "
        "threat closes this share of the remaining gap to wholly opposed aims.",
        "'for Syria, read Russia; for Assad, read Putin. When Sergei Lavrov says regime "
        "change is unacceptable, he isn't just talking about the Middle East.' Size invented."),
    ParamSpec(
        "syria_volatility", "Month-to-month Syria noise", "index points per month (sd)",
        0.0, 0.2, 0.03, "triangular", 0.015, GROUP,
        "Random month-to-month movement in the Syria gap (events on the ground, UN votes).",
        "Invented: about +/-0.07 around the long-run gap at any time."),
)

# Threat at the March 2013 start state: 1 - exp(-3 x 0.12 protest) = 0.30.
_THREAT_REFERENCE = 0.3


def perceive_threat(m) -> None:
    """Threat perception follows protest, and Western pressure read as a foreign plot.

    Encodes: "Unnerved by the rise of the protest movement ... The Putin elite lives
    in fear of an Orange Revolution scenario" and "denounce any pressure to
    compromise as a foreign plot to undermine Russian sovereignty". The US does not
    enter: the campaign is aimed at America "despite the fact that President Obama has
    taken steps to minimise areas of disagreement". Parameters:
    ``threat_sensitivity``, ``foreign_plot``.
    """
    s, p = m.s, m.p
    from_protest = 1.0 - np.exp(-p.threat_sensitivity * s.protest)
    pressure = p.foreign_plot * (s.ladder / 3.0 + s.sanctions) / 2.0
    target = 1.0 - (1.0 - from_protest) * (1.0 - pressure)
    s.threat = s.threat + 0.3 * (target - s.threat)


def repress(m) -> None:
    """Repression moves towards repressiveness x (0.75 + 0.5 x threat); a slow memory
    of it is kept for the later backlash.

    Encodes: "President Putin ... will continue to choose repression". Parameters:
    ``repression`` (repressiveness), ``repression_speed``.
    """
    s, p = m.s, m.p
    target = np.clip(p.repression * (0.75 + 0.5 * s.threat), 0.0, 1.0)
    s.repression = s.repression + p.repression_speed * (target - s.repression)
    s.repression_memory = s.repression_memory + (s.repression - s.repression_memory) / 12.0


def restrict_foreign_ngos(m) -> None:
    """A new restriction on foreign-funded NGOs each time repression ratchets up by
    ``ngo_step``; the UK reads it as a values issue and relations dip.

    Encodes: "New steps to stop foreign financing of NGOs have been accompanied by an
    increase in hardline official rhetoric". Parameters: ``ngo_step``, ``ngo_cost``.
    """
    s, p = m.s, m.p
    new_law = s.repression >= s.ngo_level + p.ngo_step
    s.ngo_level = np.where(new_law, s.repression, s.ngo_level)
    s.values_concern = np.where(new_law, np.minimum(1.0, s.values_concern + 0.05), s.values_concern)
    m.contribute("repression", -p.ngo_cost * new_law)


def harass_diplomats(m) -> None:
    """Campaigns against UK diplomats start at a rate that rises with repression and
    threat; each costs relations and adds to UK escalation pressure.

    Encodes: "the hounding of him looks similar to the sustained harassment
    experienced by the UK's former ambassador, Tony Brenton". Parameters:
    ``harassment_rate``, ``harassment_cost``.
    """
    s, p = m.s, m.p
    rate = scaled_rate(p.harassment_rate, 2.0, s.repression) * (0.5 + s.threat) / (0.5 + _THREAT_REFERENCE)
    s.harassment = m.rng.bernoulli("harassment", np.minimum(rate, 1.0))
    s.pressure = s.pressure + 0.5 * s.harassment
    m.contribute("hostility", -p.harassment_cost * s.harassment)


def protect_assad(m) -> None:
    """Russia's Syria stance follows its long-run aim, hardened by its own threat
    perception and any UK move to arm the rebels, plus noise. A push closes that share
    of the remaining gap (to 1 when hardening, to 0 when easing), so the stance stays
    inside its scale and the long-run aim keeps its meaning.

    Encodes: "the Russians are still determined to keep their ally in place and have
    repeatedly blocked action on the UN Security Council" and "for Syria, read
    Russia". Parameters: ``syria_divergence``, ``syria_regime_link``,
    ``syria_volatility``.
    """
    s, p = m.s, m.p
    push = p.syria_regime_link * (s.threat - _THREAT_REFERENCE) + s.syria_offset
    aim = p.syria_divergence
    target = aim + np.where(push > 0, (1.0 - aim), aim) * np.clip(push, -1.0, 1.0)
    noise = p.syria_volatility * m.rng.normal("syria")
    s.syria_divergence = np.clip(s.syria_divergence + 0.1 * (target - s.syria_divergence) + noise, 0, 1)


class Kremlin(Actor):
    name = "kremlin"
    phase = 0.20
    rules = (perceive_threat, repress, restrict_foreign_ngos, harass_diplomats, protect_assad)
    PARAMS = PARAMS
