"""Fuzzing the scenario parser (issue 12, section 6).

Random TOML documents, built from the real schema and parameter registry (so many
are nearly valid) plus random keys, values, nesting and raw text, go through both
entry points: ``load_scenario_text`` (dashboard uploads) and ``load_scenario`` (files,
the CLI). Sizes and depths reach past the documented limits (docs/limits.md). Every
outcome must be a valid Scenario or a DialogueError whose message is one short line.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import DialogueError, load_scenario
from model.params import DIST_KINDS, registry
from model.scenario import Calendar, Initial, RunSettings, Scenario, load_scenario_text, shipped
from model.validation import MAX_DEPTH, MAX_MONTH, MIN_MONTH

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

text_keys = st.text(min_size=1, max_size=12)
months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 13))
edge_months = st.sampled_from([MIN_MONTH, MAX_MONTH, "1989-12", "2101-01", "2250-01", "9999-12", "0000-01"])
scalars = st.one_of(
    st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 700),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-20, 20),
    st.text(max_size=30), months, edge_months, st.sampled_from(DIST_KINDS),
    st.sampled_from([*shipped(), "/etc/passwd", "../scenarios/baseline.toml", "", "x" * 300]),
    st.dates(),
)


def _wrap(value, shape: str):
    return [value] if shape == "a" else {"k": value}


# Nesting up to a few levels past the documented limit.
deep = st.tuples(scalars, st.lists(st.sampled_from("at"), max_size=MAX_DEPTH + 3)).map(
    lambda t: _reduce(t[0], t[1]))


def _reduce(value, shapes):
    for s in shapes:
        value = _wrap(value, s)
    return value


values = st.one_of(scalars, scalars, deep, st.lists(scalars, max_size=4),
                   st.dictionaries(text_keys, scalars, max_size=3))


def _section(model) -> st.SearchStrategy:
    known = st.fixed_dictionaries({}, optional={k: values for k in model.model_fields})
    return st.tuples(known, st.dictionaries(text_keys, values, max_size=2)).map(lambda t: t[1] | t[0])


elections = st.lists(st.fixed_dictionaries({}, optional={"name": scalars, "date": st.one_of(months, edge_months),
                                                         "extra": scalars}), max_size=4)
calendar = st.tuples(_section(Calendar), st.one_of(st.none(), elections)).map(
    lambda t: t[0] if t[1] is None else t[0] | {"elections": t[1]})
param_entry = st.one_of(values, st.fixed_dictionaries({}, optional={"value": values, "dist": st.one_of(
    st.sampled_from(DIST_KINDS), scalars), "spread": values, "oops": scalars}))
params = st.dictionaries(st.one_of(st.sampled_from(list(registry())), text_keys), param_entry, max_size=6)

documents = st.tuples(
    st.fixed_dictionaries({}, optional={
        "name": scalars, "description": scalars, "extends": scalars, "run": _section(RunSettings),
        "initial": st.one_of(_section(Initial), st.fixed_dictionaries({"start": st.one_of(months, edge_months)})),
        "calendar": calendar, "params": params}),
    st.dictionaries(text_keys, values, max_size=2),
).map(lambda t: t[1] | t[0])


def _toml(doc: dict) -> str | None:
    try:
        return tomli_w.dumps(doc)
    except (TypeError, ValueError):  # shapes TOML cannot express (e.g. a date as a key's table)
        return None


def _check(outcome) -> None:
    if isinstance(outcome, Scenario):
        specs = registry()
        assert set(outcome.params) == set(specs)
        for n, s in outcome.params.items():
            assert specs[n].low <= s.value <= specs[n].high
        assert MIN_MONTH <= outcome.initial.start <= MAX_MONTH
        return
    assert isinstance(outcome, DialogueError), repr(outcome)
    msg = str(outcome)
    assert msg and "\n" not in msg and len(msg) < 1000, msg
    assert "Traceback" not in msg and " object at 0x" not in msg


def _outcome(fn, *args):
    try:
        return fn(*args)
    except DialogueError as exc:
        return exc


@FUZZ
@given(documents)
def test_fuzz_upload(doc):
    text = _toml(doc)
    if text is not None:
        _check(_outcome(load_scenario_text, text, "fuzz.toml"))


@FUZZ
@given(documents)
def test_fuzz_file(doc):
    text = _toml(doc)
    if text is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        _check(_outcome(load_scenario, path))


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                 st.tuples(documents, st.integers(0, 200), st.text(max_size=5)).map(
                     lambda t: _splice(_toml(t[0]) or "", t[1], t[2]))))
def test_fuzz_raw_text(text):
    _check(_outcome(load_scenario_text, text, "raw.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.toml"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        _check(_outcome(load_scenario, path))


def _splice(text: str, at: int, junk: str) -> str:
    """A nearly valid document with a few characters inserted."""
    at = min(at, len(text))
    return text[:at] + junk + text[at:]


@FUZZ
@given(st.dictionaries(st.one_of(st.sampled_from([*registry(), "initial.start", "calendar.first_meeting",
                                                  "run.runs", "run.horizon", "initial.relations",
                                                  "repression.dist", "repression.spread"]), text_keys),
                       values, max_size=3))
def test_fuzz_overrides(overrides):
    base = load_scenario("baseline")
    _check(_outcome(base.with_overrides, overrides))
