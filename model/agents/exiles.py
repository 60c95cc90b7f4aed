"""Exiles in London: prominent arrivals and violent incidents on UK soil.

State: ``arrivals`` (prominent exiles arriving this month, each an asylum case for
the UK government), ``incidents`` (violent incidents this month) and
``major_incidents`` (of which Litvinenko-scale).
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor, scaled_rate
from model.params import ParamSpec
from model.shocks import forced

GROUP = "Exiles in London"

PARAMS = (
    ParamSpec(
        "exile_rate", "Prominent exiles arriving", "cases per month at repression 0.5",
        0.0, 1.0, 0.10, "triangular", 0.05, GROUP,
        "Prominent Russians seeking refuge in the UK, a Poisson rate that rises e-fold "
        "per 0.5 of repression above 0.5.",
        "'the UK remains a preferred destination for many Russians, including those who "
        "wish to put themselves beyond Moscow's reach.' Rate invented (about one "
        "notable case a year)."),
    ParamSpec(
        "incident_rate", "Violent incidents on UK soil", "per month at repression 0.5",
        0.0, 0.2, 0.04, "triangular", 0.02, GROUP,
        "Assassinations, attempts and suspicious deaths linked to Russia, a Poisson rate "
        "that rises e-fold per 0.67 of repression above 0.5.",
        "'The attempted assassination of ... German Gorbuntsov, in London last year and "
        "the suspicious death in Surrey last November of Alexander Perepilichnyy ... more "
        "than six years on from the Litvinenko affair'. Three incidents from November "
        "2006 to March 2013 (76 months) gives 0.04 a month."),
    ParamSpec(
        "major_incident_share", "Share of incidents on the Litvinenko scale", "probability",
        0.0, 1.0, 0.12, "beta", 0.06, GROUP,
        "Share of incidents grave enough to be a state-level affair.",
        "From the reference class (docs/reference-events.md): one Litvinenko-scale affair "
        "in 1992-2012, a Jeffreys rate of 0.071 a year or 0.0059 a month, which is 0.12 of "
        "the incident rate at the March 2013 repression level (0.04 x exp(1.5 x 0.05) = "
        "0.043). The article's own list (one in three) starts with Litvinenko, so it "
        "overstates the share."),
    ParamSpec(
        "incident_cost", "Relations cost of an incident", "Goldstein points",
        0.0, 3.0, 0.8, "triangular", 0.4, GROUP,
        "Fall in relations for an ordinary incident.", "Invented."),
    ParamSpec(
        "major_incident_cost", "Relations cost of a major incident", "Goldstein points",
        0.0, 8.0, 2.5, "triangular", 1.0, GROUP,
        "Fall in relations for a Litvinenko-scale incident (it adds 4 escalation "
        "pressure points, enough for expulsions at default settings).",
        "Invented; the article calls the Litvinenko affair 'the nadir'."),
)


def arrive(m) -> None:
    """Prominent exiles arrive at a rate that rises with repression.

    Encodes: "the UK remains a preferred destination for many Russians, including
    those who wish to put themselves beyond Moscow's reach". Parameter:
    ``exile_rate``.
    """
    m.s.arrivals = m.rng.poisson("arrivals", scaled_rate(m.p.exile_rate, 2.0, m.s.repression))


def bring_problems_ashore(m) -> None:
    """Violent incidents on UK soil at a rate rising with repression; some are
    Litvinenko-scale. Each costs relations and adds UK escalation pressure (1 per
    incident, 4 per major one). A scenario's dated ``major_incident`` shock makes one
    in its month, costing its size in Goldstein points.

    Encodes: "more than six years on from the Litvinenko affair, Russia's problems
    still have a habit of reaching our shores." Parameters: ``incident_rate``,
    ``major_incident_share``, ``incident_cost``, ``major_incident_cost``.
    """
    s, p = m.s, m.p
    n = m.rng.poisson("incidents", scaled_rate(p.incident_rate, 1.5, s.repression))
    # At most one major incident a month: a second would be swamped by the first.
    major = (n > 0) & m.rng.bernoulli("major", 1 - (1 - p.major_incident_share) ** n)
    forced_on, forced_size = forced(m, "major_incident")
    minor = n - major
    major = major | forced_on
    cost = np.where(forced_on & ~np.isnan(forced_size), forced_size, p.major_incident_cost)
    s.incidents = minor + major
    s.major_incidents = major.astype(np.int64)
    s.pressure = s.pressure + minor + 4.0 * major
    m.contribute("incidents", -(p.incident_cost * minor + cost * major))


class Exiles(Actor):
    name = "exiles"
    phase = 0.30
    rules = (arrive, bring_problems_ashore)
    PARAMS = PARAMS
