"""Results: the observables contract as an ``xarray.Dataset`` (run x time).

Outcome classes at the horizon (``outcome``, one per run), checked in order:

=================  ==========================================================
class              rule
=================  ==========================================================
``rupture``        sanctions in force at the horizon, or relations <= -6
``confrontation``  relations in (-6, -2]
``cool``           relations in (-2, 2]: talking, trading, disagreeing
``thaw``           relations > 2
=================  ==========================================================
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from model.agents.relations import BANDS, DRIVER_LABELS, DRIVERS
from model.errors import DialogueError
from model.params import registry

OUTCOMES = ("rupture", "confrontation", "cool", "thaw")
OUTCOME_RULES = {
    "rupture": "sanctions in force at the horizon, or relations at or below -6",
    "confrontation": "relations above -6 and at or below -2",
    "cool": "relations above -2 and at or below +2",
    "thaw": "relations above +2",
}

_UNITS = {
    "relations": "Goldstein points (-10 conflict to +10 alliance)",
    "protest": "share of public mobilised", "grievance": "share of public disaffected",
    "repression": "index 0-1", "threat": "index 0-1", "syria_divergence": "index 0-1",
    "values_concern": "index 0-1", "us_russia": "index -1 to 1",
    "exports_gbp_m": "GBP million per month", "pressure": "pressure points",
    "ladder": "rung: 0 none, 1 note, 2 dialogue suspended, 3 expulsions",
    "dialogue_active": "bool", "russia_suspended": "bool: Russia has suspended cooperation formats",
    "sanctions": "bool: EU sanctions in force", "counter_sanctions": "bool: Russia answered sanctions",
    "eu_pressure": "pressure points on the EU", "expulsions": "Russian diplomats the UK expelled",
    "russian_expulsions": "British diplomats Russia expelled", "countermeasure": "bool: Russia moved against a UK "
    "institution", "incidents": "count", "major_incidents": "count", "asylum_grants": "count",
    "harassment": "bool: a campaign began", "crisis": "bool: a crisis began",
    "in_crisis": "bool: a crisis was under way", "regime_crisis": "bool: mass mobilisation has happened (sticky)",
    "meeting": "bool: a 2+2 met", "formula": "bool: a formula of words was found",
    "rebel_aid": "bool: UK has armed Syrian rebels",
}


def classify(relations_end: np.ndarray, sanctions_end: np.ndarray) -> np.ndarray:
    """Outcome class per run at the horizon (see module docstring)."""
    out = np.select(
        [sanctions_end | (relations_end <= -6), relations_end <= -2, relations_end <= 2],
        ["rupture", "confrontation", "cool"], default="thaw")
    return out.astype("<U13")


def git_commit() -> str:
    """The model's git commit, only when it runs from its own checkout: an installed
    package may sit inside someone else's repository, whose commit is not ours."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists() or not (root / "scenarios" / "baseline.toml").is_file():
        return "unknown"
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_dataset(out: dict[str, np.ndarray], params: dict[str, np.ndarray], run_ids: np.ndarray,
                  scenario, seed: int, horizon: int) -> xr.Dataset:
    from model import __version__

    time = pd.period_range(scenario.initial.start, periods=horizon, freq="M").to_timestamp()
    coords = {"run": ("run", np.asarray(run_ids, dtype=np.int64)), "time": ("time", time)}
    data = {}
    for name, arr in out.items():
        attrs = {"units": _UNITS.get(name, "Goldstein points per month")}
        if name.startswith("contrib_"):
            attrs["long_name"] = f"Contribution of {DRIVER_LABELS[name[8:]].lower()} to the change in relations"
        data[name] = (("run", "time"), arr.T, attrs)
    specs = registry()
    for name, arr in params.items():
        spec = specs[name]
        data[f"param_{name}"] = ("run", np.asarray(arr, dtype=np.float64),
                                 {"long_name": spec.label, "units": spec.units})
    ds = xr.Dataset(data, coords=coords)
    ds["outcome"] = ("run", classify(out["relations"][-1], out["sanctions"][-1]),
                     {"long_name": "outcome class at the horizon",
                      "rules": "; ".join(f"{k}: {v}" for k, v in OUTCOME_RULES.items())})
    ds.attrs.update({
        "title": f"UK-Russia relations scenario '{scenario.name}'",
        "scenario": scenario.name,
        "scenario_label": scenario.label,  # the name plus any --set changes
        "scenario_toml": scenario.to_toml(),
        "seed": int(seed),
        "runs": int(ds.sizes["run"]),
        "horizon_months": int(horizon),
        "start": scenario.initial.start,
        "initial_relations": float(scenario.initial.relations),
        "version": __version__,
        "git_commit": git_commit(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "drivers": ",".join(DRIVERS),
        "bands": ";".join(f"{n}:{lo}:{hi}" for n, lo, hi in BANDS),
    })
    return ds


def add_weights(ds: xr.Dataset, weight: np.ndarray, ancestor: np.ndarray, smc_json: str,
                observations_toml: str, updates: int) -> xr.Dataset:
    """Mark a Dataset as conditioned on observations (model/smc.py): per-run ``weight``
    (normalised to sum to 1; equal after a final resample) and ``ancestor`` (the prior
    run each descends from), the updates' diagnostics as JSON in ``attrs["smc"]`` and the
    observations file in ``attrs["observations_toml"]``."""
    ds["weight"] = ("run", np.asarray(weight, dtype=np.float64),
                    {"long_name": "posterior weight of the run", "units": "1 (sums to 1 over runs)"})
    ds["ancestor"] = ("run", np.asarray(ancestor, dtype=np.int64),
                      {"long_name": "the prior run (global run index) this run descends from"})
    ds.attrs.update({"smc": smc_json, "observations_toml": observations_toml, "smc_updates": int(updates)})
    return ds


def run_weights(ds: xr.Dataset) -> np.ndarray | None:
    """The runs' weights (summing to 1), or None when every run counts the same, so
    that unweighted data takes exactly the unweighted arithmetic."""
    if "weight" not in ds:
        return None
    w = np.asarray(ds["weight"].values, dtype=np.float64)
    if w.size == 0 or np.all(w == w[0]):
        return None
    return w / w.sum()


# Space a results file needs beyond its data: NetCDF headers, attributes and slack.
_FILE_OVERHEAD = 1_000_000


def estimate_bytes(runs: int, horizon: int) -> int:
    """About how large ``save`` makes a results file (measured: within 1% for 2000 x 60)."""
    from model.engine import RECORDED

    per_cell = sum(np.dtype(t).itemsize for t in RECORDED.values())
    per_run = 8 * (len(registry()) + 1) + 4 * 13  # parameter draws, run id, outcome
    return int(1.05 * (runs * horizon * per_cell + runs * per_run)) + _FILE_OVERHEAD


def check_output_path(path: str | Path, overwrite: bool = True, need_bytes: int = 0) -> Path:
    """Refuse a results path that cannot work, before any simulating is done: wrong
    suffix, missing or unwritable folder, an existing file (unless ``overwrite``), or
    less free space than ``need_bytes``."""
    path = Path(path)
    if path.suffix != ".nc":
        raise DialogueError(f"{path}: results files end in .nc (NetCDF); try {path.with_suffix('.nc')}")
    try:
        folder = path.resolve().parent
        if not folder.is_dir():
            raise DialogueError(f"{path.parent}: folder does not exist; create it first")
        if path.is_dir():
            raise DialogueError(f"{path}: is a folder; give a file name ending in .nc")
        if path.exists() and not overwrite:
            raise DialogueError(f"{path}: already exists; add --force to overwrite it, or choose another name")
        # Try the folder for real: read-only mounts and permissions are what open() says they are.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.probe-"):
            pass
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise DialogueError(f"{path}: cannot write here ({_reason(exc)}); choose another folder") from None
    if need_bytes > free:
        raise DialogueError(f"{path}: not enough disk space: the results need about {need_bytes / 1e6:,.1f} MB "
                            f"and {free / 1e6:,.1f} MB is free; free some space, use fewer runs, or write elsewhere")
    return path


def _reason(exc: OSError) -> str:
    """An OSError in a few words, without library internals (h5py puts buffer addresses in its text)."""
    return (exc.strerror or exc.__class__.__name__).lower()


def save(ds: xr.Dataset, path: str | Path, overwrite: bool = True) -> Path:
    """Write NetCDF atomically: a failed write leaves nothing at ``path`` and no
    temporary file.

    The file is encoded in memory and written with plain file I/O. HDF5 does not
    recover from a failed write (a full disk): its cache is left corrupt, and the
    next call into it (h5netcdf's cleanup, or closing the file at exit) segfaults.
    So HDF5 never writes to disk here; only Python does, and it fails cleanly.
    """
    path = check_output_path(path, overwrite)
    try:
        data = ds.to_netcdf(engine="h5netcdf")  # bytes in memory
    except MemoryError:
        raise DialogueError(f"{path}: not enough memory to encode the results; use fewer runs, "
                            f"or 'dialogue batch', which writes in chunks") from None
    check_output_path(path, overwrite, need_bytes=len(data))
    write_atomic(data, path)
    return path


def write_atomic(data: bytes | memoryview, path: str | Path) -> Path:
    """Write ``data`` to a temporary file beside ``path``, sync it, then rename it
    over ``path``. On any failure the temporary file is removed and the error is one line."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        _discard(tmp)
        if isinstance(exc, PermissionError):
            raise DialogueError(f"{path}: permission denied; choose a folder you can write to") from None
        raise DialogueError(f"{path}: could not write results ({_reason(exc)}); nothing was written") from None
    except BaseException:  # Ctrl+C mid-write: still leave nothing behind
        _discard(tmp)
        raise
    return path


def _discard(tmp: Path) -> None:
    """Remove a partial file if we can; on a read-only file system nothing was written anyway."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def load(path: str | Path) -> xr.Dataset:
    """Open a results file written by :func:`save`, checking it is one."""
    path = Path(path)
    if not path.is_file():
        raise DialogueError(f"{path}: results file not found")
    try:
        ds = xr.load_dataset(path, engine="h5netcdf")
    except Exception as exc:  # h5py raises many types for corrupt files
        raise DialogueError(f"{path}: not a readable NetCDF results file ({exc.__class__.__name__})") from None
    missing = [v for v in ("relations", "outcome", "dialogue_active") if v not in ds]
    if missing or "scenario_toml" not in ds.attrs:
        what = ", ".join(missing) or "scenario attributes"
        raise DialogueError(f"{path}: not a results file from 'dialogue run' (missing {what})")
    return ds
