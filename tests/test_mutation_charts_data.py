"""The chart data layer (``model.charts.*_data``) and the screen charts' data, titles,
tooltips and encodings (``model.charts_screen``), checked against numbers computed here
from small real ensembles (issue 14, mutation testing).

Every title is rebuilt in the test from the dataset's arrays (numpy quantiles, means and
shares, not the model's helpers); every frame is compared cell by cell. Fast: a few
ensembles of 25 to 40 runs over 10 to 14 months, no drawing.
"""

from __future__ import annotations

import json
import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

pytest.importorskip("altair")
import altair as alt  # noqa: E402

from model import charts as C  # noqa: E402
from model import charts_screen as S  # noqa: E402
from model import load_scenario, simulate  # noqa: E402
from model.agents.relations import BANDS, DRIVER_LABELS, DRIVERS  # noqa: E402
from model.analysis import OUTCOME_BANDS_NOTE, Z95, fmt_prob, phia, phia_crossing, reversion_note, waterfall_rows  # noqa: E402
from model.calibration import trade_history  # noqa: E402
from model.errors import DialogueError  # noqa: E402
from model.results import OUTCOMES  # noqa: E402
from model.scenario import shipped  # noqa: E402

M = "\u2212"
QS = (0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975)
EDGES = (-10.0, -6.0, -2.0, 2.0, 6.0, 10.0)
DAG = "\u2020"


# ---------------------------------------------------------------- independent helpers

def pts(x: float, d: int = 1) -> str:
    """Signed points as the charts print them, written out here."""
    if round(x, d) == 0:
        return f"{0:.{d}f}"
    return f"{x:+.{d}f}".replace("-", M)


def mon(t) -> str:
    return pd.Timestamp(t).strftime("%b %Y")


def band(x: float) -> str:
    for name, _lo, hi in BANDS:
        if x <= hi:
            return name
    return BANDS[-1][0]


def snap(values) -> tuple[float, float]:
    """The band edges just outside ``values`` with 0.3 of room."""
    lo, hi = min(values), max(values)
    below = [e for e in EDGES if e <= lo - 0.3]
    above = [e for e in EDGES if e >= hi + 0.3]
    return (max(below) if below else -10.0), (min(above) if above else 10.0)


def dagger(p: float, se: float) -> str:
    return DAG if phia_crossing(p, se) is not None else ""


def quantiles(ds: xr.Dataset, var: str, scale: float = 1.0) -> np.ndarray:
    """(months, 7) quantiles over runs."""
    return np.quantile(ds[var].values.astype(float), QS, axis=0).T * scale


def expected_fan(ds: xr.Dataset, var: str, init: float | None, scale: float = 1.0):
    """(dates, values): the start value first when known, then each month at the start of
    the next month (the state at the end of its month)."""
    times = pd.DatetimeIndex(ds["time"].values)
    ends = pd.DatetimeIndex([t + pd.DateOffset(months=1) for t in times])
    vals = quantiles(ds, var, scale)
    if init is None:
        return ends, vals
    start = pd.Timestamp(ds.attrs["start"] + "-01")
    return pd.DatetimeIndex([start]).append(ends), np.vstack([np.full(7, init * scale), vals])


def assert_frame(x, f: pd.DataFrame, dates, vals) -> None:
    assert list(f.columns) == list(QS)
    assert list(pd.DatetimeIndex(x)) == list(dates)
    assert list(f.index) == list(dates)
    np.testing.assert_allclose(f.to_numpy(), vals, rtol=0, atol=1e-12)


def note_of(ds: xr.Dataset, extra: str, trade: bool = False) -> str:
    src = "Source: model simulation" + ("; ONS UK goods exports to Russia 2002\u20132012" if trade else "")
    return (f"Scenario '{ds.attrs['scenario_label']}' \u00b7 {ds.sizes['run']:,} runs \u00b7 seed {ds.attrs['seed']} "
            f"\u00b7 model v{ds.attrs['version']} \u00b7 {src}. {extra}")


def share_se(mask) -> tuple[float, float]:
    m = np.asarray(mask, dtype=bool)
    p = float(m.mean())
    return p, float(np.sqrt(p * (1 - p) / m.size))


def events_by_hand(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Share of runs in which each key event has happened by each month."""
    def ever(flag):
        return np.logical_or.accumulate(np.asarray(flag, dtype=bool), axis=1).mean(axis=0)
    return {"dialogue suspended": ever(~ds["dialogue_active"].values.astype(bool)),
            "diplomats expelled": ever((ds["expulsions"].values > 0) | (ds["russian_expulsions"].values > 0)),
            "sanctions": ever(ds["sanctions"].values),
            "major incident on UK soil": ever(ds["major_incidents"].values > 0),
            "regime crisis in Russia": ever(ds["regime_crisis"].values)}


def totals_by_hand(ds: xr.Dataset) -> dict[str, float]:
    return {d: float(ds[f"contrib_{d}"].values.mean(axis=0).sum()) for d in DRIVERS}


# ---------------------------------------------------------------- ensembles

def _run(name: str, runs: int, horizon: int) -> xr.Dataset:
    return simulate(load_scenario(shipped()[name]), runs=runs, horizon=horizon)


@pytest.fixture(scope="module")
def base() -> xr.Dataset:
    return _run("baseline", 40, 14)


@pytest.fixture(scope="module")
def crack() -> xr.Dataset:
    return _run("crackdown", 30, 10)


@pytest.fixture(scope="module")
def major() -> xr.Dataset:
    return _run("major_incident", 40, 14)


@pytest.fixture(scope="module")
def thaw() -> xr.Dataset:
    return _run("trade_led_thaw", 25, 12)


# ---------------------------------------------------------------- fan_data

def test_fan_data_relations_frame_title_note_and_ranges(base):
    d = C.fan_data(base)
    v = d.values
    init = float(base.attrs["initial_relations"])
    dates, vals = expected_fan(base, "relations", init)
    assert_frame(v["x"], v["f"], dates, vals)
    assert v["var"] == "relations" and v["init"] == init and v["compare"] is None and v["xlim"] is None
    assert v["scenario"] == "baseline" and v["start"] == pd.Timestamp("2013-03-01")
    assert v["ylim"] == snap([vals.min(), vals.max(), init])
    end = base["relations"].values[:, -1].astype(float)
    med, p10, p90 = np.median(end), np.quantile(end, 0.1), np.quantile(end, 0.9)
    h = mon(base["time"].values[-1])
    assert band(med) == band(init) == "cool" and med > init + 0.5  # the 'warmer' branch
    assert d.kind == "fan"
    assert d.title == (f"Relations are most likely still cool in {h}, but warmer (median {pts(med)}, from {pts(init)}; "
                       f"80% of runs between {pts(p10)} and {pts(p90)})")
    assert d.note == note_of(base, "Shading: middle 50%, 80% and 95% of simulated runs; line: median; each value is "
                             "the state at the end of its month. Background: named bands of the relations scale (the "
                             "outcome classes use the same edges, but rupture also counts any run with sanctions in "
                             "force).")


def test_fan_data_with_a_comparison_longer_and_earlier(base, crack):
    other = crack.copy()
    other.attrs["start"] = "2012-12"  # its fan starts earlier; base's runs longer
    d = C.fan_data(crack.copy(), compare=base)
    v = d.values
    init = float(crack.attrs["initial_relations"])
    cdates, cvals = expected_fan(base, "relations", float(base.attrs["initial_relations"]))
    assert_frame(v["compare"]["x"], v["compare"]["f"], cdates, cvals)
    assert v["compare"]["name"] == "baseline"
    dates, vals = expected_fan(crack, "relations", init)
    assert v["ylim"] == snap([vals.min(), vals.max(), cvals.min(), cvals.max(), init])
    assert v["xlim"] == (pd.Timestamp("2013-03-01"), cdates[-1])  # the longer run's last month
    cm = float(np.median(base["relations"].values[:, -1]))
    assert d.title.endswith(f"; 'baseline' median {pts(cm)}")
    assert d.title.startswith("Relations are most likely still cool in Dec 2013")
    assert d.note.endswith(f" Dashed: scenario 'baseline' ({base.sizes['run']:,} runs, seed {base.attrs['seed']}).")
    d2 = C.fan_data(base, compare=other)
    assert d2.values["xlim"] == (pd.Timestamp("2012-12-01"), cdates[-1])  # the earlier start
    assert d2.values["compare"]["x"][0] == pd.Timestamp("2012-12-01")
    assert d2.title.endswith(f"; 'crackdown' median {pts(float(np.median(crack['relations'].values[:, -1])))}")


def test_fan_data_y_range_reaches_a_comparison_below(base, major):
    d = C.fan_data(base, compare=major)
    _, bvals = expected_fan(base, "relations", 1.0)
    _, mvals = expected_fan(major, "relations", 1.0)
    assert mvals.min() < bvals.min()
    assert d.values["ylim"] == snap([bvals.min(), bvals.max(), mvals.min(), mvals.max(), 1.0])
    d = C.fan_data(major, compare=base)
    assert d.values["ylim"] == snap([bvals.min(), bvals.max(), mvals.min(), mvals.max(), 1.0])


def test_fan_data_unnamed_comparison_and_own_title(base, crack):
    other = crack.copy()
    other.attrs = {k: v for k, v in crack.attrs.items() if k not in ("scenario", "seed")}
    d = C.fan_data(base, title="Own title -2 points", compare=other)
    assert d.title == f"Own title {M}2 points"  # no comparison median added to a given title
    assert d.values["compare"]["name"] == "comparison"
    assert d.note.endswith(f" Dashed: scenario '?' ({crack.sizes['run']:,} runs, seed ?).")
    assert C.fan_data(base, title="Plain").title == "Plain"


def test_fan_data_other_variable(base, crack):
    d = C.fan_data(base, "protest", compare=crack)
    v = d.values
    init = float(tomllib.loads(base.attrs["scenario_toml"])["initial"]["protest"])
    dates, vals = expected_fan(base, "protest", init)
    assert_frame(v["x"], v["f"], dates, vals)
    assert v["ylim"] is None and v["init"] == init
    end = base["protest"].values[:, -1].astype(float)
    med = float(np.median(end))
    word = " up from " if med > init else " down from " if med < init else " as at "
    assert d.title == (f"{C.VAR_LABELS['protest'].split(' (')[0]}: median {med:.3g} in Apr 2014,{word}{init:.3g} at "
                       f"the start (80% of runs {np.quantile(end, 0.1):.3g} to {np.quantile(end, 0.9):.3g})"
                       ).replace("-", M)
    assert "Background" not in d.note and "median" in d.note and d.note.endswith(
        f"Dashed: scenario 'crackdown' ({crack.sizes['run']:,} runs, seed {crack.attrs['seed']}).")
    assert ";" not in d.title  # the comparison's median is stated only for relations
    with pytest.raises(DialogueError, match="^no variable 'nope' in these results$"):
        C.fan_data(base, "nope")


# ---------------------------------------------------------------- outcome_data

def _outcomes_by_hand(ds):
    out = ds["outcome"].values.astype(str)
    return {k: share_se(out == k) for k in OUTCOMES}


def test_outcome_data_title_sets_and_note(major, base):
    d = C.outcome_data(major, compare=base)
    probs = _outcomes_by_hand(major)
    modal = max(OUTCOMES, key=lambda k: probs[k][0])
    p, se = probs[modal]
    bad = probs["rupture"][0] + probs["confrontation"][0]
    bad_se = float(np.sqrt(bad * (1 - bad) / major.sizes["run"]))
    assert 0 < bad < 1 and bad != probs["confrontation"][0]
    h = mon(major["time"].values[-1])
    assert d.title == (f"{modal.capitalize()} is the most likely outcome in {h} ({fmt_prob(p)}, {phia(p)}"
                       f"{dagger(p, se)}); confrontation or worse {fmt_prob(bad)} ({phia(bad)}"
                       f"{dagger(bad, bad_se)})").replace("-", M)
    assert d.kind == "outcomes"
    assert d.values["modal"] == modal and d.values["horizon"] == h
    assert d.values["bad"] == pytest.approx((bad, bad_se), abs=1e-15)
    assert [n for n, _ in d.values["sets"]] == ["major_incident", "baseline"]
    for (_, got), ds in zip(d.values["sets"], (major, base), strict=True):
        assert list(got) == list(OUTCOMES)
        for k, pse in _outcomes_by_hand(ds).items():
            assert got[k] == pytest.approx(pse, abs=1e-15)
    assert d.note == note_of(major, "Bars: share of runs in each class in the horizon month; whiskers and \u00b1: "
                             "95% Monte Carlo interval (1.96 standard errors; the precision of the simulation, not "
                             f"model uncertainty). Words: PHIA probability yardstick{C.UNSETTLED}. The "
                             f"{OUTCOME_BANDS_NOTE}.")


def _outcome_ds(counts: dict[str, int], like: xr.Dataset, **attrs) -> xr.Dataset:
    out = np.concatenate([[k] * n for k, n in counts.items()])
    ds = xr.Dataset({"outcome": ("run", out)}, coords={"run": np.arange(out.size), "time": like["time"].values})
    ds.attrs = dict(like.attrs) | attrs
    return ds


def test_outcome_data_daggers_and_the_unsettled_note(base):
    settled = _outcome_ds({"cool": 1000}, base)
    d = C.outcome_data(settled)
    assert d.title == ("Cool is the most likely outcome in Apr 2014 (100%, almost certain); confrontation or worse "
                       "0% (remote chance)")
    assert "\u2020" not in d.note and d.note.endswith("Words: PHIA probability yardstick. The "
                                                      f"{OUTCOME_BANDS_NOTE}.")
    assert d.values["sets"] == [("baseline", {k: (1.0 if k == "cool" else 0.0, 0.0) for k in OUTCOMES})]
    # the comparison's shares are unsettled (1 in 4): the note explains the dagger
    assert C.UNSETTLED in C.outcome_data(settled, compare=_outcome_ds({"cool": 3, "thaw": 1}, base)).note
    # each class settled but 'confrontation or worse' near the 55% edge: its dagger, and the note
    mixed = _outcome_ds({"rupture": 2800, "confrontation": 2700, "thaw": 4500}, base)
    d = C.outcome_data(mixed)
    bad_se = np.sqrt(0.55 * 0.45 / 10000)
    assert phia_crossing(0.55, bad_se) is not None and all(
        phia_crossing(*pse) is None for pse in _outcomes_by_hand(mixed).values())
    assert d.title == (f"Thaw is the most likely outcome in Apr 2014 (45%, realistic possibility); confrontation or "
                       f"worse 55% (likely{DAG})")
    assert C.UNSETTLED in d.note
    assert d.values["modal"] == "thaw"
    # a dagger on the modal class
    d = C.outcome_data(_outcome_ds({"cool": 52, "thaw": 48}, base))
    assert d.title.startswith(f"Cool is the most likely outcome in Apr 2014 (52%, between realistic possibility and "
                              f"likely{DAG}); confrontation or worse 0% (remote chance)")


def test_outcome_data_unnamed_scenarios(base):
    a = _outcome_ds({"cool": 10}, base)
    del a.attrs["scenario"]
    b = _outcome_ds({"thaw": 10}, base)
    del b.attrs["scenario"]
    assert [n for n, _ in C.outcome_data(a, compare=b).values["sets"]] == ["?", "?"]


# ---------------------------------------------------------------- waterfall_data

def test_waterfall_data_rows_totals_and_title(base):
    d = C.waterfall_data(base)
    totals = totals_by_hand(base)
    assert list(d.values["totals"]) == list(DRIVERS)
    for k, t in totals.items():
        assert d.values["totals"][k] == pytest.approx(t, abs=1e-12)
    end_all = base["relations"].values[:, -1].astype(float)
    end, median = float(end_all.mean()), float(np.median(end_all))
    init = float(base.attrs["initial_relations"])
    rows = d.values["rows"]
    assert rows[0] == ("Start, Mar 2013", init, "total")
    assert rows[-1][0] == "Mean in Apr 2014" and rows[-1][2] == "total" and rows[-1][1] == pytest.approx(end)
    expect = waterfall_rows(totals)
    assert [r[0] for r in rows[1:-1]] == [label for label, _ in expect]
    assert all(r[2] == "step" for r in rows[1:-1])
    np.testing.assert_allclose([r[1] for r in rows[1:-1]], [v for _, v in expect], atol=1e-12, rtol=0)
    assert init + sum(r[1] for r in rows[1:-1]) == pytest.approx(end, abs=1e-9)  # the bars add up
    assert (d.values["init"], d.values["end"], d.values["median"]) == pytest.approx((init, end, median))
    moved = sorted((k for k in totals if k != "reversion"), key=lambda k: -abs(totals[k]))[:2]
    parts = " and ".join(f"{C.lower_first(DRIVER_LABELS[k])} ({pts(totals[k])})" for k in moved)
    assert d.title == (f"Mean relations go from {pts(init)} in Mar 2013 to {pts(end)} in Apr 2014 (the median run "
                       f"ends at {pts(median)}): {parts} weighed most, net of fading")
    assert d.kind == "contributions"
    assert d.note == note_of(base, "Bars: each driver's net effect on relations at the horizon (its jolts and pulls, "
                             "less the part that has faded since), averaged over runs (hatched up: improved; hatched "
                             "down: worsened); grey: levels. Means, not medians: they add up exactly, and the mean "
                             "sits below the median because a tail of runs ruptures. 'Pull to start-month "
                             f"equilibrium': {reversion_note(totals['reversion'])}.")


def test_waterfall_title_capitalises_a_lower_case_first_word_and_a_missing_start(base):
    ds = base.copy()
    ds.attrs = {k: v for k, v in base.attrs.items() if k != "initial_relations"}
    d = C.waterfall_data(ds)
    assert d.values["rows"][0] == ("Start, Mar 2013", 0.0, "total") and d.values["init"] == 0.0
    assert d.title.startswith("Mean relations go from 0.0 in Mar 2013")
    # the two biggest movers exclude the pull to equilibrium even when it is the largest
    ds = base.copy()
    ds["contrib_reversion"] = ds["contrib_reversion"] * 0 + 1.0
    t = C.waterfall_data(ds).title
    assert "pull to" not in t.lower() and "Pull" not in t


# ---------------------------------------------------------------- stacked_data

def test_stacked_data_series_net_and_title(base):
    d = C.stacked_data(base)
    means = {k: base[f"contrib_{k}"].values.mean(axis=0) for k in DRIVERS}
    cum = {k: np.cumsum(v) for k, v in means.items()}
    tot = {k: c[-1] for k, c in cum.items()}
    movers = sorted((k for k in DRIVERS if k != "reversion"), key=lambda k: -abs(tot[k]))[:5]
    rest = [k for k in DRIVERS if k not in movers and k != "reversion"]
    series = d.values["series"]
    assert list(series) == [DRIVER_LABELS[k] for k in movers] + [f"{len(rest)} other drivers",
                                                                 DRIVER_LABELS["reversion"]]
    for k in movers + ["reversion"]:
        np.testing.assert_allclose(series[DRIVER_LABELS[k]], cum[k], atol=1e-12, rtol=0)
    np.testing.assert_allclose(series[f"{len(rest)} other drivers"], sum(cum[k] for k in rest), atol=1e-12, rtol=0)
    init = float(base.attrs["initial_relations"])
    net = np.concatenate([[0.0], base["relations"].values.mean(axis=0) - init])
    np.testing.assert_allclose(d.values["net"], net, atol=1e-12, rtol=0)
    dates, _ = expected_fan(base, "relations", init)
    assert list(d.values["xs"]) == list(dates)
    top = movers[0]
    effect = "cost relations" if tot[top] < 0 else "added to relations"
    assert d.title == (f"By Apr 2014, {C.lower_first(DRIVER_LABELS[top])} has {effect} {abs(tot[top]):.1f} points "
                       f"on average, net of fading; relations have moved {pts(net[-1])} in all")
    assert d.kind == "contributions-stacked"
    assert d.note == note_of(base, "Each area: a driver's net effect on mean relations at each date (its jolts and "
                             "pulls so far, less the part that has faded); areas stack above and below zero and add "
                             "up to the black line.")


def test_stacked_title_cost_and_gain_and_no_recorded_start(base):
    ds = base.copy()
    for k in DRIVERS:
        ds[f"contrib_{k}"] = base[f"contrib_{k}"] * 0.0
    ds["contrib_incidents"] = base["contrib_incidents"] * 0.0 + 0.25  # +0.25 a month for 14 months
    ds["contrib_exiles"] = base["contrib_exiles"] * 0.0 - 0.1
    ds.attrs = {k: v for k, v in base.attrs.items() if k != "initial_relations"}
    d = C.stacked_data(ds)
    net_end = float(base["relations"].values[:, -1].mean())
    assert d.title == (f"By Apr 2014, incidents on UK soil has added to relations 3.5 points on average, net of "
                       f"fading; relations have moved {pts(net_end)} in all")
    assert list(d.values["series"])[:2] == ["Incidents on UK soil", "Asylum for exiles"]
    ds["contrib_incidents"] = base["contrib_incidents"] * 0.0 - 0.25
    assert "incidents on UK soil has cost relations 3.5 points" in C.stacked_data(ds).title


# ---------------------------------------------------------------- exports_data

def test_exports_data_history_fan_and_title(base):
    d = C.exports_data(base)
    years, hist = trade_history()
    v = d.values
    assert list(v["years"]) == list(years) and list(v["hist"]) == list(hist)
    assert list(v["hx"]) == [pd.Timestamp(f"{y}-07-01") for y in years]
    init = float(tomllib.loads(base.attrs["scenario_toml"])["initial"]["exports_gbp_m"])
    dates, vals = expected_fan(base, "exports_gbp_m", init, 12.0)
    assert_frame(v["x"], v["f"], dates, vals)
    assert v["start"] == pd.Timestamp("2013-03-01")
    assert v["xlim"] == (pd.Timestamp(f"{years[0]}-01-01"), dates[-1])
    med, p10, p90 = vals[-1, 3], vals[-1, 1], vals[-1, 5]
    last = float(hist[-1])
    assert med > last
    assert d.title == (f"Exports to Russia: median annualised \u00a3{med / 1000:.1f}bn in Apr 2014, "
                       f"{abs(med / last - 1):.0%} above 2012's \u00a3{last / 1000:.1f}bn "
                       f"(80% of runs \u00a3{p10 / 1000:.1f}bn to \u00a3{p90 / 1000:.1f}bn)")
    assert d.kind == "exports"
    assert d.note == note_of(base, "Black: recorded annual totals, plotted at mid-year. Green: simulated monthly "
                             "exports \u00d7 12 (annualised rate); shading: middle 50%, 80% and 95% of runs.",
                             trade=True)
    low = base.copy()
    low["exports_gbp_m"] = base["exports_gbp_m"] * 0.5
    t = C.exports_data(low).title
    med = float(np.median(low["exports_gbp_m"].values[:, -1])) * 12
    assert f"{abs(med / last - 1):.0%} below 2012's" in t


# ---------------------------------------------------------------- events_data

def test_events_data_series_ends_and_note(base):
    d = C.events_data(base)
    ev = events_by_hand(base)
    runs = base.sizes["run"]
    v = d.values
    assert list(v["series"]) == list(ev)
    for name, y in ev.items():
        np.testing.assert_allclose(v["series"][name], np.concatenate([[0.0], y]), atol=1e-15, rtol=0)
        p = float(y[-1])
        assert v["ends"][name] == pytest.approx((p, np.sqrt(p * (1 - p) / runs)), abs=1e-15)
    dates, _ = expected_fan(base, "relations", 1.0)
    assert list(v["xs"]) == list(dates) and v["horizon"] == "Apr 2014"
    assert d.kind == "events"
    assert d.note == note_of(base, "Lines: share of runs in which the event has happened at least once by each "
                             f"month. Words: PHIA probability yardstick{C.UNSETTLED}.")
    ends = {k: float(y[-1]) for k, y in ev.items()}
    hi, lo = max(ends.values()), min(ends.values())

    def part(k, p):
        return f"{fmt_prob(p)}", f"{phia(p)}{dagger(p, np.sqrt(p * (1 - p) / runs))}"
    firsts = [k for k, p in ends.items() if p == hi]
    lasts = [k for k, p in ends.items() if p == lo]
    options = [f"{f.capitalize()} is the likeliest of the key events: {part(f, hi)[0]} by Apr 2014 ({part(f, hi)[1]}); "
               f"{la} the least likely at {part(la, lo)[0]} ({part(la, lo)[1]})" for f in firsts for la in lasts]
    assert d.title in options


def _with_events(ds: xr.Dataset, months: dict[str, list[int]]) -> xr.Dataset:
    """``ds`` with its event record replaced: event -> first month per run (-1: never)."""
    out = ds.copy()
    runs, n = ds.sizes["run"], ds.sizes["time"]
    flags = {}
    for name, first in months.items():
        a = np.zeros((runs, n), dtype=bool)
        for r, m in enumerate(first):
            if m >= 0:
                a[r, m] = True
        flags[name] = a
    dims = ("run", "time")
    out["dialogue_active"] = (dims, ~flags["suspended"])
    out["expulsions"] = (dims, flags["expelled"].astype(int))
    out["russian_expulsions"] = (dims, np.zeros((runs, n), dtype=int))
    out["sanctions"] = (dims, flags["sanctions"])
    out["major_incidents"] = (dims, flags["major"].astype(int) * 2)
    out["regime_crisis"] = (dims, flags["crisis"])
    return out


def test_events_title_names_the_likeliest_and_the_least_likely(crack):
    runs = crack.sizes["run"]  # 30
    never = [-1] * runs
    ds = _with_events(crack, {"suspended": [0] * 3 + never[3:], "expelled": [2] * 12 + never[12:],
                              "sanctions": [9] * 30, "major": [5] * 20 + never[20:], "crisis": [1] + never[1:]})
    d = C.events_data(ds)
    assert d.title == ("Sanctions is the likeliest of the key events: 100% by Dec 2013 (almost certain); regime "
                       f"crisis in Russia the least likely at 3.3% (remote chance{DAG})")
    s = d.values["series"]
    assert list(s["sanctions"]) == [0.0] * 10 + [1.0]  # at the end of the last month only
    assert list(s["diplomats expelled"]) == [0.0, 0.0, 0.0] + [0.4] * 8
    assert list(s["dialogue suspended"]) == [0.0] + [0.1] * 10
    # the Russian side's expulsions count too
    ds2 = ds.copy()
    ds2["russian_expulsions"] = ds["expulsions"] * 0 + np.eye(runs, ds.sizes["time"], k=-12, dtype=int) * 3
    assert C.events_data(ds2).values["ends"]["diplomats expelled"][0] == pytest.approx(22 / 30)
    # every share exact (0 or 1): no dagger, and no yardstick note
    ds3 = _with_events(crack, {"suspended": never, "expelled": never, "sanctions": [0] * 30, "major": never,
                               "crisis": never})
    d3 = C.events_data(ds3)
    assert d3.note.endswith("has happened at least once by each month.")
    assert d3.title.startswith("Sanctions is the likeliest of the key events: 100% by Dec 2013 (almost certain); ")
    assert d3.title.endswith(" the least likely at 0% (remote chance)")


# ---------------------------------------------------------------- trajectories_data

def test_trajectories_data_paths_band_and_title(base):
    d = C.trajectories_data(base, 5, 3)
    rel = base["relations"].values
    init = float(base.attrs["initial_relations"])
    pick = np.sort(np.random.default_rng(3).choice(rel.shape[0], size=5, replace=False))
    v = d.values
    assert list(v["paths"]) == [int(i) for i in pick]
    for i in pick:
        np.testing.assert_array_equal(v["paths"][int(i)], np.concatenate([[init], rel[i]]))
    dates, vals = expected_fan(base, "relations", init)
    assert_frame(v["x"], v["f"], dates, vals)
    assert v["init"] == init
    assert v["ylim"] == snap([vals.min(), vals.max(), rel[pick].min(), rel[pick].max(), init])
    touched = float((rel <= -2).any(axis=1).mean())
    assert 0 < touched < 1
    assert d.title == (f"Single futures are far more volatile than the median: {100 * touched:.0f}% of runs turn "
                       f"confrontational or worse at some point, while the median ends at {pts(vals[-1, 3])}")
    assert d.kind == "trajectories"
    assert d.note == note_of(base, "Thin lines: 5 runs drawn at random (seed 3) from the ensemble; thick line: median "
                             "of all runs; shading: middle 80% of runs.")


def test_trajectories_data_counts_a_run_at_exactly_minus_2_and_clamps_n(thaw):
    ds = thaw.copy()
    rel = thaw["relations"].values.copy()
    before = float((rel <= -2).any(axis=1).mean())
    calm = int(np.argmax(rel.min(axis=1)))
    rel[calm, 3] = -2.0  # touches the confrontational edge exactly
    ds["relations"] = (("run", "time"), rel)
    t = C.trajectories_data(ds).title
    assert f": {100 * (before + 1 / 25):.0f}% of runs" in t
    assert list(C.trajectories_data(ds, 100, 0).values["paths"]) == list(range(25))  # at most every run
    one = C.trajectories_data(ds, 0, 1)
    assert len(one.values["paths"]) == 1 and one.note.startswith(note_of(ds, "Thin lines: 1 runs drawn"))
    d8 = C.trajectories_data(ds)  # 8 runs, seed 0 by default
    assert list(d8.values["paths"]) == [int(i) for i in np.sort(np.random.default_rng(0).choice(25, 8, replace=False))]
    ds.attrs = {k: v for k, v in ds.attrs.items() if k not in ("initial_relations", "start")}
    nostart = C.trajectories_data(ds, 3, 0)
    assert nostart.values["init"] == pytest.approx(float(rel[:, 0].mean()))
    assert next(iter(nostart.values["paths"].values()))[0] == pytest.approx(float(rel[:, 0].mean()))


# ---------------------------------------------------------------- compare_data

def test_compare_data_medians_outcomes_title_and_ranges(base, crack, thaw, major):
    sets = {"c": crack, "b": base, "t": thaw, "m": major}
    d = C.compare_data(sets)
    v = d.values
    meds, bads, lo10, hi90 = {}, {}, [], []
    for name, ds in sets.items():
        dates, vals = expected_fan(ds, "relations", float(ds.attrs["initial_relations"]))
        assert_frame(*v["fans"][name], dates, vals)
        meds[name] = vals[-1, 3]
        assert v["medians"][name] == pytest.approx(meds[name], abs=1e-12)
        probs = _outcomes_by_hand(ds)
        for k in OUTCOMES:
            assert v["probs"][name][k] == pytest.approx(probs[k], abs=1e-15)
        bads[name] = probs["rupture"][0] + probs["confrontation"][0]
        lo10.append(vals[:, 1].min())
        hi90.append(vals[:, 5].max())
    assert list(v["fans"]) == list(sets)
    assert v["ylim"] == snap(lo10 + hi90)
    best = max(meds, key=meds.get)
    worst = min(meds, key=meds.get)
    assert sorted(meds.values())[-1] > sorted(meds.values())[-2] and best not in (next(iter(sets)), "m")
    assert d.title == (f"'{best}' is the most hopeful scenario (median {pts(meds[best])} in Dec 2013, confrontation "
                       f"or worse {fmt_prob(bads[best])}) and '{worst}' the bleakest ({pts(meds[worst])}, "
                       f"{fmt_prob(bads[worst])})").replace("-", M)
    assert v["horizon"] == "Dec 2013"  # the first scenario's
    assert v["xlim"] == (pd.Timestamp("2013-03-01"), pd.Timestamp("2014-05-01"))
    runs = ", ".join(f"'{n}' {ds.sizes['run']:,} runs, seed {ds.attrs['seed']}" for n, ds in sets.items())
    assert d.kind == "compare"
    assert d.note == (f"{runs}. Source: model simulation, model v{base.attrs['version']}. Markers and line styles "
                      "identify scenarios in both panels; whiskers: 95% Monte Carlo interval (1.96 standard errors).")


def test_compare_data_horizon_and_range_of_the_first_and_the_widest(base, crack):
    early = base.copy()
    early.attrs["start"] = "2012-10"
    d = C.compare_data({"c": crack, "e": early})
    assert d.values["horizon"] == "Dec 2013"  # the first scenario's horizon
    assert d.values["xlim"] == (pd.Timestamp("2012-10-01"), pd.Timestamp("2014-05-01"))
    anon = crack.copy()
    anon.attrs = {k: v for k, v in crack.attrs.items() if k not in ("seed", "version")}
    assert C.compare_data({"a": anon, "b": base}).note.startswith(
        f"'a' 30 runs, seed ?, 'b' 40 runs, seed {base.attrs['seed']}. Source: model simulation, model v?. ")
    with pytest.raises(DialogueError, match="^a comparison needs two or more scenarios$"):
        C.compare_data({"b": base})


# ---------------------------------------------------------------- screen: small helpers

def test_hex_mix_title_lines_and_texts():
    assert S.hex_mix("#0072B2", 1.0) == "#0072B2" and S.hex_mix("#0072B2", 0.0) == "#FFFFFF"
    r, g, b = 0x00, 0x72, 0xB2
    want = "#" + "".join(f"{int(round(255 * (1 - 0.42 * (1 - c / 255)))):02X}" for c in (r, g, b))
    assert S.hex_mix("#0072B2", 0.42) == want == "#94C4DF"
    assert S.hex_mix("#E69F00", 0.5) == "#F2CF80"  # 242.5 rounds to even
    words = ("word " * 60).strip()
    lines = S.title_lines(words)
    assert [len(x) for x in lines] == [124, 124, 49]
    assert S.title_lines("a-b " * 3 + "x" * 30, 10) == ["a-b a-b", "a-b", "x" * 30]
    assert S.title_lines("") == [""]
    assert S.title_text({"title": {"text": ["a b", "c"]}}) == "a b c"
    assert S.title_text({"title": {"text": "one"}}) == "one"
    assert S.note_text({"title": {"subtitle": ["x", "y z"]}}) == "x y z"
    assert S.note_text({"title": {"subtitle": "ab c"}}) == "ab c" and S.note_text({"title": {}}) == ""
    assert S.title_lines("aaaa-bbbb cc", 6) == ["aaaa-bbbb", "cc"]  # never broken at a hyphen
    assert S.qf(0.025) == "q025" and S.qf(0.5) == "q500" and S.qf(0.9) == "q900" and S.qf(0.975) == "q975"
    assert S._utc("2013-03-01") == {"year": 2013, "month": 3, "date": 1, "utc": True}
    assert S._utc(pd.Timestamp("2014-11-17")) == {"year": 2014, "month": 11, "date": 17, "utc": True}
    assert S._iso([pd.Timestamp("2013-03-01"), "2014-12-31"]) == ["2013-03-01", "2014-12-31"]
    assert [S._outcome_label(k) for k in OUTCOMES] == [C.OUTCOME_TEXT[k].split("\n")[0] for k in OUTCOMES]
    assert S._outcome_label(OUTCOMES[0]) and "\n" not in "".join(S._outcome_label(k) for k in OUTCOMES)


def test_title_block_with_and_without_notes():
    data = C.ChartData("x", "T " * 80, "N " * 120)
    want = {"text": S.title_lines("T " * 80, 125), "subtitle": S.title_lines("N " * 120, 190), "anchor": "start",
            "fontSize": 15, "fontWeight": "bold", "font": S.FONT, "color": "#111111", "subtitleFontSize": 11,
            "subtitleColor": "#444444", "subtitleFont": S.FONT, "subtitlePadding": 6, "offset": 10}
    assert S._title(data) == want and len(want["text"]) == 2 and len(want["subtitle"]) == 2
    with C.without_notes():
        assert S._title(data) == want | {"subtitle": []}


def test_month_names_and_fan_colours():
    x = pd.DatetimeIndex(["2013-03-01", "2013-04-01", "2013-05-01"])
    assert S.month_names(x, pd.Timestamp("2013-03-01")) == ["start, Mar 2013", "Mar 2013", "Apr 2013"]
    assert S.month_names(x, None) == ["Feb 2013", "Mar 2013", "Apr 2013"]
    assert S.month_names(x, pd.Timestamp("2013-02-01")) == ["Feb 2013", "Mar 2013", "Apr 2013"]
    assert S.month_names(x[:0], pd.Timestamp("2013-03-01")) == []
    dom, rng = S._fan_colours("#0072B2", "#00406A", "Median (x)")
    assert dom == ["Median (x)", "50% of runs", "80% of runs", "95% of runs"]
    assert rng == ["#00406A", S.hex_mix("#0072B2", 0.68), S.hex_mix("#0072B2", 0.42), S.hex_mix("#0072B2", 0.22)]


def test_fan_frame_cell_by_cell(base):
    x, f = C._fan_values(base, "relations")
    names = S.month_names(x, pd.Timestamp("2013-03-01"))
    df = S._fan_frame(x, f, names, lambda a: f"<{a:.3f}>")
    dates, vals = expected_fan(base, "relations", 1.0)
    assert list(df.columns) == ["date", "Month", "q025", "q100", "q250", "q500", "q750", "q900", "q975", "Median",
                                "50% of runs", "80% of runs", "95% of runs"]
    assert list(df["date"]) == [t.strftime("%Y-%m-%d") for t in dates] and list(df["Month"]) == names
    np.testing.assert_allclose(df[["q025", "q100", "q250", "q500", "q750", "q900", "q975"]].to_numpy(), vals,
                               atol=1e-12, rtol=0)
    for i in range(len(df)):
        assert df["Median"][i] == f"<{vals[i, 3]:.3f}>"
        assert df["50% of runs"][i] == f"<{vals[i, 2]:.3f}> to <{vals[i, 4]:.3f}>"
        assert df["80% of runs"][i] == f"<{vals[i, 1]:.3f}> to <{vals[i, 5]:.3f}>"
        assert df["95% of runs"][i] == f"<{vals[i, 0]:.3f}> to <{vals[i, 6]:.3f}>"


# ---------------------------------------------------------------- screen: specs

def layers_of(spec: dict) -> list[dict]:
    out = []
    for part in spec.get("layer", []) + spec.get("hconcat", []):
        out += layers_of(part) if ("layer" in part or "hconcat" in part) else [part]
    return out


def rows(spec: dict, layer: dict) -> list[dict]:
    return spec["datasets"][layer["data"]["name"]]


def find(spec: dict, mark: str, **enc) -> list[dict]:
    """Layers with this mark whose encodings have these fields (channel=field)."""
    out = []
    for lay in layers_of(spec):
        m = lay["mark"]["type"] if isinstance(lay["mark"], dict) else lay["mark"]
        e = lay.get("encoding", {})
        if m == mark and all(e.get(ch, {}).get("field") == fld for ch, fld in enc.items()):
            out.append(lay)
    return out


def series_of(layer: dict) -> str | None:
    for t in layer.get("transform", []):
        if t.get("as") == "series":
            return json.loads(t["calculate"])
    return None


def test_screen_fan_bands_start_hover_and_layers(base):
    data = C.fan_data(base)
    sp = S.fan(data).spec()
    assert S.title_text(sp) == data.title and S.note_text(sp) == data.note
    assert sp["title"] == S._title(data)
    ylim = data.values["ylim"]
    assert ylim == (-6.0, 6.0)
    # the named bands within the range, and their names where there is room
    rect = find(sp, "rect", y="lo", y2="hi")
    assert len(rect) == 1
    b = rows(sp, rect[0])
    last = "2014-05-01"
    assert b == [{"band": name, "lo": max(lo, ylim[0]), "hi": min(hi, ylim[1]), "mid": (max(lo, ylim[0])
                  + min(hi, ylim[1])) / 2, "fill": C.BAND_COLOURS[name], "range": f"{pts(lo)} to {pts(hi)}",
                  "date": last, "label": name} for name, lo, hi in BANDS if ylim[0] < hi and lo < ylim[1]]
    assert [t["field"] for t in rect[0]["encoding"]["tooltip"]] == ["band", "range"]
    assert [t["title"] for t in rect[0]["encoding"]["tooltip"]] == ["Band of the relations scale", "Range"]
    assert rect[0]["encoding"]["fill"] == {"field": "fill", "legend": None, "scale": None, "type": "nominal"}
    text = find(sp, "text", y="mid", text="label", x="date")
    assert len(text) == 1 and rows(sp, text[0]) is b
    # the fan: three bands and the median, on one dataset, fields by quantile
    areas = find(sp, "area", x="date")
    assert [(a["encoding"]["y"]["field"], a["encoding"]["y2"]["field"], series_of(a)) for a in areas] == [
        ("q025", "q975", "95% of runs"), ("q100", "q900", "80% of runs"), ("q250", "q750", "50% of runs")]
    med = find(sp, "line", y="q500")
    assert len(med) == 1 and series_of(med[0]) == "Median ('baseline')"
    assert med[0]["encoding"]["color"]["scale"] == {"domain": ["Median ('baseline')", "50% of runs", "80% of runs",
                                                               "95% of runs"],
                                                    "range": ["#00406A", "#529FCB", "#94C4DF", "#C7E0EE"]}
    assert med[0]["encoding"]["color"]["field"] == "series"
    fan_rows = rows(sp, med[0])
    dates, vals = expected_fan(base, "relations", 1.0)
    assert [r["date"] for r in fan_rows] == [t.strftime("%Y-%m-%d") for t in dates]
    assert fan_rows[0]["Month"] == "start, Mar 2013" and fan_rows[1]["Month"] == "Mar 2013"
    assert fan_rows[-1]["Median"] == pts(vals[-1, 3], 2)
    assert all(rows(sp, a) is fan_rows for a in areas)  # one dataset for every layer of the fan
    # axes: dates from the start to the last month's end, the snapped relations range
    y = med[0]["encoding"]["y"]
    assert y["scale"] == {"domain": [-6.0, 6.0], "nice": False, "zero": False} and y["type"] == "quantitative"
    assert y["title"] == "Relations index (Goldstein points, \u221210 conflict to +10 alliance)"
    xe = med[0]["encoding"]["x"]
    assert xe["scale"] == {"type": "utc", "domain": [S._utc("2013-03-01"), S._utc(last)]}
    assert xe["type"] == "temporal" and xe["title"] is None and xe["axis"]["format"] == "%Y"
    # the start: a rule with its tooltip, the value marked and labelled
    st = find(sp, "point", y="value")
    assert len(st) == 1 and rows(sp, st[0]) == [{"date": "2013-03-01", "what": "Simulation starts Mar 2013",
                                                  "value": 1.0, "label": "Start Mar 2013: +1.00"}]
    assert st[0]["encoding"]["tooltip"] == [{"field": "label", "title": "Start", "type": "nominal"}]
    rule = [r for r in find(sp, "rule", x="date") if rows(sp, r) is rows(sp, st[0])]
    assert len(rule) == 1 and rule[0]["encoding"]["tooltip"] == [{"field": "what", "title": "Start", "type": "nominal"}]
    assert len(find(sp, "text", y="value", text="label")) == 1
    # hover columns: each month's tooltip, and edges halfway between months
    cols = find(sp, "rect", x="x0", x2="x1", y="y0", y2="y1")
    assert len(cols) == 1
    h = rows(sp, cols[0])
    assert [t["title"] for t in cols[0]["encoding"]["tooltip"]] == ["Month", "Median", "50% of runs", "80% of runs",
                                                                     "95% of runs"]
    assert [t["field"] for t in cols[0]["encoding"]["tooltip"]] == ["t0", "t1", "t2", "t3", "t4"]
    ds_ = pd.DatetimeIndex([r["date"] for r in fan_rows])
    mids = [a + (b - a) / 2 for a, b in zip(ds_[:-1], ds_[1:], strict=True)]
    half = (ds_[1] - ds_[0]) / 2
    for i, r in enumerate(h):
        assert r["date"] == fan_rows[i]["date"]
        assert (r["t0"], r["t1"], r["t2"], r["t3"], r["t4"]) == tuple(fan_rows[i][k] for k in (
            "Month", "Median", "50% of runs", "80% of runs", "95% of runs"))
        lo_ = ds_[0] - half if i == 0 else mids[i - 1]
        hi_ = ds_[-1] + half if i == len(h) - 1 else mids[i]
        assert (r["x0"], r["x1"]) == (lo_.strftime("%Y-%m-%d"), hi_.strftime("%Y-%m-%d"))
        assert (r["y0"], r["y1"]) == (-6.0, 6.0)
    param = cols[0]["params"][0]
    assert param["select"]["type"] == "point" and param["select"]["on"] == "pointerover"
    assert param["select"]["fields"] == ["date"] and param["select"]["clear"] == "pointerout"
    hrule = [r for r in find(sp, "rule", x="date") if rows(sp, r) is h]
    assert len(hrule) == 1 and hrule[0]["encoding"]["opacity"] == {
        "condition": {"param": param["name"], "value": 0.7, "empty": False}, "value": 0.0}
    assert set(sp["datasets"]) == {"d0", "d1", "d2", "d3"}
    alt.Chart.from_dict  # noqa: B018 - altair is importable (the specs validate in test_screen_charts.py)


def test_screen_fan_with_a_comparison_and_the_legend_selection(base, crack):
    data = C.fan_data(base, compare=crack)
    sp = S.fan(data).spec()
    med = find(sp, "line", y="q500")
    names = [series_of(m) for m in med]
    assert names == ["Median ('baseline')", "Median ('crackdown')"]
    sel = med[0]["params"][0]
    assert sel["select"] == {"type": "point", "fields": ["series"]} and sel["bind"] == "legend"
    for lay in find(sp, "area", x="date") + med + find(sp, "line", y="q100") + find(sp, "line", y="q900"):
        assert lay["encoding"]["opacity"] == {"condition": {"param": sel["name"], "value": 1.0, "empty": True},
                                              "value": S.HIDDEN}
    dotted = find(sp, "line", y="q100") + find(sp, "line", y="q900")
    assert [series_of(d) for d in dotted] == ["80% of runs ('crackdown')"] * 2
    assert med[0]["encoding"]["color"]["scale"]["domain"][-2:] == ["Median ('crackdown')",
                                                                     "80% of runs ('crackdown')"]
    assert med[0]["encoding"]["color"]["scale"]["range"][-2:] == [C.OKABE_ITO["vermillion"]] * 2
    cmp_rows = rows(sp, med[1])
    cdates, cvals = expected_fan(crack, "relations", 1.0)
    assert [r["date"] for r in cmp_rows] == [t.strftime("%Y-%m-%d") for t in cdates]
    assert cmp_rows[0]["Month"] == "Feb 2013"  # no 'start' label on the comparison's own frame
    np.testing.assert_allclose([r["q500"] for r in cmp_rows], cvals[:, 3], atol=1e-12, rtol=0)
    h = rows(sp, find(sp, "rect", x="x0")[0])
    tips = find(sp, "rect", x="x0")[0]["encoding"]["tooltip"]
    assert [t["title"] for t in tips] == ["Month", "Median", "50% of runs", "80% of runs", "95% of runs",
                                          "Median ('crackdown')", "80% of runs ('crackdown')"]
    by_date = {r["date"]: r for r in cmp_rows}
    for r in h:
        c = by_date.get(r["date"], {"Median": "", "80% of runs": ""})  # blank past the comparison's horizon
        assert (r["t5"], r["t6"]) == (c["Median"], c["80% of runs"])
    assert h[0]["t0"] == "start, Mar 2013" and h[-1]["date"] == "2014-05-01" and h[-1]["t5"] == ""
    assert h[10]["t5"] == pts(cvals[-1, 3], 2) and len(h) == 15
    assert [r["date"] for r in h] == sorted(r["date"] for r in h)


def test_screen_fan_of_another_variable_pads_its_own_range(base, crack):
    data = C.fan_data(base, "repression", compare=crack)
    sp = S.fan(data).spec()
    f, cf = data.values["f"], data.values["compare"]["f"]
    vals = [f.min().min(), f.max().max(), data.values["init"], cf.min().min(), cf.max().max()]
    pad = 0.04 * (max(vals) - min(vals))
    med = find(sp, "line", y="q500")[0]
    assert med["encoding"]["y"]["scale"]["domain"] == pytest.approx([min(vals) - pad, max(vals) + pad], abs=1e-12)
    assert med["encoding"]["y"]["title"] == C.VAR_LABELS["repression"]
    assert not find(sp, "rect", y="lo")  # no relations bands
    assert rows(sp, med)[-1]["Median"] == f"{f[0.5].iloc[-1]:.3g}"
    flat = base.copy()
    flat["repression"] = base["repression"] * 0 + 0.5
    flat.attrs["scenario_toml"] = ""
    sp = S.fan(C.fan_data(flat, "repression")).spec()
    assert find(sp, "line", y="q500")[0]["encoding"]["y"]["scale"]["domain"] == pytest.approx([0.46, 0.54])
    assert not find(sp, "point", y="value")  # no start value known: no marker


def test_screen_outcomes_rows_and_encodings(major, base):
    data = C.outcome_data(major, compare=base)
    sp = S.outcomes(data).spec()
    bars = find(sp, "bar", x="p", y="Outcome")
    assert len(bars) == 1
    got = rows(sp, bars[0])
    i = 0
    for j, (name, ds) in enumerate((("major_incident", major), ("baseline", base))):
        for k, (p, se) in _outcomes_by_hand(ds).items():
            r = got[i]
            i += 1
            err = Z95 * se
            colour = C.OUTCOME_STYLE[k][0]
            words = f"{phia(p)}{dagger(p, se)}"
            assert r == pytest.approx({
                "Outcome": C.OUTCOME_TEXT[k].split("\n")[0], "Scenario": name, "p": p, "lo": max(0.0, p - err),
                "hi": min(1.0, p + err), "fill": colour if j == 0 else S.hex_mix(colour, 0.45),
                "Probability": f"{100 * p:.1f}% \u00b1 {100 * err:.1f}", "Words": words,
                "Class": C.OUTCOME_TEXT[k].replace("\n", " "),
                "label": f"{name}: {100 * p:.1f}% \u00b1 {100 * err:.1f}  {words}"})
    assert i == len(got)
    one = rows(S.outcomes(C.outcome_data(major)).spec(), find(S.outcomes(C.outcome_data(major)).spec(), "bar")[0])
    assert not one[0]["label"].startswith("major_incident:")


def test_screen_waterfall_rows(base):
    data = C.waterfall_data(base)
    sp = S.waterfall(data).spec()
    bars = find(sp, "bar", x="a", x2="b")
    got = rows(sp, bars[0])
    level = 0.0
    for i, ((label, val, kind), r) in enumerate(zip(data.values["rows"], got, strict=True)):
        if kind == "total":
            a, b = 0.0, val
        else:
            a, b = level, level + val
        level = b
        assert (r["Driver"], r["order"], r["kind"]) == (label, i, "level" if kind == "total" else "contribution")
        assert (r["a"], r["b"], r["right"]) == pytest.approx((a, b, max(a, b)), abs=1e-12)
        assert r["Value"] == pts(val, 2) and r["Level after"] == pts(b, 2)


def test_screen_stacked_events_trajectories_exports_compare_data(base, crack):
    sp = S.stacked(C.stacked_data(base)).spec()
    area = find(sp, "area", x="date", y="value")[0]
    d = C.stacked_data(base)
    got = rows(sp, area)
    n = len(d.values["xs"])
    for s, (label, vals) in enumerate(d.values["series"].items()):
        chunk = got[s * n:(s + 1) * n]
        assert {r["series"] for r in chunk} == {f"{label} ({pts(vals[-1])})"}
        np.testing.assert_allclose([r["value"] for r in chunk], [0.0, *vals], atol=1e-12, rtol=0)
    sp = S.events(C.events_data(base)).spec()
    ev = events_by_hand(base)
    lines = rows(sp, find(sp, "line", y="p")[0])
    assert [r["p"] for r in lines] == pytest.approx([p for y in ev.values() for p in [0.0, *y]], abs=1e-15)
    sp = S.trajectories(C.trajectories_data(base, 3, 1)).spec()
    paths = rows(sp, find(sp, "line", y="value", detail="run")[0])
    pick = np.sort(np.random.default_rng(1).choice(40, size=3, replace=False))
    assert [r["run"] for r in paths] == [f"run {i}" for i in pick for _ in range(15)]
    np.testing.assert_allclose([r["value"] for r in paths],
                               np.concatenate([[1.0, *base["relations"].values[i]] for i in pick]), atol=1e-12, rtol=0)
    sp = S.exports(C.exports_data(base)).spec()
    years, hist = trade_history()
    hrows = rows(sp, find(sp, "point", y="value")[-1])
    assert [r["Year"] for r in hrows] == [str(y) for y in years] and [r["value"] for r in hrows] == list(hist)
    sp = S.compare(C.compare_data({"b": base, "c": crack})).spec()
    dots = rows(sp, find(sp, "point", x="p")[0])
    for r in dots:
        p, se = _outcomes_by_hand(base if r["Scenario"] == "b" else crack)[
            next(k for k in OUTCOMES if C.OUTCOME_TEXT[k].split("\n")[0] == r["Outcome"])]
        assert (r["p"], r["lo"], r["hi"]) == pytest.approx((p, p - Z95 * se, p + Z95 * se), abs=1e-15)


def test_chart_data_and_screen_chart_dispatch(base, crack):
    for chart, want in (("fan", C.fan_data(base)), ("outcomes", C.outcome_data(base)),
                        ("contributions", C.waterfall_data(base)), ("contributions-stacked", C.stacked_data(base)),
                        ("exports", C.exports_data(base)), ("events", C.events_data(base)),
                        ("trajectories", C.trajectories_data(base, 8, 0)),
                        ("compare_fan", C.fan_data(base, compare=crack)),
                        ("compare", C.compare_data({"now": base, "then": crack}))):
        got = S.chart_data(chart, base, crack, ("now", "then"))
        assert (got.kind, got.title, got.note) == (want.kind, want.title, want.note), chart
        sc = S.screen_chart(chart, base, crack, ("now", "then"))
        assert isinstance(sc, S.ScreenChart) and S.title_text(S.spec(sc)) == want.title, chart
        assert S.spec(sc) == sc.spec() and S.spec(sc)["datasets"] == sc.datasets
    assert set(S.chart_data("compare", base, crack).values["fans"]) == {"current", "preset"}
    assert S.chart_data("compare_fan", base, crack).values["compare"]["name"] == "crackdown"
    assert S.chart_data("fan", base).values["var"] == "relations"
    assert len(S.chart_data("trajectories", base).values["paths"]) == 8
    with pytest.raises(KeyError) as err:
        S.chart_data("nope", base)
    assert err.value.args == ("nope",)
    sp = S.screen_chart("compare_fan", base, crack).spec()
    assert [series_of(m) for m in find(sp, "line", y="q500")] == ["Median ('baseline')", "Median ('crackdown')"]


def test_chart_datasets_are_named_once_per_frame():
    df1, df2 = pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [3]})

    @S._screen
    def build(data):
        c1 = S._chart(df1).mark_point().encode(x="a:Q")
        c2 = S._chart(df1, "s").mark_line().encode(x="a:Q")
        c3 = S._chart(df2).mark_rule().encode(x="b:Q")
        return S._layer(c1, c2, c3, width=5)

    sc = build(C.ChartData("k", "t", "n"))
    assert sc.datasets == {"d0": [{"a": 1}, {"a": 2}], "d1": [{"b": 3}]}
    lay = sc.chart["layer"]
    assert [x["data"]["name"] for x in lay] == ["d0", "d0", "d1"]
    assert sc.chart["width"] == 5 and not any(k in x for x in lay for k in ("$schema", "config", "datasets"))
    assert series_of(lay[1]) == "s" and "transform" not in lay[0] and "transform" not in lay[2]
    assert lay[1]["transform"] == [{"calculate": '"s"', "as": "series"}]
    assert sc.spec() == {**sc.chart, "datasets": sc.datasets}


def test_axes_encodings():
    ax = S._Axes(("2013-03-01", "2014-05-01"), (-2.0, 6.0), "Y title", yfmt=".0%", label_expr="E",
                 colour=alt.Scale(domain=["a"]), legend=False)
    x = ax.x().to_dict()
    assert x == {"field": "date", "type": "temporal", "title": None,
                 "scale": {"type": "utc", "domain": [S._utc("2013-03-01"), S._utc("2014-05-01")]},
                 "axis": {"format": "%Y", "tickCount": "year", "gridColor": "#EBEBEB"}}
    assert ax.x("x0").to_dict()["field"] == "x0" and ax.x2("x1").to_dict() == {"field": "x1"}
    assert ax.y("v").to_dict() == {"field": "v", "type": "quantitative", "title": "Y title",
                                   "scale": {"domain": [-2.0, 6.0], "nice": False, "zero": False},
                                   "axis": {"format": ".0%", "labelExpr": "E"}}
    assert ax.series().to_dict() == {"field": "series", "type": "nominal", "scale": {"domain": ["a"]}, "sort": None,
                                     "legend": None}
    plain = S._Axes(("2013-03-01", "2013-04-01"), (0, 1), "T")
    assert plain.y("v").to_dict()["axis"] == {}
    assert plain.series().to_dict()["legend"] == {"title": None} and plain.series().to_dict()["scale"] is None
    assert S._opacity(None) is alt.Undefined
    sel = alt.selection_point(fields=["series"], bind="legend")
    assert S._opacity(sel, 0.5).to_dict() == {"condition": {"param": sel.name, "value": 0.5, "empty": True},
                                               "value": S.HIDDEN}
    assert S._opacity(sel).to_dict()["condition"]["value"] == 1.0


# ---------------------------------------------------------------- screen: each chart's frames and encodings

def enc_fields(layer: dict) -> dict:
    """channel -> field (or value) of a layer's encodings."""
    return {ch: (e.get("field") if isinstance(e, dict) else e) for ch, e in layer.get("encoding", {}).items()
            if not isinstance(e, list)}


def tip_of(layer: dict) -> list[tuple[str, str | None]]:
    return [(t["field"], t.get("title")) for t in layer["encoding"].get("tooltip", [])]


def test_screen_exports_frames_range_and_encodings(base):
    data = C.exports_data(base)
    v = data.values
    sp = S.exports(data).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT) and S.title_text(sp) == data.title
    years, hist = trade_history()
    top = max(float(v["f"].max().max()), float(max(hist)))
    med = find(sp, "line", y="q500")[0]
    assert med["encoding"]["y"]["scale"]["domain"] == pytest.approx([0.0, 1.05 * top])
    assert med["encoding"]["y"]["axis"]["labelExpr"] == (
        "datum.value == 0 ? '0' : '\u00a3' + format(datum.value / 1000, ',.0f') + 'bn'")
    assert med["encoding"]["x"]["scale"]["domain"] == [S._utc(t) for t in v["xlim"]]
    assert med["encoding"]["x"]["axis"]["tickCount"] == {"interval": "year", "step": 2}
    assert series_of(med) == "Simulated median (monthly value \u00d7 12)"
    assert med["encoding"]["color"]["scale"]["domain"] == ["Recorded, calendar year (ONS)",
                                                           "Simulated median (monthly value \u00d7 12)",
                                                           "50% of runs", "80% of runs", "95% of runs"]
    g = C.OKABE_ITO["green"]
    assert med["encoding"]["color"]["scale"]["range"] == ["#000000", S.hex_mix(g, 1.0), S.hex_mix(g, 0.68),
                                                          S.hex_mix(g, 0.42), S.hex_mix(g, 0.22)]
    fr = rows(sp, med)
    init = float(tomllib.loads(base.attrs["scenario_toml"])["initial"]["exports_gbp_m"])
    dates, vals = expected_fan(base, "exports_gbp_m", init, 12.0)
    assert fr[0]["Month"] == "start, Mar 2013" and fr[-1]["Month"] == "Apr 2014"
    for r, q in zip(fr, vals, strict=True):
        assert r["Median"] == f"\u00a3{q[3] / 1000:.2f}bn"
        assert r["80% of runs"] == f"\u00a3{q[1] / 1000:.2f}bn to \u00a3{q[5] / 1000:.2f}bn"
    hl = find(sp, "line", y="value")
    assert len(hl) == 1
    assert rows(sp, hl[0]) == [{"date": f"{y}-07-01", "Year": str(y), "Exports": f"\u00a3{h / 1000:.2f}bn",
                                "value": float(h), "series": "Recorded, calendar year (ONS)"}
                               for y, h in zip(years, hist, strict=True)]
    assert tip_of(hl[0]) == [("Year", None), ("Exports", "Recorded (ONS)")]
    pts_ = find(sp, "point", y="value")
    assert len(pts_) == 1 and rows(sp, pts_[0]) is rows(sp, hl[0]) and tip_of(pts_[0]) == tip_of(hl[0])
    st = [r for r in find(sp, "rule", x="date") if rows(sp, r)[0].get("what")]
    assert rows(sp, st[0]) == [{"date": "2013-03-01", "what": "Simulation starts Mar 2013"}]
    cols = find(sp, "rect", x="x0")[0]
    assert [t for _, t in tip_of(cols)] == ["Month", "Median", "50% of runs", "80% of runs", "95% of runs"]
    assert rows(sp, cols)[0]["y1"] == pytest.approx(1.05 * top) and rows(sp, cols)[0]["y0"] == 0.0


def test_screen_events_frames_and_encodings(base):
    data = C.events_data(base)
    v = data.values
    sp = S.events(data).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT)
    ev = events_by_hand(base)
    names = ["start, Mar 2013"] + [mon(t) for t in base["time"].values]
    iso = [t.strftime("%Y-%m-%d") for t in expected_fan(base, "relations", 1.0)[0]]
    line = find(sp, "line", y="p")[0]
    want = [{"date": d, "Month": m, "series": k, "p": p, "Probability": f"{100 * p:.1f}%"}
            for k, y in ev.items() for d, m, p in zip(iso, names, [0.0, *y], strict=True)]
    assert rows(sp, line) == pytest.approx(want)
    e = line["encoding"]
    assert e["color"]["scale"] == {"domain": list(ev), "range": list(C.EVENT_COLOURS[:5])}
    assert e["strokeDash"]["field"] == "series" and e["strokeDash"]["scale"]["domain"] == list(ev)
    assert e["strokeDash"]["scale"]["range"][:3] == [[1, 0], [6, 3], [6, 2, 1, 2]] and e["strokeDash"]["legend"] is None
    assert e["y"]["scale"]["domain"] == [0.0, 1.0] and e["y"]["axis"] == {"format": ".0%"}
    assert e["y"]["title"] == "Probability the event has happened (share of runs, cumulative)"
    assert e["x"]["scale"]["domain"] == [S._utc(iso[0]), S._utc(iso[-1])]
    assert tip_of(line) == [("series", "Event"), ("Month", None), ("Probability", None)]
    sel = line["params"][0]
    assert sel["select"] == {"type": "point", "fields": ["series"]} and sel["bind"] == "legend"
    assert e["opacity"]["condition"]["param"] == sel["name"]
    cols = find(sp, "rect", x="x0")[0]
    assert [t for _, t in tip_of(cols)] == ["Month", *ev]
    for i, r in enumerate(rows(sp, cols)):
        assert r["t0"] == names[i]
        for j, y in enumerate(ev.values(), start=1):
            assert r[f"t{j}"] == f"{100 * [0.0, *y][i]:.1f}%"
        assert (r["y0"], r["y1"]) == (0.0, 1.0)
    end = find(sp, "point", y="p")[0]
    runs = base.sizes["run"]
    assert rows(sp, end) == pytest.approx([
        {"date": "2014-05-01", "series": k, "p": float(y[-1]), "Month": "Apr 2014",
         "Probability": f"{100 * y[-1]:.1f}%",
         "Words": f"{phia(float(y[-1]))}{dagger(float(y[-1]), np.sqrt(y[-1] * (1 - y[-1]) / runs))}"}
        for k, y in ev.items()])
    assert tip_of(end) == [("series", "Event"), ("Month", None), ("Probability", None), ("Words", "PHIA")]
    assert end["encoding"]["shape"]["field"] == "series" and end["encoding"]["color"]["field"] == "series"
    assert v["horizon"] == "Apr 2014"


def test_screen_trajectories_frames_and_encodings(base):
    data = C.trajectories_data(base, 2, 5)
    v = data.values
    sp = S.trajectories(data).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT)
    pick = [int(i) for i in np.sort(np.random.default_rng(5).choice(40, size=2, replace=False))]
    names = ["start, Mar 2013"] + [mon(t) for t in base["time"].values]
    iso = [t.strftime("%Y-%m-%d") for t in expected_fan(base, "relations", 1.0)[0]]
    paths = find(sp, "line", y="value", detail="run")[0]
    rel = base["relations"].values
    assert rows(sp, paths) == pytest.approx([
        {"date": d, "Month": m, "run": f"run {r}", "k": j, "value": a, "Relations": pts(a, 2)}
        for j, r in enumerate(pick) for d, m, a in zip(iso, names, [1.0, *rel[r]], strict=True)])
    assert tip_of(paths) == [("run", "Sample"), ("Month", None), ("Relations", None)]
    assert paths["encoding"]["stroke"]["field"] == "run" and paths["encoding"]["stroke"]["legend"] is None
    assert paths["encoding"]["stroke"]["scale"]["range"] == list(C.SERIES)
    area = find(sp, "area", y="q100", y2="q900")
    assert len(area) == 1 and series_of(area[0]) == "80% of runs"
    med = find(sp, "line", y="q500")
    assert len(med) == 1 and series_of(med[0]) == "Median of all runs"
    assert med[0]["encoding"]["color"]["scale"] == {
        "domain": ["Median of all runs", "80% of runs", "Sample runs"],
        "range": ["#000000", S.hex_mix(C.OKABE_ITO["blue"], 0.25), C.SERIES[0]]}
    assert med[0]["encoding"]["y"]["scale"]["domain"] == list(v["ylim"])
    assert med[0]["encoding"]["x"]["scale"]["domain"] == [S._utc(iso[0]), S._utc(iso[-1])]
    legend = [r for r in find(sp, "line", y="value") if rows(sp, r) != rows(sp, paths)]
    assert len(legend) == 1 and rows(sp, legend[0]) == [{"series": "Sample runs", "date": iso[0], "value": 1.0}]
    assert legend[0]["encoding"]["color"]["field"] == "series"
    st = find(sp, "point", y="value")[0]
    assert rows(sp, st) == [{"date": iso[0], "what": "Simulation starts Mar 2013", "value": 1.0,
                             "label": "Start Mar 2013: +1.00"}]
    cols = find(sp, "rect", x="x0")[0]
    assert [t for _, t in tip_of(cols)] == ["Month", "Median", "80% of runs"]
    r0 = rows(sp, cols)[-1]
    q = expected_fan(base, "relations", 1.0)[1][-1]
    assert (r0["t0"], r0["t1"], r0["t2"]) == ("Apr 2014", pts(q[3], 2), f"{pts(q[1], 2)} to {pts(q[5], 2)}")
    assert (r0["y0"], r0["y1"]) == tuple(float(y) for y in v["ylim"])
    assert rows(sp, find(sp, "rect", y="lo")[0])[0]["date"] == iso[-1]  # band names at the right edge


def test_screen_outcome_encodings(major, base):
    data = C.outcome_data(major, compare=base)
    sp = S.outcomes(data).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT)
    order = [C.OUTCOME_TEXT[k].split("\n")[0] for k in OUTCOMES]
    bars, whisk, text = find(sp, "bar")[0], find(sp, "rule")[0], find(sp, "text")[0]
    for lay in (bars, whisk, text):
        e = lay["encoding"]
        assert e["y"]["field"] == "Outcome" and e["y"]["sort"] == order
        assert e["yOffset"] == {"field": "Scenario", "sort": ["major_incident", "baseline"], "type": "nominal"}
        assert tip_of(lay) == [("Class", None), ("Scenario", None), ("Probability", "Probability (95% interval)"),
                               ("Words", "PHIA")]
        assert rows(sp, lay) is rows(sp, bars)
    assert bars["encoding"]["x"]["field"] == "p" and bars["encoding"]["fill"]["field"] == "fill"
    assert bars["encoding"]["x"]["title"] == "Probability of each outcome in Apr 2014 (share of runs)"
    assert bars["encoding"]["x"]["scale"] == {"domain": [0, 1]}
    assert (whisk["encoding"]["x"]["field"], whisk["encoding"]["x2"]["field"]) == ("lo", "hi")
    assert (text["encoding"]["x"]["field"], text["encoding"]["text"]["field"]) == ("hi", "label")
    one = S.outcomes(C.outcome_data(major)).spec()
    assert "yOffset" not in find(one, "bar")[0]["encoding"]
    r = rows(one, find(one, "bar")[0])
    assert [x["fill"] for x in r] == [C.OUTCOME_STYLE[k][0] for k in OUTCOMES]
    p, se = _outcomes_by_hand(major)["rupture"]
    assert r[0]["label"] == f"{100 * p:.1f}% \u00b1 {100 * Z95 * se:.1f}  {phia(p)}{dagger(p, se)}"
    assert min(x["lo"] for x in r) == 0.0  # clipped at 0


def test_screen_waterfall_range_fill_and_encodings(base):
    data = C.waterfall_data(base)
    sp = S.waterfall(data).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT)
    bars = find(sp, "bar", x="a", x2="b")[0]
    got = rows(sp, bars)
    for (label, val, kind), r in zip(data.values["rows"], got, strict=True):
        colour = "#7F7F7F" if kind == "total" else C.OKABE_ITO["blue"] if val >= 0 else C.OKABE_ITO["vermillion"]
        assert r["fill"] == S.hex_mix(colour, 0.85), label
    assert {r["fill"] for r in got} >= {S.hex_mix(C.OKABE_ITO["blue"], 0.85), S.hex_mix(C.OKABE_ITO["vermillion"],
                                                                                         0.85)}
    ends = [0.0] + [r["a"] for r in got] + [r["b"] for r in got]
    lo, hi = min(ends), max(ends)
    pad = 0.04 * (hi - lo)
    e = bars["encoding"]
    assert e["x"]["scale"] == pytest.approx({"domain": [lo - pad, hi + pad], "nice": False})
    assert e["x"]["title"] == "Relations index (Goldstein points): mean over runs"
    assert e["y"]["field"] == "Driver" and e["y"]["sort"] == [r[0] for r in data.values["rows"]]
    assert tip_of(bars) == [("Driver", None), ("Value", "Points"), ("Level after", "Level after"), ("kind", "Bar")]
    assert e["fill"] == {"field": "fill", "scale": None, "type": "nominal"}
    vals = find(sp, "text", x="right", text="Value")
    assert len(vals) == 1 and rows(sp, vals[0]) is got and tip_of(vals[0]) == tip_of(bars)
    zero = find(sp, "rule", x="z")
    assert len(zero) == 1 and rows(sp, zero[0]) == [{"z": 0.0}]


def test_screen_stacked_frames_and_encodings(base):
    data = C.stacked_data(base)
    v = data.values
    sp = S.stacked(data).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT)
    names = ["start, Mar 2013"] + [mon(t) for t in base["time"].values]
    iso = [t.strftime("%Y-%m-%d") for t in v["xs"]]
    area = find(sp, "area", x="date", y="value")[0]
    want = [{"date": d, "Month": m, "series": f"{label} ({pts(vals[-1])})", "value": a, "Points": pts(a, 2)}
            for label, vals in v["series"].items() for d, m, a in zip(iso, names, [0.0, *vals], strict=True)]
    assert rows(sp, area) == pytest.approx(want)
    net = v["net"]
    net_name = f"Net change in mean relations ({pts(net[-1])})"
    line = find(sp, "line", y="value")[0]
    assert rows(sp, line) == pytest.approx([{"date": d, "Month": m, "value": a, "Points": pts(a, 2), "series": net_name}
                                            for d, m, a in zip(iso, names, net, strict=True)])
    labels = [f"{label} ({pts(vals[-1])})" for label, vals in v["series"].items()]
    assert area["encoding"]["color"]["scale"] == {"domain": labels + [net_name],
                                                  "range": [C.SERIES[i % 7] for i in range(len(labels))]
                                                  + ["#000000"]}
    assert area["encoding"]["y"]["stack"] == "zero" and area["encoding"]["y"]["title"] == (
        "Cumulative contribution since the start (Goldstein points, mean)")
    assert area["encoding"]["x"]["scale"]["domain"] == [S._utc(iso[0]), S._utc(iso[-1])]
    assert tip_of(area) == tip_of(line) == [("series", "Driver"), ("Month", None), ("Points", None)]
    assert line["encoding"]["color"]["field"] == "series"


def test_screen_compare_frames_and_encodings(base, crack):
    data = C.compare_data({"c": crack, "b": base})
    v = data.values
    sp = S.compare(data).spec()
    left, right = sp["hconcat"]
    assert left["width"] == 520 and right["width"] == 300 and left["height"] == right["height"] == S.HEIGHT
    assert left["title"]["text"] == "Relations: median (thick) and 80% of runs (thin)"
    assert right["title"]["text"] == "Outcome probabilities"
    labels = {n: f"{n} (median {pts(v['medians'][n])})" for n in ("c", "b")}
    lines = find(left, "line")
    assert [lay["encoding"]["y"]["field"] for lay in lines] == ["q100", "q900", "q500"]
    fr = rows(sp, lines[0])
    exp = []
    for n, ds in (("c", crack), ("b", base)):
        dates, vals = expected_fan(ds, "relations", 1.0)
        nm = ["start, Mar 2013"] + [mon(t) for t in ds["time"].values]
        exp += [{"date": d.strftime("%Y-%m-%d"), "Month": m, "q500": q[3], "Median": pts(q[3], 2),
                 "80% of runs": f"{pts(q[1], 2)} to {pts(q[5], 2)}", "series": labels[n], "Scenario": n}
                for d, m, q in zip(dates, nm, vals, strict=True)]
    assert [{k: r[k] for k in exp[0]} for r in fr] == pytest.approx(exp)
    sel = lines[2]["params"][0]
    assert sel["bind"] == "legend" and "params" not in lines[0] and "params" not in lines[1]
    col = lines[0]["encoding"]["color"]
    assert col["scale"] == {"domain": [labels["c"], labels["b"]], "range": [C.SERIES[0], C.SERIES[1]]}
    assert lines[0]["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [6, 3]]
    assert lines[0]["encoding"]["y"]["scale"]["domain"] == list(v["ylim"])
    assert lines[0]["encoding"]["x"]["scale"]["domain"] == [S._utc(t) for t in v["xlim"]]
    area = find(left, "area")[0]
    assert (area["encoding"]["y"]["field"], area["encoding"]["y2"]["field"]) == ("q100", "q900")
    assert area["encoding"]["opacity"]["condition"] == {"param": sel["name"], "value": 0.12, "empty": True}
    assert area["encoding"]["detail"]["field"] == "series"
    assert tip_of(area) == [("Scenario", None), ("Month", None), ("Median", None), ("80% of runs", None)]
    assert rows(sp, find(left, "rect", y="lo")[0])[0]["date"] == "2014-05-01"
    whisk, dots = find(right, "rule")[0], find(right, "point")[0]
    assert rows(sp, whisk) is rows(sp, dots)
    want = []
    for n, ds in (("c", crack), ("b", base)):
        for k, (p, se) in _outcomes_by_hand(ds).items():
            want.append({"Outcome": C.OUTCOME_TEXT[k].split("\n")[0], "Scenario": n, "series": labels[n], "p": p,
                         "lo": p - Z95 * se, "hi": p + Z95 * se,
                         "Probability": f"{100 * p:.1f}% \u00b1 {100 * Z95 * se:.1f}",
                         "Words": f"{phia(p)}{dagger(p, se)}"})
    assert rows(sp, dots) == pytest.approx(want)
    assert whisk["transform"] == [{"calculate": "datum.lo", "as": "p"}] and whisk["encoding"]["x2"]["field"] == "hi"
    for lay in (whisk, dots):
        e = lay["encoding"]
        assert e["y"]["sort"] == [C.OUTCOME_TEXT[k].split("\n")[0] for k in OUTCOMES]
        assert e["yOffset"]["sort"] == ["c", "b"] and e["x"]["field"] == "p"
        assert e["x"]["title"] == "Probability in Dec 2013"
        assert e["x"]["scale"] == {"domain": [-0.02, 1.02], "nice": False}
        assert e["color"]["scale"] == col["scale"] and e["color"]["legend"] is None
        assert tip_of(lay) == [("Scenario", None), ("Outcome", None), ("Probability", "Probability (95% interval)"),
                               ("Words", "PHIA")]
        assert e["opacity"]["condition"]["param"] == sel["name"]
    assert dots["encoding"]["shape"]["scale"]["range"] == ["circle", "square"]


# ---------------------------------------------------------------- edges found by the campaign

def test_fan_data_relations_without_a_known_start_or_names(base, crack):
    ds = base.copy()
    ds.attrs = {k: v for k, v in base.attrs.items() if k not in ("initial_relations", "scenario", "scenario_toml")}
    d = C.fan_data(ds)
    dates, vals = expected_fan(base, "relations", None)
    assert_frame(d.values["x"], d.values["f"], dates, vals)
    assert d.values["init"] is None and d.values["scenario"] == "?"
    assert d.values["ylim"] == snap([vals.min(), vals.max()])
    other = crack.copy()
    other.attrs = {k: v for k, v in crack.attrs.items() if k != "scenario"}
    t = C.fan_data(base, compare=other).title
    assert t.endswith(f"; '?' median {pts(float(np.median(crack['relations'].values[:, -1])))}")


def test_outcome_note_marks_an_unsettled_class_without_a_comparison(base):
    d = C.outcome_data(_outcome_ds({"cool": 52, "thaw": 48}, base))  # 'confrontation or worse' settled at 0
    assert C.UNSETTLED in d.note


def test_stacked_title_of_no_movement_says_added(base):
    ds = base.copy()
    for k in DRIVERS:
        ds[f"contrib_{k}"] = base[f"contrib_{k}"] * 0.0
    assert " has added to relations 0.0 points on average" in C.stacked_data(ds).title


def test_exports_title_rounds_each_figure_in_billions(base):
    """Medians chosen just above a rounding edge: \u00a33,052m is \u00a33.1bn (3,052/1,001 would print 3.0)."""
    _, hist = trade_history()
    last = float(hist[-1])
    ds = base.copy()
    ex = base["exports_gbp_m"].values.copy()
    ex[:, -1] = np.array([3052.0] * 5 + [last] * 30 + [7052.0] * 5) / 12  # P10, median and P90 exactly
    ds["exports_gbp_m"] = (("run", "time"), ex)
    t = C.exports_data(ds).title
    assert t == (f"Exports to Russia: median annualised \u00a3{last / 1000:.1f}bn in Apr 2014, 0% below 2012's "
                 f"\u00a3{last / 1000:.1f}bn (80% of runs \u00a33.1bn to \u00a37.1bn)")
    ex[:, -1] = np.array([3000.0] * 5 + [5052.0] * 30 + [7000.0] * 5) / 12
    ds["exports_gbp_m"] = (("run", "time"), ex)
    assert C.exports_data(ds).title.startswith("Exports to Russia: median annualised \u00a35.1bn in Apr 2014, 5% above")


def test_events_note_reads_the_last_month(crack):
    never = [-1] * 30
    ds = _with_events(crack, {"suspended": never, "expelled": never, "sanctions": [0] * 30, "major": never,
                              "crisis": [9] + never[1:]})  # one run in the last month only: 1 in 30, unsettled
    assert C.events_data(ds).note.endswith(f" Words: PHIA probability yardstick{C.UNSETTLED}.")


def test_trajectories_title_when_every_run_turns_confrontational(major):
    d = C.trajectories_data(major)
    rel = major["relations"].values
    assert (rel <= -2).any(axis=1).all()
    med = float(np.median(rel[:, -1]))
    assert d.title == ("Single futures are far more volatile than the median: 100% of runs turn confrontational or "
                       f"worse at some point, while the median ends at {pts(med)}")


def test_compare_range_covers_every_scenario(major, crack):
    d = C.compare_data({"m": major, "c": crack})
    _, mv = expected_fan(major, "relations", 1.0)
    _, cv = expected_fan(crack, "relations", 1.0)
    assert mv[:, 1].min() < cv[:, 1].min()
    assert d.values["ylim"] == snap([mv[:, 1].min(), cv[:, 1].min(), mv[:, 5].max(), cv[:, 5].max()])


def _built(fn):
    """Run a layer-building function under the screen renderer's dataset registry."""
    return S._screen(lambda data: S._layer(*fn()))(C.ChartData("k", "t", "n"))


def test_bands_clipped_to_the_range_and_their_marks():
    ax = S._Axes(("2013-03-01", "2014-03-01"), (-2.5, 6.0), "y")
    sc = _built(lambda: S._bands(ax, (-2.5, 6.0), pd.Timestamp("2014-03-01")))
    assert sc.datasets["d0"] == [
        {"band": "confrontational", "lo": -2.5, "hi": -2.0, "mid": -2.25, "fill": C.BAND_COLOURS["confrontational"],
         "range": f"{M}6.0 to {M}2.0", "date": "2014-03-01", "label": ""},  # too narrow to name
        {"band": "cool", "lo": -2.0, "hi": 2.0, "mid": 0.0, "fill": C.BAND_COLOURS["cool"], "range": f"{M}2.0 to +2.0",
         "date": "2014-03-01", "label": "cool"},
        {"band": "constructive", "lo": 2.0, "hi": 6.0, "mid": 4.0, "fill": C.BAND_COLOURS["constructive"],
         "range": "+2.0 to +6.0", "date": "2014-03-01", "label": "constructive"}]
    rect, text = sc.chart["layer"]
    assert rect["mark"] == {"type": "rect", "stroke": "#FFFFFF", "strokeWidth": 1.2}
    assert text["mark"] == {"type": "text", "align": "right", "dx": -4, "color": "#555555", "font": S.FONT,
                            "fontSize": 11, "fontStyle": "italic"}
    sc = _built(lambda: S._bands(ax, (-1.0, 3.5), pd.Timestamp("2014-03-01")))
    assert [(r["lo"], r["hi"], r["label"]) for r in sc.datasets["d0"]] == [(-1.0, 2.0, "cool"),
                                                                          (2.0, 3.5, "constructive")]  # 1.5 is enough


def test_start_marks_with_and_without_a_value():
    ax = S._Axes(("2013-03-01", "2014-03-01"), (0, 1), "y")
    sc = _built(lambda: S._start(ax, pd.Timestamp("2013-03-01"), 0.25, lambda a: f"<{a}>"))
    assert sc.datasets["d0"] == [{"date": "2013-03-01", "what": "Simulation starts Mar 2013", "value": 0.25,
                                  "label": "Start Mar 2013: <0.25>"}]
    rule, point, text = sc.chart["layer"]
    assert rule["mark"] == {"type": "rule", "color": "#333333", "strokeDash": [2, 3]}
    assert point["mark"] == {"type": "point", "filled": True, "color": "#000000", "size": 50, "opacity": 1}
    assert text["mark"] == {"type": "text", "align": "left", "dx": 8, "dy": -10, "font": S.FONT, "fontSize": 11,
                            "color": "#222222"}
    assert enc_fields(point) == {"x": "date", "y": "value"} and tip_of(point) == [("label", "Start")]
    assert enc_fields(text) == {"x": "date", "y": "value", "text": "label"}
    assert enc_fields(rule) == {"x": "date"} and tip_of(rule) == [("what", "Start")]
    sc = _built(lambda: S._start(ax, pd.Timestamp("2013-03-01"), None, str))
    assert sc.datasets["d0"] == [{"date": "2013-03-01", "what": "Simulation starts Mar 2013"}]
    assert len(sc.chart["layer"]) == 1


def test_hover_columns_for_one_and_two_months():
    ax = S._Axes(("2013-01-01", "2013-03-01"), (0, 1), "y")
    one = pd.DataFrame({"date": ["2013-03-01"], "Month": ["Feb 2013"]})
    sc = _built(lambda: S._hover(ax, one, ["Month"], (0.0, 2.0)))
    assert sc.datasets["d0"] == [{"date": "2013-03-01", "t0": "Feb 2013", "x0": "2013-02-14", "x1": "2013-03-16",
                                  "y0": 0.0, "y1": 2.0}]  # 15 days either side of a lone month
    rule, cols = sc.chart["layer"]
    assert rule["mark"] == {"type": "rule", "color": "#333333", "strokeWidth": 1}
    assert cols["mark"] == {"type": "rect", "fill": "#FFFFFF", "opacity": 0.001}  # invisible, but takes the pointer
    two = pd.DataFrame({"date": ["2013-01-01", "2013-03-01"], "Month": ["a", "b"]})
    sc = _built(lambda: S._hover(ax, two, ["Month"], (0.0, 1.0)))
    assert [(r["x0"], r["x1"]) for r in sc.datasets["d0"]] == [("2012-12-02", "2013-01-30"),
                                                                ("2013-01-30", "2013-03-30")]


def test_fan_layers_marks_colours_and_empty_tooltips(base):
    sp = S.fan(C.fan_data(base)).spec()
    for lay in find(sp, "area", x="date") + find(sp, "line", y="q500"):
        assert lay["encoding"]["tooltip"] == [] and lay["encoding"]["color"]["field"] == "series"
    assert find(sp, "line", y="q500")[0]["mark"] == {"type": "line", "strokeWidth": 2.6}
    assert [a["mark"] for a in find(sp, "area", x="date")] == [{"type": "area"}] * 3


LAYERS = {  # each screen chart's layers, bottom to top: mark and the field of each channel
    "fan": ["rect: fill=fill y=lo y2=hi", "area: color=series x=date y=q025 y2=q975",
            "area: color=series x=date y=q100 y2=q900", "area: color=series x=date y=q250 y2=q750",
            "line: color=series x=date y=q500", "line: color=series x=date y=q500", "line: color=series x=date y=q100",
            "line: color=series x=date y=q900", "text: text=label x=date y=mid", "rule: x=date",
            "point: x=date y=value", "text: text=label x=date y=value", "rule: x=date",
            "rect: x=x0 x2=x1 y=y0 y2=y1"],
    "exports": ["area: color=series x=date y=q025 y2=q975", "area: color=series x=date y=q100 y2=q900",
                "area: color=series x=date y=q250 y2=q750", "line: color=series x=date y=q500",
                "line: color=series x=date y=value", "rule: x=date", "rule: x=date", "rect: x=x0 x2=x1 y=y0 y2=y1",
                "point: x=date y=value"],
    "events": ["line: color=series strokeDash=series x=date y=p", "rule: x=date", "rect: x=x0 x2=x1 y=y0 y2=y1",
               "point: color=series shape=series x=date y=p"],
    "trajectories": ["rect: fill=fill y=lo y2=hi", "text: text=label x=date y=mid",
                     "area: color=series x=date y=q100 y2=q900", "line: detail=run stroke=run x=date y=value",
                     "line: color=series x=date y=q500", "line: color=series x=date y=value", "rule: x=date",
                     "point: x=date y=value", "text: text=label x=date y=value", "rule: x=date",
                     "rect: x=x0 x2=x1 y=y0 y2=y1"],
    "outcomes": ["bar: fill=fill x=p y=Outcome yOffset=Scenario", "rule: x=lo x2=hi y=Outcome yOffset=Scenario",
                 "text: text=label x=hi y=Outcome yOffset=Scenario"],
    "waterfall": ["bar: fill=fill x=a x2=b y=Driver", "rule: x=z", "text: text=Value x=right y=Driver"],
    "stacked": ["area: color=series x=date y=value", "line: color=series x=date y=value"],
    "compare": ["rect: fill=fill y=lo y2=hi", "text: text=label x=date y=mid",
                "area: color=series detail=series x=date y=q100 y2=q900",
                "line: color=series strokeDash=series x=date y=q100",
                "line: color=series strokeDash=series x=date y=q900",
                "line: color=series strokeDash=series x=date y=q500",
                "rule: color=series x=p x2=hi y=Outcome yOffset=Scenario",
                "point: color=series shape=series x=p y=Outcome yOffset=Scenario"],
}


def test_every_screen_chart_draws_the_right_fields(base, crack):
    built = {"fan": S.fan(C.fan_data(base, compare=crack)), "exports": S.exports(C.exports_data(base)),
             "events": S.events(C.events_data(base)), "trajectories": S.trajectories(C.trajectories_data(base)),
             "outcomes": S.outcomes(C.outcome_data(base, crack)), "waterfall": S.waterfall(C.waterfall_data(base)),
             "stacked": S.stacked(C.stacked_data(base)), "compare": S.compare(C.compare_data({"a": base, "b": crack}))}
    for name, sc in built.items():
        got = []
        for lay in layers_of(sc.spec()):
            mark = lay["mark"]["type"] if isinstance(lay["mark"], dict) else lay["mark"]
            fields = " ".join(f"{ch}={e['field']}" for ch, e in sorted(lay.get("encoding", {}).items())
                              if isinstance(e, dict) and e.get("field"))
            got.append(f"{mark}: {fields}")
        assert got == LAYERS[name], name


def test_screen_outcome_axes_and_clipped_whiskers(crack):
    sp = S.outcomes(C.outcome_data(crack)).spec()
    bars = find(sp, "bar")[0]
    order = [C.OUTCOME_TEXT[k].split("\n")[0] for k in OUTCOMES]
    assert bars["encoding"]["y"] == {"field": "Outcome", "type": "nominal", "sort": order, "title": None,
                                     "axis": {"labelFontSize": 12, "labelFontWeight": "bold"}}
    assert bars["encoding"]["x"] == {"field": "p", "type": "quantitative", "scale": {"domain": [0, 1]},
                                     "title": "Probability of each outcome in Dec 2013 (share of runs)",
                                     "axis": {"format": ".0%"}}
    assert bars["encoding"]["fill"] == {"field": "fill", "scale": None, "type": "nominal"}  # the colours as given
    got = rows(sp, bars)
    probs = _outcomes_by_hand(crack)
    assert [r["hi"] for r in got] == pytest.approx([min(1.0, p + Z95 * se) for p, se in probs.values()])
    assert max(r["hi"] for r in got) == 1.0 and min(r["lo"] for r in got) == 0.0


def test_screen_waterfall_domain_below_zero_under_one_and_a_zero_step(major, crack, base):
    for ds in (major, crack.assign_attrs(initial_relations=0.2)):
        data = C.waterfall_data(ds)
        sp = S.waterfall(data).spec()
        got = rows(sp, find(sp, "bar")[0])
        ends = [0.0] + [r["a"] for r in got] + [r["b"] for r in got]
        lo, hi = min(ends), max(ends)
        pad = 0.04 * (hi - lo)
        assert find(sp, "bar")[0]["encoding"]["x"]["scale"]["domain"] == pytest.approx([lo - pad, hi + pad])
    assert lo < 0 < hi < 1  # the second: every level under 1
    e = find(sp, "bar")[0]["encoding"]
    assert e["y"] == {"field": "Driver", "type": "nominal", "sort": [r[0] for r in data.values["rows"]],
                      "title": None, "axis": {"labelLimit": 360}}
    flat = base.copy()
    for k in DRIVERS:
        flat[f"contrib_{k}"] = base[f"contrib_{k}"] * 0.0
    flat["contrib_incidents"] = base["contrib_incidents"] * 0.0 - 0.1
    sp = S.waterfall(C.waterfall_data(flat)).spec()
    zero = [r for r in rows(sp, find(sp, "bar")[0]) if r["kind"] == "contribution" and r["Value"] == "0.00"]
    assert zero and all(r["fill"] == S.hex_mix(C.OKABE_ITO["blue"], 0.85) for r in zero)  # 0 counts as up


def test_screen_fan_hover_spans_a_longer_comparison(base, crack):
    data = C.fan_data(crack, compare=base)  # the comparison runs four months past the chart's own scenario
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 4 will refuse fillna("") on a float column: no warning now
        sp = S.fan(data).spec()
    med = find(sp, "line", y="q500")[0]
    assert med["encoding"]["x"]["scale"]["domain"] == [S._utc("2013-03-01"), S._utc("2014-05-01")]
    h = rows(sp, find(sp, "rect", x="x0")[0])
    assert [r["t0"] for r in h] == ["start, Mar 2013"] + [mon(t) for t in base["time"].values]
    assert [r["date"] for r in h] == [t.strftime("%Y-%m-%d") for t in expected_fan(base, "relations", 1.0)[0]]
    assert [r["t1"] == "" for r in h] == [False] * 11 + [True] * 4  # the chart's own median ends in Dec 2013
    _, bvals = expected_fan(base, "relations", 1.0)
    assert [r["t5"] for r in h] == [pts(q[3], 2) for q in bvals]
    plain = S.fan(C.fan_data(base)).spec()
    assert all("params" not in lay for lay in find(plain, "line", y="q500"))  # no legend selection alone
    ev = S.events(C.events_data(base)).spec()
    assert find(ev, "line", y="p")[0]["encoding"]["strokeDash"]["scale"]["range"] == [
        [1, 0], [6, 3], [6, 2, 1, 2], [1, 2], [5, 1, 1, 1], [1, 1]]


def test_screen_axis_titles_legend_scales_and_panel_titles(base, crack, thaw, major):
    sp = S.fan(C.fan_data(base, compare=crack)).spec()
    assert (sp["width"], sp["height"]) == ("container", S.HEIGHT)
    col = find(sp, "line", y="q500")[0]["encoding"]["color"]["scale"]
    assert col["domain"] == ["Median ('baseline')", "50% of runs", "80% of runs", "95% of runs",
                             "Median ('crackdown')", "80% of runs ('crackdown')"]
    assert col["range"] == ["#00406A", S.hex_mix(C.OKABE_ITO["blue"], 0.68), S.hex_mix(C.OKABE_ITO["blue"], 0.42),
                            S.hex_mix(C.OKABE_ITO["blue"], 0.22), C.OKABE_ITO["vermillion"], C.OKABE_ITO["vermillion"]]
    sp = S.fan(C.fan_data(base, "eu_pressure")).spec()  # a variable without a label: its name
    assert find(sp, "line", y="q500")[0]["encoding"]["y"]["title"] == "eu_pressure"
    sp = S.exports(C.exports_data(base)).spec()
    assert find(sp, "line", y="q500")[0]["encoding"]["y"]["title"] == (
        "UK goods exports to Russia, \u00a3 a year (simulated: monthly value \u00d7 12)")
    sp = S.events(C.events_data(base)).spec()
    assert find(sp, "point", y="p")[0]["encoding"]["shape"]["legend"] is None
    sp = S.trajectories(C.trajectories_data(base)).spec()
    assert find(sp, "line", y="q500")[0]["encoding"]["y"]["title"] == (
        "Relations index (Goldstein points, \u221210 conflict to +10 alliance)")
    assert rows(sp, find(sp, "rect", x="x0")[0])[0]["t0"] == "start, Mar 2013"
    assert rows(sp, find(sp, "line", y="q500")[0])[1]["Month"] == "Mar 2013"
    sets = {"c": crack, "b": base, "t": thaw, "m": major}
    sp = S.compare(C.compare_data(sets)).spec()
    left, right = sp["hconcat"]
    assert left["title"] == {"text": "Relations: median (thick) and 80% of runs (thin)", "anchor": "start",
                             "fontSize": 12}
    assert right["title"] == {"text": "Outcome probabilities", "anchor": "start", "fontSize": 12}
    lines = find(left, "line")
    assert [lay["mark"]["strokeWidth"] for lay in lines] == [0.8, 0.8, 2.6]  # thin bands, thick median
    sel = lines[2]["params"][0]
    assert sel["select"] == {"type": "point", "fields": ["series"]} and sel["bind"] == "legend"
    labels = [f"{n} (median {pts(float(np.median(ds['relations'].values[:, -1])))})" for n, ds in sets.items()]
    for lay in lines:
        e = lay["encoding"]
        assert e["opacity"] == {"condition": {"param": sel["name"], "value": 1.0, "empty": True}, "value": S.HIDDEN}
        assert e["strokeDash"]["scale"] == {"domain": labels, "range": [[1, 0], [6, 3], [6, 2, 1, 2], [1, 2]]}
        assert e["y"]["title"] == "Relations index (Goldstein points)"
        assert tip_of(lay) == [("Scenario", None), ("Month", None), ("Median", None), ("80% of runs", None)]
    area = find(left, "area")[0]
    assert area["encoding"]["opacity"] == {"condition": {"param": sel["name"], "value": 0.12, "empty": True},
                                           "value": 0.0}
    dots = find(right, "point")[0]
    assert dots["encoding"]["shape"]["scale"] == {"domain": labels,
                                                  "range": ["circle", "square", "triangle-up", "diamond"]}
    order = [C.OUTCOME_TEXT[k].split("\n")[0] for k in OUTCOMES]
    for lay in (dots, find(right, "rule")[0]):
        e = lay["encoding"]
        assert e["y"] == {"field": "Outcome", "type": "nominal", "sort": order, "title": None}
        assert e["x"] == {"field": "p", "type": "quantitative", "title": "Probability in Dec 2013",
                          "scale": {"domain": [-0.02, 1.02], "nice": False}, "axis": {"format": ".0%"}}
