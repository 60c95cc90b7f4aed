"""Shared pieces for turning validation failures into one-line messages."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from model.errors import DialogueError

# What a pydantic type error asked for, in words a scenario author uses.
TYPE_WORDS = {
    "float_type": "a number", "float_parsing": "a number", "int_type": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false", "string_type": "text in quotes",
    "dict_type": "a table", "model_type": "a table", "list_type": "a list", "tuple_type": "a list",
    "finite_number": "a finite number (not nan or inf)",
}


# A calendar month, YYYY-MM (scenarios, observations, resolutions).
YEAR_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


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
    return f"must be {want}, got {clip(got)} ({type(got).__name__})"


# ---------------------------------------------------------------- limits
# Enforced limits on user input (documented in docs/limits.md). They keep every bad
# input a one-line error: no recursion blow-up, no file-name-too-long, no date overflow.

MAX_FILE_BYTES = 1_000_000  # a scenario file or upload; shipped ones are about 2 kB
MAX_DEPTH = 16  # tables and arrays nested in one scenario document (the schema needs 4)
MAX_NAME_CHARS = 255  # a scenario's `name` (it defaults to the file name), an election's name
MAX_DESCRIPTION_CHARS = 5_000  # a scenario's `description`
MAX_REF_CHARS = 1_024  # a scenario reference: shipped name, or path given to `extends` or the CLI
MAX_PATH_PART_CHARS = 255  # one part of such a path (the usual file-system limit)
MAX_ELECTIONS = 100  # entries in [calendar] elections
MAX_SHOCKS = 50  # [[shocks]] in a resolved scenario, inherited ones included (docs/shocks.md)
MAX_SHOCK_NOTE_CHARS = 500  # a shock's `note`
MIN_RUNS, MAX_RUNS = 1, 10_000_000
MIN_HORIZON, MAX_HORIZON = 1, 600  # months
# Months (start, first 2+2 meeting, elections). The latest start plus the longest
# horizon (2150-11) stays well inside what pandas and NetCDF time axes can hold (2262).
MIN_MONTH, MAX_MONTH = "1990-01", "2100-12"
# A parameter value this close to a bound (relative to its range) is taken as the bound:
# samplers such as SALib produce 0.4000000000000001 for a bound of 0.4.
BOUND_TOLERANCE = 1e-9


def clip(value: Any, limit: int = 60) -> str:
    """``repr`` of a value, shortened so an echo of user input keeps the message short."""
    try:
        out = repr(value)
    except RecursionError:
        return "(a deeply nested value)"
    return out if len(out) <= limit else f"{out[:limit - 5]}...{out[-2:]}"


def shorten(text: str, limit: int = 100) -> str:
    """Plain text cut to ``limit`` characters, e.g. a file name in a message."""
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


def bound_words(lo: Any = None, hi: Any = None, lo_open: bool = False, hi_open: bool = False) -> str:
    """The allowed range in words that say whether each end is included:
    'between 0 and 1' (both included), 'above 0 and at most 100000', 'at least 0'."""
    def fmt(x: Any) -> str:
        return f"{x:g}" if isinstance(x, float) else str(x)

    low = None if lo is None else (f"above {fmt(lo)}" if lo_open else f"at least {fmt(lo)}")
    high = None if hi is None else (f"below {fmt(hi)}" if hi_open else f"at most {fmt(hi)}")
    if low and high:
        if not lo_open and not hi_open:
            return f"between {fmt(lo)} and {fmt(hi)}"
        return f"{low} and {high}"
    return low or high or "any value"


def field_bounds(metadata: list[Any]) -> tuple[Any, Any, bool, bool]:
    """(low, high, low_open, high_open) from a pydantic field's metadata."""
    lo = hi = None
    lo_open = hi_open = False
    for m in metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    return lo, hi, lo_open, hi_open


def nesting_depth(doc: Any) -> int:
    """Depth of nested tables and arrays (a flat table is 1), without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


# ---------------------------------------------------------------- files of dated entries
# Resolutions (scoring) and observations (updating) are both TOML files of numbered entries
# under a header table; these read them the same way, with the same one-line errors.


def read_toml_text(path: str | Path, kind: str) -> str:
    """The UTF-8 text of a ``kind`` file ("resolutions", "observations"), checked first
    for its suffix, existence and size."""
    p = Path(path)
    if p.suffix.lower() != ".toml":
        raise DialogueError(f"{p}: {kind} files are TOML and end in .toml")
    if not p.is_file():
        raise DialogueError(f"{p}: {kind} file not found")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise DialogueError(f"{p}: too large; the limit is {MAX_FILE_BYTES:,} bytes")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DialogueError(f"{p}: not UTF-8 text; save it as UTF-8") from None


def parse_toml(text: str, name: str) -> dict:
    """TOML text as a dict, refusing what cannot be parsed or is nested too deeply."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DialogueError(f"{name}: not valid TOML ({exc})") from None
    except RecursionError:
        raise DialogueError(f"{name}: nested too deeply; at most {MAX_DEPTH} levels") from None
    if nesting_depth(doc) > MAX_DEPTH:
        raise DialogueError(f"{name}: nested too deeply; at most {MAX_DEPTH} levels")
    return doc


def only_sections(doc: dict, name: str, header: str, entry: str) -> None:
    """Refuse any top-level key but the ``[header]`` table and the ``[[entry]]`` tables."""
    unknown = [k for k in doc if k not in (header, entry)]
    if unknown:
        article = "an" if header[0] in "aeiou" else "a"
        raise DialogueError(f"{name}: unknown section '{clip(unknown[0], 40)[1:-1]}'"
                            f"{suggest(unknown[0], [entry, header])}; {article} {header} file has "
                            f"[{header}] and [[{entry}]] tables")


def numbered_entries(doc: dict, name: str, *, entry: str, limit: int, docs: str,
                     parse: Callable[[Any, int], Any], where: Callable[[int, str | None], str]) -> list:
    """The ``[[entry]]`` tables of ``doc`` parsed by ``parse(raw, i)`` (objects with an ``id``),
    each given a default id ``<entry>-<n>`` and checked for repeats. ``where(i, id)`` names an
    entry in messages. Check the sections first with :func:`only_sections`."""
    raw = doc.get(entry)
    if not isinstance(raw, list) or not raw:
        raise DialogueError(f"{name}: no {entry}s; add [[{entry}]] tables (see {docs})")
    if len(raw) > limit:
        raise DialogueError(f"{name}: {len(raw):,} {entry}s; the limit is {limit:,}")
    out: list = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        ob = parse(item, i)
        oid = ob.id or f"{entry}-{i + 1}"
        if oid in seen:
            raise DialogueError(f"{where(i, ob.id)}: id repeats {entry} {seen[oid] + 1}; "
                                f"give each {entry} its own id")
        seen[oid] = i
        out.append(ob.model_copy(update={"id": oid}))
    return out
