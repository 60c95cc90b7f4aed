"""Run a batch plan into an output folder: in process, on local processes, or on a
Dask cluster; resumable; with a progress bar and a manifest.

Output folder::

    manifest.json              inputs (resolved scenario TOMLs, sweeps, seeds), input hash,
                               chunk list with states and timings, version, git commit, machine
    summary.parquet / .csv     one row per point (see docs/batch.md)
    events_by_month.parquet    cumulative event probabilities per point and month
    ensembles/<point>/chunk-NNNNNN.nc   full ensembles, one NetCDF per chunk
    partials/<point>/chunk-NNNNNN.npz  per-chunk partial summaries (and the chunk's identity)
    .dialogue-batch.lock / .pid        the folder lock (flock) and its holder's PID

Order of a run: check the folder (read only), contact the scheduler, estimate and
check free space, create the folder, lock it, verify finished chunks (on --resume),
run the rest, write the summary. SIGTERM unwinds like Ctrl+C.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from model.batch.chunks import (
    ChunkResult,
    chunk_done,
    disk_error,
    ensemble_path,
    partial_path,
    remove_stale_temporaries,
    run_chunk,
    write_chunk,
)
from model.batch.integrity import (
    LOCK_NAMES,
    Estimate,
    FolderLock,
    check_space,
    check_writable,
    estimate,
    free_space,
    human_bytes,
    verify_chunk,
)
from model.batch.plan import FORMAT, FORMAT_VERSION, BatchPlan, ChunkTask, describe_difference, design_digest
from model.errors import DialogueError

MANIFEST = "manifest.json"
SUMMARY_PARQUET = "summary.parquet"
SUMMARY_CSV = "summary.csv"
EVENTS_PARQUET = "events_by_month.parquet"
_MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while running
WORKER_WAIT = 60.0  # seconds a Dask cluster has to offer its first worker


@dataclass
class BatchReport:
    out: Path
    points: int
    chunks: int
    runs_total: int
    runs_this_session: int
    chunks_this_session: int
    seconds: float
    mode: str
    resumed: bool
    summary: object = None
    notes: list[str] = field(default_factory=list)

    @property
    def runs_per_second(self) -> float:
        return self.runs_this_session / self.seconds if self.seconds > 0 else float("nan")

    def text(self) -> str:
        rate = f"{self.runs_per_second:,.0f} runs/s" if self.runs_this_session else "nothing left to run"
        done = (f"{self.runs_this_session:,} runs in {self.chunks_this_session} chunks this session"
                + (f" ({self.runs_total:,} in all)" if self.runs_this_session != self.runs_total else ""))
        return (f"Batch complete: {self.points} point{'s' * (self.points != 1)}, {done}, "
                f"{self.seconds:,.1f} s, {rate} ({self.mode}).\n"
                f"Results: {self.out}/ ({SUMMARY_PARQUET}, {SUMMARY_CSV}, {MANIFEST}"
                f"{', ensembles/' if (self.out / 'ensembles').is_dir() else ''})")


# ----------------------------------------------------------------- manifest


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"platform": platform.platform(), "python": platform.python_version(),
            "machine": platform.machine(), "node": platform.node(), "cpu_count": os.cpu_count(),
            "cpu_model": cpu or platform.processor()}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_json_atomic(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def damaged_manifest(path: Path, why: str) -> DialogueError:
    return DialogueError(f"{path}: damaged batch manifest ({why}); delete it and rerun the same 'dialogue batch' "
                         "command with --resume to rebuild it from the verified chunks, or choose a new --out folder")


def read_manifest(out: Path) -> dict:
    """The manifest, checked to be a batch manifest (one-line error otherwise)."""
    path = Path(out) / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise damaged_manifest(path, "not UTF-8 text") from None
    except OSError as exc:
        raise DialogueError(f"{path}: cannot read the batch manifest ({exc.strerror or exc.__class__.__name__}); "
                            "check the file's permissions") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise damaged_manifest(path, f"not JSON: {exc.msg} at line {exc.lineno}" if hasattr(exc, "msg")
                               else "not JSON") from None
    if not isinstance(doc, dict):
        raise damaged_manifest(path, f"a JSON {type(doc).__name__}, not an object")
    if doc.get("format") != FORMAT:
        raise damaged_manifest(path, f"format {doc.get('format')!r}, not {FORMAT!r}")
    for key, kind in (("chunks", list), ("points", list), ("sessions", list), ("inputs", dict)):
        if not isinstance(doc.get(key), kind):
            raise damaged_manifest(path, f"'{key}' is missing or not a {kind.__name__}")
    if not all(isinstance(c, dict) and isinstance(c.get("key"), str) for c in doc["chunks"]):
        raise damaged_manifest(path, "a chunk record is not an object with a key")
    if not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in doc["points"]):
        raise damaged_manifest(path, "a point record is not an object with an id")
    return doc


class Manifest:
    """The manifest document, rewritten atomically (at most every couple of seconds)."""

    def __init__(self, out: Path, plan: BatchPlan, tasks: list[ChunkTask], previous: dict | None,
                 mode: str, options: dict | None, verified: dict[str, dict] | None = None):
        from model import __version__
        from model.results import git_commit

        self.out, self.last = out, 0.0
        old_chunks = {c["key"]: c for c in (previous or {}).get("chunks", [])}
        sessions = list((previous or {}).get("sessions", []))
        sessions.append({"started": _now(), "mode": mode, "options": options or {}, "version": __version__,
                         "git_commit": git_commit(), "machine": machine()})
        self.doc = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "status": "running",
            "created": (previous or {}).get("created", _now()),
            "updated": _now(),
            "version": __version__, "git_commit": sessions[-1]["git_commit"], "machine": sessions[-1]["machine"],
            "inputs_hash": plan.inputs_hash,
            "runs_total": plan.total_runs, "chunk_size": plan.chunk_size,
            "variables": "all" if plan.variables is None else list(plan.variables),
            "compress": plan.compress,
            "sweeps": plan.sweeps,
            **({"observations": observations_record(plan.observations)} if plan.observations is not None else {}),
            "points": [{"id": p.id, "index": p.index, "scenario": p.base, "sweep": p.sweep, "values": p.values,
                        "runs": p.runs, "seed": p.seed, "horizon": p.horizon,
                        "chunks": sum(1 for t in tasks if t.point == p.id)}
                       | ({"design": p.design_info | design_digest(p.design)} if p.design is not None else {})
                       | {"scenario_toml": p.scenario.to_toml()} for p in plan.points],
            "chunks": [],
            "sessions": sessions,
            "inputs": None,  # filled below, kept last for readability
        }
        self.chunks = {}
        verified = verified or {}
        for t in tasks:
            old = old_chunks.get(t.key, {})
            done = t.key in verified
            self.chunks[t.key] = {"key": t.key, "point": t.point, "index": t.index, "run_offset": t.run_offset,
                                  "runs": t.runs, "state": "done" if done else "pending",
                                  "seconds": old.get("seconds") if done else None,
                                  "worker": old.get("worker") if done else None,
                                  "finished": old.get("finished") if done else None,
                                  "files": verified.get(t.key)}
        self.doc["chunks"] = list(self.chunks.values())
        inputs = plan.inputs()
        self.doc["inputs"] = {k: v for k, v in inputs.items() if k != "points"} | {
            "points": [{k: v for k, v in p.items() if k != "scenario_toml"} for p in inputs["points"]]}

    def done(self, res: ChunkResult) -> None:
        self.chunks[res.key].update(state="done", seconds=round(res.seconds, 4), worker=res.worker,
                                    finished=_now(), files=res.files)

    def save(self, force: bool = False, status: str | None = None, **extra) -> None:
        now = time.monotonic()
        if not force and now - self.last < _MANIFEST_EVERY:
            return
        if status:
            self.doc["status"] = status
        self.doc.update(extra)
        self.doc["updated"] = _now()
        self.doc["chunks_done"] = sum(c["state"] == "done" for c in self.chunks.values())
        write_json_atomic(self.out / MANIFEST, self.doc)
        self.last = now


def observations_record(obs) -> dict:
    """--observed in the manifest: the file, its digest and its text (to rerun the batch)."""
    from model.batch.plan import observations_digest

    return {"path": str(obs.path), "title": obs.title, **observations_digest(obs), "text": obs.text,
            "note": "every point conditioned on these by sequential Monte Carlo, one chunk per point "
                    "(docs/updating.md)"}


# ----------------------------------------------------------------- output folder


_BATCH_ENTRIES = {MANIFEST, SUMMARY_PARQUET, SUMMARY_CSV, EVENTS_PARQUET, "ensembles", "partials", *LOCK_NAMES}


def check_folder(out: Path, plan: BatchPlan, resume: bool) -> dict | None:
    """Check the output folder without changing anything. Returns the previous
    manifest when resuming ({} when its manifest is being rebuilt), None for a new batch."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DialogueError(f"--out {out}: is a file; give a folder for the batch results")
    if (out / MANIFEST).is_file():
        prev = read_manifest(out)
        old = prev.get("format_version")
        if old != FORMAT_VERSION:
            verb = "resumed" if resume else "reused"
            raise DialogueError(f"--out {out} holds a batch in format version {old} (this dialogue writes version "
                                f"{FORMAT_VERSION}) and cannot be {verb}; start a new --out folder (load_batch "
                                "still opens the old one)")
        if not resume:
            done = sum(c.get("state") == "done" for c in prev["chunks"])
            total = len(prev["chunks"]) or "?"
            if prev.get("status") == "complete":
                raise DialogueError(f"--out {out} already holds a complete batch ({done} of {total} chunks); "
                                    f"open it with load_batch('{out}'), or choose a new --out folder")
            raise DialogueError(f"--out {out} already holds an unfinished batch ({done} of {total} chunks done, "
                                f"status {prev.get('status', '?')}); add --resume to finish it, or choose a new "
                                "folder")
        if prev.get("inputs_hash") != plan.inputs_hash:
            why = describe_difference(_full_inputs(prev), plan.inputs())
            raise DialogueError(f"--resume: {out} holds a batch with different inputs ({why}); rerun with the "
                                "original scenarios, sweep and options, or choose a new --out folder")
        return prev
    entries = {e.name for e in out.iterdir()} if out.is_dir() else set()
    entries -= set(LOCK_NAMES)
    if not entries:
        return None
    if resume and entries <= _BATCH_ENTRIES | {e for e in entries if e.startswith(".")} and (
            out / "partials").is_dir():
        return {}  # a batch whose manifest was deleted: rebuilt from the chunks, each verified
    raise DialogueError(f"--out {out}: folder is not empty and holds no batch; choose a new or empty folder")


def make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in (13, 1, 30):
            raise DialogueError(f"--out {out}: permission denied; choose a folder you can write to") from None
        raise DialogueError(f"--out {out}: cannot create or write the folder ({exc.strerror or exc})") from None


def _missing_parents(out: Path) -> list[Path]:
    """The folders that creating ``out`` would make, deepest first."""
    missing, p = [], Path(out).absolute()
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def verify_chunks(out: Path, plan: BatchPlan, tasks: list[ChunkTask], prev: dict,
                  notify: Callable[[str], None]) -> dict[str, dict]:
    """Verify every finished chunk before trusting it (sizes, checksums, run ids,
    seed, input hash); a bad one is deleted, with a one-line notice, to be recomputed.
    Returns {chunk key: its files' records} for the good ones."""
    old = {c["key"]: c for c in prev.get("chunks", [])}
    good: dict[str, dict] = {}
    for t in tasks:
        ens, par = ensemble_path(out, t.point, t.index), partial_path(out, t.point, t.index)
        rec = old.get(t.key, {})
        if not chunk_done(out, t):
            if rec.get("state") == "done":
                notify(f"note: chunk {t.key} is recorded as done but its files are missing; recomputing it")
            for f in (ens, par):  # half a chunk (killed between its two files): redo it
                f.unlink(missing_ok=True)
            continue
        files = rec.get("files") if isinstance(rec.get("files"), dict) else None
        why, records = verify_chunk(t, ens, par, plan.inputs_hash, files)
        if why:
            notify(f"note: chunk {t.key} failed verification ({why}); recomputing it")
            for f in (ens, par):
                f.unlink(missing_ok=True)
        else:
            good[t.key] = records
    return good


def _full_inputs(prev: dict) -> dict:
    inputs = dict(prev.get("inputs") or {})
    tomls = {p["id"]: p.get("scenario_toml") for p in prev.get("points", [])}
    inputs["points"] = [p | {"scenario_toml": tomls.get(p["id"])} for p in inputs.get("points", [])]
    return inputs


# ----------------------------------------------------------------- executors


def _in_process(tasks: list[ChunkTask], out: Path) -> Iterator[ChunkResult]:
    for t in tasks:
        yield run_chunk(t, out)


def _local_processes(tasks: list[ChunkTask], out: Path, workers: int) -> Iterator[ChunkResult]:
    """A ProcessPoolExecutor ('spawn'): workers write their own chunks to the shared
    local disk and hand back only timings."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
    pending = set()
    it = iter(tasks)
    try:
        # Keep a bounded queue (2 per worker) so an interrupt leaves little in flight.
        for t in it:
            pending.add(pool.submit(run_chunk, t, str(out)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                res = f.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(pool.submit(run_chunk, nxt, str(out)))
                yield res
    except (KeyboardInterrupt, GeneratorExit, SystemExit):
        # Interrupted (Ctrl+C, SIGTERM) or abandoned: stop the workers now rather than
        # let them finish their chunks, orphaned; their temporaries go on --resume.
        _stop_workers(pool)
        raise
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for p in procs:
        try:
            p.join(5)
            if p.is_alive():
                p.kill()
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def connect_scheduler(address: str, timeout: float):
    """A dask.distributed Client, or a one-line error within ``timeout`` seconds. The
    address is first asked for its identity with a hard deadline: Client() itself
    waits forever on a port that accepts connections but never answers."""
    import asyncio

    from distributed import Client
    from distributed.comm import connect

    async def identity() -> dict:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def probe() -> dict:
        return await asyncio.wait_for(identity(), timeout)

    fix = "check the address and that 'dask scheduler' runs there"
    if address.startswith(("tcp://", "ws://")):
        try:
            ident = asyncio.run(probe())
        except TimeoutError:
            raise DialogueError(f"--scheduler {address}: no answer within {timeout:g} s; {fix}, or allow longer "
                                "with --connect-timeout SECONDS") from None
        except (OSError, ValueError, TypeError) as exc:
            raise DialogueError(f"--scheduler {address}: cannot connect ({_short(exc)}); {fix}") from None
        if not isinstance(ident, dict) or ident.get("type") != "Scheduler":
            raise DialogueError(f"--scheduler {address}: the server there is not a Dask scheduler; {fix}")
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DialogueError(f"--scheduler {address}: cannot connect ({_short(exc)}); {fix}") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    name = exc.__class__.__name__
    return f"{name}: {text[:120]}" if text else name


def _dask(tasks: list[ChunkTask], out: Path, client) -> Iterator[ChunkResult]:
    """dask.distributed: workers simulate and return the chunk; this process writes it,
    so the output folder need only be on this machine. A lost worker's chunks are
    rescheduled by Dask (and the numbers do not depend on the worker)."""
    from distributed import as_completed

    by_key = {t.key: t for t in tasks}
    address = getattr(client, "scheduler", None) and client.scheduler.address
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except TimeoutError:
        raise DialogueError(f"--scheduler {address}: no workers joined within {WORKER_WAIT:g} s; start some with "
                            f"'dask worker {address}'") from None
    nthreads = sum(client.nthreads().values()) or 1
    window = max(2, 2 * nthreads)
    it = iter(tasks)
    first = [next(it) for _ in range(min(window, len(tasks)))]
    ac = as_completed([client.submit(run_chunk, t, None, key=f"dialogue-batch-{t.key}-{id(tasks)}",
                                     pure=False, retries=2) for t in first], loop=client.loop)
    for fut in ac:
        res: ChunkResult = fut.result()
        fut.release()
        nxt = next(it, None)
        if nxt is not None:
            ac.add(client.submit(run_chunk, nxt, None, key=f"dialogue-batch-{nxt.key}-{id(tasks)}",
                                 pure=False, retries=2))
        task = by_key[res.key]
        res.files = write_chunk(out, task, res.dataset, res.partial)
        res.dataset = res.partial = None
        yield res


# ----------------------------------------------------------------- progress


class _Progress:
    def __init__(self, total_runs: int, already: int, enabled: bool):
        self.enabled = enabled
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.p = Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                          TimeRemainingColumn(), console=Console(stderr=True), transient=False)
        self.t = self.p.add_task("batch", total=total_runs, completed=already, rate="")
        self.start, self.runs = time.perf_counter(), 0
        self.p.start()

    def advance(self, runs: int) -> None:
        if self.enabled:
            self.runs += runs
            rate = self.runs / max(time.perf_counter() - self.start, 1e-9)
            self.p.update(self.t, advance=runs, rate=f"{rate:,.0f} runs/s")

    def close(self) -> None:
        if self.enabled:
            self.p.stop()


# ----------------------------------------------------------------- the batch


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl+C: workers stopped, the folder left resumable."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While a batch runs, SIGTERM unwinds like Ctrl+C (finally blocks run, worker
    processes are stopped) instead of killing this process and orphaning them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _mode(workers: int | None, scheduler: str | None, client) -> str:
    if scheduler or client is not None:
        return "dask cluster " + (scheduler or "(client)")
    return f"{workers} local processes" if workers and workers > 1 else "in process"


def _parallelism(workers: int | None, scheduler: str | None, client) -> int:
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 - an estimate only
            return 1
    return workers or 1


def plan_text(plan: BatchPlan, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              resume: bool = False) -> str:
    """``--dry-run``: the plan and its estimates, after the same checks as a real run
    (reads the folder, writes nothing)."""
    out = Path(out)
    FolderLock(out).check_free()
    prev = check_folder(out, plan, resume)
    tasks = plan.chunks()
    on_disk = [t for t in tasks if prev is not None and chunk_done(out, t)]
    todo = [t for t in tasks if t not in on_disk]
    par = workers or (2 if scheduler else 1)
    est = estimate(todo, plan.variables, plan.compress, par, _n_recorded())
    lines = [f"plan: {len(plan.points)} point{'s' * (len(plan.points) != 1)}, {plan.total_runs:,} runs in "
             f"{len(tasks)} chunk{'s' * (len(tasks) != 1)} of "
             f"{'a whole point each' if plan.observations is not None else f'up to {plan.chunk_size:,} runs'}; "
             f"{_mode(workers, scheduler, None)}; --out {out}"
             + (f" (resuming: {len(on_disk)} chunks on disk, to be verified)" if prev is not None else "")]
    if plan.observations is not None:
        obs = plan.observations
        lines.append(f"  conditioned on {len(obs)} observation{'s' * (len(obs) != 1)} ({obs.path}); each point "
                     "runs as one chunk (sequential Monte Carlo weighs its whole ensemble at once)")
    for p in plan.points[:20]:
        vals = ", ".join(f"{k} = {v:.6g}" for k, v in p.values.items())
        if p.design is not None:
            vals = (f"design {p.design_info.get('name') or p.design_info.get('source')}, one run per row, "
                    f"varying {', '.join(list(p.design)[:5])}{' ...' if len(p.design) > 5 else ''}")
        lines.append(f"  {p.id}: {p.runs:,} runs x {p.horizon} months, seed {p.seed}" + (f"; {vals}" if vals else ""))
    if len(plan.points) > 20:
        lines.append(f"  ... {len(plan.points) - 20} more points")
    try:
        free = f"; {human_bytes(free_space(out))} free there"
    except OSError:
        free = ""
    lines.append(est.text() + free)
    lines.append("dry run: nothing was written")
    return "\n".join(lines)


def _n_recorded() -> int:
    from model.engine import RECORDED

    return max(1, len(RECORDED))


def run_batch(plan: BatchPlan, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              client=None, resume: bool = False, progress: bool = True, options: dict | None = None,
              on_chunk: Callable[[ChunkResult], None] | None = None, connect_timeout: float = 10.0,
              notify: Callable[[str], None] | None = None, check_free_space: bool = True) -> BatchReport:
    """Run every chunk of ``plan`` not yet (verifiably) on disk in ``out``, then write the summary.

    ``workers``: local processes; ``scheduler``: a dask.distributed address
    (``client``: an existing Client instead; ``connect_timeout``: seconds to wait for
    the scheduler). Results are bit-identical whichever. ``notify`` receives one-line
    notices (the estimate, chunks that failed verification) as they happen; they are
    also in the report's ``notes``. The folder is locked for the whole run.
    """
    if workers is not None and (scheduler or client is not None):
        raise DialogueError("use either --workers (local processes) or --scheduler (a Dask cluster), not both")
    if workers is not None and workers < 1:
        raise DialogueError("--workers must be at least 1")
    if not connect_timeout > 0:
        raise DialogueError("--connect-timeout must be more than 0 seconds")
    out = Path(out)
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        if notify is not None:
            notify(text)

    # Everything that can fail is checked before the folder is created or touched.
    FolderLock(out).check_free()
    prev = check_folder(out, plan, resume)
    tasks = plan.chunks()
    maybe_todo = [t for t in tasks if prev is None or not chunk_done(out, t)]
    own_client = False
    if scheduler and client is None:
        client = connect_scheduler(scheduler, connect_timeout)
        own_client = True
    try:
        est = estimate(maybe_todo, plan.variables, plan.compress, _parallelism(workers, scheduler, client),
                       _n_recorded())
        check_writable(out)
        created = _missing_parents(out)
        make_folder(out)
        try:
            if check_free_space:
                check_space(out, est.disk_bytes)
        except DialogueError:
            for d in created:  # leave nothing behind: remove the folders just made (empty)
                with contextlib.suppress(OSError):
                    d.rmdir()
            raise
        lock = FolderLock(out).acquire()
        try:
            with _sigterm_as_interrupt():
                return _run_locked(plan, out, tasks, workers, scheduler, client, resume, progress, options,
                                   on_chunk, note, notes, est)
        finally:
            lock.release()
    finally:
        if own_client:
            client.close()


def _run_locked(plan, out, tasks, workers, scheduler, client, resume, progress, options, on_chunk, note, notes,
                est: Estimate) -> BatchReport:
    from model.batch.summary import build_summary

    prev = check_folder(out, plan, resume)  # again, now that this process holds the folder
    verified: dict[str, dict] = {}
    if prev is not None:
        remove_stale_temporaries(out)
        verified = verify_chunks(out, plan, tasks, prev, note)
    mode = _mode(workers, scheduler, client)
    mf = Manifest(out, plan, tasks, prev, mode, options, verified)
    if prev and prev.get("git_commit") not in (None, "unknown", mf.doc["git_commit"]):
        note(f"note: resuming a batch started at git commit {prev['git_commit'][:12]}; now at "
             f"{mf.doc['git_commit'][:12]}")
    todo = [t for t in tasks if mf.chunks[t.key]["state"] != "done"]
    if todo and progress:  # -q: no progress bar and no estimate; notices still print
        note(f"batch: {len(todo)} of {len(tasks)} chunks to run; {est.text()}")
    try:
        mf.save(force=True)
    except OSError as exc:
        raise disk_error(out, "manifest", exc) from None
    already = plan.total_runs - sum(t.runs for t in todo)

    if client is not None:
        results: Iterator[ChunkResult] = _dask(todo, out, client)
    elif workers and workers > 1:
        results = _local_processes(todo, out, workers)
    else:
        results = _in_process(todo, out)

    bar = _Progress(plan.total_runs, already, progress and bool(todo))
    t0 = time.perf_counter()
    runs_done = chunks_done = 0
    seconds = 0.0
    summary = None
    status = "incomplete"
    try:
        for res in results:
            mf.done(res)
            runs_done += res.runs
            chunks_done += 1
            bar.advance(res.runs)
            if on_chunk is not None:
                on_chunk(res)
            try:
                mf.save()
            except OSError as exc:
                raise disk_error(out, "manifest", exc) from None
        seconds = time.perf_counter() - t0
        summary, events = build_summary(plan, out)
        try:
            _write_tables(out, summary, events)
        except OSError as exc:
            raise disk_error(out, "summary", exc) from None
        status = "complete"
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops local workers at once if we are unwinding
        bar.close()
        try:
            extra = {}
            if status == "complete":
                extra = {"finished": _now(), "last_session": {
                    "runs": runs_done, "chunks": chunks_done, "seconds": round(seconds, 3),
                    "runs_per_second": round(runs_done / seconds, 1) if seconds > 0 else None, "mode": mode}}
            mf.save(force=True, status=status, **extra)
        except OSError:
            pass  # the chunks themselves are safe; --resume verifies them and rebuilds the manifest
    return BatchReport(out, len(plan.points), len(tasks), plan.total_runs, runs_done, chunks_done, seconds,
                       mode, prev is not None, summary, notes)


def _write_tables(out: Path, summary, events) -> None:
    def atomic(name, fn):
        path = out / name
        tmp = path.with_name(f".{name}.{os.getpid()}.partial")
        try:
            fn(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    atomic(SUMMARY_PARQUET, lambda p: summary.to_parquet(p, index=False))
    atomic(SUMMARY_CSV, lambda p: summary.to_csv(p, index=False))
    atomic(EVENTS_PARQUET, lambda p: events.to_parquet(p, index=False))

