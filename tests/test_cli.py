"""The ``dialogue`` command line: outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from model import summarize
from model.cli import main
from model.results import load


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_summary_and_writes_netcdf(tmp_path, capsys):
    out_file = tmp_path / "base.nc"
    code, out, err = _run(capsys, "run", "baseline", "--runs", "300", "--seed", "4", "--horizon", "24",
                          "--set", "repression=0.7", "--out", str(out_file))
    assert code == 0, err
    ds = load(out_file)
    assert ds.sizes == {"run": 300, "time": 24}
    assert ds["param_repression"].mean() == pytest.approx(0.7, abs=0.03)
    s = summarize(ds)
    for k, (p, _) in s.outcomes.items():
        assert f"{k:<14} {100 * p:5.1f}%" in out
    assert f"median {s.relations_median:+.2f}" in out
    assert f"P(dialogue suspended) {100 * s.events['dialogue suspended'][0]:5.1f}%" in out
    assert f"median GBP {s.exports_median:,.0f}m" in out


def test_run_json_matches_summary(capsys):
    code, out, _ = _run(capsys, "run", "crackdown", "--runs", "200", "--seed", "1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["scenario"] == "crackdown" and data["runs"] == 200
    assert abs(sum(p for p, _ in data["outcomes"].values()) - 1) < 1e-9


def test_scenarios_and_params(capsys):
    code, out, _ = _run(capsys, "scenarios")
    assert code == 0 and out.splitlines()[0].startswith("baseline")
    assert len(out.splitlines()) >= 5
    code, out, _ = _run(capsys, "params", "baseline", "--json")
    rows = json.loads(out)
    names = [r["name"] for r in rows]
    assert names[:4] == ["protest_growth", "repression", "syria_divergence", "trade_growth"]
    for r in rows:
        assert r["low"] <= r["value"] <= r["high"] and r["units"] and r["label"] and r["distribution"]
    code, out, _ = _run(capsys, "params", "crackdown")
    line = next(s for s in out.splitlines() if s.startswith("*repression"))
    assert "0.85" in line


def test_validate(tmp_path, capsys):
    code, out, _ = _run(capsys, "validate", "scenarios/crackdown.toml")
    assert code == 0 and out.startswith("ok:")
    bad = tmp_path / "bad.toml"
    bad.write_text("[params]\nsyria_divergance = 0.5\n")
    code, _, err = _run(capsys, "validate", str(bad))
    assert code == 2
    assert err.strip().endswith("did you mean 'syria_divergence'?")


@pytest.mark.parametrize("args, fragment", [
    (["run", "nosuch"], "scenario 'nosuch' not found"),
    (["run", "baseline", "--runs", "0"], "Invalid value for '--runs'"),
    (["run", "baseline", "--runs", "many"], "Invalid value for '--runs'"),
    (["run", "baseline", "--horizon", "-3"], "Invalid value for '--horizon'"),
    (["run", "baseline", "--set", "repression"], "write it as NAME=VALUE"),
    (["run", "baseline", "--set", "repression=9"], "between 0 and 1"),
    (["run", "baseline", "--set", "repressoin=0.5"], "did you mean 'repression'"),
    (["run", "baseline", "--out", "/no/such/dir/x.nc"], "does not exist"),
    (["run", "baseline", "--out", "results.csv"], "end in .nc"),
    (["run", "baseline", "--engine", "fast"], "Invalid value for '--engine'"),
    (["run"], "Missing argument 'SCENARIO'"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["params", "nosuch"], "not found"),
    (["validate", "/no/such/file.toml"], "not found"),
])
def test_bad_input_is_one_line_exit_2(capsys, args, fragment):
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("dialogue: error: ")
    assert "Traceback" not in err + out


def test_console_script_has_no_traceback(tmp_path):
    exe = shutil.which("dialogue")
    cmd = [exe] if exe else [sys.executable, "-m", "model.cli"]
    bad = tmp_path / "cycle.toml"
    bad.write_text('extends = "cycle"\n')
    r = subprocess.run([*cmd, "run", str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip() == "dialogue: error: extends cycle: cycle -> cycle; remove one of these 'extends' lines"
    assert not list(tmp_path.glob("*.nc"))


def test_reference_engine_from_cli(capsys):
    a = _run(capsys, "run", "baseline", "--runs", "6", "--horizon", "12", "--engine", "reference", "--json")
    b = _run(capsys, "run", "baseline", "--runs", "6", "--horizon", "12", "--json")
    assert a[0] == b[0] == 0
    ja, jb = json.loads(a[1]), json.loads(b[1])
    assert np.isclose(ja["relations_median"], jb["relations_median"])
