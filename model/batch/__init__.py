"""Batch scenario runs: many scenarios or sweep points, chunked, resumable, parallel.

>>> from model.batch import build_plan, run_batch, load_batch
>>> plan = build_plan(["baseline"], runs=20_000, chunk_size=5_000)
>>> report = run_batch(plan, "out/baseline-20k", workers=2)
>>> b = load_batch("out/baseline-20k"); b.summary; b.open("baseline")
>>> plan = build_plan(["baseline"], design="sample.csv")          # one run per row of a design
>>> analyze_sweep("out/saltelli")                                  # Sobol'/Morris indices of a saltelli/morris sweep

See docs/batch.md. Submodules are imported lazily so ``dialogue --help`` stays fast.
"""

from __future__ import annotations

_EXPORTS = {
    "build_plan": "model.batch.plan", "BatchPlan": "model.batch.plan", "ChunkTask": "model.batch.plan",
    "Point": "model.batch.plan", "parse_variables": "model.batch.plan",
    "run_batch": "model.batch.runner", "BatchReport": "model.batch.runner", "plan_text": "model.batch.runner",
    "load_batch": "model.batch.store", "Batch": "model.batch.store",
    "load_sweep": "model.batch.sweep", "parse_sweep": "model.batch.sweep", "Sweep": "model.batch.sweep",
    "run_chunk": "model.batch.chunks", "build_summary": "model.batch.summary",
    "summary_columns": "model.batch.summary",
    "analyze_sweep": "model.batch.analysis", "load_design": "model.batch.design_file",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'model.batch' has no attribute {name!r}")
