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
import subprocess
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
    "ladder": "rung: 0 none, 1 note, 2 dialogue suspended, 3 expulsions, 4 sanctions",
    "dialogue_active": "bool", "sanctions": "bool", "expulsions": "diplomats expelled, both ways",
    "incidents": "count", "major_incidents": "count", "asylum_grants": "count",
    "harassment": "bool: a campaign began", "crisis": "bool: a crisis began",
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
    try:
        root = Path(__file__).resolve().parent.parent
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


def check_output_path(path: str | Path) -> Path:
    """Refuse a results path that cannot work, before any simulating is done."""
    path = Path(path)
    if path.suffix != ".nc":
        raise DialogueError(f"{path}: results files end in .nc (NetCDF); try {path.with_suffix('.nc')}")
    if not path.resolve().parent.is_dir():
        raise DialogueError(f"{path.parent}: folder does not exist; create it first")
    return path


def save(ds: xr.Dataset, path: str | Path) -> Path:
    """Write NetCDF atomically (temporary file, then rename): a failed write never
    leaves a half-written file at ``path``."""
    path = check_output_path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        tmp.replace(path)
    except PermissionError:
        tmp.unlink(missing_ok=True)
        raise DialogueError(f"{path}: permission denied; choose a folder you can write to") from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DialogueError(f"{path}: could not write results ({exc.strerror or exc})") from None
    return path


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
