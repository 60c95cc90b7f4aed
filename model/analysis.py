"""Analysis: summaries, event probabilities and the PHIA probability yardstick.

Everything here reads a results Dataset and computes; nothing here simulates.
Probabilities carry their Monte Carlo standard error ``sqrt(p(1-p)/runs)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from model.agents.relations import BANDS, DRIVER_LABELS, DRIVERS
from model.results import OUTCOMES

# The UK Professional Head of Intelligence Assessment (PHIA) probability yardstick.
# Values in the yardstick's gaps go to the nearer term; a value exactly midway goes
# to the term nearer 50% (the more cautious reading).
YARDSTICK = (
    ("remote chance", 0.00, 0.05),
    ("highly unlikely", 0.10, 0.20),
    ("unlikely", 0.25, 0.35),
    ("realistic possibility", 0.40, 0.50),
    ("likely", 0.55, 0.75),
    ("highly likely", 0.80, 0.90),
    ("almost certain", 0.95, 1.00),
)


def phia(p: float) -> str:
    """PHIA yardstick term for a probability in [0, 1]."""
    if not 0.0 <= p <= 1.0 or np.isnan(p):
        raise ValueError(f"probability {p} is outside [0, 1]")
    # Cut points: the midpoints of the gaps between terms (in percent, to avoid
    # binary rounding at the edges).
    pct = round(p * 100, 9)
    cuts = [7.5, 22.5, 37.5, 52.5, 77.5, 92.5]
    for i, cut in enumerate(cuts):
        below_half = cut < 50
        if pct < cut or (pct == cut and not below_half):
            return YARDSTICK[i][0]
    return YARDSTICK[-1][0]


def prob_with_se(mask: xr.DataArray | np.ndarray) -> tuple[float, float]:
    """Share of runs where ``mask`` holds, and its Monte Carlo standard error."""
    m = np.asarray(mask, dtype=bool)
    n = m.size
    p = float(m.mean()) if n else float("nan")
    return p, float(np.sqrt(p * (1 - p) / n)) if n else float("nan")


def event_flags(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Per run and month: has the event happened by then? (cumulative)"""
    return {
        "dialogue suspended": (~ds["dialogue_active"].astype(bool)).cumsum("time") > 0,
        "diplomats expelled": (ds["expulsions"] > 0).cumsum("time") > 0,
        "sanctions": ds["sanctions"].astype(bool).cumsum("time") > 0,
        "major incident on UK soil": (ds["major_incidents"] > 0).cumsum("time") > 0,
    }


def event_cumprob(ds: xr.Dataset) -> pd.DataFrame:
    """Cumulative probability over time of the key events (rows: months)."""
    return pd.DataFrame({k: v.mean("run").values for k, v in event_flags(ds).items()},
                        index=pd.DatetimeIndex(ds["time"].values, name="time"))


def fan(ds: xr.Dataset, var: str = "relations",
        quantiles=(0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975)) -> pd.DataFrame:
    """Quantiles of a variable over time (columns are the quantiles)."""
    q = ds[var].astype(np.float64).quantile(list(quantiles), dim="run")
    return pd.DataFrame(q.values.T, columns=list(quantiles), index=pd.DatetimeIndex(ds["time"].values))


def contributions(ds: xr.Dataset) -> pd.DataFrame:
    """Mean contribution of each driver per month (rows: months, columns: drivers)."""
    return pd.DataFrame({d: ds[f"contrib_{d}"].mean("run").values for d in DRIVERS},
                        index=pd.DatetimeIndex(ds["time"].values))


@dataclass
class Summary:
    """The headline numbers of a results Dataset."""

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

    @property
    def p_rupture(self) -> float:
        return self.outcomes["rupture"][0]

    def top_drivers(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` drivers with the largest mean total contribution, recovery aside."""
        moved = [(d, v) for d, v in self.drivers.items() if d != "reversion"]
        return sorted(moved, key=lambda kv: -abs(kv[1]))[:n]

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: name, value, standard error, PHIA wording."""
        rows = []
        for k, (p, se) in self.outcomes.items():
            rows.append((f"P(outcome = {k})", p, se, phia(p)))
        for k, (p, se) in self.events.items():
            rows.append((f"P({k} by {self.horizon})", p, se, phia(p)))
        rows += [("relations at horizon, median", self.relations_median, np.nan, ""),
                 ("relations at horizon, 10th percentile", self.relations_p10, np.nan, ""),
                 ("relations at horizon, 90th percentile", self.relations_p90, np.nan, ""),
                 ("exports at horizon (GBP m/month), median", self.exports_median, np.nan, ""),
                 ("exports at horizon (GBP m/month), 10th percentile", self.exports_p10, np.nan, ""),
                 ("exports at horizon (GBP m/month), 90th percentile", self.exports_p90, np.nan, "")]
        rows += [(f"mean contribution to change: {DRIVER_LABELS[d]}", v, np.nan, "")
                 for d, v in self.drivers.items()]
        return pd.DataFrame(rows, columns=["quantity", "value", "std_error", "phia"])

    def to_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        """A readable summary for the terminal."""
        pct = lambda p: f"{100 * p:5.1f}%"  # noqa: E731
        lines = [f"Scenario '{self.scenario}': {self.runs:,} runs, seed {self.seed}, "
                 f"{self.start} to {self.horizon}", "",
                 f"Outcome at {self.horizon} (probability +/- Monte Carlo s.e.):"]
        for k in OUTCOMES:
            p, se = self.outcomes[k]
            lines.append(f"  {k:<14} {pct(p)} +/- {100 * se:.1f}   {phia(p)}")
        lines += ["", f"Relations index (Goldstein, -10 to +10), start {self.relations_start:+.1f}:",
                  f"  median {self.relations_median:+.2f}, 80% band {self.relations_p10:+.2f} to "
                  f"{self.relations_p90:+.2f}", "", f"Events by {self.horizon}:"]
        for k, (p, se) in self.events.items():
            lines.append(f"  P({k}) {pct(p)} +/- {100 * se:.1f}   {phia(p)}")
        lines += ["", f"UK goods exports to Russia in {self.horizon}: median GBP {self.exports_median:,.0f}m "
                  f"(80% band {self.exports_p10:,.0f}m to {self.exports_p90:,.0f}m) a month"]
        lines += ["", "What moved relations most (mean total contribution, points):"]
        lines += [f"  {DRIVER_LABELS[d]:<36} {v:+.2f}" for d, v in self.top_drivers(3)]
        lines.append(f"  {DRIVER_LABELS['reversion']:<36} {self.drivers['reversion']:+.2f}")
        return "\n".join(lines)


def summarize(ds: xr.Dataset) -> Summary:
    """Headline numbers: outcome and event probabilities with Monte Carlo standard
    errors, relations and exports at the horizon, and total driver contributions."""
    end = ds.isel(time=-1)
    rel = end["relations"].values
    exp_ = end["exports_gbp_m"].values.astype(np.float64)
    flags = event_flags(ds)
    horizon = pd.Timestamp(ds["time"].values[-1]).strftime("%Y-%m")
    start = pd.Timestamp(ds["time"].values[0]).strftime("%Y-%m")
    edges = [b[2] for b in BANDS[:-1]]
    idx = np.searchsorted(edges, rel, side="left")
    return Summary(
        scenario=str(ds.attrs.get("scenario", "?")),
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


def median_shift(key: str, a: np.ndarray, b: np.ndarray, paired: bool, boot: int = 400, seed: int = 0) -> Shift:
    """Shift in the median (``a`` minus ``b``) with a bootstrap over runs (paired
    resamples under common random numbers)."""
    rng = np.random.default_rng(seed)
    diff = float(np.median(a) - np.median(b))
    idx_a = rng.integers(0, a.size, size=(boot, a.size))
    idx_b = idx_a if paired else rng.integers(0, b.size, size=(boot, b.size))
    reps = np.median(a[idx_a], axis=1) - np.median(b[idx_b], axis=1)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return Shift(key, float(np.median(a)), float(np.median(b)), diff, float(reps.std(ddof=1)),
                 float(min(lo, diff)), float(max(hi, diff)), paired)
