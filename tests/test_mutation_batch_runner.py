"""``model.batch.runner`` without worker pools (issue 14: mutation gaps in the runner).

The end-to-end batch tests (``test_batch*.py``) start worker processes, which mutmut
cannot follow or time out. Here the runner's own logic is driven in this process: a
tiny plan (5 runs x 3 months in chunks of 2, so the last chunk is short) run by the
serial path (``workers`` None or 1), resumed, interrupted, tampered with and dry-run;
and its folder checks, manifest, report text and signal handling one by one. Expected
values are worked out here from the plan, never copied from a run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time

import numpy as np
import pytest

from model.batch import build_plan
from model.batch import runner as rn
from model.batch.chunks import ChunkResult, ensemble_path, partial_path
from model.batch.integrity import LOCK_FILE, PID_FILE
from model.batch.plan import FORMAT, FORMAT_VERSION
from model.errors import DialogueError

RUNS, HORIZON, SIZE = 5, 3, 2


def _plan(runs=RUNS, variables=("relations",), refs=("baseline",), **kw):
    return build_plan(list(refs), runs=runs, horizon=HORIZON, chunk_size=SIZE, variables=variables, **kw)


@pytest.fixture(scope="module")
def plan():
    return _plan()


def _manifest(out):
    return json.loads((out / rn.MANIFEST).read_text())


def _sizes(runs, size):
    """Chunk sizes worked out here: full chunks and a short last one."""
    return [min(size, runs - s) for s in range(0, runs, size)]


# ------------------------------------------------------------------ the report


def _report(out, **kw):
    args = dict(out=out, points=1, chunks=3, runs_total=5, runs_this_session=5, chunks_this_session=3,
                seconds=2.0, mode="in process", resumed=False)
    return rn.BatchReport(**(args | kw))


def test_report_rate_and_text(tmp_path):
    r = _report(tmp_path)
    assert r.runs_per_second == 2.5
    assert np.isnan(_report(tmp_path, seconds=0.0).runs_per_second)
    assert r.text() == ("Batch complete: 1 point, 5 runs in 3 chunks this session, 2.0 s, 2 runs/s (in process).\n"
                        f"Results: {tmp_path}/ (summary.parquet, summary.csv, manifest.json)")
    (tmp_path / "ensembles").mkdir()
    r = _report(tmp_path, points=2, runs_total=5000, runs_this_session=3000, chunks_this_session=2, seconds=1500.0)
    assert r.text() == ("Batch complete: 2 points, 3,000 runs in 2 chunks this session (5,000 in all), 1,500.0 s, "
                        "2 runs/s (in process).\n"
                        f"Results: {tmp_path}/ (summary.parquet, summary.csv, manifest.json, ensembles/)")
    assert "nothing left to run" in _report(tmp_path, runs_this_session=0, chunks_this_session=0).text()


# ------------------------------------------------------------------ manifest helpers


def test_machine_describes_this_machine():
    import platform

    m = rn.machine()
    assert m["cpu_count"] == os.cpu_count() and m["python"] == platform.python_version()
    assert m["machine"] == platform.machine() and m["node"] == platform.node()
    assert m["platform"] == platform.platform()
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        want = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    assert m["cpu_model"] == (want or platform.processor())


def test_now_is_utc_to_the_second():
    import datetime as dt

    t = dt.datetime.fromisoformat(rn._now())
    assert t.utcoffset() == dt.timedelta(0) and t.microsecond == 0
    assert abs((dt.datetime.now(dt.UTC) - t).total_seconds()) < 5


def test_write_json_atomic_and_its_cleanup(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    rn.write_json_atomic(path, {"a": 1, "p": tmp_path})
    assert json.loads(path.read_text()) == {"a": 1, "p": str(tmp_path)}
    assert path.read_text() == json.dumps({"a": 1, "p": str(tmp_path)}, indent=1)
    assert sorted(os.listdir(tmp_path)) == ["m.json"]

    def boom(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rn.os, "replace", boom)
    with pytest.raises(OSError):
        rn.write_json_atomic(path, {"a": 2})
    assert sorted(os.listdir(tmp_path)) == ["m.json"] and json.loads(path.read_text()) == {"a": 1, "p": str(tmp_path)}


def _good_doc():
    return {"format": FORMAT, "chunks": [{"key": "k"}], "points": [{"id": "p"}], "sessions": [], "inputs": {}}


@pytest.mark.parametrize("text, why", [
    (b"\xff\xfe", "not UTF-8 text"),
    (b"{nope", "not JSON: Expecting property name enclosed in double quotes at line 1"),
    (b"[1, 2]", "a JSON list, not an object"),
    (json.dumps(_good_doc() | {"format": "other"}).encode(), f"format 'other', not {FORMAT!r}"),
    (json.dumps({k: v for k, v in _good_doc().items() if k != "chunks"}).encode(),
     "'chunks' is missing or not a list"),
    (json.dumps(_good_doc() | {"points": {}}).encode(), "'points' is missing or not a list"),
    (json.dumps(_good_doc() | {"sessions": None}).encode(), "'sessions' is missing or not a list"),
    (json.dumps(_good_doc() | {"inputs": []}).encode(), "'inputs' is missing or not a dict"),
    (json.dumps(_good_doc() | {"chunks": [{"key": 1}]}).encode(), "a chunk record is not an object with a key"),
    (json.dumps(_good_doc() | {"chunks": ["k"]}).encode(), "a chunk record is not an object with a key"),
    (json.dumps(_good_doc() | {"points": [{"id": None}]}).encode(), "a point record is not an object with an id"),
    (json.dumps(_good_doc() | {"points": [3]}).encode(), "a point record is not an object with an id"),
])
def test_read_manifest_names_the_damage(tmp_path, text, why):
    (tmp_path / rn.MANIFEST).write_bytes(text)
    with pytest.raises(DialogueError) as err:
        rn.read_manifest(tmp_path)
    path = tmp_path / rn.MANIFEST
    assert str(err.value) == (f"{path}: damaged batch manifest ({why}); delete it and rerun the same 'dialogue batch' "
                              "command with --resume to rebuild it from the verified chunks, or choose a new --out "
                              "folder")


def test_read_manifest_accepts_a_good_one_and_reports_an_unreadable_one(tmp_path):
    (tmp_path / rn.MANIFEST).write_text(json.dumps(_good_doc()))
    assert rn.read_manifest(tmp_path) == _good_doc()
    (tmp_path / rn.MANIFEST).unlink()
    (tmp_path / rn.MANIFEST).mkdir()  # a folder where the file should be: IsADirectoryError
    with pytest.raises(DialogueError, match=r"cannot read the batch manifest \(Is a directory\); check the file's "
                                            r"permissions$"):
        rn.read_manifest(tmp_path)


def test_observations_record():
    import hashlib

    class Obs:
        path, title, text = "d/obs.toml", "T", "x = 1"

        def __len__(self):
            return 3

    rec = rn.observations_record(Obs())
    assert rec == {"path": "d/obs.toml", "title": "T", "sha256": hashlib.sha256(b"x = 1").hexdigest(), "entries": 3,
                   "file": "obs.toml", "text": "x = 1",
                   "note": "every point conditioned on these by sequential Monte Carlo, one chunk per point "
                           "(docs/updating.md)"}


# ------------------------------------------------------------------ the output folder


def test_check_folder_new_empty_file_and_foreign(tmp_path, plan):
    assert rn.check_folder(tmp_path / "new", plan, False) is None
    assert rn.check_folder(tmp_path, plan, True) is None  # empty
    (tmp_path / LOCK_FILE).write_text("")
    (tmp_path / PID_FILE).write_text("1")
    assert rn.check_folder(tmp_path, plan, False) is None  # only a lock: still empty
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(DialogueError) as err:
        rn.check_folder(f, plan, False)
    assert str(err.value) == f"--out {f}: is a file; give a folder for the batch results"
    for resume in (False, True):
        with pytest.raises(DialogueError) as err:
            rn.check_folder(tmp_path, plan, resume)
        assert str(err.value) == (f"--out {tmp_path}: folder is not empty and holds no batch; choose a new or "
                                  "empty folder")


def test_check_folder_rebuilds_a_batch_whose_manifest_is_gone(tmp_path, plan):
    (tmp_path / "partials").mkdir()
    (tmp_path / rn.SUMMARY_CSV).write_text("")
    (tmp_path / ".hidden").write_text("")
    assert rn.check_folder(tmp_path, plan, True) == {}
    with pytest.raises(DialogueError, match="holds no batch"):
        rn.check_folder(tmp_path, plan, False)
    (tmp_path / "other").write_text("")
    with pytest.raises(DialogueError, match="holds no batch"):
        rn.check_folder(tmp_path, plan, True)
    (tmp_path / "other").unlink()
    (tmp_path / "partials").rmdir()
    (tmp_path / "ensembles").mkdir()  # no partials: nothing to rebuild from
    with pytest.raises(DialogueError, match="holds no batch"):
        rn.check_folder(tmp_path, plan, True)


def _write_manifest(out, **kw):
    out.mkdir(exist_ok=True)
    doc = _good_doc() | {"format_version": FORMAT_VERSION} | kw
    (out / rn.MANIFEST).write_text(json.dumps(doc))
    return doc


def test_check_folder_on_an_existing_batch(tmp_path, plan):
    chunks = [{"key": "a", "state": "done"}, {"key": "b", "state": "done"}, {"key": "c", "state": "pending"}]
    _write_manifest(tmp_path, format_version=FORMAT_VERSION - 1)
    for resume, verb in ((True, "resumed"), (False, "reused")):
        with pytest.raises(DialogueError) as err:
            rn.check_folder(tmp_path, plan, resume)
        assert str(err.value) == (f"--out {tmp_path} holds a batch in format version {FORMAT_VERSION - 1} (this "
                                  f"dialogue writes version {FORMAT_VERSION}) and cannot be {verb}; start a new --out "
                                  "folder (load_batch still opens the old one)")
    _write_manifest(tmp_path, status="complete", chunks=chunks)
    with pytest.raises(DialogueError) as err:
        rn.check_folder(tmp_path, plan, False)
    assert str(err.value) == (f"--out {tmp_path} already holds a complete batch (2 of 3 chunks); open it with "
                              f"load_batch('{tmp_path}'), or choose a new --out folder")
    _write_manifest(tmp_path, status="running", chunks=chunks)
    with pytest.raises(DialogueError) as err:
        rn.check_folder(tmp_path, plan, False)
    assert str(err.value) == (f"--out {tmp_path} already holds an unfinished batch (2 of 3 chunks done, status "
                              "running); add --resume to finish it, or choose a new folder")
    _write_manifest(tmp_path, chunks=[])
    with pytest.raises(DialogueError) as err:
        rn.check_folder(tmp_path, plan, False)
    assert "(0 of ? chunks done, status ?)" in str(err.value)
    doc = _write_manifest(tmp_path, inputs_hash=plan.inputs_hash)
    assert rn.check_folder(tmp_path, plan, True) == doc
    _write_manifest(tmp_path, inputs_hash="sha256:0", inputs={"points": []})
    with pytest.raises(DialogueError) as err:
        rn.check_folder(tmp_path, plan, True)
    assert str(err.value).startswith(f"--resume: {tmp_path} holds a batch with different inputs (")
    assert str(err.value).endswith("); rerun with the original scenarios, sweep and options, or choose a new --out "
                                   "folder")


def test_full_inputs_puts_back_each_points_scenario():
    prev = {"inputs": {"a": 1, "points": [{"id": "p", "x": 1}, {"id": "q"}]},
            "points": [{"id": "q", "scenario_toml": "Q"}, {"id": "p", "scenario_toml": "P"}]}
    assert rn._full_inputs(prev) == {"a": 1, "points": [{"id": "p", "x": 1, "scenario_toml": "P"},
                                                        {"id": "q", "scenario_toml": "Q"}]}
    assert prev["inputs"]["points"][0] == {"id": "p", "x": 1}  # not changed in place
    assert rn._full_inputs({}) == {"points": []}
    assert rn._full_inputs({"inputs": {"points": [{"id": "z"}]}}) == {"points": [{"id": "z", "scenario_toml": None}]}


def test_make_folder_and_its_errors(tmp_path, monkeypatch):
    out = tmp_path / "a" / "b"
    assert rn._missing_parents(out) == [out, tmp_path / "a"]
    assert rn._missing_parents(tmp_path) == []
    rn.make_folder(out)
    assert out.is_dir() and os.listdir(out) == []
    from pathlib import Path

    for exc, want in ((PermissionError(13, "Permission denied"), "permission denied; choose a folder you can write to"),
                      (OSError(30, "Read-only file system"), "permission denied; choose a folder you can write to"),
                      (OSError(1, "Operation not permitted"), "permission denied; choose a folder you can write to"),
                      (OSError(28, "No space left on device"),
                       "cannot create or write the folder (No space left on device)")):
        def fail(self, *a, exc=exc, **k):
            raise exc

        monkeypatch.setattr(Path, "mkdir", fail)
        with pytest.raises(DialogueError) as err:
            rn.make_folder(out)
        assert str(err.value) == f"--out {out}: {want}"


# ------------------------------------------------------------------ modes and estimates


class _Client:
    """Stands in for a dask Client where only its thread count is read."""

    def __init__(self, threads):
        self.threads = threads

    def nthreads(self):
        if self.threads is None:
            raise RuntimeError("scheduler gone")
        return {f"w{i}": n for i, n in enumerate(self.threads)}


def test_mode_and_parallelism():
    assert rn._mode(None, None, None) == "in process"
    assert rn._mode(1, None, None) == "in process"
    assert rn._mode(2, None, None) == "2 local processes"
    assert rn._mode(None, "tcp://h:1", None) == "dask cluster tcp://h:1"
    assert rn._mode(None, None, object()) == "dask cluster (client)"
    assert rn._parallelism(None, None, None) == 1
    assert rn._parallelism(3, None, None) == 3
    assert rn._parallelism(None, None, _Client([2, 3])) == 5
    assert rn._parallelism(None, None, _Client([])) == 1
    assert rn._parallelism(None, None, _Client(None)) == 1


def test_n_recorded_counts_the_engines_variables():
    from model.engine import RECORDED

    assert rn._n_recorded() == max(1, len(RECORDED))


def test_short_exception_text():
    assert rn._short(OSError("a\n  b   c")) == "OSError: a b c"
    assert rn._short(ValueError()) == "ValueError"
    assert rn._short(ValueError("x" * 200)) == "ValueError: " + "x" * 120


# ------------------------------------------------------------------ the serial run, end to end


def test_a_serial_batch_writes_every_chunk_the_manifest_and_the_summary(tmp_path, plan):
    out = tmp_path / "deep" / "out"
    seen, notes = [], []
    rep = rn.run_batch(plan, out, progress=False, options={"x": 1}, on_chunk=seen.append, notify=notes.append)
    sizes = _sizes(RUNS, SIZE)
    assert [(r.index, r.runs) for r in seen] == list(enumerate(sizes))
    assert (rep.points, rep.chunks, rep.runs_total, rep.runs_this_session, rep.chunks_this_session) == (
        1, len(sizes), RUNS, RUNS, len(sizes))
    assert rep.mode == "in process" and rep.resumed is False and rep.seconds > 0 and notes == rep.notes == []
    assert list(rep.summary["runs"]) == [RUNS] if "runs" in rep.summary else len(rep.summary) == 1
    for i in range(len(sizes)):
        assert partial_path(out, "baseline", i).is_file() and ensemble_path(out, "baseline", i).is_file()
    for name in (rn.SUMMARY_PARQUET, rn.SUMMARY_CSV, rn.EVENTS_PARQUET):
        assert (out / name).is_file()
    assert not [n for n in os.listdir(out) if n.endswith(".partial")]
    m = _manifest(out)
    assert m["status"] == "complete" and m["format"] == FORMAT and m["format_version"] == FORMAT_VERSION
    assert m["inputs_hash"] == plan.inputs_hash and m["runs_total"] == RUNS and m["chunk_size"] == SIZE
    assert m["variables"] == ["relations"] and m["compress"] is False and m["chunks_done"] == len(sizes)
    assert [(c["key"], c["index"], c["run_offset"], c["runs"], c["state"]) for c in m["chunks"]] == [
        (f"baseline/chunk-{i:06d}", i, i * SIZE, n, "done") for i, n in enumerate(sizes)]
    by_key = {r.key: r for r in seen}
    for c in m["chunks"]:
        r = by_key[c["key"]]
        assert c["seconds"] == round(r.seconds, 4) and c["worker"] == r.worker and c["files"] == r.files
        assert set(c["files"]) == {"partial", "ensemble"} and c["finished"]
    (p,) = m["points"]
    assert (p["id"], p["runs"], p["horizon"], p["chunks"], p["index"]) == ("baseline", RUNS, HORIZON, len(sizes), 0)
    assert p["seed"] == plan.points[0].seed and p["scenario_toml"] == plan.points[0].scenario.to_toml()
    assert "scenario_toml" not in m["inputs"]["points"][0]
    assert {k: v for k, v in m["inputs"].items() if k != "points"} == {
        k: v for k, v in json.loads(json.dumps(plan.inputs(), default=str)).items() if k != "points"}
    (s,) = m["sessions"]
    assert s["mode"] == "in process" and s["options"] == {"x": 1} and s["machine"] == rn.machine()
    assert m["git_commit"] == s["git_commit"] and m["machine"] == s["machine"] and m["created"] <= m["updated"]
    last = m["last_session"]
    assert (last["runs"], last["chunks"], last["mode"]) == (RUNS, len(sizes), "in process")
    assert last["seconds"] == round(rep.seconds, 3) and last["runs_per_second"] == round(RUNS / rep.seconds, 1)
    assert m["finished"] >= m["created"]
    # The summary is the one build_summary makes from the chunks on disk.
    from model.batch.summary import build_summary

    summary, events = build_summary(plan, out)
    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_parquet(out / rn.SUMMARY_PARQUET), summary)
    pd.testing.assert_frame_equal(pd.read_parquet(out / rn.EVENTS_PARQUET), events)
    assert len(pd.read_csv(out / rn.SUMMARY_CSV)) == len(summary)

    # A second run on the same folder is refused; --resume finds nothing to do.
    with pytest.raises(DialogueError, match="already holds a complete batch"):
        rn.run_batch(plan, out, progress=False)
    rep2 = rn.run_batch(plan, out, progress=True, resume=True, workers=1)
    assert (rep2.runs_this_session, rep2.chunks_this_session, rep2.resumed, rep2.notes) == (0, 0, True, [])
    m2 = _manifest(out)
    assert len(m2["sessions"]) == 2 and m2["created"] == m["created"] and m2["status"] == "complete"
    assert m2["last_session"]["runs"] == 0 and m2["last_session"]["chunks"] == 0
    assert [c["files"] for c in m2["chunks"]] == [c["files"] for c in m["chunks"]]
    assert [c["seconds"] for c in m2["chunks"]] == [c["seconds"] for c in m["chunks"]]
    assert [c["worker"] for c in m2["chunks"]] == [c["worker"] for c in m["chunks"]]
    assert [c["finished"] for c in m2["chunks"]] == [c["finished"] for c in m["chunks"]]


@pytest.fixture()
def finished(tmp_path, plan):
    out = tmp_path / "b"
    rn.run_batch(plan, out, progress=False)
    return out


def test_resume_recomputes_a_missing_and_a_damaged_chunk_only(finished, plan):
    out = finished
    sizes = _sizes(RUNS, SIZE)
    before = _manifest(out)
    partial_path(out, "baseline", 2).unlink()  # the short last chunk: half its files gone
    ens = ensemble_path(out, "baseline", 0)
    ens.write_bytes(ens.read_bytes()[:-10])  # truncated
    (out / ".manifest.json.123.partial").write_text("stale")
    notes, seen = [], []
    rep = rn.run_batch(plan, out, progress=True, resume=True, notify=notes.append, on_chunk=seen.append)
    assert [r.index for r in seen] == [0, 2]
    assert rep.runs_this_session == sizes[0] + sizes[2] and rep.chunks_this_session == 2 and rep.resumed
    assert notes[0] == ("note: chunk baseline/chunk-000000 failed verification (ensemble: size "
                        f"{before['chunks'][0]['files']['ensemble']['size'] - 10:,} bytes, recorded "
                        f"{before['chunks'][0]['files']['ensemble']['size']:,} (truncated or replaced)); "
                        "recomputing it")
    assert notes[1] == ("note: chunk baseline/chunk-000002 is recorded as done but its files are missing; "
                        "recomputing it")
    assert notes[2].startswith("batch: 2 of 3 chunks to run; estimate: ")
    assert len(notes) == 3 and rep.notes == notes
    assert not (out / ".manifest.json.123.partial").exists()
    after = _manifest(out)
    assert after["chunks"][1]["files"] == before["chunks"][1]["files"]
    assert after["chunks"][1]["finished"] == before["chunks"][1]["finished"]
    assert ({k: v["size"] for k, v in after["chunks"][0]["files"].items()}
            == {k: v["size"] for k, v in before["chunks"][0]["files"].items()})  # recomputed
    assert after["last_session"]["runs"] == sizes[0] + sizes[2] and after["last_session"]["chunks"] == 2


def test_resume_rebuilds_a_deleted_manifest_and_notes_a_new_commit(finished, plan):
    out = finished
    m = _manifest(out)
    (out / rn.MANIFEST).unlink()
    rep = rn.run_batch(plan, out, progress=False, resume=True)
    assert rep.runs_this_session == 0 and rep.resumed
    m2 = _manifest(out)
    assert [c["files"] for c in m2["chunks"]] == [c["files"] for c in m["chunks"]]
    assert len(m2["sessions"]) == 1 and m2["status"] == "complete"
    # A batch started at another commit says so on resume (when the commit is known).
    m2["git_commit"] = "0123456789abcdef0123"
    (out / rn.MANIFEST).write_text(json.dumps(m2))
    rep = rn.run_batch(plan, out, progress=False, resume=True)
    now = _manifest(out)["git_commit"]
    assert rep.notes == [f"note: resuming a batch started at git commit 0123456789ab; now at {now[:12]}"]
    for same in ("unknown", None, now):
        m3 = _manifest(out)
        m3["git_commit"] = same
        (out / rn.MANIFEST).write_text(json.dumps(m3))
        assert rn.run_batch(plan, out, progress=False, resume=True).notes == []


def test_an_interrupted_batch_is_left_resumable(tmp_path, plan):
    out = tmp_path / "b"
    sizes = _sizes(RUNS, SIZE)

    def stop_after_first(res):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rn.run_batch(plan, out, progress=False, on_chunk=stop_after_first)
    m = _manifest(out)
    assert m["status"] == "incomplete" and m["chunks_done"] == 1 and "finished" not in m
    assert [c["state"] for c in m["chunks"]] == ["done", "pending", "pending"]
    assert not (out / rn.SUMMARY_PARQUET).exists()
    assert not os.path.exists(out / LOCK_FILE) or rn.FolderLock(out).check_free() is None
    with pytest.raises(DialogueError, match=r"unfinished batch \(1 of 3 chunks done, status incomplete\)"):
        rn.run_batch(plan, out, progress=False)
    rep = rn.run_batch(plan, out, progress=False, resume=True)
    assert rep.runs_this_session == RUNS - sizes[0] and rep.chunks_this_session == len(sizes) - 1


def test_run_batch_refuses_bad_options_before_touching_anything(tmp_path, plan):
    out = tmp_path / "x"
    for kw, msg in (({"workers": 2, "scheduler": "tcp://h:1"},
                     "use either --workers (local processes) or --scheduler (a Dask cluster), not both"),
                    ({"workers": 1, "client": object()},
                     "use either --workers (local processes) or --scheduler (a Dask cluster), not both"),
                    ({"workers": 0}, "--workers must be at least 1"),
                    ({"connect_timeout": 0}, "--connect-timeout must be more than 0 seconds"),
                    ({"connect_timeout": float("nan")}, "--connect-timeout must be more than 0 seconds")):
        with pytest.raises(DialogueError) as err:
            rn.run_batch(plan, out, progress=False, **kw)
        assert str(err.value) == msg
    assert not out.exists()


def test_no_space_leaves_no_folder_behind(tmp_path, plan, monkeypatch):
    from model.batch import integrity as ig

    monkeypatch.setattr(ig, "free_space", lambda p: 10)
    out = tmp_path / "a" / "b"
    with pytest.raises(DialogueError, match="not enough free disk space|free"):
        rn.run_batch(plan, out, progress=False)
    assert os.listdir(tmp_path) == []
    rep = rn.run_batch(plan, out, progress=False, check_free_space=False)  # the check can be skipped
    assert rep.runs_this_session == RUNS


def test_a_manifest_that_cannot_be_written_is_one_line(tmp_path, plan, monkeypatch):
    out = tmp_path / "b"

    def full(path, doc):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rn, "write_json_atomic", full)
    with pytest.raises(DialogueError) as err:
        rn.run_batch(plan, out, progress=False)
    assert "manifest" in str(err.value) and "\n" not in str(err.value)
    assert not partial_path(out, "baseline", 0).exists()  # failed before any chunk ran


def test_a_manifest_failing_mid_run_and_a_summary_failing(tmp_path, plan, monkeypatch):
    calls = []
    real = rn.write_json_atomic

    def second_fails(path, doc):
        calls.append(doc["status"])
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, doc)

    monkeypatch.setattr(rn, "write_json_atomic", second_fails)
    monkeypatch.setattr(rn, "_MANIFEST_EVERY", -1.0)  # every chunk saves
    with pytest.raises(DialogueError, match="manifest"):
        rn.run_batch(plan, tmp_path / "b", progress=False)
    assert calls == ["running", "running", "incomplete"]
    assert _manifest(tmp_path / "b")["status"] == "incomplete"
    monkeypatch.setattr(rn, "write_json_atomic", real)

    def no_tables(out, summary, events):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rn, "_write_tables", no_tables)
    with pytest.raises(DialogueError, match="summary"):
        rn.run_batch(plan, tmp_path / "c", progress=False)
    assert _manifest(tmp_path / "c")["status"] == "incomplete" and _manifest(tmp_path / "c")["chunks_done"] == 3


def test_manifest_save_is_throttled_unless_forced(tmp_path, plan, monkeypatch):
    tasks = plan.chunks()
    mf = rn.Manifest(tmp_path, plan, tasks, None, "in process", None)
    assert [c["state"] for c in mf.doc["chunks"]] == ["pending"] * len(tasks)
    assert mf.doc["status"] == "running" and mf.doc["variables"] == ["relations"]
    clock = [1000.0]
    monkeypatch.setattr(rn.time, "monotonic", lambda: clock[0])
    mf.save()
    assert _manifest(tmp_path)["chunks_done"] == 0
    mf.done(ChunkResult(tasks[0].key, "baseline", 0, 2, 0.123456, "w:1", files={"f": 1}))
    clock[0] += rn._MANIFEST_EVERY - 0.01
    mf.save()
    assert _manifest(tmp_path)["chunks_done"] == 0  # too soon
    mf.save(force=True, status="x", extra=1)
    m = _manifest(tmp_path)
    assert m["chunks_done"] == 1 and m["status"] == "x" and m["extra"] == 1
    assert m["chunks"][0] | {"finished": None} == {
        "key": tasks[0].key, "point": "baseline", "index": 0, "run_offset": 0, "runs": 2, "state": "done",
        "seconds": 0.1235, "worker": "w:1", "finished": None, "files": {"f": 1}}
    mf.done(ChunkResult(tasks[1].key, "baseline", 1, 2, 0.5, "w:2"))
    clock[0] += rn._MANIFEST_EVERY
    mf.save()
    assert _manifest(tmp_path)["chunks_done"] == 2 and _manifest(tmp_path)["status"] == "x"
    mf2 = rn.Manifest(tmp_path, _plan(variables=None), tasks, None, "m", None)
    assert mf2.doc["variables"] == "all"


def test_verify_chunks_keeps_good_ones_and_deletes_the_rest(finished, plan):
    out, tasks = finished, plan.chunks()
    prev = _manifest(out)
    notes = []
    good = rn.verify_chunks(out, plan, tasks, prev, notes.append)
    assert good == {c["key"]: c["files"] for c in prev["chunks"]} and notes == []
    ensemble_path(out, "baseline", 1).unlink()  # half a chunk, not recorded as done
    prev["chunks"][1]["state"] = "pending"
    prev["chunks"][0]["files"] = "garbage"  # not a record: verified without it
    good = rn.verify_chunks(out, plan, tasks, prev, notes.append)
    assert sorted(good) == [tasks[0].key, tasks[2].key] and notes == []
    assert not partial_path(out, "baseline", 1).exists()
    partial_path(out, "baseline", 2).write_bytes(b"junk")
    good = rn.verify_chunks(out, plan, tasks, {}, notes.append)
    assert sorted(good) == [tasks[0].key] and len(notes) == 1
    assert notes[0].startswith(f"note: chunk {tasks[2].key} failed verification (")
    assert not ensemble_path(out, "baseline", 2).exists() and not partial_path(out, "baseline", 2).exists()


def test_in_process_yields_each_chunk_in_order(tmp_path, plan):
    tasks = plan.chunks()[1:]
    got = list(rn._in_process(tasks, tmp_path))
    assert [(r.key, r.runs) for r in got] == [(t.key, t.runs) for t in tasks]
    assert all(partial_path(tmp_path, t.point, t.index).is_file() for t in tasks)


def test_write_tables_is_atomic(tmp_path):
    import pandas as pd

    s, e = pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [3]})
    rn._write_tables(tmp_path, s, e)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / rn.SUMMARY_PARQUET), s)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / rn.SUMMARY_CSV), s)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / rn.EVENTS_PARQUET), e)

    class Bad:
        def to_parquet(self, p, index):
            p.write_text("half")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        rn._write_tables(tmp_path / "", s, Bad())
    assert sorted(os.listdir(tmp_path)) == sorted([rn.SUMMARY_PARQUET, rn.SUMMARY_CSV, rn.EVENTS_PARQUET])


# ------------------------------------------------------------------ the dry run


def test_plan_text_in_full(tmp_path, plan):
    out = tmp_path / "new"
    from model.batch.integrity import estimate, free_space, human_bytes

    est = estimate(plan.chunks(), plan.variables, plan.compress, 1, rn._n_recorded())
    seed = plan.points[0].seed
    want = [f"plan: 1 point, {RUNS} runs in 3 chunks of up to {SIZE} runs; in process; --out {out}",
            f"  baseline: {RUNS} runs x {HORIZON} months, seed {seed}",
            est.text() + f"; {human_bytes(free_space(out))} free there",
            "dry run: nothing was written"]
    assert rn.plan_text(plan, out).split("\n") == want
    assert not out.exists()
    est2 = estimate(plan.chunks(), plan.variables, plan.compress, 2, rn._n_recorded())
    assert rn.plan_text(plan, out, scheduler="tcp://h:1").split("\n")[2].startswith(est2.text())
    assert "; dask cluster tcp://h:1;" in rn.plan_text(plan, out, scheduler="tcp://h:1")
    est3 = estimate(plan.chunks(), plan.variables, plan.compress, 3, rn._n_recorded())
    assert rn.plan_text(plan, out, workers=3).split("\n")[2].startswith(est3.text())


def test_plan_text_when_resuming_counts_the_chunks_on_disk(finished, plan):
    out = finished
    partial_path(out, "baseline", 1).unlink()
    m = _manifest(out)
    m["status"] = "incomplete"
    (out / rn.MANIFEST).write_text(json.dumps(m))
    from model.batch.integrity import estimate

    todo = [plan.chunks()[1]]
    est = estimate(todo, plan.variables, plan.compress, 1, rn._n_recorded())
    lines = rn.plan_text(plan, out, resume=True).split("\n")
    assert lines[0].endswith(f"--out {out} (resuming: 2 chunks on disk, to be verified)")
    assert lines[2].startswith(est.text())
    assert ensemble_path(out, "baseline", 1).exists()  # a dry run deletes nothing


def test_plan_text_lists_twenty_points_then_counts_the_rest(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('scenario = "baseline"\nruns = 1\n[params.repression]\n'
                     f"values = [{', '.join(str(0.01 * (i + 1)) for i in range(22))}]\n")
    try:
        plan = build_plan([str(sweep)], runs=1, horizon=2, chunk_size=1, variables=())
    except DialogueError as exc:
        pytest.skip(f"sweep format: {exc}")
    lines = rn.plan_text(plan, tmp_path / "o").split("\n")
    n = len(plan.points)
    assert lines[0].startswith(f"plan: {n} points, {n:,} runs in {n} chunks of up to 1 runs;")
    body = [ln for ln in lines if ln.startswith("  ")]
    assert len(body) == 21 and body[-1] == f"  ... {n - 20} more points"
    p = plan.points[0]
    vals = ", ".join(f"{k} = {v:.6g}" for k, v in p.values.items())
    assert body[0] == f"  {p.id}: 1 runs x 2 months, seed {p.seed}; {vals}"


def test_plan_text_of_a_design_point(tmp_path):
    import pandas as pd

    from model.batch.design_file import load_design  # noqa: F401 - the design path must exist

    cols = ["repression", "param_syria_divergence"]
    design = pd.DataFrame({cols[0]: [0.1, 0.2, 0.3], cols[1]: [0.3, 0.4, 0.5]})
    try:
        plan = build_plan(["baseline"], horizon=2, chunk_size=2, variables=(), design=design)
    except DialogueError as exc:
        pytest.skip(f"design format: {exc}")
    p = plan.points[0]
    line = [ln for ln in rn.plan_text(plan, tmp_path / "o").split("\n") if ln.startswith(f"  {p.id}:")][0]
    label = p.design_info.get("name") or p.design_info.get("source")
    assert line == (f"  {p.id}: 3 runs x 2 months, seed {p.seed}; design {label}, one run per row, varying "
                    f"{', '.join(list(p.design)[:5])}")
    assert list(p.design) == ["repression", "syria_divergence"]


# ------------------------------------------------------------------ signals, progress, scheduler


def test_sigterm_unwinds_like_ctrl_c_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(rn.Terminated) as err, rn._sigterm_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is rn._raise_terminated
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    assert isinstance(err.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) is before
    seen = []

    def off_main():
        with rn._sigterm_as_interrupt():
            seen.append(signal.getsignal(signal.SIGTERM))

    t = threading.Thread(target=off_main)
    t.start()
    t.join()
    assert seen == [before]


def test_progress_counts_runs(capsys):
    bar = rn._Progress(10, 4, True)
    bar.advance(3)
    task = bar.p.tasks[0]
    assert (task.total, task.completed, bar.runs) == (10, 7, 3)
    assert task.fields["rate"].endswith(" runs/s")
    bar.close()
    off = rn._Progress(10, 0, False)
    off.advance(3)
    off.close()
    assert not hasattr(off, "p")


def _silent_server():
    """A TCP port that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    return srv


def test_a_scheduler_that_never_answers_times_out_in_one_line():
    pytest.importorskip("distributed")
    srv = _silent_server()
    try:
        addr = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
        with pytest.raises(DialogueError) as err:
            rn.connect_scheduler(addr, 0.3)
        assert str(err.value) == (f"--scheduler {addr}: no answer within 0.3 s; check the address and that "
                                  "'dask scheduler' runs there, or allow longer with --connect-timeout SECONDS")
    finally:
        srv.close()


def test_a_closed_port_is_refused_in_one_line():
    pytest.importorskip("distributed")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    addr = f"tcp://127.0.0.1:{port}"
    with pytest.raises(DialogueError) as err:
        rn.connect_scheduler(addr, 0.5)
    msg = str(err.value)
    assert msg.startswith(f"--scheduler {addr}: ") and "; check the address and that 'dask scheduler' runs there" in msg
    assert "\n" not in msg


def test_a_server_that_is_not_a_scheduler_is_named():
    pytest.importorskip("distributed")
    from distributed.comm import listen

    async def main():
        async def handler(comm):
            await comm.read()
            await comm.write({"type": "Worker"})

        listener = listen("tcp://127.0.0.1:0", handler)
        await listener.start()
        addr = listener.contact_address
        try:
            return addr, await asyncio.to_thread(_try, addr)
        finally:
            listener.stop()

    def _try(addr):
        try:
            rn.connect_scheduler(addr, 2.0)
        except DialogueError as exc:
            return str(exc)
        return None

    addr, msg = asyncio.run(main())
    assert msg == (f"--scheduler {addr}: the server there is not a Dask scheduler; check the address and that "
                   "'dask scheduler' runs there")


def _sleep(seconds):
    time.sleep(seconds)


def _ignore_term_and_sleep(seconds):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(seconds)


def test_stop_workers_terminates_then_kills_what_is_left(monkeypatch):
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    polite, stubborn = ctx.Process(target=_sleep, args=(30,)), ctx.Process(target=_ignore_term_and_sleep, args=(30,))
    for p in (polite, stubborn):
        p.start()
    time.sleep(0.2)  # let the stubborn one install its handler

    class Pool:
        _processes = {1: polite, 2: stubborn}

    joins = []
    real_join = mp.process.BaseProcess.join

    def short_join(self, timeout=None):
        joins.append(timeout)
        return real_join(self, min(timeout, 0.5) if timeout else timeout)

    monkeypatch.setattr(mp.process.BaseProcess, "join", short_join)
    try:
        rn._stop_workers(Pool())
        assert joins == [5, 5]
        polite.join(5)
        stubborn.join(5)
        assert polite.exitcode == -signal.SIGTERM and stubborn.exitcode == -signal.SIGKILL
    finally:
        for p in (polite, stubborn):
            if p.is_alive():
                p.kill()
                p.join()
    rn._stop_workers(object())  # a pool without processes: nothing to do

    class Gone:
        def terminate(self):
            raise ValueError("closed")

        def join(self, t):
            raise AssertionError("not started")

    class Pool2:
        _processes = {1: Gone()}

    rn._stop_workers(Pool2())


def test_a_batch_on_an_in_process_dask_cluster_matches_the_serial_one(finished, plan, tmp_path):
    """Dask workers as threads of this process: the coordinator writes every chunk itself."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        with rn.connect_scheduler(lc.scheduler_address, 5.0) as client:
            seen = []
            rep = rn.run_batch(plan, tmp_path / "d", client=client, progress=False, on_chunk=seen.append)
    assert rep.mode == "dask cluster (client)" and rep.runs_this_session == RUNS
    assert sorted((r.index, r.runs) for r in seen) == list(enumerate(_sizes(RUNS, SIZE)))
    assert all(r.dataset is None and r.partial is None and r.files for r in seen)
    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "d" / rn.SUMMARY_PARQUET),
                                  pd.read_parquet(finished / rn.SUMMARY_PARQUET))
    m = _manifest(tmp_path / "d")
    assert [c["files"]["partial"]["size"] for c in m["chunks"]] == [
        c["files"]["partial"]["size"] for c in _manifest(finished)["chunks"]]


# ------------------------------------------------------------------ gaps found by the campaign


def test_plan_text_wording_chunks_and_compression(tmp_path, monkeypatch):
    from model.batch.integrity import estimate

    one = _plan(runs=2)  # one chunk
    assert f"{2} runs in 1 chunk of up to {SIZE} runs;" in rn.plan_text(one, tmp_path / "o")
    two = _plan(runs=4)
    assert "4 runs in 2 chunks of up to" in rn.plan_text(two, tmp_path / "o")
    packed = _plan(compress=True)
    est = estimate(packed.chunks(), packed.variables, True, 1, rn._n_recorded())
    assert rn.plan_text(packed, tmp_path / "o").split("\n")[2].startswith(est.text() + ";")
    first = rn.plan_text(_plan(), tmp_path / "o", workers=1).split("\n")[0]
    assert first.endswith(f"; in process; --out {tmp_path / 'o'}")

    def no_statvfs(path):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(rn, "free_space", no_statvfs)
    lines = rn.plan_text(_plan(), tmp_path / "o").split("\n")
    assert lines[2] == estimate(_plan().chunks(), ("relations",), False, 1, rn._n_recorded()).text()


def test_a_dry_run_without_resume_refuses_an_unfinished_batch(tmp_path):
    def stop(res):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rn.run_batch(_plan(), tmp_path / "b", progress=False, on_chunk=stop)
    with pytest.raises(DialogueError, match="add --resume to finish it"):
        rn.plan_text(_plan(), tmp_path / "b")
    assert "(resuming: 1 chunks on disk, to be verified)" in rn.plan_text(_plan(), tmp_path / "b", resume=True)


def _sweep_plan(tmp_path, n, params=("repression",)):
    sweep = tmp_path / f"s{n}-{len(params)}.toml"
    body = "".join(f"[params.{p}]\nvalues = [{', '.join(str(round(0.02 * (i + 1), 2)) for i in range(n))}]\n"
                   for p in params[:1])
    body += "".join(f"[params.{p}]\nvalues = [0.1]\n" for p in params[1:])
    sweep.write_text('scenario = "baseline"\nruns = 1\n' + body)
    return build_plan([str(sweep)], runs=1, horizon=2, chunk_size=1, variables=())


def test_plan_text_lists_exactly_twenty_points_and_joins_values(tmp_path):
    plan = _sweep_plan(tmp_path, 20)
    lines = rn.plan_text(plan, tmp_path / "o").split("\n")
    assert len([ln for ln in lines if ln.startswith("  ")]) == 20 and "more points" not in "\n".join(lines)
    plan = _sweep_plan(tmp_path, 21)
    assert rn.plan_text(plan, tmp_path / "o").split("\n")[-3] == "  ... 1 more points"
    plan = _sweep_plan(tmp_path, 2, ("repression", "trade_growth"))
    p = plan.points[0]
    assert len(p.values) == 2
    want = ", ".join(f"{k} = {v:.6g}" for k, v in p.values.items())
    assert rn.plan_text(plan, tmp_path / "o").split("\n")[1] == f"  {p.id}: 1 runs x 2 months, seed {p.seed}; {want}"


def test_plan_text_of_wide_designs_and_a_named_one(tmp_path):
    import pandas as pd

    from model.params import registry

    specs = registry()
    names = list(specs)[:6]
    for k in (5, 6):
        cols = names[:k]
        table = pd.DataFrame({c: [specs[c].default] * 2 for c in cols})
        plan = build_plan(["baseline"], horizon=2, chunk_size=2, variables=(), design=table)
        p = plan.points[0]
        line = rn.plan_text(plan, tmp_path / "o").split("\n")[1]
        assert line.endswith(f"varying {', '.join(list(p.design)[:5])}{' ...' if k == 6 else ''}")
        p.design_info["name"] = "my-design"
        assert "; design my-design, one run per row" in rn.plan_text(plan, tmp_path / "o")


def test_plan_text_of_a_conditioned_batch(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "scenarios" / "observations" / "example-2013.toml"
    if not example.is_file():
        pytest.skip("no example observations")
    plan = build_plan(["baseline"], runs=4, horizon=60, observed=example)
    obs = plan.observations
    lines = rn.plan_text(plan, tmp_path / "o").split("\n")
    assert " runs in 1 chunk of a whole point each; in process;" in lines[0]
    assert lines[1] == (f"  conditioned on {len(obs)} observation{'s' * (len(obs) != 1)} ({obs.path}); each point "
                        "runs as one chunk (sequential Monte Carlo weighs its whole ensemble at once)")


def test_a_resumed_batch_notes_the_commit_it_started_at(tmp_path, monkeypatch):
    import model.results

    out = tmp_path / "b"
    monkeypatch.setattr(model.results, "git_commit", lambda: "unknown")
    rn.run_batch(_plan(), out, progress=False)
    monkeypatch.setattr(model.results, "git_commit", lambda: "fedcba9876543210fedc")
    assert rn.run_batch(_plan(), out, progress=False, resume=True).notes == []  # started at an unknown commit
    m = _manifest(out)
    m["git_commit"] = "0123456789abcdef0123"
    (out / rn.MANIFEST).write_text(json.dumps(m))
    assert rn.run_batch(_plan(), out, progress=False, resume=True).notes == [
        "note: resuming a batch started at git commit 0123456789ab; now at fedcba987654"]


def test_disk_errors_name_the_file_that_could_not_be_written(tmp_path, monkeypatch):
    from model.batch.chunks import disk_error

    exc = OSError(28, "No space left on device")

    def full(path, doc):
        raise exc

    monkeypatch.setattr(rn, "write_json_atomic", full)
    with pytest.raises(DialogueError) as err:
        rn.run_batch(_plan(), tmp_path / "a", progress=False)
    assert str(err.value) == str(disk_error(tmp_path / "a", "manifest", exc))
    monkeypatch.undo()

    def no_tables(out, summary, events):
        raise exc

    monkeypatch.setattr(rn, "_write_tables", no_tables)
    with pytest.raises(DialogueError) as err:
        rn.run_batch(_plan(), tmp_path / "c", progress=False)
    assert str(err.value) == str(disk_error(tmp_path / "c", "summary", exc))
    monkeypatch.undo()
    real, calls = rn.write_json_atomic, []

    def second_fails(path, doc):
        calls.append(1)
        if len(calls) == 2:
            raise exc
        real(path, doc)

    monkeypatch.setattr(rn, "write_json_atomic", second_fails)
    monkeypatch.setattr(rn, "_MANIFEST_EVERY", -1.0)
    with pytest.raises(DialogueError) as err:
        rn.run_batch(_plan(), tmp_path / "d", progress=False)
    assert str(err.value) == str(disk_error(tmp_path / "d", "manifest", exc))


def test_serial_chunks_run_in_this_process_and_the_clock_is_the_runs(tmp_path, monkeypatch):
    bars = []

    class Bar(rn._Progress):
        def __init__(self, total_runs, already, enabled):
            bars.append((total_runs, already, enabled))
            super().__init__(total_runs, already, False)

    monkeypatch.setattr(rn, "_Progress", Bar)
    seen = []
    t0 = time.perf_counter()
    rep = rn.run_batch(_plan(), tmp_path / "b", progress=True, workers=1, on_chunk=seen.append)
    elapsed = time.perf_counter() - t0
    assert 0 < rep.seconds <= elapsed
    assert all(r.worker.endswith(f":{os.getpid()}") for r in seen)  # no worker process
    assert bars == [(RUNS, 0, True)]
    partial_path(tmp_path / "b", "baseline", 1).unlink()
    rn.run_batch(_plan(), tmp_path / "b", progress=True, resume=True)
    assert bars[-1] == (RUNS, RUNS - SIZE, True)
    rn.run_batch(_plan(), tmp_path / "b", progress=True, resume=True)
    assert bars[-1] == (RUNS, RUNS, False)  # nothing to run: no bar
    rn.run_batch(_plan(), tmp_path / "c", progress=False)
    assert bars[-1] == (RUNS, 0, False)


def test_tables_are_written_without_their_index_and_a_failure_is_the_original_error(tmp_path):
    import pandas as pd

    s, e = pd.DataFrame({"a": [1, 2]}, index=[5, 7]), pd.DataFrame({"b": [3]}, index=[9])
    rn._write_tables(tmp_path, s, e)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / rn.SUMMARY_PARQUET), s.reset_index(drop=True))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / rn.SUMMARY_CSV), s.reset_index(drop=True))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / rn.EVENTS_PARQUET), e.reset_index(drop=True))

    class Bad:
        def to_parquet(self, p, index):
            raise OSError(28, "No space left on device")  # before the temporary exists

    with pytest.raises(OSError) as err:
        rn._write_tables(tmp_path, s, Bad())
    assert err.value.errno == 28


def test_verify_a_summaries_only_chunk_that_fails(tmp_path):
    plan = _plan(variables=())
    out = tmp_path / "b"
    rn.run_batch(plan, out, progress=False)
    assert not ensemble_path(out, "baseline", 0).exists()
    partial_path(out, "baseline", 0).write_bytes(b"junk")
    notes = []
    good = rn.verify_chunks(out, plan, plan.chunks(), _manifest(out), notes.append)
    assert sorted(good) == [t.key for t in plan.chunks()[1:]] and len(notes) == 1
    assert not partial_path(out, "baseline", 0).exists()


def test_the_resume_estimate_counts_only_chunks_not_on_disk(finished, plan):
    from model.batch.integrity import estimate

    out, tasks = finished, plan.chunks()
    partial_path(out, "baseline", 2).unlink()
    notes = []
    rn.run_batch(plan, out, progress=True, resume=True, notify=notes.append, connect_timeout=0.5)
    est = estimate([tasks[2]], plan.variables, plan.compress, 1, rn._n_recorded())
    assert notes[-1] == f"batch: 1 of 3 chunks to run; {est.text()}"


def test_progress_bar_columns_and_rate(tmp_path, capsys, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(rn.time, "perf_counter", lambda: clock[0])
    bar = rn._Progress(10, 1, True)
    clock[0] = 100.5
    bar.advance(2)
    bar.advance(4)
    assert bar.runs == 6 and bar.p.tasks[0].completed == 7
    assert bar.p.tasks[0].fields["rate"] == "12 runs/s"  # 6 runs in half a second
    assert bar.p.tasks[0].description == "batch"
    bar.close()
    cap = capsys.readouterr()
    assert cap.out == ""
    import re

    assert re.search(r"batch [━ ]+ 7/10 runs 12 runs/s \d:\d\d:\d\d ETA (\d:\d\d:\d\d|-:--:--)", cap.err), cap.err
    fresh = rn._Progress(3, 0, True)
    assert fresh.p.tasks[0].fields["rate"] == ""
    fresh.close()
    capsys.readouterr()


def test_report_text_when_nothing_was_left(tmp_path):
    r = _report(tmp_path, runs_this_session=0, chunks_this_session=0, runs_total=5)
    assert r.text().split("\n")[0] == ("Batch complete: 1 point, 0 runs in 0 chunks this session (5 in all), 2.0 s, "
                                       "nothing left to run (in process).")


def test_a_batch_on_a_scheduler_address_connects_and_closes_its_client(finished, plan, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        rep = rn.run_batch(plan, tmp_path / "d", scheduler=lc.scheduler_address, progress=False, connect_timeout=0.9)
        assert rep.mode == f"dask cluster {lc.scheduler_address}" and rep.runs_this_session == RUNS
        assert len(lc.scheduler.clients) <= 1  # our client is gone (the scheduler may keep its own)
        with rn.connect_scheduler(lc.scheduler_address, 5.0) as client:
            assert client.scheduler.address == lc.scheduler_address
            with pytest.raises(ValueError):  # not made the default client
                distributed.default_client()


def test_the_identity_probe_asks_for_identity():
    pytest.importorskip("distributed")
    from distributed.comm import listen

    asked = []

    async def main():
        async def handler(comm):
            msg = await comm.read()
            asked.append(msg)
            if msg == {"op": "identity", "reply": True}:
                await comm.write({"type": "Worker"})
            else:
                comm.abort()

        listener = listen("tcp://127.0.0.1:0", handler)
        await listener.start()
        addr = listener.contact_address
        try:
            return addr, await asyncio.to_thread(_try, addr)
        finally:
            listener.stop()

    def _try(addr):
        try:
            rn.connect_scheduler(addr, 2.0)
        except DialogueError as exc:
            return str(exc)
        return None

    addr, msg = asyncio.run(main())
    assert asked == [{"op": "identity", "reply": True}]
    assert msg.endswith("the server there is not a Dask scheduler; check the address and that 'dask scheduler' "
                        "runs there")


def test_the_manifest_documents_keys_and_records(tmp_path):
    import pandas as pd

    from model.batch.plan import design_digest

    plan = _plan()
    prev = {"created": "2020-01-01T00:00:00+00:00", "sessions": [{"old": 1}], "chunks": []}
    mf = rn.Manifest(tmp_path, plan, plan.chunks(), prev, "in process", None)
    assert list(mf.doc) == ["format", "format_version", "status", "created", "updated", "version", "git_commit",
                            "machine", "inputs_hash", "runs_total", "chunk_size", "variables", "compress", "sweeps",
                            "points", "chunks", "sessions", "inputs"]
    assert mf.doc["created"] == prev["created"] and mf.doc["sweeps"] == plan.sweeps and mf.last == 0.0
    assert mf.doc["sessions"][0] == {"old": 1} and list(mf.doc["sessions"][1]) == [
        "started", "mode", "options", "version", "git_commit", "machine"]
    assert list(mf.doc["points"][0]) == ["id", "index", "scenario", "sweep", "values", "runs", "seed", "horizon",
                                         "chunks", "scenario_toml"]
    p = plan.points[0]
    assert [mf.doc["points"][0][k] for k in ("scenario", "sweep", "values")] == [p.base, p.sweep, p.values]
    assert "points" in mf.doc["inputs"] and all("scenario_toml" not in q for q in mf.doc["inputs"]["points"])
    mf.save(force=True)
    assert "updated" in _manifest(tmp_path) and "UPDATED" not in _manifest(tmp_path)
    table = pd.DataFrame({"repression": [0.2, 0.4]})
    dplan = build_plan(["baseline"], horizon=2, chunk_size=2, variables=(), design=table)
    dp = dplan.points[0]
    doc = rn.Manifest(tmp_path, dplan, dplan.chunks(), None, "m", None).doc
    assert doc["points"][0]["design"] == dp.design_info | design_digest(dp.design)
    assert "observations" not in doc
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "scenarios" / "observations" / "example-2013.toml"
    oplan = build_plan(["baseline"], runs=4, horizon=60, observed=example)
    doc = rn.Manifest(tmp_path, oplan, oplan.chunks(), None, "m", None).doc
    assert doc["observations"] == rn.observations_record(oplan.observations)
