"""Scoring a forecast against what happened, beside naive baselines.

``score(ds, resolutions)`` scores a results Dataset (``simulate`` output or a file
from ``dialogue run --out``) against a :class:`model.resolutions.Resolutions`:

- numbers: the ensemble CRPS (``scoringrules.crps_ensemble``), whether the observed
  value falls in the central 50%, 80% and 90% intervals, and its PIT value;
- events and states: the Brier score and the log score of the forecast probability.

Every score is lower-is-better. Each sits beside the same score for the naive
baselines (see docs/scoring.md): ``persistence`` (the last observed annual export
level before the start, spread by the series' own year-to-year volatility; for
states, the state at the start), ``trend`` (the log-linear trend of the exports
before the start, with its prediction error) and ``base-rate`` (the reference-class
rate of the event, :mod:`model.reference`). Skill is the ratio model / baseline.

The log score needs a probability strictly between 0 and 1. An ensemble of ``m``
runs in which the event happened ``k`` times is given ``(k + 1/2) / (m + 1)`` for
the log score (Jeffreys smoothing: never 0 or 1, and within ``1/(2(m+1))`` of the
raw share); a baseline's probability is clipped to the same distance from 0 and 1,
so both are judged at the same resolution. The Brier score uses the raw ``k / m``.
"""

from __future__ import annotations

import textwrap
import tomllib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from model.errors import DialogueError
from model.resolutions import (
    EventFact,
    NumberFact,
    Resolutions,
    StateFact,
    band_names,
    check_against,
    describe,
    event_outcomes,
    number_sample,
)
from model.results import classify
from model.validation import suggest

LEVELS = (0.5, 0.8, 0.9)
BASELINES = ("persistence", "trend", "base-rate")


# ---------------------------------------------------------------- the scores

def crps_ensemble(obs: np.ndarray | float, ens: np.ndarray) -> np.ndarray:
    """Ensemble CRPS, members on the last axis: E|X - y| - E|X - X'| / 2 (the
    standard, not the 'fair', estimator), by ``scoringrules``."""
    import scoringrules as sr

    return np.asarray(sr.crps_ensemble(np.asarray(obs, dtype=np.float64), np.asarray(ens, dtype=np.float64)))


def pit_ensemble(obs: np.ndarray | float, ens: np.ndarray) -> np.ndarray:
    """PIT of ``obs`` in each ensemble (members on the last axis): the share of
    members below it, counting members equal to it as half (the mid-PIT)."""
    ens = np.asarray(ens, dtype=np.float64)
    y = np.asarray(obs, dtype=np.float64)[..., None]
    return ((ens < y).sum(-1) + 0.5 * (ens == y).sum(-1)) / ens.shape[-1]


def covered(obs: np.ndarray | float, ens: np.ndarray, level: float) -> np.ndarray:
    """Whether ``obs`` lies in the central ``level`` interval of each ensemble
    (quantiles by linear interpolation; ends included)."""
    ens = np.asarray(ens, dtype=np.float64)
    lo, hi = np.quantile(ens, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    y = np.asarray(obs, dtype=np.float64)
    return (lo <= y) & (y <= hi)


def brier(outcome: np.ndarray | bool, p: np.ndarray | float) -> np.ndarray:
    """Brier score (p - o)^2 of a probability ``p`` for a binary outcome."""
    import scoringrules as sr

    return np.asarray(sr.brier_score(np.asarray(outcome, dtype=np.float64), np.asarray(p, dtype=np.float64)))


def log_score(outcome: np.ndarray | bool, p: np.ndarray | float) -> np.ndarray:
    """Negative log of the probability given to what happened (natural log); ``p``
    must already be kept away from 0 and 1 (see :func:`smoothed` and :func:`clipped`)."""
    import scoringrules as sr

    return np.asarray(sr.log_score(np.asarray(outcome, dtype=np.float64), np.asarray(p, dtype=np.float64)))


def smoothed(k: np.ndarray | int, m: int) -> np.ndarray:
    """The log score's probability for ``k`` of ``m`` runs: (k + 1/2) / (m + 1)."""
    return (np.asarray(k, dtype=np.float64) + 0.5) / (m + 1)


def clipped(p: np.ndarray | float, m: int) -> np.ndarray:
    """A baseline's probability kept ``1/(2(m+1))`` away from 0 and 1, as an ensemble of
    ``m`` runs would be by :func:`smoothed`."""
    eps = 0.5 / (m + 1)
    return np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)


def lognormal_scores(obs: float, mu: float, sigma: float, levels=LEVELS) -> dict[str, float]:
    """CRPS (closed form, ``scoringrules.crps_lognormal``), PIT and coverage of a
    lognormal forecast with log-mean ``mu`` and log-sd ``sigma``."""
    import scoringrules as sr

    out = {"crps": float(sr.crps_lognormal(obs, mu, sigma)), "median": float(np.exp(mu))}
    z = (np.log(obs) - mu) / sigma if obs > 0 else -np.inf
    out["pit"] = float(stats.norm.cdf(z))
    for lv in levels:
        q = stats.norm.ppf((1 + lv) / 2)
        out[f"in{round(lv * 100)}"] = bool(abs(z) <= q)
    return out


# ---------------------------------------------------------------- baselines

@dataclass(frozen=True)
class ExportBaselines:
    """Lognormal annual-export forecasts from the ONS series before the start."""

    last_year: int
    last_level: float
    growth_sd: float   # sd of annual log growth up to last_year
    coef: tuple[float, float]  # log-linear trend: slope, intercept
    resid_sd: float
    n: int
    mean_year: float
    sxx: float

    def persistence(self, year: int) -> tuple[float, float]:
        h = year - self.last_year
        return float(np.log(self.last_level)), float(self.growth_sd * np.sqrt(h))

    def trend(self, year: int) -> tuple[float, float]:
        mu = float(np.polyval(self.coef, year))
        sd = self.resid_sd * np.sqrt(1 + 1 / self.n + (year - self.mean_year) ** 2 / self.sxx)
        return mu, float(sd)


def export_baselines(start_year: int) -> ExportBaselines | None:
    """Baselines fitted on the ONS years before ``start_year`` (known at the start);
    None when fewer than 3 years are known."""
    from model.calibration import trade_history

    years, exports = trade_history()
    keep = years < start_year
    y, x = years[keep], np.log(exports[keep])
    if len(y) < 3:
        return None
    coef = np.polyfit(y, x, 1)
    resid = x - np.polyval(coef, y)
    return ExportBaselines(
        last_year=int(y[-1]), last_level=float(exports[keep][-1]), growth_sd=float(np.diff(x).std(ddof=1)),
        coef=(float(coef[0]), float(coef[1])), resid_sd=float(resid.std(ddof=2)), n=len(y),
        mean_year=float(y.mean()), sxx=float(((y - y.mean()) ** 2).sum()))


def start_state(ds: xr.Dataset) -> dict[str, object]:
    """The state in the start month as the scenario set it (for persistence)."""
    try:
        initial = tomllib.loads(ds.attrs.get("scenario_toml", "")).get("initial", {})
    except tomllib.TOMLDecodeError:
        initial = {}
    rel = float(ds.attrs.get("initial_relations", initial.get("relations", 1.0)))
    ladder = int(initial.get("ladder", 0))
    sanctions = bool(initial.get("sanctions", False))
    return {"relations_band": str(band_names(np.array([rel]))[0]),
            "outcome": str(classify(np.array([rel]), np.array([sanctions]))[0]),
            "dialogue_active": ladder < 2, "sanctions": sanctions, "ladder": ladder}


def parse_baselines(text: str | None) -> tuple[str, ...]:
    """'persistence,trend' -> ('persistence', 'trend'); '' or 'none' -> ()."""
    if text is None:
        return BASELINES
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names in ((), ("none",)):
        return ()
    for n in names:
        if n not in BASELINES:
            raise DialogueError(f"--baseline: unknown baseline '{n[:40]}'{suggest(n, BASELINES)}; "
                                f"use a comma-separated list of {', '.join(BASELINES)}, or none")
    return tuple(dict.fromkeys(names))


# ---------------------------------------------------------------- the report

@dataclass
class ScoreReport:
    """Per-fact scores (``facts``) and their summary (``summary``)."""

    facts: pd.DataFrame
    summary: pd.DataFrame
    baselines: tuple[str, ...]
    scenario: str
    runs: int
    span: str
    resolutions: str
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The short table ``dialogue score`` prints."""
        head = (f"Scoring '{self.scenario}' ({self.runs:,} runs, {self.span}) against "
                f"{len(self.facts)} fact{'s' if len(self.facts) != 1 else ''} in {self.resolutions}")
        lines = [head, "Lower is better for CRPS, Brier and log score; (x0.80) is model / baseline: "
                 "below 1 the model beats that baseline.", ""]
        cols = ["model", *self.baselines]
        wl = max([len(str(x)) for x in self.summary.get("label", [])] + [10]) + 2
        lines.append(f"{'':<{wl}}" + "".join(f"{c:>18}" for c in cols))
        for _, r in self.summary.iterrows():
            cells = []
            for c in cols:
                v, ratio = r.get(c), r.get(f"ratio_{c}")
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    cells.append(f"{'-':>18}")
                elif isinstance(v, str):
                    cells.append(f"{v:>18}")
                else:
                    txt = _fmt(v, r["measure"])
                    if c != "model" and ratio is not None and np.isfinite(ratio):
                        txt += f" (x{ratio:.2f})"
                    elif c != "model" and r.get(f"n_{c}", r["n"]) != r["n"]:
                        txt += f" [{int(r[f'n_{c}'])}]"  # the baseline covers fewer facts
                    cells.append(f"{txt:>18}")
            lines.append(f"{r['label']:<{wl}}" + "".join(cells))
        lines += ["", "Per fact:"]
        wid = max([len(str(i)) for i in self.facts["id"]] + [2])
        wfact = max([len(str(i)) for i in self.facts["fact"]] + [4])
        for _, r in self.facts.iterrows():
            if r["kind"] == "number":
                f = (f"median {_num(r['forecast'])}, PIT {r['pit']:.2f}, CRPS {_num(r['crps'])}, "
                     f"in 50/80/90%: {_yn(r['in50'])}{_yn(r['in80'])}{_yn(r['in90'])}")
            else:
                f = f"P = {100 * r['forecast']:.1f}%, Brier {r['brier']:.3f}, log {r['log']:.2f}"
            lines.append(f"  {r['id']:<{wid}}  {r['fact']:<{wfact}}  {f}")
        for n in self.notes:
            lines += textwrap.wrap(n, 110, initial_indent="Note: ", subsequent_indent="  ")
        return "\n".join(lines)


def _yn(b) -> str:
    return "y" if bool(b) else "n"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def _fmt(v: float, measure: str) -> str:
    if measure.startswith("cover"):
        return f"{100 * v:.0f}%"
    if measure.startswith("crps"):
        return _num(v)
    return f"{v:.3f}"


def score(ds: xr.Dataset, resolutions: Resolutions, baselines: tuple[str, ...] | str | None = BASELINES,
          levels: tuple[float, ...] = LEVELS) -> ScoreReport:
    """Score ``ds`` against ``resolutions`` beside the named baselines."""
    from model.analysis import scenario_label
    from model.reference import base_rates
    from model.resolutions import span

    if isinstance(baselines, str) or baselines is None:
        baselines = parse_baselines(baselines)
    check_against(resolutions, ds)
    m = int(ds.sizes["run"])
    start = pd.Timestamp(ds["time"].values[0])
    exb = export_baselines(start.year)
    rates = base_rates()
    state0 = start_state(ds)
    rows = []
    for f in resolutions.facts:
        row: dict[str, object] = {"id": f.id, "kind": f.kind, "fact": describe(f), "source": f.source}
        if isinstance(f, NumberFact):
            ens = number_sample(f, ds)
            row.update(observed=f.value, forecast=float(np.median(ens)), crps=float(crps_ensemble(f.value, ens)),
                       pit=float(pit_ensemble(f.value, ens)))
            for lv in levels:
                row[f"in{round(lv * 100)}"] = bool(covered(f.value, ens, lv))
            if f.variable == "exports_annual" and exb is not None:
                for name in ("persistence", "trend"):
                    if name in baselines:
                        mu, sd = getattr(exb, name)(f.year)
                        for k, v in lognormal_scores(f.value, mu, sd, levels).items():
                            row[f"{name}_{'forecast' if k == 'median' else k}"] = v
        else:
            happened = bool(f.happened) if isinstance(f, EventFact) else True
            hits = event_outcomes(f, ds)
            k = int(hits.sum())
            row.update(observed=float(happened), forecast=k / m, brier=float(brier(happened, k / m)),
                       log=float(log_score(happened, smoothed(k, m))))
            base_p = None
            if isinstance(f, EventFact) and "base-rate" in baselines:
                rate = rates.event_rate(f.event)
                if rate is not None:
                    n_months = (pd.Period(f.end, "M") - pd.Period(f.start, "M")).n + 1
                    base_p = ("base-rate", rate.prob(n_months, jeffreys=True))
            if isinstance(f, StateFact) and "persistence" in baselines:
                base_p = ("persistence", 1.0 if state0[f.variable] == f.value else 0.0)
            if base_p is not None:
                name, p = base_p
                row.update({f"{name}_forecast": p, f"{name}_brier": float(brier(happened, p)),
                            f"{name}_log": float(log_score(happened, clipped(p, m)))})
        rows.append(row)
    facts = pd.DataFrame(rows)
    notes = []
    if exb is None and any(isinstance(f, NumberFact) and f.variable == "exports_annual" for f in resolutions.facts):
        notes.append(f"no export baselines: fewer than 3 ONS years are known before {start.year}.")
    if exb is not None and {"persistence", "trend"} & set(baselines):
        notes.append(f"export baselines use ONS annual exports {exb.last_year - exb.n + 1}-{exb.last_year} "
                     f"(last level GBP {exb.last_level:,.0f}m, sd of annual log growth {exb.growth_sd:.3f}, "
                     f"trend residual sd {exb.resid_sd:.3f}); base rates: model.reference, "
                     f"{rates.period[0]}-{rates.period[1]}.")
    summary = _summary(facts, baselines, levels)
    return ScoreReport(facts, summary, tuple(baselines), scenario_label(ds), m, span(ds),
                       resolutions.path, notes)


def _summary(facts: pd.DataFrame, baselines: tuple[str, ...], levels: tuple[float, ...]) -> pd.DataFrame:
    """Mean of each score for the model and each baseline; a baseline's ratio is
    computed over the facts that baseline covers (the model's mean on those same facts)."""
    nums = facts[facts["kind"] == "number"] if len(facts) else facts
    cats = facts[facts["kind"] != "number"] if len(facts) else facts
    out = []

    def add(measure: str, label: str, sub: pd.DataFrame, col: str, ratio: bool = True) -> None:
        if not len(sub) or col not in sub:
            return
        r: dict[str, object] = {"measure": measure, "label": label, "model": float(sub[col].astype(float).mean()),
                                "n": len(sub)}
        for b in baselines:
            bc = f"{b}_{col}"
            if bc in sub and sub[bc].notna().any():
                have = sub[bc].notna()
                r[b] = float(sub.loc[have, bc].astype(float).mean())
                base = r[b]
                model_same = float(sub.loc[have, col].astype(float).mean())
                r[f"ratio_{b}"] = model_same / base if ratio and base > 0 else np.nan
                r[f"n_{b}"] = int(have.sum())
        out.append(r)

    # CRPS is in the variable's units: one row per variable, never pooled across units.
    for var in dict.fromkeys(nums["fact"].str.split(" ").str[0]) if len(nums) else ():
        sub = nums[nums["fact"].str.split(" ").str[0] == var]
        add(f"crps:{var}", f"{var} ({len(sub)}): CRPS", sub, "crps")
    for lv in levels:
        add(f"cover{round(lv * 100)}", f"numbers ({len(nums)}): in {round(lv * 100)}% interval", nums,
            f"in{round(lv * 100)}", ratio=False)
    add("pit", f"numbers ({len(nums)}): mean PIT", nums, "pit", ratio=False)
    for kind, label in (("event", "events"), ("state", "states")):
        sub = cats[cats["kind"] == kind] if len(cats) else cats
        add(f"brier:{kind}", f"{label} ({len(sub)}): Brier", sub, "brier")
        add(f"log:{kind}", f"{label} ({len(sub)}): log score", sub, "log")
    return pd.DataFrame(out)
