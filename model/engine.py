"""The engine: a simpy calendar driving numpy arrays that hold many runs at once.

:class:`Model` is the world for a set of runs (Mesa's split: the model holds
state, parameters, randomness and the calendar; actors hold rules). Each actor
is a simpy process waking at its own phase within the month; elections and 2+2
meetings are processes too. One event updates every run in the set, with masks
where only some runs are affected.

Two engines share every rule:

* ``ensemble``: one :class:`Model` for all runs (arrays of shape ``(runs,)``);
* ``reference``: one :class:`Model` and one simpy environment per run, the
  oracle for tests and the baseline for the benchmark.

Because randomness is keyed by global run index (:mod:`model.rng`), both give
bit-identical results, and so does any split of the runs into chunks.

Conditioning on observations (:mod:`model.smc`) stops the calendar at a month
(:meth:`Model.advance`; simpy resumes where it stopped), reindexes every per-run
array by the resampled ancestors (:meth:`Model.reindex`) and carries on with
the randomness of a new generation. That needs the whole ensemble, so only the
``ensemble`` engine does it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import simpy

from model.agents import ACTORS
from model.agents.relations import DRIVERS
from model.params import registry, sample
from model.rng import PARAM_MONTH, Streams
from model.scenario import Scenario
from model.shocks import month_index  # noqa: F401  (re-exported: the calendar's month arithmetic)

# Variables recorded each month, with their storage dtype.
RECORDED: dict[str, Any] = {
    "relations": np.float64,
    "protest": np.float32,
    "grievance": np.float32,
    "repression": np.float32,
    "threat": np.float32,
    "syria_divergence": np.float32,
    "values_concern": np.float32,
    "us_russia": np.float32,
    "exports_gbp_m": np.float32,
    "pressure": np.float32,
    "ladder": np.int8,
    "dialogue_active": np.bool_,
    "russia_suspended": np.bool_,
    "sanctions": np.bool_,
    "counter_sanctions": np.bool_,
    "eu_pressure": np.float32,
    "expulsions": np.int16,
    "russian_expulsions": np.int16,
    "countermeasure": np.bool_,
    "incidents": np.int16,
    "major_incidents": np.int16,
    "asylum_grants": np.int16,
    "harassment": np.bool_,
    "crisis": np.bool_,
    "in_crisis": np.bool_,
    "regime_crisis": np.bool_,
    "meeting": np.bool_,
    "formula": np.bool_,
    "rebel_aid": np.bool_,
} | {f"contrib_{d}": np.float64 for d in DRIVERS}

_STATE_RECORDED = tuple(k for k in RECORDED if not k.startswith("contrib_"))

# State names that differ from their recorded names.
_STATE_NAME = {"exports_gbp_m": "exports"}


# The first Strategic Dialogue 2+2, "tomorrow" in the article.
ARTICLE_MEETING = "2013-03"


@dataclass(frozen=True)
class CalendarPlan:
    """The scenario calendar as month indices from the start month."""

    first_meeting: int
    meeting_interval: int
    campaigns: tuple[tuple[str, int, int], ...]  # (election, first campaign month, election month)
    # The first meeting is the article's (London, March 2013), whose formula it foresees.
    first_is_article_meeting: bool = False

    @classmethod
    def from_scenario(cls, sc: Scenario) -> CalendarPlan:
        cal, start = sc.calendar, sc.initial.start
        first = month_index(start, cal.first_meeting)
        if first < 0:  # the format started before this run: next meeting on its cycle
            first %= cal.meeting_interval
        campaigns = []
        for e in cal.elections:
            at = month_index(start, e.date)
            campaigns.append((e.name, at - cal.campaign_months + 1, at))
        return cls(first, cal.meeting_interval, tuple(campaigns),
                   cal.first_meeting == ARTICLE_MEETING and first == month_index(start, cal.first_meeting))


class Model:
    """State, parameters, randomness and calendar for a set of runs."""

    def __init__(self, scenario: Scenario, run_ids: np.ndarray, seed: int, horizon: int,
                 params: dict[str, np.ndarray] | None = None, design: dict[str, np.ndarray] | None = None):
        self.scenario = scenario
        self.run_ids = np.asarray(run_ids, dtype=np.int64)
        self.n = self.run_ids.size
        self.horizon = horizon
        self.seed = seed
        self.rng = Streams(seed, self.run_ids)
        self.p = SimpleNamespace(**(params if params is not None else draw_params(scenario, self.rng, design)))
        self.calendar = CalendarPlan.from_scenario(scenario)
        self.s = initial_state(scenario, self.n)
        self.campaign = 0.0
        self._campaigns_on = 0  # election campaigns under way
        self.reference_terms: dict[str, np.ndarray] | None = None
        self.month = 0
        # One row per driver; ``contrib[d]`` are views, so a month's ledger is cleared,
        # scaled and recorded as one array.
        self.contrib_rows = np.zeros((len(DRIVERS), self.n))
        self.contrib = {d: self.contrib_rows[i] for i, d in enumerate(DRIVERS)}
        # Each driver's accumulated, decaying effect on relations (see relations.py).
        self.stocks = np.zeros((len(DRIVERS), self.n))
        self._out_contrib = np.empty((horizon, len(DRIVERS), self.n))
        self.out = {k: np.empty((horizon, self.n), dtype=dt) for k, dt in RECORDED.items()
                    if not k.startswith("contrib_")}
        self.out |= {f"contrib_{d}": self._out_contrib[:, i, :] for i, d in enumerate(DRIVERS)}
        self.env = simpy.Environment()
        self._started = False

    # --- used by rules -------------------------------------------------------
    def contribute(self, driver: str, amount) -> None:
        """Book a change in relations to a driver for this month."""
        self.contrib[driver] += amount

    def record(self) -> None:
        """Store the month's state (called by the relations ledger)."""
        t = self.month
        self._out_contrib[t] = self.contrib_rows
        for name in _STATE_RECORDED:
            self.out[name][t] = getattr(self.s, _STATE_NAME.get(name, name))

    def new_month(self) -> None:
        self.month += 1
        self.rng.month = self.month
        self.contrib_rows[:] = 0.0

    # --- the calendar --------------------------------------------------------
    def election_process(self, name: str, first: int, at: int):
        """An election is a scheduled event: a campaign of mobilisation ending in the
        election month (the article's "flashpoint")."""
        if at < 0:
            return
        now = self.env.now
        if now == 0:  # the usual start: these exact timeouts (a fork resumes below)
            yield self.env.timeout(max(first, 0) + 0.08)
            self._campaigns_on += 1
            self.campaign = 1.0
            yield self.env.timeout(at - max(first, 0) + 0.5)
        else:  # a fork resuming at month ``now``: campaigns already on were copied as on
            on, off = max(first, 0) + 0.08, at + 0.58
            if now >= off:
                return
            if now < on:
                yield self.env.timeout(on - now)
                self._campaigns_on += 1
                self.campaign = 1.0
            yield self.env.timeout(off - self.env.now)
        # Campaigns can overlap (elections months apart): the flag stays on until the last ends.
        self._campaigns_on -= 1
        self.campaign = 1.0 if self._campaigns_on else 0.0

    def start(self) -> None:
        """Put the actors and the elections on the simpy calendar (once)."""
        if self._started:
            return
        self._started = True
        for actor in ACTORS:
            self.env.process(actor().process(self))
        for name, first, at in self.calendar.campaigns:
            self.env.process(self.election_process(name, first, at))

    def advance(self, months: int) -> None:
        """Run the calendar until ``months`` months have closed (rows ``0..months-1`` of
        :attr:`out` recorded). Called again with a later month, simpy carries on from
        where it stopped: the events of one call and of several are processed in the
        same order, so stopping changes no number. Every actor wakes at a phase after
        the month starts (``run(until=t)`` stops before events at ``t``), so nothing of
        month ``months`` has happened yet."""
        self.start()
        if months > self.env.now:
            self.env.run(until=months)

    def run(self) -> dict[str, np.ndarray]:
        self.advance(self.horizon)
        return self.out

    def fork(self) -> Model:
        """An independent copy of this model at the current month (between months): the
        same state, parameters, history, shock plan and randomness, on its own simpy
        calendar resuming at this month. Advancing the copy to the horizon gives exactly
        the months this model would simulate; this model is not touched. (The state at a
        month, restored: what "start from today's state" needs too.)"""
        twin = Model(self.scenario, self.run_ids, self.seed, self.horizon, params=dict(vars(self.p)))
        twin.month = self.month
        twin.campaign, twin._campaigns_on = self.campaign, self._campaigns_on
        twin.env = simpy.Environment(initial_time=self.month)
        twin._copy_from(self, np.arange(self.n))
        twin.rng = Streams(self.seed, self.run_ids, self.rng.generation)
        twin.rng.month = self.month
        return twin

    def _copy_from(self, src: Model, idx: np.ndarray) -> None:
        """Run ``i`` of this model becomes run ``idx[i]`` of ``src`` (which may be this
        model) in every per-run array; see :meth:`reindex`."""
        n = src.n
        moved: dict[int, np.ndarray] = {}

        def take(v: Any) -> Any:
            if not isinstance(v, np.ndarray) or v.ndim == 0 or v.shape[0] != n:
                return v
            if id(v) not in moved:
                moved[id(v)] = v[idx]
            return moved[id(v)]

        self.s = SimpleNamespace(**{k: take(v) for k, v in vars(src.s).items()})
        self.p = SimpleNamespace(**{k: take(v) for k, v in vars(src.p).items()})
        # In place: ``contrib`` holds views of the rows.
        self.stocks[:] = src.stocks[:, idx]
        self.contrib_rows[:] = src.contrib_rows[:, idx]
        if src.reference_terms is not None:
            self.reference_terms = {k: take(v) for k, v in src.reference_terms.items()}
        t = src.month  # months recorded so far
        self._out_contrib[:t] = src._out_contrib[:t][:, :, idx]  # the contrib_* entries are views
        for name in _STATE_RECORDED:
            self.out[name][:t] = src.out[name][:t][:, idx]
        plan = getattr(src, "_shock_plan", None)
        if plan is not None:  # each run keeps its ancestor's shock months (model/shocks.py)
            by_kind = {kind: [(at[idx] if isinstance(at, np.ndarray) else at, size) for at, size in entries]
                       for kind, entries in plan.by_kind.items()}
            self._shock_plan = dataclasses.replace(plan, by_kind=by_kind)
            self._shock_months = src._shock_months[:, idx]

    def reindex(self, idx: np.ndarray, generation: int) -> None:
        """Replace run ``i`` by run ``idx[i]`` in every per-run array: state,
        parameters, ledger stocks and contributions, start-month reference terms,
        the shock plan and the months recorded so far. Then key the randomness to
        ``generation``, so copies of one run part ways from the next draw on.

        Called between months (after :meth:`advance`). Arrays that alias each other
        still alias after the move."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.shape != (self.n,):
            raise ValueError(f"reindex needs {self.n} indices, got {idx.shape}")
        self._copy_from(self, idx)
        self.rng = Streams(self.seed, self.run_ids, generation)
        self.rng.month = self.month


def draw_params(scenario: Scenario, rng: Streams,
                design: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per-run parameter draws from each parameter's uncertainty distribution.

    ``design`` gives some parameters' values per run (one array per name, aligned
    with the runs); the others are drawn as usual, from the same keyed streams, so
    a run's undesigned draws do not depend on what else is designed.
    """
    out = {}
    design = design or {}
    for name, spec in registry().items():
        if name in design:
            out[name] = np.array(design[name], dtype=np.float64)
            continue
        st = scenario.params[name]
        u = rng.uniform(f"param:{name}", month=PARAM_MONTH)
        out[name] = sample(spec, st.value, st.dist, st.spread, u)
    return out


def initial_state(scenario: Scenario, n: int) -> SimpleNamespace:
    ini = scenario.initial
    full = lambda v: np.full(n, float(v))  # noqa: E731
    ladder = np.full(n, ini.ladder, dtype=np.int64)
    s = SimpleNamespace(
        relations=full(ini.relations), protest=full(ini.protest), grievance=full(ini.grievance),
        repression=full(ini.repression), repression_memory=full(ini.repression),
        threat=full(1.0 - np.exp(-3.0 * ini.protest)), syria_divergence=full(ini.syria_divergence),
        syria_offset=np.zeros(n), ngo_level=full(ini.repression), values_concern=full(ini.repression),
        exports=full(ini.exports_gbp_m), export_growth=full(np.log1p(ini.export_growth)),
        # Exports start on their trend: no deviation, annual shock or drift in the trend's growth yet.
        export_trend=full(np.log(ini.exports_gbp_m)), export_dev=np.zeros(n),
        export_shock=np.zeros(n), export_drift=np.zeros(n),
        us_russia=full(ini.us_russia), pressure=full(ini.pressure), ladder=ladder,
        dialogue_active=ladder < 2, russia_suspended=np.zeros(n, dtype=bool),
        sanctions=np.full(n, ini.sanctions), sanctions_before=np.full(n, ini.sanctions),
        counter_sanctions=np.zeros(n, dtype=bool), eu_pressure=np.zeros(n),
        expulsions=np.zeros(n), russian_expulsions=np.zeros(n), uk_opened=np.zeros(n, dtype=bool),
        countermeasure=np.zeros(n, dtype=bool), countered=np.zeros(n, dtype=bool),
        incidents=np.zeros(n, dtype=np.int64),
        major_incidents=np.zeros(n, dtype=np.int64), arrivals=np.zeros(n, dtype=np.int64),
        asylum_grants=np.zeros(n, dtype=np.int64), harassment=np.zeros(n, dtype=bool),
        crisis=np.zeros(n, dtype=bool), in_crisis=np.zeros(n, dtype=bool), crisis_left=np.zeros(n),
        crisis_level=np.zeros(n), regime_crisis=np.zeros(n, dtype=bool), meeting=np.zeros(n, dtype=bool),
        formula=np.zeros(n, dtype=bool), rebel_aid=np.zeros(n, dtype=bool),
    )
    return s


def run_ensemble(scenario: Scenario, run_ids: np.ndarray, seed: int, horizon: int,
                 design: dict[str, np.ndarray] | None = None):
    """All runs in one model: arrays of shape (runs,). ``design``: see :func:`draw_params`."""
    m = Model(scenario, run_ids, seed, horizon, design=design)
    return m.run(), vars(m.p)


def run_reference(scenario: Scenario, run_ids: np.ndarray, seed: int, horizon: int,
                  design: dict[str, np.ndarray] | None = None):
    """One model and one simpy environment per run: the oracle."""
    outs, params = [], []
    for i, rid in enumerate(np.asarray(run_ids)):
        row = {k: v[i:i + 1] for k, v in design.items()} if design else None
        m = Model(scenario, np.array([rid]), seed, horizon, design=row)
        outs.append(m.run())
        params.append(vars(m.p))
    out = {k: np.concatenate([o[k] for o in outs], axis=1) for k in RECORDED}
    par = {k: np.concatenate([p[k] for p in params]) for k in params[0]}
    return out, par


ENGINES = {"ensemble": run_ensemble, "reference": run_reference}
