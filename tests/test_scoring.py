"""Forecast scoring (issue 9): each score against a hand computation, calibration of
synthetic forecasters, the baselines, and `dialogue score` end to end."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from model import simulate
from model.analysis import event_flags
from model.calibration import calibrate_trade
from model.errors import DialogueError
from model.resolutions import parse_resolutions
from model.results import load, save
from model.scoring import (
    brier,
    clipped,
    covered,
    crps_ensemble,
    export_baselines,
    log_score,
    lognormal_scores,
    parse_baselines,
    pit_ensemble,
    score,
    smoothed,
)

EXE = [shutil.which("dialogue")] if shutil.which("dialogue") else [sys.executable, "-m", "model.cli"]


# ---------------------------------------------------------------- each score by hand

def test_crps_of_a_small_sample_by_hand():
    # E|X - y| = (1.5 + 0.5 + 1.5) / 3; E|X - X'| = (2 * (1 + 3 + 2)) / 9; CRPS = 7/6 - 2/3 = 1/2
    assert crps_ensemble(2.5, np.array([1.0, 2.0, 4.0])) == pytest.approx(0.5, abs=1e-12)
    # Outside the sample: E|X - y| = (4 + 3 + 1) / 3 = 8/3; minus 2/3 -> 2
    assert crps_ensemble(5.0, np.array([1.0, 2.0, 4.0])) == pytest.approx(2.0, abs=1e-12)


def test_crps_matches_the_direct_formula_and_the_normal_closed_form():
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    direct = np.abs(x - 0.3).mean() - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
    assert crps_ensemble(0.3, x) == pytest.approx(direct, rel=1e-10)
    # A large N(0, 1) ensemble against the closed form (Gneiting & Raftery 2007, eq. 5).
    big = stats.norm.ppf((np.arange(20_000) + 0.5) / 20_000)
    z = 0.3
    closed = z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
    assert crps_ensemble(z, big) == pytest.approx(closed, abs=1e-4)


def test_lognormal_baseline_crps_matches_numerical_integration():
    mu, sigma, y = math.log(4791.0), 0.39, 5200.0
    f = lambda x: (stats.lognorm.cdf(x, sigma, scale=math.exp(mu)) - (x >= y)) ** 2  # noqa: E731
    numeric = integrate.quad(f, 0, y, limit=200)[0] + integrate.quad(f, y, 200_000, limit=200)[0]
    s = lognormal_scores(y, mu, sigma)
    assert s["crps"] == pytest.approx(numeric, rel=1e-5)
    assert s["pit"] == pytest.approx(stats.norm.cdf((math.log(y) - mu) / sigma))
    assert s["in50"] and s["in80"] and s["in90"]  # PIT 0.58: inside every central interval


def test_brier_and_log_score_by_hand():
    assert brier(True, 0.8) == pytest.approx(0.04)
    assert brier(False, 0.3) == pytest.approx(0.09)
    assert log_score(True, 0.8) == pytest.approx(-math.log(0.8))
    assert log_score(False, 0.8) == pytest.approx(-math.log(0.2))
    # Never seen in 999 runs but it happened: (0 + 1/2) / 1000, so -ln(0.0005) = 7.6009
    assert log_score(True, smoothed(0, 999)) == pytest.approx(7.600902, abs=1e-6)
    assert clipped(0.0, 999) == pytest.approx(0.0005) and clipped(1.0, 999) == pytest.approx(0.9995)


def test_pit_by_hand():
    ens = np.array([1.0, 2.0, 3.0, 4.0])
    assert pit_ensemble(2.5, ens) == pytest.approx(0.5)
    assert pit_ensemble(2.0, ens) == pytest.approx(0.375)  # one below, one equal counted as half
    assert pit_ensemble(0.0, ens) == 0 and pit_ensemble(9.0, ens) == 1


# ---------------------------------------------------------------- calibration

def _forecaster(spread: float, n: int = 4000, m: int = 200, seed: int = 8):
    """n cases: truth ~ N(mu_i, 1); the forecaster's ensemble ~ N(mu_i, spread)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 3, size=n)
    obs = mu + rng.normal(size=n)
    ens = mu[:, None] + spread * rng.normal(size=(n, m))
    return obs, ens


def _coverage_ok(obs, ens, level):
    cov = covered(obs, ens, level).mean()
    se = math.sqrt(level * (1 - level) / len(obs))
    # within 4 standard errors, plus the finite ensemble's own shortfall (about 1/m)
    return abs(cov - level) <= 4 * se + 1 / ens.shape[1], cov


def test_calibrated_forecaster_covers_nominal_and_overconfident_fails():
    obs, ens = _forecaster(spread=1.0)
    for level in (0.5, 0.8, 0.9):
        ok, cov = _coverage_ok(obs, ens, level)
        print(f"calibrated: {level:.0%} interval covers {cov:.3f}")
        assert ok, (level, cov)
    assert stats.kstest(pit_ensemble(obs, ens), "uniform").pvalue > 1e-3
    obs, ens = _forecaster(spread=0.5)
    for level in (0.5, 0.8, 0.9):
        ok, cov = _coverage_ok(obs, ens, level)
        print(f"overconfident: {level:.0%} interval covers {cov:.3f}")
        assert not ok and cov < level
    assert stats.kstest(pit_ensemble(obs, ens), "uniform").pvalue < 1e-6
    # The proper score agrees: the overconfident forecaster has the worse mean CRPS.
    o1, e1 = _forecaster(spread=1.0, n=500)
    o2, e2 = _forecaster(spread=0.5, n=500)
    assert crps_ensemble(o1, e1).mean() < crps_ensemble(o2, e2).mean()


# ---------------------------------------------------------------- score() on a real ensemble

def _facts(ds) -> str:
    e2014 = float(np.median(ds["exports_gbp_m"].values[:, 10:22].sum(axis=1)))
    return f"""
[[fact]]
id = "x2014"
kind = "number"
variable = "exports_annual"
year = 2014
value = {e2014!r}
source = "INVENTED: set to the ensemble median for the test"

[[fact]]
id = "susp"
kind = "event"
event = "dialogue_suspended"
start = "2013-03"
end = "2014-12"
happened = true
source = "INVENTED for the test"

[[fact]]
id = "exp"
kind = "event"
event = "expulsions"
start = "2013-03"
end = "2014-12"
happened = false
source = "INVENTED for the test"

[[fact]]
id = "band"
kind = "state"
variable = "relations_band"
date = "2015-06"
value = "cool"
source = "INVENTED for the test"
"""


def test_score_reads_the_ensemble_and_the_baselines(small_ds):
    res = parse_resolutions(_facts(small_ds), "t.toml")
    rep = score(small_ds, res)
    f = rep.facts.set_index("id")
    m = small_ds.sizes["run"]
    # Exports 2014 = Jan-Dec 2014 = months 10..21 of a forecast from 2013-03; the value is the median.
    assert f.loc["x2014", "pit"] == pytest.approx(0.5, abs=1 / m)
    assert f.loc["x2014", ["in50", "in80", "in90"]].all()
    # Event probability equals the cumulative flag of model.analysis in the window's last month.
    t = 21  # 2014-12
    for fid, name, happened in (("susp", "dialogue suspended", True), ("exp", "diplomats expelled", False)):
        p = float(event_flags(small_ds)[name].isel(time=t).mean())
        assert f.loc[fid, "forecast"] == pytest.approx(p)
        assert f.loc[fid, "brier"] == pytest.approx((p - happened) ** 2)
        k = round(p * m)
        q = (k + 0.5) / (m + 1)
        assert f.loc[fid, "log"] == pytest.approx(-math.log(q if happened else 1 - q))
    rel = small_ds["relations"].values[:, 27]  # 2015-06
    assert f.loc["band", "forecast"] == pytest.approx(((rel > -2) & (rel <= 2)).mean())
    # Persistence: the 2012 level with the series' own volatility, two years on.
    cal = calibrate_trade()
    assert f.loc["x2014", "persistence_forecast"] == pytest.approx(cal.exports_2012)
    z = (math.log(f.loc["x2014", "observed"]) - math.log(cal.exports_2012)) / (cal.log_growth_sd * math.sqrt(2))
    assert f.loc["x2014", "persistence_pit"] == pytest.approx(stats.norm.cdf(z))
    assert export_baselines(2013).resid_sd == pytest.approx(cal.residual_sd)
    # Base rate of expulsion rounds: (4 + 1/2) rounds in 21 years, over a 22-month window.
    assert f.loc["exp", "base-rate_forecast"] == pytest.approx(1 - math.exp(-(4.5 / 21) * 22 / 12))
    # States: persistence says the March 2013 band (cool, relations +1) holds.
    assert f.loc["band", "persistence_forecast"] == 1.0
    s = rep.summary.set_index("measure")
    assert s.loc["brier:event", "model"] == pytest.approx(f.loc[["susp", "exp"], "brier"].mean())
    assert s.loc["brier:event", "ratio_base-rate"] == pytest.approx(
        f.loc[["susp", "exp"], "brier"].mean() / f.loc[["susp", "exp"], "base-rate_brier"].mean())
    assert "x2014" in rep.table() and "base-rate" in rep.table()


def test_baseline_names_are_checked():
    assert parse_baselines("trend, persistence") == ("trend", "persistence")
    assert parse_baselines("none") == ()
    with pytest.raises(DialogueError, match="did you mean 'base-rate'"):
        parse_baselines("base_rate")


# ---------------------------------------------------------------- end to end

INVENTED = """# INVENTED facts for the test: not a record of anything after March 2013.
[resolutions]
forecast_start = "2013-03"

[[fact]]
id = "exports-2014"
kind = "number"
variable = "exports_annual"
year = 2014
value = 5000.0
source = "INVENTED for the end-to-end test"

[[fact]]
id = "suspended-by-2015"
kind = "event"
event = "dialogue_suspended"
start = "2013-03"
end = "2015-12"
happened = false
source = "INVENTED for the end-to-end test"

[[fact]]
id = "sanctions-2016-01"
kind = "state"
variable = "sanctions"
date = "2016-01"
value = false
source = "INVENTED for the end-to-end test"
"""


def test_simulate_save_score_end_to_end(tmp_path, baseline):
    ds = simulate(baseline, runs=150, seed=5, horizon=48)
    nc = save(ds, tmp_path / "base.nc")
    (tmp_path / "res.toml").write_text(INVENTED)
    out = tmp_path / "scores"
    r = subprocess.run([*EXE, "score", str(nc), str(tmp_path / "res.toml"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    print(r.stdout)
    assert r.returncode == 0, r.stderr
    for fid in ("exports-2014", "suspended-by-2015", "sanctions-2016-01"):
        assert fid in r.stdout
    assert "persistence" in r.stdout and "trend" in r.stdout and "base-rate" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ["pit.png", "reliability.png", "scores.csv", "summary.csv"]
    for png in ("pit.png", "reliability.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = pd.read_csv(out / "scores.csv").set_index("id")
    again = score(load(nc), parse_resolutions(INVENTED, "res.toml")).facts.set_index("id")
    for col in ("crps", "pit", "brier", "log", "forecast", "persistence_crps", "trend_crps"):
        np.testing.assert_allclose(written[col].astype(float), again[col].astype(float), rtol=1e-12)
    crps = again.loc["exports-2014", "crps"]
    assert f"{crps:,.0f}" in r.stdout
