"""Benchmark of sensitivity analysis and scenario discovery (not a test: these
machines are shared and noisy).

Each measure is the wall time of the real command, end to end (start-up, imports,
simulation, SALib/PRIM, tables and charts written), in a fresh subprocess:

1. ``dialogue sensitivity baseline --n 1024`` (Saltelli N=1024 over every uncertain
   parameter, first- and total-order indices for every output, at the horizon and
   by year; no tornado) — target under 30 s;
2. ``dialogue sensitivity baseline --method morris --n 20 --params all`` (r=20 over
   all parameters) — target under 10 s;
3. ``dialogue discover baseline --outcome rupture --n 20000`` — target under 20 s.

Writes the figures into docs/sensitivity.md (between the BEGIN/END bench markers)
with the date and machine. Usage: ``python benchmarks/bench_sensitivity.py [--no-write]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sensitivity.md"

CASES = [
    ("Sobol' (Saltelli N=1,024, 79 uncertain parameters, 82,944 runs, 10 outputs x 5 years)",
     ["sensitivity", "baseline", "--n", "1024", "--tornado-runs", "0"], "under 30 s"),
    ("Morris (r=20, all 80 parameters, 1,620 runs, 10 outputs x 5 years)",
     ["sensitivity", "baseline", "--method", "morris", "--n", "20", "--params", "all", "--tornado-runs", "0"],
     "under 10 s"),
    ("Discovery (20,000 futures, rupture, PRIM + CART)",
     ["discover", "baseline", "--outcome", "rupture", "--n", "20000"], "under 20 s"),
    ("Tornado (79 parameters x P10/P90 x 1,000 runs + base: 159,000 runs), with a small Sobol' run (N=64, 1 output)",
     ["sensitivity", "baseline", "--n", "64", "--outputs", "confrontation_or_worse", "--params", "uncertain"],
     ""),
]


def machine() -> str:
    return f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, {platform.system()}"


def timed(args: list[str], out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "model.cli", *args, "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True, text=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, cmd, target in CASES:
            best = min(timed(cmd, Path(tmp) / "out") for _ in range(args.repeats))
            rows.append((label, " ".join(cmd), best, target))
            print(f"{best:7.1f} s  {label}")
    if args.no_write:
        return
    lines = [f"Measured {dt.date.today().isoformat()} on {machine()} by `python benchmarks/bench_sensitivity.py` "
             f"(best of {args.repeats}, wall time of the whole command in a fresh process, files written; the "
             "machine is shared with other jobs, so figures vary by 20-50% run to run).", "",
             "| measure | command | time | target |", "|---|---|---|---|"]
    for label, cmd, best, target in rows:
        lines.append(f"| {label} | `dialogue {cmd}` | {best:.1f} s | {target} |")
    block = "\n".join(lines)
    text = DOC.read_text()
    text = re.sub(r"<!-- BEGIN bench -->.*<!-- END bench -->", f"<!-- BEGIN bench -->\n{block}\n<!-- END bench -->",
                  text, flags=re.S)
    DOC.write_text(text)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
