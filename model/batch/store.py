"""Reading a batch folder: ``load_batch(path)``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from model.batch.chunks import ENSEMBLES, MEMBER_ATTRS, STACKED
from model.batch.integrity import check_file
from model.batch.runner import EVENTS_PARQUET, MANIFEST, SUMMARY_PARQUET, read_manifest
from model.errors import DialogueError


class Batch:
    """A batch results folder.

    ``summary``: one row per point (pandas DataFrame; columns in docs/batch.md);
    ``events_by_month``: cumulative event probabilities per point and month;
    ``manifest``: the manifest dict; ``open(point)``: the full ensemble of one point
    as a lazy (dask-backed) xarray Dataset, concatenated over its chunk files.
    """

    def __init__(self, path: Path, manifest: dict, summary: pd.DataFrame | None,
                 events_by_month: pd.DataFrame | None):
        self.path = path
        self.manifest = manifest
        self._summary = summary
        self.events_by_month = events_by_month

    @property
    def summary(self) -> pd.DataFrame:
        if self._summary is None:
            raise DialogueError(f"{self.path}: the batch is not finished (status {self.manifest.get('status')}); "
                                "finish it with 'dialogue batch ... --resume'")
        return self._summary

    @property
    def complete(self) -> bool:
        return self._summary is not None and self.manifest.get("status") == "complete"

    @property
    def points(self) -> list[str]:
        return [p["id"] for p in self.manifest.get("points", [])]

    def _point(self, key: str | int) -> dict:
        pts = self.manifest.get("points", [])
        if isinstance(key, int):
            if not 0 <= key < len(pts):
                raise DialogueError(f"{self.path}: point index {key} out of range (0..{len(pts) - 1})")
            return pts[key]
        by_id = [p for p in pts if p["id"] == key]
        if by_id:
            return by_id[0]
        by_scenario = [p for p in pts if p["scenario"] == key and not p["sweep"]]
        if len(by_scenario) == 1:
            return by_scenario[0]
        import difflib

        close = difflib.get_close_matches(str(key), [p["id"] for p in pts], n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else f"; points: {', '.join(p['id'] for p in pts[:5])}"
        raise DialogueError(f"{self.path}: no point '{key}' in this batch{hint}")

    def files(self, key: str | int) -> list[Path]:
        """The chunk files of one point, in run order."""
        p = self._point(key)
        return [self.path / ENSEMBLES / p["id"] / f"chunk-{i:06d}.nc" for i in range(p["chunks"])]

    def verify(self, key: str | int) -> None:
        """Check every chunk file of one point against the size and sha256 recorded in
        the manifest when it was written; one-line error for a damaged or replaced file."""
        p = self._point(key)
        records = {c.get("key"): c.get("files") or {} for c in self.manifest.get("chunks", [])}
        for i, f in enumerate(self.files(key)):
            rec = records.get(f"{p['id']}/chunk-{i:06d}", {}).get("ensemble")
            why = check_file(f, rec)
            if why:
                raise DialogueError(f"{f}: {why}; rerun the batch with --resume to verify and recompute it")

    def open(self, key: str | int, verify: bool = True, **kwargs):
        """The full ensemble of one point (by id, index or scenario name), opened lazily.
        ``verify``: first check each chunk file's checksum against the manifest."""
        import xarray as xr

        p = self._point(key)
        if self.manifest.get("variables") == []:
            raise DialogueError(f"{self.path}: this batch kept no ensembles (--variables none); only the summary")
        files = self.files(key)
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise DialogueError(f"{self.path}: point {p['id']} is missing {len(missing)} of {len(files)} chunk "
                                "files; finish the batch with --resume")
        if verify:
            self.verify(key)
        opts = {"engine": "h5netcdf", "combine": "nested", "concat_dim": "run", "data_vars": "minimal",
                "coords": "minimal", "compat": "override", "combine_attrs": "drop_conflicts"} | kwargs
        try:
            ds = xr.open_mfdataset([str(f) for f in files], **opts)
        except (OSError, ValueError) as exc:
            raise DialogueError(f"{self.path}: cannot open the ensemble of {p['id']} ({exc.__class__.__name__}); "
                                "rerun the batch with --resume to verify and recompute damaged chunks") from None
        ds = with_member_names(ds)
        ds.attrs.update({"runs": int(ds.sizes["run"]), "batch": str(self.path), "batch_point": p["id"]})
        for k in ("batch_chunk", "run_offset"):
            ds.attrs.pop(k, None)
        return ds

    def __repr__(self) -> str:
        runs = self.manifest.get("runs_total")
        runs = f"{runs:,}" if isinstance(runs, int) else "?"
        return f"<Batch {self.path}: {len(self.points)} points, {runs} runs, status {self.manifest.get('status')}>"


_STACKED_ATTRS = {
    "params": {"long_name": "per-run parameter values", "note": "also as param_<name>; select with "
               "ds.params.sel(param='repression')"},
    "contrib": {"long_name": "contribution of each driver to the change in relations",
                "units": "Goldstein points per month", "note": "also as contrib_<driver>; select with "
                "ds.contrib.sel(driver='syria_divergence')"},
}


def with_member_names(ds):
    """A stored chunk Dataset with both forms: the stacked ``params (run, param)`` and
    ``contrib (run, driver, time)`` and, as lazy views of them, the ``param_<name>``
    and ``contrib_<driver>`` variables of ``simulate()`` (with their attributes)."""
    import json

    for stacked, (prefix, dim) in STACKED.items():
        if stacked not in ds.data_vars:
            continue  # format 2 (or nothing kept): the per-name variables are already there
        var = ds[stacked]
        try:
            member_attrs = json.loads(var.attrs.get(MEMBER_ATTRS, "{}"))
        except ValueError:
            member_attrs = {}
        for i, name in enumerate(ds[dim].values):
            full = f"{prefix}{name}"
            ds[full] = var.isel({dim: i}, drop=True)
            ds[full].attrs = dict(member_attrs.get(full, {}))
        var.attrs = dict(_STACKED_ATTRS[stacked])
        ds[stacked] = var
    return ds


def load_batch(path: str | Path, allow_incomplete: bool = False) -> Batch:
    """Open a batch folder written by ``dialogue batch`` (or :func:`run_batch`)."""
    path = Path(path)
    if not (path / MANIFEST).is_file():
        raise DialogueError(f"{path}: not a batch folder (no {MANIFEST})")
    manifest = read_manifest(path)
    summary = events = None
    if (path / SUMMARY_PARQUET).is_file() and manifest.get("status") == "complete":
        summary = pd.read_parquet(path / SUMMARY_PARQUET)
        if (path / EVENTS_PARQUET).is_file():
            events = pd.read_parquet(path / EVENTS_PARQUET)
    elif not allow_incomplete:
        raise DialogueError(f"{path}: the batch is not finished (status {manifest.get('status')}); finish it with "
                            "'dialogue batch ... --resume' (or pass allow_incomplete=True)")
    return Batch(path, manifest, summary, events)
