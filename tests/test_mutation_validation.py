"""``model.validation``'s helpers on exact inputs and outputs (issue 14: mutation gaps).

The scenario tests reach these helpers only through whole messages; here each one is
checked on its own, at its edges (limits, cut-offs, open and closed bounds).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError

from model import validation as v

# The checkout's docs (under mutmut the tests run from a copy in ./mutants/, one level down).
DOCS = next((p / "docs" / "limits.md" for p in Path(__file__).resolve().parents[1:3]
             if (p / "docs" / "limits.md").is_file()), Path("docs/limits.md"))


def test_limits_are_the_documented_ones():
    text = DOCS.read_text()
    assert (v.MAX_FILE_BYTES, v.MAX_DEPTH, v.MAX_NAME_CHARS, v.MAX_DESCRIPTION_CHARS) == (1_000_000, 16, 255, 5_000)
    assert (v.MAX_REF_CHARS, v.MAX_PATH_PART_CHARS, v.MAX_ELECTIONS) == (1_024, 255, 100)
    assert (v.MIN_RUNS, v.MAX_RUNS, v.MIN_HORIZON, v.MAX_HORIZON) == (1, 10_000_000, 1, 600)
    assert (v.MIN_MONTH, v.MAX_MONTH, v.BOUND_TOLERANCE) == ("1990-01", "2100-12", 1e-9)
    for words in ("1,000,000 bytes", "16 levels", "1 to 255 characters", "5,000 characters", "1,024 characters",
                  "100 entries", "1 to 10,000,000", "1 to 600 months", "1990-01 to 2100-12", "within 1e-9"):
        assert words in text, words


def test_suggest_names_the_closest_option_with_its_prefix():
    assert v.suggest("represion", ["repression", "protest_growth"]) == "; did you mean 'repression'?"
    assert v.suggest("represion", ["repression"], prefix="param.") == "; did you mean 'param.repression'?"
    assert v.suggest("zzzz", ["repression"]) == ""
    # cutoff 0.5: 'abcd' vs 'abxy' is a ratio of exactly 0.5 (close), 'abcd' vs 'axyz' 0.25 (not)
    assert v.suggest("abcd", ["abxy"]) == "; did you mean 'abxy'?"
    assert v.suggest("abcd", ["axyz"]) == ""
    assert v.suggest("abcd", ["abcx", "abxy"]) == "; did you mean 'abcx'?"  # one match, the best


class _Leaf(BaseModel):
    x: float


class _Doc(BaseModel):
    v: float | _Leaf


class _TableFirst(BaseModel):
    v: _Leaf | float


class _DictFirst(BaseModel):
    v: dict[str, float] | float


@pytest.mark.parametrize("model", [_TableFirst, _DictFirst])
def test_pick_error_passes_over_not_a_table_even_when_it_comes_first(model):
    with pytest.raises(ValidationError) as exc:
        model(v="high")
    assert exc.value.errors()[0]["type"] in ("model_type", "dict_type")  # the table member is tried first
    assert v.pick_error(exc.value)["type"] == "float_parsing"


def test_pick_error_prefers_the_deepest_error_that_is_not_merely_not_a_table():
    with pytest.raises(ValidationError) as exc:
        _Doc(v="high")
    err = v.pick_error(exc.value)
    assert err["type"] == "float_parsing"
    with pytest.raises(ValidationError) as exc:
        _Doc(v={"x": "high"})
    err = v.pick_error(exc.value)
    assert err["type"] == "float_parsing" and err["loc"] == ("v", "_Leaf", "x")


def test_wanted_says_what_was_asked_for_and_what_came():
    assert v.wanted({"type": "float_parsing", "input": "high", "msg": "x"}) == "must be a number, got 'high' (str)"
    assert v.wanted({"type": "bool_type", "input": 3, "msg": "x"}) == "must be true or false, got 3 (int)"
    other = {"type": "other", "input": None, "msg": "Value ERROR"}
    assert v.wanted(other) == "must be value error, got None (NoneType)"
    assert v.wanted({"type": "int_type", "msg": "x"}) == "must be a whole number, got None (NoneType)"


def test_clip_keeps_short_reprs_and_cuts_long_ones_to_the_limit():
    assert v.clip("a" * 58) == repr("a" * 58)  # 60 characters with the quotes: kept
    long = v.clip("a" * 59)  # 61: cut
    assert long == repr("a" * 59)[:55] + "..." + "a'" and len(long) == 60
    assert v.clip(list(range(10)), limit=12) == "[0, 1, ...9]"

    class Deep:
        def __repr__(self):
            raise RecursionError

    assert v.clip(Deep()) == "(a deeply nested value)"


def test_shorten_cuts_at_the_limit_with_an_ellipsis():
    assert v.shorten("x" * 100) == "x" * 100
    assert v.shorten("x" * 101) == "x" * 97 + "..."
    assert v.shorten("abcdef", limit=5) == "ab..."
    assert v.shorten("abcde", limit=5) == "abcde"


@pytest.mark.parametrize("args,words", [
    ((0.0, 1.0, False, False), "between 0 and 1"),
    ((0, 100000, True, False), "above 0 and at most 100000"),
    ((0, 100000, False, True), "at least 0 and below 100000"),
    ((0.5, 2.5, True, True), "above 0.5 and below 2.5"),
    ((0, None, False, False), "at least 0"),
    ((0, None, True, False), "above 0"),
    ((None, 1e-7, False, False), "at most 1e-07"),
    ((None, 3, False, True), "below 3"),
    ((None, None, False, False), "any value"),
    ((1, 10_000_000, False, False), "between 1 and 10000000"),  # whole numbers are written out in full
    ((0.0, 1e6, False, False), "between 0 and 1e+06"),
])
def test_bound_words_says_whether_each_end_is_included(args, words):
    assert v.bound_words(*args) == words


def test_bound_words_defaults_are_closed_and_unbounded():
    assert v.bound_words() == "any value"
    assert v.bound_words(1) == "at least 1"
    assert v.bound_words(hi=2) == "at most 2"


@pytest.mark.parametrize("meta,want", [
    ([Ge(0), Le(1)], (0, 1, False, False)),
    ([Gt(0), Le(5)], (0, 5, True, False)),
    ([Ge(-1), Lt(2)], (-1, 2, False, True)),
    ([Gt(0.5), Lt(3)], (0.5, 3, True, True)),
    ([Ge(0)], (0, None, False, False)),
    ([Lt(7)], (None, 7, False, True)),
    ([Gt(0), object()], (0, None, True, False)),
    ([], (None, None, False, False)),
])
def test_field_bounds_reads_each_kind_of_bound(meta, want):
    assert v.field_bounds(meta) == want


@pytest.mark.parametrize("doc,depth", [
    ({}, 1), ([], 1), ({"a": 1}, 1), ({"a": {"b": 1}}, 2), ({"a": [1, {"b": [2]}]}, 4),
    ([[[[]]]], 4), ({"a": {}, "b": {"c": {"d": {}}}}, 4), ({"a": "text", "b": ("t", "u")}, 1),
])
def test_nesting_depth_counts_tables_and_arrays(doc, depth):
    assert v.nesting_depth(doc) == depth
