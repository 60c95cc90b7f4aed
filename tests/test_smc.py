"""Sequential Monte Carlo (model/smc.py): the arithmetic against a Kalman filter, the
engine's reindexing, conditioning that holds, moves in the rules' direction, and
reproducibility."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from model import load_scenario, simulate, summarize
from model.analysis import event_cumprob, fan, weighted_quantile
from model.engine import Model
from model.errors import DialogueError
from model.observations import Observation, holds, log_likelihood, parse_observations
from model.results import add_weights
from model.rng import Streams
from model.shocks import shock_months
from model.smc import condition, ess, liu_west, normalise, report, resample_uniform, systematic

SRC = 'source = "invented for illustration"\n'


def _obs(*entries: str):
    return parse_observations("".join(f"[[observation]]\n{e}{SRC}\n" for e in entries), "obs.toml")


def _data(ds: xr.Dataset) -> xr.Dataset:
    """The numbers, without the creation time."""
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k != "created"}
    return out


# ---------------------------------------------------------------- the arithmetic


def test_systematic_resampling_counts_and_zero_weights():
    w = np.array([0.0, 0.5, 0.0, 0.25, 0.125, 0.125])
    for u in (1e-9, 0.3, 0.5, 0.999999):
        idx = systematic(w, u)
        counts = np.bincount(idx, minlength=w.size)
        assert counts.sum() == w.size
        assert counts[0] == counts[2] == 0  # weight 0 never chosen
        assert np.all(np.abs(counts - w.size * w) < 1)  # floor(n w) or one more
        assert np.all(np.diff(idx) >= 0)


def test_normalise_and_ess():
    w = normalise(np.log(np.array([1.0, 1.0, 2.0])))
    assert np.allclose(w, [0.25, 0.25, 0.5])
    assert ess(np.full(8, 1 / 8)) == pytest.approx(8)
    assert ess(np.array([1.0, 0, 0])) == pytest.approx(1)
    assert not normalise(np.array([-np.inf, -np.inf])).any()


def test_resample_uniform_is_keyed():
    u = resample_uniform(7, 1, 3)
    assert u == resample_uniform(7, 1, 3)
    assert len({u, resample_uniform(7, 2, 3), resample_uniform(7, 1, 4), resample_uniform(8, 1, 3)}) == 4


def test_generation_zero_is_todays_streams_and_later_ones_differ():
    ids = np.arange(5000)
    g0, plain, g1 = Streams(3, ids, 0), Streams(3, ids), Streams(3, ids, 1)
    assert np.array_equal(g0.uniform("exports", 4), plain.uniform("exports", 4))
    u0, u1 = plain.uniform("exports", 4), g1.uniform("exports", 4)
    assert not np.any(u0 == u1)
    assert abs(np.corrcoef(u0, u1)[0, 1]) < 0.05
    assert abs(u1.mean() - 0.5) < 0.02


def test_kalman_filter_toy():
    """x_t = 0.9 x_{t-1} + N(0, 0.5^2), y_t = x_t + N(0, 0.7^2): the bootstrap filter, weighing
    with the observations module's Gaussian and resampling with model.smc, matches the
    Kalman filter's mean and variance within Monte Carlo error."""
    a, q, r, steps, n = 0.9, 0.5, 0.7, 12, 20_000
    gen = np.random.default_rng(0)
    x_true, ys = 0.0, []
    for _ in range(steps):
        x_true = a * x_true + q * gen.standard_normal()
        ys.append(x_true + r * gen.standard_normal())
    ids = np.arange(n)
    x = Streams(1, ids, 0).normal("x0")  # prior N(0, 1)
    m_k, p_k = 0.0, 1.0
    rows = np.zeros((steps, n))
    generation = 0
    for t, y in enumerate(ys):
        rng = Streams(1, ids, generation)
        rng.month = t
        x = a * x + q * rng.normal("noise")
        rows[t] = x
        ob = Observation(variable="relations", month="2013-03", value=float(y), sd=r, source="toy")
        w = normalise(log_likelihood(ob, {"relations": rows}.__getitem__, t, t))
        mean = float(np.dot(w, x))
        var = float(np.dot(w, (x - mean) ** 2))
        # Kalman
        m_pred, p_pred = a * m_k, a * a * p_k + q * q
        gain = p_pred / (p_pred + r * r)
        m_k, p_k = m_pred + gain * (y - m_pred), (1 - gain) * p_pred
        n_eff = ess(w) / 3  # resampling history costs precision: a conservative margin
        assert abs(mean - m_k) < 5 * np.sqrt(p_k / n_eff), (t, mean, m_k)
        assert abs(var / p_k - 1) < 5 * np.sqrt(2 / n_eff), (t, var, p_k)
        generation += 1
        idx = systematic(w, resample_uniform(1, generation, t))
        x, rows = x[idx], rows[:, idx]


def test_liu_west_keeps_mean_and_spread_inside_support():
    n = 20_000
    s = Streams(2, np.arange(n))
    params = {"a": 0.2 + 0.3 * s.uniform("a", 0), "b": 1.0 + s.uniform("b", 0)}
    z = {k: s.normal(f"z:{k}") for k in params}
    moved = liu_west(params, {"a": (0.2, 0.5), "b": (1.0, 2.0)}, z)
    for k, (lo, hi) in {"a": (0.2, 0.5), "b": (1.0, 2.0)}.items():
        assert np.all((moved[k] > lo) & (moved[k] < hi))
        assert abs(moved[k].mean() - params[k].mean()) < 0.02 * (hi - lo)
        assert abs(moved[k].std() / params[k].std() - 1) < 0.05
        assert np.corrcoef(moved[k], params[k])[0, 1] > 0.9  # a small move
        assert not np.array_equal(moved[k], params[k])


def test_weighted_quantile():
    x = np.array([3.0, 1.0, 2.0, 10.0])
    assert np.allclose(weighted_quantile(x, [0.5], None), np.quantile(x, [0.5]))
    w = np.array([0.0, 0.0, 1.0, 0.0])
    assert np.allclose(weighted_quantile(x, [0.1, 0.9], w), [2.0, 2.0])


# ---------------------------------------------------------------- the engine


def test_reindex_moves_every_per_run_array():
    """Stop a model at a month, reorder its runs (keying their randomness to the runs they
    now hold) and carry on: every run must end exactly as it does in a model built in that
    order from the start. Anything per-run that reindex forgot would show. major_incident has
    a windowed shock, so the per-run shock months are exercised too."""
    sc = load_scenario("major_incident")
    n, horizon, stop = 300, 24, 2  # stop inside the shock's window (2013-04..2013-06)
    perm = np.random.default_rng(4).permutation(n)
    a = Model(sc, np.arange(n), 9, horizon)
    a.advance(stop)
    a.run_ids = a.run_ids[perm]
    a.reindex(perm, 0)
    a.advance(horizon)
    b = Model(sc, perm, 9, horizon)
    b.run()
    for k in a.out:
        assert np.array_equal(a.out[k], b.out[k]), k
    for k, v in vars(b.p).items():
        assert np.array_equal(getattr(a.p, k), v), k
    assert np.array_equal(shock_months(a), shock_months(b))


def test_advancing_in_steps_changes_no_number():
    sc = load_scenario("baseline")
    a = Model(sc, np.arange(200), 5, 24)
    for t in (1, 5, 6, 13, 24):
        a.advance(t)
    b = Model(sc, np.arange(200), 5, 24)
    b.run()
    for k in a.out:
        assert np.array_equal(a.out[k], b.out[k]), k


# ---------------------------------------------------------------- conditioning


@pytest.fixture(scope="module")
def conditioned():
    obs = _obs('event = "expulsion_round"\nuntil = "2013-08"\nhappened = false\n',
               'event = "major_incident"\nmonth = "2013-04"\nuntil = "2013-09"\n',
               'variable = "exports_gbp_m"\nmonth = "2013-07"\nvalue = 470.0\nsd = 30.0\n',
               'event = "dialogue_resumed"\nmonth = "2013-05"\nuntil = "2014-06"\n')
    return obs, simulate("baseline", runs=1500, seed=21, observations=obs)


def test_observed_events_hold_in_every_posterior_run(conditioned):
    obs, post = conditioned
    for ob in obs.entries:
        if ob.is_event:
            assert holds(ob, post).all(), ob
    assert np.all(post["weight"].values == post["weight"].values[0])


def test_posterior_records_weights_ancestry_and_ess(conditioned):
    obs, post = conditioned
    info = json.loads(post.attrs["smc"])
    steps = [s for u in info["updates"] for s in u["observations"]]
    assert [s["index"] for s in sorted(steps, key=lambda s: s["index"])] == [0, 1, 2, 3]
    assert all(0 < s["ess"] <= 1500 for s in steps)
    assert post["weight"].sum() == pytest.approx(1.0)
    assert post["ancestor"].min() >= 0 and post["ancestor"].max() < 1500
    assert info["updates"][-1]["distinct"] == np.unique(post["ancestor"]).size
    assert post.attrs["observations_toml"] == obs.text
    # the surprising incident window degenerates the ensemble: the parameters were moved
    assert any(u["rejuvenated"] for u in info["updates"])


def test_same_seed_bit_identical(conditioned):
    obs, post = conditioned
    again = simulate("baseline", runs=1500, seed=21, observations=obs)
    assert _data(again).identical(_data(post))


def test_observation_every_run_meets_changes_nothing():
    """The article's 2+2 finds its formula in every run: conditioning on it leaves the
    forecast bit for bit as it was (no resampling, generation 0 throughout)."""
    prior = simulate("baseline", runs=400, seed=5)
    post = simulate("baseline", runs=400, seed=5, observations=_obs('event = "formula"\nmonth = "2013-03"\n'))
    for k in prior.data_vars:
        assert np.array_equal(prior[k].values, post[k].values), k
    assert summarize(post).to_dict() == summarize(prior).to_dict()


def test_likely_observation_barely_moves_the_forecast():
    prior = simulate("baseline", runs=2000, seed=8)
    obs = _obs('event = "major_incident"\nuntil = "2013-05"\nhappened = false\n')
    p_match = 1 - holds(obs.entries[0], prior).mean()
    assert 0 < p_match < 0.05  # it was likely, and not certain: the test has something to do
    post = simulate("baseline", runs=2000, seed=8, observations=obs)
    a, b = summarize(prior), summarize(post)
    for k in a.events:
        assert abs(a.events[k][0] - b.events[k][0]) < 0.05, k
    for k in a.outcomes:
        assert abs(a.outcomes[k][0] - b.outcomes[k][0]) < 0.05, k


def test_surprising_incident_moves_the_forecast_the_rules_way():
    """A Litvinenko-scale incident in June 2013 (invented): the UK's ladder responds, so the
    dialogue is suspended more often and relations end lower."""
    prior = simulate("baseline", runs=3000, seed=3)
    post = simulate("baseline", runs=3000, seed=3,
                    observations=_obs('event = "major_incident"\nmonth = "2013-06"\n'))
    a, b = summarize(prior), summarize(post)
    p0, se0 = a.events["dialogue suspended"]
    p1, se1 = b.events["dialogue suspended"]
    assert p1 - p0 > 4 * np.hypot(se0, se1)
    assert b.relations_median < a.relations_median


def test_weighted_and_resampled_summaries_agree():
    obs = _obs('variable = "exports_gbp_m"\nmonth = "2013-09"\nvalue = 520.0\nsd = 60.0\n')
    resampled = simulate("baseline", runs=3000, seed=4, observations=obs)
    weighted = simulate("baseline", runs=3000, seed=4, observations=obs, final_resample=False)
    w = weighted["weight"].values
    assert np.ptp(w) > 0
    a, b = summarize(resampled), summarize(weighted)
    for k in a.events:
        (p, se), (q, se2) = a.events[k], b.events[k]
        assert abs(p - q) <= 4 * np.hypot(se, se2) + 1e-12, k
    for k in a.outcomes:
        (p, se), (q, se2) = a.outcomes[k], b.outcomes[k]
        assert abs(p - q) <= 4 * np.hypot(se, se2) + 1e-12, k
    # the weighted summary is not the unweighted one
    plain = weighted.drop_vars("weight")
    assert summarize(plain).exports_median != b.exports_median
    assert b.exports_median == pytest.approx(a.exports_median, rel=0.05)


def test_equal_weights_summarise_exactly_as_unweighted(small_ds):
    ds = add_weights(small_ds.copy(), np.full(small_ds.sizes["run"], 1 / small_ds.sizes["run"]),
                     small_ds["run"].values, "{}", "", 0)
    assert summarize(ds).to_dict() == summarize(small_ds).to_dict()
    assert event_cumprob(ds).equals(event_cumprob(small_ds))
    assert fan(ds).equals(fan(small_ds))


def test_min_ess_draws_more_runs_or_fails():
    sc = load_scenario("baseline")
    obs = _obs('variable = "exports_gbp_m"\nmonth = "2013-06"\nvalue = 560.0\nsd = 15.0\n')
    res = condition(sc, 300, 2, 12, obs)
    assert res.min_ess < 100
    more = condition(sc, 300, 2, 12, obs, min_ess=100)
    assert more.weight.size > 300 and more.min_ess >= 100
    with pytest.raises(DialogueError, match=r"is below --min-ess 5,000 even with 600 runs"):
        condition(sc, 300, 2, 12, obs, min_ess=5000, max_runs=600)


def test_report_names_favoured_assumptions():
    prior = simulate("baseline", runs=2000, seed=6, horizon=24)
    obs = _obs('variable = "protest"\nmonth = "2013-12"\nvalue = 0.16\nsd = 0.01\n')
    post = simulate("baseline", runs=2000, seed=6, horizon=24, observations=obs)
    rep = report(prior, post)
    assert list(rep.steps["description"]) == ["protest in 2013-12 = 0.16 +/- 0.01"]
    assert set(rep.probabilities.columns) == {"quantity", "prior", "posterior", "change"}
    shift = rep.parameters.set_index("name")["shift"]
    # More protest than the prior expected: the growth of discontent moved up, clearly.
    assert shift["protest_growth"] > 0.15
    assert any("(protest_growth)" in s for s in rep.favoured)
    assert all(s.startswith("the observations favour") for s in rep.favoured)
    assert "Updated on 1 observation through 2013-12" in rep.text()


def test_reference_engine_and_design_refused():
    obs = _obs('event = "formula"\nmonth = "2013-03"\n')
    with pytest.raises(DialogueError, match="'reference' engine runs one run at a time and cannot condition"):
        simulate("baseline", runs=10, engine="reference", observations=obs)
    import pandas as pd

    with pytest.raises(DialogueError, match="cannot be combined with a design"):
        simulate("baseline", design=pd.DataFrame({"repression": [0.3, 0.9]}), observations=obs)
    with pytest.raises(DialogueError, match="min_ess applies only with observations"):
        simulate("baseline", runs=10, min_ess=5)


def test_history_before_the_first_update_is_the_ancestors_prior_run(conditioned):
    """Up to the first observation month every posterior run is, bit for bit, the prior run
    it descends from: the reindexing carried each run's history and its ancestry correctly
    through every later resampling."""
    _obs_, post = conditioned
    prior = simulate("baseline", runs=1500, seed=21)
    first = min(json.loads(post.attrs["smc"])["updates"], key=lambda u: u["month"])["month"]
    t = int(np.flatnonzero(post["time"].dt.strftime("%Y-%m").values == first)[0])
    anc = post["ancestor"].values
    assert np.unique(anc).size < anc.size  # resampling did happen
    for var in ("relations", "protest", "exports_gbp_m", "dialogue_active", "contrib_trade_growth"):
        assert np.array_equal(post[var].values[:, :t + 1], prior[var].values[anc, :t + 1]), var
    # The parameters were rejuvenated (the incident window is surprising): moved a little.
    assert any(u["rejuvenated"] for u in json.loads(post.attrs["smc"])["updates"])
    before, after = prior["param_repression"].values[anc], post["param_repression"].values
    assert not np.array_equal(before, after)
    assert np.corrcoef(before, after)[0, 1] > 0.8


@pytest.mark.parametrize("stop", [2, 16, 18, 19])  # in the shock window; in, at the end of and after a campaign
def test_fork_resumes_the_calendar_exactly(stop):
    """A fork at a month, run to the horizon, is the model run straight through: state,
    history, shock plan, campaign and simpy calendar all carried over."""
    sc = load_scenario("major_incident")
    a = Model(sc, np.arange(200), 13, 30)
    a.advance(stop)
    b = a.fork()
    b.advance(30)
    a.advance(30)
    for k in a.out:
        assert np.array_equal(a.out[k], b.out[k]), k


def test_stepwise_forecasts_are_the_forks_of_each_update():
    """With stepwise, each update but the last records the key probabilities given the
    observations so far; the forks leave the posterior itself unchanged."""
    obs = _obs('event = "major_incident"\nmonth = "2013-06"\n',
               'event = "dialogue_resumed"\nmonth = "2013-07"\nuntil = "2014-12"\n')
    plain = simulate("baseline", runs=800, seed=2, horizon=36, observations=obs)
    step = simulate("baseline", runs=800, seed=2, horizon=36, observations=obs, stepwise=True)
    assert _data(plain.drop_attrs()).identical(_data(step.drop_attrs()))
    ups = json.loads(step.attrs["smc"])["updates"]
    assert ups[-1]["forecast"] is None and ups[0]["forecast"]
    # after the incident alone, suspension by the horizon is (nearly) certain: the rules
    assert ups[0]["forecast"]["P(dialogue suspended by 2016-02)"] > 0.9
    rep = report(simulate("baseline", runs=800, seed=2, horizon=36), step)
    assert list(rep.probabilities.columns)[-1] == "through 2013-06"
    assert "prior -> given the observations through each month -> posterior" in rep.text()
