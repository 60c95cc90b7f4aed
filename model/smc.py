"""Sequential Monte Carlo: condition the ensemble on what has happened since.

The ensemble runs to the month of the first observation, weighs each run by the
likelihood of what was seen (an indicator for events, a Gaussian in the stated
error for levels), resamples systematically with a uniform drawn from a keyed
stream, reindexes every per-run array of the :class:`model.engine.Model` by the
ancestors, and carries on with the randomness of the next generation
(:mod:`model.rng`). Where the update leaves few distinct runs (ESS below half the
runs), the parameters are rejuvenated with a Liu-West shrinkage kernel, so the
posterior over assumptions is itself a result (docs/updating.md).

Pieces: :func:`normalise`, :func:`ess`, :func:`systematic`, :func:`liu_west` are
plain functions of arrays (the Kalman-filter test runs them on a toy model);
:func:`run_filter` drives the engine; :func:`condition` adds ``min_ess`` (draw more
runs); :func:`report` compares a prior and a posterior Dataset for the CLI, the
dashboard and the brief.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from model.engine import Model
from model.errors import DialogueError
from model.observations import (
    MATCH_SDS,
    Observation,
    Observations,
    check_schedule,
    describe,
    log_likelihood,
    window,
)
from model.params import registry
from model.rng import PARAM_MONTH, Streams
from model.scenario import Scenario
from model.shocks import month_at, month_index

# Liu-West discount: the kernel keeps the cloud's mean and variance and adds noise of
# variance h^2 = 1 - a^2 times it (West 1993; Liu & West 2001 suggest 0.95-0.99).
DELTA = 0.98
# Rejuvenate the parameters when an update leaves an ESS below this share of the runs.
REJUVENATE_BELOW = 0.5
# Warn when an update leaves an ESS below this share of the runs (or below LOW_ESS_RUNS).
LOW_ESS_SHARE, LOW_ESS_RUNS = 0.05, 100
# --min-ess draws at most this many times the runs asked for.
MAX_GROWTH = 16
# The resampling uniform's "run index": outside any run's, so it never repeats a run's draw.
_RESAMPLE_ID = np.array([2**63], dtype=np.uint64)


# ---------------------------------------------------------------- the arithmetic


def normalise(logw: np.ndarray) -> np.ndarray:
    """Weights summing to 1 from log weights (all -inf gives all zeros)."""
    top = np.max(logw)
    if not np.isfinite(top):
        return np.zeros_like(logw, dtype=np.float64)
    w = np.exp(logw - top)
    return w / w.sum()


def ess(w: np.ndarray) -> float:
    """Effective sample size of normalised weights, 1 / sum(w^2) (Kish)."""
    s2 = float((w * w).sum())  # not np.dot: BLAS may split long sums by thread, changing the last bit
    return 1.0 / s2 if s2 > 0 else 0.0


def systematic(w: np.ndarray, u: float) -> np.ndarray:
    """Systematic resampling: ancestors of ``len(w)`` offspring from normalised weights
    ``w`` and one uniform ``u`` in (0, 1). Run ``j`` gets ``floor(n w_j)`` or one more
    copies; offspring stay in ancestor order. A run of weight 0 is never chosen."""
    n = w.size
    cdf = np.cumsum(w)
    cdf[-1] = 1.0  # rounding must not leave the last position beyond the end
    return np.searchsorted(cdf, (u + np.arange(n)) / n, side="left").astype(np.int64)


def resample_uniform(seed: int, generation: int, month: int) -> float:
    """The keyed uniform for the resampling into ``generation`` at ``month``."""
    return float(Streams(seed, _RESAMPLE_ID, generation).uniform("smc:resample", month=month)[0])


def supports(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Each uncertain parameter's prior support (lo, hi): the interval its draws fill.
    Fixed parameters (no spread, or a degenerate interval) are left out: nothing to learn."""
    out = {}
    for name, spec in registry().items():
        st = scenario.params[name]
        if st.dist == "fixed" or st.spread <= 0:
            continue
        lo, hi = spec.low, spec.high
        if st.dist in ("uniform", "triangular"):
            lo, hi = max(lo, st.value - st.spread), min(hi, st.value + st.spread)
        if hi > lo:
            out[name] = (float(lo), float(hi))
    return out


def liu_west(params: dict[str, np.ndarray], support: dict[str, tuple[float, float]],
             z: dict[str, np.ndarray], delta: float = DELTA) -> dict[str, np.ndarray]:
    """Move equally weighted parameter draws with the Liu-West kernel.

    On the logit scale of each parameter's support, ``y' = a y + (1 - a) mean(y) + h L z``
    with ``a = (3 delta - 1) / (2 delta)``, ``h^2 = 1 - a^2`` and ``L`` the Cholesky factor of
    the draws' covariance: the cloud's mean and covariance are kept, its members
    jittered so that copies of one run part ways. ``z`` are standard normals per run (keyed
    by the caller). Returns the moved parameters (those in ``support``); the others are
    not touched."""
    names = [k for k in support if k in params and np.ptp(params[k]) > 0]
    if not names:
        return {}
    a = (3 * delta - 1) / (2 * delta)
    h = math.sqrt(1 - a * a)
    lo = np.array([support[k][0] for k in names])
    hi = np.array([support[k][1] for k in names])
    x = np.column_stack([params[k] for k in names])
    eps = 1e-9
    y = special.logit(np.clip((x - lo) / (hi - lo), eps, 1 - eps))
    mean = y.mean(axis=0)
    yc = y - mean
    # einsum without BLAS: the same sums in the same order on any machine or thread count.
    cov = np.einsum("ij,ik->jk", yc, yc, optimize=False) / max(len(y) - 1, 1)
    # Few distinct ancestors make the covariance singular: a little jitter, and if that is not
    # enough, independent moves (the diagonal) rather than a failure.
    jitter = 1e-9 * max(float(np.trace(cov)) / len(names), 1e-12)
    try:
        chol = np.linalg.cholesky(cov + jitter * np.eye(len(names)))
    except np.linalg.LinAlgError:
        chol = np.diag(np.sqrt(np.clip(np.diag(cov), 0.0, None)))
    noise = np.einsum("ik,jk->ij", np.column_stack([z[k] for k in names]), chol, optimize=False)
    y2 = a * y + (1 - a) * mean + h * noise
    x2 = lo + (hi - lo) * special.expit(y2)
    return {k: x2[:, i] for i, k in enumerate(names)}


# ---------------------------------------------------------------- the filter


@dataclass
class ObservationStep:
    """What one observation did to the ensemble."""

    index: int  # position in the file
    id: str
    description: str
    month: str  # the month it was weighed in (the end of its window)
    matched: int  # runs consistent with it (levels: within MATCH_SDS errors), of those still in play
    in_play: int  # runs consistent with the earlier observations of this month
    p_match: float  # matched / in_play: how expected it was, given what was known before it
    ess: float  # effective sample size after weighing it (with the month's earlier ones)


@dataclass
class Update:
    """One resampling: the observations of a month, and the ensemble after them."""

    month: str
    observations: list[ObservationStep]
    ess: float  # before resampling
    generation: int  # the randomness the runs carry on with
    resampled: bool
    rejuvenated: bool
    distinct: int  # distinct prior runs (generation-0 ancestors) left after resampling
    # Key probabilities at the horizon given the observations so far (``stepwise`` only):
    # quantity -> probability, as in :func:`key_probabilities`.
    forecast: dict[str, float] | None = None


@dataclass
class FilterResult:
    out: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    weight: np.ndarray  # normalised, per run
    ancestor: np.ndarray  # each run's generation-0 ancestor (global run index)
    updates: list[Update]
    runs_requested: int
    warnings: list[str] = field(default_factory=list)

    @property
    def min_ess(self) -> float:
        return min((s.ess for u in self.updates for s in u.observations), default=float("inf"))

    def to_json(self) -> str:
        return json.dumps({"runs_requested": self.runs_requested, "warnings": self.warnings,
                           "updates": [asdict(u) for u in self.updates]})


class NoMatch(DialogueError):
    """No run is consistent with an observation."""

    def __init__(self, message: str, observation: Observation, runs: int):
        super().__init__(message)
        self.observation = observation
        self.runs = runs


def _groups(obs: Observations, start: str) -> list[tuple[int, list[tuple[int, Observation, int]]]]:
    """Observations grouped by the month they are weighed in (their window's end)."""
    by: dict[int, list[tuple[int, Observation, int]]] = {}
    for i, ob in enumerate(obs.entries):
        first, last = window(ob, start)
        by.setdefault(month_index(start, last), []).append((i, ob, month_index(start, first)))
    return sorted(by.items())


def run_filter(scenario: Scenario, run_ids: np.ndarray, seed: int, horizon: int, obs: Observations,
               final_resample: bool = True, rejuvenate_below: float = REJUVENATE_BELOW,
               runs_requested: int | None = None, stepwise: bool = False) -> FilterResult:
    """Run the ensemble conditioned on ``obs`` (a bootstrap particle filter over whole runs).

    At each month with observations, every run is weighed and the ensemble is resampled
    (unless every run weighs the same: then nothing moves, and a forecast conditioned on
    what every run already did is the unconditioned one, bit for bit). With
    ``final_resample=False`` the last month's weights are kept instead, for summaries that
    weigh runs. With ``stepwise``, each update but the last also forks the ensemble and runs
    the fork to the horizon, recording the key probabilities given the observations so far
    (:attr:`Update.forecast`; the last update's are the posterior's)."""
    start = scenario.initial.start
    check_schedule(obs, start, horizon)
    m = Model(scenario, run_ids, seed, horizon)
    n = m.n
    initial_active = scenario.initial.ladder < 2
    support = supports(scenario)
    ancestor = np.asarray(run_ids, dtype=np.int64).copy()
    weight = np.full(n, 1.0 / n)
    generation, updates, earlier = 0, [], 0
    groups = _groups(obs, start)
    for k, (b, items) in enumerate(groups):
        m.advance(b + 1)
        get = m.out.__getitem__
        logw = np.zeros(n)
        steps = []
        for i, ob, a in items:
            ll = log_likelihood(ob, get, a, b, initial_active)
            alive = np.isfinite(logw)
            ok = ll > -0.5 * MATCH_SDS**2 if not ob.is_event else np.isfinite(ll)
            matched = int((ok & alive).sum())
            if matched == 0:
                after = (f", after conditioning on {earlier} earlier observation{'s' if earlier > 1 else ''}"
                         if earlier else "")
                within = f" within {MATCH_SDS:g} sd" if not ob.is_event else ""
                raise NoMatch(f"no simulated future matches '{describe(ob)}' (0 of {n:,}{within}{after}); "
                              "loosen the window, add runs, or check the assumptions.", ob, n)
            logw = logw + ll
            steps.append(ObservationStep(i, str(ob.id), describe(ob), month_at(start, b), matched,
                                         int(alive.sum()), matched / int(alive.sum()), ess(normalise(logw))))
            earlier += 1
        w = normalise(logw)
        e = ess(w)
        last = k == len(groups) - 1
        resampled = rejuvenated = False
        if last and not final_resample:
            weight = w
        elif not np.all(logw == logw[0]):
            generation += 1
            idx = systematic(w, resample_uniform(seed, generation, b))
            m.reindex(idx, generation)
            ancestor = ancestor[idx]
            resampled = True
            if e < rejuvenate_below * n:
                z = {name: special.ndtri(m.rng.uniform(f"liu-west:{name}", month=PARAM_MONTH)) for name in support}
                for name, v in liu_west(vars(m.p), support, z).items():
                    setattr(m.p, name, v)
                rejuvenated = True
        forecast = None
        if stepwise and not last:
            fork = m.fork()
            fork.advance(horizon)
            forecast = key_probabilities(_dataset(fork, scenario, seed))
        updates.append(Update(month_at(start, b), steps, e, generation, resampled, rejuvenated,
                              int(np.unique(ancestor).size), forecast))
    m.advance(horizon)
    res = FilterResult(m.out, vars(m.p), weight, ancestor, updates, runs_requested or n)
    for u in updates:
        for s in u.observations:
            if s.ess < max(LOW_ESS_SHARE * n, min(LOW_ESS_RUNS, n)):
                res.warnings.append(f"ESS {s.ess:,.0f} of {n:,} runs after '{s.description}': the posterior rests "
                                    "on few runs; add runs, or use --min-ess N to draw more automatically")
    return res


def _dataset(m: Model, scenario: Scenario, seed: int) -> xr.Dataset:
    from model.results import build_dataset

    return build_dataset(m.out, vars(m.p), m.run_ids, scenario, seed, m.horizon)


def key_probabilities(ds: xr.Dataset) -> dict[str, float]:
    """The key judgments of a results Dataset: outcome at the horizon and events by then."""
    from model.analysis import summarize

    s = summarize(ds)
    out = {f"P(outcome = {k} in {s.horizon})": p for k, (p, _se) in s.outcomes.items()}
    return out | {f"P({k} by {s.horizon})": p for k, (p, _se) in s.events.items()}


def condition(scenario: Scenario, runs: int, seed: int, horizon: int, obs: Observations,
              min_ess: float | None = None, run_offset: int = 0, max_runs: int | None = None,
              **kw: Any) -> FilterResult:
    """:func:`run_filter` on ``runs`` runs; with ``min_ess``, draw more runs (up to
    ``max_runs``, by default ``MAX_GROWTH`` times ``runs``) until every update keeps an ESS
    of at least ``min_ess``, or fail saying so."""
    cap = max(runs, max_runs if max_runs is not None else MAX_GROWTH * runs)
    n = runs
    while True:
        ids = np.arange(run_offset, run_offset + n)
        try:
            res = run_filter(scenario, ids, seed, horizon, obs, runs_requested=runs, **kw)
        except NoMatch:
            if min_ess is None or n >= cap:
                raise
            n = min(cap, 4 * n)
            continue
        if min_ess is None or res.min_ess >= min_ess:
            return res
        if n >= cap:
            worst = min((s for u in res.updates for s in u.observations), key=lambda s: s.ess)
            raise DialogueError(f"ESS {worst.ess:,.0f} after '{worst.description}' is below --min-ess "
                                f"{min_ess:,.0f} even with {n:,} runs (the most this update draws: {cap:,}); "
                                "the observations are surprising under these assumptions: check them, loosen "
                                "windows, or lower --min-ess")
        n = min(cap, max(2 * n, math.ceil(1.2 * n * min_ess / max(res.min_ess, 1.0))))


# ---------------------------------------------------------------- prior vs posterior


def _wq(x: np.ndarray, w: np.ndarray | None, qs) -> np.ndarray:
    from model.analysis import weighted_quantile

    return weighted_quantile(x, qs, w)


@dataclass
class UpdateReport:
    """Prior vs posterior, for the CLI, the dashboard and the brief.

    ``steps``: one row per observation (month, description, p_match, ess, distinct);
    ``probabilities``: key probabilities (quantity, prior, posterior, change);
    ``parameters``: every uncertain parameter's prior and posterior 10th/50th/90th
    percentiles and ``shift`` (median change over the prior 80% band's width);
    ``favoured``: sentences for the parameters the news moved most."""

    steps: pd.DataFrame
    probabilities: pd.DataFrame
    parameters: pd.DataFrame
    favoured: list[str]
    runs: int
    through: str
    warnings: list[str]
    runs_requested: int = 0

    def text(self) -> str:
        more = (f"; {self.runs_requested:,} asked for, more drawn to reach --min-ess"
                if self.runs_requested and self.runs_requested != self.runs else "")
        lines = [f"Updated on {len(self.steps)} observation{'s' if len(self.steps) != 1 else ''} through "
                 f"{self.through} ({self.runs:,} runs{more})", "",
                 "Per observation: share of runs (still in play) that matched it, and the effective sample size",
                 f"  {'month':<8} {'observation':<52} {'matched':>8} {'ESS':>9}"]
        for r in self.steps.itertuples():
            lines.append(f"  {r.month:<8} {r.description[:52]:<52} {100 * r.p_match:7.1f}% {r.ess:9,.0f}")
        steps = [c for c in self.probabilities.columns if c.startswith("through ")]
        if steps:
            head = ["prior", *(c[8:] for c in steps), "posterior"]
            lines += ["", "Key probabilities, prior -> given the observations through each month -> posterior:",
                      f"  {'':<44}" + "".join(f"{h:>10}" for h in head)]
            for r in self.probabilities.to_dict(orient="records"):
                vals = [r["prior"], *(r[c] for c in steps), r["posterior"]]
                lines.append(f"  {r['quantity'][:44]:<44}" + "".join(f"{100 * v:9.1f}%" for v in vals))
        else:
            lines += ["", "Key probabilities, prior -> posterior:"]
            for r in self.probabilities.itertuples():
                lines.append(f"  {r.quantity:<52} {100 * r.prior:5.1f}% -> {100 * r.posterior:5.1f}%  "
                             f"({100 * r.change:+.1f} points)")
        lines += ["", "Assumptions the news favours (posterior 80% band, prior in brackets):"]
        lines += [f"  {s}" for s in self.favoured] or [
            "  none: no parameter's median moved clearly beyond Monte Carlo noise"]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def report(prior: xr.Dataset, posterior: xr.Dataset, top: int = 5) -> UpdateReport:
    """Compare a prior ensemble with the posterior one :func:`model.simulate` returned
    for the same scenario and seed (``observations=``; with ``stepwise=True`` the
    probabilities also have a column ``through <month>`` for each update but the last)."""
    info = json.loads(posterior.attrs.get("smc", "{}"))
    rows = [{"month": u["month"], **{k: s[k] for k in ("description", "id", "p_match", "ess", "matched")},
             "distinct": u["distinct"], "rejuvenated": u["rejuvenated"]}
            for u in info.get("updates", []) for s in u["observations"]]
    steps = pd.DataFrame(rows, columns=["month", "description", "id", "p_match", "ess", "matched", "distinct",
                                        "rejuvenated"])
    before, after = key_probabilities(prior), key_probabilities(posterior)
    probabilities = pd.DataFrame([(q, before[q], after[q], after[q] - before[q]) for q in before],
                                 columns=["quantity", "prior", "posterior", "change"])
    # Given the observations through each update month (stepwise runs only); the last is the posterior.
    ups = info.get("updates", [])
    if ups and all(u.get("forecast") for u in ups[:-1]):
        for u in ups[:-1]:
            probabilities[f"through {u['month']}"] = [u["forecast"][q] for q in before]
    w = posterior["weight"].values if "weight" in posterior else None
    specs = registry()
    prow = []
    for name, spec in specs.items():
        var = f"param_{name}"
        if var not in prior or np.ptp(prior[var].values) == 0:
            continue
        p10, p50, p90 = _wq(prior[var].values, None, (0.1, 0.5, 0.9))
        q10, q50, q90 = _wq(posterior[var].values, w, (0.1, 0.5, 0.9))
        width = p90 - p10
        prow.append((name, spec.label, p10, p50, p90, q10, q50, q90, (q50 - p50) / width if width > 0 else 0.0))
    parameters = pd.DataFrame(prow, columns=["name", "label", "prior_p10", "prior_p50", "prior_p90",
                                             "posterior_p10", "posterior_p50", "posterior_p90", "shift"])
    # A shift must clear both a tenth of the prior band and the noise of a median from the fewest
    # effective runs any update left (its s.e. is about 0.5 band widths / sqrt(ESS)).
    low = float(steps["ess"].min()) if len(steps) else float(posterior.sizes["run"])
    bar = max(0.1, 1.5 / math.sqrt(max(low, 1.0)))
    big = parameters.loc[parameters["shift"].abs() >= bar]
    big = big.loc[big["shift"].abs().sort_values(ascending=False).index].head(top)
    favoured = [f"the observations favour {_lower(r.label)} ({r.name}) {_n(r.posterior_p10)}"
                f"\u2013{_n(r.posterior_p90)} (prior {_n(r.prior_p10)}\u2013{_n(r.prior_p90)})"
                for r in big.itertuples()]
    through = steps["month"].max() if len(steps) else "-"
    return UpdateReport(steps, probabilities, parameters, favoured, int(posterior.sizes["run"]), str(through),
                        list(info.get("warnings", [])), int(info.get("runs_requested", 0)))


def _lower(label: str) -> str:
    """A label inside a sentence: 'Deterrent effect' -> 'deterrent effect'; names and
    acronyms ('Kremlin ...', 'US-Russia ...') stay as they are."""
    first = label.split(" ", 1)[0]
    if label[1:2].isupper() or first.split("-")[0] in _PROPER:
        return label
    return label[:1].lower() + label[1:]


_PROPER = {"Kremlin", "UK", "US", "EU", "Russia", "Russian", "Russia's", "British", "Syria", "Syrian", "Moscow",
           "Putin", "London", "Assad", "NATO", "ONS"}


def _n(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 100 else f"{x:,.0f}"
