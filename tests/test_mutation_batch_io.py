"""Batch chunk files, their verification, the folder lock, the estimate and the batch
loader, against values worked out here (issue 14: mutation gaps in ``model.batch``).

The end-to-end batch tests (``test_batch*.py``) run whole batches in processes and
check that results agree; these check each piece on its own, fast: one tiny simulated
chunk (6 runs x 3 months) written, read back and tampered with, and hand-made
manifests. Expected numbers are computed here from the inputs, never copied from a run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import tmpfs

from model.analysis import event_flags
from model.batch import build_plan
from model.batch import chunks as ch
from model.batch import integrity as ig
from model.batch import store as st
from model.batch.runner import EVENTS_PARQUET, MANIFEST, SUMMARY_PARQUET
from model.errors import DialogueError
from model.results import OUTCOMES


@pytest.fixture(scope="module")
def chunk():
    """The second chunk (runs 3..5) of a 6-run, 3-month baseline point, simulated."""
    from model.simulate import simulate

    plan = build_plan(["baseline"], runs=6, horizon=3, chunk_size=3, variables=("relations", "sanctions"))
    task = plan.chunks()[1]
    ds = simulate(task.scenario, runs=task.runs, run_offset=task.run_offset)
    return plan, task, ds


# ------------------------------------------------------------------ checksums and file records

def test_sha256_of_bytes_and_of_a_file_read_in_blocks(tmp_path, monkeypatch):
    data = bytes(range(256)) * 50
    want = "sha256:" + hashlib.sha256(data).hexdigest()
    assert ig.sha256_bytes(data) == want
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    monkeypatch.setattr(ig, "_HASH_BLOCK", 1000)  # several blocks, the last one short
    assert ig.sha256_file(path) == want
    assert ig.file_record(path) == {"size": len(data), "sha256": want}


def test_check_file_names_each_mismatch(tmp_path):
    path = tmp_path / "f.bin"
    assert ig.check_file(path, {"size": 1}) == "file missing"
    path.write_bytes(b"x" * 1500)
    rec = ig.file_record(path)
    assert ig.check_file(path, None) is None and ig.check_file(path, {}) is None
    assert ig.check_file(path, rec) is None
    assert ig.check_file(path, {"size": 2000}) == "size 1,500 bytes, recorded 2,000 (truncated or replaced)"
    assert ig.check_file(path, {"size": 1500, "sha256": "sha256:0"}) == ("checksum does not match the manifest "
                                                                         "(damaged or replaced)")
    assert ig.check_file(path, {"sha256": rec["sha256"]}) is None  # size not recorded: checksum only
    assert ig.check_file(path, {"size": None, "sha256": "sha256:0"}).startswith("checksum")
    assert ig.check_file(path, {"size": 1500, "sha256": ""}) is None


def test_read_partial_and_its_meta(tmp_path):
    path = tmp_path / "p.npz"
    path.write_bytes(ch.encode_npz({"a": np.arange(3), "meta": np.array(json.dumps({"k": 1}))}))
    part = ig.read_partial(path)
    assert sorted(part) == ["a", "meta"] and part["a"].tolist() == [0, 1, 2]
    assert ig.partial_meta(part) == {"k": 1}
    assert ig.partial_meta({}) == {}
    assert ig.partial_meta({"meta": np.array("not json")}) == {}
    assert ig.partial_meta({"meta": np.array("[1, 2]")}) == {}
    path.write_bytes(b"garbage")
    with pytest.raises(DialogueError) as e:
        ig.read_partial(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: partial summaries unreadable (") and msg.endswith("Error)") and "\n" not in msg


# ------------------------------------------------------------------ chunk files

def test_chunk_paths():
    assert ch.ensemble_path("out", "p", 3) == ch.Path("out/ensembles/p/chunk-000003.nc")
    assert ch.partial_path("out", "p", 12) == ch.Path("out/partials/p/chunk-000012.npz")


def test_partial_stats_are_the_chunks_counts_and_horizon_values(chunk):
    from model.agents.relations import DRIVERS

    _, task, ds = chunk
    part = ch.partial_stats(ds)
    outcome = ds["outcome"].values
    assert part["n"].tolist() == [3] and part["n"].dtype == np.int64
    assert part["run_ids"].tolist() == [3, 4, 5]
    assert part["outcome_counts"].tolist() == [int(np.sum(outcome == k)) for k in OUTCOMES]
    assert part["outcome_counts"].sum() == 3
    flags = event_flags(ds)
    for i, v in enumerate(flags.values()):
        assert part["event_by_month"][i].tolist() == [int(v.values[:, t].sum()) for t in range(3)]
        assert part["events_end"][i].tolist() == v.values[:, -1].tolist()
    assert part["event_by_month"].dtype == np.int64
    assert part["relations_end"].tolist() == ds["relations"].values[:, -1].astype(float).tolist()
    assert part["exports_end"].tolist() == ds["exports_gbp_m"].values[:, -1].astype(float).tolist()
    assert part["exports_end"].dtype == np.float64
    for i, d in enumerate(DRIVERS):
        assert part["driver_run_totals"][i] == pytest.approx(ds[f"contrib_{d}"].values.sum(axis=1), abs=1e-12)
    assert part["outcome_run"].tolist() == [OUTCOMES.index(k) for k in outcome]


def test_outcome_codes_mark_unknown_classes():
    codes = ch._outcome_codes(np.array([OUTCOMES[-1], "other", OUTCOMES[0]]))
    assert codes.tolist() == [len(OUTCOMES) - 1, -1, 0] and codes.dtype == np.int8


def test_storable_keeps_the_chosen_variables_stacked_and_labelled(chunk):
    _, task, ds = chunk
    out = ch.storable(ds, task)
    timed = {v for v in out.data_vars if "time" in out[v].dims}
    assert timed == {"relations", "sanctions"} and "contrib" not in out  # contributions are monthly: not chosen
    params = [v for v in ds.data_vars if str(v).startswith("param_")]
    assert out["params"].dims == ("run", "param")
    assert out["param"].values.tolist() == [p[len("param_"):] for p in params]
    for i, p in enumerate(params):
        assert out["params"].values[:, i].tolist() == ds[p].values.tolist()
    attrs = json.loads(out["params"].attrs[ch.MEMBER_ATTRS])
    assert attrs[params[0]] == dict(ds[params[0]].attrs)
    assert out["relations"].values.tolist() == ds["relations"].values.tolist()
    assert out["relations"].values.flags["C_CONTIGUOUS"]
    assert out.attrs["batch_point"] == "baseline"
    assert (out.attrs["batch_chunk"], out.attrs["run_offset"]) == (1, 3)
    assert out.attrs["seed"] == ds.attrs["seed"]
    # All variables: every recorded one is kept.
    every = ch.storable(ds, build_plan(["baseline"], runs=6, horizon=3, chunk_size=3).chunks()[1])
    assert {v for v in ds.data_vars if "time" in ds[v].dims and not str(v).startswith("contrib_")} <= set(every)


def test_encoding_compresses_numeric_variables_only():
    ds = xr.Dataset({"x": ("run", np.arange(3.0)), "b": ("run", np.array([True, False, True])),
                     "s": ("run", np.array(["a", "b", "c"], dtype=object))})
    assert ch._encoding(ds, False) == {}
    assert ch._encoding(ds, True) == {v: {"zlib": True, "complevel": 1, "shuffle": True} for v in ("x", "b")}


def test_write_chunk_writes_both_files_with_their_identity(chunk, tmp_path):
    plan, task, ds = chunk
    part = ch.partial_stats(ds)
    stored = ch.storable(ds, task)
    files = ch.write_chunk(tmp_path, task, stored, part)
    ens, par = ch.ensemble_path(tmp_path, "baseline", 1), ch.partial_path(tmp_path, "baseline", 1)
    assert files == {"ensemble": ig.file_record(ens), "partial": ig.file_record(par)}
    back = ig.read_partial(par)
    assert ig.partial_meta(back) == {"point": "baseline", "index": 1, "run_offset": 3, "runs": 3,
                                     "seed": task.scenario.run.seed, "inputs_hash": plan.inputs_hash,
                                     "ensemble": files["ensemble"]}
    assert back["run_ids"].tolist() == [3, 4, 5]
    with xr.open_dataset(ens, engine="h5netcdf") as got:
        assert got["relations"].values.tolist() == ds["relations"].values.tolist()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["ensembles", "partials", "baseline", "baseline", "chunk-000001.nc", "chunk-000001.npz"])
    assert ch.chunk_done(tmp_path, task)
    assert ig.verify_chunk(task, ens, par, plan.inputs_hash, {"partial": files["partial"]}) == (None, files)
    assert ig.verify_chunk(task, ens, par, plan.inputs_hash, None) == (None, files)


def test_a_summaries_only_chunk_has_no_ensemble_and_needs_none(chunk, tmp_path):
    plan0, _, ds = chunk
    plan = build_plan(["baseline"], runs=6, horizon=3, chunk_size=3, variables=())
    task = plan.chunks()[1]
    files = ch.write_chunk(tmp_path, task, None, ch.partial_stats(ds))
    assert list(files) == ["partial"]
    assert not ch.ensemble_path(tmp_path, "baseline", 1).exists()
    assert ch.chunk_done(tmp_path, task)
    par = ch.partial_path(tmp_path, "baseline", 1)
    assert ig.verify_chunk(task, ch.ensemble_path(tmp_path, "baseline", 1), par, plan.inputs_hash, None) == (
        None, files)
    assert "ensemble" not in ig.partial_meta(ig.read_partial(par))
    # With ensembles wanted, a chunk without its ensemble file is not done.
    assert not ch.chunk_done(tmp_path, plan0.chunks()[1])


def test_verify_chunk_names_what_does_not_match(chunk, tmp_path):
    plan, task, ds = chunk
    files = ch.write_chunk(tmp_path, task, ch.storable(ds, task), ch.partial_stats(ds))
    ens, par = ch.ensemble_path(tmp_path, "baseline", 1), ch.partial_path(tmp_path, "baseline", 1)
    h = plan.inputs_hash

    def verify(t=task, inputs=h, recorded=None):
        return ig.verify_chunk(t, ens, par, inputs, recorded)

    assert verify(recorded={"partial": {"size": 1}}) == (
        f"partial summaries: size {files['partial']['size']:,} bytes, recorded 1 (truncated or replaced)", {})
    assert verify(inputs="sha256:other") == (f"it holds inputs_hash {h!r}, expected 'sha256:other' (a chunk of "
                                             "another point or batch)", {})
    for field, value in (("point", "other"), ("index", 7), ("run_offset", 9), ("runs", 2)):
        other = ch.ChunkTask(**{**task.__dict__, field: value})
        held = ig.partial_meta(ig.read_partial(par))[field]
        assert verify(other) == (f"it holds {field} {held!r}, expected {value!r} (a chunk of another point or "
                                 "batch)", {})
    assert verify(recorded={"ensemble": {"size": 1}}) == (
        f"ensemble: size {files['ensemble']['size']:,} bytes, recorded 1 (truncated or replaced)", {})
    # An ensemble replaced by another file of any size: not the one written with this chunk.
    ens.write_bytes(ens.read_bytes()[:-1] + b"\0")
    assert verify() == ("ensemble file is not the one written with this chunk (truncated, damaged or replaced)", {})
    ens.unlink()
    assert verify() == ("ensemble: file missing", {})
    # Partials whose run ids are not the chunk's.
    part = ig.read_partial(par)
    part["run_ids"] = np.array([3, 4, 6])
    par.write_bytes(ch.encode_npz(part))
    assert verify() == ("its run ids are not 3..5", {})
    del part["run_ids"]
    par.write_bytes(ch.encode_npz(part))
    assert verify() == ("its run ids are not 3..5", {})
    par.write_bytes(b"not a zip")
    assert verify() == ("partial summaries unreadable (truncated or damaged)", {})
    par.unlink()
    assert verify() == ("partial summaries: file missing", {})
    assert not ch.chunk_done(tmp_path, task)


def test_atomic_write_leaves_no_temporary_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "f.bin"
    ch._atomic(b"abc", path)
    assert path.read_bytes() == b"abc" and sorted(p.name for p in path.parent.iterdir()) == ["f.bin"]

    def full(data, p):
        p.write_bytes(data[:1])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ch, "_write_bytes", full)
    with pytest.raises(OSError):
        ch._atomic(b"xyz", path)
    assert path.read_bytes() == b"abc" and sorted(p.name for p in path.parent.iterdir()) == ["f.bin"]


@pytest.mark.parametrize("exc,why,fix", [
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full (no space left on device)",
     "free some space (or use --variables / --compress to store less)"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "the disk is full (no space left on device)",
     "free some space (or use --variables / --compress to store less)"),
    (OSError(errno.EROFS, "Read-only file system"), "permission denied", "make the folder writable"),
    (OSError(errno.EACCES, "Permission denied"), "permission denied", "make the folder writable"),
    (OSError(errno.EPERM, "Operation not permitted"), "permission denied", "make the folder writable"),
    (PermissionError("no"), "permission denied", "make the folder writable"),
    (OSError(errno.EIO, "Input/output error"), "Input/output error", "fix the problem"),
    (OSError("plain words"), "plain words", "fix the problem"),
    (OSError(), "OSError", "fix the problem"),
])
def test_disk_error_says_why_and_the_fix(exc, why, fix):
    assert str(ch.disk_error("out", "p/chunk-000001", exc)) == (
        f"out: could not write chunk p/chunk-000001: {why}; finished chunks are kept: {fix} and rerun with --resume")


def test_write_chunk_turns_a_disk_error_into_one_line(chunk, tmp_path, monkeypatch):
    _, task, ds = chunk

    def full(data, p):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ch, "_write_bytes", full)
    with pytest.raises(DialogueError) as e:
        ch.write_chunk(tmp_path, task, None, ch.partial_stats(ds))
    assert str(e.value) == str(ch.disk_error(tmp_path, task.key, OSError(errno.ENOSPC, "x")))


def test_remove_stale_temporaries_removes_only_temporaries(tmp_path):
    keep = [tmp_path / "manifest.json", tmp_path / "ensembles" / "p" / "chunk-000000.nc",
            tmp_path / "partials" / "p" / "chunk-000000.npz", tmp_path / "other" / "p" / ".x.partial"]
    stale = [tmp_path / ".manifest.json.1.partial", tmp_path / "ensembles" / "p" / ".chunk-000001.nc.9.partial",
             tmp_path / "partials" / "q" / ".chunk-000000.npz.9.partial"]
    for f in keep + stale:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"")
    assert ch.remove_stale_temporaries(tmp_path) == 3
    assert all(f.exists() for f in keep) and not any(f.exists() for f in stale)
    assert ch.remove_stale_temporaries(tmp_path / "nothing") == 0


def test_worker_name_is_host_and_pid():
    import socket

    assert ch.worker_name() == f"{socket.gethostname()}:{os.getpid()}"


# ------------------------------------------------------------------ the folder lock

def test_folder_lock_is_exclusive_names_its_holder_and_releases(tmp_path):
    first = ig.FolderLock(tmp_path).acquire()
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / ig.LOCK_FILE).stat().st_mode & 0o777 == 0o644 & ~umask
    assert (tmp_path / ig.PID_FILE).read_text(encoding="utf-8") == f"{os.getpid()}\n"
    assert first.holder() == f"PID {os.getpid()}"
    busy = (f"--out {tmp_path} is in use by another dialogue batch (PID {os.getpid()}); wait for it to finish or "
            "stop it, then rerun (with --resume to finish it)")
    with pytest.raises(DialogueError) as e:
        ig.FolderLock(tmp_path).acquire()  # a second descriptor: flock refuses it even in one process
    assert str(e.value) == busy
    with pytest.raises(DialogueError) as e:
        ig.FolderLock(tmp_path).check_free()
    assert str(e.value) == busy
    first.release()
    assert first.fd is None and not (tmp_path / ig.PID_FILE).exists()
    first.release()  # twice is harmless
    ig.FolderLock(tmp_path).check_free()
    again = ig.FolderLock(tmp_path).acquire()
    again.release()


def test_check_free_without_a_lock_file_and_holder_without_a_pid(tmp_path):
    ig.FolderLock(tmp_path).check_free()
    assert not (tmp_path / ig.LOCK_FILE).exists()
    (tmp_path / ig.PID_FILE).write_text("garbage", encoding="utf-8")
    assert ig.FolderLock(tmp_path).holder() == "PID unknown"


# ------------------------------------------------------------------ estimates and space

@pytest.mark.parametrize("n,text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (1_234_567, "1.2 MB"),
                                    (5e9, "5.0 GB"), (2.5e12, "2.5 TB"), (3e15, "3,000.0 TB"), (-500, "-500 B")])
def test_human_bytes(n, text):
    assert ig.human_bytes(n) == text


@pytest.mark.parametrize("s,text", [(0.2, "1 s"), (1.6, "2 s"), (89, "89 s"), (90, "2 min"), (5399, "90 min"),
                                    (5400, "1.5 h"), (36000, "10.0 h"),
                                    (3_600_000, "1000.0 h")])
def test_human_seconds(s, text):
    assert ig.human_seconds(s) == text


def test_estimate_text_in_full():
    assert ig.Estimate(2_000_000, 120.0, 300_000_000, 1).text() == (
        "estimate: 2.0 MB on disk, about 2 min on 1 process, peak memory about 300.0 MB")
    assert ig.Estimate(999, 30.0, 1000, 3).text() == (
        "estimate: 999 B on disk, about 30 s on 3 processes, peak memory about 1.0 KB")


def _tasks(points=("baseline",), runs=10, horizon=12, chunk_size=4):
    return build_plan(list(points), runs=runs, horizon=horizon, chunk_size=chunk_size).chunks()


def test_estimate_of_disk_time_and_memory(monkeypatch):
    monkeypatch.setattr(ig.os, "cpu_count", lambda: 8)
    tasks = _tasks(("baseline", "crackdown"), runs=10, horizon=12, chunk_size=4)  # 2 points x chunks 4+4+2
    rm, runs, n = 2 * 10 * 12, 20, len(tasks)
    assert n == 6
    sim = write = 8_000 * 60
    # Everything kept, uncompressed, one process.
    e = ig.estimate(tasks, None, False, 1, 20)
    assert e.disk_bytes == int(rm * 160.0 + runs * 700.0 + n * 130_000 + 60_000 + 2 * 10_000)
    assert e.seconds == pytest.approx(rm / (1 / (1 / sim + 1 / write)))
    assert e.memory_bytes == int(200e6 + 4 * 12 * 400.0)
    assert e.workers == 1
    # Half the variables, compressed, three processes.
    e = ig.estimate(tasks, ("a",) * 10, True, 3, 20)
    rate = 1 / (1 / sim + 0.5 / write) / 1.5
    assert e.disk_bytes == int(rm * 160.0 * 0.5 * 0.7 + runs * 700.0 + n * 130_000 + 60_000 + 2 * 10_000)
    assert e.seconds == pytest.approx(rm / rate / 3 + 2.0)
    assert e.memory_bytes == int((200e6 + 4 * 12 * 400.0) * 3 + 200e6)
    # Two processes: the pool's start-up and its coordinator count.
    e = ig.estimate(tasks, None, False, 2, 20)
    assert e.seconds == pytest.approx(rm / (1 / (1 / sim + 1 / write)) / 2 + 2.0)
    assert e.memory_bytes == int((200e6 + 4 * 12 * 400.0) * 2 + 200e6)
    # More variables than recorded: all of them.
    assert ig.estimate(tasks, ("a",) * 30, False, 1, 20).disk_bytes == ig.estimate(tasks, None, False, 1, 20).disk_bytes
    # Summaries only: the partials, no write time; workers capped by the tasks and the CPUs.
    e = ig.estimate(tasks, (), True, 16, 20)
    assert e.disk_bytes == int(runs * 140.0 + n * 2_000 + 60_000 + 2 * 10_000)
    assert e.seconds == pytest.approx(rm / sim / 6 + 2.0)
    assert e.workers == 16
    monkeypatch.setattr(ig.os, "cpu_count", lambda: None)
    assert ig.estimate(tasks, (), True, 16, 20).seconds == pytest.approx(rm / sim / 1 + 2.0)
    # Nothing to run.
    assert ig.estimate([], None, False, 0, 20) == ig.Estimate(0, 0.0, int(200e6), 1)


def test_existing_is_the_nearest_existing_parent(tmp_path):
    assert ig._existing(tmp_path / "a" / "b") == tmp_path
    assert ig._existing(tmp_path) == tmp_path
    assert ig.free_space(tmp_path / "a" / "b") == ig.shutil.disk_usage(tmp_path).free


def test_check_space_with_its_margin(tmp_path, monkeypatch):
    monkeypatch.setattr(ig, "free_space", lambda p: 10_000_000)
    ig.check_space(tmp_path, 9_000_000)  # margin 1 MB: 10 MB needed, 10 MB free
    with pytest.raises(DialogueError) as e:
        ig.check_space(tmp_path, 9_000_001)
    assert str(e.value) == (f"--out {tmp_path}: the batch needs about 10.0 MB but only 10.0 MB is free there; free "
                            "some space, store less (--variables relations,sanctions or none, --compress) or choose "
                            "another --out folder")
    monkeypatch.setattr(ig, "free_space", lambda p: 105_000_000)
    ig.check_space(tmp_path, 100_000_000)  # margin 5%: 105 MB
    with pytest.raises(DialogueError, match="needs about 105.0 MB"):
        ig.check_space(tmp_path, 100_000_020)

    monkeypatch.setattr(ig, "free_space", lambda p: 105_000_019)
    ig.check_space(tmp_path, 100_000_019)  # the margin is whole bytes: 5,000,000 (not 5,000,000.95)

    def unknown(p):
        raise OSError(errno.EIO, "x")

    monkeypatch.setattr(ig, "free_space", unknown)
    ig.check_space(tmp_path, 10**18)  # cannot tell: no refusal


def test_check_writable_refuses_a_folder_that_cannot_be_written(tmp_path, monkeypatch):
    ig.check_writable(tmp_path / "new" / "deeper")
    monkeypatch.setattr(ig.os, "access", lambda p, mode: False)
    with pytest.raises(DialogueError) as e:
        ig.check_writable(tmp_path / "new")
    assert str(e.value) == (f"--out {tmp_path / 'new'}: permission denied (not writable); choose a folder you can "
                            "write to")


# ------------------------------------------------------------------ the batch loader

def _manifest(points, status="complete", variables=None, chunks=()):
    return {"format": "dialogue-batch", "points": points, "chunks": list(chunks), "sessions": [], "inputs": {},
            "status": status, "variables": variables, "runs_total": 12345}


def _folder(tmp_path, manifest, summary=True):
    from model.batch.plan import FORMAT

    manifest["format"] = FORMAT
    (tmp_path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    if summary:
        pd.DataFrame({"point": [p["id"] for p in manifest["points"]]}).to_parquet(tmp_path / SUMMARY_PARQUET)
    return tmp_path


POINTS = [{"id": "baseline", "scenario": "baseline", "sweep": None, "chunks": 2},
          {"id": "grid-001", "scenario": "baseline", "sweep": "grid", "chunks": 1},
          {"id": "crackdown", "scenario": "crackdown", "sweep": None, "chunks": 1},
          {"id": "hawk-1", "scenario": "hawk", "sweep": None, "chunks": 1}]


def test_load_batch_reads_a_finished_folder(tmp_path):
    path = _folder(tmp_path, _manifest(POINTS))
    b = st.load_batch(path)
    assert b.complete and b.summary["point"].tolist() == ["baseline", "grid-001", "crackdown", "hawk-1"]
    assert b.events_by_month is None
    assert b.points == ["baseline", "grid-001", "crackdown", "hawk-1"]
    assert repr(b) == f"<Batch {path}: 4 points, 12,345 runs, status complete>"
    pd.DataFrame({"x": [1]}).to_parquet(path / EVENTS_PARQUET)
    assert st.load_batch(path).events_by_month["x"].tolist() == [1]


def test_load_batch_refuses_what_is_not_a_finished_batch(tmp_path):
    with pytest.raises(DialogueError) as e:
        st.load_batch(tmp_path)
    assert str(e.value) == f"{tmp_path}: not a batch folder (no {MANIFEST})"
    path = _folder(tmp_path, _manifest(POINTS, status="running"))
    with pytest.raises(DialogueError) as e:
        st.load_batch(path)
    assert str(e.value) == (f"{path}: the batch is not finished (status running); finish it with 'dialogue batch ... "
                            "--resume' (or pass allow_incomplete=True)")
    b = st.load_batch(path, allow_incomplete=True)
    assert not b.complete
    with pytest.raises(DialogueError) as e:
        _ = b.summary
    assert str(e.value) == (f"{path}: the batch is not finished (status running); finish it with 'dialogue batch ... "
                            "--resume'")
    path = _folder(tmp_path, _manifest(POINTS), summary=False)
    (path / SUMMARY_PARQUET).unlink()
    assert not st.load_batch(path, allow_incomplete=True).complete


def test_points_by_index_id_or_scenario_name(tmp_path):
    b = st.load_batch(_folder(tmp_path, _manifest(POINTS)))
    assert b._point(0)["id"] == "baseline" and b._point(3)["id"] == "hawk-1"
    assert b._point("grid-001")["id"] == "grid-001"
    assert b._point("crackdown")["id"] == "crackdown"
    assert b._point("hawk")["id"] == "hawk-1"  # by scenario name, when one point runs it
    for i in (-1, 4):
        with pytest.raises(DialogueError) as e:
            b._point(i)
        assert str(e.value) == f"{tmp_path}: point index {i} out of range (0..3)"
    with pytest.raises(DialogueError) as e:
        b._point("grid-01")
    assert str(e.value) == f"{tmp_path}: no point 'grid-01' in this batch; did you mean 'grid-001'?"
    with pytest.raises(DialogueError) as e:
        b._point("zzzzzz")
    assert str(e.value) == (f"{tmp_path}: no point 'zzzzzz' in this batch; points: baseline, grid-001, crackdown, "
                            "hawk-1")
    # A scenario name that two non-sweep points share is ambiguous; a sweep point never counts.
    two = [*POINTS, {"id": "hawk-2", "scenario": "hawk", "sweep": None, "chunks": 1},
           {"id": "dove-1", "scenario": "dove", "sweep": "grid", "chunks": 1}]
    b = st.load_batch(_folder(tmp_path, _manifest(two)))
    for key in ("hawk", "dove"):
        with pytest.raises(DialogueError, match=f"no point '{key}'"):
            b._point(key)
    six = [{"id": f"p{i}", "scenario": f"s{i}", "sweep": None, "chunks": 1} for i in range(6)]
    with pytest.raises(DialogueError) as e:
        st.load_batch(_folder(tmp_path, _manifest(six)))._point("zzzzzz")
    assert str(e.value).endswith("; points: p0, p1, p2, p3, p4")
    assert b.files("baseline") == [tmp_path / "ensembles" / "baseline" / f"chunk-{i:06d}.nc" for i in (0, 1)]


def test_open_refuses_a_batch_without_ensembles_or_with_missing_chunks(tmp_path):
    b = st.load_batch(_folder(tmp_path, _manifest(POINTS, variables=[])))
    with pytest.raises(DialogueError) as e:
        b.open("baseline")
    assert str(e.value) == f"{tmp_path}: this batch kept no ensembles (--variables none); only the summary"
    b = st.load_batch(_folder(tmp_path, _manifest(POINTS)))
    (tmp_path / "ensembles" / "baseline").mkdir(parents=True)
    (tmp_path / "ensembles" / "baseline" / "chunk-000000.nc").write_bytes(b"x")
    with pytest.raises(DialogueError) as e:
        b.open("baseline")
    assert str(e.value) == (f"{tmp_path}: point baseline is missing 1 of 2 chunk files; finish the batch with "
                            "--resume")


@pytest.fixture()
def synchronous_dask():
    """Dask's default thread pool can deadlock in a forked process (mutmut forks per mutant)."""
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def test_verify_and_open_a_point_from_real_chunk_files(chunk, tmp_path, synchronous_dask):
    plan, task, ds = chunk
    first = build_plan(["baseline"], runs=6, horizon=3, chunk_size=3, variables=("relations", "sanctions")).chunks()[0]
    from model.simulate import simulate

    ds0 = simulate(first.scenario, runs=first.runs, run_offset=first.run_offset)
    recs = {}
    for t, d in ((first, ds0), (task, ds)):
        recs[t.key] = ch.write_chunk(tmp_path, t, ch.storable(d, t), ch.partial_stats(d))
    points = [{"id": "baseline", "scenario": "baseline", "sweep": None, "chunks": 2}]
    chunks = [{"key": k, "files": f} for k, f in recs.items()]
    b = st.load_batch(_folder(tmp_path, _manifest(points, variables=["relations", "sanctions"], chunks=chunks)))
    b.verify("baseline")
    got = b.open("baseline")
    assert got["run"].values.tolist() == list(range(6))
    assert got["relations"].values.tolist() == np.concatenate([ds0["relations"].values,
                                                                ds["relations"].values]).tolist()
    name = next(v for v in ds.data_vars if str(v).startswith("param_"))
    assert got[name].values.tolist() == np.concatenate([ds0[name].values, ds[name].values]).tolist()
    assert dict(got[name].attrs) == dict(ds[name].attrs)
    assert got["params"].attrs == st._STACKED_ATTRS["params"]
    assert (got.attrs["runs"], got.attrs["batch"], got.attrs["batch_point"]) == (6, str(tmp_path), "baseline")
    assert "batch_chunk" not in got.attrs and "run_offset" not in got.attrs
    got.close()
    # A chunk file replaced after the manifest recorded it.
    f = ch.ensemble_path(tmp_path, "baseline", 1)
    f.write_bytes(f.read_bytes()[:-1] + b"\0")
    why = ig.check_file(f, recs[task.key]["ensemble"])
    with pytest.raises(DialogueError) as e:
        b.open("baseline")
    assert str(e.value) == f"{f}: {why}; rerun the batch with --resume to verify and recompute it"
    # Without verifying, a damaged file is reported by the reader in one line.
    f.write_bytes(b"garbage")
    with pytest.raises(DialogueError) as e:
        b.open("baseline", verify=False)
    assert str(e.value).startswith(f"{tmp_path}: cannot open the ensemble of baseline (")


# ------------------------------------------------------------------ design chunks with shared streams

def test_block_rows_draw_from_their_blocks_stream(chunk):
    """Row k of a saltelli/morris chunk is the design row run alone with run id k // block."""
    from model.params import registry
    from model.simulate import simulate

    _, base, _ = chunk
    specs = [s for s in registry().values() if s.high > s.low][:2]
    design = {s.name: s.low + (s.high - s.low) * np.array([0.2, 0.4, 0.6, 0.8]) for s in specs}
    task = ch.ChunkTask("p", 0, 2, 4, base.scenario, None, design=design, stream_block=2)
    ds = ch.simulate_blocks(task)
    assert ds["run"].values.tolist() == [2, 3, 4, 5]
    for i, row in enumerate(range(2, 6)):
        alone = simulate(base.scenario, run_offset=row // 2, design={k: v[i:i + 1] for k, v in design.items()})
        assert ds["relations"].values[i].tolist() == alone["relations"].values[0].tolist()
        for k, v in design.items():
            assert ds[f"param_{k}"].values[i] == v[i]
    assert ds.attrs["design"] == f"{specs[0].name},{specs[1].name}"
    assert ds.attrs["streams"] == "one random stream per block of 2 rows (stream = row // 2)"
    assert all(ds[f"param_{k}"].attrs["source"] == "design" for k in design)
    assert ds.attrs["seed"] == base.scenario.run.seed and ds.sizes["time"] == base.scenario.run.horizon


def test_run_chunk_writes_or_hands_back_the_same_chunk(chunk, tmp_path):
    import time

    plan, task, ds = chunk
    t0 = time.perf_counter()
    res = ch.run_chunk(task, tmp_path)
    elapsed = time.perf_counter() - t0
    assert (res.key, res.point, res.index, res.runs) == (task.key, "baseline", 1, 3)
    assert res.dataset is None and res.partial is None and 0 < res.seconds <= elapsed
    assert res.worker == ch.worker_name()
    ens, par = ch.ensemble_path(tmp_path, "baseline", 1), ch.partial_path(tmp_path, "baseline", 1)
    assert res.files == {"ensemble": ig.file_record(ens), "partial": ig.file_record(par)}
    assert ig.verify_chunk(task, ens, par, plan.inputs_hash, res.files) == (None, res.files)
    back = ch.run_chunk(task)  # no folder: the caller writes it (a Dask cluster's coordinator)
    assert back.files is None and back.seconds > 0
    assert back.dataset["relations"].values.tolist() == ds["relations"].values.tolist()
    assert back.dataset.attrs["batch_chunk"] == 1
    assert sorted(back.partial) == sorted(ch.partial_stats(ds))
    assert back.partial["run_ids"].tolist() == [3, 4, 5]
    # A summaries-only chunk keeps no Dataset.
    only = build_plan(["baseline"], runs=6, horizon=3, chunk_size=3, variables=()).chunks()[1]
    assert ch.run_chunk(only).dataset is None
    # A design chunk with shared streams goes through simulate_blocks.
    from model.params import registry

    spec = next(s for s in registry().values() if s.high > s.low)
    rows = spec.low + (spec.high - spec.low) * np.array([0.25, 0.75])
    blocks = ch.ChunkTask("p", 0, 0, 2, task.scenario, (), design={spec.name: rows}, stream_block=2)
    got = ch.run_chunk(blocks)
    assert got.partial["run_ids"].tolist() == [0, 1]
    assert got.partial["relations_end"].tolist() == ch.simulate_blocks(blocks)["relations"].values[:, -1].tolist()
    # A design chunk without shared streams runs its design rows.
    rows_only = ch.ChunkTask("p", 0, 4, 2, task.scenario, None, design={spec.name: rows})
    got = ch.run_chunk(rows_only)
    assert got.dataset["params"].sel(param=spec.name).values.tolist() == rows.tolist()
    assert got.partial["run_ids"].tolist() == [4, 5]


def test_check_space_and_writable_against_real_filesystems(tmp_path):
    ig.check_space(tmp_path, 0)
    free = ig.shutil.disk_usage(tmp_path).free
    with pytest.raises(DialogueError) as e:
        ig.check_space(tmp_path / "new", 10 * free)
    need = ig.human_bytes(10 * free + free // 2)  # the margin is 5% of what is needed
    assert str(e.value).startswith(f"--out {tmp_path / 'new'}: the batch needs about {need} but only ")
    with tmpfs(tmp_path / "ro", "100k", "ro") as ro:
        with pytest.raises(DialogueError) as e:
            ig.check_writable(ro / "out")
        assert str(e.value) == (f"--out {ro / 'out'}: permission denied (read-only filesystem); choose a folder you "
                                "can write to")


def test_repr_of_a_batch_whose_manifest_has_no_run_count(tmp_path):
    manifest = _manifest(POINTS)
    del manifest["runs_total"]
    assert repr(st.load_batch(_folder(tmp_path, manifest))) == f"<Batch {tmp_path}: 4 points, ? runs, status complete>"


# ------------------------------------------------------------------ third pass: what the second left

def test_read_partial_refuses_pickled_objects(tmp_path):
    # A damaged or planted .npz must not run code: object arrays are refused, not unpickled.
    path = tmp_path / "p.npz"
    path.write_bytes(ch.encode_npz({"x": np.array([{"a": 1}], dtype=object)}))
    with pytest.raises(DialogueError, match="partial summaries unreadable"):
        ig.read_partial(path)


def test_a_lock_never_acquired_releases_nothing_and_a_missing_pid_reads_unknown(tmp_path):
    lock = ig.FolderLock(tmp_path)
    (tmp_path / ig.PID_FILE).write_text("123\n", encoding="utf-8")
    lock.release()
    assert lock.fd is None and (tmp_path / ig.PID_FILE).exists()  # not ours: left alone
    (tmp_path / ig.PID_FILE).unlink()
    assert lock.holder() == "PID unknown"


def test_a_point_suggestion_uses_a_loose_match(tmp_path):
    b = st.load_batch(_folder(tmp_path, _manifest(POINTS)))
    # 'gri' and 'grid-001' match at 6/11 = 0.55: suggested (the cut-off is 0.5).
    with pytest.raises(DialogueError) as e:
        b._point("gri")
    assert str(e.value) == f"{tmp_path}: no point 'gri' in this batch; did you mean 'grid-001'?"


def test_verify_a_chunk_the_manifest_has_no_record_of(tmp_path):
    points = [{"id": "baseline", "scenario": "baseline", "sweep": None, "chunks": 1}]
    b = st.load_batch(_folder(tmp_path, _manifest(points, chunks=[{"key": "other/chunk-000000"}])))
    f = tmp_path / "ensembles" / "baseline" / "chunk-000000.nc"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"x")
    b.verify("baseline")  # no record: only that the file is there
    f.unlink()
    with pytest.raises(DialogueError) as e:
        b.verify("baseline")
    assert str(e.value) == f"{f}: file missing; rerun the batch with --resume to verify and recompute it"


def test_open_a_single_chunk_point_drops_the_chunk_attributes(chunk, tmp_path, synchronous_dask):
    plan, task, ds = chunk
    one = build_plan(["baseline"], runs=3, horizon=3, chunk_size=3, variables=("relations",)).chunks()[0]
    from model.simulate import simulate

    d = simulate(one.scenario, runs=3)
    files = ch.write_chunk(tmp_path, one, ch.storable(d, one), ch.partial_stats(d))
    points = [{"id": "baseline", "scenario": "baseline", "sweep": None, "chunks": 1}]
    b = st.load_batch(_folder(tmp_path, _manifest(points, variables=["relations"],
                                                   chunks=[{"key": one.key, "files": files}])))
    got = b.open(0)
    assert "batch_chunk" not in got.attrs and "run_offset" not in got.attrs
    assert got.attrs["batch_point"] == "baseline" and got.attrs["runs"] == 3
    name = next(v for v in d.data_vars if str(v).startswith("param_"))
    assert "param" not in got[name].coords and got[name].dims == ("run",)
    got.close()
    f = ch.ensemble_path(tmp_path, "baseline", 0)
    f.write_bytes(b"garbage")
    with pytest.raises(DialogueError) as e:
        b.open(0, verify=False)
    assert str(e.value).endswith("); rerun the batch with --resume to verify and recompute damaged chunks")


def test_member_names_without_or_with_damaged_attributes():
    base = xr.Dataset({"params": (("run", "param"), np.arange(6.0).reshape(3, 2))},
                      coords={"run": [0, 1, 2], "param": np.array(["a", "b"], dtype=object)})
    plain = st.with_member_names(base.copy())
    assert plain["param_a"].values.tolist() == [0.0, 2.0, 4.0] and dict(plain["param_a"].attrs) == {}
    damaged = base.copy()
    damaged["params"].attrs[ch.MEMBER_ATTRS] = "{not json"
    assert dict(st.with_member_names(damaged)["param_b"].attrs) == {}
    partial = base.copy()
    partial["params"].attrs[ch.MEMBER_ATTRS] = json.dumps({"param_a": {"units": "u"}})
    got = st.with_member_names(partial)
    assert dict(got["param_a"].attrs) == {"units": "u"} and dict(got["param_b"].attrs) == {}
    assert got["params"].attrs == st._STACKED_ATTRS["params"]


def test_events_end_is_the_horizon_month(chunk):
    _, _, ds = chunk
    d = ds.copy(deep=True)
    d["sanctions"].values[0, -1] = True  # sanctions begin in the horizon month in run 0
    flags = event_flags(d)
    key = next(k for k, v in flags.items() if v.values[0, -1] != v.values[0, -2])
    part = ch.partial_stats(d)
    i = list(flags).index(key)
    assert part["events_end"][i].tolist() == flags[key].values[:, -1].tolist()


def _compression(path) -> str | None:
    with xr.open_dataset(path, engine="h5netcdf") as back:
        enc = back["relations"].encoding
        return enc.get("compression") or ("gzip" if enc.get("zlib") else None)


def test_a_compressed_chunk_is_compressed(chunk, tmp_path):
    plan, task, ds = chunk
    stored = ch.storable(ds, task)
    (tmp_path / "raw.nc").write_bytes(ch.encode_netcdf(stored, ch._encoding(stored, False)))
    (tmp_path / "packed.nc").write_bytes(ch.encode_netcdf(stored, ch._encoding(stored, True)))
    assert _compression(tmp_path / "raw.nc") is None and _compression(tmp_path / "packed.nc") == "gzip"
    squeezed = ch.ChunkTask(**{**task.__dict__, "compress": True})
    ch.write_chunk(tmp_path / "out", squeezed, stored, ch.partial_stats(ds))
    path = ch.ensemble_path(tmp_path / "out", "baseline", 1)
    assert _compression(path) == "gzip"
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert back["relations"].values.tolist() == ds["relations"].values.tolist()
