"""Batch runs: identical results in process, on local processes and on a real Dask
cluster; kill and resume; summaries equal to the full-ensemble analysis; bad input."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import load_scenario, simulate, summarize
from model.agents.relations import DRIVERS
from model.analysis import event_flags, prob_with_se
from model.batch import build_plan, load_batch, run_batch, summary_columns
from model.cli import main
from model.errors import DialogueError
from model.params import registry
from model.results import OUTCOMES

SCENARIOS = ["baseline", "crackdown"]
RUNS, HORIZON, CHUNK = 300, 24, 150
ARGS = [*SCENARIOS, "--runs", str(RUNS), "--horizon", str(HORIZON), "-q"]


def batch_cli(out, *extra) -> int:
    return main(["batch", *ARGS, "--chunk-size", str(CHUNK), "--out", str(out), *extra])


def assert_same_batch(ref: dict, b: Path) -> None:
    """Same summary table (exactly) and bit-identical stored ensembles."""
    bb = load_batch(b)
    pd.testing.assert_frame_equal(ref["summary"], bb.summary, check_exact=True)
    pd.testing.assert_frame_equal(ref["events"], bb.events_by_month, check_exact=True)
    assert bb.points == list(ref["ens"])
    for point, da in ref["ens"].items():
        db = bb.open(point).load()
        assert set(da.data_vars) == set(db.data_vars)
        assert np.array_equal(da["run"].values, db["run"].values)
        for v in da.data_vars:
            assert np.array_equal(da[v].values, db[v].values), (point, v)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A clean in-process batch: 2 scenarios x 300 runs x 24 months, 2 chunks each."""
    out = tmp_path_factory.mktemp("ref") / "batch"
    assert batch_cli(out) == 0
    return out


@pytest.fixture(scope="module")
def ref(reference) -> dict:
    """The reference batch loaded once: summary, monthly events, ensembles in memory."""
    b = load_batch(reference)
    return {"summary": b.summary, "events": b.events_by_month, "ens": {p: b.open(p).load() for p in b.points}}


# ------------------------------------------------------------------ results


def test_ensembles_equal_direct_simulation_and_open_lazily(reference, ref):
    b = load_batch(reference)
    assert b.points == SCENARIOS
    assert [c["state"] for c in b.manifest["chunks"]] == ["done"] * 4
    lazy = b.open(1)
    assert lazy["relations"].chunks is not None  # dask-backed: nothing loaded yet
    assert lazy.sizes == {"run": RUNS, "time": HORIZON, "param": len(registry()), "driver": len(DRIVERS)}
    assert lazy.attrs["batch_point"] == "crackdown"
    for name in SCENARIOS:
        ds = ref["ens"][name]
        direct = simulate(load_scenario(name), runs=RUNS, horizon=HORIZON)
        # The old per-name variables, plus the stacked forms the chunk files hold.
        assert set(ds.data_vars) == set(direct.data_vars) | {"params", "contrib"}
        for v in direct.data_vars:
            assert np.array_equal(ds[v].values, direct[v].values), v
            assert ds[v].dtype == direct[v].dtype or v == "outcome", v
            assert ds[v].attrs == direct[v].attrs, v
        assert np.array_equal(ds.params.sel(param="repression").values, direct["param_repression"].values)
        assert np.array_equal(ds.contrib.sel(driver="syria_divergence").values,
                              direct["contrib_syria_divergence"].values)


def test_summary_equals_analysis_of_the_full_ensemble(reference, ref):
    b = load_batch(reference)
    for _, row in b.summary.iterrows():
        ds = ref["ens"][row["point"]]
        s = summarize(ds)
        for k in OUTCOMES:
            assert (row[f"outcome_{k}_p"], row[f"outcome_{k}_se"]) == s.outcomes[k]
        flags = event_flags(ds)
        for name, slug in (("dialogue suspended", "dialogue_suspended"), ("diplomats expelled", "diplomats_expelled"),
                           ("sanctions", "sanctions"), ("major incident on UK soil", "major_incident")):
            assert (row[f"event_{slug}_p"], row[f"event_{slug}_se"]) == prob_with_se(flags[name].isel(time=-1))
            assert row[f"event_{slug}_p"] == s.events[name][0]
        rel = ds["relations"].isel(time=-1).values
        exp_ = ds["exports_gbp_m"].isel(time=-1).values.astype(np.float64)
        assert row["relations_q50"] == s.relations_median
        assert (row["relations_q10"], row["relations_q90"]) == (s.relations_p10, s.relations_p90)
        assert (row["exports_q10"], row["exports_q50"], row["exports_q90"]) == (
            s.exports_p10, s.exports_median, s.exports_p90)
        assert row["relations_q25"] == np.quantile(rel, 0.25)
        assert row["exports_q95"] == np.quantile(exp_, 0.95)
        assert row["relations_mean"] == pytest.approx(rel.mean(), abs=1e-12)
        for band, share in s.bands.items():
            assert row[f"band_{band}"] == share
        for d, v in s.drivers.items():
            assert row[f"driver_{d}"] == pytest.approx(v, rel=1e-12, abs=1e-12)
        assert row["runs"] == RUNS and row["horizon"] == s.horizon
    # The monthly event table ends at the horizon probabilities.
    ev = b.events_by_month
    last = ev[ev["point"] == "crackdown"].iloc[-1]
    assert last["sanctions"] == b.summary.set_index("point").loc["crackdown", "event_sanctions_p"]
    # CSV and Parquet hold the same table.
    csv = pd.read_csv(reference / "summary.csv", keep_default_na=False)
    assert list(csv.columns) == list(b.summary.columns)
    assert np.allclose(csv["outcome_rupture_p"], b.summary["outcome_rupture_p"], rtol=1e-15, atol=0)


def test_manifest_records_inputs_and_machine(reference):
    m = json.loads((reference / "manifest.json").read_text())
    assert m["status"] == "complete" and m["chunks_done"] == 4
    assert m["inputs_hash"].startswith("sha256:")
    assert m["machine"]["cpu_count"] == os.cpu_count()
    from model import __version__
    from model.results import git_commit

    assert m["version"] == __version__ and m["git_commit"] == git_commit()
    p0 = m["points"][0]
    assert load_scenario("baseline").with_overrides({"run.runs": RUNS, "run.horizon": HORIZON}).to_toml() \
        == p0["scenario_toml"]
    assert [(c["run_offset"], c["runs"]) for c in m["chunks"][:2]] == [(0, 150), (150, 150)]
    assert all(c["seconds"] > 0 for c in m["chunks"])


# ------------------------------------------------------------------ execution


def test_local_processes_and_dask_cluster_give_identical_results(ref, tmp_path):
    distributed = pytest.importorskip("distributed")
    assert batch_cli(tmp_path / "w2", "--workers", "2") == 0
    assert_same_batch(ref, tmp_path / "w2")
    assert "2 local processes" in load_batch(tmp_path / "w2").manifest["sessions"][-1]["mode"]

    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert batch_cli(tmp_path / "dask", "--scheduler", cluster.scheduler_address) == 0
    assert_same_batch(ref, tmp_path / "dask")
    m = load_batch(tmp_path / "dask").manifest
    assert len({c["worker"] for c in m["chunks"]}) >= 1
    assert m["sessions"][-1]["mode"].startswith("dask cluster tcp://127.0.0.1")


def test_kill_mid_run_then_resume_equals_clean_run(ref, tmp_path):
    """SIGKILL a real batch process after some chunks, resume, compare. A different
    chunk size from the reference also shows results do not depend on chunking."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "model.cli", "batch", *ARGS, "--chunk-size", "100", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = 2 * RUNS // 100
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            done = list(out.glob("partials/*/chunk-*.npz"))
            if done or proc.poll() is not None:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the batch finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = len(list(out.glob("partials/*/chunk-*.npz")))
    assert 1 <= done_before < total
    assert not (out / "summary.parquet").exists()
    with pytest.raises(DialogueError, match="not finished"):
        load_batch(out)
    assert load_batch(out, allow_incomplete=True).manifest["status"] == "running"

    finished = []
    plan = build_plan(SCENARIOS, runs=RUNS, horizon=HORIZON, chunk_size=100)
    rep = run_batch(plan, out, resume=True, progress=False, on_chunk=lambda r: finished.append(r.key))
    assert rep.chunks_this_session == total - done_before == len(finished), (rep, done_before, finished)
    assert not list(out.glob("**/.*.partial"))
    assert_same_batch(ref, out)
    # Resuming a finished batch runs nothing and changes nothing.
    again = run_batch(plan, out, resume=True, progress=False)
    assert again.chunks_this_session == 0
    pd.testing.assert_frame_equal(load_batch(out).summary, ref["summary"], check_exact=True)


def test_progress_bar_on_stderr_and_report_on_stdout(tmp_path, capsys):
    assert main(["batch", "baseline", "--runs", "40", "--horizon", "6", "--chunk-size", "20",
                 "--variables", "none", "--out", str(tmp_path / "b")]) == 0
    cap = capsys.readouterr()
    assert "batch" in cap.err and "40/40" in cap.err
    assert "Batch complete: 1 point, 40 runs in 2 chunks" in cap.out and "runs/s" in cap.out
    assert str(tmp_path / "b") in cap.out
    b = load_batch(tmp_path / "b")
    assert b.summary.loc[0, "ensemble"] == "" and not (tmp_path / "b" / "ensembles").exists()
    with pytest.raises(DialogueError, match="kept no ensembles"):
        b.open("baseline")


def test_variables_subset_keeps_parameters_and_outcome(tmp_path):
    plan = build_plan(["baseline"], runs=50, horizon=6, chunk_size=50, variables=("relations", "sanctions"))
    run_batch(plan, tmp_path / "v", progress=False)
    ds = load_batch(tmp_path / "v").open("baseline")
    timevars = sorted(v for v in ds.data_vars if "time" in ds[v].dims)
    assert timevars == ["relations", "sanctions"]
    assert "outcome" in ds and "param_repression" in ds
    direct = simulate(load_scenario("baseline"), runs=50, horizon=6)
    assert np.array_equal(ds["relations"].values, direct["relations"].values)


# ------------------------------------------------------------------ sweeps end to end


def test_sweep_points_equal_scenario_with_overrides(tmp_path):
    sweep = tmp_path / "grid.toml"
    sweep.write_text('name = "g"\nscenario = "baseline"\nruns = 60\nhorizon = 12\n'
                     '[params.repression]\nvalues = [0.3, 0.9]\n'
                     '[params.trade_growth]\nlow = 0.0\nhigh = 0.2\nsteps = 2\n')
    assert main(["batch", "--sweep", str(sweep), "--out", str(tmp_path / "s"), "--variables", "none", "-q"]) == 0
    s = load_batch(tmp_path / "s").summary
    assert list(s["point"]) == ["g-0000", "g-0001", "g-0002", "g-0003"]
    assert list(zip(s["param_repression"], s["param_trade_growth"], strict=True)) == [
        (0.3, 0.0), (0.3, 0.2), (0.9, 0.0), (0.9, 0.2)]
    assert set(s["sweep"]) == {"g"} and set(s["scenario"]) == {"baseline"}
    assert list(s.columns) == summary_columns(["repression", "trade_growth"])  # the documented schema
    ds = simulate(load_scenario("baseline", overrides={"repression": 0.9, "trade_growth": 0.2}), runs=60, horizon=12)
    direct = summarize(ds)
    row = s.iloc[3]
    for k in OUTCOMES:
        assert row[f"outcome_{k}_p"] == direct.outcomes[k][0]
    assert row["relations_q50"] == direct.relations_median


# ------------------------------------------------------------------ bad input


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_new_run_into_a_folder_holding_a_batch_is_refused(reference, capsys):
    before = (reference / "summary.parquet").read_bytes()
    msg = _one_line_error(capsys, ["batch", *ARGS, "--out", str(reference)])
    assert "already holds a complete batch (4 of 4 chunks)" in msg and "load_batch" in msg
    assert "--resume to finish" not in msg  # it is finished
    assert (reference / "summary.parquet").read_bytes() == before


def test_resume_with_different_inputs_is_refused(reference, capsys):
    msg = _one_line_error(capsys, ["batch", *SCENARIOS, "--runs", "400", "--horizon", str(HORIZON),
                                   "--chunk-size", str(CHUNK), "--out", str(reference), "--resume", "-q"])
    assert "different inputs" in msg and "--runs for baseline was 300, now 400" in msg
    msg = _one_line_error(capsys, ["batch", "baseline", "--runs", str(RUNS), "--horizon", str(HORIZON),
                                   "--chunk-size", str(CHUNK), "--out", str(reference), "--resume", "-q"])
    assert "missing crackdown" in msg
    assert load_batch(reference).manifest["status"] == "complete"


def test_non_batch_folder_and_file_are_refused(tmp_path, capsys):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    msg = _one_line_error(capsys, ["batch", "baseline", "--out", str(tmp_path / "other")])
    assert "not empty and holds no batch" in msg
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    (tmp_path / "f").write_text("")
    assert "is a file" in _one_line_error(capsys, ["batch", "baseline", "--out", str(tmp_path / "f")])


def test_unwritable_folder(tmp_path, capsys):
    if os.geteuid() == 0:
        target = Path("/sys/dialogue-batch-test")  # read-only even for root
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "batch"
    msg = _one_line_error(capsys, ["batch", "baseline", "--runs", "10", "--out", str(target)])
    assert "permission denied" in msg and str(target) in msg


def test_full_disk_keeps_finished_chunks_and_resumes(tmp_path, monkeypatch, capsys):
    from model.batch import chunks

    real = chunks._write_bytes
    calls = {"n": 0}

    def failing(data, path):
        calls["n"] += ".nc." in path.name
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(data, path)

    monkeypatch.setattr(chunks, "_write_bytes", failing)
    out = tmp_path / "full"
    argv = ["batch", "baseline", "--runs", "150", "--horizon", "12", "--chunk-size", "50", "--out", str(out), "-q"]
    msg = _one_line_error(capsys, argv)
    assert "disk is full" in msg and "finished chunks are kept" in msg and "--resume" in msg
    m = json.loads((out / "manifest.json").read_text())
    assert [c["state"] for c in m["chunks"]] == ["done", "pending", "pending"]
    assert m["status"] == "incomplete"
    assert sorted(p.name for p in out.glob("ensembles/*/*")) == ["chunk-000000.nc"]  # no temporaries left
    monkeypatch.setattr(chunks, "_write_bytes", real)
    assert main([*argv, "--resume"]) == 0
    b = load_batch(out)
    assert [c["state"] for c in b.manifest["chunks"]] == ["done"] * 3
    direct = simulate(load_scenario("baseline"), runs=150, horizon=12)
    ds = b.open("baseline").load()
    for v in direct.data_vars:
        assert np.array_equal(ds[v].values, direct[v].values), v
    assert b.summary.loc[0, "outcome_cool_p"] == summarize(direct).outcomes["cool"][0]


def test_bad_flags_and_names(tmp_path, capsys):
    out = str(tmp_path / "x")
    assert "unknown variable 'relation'; did you mean 'relations'" in _one_line_error(
        capsys, ["batch", "baseline", "--variables", "relation", "--out", out])
    assert "scenario 'basline' not found" in _one_line_error(capsys, ["batch", "basline", "--out", out])
    assert "at least one scenario" in _one_line_error(capsys, ["batch", "--out", out])
    assert "either --workers or --scheduler" in _one_line_error(
        capsys, ["batch", "baseline", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--out", out])
    assert "tcp://HOST" in _one_line_error(capsys, ["batch", "baseline", "--scheduler", "localhost", "--out", out])
    assert not Path(out).exists()
