"""``model.results`` pieces against values worked out here (issue 14: mutation gaps).

``test_results.py`` checks the Dataset of real simulations; here ``build_dataset`` gets
hand-made arrays, so every coordinate, attribute and unit is checked against the input;
the commit lookup runs in throwaway git checkouts; the size estimate is checked against
the byte layout of a real (tiny) Dataset; ``load`` gets files missing each required part.
"""

from __future__ import annotations

import datetime as dt
import errno
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import tmpfs

from model import __version__
from model import results as r
from model.agents.relations import BANDS, DRIVER_LABELS, DRIVERS
from model.errors import DialogueError
from model.params import registry
from model.scenario import load_scenario

# ------------------------------------------------------------------ git_commit


def _checkout(tmp_path, monkeypatch, git: bool, baseline: bool):
    """A folder laid out as a checkout (model/results.py inside it), optionally a git repo
    with a commit, optionally with scenarios/baseline.toml; results.py is pointed at it."""
    root = tmp_path / "co"
    (root / "model").mkdir(parents=True)
    (root / "model" / "results.py").write_text("", encoding="utf-8")
    if baseline:
        (root / "scenarios").mkdir()
        (root / "scenarios" / "baseline.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repository above
    if git:
        def run(*args):
            subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root,
                           check=True, capture_output=True)
        run("init", "-q")
        run("add", "-A")
        run("commit", "-q", "-m", "x")
    monkeypatch.setattr(r, "__file__", str(root / "model" / "results.py"))
    return root


def test_git_commit_is_the_checkouts_head(tmp_path, monkeypatch):
    root = _checkout(tmp_path, monkeypatch, git=True, baseline=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert len(head) == 40
    assert r.git_commit() == head


@pytest.mark.parametrize("git,baseline", [(False, True), (True, False)])
def test_git_commit_is_unknown_outside_the_models_own_checkout(tmp_path, monkeypatch, git, baseline):
    _checkout(tmp_path, monkeypatch, git=git, baseline=baseline)
    assert r.git_commit() == "unknown"


def test_git_commit_is_unknown_when_git_fails_or_is_missing(tmp_path, monkeypatch):
    root = _checkout(tmp_path, monkeypatch, git=False, baseline=True)
    (root / ".git").mkdir()  # not a repository: git rev-parse fails
    assert r.git_commit() == "unknown"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no git at all
    assert r.git_commit() == "unknown"


# ------------------------------------------------------------------ build_dataset

def test_build_dataset_from_hand_made_arrays():
    spec = next(iter(registry().values()))
    sc = load_scenario("baseline", {spec.name: spec.low, "initial.start": "2014-11", "initial.relations": 1.5})
    horizon, n = 3, 4
    # Month by month (time, run), as the engine records them.
    rel = np.array([[0.0, 0.0, 0.0, 0.0], [9.0, -9.0, 0.0, 3.0], [-7.0, -3.0, 0.5, 3.0]])
    sanctions = np.array([[0, 0, 0, 0], [1, 0, 1, 1], [0, 0, 0, 1]], bool)
    d0 = DRIVERS[0]
    out = {"relations": rel, "sanctions": sanctions, "protest": np.arange(12, dtype=np.float32).reshape(3, 4),
           f"contrib_{d0}": np.ones((3, 4)), "made_up": np.zeros((3, 4))}
    names = list(registry())[:2]
    params = {names[0]: [1, 2, 3, 4], names[1]: np.array([0.5, 0.25, 0.125, 0.0625])}
    ds = r.build_dataset(out, params, [5, 6, 7, 8], sc, seed=99, horizon=horizon)

    assert ds["run"].values.tolist() == [5, 6, 7, 8] and ds["run"].dtype == np.int64
    assert [pd.Timestamp(t) for t in ds["time"].values] == [pd.Timestamp(m) for m in
                                                            ("2014-11-01", "2014-12-01", "2015-01-01")]
    for name, arr in out.items():
        assert ds[name].dims == ("run", "time")
        assert ds[name].values.tolist() == arr.T.tolist()
    assert ds["relations"].attrs == {"units": "Goldstein points (-10 conflict to +10 alliance)"}
    assert ds["protest"].attrs == {"units": "share of public mobilised"}
    assert ds["made_up"].attrs == {"units": "Goldstein points per month"}
    assert ds[f"contrib_{d0}"].attrs == {
        "units": "Goldstein points per month",
        "long_name": f"Contribution of {DRIVER_LABELS[d0].lower()} to the change in relations"}
    for name in names:
        got = ds[f"param_{name}"]
        assert got.dims == ("run",) and got.dtype == np.float64
        assert got.values.tolist() == [float(x) for x in params[name]]
        assert got.attrs == {"long_name": registry()[name].label, "units": registry()[name].units}
    # The outcome is classified from the horizon month (the last row), not an earlier one.
    assert ds["outcome"].values.tolist() == r.classify(rel[-1], sanctions[-1]).tolist()
    assert ds["outcome"].values.tolist() != r.classify(rel[-2], sanctions[-2]).tolist()
    assert ds["outcome"].attrs == {"long_name": "outcome class at the horizon",
                                   "rules": "; ".join(f"{k}: {v}" for k, v in r.OUTCOME_RULES.items())}
    assert ds["outcome"].attrs["rules"].count("; ") == len(r.OUTCOMES) - 1

    at = ds.attrs
    assert at["title"] == "UK-Russia relations scenario 'baseline'"
    assert at["scenario"] == "baseline" and at["scenario_label"] == sc.label and "+" in sc.label
    assert at["scenario_toml"] == sc.to_toml()
    assert (at["seed"], at["runs"], at["horizon_months"]) == (99, n, horizon)
    assert (at["start"], at["initial_relations"]) == ("2014-11", 1.5)
    assert at["version"] == __version__ and at["git_commit"] == r.git_commit()
    created = dt.datetime.fromisoformat(at["created"])
    assert created.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 600
    assert at["drivers"].split(",") == list(DRIVERS)
    assert at["bands"].split(";") == [f"{b}:{lo}:{hi}" for b, lo, hi in BANDS]
    assert at["bands"].split(";")[0] == "hostile:-10.0:-6.0"


# ------------------------------------------------------------------ estimate_bytes and messages

def test_estimate_bytes_follows_the_stored_byte_layout():
    from model.simulate import simulate

    ds = simulate("baseline", runs=2, horizon=2)
    per_cell = sum(ds[v].dtype.itemsize for v in ds.data_vars if ds[v].dims == ("run", "time"))
    per_run = sum(ds[v].dtype.itemsize for v in ds.data_vars if ds[v].dims == ("run",))
    per_run += ds["run"].dtype.itemsize
    assert per_run == 8 * len(registry()) + 8 + 4 * 13  # float64 draws, int64 run id, '<U13' outcome
    for runs, horizon in ((2000, 60), (7, 1), (1, 600), (0, 5)):
        assert r.estimate_bytes(runs, horizon) == int(1.05 * (runs * horizon * per_cell + runs * per_run)) + 1_000_000


def test_reason_is_the_errors_words_in_lower_case():
    assert r._reason(OSError(errno.ENOSPC, "No space left on device")) == "no space left on device"
    assert r._reason(PermissionError()) == "permissionerror"


def _results_file(tmp_path, name, variables, attrs):
    ds = xr.Dataset({v: ("run", np.zeros(2)) for v in variables}, attrs=attrs)
    path = tmp_path / name
    ds.to_netcdf(path, engine="h5netcdf")
    return path


@pytest.mark.parametrize("variables,attrs,what", [
    (("relations",), {"scenario_toml": "x"}, "outcome, dialogue_active"),
    (("relations", "outcome"), {}, "dialogue_active"),
    (("relations", "outcome", "dialogue_active"), {}, "scenario attributes"),
])
def test_load_names_what_a_file_is_missing(tmp_path, variables, attrs, what):
    path = _results_file(tmp_path, "x.nc", variables, attrs)
    with pytest.raises(DialogueError) as e:
        r.load(path)
    assert str(e.value) == f"{path}: not a results file from 'dialogue run' (missing {what})"


def test_load_reads_a_file_with_every_required_part(tmp_path):
    path = _results_file(tmp_path, "ok.nc", ("relations", "outcome", "dialogue_active"), {"scenario_toml": "x"})
    assert sorted(r.load(path).data_vars) == ["dialogue_active", "outcome", "relations"]


def test_save_checks_the_encoded_size_against_the_free_space(tmp_path):
    ds = xr.Dataset({"relations": ("run", np.random.default_rng(0).normal(size=100_000))})  # about 800 kB encoded
    with tmpfs(tmp_path / "small", "200k") as small:
        path = small / "x.nc"
        with pytest.raises(DialogueError) as e:
            r.save(ds, path)
        free = r.shutil.disk_usage(small).free / 1e6
        assert str(e.value) == (f"{path}: not enough disk space: the results need about 0.8 MB and {free:,.1f} MB "
                                "is free; free some space, use fewer runs, or write elsewhere")
        assert list(small.iterdir()) == []
        # Before anything is encoded the size is not known, so a full disk is not refused yet.
        with open(small / "fill", "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"x" * 4096)
                    fh.flush()
            except OSError:
                pass
        assert r.shutil.disk_usage(small).free == 0
        assert r.check_output_path(path) == path


def test_check_output_path_messages_in_full(tmp_path):
    with pytest.raises(DialogueError) as e:
        r.check_output_path(tmp_path / "x.txt")
    assert str(e.value) == f"{tmp_path / 'x.txt'}: results files end in .nc (NetCDF); try {tmp_path / 'x.nc'}"
    (tmp_path / "dir.nc").mkdir()
    with pytest.raises(DialogueError) as e:
        r.check_output_path(tmp_path / "dir.nc")
    assert str(e.value) == f"{tmp_path / 'dir.nc'}: is a folder; give a file name ending in .nc"
    (tmp_path / "old.nc").write_bytes(b"")
    assert r.check_output_path(tmp_path / "old.nc") == tmp_path / "old.nc"  # overwriting is the default
    with pytest.raises(DialogueError, match="already exists"):
        r.check_output_path(tmp_path / "old.nc", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.nc", "old.nc"]  # the probe file is gone


def test_a_read_only_folder_is_refused_by_trying_it(tmp_path):
    with tmpfs(tmp_path / "ro", "100k", "ro") as ro:
        with pytest.raises(DialogueError) as e:
            r.check_output_path(ro / "x.nc")
        assert str(e.value) == f"{ro / 'x.nc'}: cannot write here (read-only file system); choose another folder"


def test_write_atomic_on_a_read_only_filesystem_is_one_line(tmp_path):
    with tmpfs(tmp_path / "ro", "100k", "ro") as ro:
        with pytest.raises(DialogueError) as e:
            r.write_atomic(b"abc", ro / "x.nc")
        assert str(e.value) == f"{ro / 'x.nc'}: could not write results (read-only file system); nothing was written"


def test_write_atomic_into_a_missing_folder_is_one_line_and_leaves_nothing(tmp_path):
    path = tmp_path / "missing" / "x.nc"
    with pytest.raises(DialogueError) as e:
        r.write_atomic(b"abc", path)
    assert str(e.value) == f"{path}: could not write results (no such file or directory); nothing was written"
    assert list(tmp_path.iterdir()) == []
    assert r.write_atomic(b"abc", tmp_path / "y.nc") == tmp_path / "y.nc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["y.nc"] and (tmp_path / "y.nc").read_bytes() == b"abc"
