"""Keeping a batch folder trustworthy: checksums, chunk verification, the folder lock,
and the disk/time/memory estimate checked before a batch starts.

* Every chunk file's size and sha256 are recorded in the manifest when it is written,
  and the chunk's ``.npz`` also carries its own identity (point, chunk index, run
  offset, runs, seed, the batch's input hash) and the sha256 of its ensemble file.
  ``--resume`` verifies every finished chunk against both before trusting it.
* One process at a time owns a batch folder: an exclusive ``flock`` on
  ``OUT/.dialogue-batch.lock`` for the whole run, with the holder's PID in
  ``OUT/.dialogue-batch.pid`` so that a second process can say who holds it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import DialogueError

LOCK_FILE = ".dialogue-batch.lock"
PID_FILE = ".dialogue-batch.pid"
LOCK_NAMES = (LOCK_FILE, PID_FILE)
_HASH_BLOCK = 1 << 20


def sha256_bytes(data) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            h.update(block)
    return "sha256:" + h.hexdigest()


def file_record(path: Path) -> dict:
    """``{"size": bytes, "sha256": ...}`` of a file on disk."""
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


def check_file(path: Path, record: dict | None) -> str | None:
    """Why ``path`` does not match its recorded size and checksum (None: it matches)."""
    if not path.is_file():
        return "file missing"
    if not record:
        return None
    size = path.stat().st_size
    if record.get("size") is not None and size != record["size"]:
        return f"size {size:,} bytes, recorded {record['size']:,} (truncated or replaced)"
    if record.get("sha256") and sha256_file(path) != record["sha256"]:
        return "checksum does not match the manifest (damaged or replaced)"
    return None


# ----------------------------------------------------------------- chunk verification


def read_partial(path: Path) -> dict[str, np.ndarray]:
    """Load a chunk's ``.npz`` completely (zip CRCs checked); DialogueError if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any failure to read means the file is damaged
        raise DialogueError(f"{path}: partial summaries unreadable ({exc.__class__.__name__})") from None


def partial_meta(part: dict) -> dict:
    raw = part.get("meta")
    if raw is None:
        return {}
    try:
        meta = json.loads(str(raw))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def verify_chunk(task, ensemble: Path, partial: Path, inputs_hash: str, recorded: dict | None) -> tuple[str | None,
                                                                                                        dict]:
    """Check one finished chunk: sizes and checksums against the manifest (when it has
    them), then the identity it holds (point, run ids, seed, input hash) and the
    checksum of its ensemble file recorded inside it. Returns (problem or None, the
    files' records for the manifest)."""
    recorded = recorded or {}
    why = check_file(partial, recorded.get("partial"))
    if why:
        return f"partial summaries: {why}", {}
    try:
        part = read_partial(partial)
    except DialogueError:
        return "partial summaries unreadable (truncated or damaged)", {}
    meta = partial_meta(part)
    want = {"point": task.point, "index": task.index, "run_offset": task.run_offset, "runs": task.runs,
            "seed": task.scenario.run.seed, "inputs_hash": inputs_hash}
    for key, value in want.items():
        if meta.get(key) != value:
            return f"it holds {key} {meta.get(key)!r}, expected {value!r} (a chunk of another point or batch)", {}
    ids = part.get("run_ids")
    if ids is None or not np.array_equal(ids, np.arange(task.run_offset, task.run_offset + task.runs)):
        return f"its run ids are not {task.run_offset}..{task.run_offset + task.runs - 1}", {}
    files = {"partial": {"size": partial.stat().st_size, "sha256": sha256_file(partial)}}
    if task.variables != ():
        why = check_file(ensemble, recorded.get("ensemble"))
        if why:
            return f"ensemble: {why}", {}
        rec = file_record(ensemble)
        if meta.get("ensemble") != rec:
            return "ensemble file is not the one written with this chunk (truncated, damaged or replaced)", {}
        files["ensemble"] = rec
    return None, files


# ----------------------------------------------------------------- folder lock


class FolderLock:
    """An exclusive, non-blocking ``flock`` on ``OUT/.dialogue-batch.lock``, held for
    the whole run and released by the kernel if the process dies."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        path = self.out / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise DialogueError(f"--out {self.out} is in use by another dialogue batch ({self.holder()}); wait "
                                "for it to finish or stop it, then rerun (with --resume to finish it)") from None
        self.fd = fd
        (self.out / PID_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
        return self

    def check_free(self) -> None:
        """Fail at once if another process holds the folder (before reading anything else)."""
        path = self.out / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return  # no lock file (or unreadable): nobody to wait for
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return
            raise DialogueError(f"--out {self.out} is in use by another dialogue batch ({self.holder()}); wait "
                                "for it to finish or stop it, then rerun (with --resume to finish it)") from None
        finally:
            os.close(fd)

    def holder(self) -> str:
        # The holder writes its PID just after locking: give it a moment.
        for _ in range(20):
            try:
                pid = (self.out / PID_FILE).read_text(encoding="utf-8").strip()
            except OSError:
                pid = ""
            if pid.isdigit():
                return f"PID {pid}"
            time.sleep(0.05)
        return "PID unknown"

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            (self.out / PID_FILE).unlink(missing_ok=True)
        except OSError:
            pass
        os.close(self.fd)  # closing the descriptor drops the flock
        self.fd = None


# ----------------------------------------------------------------- estimates


@dataclass
class Estimate:
    """What a batch (or the rest of one) is expected to cost."""

    disk_bytes: int
    seconds: float
    memory_bytes: int
    workers: int

    def text(self) -> str:
        return (f"estimate: {human_bytes(self.disk_bytes)} on disk, about {human_seconds(self.seconds)} on "
                f"{self.workers} process{'es' * (self.workers != 1)}, peak memory about "
                f"{human_bytes(self.memory_bytes)}")


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def human_seconds(s: float) -> str:
    if s < 90:
        return f"{max(s, 1):.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


# Measured on the reference machine (docs/batch.md, Performance): engine run-months per
# second per core, and stored bytes per run-month / per run with every variable.
_SIM_RUN_MONTHS_PER_S = 8_000 * 60
_WRITE_RUN_MONTHS_PER_S = 8_000 * 60
_BYTES_PER_RUN_MONTH_ALL = 160.0      # the (run, time) variables (measured 156)
_BYTES_PER_RUN = 700.0                # per-run parameters, outcome, partial summaries (measured 650)
_BYTES_PER_CHUNK = 130_000            # NetCDF/HDF5 and .npz fixed overhead (measured 125 KB)
_BYTES_PER_RUN_PARTIAL = 140.0        # the .npz alone (measured 130)
_BYTES_PER_BATCH = 60_000             # summary tables
_BYTES_PER_POINT = 10_000             # its resolved scenario in the manifest, its summary rows
_BASE_PROCESS = 200e6                 # an interpreter with numpy, xarray, h5py loaded
_MEM_PER_RUN_MONTH = 400.0            # engine working set + stored copy + encoded bytes


def estimate(tasks, variables, compress: bool, workers: int, n_recorded: int) -> Estimate:
    """Disk, time and peak memory for running ``tasks``; deliberately on the high side
    for disk (the free-space check must not pass a batch that cannot fit)."""
    run_months = sum(t.runs * t.scenario.run.horizon for t in tasks)
    runs = sum(t.runs for t in tasks)
    keep = 0.0 if variables == () else (1.0 if variables is None else min(1.0, len(variables) / n_recorded))
    per_rm = _BYTES_PER_RUN_MONTH_ALL * keep * (0.7 if compress else 1.0)
    points = len({t.point for t in tasks})
    if keep:
        disk = run_months * per_rm + runs * _BYTES_PER_RUN + len(tasks) * _BYTES_PER_CHUNK
    else:  # summaries only: the partials (about 130 bytes per run) and no NetCDF files
        disk = runs * _BYTES_PER_RUN_PARTIAL + len(tasks) * 2_000
    disk += (_BYTES_PER_BATCH + points * _BYTES_PER_POINT) if tasks else 0
    rate = _SIM_RUN_MONTHS_PER_S if not keep else 1 / (1 / _SIM_RUN_MONTHS_PER_S + keep / _WRITE_RUN_MONTHS_PER_S)
    if compress and keep:
        rate /= 1.5
    par = max(1, min(workers, len(tasks) or 1, os.cpu_count() or 1))
    seconds = run_months / rate / par + 2.0 * (workers > 1)
    biggest = max((t.runs * t.scenario.run.horizon for t in tasks), default=0)
    memory = (_BASE_PROCESS + biggest * _MEM_PER_RUN_MONTH) * max(1, workers) + (_BASE_PROCESS if workers > 1 else 0)
    return Estimate(int(disk), seconds, int(memory), max(1, workers))


def free_space(path: Path) -> int:
    """Free bytes on the filesystem that holds ``path`` (or its nearest existing parent)."""
    return shutil.disk_usage(_existing(path)).free


def _existing(path: Path) -> Path:
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_writable(out: Path) -> None:
    """Refuse, before creating anything, a folder on a read-only filesystem or under
    a folder this user cannot write."""
    p = _existing(out)
    try:
        ro = bool(os.statvfs(p).f_flag & os.ST_RDONLY)
    except OSError:
        ro = False
    if ro or not os.access(p, os.W_OK):
        raise DialogueError(f"--out {out}: permission denied ({'read-only filesystem' if ro else 'not writable'}); "
                            "choose a folder you can write to")


def check_space(out: Path, need: int) -> None:
    """Refuse to start a batch that would not fit on the disk (one line)."""
    try:
        free = free_space(out)
    except OSError:
        return  # cannot tell: the write path reports a full disk cleanly anyway
    margin = max(1_000_000, need // 20)  # manifest, summary tables, HDF5 slack
    if need + margin > free:
        raise DialogueError(f"--out {out}: the batch needs about {human_bytes(need + margin)} but only "
                            f"{human_bytes(free)} is free there; free some space, store less (--variables "
                            "relations,sanctions or none, --compress) or choose another --out folder")
