"""Benchmark of the simulation core (not a test: these machines are shared and noisy).

Measures, side by side in one run:

1. ensemble vs reference engine on the same rules at 2,000 runs x 60 months
   (the ratio is what matters: both run on the same machine at the same time);
2. ensemble wall time and peak memory at 1k, 10k and 100k runs, each in a fresh
   subprocess so peak RSS is that size's own.

Writes the figures into docs/benchmarks.md (between the BEGIN/END markers) with the
date and machine. Usage: ``python benchmarks/bench_core.py [--reference-runs N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

CHILD = """
import json, resource, sys, time
from model import load_scenario, simulate
sc = load_scenario("baseline")
simulate(sc, runs=50, seed=0, horizon=60)          # warm imports and caches
runs = int(sys.argv[1])
best = float("inf")
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); ds = simulate(sc, runs=runs, seed=1, horizon=60); best = min(best, time.perf_counter() - t)
    del ds
print(json.dumps({"runs": runs, "seconds": best,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def machine() -> str:
    return f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, {platform.system()}"


def child(runs: int, repeats: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(runs), str(repeats)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-runs", type=int, default=2000)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()

    from model import load_scenario, simulate

    sc = load_scenario("baseline")
    simulate(sc, runs=50, seed=0)
    n = args.reference_runs
    ens = min(_timed(lambda: simulate(sc, runs=n, seed=1)) for _ in range(3))
    ref = _timed(lambda: simulate(sc, runs=n, seed=1, engine="reference"))
    ratio = ref / ens
    print(f"{n} runs x 60 months: ensemble {ens:.3f} s, reference {ref:.1f} s, ratio {ratio:.0f}x")

    sizes = [child(1000, 5), child(10_000, 5), child(100_000, 2)]
    for s in sizes:
        print(f"{s['runs']:>7,} runs: {s['seconds']:.3f} s, peak RSS {s['peak_rss_mb']:.0f} MB")

    if args.no_write:
        return
    lines = [
        f"Measured {dt.date.today().isoformat()} on {machine()} by `python benchmarks/bench_core.py`.",
        "",
        "| measure | figure | target |",
        "|---|---|---|",
        f"| ensemble, {n:,} runs x 60 months | {ens:.3f} s | |",
        f"| reference (one simpy environment per run), same {n:,} runs | {ref:.1f} s | |",
        f"| ensemble speed-up over reference | **{ratio:.0f}x** | at least 200x |",
    ]
    for s in sizes:
        target = {10_000: "under 1 s", 100_000: "under 2 GB"}.get(s["runs"], "")
        lines.append(f"| ensemble, {s['runs']:,} runs x 60 months | {s['seconds']:.3f} s, "
                     f"peak RSS {s['peak_rss_mb']:.0f} MB | {target} |")
    lines += ["", "Times are the best of several repeats (5 at 1k and 10k, 2 at 100k, 3 for the ensemble at "
              f"{n:,}; the reference once); peak RSS is the whole Python process, imports included."]
    block = "\n".join(lines)
    empty = "# Benchmarks\n\n## Simulation core\n\n<!-- BEGIN core -->\n<!-- END core -->\n"
    text = DOC.read_text() if DOC.exists() else empty
    text = re.sub(r"<!-- BEGIN core -->.*<!-- END core -->", f"<!-- BEGIN core -->\n{block}\n<!-- END core -->",
                  text, flags=re.S)
    DOC.write_text(text)
    print(f"wrote {DOC}")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
