"""The batch store cannot be silently corrupted, and no batch path crashes: damaged
or swapped chunks are verified and recomputed, a damaged manifest is one line, one
process at a time owns a folder (real concurrent processes), a real full tmpfs, a
real Dask worker killed mid-batch, SIGTERM with worker processes, and a scheduler
port that accepts connections but never answers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tmpfs

from model import load_scenario, simulate, summarize
from model.batch import build_plan, load_batch, run_batch
from model.batch.integrity import PID_FILE
from model.cli import main
from model.errors import DialogueError
from model.results import OUTCOMES

RUNS, HORIZON, CHUNK = 60, 6, 20
ARGV = ["batch", "baseline", "--runs", str(RUNS), "--horizon", str(HORIZON), "--chunk-size", str(CHUNK), "-q"]
CLI = [sys.executable, "-m", "model.cli"]


@pytest.fixture(scope="module")
def direct():
    return simulate(load_scenario("baseline"), runs=RUNS, horizon=HORIZON)


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    return lines[0]


def assert_equals_direct(out: Path, direct) -> None:
    b = load_batch(out)
    ds = b.open("baseline").load()
    for v in direct.data_vars:
        assert np.array_equal(ds[v].values, direct[v].values), v
    s = summarize(direct)
    for k in OUTCOMES:
        assert b.summary.loc[0, f"outcome_{k}_p"] == s.outcomes[k][0]
    assert b.summary.loc[0, "relations_q50"] == s.relations_median


def fresh_batch(tmp_path: Path, name: str = "b") -> Path:
    out = tmp_path / name
    assert main([*ARGV, "--out", str(out)]) == 0
    return out


def chunk(out: Path, i: int, kind: str = "nc") -> Path:
    sub = "ensembles" if kind == "nc" else "partials"
    return out / sub / "baseline" / f"chunk-{i:06d}.{kind}"


# ------------------------------------------------------------------ damaged chunks


def test_half_truncated_chunk_is_recomputed_on_resume(tmp_path, capsys, direct):
    out = fresh_batch(tmp_path)
    f = chunk(out, 1)
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    capsys.readouterr()
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    notes = [ln for ln in err.splitlines() if "failed verification" in ln]
    assert len(notes) == 1 and "baseline/chunk-000001" in notes[0] and "recomputing" in notes[0], err
    assert_equals_direct(out, direct)
    m = load_batch(out).manifest
    assert m["chunks"][1]["files"]["ensemble"]["size"] == chunk(out, 1).stat().st_size


def test_swapped_chunk_is_detected_and_recomputed(tmp_path, capsys, direct):
    out = fresh_batch(tmp_path)
    # Chunk 0 copied over chunk 1, both files: a consistent-looking but wrong chunk.
    for kind in ("nc", "npz"):
        shutil.copyfile(chunk(out, 0, kind), chunk(out, 1, kind))
    capsys.readouterr()
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "chunk baseline/chunk-000001 failed verification" in err, err
    assert "chunk-000000 failed" not in err and "chunk-000002 failed" not in err
    assert_equals_direct(out, direct)


def test_swapped_chunk_without_manifest_checksums_is_still_caught(tmp_path, capsys, direct):
    """The chunk itself says which runs of which point it holds and the checksum of
    its ensemble: a swap is caught even when the manifest is rebuilt."""
    out = fresh_batch(tmp_path)
    shutil.copyfile(chunk(out, 0, "npz"), chunk(out, 2, "npz"))
    shutil.copyfile(chunk(out, 0, "nc"), chunk(out, 1, "nc"))  # ensemble only: its checksum is in chunk 1's npz
    (out / "manifest.json").unlink()
    capsys.readouterr()
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "chunk-000001 failed verification (ensemble file is not the one written" in err, err
    assert "chunk-000002 failed verification (it holds index 0, expected 2" in err, err
    assert_equals_direct(out, direct)


def test_truncated_partial_summary_is_recomputed_not_a_crash(tmp_path, capsys, direct):
    out = fresh_batch(tmp_path)
    f = chunk(out, 2, "npz")
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    capsys.readouterr()
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "chunk baseline/chunk-000002 failed verification (partial summaries" in err, err
    assert "Traceback" not in err
    assert_equals_direct(out, direct)


def test_open_refuses_a_chunk_whose_checksum_does_not_match(tmp_path):
    out = fresh_batch(tmp_path)
    f = chunk(out, 1)
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
    f.write_bytes(bytes(data))
    with pytest.raises(DialogueError, match="checksum does not match") as exc:
        load_batch(out).open("baseline")
    assert "chunk-000001.nc" in str(exc.value) and "--resume" in str(exc.value)
    f.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(DialogueError, match="truncated or replaced"):
        load_batch(out).open("baseline")


@pytest.mark.parametrize("content", ["[]", "garbage {", "", '{"format": "dialogue-batch"}', "\udcff"])
def test_damaged_manifest_is_one_line_and_can_be_rebuilt(tmp_path, capsys, direct, content):
    out = fresh_batch(tmp_path)
    (out / "manifest.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    capsys.readouterr()
    msg = one_line_error(capsys, [*ARGV, "--out", str(out), "--resume"])
    assert str(out / "manifest.json") in msg and "damaged batch manifest" in msg
    assert "delete it and rerun" in msg and "--resume" in msg
    with pytest.raises(DialogueError, match="damaged batch manifest"):
        load_batch(out)
    # What the message says to do works, and every chunk is verified, not trusted.
    (out / "manifest.json").unlink()
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    assert_equals_direct(out, direct)
    m = load_batch(out).manifest
    assert all(c["files"]["partial"]["sha256"].startswith("sha256:") for c in m["chunks"])


# ------------------------------------------------------------------ one writer at a time


def _wait_for(pred, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early (rc {proc.returncode})")
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_resume_while_a_batch_runs_is_refused_and_does_not_break_it(tmp_path):
    out = tmp_path / "busy"
    args = ["batch", "baseline", "--runs", "3000", "--horizon", "24", "--chunk-size", "100", "--out", str(out), "-q"]
    first = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: list(out.glob("partials/*/chunk-*.npz")), proc=first)
        for extra in (["--resume"], []):  # resume or not: refused at once, naming the holder
            second = subprocess.run([*CLI, *args, *extra], capture_output=True, text=True, timeout=120)
            lines = second.stderr.strip().splitlines()
            assert second.returncode == 2 and len(lines) == 1, second.stderr
            assert f"in use by another dialogue batch (PID {first.pid})" in lines[0], lines
        assert first.poll() is None, "the first batch should still be running (make it longer)"
        _, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    b = load_batch(out)
    assert len(b.manifest["sessions"]) == 1 and b.summary.loc[0, "runs"] == 3000
    assert not (out / PID_FILE).exists()
    direct = summarize(simulate(load_scenario("baseline"), runs=3000, horizon=24))
    assert b.summary.loc[0, "outcome_cool_p"] == direct.outcomes["cool"][0]


def test_two_simultaneous_resumes_keep_every_session(tmp_path, direct):
    out = fresh_batch(tmp_path)
    for i in (0, 2):  # two chunks to redo, so a resume has work
        chunk(out, i, "npz").unlink()
    args = [*CLI, *ARGV, "--out", str(out), "--resume"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    refused = [err for p, (_, err) in zip(procs, results, strict=True) if p.returncode == 2]
    if codes == [0, 0]:  # the second started after the first had finished: fine, both recorded
        assert len(load_batch(out).manifest["sessions"]) == 3
    else:
        assert codes == [0, 2], results
        assert "in use by another dialogue batch (PID " in refused[0] and len(refused[0].strip().splitlines()) == 1
        assert len(load_batch(out).manifest["sessions"]) == 2
    assert_equals_direct(out, direct)


# ------------------------------------------------------------------ full disk (a real tmpfs)


@pytest.fixture
def tiny_fs(tmp_path):
    """A real 2 MB tmpfs, unmounted afterwards; skipped where mounting is not allowed."""
    with tmpfs(tmp_path / "tiny", "2m") as mnt:
        yield mnt


def test_batch_too_big_for_the_disk_is_refused_before_it_starts(tiny_fs):
    out = tiny_fs / "b"
    r = subprocess.run([*CLI, "batch", "baseline", "--runs", "400", "--horizon", "24", "--chunk-size", "100",
                        "--out", str(out), "-q"], capture_output=True, text=True, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, (r.returncode, r.stderr[-2000:])
    assert "the batch needs about" in lines[0] and "free there" in lines[0] and "--variables" in lines[0]
    assert not out.exists()  # nothing half-written


WRITE_ON_FULL_DISK = """
import sys
from model.batch import build_plan, run_batch
from model.errors import DialogueError
plan = build_plan(["baseline"], runs=800, horizon=24, chunk_size=100)
try:
    run_batch(plan, sys.argv[1], progress=False, check_free_space=False)
except DialogueError as exc:
    print(f"dialogue: error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def test_full_disk_while_writing_is_one_line_not_a_segfault(tiny_fs):
    """The free-space check is skipped (Python API) so the writer itself meets ENOSPC:
    before the fix the process died with SIGSEGV (-11) inside the HDF5 library."""
    out = tiny_fs / "b"
    r = subprocess.run([sys.executable, "-c", WRITE_ON_FULL_DISK, str(out)], capture_output=True, text=True,
                       timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    assert len(lines) == 1 and "disk is full" in lines[0] and "--resume" in lines[0], r.stderr[-3000:]
    assert "0x" not in lines[0] and "h5py" not in lines[0]
    assert not list(out.rglob("*.partial"))  # no temporaries left behind
    m = json.loads((out / "manifest.json").read_text())
    done = [c for c in m["chunks"] if c["state"] == "done"]
    assert 1 <= len(done) < 8 and m["status"] == "incomplete"
    assert all(c["files"]["ensemble"]["size"] > 0 for c in done)


# ------------------------------------------------------------------ Dask worker loss


def test_dask_worker_killed_mid_batch_gives_identical_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    runs, horizon, size = 600, 12, 50
    ref = tmp_path / "ref"
    run_batch(build_plan(["baseline"], runs=runs, horizon=horizon, chunk_size=size), ref, progress=False)
    out = tmp_path / "dask"
    killed: list[int] = []
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        pids = client.run(os.getpid)
        assert len(pids) == 2

        def kill_one(res) -> None:
            if not killed:  # after the first chunk: the others are in flight or queued
                pid = next(iter(pids.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        rep = run_batch(build_plan(["baseline"], runs=runs, horizon=horizon, chunk_size=size), out,
                        scheduler=cluster.scheduler_address, progress=False, on_chunk=kill_one)
    assert killed and rep.chunks_this_session == runs // size
    a, b = load_batch(ref), load_batch(out)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    da, db = a.open("baseline").load(), b.open("baseline").load()
    for v in da.data_vars:
        assert np.array_equal(da[v].values, db[v].values), v


# ------------------------------------------------------------------ SIGTERM


def test_sigterm_stops_every_worker_and_leaves_a_resumable_folder(tmp_path):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "term"
    args = ["batch", "baseline", "--runs", "2000", "--horizon", "24", "--chunk-size", "100", "--workers", "2",
            "--out", str(out), "-q"]
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Three chunks on disk: the coordinator has had at least one result back (a worker
        # writes its chunk before it reports it), so the manifest records a done chunk.
        _wait_for(lambda: len(list(out.glob("partials/*/chunk-*.npz"))) >= 3, proc=proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3, children  # two workers and the resource tracker
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "Traceback" not in err, err
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, [(p.pid, p.name()) for p in alive]
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "incomplete" and any(c["state"] == "done" for c in m["chunks"])
    # Resumable, and the result is the clean one.
    r = subprocess.run([*CLI, *args, "--resume"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    s = load_batch(out).summary
    direct = summarize(simulate(load_scenario("baseline"), runs=2000, horizon=24))
    assert s.loc[0, "outcome_rupture_p"] == direct.outcomes["rupture"][0]
    assert s.loc[0, "relations_q50"] == direct.relations_median


# ------------------------------------------------------------------ scheduler problems


@pytest.fixture
def silent_port():
    """A real local socket that accepts connections and never answers."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns, stop = [], threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in conns:
        c.close()
    srv.close()


def test_scheduler_that_never_answers_times_out_with_one_line(tmp_path, silent_port):
    out = tmp_path / "o"
    r = subprocess.run([*CLI, "batch", "baseline", "--runs", "10", "--scheduler", f"tcp://127.0.0.1:{silent_port}",
                        "--connect-timeout", "1", "--out", str(out), "-q"], capture_output=True, text=True,
                       timeout=100)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr[-2000:]
    assert f"tcp://127.0.0.1:{silent_port}: no answer within 1 s" in lines[0] and "--connect-timeout" in lines[0]
    assert not out.exists()


def test_unreachable_scheduler_leaves_no_folder(tmp_path, capsys):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    out = tmp_path / "o"
    msg = one_line_error(capsys, ["batch", "baseline", "--runs", "10", "--scheduler", f"tcp://127.0.0.1:{port}",
                                  "--connect-timeout", "2", "--out", str(out), "-q"])
    # A refused connection may be retried by Dask until the timeout, so either wording is right.
    assert f"--scheduler tcp://127.0.0.1:{port}: " in msg
    assert "cannot connect" in msg or "no answer within 2 s" in msg
    assert not out.exists() and not (out / "manifest.json").exists()


# ------------------------------------------------------------------ help, wording, estimates


def test_help_is_readable(capsys):
    assert main(["batch", "--help"]) == 0
    text = capsys.readouterr().out
    assert "%%" not in text and "40% smaller" in text
    assert "9223372036854775807" not in text and "--seed SEED" in text and "2^63-1" in text
    assert "--connect-timeout SECONDS" in text and "--dry-run" in text
    assert main(["batch", "baseline", "--seed", "-1", "--out", "x"]) == 2
    assert "from 0 to 2^63-1" in capsys.readouterr().err


def test_finished_batch_is_not_told_to_resume(tmp_path, capsys):
    out = fresh_batch(tmp_path)
    msg = one_line_error(capsys, [*ARGV, "--out", str(out)])
    assert "already holds a complete batch (3 of 3 chunks)" in msg and "finish it" not in msg
    (out / "partials" / "baseline" / "chunk-000002.npz").unlink()
    m = json.loads((out / "manifest.json").read_text())
    m["status"], m["chunks"][2]["state"] = "incomplete", "pending"
    (out / "manifest.json").write_text(json.dumps(m))
    msg = one_line_error(capsys, [*ARGV, "--out", str(out)])
    assert "unfinished batch (2 of 3 chunks done" in msg and "add --resume to finish it" in msg


@pytest.mark.parametrize("store", [[], ["--variables", "none"]])
def test_dry_run_prints_plan_and_estimates_and_writes_nothing(tmp_path, capsys, store):
    out = tmp_path / "nested" / "dry"
    argv = ["batch", "baseline", "crackdown", "--runs", "500", "--horizon", "12", "--chunk-size", "200",
            "--out", str(out), *store]
    assert main([*argv, "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "plan: 2 points, 1,000 runs in 6 chunks of up to 200 runs" in text
    assert "baseline: 500 runs x 12 months, seed 20130313" in text
    assert "estimate:" in text and "on disk" in text and "peak memory" in text and "free there" in text
    assert "nothing was written" in text
    assert not (tmp_path / "nested").exists()
    # The disk estimate is not below what the batch really writes, nor far above it.
    number, unit = text.split("estimate: ")[1].split(" on disk")[0].split()
    est = float(number.replace(",", "")) * {"KB": 1e-3, "MB": 1.0, "GB": 1e3}[unit]
    assert main([*argv, "--resume"]) == 0
    assert "estimate:" in capsys.readouterr().err  # printed before a real batch too
    used = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    assert used <= est * 1.05 and est <= 2 * used, (used, est)
