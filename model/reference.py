"""The reference class of UK-Soviet and UK-Russian diplomatic episodes before 13 March 2013.

``reference_events()`` loads ``model/data/reference_events.csv`` (every row dated before
the forecast start and sourced); ``base_rates()`` derives the rates and size
distributions documented, with the arithmetic, in docs/reference-events.md. Nothing
here changes a model parameter: the numbers are evidence for calibration and the
base-rate baseline of ``dialogue score``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

CUTOFF = pd.Timestamp("2013-03-13")  # the forecast start: no event on or after it may be used
KINDS = ("expulsion_round", "staff_cap", "spy_accusation", "major_incident", "format_suspended",
         "cultural_closure", "war", "crisis", "no_sanctions")
# The post-Soviet window the base rates use by default: UK-Russian Federation relations,
# 1992-2012 inclusive (21 years). The record before 1992 is UK-Soviet and collected
# less completely (only the largest rounds are well reported).
PERIOD = (1992, 2012)
LONG_PERIOD = (1971, 2012)


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    text = resources.files("model.data").joinpath("reference_events.csv").read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text), comment="#", dtype={"size": "float64", "response_size": "float64"},
                     keep_default_na=False, na_values={"size": [""], "response_size": [""]})
    for col in ("date", "end_date", "response_date"):
        df[col] = pd.to_datetime(df[col].replace("", None))
    return df


def reference_events() -> pd.DataFrame:
    """One row per episode: id, date, date_precision, end_date, episode, kind, size,
    first_mover, response, response_size, response_date, summary, source, url."""
    return _table().copy()


@dataclass(frozen=True)
class Rate:
    """Episodes of one kind in a window of years: count, years, and the rate per year
    with a Jeffreys interval-free point estimate ``(count + 0.5) / years`` for use
    when the count is zero (the raw ``count / years`` is ``per_year``)."""

    count: int
    years: int
    per_year: float
    jeffreys_per_year: float

    def prob(self, months: float, jeffreys: bool = False) -> float:
        """Probability of at least one episode in ``months`` (Poisson)."""
        lam = (self.jeffreys_per_year if jeffreys else self.per_year) * months / 12
        return float(1 - np.exp(-lam))


@dataclass(frozen=True)
class BaseRates:
    """Rates and sizes from the reference class (see docs/reference-events.md)."""

    period: tuple[int, int]
    expulsion_rounds: Rate              # rounds opened by either side (replies not counted)
    expulsion_sizes: tuple[float, ...]  # people expelled by the side that moved first, per opening round
    expulsion_totals: tuple[float, ...]  # both ways, per episode with a known reply
    reciprocity_share: float            # opening rounds answered in kind, of those with a known reply
    reciprocity_answered: int
    reciprocity_known: int
    reply_lag_days: tuple[float, ...]
    major_incidents: Rate
    crises: Rate
    crisis_days: tuple[float, ...]      # durations of crises with a sourced end (all years)
    format_suspensions: Rate            # cooperation formats suspended by the UK or the EU
    sanctions: Rate
    long_period: tuple[int, int] = LONG_PERIOD
    expulsion_rounds_long: Rate | None = None
    expulsion_sizes_long: tuple[float, ...] = field(default_factory=tuple)
    expulsion_totals_long: tuple[float, ...] = field(default_factory=tuple)

    def event_rate(self, event: str) -> Rate | None:
        """The rate for a scored event name (model.resolutions.EVENTS), or None when the
        reference class says nothing about it."""
        return {"expulsions": self.expulsion_rounds, "major_incident": self.major_incidents,
                "crisis": self.crises, "dialogue_suspended": self.format_suspensions,
                "sanctions": self.sanctions}.get(event)


def _rate(df: pd.DataFrame, kind: str, period: tuple[int, int], first_movers: tuple[str, ...] | None = None) -> Rate:
    years = period[1] - period[0] + 1
    sel = (df["kind"] == kind) & df["date"].dt.year.between(*period)
    if first_movers is not None:
        sel &= df["first_mover"].isin(first_movers)
    n = int(sel.sum())
    return Rate(n, years, n / years, (n + 0.5) / years)


def _openings(df: pd.DataFrame, period: tuple[int, int]) -> pd.DataFrame:
    return df[(df["kind"] == "expulsion_round") & df["date"].dt.year.between(*period)]


def _totals(rounds: pd.DataFrame) -> tuple[float, ...]:
    known = rounds.dropna(subset=["response_size"])
    both = (known["size"] + known["response_size"]).groupby(known["episode"]).sum()
    return tuple(float(x) for x in both.sort_values())


@lru_cache(maxsize=2)
def base_rates(period: tuple[int, int] = PERIOD) -> BaseRates:
    """Derive the base rates from the reference class for ``period`` (years inclusive).
    Expulsion sizes and reciprocity also come for the long window 1971-2012, where the
    few large Cold War rounds are."""
    df = _table()
    rounds = _openings(df, period)
    long_rounds = _openings(df, LONG_PERIOD)
    known = long_rounds.dropna(subset=["response_size"])
    answered = known[known["response_size"] > 0]
    lag = (answered["response_date"] - answered["date"]).dt.days.dropna()
    crises = df[(df["kind"] == "crisis") & df["end_date"].notna()]
    return BaseRates(
        period=period,
        expulsion_rounds=_rate(df, "expulsion_round", period),
        expulsion_sizes=tuple(float(x) for x in sorted(rounds["size"])),
        expulsion_totals=_totals(rounds),
        reciprocity_share=len(answered) / len(known) if len(known) else float("nan"),
        reciprocity_answered=len(answered),
        reciprocity_known=len(known),
        reply_lag_days=tuple(float(x) for x in sorted(lag)),
        major_incidents=_rate(df, "major_incident", period),
        crises=_rate(df, "crisis", period),
        crisis_days=tuple(float(x) for x in sorted((crises["end_date"] - crises["date"]).dt.days)),
        format_suspensions=_rate(df, "format_suspended", period, ("UK", "EU")),
        # No row records sanctions imposed (the no_sanctions row says so): the count is 0.
        sanctions=_rate(df, "sanctions", period),
        expulsion_rounds_long=_rate(df, "expulsion_round", LONG_PERIOD),
        expulsion_sizes_long=tuple(float(x) for x in sorted(long_rounds["size"])),
        expulsion_totals_long=_totals(long_rounds),
    )


def _list(xs: tuple[float, ...]) -> str:
    return ", ".join(f"{x:g}" for x in xs)


def rates_markdown(b: BaseRates | None = None) -> str:
    """The base-rate table of docs/reference-events.md, with the arithmetic (the doc
    embeds this text verbatim; a test keeps them in step)."""
    b = b or base_rates()
    p0, p1 = b.period
    lr = b.expulsion_rounds_long
    sizes, sizes_l = np.array(b.expulsion_sizes), np.array(b.expulsion_sizes_long)
    logs = np.log(sizes_l)

    def rate(r: Rate, what: str) -> str:
        return (f"| {what} | {r.count} in {r.years} years | {r.count} / {r.years} = {r.per_year:.3f} | "
                f"({r.count} + 0.5) / {r.years} = {r.jeffreys_per_year:.3f} |")

    rows = [
        f"| measure ({p0}\u2013{p1} unless stated) | record | rate per year | Jeffreys rate per year |",
        "|---|---|---|---|",
        rate(b.expulsion_rounds, "expulsion rounds opened (either side)"),
        rate(lr, f"expulsion rounds opened, {b.long_period[0]}\u2013{b.long_period[1]}"),
        rate(b.major_incidents, "serious incidents on UK soil attributed to Russia"),
        rate(b.crises, "crises of relations"),
        rate(b.format_suspensions, "cooperation formats suspended by the UK or the EU"),
        rate(b.sanctions, "UK or EU sanctions on Russia"),
    ]
    lag = np.array(b.reply_lag_days)
    lines = [
        *rows, "",
        f"- Sizes of opening rounds (people expelled by the side that moved first), {p0}\u2013{p1}: "
        f"{_list(b.expulsion_sizes)} (median {np.median(sizes):g}, mean {sizes.mean():.2f}).",
        f"- The same, {b.long_period[0]}\u2013{b.long_period[1]}: {_list(b.expulsion_sizes_long)} "
        f"(median {np.median(sizes_l):g}, mean {sizes_l.mean():.1f}; log sizes mean {logs.mean():.2f}, "
        f"sd {logs.std(ddof=1):.2f}, i.e. a geometric mean of {np.exp(logs.mean()):.1f}).",
        f"- Both ways together, per episode with a known reply, {b.long_period[0]}\u2013{b.long_period[1]}: "
        f"{_list(b.expulsion_totals_long)} (median {np.median(b.expulsion_totals_long):g}).",
        f"- Reciprocity: {b.reciprocity_answered} of {b.reciprocity_known} opening rounds with a known reply "
        f"were answered = {b.reciprocity_share:.2f} (Laplace: ({b.reciprocity_answered} + 1) / "
        f"({b.reciprocity_known} + 2) = {(b.reciprocity_answered + 1) / (b.reciprocity_known + 2):.2f}).",
        f"- Reply lag in days, where dated: {_list(b.reply_lag_days)} (median {np.median(lag):g}).",
        f"- Crisis durations in days, where the end is sourced: {_list(b.crisis_days)} "
        f"(median {np.median(b.crisis_days):g}).",
        f"- Probability of at least one episode in a window of w months: 1 \u2212 exp(\u2212rate \u00d7 w / 12); "
        f"e.g. expulsions in 5 years: 1 \u2212 exp(\u2212{b.expulsion_rounds.jeffreys_per_year:.3f} \u00d7 5) = "
        f"{b.expulsion_rounds.prob(60, jeffreys=True):.2f}.",
    ]
    return "\n".join(lines)


def event_calibration(ds, b: BaseRates | None = None) -> list[tuple[str, str, str]]:
    """The model's event rates and sizes beside the reference class: rows of (quantity,
    model, record), computed from a simulated ensemble ``ds`` (run x time). Used by
    scripts/behaviour.py for docs/behaviour.md; issue 9's event calibration."""
    b = b or base_rates()
    years = ds.sizes["time"] / 12
    uk, ru = ds["expulsions"].values, ds["russian_expulsions"].values
    # An opening round: one side expels in a month the other had not expelled in (a reply comes the same month).
    opened = (uk > 0) | (ru > 0)
    sizes = np.maximum(uk, ru)[opened]
    answered = ((uk > 0) & (ru > 0))[opened]
    crisis_starts = ds["crisis"].values
    crises_per_year = crisis_starts.sum() / crisis_starts.shape[0] / years
    in_crisis = ds["in_crisis"].values.mean()
    suspended = ~ds["dialogue_active"].values.astype(bool)
    starts = (suspended[:, 1:] & ~suspended[:, :-1]).sum() + suspended[:, 0].sum()
    sanctions5 = float(ds["sanctions"].values.astype(bool)[:, :60].any(axis=1).mean())
    jeff = b.sanctions.jeffreys_per_year
    rows = [
        ("expulsion rounds a year (either side opening)", f"{opened.sum() / opened.shape[0] / years:.3f}",
         f"{b.expulsion_rounds.per_year:.3f} (Jeffreys {b.expulsion_rounds.jeffreys_per_year:.3f})"),
        ("diplomats in a round (the opening side)",
         f"median {np.median(sizes):g}, P10-P90 {np.quantile(sizes, 0.1):g}-{np.quantile(sizes, 0.9):g}, "
         f"max {sizes.max():g}" if sizes.size else "none",
         f"{_list(b.expulsion_sizes_long)} (1971-2012)"),
        ("rounds answered in kind within the month", f"{answered.mean():.2f}" if answered.size else "none",
         f"{b.reciprocity_answered} of {b.reciprocity_known} answered (Laplace 0.90), median lag "
         f"{np.median(b.reply_lag_days):g} days"),
        ("major incidents on UK soil a year", f"{ds['major_incidents'].values.sum() / uk.shape[0] / years:.3f}",
         f"{b.major_incidents.per_year:.3f} (Jeffreys {b.major_incidents.jeffreys_per_year:.3f})"),
        ("crises of relations a year", f"{crises_per_year:.3f}",
         f"{b.crises.per_year:.3f} (Jeffreys {b.crises.jeffreys_per_year:.3f})"),
        ("share of months in a crisis", f"{in_crisis:.2f}",
         "about 0.25 in 1992-2012 (the Litvinenko freeze, 2006-11, and two short crises)"),
        ("dialogue suspensions started a year", f"{starts / suspended.shape[0] / years:.3f}",
         f"formats suspended by the UK or EU: {b.format_suspensions.per_year:.3f} "
         f"(Jeffreys {b.format_suspensions.jeffreys_per_year:.3f})"),
        ("P(sanctions within 5 years)", f"{sanctions5:.3f}",
         f"none in 21 years: Jeffreys 1 - exp(-{jeff:.3f} x 5) = {1 - np.exp(-jeff * 5):.2f}; rule-of-three "
         f"upper bound {1 - np.exp(-3 / 21 * 5):.2f}"),
    ]
    return rows
