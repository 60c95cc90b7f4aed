"""A non-editable install (``pip install .``) works like the editable one.

The slow test builds a wheel from a copy of the checkout, installs it into a fresh
venv outside the checkout and runs the tool from a folder outside the checkout, as a
new user would. The venv sees the system site-packages (so no dependency is
downloaded), where this checkout is installed editable: the test asserts that the
code it runs comes from the venv's own site-packages, not from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
SWEEPS = sorted(p.name for p in (ROOT / "scenarios" / "sweeps").glob("*.toml"))
# Copying the checkout: skip VCS data, caches and build output (as .gitignore does).
_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                 ".hypothesis", ".ruff_cache", "test-artifacts", ".venv", "runs", "*.nc")


def _env(**extra: str) -> dict[str, str]:
    """The user's environment, without anything that points back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DIALOGUE_SCENARIOS")}
    env.update(extra)
    return env


def _run(argv: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (offline, no build isolation) from a copy of the checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
              "--disable-pip-version-check", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = (tmp / "dist").glob("uk_russia_dialogue-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> tuple[Path, Path]:
    """(bin folder, site-packages) of a fresh venv with the wheel installed."""
    root = tmp_path_factory.mktemp("venv") / "env"
    r = _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], cwd=root.parent)
    assert r.returncode == 0, r.stderr
    py = root / "bin" / "python"
    # pip from the system site-packages installs into the venv (sys.prefix). --no-index: every
    # dependency the wheel declares must already be satisfied, nothing is downloaded.
    r = _run([str(py), "-m", "pip", "install", "--no-index", "--no-warn-script-location",
              "--disable-pip-version-check", str(wheel)], cwd=root.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root.parent)
    site = Path(r.stdout.strip())
    assert site.is_relative_to(root), site
    return root / "bin", site


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return [p.relative_to(folder) for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts]


def test_wheel_ships_every_module_scenario_and_the_dashboard(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    # Every module (a new subpackage must be listed in pyproject.toml), the data, every app file.
    wanted = ({f"model/{p.as_posix()}" for p in _files(ROOT / "model", "*.py")}
              | {f"model/data/{p.as_posix()}" for p in _files(ROOT / "model" / "data")}
              | {f"dashboard/{p.as_posix()}" for p in _files(ROOT / "dashboard")}
              | {f"model/scenarios/{p.as_posix()}" for p in _files(ROOT / "scenarios", "*.toml")})
    assert not wanted - names, f"missing from the wheel: {sorted(wanted - names)}"
    assert {f"model/scenarios/{n}.toml" for n in SCENARIOS} | {f"model/scenarios/sweeps/{n}" for n in SWEEPS} <= names
    assert not any(n.startswith(("tests/", "scenarios/", "docs/")) or "__pycache__" in n for n in names)


@pytest.mark.slow
def test_wheel_install_works_outside_the_checkout(venv, tmp_path):
    bin_dir, site = venv
    dialogue, py = str(bin_dir / "dialogue"), str(bin_dir / "python")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    # The code that runs is the wheel's, not the editable checkout in the system site-packages.
    probe = ("import json, model, dashboard, model.scenario as s; "
             "print(json.dumps([model.__file__, dashboard.__file__, str(s.SHIPPED_DIR)]))")
    r = _run([py, "-c", probe], cwd=cwd)
    assert r.returncode == 0, r.stderr
    for path in json.loads(r.stdout):
        assert Path(path).resolve().is_relative_to(site.resolve()), path

    r = _run([dialogue, "scenarios"], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert [line.split()[0] for line in r.stdout.splitlines()] == ["baseline"] + [n for n in SCENARIOS
                                                                                 if n != "baseline"]

    r = _run([dialogue, "run", "baseline", "--runs", "50", "--json"], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert sum(p for p, _ in json.loads(r.stdout)["outcomes"].values()) == pytest.approx(1.0)

    # The README's Python snippet; calibration data comes from the wheel's model/data.
    snippet = ("from model import load_scenario, simulate, summarize\n"
               "ds = simulate(load_scenario('baseline'), runs=200, seed=1, overrides={'repression': 0.8})\n"
               "print(ds.sizes['run'], summarize(ds).text())\n")
    r = _run([py, "-c", snippet], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("200 ")

    # A shipped sweep is inside the install, and a batch over it runs.
    r = _run([dialogue, "batch", "--sweep", str(site / "model/scenarios/sweeps/syria_repression_grid.toml"),
              "--runs", "20", "--horizon", "6", "--out", str(cwd / "grid")], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert (cwd / "grid" / "summary.csv").is_file()

    out = cwd / "briefing"
    r = _run([dialogue, "brief", "baseline", "--runs", "200", "--sensitivity-runs", "50", "--format", "png",
              "--out", str(out)], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert (out / "brief.pdf").stat().st_size > 0 and (out / "brief.html").stat().st_size > 0

    # The dashboard: its app file is the installed one, it renders, and the server comes up.
    r = _run([dialogue, "dashboard", "--dry-run"], cwd=cwd)
    assert r.returncode == 0, r.stderr
    app = Path(r.stdout.split()[4])
    assert app == site / "dashboard" / "app.py", r.stdout
    render = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
              "at = AppTest.from_file(sys.argv[1], default_timeout=120).run()\n"
              "assert not at.exception, [e.value for e in at.exception]\n"
              "assert not at.error, [e.value for e in at.error]\n"
              "print(len(at.metric))\n")
    r = _run([py, "-c", render, str(app)], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) > 0

    port = _free_port()
    proc = subprocess.Popen([dialogue, "dashboard", "--port", str(port)], cwd=cwd, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body, deadline = "", time.monotonic() + 120
        while body != "ok" and proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                    body = resp.read().decode()
            except OSError:
                time.sleep(0.3)
        assert body == "ok", f"exit {proc.poll()}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.returncode not in (0, -15):
        pytest.fail(proc.stderr.read())


def test_scenarios_with_none_found_is_an_error(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    r = _run([sys.executable, "-m", "model.cli", "scenarios"], cwd=tmp_path, DIALOGUE_SCENARIOS=str(empty))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("dialogue: error: ")
    assert str(empty) in r.stderr and "DIALOGUE_SCENARIOS" in r.stderr


def test_scenarios_env_override_lists_that_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "only.toml").write_text('name = "only"\ndescription = "Mine."\n', encoding="utf-8")
    r = _run([sys.executable, "-m", "model.cli", "scenarios"], cwd=tmp_path, DIALOGUE_SCENARIOS=str(folder))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["only", "Mine."]
