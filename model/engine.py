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
"""

from __future__ import annotations

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
    "sanctions": np.bool_,
    "expulsions": np.int16,
    "incidents": np.int16,
    "major_incidents": np.int16,
    "asylum_grants": np.int16,
    "harassment": np.bool_,
    "crisis": np.bool_,
    "meeting": np.bool_,
    "formula": np.bool_,
    "rebel_aid": np.bool_,
} | {f"contrib_{d}": np.float64 for d in DRIVERS}

_STATE_RECORDED = tuple(k for k in RECORDED if not k.startswith("contrib_"))

# State names that differ from their recorded names.
_STATE_NAME = {"exports_gbp_m": "exports"}


def month_index(start: str, when: str) -> int:
    """Months from ``start`` to ``when`` (both YYYY-MM)."""
    y0, m0 = map(int, start.split("-"))
    y1, m1 = map(int, when.split("-"))
    return (y1 - y0) * 12 + (m1 - m0)


@dataclass(frozen=True)
class CalendarPlan:
    """The scenario calendar as month indices from the start month."""

    first_meeting: int
    meeting_interval: int
    campaigns: tuple[tuple[str, int, int], ...]  # (election, first campaign month, election month)

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
        return cls(first, cal.meeting_interval, tuple(campaigns))


class Model:
    """State, parameters, randomness and calendar for a set of runs."""

    def __init__(self, scenario: Scenario, run_ids: np.ndarray, seed: int, horizon: int,
                 params: dict[str, np.ndarray] | None = None, design: dict[str, np.ndarray] | None = None):
        self.scenario = scenario
        self.run_ids = np.asarray(run_ids, dtype=np.int64)
        self.n = self.run_ids.size
        self.horizon = horizon
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
        yield self.env.timeout(max(first, 0) + 0.08)
        self._campaigns_on += 1
        self.campaign = 1.0
        yield self.env.timeout(at - max(first, 0) + 0.5)
        # Campaigns can overlap (elections months apart): the flag stays on until the last ends.
        self._campaigns_on -= 1
        self.campaign = 1.0 if self._campaigns_on else 0.0

    def run(self) -> dict[str, np.ndarray]:
        for actor in ACTORS:
            self.env.process(actor().process(self))
        for name, first, at in self.calendar.campaigns:
            self.env.process(self.election_process(name, first, at))
        self.env.run(until=self.horizon)
        return self.out


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
        threat=full(min(1.0, 2.5 * ini.protest)), syria_divergence=full(ini.syria_divergence),
        syria_offset=np.zeros(n), ngo_level=full(ini.repression), values_concern=full(ini.repression),
        exports=full(ini.exports_gbp_m), export_growth=full(np.log1p(ini.export_growth)),
        # Exports start on their trend: no deviation, annual shock or drift in the trend's growth yet.
        export_trend=full(np.log(ini.exports_gbp_m)), export_dev=np.zeros(n),
        export_shock=np.zeros(n), export_drift=np.zeros(n),
        us_russia=full(ini.us_russia), pressure=full(ini.pressure), ladder=ladder,
        dialogue_active=ladder < 2, sanctions=ladder >= 4, sanctions_before=ladder >= 4,
        expulsions=np.zeros(n), incidents=np.zeros(n, dtype=np.int64),
        major_incidents=np.zeros(n, dtype=np.int64), arrivals=np.zeros(n, dtype=np.int64),
        asylum_grants=np.zeros(n, dtype=np.int64), harassment=np.zeros(n, dtype=bool),
        crisis=np.zeros(n, dtype=bool), meeting=np.zeros(n, dtype=bool),
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
