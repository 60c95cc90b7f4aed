"""The bilateral relations index and the monthly ledger that moves it.

Scale: anchored on the Goldstein conflict-cooperation scale, -10 (military
conflict) to +10 (alliance), read as the month's prevailing tone. Named bands:

==================  ============  ==================================================
band                range         reading
==================  ============  ==================================================
hostile             [-10, -6]     expulsions, sanctions, talks broken off
confrontational     (-6, -2]      open disputes, public accusations
cool                (-2, 2]       'cool pragmatism': talking, trading, disagreeing
constructive        (2, 6]        regular co-operation on shared interests
partnership         (6, 10]       close alignment (not seen since 1991)
==================  ============  ==================================================

Dynamics: relations relax towards an equilibrium at rate ``relaxation`` a month,
and events jolt them. Writing Y = relations - E0, where E0 is the equilibrium at
the start month's driver levels,

    Y(t+1) = (1 - relaxation) * Y(t) + sum of the month's flows,

where each flow is booked by a rule to a named driver (an incident, a formula of
words, or a slow driver's pull as it moves away from its start level). Y is then
exactly the sum of one *stock* per driver, each the driver's past flows decayed
at the relaxation rate, plus the start gap Y(0) (booked to ``reversion``,
labelled "Pull to start-month equilibrium"). Each
month's ``contrib_<driver>`` is the change in that driver's stock: its new flow
less the decay of its earlier effect. So the contributions sum exactly to the
month's change, and summed over time they give each driver's *net* effect on
relations at that date -- what a briefing means by "what moved relations".

In plain words, ``reversion``: relations begin away from the level the start month's
drivers would settle at, and drift towards it. With the calibrated anchor (see
``model.calibration.steady_state_anchor``) that level lies above the starting +1,
because the usual run of incidents, harassment and crises holds relations below it;
so ``reversion`` is a positive pull that offsets those events' usual cost, and it
is often the largest single line in a waterfall.

If a month's total would cross a bound, every contribution is scaled by the same
factor, so the index stays in [-10, 10] and the sums still hold.
"""

from __future__ import annotations

import numpy as np

from model.agents.base import Actor
from model.agents.dialogue import clear_meeting_flags
from model.params import ParamSpec

GROUP = "Relations index"
BOUNDS = (-10.0, 10.0)
BANDS = (
    ("hostile", -10.0, -6.0),
    ("confrontational", -6.0, -2.0),
    ("cool", -2.0, 2.0),
    ("constructive", 2.0, 6.0),
    ("partnership", 6.0, 10.0),
)

# The drivers a month's change is booked to (``contrib_<name>`` in the results).
DRIVERS = (
    "protest_growth", "repression", "syria_divergence", "trade_growth", "us_russia",
    "incidents", "exiles", "hostility", "responses", "russian_answers", "dialogue", "shocks", "reversion",
)
DRIVER_LABELS = {
    "protest_growth": "Russian protest",
    "repression": "Repression and UK values concern",
    "syria_divergence": "Syria divergence",
    "trade_growth": "Trade ballast",
    "us_russia": "US-Russia relations",
    "incidents": "Incidents on UK soil",
    "exiles": "Asylum for exiles",
    "hostility": "Harassment of diplomats",
    "responses": "UK response ladder and EU sanctions",
    "russian_answers": "Russia's answers",
    "dialogue": "Strategic Dialogue",
    "shocks": "Crises and noise",
    "reversion": "Pull to start-month equilibrium",
}

PARAMS = (
    ParamSpec(
        "relaxation", "Pull towards equilibrium", "share of gap closed per month",
        0.01, 0.5, 0.10, "triangular", 0.05, GROUP,
        "How quickly relations settle towards the level the slow drivers imply; the "
        "weights below are in points of that equilibrium.",
        "Invented: about a half-year memory for the relationship's tone (the spread runs "
        "from a quarter-year to a year and a half)."),
    ParamSpec(
        "relations_anchor", "Relations with no frictions", "Goldstein points",
        -5.0, 8.0, 5.7, "triangular", 1.0, GROUP,
        "Where relations would settle with zero Syria gap, repression, protest and "
        "trade growth, and a neutral US.",
        "'The two countries might not become close allies, but a relationship based on "
        "trade and mutual regard for each other's interests might at least be in the "
        "offing.' Calibrated, not read off the article: 5.0 makes March 2013 a steady "
        "state (drivers at their 2013 levels and events at base rates keep relations at "
        "+1; see model.calibration.steady_state_anchor), since relations had been a "
        "stable 'cool' since 2010."),
    ParamSpec(
        "weight_syria", "Weight of the Syria gap", "Goldstein points per unit divergence",
        0.0, 8.0, 3.0, "triangular", 1.0, GROUP,
        "Equilibrium points lost at full Syria divergence.",
        "'At the top of the agenda tomorrow will be Syria where the UK and Russia seem "
        "no nearer to a common understanding'. Invented; the largest of the weights, as "
        "the article puts Syria first."),
    ParamSpec(
        "weight_values", "Weight of UK values concern", "Goldstein points per unit concern",
        0.0, 6.0, 2.0, "triangular", 0.75, GROUP,
        "Equilibrium points lost at full UK concern about repression.",
        "'Perhaps just as worrying is the continued erosion of democratic standards in "
        "Russia itself which is now impacting on the country's external relations'. Invented."),
    ParamSpec(
        "weight_protest", "Weight of Russian protest", "Goldstein points per share protesting",
        0.0, 6.0, 2.0, "triangular", 0.75, GROUP,
        "Equilibrium points lost per share of the public protesting, as the Kremlin "
        "blames the West and London is drawn in.",
        "'London, as an important centre of Russian life and a haven for dissent, "
        "cannot avoid being drawn in.' Invented."),
    ParamSpec(
        "weight_trade", "Weight of trade ballast", "Goldstein points at strong growth",
        0.0, 2.0, 0.5, "triangular", 0.3, GROUP,
        "Equilibrium points gained when exports grow strongly (the term is "
        "tanh(growth / 10%)); shrinking trade costs points. A weak brake.",
        "'a relationship based on trade and mutual regard for each other's interests "
        "might at least be in the offing ... The results so far will have been a "
        "disappointment to both': trade grew 'despite often fraught relations' without "
        "improving them, so its weight is small. Invented."),
    ParamSpec(
        "weight_us", "Weight of US-Russia relations", "Goldstein points per unit",
        0.0, 2.0, 0.5, "triangular", 0.3, GROUP,
        "Equilibrium points gained per unit of US-Russia warmth: background colour, not "
        "a lever.",
        "'Mostly this is aimed at America, despite the fact that President Obama has "
        "taken steps to minimise areas of disagreement with Russia. But the UK is "
        "inevitably drawn into campaigns aimed at fostering anti-western paranoia as a "
        "leading NATO power': US warmth did not spare the UK, so the weight is small. "
        "Invented."),
)


def band_of(relations: np.ndarray) -> np.ndarray:
    """Band names for relations values (upper edges inclusive, as in the table)."""
    edges = np.array([b[2] for b in BANDS[:-1]])
    idx = np.searchsorted(edges, relations, side="left")
    return np.array([b[0] for b in BANDS])[idx]


def _slow_drivers(m) -> dict[str, np.ndarray]:
    """Each slow driver's term in the equilibrium, in Goldstein points."""
    s, p = m.s, m.p
    return {
        "syria_divergence": -p.weight_syria * s.syria_divergence,
        "repression": -p.weight_values * s.values_concern,
        "protest_growth": -p.weight_protest * s.protest,
        "trade_growth": p.weight_trade * np.tanh(s.export_growth / 0.10),
        "us_russia": p.weight_us * s.us_russia,
        # A crisis holds relations down by its severity while it lasts (outside_world.py).
        "shocks": -s.crisis_level,
    }


def pull_toward_equilibrium(m) -> None:
    """Relations relax towards an equilibrium set by the slow drivers. Each driver
    is booked the pull of its change since the start month; the start month's gap
    to its own equilibrium is the ``reversion`` stock, which decays in
    :func:`close_month`.

    Encodes: "In terms of interests and outlook, the gap between the two governments
    still looks too wide for a substantive breakthrough in relations to be possible"
    (the slow drivers set a ceiling that events only dent). Parameters:
    ``relaxation``, ``relations_anchor`` and the ``weight_*`` parameters.
    """
    s, p = m.s, m.p
    k = p.relaxation
    terms = _slow_drivers(m)
    if m.reference_terms is None:  # the start month's levels, fixed for the run
        m.reference_terms = terms
        m.stocks[_REVERSION] = s.relations - (p.relations_anchor + _total(np.array(list(terms.values()))))
    ref = m.reference_terms
    for driver, term in terms.items():
        m.contribute(driver, k * (term - ref[driver]))


def _total(rows: np.ndarray) -> np.ndarray:
    """Row-by-row sum in a fixed order. Not ``rows.sum(axis=0)``: numpy may sum a
    one-run column pairwise, which would round differently from many runs."""
    total = rows[0].copy()
    for row in rows[1:]:
        total += row
    return total


_REVERSION = DRIVERS.index("reversion")


def close_month(m) -> None:
    """Decay every driver's earlier effect, apply the month's booked contributions
    to relations (scaled together if they would cross a bound), and record the
    month.

    Encodes the issue's contract that the contributions "sum to that change". No
    parameter beyond ``relaxation``.
    """
    s = m.s
    m.contrib_rows -= m.p.relaxation * m.stocks
    delta = _total(m.contrib_rows)
    lo, hi = BOUNDS
    target = s.relations + delta
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(target > hi, (hi - s.relations) / delta,
                         np.where(target < lo, (lo - s.relations) / delta, 1.0))
    if (scale != 1.0).any():
        m.contrib_rows *= scale
        delta = _total(m.contrib_rows)
    m.stocks += m.contrib_rows
    s.relations = np.clip(s.relations + delta, lo, hi)
    m.record()
    m.new_month()
    clear_meeting_flags(m)


class Relations(Actor):
    name = "relations"
    phase = 0.90
    rules = (pull_toward_equilibrium, close_month)
    PARAMS = PARAMS
