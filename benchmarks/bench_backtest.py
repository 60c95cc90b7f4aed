"""Benchmark of the rolling-origin backtest (not a test: these machines are shared and noisy).

Measures, as wall time in fresh subprocesses (start-up and imports included):

1. the backtest itself, 8 origins x 2,000 runs x 36 months plus all scoring
   (``model.backtest.run_backtest()``) — target under 60 s;
2. the whole ``dialogue backtest --out DIR`` command, which runs the backtest three times
   (the model now, with the previous start rule, and the original model) and writes calibration.md.

Writes the figures into the benchmark section of docs/calibration.md (the part that
``dialogue backtest --out docs`` keeps). Usage: ``python benchmarks/bench_backtest.py [--no-write] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "calibration.md"
HEADING = "## Benchmark"


def _time(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    core = [sys.executable, "-c", "from model.backtest import run_backtest; run_backtest()"]
    with tempfile.TemporaryDirectory() as tmp:
        full = [sys.executable, "-m", "model.cli", "backtest", "--out", tmp]
        t_core = [_time(core) for _ in range(args.repeat)]
        t_full = [_time(full) for _ in range(args.repeat)]
    load = os.getloadavg()[0]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        HEADING, "",
        f"Measured by `python benchmarks/bench_backtest.py` on {when}; {machine}. The machine was shared "
        f"with other jobs and noisy (1-minute load average {load:.1f} at the end), so take the fastest of "
        f"{args.repeat} runs as the figure and the slowest as a warning.", "",
        "| measure | target | fastest | slowest |", "|---|---|---|---|",
        f"| backtest: 8 origins x 2,000 runs x 36 months, plus scoring (fresh process) | under 60 s | "
        f"{min(t_core):.1f} s | {max(t_core):.1f} s |",
        f"| `dialogue backtest --out DIR` (three backtests: now, previous start, original; writes the doc) | - | "
        f"{min(t_full):.1f} s | {max(t_full):.1f} s |", "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        text = DOC.read_text(encoding="utf-8")
        at = text.find("\n" + HEADING)
        body = text if at < 0 else text[:at]
        DOC.write_text(body.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
