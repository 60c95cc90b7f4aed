"""Batch planning and summary arithmetic, checked against values computed here (issue 14).

The summary is built from hand-made partials with uneven chunks and distinct values, so
per-run weighting, quantiles, band edges and standard errors are each pinned to an
independently computed number; the plan's chunk splitting and run offsets likewise.
Fast: no simulation runs here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from model.agents.relations import BANDS, DRIVERS
from model.batch import build_plan
from model.batch.chunks import EVENT_SLUGS, partial_path
from model.batch.plan import (
    BatchPlan,
    describe_difference,
    design_digest,
    parse_variables,
    sweep_param_names,
)
from model.batch.summary import QUANTILES, _p_se, _quantiles, build_summary, design_label, summary_columns
from model.errors import DialogueError
from model.results import OUTCOMES

GRID = "scenarios/sweeps/syria_repression_grid.toml"


# ------------------------------------------------------------------ plan: chunks and offsets

@pytest.mark.parametrize("runs,size,expected", [
    (10, 4, [(0, 4), (4, 4), (8, 2)]),
    (10, 3, [(0, 3), (3, 3), (6, 3), (9, 1)]),
    (7, 7, [(0, 7)]),
    (7, 100, [(0, 7)]),
    (5, 1, [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]),
])
def test_chunks_split_runs_with_offsets_and_a_short_last_chunk(runs, size, expected):
    plan = build_plan(["baseline"], runs=runs, horizon=3, chunk_size=size, variables=())
    tasks = plan.chunks()
    assert [(t.run_offset, t.runs) for t in tasks] == expected
    assert [t.index for t in tasks] == list(range(len(expected)))
    assert [t.key for t in tasks] == [f"baseline/chunk-{i:06d}" for i in range(len(expected))]
    assert all(t.point == "baseline" and t.variables == () and t.compress is False for t in tasks)
    assert all(t.inputs_hash == plan.inputs_hash and t.inputs_hash.startswith("sha256:") for t in tasks)
    assert plan.total_runs == runs and plan.chunk_size == size


def test_chunks_of_several_points_and_design_rows():
    table = pd.DataFrame({"repression": np.linspace(0.0, 1.0, 7)})
    plan = build_plan(["baseline", "crackdown"], horizon=3, chunk_size=3, variables=("relations",),
                      compress=True, design=table)
    tasks = plan.chunks()
    assert [(t.point, t.index, t.run_offset, t.runs) for t in tasks] == [
        ("baseline", 0, 0, 3), ("baseline", 1, 3, 3), ("baseline", 2, 6, 1),
        ("crackdown", 0, 0, 3), ("crackdown", 1, 3, 3), ("crackdown", 2, 6, 1)]
    for t in tasks:  # each chunk carries exactly its own rows of the design
        np.testing.assert_array_equal(t.design["repression"], table["repression"].values[t.run_offset:
                                                                                          t.run_offset + t.runs])
        assert t.compress is True and t.variables == ("relations",) and t.stream_block == 0
    assert plan.total_runs == 14
    assert [p.index for p in plan.points] == [0, 1]
    assert [design_label(p) for p in plan.points] == ["table", "table"]


def test_run_settings_precedence_cli_over_sweep_over_scenario():
    plan = build_plan(sweeps=[GRID], runs=6, horizon=4, chunk_size=5, variables=())
    assert len(plan.points) == 20
    assert {(p.runs, p.seed, p.horizon) for p in plan.points} == {(6, 20130313, 4)}
    assert plan.points[0].id == "syria_repression_grid-0000" and plan.points[-1].id == "syria_repression_grid-0019"
    assert plan.points[0].values == {"repression": 0.2, "syria_divergence": 0.2}
    assert plan.points[0].scenario.params["repression"].value == 0.2
    assert plan.points[-1].scenario.params["syria_divergence"].value == 1.0
    assert [p.index for p in plan.points] == list(range(20))
    assert all(p.sweep == "syria_repression_grid" and p.base == "baseline" for p in plan.points)
    assert plan.total_runs == 120
    assert [(t.run_offset, t.runs) for t in plan.chunks()[:2]] == [(0, 5), (5, 1)]
    assert sweep_param_names(plan) == ["repression", "syria_divergence"]
    assert plan.sweeps[0]["points"] == 20 and plan.sweeps[0]["name"] == "syria_repression_grid"
    # Without CLI values the sweep's own settings apply; its horizon is the scenario's.
    own = build_plan(sweeps=[GRID], variables=())
    assert own.points[0].runs == 2000 and own.points[0].seed == 20130313
    seeded = build_plan(["baseline"], seed=5, variables=())
    assert seeded.points[0].seed == 5 and seeded.points[0].runs == own.points[0].runs


def test_repeated_scenarios_get_unique_ids():
    plan = build_plan(["baseline", "baseline", "baseline"], runs=2, horizon=2, variables=())
    assert [p.id for p in plan.points] == ["baseline", "baseline-2", "baseline-3"]
    assert sweep_param_names(plan) == []


def test_chunk_size_must_be_positive():
    with pytest.raises(DialogueError, match="at least 1"):
        build_plan(["baseline"], runs=2, chunk_size=0)
    assert build_plan(["baseline"], runs=2, horizon=2, chunk_size=1, variables=()).chunk_size == 1


def test_inputs_hash_follows_every_input():
    base = dict(runs=4, horizon=3, chunk_size=2, variables=())
    h = build_plan(["baseline"], **base).inputs_hash
    assert build_plan(["baseline"], **base).inputs_hash == h
    for change in ({"runs": 5}, {"horizon": 4}, {"chunk_size": 3}, {"variables": None}, {"seed": 1},
                   {"compress": True}):
        assert build_plan(["baseline"], **(base | change)).inputs_hash != h, change
    inputs = build_plan(["baseline"], **base).inputs()
    assert inputs["chunk_size"] == 2 and inputs["variables"] == [] and inputs["compress"] is False
    assert inputs["points"][0]["runs"] == 4 and inputs["points"][0]["horizon"] == 3
    assert "design" not in inputs["points"][0]
    assert build_plan(["baseline"], **(base | {"variables": ("relations",)})).inputs()["variables"] == ["relations"]
    assert build_plan(["baseline"], **(base | {"variables": None})).inputs()["variables"] is None


def test_describe_difference_names_the_input_that_changed():
    base = dict(runs=4, horizon=3, chunk_size=2, variables=())
    old = build_plan(["baseline"], **base).inputs()
    assert describe_difference(old, old) == "the inputs differ"
    new = build_plan(["baseline"], **(base | {"chunk_size": 3})).inputs()
    assert describe_difference(old, new) == "--chunk-size was 2, now 3"
    new = build_plan(["baseline"], **(base | {"compress": True})).inputs()
    assert describe_difference(old, new) == "--compress was False, now True"
    new = build_plan(["baseline"], **(base | {"variables": None})).inputs()
    assert describe_difference(old, new) == "--variables was [], now None"
    new = build_plan(["baseline"], **(base | {"runs": 5})).inputs()
    assert describe_difference(old, new) == "--runs for baseline was 4, now 5"
    new = build_plan(["baseline"], **(base | {"seed": 9})).inputs()
    assert describe_difference(old, new) == "--seed for baseline was 20130313, now 9"
    new = build_plan(["baseline"], **(base | {"horizon": 5})).inputs()
    assert describe_difference(old, new) == "--horizon for baseline was 3, now 5"
    new = build_plan(["crackdown"], **base).inputs()
    assert describe_difference(old, new) == "the scenarios or sweep points differ (missing baseline; new crackdown)"
    two = build_plan(["baseline", "crackdown"], **base).inputs()
    assert describe_difference(two, old) == "the scenarios or sweep points differ (missing crackdown)"
    assert describe_difference(old, two) == "the scenarios or sweep points differ (new crackdown)"
    swapped = build_plan(["crackdown", "baseline"], **base).inputs()
    assert describe_difference(two, swapped) == "the scenarios or sweep points differ (order changed)"
    new = dict(old, format_version=old["format_version"] + 1)
    assert describe_difference(old, new).startswith("batch format version was ")
    new = dict(old, version="0.0.0")
    assert describe_difference(old, new).startswith("package version was ")
    pts = [dict(old["points"][0], values={"repression": 0.5})]
    assert describe_difference(old, dict(old, points=pts)) == "the swept values of baseline differ"
    pts = [dict(old["points"][0], design={"sha256": "x"})]
    assert describe_difference(old, dict(old, points=pts)).startswith("the design of baseline differs")
    pts = [dict(old["points"][0], scenario_toml="x")]
    assert describe_difference(old, dict(old, points=pts)) == "scenario baseline has changed since the batch started"


def test_design_digest_depends_on_names_values_and_order():
    a = {"x": np.array([1.0, 2.0, 3.0]), "y": np.array([0.5, 0.5, 0.5])}
    d = design_digest(a)
    assert d["params"] == ["x", "y"] and d["rows"] == 3 and len(d["sha256"]) == 64
    assert design_digest({"x": np.array([1, 2, 3]), "y": a["y"]})["sha256"] == d["sha256"]  # as float64
    assert design_digest({"x": a["x"], "y": np.array([0.5, 0.5, 0.6])})["sha256"] != d["sha256"]
    assert design_digest({"y": a["y"], "x": a["x"]})["sha256"] != d["sha256"]
    assert design_digest({"z": a["x"], "y": a["y"]})["sha256"] != d["sha256"]


def test_parse_variables():
    assert parse_variables(None) is None
    assert parse_variables(" ALL ") is None
    assert parse_variables(" None ") == ()
    assert parse_variables("relations, protest,relations,") == ("relations", "protest")
    with pytest.raises(DialogueError, match="unknown variable 'relatons'; did you mean 'relations'"):
        parse_variables("relatons")
    with pytest.raises(DialogueError, match="unknown variable 'zzz'; choose from relations, "):
        parse_variables("zzz")


# ------------------------------------------------------------------ summary arithmetic

def test_p_se_formula():
    assert _p_se(3, 12) == (0.25, math.sqrt(0.25 * 0.75 / 12))
    assert _p_se(0, 5) == (0.0, 0.0)
    p, se = _p_se(0, 0)
    assert math.isnan(p) and math.isnan(se)


def test_quantiles_are_numpy_linear_quantiles():
    x = np.array([5.0, -1.0, 2.0, 8.0, 0.5, 3.0])
    q = _quantiles(x)
    assert list(q) == list(QUANTILES)
    for k in QUANTILES:
        assert q[k] == float(np.quantile(x, k))
    assert q[0.5] == 2.5


def test_summary_columns_order():
    cols = summary_columns(["repression"])
    assert cols[:6] == ["point", "point_index", "scenario", "sweep", "design", "param_repression"]
    assert cols[6:11] == ["runs", "seed", "horizon_months", "start", "horizon"]
    assert cols[11:13] == ["outcome_rupture_p", "outcome_rupture_se"]
    assert "relations_q05" in cols and "relations_q95" in cols and "exports_q10" in cols
    assert cols[-1] == "ensemble" and cols[-1 - len(DRIVERS)] == "driver_protest_growth"
    assert summary_columns()[5] == "runs"


CHUNKS = (4, 4, 2)  # 10 runs in chunks of 4: a short last chunk


@pytest.fixture()
def partials(tmp_path):
    """Hand-made partials for 10 runs of 'baseline' (horizon 3) in uneven chunks."""
    plan = build_plan(["baseline"], runs=10, horizon=3, chunk_size=4, variables=())
    rng = np.random.default_rng(1)
    rel = np.array([-9.0, -6.0, -5.9, -2.0, 0.0, 1.9, 2.0, 2.1, 6.0, 7.5])  # band edges included
    exp = rng.uniform(100, 900, 10)
    outcome = np.array([0, 0, 1, 2, 2, 2, 2, 3, 3, 3])  # per run, index into OUTCOMES
    events = rng.random((len(EVENT_SLUGS), 3, 10)) < 0.4   # (event, month, run) indicator, cumulative below
    events = np.maximum.accumulate(events, axis=1)
    drivers = rng.normal(size=(len(DRIVERS), 10))
    start = 0
    for i, n in enumerate(CHUNKS):
        sl = slice(start, start + n)
        path = partial_path(tmp_path, "baseline", i)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, n=np.array([n]), run_ids=np.arange(start, start + n),
                 outcome_counts=np.bincount(outcome[sl], minlength=len(OUTCOMES)),
                 event_by_month=events[:, :, sl].sum(axis=2), relations_end=rel[sl], exports_end=exp[sl],
                 driver_run_totals=drivers[:, sl])
        start += n
    return plan, tmp_path, dict(rel=rel, exp=exp, outcome=outcome, events=events, drivers=drivers)


def test_summary_weights_every_run_equally_over_uneven_chunks(partials):
    plan, out, v = partials
    summary, monthly = build_summary(plan, out)
    assert list(summary.columns) == summary_columns()
    row = summary.iloc[0]
    assert row["point"] == "baseline" and row["point_index"] == 0 and row["scenario"] == "baseline"
    assert row["sweep"] == "" and row["design"] == "" and row["ensemble"] == ""
    assert row["runs"] == 10 and row["seed"] == 20130313 and row["horizon_months"] == 3
    assert row["start"] == "2013-03" and row["horizon"] == "2013-05"
    for j, k in enumerate(OUTCOMES):
        p = (v["outcome"] == j).mean()
        assert row[f"outcome_{k}_p"] == pytest.approx(p, abs=1e-15)
        assert row[f"outcome_{k}_se"] == pytest.approx(math.sqrt(p * (1 - p) / 10), abs=1e-15)
    for j, slug in enumerate(EVENT_SLUGS.values()):
        p = v["events"][j, -1].mean()
        assert row[f"event_{slug}_p"] == pytest.approx(p, abs=1e-15)
        assert row[f"event_{slug}_se"] == pytest.approx(math.sqrt(p * (1 - p) / 10), abs=1e-15)
        np.testing.assert_allclose(monthly[slug].values, v["events"][j].mean(axis=1), atol=1e-15)
    for var, x in (("relations", v["rel"]), ("exports", v["exp"])):
        assert row[f"{var}_mean"] == pytest.approx(x.mean(), abs=1e-12)
        for q in QUANTILES:
            assert row[f"{var}_q{round(q * 100):02d}"] == pytest.approx(np.quantile(x, q), abs=1e-12), (var, q)
    # Band shares with each edge in the lower band (as summarize(): -6 is hostile, 2 is cool).
    expected = {"hostile": 2, "confrontational": 2, "cool": 3, "constructive": 2, "partnership": 1}
    for name, _lo, _hi in BANDS:
        assert row[f"band_{name}"] == expected[name] / 10, name
    for d, tot in zip(DRIVERS, v["drivers"], strict=True):
        assert row[f"driver_{d}"] == pytest.approx(tot.mean(), abs=1e-12)
    assert list(monthly.columns) == ["point", "time", *EVENT_SLUGS.values()]
    assert list(monthly["time"]) == list(pd.to_datetime(["2013-03-01", "2013-04-01", "2013-05-01"]))
    assert set(monthly["point"]) == {"baseline"}


def test_summary_refuses_partials_that_do_not_cover_the_runs_in_order(partials):
    plan, out, _ = partials
    path = partial_path(out, "baseline", 1)
    with np.load(path) as z:
        part = dict(z)
    part["run_ids"] = part["run_ids"][::-1]
    np.savez(path, **part)
    with pytest.raises(DialogueError, match="do not cover runs 0..9 in order"):
        build_summary(plan, out)


def test_summary_of_a_sweep_records_parameter_values_and_ensembles(tmp_path):
    plan = build_plan(sweeps=[GRID], runs=2, horizon=2, chunk_size=2, variables=None)
    plan = BatchPlan(plan.points[:2], plan.chunk_size, plan.variables, plan.compress)
    for p in plan.points:
        path = partial_path(tmp_path, p.id, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, n=np.array([2]), run_ids=np.arange(2), outcome_counts=np.array([1, 0, 1, 0]),
                 event_by_month=np.zeros((len(EVENT_SLUGS), 2)), relations_end=np.array([0.0, 1.0]),
                 exports_end=np.array([1.0, 3.0]), driver_run_totals=np.zeros((len(DRIVERS), 2)))
    summary, _ = build_summary(plan, tmp_path)
    assert list(summary["param_repression"]) == [0.2, 0.2]
    assert list(summary["param_syria_divergence"]) == [0.2, 0.5]
    assert list(summary["ensemble"]) == [f"ensembles/{p.id}" for p in plan.points]
    assert list(summary["sweep"]) == ["syria_repression_grid"] * 2
    assert list(summary["point_index"]) == [0, 1]
    assert list(summary["outcome_rupture_p"]) == [0.5, 0.5]


# ------------------------------------------------------------------ survivors of the first campaign

def test_a_design_sweep_chunks_carry_its_stream_block():
    plan = build_plan(sweeps=["scenarios/sweeps/headline_saltelli.toml"], horizon=2, variables=(), chunk_size=1000)
    (pt,) = plan.points
    assert pt.stream_block == 6 and pt.runs == 1536
    assert [(t.run_offset, t.runs, t.stream_block) for t in plan.chunks()] == [(0, 1000, 6), (1000, 536, 6)]
    assert design_label(pt) == "saltelli"


def test_design_labels():
    from dataclasses import replace

    table = pd.DataFrame({"repression": [0.1, 0.2]})
    pt = build_plan(["baseline"], horizon=2, variables=(), design=table).points[0]
    assert design_label(pt) == "table"
    assert design_label(replace(pt, design_info={"name": "d.csv", "source": "saltelli"})) == "d.csv"
    assert design_label(replace(pt, design_info={"source": "morris"})) == "morris"
    assert design_label(replace(pt, design=None)) == ""


def test_design_points_take_seed_and_horizon_overrides():
    table = pd.DataFrame({"repression": [0.1, 0.2, 0.3]})
    pt = build_plan(["baseline"], seed=11, horizon=5, variables=(), design=table).points[0]
    assert (pt.runs, pt.seed, pt.horizon) == (3, 11, 5)
    pt = build_plan(["baseline"], variables=(), design=table).points[0]
    base = build_plan(["baseline"], variables=()).points[0]
    assert (pt.runs, pt.seed, pt.horizon) == (3, base.seed, base.horizon)


def test_describe_difference_lists_at_most_three_ids_and_compares_designs():
    four = ["baseline", "crackdown", "major_incident", "moscow_protest_surge"]
    # 12 months: major_incident's [[shocks]] window (to 2013-06) must fit in the horizon.
    a = build_plan(four, runs=2, horizon=12, variables=()).inputs()
    b = build_plan(["syria_convergence", "trade_led_thaw"], runs=2, horizon=12, variables=()).inputs()
    assert describe_difference(a, b) == ("the scenarios or sweep points differ (missing baseline, crackdown, "
                                         "major_incident; new syria_convergence, trade_led_thaw)")
    assert describe_difference(b, a) == ("the scenarios or sweep points differ (missing syria_convergence, "
                                         "trade_led_thaw; new baseline, crackdown, major_incident)")
    assert describe_difference({}, {}) == "the inputs differ"  # a manifest without points: no crash
    table = pd.DataFrame({"repression": [0.1, 0.2]})
    old = build_plan(["baseline"], horizon=2, variables=(), design=table).inputs()
    new = dict(old, points=[dict(old["points"][0], scenario_toml="x")])
    assert describe_difference(old, new) == "scenario baseline has changed since the batch started"


def test_design_digest_is_sha256_of_names_and_float64_values():
    import hashlib

    x, y = np.array([1.0, 2.5]), np.array([3, 4])
    h = hashlib.sha256(b"x\0" + x.tobytes() + b"y\0" + y.astype(np.float64).tobytes()).hexdigest()
    assert design_digest({"x": x, "y": y}) == {"params": ["x", "y"], "rows": 2, "sha256": h}


def test_parse_variables_hints_at_a_loose_match():
    with pytest.raises(DialogueError, match="unknown variable 'expo'; did you mean 'expulsions'"):
        parse_variables("expo")  # similarity 0.57: a hint at the 0.5 cutoff


def test_summary_of_a_design_point_next_to_a_sweep_has_no_single_parameter_value(tmp_path):
    table = pd.DataFrame({"repression": [0.1, 0.2]})
    plan = build_plan(["baseline"], sweeps=[GRID], runs=2, horizon=2, chunk_size=2, variables=(), design=table)
    plan = BatchPlan(plan.points[:2], plan.chunk_size, plan.variables, plan.compress)
    for p in plan.points:
        path = partial_path(tmp_path, p.id, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, n=np.array([2]), run_ids=np.arange(2), outcome_counts=np.array([1, 0, 1, 0]),
                 event_by_month=np.ones((len(EVENT_SLUGS), 2)), relations_end=np.array([0.0, 1.0]),
                 exports_end=np.array([1.0, 3.0]), driver_run_totals=np.zeros((len(DRIVERS), 2)))
    summary, monthly = build_summary(plan, tmp_path)
    base = plan.points[0].scenario
    assert math.isnan(summary["param_repression"][0])  # designed: one value per run
    assert summary["param_syria_divergence"][0] == base.params["syria_divergence"].value
    assert list(summary["param_repression"][1:]) == [0.2]
    assert list(summary["design"]) == ["table", ""]
    assert list(monthly.index) == list(range(4))  # one row per (point, month)
    assert list(monthly["point"]) == [plan.points[0].id] * 2 + [plan.points[1].id] * 2


def test_build_plan_messages_and_sweep_refs():
    table = pd.DataFrame({"repression": [0.1, 0.2]})
    for kw, msg in ((dict(refs=["baseline"], chunk_size=0), "--chunk-size must be at least 1"),
                    (dict(), "name at least one scenario (e.g. baseline) or a sweep file (--sweep FILE.toml)"),
                    (dict(sweeps=[GRID], design=table), "--design needs a scenario to run it on, e.g. 'dialogue "
                                                         "batch baseline --design FILE.csv'"),
                    (dict(refs=["baseline"], runs=3, design=table), "design has 2 rows but runs = 3; leave runs "
                                                                     "out or make them agree")):
        with pytest.raises(DialogueError) as e:
            build_plan(**kw)
        assert str(e.value) == msg
    assert build_plan(["baseline"], runs=2, horizon=2, variables=(), design=table).points[0].runs == 2
    # A sweep file named among the scenarios is a sweep.
    assert len(build_plan([GRID], runs=1, horizon=2, variables=()).points) == 20


def test_a_sweeps_own_run_settings_apply_without_cli_values():
    pt = build_plan(sweeps=["scenarios/sweeps/headline_lhs.toml"], variables=()).points[0]
    assert (pt.runs, pt.seed) == (1000, 20130313)  # the sweep's; baseline has 2,000 runs
    assert pt.horizon == build_plan(["baseline"], variables=()).points[0].horizon


def test_inputs_name_the_format_version_and_design():
    from model import __version__

    table = pd.DataFrame({"repression": [0.1, 0.2]})
    plan = build_plan(["baseline"], horizon=2, variables=(), design=table)
    inputs = plan.inputs()
    assert set(inputs) == {"format", "format_version", "version", "chunk_size", "variables", "compress", "points"}
    assert (inputs["format"], inputs["version"]) == ("dialogue-batch", __version__)
    assert inputs["points"][0]["design"] == design_digest(plan.points[0].design) | {"stream_block": 0}
    salt = build_plan(sweeps=["scenarios/sweeps/headline_saltelli.toml"], horizon=2, variables=())
    assert salt.inputs()["points"][0]["design"]["stream_block"] == 6


def test_point_ids_are_safe_slugs():
    from model.batch.plan import _slug

    assert _slug("My scenario/v2 (test)") == "My_scenario_v2_test"
    assert _slug("..x..") == "x" and _slug("_x_") == "x"
    assert _slug("???") == "scenario" and _slug("") == "scenario"
    assert _slug("a" * 100) == "a" * 80
    assert _slug("a.b-c_D9") == "a.b-c_D9"


def test_a_design_sweep_point_in_full(tmp_path):
    """A saltelli sweep over a scenario file next to it, with its own seed and horizon."""
    (tmp_path / "mybase.toml").write_text('extends = "baseline"\nname = "mybase"\n', encoding="utf-8")
    sweep = tmp_path / "s.toml"
    sweep.write_text('name = "tiny"\nscenario = "mybase.toml"\nmethod = "saltelli"\npoints = 4\nsample_seed = 1\n'
                     'seed = 7\nhorizon = 5\n[params.repression]\n[params.trade_growth]\nlow = -0.1\nhigh = 0.2\n',
                     encoding="utf-8")
    plan = build_plan(sweeps=[str(sweep)], variables=())
    (pt,) = plan.points
    rows = 4 * (2 + 2)
    assert (pt.id, pt.index, pt.base, pt.sweep, pt.values) == ("tiny", 0, "mybase", "tiny", {})
    assert (pt.runs, pt.seed, pt.horizon) == (rows, 7, 5)
    assert pt.scenario.name == "tiny"
    assert pt.scenario.description == ("Sweep 'tiny': saltelli sample (16 rows) over repression, trade_growth on "
                                       "'mybase'")
    assert pt.design_info == {"source": "saltelli", "sweep": "tiny", "rows": rows,
                              "params": ["repression", "trade_growth"], "stream_block": pt.stream_block}
    assert list(pt.design) == ["repression", "trade_growth"] and all(v.size == rows for v in pt.design.values())
    assert pt.design["trade_growth"].min() >= -0.1 and pt.design["trade_growth"].max() <= 0.2
    assert plan.sweeps == [{"file": str(sweep), "name": "tiny", "text": sweep.read_text(encoding="utf-8"),
                            "resolved": plan.sweeps[0]["resolved"], "points": 1, "rows": rows}]
    assert plan.sweeps[0]["resolved"]["name"] == "tiny"
    over = build_plan(sweeps=[str(sweep)], variables=(), seed=9, horizon=3).points[0]
    assert (over.runs, over.seed, over.horizon) == (rows, 9, 3)
    with pytest.raises(DialogueError, match="design point tiny runs once per row"):
        build_plan(sweeps=[str(sweep)], variables=(), runs=5)
    two = build_plan(sweeps=[str(sweep), str(sweep)], variables=())
    assert [p.id for p in two.points] == ["tiny", "tiny-2"] and [p.index for p in two.points] == [0, 1]


def test_a_design_file_point_records_its_file(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"repression": [0.1, 0.2, 0.3]}).to_csv(path, index=False)
    pt = build_plan(["baseline"], horizon=2, variables=(), design=path).points[0]
    assert design_label(pt) == "d.csv" and pt.design_info["rows"] == 3


def test_grid_points_are_named_and_described_and_the_sweep_recorded():
    plan = build_plan(sweeps=[GRID], runs=1, horizon=2, variables=())
    sc = plan.points[1].scenario
    assert sc.name == "syria_repression_grid-0001" == plan.points[1].id
    assert sc.description == ("Sweep 'syria_repression_grid' point 1 over 'baseline': repression = 0.2, "
                              "syria_divergence = 0.5")
    (doc,) = plan.sweeps
    assert doc["file"].endswith("syria_repression_grid.toml") and doc["name"] == "syria_repression_grid"
    with open(GRID, encoding="utf-8") as fh:
        assert doc["text"] == fh.read()
    assert doc["resolved"]["method"] == "grid" and doc["points"] == 20
    from dataclasses import replace

    assert design_label(replace(plan.points[0], design={"repression": np.zeros(1)}, design_info={})) == "table"
    from model.batch.plan import _slug

    assert _slug("XaX") == "XaX"


def test_runs_for_a_design_sweep_message():
    with pytest.raises(DialogueError) as e:
        build_plan(sweeps=["scenarios/sweeps/headline_saltelli.toml"], runs=5, variables=())
    assert str(e.value) == ("--runs 5: design point headline_saltelli runs once per row (1,536 rows); "
                            "leave --runs out")
