"""Comparative statics of the four headline drivers and of the levers added for issue 10
(Russia's answers, the EU threshold, the foreign-plot reading, lasting crises), with
common random numbers.

Both arms use the same seed, so every run draws the same uniforms; only the
driver differs. We compare means over 2,000 runs and require the difference to
exceed 3 standard errors of the paired difference (or, for "does not lower", to
be no worse than -2 standard errors).
"""

from __future__ import annotations

import numpy as np
import pytest

from model import simulate

RUNS = 2000


def _paired(baseline, name, lo, hi, var, agg="end"):
    out = []
    for v in (lo, hi):
        ds = simulate(baseline, runs=RUNS, seed=2024, horizon=48, overrides={name: v})
        x = ds[var].astype(float)
        out.append((x.isel(time=-1) if agg == "end" else x.mean("time")).values)
    d = out[1] - out[0]
    return d.mean(), d.std(ddof=1) / np.sqrt(d.size)


@pytest.mark.parametrize("name, lo, hi", [("syria_divergence", 0.3, 0.95), ("repression", 0.35, 0.9)])
def test_divergence_and_repression_lower_relations(baseline, name, lo, hi):
    diff, se = _paired(baseline, name, lo, hi, "relations")
    assert diff < -3 * se and diff < -0.3


def test_trade_growth_raises_exports_and_does_not_lower_relations(baseline):
    diff, se = _paired(baseline, "trade_growth", 0.0, 0.25, "exports_gbp_m")
    assert diff > 3 * se and diff > 50
    rdiff, rse = _paired(baseline, "trade_growth", 0.0, 0.25, "relations")
    assert rdiff > -2 * rse


def test_protest_growth_raises_repression(baseline):
    diff, se = _paired(baseline, "protest_growth", 0.0, 0.06, "repression", agg="mean")
    assert diff > 3 * se and diff > 0.02


def test_pressure_read_as_a_foreign_plot_raises_threat_and_repression(baseline):
    diff, se = _paired(baseline, "foreign_plot", 0.0, 0.6, "threat", agg="mean")
    assert diff > 3 * se and diff > 0
    diff, se = _paired(baseline, "foreign_plot", 0.0, 0.6, "repression", agg="mean")
    assert diff > 3 * se and diff > 0


def test_a_lower_eu_threshold_brings_more_sanctions_and_lower_relations(baseline):
    diff, se = _paired(baseline, "eu_threshold", 12.0, 3.0, "sanctions", agg="mean")
    assert diff > 3 * se and diff > 0.01
    diff, se = _paired(baseline, "eu_threshold", 12.0, 3.0, "relations", agg="mean")
    assert diff < -3 * se


def test_more_reciprocity_brings_more_russian_expulsions_and_does_not_raise_relations(baseline):
    diff, se = _paired(baseline, "reciprocity", 0.2, 1.0, "russian_expulsions", agg="mean")
    assert diff > 3 * se and diff > 0
    rdiff, rse = _paired(baseline, "reciprocity", 0.2, 1.0, "relations", agg="mean")
    assert rdiff < 2 * rse


def test_longer_crises_lower_relations(baseline):
    diff, se = _paired(baseline, "crisis_duration", 0.5, 12.0, "relations", agg="mean")
    assert diff < -3 * se
