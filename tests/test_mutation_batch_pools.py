"""``model.batch.runner``'s worker pools, fast enough for a mutation campaign (issue 14).

The runner's pool paths (``_local_processes``: spawned worker processes; ``_dask``: a
dask.distributed cluster) were the last untested part of the runner under mutmut. Here
each runs a tiny plan (9 runs x 3 months in chunks of 2: five chunks, more than either
pool keeps in flight, so the refill path runs) and is compared, file by file, with the
serial run of the same plan. The Dask cluster runs in this process (``processes=False``)
so that mutmut, which records which tests reach a function in this process, sees the
coordinator run.

Under mutmut a mutant can make a pool wait for ever (mutmut's limit is on CPU time,
which a waiting process does not use): the ``_a_hang_fails`` fixture turns a hang into a
failure there. ``tests/conftest.py`` renews dask's offload thread after a fork, without
which every Client in mutmut's forked test runs would hang.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading

import numpy as np
import pandas as pd
import pytest

from model.batch import build_plan, load_batch
from model.batch import runner as rn
from model.errors import DialogueError

RUNS, HORIZON, SIZE = 9, 3, 2
SIZES = [2, 2, 2, 2, 1]  # five chunks, the last one short


@pytest.fixture(autouse=True)
def _a_hang_fails():
    """Under mutmut only (``MUTANT_UNDER_TEST`` set): after 60 s, kill the pool and fail."""
    if not os.environ.get("MUTANT_UNDER_TEST") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fail(signum, frame):
        for p in multiprocessing.active_children():
            p.kill()
        os._exit(1)  # a mutant that hangs a batch is a caught mutant

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def plan():
    p = build_plan(["baseline"], runs=RUNS, horizon=HORIZON, chunk_size=SIZE, variables=("relations",))
    assert [t.runs for t in p.chunks()] == SIZES
    return p


@pytest.fixture(scope="module")
def serial(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "b"
    rn.run_batch(plan, out, progress=False)
    return out


def _manifest(out):
    return json.loads((out / rn.MANIFEST).read_text())


def _sizes(out):
    """Each chunk's files' sizes, by chunk key (checksums differ: the files carry a timestamp)."""
    return {c["key"]: {k: f["size"] for k, f in c["files"].items()} for c in _manifest(out)["chunks"]}


def _same_batch(out, serial):
    """Bit-identical ensembles and the same tables, whoever ran the chunks."""
    assert _sizes(out) == _sizes(serial)
    a, b = load_batch(out).open("baseline").load(), load_batch(serial).open("baseline").load()
    assert set(a.data_vars) == set(b.data_vars) and np.array_equal(a["run"].values, b["run"].values)
    for v in b.data_vars:
        assert np.array_equal(a[v].values, b[v].values), v
    for table in (rn.SUMMARY_PARQUET, rn.EVENTS_PARQUET):
        pd.testing.assert_frame_equal(pd.read_parquet(out / table), pd.read_parquet(serial / table))
    assert _manifest(out)["status"] == "complete"


# ------------------------------------------------------------------ local processes


def test_a_two_process_batch_runs_every_chunk_in_the_workers_and_matches_the_serial_one(plan, serial, tmp_path):
    out = tmp_path / "p"
    seen = []
    rep = rn.run_batch(plan, out, workers=2, progress=False, on_chunk=seen.append)
    assert rep.mode == "2 local processes" and _manifest(out)["sessions"][0]["mode"] == "2 local processes"
    assert (rep.runs_this_session, rep.chunks_this_session) == (RUNS, len(SIZES))
    assert sorted((r.index, r.runs) for r in seen) == list(enumerate(SIZES))
    # Workers write their own chunks and hand back only timings and file records.
    assert all(r.dataset is None and r.partial is None and r.files for r in seen)
    pids = {int(r.worker.rsplit(":", 1)[1]) for r in seen}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {c["worker"] for c in _manifest(out)["chunks"]} == {r.worker for r in seen}
    _same_batch(out, serial)
    assert multiprocessing.active_children() == []  # the pool is shut down


def test_an_interrupted_pool_stops_its_workers_and_resumes_to_the_same_batch(plan, serial, tmp_path):
    out = tmp_path / "p"

    def stop(res):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rn.run_batch(plan, out, workers=2, progress=False, on_chunk=stop)
    assert multiprocessing.active_children() == []  # no orphaned workers
    m = _manifest(out)
    assert m["status"] == "incomplete" and m["chunks_done"] == 1
    assert sorted(c["state"] for c in m["chunks"]) == ["done"] + ["pending"] * (len(SIZES) - 1)
    rep = rn.run_batch(plan, out, progress=False, resume=True)  # in process: the pool is not needed again
    done_first = next(c["runs"] for c in m["chunks"] if c["state"] == "done")
    assert rep.runs_this_session == RUNS - done_first and rep.chunks_this_session == len(SIZES) - 1
    _same_batch(out, serial)


def test_one_worker_runs_in_this_process(plan, serial, tmp_path):
    seen = []
    rep = rn.run_batch(plan, tmp_path / "one", workers=1, progress=False, on_chunk=seen.append)
    assert rep.mode == "in process" and {int(r.worker.rsplit(":", 1)[1]) for r in seen} == {os.getpid()}
    _same_batch(tmp_path / "one", serial)


# ------------------------------------------------------------------ a Dask cluster in this process


@pytest.fixture()
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        yield lc


def test_dask_keeps_a_window_of_named_retried_tasks_and_releases_each(plan, serial, tmp_path, cluster):
    """One thread: a window of two tasks, refilled as each chunk comes back and is written here."""
    sched = cluster.scheduler
    in_flight = []

    def look(res):
        tasks = dict(sched.tasks)
        in_flight.append(sorted(tasks))
        for key, ts in tasks.items():
            assert ts.retries == 2, key
            assert not ts.who_wants or ts.run_spec is not None  # submitted as a call, not pure data

    with rn.connect_scheduler(cluster.scheduler_address, 5.0) as client:
        rep = rn.run_batch(plan, tmp_path / "d", client=client, progress=False, on_chunk=look)
        assert rep.mode == "dask cluster (client)" and rep.runs_this_session == RUNS
        # Every task was named after its chunk and this batch, and released once its chunk was written.
        names = {k for keys in in_flight for k in keys}
        assert names, "no task seen on the scheduler"
        suffixes = {k.rsplit("-", 1)[1] for k in names}
        assert len(suffixes) == 1 and next(iter(suffixes)).isdigit()  # one batch: one id
        (batch_id,) = suffixes
        assert names <= {f"dialogue-batch-baseline/chunk-{i:06d}-{batch_id}" for i in range(len(SIZES))}
        assert len(names) >= 3  # more chunks were seen than the window holds: it was refilled
        assert all(len(keys) <= 2 for keys in in_flight)  # the window: max(2, 2 x 1 thread)
        client.run_on_scheduler(lambda dask_scheduler: None)  # a round trip: the last release has landed
        assert not [k for k in sched.tasks if str(k).startswith("dialogue-batch-")]
    _same_batch(tmp_path / "d", serial)


def test_dask_without_workers_is_one_line_naming_the_fix(plan, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(rn, "WORKER_WAIT", 0.5)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as lc:
        with rn.connect_scheduler(lc.scheduler_address, 5.0) as client:
            with pytest.raises(DialogueError) as e:
                rn.run_batch(plan, tmp_path / "d", client=client, progress=False)
    addr = lc.scheduler_address
    assert str(e.value) == (f"--scheduler {addr}: no workers joined within 0.5 s; start some with "
                            f"'dask worker {addr}'")
    m = _manifest(tmp_path / "d")
    assert m["status"] == "incomplete" and m["chunks_done"] == 0  # resumable, nothing half-written


def test_dask_over_tcp_with_two_threads_matches_the_serial_batch(plan, serial, tmp_path):
    """A scheduler on a TCP address, as users give it: its identity is checked before connecting."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                  dashboard_address=None) as lc:
        assert lc.scheduler_address.startswith("tcp://127.0.0.1:")
        seen = []
        rep = rn.run_batch(plan, tmp_path / "d", scheduler=lc.scheduler_address, progress=False,
                           on_chunk=seen.append)
        assert rep.mode == f"dask cluster {lc.scheduler_address}"
    assert sorted((r.index, r.runs) for r in seen) == list(enumerate(SIZES))
    # The coordinator wrote each chunk and dropped the data it was handed.
    assert all(r.dataset is None and r.partial is None and r.files for r in seen)
    assert {r.key: {k: f["size"] for k, f in r.files.items()} for r in seen} == _sizes(serial)
    _same_batch(tmp_path / "d", serial)
