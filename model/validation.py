"""Shared pieces for turning validation failures into one-line messages."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

# What a pydantic type error asked for, in words a scenario author uses.
TYPE_WORDS = {
    "float_type": "a number", "float_parsing": "a number", "int_type": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false", "string_type": "text in quotes",
    "dict_type": "a table", "model_type": "a table", "list_type": "a list", "tuple_type": "a list",
}


def suggest(name: str, options, prefix: str = "") -> str:
    """'; did you mean 'x'?' for the closest option, or '' when none is close."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f"; did you mean '{prefix}{close[0]}'?" if close else ""


def pick_error(exc: ValidationError) -> dict[str, Any]:
    """The error to report. With a union (a number or a table), pydantic reports one
    error per member; the deepest one that is not merely "this is not a table" is
    the one that matches what the author wrote."""
    return max(exc.errors(), key=lambda e: (e["type"] not in ("model_type", "dict_type"), len(e["loc"])))


def wanted(err: dict[str, Any]) -> str:
    """'must be a number, got 'high' (str)' for a type error."""
    got = err.get("input")
    want = TYPE_WORDS.get(err["type"], err["msg"].lower())
    return f"must be {want}, got {got!r} ({type(got).__name__})"
