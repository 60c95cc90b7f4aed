"""Hostile and faulty input to `dialogue run/params/validate` and results files (issue 12).

Each case must give one line, `dialogue: error: ...`, exit code 2, no traceback, no
library internals and nothing half-written. The full-disk and read-only cases use
real tmpfs mounts; the crash-prone ones run the real console script in a subprocess,
because a segfault cannot be caught in-process.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tmpfs

from model.cli import main
from model.results import load
from model.validation import MAX_DEPTH, MAX_HORIZON, MAX_MONTH, MAX_NAME_CHARS, MIN_MONTH

ROOT = Path(__file__).resolve().parent.parent
EXE = [shutil.which("dialogue")] if shutil.which("dialogue") else [sys.executable, "-m", "model.cli"]


def console(*args: str) -> subprocess.CompletedProcess:
    """The installed console script, in its own process (a crash shows as its exit code)."""
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.fixture
def dialogue(capsys):
    """The CLI in this process, as a console user meets it: exit code, stdout, stderr."""
    def _run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return _run


def assert_one_line_error(r: subprocess.CompletedProcess, fragment: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("dialogue: error: "), err[:2000]
    assert fragment in err, err
    assert "Traceback" not in r.stdout + r.stderr
    assert not re.search(r"0x[0-9a-f]{6,}|errno = |time = ", err), err  # no h5py internals
    return err


@pytest.fixture
def small_fs(tmp_path):
    """A real 1 MB file system, unmounted afterwards."""
    with tmpfs(tmp_path / "small", "1m") as mnt:
        yield mnt


@pytest.fixture
def readonly_fs(tmp_path):
    with tmpfs(tmp_path / "ro", "1m", "ro") as mnt:
        yield mnt


# ---------------------------------------------------------------- full disk, read-only, overwrite


def test_full_disk_is_refused_before_simulating(small_fs):
    r = console("run", "baseline", "--runs", "2000", "--out", str(small_fs / "x.nc"))
    err = assert_one_line_error(r, "not enough disk space")
    assert "MB is free" in err
    assert r.stdout == ""  # refused before the simulation, not after
    assert list(small_fs.iterdir()) == []


def test_writer_on_a_full_disk_does_not_crash(small_fs):
    """The NetCDF writer itself on a disk that fills up: before the fix HDF5 segfaulted
    (exit -11) after its write failed. Here the free-space check is passed, then the
    disk is filled, as when another process writes at the same time."""
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from model import DialogueError, load_scenario, simulate
        import model.results as results
        ds = simulate(load_scenario("baseline"), runs=300, horizon=24)
        target = Path({str(small_fs)!r}) / "x.nc"
        def check_then_fill(path, *args, **kw):
            # The checks pass; then another writer takes the space.
            with open(target.parent / "ballast", "ab") as fh:
                try:
                    fh.write(b"x" * 2_000_000)
                except OSError:
                    pass
            return Path(path)
        results.check_output_path = check_then_fill
        try:
            results.save(ds, target)
        except DialogueError as exc:
            print(exc)
            sys.exit(3)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 3, (r.returncode, r.stderr[-3000:])
    assert r.stderr == ""
    msg = r.stdout.strip()
    assert msg.endswith("could not write results (no space left on device); nothing was written"), msg
    assert not re.search(r"0x[0-9a-f]{6,}|errno|time =", msg)
    assert sorted(p.name for p in small_fs.iterdir()) == ["ballast"]  # no partial file


def test_read_only_folder(dialogue, readonly_fs):
    r = dialogue("run", "baseline", "--runs", "5", "--horizon", "3", "--out", str(readonly_fs / "x.nc"))
    assert_one_line_error(r, "cannot write here (read-only file system)")


def test_existing_results_need_force(dialogue, tmp_path):
    out = tmp_path / "old.nc"
    r = dialogue("run", "baseline", "--runs", "5", "--horizon", "3", "--seed", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    before = out.read_bytes()
    r = dialogue("run", "baseline", "--runs", "7", "--horizon", "3", "--out", str(out))
    assert_one_line_error(r, "already exists; add --force to overwrite it")
    assert r.stdout == "" and out.read_bytes() == before
    r = dialogue("run", "baseline", "--runs", "7", "--horizon", "3", "--out", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert load(out).sizes["run"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.nc"]


# ---------------------------------------------------------------- what `run` writes, `load` opens


@pytest.mark.parametrize("start", [MIN_MONTH, MAX_MONTH])
def test_results_at_the_extremes_round_trip(dialogue, tmp_path, start):
    out = tmp_path / "edge.nc"
    r = dialogue("run", "baseline", "--runs", "3", "--horizon", str(MAX_HORIZON), "--set", f"initial.start={start}",
                 "--out", str(out))
    assert r.returncode == 0, r.stderr
    ds = load(out)
    first = pd.Timestamp(f"{start}-01")
    assert pd.Timestamp(ds.time.values[0]) == first
    assert pd.Timestamp(ds.time.values[-1]) == first + pd.DateOffset(months=MAX_HORIZON - 1)
    assert np.isfinite(ds["relations"].values).all()


@pytest.mark.parametrize("start", ["2250-01", "9999-12", "0000-01", "1989-12", "2101-01"])
def test_start_outside_the_range(dialogue, tmp_path, start):
    bad = tmp_path / "far.toml"
    bad.write_text(f'extends = "baseline"\n[initial]\nstart = "{start}"\n')
    expected = f"initial.start = '{start}' is outside the supported range; use a month from {MIN_MONTH} to {MAX_MONTH}"
    assert_one_line_error(dialogue("run", str(bad), "--runs", "3", "--horizon", "600", "--out",
                                   str(tmp_path / "x.nc")), expected)
    assert_one_line_error(dialogue("run", "baseline", "--set", f"initial.start={start}"), expected)
    assert not list(tmp_path.glob("*.nc"))


def test_election_and_meeting_months_are_bounded(dialogue, tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text('[calendar]\nelections = [{ name = "Far", date = "9999-01" }]\n')
    assert_one_line_error(dialogue("validate", str(bad)), "calendar.elections.0.date = '9999-01' is outside")
    assert_one_line_error(dialogue("run", "baseline", "--set", "calendar.first_meeting=0001-01"),
                          "calendar.first_meeting = '0001-01' is outside the supported range")


# ---------------------------------------------------------------- hostile scenario files


@pytest.mark.parametrize("command", ["run", "params", "validate"])
def test_very_long_reference(dialogue, command):
    assert_one_line_error(dialogue(command, "x" * 5000), "scenario reference is too long (5,000 characters)")


def test_long_extends_and_name(dialogue, tmp_path):
    p = tmp_path / "long.toml"
    p.write_text(f'extends = "{"y" * 5000}"\n')
    assert_one_line_error(dialogue("validate", str(p)), "extends is too long (5,000 characters); use at most 1024")
    p.write_text(f'extends = "{"y" * 300}"\n')
    assert_one_line_error(dialogue("validate", str(p)), "a file or folder name in it has 300 characters")
    p.write_text(f'name = "{"n" * 5000}"\n')
    assert_one_line_error(dialogue("validate", str(p)),
                          f"name is too long (5,000 characters); use at most {MAX_NAME_CHARS}")


@pytest.mark.parametrize("kind", ["array", "inline table"])
def test_deep_nesting(dialogue, tmp_path, kind):
    p = tmp_path / "deep.toml"
    n = 1000
    p.write_text("x = " + ("[" * n + "]" * n if kind == "array" else "{a = " * n + "1" + "}" * n) + "\n")
    assert_one_line_error(dialogue("validate", str(p)), f"nested too deeply; a scenario needs at most {MAX_DEPTH}")
    assert_one_line_error(dialogue("run", "baseline", "--set", "repression=" + "[" * n + "]" * n),
                          "nested too deeply")


def test_byte_order_mark_is_accepted(dialogue, tmp_path):
    text = b'name = "bom"\n[params]\nrepression = 0.7\ntrade_growth = 0.2\n'
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text)
    r = dialogue("validate", str(tmp_path / "bom.toml"))
    assert r.returncode == 0, r.stderr
    assert "is a valid scenario 'bom' (2 parameters differ from defaults)" in r.stdout
    from model.scenario import load_scenario_text

    assert load_scenario_text("\ufeff" + text.decode()).value("trade_growth") == 0.2


def test_oversized_file(dialogue, tmp_path):
    p = tmp_path / "big.toml"
    p.write_text("# padding\n" * 150_000)
    assert_one_line_error(dialogue("validate", str(p)), "scenario file is 1,500,000 bytes; the limit is 1,000,000")


# ---------------------------------------------------------------- --set leaves a trace


def test_set_is_recorded_in_results(dialogue, tmp_path):
    out = tmp_path / "s.nc"
    r = dialogue("run", "baseline", "--runs", "20", "--horizon", "6", "--set", "repression=0.8",
                 "--set", "initial.start=2014-01", "--out", str(out))
    assert r.returncode == 0, r.stderr
    ds = load(out)
    assert ds.attrs["scenario"] == "baseline"
    assert ds.attrs["scenario_label"] == "baseline + repression=0.8, initial.start=2014-01"
    plain = tmp_path / "p.nc"
    assert dialogue("run", "baseline", "--runs", "20", "--horizon", "6", "--out", str(plain)).returncode == 0
    assert load(plain).attrs["scenario_label"] == "baseline"


def test_set_shows_in_printed_summary(dialogue):
    """End to end: model/analysis.py (owned elsewhere) prints the label."""
    r = dialogue("run", "baseline", "--runs", "20", "--horizon", "6", "--set", "repression=0.8")
    assert r.returncode == 0, r.stderr
    assert "baseline + repression=0.8" in r.stdout
    r = dialogue("run", "baseline", "--runs", "20", "--horizon", "6", "--set", "repression=0.8", "--json")
    assert "baseline + repression=0.8" in json.dumps(json.loads(r.stdout))


# ---------------------------------------------------------------- help text


def test_help_is_not_cut_off(dialogue):
    r = console("--help")
    assert r.returncode == 0
    commands = r.stdout.split("Commands:")[1]
    assert "..." not in commands
    for name in ("run", "params", "validate", "scenarios"):
        assert re.search(rf"^\s+{name}\s+\S", commands, re.M), name
    assert "print a\n" in commands or "print a summary" in " ".join(commands.split())
    r = dialogue("run", "--help")
    assert "9223372036854775807" not in r.stdout and "[0 to 2^63-1]" in r.stdout
    assert "--force" in r.stdout
