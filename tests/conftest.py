"""Shared fixtures: small real simulations (no mocks)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from model import load_scenario, simulate
from model.engine import Model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def baseline():
    return load_scenario("baseline")


@pytest.fixture(scope="session")
def small_ds(baseline):
    """400 runs x 60 months of the baseline."""
    return simulate(baseline, runs=400, seed=11)


@pytest.fixture
def make_model(baseline):
    """A fresh Model of ``n`` runs at the March 2013 state, parameters at defaults."""

    def _make(n: int = 2000, seed: int = 5, **param_values) -> Model:
        sc = baseline.with_overrides({f"{k}.dist": "fixed" for k in baseline.params})
        m = Model(sc, np.arange(n), seed, horizon=12)
        for k, v in param_values.items():
            setattr(m.p, k, np.full(n, float(v)))
        return m

    return _make


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` (e.g. "1m", "300k") mounted at ``path`` for the block,
    unmounted afterwards; the test is skipped where mounting is not allowed (not root)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}", *options)), "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
