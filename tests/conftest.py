"""Shared fixtures: small real simulations (no mocks)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from model import load_scenario, simulate
from model.engine import Model

ROOT = Path(__file__).resolve().parent.parent


def _fresh_dask_threads() -> None:
    """After a fork, give dask its thread pools afresh.

    dask.distributed's offload pool and dask's threaded scheduler pool (which
    ``xarray``'s ``.load()`` of a chunked file uses) are made once per process; a forked
    child inherits their record of idle threads but not the threads, so a Client or a
    ``.load()`` in the child waits for ever. mutmut runs each mutant's tests in a fork of
    the process that ran them all, so without this every such test hangs its mutants."""
    from concurrent.futures import ThreadPoolExecutor

    utils = sys.modules.get("distributed.utils")
    if utils is not None:
        utils._offload_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="Dask-Offload")
    threaded = sys.modules.get("dask.threaded")
    if threaded is not None:
        threaded.default_pool = None
        threaded.pools.clear()


os.register_at_fork(after_in_child=_fresh_dask_threads)


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
