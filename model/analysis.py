"""Analysis: summaries, event probabilities and the PHIA probability yardstick.

Everything here reads a results Dataset and computes; nothing here simulates.
Probabilities carry their Monte Carlo standard error ``sqrt(p(1-p)/runs)``.
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from model.agents.relations import BANDS, DRIVER_LABELS, DRIVERS
from model.results import OUTCOMES, run_weights

# The UK Professional Head of Intelligence Assessment (PHIA) probability yardstick.
# The ranges are closed; the yardstick leaves gaps between them on purpose, and its
# guidance is not to force a value in a gap into a term whose range excludes it: such
# a value reads "between <term below> and <term above>".
YARDSTICK = (
    ("remote chance", 0.00, 0.05),
    ("highly unlikely", 0.10, 0.20),
    ("unlikely", 0.25, 0.35),
    ("realistic possibility", 0.40, 0.50),
    ("likely", 0.55, 0.75),
    ("highly likely", 0.80, 0.90),
    ("almost certain", 0.95, 1.00),
)
Z95 = 1.96  # every "\u00b1" the tool prints is a 95% Monte Carlo interval: 1.96 standard errors
PLUS_MINUS_NOTE = ("\u00b1 is the 95% Monte Carlo interval (1.96 standard errors): the precision of the "
                   "simulation, not the uncertainty of the model.")


def phia(p: float) -> str:
    """PHIA yardstick wording for a probability in [0, 1]: the term whose range holds
    ``p`` (to 0.1 percentage point, the finest precision printed), or "between A and
    B" for a value in a gap of the yardstick."""
    if not 0.0 <= p <= 1.0 or np.isnan(p):
        raise ValueError(f"probability {p} is outside [0, 1]")
    pct = round(p * 100, 1)
    for i, (term, lo, hi) in enumerate(YARDSTICK):
        if round(lo * 100, 1) <= pct <= round(hi * 100, 1):
            return term
        if i + 1 < len(YARDSTICK) and pct < round(YARDSTICK[i + 1][1] * 100, 1):
            return f"between {term} and {YARDSTICK[i + 1][0]}"
    return YARDSTICK[-1][0]  # pragma: no cover - the ranges end at 100%


def fmt_prob(p: float) -> str:
    """A probability for a reader: whole percent; one decimal below 9.5%, or where
    rounding to a whole percent would change its PHIA wording (so the number printed
    always reads as the term printed beside it)."""
    whole = round(100 * p)
    if 0 < p < 0.095 or phia(min(1.0, whole / 100)) != phia(p):
        return f"{100 * p:.1f}%"
    return f"{whole:.0f}%"


def phia_edges() -> list[float]:
    """Every boundary of the yardstick (ends of ranges), as probabilities."""
    return sorted({e for _, lo, hi in YARDSTICK for e in (lo, hi)} - {0.0, 1.0})


def interval95(p: float, se: float) -> tuple[float, float]:
    """The 95% Monte Carlo interval of a probability, clipped to [0, 1]."""
    return max(0.0, p - Z95 * se), min(1.0, p + Z95 * se)


def phia_crossing(p: float, se: float) -> float | None:
    """The yardstick boundary the 95% Monte Carlo interval of ``p`` crosses (the
    one nearest ``p``), or None when the whole interval reads as one term."""
    lo, hi = interval95(p, se)
    if phia(lo) == phia(hi) == phia(p):
        return None
    inside = [e for e in phia_edges() if lo <= e <= hi]
    return min(inside, key=lambda e: abs(e - p)) if inside else None


def phia_caveat(p: float, se: float) -> str:
    """A short clause for a probability whose 95% interval spans two readings."""
    if phia_crossing(p, se) is None:
        return ""
    lo, hi = interval95(p, se)
    edges = [f"{100 * e:g}%" for e in phia_edges() if lo <= e <= hi]
    which = f"{edges[0]} edge" if len(edges) == 1 else f"{', '.join(edges[:-1])} and {edges[-1]} edges"
    return f"its 95% interval ({100 * lo:.1f}\u2013{100 * hi:.1f}%) spans the yardstick's {which}"


def scenario_label(ds: xr.Dataset) -> str:
    """The scenario as a reader should see it: its name, with any ``--set`` changes."""
    return str(ds.attrs.get("scenario_label") or ds.attrs.get("scenario", "?"))


def prob_with_se(mask: xr.DataArray | np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """Share of runs where ``mask`` holds, and its Monte Carlo standard error.

    With ``weight`` (normalised run weights, :func:`model.results.run_weights`): the
    weighted share, with the standard error of ``ess`` equally weighted runs."""
    m = np.asarray(mask, dtype=bool)
    if weight is not None:
        p = _wsum(weight, m)
        n_eff = 1.0 / _wsum(weight, weight)
        return p, float(np.sqrt(max(p * (1 - p), 0.0) / n_eff))
    n = m.size
    p = float(m.mean()) if n else float("nan")
    return p, float(np.sqrt(p * (1 - p) / n)) if n else float("nan")


def weighted_quantile(x: np.ndarray, qs, weight: np.ndarray | None = None) -> np.ndarray:
    """Quantiles ``qs`` of ``x`` over runs; with ``weight``, of the weighted sample (each
    run's weight centred on its value, linear in between). Without, ``np.quantile``."""
    x = np.asarray(x, dtype=np.float64)
    if weight is None:
        return np.quantile(x, qs)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], np.asarray(weight, dtype=np.float64)[order]
    keep = ws > 0
    xs, ws = xs[keep], ws[keep]
    pos = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return np.interp(qs, pos, xs)


def _run_mean(values: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Mean over runs (the first axis), weighted when ``weight`` is given."""
    if weight is None:
        return values.mean(axis=0)
    return (weight.reshape((-1,) + (1,) * (values.ndim - 1)) * values).sum(axis=0)


def _wsum(weight: np.ndarray, x: np.ndarray) -> float:
    """Sum of ``weight * x`` over runs; numpy's pairwise sum rather than BLAS ``dot``, whose
    threads may split the sum differently from one machine (or load) to the next."""
    return float((weight * np.asarray(x, dtype=np.float64)).sum())


def event_flags(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Per run and month: has the event happened by then? (cumulative)"""
    return {
        "dialogue suspended": (~ds["dialogue_active"].astype(bool)).cumsum("time") > 0,
        "diplomats expelled": ((ds["expulsions"] > 0) | (ds["russian_expulsions"] > 0)).cumsum("time") > 0,
        "sanctions": ds["sanctions"].astype(bool).cumsum("time") > 0,
        "major incident on UK soil": (ds["major_incidents"] > 0).cumsum("time") > 0,
        "regime crisis in Russia": ds["regime_crisis"].astype(bool).cumsum("time") > 0,
    }


def event_cumprob(ds: xr.Dataset) -> pd.DataFrame:
    """Cumulative probability over time of the key events (rows: months)."""
    w = run_weights(ds)
    if w is None:
        return pd.DataFrame({k: v.mean("run").values for k, v in event_flags(ds).items()},
                            index=pd.DatetimeIndex(ds["time"].values, name="time"))
    return pd.DataFrame({k: _run_mean(v.transpose("run", "time").values.astype(np.float64), w)
                         for k, v in event_flags(ds).items()},
                        index=pd.DatetimeIndex(ds["time"].values, name="time"))


def fan(ds: xr.Dataset, var: str = "relations",
        quantiles=(0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975)) -> pd.DataFrame:
    """Quantiles of a variable over time (columns are the quantiles); weighted when the
    runs carry unequal weights."""
    w = run_weights(ds)
    if w is None:
        q = ds[var].astype(np.float64).quantile(list(quantiles), dim="run")
        return pd.DataFrame(q.values.T, columns=list(quantiles), index=pd.DatetimeIndex(ds["time"].values))
    vals = ds[var].transpose("run", "time").values
    rows = [weighted_quantile(vals[:, t], list(quantiles), w) for t in range(vals.shape[1])]
    return pd.DataFrame(np.array(rows), columns=list(quantiles), index=pd.DatetimeIndex(ds["time"].values))


def contributions(ds: xr.Dataset) -> pd.DataFrame:
    """Mean contribution of each driver per month (rows: months, columns: drivers);
    weighted when the runs carry unequal weights."""
    w = run_weights(ds)
    if w is None:
        return pd.DataFrame({d: ds[f"contrib_{d}"].mean("run").values for d in DRIVERS},
                            index=pd.DatetimeIndex(ds["time"].values))
    return pd.DataFrame({d: _run_mean(ds[f"contrib_{d}"].transpose("run", "time").values, w) for d in DRIVERS},
                        index=pd.DatetimeIndex(ds["time"].values))


def reversion_note(value: float) -> str:
    """What the ``reversion`` line (the start-month equilibrium pull) means, in plain
    words, for a net effect of ``value`` points."""
    if value >= 0:
        return ("relations start below the level the start month's drivers imply (the usual run of incidents and "
                "crises holds them there) and drift up towards it, offsetting those events' usual cost")
    return "relations start above the level the start month's drivers imply and drift down towards it"


# Where the outcome classes and the named bands of the scale both appear.
OUTCOME_BANDS_NOTE = ("outcome classes follow the named bands of the relations scale: confrontation is the "
                      "confrontational band, cool the cool band, thaw constructive or better; but rupture also counts "
                      "every run with sanctions in force, whatever its index")


REGIME_CRISIS = "regime crisis in Russia"
REGIME_CRISIS_NOTE = ("a regime crisis is a mass mobilisation beyond anything seen since 1991; the model does not "
                      "forecast relations through one: after it, a run's relations are the rules carried on, not a "
                      "forecast of a post-crisis Russia")


def waterfall_rows(totals: dict[str, float], share: float = 0.02) -> list[tuple[str, float]]:
    """(label, mean net effect) in the order the waterfall chart and the CLI list them:
    drivers from the largest effect down (those under ``share`` of the largest summed
    as "N other drivers"), then the start-month equilibrium pull (``reversion``)."""
    span = max((abs(v) for v in totals.values()), default=0.0) or 1.0
    moved = {d: v for d, v in totals.items() if d != "reversion"}
    big = sorted(((d, v) for d, v in moved.items() if abs(v) >= share * span), key=lambda kv: -abs(kv[1]))
    small = [v for d, v in moved.items() if d not in dict(big)]
    rows = [(DRIVER_LABELS[d], v) for d, v in big]
    if small:
        rows.append((f"{len(small)} other driver{'s' if len(small) > 1 else ''}", float(sum(small))))
    if "reversion" in totals:
        rows.append((DRIVER_LABELS["reversion"], totals["reversion"]))
    return rows


@dataclass
class Summary:
    """The headline numbers of a results Dataset.

    Probabilities are ``(p, standard error)``; everything printed with "\u00b1" is
    the 95% Monte Carlo interval, ``p \u00b1 1.96 s.e.``. ``scenario`` is the
    scenario as run, with any ``--set`` changes (``scenario_label``);
    ``scenario_name`` is the bare name."""

    scenario: str
    runs: int
    seed: int
    start: str
    horizon: str
    outcomes: dict[str, tuple[float, float]]
    relations_median: float
    relations_p10: float
    relations_p90: float
    relations_start: float
    bands: dict[str, float]
    events: dict[str, tuple[float, float]]
    exports_median: float
    exports_p10: float
    exports_p90: float
    drivers: dict[str, float] = field(default_factory=dict)
    relations_mean: float = float("nan")
    scenario_name: str = ""

    @property
    def p_rupture(self) -> float:
        return self.outcomes["rupture"][0]

    def top_drivers(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` drivers with the largest mean net effect, the start-month
        equilibrium pull (``reversion``) aside."""
        moved = [(d, v) for d, v in self.drivers.items() if d != "reversion"]
        return sorted(moved, key=lambda kv: -abs(kv[1]))[:n]

    def driver_rows(self) -> list[tuple[str, float]]:
        """(label, mean net effect) rows exactly as the waterfall chart draws them."""
        return waterfall_rows(self.drivers)

    def _probabilities(self) -> list[tuple[str, str, float, float]]:
        return ([(f"P(outcome = {k} in {self.horizon})", k, *self.outcomes[k]) for k in self.outcomes]
                + [(f"P({k} by {self.horizon})", k, *self.events[k]) for k in self.events])

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: name, value, standard error, 95% Monte Carlo
        interval (``ci95_low``, ``ci95_high``), PHIA wording, and whether that
        interval crosses a yardstick boundary."""
        rows = []
        for q, _k, p, se in self._probabilities():
            lo, hi = interval95(p, se)
            rows.append((q, p, se, lo, hi, phia(p), phia_crossing(p, se) is not None))
        nan = np.nan
        rows += [(q, v, nan, nan, nan, "", False) for q, v in (
            ("relations at horizon, median", self.relations_median),
            ("relations at horizon, mean", self.relations_mean),
            ("relations at horizon, 10th percentile", self.relations_p10),
            ("relations at horizon, 90th percentile", self.relations_p90),
            ("exports at horizon (GBP m/month), median", self.exports_median),
            ("exports at horizon (GBP m/month), 10th percentile", self.exports_p10),
            ("exports at horizon (GBP m/month), 90th percentile", self.exports_p90))]
        rows += [(f"mean net effect on relations: {DRIVER_LABELS[d]}", v, nan, nan, nan, "", False)
                 for d, v in self.drivers.items()]
        return pd.DataFrame(rows, columns=["quantity", "value", "std_error", "ci95_low", "ci95_high", "phia",
                                           "phia_interval_crosses_boundary"])

    def to_dict(self) -> dict:
        """The fields, plus PHIA wording and 95% intervals for every probability."""
        out = asdict(self)
        out["phia"] = {k: phia(p) for _q, k, p, _se in self._probabilities()}
        out["ci95"] = {k: list(interval95(p, se)) for _q, k, p, se in self._probabilities()}
        out["note"] = ("Probabilities are [p, standard error]; ci95 is the 95% Monte Carlo interval, "
                       "p +/- 1.96 standard errors. Outcomes are states in the horizon month; events are "
                       "counted if they happened by then.")
        return out

    def text(self) -> str:
        """A readable summary for the terminal."""
        pct = lambda p: f"{100 * p:5.1f}%"  # noqa: E731

        def prob(p: float, se: float) -> str:
            edge = phia_crossing(p, se)
            flag = f"  (interval crosses {100 * edge:g}%)" if edge is not None else ""
            return f"{pct(p)} +/- {100 * Z95 * se:.1f}   {phia(p)}{flag}"

        lines = [f"Scenario '{self.scenario}': {self.runs:,} runs, seed {self.seed}, "
                 f"{self.start} to {self.horizon}",
                 "(+/- is the 95% Monte Carlo interval, 1.96 standard errors; words: PHIA yardstick)", "",
                 f"Outcome in {self.horizon} (state that month):"]
        for k in OUTCOMES:
            lines.append(f"  {k:<14} {prob(*self.outcomes[k])}")
        lines += textwrap.wrap(f"({OUTCOME_BANDS_NOTE})", 100, initial_indent="  ", subsequent_indent="   ")
        lines += ["", f"Relations index (Goldstein, -10 to +10), start {self.relations_start:+.1f}:",
                  f"  median {self.relations_median:+.2f}, 80% band {self.relations_p10:+.2f} to "
                  f"{self.relations_p90:+.2f}, mean {self.relations_mean:+.2f}", "",
                  f"Events by {self.horizon} (happened at least once):"]
        for k, (p, se) in self.events.items():
            lines.append(f"  P({k}) {prob(p, se)}")
        if self.events.get(REGIME_CRISIS, (0.0, 0.0))[0] > 0:
            lines += textwrap.wrap(f"({REGIME_CRISIS_NOTE})", 100, initial_indent="  ", subsequent_indent="   ")
        lines += ["", f"UK goods exports to Russia in {self.horizon}: median GBP {self.exports_median:,.0f}m "
                  f"(80% band {self.exports_p10:,.0f}m to {self.exports_p90:,.0f}m) a month"]
        lines += ["", "What moved relations (mean net effect on the index in "
                  f"{self.horizon}, points; as in the waterfall chart):",
                  f"  {'Start, ' + self.start:<40} {self.relations_start:+.2f}"]
        lines += [f"  {label:<40} {v:+.2f}" for label, v in self.driver_rows()]
        lines.append(f"  {'Mean in ' + self.horizon:<40} {self.relations_mean:+.2f}")
        if "reversion" in self.drivers:
            note = reversion_note(self.drivers["reversion"])
            lines += textwrap.wrap(f"('{DRIVER_LABELS['reversion']}': {note}.)", 100, initial_indent="  ",
                                   subsequent_indent="   ")
        return "\n".join(lines)


def summarize(ds: xr.Dataset) -> Summary:
    """Headline numbers: outcome and event probabilities with Monte Carlo standard
    errors, relations and exports at the horizon, and total driver contributions.

    Runs with unequal weights (an ensemble conditioned on observations and not
    resampled at the end) are weighed; equal weights take the unweighted arithmetic,
    so a resampled posterior summarises exactly as any ensemble does."""
    w = run_weights(ds)
    if w is not None:
        return _summarize_weighted(ds, w)
    end = ds.isel(time=-1)
    rel = end["relations"].values
    exp_ = end["exports_gbp_m"].values.astype(np.float64)
    flags = event_flags(ds)
    horizon = pd.Timestamp(ds["time"].values[-1]).strftime("%Y-%m")
    start = pd.Timestamp(ds["time"].values[0]).strftime("%Y-%m")
    edges = [b[2] for b in BANDS[:-1]]
    idx = np.searchsorted(edges, rel, side="left")
    return Summary(
        scenario=scenario_label(ds),
        runs=int(ds.sizes["run"]),
        seed=int(ds.attrs.get("seed", -1)),
        start=start,
        horizon=horizon,
        outcomes={k: prob_with_se(ds["outcome"].values == k) for k in OUTCOMES},
        relations_median=float(np.median(rel)),
        relations_p10=float(np.quantile(rel, 0.10)),
        relations_p90=float(np.quantile(rel, 0.90)),
        relations_start=float(ds.attrs.get("initial_relations", np.nan)),
        bands={b[0]: float((idx == i).mean()) for i, b in enumerate(BANDS)},
        events={k: prob_with_se(v.isel(time=-1).values) for k, v in flags.items()},
        exports_median=float(np.median(exp_)),
        exports_p10=float(np.quantile(exp_, 0.10)),
        exports_p90=float(np.quantile(exp_, 0.90)),
        drivers={d: float(ds[f"contrib_{d}"].sum("time").mean()) for d in DRIVERS},
        relations_mean=float(np.mean(rel.astype(np.float64))),
        scenario_name=str(ds.attrs.get("scenario", "?")),
    )


def _summarize_weighted(ds: xr.Dataset, w: np.ndarray) -> Summary:
    """:func:`summarize` for runs with unequal weights ``w`` (summing to 1)."""
    end = ds.isel(time=-1)
    rel = end["relations"].values.astype(np.float64)
    exp_ = end["exports_gbp_m"].values.astype(np.float64)
    flags = event_flags(ds)
    edges = [b[2] for b in BANDS[:-1]]
    idx = np.searchsorted(edges, end["relations"].values, side="left")
    r10, r50, r90 = weighted_quantile(rel, [0.10, 0.5, 0.90], w)
    e10, e50, e90 = weighted_quantile(exp_, [0.10, 0.5, 0.90], w)
    return Summary(
        scenario=scenario_label(ds),
        runs=int(ds.sizes["run"]),
        seed=int(ds.attrs.get("seed", -1)),
        start=pd.Timestamp(ds["time"].values[0]).strftime("%Y-%m"),
        horizon=pd.Timestamp(ds["time"].values[-1]).strftime("%Y-%m"),
        outcomes={k: prob_with_se(ds["outcome"].values == k, w) for k in OUTCOMES},
        relations_median=float(r50), relations_p10=float(r10), relations_p90=float(r90),
        relations_start=float(ds.attrs.get("initial_relations", np.nan)),
        bands={b[0]: _wsum(w, idx == i) for i, b in enumerate(BANDS)},
        events={k: prob_with_se(v.isel(time=-1).values, w) for k, v in flags.items()},
        exports_median=float(e50), exports_p10=float(e10), exports_p90=float(e90),
        drivers={d: _wsum(w, ds[f"contrib_{d}"].sum("time").values) for d in DRIVERS},
        relations_mean=_wsum(w, rel),
        scenario_name=str(ds.attrs.get("scenario", "?")),
    )


# ---------------------------------------------------------------- comparing two ensembles


@dataclass(frozen=True)
class Shift:
    """Current minus preset for one figure, with a 95% Monte Carlo interval."""

    key: str
    current: float
    preset: float
    diff: float
    se: float
    lo: float
    hi: float
    paired: bool

    @property
    def within_noise(self) -> bool:
        return self.lo <= 0.0 <= self.hi


def paired_runs(a: xr.Dataset, b: xr.Dataset) -> bool:
    """Same runs, seed and months: common random numbers, so runs pair one to one."""
    return (a.sizes == b.sizes and a.attrs.get("seed") == b.attrs.get("seed")
            and np.array_equal(a["run"].values, b["run"].values))


def probability_shift(key: str, a: np.ndarray, b: np.ndarray, paired: bool) -> Shift:
    """Shift in the share of runs where an event holds (``a`` minus ``b``).

    With common random numbers the per-run differences are paired, so the
    standard error is that of their mean, ``sd(d) / sqrt(n)``: much smaller than
    the unpaired ``sqrt(se_a^2 + se_b^2)`` because most runs agree."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        d = a - b
        diff = float(d.mean())
        se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    else:
        diff = float(a.mean() - b.mean())
        se = float(np.sqrt(a.var() / a.size + b.var() / b.size))
    return Shift(key, float(a.mean()), float(b.mean()), diff, se, diff - 1.96 * se, diff + 1.96 * se, paired)


# Bootstrap resamples as counts (how often each run is drawn), by (seed, boot, sizes,
# paired): they depend on nothing else, so a dashboard redraw reuses them.
_BOOT_COUNTS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _boot_counts(seed: int, boot: int, na: int, nb: int, paired: bool) -> tuple[np.ndarray, np.ndarray]:
    key = (seed, boot, na, nb, paired)
    if key not in _BOOT_COUNTS:
        rng = np.random.default_rng(seed)
        idx_a = rng.integers(0, na, size=(boot, na))
        idx_b = idx_a if paired else rng.integers(0, nb, size=(boot, nb))

        def counts(idx: np.ndarray, n: int) -> np.ndarray:
            c = np.bincount((idx + n * np.arange(boot)[:, None]).ravel(), minlength=boot * n).reshape(boot, n)
            c.setflags(write=False)
            return c

        ca = counts(idx_a, na)
        if len(_BOOT_COUNTS) >= 4:
            _BOOT_COUNTS.clear()
        _BOOT_COUNTS[key] = (ca, ca if paired else counts(idx_b, nb))
    return _BOOT_COUNTS[key]


def _boot_medians(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each resample's median from its counts, walked in sorted order: the same numbers
    as ``np.median(x[idx], axis=1)`` without sorting boot x n values."""
    boot, n = counts.shape
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(counts[:, order].ravel())  # one running count: row r starts at r * n
    rows = np.arange(boot)
    xs = x[order]
    hi = xs[np.searchsorted(cum, rows * n + n // 2, side="right") - rows * n]
    lo = xs[np.searchsorted(cum, rows * n + (n - 1) // 2, side="right") - rows * n]
    return (lo + hi) / 2 if n % 2 == 0 else hi


def median_shift(key: str, a: np.ndarray, b: np.ndarray, paired: bool, boot: int = 400, seed: int = 0) -> Shift:
    """Shift in the median (``a`` minus ``b``) with a bootstrap over runs (paired
    resamples under common random numbers)."""
    diff = float(np.median(a) - np.median(b))
    ca, cb = _boot_counts(seed, boot, a.size, b.size, paired)
    reps = _boot_medians(a, ca) - _boot_medians(b, cb)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return Shift(key, float(np.median(a)), float(np.median(b)), diff, float(reps.std(ddof=1)),
                 float(min(lo, diff)), float(max(hi, diff)), paired)
