"""Benchmark of conditioning on observations (not a test: these machines are shared and noisy).

Issue 11's budget: an update with 5 observations on 20,000 runs x 60 months in under 5 s on
the 2-core machine. Measures, in one fresh process, the best of ``--repeats`` wall times of

1. the unconditioned ensemble (``simulate``), and
2. the conditioned one (``simulate(..., observations=<5 observations>)``),

so the SMC overhead (weighing, resampling, reindexing, rejuvenation) is the difference.
Prints one JSON line; ``--write`` puts the figures into docs/updating.md between the
BEGIN/END markers. Usage: ``python benchmarks/bench_update.py [--runs N] [--repeats K] [--write]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "updating.md"
OBSERVED = ROOT / "scenarios" / "observations" / "example-2013.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="write the figures into docs/updating.md")
    args = ap.parse_args()

    from model import load_scenario, simulate
    from model.observations import load_observations

    sc = load_scenario("baseline")
    obs = load_observations(OBSERVED)
    simulate(sc, runs=50, seed=0, observations=obs)  # warm imports and caches
    best_plain = best_smc = float("inf")
    for _ in range(args.repeats):
        t = time.perf_counter()
        ds = simulate(sc, runs=args.runs, seed=1, horizon=60)
        best_plain = min(best_plain, time.perf_counter() - t)
        del ds
        t = time.perf_counter()
        ds = simulate(sc, runs=args.runs, seed=1, horizon=60, observations=obs)
        best_smc = min(best_smc, time.perf_counter() - t)
        ess = [s["ess"] for u in json.loads(ds.attrs["smc"])["updates"] for s in u["observations"]]
        del ds
    result = {"runs": args.runs, "months": 60, "observations": len(obs), "plain_s": round(best_plain, 2),
              "conditioned_s": round(best_smc, 2), "overhead_s": round(best_smc - best_plain, 2),
              "min_ess": round(min(ess)), "budget_s": 5.0}
    print(json.dumps(result))
    if args.write:
        machine = f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}"
        block = (f"Measured {dt.date.today().isoformat()} on {machine} (best of {args.repeats}):\n\n"
                 f"| runs x months | observations | unconditioned | conditioned | SMC overhead | budget |\n"
                 f"|---|---|---|---|---|---|\n"
                 f"| {args.runs:,} x 60 | {len(obs)} | {best_plain:.2f} s | {best_smc:.2f} s | "
                 f"{best_smc - best_plain:.2f} s | 5 s |\n")
        text = DOC.read_text()
        text = re.sub(r"(<!-- BEGIN bench_update -->\n).*?(<!-- END bench_update -->)",
                      lambda m: m.group(1) + block + m.group(2), text, flags=re.S)
        DOC.write_text(text)


if __name__ == "__main__":
    main()
