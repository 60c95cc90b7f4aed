"""Dashboard state without Streamlit: presets, overrides, URL encoding, uploads,
headline figures and paired (common-random-numbers) comparisons.

Everything here is a plain function of plain values so it can be tested without a
browser. The model does the modelling; this module only reads its registry, its
scenario loader and its analysis helpers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from model.analysis import (
    Shift,
    event_flags,
    median_shift,
    paired_runs,
    phia,
    prob_with_se,
    probability_shift,
)
from model.errors import DialogueError
from model.params import ParamSpec, registry
from model.scenario import Scenario, load_scenario, load_scenario_text, shipped

# Run settings the sidebar offers, and their bounds (the model allows more, but
# the dashboard should stay interactive).
RUNS_RANGE = (100, 20_000)
HORIZON_RANGE = (6, 240)
SEED_RANGE = (0, 2**31 - 1)
RUN_KEYS = ("runs", "seed", "horizon")

UPLOAD_PREFIX = "uploaded: "
MAX_UPLOAD_BYTES = 200_000


# ---------------------------------------------------------------- parameters


def param_key(name: str) -> str:
    """Session-state key of a parameter's widget."""
    return f"p_{name}"


def decimals(step: float) -> int:
    """Decimal places needed to show a value on a grid of ``step``."""
    return max(0, -int(math.floor(math.log10(step) + 1e-9))) if step < 1 else 0


def widget_format(spec: ParamSpec) -> str:
    return f"%.{decimals(spec.widget_step)}f"


def widget_help(spec: ParamSpec) -> str:
    """Tooltip text: the parameter's help and its units, from the registry."""
    return f"{spec.help} Units: {spec.units}. Range {spec.low:g} to {spec.high:g}."


def clean(value: float) -> float:
    """Remove float noise a slider adds (0.020000000000000004 -> 0.02)."""
    return float(f"{float(value):.10g}")


def differs(spec: ParamSpec, value: float, preset: float) -> bool:
    """Has the user moved ``value`` away from the preset? (a thousandth of a step
    absorbs slider float noise)."""
    return abs(float(value) - float(preset)) > spec.widget_step * 1e-3


def overrides_from_values(preset: Scenario, values: Mapping[str, float]) -> dict[str, float]:
    """Only the parameters whose value differs from the preset, cleaned."""
    specs = registry()
    return {n: clean(v) for n, v in values.items()
            if n in specs and differs(specs[n], v, preset.value(n))}


# ---------------------------------------------------------------- presets


def preset_names() -> list[str]:
    return list(shipped())


def load_preset(option: str, uploads: Mapping[str, str]) -> Scenario:
    """A shipped scenario by name, or an uploaded one (``'uploaded: name'``)."""
    if option.startswith(UPLOAD_PREFIX):
        name = option[len(UPLOAD_PREFIX):]
        if name not in uploads:
            raise DialogueError(f"uploaded scenario '{name}' is no longer available; upload it again")
        return load_scenario_text(uploads[name], name)
    return load_scenario(option)


def build_current(preset: Scenario, overrides: Mapping[str, float], runs: int, seed: int,
                  horizon: int) -> Scenario:
    """The scenario on screen: preset + moved parameters + run settings.

    When nothing was moved the name stays the preset's, so the current view and the
    preset share one cached simulation.
    """
    sc = preset.with_overrides(dict(overrides) | {"run.runs": int(runs), "run.seed": int(seed),
                                                  "run.horizon": int(horizon)})
    if overrides:
        moved = ", ".join(f"{n} = {v:g}" for n, v in overrides.items())
        sc = sc.model_copy(update={
            "name": f"{preset.name}_modified",
            "description": f"{preset.description} Changed in the dashboard: {moved}.".strip()})
    return sc


def with_run_settings(sc: Scenario, runs: int, seed: int, horizon: int) -> Scenario:
    return sc.with_overrides({"run.runs": int(runs), "run.seed": int(seed), "run.horizon": int(horizon)})


# ---------------------------------------------------------------- uploads


def parse_upload(name: str, data: bytes) -> tuple[Scenario, str]:
    """Validate an uploaded scenario file. Returns the scenario and its resolved TOML
    (which no longer depends on ``extends``); raises DialogueError with one line."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DialogueError(f"{name}: file is {len(data):,} bytes; a scenario file is a few kB of TOML")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DialogueError(f"{name}: not a text file (scenario files are UTF-8 TOML)") from None
    check_upload_extends(name, text)
    sc = load_scenario_text(text, name)
    return sc, sc.to_toml()


def check_upload_extends(name: str, text: str) -> None:
    """An upload may extend only a shipped scenario, by name: a path would read files
    on the server, and its error would tell the uploader whether they exist. The
    message is the same whatever the path points at. (The model's loader refuses path
    ``extends`` in uploads too; this check keeps the dashboard safe on its own.)"""
    import tomllib

    try:
        doc = tomllib.loads(text.removeprefix("\ufeff"))
    except RecursionError:
        raise DialogueError(f"{name}: the TOML is nested too deeply; a scenario file needs only a few "
                            "levels of tables") from None
    except tomllib.TOMLDecodeError:
        return  # the model's loader reports the syntax error with its position in the upload
    ref = doc.get("extends")
    if ref is None or (isinstance(ref, str) and ref in shipped()):
        return
    shown = ref if isinstance(ref, str) and len(ref) <= 80 else f"{str(ref)[:77]}..."
    raise DialogueError(f"{name}: extends = '{shown}' is not allowed: an uploaded scenario may extend only a "
                        f"shipped scenario, by name (shipped: {', '.join(shipped())})")


# ---------------------------------------------------------------- URL


@dataclass
class UrlState:
    """What a link carries, decoded and checked."""

    scenario: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    run: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def encode_url(scenario: str, overrides: Mapping[str, float], runs: int, seed: int,
               horizon: int) -> dict[str, str]:
    """Query parameters for a view: scenario, moved parameters, run settings."""
    q = {"scenario": scenario}
    q |= {n: f"{v:.10g}" for n, v in overrides.items()}
    q |= {"runs": str(int(runs)), "seed": str(int(seed)), "horizon": str(int(horizon))}
    return q


def decode_url(query: Mapping[str, str]) -> UrlState:
    """Read query parameters; anything unknown or out of range becomes a problem
    message and is ignored."""
    specs = registry()
    out = UrlState()
    bounds = {"runs": RUNS_RANGE, "seed": SEED_RANGE, "horizon": HORIZON_RANGE}
    for key, raw in query.items():
        raw = raw[-1] if isinstance(raw, list | tuple) else raw
        if key == "scenario":
            if raw in shipped():
                out.scenario = raw
            else:
                out.problems.append(f"link names scenario '{raw}', which is not a shipped scenario "
                                    f"(shipped: {', '.join(shipped())}); showing the baseline")
            continue
        if key in RUN_KEYS:
            lo, hi = bounds[key]
            try:
                v = int(raw)
            except ValueError:
                out.problems.append(f"link: {key} = {raw!r} is not a whole number; ignored")
                continue
            if not lo <= v <= hi:
                out.problems.append(f"link: {key} = {v} is out of range ({lo} to {hi}); ignored")
                continue
            out.run[key] = v
            continue
        if key not in specs:
            out.problems.append(f"link: unknown parameter '{key}'; ignored")
            continue
        spec = specs[key]
        try:
            v = float(raw)
        except ValueError:
            out.problems.append(f"link: {key} = {raw!r} is not a number; ignored")
            continue
        if not (spec.low <= v <= spec.high) or math.isnan(v):
            out.problems.append(f"link: {key} = {raw} is out of range; it must be between "
                                f"{spec.low:g} and {spec.high:g} ({spec.units}); ignored")
            continue
        out.values[key] = v
    return out


# ---------------------------------------------------------------- headline figures

HEADLINE_PROBS = (
    # key, label, how to read it from a dataset (per-run indicator at the horizon)
    ("rupture", "P(rupture)"),
    ("dialogue suspended", "P(dialogue suspended)"),
    ("diplomats expelled", "P(diplomatic expulsions)"),
)
HEADLINE_LEVELS = (
    ("relations", "Median relations at horizon"),
    ("exports", "Exports at horizon"),
)
# Labels of the headline cards: short enough to show whole in a card a fifth of the page
# wide from 1280 px screens up (Streamlit cuts a metric label with an ellipsis rather than
# wrapping it); each card's help and the comparison table give the long names.
CARD_LABELS = {"rupture": "P(rupture)", "dialogue suspended": "P(suspension)",
               "diplomats expelled": "P(expulsions)", "relations": "Relations", "exports": "Exports"}


def indicators(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Per-run 0/1 indicators of the headline events at the horizon."""
    flags = event_flags(ds)
    return {
        "rupture": (ds["outcome"].values == "rupture"),
        "dialogue suspended": np.asarray(flags["dialogue suspended"].isel(time=-1).values, dtype=bool),
        "diplomats expelled": np.asarray(flags["diplomats expelled"].isel(time=-1).values, dtype=bool),
    }


def levels(ds: xr.Dataset) -> dict[str, np.ndarray]:
    end = ds.isel(time=-1)
    return {"relations": end["relations"].values.astype(np.float64),
            "exports": end["exports_gbp_m"].values.astype(np.float64)}


@dataclass(frozen=True)
class Headline:
    """The five headline figures of one dataset."""

    probs: dict[str, tuple[float, float]]     # key -> (p, se)
    medians: dict[str, float]                 # relations, exports
    horizon: str                              # YYYY-MM of the last month
    runs: int

    def words(self, key: str) -> str:
        return phia(self.probs[key][0])


def month_name(yyyy_mm: str) -> tuple[str, str]:
    """("Feb", "2018") for "2018-02"."""
    import calendar

    year, month = yyyy_mm.split("-")
    return calendar.month_abbr[int(month)], year


def headline(ds: xr.Dataset) -> Headline:
    import pandas as pd

    ind = indicators(ds)
    lv = levels(ds)
    return Headline(
        probs={k: prob_with_se(v) for k, v in ind.items()},
        medians={k: float(np.median(v)) for k, v in lv.items()},
        horizon=pd.Timestamp(ds["time"].values[-1]).strftime("%Y-%m"),
        runs=int(ds.sizes["run"]),
    )


def shifts(current: xr.Dataset, preset: xr.Dataset, boot: int = 400, seed: int = 0) -> list[Shift]:
    """Shift in each headline figure with a 95% interval (statistics in
    ``model.analysis``: paired differences for probabilities, a paired bootstrap
    for medians)."""
    paired = paired_runs(current, preset)
    ia, ib = indicators(current), indicators(preset)
    out = [probability_shift(key, ia[key], ib[key], paired) for key, _ in HEADLINE_PROBS]
    la, lb = levels(current), levels(preset)
    out += [median_shift(key, la[key], lb[key], paired, boot, seed) for key, _ in HEADLINE_LEVELS]
    return out


def headline_help() -> dict[str, str]:
    return {
        "rupture": "Share of futures ending in rupture at the horizon: sanctions in force, or relations "
                   "at or below -6 (Goldstein).",
        "dialogue suspended": "Share of futures in which the UK suspends the Strategic Dialogue at least once "
                              "by the horizon.",
        "diplomats expelled": "Share of futures with at least one round of diplomatic expulsions by the horizon.",
        "relations": "Median relations index in the last month (Goldstein points, -10 conflict to +10 "
                     "alliance; -2 to +2 is 'cool').",
        "exports": "Median UK goods exports to Russia in the last month (GBP million per month).",
    }

