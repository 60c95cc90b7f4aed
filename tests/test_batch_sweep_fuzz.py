"""Fuzzing the sweep parser (Hypothesis): random TOML documents, from arbitrary text to
near-valid sweeps, nested up to and past the documented depth limit. Every outcome is
a valid sweep or a one-line DialogueError: no other exception, no newline."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.batch.sweep import MAX_POINTS, MAX_SWEEP_BYTES, MAX_SWEEP_DEPTH, Sweep, is_sweep_file, load_sweep
from model.errors import DialogueError
from model.params import registry

PARAMS = sorted(registry())
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------ a small TOML writer


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_doc(doc: dict) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in doc.items())


# ------------------------------------------------------------------ strategies

scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True),
                    st.text(max_size=30))
keys = st.one_of(st.sampled_from(["name", "scenario", "method", "points", "runs", "seed", "horizon",
                                  "lhs_seed", "description", "params", "values", "low", "high", "steps",
                                  *PARAMS[:8]]), st.text(max_size=12))
# Nested tables and arrays, up to a little past the documented limit.
nested = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=4)),
                      max_leaves=MAX_SWEEP_DEPTH * 3)


def number(lo: float, hi: float):
    span = hi - lo
    return st.one_of(st.floats(lo, hi), st.floats(lo - span, hi + span), st.sampled_from([lo, hi]),
                     st.integers(-3, 3))


@st.composite
def near_valid(draw) -> dict:
    """A sweep built from the schema's keys with plausible, sometimes wrong, values."""
    specs = registry()
    method = draw(st.sampled_from(["grid", "lhs", "grid", "other"]))
    doc: dict = {"scenario": draw(st.sampled_from(["baseline", "crackdown", "", "x" * 300]))}
    if draw(st.booleans()):
        doc["method"] = method
    if draw(st.booleans()):
        doc["name"] = draw(st.text(min_size=0, max_size=90))
    for key, strat in (("runs", st.integers(-1, 20_000_000)), ("seed", st.integers(-1, 2**63 - 1)),
                       ("horizon", st.integers(0, 700)), ("points", st.integers(0, 200)),
                       ("lhs_seed", st.integers(-1, 10))):
        if draw(st.integers(0, 3)) == 0:
            doc[key] = draw(strat)
    params = {}
    for name in draw(st.lists(st.sampled_from([*PARAMS, "represion"]), min_size=0, max_size=3, unique=True)):
        lo, hi = (specs[name].low, specs[name].high) if name in specs else (0.0, 1.0)
        p: dict = {}
        if draw(st.booleans()):
            p["values"] = draw(st.lists(number(lo, hi), min_size=0, max_size=5))
        if draw(st.booleans()):
            p["low"], p["high"] = draw(number(lo, hi)), draw(number(lo, hi))
            if method != "lhs" or draw(st.booleans()):
                p["steps"] = draw(st.integers(0, 12))
        if draw(st.integers(0, 5)) == 0:
            p[draw(st.text(max_size=8))] = draw(scalars)
        params[name] = p
    if params or draw(st.booleans()):
        doc["params"] = params
    return doc


# ------------------------------------------------------------------ the property


def check(text: str | bytes) -> Sweep | None:
    """Parse through the file path a user takes; assert the contract."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sweep.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        is_sweep_file(path)  # must not raise either
        try:
            sw, _ = load_sweep(path)
        except DialogueError as exc:
            msg = str(exc)
            assert msg and "\n" not in msg and len(msg) < 2_000, msg
            return None
    points = sw.point_values()
    assert 1 <= len(points) <= MAX_POINTS
    specs = registry()
    for pt in points[:50]:
        for name, v in pt.items():
            assert specs[name].low <= v <= specs[name].high
    return sw


@FUZZ
@given(st.dictionaries(keys, nested, max_size=6))
def test_random_documents(doc):
    check(toml_doc(doc))


@FUZZ
@given(near_valid())
def test_near_valid_sweeps(doc):
    check(toml_doc(doc))


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text):
    check(text)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data):
    check(data)


@pytest.mark.parametrize("depth", [MAX_SWEEP_DEPTH - 1, MAX_SWEEP_DEPTH + 1, 1_000, 5_000])
@pytest.mark.parametrize("kind", ["array", "table"])
def test_deep_nesting_is_one_line(depth, kind):
    inner = "[" * depth + "]" * depth if kind == "array" else "{a = " * depth + "1" + "}" * depth
    for text in (f'scenario = "baseline"\nx = {inner}\n',
                 f'scenario = "baseline"\n[params.repression]\nvalues = {inner}\n'):
        assert check(text) is None  # an error either way: unknown key / wrong type, or too deep


def test_depth_and_size_limits_are_named():
    deep = 'scenario = "baseline"\nx = ' + "[" * (MAX_SWEEP_DEPTH + 2) + "]" * (MAX_SWEEP_DEPTH + 2) + "\n"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.toml"
        p.write_text(deep)
        with pytest.raises(DialogueError, match=f"nested too deeply; a sweep allows at most {MAX_SWEEP_DEPTH}"):
            load_sweep(p)
        p.write_text('scenario = "baseline"\n# ' + "x" * MAX_SWEEP_BYTES + "\n")
        with pytest.raises(DialogueError, match=f"the limit is {MAX_SWEEP_BYTES:,}"):
            load_sweep(p)
        p.write_text('\ufeffscenario = "baseline"\n[params.repression]\nvalues = [0.5]\n')
        assert load_sweep(p)[0].params["repression"].values == [0.5]  # a byte-order mark is fine
    with pytest.raises(DialogueError, match="path is too long"):
        load_sweep("x" * 5_000 + ".toml")
