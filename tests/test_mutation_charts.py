"""Chart titles and the numbers behind them, on hand-made ensembles (issue 14).

Each title branch (still / weaker / warmer / slide / improve; up / down / as at) is
driven by an ensemble whose median, P10, P90 and start are chosen here, so a title
that states the wrong quantile, band or direction fails. The formatting helpers and
the chart data (outcome shares, driver totals, fan values) are pinned to exact values.
Fast: no simulation and no drawing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model import charts
from model.agents.relations import DRIVERS
from model.analysis import phia
from model.results import OUTCOMES

M = "\u2212"


def ensemble(end: list[float] | np.ndarray, start_rel: float | None = -1.0, months: int = 3,
             toml: str = "", var: str = "relations", **attrs) -> xr.Dataset:
    """A dataset of ``len(end)`` runs whose last month holds ``end``."""
    end = np.asarray(end, dtype=float)
    data = np.tile(np.linspace(0, 1, months)[None, :], (end.size, 1)) * end[:, None]
    time = pd.date_range("2013-03-01", periods=months, freq="MS")
    ds = xr.Dataset({var: (("run", "time"), data)}, coords={"run": np.arange(end.size), "time": time})
    if start_rel is not None:
        ds.attrs["initial_relations"] = start_rel
    ds.attrs |= {"scenario_toml": toml, "start": "2013-03"} | attrs
    return ds


def q(x, p):
    return float(np.quantile(np.asarray(x, dtype=float), p))


# ---------------------------------------------------------------- relations title

def test_relations_title_states_median_start_and_the_80_percent_band():
    end = np.arange(-5.0, 5.0, 0.5) * 0.2 + 0.3  # 20 runs, all in 'cool'
    ds = ensemble(end, start_rel=0.4)
    t = charts._relations_title(ds)
    p10, p90, med = q(end, 0.1), q(end, 0.9), float(np.median(end))
    assert p10 != p90 and p10 != med
    assert t == (f"Relations are most likely still cool in May 2013 (median {charts.fmt_pts(med)}, from +0.4; "
                 f"80% of runs between {charts.fmt_pts(p10)} and {charts.fmt_pts(p90)})")


@pytest.mark.parametrize("start,end,words", [
    (1.9, [1.2, 1.25, 1.3, 1.35, 1.4], "are most likely still cool in May 2013, but weaker"),
    (1.9, [1.39, 1.395, 1.4, 1.405, 1.41], "are most likely still cool in May 2013"),  # 0.5 below: not 'weaker'
    (-1.9, [-1.3, -1.35, -1.4, -1.45, -1.5], "are most likely still cool in May 2013"),  # 0.5 above: not 'warmer'
    (-1.9, [-1.2, -1.3, -1.35, -1.4, -1.5], "are most likely still cool in May 2013, but warmer"),
    (-1.0, [-3.0, -2.5, -2.1, -2.05, 4.0], "most likely slide from cool in Mar 2013 to confrontational in May 2013"),
    (-1.0, [2.5, 2.1, 2.0, 1.9, -4.0], "are most likely still cool in May 2013, but warmer"),  # 2 is in 'cool'
    (-1.0, [2.5, 2.2, 2.1, 2.0, -4.0], "most likely improve from cool in Mar 2013 to constructive in May 2013"),
    (-2.0, [-2.0, -2.0, -2.0, -2.0, -2.0], "are most likely still confrontational in May 2013"),  # -2 is the top
])
def test_relations_title_branches(start, end, words):
    t = charts._relations_title(ensemble(end, start_rel=start))
    assert t.startswith(f"Relations {words} (median {charts.fmt_pts(float(np.median(end)))}, "
                        f"from {charts.fmt_pts(start)}; 80% of runs between "), t


def test_band_names_put_each_edge_in_the_lower_band():
    assert [charts._band_name(x) for x in (-10, -6, -5.99, -2, -1.99, 2, 2.01, 6, 6.01, 10, 11)] == [
        "hostile", "hostile", "confrontational", "confrontational", "cool", "cool", "constructive", "constructive",
        "partnership", "partnership", "partnership"]


# ---------------------------------------------------------------- generic title

@pytest.mark.parametrize("init,word", [(0.2, "up from"), (0.6, "down from"), (0.5, "as at")])
def test_generic_title_states_median_band_and_change(init, word):
    end = [0.1, 0.3, 0.5, 0.7, 0.95]
    ds = ensemble(end, start_rel=None, var="repression", toml=f"[initial]\nrepression = {init}\n")
    t = charts._generic_title(ds, "repression")
    assert t == (f"Repression: median 0.5 in May 2013, {word} {init:.3g} at the start "
                 f"(80% of runs {q(end, 0.1):.3g} to {q(end, 0.9):.3g})")


def test_generic_title_without_a_known_start_and_an_unlabelled_variable():
    end = [10.0, 20.0, 30.0, 44.0]
    t = charts._generic_title(ensemble(end, start_rel=None, var="other"), "other")
    assert t == f"other: median 25 in May 2013 (80% of runs {q(end, 0.1):.3g} to {q(end, 0.9):.3g})"


def test_initial_values_come_from_the_attrs_or_the_scenario():
    ds = ensemble([1.0], start_rel=-1.5, toml="[initial]\nrelations = 3.0\nprotest = 0.25\nflag = true\nx = 'a'\n")
    assert charts._initial(ds, "relations") == -1.5  # the recorded start wins
    assert charts._initial(ds, "protest") == 0.25
    assert charts._initial(ds, "flag") is None and charts._initial(ds, "x") is None
    assert charts._initial(ds, "missing") is None
    no_attr = ensemble([1.0], start_rel=None, toml="[initial]\nrelations = 3\n")
    assert charts._initial(no_attr, "relations") == 3.0
    assert charts._initial(ensemble([1.0], start_rel=None, toml="not [ toml"), "relations") is None


def test_fan_values_prepend_the_start_and_scale():
    end = np.linspace(-2, 2, 11)
    ds = ensemble(end, start_rel=-1.0)
    x, f = charts._fan_values(ds, "relations", scale=2.0)
    assert list(f.columns) == list(charts.FAN_QUANTILES)
    assert x[0] == pd.Timestamp("2013-03-01") and len(x) == 4
    assert list(x[1:]) == list(pd.date_range("2013-04-01", periods=3, freq="MS"))  # state at the END of a month
    assert (f.iloc[0] == -2.0).all()
    for p in charts.FAN_QUANTILES:
        assert f[p].iloc[-1] == pytest.approx(2 * q(end, p), abs=1e-12)
    x2, f2 = charts._fan_values(ensemble(end + 1, start_rel=None), "relations")  # unscaled by default
    assert len(x2) == 3 and f2[0.5].iloc[-1] == pytest.approx(float(np.median(end + 1)))


# ---------------------------------------------------------------- chart data

def test_outcome_probs_and_daggers():
    out = np.array(["rupture"] * 3 + ["cool"] * 5 + ["thaw"] * 2)
    ds = xr.Dataset({"outcome": ("run", out)})
    probs = charts.outcome_probs(ds)
    assert list(probs) == list(OUTCOMES)
    for k, p in (("rupture", 0.3), ("confrontation", 0.0), ("cool", 0.5), ("thaw", 0.2)):
        assert probs[k] == pytest.approx((p, np.sqrt(p * (1 - p) / 10)), abs=1e-15), k
    assert charts._dagger(0.5, 0.0) == "" and charts._dagger(0.53, 0.02) == "\u2020"  # 0.53 +- 0.04 spans 0.55
    assert charts._any_unsettled(ds)  # 0.3 +- 0.28 spans edges
    assert not charts._any_unsettled(None, xr.Dataset({"outcome": ("run", np.array(["cool"] * 100))}))
    assert phia(0.5) == "realistic possibility"


def test_driver_totals_are_sums_over_months_of_run_means():
    rng = np.random.default_rng(2)
    time = pd.date_range("2013-03-01", periods=4, freq="MS")
    arrays = {d: rng.normal(size=(5, 4)) for d in DRIVERS}
    ds = xr.Dataset({f"contrib_{d}": (("run", "time"), a) for d, a in arrays.items()},
                    coords={"run": np.arange(5), "time": time})
    totals = charts.driver_totals(ds)
    assert list(totals) == list(DRIVERS)
    for d, a in arrays.items():
        assert totals[d] == pytest.approx(a.mean(axis=0).sum(), abs=1e-12)


# ---------------------------------------------------------------- formatting helpers

def test_points_minus_and_labels():
    assert charts.fmt_pts(-0.05) == f"{M}0.1" and charts.fmt_pts(-0.049) == "0.0"
    assert charts.fmt_pts(0.04) == "0.0" and charts.fmt_pts(0.05) == "+0.1"
    assert charts.fmt_pts(-1.234, 2) == f"{M}1.23" and charts.fmt_pts(0.004, 2) == "0.00"
    assert charts.fmt_pts(2.0, 0) == "+2"
    assert charts.minus("-1") == f"{M}1" and charts.minus("a-1") == "a-1" and charts.minus("x -") == "x -"
    assert charts.minus("1-2") == "1-2" and charts.minus("(-2.5, -x)") == f"({M}2.5, -x)"
    assert charts.lower_first("Incidents on UK soil") == "incidents on UK soil"
    assert charts.lower_first("US pressure") == "US pressure"
    assert charts.lower_first("Russian politics") == "Russian politics"
    assert charts.lower_first("Syria gap") == "Syria gap" and charts.lower_first("Kremlin threat") == "Kremlin threat"
    assert charts.lower_first("Strategic dialogue") == "Strategic dialogue"
    assert charts.lower_first("London exiles") == "London exiles" and charts.lower_first("Moscow x") == "Moscow x"
    assert charts.lower_first("Ab") == "ab" and charts.lower_first("A") == "A"
    assert charts.month_label("2018-02-01") == "Feb 2018"


def test_start_and_horizon_labels():
    ds = ensemble([1.0, 2.0], months=12)
    assert charts.horizon_label(ds) == "Feb 2014" and charts.start_label(ds) == "Mar 2013"
    ds.attrs["start"] = "2012-11"
    assert charts.start_label(ds) == "Nov 2012"
    del ds.attrs["start"]
    assert charts.start_label(ds) == "Mar 2013"  # the first recorded month


def test_source_note():
    ds = ensemble([1.0] * 1234, scenario="baseline", seed=7, version="1.2.3")
    assert charts.source_note(ds) == ("Scenario 'baseline' \u00b7 1,234 runs \u00b7 seed 7 \u00b7 model v1.2.3 "
                                      "\u00b7 Source: model simulation.")
    assert charts.source_note(ds, "More.", trade=True).endswith(
        "Source: model simulation; ONS UK goods exports to Russia 2002\u20132012. More.")
    bare = ensemble([1.0])
    assert charts.source_note(bare) == "Scenario '?' \u00b7 1 runs \u00b7 seed ? \u00b7 model v? \u00b7 " \
                                       "Source: model simulation."


def test_relations_ylim_snaps_outwards_to_band_edges():
    assert charts._relations_ylim([-1.0, 1.0]) == (-2.0, 2.0)
    assert charts._relations_ylim([-1.8, 1.8]) == (-6.0, 6.0)  # within 0.3 of an edge: the next one
    assert charts._relations_ylim([-9.8, 9.9]) == (-10.0, 10.0)
    assert charts._relations_ylim([-2.3, -2.3]) == (-6.0, 2.0)


def test_spread_keeps_order_gap_and_bounds():
    assert charts._spread([0.5, 0.2], 0.1, 0.0, 1.0) == [0.5, 0.2]  # already apart: unchanged
    assert charts._spread([0.5, 0.48], 0.1, 0.0, 1.0) == pytest.approx([0.54, 0.44])
    assert charts._spread([0.0, 0.01], 0.1, 0.0, 1.0) == pytest.approx([0.0, 0.1])
    assert charts._spread([1.0, 0.99], 0.1, 0.0, 1.0) == pytest.approx([1.0, 0.9])
    assert charts._spread([], 0.1, 0.0, 1.0) == []


# ---------------------------------------------------------------- survivors of the first campaign

def test_spread_needs_several_passes_for_a_cluster():
    assert charts._spread([0.5, 0.5, 0.5], 0.1, 0.0, 1.0) == pytest.approx([0.4, 0.5, 0.6], abs=1e-9)
    assert charts._spread([0.0, 0.0, 0.0], 0.1, 0.0, 1.0) == pytest.approx([0.0, 0.1, 0.2], abs=1e-9)
    assert charts._spread([1.0, 1.0, 1.0], 0.1, 0.0, 1.0) == pytest.approx([0.8, 0.9, 1.0], abs=1e-9)
    assert charts._spread([0.3, 0.31, 0.32, 0.33], 0.1, 0.0, 1.0) == pytest.approx([0.165, 0.265, 0.365, 0.465],
                                                                                   abs=1e-9)


def test_relations_ylim_at_an_edge_exactly():
    assert charts._relations_ylim([-1.7, 1.7]) == (-2.0, 2.0)  # 0.3 of room reaches the edge: it is enough
    assert charts._relations_ylim([-5.7, 5.7]) == (-6.0, 6.0)


def test_lower_first_reads_the_first_word_and_two_capitals():
    assert charts.lower_first("Russia gap") == "Russia gap"
    assert charts.lower_first("Strategic Dialogue meetings") == "Strategic Dialogue meetings"
    assert charts.lower_first("UKs a") == "UKs a"


def test_generic_title_keeps_a_multiword_label_and_minus_reads_the_previous_character():
    end = [400.0, 500.0, 600.0]
    t = charts._generic_title(ensemble(end, start_rel=None, var="exports_gbp_m"), "exports_gbp_m")
    assert t.startswith("UK goods exports to Russia: median 500 in May 2013 (80% of runs ")
    assert charts.minus("a -1") == f"a {M}1" and charts.minus("a-1 b") == "a-1 b"


def test_initial_without_a_scenario_record():
    ds = ensemble([1.0], start_rel=None)
    del ds.attrs["scenario_toml"]
    assert charts._initial(ds, "relations") is None
    x, f = charts._fan_values(ds, "relations")
    assert len(x) == 3  # nothing prepended
