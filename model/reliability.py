"""How far the forecasts can be trusted: the track record and an analytic-confidence rating.

``reliability(scenario)`` gathers, from code and never from a stored file,

- the rolling-origin exports backtest of :mod:`model.backtest` at its recorded settings
  (the run behind docs/calibration.md): coverage of the central 50/80/90% intervals over
  the origin-horizon pairs, and the CRPS skill against persistence and trend (model
  CRPS / baseline CRPS, below 1: the model is better);
- the event backtest (Brier of the model against the reference-class base rate) and the
  size of the event record: episodes of each scored kind in the reference class
  1992-2012 (:func:`model.reference.base_rates`);
- an analytic-confidence rating, high, moderate or low, each with its reasons in short
  sentences, by the explicit rule below (documented, with its sources, in
  docs/reliability.md).

The rule (thresholds are the constants below; every comparison is inclusive where it
says "at least" or "within"):

Exports (the export judgment rests on it):
  low       fewer than ``MIN_PAIRS`` origin-horizon pairs; or the 80% interval covers
            outside ``TARGET_80`` (issue 9's 60-95%); or the model is not better than
            persistence (skill >= 1);
  high      otherwise, if every interval's coverage is within ``HIGH_TOLERANCE`` of its
            nominal level, the skill is at most ``HIGH_SKILL`` against both persistence
            and trend, and at least ``HIGH_PAIRS`` pairs have baselines;
  moderate  otherwise.
Events (the event judgments rest on it):
  low       fewer than ``MODERATE_EPISODES`` episodes of some scored kind in the
            reference window, or fewer than ``MODERATE_OUTCOMES`` origin-event pairs in
            which the event happened; or the model's Brier is not below the base rate's;
  high      otherwise, if every kind has at least ``HIGH_EPISODES`` episodes, at least
            ``HIGH_OUTCOMES`` outcomes happened and the Brier ratio is at most ``HIGH_SKILL``;
  moderate  otherwise.
Overall (the relations judgments, the headline among them, and the brief as a whole):
  the lower of exports and events, and never above ``RELATIONS_CAP`` (moderate), since
  the relations index has no pre-2013 series to score against at all.

The backtest takes a few seconds and is deterministic (fixed runs and seed), so it is
computed once per process (``functools.lru_cache``); nothing is stored on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

LEVELS = ("low", "moderate", "high")  # in increasing order
BACKTEST_SCENARIO = "baseline"  # the backtest's scenario (model.backtest.run_backtest's default)

# Exports rule.
MIN_PAIRS = 10                # fewer scored pairs than this say nothing about calibration
TARGET_80 = (0.60, 0.95)      # issue 9's target for the 80% interval's coverage
HIGH_TOLERANCE = 0.10         # high: each interval covers within 10 points of its nominal level
HIGH_SKILL = 0.90             # high: model score at most 0.9 of each baseline's (a 10% gain)
HIGH_PAIRS = 20               # high: at least this many pairs with baselines
# Events rule.
MODERATE_EPISODES = 5         # fewest episodes of any scored kind, 1992-2012, for moderate
HIGH_EPISODES = 20            # ... for high
MODERATE_OUTCOMES = 10        # backtest origin-event pairs in which the event happened, for moderate
HIGH_OUTCOMES = 30            # ... for high
# Overall.
RELATIONS_CAP = "moderate"    # the relations index itself is untested: never high
_EPS = 1e-9                   # |k / n - level| carries subtraction noise (0.8 - 0.7 > 0.1)

# The backtest's scored events (model.backtest.EVENTS) as a reader names them.
EVENT_LABELS = {"expulsions": ("expulsion round", "expulsion rounds"),
                "major_incident": ("serious incident on UK soil", "serious incidents on UK soil"),
                "crisis": ("crisis of relations", "crises of relations"),
                "dialogue_suspended": ("suspended cooperation format", "suspended cooperation formats"),
                "sanctions": ("UK or EU sanctions episode", "UK or EU sanctions episodes")}


def count_of(n: int, event: str) -> str:
    """'4 expulsion rounds', '1 serious incident on UK soil', 'no UK or EU sanctions episodes'."""
    one, many = EVENT_LABELS.get(event, (event, event))
    return f"no {many}" if n == 0 else f"{n} {one if n == 1 else many}"


@dataclass(frozen=True)
class Confidence:
    """An analytic-confidence level with the reasons for it, each a short sentence."""

    level: str
    reasons: tuple[str, ...]  # full sentences, the deciding one first
    clause: str               # the deciding reason, terse, for the brief: "moderate for exports (<clause>)"


@dataclass(frozen=True)
class TrackRecord:
    """The numbers of the backtest and the reference class that the rating uses."""

    origins: tuple[int, ...]
    horizons: tuple[int, ...]
    runs: int
    seed: int
    pairs: int                    # origin-horizon pairs scored
    coverage: tuple[tuple[float, float], ...]  # (nominal level, share of pairs covered)
    skill_pairs: int              # pairs with baselines (the first origin has none)
    skill_persistence: float      # model CRPS / persistence CRPS over those pairs
    skill_trend: float
    mean_pit: float
    period: tuple[int, int]       # the reference class's window
    episodes: tuple[tuple[str, int], ...]  # (scored event, episodes of its kind in the window)
    event_pairs: int              # origin-event pairs scored
    event_outcomes: int           # ... in which the event happened
    brier_skill: float            # model Brier / base-rate Brier over them

    def cover(self, level: float) -> float:
        return dict(self.coverage)[level]

    def count(self, event: str) -> int:
        return dict(self.episodes)[event]


@dataclass(frozen=True)
class Reliability:
    """How far a forecast can be trusted: the track record, the thin event record and
    the analytic-confidence ratings (see the module docstring for the rule)."""

    scenario: str           # the scenario the statement is about
    conditional: bool       # its assumptions differ from the backtested baseline's
    record: TrackRecord
    exports: Confidence
    events: Confidence
    overall: Confidence

    def for_judgment(self, key: str) -> Confidence:
        """The confidence of one brief judgment (model.brief.content keys): the export
        judgment rests on the export backtest, every other one on relations and events."""
        return self.exports if key == "exports_above_2012" else self.overall

    @property
    def caveat(self) -> str:
        """The thin-record caveat: the episodes behind the event model."""
        r = self.record
        return (f"The event record is thin: {r.period[0]}\u2013{r.period[1]} holds "
                f"{count_of(r.count('expulsions'), 'expulsions')} and {count_of(r.count('sanctions'), 'sanctions')} "
                f"({total_episodes(r)} episodes of the {len(r.episodes)} kinds scored).")

    @property
    def track_record_line(self) -> str:
        """One line for the brief: coverage, skill and the caveat."""
        r = self.record
        o = r.origins
        n = r.count("sanctions")
        sanctions = "no sanctions" if n == 0 else f"{n} sanctions episode{'s' * (n != 1)}"
        return (f"Track record (docs/calibration.md): from {o[0]}\u2013{o[-1]} starts the 80% export interval "
                f"held {pc(r.cover(0.8))} of {r.pairs} outcomes {r.horizons[0]}\u2013{r.horizons[-1]} years ahead, "
                f"CRPS {r.skill_persistence:.2f} of persistence's (below 1: better); the event record is thin: "
                f"{r.period[0]}\u2013{r.period[1]} holds {count_of(r.count('expulsions'), 'expulsions')} and "
                f"{sanctions}.")

    @property
    def statement(self) -> str:
        """The analytic-confidence statement printed beside the PHIA terms."""
        cond = f" '{self.scenario}' also rests on untested assumptions." if self.conditional else ""
        return (f"Analytic confidence (high/moderate/low, UK practice): {self.overall.level} for relations and events "
                f"({self.overall.clause}); {self.exports.level} for exports ({self.exports.clause}).{cond}")


def pc(x: float) -> str:
    return f"{100 * x:.0f}%"


def total_episodes(r: TrackRecord) -> int:
    return sum(n for _, n in r.episodes)


def lowest(*levels: str) -> str:
    """The lowest of several confidence levels."""
    return min(levels, key=LEVELS.index)


# ---------------------------------------------------------------- the rule


def exports_confidence(coverage: dict[float, float], pairs: int, skill_pairs: int, skill_persistence: float,
                       skill_trend: float) -> Confidence:
    """The export rating from the backtest's coverage ({0.5: c50, 0.8: c80, 0.9: c90}),
    its pair counts and skills (see the module docstring)."""
    c80 = coverage[0.8]
    lo, hi = TARGET_80
    target = f"target {100 * lo:.0f}\u2013{pc(hi)}"
    cov = f"The 80% export interval held the outcome in {pc(c80)} of {pairs} backtest pairs ({target})."
    better = skill_persistence < 1
    skill = (f"The model's error (CRPS) was {skill_persistence:.2f} of persistence's and {skill_trend:.2f} of "
             f"trend's: it {'beats' if better else 'does not beat'} carrying the last year forward.")
    if pairs < MIN_PAIRS:
        return Confidence("low", (f"Only {pairs} backtest pairs were scored: too few to judge the fans.",),
                          f"only {pairs} backtest pairs")
    if not lo <= c80 <= hi:  # k / n is correctly rounded: equal to the bound when it is
        why = "too narrow" if c80 < lo else "too wide"
        return Confidence("low", (f"{cov[:-1]}: the fans are {why}.", skill), f"80% interval held {pc(c80)}, {target}")
    if not better:
        return Confidence("low", (skill, cov), "no better than persistence")
    misses = [lv for lv, c in sorted(coverage.items()) if abs(c - lv) > HIGH_TOLERANCE + _EPS]
    strong = skill_persistence <= HIGH_SKILL and skill_trend <= HIGH_SKILL
    if not misses and strong and skill_pairs >= HIGH_PAIRS:
        return Confidence("high", (cov, skill, f"Every interval covered within {round(100 * HIGH_TOLERANCE)} points "
                                               f"of its nominal level; {skill_pairs} pairs had baselines."),
                          "intervals near nominal, beats both baselines")
    short = []
    if misses:
        short.append(", ".join(f"the {pc(lv)} interval covered {100 * coverage[lv]:.1f}%" for lv in misses)
                     + f", more than {round(100 * HIGH_TOLERANCE)} points from nominal")
    if not strong:
        short.append(f"the gain over persistence or trend is under {round(100 * (1 - HIGH_SKILL))}%")
    if skill_pairs < HIGH_PAIRS:
        short.append(f"only {skill_pairs} pairs had baselines")
    return Confidence("moderate", (cov, skill, f"Not high: {'; '.join(short)}."),
                      f"80% interval within its {target[7:]} target, beats persistence")


def events_confidence(episodes: dict[str, int], outcomes: int, pairs: int, brier_skill: float,
                      period: tuple[int, int] = (1992, 2012)) -> Confidence:
    """The event rating from the episodes of each scored kind in the reference window,
    the backtest's outcomes and the Brier ratio model / base rate (see the module docstring)."""
    fewest = min(episodes, key=lambda k: (episodes[k], k))
    total = sum(episodes.values())
    years = f"{period[0]}\u2013{period[1]}"
    record = (f"The reference class holds {total} episodes of the {len(episodes)} scored kinds in {years} "
              f"({', '.join(count_of(n, k) for k, n in episodes.items())}).")
    tested = f"In the backtest the events happened in {outcomes} of {pairs} origin-event pairs."
    brier = (f"The model's Brier score was {brier_skill:.3f} of the base rate's (below 1: better); over so few "
             "outcomes the difference is not evidence either way." if not brier_skill <= HIGH_SKILL else
             f"The model's Brier score was {brier_skill:.3f} of the base rate's (below 1: better).")
    if episodes[fewest] < MODERATE_EPISODES or outcomes < MODERATE_OUTCOMES:
        few = (f"{tested[:-1]}: too few to estimate the rates, let alone test the model's."
               if outcomes < MODERATE_OUTCOMES else tested)
        return Confidence("low", (record, few, brier),
                          f"only {total} reference episodes")
    if not brier_skill < 1:
        return Confidence("low", (brier, record, tested),
                          "no better than the base rate")
    clause = f"{total} reference episodes, beats the base rate"
    if episodes[fewest] >= HIGH_EPISODES and outcomes >= HIGH_OUTCOMES and brier_skill <= HIGH_SKILL:
        return Confidence("high", (record, tested, brier), clause)
    return Confidence("moderate", (record, tested, brier), clause)


def overall_confidence(exports: Confidence, events: Confidence) -> Confidence:
    """The relations and event judgments' rating: the lower of exports and events, never
    above :data:`RELATIONS_CAP`."""
    level = lowest(exports.level, events.level, RELATIONS_CAP)
    reasons = [*events.reasons, "The relations index has no pre-2013 series to score: the judgments on relations "
               "are tested only through the events and exports they drive."]
    clause = f"{events.clause}, no relations series"
    if LEVELS.index(exports.level) < LEVELS.index(events.level):  # the exports decide it
        reasons.insert(0, exports.reasons[0])
        clause = f"exports rated {exports.level}, no relations series"
    return Confidence(level, tuple(reasons), clause)


# ---------------------------------------------------------------- computed from code


def record_of(res) -> TrackRecord:
    """The numbers the rating uses from a :class:`model.backtest.BacktestResult` and the
    reference class (1992-2012)."""
    from model.backtest import EVENTS, HORIZONS, skill
    from model.reference import PERIOD, base_rates

    p, ev = res.pairs, res.events
    rates = base_rates(PERIOD)
    return TrackRecord(
        origins=tuple(res.origins), horizons=tuple(HORIZONS), runs=res.runs, seed=res.seed, pairs=len(p),
        coverage=tuple((lv, res.coverage(lv)) for lv in (0.5, 0.8, 0.9)),
        skill_pairs=int(p["persistence_crps"].notna().sum()),
        skill_persistence=skill(p, "persistence"), skill_trend=skill(p, "trend"),
        mean_pit=float(p["pit"].mean()), period=tuple(PERIOD),
        episodes=tuple((e, rates.event_rate(e).count) for e in EVENTS),
        event_pairs=len(ev), event_outcomes=int(ev["happened"].sum()),
        brier_skill=float(ev["model_brier"].mean() / ev["base_brier"].mean()))


@lru_cache(maxsize=1)
def track_record() -> TrackRecord:
    """The backtest at its recorded settings (docs/calibration.md) and the reference-class
    counts; computed once per process (a few seconds)."""
    from model.backtest import RUNS, SEED, run_backtest

    return record_of(run_backtest(runs=RUNS, seed=SEED, scenario=BACKTEST_SCENARIO))


def rate(record: TrackRecord) -> tuple[Confidence, Confidence, Confidence]:
    """(exports, events, overall) ratings of a track record by the rule."""
    ex = exports_confidence(dict(record.coverage), record.pairs, record.skill_pairs, record.skill_persistence,
                            record.skill_trend)
    evc = events_confidence(dict(record.episodes), record.event_outcomes, record.event_pairs, record.brier_skill,
                            record.period)
    return ex, evc, overall_confidence(ex, evc)


def _conditional(scenario) -> tuple[str, bool]:
    """(name, whether its assumptions (parameters, dated events) differ from the backtested baseline's)."""
    from model.scenario import load_scenario

    if scenario is None:
        return BACKTEST_SCENARIO, False
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    base = load_scenario(BACKTEST_SCENARIO)
    return sc.name, (sc.name != BACKTEST_SCENARIO or sc.params != base.params
                     or sc.calendar != base.calendar)


def reliability(scenario=None) -> Reliability:
    """How far forecasts of ``scenario`` (a Scenario, a shipped name or None: the baseline)
    can be trusted. The track record is always the model's under the baseline's
    assumptions (what the backtest runs); a scenario with other assumptions is flagged
    as conditional on them."""
    name, conditional = _conditional(scenario)
    record = track_record()
    ex, evc, overall = rate(record)
    return Reliability(name, conditional, record, ex, evc, overall)
