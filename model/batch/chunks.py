"""One chunk: simulate it, reduce it to partial summaries, write both atomically.

A chunk on disk is two files::

    ensembles/<point>/chunk-000003.nc    the full ensemble of its runs (NetCDF, h5netcdf)
    partials/<point>/chunk-000003.npz    its partial summaries (counts, horizon slices)

each encoded in memory, written to a hidden temporary file with a plain file write
and moved into place with ``os.replace`` (HDF5 never writes to the disk itself: a
full disk is an ordinary OSError, not a crash). The ``.npz`` also carries the
chunk's identity (point, index, run offset, runs, seed, the batch's input hash) and
the size and sha256 of its ensemble file, so ``--resume`` can verify it
(:mod:`model.batch.integrity`).
The ``.npz`` is written last, so a chunk is *done* exactly when its ``.npz``
exists: a chunk killed half-way leaves at most a temporary file (removed on
``--resume``) or an ensemble file without partials (rewritten on ``--resume``).

The partial summaries are everything the summary table needs, so the summary
never loads whole ensembles: outcome and event counts, event counts per month,
the horizon slice of relations and exports and each run's total driver
contributions (a few numbers per run: exact quantiles and means, not histogram
approximations, and the same whatever the chunk size).
"""

from __future__ import annotations

import errno
import io
import json
import os
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.batch.integrity import sha256_bytes
from model.batch.plan import ChunkTask
from model.errors import DialogueError

ENSEMBLES = "ensembles"
PARTIALS = "partials"

# Event names (model.analysis.event_flags) -> summary column slugs.
EVENT_SLUGS = {
    "dialogue suspended": "dialogue_suspended",
    "diplomats expelled": "diplomats_expelled",
    "sanctions": "sanctions",
    "major incident on UK soil": "major_incident",
    "regime crisis in Russia": "regime_crisis",
}


def ensemble_path(out: Path, task_point: str, index: int) -> Path:
    return Path(out) / ENSEMBLES / task_point / f"chunk-{index:06d}.nc"


def partial_path(out: Path, task_point: str, index: int) -> Path:
    return Path(out) / PARTIALS / task_point / f"chunk-{index:06d}.npz"


@dataclass
class ChunkResult:
    """What a worker hands back. ``dataset``/``partial`` are set only when the
    coordinator is to write the chunk (Dask cluster: workers may not share a disk)."""

    key: str
    point: str
    index: int
    runs: int
    seconds: float
    worker: str
    dataset: object = None
    partial: dict | None = None
    files: dict | None = None   # sizes and sha256 of the written files, for the manifest


def partial_stats(ds) -> dict[str, np.ndarray]:
    """Reduce a chunk's Dataset to the partial sums the summary needs."""
    from model.agents.relations import DRIVERS
    from model.analysis import event_flags
    from model.results import OUTCOMES

    outcome = ds["outcome"].values
    flags = event_flags(ds)
    by_month = np.stack([v.sum("run").values for v in flags.values()]).astype(np.int64)
    end = ds.isel(time=-1)
    return {
        "n": np.array([ds.sizes["run"]], dtype=np.int64),
        "run_ids": np.asarray(ds["run"].values, dtype=np.int64),
        "outcome_counts": np.array([(outcome == k).sum() for k in OUTCOMES], dtype=np.int64),
        "event_by_month": by_month,                       # (events, time) runs with event by then
        "relations_end": np.asarray(end["relations"].values, dtype=np.float64),
        "exports_end": np.asarray(end["exports_gbp_m"].values).astype(np.float64),
        # Per-run total contribution of each driver, (drivers, runs): exactly as
        # summarize() computes it before averaging over runs.
        "driver_run_totals": np.stack([np.asarray(ds[f"contrib_{d}"].sum("time").values, dtype=np.float64)
                                       for d in DRIVERS]),
        # Per-run outputs at the horizon, for analysing designs (model.batch.analysis).
        "outcome_run": _outcome_codes(outcome),
        "events_end": np.stack([np.asarray(v.isel(time=-1).values, dtype=bool) for v in flags.values()]),
    }


def _outcome_codes(outcome: np.ndarray) -> np.ndarray:
    """Each run's outcome class as its index in ``model.results.OUTCOMES``."""
    from model.results import OUTCOMES

    codes = np.full(outcome.shape, -1, dtype=np.int8)
    for i, k in enumerate(OUTCOMES):
        codes[outcome == k] = i
    return codes


# Stacked variables of the stored chunk (format 3): name -> (prefix of the
# simulate() variables it holds, the new dimension).
STACKED = {"params": ("param_", "param"), "contrib": ("contrib_", "driver")}
MEMBER_ATTRS = "member_attrs"  # JSON {member: its attributes}, restored by the loader


def storable(ds, task: ChunkTask):
    """The chunk as stored: the chosen variables (plus per-run parameters and the
    outcome), arrays laid out (run, ...) contiguously, the 58 ``param_*`` variables
    as one ``params (run, param)`` and the ``contrib_*`` ones as one
    ``contrib (run, driver, time)`` (HDF5 costs milliseconds per variable; the
    loader gives the old names back), and attributes saying which chunk of which
    batch point this is."""
    import xarray as xr

    if task.variables is not None:
        keep = [v for v in ds.data_vars if "time" not in ds[v].dims or v in task.variables]
        ds = ds[keep]
    data: dict = {}
    coords = dict(ds.coords)
    for stacked, (prefix, dim) in STACKED.items():
        members = [v for v in ds.data_vars if str(v).startswith(prefix)]
        if not members:
            continue
        first = ds[members[0]]
        dims = ("run", dim, *first.dims[1:])
        arr = np.empty((ds.sizes["run"], len(members), *first.shape[1:]), dtype=first.dtype)
        for i, m in enumerate(members):
            arr[:, i] = ds[m].values
        attrs = {MEMBER_ATTRS: json.dumps({m: dict(ds[m].attrs) for m in members}, sort_keys=True)}
        data[stacked] = (dims, arr, attrs)
        coords[dim] = (dim, np.array([str(m)[len(prefix):] for m in members], dtype=object))
    for name, var in ds.data_vars.items():
        if not any(str(name).startswith(prefix) for prefix, _ in STACKED.values()):
            data[name] = (var.dims, np.ascontiguousarray(var.values), var.attrs)
    out = xr.Dataset(data, coords=coords, attrs=dict(ds.attrs))
    out.attrs.update({"batch_point": task.point, "batch_chunk": int(task.index),
                      "run_offset": int(task.run_offset)})
    return out


def _encoding(ds, compress: bool) -> dict:
    if not compress:
        return {}
    return {v: {"zlib": True, "complevel": 1, "shuffle": True} for v in ds.data_vars
            if ds[v].dtype.kind in "fiub"}


def encode_netcdf(ds, encoding: dict) -> bytes:
    """The chunk as NetCDF bytes, built in memory: HDF5 never touches the disk, so a
    full disk is a plain OSError from ``os.write``, not a crash inside the HDF5 library
    (writing straight to a file segfaulted at exit after ENOSPC)."""
    return bytes(ds.to_netcdf(None, engine="h5netcdf", encoding=encoding))


def encode_npz(part: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **part)
    return buf.getvalue()


def _write_bytes(data: bytes, path: Path) -> None:
    """The one place chunk bytes hit the disk (tests replace it to simulate a full disk)."""
    with open(path, "wb") as fh:
        fh.write(data)


def _atomic(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        _write_bytes(data, tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


def write_chunk(out: Path, task: ChunkTask, ds, part: dict) -> dict:
    """Write one chunk atomically: ensemble first, then partials (the 'done' mark).
    The partials carry the chunk's identity and its ensemble's checksum. Returns the
    files' sizes and checksums for the manifest. Disk problems become one-line
    :class:`DialogueError`s."""
    files: dict[str, dict] = {}
    meta = {"point": task.point, "index": int(task.index), "run_offset": int(task.run_offset),
            "runs": int(task.runs), "seed": int(task.scenario.run.seed), "inputs_hash": task.inputs_hash}
    try:
        if ds is not None:
            data = encode_netcdf(ds, _encoding(ds, task.compress))
            files["ensemble"] = meta["ensemble"] = {"size": len(data), "sha256": sha256_bytes(data)}
            _atomic(data, ensemble_path(out, task.point, task.index))
            del data
        blob = encode_npz(dict(part) | {"meta": np.array(json.dumps(meta, sort_keys=True))})
        files["partial"] = {"size": len(blob), "sha256": sha256_bytes(blob)}
        _atomic(blob, partial_path(out, task.point, task.index))
    except OSError as exc:
        raise disk_error(out, task.key, exc) from None
    return files


def disk_error(out: Path, key: str, exc: OSError) -> DialogueError:
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or code == errno.EDQUOT:
        why = "the disk is full (no space left on device)"
        fix = "free some space (or use --variables / --compress to store less)"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS) or isinstance(exc, PermissionError):
        why = "permission denied"
        fix = "make the folder writable"
    else:
        why = exc.strerror or str(exc) or exc.__class__.__name__
        fix = "fix the problem"
    return DialogueError(f"{out}: could not write chunk {key}: {why}; finished chunks are kept: "
                         f"{fix} and rerun with --resume")


def worker_name() -> str:
    return f"{socket.gethostname() or platform.node()}:{os.getpid()}"


def simulate_blocks(task: ChunkTask):
    """A design chunk whose rows share random streams in blocks (saltelli/morris
    sweeps): what ``simulate(scenario, design=rows)`` returns, except that global row
    ``k`` draws its chance from stream ``k // block`` (as ``dialogue sensitivity``
    does), so the rows of one Saltelli block or Morris trajectory differ only by
    their parameters. The ``run`` coordinate is still the row."""
    from model.engine import ENGINES
    from model.results import build_dataset

    sc, r, block = task.scenario, task.scenario.run, int(task.stream_block)
    rows = np.arange(task.run_offset, task.run_offset + task.runs, dtype=np.int64)
    out, params = ENGINES["ensemble"](sc, rows // block, r.seed, r.horizon, design=task.design)
    ds = build_dataset(out, params, rows, sc, r.seed, r.horizon)
    ds.attrs["design"] = ",".join(task.design or {})
    ds.attrs["streams"] = f"one random stream per block of {block} rows (stream = row // {block})"
    for name in task.design or {}:
        ds[f"param_{name}"].attrs["source"] = "design"
    return ds


def simulate_observed(task: ChunkTask):
    """A point conditioned on ``--observed`` (one chunk: the whole ensemble), exactly
    ``simulate(scenario, runs, observations=...)``. An observation no run matches fails
    naming the point; a plain :class:`DialogueError` (``NoMatch`` does not survive pickling
    from a worker process)."""
    from model.simulate import simulate
    from model.smc import NoMatch

    try:
        return simulate(task.scenario, runs=task.runs, run_offset=task.run_offset, observations=task.observations)
    except NoMatch as exc:
        raise DialogueError(f"point {task.point}: {exc}") from None


def run_chunk(task: ChunkTask, out: str | Path | None = None) -> ChunkResult:
    """Simulate one chunk. With ``out``, write it there and return only timings;
    without, return the stored Dataset and partials for the caller to write."""
    from model.simulate import simulate

    t0 = time.perf_counter()
    # Seed and horizon come from the point's resolved scenario; only the runs differ per chunk.
    # A design chunk runs its rows of the design: row i is global run run_offset + i.
    if task.stream_block:
        ds = simulate_blocks(task)
    elif task.observations is not None:
        ds = simulate_observed(task)
    else:
        ds = simulate(task.scenario, runs=task.runs, run_offset=task.run_offset, design=task.design)
    part = partial_stats(ds)
    stored = storable(ds, task) if task.variables != () else None
    del ds
    res = ChunkResult(task.key, task.point, task.index, task.runs, 0.0, worker_name())
    if out is not None:
        res.files = write_chunk(Path(out), task, stored, part)
    else:
        res.dataset, res.partial = stored, part
    res.seconds = time.perf_counter() - t0
    return res


def chunk_done(out: Path, task: ChunkTask) -> bool:
    """A chunk's files are there: its partials (and its ensemble, if one is kept).
    Whether they can be trusted is :func:`model.batch.integrity.verify_chunk`'s job."""
    if not partial_path(out, task.point, task.index).is_file():
        return False
    return task.variables == () or ensemble_path(out, task.point, task.index).is_file()


def remove_stale_temporaries(out: Path) -> int:
    """Delete temporary files left by a killed run; returns how many."""
    out = Path(out)
    stale = list(out.glob(".*.partial"))  # manifest and summary tables
    for sub in (ENSEMBLES, PARTIALS):
        if (out / sub).is_dir():
            stale += (out / sub).glob("*/.*.partial")
    n = 0
    for f in stale:
        try:
            f.unlink()
            n += 1
        except OSError:
            pass
    return n
