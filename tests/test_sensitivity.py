"""Sensitivity analysis: SALib's estimators through our path, and the model's own."""

from __future__ import annotations

import numpy as np
import pytest

from model import DialogueError, sensitivity
from model.cli import main
from model.params import registry
from model.sensitivity import analyze, factors, problem, sample_unit, to_values, tornado, tornado_sentence

# Ishigami (a=7, b=0.1) on [-pi, pi]^3; analytic indices (Ishigami & Homma 1990).
A, B = 7.0, 0.1
V = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
VT3 = 8 * B**2 * np.pi**8 / 225
S1 = np.array([V1 / V, V2 / V, 0.0, 0.0])
ST = np.array([(V1 + VT3) / V, V2 / V, VT3 / V, 0.0])
PROB = {"num_vars": 4, "names": ["x1", "x2", "x3", "dummy"], "bounds": [[0.0, 1.0]] * 4}


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u  # percentiles -> values, as the registry's inverse CDF does for the model
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


@pytest.fixture(scope="module")
def ishigami_indices():
    u, block = sample_unit("sobol", PROB, 4096, seed=1)
    assert block == 6 and u.shape == (4096 * 6, 4)
    return analyze("sobol", PROB, u, ishigami(u), num_resamples=100, seed=1)


def test_sobol_recovers_ishigami_indices(ishigami_indices):
    r = ishigami_indices
    assert np.allclose(r["S1"][:3], S1[:3], atol=0.04), r["S1"]
    assert np.allclose(r["ST"][:3], ST[:3], atol=0.04), r["ST"]


def test_no_effect_parameter_has_total_index_indistinguishable_from_zero(ishigami_indices):
    r = ishigami_indices
    assert abs(r["ST"][3]) <= r["ST_conf"][3] + 1e-12
    assert abs(r["S1"][3]) <= r["S1_conf"][3]


def test_morris_ranks_ishigami():
    u, block = sample_unit("morris", PROB, 200, seed=2)
    r = analyze("morris", PROB, u, ishigami(u), num_resamples=50, seed=2)
    assert block == 5
    assert r["mu_star"][3] == 0.0  # the dummy never moves the output
    assert np.argsort(-r["mu_star"])[:2].tolist() in ([0, 1], [1, 0])


def test_factors_use_the_registry_distribution(baseline):
    fs = {f.name: f for f in factors(baseline, "uncertain")}
    # The parameters the baseline fixes (definitions, such as the protest share that makes a regime crisis).
    fixed = [n for n, st in baseline.params.items() if st.dist == "fixed"]
    assert fixed and set(fs) == set(baseline.params) - set(fixed)
    rep = fs["repression"]  # beta(mean 0.6, sd 0.1) on [0, 1]
    vals = rep.values(np.linspace(0.0005, 0.9995, 2000))
    assert np.mean(vals) == pytest.approx(0.6, abs=0.01) and np.std(vals) == pytest.approx(0.1, abs=0.01)
    # A fixed parameter, asked for with "all", varies over its whole valid range.
    allf = {f.name: f for f in factors(baseline, "all")}
    name = fixed[0]
    assert allf[name].over_range and not fs.get(name)
    v = to_values([allf[name]], np.array([[0.0], [1.0]]))[name]
    spec = registry()[name]
    assert v.iloc[0] == pytest.approx(spec.low) and v.iloc[1] == pytest.approx(spec.high)
    assert [f.name for f in factors(baseline, "headline")] == ["protest_growth", "repression", "syria_divergence",
                                                              "trade_growth"]
    assert problem(factors(baseline, "headline"))["bounds"] == [[0.0, 1.0]] * 4


def test_model_sensitivity_table_and_tornado_agree(baseline):
    """The tornado's top parameter is the one with the largest total index, or within its interval."""
    res = sensitivity(baseline, n=256, outputs="confrontation_or_worse", by_year=False, seed=11)
    t = res.at_horizon("confrontation_or_worse")
    assert {"method", "output", "year", "param", "label", "S1", "S1_conf", "ST", "ST_conf"} <= set(res.table)
    uncertain = sum(st.dist != "fixed" for st in baseline.params.values())
    assert len(t) == len(res.factors) == uncertain and res.runs == 256 * (uncertain + 2)
    top_st = t.iloc[0]
    tor = tornado(baseline, runs=400, seed=11)
    top_tor = tor.iloc[0]
    st_of = t.set_index("param")
    assert (top_tor["param"] == top_st["param"]
            or st_of.loc[top_tor["param"], "ST"] + st_of.loc[top_tor["param"], "ST_conf"]
            >= top_st["ST"] - top_st["ST_conf"])
    assert tor["swing"].is_monotonic_decreasing
    assert (tor["low_pct"] == 0.1).all() and (tor["high_pct"] == 0.9).all()
    # Common random numbers: the base is the plain ensemble's share on the same runs.
    from model import simulate

    ds = simulate(baseline, runs=400, seed=11)
    assert tor["base"].iloc[0] == pytest.approx(np.isin(ds["outcome"].values, ["rupture", "confrontation"]).mean())
    assert "moves it most for" in tornado_sentence(tor)
    assert "assumptions carry" in res.sentence() or "assumption carries" in res.sentence()


def test_by_year_and_constant_outputs(baseline):
    res = sensitivity(baseline, n=64, outputs="sanctions,relations", horizon=24, params="headline")
    assert sorted(res.table["month"].unique()) == [11, 23]
    assert set(res.table["output"]) == {"sanctions", "relations"}
    short = sensitivity(baseline, n=64, outputs="sanctions", horizon=1, params="headline", by_year=False)
    assert short.table["constant"].all()  # no sanctions in one month: nothing to attribute
    assert "same in every run" in short.text()


@pytest.mark.parametrize("kw, words", [
    ({"method": "sobal"}, "did you mean 'sobol'"),
    ({"n": 100}, "not a power of two"),
    ({"n": 16}, "too small"),
    ({"outputs": "ruptur"}, "did you mean 'rupture'"),
    ({"params": "represion"}, "did you mean 'repression'"),
    ({"method": "delta", "outputs": "rupture"}, "continuous output"),
])
def test_bad_inputs(baseline, kw, words):
    with pytest.raises(DialogueError, match=words):
        sensitivity(baseline, **kw)


@pytest.mark.parametrize("args, words", [
    (["--method", "sobal"], "did you mean 'sobol'"),
    (["--n", "8"], "too small"),
    (["--outputs", "ruptur"], "did you mean 'rupture'"),
    (["--params", "represion"], "did you mean 'repression'"),
])
def test_cli_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, args, words):
    out = tmp_path / "sens"
    code = main(["sensitivity", "baseline", *args, "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("dialogue: error: ") and words in err
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_tables_and_charts(tmp_path, capsys):
    out = tmp_path / "sens"
    code = main(["sensitivity", "baseline", "--n", "64", "--outputs", "confrontation_or_worse,relations",
                 "--horizon", "24", "--params", "headline", "--tornado-runs", "60", "--out", str(out)])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "P(confrontation or worse) in Feb 2015" in text and "One at a time" in text  # a state: "in"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["sensitivity.csv", "sensitivity.parquet", "sobol-by-year.png", "sobol.png", "summary.txt",
                     "tornado.csv", "tornado.parquet", "tornado.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["sens"]  # no temporary folder left behind
    import pandas as pd

    t = pd.read_parquet(out / "sensitivity.parquet")
    assert len(t) == 2 * 2 * 4  # outputs x years x parameters


def test_dates_read_by_for_events_and_in_for_states():
    from model.sensitivity import EVENT_OUTPUTS, OUTPUTS, at_date

    assert at_date("dialogue_suspended", "Feb 2018") == "by Feb 2018"
    assert at_date("relations", "Feb 2018") == "in Feb 2018"
    assert at_date("confrontation_or_worse", "Feb 2018") == "in Feb 2018"
    assert EVENT_OUTPUTS <= set(OUTPUTS)


def test_sentence_leaves_out_a_first_order_sum_too_noisy_to_state():
    import pandas as pd

    from model.sensitivity import SensitivityResult

    class Fixed(SensitivityResult):
        """Only what sentence() reads: a two-row table at the horizon."""

        def __init__(self, conf: float):
            self.method, self.conf, self.means, self.runs = "sobol", conf, {"confrontation_or_worse": 0.5}, 2000

        horizon_date = "2018-02"

        def at_horizon(self, output):
            return pd.DataFrame({"label": ["Repression", "Syria weight"], "ST": [0.6, 0.3], "ST_conf": [0.05, 0.05],
                                 "S1": [0.3, 0.1], "S1_conf": [self.conf, self.conf], "constant": [False, False]})

    assert "explain 40% of its variance" in Fixed(0.02).sentence()
    assert "explain" not in Fixed(0.2).sentence()


def test_delta_runs_on_a_parameter_whose_name_ends_in_step():
    """SALib's delta estimator refuses column names ending in '_step' (ngo_step does): the names are
    neutralised before it runs, and the indices still come back one per parameter, in order."""
    from model.sensitivity import sensitivity as run

    res = run("baseline", method="delta", n=256, params=["ngo_step", "repression"], outputs=["relations"],
              by_year=False)
    t = res.table
    assert list(t["param"]) == ["ngo_step", "repression"]
    assert t["delta"].notna().all() and (t["delta"] >= 0).all()
