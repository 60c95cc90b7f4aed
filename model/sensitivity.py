"""Global sensitivity analysis: which assumptions does a judgment rest on?

The estimators are SALib's (Sobol'/Saltelli, Morris, Borgonovo's delta); this
module builds the problem from the parameter registry, runs the design through
the engine in one ensemble, and turns the indices into a tidy table and plain
sentences.

**Probability space.** Every factor is sampled on the unit interval by SALib, and
each value ``u`` is turned into a parameter value by the registry's own inverse
CDF, :func:`model.params.sample` (``u`` is the parameter's percentile). This is
exact for every distribution the registry has (uniform, triangular, truncated
normal and beta; SALib's ``dists`` has no beta and no mode-at-value triangular
with truncation), and it is the same transform the engine uses for ordinary runs,
so "varies over its own uncertainty distribution" means exactly that. A parameter
that is fixed in the scenario varies uniformly over its valid range when it is
included (``--params all`` or by name).

**Chance.** The model is stochastic. Rows of one Saltelli block (A, AB_1..AB_D, B)
or one Morris trajectory share one random stream (common random numbers), so the
difference between two rows is the parameter's doing, not luck. The indices are
then shares of the output's whole variance, chance included: a total index is the
parameter's total effect, alone and through interactions (with other parameters
and with chance), and the variance no parameter accounts for is chance.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.design import check_design
from model.engine import ENGINES
from model.errors import DialogueError
from model.params import HEADLINE, ParamSpec, registry, sample
from model.results import classify
from model.scenario import Scenario, load_scenario
from model.validation import suggest

METHODS = ("sobol", "morris", "delta")
PARAM_SETS = ("headline", "uncertain", "all")

# Outputs: name -> (label as a judgment, binary?)
OUTPUTS: dict[str, tuple[str, bool]] = {
    "confrontation_or_worse": ("P(confrontation or worse)", True),
    "rupture": ("P(rupture)", True),
    "confrontation": ("P(confrontation)", True),
    "cool": ("P(cool)", True),
    "thaw": ("P(thaw)", True),
    "dialogue_suspended": ("P(dialogue suspended)", True),
    "expulsions": ("P(diplomats expelled)", True),
    "sanctions": ("P(sanctions)", True),
    "relations": ("relations index", False),
    "exports": ("UK exports to Russia (GBP m/month)", False),
}
BINARY_OUTCOMES = tuple(k for k, (_, b) in OUTPUTS.items() if b)
# Outputs that count events up to a date ("by"); the rest are states at a date ("in").
EVENT_OUTPUTS = frozenset({"dialogue_suspended", "expulsions", "sanctions"})


def at_date(output: str, date_words: str) -> str:
    """'by Feb 2018' for an event output, 'in Feb 2018' for a state measured then."""
    return f"{'by' if output in EVENT_OUTPUTS else 'in'} {date_words}"

# Smallest sample sizes that give indices worth reading (runs grow with D).
MIN_N = {"sobol": 64, "morris": 4, "delta": 256}
DEFAULT_N = {"sobol": 1024, "morris": 20, "delta": 1024}
RARE_RUNS = 50  # a 0/1 output that differs in fewer runs than this is too rare to attribute
CHUNK_ROWS = 25_000  # rows simulated at once (memory: ~150 bytes a run-month)
_U_EPS = 1e-9  # keep percentiles strictly inside (0, 1) for the inverse CDFs


# ---------------------------------------------------------------- the problem


@dataclass(frozen=True)
class Factor:
    """One varied parameter: how a percentile ``u`` becomes its value."""

    name: str
    label: str
    spec: ParamSpec
    value: float
    dist: str
    spread: float
    over_range: bool  # fixed in the scenario: varied uniformly over its valid range

    def values(self, u: np.ndarray) -> np.ndarray:
        """Parameter values at percentiles ``u`` of this factor's distribution."""
        u = np.clip(np.asarray(u, dtype=np.float64), _U_EPS, 1 - _U_EPS)
        if self.over_range:
            return self.spec.low + (self.spec.high - self.spec.low) * u
        return np.clip(sample(self.spec, self.value, self.dist, self.spread, u), self.spec.low, self.spec.high)

    @property
    def describe(self) -> str:
        if self.over_range:
            return f"uniform over its range [{self.spec.low:g}, {self.spec.high:g}] (fixed at {self.value:g} today)"
        return self.spec.describe_dist(self.value, self.dist, self.spread)


def is_uncertain(spec: ParamSpec, value: float, dist: str, spread: float) -> bool:
    """Whether the parameter's draws actually vary in this scenario."""
    lo, hi = sample(spec, value, dist, spread, np.array([0.001, 0.999]))
    return bool(hi > lo)


def factors(scenario: Scenario, params: str | Iterable[str] = "uncertain") -> list[Factor]:
    """The varied parameters: ``headline``, ``uncertain`` (default), ``all``, or names
    (a list or a comma-separated string).

    Uncertain parameters vary over their own distribution; fixed ones (in ``all``
    or named) over their valid range.
    """
    specs = registry()
    if isinstance(params, str) and params in PARAM_SETS:
        kind = params
        names = list(HEADLINE) if kind == "headline" else list(specs)
    else:
        kind = "names"
        names = [p.strip() for p in (params.split(",") if isinstance(params, str) else params) if p.strip()]
        if not names:
            raise DialogueError(f"--params is empty; use one of {', '.join(PARAM_SETS)} or parameter names")
        for n in names:
            if n in PARAM_SETS:
                raise DialogueError(f"--params: '{n}' is a set of parameters; give it alone (--params {n}) "
                                    "or list parameter names")
            if n not in specs:
                hint = suggest(n, list(specs) + list(PARAM_SETS))
                raise DialogueError(f"unknown parameter '{n}' in --params{hint}")
        names = list(dict.fromkeys(names))
    out = []
    for n in names:
        spec, st = specs[n], scenario.params[n]
        unc = is_uncertain(spec, st.value, st.dist, st.spread)
        if kind == "uncertain" and not unc:
            continue
        out.append(Factor(n, spec.label, spec, st.value, st.dist, st.spread, over_range=not unc))
    if not out:
        raise DialogueError(f"no parameters to vary with --params {params}: none is uncertain in this scenario; "
                            "use --params all")
    return out


def problem(fs: list[Factor]) -> dict[str, Any]:
    """The SALib problem: every factor on the unit interval (its percentile)."""
    return {"num_vars": len(fs), "names": [f.name for f in fs], "bounds": [[0.0, 1.0]] * len(fs)}


def to_values(fs: list[Factor], u: np.ndarray) -> pd.DataFrame:
    """A design table (parameter values) from percentiles ``u`` (rows x factors)."""
    return pd.DataFrame({f.name: f.values(u[:, i]) for i, f in enumerate(fs)})


# ---------------------------------------------------------------- running a design


def check_outputs(outputs: str | Iterable[str] | None) -> list[str]:
    """Output names, validated (default: all)."""
    if outputs is None:
        return list(OUTPUTS)
    names = [o.strip() for o in (outputs.split(",") if isinstance(outputs, str) else outputs) if o.strip()]
    if not names:
        raise DialogueError(f"--outputs is empty; use some of {', '.join(OUTPUTS)}")
    for o in names:
        if o not in OUTPUTS:
            raise DialogueError(f"unknown output '{o}' (outputs: {', '.join(OUTPUTS)}){suggest(o, OUTPUTS)}")
    return list(dict.fromkeys(names))


def year_months(horizon: int) -> list[int]:
    """Month indices at the end of each year from the start, and the horizon."""
    months = [12 * k - 1 for k in range(1, horizon // 12 + 1)]
    if not months or months[-1] != horizon - 1:
        months.append(horizon - 1)
    return months


def outputs_of(out: dict[str, np.ndarray], months: list[int], names: list[str]) -> dict[str, np.ndarray]:
    """Per output, an array (len(months), runs) from one engine result."""
    rel = out["relations"][months]
    sanc = out["sanctions"][months].astype(bool)
    res: dict[str, np.ndarray] = {}
    if any(n in ("rupture", "confrontation", "cool", "thaw", "confrontation_or_worse") for n in names):
        cls = classify(rel.ravel(), sanc.ravel()).reshape(rel.shape)
        for c in ("rupture", "confrontation", "cool", "thaw"):
            res[c] = (cls == c).astype(np.float64)
        res["confrontation_or_worse"] = res["rupture"] + res["confrontation"]
    ever = lambda x: np.logical_or.accumulate(x, axis=0)[months].astype(np.float64)  # noqa: E731
    if "dialogue_suspended" in names:
        res["dialogue_suspended"] = ever(~out["dialogue_active"].astype(bool))
    if "expulsions" in names:
        res["expulsions"] = ever((out["expulsions"] > 0) | (out["russian_expulsions"] > 0))  # either side
    if "sanctions" in names:
        res["sanctions"] = ever(out["sanctions"].astype(bool))
    res["relations"] = rel.astype(np.float64)
    res["exports"] = out["exports_gbp_m"][months].astype(np.float64)
    return {n: res[n] for n in names}


def run_design(scenario: Scenario, table: Any, run_ids: np.ndarray, names: list[str], months: list[int],
               progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """Simulate a design (rows are runs with the given ``run_ids``, which may repeat to
    share random streams) in chunks; return the outputs at ``months``."""
    checked = check_design(table)
    n = run_ids.size
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    r = scenario.run
    for a in range(0, n, CHUNK_ROWS):
        b = min(n, a + CHUNK_ROWS)
        out, _ = ENGINES["ensemble"](scenario, run_ids[a:b], r.seed, r.horizon,
                                     design={k: v[a:b] for k, v in checked.items()})
        for k, v in outputs_of(out, months, names).items():
            parts[k].append(v)
        del out
        if progress:
            progress(b / n)
    return {k: np.concatenate(v, axis=1) for k, v in parts.items()}


def _scenario(scenario: Scenario | str | Path, seed: int | None, horizon: int | None) -> Scenario:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return sc.with_overrides({f"run.{k}": v for k, v in (("seed", seed), ("horizon", horizon)) if v is not None})


def _date(sc: Scenario, month: int) -> str:
    return (pd.Period(sc.initial.start, freq="M") + month).strftime("%Y-%m")


# ---------------------------------------------------------------- results


@dataclass
class SensitivityResult:
    """Indices in a tidy table, with what is needed to read them."""

    scenario: str
    method: str
    n: int
    runs: int
    horizon: int
    table: pd.DataFrame
    factors: list[Factor]
    means: dict[str, float]  # output -> mean at the horizon (a probability for binary outputs)
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def horizon_date(self) -> str:
        return str(self.table["date"].max())

    def at_horizon(self, output: str) -> pd.DataFrame:
        """Rows for one output at the horizon, most important first."""
        t = self.table[(self.table["output"] == output) & (self.table["month"] == self.horizon - 1)]
        key = {"sobol": "ST", "morris": "mu_star", "delta": "delta"}[self.method]
        return t.sort_values(key, ascending=False, key=lambda s: s.fillna(-1)).reset_index(drop=True)

    def rare(self, output: str) -> int | None:
        """For a 0/1 output that (almost) never or always happens, the number of runs
        that differ from the rest; else None. Fewer than ``RARE_RUNS`` or 0.5% of the
        runs: nothing to read (a handful of runs cannot apportion a variance)."""
        if not OUTPUTS[output][1]:
            return None
        k = round(self.means[output] * self.runs)
        k = min(k, self.runs - k)
        return k if k < max(RARE_RUNS, 0.005 * self.runs) else None

    def trust(self, output: str) -> str:
        """'' if the indices for ``output`` can be read, else why not (N too small)."""
        t = self.at_horizon(output)
        if t.empty or t["constant"].any():
            return ""
        k = self.rare(output)
        if k is not None:
            return (f"{OUTPUTS[output][0]} differs from the rest in only {k} of {self.runs:,} runs: too rare to "
                    "attribute; these indices are noise")
        if self.method == "sobol":
            top = t[t["ST"] >= 0.05]
            wide = top[top["ST_conf"] > top["ST"]]
            # With many parameters a few intervals miss zero by chance (2.5% each side):
            # flag only more than that.
            neg = t[t["S1"] + t["S1_conf"] < 0]
            neg = neg if len(neg) > max(2, 0.05 * len(t)) else neg.iloc[:0]
            if len(wide) or len(neg):
                what = (f"the confidence interval of {len(wide)} leading total index(es) is wider than the index"
                        if len(wide) else f"{len(neg)} first-order index(es) are negative beyond their interval")
                return f"N={self.n} is too small to trust these indices: {what}; rerun with a larger --n"
        if self.method == "delta":
            top = t[t["delta"] >= 0.05]
            if len(top[top["delta_conf"] > top["delta"]]):
                return f"N={self.n} is too small to trust these indices; rerun with a larger --n"
        if self.method == "morris":
            top = t.head(5)
            if len(top[top["mu_star_conf"] > top["mu_star"]]):
                return f"r={self.n} trajectories are too few to rank these reliably; rerun with a larger --n"
        return ""

    def sentence(self, output: str = "confrontation_or_worse", share: float = 0.6) -> str:
        """One plain sentence from the Sobol' results, e.g. 'Three assumptions carry
        70% of the uncertainty in P(confrontation or worse): ...'."""
        t = self.at_horizon(output)
        label = OUTPUTS[output][0]
        if t.empty or t["constant"].any():
            return f"{label} is the same in every run; no assumption moves it."
        if self.rare(output) is not None:
            return f"{label} is too rare in these runs to say which assumptions move it."
        key = "ST" if self.method == "sobol" else ("delta" if self.method == "delta" else "mu_star")
        w = t[key].clip(lower=0).to_numpy()
        if w.sum() <= 0:
            return f"No assumption has a measurable effect on {label}."
        cum = np.cumsum(w) / w.sum()
        k = int(min(np.searchsorted(cum, share) + 1, 5, len(t)))
        names = [_lower(x) for x in t["label"].head(k)]
        words = {1: "One assumption carries", 2: "Two assumptions carry", 3: "Three assumptions carry",
                 4: "Four assumptions carry", 5: "Five assumptions carry"}[k]
        listed = names[0] if k == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        when = at_date(output, _month_words(self.horizon_date))
        s = f"{words} {100 * cum[k - 1]:.0f}% of the uncertainty in {label} {when}: {listed}."
        if self.method == "sobol":
            s1 = float(t["S1"].sum())  # unclipped: clipping noisy negatives would inflate the sum
            # The sum's 95% half-width, as if the estimates' errors were independent: a rough
            # guide, but enough to keep a noisy sum (small N) out of a sentence that reads as fact.
            s1_conf = float(np.sqrt((t["S1_conf"] ** 2).sum()))
            if s1_conf <= 0.1:
                s += (f" On their own, all assumptions explain {100 * min(max(s1, 0), 1):.0f}% of its variance; "
                      "the rest is interactions and chance.")
        return s

    def text(self, outputs: Iterable[str] | None = None, top: int = 5) -> str:
        """The results in plain language for the terminal."""
        m = {"sobol": "Sobol' indices (first-order S1 and total ST, with 95% intervals)",
             "morris": "Morris elementary effects (mu*: mean absolute effect of moving a parameter "
                       "across two-thirds of its distribution; sigma: interactions or non-linearity)",
             "delta": "Borgonovo's delta (moment-independent) and first-order S1, with 95% intervals"}[self.method]
        size = {"sobol": "N", "morris": "r", "delta": "N"}[self.method]
        lines = [f"Sensitivity of scenario '{self.scenario}': {m}.",
                 f"{len(self.factors)} parameters varied, {size}={self.n:,}: {self.runs:,} runs x {self.horizon} "
                 f"months in {self.seconds:.1f} s.", *self.notes, ""]
        for out in outputs or self.table["output"].unique():
            t = self.at_horizon(out)
            label = OUTPUTS[out][0]
            mean = self.means[out]
            now = f"{100 * mean:.0f}%" if OUTPUTS[out][1] else f"mean {mean:,.1f}"
            now = "" if self.method == "morris" else f" ({now} across the sampled futures)"
            lines.append(f"{label} {at_date(out, _month_words(self.horizon_date))}{now}:")
            if t["constant"].any():
                lines += ["  the same in every run: nothing to attribute.", ""]
                continue
            if self.rare(out) is not None:
                lines += [f"  {self.trust(out)}.", ""]
                continue
            if self.method in ("sobol", "delta"):
                lines.append("  " + self.sentence(out))
            warn = self.trust(out)
            if warn:
                lines.append(f"  WARNING: {warn}.")
            lines.append(f"  {'parameter':<46}" + {
                "sobol": f"{'S1':>16}{'ST':>16}", "morris": f"{'mu*':>18}{'sigma':>10}",
                "delta": f"{'delta':>16}{'S1':>16}"}[self.method])
            for _, r in t.head(top).iterrows():
                lines.append(f"  {r['label'][:45]:<46}" + _cells(self.method, r, OUTPUTS[out][1]))
            lines.append(_early_late(self, out))
            lines.append("")
        return "\n".join(x for x in lines if x is not None).rstrip()

    def save(self, out_dir: str | Path) -> list[Path]:
        """Write the tidy table as Parquet and CSV into ``out_dir``."""
        out_dir = Path(out_dir)
        paths = [out_dir / "sensitivity.parquet", out_dir / "sensitivity.csv"]
        self.table.to_parquet(paths[0], index=False)
        self.table.to_csv(paths[1], index=False)
        return paths


def _cells(method: str, r: pd.Series, binary: bool) -> str:
    ci = lambda v, c: f"{v:6.2f} \u00b1{c:5.2f}"  # noqa: E731
    if method == "sobol":
        return f"  {ci(r['S1'], r['S1_conf'])}  {ci(r['ST'], r['ST_conf'])}"
    if method == "delta":
        return f"  {ci(r['delta'], r['delta_conf'])}  {ci(r['S1'], r['S1_conf'])}"
    fmt = (lambda v: f"{v:8.3f}") if binary else (lambda v: f"{v:8.2f}")
    return f"  {fmt(r['mu_star'])} \u00b1{fmt(r['mu_star_conf']).strip():<7}{fmt(r['sigma'])}"


def _early_late(res: SensitivityResult, out: str) -> str | None:
    key = {"sobol": "ST", "morris": "mu_star", "delta": "delta"}[res.method]
    t = res.table[res.table["output"] == out]
    months = sorted(t["month"].unique())
    if len(months) < 2:
        return None
    first = t[t["month"] == months[0]].sort_values(key, ascending=False)
    last = t[t["month"] == months[-1]].sort_values(key, ascending=False)
    if first["constant"].any() or last["constant"].any():
        return None
    a, b = first["label"].iloc[0], last["label"].iloc[0]
    d0, d1 = _month_words(first["date"].iloc[0]), _month_words(last["date"].iloc[0])
    if a == b:
        return (f"  The same assumption matters most early ({at_date(out, d0)}) and late ({at_date(out, d1)}): "
                f"{_lower(a)}.")
    return f"  Early ({at_date(out, d0)}) {_lower(a)} matters most; late ({at_date(out, d1)}), {_lower(b)}."


def _lower(label: str) -> str:
    from model.charts import lower_first

    return lower_first(label)


def _month_words(ym: str) -> str:
    return pd.Timestamp(ym).strftime("%b %Y")


# ---------------------------------------------------------------- the analysis


def check_n(method: str, n: int) -> None:
    """Refuse sample sizes too small to say anything (one line, with the fix)."""
    if method not in METHODS:
        raise DialogueError(f"unknown method '{method}' (use one of {', '.join(METHODS)}){suggest(method, METHODS)}")
    if n < MIN_N[method]:
        raise DialogueError(f"--n {n} is too small for {method}; use at least {MIN_N[method]} "
                            f"(default {DEFAULT_N[method]})")
    if method == "sobol" and n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise DialogueError(f"--n {n} is not a power of two, which Sobol' sequences need; use {lo} or {2 * lo}")


def sample_unit(method: str, prob: dict[str, Any], n: int, seed: int) -> tuple[np.ndarray, int]:
    """SALib's sample for ``method`` on the problem's bounds, and the rows per block
    (a Saltelli block A, AB_1..AB_D, B; a Morris trajectory; 1 for Latin hypercube)."""
    from SALib.sample import latin, morris, sobol

    d = prob["num_vars"]
    if method == "sobol":
        return sobol.sample(prob, n, calc_second_order=False, seed=seed), d + 2
    if method == "morris":
        return morris.sample(prob, n, num_levels=4, seed=seed), d + 1
    return latin.sample(prob, n, seed=seed), 1


def analyze(method: str, prob: dict[str, Any], u: np.ndarray, y: np.ndarray, num_resamples: int = 100,
            seed: int = 0) -> dict[str, np.ndarray]:
    """SALib's estimator for ``method`` on outputs ``y`` of the sample ``u``: arrays per
    index (sobol: S1, S1_conf, ST, ST_conf; morris: mu, mu_star, sigma, mu_star_conf;
    delta: delta, delta_conf, S1, S1_conf), one value per factor."""
    from SALib.analyze import delta, morris, sobol

    if method == "sobol":
        with warnings.catch_warnings():  # a bootstrap resample of a rare 0/1 output can be constant
            warnings.simplefilter("ignore", UserWarning)
            # A Generator, not the int: SALib reads seed 0 as "no seed" and its intervals would then
            # differ on every call (any other seed draws exactly what the int would).
            res = sobol.analyze(prob, y, calc_second_order=False, num_resamples=num_resamples,
                                seed=np.random.default_rng(seed))
        return {k: np.asarray(res[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    if method == "morris":
        res = morris.analyze(prob, u, y, num_resamples=num_resamples, num_levels=4, seed=seed)
        return {k: np.asarray(res[k]) for k in ("mu", "mu_star", "sigma", "mu_star_conf")}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        # Neutral names: SALib's delta builds a table whose column names may not end in
        # '_step' (as `ngo_step` does) and the results are positional anyway.
        neutral = {**prob, "names": [f"x{i}" for i in range(len(prob["names"]))]}
        res = delta.analyze(neutral, u, y, num_resamples=num_resamples, seed=seed, method="all")  # prints notes
    return {"delta": np.asarray(res["delta_raw"]), "delta_conf": np.asarray(res["delta_raw_conf"]),
            "S1": np.asarray(res["S1"]), "S1_conf": np.asarray(res["S1_conf"])}


def sensitivity(scenario: Scenario | str | Path, method: str = "sobol", params: str | Iterable[str] = "uncertain",
                n: int | None = None, outputs: str | Iterable[str] | None = None, seed: int | None = None,
                horizon: int | None = None, by_year: bool = True, num_resamples: int = 100,
                year_resamples: int = 30, progress: Callable[[float], None] | None = None) -> SensitivityResult:
    """Global sensitivity of the scenario's outputs to its assumptions (SALib).

    ``method``: ``sobol`` (Saltelli/Sobol' sample, N*(D+2) runs), ``morris`` (r=N
    trajectories, N*(D+1) runs) or ``delta`` (Latin hypercube, N runs). ``params``:
    see :func:`factors`. ``outputs``: names in :data:`OUTPUTS` (default all).
    Confidence intervals come from ``num_resamples`` bootstrap resamples at the
    horizon and ``year_resamples`` for the earlier years (rougher, and much cheaper:
    SALib's bootstrap is most of the analysis time).
    Returns a :class:`SensitivityResult` whose ``table`` is tidy: one row per
    (output, month, parameter).
    """
    t0 = time.perf_counter()
    n = DEFAULT_N.get(method, 0) if n is None else int(n)
    check_n(method, n)
    names = check_outputs(outputs)
    notes = []
    if method == "delta":
        # SALib's delta estimator smooths the output's density: meaningless for a 0/1
        # indicator, and slow (about three minutes per output at N=1024 with 78 parameters),
        # so it runs on the continuous outputs at the horizon only.
        names = [o for o in names if not OUTPUTS[o][1]]
        if not names:
            raise DialogueError("the delta method needs a continuous output (relations or exports); "
                                "use --method sobol for probabilities")
        by_year = False
        num_resamples = min(num_resamples, 10)
        notes.append("delta: continuous outputs at the horizon only, 10 bootstrap resamples (SALib's delta is slow).")
    sc = _scenario(scenario, seed, horizon)
    fs = factors(sc, params)
    prob = problem(fs)
    d = len(fs)
    rs = sc.run.seed % (2**32)
    u, block = sample_unit(method, prob, n, rs)
    # One random stream per Saltelli block / Morris trajectory (see module docstring).
    run_ids = np.arange(u.shape[0], dtype=np.int64) // block
    months = year_months(sc.run.horizon) if by_year else [sc.run.horizon - 1]
    ys = run_design(sc, to_values(fs, u), run_ids, names, months,
                    progress=(lambda f: progress(0.8 * f)) if progress else None)
    rows = []
    total = len(names) * len(months)
    for j, out in enumerate(names):
        for i, mth in enumerate(months):
            y = ys[out][i]
            nr = num_resamples if mth == months[-1] else year_resamples
            base = {"method": method, "output": out, "output_label": OUTPUTS[out][0], "month": mth,
                    "year": round((mth + 1) / 12, 2), "date": _date(sc, mth)}
            constant = bool(np.ptp(y) == 0)
            res = {} if constant else analyze(method, prob, u, y, nr, rs)
            for k, f in enumerate(fs):
                row = base | {"param": f.name, "label": f.label, "distribution": f.describe, "constant": constant}
                for key in {"sobol": ("S1", "S1_conf", "ST", "ST_conf"),
                            "morris": ("mu", "mu_star", "sigma", "mu_star_conf"),
                            "delta": ("delta", "delta_conf", "S1", "S1_conf")}[method]:
                    row[key] = float(np.asarray(res[key])[k]) if res else (0.0 if not constant else np.nan)
                rows.append(row)
            if progress:
                progress(0.8 + 0.2 * (j * len(months) + i + 1) / total)
    table = pd.DataFrame(rows)
    means = {o: float(ys[o][-1].mean()) for o in names}
    if params == "uncertain":
        n_fixed = len(registry()) - d
        if n_fixed == 1:
            notes.append("1 parameter is fixed in this scenario and does not vary here; "
                         "--params all varies it over its whole valid range.")
        elif n_fixed:
            notes.append(f"{n_fixed} parameters are fixed in this scenario and do not vary here; "
                         "--params all varies them over their whole valid range.")
    return SensitivityResult(sc.name, method, n, int(u.shape[0]), sc.run.horizon, table, fs, means,
                             time.perf_counter() - t0, notes)


run_sensitivity = sensitivity  # the same function, under a name the module ``model.sensitivity`` cannot shadow


# ---------------------------------------------------------------- tornado


def tornado(scenario: Scenario | str | Path, output: str = "confrontation_or_worse",
            params: str | Iterable[str] = "uncertain", runs: int = 1000, low: float = 0.10, high: float = 0.90,
            seed: int | None = None, horizon: int | None = None) -> pd.DataFrame:
    """One-at-a-time swings with common random numbers.

    Each parameter in turn is set to the SAME percentiles (``low``, ``high``) of its
    own distribution (by the registry's inverse CDF), every other parameter drawn as
    usual, on the same ``runs`` random streams as the unchanged base. Returns a tidy
    frame, largest swing first: param, label, low_value, high_value, out_low,
    out_high, base, swing, low_pct, high_pct, output.
    """
    if not 0 < low < high < 1:
        raise DialogueError(f"tornado percentiles must satisfy 0 < low < high < 1, got {low:g} and {high:g}")
    if runs < 50:
        raise DialogueError(f"--runs {runs} is too few for a tornado; use at least 50 (default 1000)")
    check_outputs([output])
    sc = _scenario(scenario, seed, horizon)
    fs = factors(sc, params)
    d = len(fs)
    ids = np.tile(np.arange(runs, dtype=np.int64), 2 * d + 1)
    # Block 0 is the base (every parameter drawn); blocks 2k+1, 2k+2 set factor k low, high.
    # Undesigned parameters are drawn from the run's own stream, so a design column that
    # is NaN-free everywhere must hold the usual draw outside its block.
    from model.rng import PARAM_MONTH, Streams

    streams = Streams(sc.run.seed, np.arange(runs))
    cols = {}
    for k, f in enumerate(fs):
        st = sc.params[f.name]
        drawn = sample(f.spec, st.value, st.dist, st.spread, streams.uniform(f"param:{f.name}", month=PARAM_MONTH))
        col = np.tile(drawn, 2 * d + 1)
        col[(2 * k + 1) * runs:(2 * k + 2) * runs] = f.values(np.array([low]))[0]
        col[(2 * k + 2) * runs:(2 * k + 3) * runs] = f.values(np.array([high]))[0]
        cols[f.name] = col
    months = [sc.run.horizon - 1]
    y = run_design(sc, pd.DataFrame(cols), ids, [output], months)[output][0].reshape(2 * d + 1, runs).mean(axis=1)
    rows = []
    for k, f in enumerate(fs):
        rows.append({"output": output, "param": f.name, "label": f.label, "low_pct": low, "high_pct": high,
                     "low_value": float(f.values(np.array([low]))[0]),
                     "high_value": float(f.values(np.array([high]))[0]),
                     "out_low": float(y[2 * k + 1]), "out_high": float(y[2 * k + 2]), "base": float(y[0]),
                     "swing": float(abs(y[2 * k + 2] - y[2 * k + 1])), "runs": runs,
                     "date": _date(sc, sc.run.horizon - 1), "scenario": sc.name})
    return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def tornado_sentence(t: pd.DataFrame, top: int = 3) -> str:
    """Plain words for the largest swings of a tornado frame."""
    label = OUTPUTS[t["output"].iloc[0]][0]
    binary = OUTPUTS[t["output"].iloc[0]][1]
    fmt = (lambda v: f"{100 * v:.0f}%") if binary else (lambda v: f"{v:+.1f}")  # noqa: E731
    p_lo, p_hi = int(round(100 * t["low_pct"].iloc[0])), int(round(100 * t["high_pct"].iloc[0]))
    parts = [f"{_lower(r['label'])} ({fmt(r['out_low'])} at P{p_lo}, {fmt(r['out_high'])} at P{p_hi})"
             for _, r in t.head(top).iterrows()]
    return (f"{label} is {fmt(t['base'].iloc[0])}; moving one assumption from its P{p_lo} to its P{p_hi} "
            f"moves it most for " + "; ".join(parts) + ".")


__all__ = ["METHODS", "OUTPUTS", "Factor", "SensitivityResult", "factors", "run_sensitivity", "sensitivity", "tornado",
           "tornado_sentence"]
