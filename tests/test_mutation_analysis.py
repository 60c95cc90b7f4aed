"""``model.analysis`` on hand-made inputs whose answers are worked out here (issue 14: mutation gaps).

The presentation tests check the analysis through charts and the brief on simulated
ensembles; here each function gets small inputs with known answers: yardstick edges and
gaps, interval clipping, the waterfall's grouping, paired and unpaired shifts, and a
summary of a tiny Dataset built by hand.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from model import analysis as a
from model.agents.relations import DRIVER_LABELS, DRIVERS


@pytest.mark.parametrize("p,term", [
    (0.0, "remote chance"), (0.05, "remote chance"), (0.0504, "remote chance"),
    (0.0506, "between remote chance and highly unlikely"), (0.0994, "between remote chance and highly unlikely"),
    (0.0999, "highly unlikely"), (0.10, "highly unlikely"), (0.20, "highly unlikely"),
    (0.22, "between highly unlikely and unlikely"), (0.25, "unlikely"), (0.35, "unlikely"),
    (0.40, "realistic possibility"), (0.50, "realistic possibility"),
    (0.52, "between realistic possibility and likely"), (0.55, "likely"), (0.75, "likely"),
    (0.78, "between likely and highly likely"), (0.80, "highly likely"), (0.90, "highly likely"),
    (0.93, "between highly likely and almost certain"), (0.95, "almost certain"), (1.0, "almost certain"),
])
def test_phia_terms_at_and_between_the_edges(p, term):
    assert a.phia(p) == term


@pytest.mark.parametrize("p", [-0.001, 1.001, float("nan")])
def test_phia_refuses_a_number_that_is_not_a_probability(p):
    with pytest.raises(ValueError, match="outside"):
        a.phia(p)


def test_phia_edges_are_every_inner_end_of_a_range():
    assert a.phia_edges() == [0.05, 0.10, 0.20, 0.25, 0.35, 0.40, 0.50, 0.55, 0.75, 0.80, 0.90, 0.95]


@pytest.mark.parametrize("p,text", [
    (0.0, "0%"), (0.001, "0.1%"), (0.0949, "9.5%"), (0.095, "9.5%"), (0.15, "15%"), (0.5, "50%"), (0.125, "12%"),
    (0.503, "50.3%"),  # 50% is a realistic possibility, 50.3% is between terms: keep the decimal
    (0.204, "20.4%"), (0.196, "20%"), (1.0, "100%"),
])
def test_fmt_prob(p, text):
    assert a.fmt_prob(p) == text


def test_interval95_is_196_standard_errors_clipped_to_0_1():
    assert a.interval95(0.5, 0.1) == pytest.approx((0.5 - 0.196, 0.5 + 0.196), abs=1e-15)
    assert a.interval95(0.01, 0.1) == (0.0, pytest.approx(0.206))
    assert a.interval95(0.99, 0.1) == (pytest.approx(0.794), 1.0)
    assert a.Z95 == 1.96


def test_phia_crossing_finds_the_nearest_edge_inside_the_interval():
    assert a.phia_crossing(0.6, 0.01) is None  # 0.5804 to 0.6196: likely throughout
    assert a.phia_crossing(0.56, 0.01) == 0.55  # 0.5404 to 0.5796
    assert a.phia_crossing(0.5, 0.03) == 0.5  # 0.4412 to 0.5588 holds 0.5 and 0.55; 0.5 is nearer
    assert a.phia_crossing(0.53, 0.015) == 0.55  # 0.5006 to 0.5594: 0.55 only
    assert a.phia_crossing(0.52, 0.02) == 0.50  # 0.4808 to 0.5592: 0.50 and 0.55, 0.50 nearer
    assert a.phia_crossing(0.54, 0.02) == 0.55  # 0.5008 to 0.5792: 0.55 only
    assert a.phia_crossing(0.525, 0.0) is None  # in a gap, but no interval: no edge is crossed


def test_phia_caveat_names_the_interval_and_the_edges():
    assert a.phia_caveat(0.6, 0.01) == ""
    assert a.phia_caveat(0.56, 0.01) == "its 95% interval (54.0\u201358.0%) spans the yardstick's 55% edge"
    assert a.phia_caveat(0.5, 0.03) == ("its 95% interval (44.1\u201355.9%) spans the yardstick's 50% and 55% edges")
    assert a.phia_caveat(0.45, 0.06) == ("its 95% interval (33.2\u201356.8%) spans the yardstick's "
                                         "35%, 40%, 50% and 55% edges")


def test_prob_with_se_is_the_share_and_its_binomial_error():
    p, se = a.prob_with_se(np.array([True, False, False, True, True]))
    assert p == 0.6 and se == pytest.approx(np.sqrt(0.6 * 0.4 / 5), rel=1e-15)
    p, se = a.prob_with_se(np.array([], dtype=bool))
    assert np.isnan(p) and np.isnan(se)


def test_scenario_label_prefers_the_label_then_the_name():
    assert a.scenario_label(xr.Dataset(attrs={"scenario_label": "b (x=1)", "scenario": "b"})) == "b (x=1)"
    assert a.scenario_label(xr.Dataset(attrs={"scenario_label": "", "scenario": "b"})) == "b"
    assert a.scenario_label(xr.Dataset()) == "?"


def test_reversion_note_by_sign():
    assert a.reversion_note(0.0).startswith("relations start below")
    assert a.reversion_note(0.3).endswith("offsetting those events' usual cost")
    assert a.reversion_note(-0.1) == ("relations start above the level the start month's drivers imply and "
                                      "drift down towards it")


def test_waterfall_rows_order_group_and_reversion_last():
    totals = {"repression": -1.0, "trade_growth": 0.5, "exiles": -0.019, "dialogue": 0.02, "shocks": 0.01,
              "reversion": 3.0}
    # the threshold is 2% of the largest |value| (3.0 for reversion): 0.06
    assert a.waterfall_rows(totals) == [(DRIVER_LABELS["repression"], -1.0), (DRIVER_LABELS["trade_growth"], 0.5),
                                        ("3 other drivers", pytest.approx(0.011)),
                                        (DRIVER_LABELS["reversion"], 3.0)]
    one = {"repression": -1.0, "exiles": 0.02}  # exactly 2% of the largest: kept
    assert a.waterfall_rows(one) == [(DRIVER_LABELS["repression"], -1.0), (DRIVER_LABELS["exiles"], 0.02)]
    single = {"repression": -1.0, "exiles": 0.0199}
    assert a.waterfall_rows(single) == [(DRIVER_LABELS["repression"], -1.0), ("1 other driver", 0.0199)]
    assert a.waterfall_rows({"exiles": 0.0, "dialogue": 0.0}) == [("2 other drivers", 0.0)]  # all zero: none big
    assert a.waterfall_rows({}) == []
    assert a.waterfall_rows({"exiles": 0.5, "shocks": 0.1}, share=0.25) == [(DRIVER_LABELS["exiles"], 0.5),
                                                                            ("1 other driver", 0.1)]


def _dataset() -> xr.Dataset:
    """Five runs, three months, every value chosen by hand."""
    time = pd.period_range("2013-03", periods=3, freq="M").to_timestamp()
    rel = np.array([[1.0, -3.0, 0.5, 4.0, -7.0], [0.5, -2.5, 2.0, 6.0, -8.0], [0.0, -2.0, 2.5, 6.5, -9.0]])
    exports = np.array([[400, 300, 500, 100, 800], [410, 290, 520, 90, 790], [420, 280, 540, 80, 780]], float)
    active = np.array([[1, 1, 1, 1, 0], [1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
    expulsions = np.array([[0, 0, 0, 0, 0], [0, 2, 0, 0, 0], [0, 0, 0, 0, 4]])
    sanctions = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], bool)
    major = np.array([[0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
    # Russia expels first in run 1 (month 0, before the UK's round); a regime crisis in run 4 lasts.
    russian = np.array([[0, 3, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
    regime = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]], bool)
    data = {"relations": rel, "exports_gbp_m": exports, "dialogue_active": active, "expulsions": expulsions,
            "sanctions": sanctions, "major_incidents": major, "russian_expulsions": russian, "regime_crisis": regime}
    ds = xr.Dataset({k: (("time", "run"), v) for k, v in data.items()},
                    coords={"run": np.arange(5), "time": time}).transpose("run", "time")
    for i, d in enumerate(DRIVERS):
        ds[f"contrib_{d}"] = (("run", "time"), np.full((5, 3), 0.01 * (i + 1)) * np.arange(1, 6)[:, None])
    ds["outcome"] = ("run", np.array(["cool", "confrontation", "thaw", "thaw", "rupture"]))
    ds.attrs.update(seed=17, initial_relations=1.25, scenario="baseline", scenario_label="baseline (x=1)")
    return ds


def test_events_and_summary_of_a_hand_made_dataset():
    ds = _dataset()
    cum = a.event_cumprob(ds)
    assert list(cum["dialogue suspended"]) == [0.2, 0.4, 0.4]
    assert list(cum["diplomats expelled"]) == [0.2, 0.2, 0.4]  # Russia's round counts (UK's alone: 0.0 first)
    assert list(cum["sanctions"]) == [0.0, 0.2, 0.2]
    assert list(cum["major incident on UK soil"]) == [0.2, 0.2, 0.2]
    assert list(cum["regime crisis in Russia"]) == [0.0, 0.2, 0.2]
    s = a.summarize(ds)
    assert (s.scenario, s.scenario_name, s.runs, s.seed, s.start, s.horizon) == (
        "baseline (x=1)", "baseline", 5, 17, "2013-03", "2013-05")
    assert s.outcomes["thaw"] == (0.4, pytest.approx(np.sqrt(0.24 / 5)))
    assert s.outcomes["rupture"][0] == 0.2 and s.p_rupture == 0.2
    end = [0.0, -2.0, 2.5, 6.5, -9.0]
    assert s.relations_median == 0.0 and s.relations_mean == pytest.approx(-0.4)
    assert s.relations_p10 == pytest.approx(np.quantile(end, 0.1)) == pytest.approx(-6.2)
    assert s.relations_p90 == pytest.approx(4.9)
    assert s.relations_start == 1.25
    # bands include their upper edges: -2.0 is confrontational, 0.0 cool, 6.5 partnership
    assert s.bands == {"hostile": 0.2, "confrontational": 0.2, "cool": 0.2, "constructive": 0.2, "partnership": 0.2}
    assert s.events["dialogue suspended"] == (0.4, pytest.approx(np.sqrt(0.24 / 5)))
    assert s.events["sanctions"][0] == 0.2
    assert (s.exports_median, s.exports_p10, s.exports_p90) == (420.0, pytest.approx(160.0), pytest.approx(684.0))
    # contrib per run summed over 3 months is 0.03 (i + 1) r; the mean over r = 1..5 is 0.09 (i + 1)
    assert s.drivers == {d: pytest.approx(0.09 * (i + 1)) for i, d in enumerate(DRIVERS)}
    assert [d for d, _ in s.top_drivers()] == [d for d in DRIVERS if d != "reversion"][:-4:-1]  # the last 3
    assert [d for d, _ in s.top_drivers(1)] == ["shocks"]
    assert s.driver_rows() == a.waterfall_rows(s.drivers)


def test_summary_frame_dict_and_text_state_the_numbers():
    s = a.summarize(_dataset())
    f = s.to_frame().set_index("quantity")
    row = f.loc["P(outcome = thaw in 2013-05)"]
    se = np.sqrt(0.24 / 5)
    assert row["value"] == 0.4 and row["std_error"] == pytest.approx(se)
    assert (row["ci95_low"], row["ci95_high"]) == (0.0, pytest.approx(0.4 + 1.96 * se))  # clipped at 0
    assert row["phia"] == "realistic possibility" and bool(row["phia_interval_crosses_boundary"])
    assert f.loc["P(sanctions by 2013-05)", "value"] == 0.2
    assert f.loc["relations at horizon, 90th percentile", "value"] == pytest.approx(4.9)
    assert f.loc["exports at horizon (GBP m/month), median", "value"] == 420.0
    k = DRIVERS.index("dialogue") + 1  # summed over 3 months, 0.03 k r; the mean over r = 1..5 is 0.09 k
    assert f.loc[f"mean net effect on relations: {DRIVER_LABELS['dialogue']}", "value"] == pytest.approx(0.09 * k)
    assert len(f) == 9 + 7 + len(DRIVERS)  # 4 outcomes and 5 events, 7 figures, the drivers
    d = s.to_dict()
    assert d["phia"]["thaw"] == "realistic possibility" and d["phia"]["sanctions"] == "highly unlikely"
    assert d["ci95"]["rupture"] == [0.0, pytest.approx(0.2 + 1.96 * np.sqrt(0.16 / 5))]
    assert d["note"] == ("Probabilities are [p, standard error]; ci95 is the 95% Monte Carlo interval, p +/- 1.96 "
                         "standard errors. Outcomes are states in the horizon month; events are counted if they "
                         "happened by then.")
    text = s.text()
    assert "Scenario 'baseline (x=1)': 5 runs, seed 17, 2013-03 to 2013-05" in text
    assert f"  thaw            40.0% +/- {100 * 1.96 * se:.1f}   realistic possibility  (interval crosses" in text
    assert "start +1.2:" in text
    assert "median +0.00, 80% band -6.20 to +4.90, mean -0.40" in text
    assert "median GBP 420m (80% band 160m to 684m) a month" in text
    assert f"  {'Start, 2013-03':<40} +1.25" in text
    assert f"  {'Mean in 2013-05':<40} -0.40" in text
    assert "drift up towards it" in text  # reversion is positive here


@pytest.mark.parametrize("paired", [True, False])
def test_probability_shift(paired):
    x = np.array([1, 1, 0, 0, 1, 0], float)
    y = np.array([1, 0, 0, 0, 0, 0], float)
    s = a.probability_shift("k", x, y, paired)
    d = x - y
    se = d.std(ddof=1) / np.sqrt(6) if paired else np.sqrt(x.var() / 6 + y.var() / 6)
    assert (s.key, s.current, s.preset, s.paired) == ("k", 0.5, pytest.approx(1 / 6), paired)
    assert s.diff == pytest.approx(1 / 3) and s.se == pytest.approx(se)
    assert (s.lo, s.hi) == (pytest.approx(1 / 3 - 1.96 * se), pytest.approx(1 / 3 + 1.96 * se))
    assert not s.within_noise if s.lo > 0 else s.within_noise


def test_probability_shift_of_one_paired_run_has_no_error_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "degrees of freedom <= 0" would mean std was taken of one run
        assert np.isnan(a.probability_shift("k", np.array([1.0]), np.array([0.0]), True).se)
    two = a.probability_shift("k", np.array([1.0, 0.0]), np.array([0.0, 0.0]), True)
    assert two.se == pytest.approx(np.std([1.0, 0.0], ddof=1) / np.sqrt(2))


@pytest.mark.parametrize("paired", [True, False])
def test_probability_shift_takes_boolean_flags(paired):
    """Event flags arrive as bool arrays; numpy cannot subtract those, so they are made floats first."""
    s = a.probability_shift("k", np.array([True, True, False, False]), np.array([True, False, False, False]), paired)
    assert (s.current, s.preset, s.diff) == (0.5, 0.25, 0.25)


def test_within_noise_includes_its_ends():
    base = dict(key="k", current=0.0, preset=0.0, diff=0.0, se=0.0, paired=True)
    assert a.Shift(lo=0.0, hi=0.1, **base).within_noise and a.Shift(lo=-0.1, hi=0.0, **base).within_noise
    assert not a.Shift(lo=0.01, hi=0.1, **base).within_noise


def test_median_shift_bootstraps_paired_or_not():
    rng = np.random.default_rng(3)
    x, y = rng.normal(1.0, 1.0, 301), rng.normal(0.0, 1.0, 301)
    p = a.median_shift("m", x, x - 1.0 + 0.01 * y, True, boot=200, seed=4)
    u = a.median_shift("m", x, y, False, boot=200, seed=4)
    assert p.diff == pytest.approx(np.median(x) - np.median(x - 1.0 + 0.01 * y))
    assert (p.current, p.preset, p.paired, u.paired) == (np.median(x), np.median(x - 1.0 + 0.01 * y), True, False)
    assert p.se < 0.05 < u.se  # pairing removes the shared noise
    # recompute the unpaired bootstrap independently
    g = np.random.default_rng(4)
    ia, ib = g.integers(0, 301, (200, 301)), g.integers(0, 301, (200, 301))
    reps = np.median(x[ia], axis=1) - np.median(y[ib], axis=1)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert (u.se, u.lo, u.hi) == (pytest.approx(reps.std(ddof=1)), pytest.approx(min(lo, u.diff)),
                                  pytest.approx(max(hi, u.diff)))
    assert a.median_shift("m", x, y, False, boot=200, seed=5).lo != u.lo  # the seed is used
    assert u.key == "m" and p.key == "m"
    # defaults: 400 resamples, seed 0
    g = np.random.default_rng(0)
    ia, ib = g.integers(0, 301, (400, 301)), g.integers(0, 301, (400, 301))
    reps = np.median(x[ia], axis=1) - np.median(y[ib], axis=1)
    assert a.median_shift("m", x, y, False).se == pytest.approx(reps.std(ddof=1), rel=1e-12)


def test_paired_runs_needs_same_sizes_seed_and_run_ids():
    ds = _dataset()
    assert a.paired_runs(ds, ds.copy())
    other = ds.copy()
    other.attrs["seed"] = 18
    assert not a.paired_runs(ds, other)
    assert not a.paired_runs(ds, ds.assign_coords(run=np.arange(1, 6)))
    assert not a.paired_runs(ds, ds.isel(run=slice(0, 4)))


def test_fan_and_contributions_are_per_month_quantiles_and_means():
    ds = _dataset()
    f = a.fan(ds, quantiles=(0.1, 0.5))
    assert list(f.columns) == [0.1, 0.5]
    assert f[0.5].tolist() == [0.5, 0.5, 0.0]
    assert f[0.1].iloc[2] == pytest.approx(-6.2)
    assert a.fan(ds).columns.tolist() == [0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975]
    assert a.fan(ds, "exports_gbp_m", (0.5,))[0.5].tolist() == [400.0, 410.0, 420.0]
    c = a.contributions(ds)
    assert list(c.columns) == list(DRIVERS)
    k = DRIVERS.index("dialogue") + 1  # 0.01 k r for run r = 1..5: mean 0.03 k
    assert c["dialogue"].tolist() == pytest.approx([0.03 * k] * 3)
    assert c.index[0] == pd.Timestamp("2013-03-01")


# Checked by hand against the dataset above (see the two tests before): 1.96 x sqrt(0.2 x 0.8 / 5) = 35.1
# points, 1.96 x sqrt(0.4 x 0.6 / 5) = 42.9; each interval holds the yardstick edge at its own p; the drivers
# sum 0.09 (i + 1) for the i-th driver, listed from the largest, reversion last.
TEXT = [
    "Scenario 'baseline (x=1)': 5 runs, seed 17, 2013-03 to 2013-05",
    '(+/- is the 95% Monte Carlo interval, 1.96 standard errors; words: PHIA yardstick)',
    '',
    'Outcome in 2013-05 (state that month):',
    '  rupture         20.0% +/- 35.1   highly unlikely  (interval crosses 20%)',
    '  confrontation   20.0% +/- 35.1   highly unlikely  (interval crosses 20%)',
    '  cool            20.0% +/- 35.1   highly unlikely  (interval crosses 20%)',
    '  thaw            40.0% +/- 42.9   realistic possibility  (interval crosses 40%)',
    '  (outcome classes follow the named bands of the relations scale: confrontation is the',
    '   confrontational band, cool the cool band, thaw constructive or better; but rupture also counts',
    '   every run with sanctions in force, whatever its index)',
    '',
    'Relations index (Goldstein, -10 to +10), start +1.2:',
    '  median +0.00, 80% band -6.20 to +4.90, mean -0.40',
    '',
    'Events by 2013-05 (happened at least once):',
    '  P(dialogue suspended)  40.0% +/- 42.9   realistic possibility  (interval crosses 40%)',
    '  P(diplomats expelled)  40.0% +/- 42.9   realistic possibility  (interval crosses 40%)',
    '  P(sanctions)  20.0% +/- 35.1   highly unlikely  (interval crosses 20%)',
    '  P(major incident on UK soil)  20.0% +/- 35.1   highly unlikely  (interval crosses 20%)',
    '  P(regime crisis in Russia)  20.0% +/- 35.1   highly unlikely  (interval crosses 20%)',
    '  (a regime crisis is a mass mobilisation beyond anything seen since 1991; the model does not',
    "   forecast relations through one: after it, a run's relations are the rules carried on, not a",
    '   forecast of a post-crisis Russia)',
    '',
    'UK goods exports to Russia in 2013-05: median GBP 420m (80% band 160m to 684m) a month',
    '',
    'What moved relations (mean net effect on the index in 2013-05, points; as in the waterfall chart):',
    '  Start, 2013-03                           +1.25',
    '  Crises and noise                         +1.08',
    '  Strategic Dialogue                       +0.99',
    "  Russia's answers                         +0.90",
    '  UK response ladder and EU sanctions      +0.81',
    '  Harassment of diplomats                  +0.72',
    '  Asylum for exiles                        +0.63',
    '  Incidents on UK soil                     +0.54',
    '  US-Russia relations                      +0.45',
    '  Trade ballast                            +0.36',
    '  Syria divergence                         +0.27',
    '  Repression and UK values concern         +0.18',
    '  Russian protest                          +0.09',
    '  Pull to start-month equilibrium          +1.17',
    '  Mean in 2013-05                          -0.40',
    "  ('Pull to start-month equilibrium': relations start below the level the start month's drivers",
    '   imply (the usual run of incidents and crises holds them there) and drift up towards it,',
    "   offsetting those events' usual cost.)",
]

QUANTITIES = [
    'P(outcome = rupture in 2013-05)',
    'P(outcome = confrontation in 2013-05)',
    'P(outcome = cool in 2013-05)',
    'P(outcome = thaw in 2013-05)',
    'P(dialogue suspended by 2013-05)',
    'P(diplomats expelled by 2013-05)',
    'P(sanctions by 2013-05)',
    'P(major incident on UK soil by 2013-05)',
    'P(regime crisis in Russia by 2013-05)',
    'relations at horizon, median',
    'relations at horizon, mean',
    'relations at horizon, 10th percentile',
    'relations at horizon, 90th percentile',
    'exports at horizon (GBP m/month), median',
    'exports at horizon (GBP m/month), 10th percentile',
    'exports at horizon (GBP m/month), 90th percentile',
]


def test_summary_text_and_frame_in_full():
    s = a.summarize(_dataset())
    assert s.text().split("\n") == TEXT
    f = s.to_frame()
    assert f["quantity"].tolist()[:16] == QUANTITIES
    assert f["quantity"].tolist()[16:] == [f"mean net effect on relations: {DRIVER_LABELS[d]}" for d in DRIVERS]
    figures = f.iloc[9:]
    assert figures[["std_error", "ci95_low", "ci95_high"]].isna().all().all()
    assert (figures["phia"] == "").all() and not figures["phia_interval_crosses_boundary"].any()
    assert f["phia"].iloc[:9].tolist() == [a.phia(p) for p in (0.2, 0.2, 0.2, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2)]
    assert f["phia_interval_crosses_boundary"].iloc[:9].all()
    assert f["value"].iloc[9:16].tolist() == pytest.approx([0.0, -0.4, -6.2, 4.9, 420.0, 160.0, 684.0])


def test_summary_of_a_dataset_without_attributes_uses_the_stated_defaults():
    ds = _dataset()
    ds.attrs = {}
    s = a.summarize(ds)
    assert (s.seed, s.scenario, s.scenario_name) == (-1, "?", "?")
    assert np.isnan(s.relations_start)


def test_a_probability_whose_interval_reads_as_one_term_has_no_flag():
    s = a.summarize(_dataset())
    s.outcomes["rupture"] = (0.0, 0.0)
    assert "  rupture          0.0% +/- 0.0   remote chance\n" in s.text()


# ---------------------------------------------------------------- second pass (2026-11-28)
# Survivors of the completed campaign: interval ends exactly on a yardstick edge, an interval
# whose ends read differently with no edge inside it, counts as masks, empty masks, and the
# time index of the per-month tables.

def test_an_interval_ending_exactly_on_an_edge_crosses_it():
    # 0.0502548 - 1.96 x 0.00013 is exactly 0.05 in floating point (checked below): the low end sits on the edge.
    p, se = 0.0502548, 0.00013
    assert a.interval95(p, se)[0] == 0.05
    assert a.phia_crossing(p, se) == 0.05
    assert a.phia_caveat(p, se) == "its 95% interval (5.0\u20135.1%) spans the yardstick's 5% edge"
    # 0.09804 + 1.96 x 0.001 is exactly 0.1: the high end sits on the edge.
    p, se = 0.09804, 0.001
    assert a.interval95(p, se)[1] == 0.1
    assert a.phia_crossing(p, se) == 0.1
    assert a.phia_caveat(p, se) == "its 95% interval (9.6\u201310.0%) spans the yardstick's 10% edge"


def test_a_probability_on_an_edge_with_no_spread_crosses_nothing():
    for e in a.phia_edges():
        assert a.phia_crossing(e, 0.0) is None and a.phia_caveat(e, 0.0) == ""


def test_ends_that_read_differently_with_no_edge_between_them_cross_nothing():
    # 5.04% reads "remote chance" (to 0.1 point: 5.0%), 5.06% reads as in the gap; no edge lies between.
    p, se = 0.0505, 0.0001 / 1.96
    lo, hi = a.interval95(p, se)
    assert a.phia(lo) != a.phia(hi)
    assert not [e for e in a.phia_edges() if lo <= e <= hi]
    assert a.phia_crossing(p, se) is None and a.phia_caveat(p, se) == ""


def test_prob_with_se_counts_any_nonzero_entry_and_an_empty_mask_quietly():
    p, se = a.prob_with_se(np.array([2, 0, 0, 1]))
    assert p == 0.5 and se == pytest.approx(np.sqrt(0.25 / 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, se = a.prob_with_se(np.array([], dtype=bool))
    assert np.isnan(p) and np.isnan(se)


def test_per_month_tables_are_indexed_by_the_months():
    from model.simulate import simulate

    ds = simulate("baseline", runs=5, horizon=3)  # real variables, so the event flags find theirs
    months = pd.DatetimeIndex(ds["time"].values)
    cum = a.event_cumprob(ds)
    assert cum.index.equals(pd.DatetimeIndex(months, name="time")) and cum.index.name == "time"
    assert a.fan(ds).index.equals(months)
    # Contributions that differ by month: the table is the mean over runs, month by month.
    d0 = DRIVERS[0]
    ds[f"contrib_{d0}"] = (("run", "time"), np.arange(15.0).reshape(5, 3))
    c = a.contributions(ds)
    assert c.index.equals(months)
    assert c[d0].tolist() == [6.0, 7.0, 8.0]  # runs' values 0,3,..,12 (+ month): mean 6 (+ month)
