"""Benchmark of ``dialogue batch`` (not a test).

0. The chunk format: encoding one 10,000-run x 60-month chunk to NetCDF bytes in the
   old layout (format 2: one variable per parameter and per driver, 92 variables) and
   the new one (format 3: ``params (run, param)`` and ``contrib (run, driver, time)``,
   24 variables), interleaved in one process so both see the same machine load; and
   reading it back (with the loader's ``param_*``/``contrib_*`` views).
1. Throughput (runs/s), 1 worker (in process) and 2 workers (local processes) side by
   side on the same batch, with full ensembles written and with summaries only.
2. Peak memory (RSS summed over the process tree, sampled with psutil) of a
   1,000,000-run x 60-month batch streamed to disk, and its size on disk.

Prints the figures and writes them into docs/batch.md between the
``<!-- bench:start -->`` / ``<!-- bench:end -->`` markers, with the date and machine.

    python benchmarks/bench_batch.py                 # full (1M runs: several minutes, ~10 GB in a temp dir)
    python benchmarks/bench_batch.py --big-runs 200000 --no-docs   # quicker look
    python benchmarks/bench_batch.py --format-only   # just the chunk format comparison (0.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "batch.md"
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine import cpu_model  # noqa: E402


def run_batch_process(args: list[str], sample: float = 0.1) -> dict:
    """Run ``python -m model.cli batch ARGS`` and sample the RSS of its process tree."""
    cmd = [sys.executable, "-m", "model.cli", "batch", *args, "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak_tree = peak_one = 0
    while proc.poll() is None:
        try:
            procs = [ps, *ps.children(recursive=True)]
            rss = []
            for p in procs:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    pass
            peak_tree = max(peak_tree, sum(rss))
            peak_one = max(peak_one, max(rss, default=0))
        except psutil.Error:
            pass
        time.sleep(sample)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {err.strip()[-500:]}")
    return {"wall_seconds": seconds, "peak_tree_mb": peak_tree / 2**20, "peak_process_mb": peak_one / 2**20,
            "stdout": out}


def manifest_rate(out: Path) -> tuple[float, float]:
    m = json.loads((out / "manifest.json").read_text())
    s = m["last_session"]
    return s["seconds"], s["runs_per_second"]


def du_gb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e9


def storable_v2(ds, task):
    """The chunk as format 2 stored it (one NetCDF variable per parameter and driver)."""
    import numpy as np
    import xarray as xr

    data = {name: (var.dims, np.ascontiguousarray(var.values), var.attrs) for name, var in ds.data_vars.items()}
    out = xr.Dataset(data, coords=ds.coords, attrs=dict(ds.attrs))
    out.attrs.update({"batch_point": task.point, "batch_chunk": int(task.index), "run_offset": int(task.run_offset)})
    return out


def bench_format(runs: int = 10_000, repeats: int = 7) -> dict:
    """Encode (and read back) one chunk in the old and the new layout, interleaved."""
    import statistics

    import numpy as np
    import xarray as xr

    from model.batch.chunks import encode_netcdf, storable
    from model.batch.plan import build_plan
    from model.batch.store import with_member_names
    from model.simulate import simulate

    task = build_plan(["baseline"], runs=runs, horizon=60, chunk_size=runs).chunks()[0]
    ds = simulate(task.scenario, runs=runs)
    layouts = {"old": lambda: storable_v2(ds, task), "new": lambda: storable(ds, task)}
    times: dict[str, list[float]] = {k: [] for k in layouts}
    reads: dict[str, list[float]] = {k: [] for k in layouts}
    info: dict[str, dict] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-format-"))
    try:
        for _ in range(repeats):
            for k, make in layouts.items():
                t0 = time.perf_counter()
                blob = encode_netcdf(make(), {})   # what a chunk write costs: layout + encoding
                times[k].append(time.perf_counter() - t0)
                path = tmp / f"{k}.nc"
                path.write_bytes(blob)
                t0 = time.perf_counter()
                with xr.open_dataset(path, engine="h5netcdf") as f:
                    back = with_member_names(f.load())
                    _ = back["param_repression"].values, back["contrib_syria_divergence"].values
                reads[k].append(time.perf_counter() - t0)
                info[k] = {"variables": len(make().data_vars), "bytes": len(blob)}
                assert np.array_equal(back["relations"].values, ds["relations"].values)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = {k: info[k] | {"write": statistics.median(times[k]), "read": statistics.median(reads[k])} for k in layouts}
    res["runs"], res["repeats"] = runs, repeats
    res["per_variable_ms"] = 1e3 * (res["old"]["write"] - res["new"]["write"]) / (
        res["old"]["variables"] - res["new"]["variables"])
    for k in layouts:
        print(f"chunk format {k}: {res[k]['variables']} variables, {res[k]['bytes'] / 1e6:.1f} MB, write (encode) "
              f"median {res[k]['write']:.3f} s, read {res[k]['read']:.3f} s", flush=True)
    print(f"  new/old: write {res['new']['write'] / res['old']['write']:.2f}x, read "
          f"{res['new']['read'] / res['old']['read']:.2f}x; about {res['per_variable_ms']:.1f} ms per variable",
          flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40_000, help="runs for the throughput comparison")
    ap.add_argument("--chunk-size", type=int, default=10_000)
    ap.add_argument("--big-runs", type=int, default=1_000_000, help="runs for the memory test (0 to skip)")
    ap.add_argument("--no-docs", action="store_true", help="do not write the figures into docs/batch.md")
    ap.add_argument("--tmp", default=None, help="scratch folder (default: system temp)")
    ap.add_argument("--format-only", action="store_true", help="only the chunk format comparison")
    a = ap.parse_args()

    fmt = bench_format()
    if not a.no_docs:
        write_format_docs(fmt)
    if a.format_only:
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-", dir=a.tmp))
    free = shutil.disk_usage(tmp).free / 1e9
    print(f"scratch {tmp} ({free:.0f} GB free); {os.cpu_count()} CPUs ({cpu_model()})", flush=True)
    rows, checks = [], []
    try:
        for label, extra in (("full ensembles", []), ("summaries only (--variables none)", ["--variables", "none"])):
            for workers in (1, 2):
                out = tmp / f"tp-{workers}-{len(extra)}"
                args = ["baseline", "--runs", str(a.runs), "--horizon", "60", "--chunk-size", str(a.chunk_size),
                        "--out", str(out), *extra] + (["--workers", str(workers)] if workers > 1 else [])
                r = run_batch_process(args)
                secs, rate = manifest_rate(out)
                rows.append({"what": label, "workers": workers, "runs": a.runs, "seconds": secs, "rate": rate,
                             "peak_tree_mb": r["peak_tree_mb"]})
                print(f"{label:<36} workers={workers}: {a.runs:,} runs in {secs:6.1f} s = {rate:7,.0f} runs/s "
                      f"(peak RSS {r['peak_tree_mb']:.0f} MB)", flush=True)
                if workers == 1:
                    checks.append(estimate_and_verify(args, out))
                shutil.rmtree(out)
        big = None
        if a.big_runs:
            out = tmp / "big"
            need = a.big_runs * 9.9e3 / 1e9
            if need > 0.9 * free:
                raise SystemExit(f"need ~{need:.0f} GB for {a.big_runs:,} runs; only {free:.0f} GB free")
            args = ["baseline", "--runs", str(a.big_runs), "--horizon", "60", "--chunk-size", str(a.chunk_size),
                    "--workers", "2", "--out", str(out)]
            print(f"memory test: {a.big_runs:,} runs x 60 months, 2 workers, chunk {a.chunk_size:,} ...", flush=True)
            r = run_batch_process(args, sample=0.05)
            secs, rate = manifest_rate(out)
            big = {"runs": a.big_runs, "seconds": secs, "rate": rate, "disk_gb": du_gb(out),
                   "peak_tree_mb": r["peak_tree_mb"], "peak_process_mb": r["peak_process_mb"],
                   "wall": r["wall_seconds"]}
            print(f"  {a.big_runs:,} runs in {secs:.0f} s ({rate:,.0f} runs/s); peak RSS of the process tree "
                  f"{big['peak_tree_mb']:.0f} MB (largest single process {big['peak_process_mb']:.0f} MB); "
                  f"{big['disk_gb']:.1f} GB on disk", flush=True)
            shutil.rmtree(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not a.no_docs:
        write_docs(rows, big, a)


def estimate_and_verify(args: list[str], out: Path) -> dict:
    """The --dry-run disk estimate against the bytes written, and the time a --resume of
    the finished batch takes to verify every chunk (sizes, sha256, identities)."""
    fresh = [f"{a}-dry" if a == str(out) else a for a in args]  # the estimate for the whole batch
    plan = subprocess.run([sys.executable, "-m", "model.cli", "batch", *fresh, "--dry-run"],
                          capture_output=True, text=True, check=True).stdout
    est = plan.split("estimate: ")[1].split(" on disk")[0]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "model.cli", "batch", *args, "--resume", "-q"], capture_output=True,
                   check=True)
    verify = time.perf_counter() - t0
    used = du_gb(out)
    print(f"  dry-run disk estimate {est}; written {used:.3f} GB; "
          f"--resume verifying every chunk: {verify:.1f} s", flush=True)
    return {"estimate": est, "written_gb": used, "verify_seconds": verify}


def _machine_line() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} CPUs ({cpu_model()}), Python "
            f"{sys.version.split()[0]}, load average {load:.1f} (a shared machine: compare the ratios, measured "
            "side by side, rather than the absolute times).")


def write_format_docs(f: dict) -> None:
    o, n = f["old"], f["new"]
    lines = [_machine_line(), "",
             f"One {f['runs']:,}-run x 60-month chunk with every variable, encoded to NetCDF in memory (what a "
             f"chunk write costs) and read back with the `param_*`/`contrib_*` views; median of {f['repeats']}, "
             "the two layouts interleaved:", "",
             "| layout | NetCDF variables | size | write | read |", "|---|---|---|---|---|",
             f"| format 2: a variable per parameter and per driver | {o['variables']} | {o['bytes'] / 1e6:.1f} MB | "
             f"{o['write']:.3f} s | {o['read']:.3f} s |",
             f"| format 3: `params (run, param)`, `contrib (run, driver, time)` | {n['variables']} | "
             f"{n['bytes'] / 1e6:.1f} MB | {n['write']:.3f} s | {n['read']:.3f} s |",
             f"| ratio, new / old | | {n['bytes'] / o['bytes']:.2f} | **{n['write'] / o['write']:.2f}** | "
             f"{n['read'] / o['read']:.2f} |", "",
             f"That is about {f['per_variable_ms']:.1f} ms of HDF5 overhead per variable saved."]
    _replace_block("<!-- bench-format:start -->", "<!-- bench-format:end -->", lines)


def _replace_block(start: str, end: str, lines: list[str]) -> None:
    text = DOC.read_text(encoding="utf-8")
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + start + "\n" + "\n".join(lines) + "\n" + end + tail
    else:
        text += "\n" + start + "\n" + "\n".join(lines) + "\n" + end + "\n"
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote the figures into {DOC}")


def write_docs(rows: list[dict], big: dict | None, a) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} CPUs (`nproc` = "
             f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}), "
             f"{cpu_model()}, Python {sys.version.split()[0]}; `python benchmarks/bench_batch.py`. "
             f"Load average at the end: {load:.1f} (the machine was shared with other jobs, so treat the "
             "figures as indicative).", "",
             f"Throughput, scenario `baseline`, {a.runs:,} runs x 60 months, chunk size {a.chunk_size:,}:", "",
             "| what | workers | seconds | runs/s | peak RSS, process tree |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['what']} | {r['workers']} | {r['seconds']:.1f} | {r['rate']:,.0f} | "
                     f"{r['peak_tree_mb']:,.0f} MB |")
    if big:
        lines += ["", f"Memory: {big['runs']:,} runs x 60 months, all variables, 2 workers, chunk size "
                  f"{a.chunk_size:,}: peak RSS of the whole process tree **{big['peak_tree_mb']:,.0f} MB** "
                  f"(largest single process {big['peak_process_mb']:,.0f} MB), {big['seconds']:,.0f} s "
                  f"({big['rate']:,.0f} runs/s), **{big['disk_gb']:.1f} GB** on disk "
                  f"({big['disk_gb'] * 1e9 / big['runs'] / 1e3:.1f} KB per run)."]
    _replace_block("<!-- bench:start -->", "<!-- bench:end -->", lines)


if __name__ == "__main__":
    main()
