"""What the brief says: every number and sentence computed from results Datasets.

Nothing here draws. :func:`build_content` turns one or more results Datasets into a
:class:`BriefContent` that the PDF and HTML renderers lay out.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from model.agents.relations import DRIVER_LABELS
from model.analysis import (
    PLUS_MINUS_NOTE,
    event_flags,
    fmt_prob,
    interval95,
    phia,
    phia_caveat,
    prob_with_se,
    reversion_note,
    scenario_label,
)
from model.charts import fmt_pts, lower_first, minus
from model.params import HEADLINE, registry
from model.reliability import reliability

# The headline probability the sensitivity analysis ("what would change this
# judgment") is computed for: relations confrontational or worse at the horizon.
HEADLINE_OUTCOMES = ("rupture", "confrontation")
HEADLINE_OUTPUT = "confrontation_or_worse"  # the same, as named in model.sensitivity.OUTPUTS
# The tornado sets every uncertain parameter to these percentiles of its own distribution.
TORNADO_PCT = (0.10, 0.90)
MIN_SENSITIVITY_RUNS = 50  # model.sensitivity.tornado's minimum
TORNADO_TOP = 8  # bars on the page (the pack's tornado chart shows 12; brief.json holds all)

PHIA_RULE = ("Probabilities use the PHIA yardstick: remote chance \u22645%, highly unlikely 10\u201320%, "
             "unlikely 25\u201335%, realistic possibility 40\u201350%, likely 55\u201375%, highly likely "
             "80\u201390%, almost certain \u226595%. As its guidance asks, a value in a gap between terms reads "
             "'between' them (53%: between realistic possibility and likely), never as a term whose range "
             "excludes it; where the 95% Monte Carlo interval spans an edge of the yardstick, the judgment says so (in "
             "charts, a \u2020 after the word).")

EVENT_CLAUSES = {
    "dialogue suspended": "the Strategic Dialogue is suspended at least once",
    "diplomats expelled": "diplomats are expelled",
    "sanctions": "sanctions are imposed",
    "major incident on UK soil": "a major incident (Litvinenko scale) occurs on UK soil",
    "regime crisis in Russia": "a regime crisis (mass mobilisation) breaks out in Russia",
}


def lead_in(p: float) -> str:
    """'It is likely', 'There is a remote chance', ... for a sentence about ``p``."""
    term = phia(p)
    if term == "remote chance":
        return "There is a remote chance"
    if term == "realistic possibility":
        return "It is a realistic possibility"
    return f"It is {term}"


def pct(p: float) -> str:
    """A probability for the page (see :func:`model.analysis.fmt_prob`)."""
    return fmt_prob(p)


def pts(x: float, digits: int = 1) -> str:
    return fmt_pts(x, digits)


def label_units(label: str, units: str) -> str:
    """'Growth of discontent (per month, logistic rate)': units in one pair of
    brackets, even when they carry their own ("per month (logistic rate)")."""
    u = units.replace(" (", ", ").replace("(", "").replace(")", "")
    return f"{label} ({u})" if u else label


def printed_points(p_low: float, p_high: float) -> str:
    """The change between two printed probabilities, computed from the figures as
    printed (so '15% \u2192 68%' reads '+53 pts', never '+52 pts')."""
    a, b = (float(pct(v).rstrip("%")) for v in (p_low, p_high))
    digits = 1 if "." in pct(p_low) + pct(p_high) else 0
    d = round(b - a, digits)
    return minus(f"{d:+.{digits}f}") if d else f"{0:.{digits}f}"


def _judge(key: str, p: float, se: float, text: str) -> Judgment:
    """A judgment, with a note when its Monte Carlo interval spans two readings."""
    caveat = phia_caveat(p, se)
    if caveat:
        text = f"{text[:-1]}; {caveat}." if text.endswith(".") else f"{text}; {caveat}."
    return Judgment(key, p, se, text)


@dataclass
class Judgment:
    key: str
    p: float
    se: float
    text: str

    @property
    def term(self) -> str:
        return phia(self.p)


@dataclass
class Swing:
    param: str
    label: str
    units: str
    low: float  # the parameter's value at its P10
    high: float  # ... and at its P90
    p_low: float
    p_high: float
    base: float = float("nan")  # the probability with every parameter drawn as usual

    @property
    def swing(self) -> float:
        return self.p_high - self.p_low


@dataclass
class ScenarioBrief:
    name: str
    ds: xr.Dataset
    judgments: list[Judgment]
    headline: Judgment


@dataclass
class BriefContent:
    title: str
    subtitle: str
    description: str
    scenarios: list[ScenarioBrief]
    swings: list[Swing]
    sensitivity_runs: int
    change_text: str
    tornado: pd.DataFrame
    sobol: object  # model.sensitivity.SensitivityResult
    sobol_text: str
    assumptions: list[tuple[str, str, str, str]]
    notes: list[str]
    provenance: str
    extra: dict = field(default_factory=dict)

    @property
    def main(self) -> ScenarioBrief:
        return self.scenarios[0]


def month(ts) -> str:
    return pd.Timestamp(ts).strftime("%b %Y")


def horizon(ds: xr.Dataset) -> str:
    return month(ds["time"].values[-1])


def start(ds: xr.Dataset) -> str:
    return month(pd.Timestamp(ds.attrs.get("start") or ds["time"].values[0]))


def headline_probability(ds: xr.Dataset) -> tuple[float, float]:
    """P(relations confrontational or worse at the horizon) and its standard error."""
    return prob_with_se(np.isin(ds["outcome"].values.astype(str), HEADLINE_OUTCOMES))


def judgments(ds: xr.Dataset) -> list[Judgment]:
    """Five key judgments, each a probability with its PHIA term, computed from ``ds``."""
    from model.calibration import trade_history

    h = horizon(ds)
    init = float(ds.attrs.get("initial_relations", np.nan))
    end = ds["relations"].isel(time=-1).values.astype(float)
    out: list[Judgment] = []

    p, se = headline_probability(ds)
    out.append(_judge("confrontation_or_worse", p, se,
                      f"{lead_in(p)} ({pct(p)}) that relations are confrontational or worse in {h} "
                      f"(index at or below \u22122, or sanctions in force)."))
    p, se = prob_with_se(end < init)
    out.append(_judge("worse_than_start", p, se,
                      f"{lead_in(p)} ({pct(p)}) that relations are worse in {h} than in {start(ds)} "
                      f"(median {pts(float(np.median(end)))} against {pts(init)} at the start)."))
    p, se = prob_with_se(ds["outcome"].values.astype(str) == "rupture")
    out.append(_judge("rupture", p, se,
                      f"{lead_in(p)} ({pct(p)}) that relations are in rupture in {h}: sanctions in force or "
                      f"the index at or below \u22126."))
    flags = {k: v.isel(time=-1).values for k, v in event_flags(ds).items()}
    top = max(flags, key=lambda k: (flags[k].mean(), k))
    p, se = prob_with_se(flags[top])
    out.append(_judge(f"event:{top}", p, se,
                      f"{lead_in(p)} ({pct(p)}) that {EVENT_CLAUSES.get(top, top)} by {h}; this is the "
                      f"likeliest of the key events tracked."))
    years, hist = trade_history()
    annual = ds["exports_gbp_m"].isel(time=-1).values.astype(float) * 12
    p, se = prob_with_se(annual > hist[-1])
    out.append(_judge("exports_above_2012", p, se,
                      f"{lead_in(p)} ({pct(p)}) that UK goods exports to Russia are running above their "
                      f"{years[-1]} level (\u00a3{hist[-1] / 1000:.1f}bn a year) in {h}."))
    return out


def scenario_of(ds: xr.Dataset):
    from model.scenario import load_scenario_text

    return load_scenario_text(ds.attrs["scenario_toml"], f"{ds.attrs.get('scenario', 'results')}.toml")


def _rerun_settings(ds: xr.Dataset) -> dict:
    """Seed and horizon of the results, so re-simulations share their random streams."""
    sc = scenario_of(ds)
    return {"seed": int(ds.attrs.get("seed", sc.run.seed)), "horizon": int(ds.sizes["time"])}


def tornado_frame(ds: xr.Dataset, runs: int) -> pd.DataFrame:
    """The tornado for the headline judgment (:func:`model.sensitivity.tornado`): every
    uncertain parameter in turn at the same percentiles (P10, P90) of its own
    distribution, the others drawn as usual, on the results' first ``runs`` random
    streams (common random numbers). Largest swing first."""
    from model.sensitivity import tornado

    return tornado(scenario_of(ds), output=HEADLINE_OUTPUT, runs=runs, low=TORNADO_PCT[0], high=TORNADO_PCT[1],
                   **_rerun_settings(ds))


def swings(t: pd.DataFrame) -> list[Swing]:
    """The tornado's rows as :class:`Swing` objects, in its order (largest swing first)."""
    specs = registry()
    return [Swing(r.param, r.label, specs[r.param].units, r.low_value, r.high_value, r.out_low, r.out_high, r.base)
            for r in t.itertuples()]


def sobol_result(ds: xr.Dataset, n: int):
    """Sobol' indices of the headline judgment at the horizon over every uncertain
    parameter (SALib, N*(D+2) runs; :func:`model.sensitivity.sensitivity`)."""
    from model.sensitivity import run_sensitivity

    return run_sensitivity(scenario_of(ds), method="sobol", params="uncertain", n=n, outputs=[HEADLINE_OUTPUT],
                           by_year=False, **_rerun_settings(ds))


def sobol_text(res) -> str:
    """The Sobol' sentence for the brief, with a caution when the indices cannot be trusted."""
    sentence = res.sentence(HEADLINE_OUTPUT)  # a state at the horizon: it already reads "in <month>"
    text = f"Varying all {len(res.factors)} together (Sobol' indices, {res.runs:,} runs), {lower_first(sentence)}"
    warn = res.trust(HEADLINE_OUTPUT)
    if warn and res.rare(HEADLINE_OUTPUT) is None:
        text += f" Caution: {warn.replace('--n', '--sobol-n')}."
    return text


def fmt_value(x: float) -> str:
    return f"{x:.3g}"  # 0.468, 4.45, 0.0008


def change_text(sw: list[Swing], ds: xr.Dataset, runs: int, sobol: str = "") -> str:
    """What would change the headline judgment: the tornado's largest swing in words,
    the next two, and the Sobol' sentence."""
    top = sw[0]
    h = horizon(ds)
    lo, hi = (f"P{round(100 * q)}" for q in TORNADO_PCT)
    how = f"chart: each of the {len(sw)} uncertain assumptions in turn at its {lo} and {hi}"
    if abs(top.swing) < 0.005:
        return minus(f"No assumption moves the probability of confrontation or worse in {h} by as much as one point "
                     f"({how}). {sobol}").strip()
    direction = "higher" if top.swing > 0 else "lower"
    rest = "; ".join(f"{lower_first(s.label)} {printed_points(s.p_low, s.p_high)} points" for s in sw[1:3])
    return minus(f"The judgment turns most on {lower_first(label_units(top.label, top.units))}. At its {lo} "
                 f"({fmt_value(top.low)}) the probability of confrontation or worse in {h} is {pct(top.p_low)} "
                 f"({phia(top.p_low)}); at its {hi} ({fmt_value(top.high)}) it is {pct(top.p_high)} "
                 f"({phia(top.p_high)}), {printed_points(top.p_low, top.p_high).lstrip('+').lstrip(chr(0x2212))} "
                 f"points {direction}. Next: {rest} ({how}). {sobol}").strip()


def assumptions(ds: xr.Dataset) -> list[tuple[str, str, str, str]]:
    """(parameter, value, uncertainty, why listed) for the headline drivers and every
    parameter that differs from its default."""
    sc = scenario_of(ds)
    specs = registry()
    rows = []
    for name, spec in specs.items():
        st = sc.params[name]
        differs = (st.value != spec.default) or (st.dist != spec.dist) or (st.spread != spec.spread)
        if name not in HEADLINE and not differs:
            continue
        why = "headline driver" if name in HEADLINE else ""
        if differs:
            why = (why + "; " if why else "") + f"default {spec.default:g}"
        rows.append((label_units(spec.label, spec.units), f"{st.value:g}",
                     spec.describe_dist(st.value, st.dist, st.spread), why))
    return rows


def build_date() -> str | None:
    """The build date from SOURCE_DATE_EPOCH (reproducible builds), or None."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        return pd.Timestamp(int(raw), unit="s", tz="UTC").strftime("%Y-%m-%d")
    except (ValueError, OverflowError):
        return None


def provenance(datasets: list[xr.Dataset]) -> str:
    parts = []
    for ds in datasets:
        a = ds.attrs
        parts.append(f"'{scenario_label(ds)}': seed {a.get('seed', '?')}, {ds.sizes['run']:,} runs, "
                     f"{start(ds)} to {horizon(ds)}")
    a = datasets[0].attrs
    text = (f"Provenance: {'; '.join(parts)}. Model uk-russia-dialogue v{a.get('version', '?')}, git commit "
            f"{str(a.get('git_commit', 'unknown'))[:12]}.")
    date = build_date()
    if date:
        text += f" Built {date} (SOURCE_DATE_EPOCH)."
    return text


def build_content(datasets: list[xr.Dataset], names: list[str], sensitivity_runs: int,
                  sobol_n: int = 1024) -> BriefContent:
    main = datasets[0]
    try:
        desc = tomllib.loads(main.attrs.get("scenario_toml", "")).get("description", "")
    except tomllib.TOMLDecodeError:
        desc = ""
    scen = []
    for ds, name in zip(datasets, names, strict=True):
        js = judgments(ds)
        scen.append(ScenarioBrief(name, ds, js, js[0]))
    # Never more re-simulated runs than the results hold, but at least the tornado's minimum.
    runs = max(MIN_SENSITIVITY_RUNS, min(sensitivity_runs, main.sizes["run"]))
    tor = tornado_frame(main, runs)
    sw = swings(tor)
    sob = sobol_result(main, sobol_n)
    sob_text = sobol_text(sob)
    lo, hi = (f"P{round(100 * q)}" for q in TORNADO_PCT)
    title = f"UK\u2013Russia relations to {horizon(main)}: scenario '{names[0]}'"
    others = f", compared with {', '.join(repr(n) for n in names[1:])}" if len(names) > 1 else ""
    subtitle = (f"Outlook from {start(main)} over {main.sizes['time']} months{others}. "
                f"{main.sizes['run']:,} simulated futures (seed {main.attrs.get('seed', '?')}).")
    # How far to trust it (model.reliability): the analytic-confidence statement beside the
    # yardstick, then the backtest's track record in one line. The scenario is named as in the
    # title (the file-safe name, so no markup from a scenario file reaches the page).
    rel = dataclasses.replace(reliability(scenario_of(main)), scenario=names[0])
    notes = [
        PHIA_RULE,
        rel.statement,
        rel.track_record_line,
        f"Each probability is the share of simulated runs. {PLUS_MINUS_NOTE} 'In' a month: the state that "
        "month; 'by' a month: happened at least once by then. Outcome classes (Goldstein scale, \u221210 to +10): "
        "rupture = sanctions in force or index \u2264 \u22126; confrontation = \u22126 to \u22122 (the "
        "confrontational band); cool = \u22122 to +2 (the cool band); thaw = above +2 (constructive or better). "
        "Unlike the bands, rupture also counts sanctions in force at any index.",
        "Waterfall: means, which add up exactly; the mean ends below the median because a tail of runs ruptures. "
        f"'{DRIVER_LABELS['reversion']}': {reversion_note(float(main['contrib_reversion'].sum('time').mean()))}.",
        f"Sensitivity: the tornado sets one uncertain assumption at a time to its {lo} and {hi} (10th and 90th "
        f"percentiles of its own distribution, so the ranges are comparable), the others drawn as usual, on the "
        f"results' own random streams; the {len(registry()) - len(sw)} parameters fixed in the scenario are not "
        f"varied. Sobol' (SALib): the share is of the summed total-effect indices, which overlap (each counts its "
        f"interactions); 'on their own' sums the first-order indices; intervals in brief.json.",
        "Source: model simulation of the scenario's assumptions; trade history from ONS UK goods exports to "
        "Russia 2002\u20132012. An exploratory model, not an intelligence assessment.",
    ]
    return BriefContent(
        title=title, subtitle=subtitle, description=desc, scenarios=scen, swings=sw,
        sensitivity_runs=runs, change_text=change_text(sw, main, runs, sob_text), tornado=tor, sobol=sob,
        sobol_text=sob_text, assumptions=assumptions(main), notes=notes, provenance=provenance(datasets),
        extra={"reliability": rel})


# ---------------------------------------------------------------- the JSON sidecar

def results_fingerprint(ds: xr.Dataset) -> str:
    """A fingerprint of the results themselves (not of the code or the commit): it
    changes only when the numbers a brief is built from change. Values are rounded
    (relations to 1e-6 points, exports to 1e-3 GBP m) so that last-bit differences
    between machines do not count."""
    import hashlib

    h = hashlib.sha256()
    h.update(f"{ds.sizes['run']}x{ds.sizes['time']}|{ds.attrs.get('seed')}|{ds.attrs.get('start')}".encode())
    h.update(np.round(ds["relations"].values.astype(np.float64), 6).tobytes())
    h.update(np.round(ds["exports_gbp_m"].values.astype(np.float64), 3).tobytes())
    for var in ("dialogue_active", "sanctions", "expulsions", "russian_expulsions", "major_incidents",
                "regime_crisis"):
        h.update(np.asarray(ds[var].values > 0, dtype=np.uint8).tobytes())
    h.update("|".join(ds["outcome"].values.astype(str)).encode())
    return h.hexdigest()[:16]


def sobol_record(res, text: str) -> dict:
    """The Sobol' analysis behind the brief's sentence, as data."""
    t = res.at_horizon(HEADLINE_OUTPUT)
    return {"output": HEADLINE_OUTPUT, "n": res.n, "runs": res.runs, "parameters": len(res.factors),
            "mean": res.means[HEADLINE_OUTPUT], "sentence": res.sentence(HEADLINE_OUTPUT),
            "trust": res.trust(HEADLINE_OUTPUT), "text": text,
            "indices": [{"param": r.param, "label": r.label, "S1": r.S1, "S1_conf": r.S1_conf, "ST": r.ST,
                         "ST_conf": r.ST_conf} for r in t.itertuples()]}


def sidecar(content: BriefContent, settings: dict, images: list[tuple[str, str, bytes]] = ()) -> dict:
    """Everything the brief states, as data: settings to rebuild it, the model
    version, a fingerprint of its results, every judgment and swing, and the chart
    titles. Tests (and readers) can check the pack against a fresh run with it."""
    main = content.main
    return {
        "generator": "uk-russia-dialogue brief",
        "settings": settings,
        "model_version": str(main.ds.attrs.get("version", "?")),
        "results_fingerprint": {sb.name: results_fingerprint(sb.ds) for sb in content.scenarios},
        "scenario": scenario_label(main.ds),
        "runs": int(main.ds.sizes["run"]),
        "seed": main.ds.attrs.get("seed"),
        "judgments": [{"key": j.key, "p": j.p, "se": j.se, "ci95": list(interval95(j.p, j.se)), "phia": j.term,
                       "text": j.text} for j in main.judgments],
        "headlines": {sb.name: {"p": sb.headline.p, "se": sb.headline.se} for sb in content.scenarios},
        "tornado": {
            "output": HEADLINE_OUTPUT, "low_pct": TORNADO_PCT[0], "high_pct": TORNADO_PCT[1],
            "runs": content.sensitivity_runs, "base": content.swings[0].base if content.swings else None,
            "shown_on_page": content.extra.get("tornado_shown", min(TORNADO_TOP, len(content.swings))),
            "note": "every uncertain parameter, largest swing first; low/high are its values at low_pct/high_pct "
                    "of its own distribution, p_low/p_high P(confrontation or worse) there",
        },
        "swings": [{"param": s.param, "label": s.label, "low": s.low, "high": s.high, "p_low": s.p_low,
                    "p_high": s.p_high} for s in content.swings],
        "sobol": sobol_record(content.sobol, content.sobol_text),
        "change_text": content.change_text,
        "chart_titles": {caption: title for title, caption, _png in images},
        **({"reliability": reliability_record(content.extra["reliability"], main.judgments)}
           if "reliability" in content.extra else {}),
        **({"observed": content.extra["observed"]} if "observed" in content.extra else {}),
    }


def reliability_record(rel, judged: list[Judgment]) -> dict:
    """The track record and analytic-confidence ratings behind the brief's two notes, as data."""
    r = rel.record
    return {"statement": rel.statement, "track_record": rel.track_record_line,
            "confidence": {name: {"level": c.level, "reasons": list(c.reasons)}
                           for name, c in (("overall", rel.overall), ("exports", rel.exports), ("events", rel.events))},
            "judgment_confidence": {j.key: rel.for_judgment(j.key).level for j in judged},
            "backtest": {"origins": list(r.origins), "runs": r.runs, "seed": r.seed, "pairs": r.pairs,
                         "coverage": {f"{round(100 * lv)}": c for lv, c in r.coverage},
                         "skill_pairs": r.skill_pairs, "skill_persistence": r.skill_persistence,
                         "skill_trend": r.skill_trend},
            "events": {"period": list(r.period), "episodes": dict(r.episodes), "pairs": r.event_pairs,
                       "outcomes": r.event_outcomes, "brier_skill": r.brier_skill},
            "conditional": rel.conditional}


def sidecar_json(content: BriefContent, settings: dict, images=()) -> str:
    import json

    def plain(o):  # numpy scalars (a seed read back from NetCDF is an int64)
        return o.item() if hasattr(o, "item") else str(o)

    return json.dumps(sidecar(content, settings, images), indent=2, sort_keys=True, ensure_ascii=False,
                      default=plain) + "\n"
