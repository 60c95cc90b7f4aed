"""Design files for ``dialogue batch SCENARIO --design FILE``: a per-run parameter table.

One row per run, one column per parameter (named as in ``dialogue params``; a
``param_`` prefix is accepted), as ``.csv`` (a header row, then numbers) or
``.parquet``. Any sample made outside the tool will do (SALib, EMA Workbench, a
spreadsheet). The table is validated by :func:`model.design.check_design`; every
problem is one :class:`DialogueError` line, raised before anything is written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import DialogueError

SUFFIXES = (".csv", ".parquet")
MAX_ROWS = 10_000_000  # as --runs
MAX_BYTES = 4_000_000_000


def _read(path: Path):
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DialogueError(f"--design {path}: use a .csv or .parquet file (got {suffix or 'no extension'}); "
                            "one row per run, one column per parameter")
    try:
        if path.is_dir():
            raise DialogueError(f"--design {path}: is a folder; give a .csv or .parquet file")
        size = path.stat().st_size
    except FileNotFoundError:
        raise DialogueError(f"--design {path}: file not found") from None
    except OSError as exc:
        raise DialogueError(f"--design {path}: cannot read it ({exc.strerror or exc.__class__.__name__})") from None
    if size > MAX_BYTES:
        raise DialogueError(f"--design {path}: {size:,} bytes; the limit is {MAX_BYTES:,} (split it into batches)")
    try:
        if suffix == ".csv":
            table = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig", low_memory=False)
        else:
            table = pd.read_parquet(path)
    except PermissionError:
        raise DialogueError(f"--design {path}: permission denied; make the file readable") from None
    except pd.errors.EmptyDataError:
        raise DialogueError(f"--design {path}: the file is empty; give a header row of parameter names and one "
                            "row per run") from None
    except UnicodeDecodeError:
        raise DialogueError(f"--design {path}: not UTF-8 text; save the CSV as UTF-8") from None
    except pd.errors.ParserError as exc:
        why = " ".join(str(exc).split())[:120]
        raise DialogueError(f"--design {path}: malformed CSV ({why}); give a header row, then one row of numbers "
                            "per run") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a damaged file
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise DialogueError(f"--design {path}: not a readable {kind} file ({exc.__class__.__name__}); "
                            f"write the table with pandas' to_{kind.lower()}") from None
    if suffix == ".csv" and not isinstance(table.index, pd.RangeIndex):
        # pandas takes the first values of rows one longer than the header as a row index,
        # which would shift every value to the neighbouring parameter.
        raise DialogueError(f"--design {path}: the rows have more values than the header row has names; give every "
                            "column a name, one per parameter")
    return table, hashlib.sha256(path.read_bytes()).hexdigest()


def load_design(design: str | Path | Any, runs: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A design file (``.csv``/``.parquet``) or table (DataFrame, dict of arrays),
    checked: ``({parameter: float64 array}, info)``. ``runs``, if given, must equal
    the rows."""
    from model.design import check_design

    if isinstance(design, (str, Path)):
        path = Path(design)
        table, digest = _read(path)
        where = f"--design {path.name}:"
        unnamed = [str(c) for c in table.columns if str(c).startswith("Unnamed:")]
        if unnamed:
            raise DialogueError(f"{where} a column has no name ('{unnamed[0]}', a saved index?); name every column "
                                "after a parameter, or write the file with index=False")
        info: dict[str, Any] = {"source": "file", "file": str(path.resolve()), "name": path.name,
                                "file_sha256": digest}
    else:
        table, where, info = design, "design:", {"source": "table"}
    if len(table) > MAX_ROWS:
        raise DialogueError(f"{where} {len(table):,} rows; at most {MAX_ROWS:,} runs per point (split the design)")
    checked = check_design(table, runs, where=where.rstrip(":"))
    info |= {"rows": int(next(iter(checked.values())).size), "params": list(checked)}
    return checked, info
