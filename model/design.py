"""Design tables: per-run parameter values for ``simulate(scenario, design=...)``.

A design is a pandas DataFrame or a dict of arrays; each column is named after a
parameter (a ``param_`` prefix, as in results files, is accepted) and each row is
one run. Parameters not in the table are drawn from their uncertainty distribution
as usual. :func:`check_design` turns any problem into one :class:`DialogueError`
line naming the column, the row and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from model.errors import DialogueError
from model.params import registry
from model.validation import suggest

# Values this many units in the last place outside a bound are rounding noise
# (e.g. lo + (hi - lo) * 1.0 computed in floating point) and are clipped to it.
ULPS = 4


def _columns(design: Any) -> dict[str, Any]:
    try:
        import pandas as pd

        if isinstance(design, pd.DataFrame):
            return {str(c): design[c].to_numpy() for c in design.columns}
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(design, Mapping):
        return {str(k): v for k, v in design.items()}
    raise DialogueError(f"design must be a table (pandas DataFrame or dict of arrays), got {type(design).__name__}")


def check_design(design: Any, runs: int | None = None, where: str = "design") -> dict[str, np.ndarray]:
    """Validate a design table and return ``{parameter: float64 array}``, one value per run.

    Raises :class:`DialogueError` for a table with no rows or columns, columns of
    unequal length, unknown parameter names (with the nearest name), values that
    are not numbers, missing values (NaN) and values outside a parameter's range.
    Values within a few ulps of a bound are clipped to it.
    """
    cols = _columns(design)
    specs = registry()
    if not cols:
        raise DialogueError(f"{where} has no columns; give one column per parameter, e.g. 'repression'")
    out: dict[str, np.ndarray] = {}
    n = None
    for raw, values in cols.items():
        name = raw.removeprefix("param_") if raw not in specs else raw
        if name not in specs:
            raise DialogueError(f"{where} column '{raw}' is not a parameter{suggest(name, specs)}")
        if name in out:
            raise DialogueError(f"{where} gives parameter '{name}' twice; keep one column")
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise DialogueError(f"{where} column '{raw}' must be one value per run (a flat list)")
        if n is None:
            n = arr.size
        elif arr.size != n:
            raise DialogueError(f"{where} columns have different lengths ({n} and {arr.size} for '{raw}'); "
                                "give every column one value per run")
        if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
            raise DialogueError(f"{where} column '{raw}' must hold numbers, not {arr.dtype}")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DialogueError(f"{where} column '{raw}' must hold numbers only") from None
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise DialogueError(f"{where} column '{raw}' has a missing or infinite value in row {bad[0]}; "
                                "fill every cell with a number")
        spec = specs[name]
        lo, hi = spec.low, spec.high
        tol_lo, tol_hi = ULPS * np.spacing(max(abs(lo), 1.0)), ULPS * np.spacing(max(abs(hi), 1.0))
        out_of = np.flatnonzero((arr < lo - tol_lo) | (arr > hi + tol_hi))
        if out_of.size:
            i = out_of[0]
            raise DialogueError(f"{where} column '{raw}' row {i} = {arr[i]:g} is out of range; it must be between "
                                f"{lo:g} and {hi:g} ({spec.units})")
        out[name] = np.clip(arr, lo, hi)
    assert n is not None
    if n == 0:
        raise DialogueError(f"{where} has no rows; give one row per run")
    if runs is not None and runs != n:
        raise DialogueError(f"{where} has {n:,} rows but runs = {runs:,}; leave runs out or make them agree")
    return out


def design_rows(design: dict[str, np.ndarray]) -> int:
    """Number of runs in a checked design."""
    return next(iter(design.values())).size
