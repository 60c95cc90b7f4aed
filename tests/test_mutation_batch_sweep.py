"""Sweep files and design files, checked the way a careful reviewer would (issue 14):
every message in full, every bound at, inside and outside, every parsing branch, and
the sweep's points and samples against an independent computation.

All in process and fast (no batch is run): this is the mutation campaign's test list
for model/batch/sweep.py and model/batch/design_file.py (scripts/mutation.sh).
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model.batch.design_file as design_file
import model.batch.sweep as sweep
from model.batch.design_file import load_design
from model.batch.sweep import is_sweep_file, load_sweep, parse_sweep, parse_toml
from model.errors import DialogueError
from model.params import registry
from model.validation import clip

REP = {"repression": {"values": [0.5]}}
MB = 1_000_000


def doc(**kw) -> dict:
    """A valid grid sweep document, with ``kw`` replacing its keys."""
    return {"scenario": "baseline", "params": REP, **kw}


def design(method: str = "saltelli", **kw) -> dict:
    """A valid saltelli/morris sweep over two parameters, with ``kw`` replacing keys."""
    params = {"repression": {}, "syria_divergence": {"low": 0.3, "high": 1.0}}
    return {"scenario": "baseline", "method": method, "points": 8, "params": params, **kw}


def error(raw, *where) -> str:
    """The one-line message parse_sweep gives for ``raw``."""
    with pytest.raises(DialogueError) as exc:
        parse_sweep(raw, *where)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# ------------------------------------------------------------------ documented limits


def test_limits_are_the_documented_values():
    # docs/batch.md, "Limits", states these numbers.
    assert sweep.MAX_POINTS == 100_000 and sweep.MAX_SWEEP_BYTES == MB and sweep.MAX_SWEEP_DEPTH == 16
    assert sweep.MAX_VALUES == 10_000 and sweep.MAX_NAME == 80 and sweep.MAX_DESCRIPTION == 5_000
    assert sweep.MAX_REF == 1_024 and sweep.MAX_DESIGN_ROWS == 10_000_000
    assert sweep.DESIGN_METHODS == ("saltelli", "morris") and sweep.MORRIS_LEVELS == 4
    assert design_file.SUFFIXES == (".csv", ".parquet")
    assert design_file.MAX_ROWS == 10_000_000 and design_file.MAX_BYTES == 4_000_000_000


# ------------------------------------------------------------------ field bounds: at, inside, outside

LHS = {"method": "lhs", "points": 2, "params": {"repression": {"low": 0.1, "high": 0.9}}}
SAL = {"method": "saltelli", "points": 2, "params": {"repression": {}}}


@pytest.mark.parametrize("key, ok, bad, words, base", [
    ("runs", 1, 0, "at least 1", {}),
    ("runs", 10_000_000, 10_000_001, "at most 10000000", {}),
    ("seed", 0, -1, "at least 0", {}),
    ("seed", 2**63 - 1, 2**63, f"at most {2**63 - 1}", {}),
    ("horizon", 1, 0, "at least 1", {}),
    ("horizon", 600, 601, "at most 600", {}),
    ("points", 1, 0, "at least 1", LHS),
    ("points", 100_000, 100_001, "at most 100000", LHS),
    ("lhs_seed", 0, -1, "at least 0", LHS),
    ("lhs_seed", 2**63 - 1, 2**63, f"at most {2**63 - 1}", LHS),
    ("sample_seed", 0, -1, "at least 0", SAL),
    ("sample_seed", 2**32 - 1, 2**32, f"at most {2**32 - 1}", SAL),
    ("name", "n", "", "not empty", {}),
    ("name", "n" * 80, "n" * 81, "at most 80 characters long", {}),
    ("description", "d" * 5_000, "d" * 5_001, "at most 5000 characters long", {}),
    ("scenario", "b", "", "not empty", {}),
    ("scenario", "b" * 1_024, "b" * 1_025, "at most 1024 characters long", {}),
])
def test_every_top_level_bound(key, ok, bad, words, base):
    assert getattr(parse_sweep(doc(**base | {key: ok})), key) == ok
    assert error(doc(**base | {key: bad})) == f"sweep: {key} = {clip(bad)} is out of range; it must be {words}"


def test_every_parameter_bound():
    def grid(p: dict) -> dict:
        return doc(params={"repression": p})

    assert parse_sweep(grid({"values": [0.5] * 10_000})).params["repression"].values == [0.5] * 10_000
    too_many = [0.5] * 10_001
    assert error(grid({"values": too_many})) == (f"sweep: params.repression.values = {clip(too_many)} is out of "
                                                 "range; it must be at most 10000 long")
    assert error(grid({"values": []})) == "sweep: params.repression.values = [] is out of range; it must be not empty"
    assert parse_sweep(grid({"low": 0.0, "high": 1.0, "steps": 1})).params["repression"].steps == 1
    assert parse_sweep(grid({"low": 0.0, "high": 1.0, "steps": 10_000})).params["repression"].steps == 10_000
    assert error(grid({"low": 0.0, "high": 1.0, "steps": 0})) == (
        "sweep: params.repression.steps = 0 is out of range; it must be at least 1")
    assert error(grid({"low": 0.0, "high": 1.0, "steps": 10_001})) == (
        "sweep: params.repression.steps = 10001 is out of range; it must be at most 10000")
    assert error(doc(params={})) == "sweep: params = {} is out of range; it must be not empty"


def test_defaults_of_a_minimal_sweep():
    sw = parse_sweep({"scenario": "baseline", "params": REP})
    assert (sw.name, sw.description, sw.method, sw.points, sw.lhs_seed, sw.sample_seed) == (None, "", "grid", None,
                                                                                            0, 0)
    assert (sw.streams, sw.runs, sw.seed, sw.horizon) == (None, None, None, None)
    p = sw.params["repression"]
    assert (p.values, p.low, p.high, p.steps) == ([0.5], None, None, None)


# ------------------------------------------------------------------ pydantic's errors in words


def test_unknown_keys_name_their_section_and_the_nearest_key():
    assert error(doc(methdo="lhs")) == "sweep: unknown key 'methdo' in the top level; did you mean 'method'?"
    assert error(doc(zzzzzz=1)) == "sweep: unknown key 'zzzzzz' in the top level"
    assert error(doc(params={"repression": {"value": [0.5]}})) == (
        "sweep: unknown key 'value' in [params.repression]; did you mean 'values'?")
    assert error(doc(params={"repression": {"stepz": 3}})) == (
        "sweep: unknown key 'stepz' in [params.repression]; did you mean 'steps'?")
    # A section name over 60 characters is cut to 57 and '...'.
    long = "r" * 60
    section = f"[params.{long}]"
    assert error(doc(params={long: {"zzzzzz": 1}})) == f"sweep: unknown key 'zzzzzz' in {section[:57]}..."
    fits = "r" * 51   # [params.<51>] is exactly 60 characters: shown whole
    assert error(doc(params={fits: {"zzzzzz": 1}})) == f"sweep: unknown key 'zzzzzz' in [params.{fits}]"
    assert len(f"[params.{fits}]") == 60
    over = "r" * 52   # 61 characters: cut
    assert error(doc(params={over: {"zzzzzz": 1}})) == f"sweep: unknown key 'zzzzzz' in [params.{'r' * 49}..."


def test_missing_keys():
    assert error({"scenario": "baseline"}) == "sweep: 'params' is missing"
    assert error({"params": REP}) == "sweep: 'scenario' is missing"


def test_literal_choices():
    assert error(doc(method="random")) == 'sweep: method = \'random\': use "grid", "lhs", "saltelli" or "morris"'
    assert error(design(streams="chunk")) == (
        "sweep: streams = 'chunk': use \"block\" (rows of a block share chance) or \"row\"")


@pytest.mark.parametrize("raw, msg", [
    (doc(runs="5"), "runs must be a whole number, got '5' (str)"),
    (doc(runs=5.0), "runs must be a whole number, got 5.0 (float)"),
    (doc(seed=True), "seed must be a whole number, got True (bool)"),
    (doc(params={"repression": 5}), "params.repression must be a table, got 5 (int)"),
    (doc(params=5), "params must be a table, got 5 (int)"),
    (doc(params={"repression": {"values": ["a"]}}), "params.repression.values.0 must be a number, got 'a' (str)"),
    (doc(description=[[[]]]), "description must be text in quotes, got [[[]]] (list)"),
])
def test_type_errors_say_what_was_wanted_and_what_came(raw, msg):
    assert error(raw) == f"sweep: {msg}"


# ------------------------------------------------------------------ parse_sweep's own rules


def test_a_document_must_be_a_table_within_the_nesting_limit():
    assert error([1]) == "sweep: a sweep must be a table of keys, got list"
    assert error("x", "f.toml") == "f.toml: a sweep must be a table of keys, got str"

    def nested(levels: int) -> list:
        v: list = []
        for _ in range(levels - 1):
            v = [v]
        return v

    # The document is level 1: a description nested 15 deep is 16 levels, allowed (then refused as not text).
    assert error(doc(description=nested(15))).startswith("sweep: description must be text in quotes")
    assert error(doc(description=nested(16))) == (
        "sweep: tables or arrays nested too deeply; a sweep allows at most 16 levels")


def test_unknown_parameters():
    assert error(doc(params={"represion": {"values": [0.5]}})) == (
        "sweep: unknown parameter 'represion' in [params]; did you mean 'repression'?; "
        "'dialogue params baseline' lists them")
    assert error(doc(params={"zzzz": {"values": [0.5]}}), "w") == (
        "w: unknown parameter 'zzzz' in [params]; 'dialogue params baseline' lists them")


@pytest.mark.parametrize("extra", [{"low": 0.1}, {"high": 0.9}, {"steps": 3}])
def test_a_grid_axis_is_values_or_a_range_not_both(extra):
    assert error(doc(params={"repression": {"values": [0.5], **extra}})) == (
        "sweep: [params.repression] give either 'values' or 'low'/'high'/'steps', not both")


@pytest.mark.parametrize("given, missing", [
    ({}, "low, high, steps"), ({"low": 0.1}, "high, steps"), ({"high": 0.9}, "low, steps"),
    ({"steps": 2}, "low, high"), ({"low": 0.1, "high": 0.9}, "steps"), ({"low": 0.1, "steps": 2}, "high"),
    ({"high": 0.9, "steps": 2}, "low"),
])
def test_a_grid_range_needs_low_high_and_steps(given, missing):
    assert error(doc(params={"repression": given})) == (
        f"sweep: [params.repression] needs 'values = [...]' or low, high and steps (missing {missing})")


@pytest.mark.parametrize("method, what", [("lhs", "a Latin hypercube"), ("saltelli", "a saltelli sample"),
                                          ("morris", "a morris sample")])
@pytest.mark.parametrize("extra", [{"values": [0.5]}, {"steps": 3}])
def test_samplers_take_no_values_or_steps(method, what, extra):
    assert error(doc(method=method, points=4, params={"repression": extra})) == (
        f"sweep: [params.repression] {what} samples between low and high; remove 'values'/'steps' "
        "(or use method = \"grid\")")


def test_values_low_and_high_are_checked_against_the_range_at_its_ends():
    spec = registry()["trade_growth"]
    lo, hi = spec.low, spec.high
    assert (lo, hi) == (-0.2, 0.3)
    ok = parse_sweep(doc(params={"trade_growth": {"values": [lo, hi]}}))
    assert ok.point_values() == [{"trade_growth": lo}, {"trade_growth": hi}]
    assert parse_sweep(doc(params={"trade_growth": {"low": lo, "high": hi, "steps": 2}})).bounds() == {
        "trade_growth": (lo, hi)}
    assert parse_sweep(doc(method="lhs", points=3, params={"trade_growth": {"low": lo, "high": hi}}))

    def outside(v: float) -> str:
        # A value a hair outside is written in full, so it does not read as the bound itself.
        shown = f"{v:g}" if float(f"{v:g}") == v else repr(float(v))
        return (f"sweep: params.trade_growth value {shown} is outside the parameter's range; it must be between -0.2 "
                "and 0.3 (per year)")

    for p, v in [({"values": [0.1, 0.31]}, 0.31), ({"values": [-0.21]}, -0.21),
                 ({"low": -0.25, "high": 0.1, "steps": 2}, -0.25), ({"low": 0.1, "high": 0.35, "steps": 2}, 0.35),
                 ({"values": [np.nextafter(hi, 1)]}, np.nextafter(hi, 1)),
                 ({"values": [np.nextafter(lo, -1)]}, np.nextafter(lo, -1))]:
        assert error(doc(params={"trade_growth": p})) == outside(v)
    assert "value 0.30000000000000004 is outside" in error(doc(params={"trade_growth": {"values": [0.1 + 0.2]}}))
    # lhs checks its low and high too
    assert error(doc(method="lhs", points=2, params={"trade_growth": {"high": 0.35}})) == outside(0.35)
    assert error(doc(method="lhs", points=2, params={"trade_growth": {"low": -0.25}})) == outside(-0.25)


def test_low_above_high_is_refused_and_equal_is_allowed():
    assert error(doc(params={"trade_growth": {"low": 0.2, "high": 0.1, "steps": 2}})) == (
        "sweep: [params.trade_growth] low = 0.2 is above high = 0.1 (the parameter's range is [-0.2, 0.3])")
    assert error(doc(method="lhs", points=2, params={"trade_growth": {"low": 0.2, "high": 0.1}})).startswith(
        "sweep: [params.trade_growth] low = 0.2 is above high = 0.1")
    same = parse_sweep(doc(params={"trade_growth": {"low": 0.1, "high": 0.1, "steps": 3}}))
    assert same.point_values() == [{"trade_growth": 0.1}] * 3
    assert parse_sweep(doc(method="lhs", points=2, params={"trade_growth": {"low": 0.1, "high": 0.1}}))


def test_method_specific_keys():
    assert error(doc(method="lhs", params={"repression": {}})) == (
        "sweep: method = \"lhs\" needs 'points = N' (how many sweep points)")
    assert error(doc(points=3)) == "sweep: 'points' is for method = \"lhs\"; a grid's points are its values"
    # Even the default values of the design keys are refused in a grid or lhs sweep: they would do nothing.
    assert error(doc(sample_seed=0)) == "sweep: 'sample_seed' is for method = \"saltelli\" or \"morris\" (this " \
                                        "sweep is grid)"
    assert error(doc(**LHS, streams="row")) == "sweep: 'streams' is for method = \"saltelli\" or \"morris\" (this " \
                                               "sweep is lhs)"


def test_the_grid_size_is_the_product_of_its_axes_at_most_max_points():
    def grid(a: dict, b: dict) -> dict:
        return doc(params={"repression": a, "syria_divergence": b})

    at = parse_sweep(grid({"low": 0.0, "high": 1.0, "steps": 10_000}, {"values": [0.1 * i for i in range(10)]}))
    assert at.params["repression"].steps == 10_000
    assert error(grid({"low": 0.0, "high": 1.0, "steps": 9_091}, {"values": [0.05 * i for i in range(11)]})) == (
        "sweep: the grid has 100,001 points; at most 100,000 are allowed")
    assert error(grid({"values": [0.05 * i for i in range(11)]}, {"low": 0.0, "high": 1.0, "steps": 9_091})) == (
        "sweep: the grid has 100,001 points; at most 100,000 are allowed")


# ------------------------------------------------------------------ saltelli and morris sweeps


def test_design_sweeps_need_points_of_the_right_kind():
    no_points = design()
    del no_points["points"]
    assert error(no_points) == ("sweep: method = \"saltelli\" needs 'points = N' (the base sample size N, a power "
                                "of two; rows = N x (parameters + 2))")
    assert error(no_points | {"method": "morris"}) == (
        "sweep: method = \"morris\" needs 'points = N' (the number of trajectories r; rows = N x (parameters + 1))")
    for n in (1, 2, 4, 1_024):
        assert parse_sweep(design(points=n)).points == n
    for n, lo in ((3, 2), (6, 4), (1_000, 512), (1_025, 1_024)):
        assert error(design(points=n)) == (f"sweep: points = {n} is not a power of two, which Saltelli's Sobol' "
                                           f"sequence needs; use {lo} or {2 * lo}")
    assert error(design("morris", points=1)) == (
        "sweep: points = 1: Morris needs at least 2 trajectories (10 to 50 is usual)")
    assert parse_sweep(design("morris", points=2)).points == 2
    assert parse_sweep(design("morris", points=3)).points == 3   # any number of trajectories


def test_design_sweeps_refuse_lhs_seed_and_runs():
    assert parse_sweep(design(lhs_seed=0)).lhs_seed == 0
    assert error(design(lhs_seed=1)) == "sweep: 'lhs_seed' is for method = \"lhs\"; a saltelli sample uses " \
                                        "'sample_seed'"
    assert error(design("morris", lhs_seed=7)).endswith("a morris sample uses 'sample_seed'")
    assert error(design("morris", points=500, runs=5)) == (
        "sweep: 'runs' does not apply to method = \"morris\": the sample runs once per row (1,500 rows); remove it "
        "and set the rows with 'points'")


def test_design_sweeps_need_low_below_high():
    assert error(design(params={"repression": {}, "syria_divergence": {"low": 0.5, "high": 0.5}})) == (
        "sweep: [params.syria_divergence] low and high are both 0.5; a saltelli sample needs low below high")
    # Only high given, at the parameter's low end: the default low equals it.
    assert error(design("morris", params={"repression": {"high": 0.0}})) == (
        "sweep: [params.repression] low and high are both 0; a morris sample needs low below high")


def test_design_rows_are_limited(monkeypatch):
    monkeypatch.setattr(sweep, "MAX_DESIGN_ROWS", 32)   # 8 x (2 + 2) rows: allowed at the limit
    assert parse_sweep(design()).design_rows() == 32
    monkeypatch.setattr(sweep, "MAX_DESIGN_ROWS", 31)
    assert error(design()) == "sweep: points = 8 gives 32 rows; at most 31 are allowed"
    monkeypatch.setattr(sweep, "MAX_DESIGN_ROWS", 1_499)
    assert error(design("morris", points=500)) == "sweep: points = 500 gives 1,500 rows; at most 1,499 are allowed"


# ------------------------------------------------------------------ what a sweep makes


def test_is_design_and_stream_blocks():
    three = {"repression": {}, "syria_divergence": {}, "trade_growth": {}}
    assert [parse_sweep(design(m, points=4, params=three)).is_design for m in ("saltelli", "morris")] == [True, True]
    assert parse_sweep(doc()).is_design is False and parse_sweep(doc(**LHS)).is_design is False
    assert parse_sweep(design(params=three)).stream_block == 5          # A, AB_1..AB_3, B
    assert parse_sweep(design(params=three, streams="block")).stream_block == 5
    assert parse_sweep(design("morris", params=three)).stream_block == 4   # a trajectory: d + 1 rows
    assert parse_sweep(design(params=three, streams="row")).stream_block == 0
    assert parse_sweep(design("morris", streams="row")).stream_block == 0
    assert parse_sweep(doc()).stream_block == 0 and parse_sweep(doc(**LHS)).stream_block == 0
    assert parse_sweep(design(params=three)).design_rows() == 8 * 5
    assert parse_sweep(design("morris", points=6, params=three)).design_rows() == 6 * 4


def test_bounds_and_the_salib_problem():
    sw = parse_sweep(design(params={"trade_growth": {}, "repression": {"low": 0.25}, "syria_divergence": {"high": 0.5},
                                    "deterrence": {"low": 0.1, "high": 0.2}}))
    tg = registry()["trade_growth"]
    assert sw.bounds() == {"trade_growth": (tg.low, tg.high), "repression": (0.25, 1.0),
                           "syria_divergence": (0.0, 0.5), "deterrence": (0.1, 0.2)}
    assert sw.salib_problem() == {"num_vars": 4, "names": ["trade_growth", "repression", "syria_divergence",
                                                           "deterrence"],
                                  "bounds": [[tg.low, tg.high], [0.25, 1.0], [0.0, 0.5], [0.1, 0.2]]}


def test_design_tables_are_salibs_samples():
    from SALib.sample import morris, sobol

    prob = {"num_vars": 2, "names": ["repression", "syria_divergence"], "bounds": [[0.0, 1.0], [0.3, 1.0]]}
    sw = parse_sweep(design(sample_seed=3))
    t = sw.design_table()
    assert list(t.columns) == ["repression", "syria_divergence"] and len(t) == sw.design_rows() == 32
    assert np.array_equal(t.to_numpy(), sobol.sample(prob, 8, calc_second_order=False, seed=3))
    assert not np.array_equal(parse_sweep(design(sample_seed=4)).design_table().to_numpy(), t.to_numpy())
    mw = parse_sweep(design("morris", points=5, sample_seed=2))
    m = mw.design_table()
    assert list(m.columns) == ["repression", "syria_divergence"] and len(m) == mw.design_rows() == 15
    assert np.array_equal(m.to_numpy(), morris.sample(prob, 5, num_levels=4, seed=2))
    for method in ("grid", "lhs"):
        with pytest.raises(DialogueError) as exc:
            sw.model_copy(update={"method": method}).design_table()
        assert str(exc.value) == f'method = "{method}" makes sweep points, not a design'


def test_grid_points_in_order():
    sw = parse_sweep(doc(params={"repression": {"values": [1, 0]},
                                 "syria_divergence": {"low": 0.2, "high": 1.0, "steps": 3}}))
    pts = sw.point_values()
    want = [{"repression": r, "syria_divergence": s} for r in (1.0, 0.0) for s in (0.2, 0.6, 1.0)]
    assert len(pts) == 6 and all(p == pytest.approx(w) for p, w in zip(pts, want, strict=True))
    assert all(type(v) is float for p in pts for v in p.values())
    assert parse_sweep(design()).point_values() == [{}]


def test_lhs_points_are_stratified_draws_from_the_lhs_seed():
    raw = doc(method="lhs", points=7, lhs_seed=11,
              params={"repression": {}, "trade_growth": {"low": -0.1, "high": 0.2}, "syria_divergence": {"low": 0.4}})
    pts = parse_sweep(raw).point_values()
    # Independently: each parameter's range cut into 7 strata, one uniform draw per stratum,
    # strata permuted per parameter, in the order of [params], from one generator.
    rng = np.random.default_rng(11)
    cols = {}
    for name, (lo, hi) in {"repression": (0.0, 1.0), "trade_growth": (-0.1, 0.2),
                           "syria_divergence": (0.4, 1.0)}.items():
        perm = rng.permutation(7)
        u = rng.random(7)
        cols[name] = lo + (hi - lo) * (perm + u) / 7
    assert len(pts) == 7
    for i, p in enumerate(pts):
        assert list(p) == ["repression", "trade_growth", "syria_divergence"]
        assert p == pytest.approx({k: v[i] for k, v in cols.items()}, rel=0, abs=1e-15)
        assert all(type(v) is float for v in p.values())
    for name, (lo, hi) in {"repression": (0.0, 1.0), "trade_growth": (-0.1, 0.2)}.items():
        strata = np.floor((np.array([p[name] for p in pts]) - lo) / (hi - lo) * 7).astype(int)
        assert sorted(strata) == list(range(7))
    assert parse_sweep(raw | {"lhs_seed": 12}).point_values() != pts


# ------------------------------------------------------------------ files


def test_parse_toml_limits_and_messages():
    body = 'scenario = "baseline"\n[params.repression]\nvalues = [0.5]\n'
    assert parse_toml(body) == {"scenario": "baseline", "params": {"repression": {"values": [0.5]}}}
    assert parse_toml("\ufeff" + body) == parse_toml(body)
    at = body + "#" * (MB - len(body))
    assert len(at) == MB and parse_toml(at)["scenario"] == "baseline"
    with pytest.raises(DialogueError) as exc:
        parse_toml(at + "#")
    assert str(exc.value) == "sweep: sweep is 1,000,001 characters; the limit is 1,000,000 bytes"
    bad = 'scenario = "baseline"\nvalues = [0.5,\nlow = 1\n'
    with pytest.raises(tomllib.TOMLDecodeError) as why:
        tomllib.loads(bad)
    with pytest.raises(DialogueError) as exc:
        parse_toml(bad, "w.toml")
    assert str(exc.value) == f"w.toml: malformed TOML: {why.value}"
    with pytest.raises(DialogueError) as exc:
        parse_toml("a = " + "[" * 5_000 + "]" * 5_000)
    assert str(exc.value) == "sweep: tables or arrays nested too deeply; a sweep allows at most 16 levels"


def test_load_sweep_reads_names_and_resolves(tmp_path, monkeypatch):
    body = 'scenario = "baseline"\n[params.repression]\nvalues = [0.5]\n'
    f = write(tmp_path / "my_grid.toml", "\ufeff" + body)      # a byte-order mark is accepted
    monkeypatch.chdir(tmp_path)
    sw, path = load_sweep("my_grid.toml")
    assert sw.name == "my_grid" and path == f.resolve() and path.is_absolute()
    assert sw.point_values() == [{"repression": 0.5}]
    write(tmp_path / "named.toml", 'name = "kept"\n' + body)
    assert load_sweep(tmp_path / "named.toml")[0].name == "kept"
    # Messages name the file.
    bad = write(tmp_path / "bad.toml", 'scenario = "baseline"\n[params.represion]\nvalues = [0.5]\n')
    with pytest.raises(DialogueError) as exc:
        load_sweep(bad)
    assert str(exc.value).startswith(f"{bad}: unknown parameter 'represion'")
    mal = write(tmp_path / "mal.toml", "scenario = \n")
    with pytest.raises(DialogueError) as exc:
        load_sweep(mal)
    assert str(exc.value).startswith(f"{mal}: malformed TOML: ")


def load_error(path) -> str:
    with pytest.raises(DialogueError) as exc:
        load_sweep(path)
    return str(exc.value)


def test_load_sweep_refuses_what_it_cannot_read(tmp_path):
    body = 'scenario = "baseline"\n[params.repression]\nvalues = [0.5]\n'
    assert load_error(tmp_path / "nope.toml") == f"sweep file {tmp_path / 'nope.toml'} not found"
    (tmp_path / "dir.toml").mkdir()
    assert load_error(tmp_path / "dir.toml") == f"{tmp_path / 'dir.toml'} is a folder, not a sweep file"
    latin = write(tmp_path / "latin.toml", body.encode() + b"# caf\xe9\n")
    assert load_error(latin) == f"{latin}: not UTF-8 text; save the sweep file as UTF-8"
    plain = write(tmp_path / "plain.toml", body)
    assert load_error(plain / "x.toml") == f"{plain / 'x.toml'}: cannot read sweep file (Not a directory)"
    at = write(tmp_path / "at.toml", body + "#" * (MB - len(body)))
    assert at.stat().st_size == MB and load_sweep(at)[0].name == "at"
    over = write(tmp_path / "over.toml", body + "#" * (MB + 1 - len(body)))
    assert load_error(over) == f"{over}: sweep file is 1,000,001 bytes; the limit is 1,000,000"


def test_load_sweep_path_length_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    over = "x/" * 2_045 + "ss.toml"           # 4,097 characters
    assert len(over) == 4_097
    assert load_error(over) == f"sweep file {clip(over)}: the path is too long (at most 4096 characters)"
    at = "x/" * 2_045 + "s.toml"              # 4,096 characters: not refused for its length
    assert len(at) == 4_096
    msg = load_error(at)
    assert "the path is too long" not in msg and msg.startswith(at)


def test_is_sweep_file(tmp_path):
    def f(name: str, text: str | bytes) -> Path:
        return write(tmp_path / name, text)

    assert is_sweep_file(f("a.toml", 'scenario = "baseline"\n'))
    assert is_sweep_file(f("b.toml", 'name = "x"\n  method="lhs"\n'))        # on any line, indented
    assert is_sweep_file(f("c.toml", '\ufeffscenario = "baseline"\n'))       # after a byte-order mark
    assert not is_sweep_file(f("d.toml", 'extends = "baseline"\n'))          # a scenario
    assert not is_sweep_file(f("e.toml", 'myscenario = "x"\n# scenario = "y"\n'))
    assert not is_sweep_file(f("f.txt", 'scenario = "baseline"\n'))          # not .toml
    assert not is_sweep_file(f("g.toml", b'scenario = "baseline"\n# \xff\n'))  # not UTF-8
    assert not is_sweep_file(tmp_path / "missing.toml")
    (tmp_path / "h.toml").mkdir()
    assert not is_sweep_file(tmp_path / "h.toml")
    assert not is_sweep_file(str(tmp_path / ("n" * 300 + ".toml")))          # a name too long
    head = 'scenario = "baseline"\n'
    at = f("at.toml", head + "#" * (MB - len(head)))
    assert at.stat().st_size == MB and is_sweep_file(at)
    assert not is_sweep_file(f("over.toml", head + "#" * (MB + 1 - len(head))))


# ------------------------------------------------------------------ design files


TABLE = pd.DataFrame({"repression": [0.1, 0.5, 0.9], "param_syria_divergence": [0.2, 0.4, 1.0]})


def design_error(path, **kw) -> str:
    with pytest.raises(DialogueError) as exc:
        load_design(path, **kw)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("name", ["d.csv", "d.parquet", "D.CSV", "d.Parquet"])
def test_a_design_file_is_read_checked_and_described(tmp_path, name):
    f = tmp_path / name
    TABLE.to_csv(f, index=False) if name.lower().endswith(".csv") else TABLE.to_parquet(f)
    for given in (f, str(f)):
        cols, info = load_design(given)
        assert list(cols) == ["repression", "syria_divergence"]
        assert all(v.dtype == np.float64 for v in cols.values())
        assert np.array_equal(cols["repression"], [0.1, 0.5, 0.9])
        assert np.array_equal(cols["syria_divergence"], [0.2, 0.4, 1.0])
        assert info == {"source": "file", "file": str(f.resolve()), "name": name,
                        "file_sha256": hashlib.sha256(f.read_bytes()).hexdigest(), "rows": 3,
                        "params": ["repression", "syria_divergence"]}
    assert load_design(f, runs=3)[1]["rows"] == 3
    assert design_error(f, runs=4) == f"--design {name} has 3 rows but runs = 4; leave runs out or make them agree"


def test_a_design_table_is_checked_and_described():
    cols, info = load_design(TABLE)
    assert info == {"source": "table", "rows": 3, "params": ["repression", "syria_divergence"]}
    assert np.array_equal(cols["syria_divergence"], [0.2, 0.4, 1.0])
    cols, info = load_design({"trade_growth": [0.1, -0.1]}, runs=2)
    assert info == {"source": "table", "rows": 2, "params": ["trade_growth"]}
    assert design_error({"represion": [0.5]}) == "design column 'represion' is not a parameter; did you mean " \
                                                 "'repression'?"
    assert design_error(TABLE, runs=2) == "design has 3 rows but runs = 2; leave runs out or make them agree"


def test_csv_details_spaces_and_byte_order_mark(tmp_path):
    f = write(tmp_path / "d.csv", "\ufeffrepression, syria_divergence\n0.5, 0.25\n".encode())
    cols, info = load_design(f)
    assert info["params"] == ["repression", "syria_divergence"]
    assert cols["syria_divergence"].tolist() == [0.25]


def test_a_row_with_more_values_than_the_header_is_refused(tmp_path):
    # pandas reads such a file with the first column as the row index: every value would
    # silently move one parameter to the left (repression would get 0.1, trade_growth 0.2).
    f = write(tmp_path / "d.csv", "repression,trade_growth\n0.5,0.1,0.2\n0.4,0.2,0.1\n")
    assert design_error(f) == (f"--design {f}: the rows have more values than the header row has names; give every "
                               "column a name, one per parameter")


def test_the_row_limit(monkeypatch, tmp_path):
    big = pd.DataFrame({"repression": np.linspace(0, 1, 1_000)})
    monkeypatch.setattr(design_file, "MAX_ROWS", 1_000)
    assert load_design(big)[1]["rows"] == 1_000
    monkeypatch.setattr(design_file, "MAX_ROWS", 999)
    assert design_error(big) == "design: 1,000 rows; at most 999 runs per point (split the design)"
    f = tmp_path / "big.csv"
    big.to_csv(f, index=False)
    assert design_error(f) == "--design big.csv: 1,000 rows; at most 999 runs per point (split the design)"


def test_the_size_limit(monkeypatch, tmp_path):
    f = tmp_path / "d.csv"
    pd.DataFrame({"repression": np.linspace(0, 1, 200)}).to_csv(f, index=False)
    size = f.stat().st_size
    assert size > 1_000
    monkeypatch.setattr(design_file, "MAX_BYTES", size)
    assert load_design(f)[1]["rows"] == 200
    monkeypatch.setattr(design_file, "MAX_BYTES", size - 1)
    assert design_error(f) == f"--design {f}: {size:,} bytes; the limit is {size - 1:,} (split it into batches)"


def test_design_files_that_cannot_be_read(tmp_path):
    x = write(tmp_path / "d.xlsx", "repression\n0.5\n")
    assert design_error(x) == (f"--design {x}: use a .csv or .parquet file (got .xlsx); one row per run, one column "
                               "per parameter")
    n = write(tmp_path / "d", "repression\n0.5\n")
    assert design_error(n) == (f"--design {n}: use a .csv or .parquet file (got no extension); one row per run, "
                               "one column per parameter")
    assert design_error(tmp_path / "nope.csv") == f"--design {tmp_path / 'nope.csv'}: file not found"
    (tmp_path / "dir.csv").mkdir()
    assert design_error(tmp_path / "dir.csv") == f"--design {tmp_path / 'dir.csv'}: is a folder; give a .csv or " \
                                                 ".parquet file"
    assert design_error(n / "x.csv") == f"--design {n / 'x.csv'}: cannot read it (Not a directory)"
    e = write(tmp_path / "e.csv", "")
    assert design_error(e) == (f"--design {e}: the file is empty; give a header row of parameter names and one row "
                               "per run")
    u = write(tmp_path / "u.csv", b"repression\n\xff\xfe0.5\n")
    assert design_error(u) == f"--design {u}: not UTF-8 text; save the CSV as UTF-8"
    m = write(tmp_path / "m.csv", 'repression,trade_growth\n0.5,0.1\n0.4,"0.2\n')
    with pytest.raises(pd.errors.ParserError) as why:
        pd.read_csv(m)
    words = " ".join(str(why.value).split())[:120]
    assert design_error(m) == (f"--design {m}: malformed CSV ({words}); give a header row, then one row of numbers "
                               "per run")
    p = write(tmp_path / "p.parquet", b"PAR1 this is not parquet")
    assert design_error(p) == (f"--design {p}: not a readable Parquet file (ArrowInvalid); write the table with "
                               "pandas' to_parquet")
    i = write(tmp_path / "i.csv", ",repression\n0,0.5\n")
    assert design_error(i) == ("--design i.csv: a column has no name ('Unnamed: 0', a saved index?); name every "
                               "column after a parameter, or write the file with index=False")
    v = write(tmp_path / "v.csv", "repression,syria_divergence\n0.5,1.5\n")
    assert design_error(v) == ("--design v.csv column 'syria_divergence' row 0 = 1.5 is out of range; it must be "
                               "between 0 and 1 (index 0-1)")


PROC_WRITE_ONLY = Path("/proc/sys/vm/compact_memory")   # mode 0200: refused to every reader, root too


@pytest.mark.skipif(not PROC_WRITE_ONLY.exists(), reason="needs Linux's /proc/sys/vm/compact_memory")
def test_a_design_file_that_may_not_be_read(tmp_path):
    f = tmp_path / "d.csv"
    f.symlink_to(PROC_WRITE_ONLY)
    assert design_error(f) == f"--design {f}: permission denied; make the file readable"


def test_a_design_file_that_fails_to_read(tmp_path):
    # /proc/self/mem cannot be read at offset 0 (EIO): an error none of the named cases covers.
    f = tmp_path / "d.csv"
    f.symlink_to("/proc/self/mem")
    assert design_error(f) == (f"--design {f}: not a readable CSV file (OSError); write the table with pandas' "
                               "to_csv")
