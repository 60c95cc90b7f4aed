"""Run a batch plan into an output folder: in process, on local processes, or on a
Dask cluster; resumable; with a progress bar and a manifest.

Output folder::

    manifest.json              inputs (resolved scenario TOMLs, sweeps, seeds), input hash,
                               chunk list with states and timings, version, git commit, machine
    summary.parquet / .csv     one row per point (see docs/batch.md)
    events_by_month.parquet    cumulative event probabilities per point and month
    ensembles/<point>/chunk-NNNNNN.nc   full ensembles, one NetCDF per chunk
    partials/<point>/chunk-NNNNNN.npz  per-chunk partial summaries
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from model.batch.chunks import (
    ChunkResult,
    chunk_done,
    disk_error,
    remove_stale_temporaries,
    run_chunk,
    write_chunk,
)
from model.batch.plan import FORMAT, FORMAT_VERSION, BatchPlan, ChunkTask, describe_difference
from model.errors import DialogueError

MANIFEST = "manifest.json"
SUMMARY_PARQUET = "summary.parquet"
SUMMARY_CSV = "summary.csv"
EVENTS_PARQUET = "events_by_month.parquet"
_MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while running


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


def read_manifest(out: Path) -> dict:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DialogueError(f"{out / MANIFEST}: not a readable batch manifest ({exc.__class__.__name__})") from None


class Manifest:
    """The manifest document, rewritten atomically (at most every couple of seconds)."""

    def __init__(self, out: Path, plan: BatchPlan, tasks: list[ChunkTask], previous: dict | None,
                 mode: str, options: dict | None):
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
            "points": [{"id": p.id, "index": p.index, "scenario": p.base, "sweep": p.sweep, "values": p.values,
                        "runs": p.runs, "seed": p.seed, "horizon": p.horizon,
                        "chunks": sum(1 for t in tasks if t.point == p.id),
                        "scenario_toml": p.scenario.to_toml()} for p in plan.points],
            "chunks": [],
            "sessions": sessions,
            "inputs": None,  # filled below, kept last for readability
        }
        self.chunks = {}
        for t in tasks:
            old = old_chunks.get(t.key, {})
            done = chunk_done(out, t)
            self.chunks[t.key] = {"key": t.key, "point": t.point, "index": t.index, "run_offset": t.run_offset,
                                  "runs": t.runs, "state": "done" if done else "pending",
                                  "seconds": old.get("seconds") if done else None,
                                  "worker": old.get("worker") if done else None,
                                  "finished": old.get("finished") if done else None}
        self.doc["chunks"] = list(self.chunks.values())
        inputs = plan.inputs()
        self.doc["inputs"] = {k: v for k, v in inputs.items() if k != "points"} | {
            "points": [{k: v for k, v in p.items() if k != "scenario_toml"} for p in inputs["points"]]}

    def done(self, res: ChunkResult) -> None:
        self.chunks[res.key].update(state="done", seconds=round(res.seconds, 4), worker=res.worker,
                                    finished=_now())

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


# ----------------------------------------------------------------- output folder


def prepare_folder(out: Path, plan: BatchPlan, resume: bool) -> dict | None:
    """Check the output folder; returns the previous manifest when resuming."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DialogueError(f"--out {out}: is a file; give a folder for the batch results")
    manifest = out / MANIFEST
    if manifest.is_file():
        prev = read_manifest(out)
        if not resume:
            done = prev.get("chunks_done", "?")
            total = len(prev.get("chunks", [])) or "?"
            raise DialogueError(f"--out {out} already holds a batch ({done} of {total} chunks done, status "
                                f"{prev.get('status', '?')}); add --resume to finish it, or choose a new folder")
        if prev.get("inputs_hash") != plan.inputs_hash:
            why = describe_difference(_full_inputs(prev), plan.inputs())
            raise DialogueError(f"--resume: {out} holds a batch with different inputs ({why}); rerun with the "
                                "original scenarios, sweep and options, or choose a new --out folder")
        return prev
    if out.is_dir() and any(out.iterdir()):
        raise DialogueError(f"--out {out}: folder is not empty and holds no batch; choose a new or empty folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in (13, 1, 30):
            raise DialogueError(f"--out {out}: permission denied; choose a folder you can write to") from None
        raise DialogueError(f"--out {out}: cannot create or write the folder ({exc.strerror or exc})") from None
    return None


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
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(tasks: list[ChunkTask], out: Path, address: str | None, client=None) -> Iterator[ChunkResult]:
    """dask.distributed: workers simulate and return the chunk; this process writes it,
    so the output folder need only be on this machine."""
    from distributed import Client, as_completed

    own = client is None
    if own:
        try:
            client = Client(address, timeout="15s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise DialogueError(f"--scheduler {address}: cannot connect ({exc.__class__.__name__}); start it "
                                "with 'dask scheduler' and check the address") from None
    by_key = {t.key: t for t in tasks}
    try:
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise DialogueError(f"--scheduler {address}: no workers joined within 60 s; start some with "
                                f"'dask worker {address}'") from None
        nthreads = sum(client.nthreads().values()) or 1
        window = max(2, 2 * nthreads)
        it = iter(tasks)
        first = [next(it) for _ in range(min(window, len(tasks)))]
        ac = as_completed([client.submit(run_chunk, t, None, key=f"dialogue-batch-{t.key}-{id(tasks)}",
                                         pure=False, retries=1) for t in first], loop=client.loop)
        for fut in ac:
            res: ChunkResult = fut.result()
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(client.submit(run_chunk, nxt, None, key=f"dialogue-batch-{nxt.key}-{id(tasks)}",
                                     pure=False, retries=1))
            task = by_key[res.key]
            write_chunk(out, task, res.dataset, res.partial)
            res.dataset = res.partial = None
            yield res
    finally:
        if own:
            client.close()


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


def run_batch(plan: BatchPlan, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              client=None, resume: bool = False, progress: bool = True, options: dict | None = None,
              on_chunk: Callable[[ChunkResult], None] | None = None) -> BatchReport:
    """Run every chunk of ``plan`` not yet on disk in ``out``, then write the summary.

    ``workers``: local processes; ``scheduler``: a dask.distributed address
    (``client``: an existing Client instead). Results are bit-identical whichever.
    """
    from model.batch.summary import build_summary

    if workers is not None and (scheduler or client is not None):
        raise DialogueError("use either --workers (local processes) or --scheduler (a Dask cluster), not both")
    if workers is not None and workers < 1:
        raise DialogueError("--workers must be at least 1")
    out = Path(out)
    prev = prepare_folder(out, plan, resume)
    if prev is not None:
        remove_stale_temporaries(out)
    tasks = plan.chunks()
    mode = ("dask cluster " + (scheduler or "(client)") if (scheduler or client is not None)
            else f"{workers} local processes" if workers and workers > 1 else "in process")
    mf = Manifest(out, plan, tasks, prev, mode, options)
    notes = []
    if prev is not None and prev.get("git_commit") not in (None, "unknown", mf.doc["git_commit"]):
        notes.append(f"note: resuming a batch started at git commit {prev['git_commit'][:12]}; now at "
                     f"{mf.doc['git_commit'][:12]}")
    todo = [t for t in tasks if mf.chunks[t.key]["state"] != "done"]
    try:
        mf.save(force=True)
    except OSError as exc:
        raise disk_error(out, "manifest", exc) from None
    already = plan.total_runs - sum(t.runs for t in todo)

    if scheduler or client is not None:
        results: Iterable[ChunkResult] = _dask(todo, out, scheduler, client)
    elif workers and workers > 1:
        results = _local_processes(todo, out, workers)
    else:
        results = _in_process(todo, out)

    bar = _Progress(plan.total_runs, already, progress and bool(todo))
    t0 = time.perf_counter()
    runs_done = chunks_done = 0
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
        bar.close()
        # Record what is on disk, whatever happened (a failure may come from a worker).
        for t in tasks:
            if mf.chunks[t.key]["state"] != "done" and chunk_done(out, t):
                mf.chunks[t.key]["state"] = "done"
        try:
            extra = {}
            if status == "complete":
                extra = {"finished": _now(), "last_session": {
                    "runs": runs_done, "chunks": chunks_done, "seconds": round(seconds, 3),
                    "runs_per_second": round(runs_done / seconds, 1) if seconds > 0 else None, "mode": mode}}
            mf.save(force=True, status=status, **extra)
        except OSError:
            pass  # the chunks themselves are safe; --resume rebuilds the manifest from them
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

