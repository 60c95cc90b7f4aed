"""model.reliability: the confidence rule at each of its boundaries, the numbers against
the backtest computed independently, and the brief's two notes."""

from __future__ import annotations

import html
import json

import pytest

from model import reliability as R
from model.reliability import events_confidence, exports_confidence, lowest, overall_confidence

# ---------------------------------------------------------------- the rule, on hand-built inputs

GOOD_COVERAGE = {0.5: 0.5, 0.8: 0.8, 0.9: 0.9}


def ex(cov=None, pairs=23, skill_pairs=20, sp=0.8, st=0.85, **cov_kw):
    """Export rating with one input changed from a case that is exactly 'high'."""
    c = dict(GOOD_COVERAGE) | (cov or {}) | {float(k[1:]) / 100: v for k, v in cov_kw.items()}
    return exports_confidence(c, pairs, skill_pairs, sp, st).level


def test_exports_good_case_is_high():
    assert ex() == "high"


@pytest.mark.parametrize("c80, level", [
    (0.60, "moderate"), (0.5999, "low"),   # issue 9's lower bound, inclusive (moderate: 0.6 is 20 points off 0.8)
    (0.95, "moderate"), (0.9501, "low"),   # upper bound, inclusive
    (13 / 23, "low"),                      # the coverage this backtest had when the rule was written
])
def test_exports_80_coverage_target(c80, level):
    assert ex({0.8: c80}) == level


@pytest.mark.parametrize("sp, level", [(0.9999, "moderate"), (1.0, "low"), (1.2, "low")])
def test_exports_must_beat_persistence(sp, level):
    assert ex(sp=sp, st=1.5) == level  # trend 1.5 keeps it below high


@pytest.mark.parametrize("pairs, level", [(10, "high"), (9, "low")])
def test_exports_minimum_pairs(pairs, level):
    assert ex(pairs=pairs) == level


@pytest.mark.parametrize("kw, level", [
    ({"c50": 0.40}, "high"), ({"c50": 0.39}, "moderate"), ({"c50": 0.60}, "high"), ({"c50": 0.61}, "moderate"),
    ({"c80": 0.70}, "high"), ({"c80": 0.69}, "moderate"), ({"c80": 0.90}, "high"), ({"c80": 0.91}, "moderate"),
    ({"c90": 0.80}, "high"), ({"c90": 0.79}, "moderate"), ({"c90": 1.00}, "high"),
    ({"sp": 0.90}, "high"), ({"sp": 0.91}, "moderate"), ({"st": 0.90}, "high"), ({"st": 0.91}, "moderate"),
    ({"skill_pairs": 20}, "high"), ({"skill_pairs": 19}, "moderate"),
])
def test_exports_high_boundaries(kw, level):
    cov = {k: v for k, v in kw.items() if k.startswith("c")}
    rest = {k: v for k, v in kw.items() if not k.startswith("c")}
    assert ex(**rest, **cov) == level


def test_exports_coverage_as_a_ratio_of_pairs_hits_the_bound_exactly():
    # 7/10 = 0.7 exactly in words, 0.69999... or 0.70000...1 in floats: still within 10 points of 80%.
    assert ex({0.8: 7 / 10}, pairs=10) == "high"
    assert ex({0.8: 14 / 20, 0.5: 8 / 20}) == "high"


def ev(episodes=20, outcomes=30, pairs=40, brier=0.9, fewest=None):
    eps = {"expulsions": episodes, "crisis": episodes + 3, "sanctions": episodes if fewest is None else fewest}
    return events_confidence(eps, outcomes, pairs, brier).level


def test_events_good_case_is_high():
    assert ev() == "high"


@pytest.mark.parametrize("kw, level", [
    ({"fewest": 19}, "moderate"), ({"outcomes": 29}, "moderate"), ({"brier": 0.91}, "moderate"),
    ({"fewest": 5, "outcomes": 10, "brier": 0.99}, "moderate"),
    ({"fewest": 4, "outcomes": 10, "brier": 0.5}, "low"), ({"fewest": 5, "outcomes": 9, "brier": 0.5}, "low"),
    ({"fewest": 5, "outcomes": 10, "brier": 1.0}, "low"), ({"brier": 1.0}, "low"),
    ({"fewest": 0}, "low"),  # no sanctions in the record: nothing to test the sanctions rate against
])
def test_events_boundaries(kw, level):
    assert ev(**kw) == level


def test_events_low_names_the_thin_record():
    c = events_confidence({"expulsions": 4, "sanctions": 0}, 7, 40, 0.999)
    assert c.level == "low"
    assert "4 expulsion rounds" in c.reasons[0] and "no UK or EU sanctions episodes" in c.reasons[0]
    assert c.clause == "only 4 reference episodes"


def test_overall_is_the_lower_and_never_high():
    hi = exports_confidence(GOOD_COVERAGE, 23, 20, 0.8, 0.85)
    lo = exports_confidence({0.5: 0.3, 0.8: 0.5, 0.9: 0.7}, 23, 20, 0.8, 0.85)
    ev_hi = events_confidence({"expulsions": 30}, 30, 40, 0.5)
    ev_mod = events_confidence({"expulsions": 10}, 10, 40, 0.95)
    ev_lo = events_confidence({"expulsions": 1}, 1, 40, 0.95)
    assert (hi.level, lo.level, ev_hi.level, ev_mod.level, ev_lo.level) == ("high", "low", "high", "moderate", "low")
    assert overall_confidence(hi, ev_hi).level == "moderate"  # the relations index is untested: capped
    assert overall_confidence(hi, ev_lo).level == "low"
    both = overall_confidence(lo, ev_mod)
    assert both.level == "low" and both.clause == "exports rated low, no relations series"
    assert overall_confidence(hi, ev_mod).clause.startswith(ev_mod.clause)
    assert lowest("high", "moderate") == "moderate" and lowest("moderate", "low", "high") == "low"


# ---------------------------------------------------------------- the numbers, computed independently


@pytest.fixture(scope="module")
def independent():
    """The backtest at its recorded settings and the reference class, computed here without model.reliability."""
    from model.backtest import run_backtest, skill
    from model.reference import base_rates

    res = run_backtest()
    return res, skill, base_rates()


@pytest.fixture(scope="module")
def rel():
    return R.reliability()


def test_numbers_equal_the_backtest(independent, rel):
    res, skill, rates = independent
    r = rel.record
    print(f"\n{rel.track_record_line}")
    assert r.pairs == len(res.pairs) and r.origins == res.origins
    assert dict(r.coverage) == {lv: res.coverage(lv) for lv in (0.5, 0.8, 0.9)}
    assert r.skill_persistence == skill(res.pairs, "persistence")
    assert r.skill_trend == skill(res.pairs, "trend")
    assert r.skill_pairs == int(res.pairs["persistence_crps"].notna().sum())
    ev = res.events
    assert (r.event_pairs, r.event_outcomes) == (len(ev), int(ev["happened"].sum()))
    assert r.brier_skill == ev["model_brier"].mean() / ev["base_brier"].mean()
    assert r.count("expulsions") == rates.expulsion_rounds.count
    assert r.count("sanctions") == rates.sanctions.count
    assert r.count("crisis") == rates.crises.count and r.period == rates.period


def test_rating_is_the_rule_applied_to_the_numbers(independent, rel):
    res, skill, rates = independent
    cov = {lv: res.coverage(lv) for lv in (0.5, 0.8, 0.9)}
    expected = exports_confidence(cov, len(res.pairs), rel.record.skill_pairs, skill(res.pairs, "persistence"),
                                  skill(res.pairs, "trend"))
    assert rel.exports == expected
    assert rel.overall.level == lowest(rel.exports.level, rel.events.level, "moderate")
    print(f"confidence: overall {rel.overall.level}, exports {rel.exports.level}, events {rel.events.level}")


def test_texts_carry_the_computed_figures(independent, rel):
    res, skill, rates = independent
    line = rel.track_record_line
    assert f"interval held {100 * res.coverage(0.8):.0f}% of {len(res.pairs)} outcomes 1\u20133 years ahead" in line
    assert f"CRPS {skill(res.pairs, 'persistence'):.2f} of persistence's" in line
    n = rates.expulsion_rounds.count
    assert f"holds {n} expulsion round{'s' if n != 1 else ''}" in rel.caveat
    assert f"holds {n} expulsion round{'s' if n != 1 else ''} and" in line
    st = rel.statement
    assert st.startswith("Analytic confidence (high/moderate/low, UK practice): ")
    assert f": {rel.overall.level} for relations and events ({rel.overall.clause});" in st
    assert f"{rel.exports.level} for exports ({rel.exports.clause})." in st


def test_judgment_confidence(rel):
    assert rel.for_judgment("exports_above_2012") is rel.exports
    assert rel.for_judgment("confrontation_or_worse") is rel.overall


def test_scenario_other_than_the_backtested_is_conditional(rel):
    from model import load_scenario

    assert not rel.conditional and rel.scenario == "baseline"
    assert not R.reliability("baseline").conditional
    moved = R.reliability(load_scenario("baseline").with_overrides({"repression": 0.9}))
    assert moved.conditional and "also rests on untested assumptions" in moved.statement
    other = R.reliability("crackdown")
    assert other.conditional and "'crackdown'" in other.statement
    assert other.record is rel.record  # the same track record, computed once


def test_track_record_is_computed_once():
    assert R.track_record() is R.track_record()
    assert R.track_record.cache_info().currsize == 1


# ---------------------------------------------------------------- the brief


def test_brief_carries_the_track_record_and_the_confidence(tmp_path, rel):
    from model import load_scenario, simulate
    from model.cli import main
    from model.results import save

    res = tmp_path / "r.nc"
    save(simulate(load_scenario("baseline"), runs=80, seed=3), res)
    out = tmp_path / "brief"
    assert main(["brief", "--from", str(res), "--out", str(out), "--format", "png", "--sensitivity-runs", "50",
                 "--sobol-n", "64", "--size", "a4"]) == 0
    page = html.unescape((out / "brief.html").read_text(encoding="utf-8"))
    assert rel.track_record_line in page and rel.statement in page
    # next to the PHIA terms: the statement is the note right after the yardstick's
    phia_at = page.index("Probabilities use the PHIA yardstick")
    assert phia_at < page.index(rel.statement) < page.index(rel.track_record_line)
    side = json.loads((out / "brief.json").read_text(encoding="utf-8"))["reliability"]
    assert side["statement"] == rel.statement and side["track_record"] == rel.track_record_line
    assert side["backtest"]["coverage"]["80"] == rel.record.cover(0.8)
    assert side["judgment_confidence"]["exports_above_2012"] == rel.exports.level
    assert side["judgment_confidence"]["confrontation_or_worse"] == rel.overall.level


def test_brief_of_another_scenario_says_it_is_conditional(tmp_path, rel):
    from model import load_scenario, simulate
    from model.cli import main
    from model.results import save

    res = tmp_path / "c.nc"
    save(simulate(load_scenario("crackdown"), runs=60, seed=3), res)
    out = tmp_path / "brief"
    assert main(["brief", "--from", str(res), "--out", str(out), "--format", "png", "--sensitivity-runs", "50",
                 "--sobol-n", "64", "--size", "a4"]) == 0
    page = html.unescape((out / "brief.html").read_text(encoding="utf-8"))
    assert "'crackdown' also rests on untested assumptions" in page
    assert rel.track_record_line in page  # the same record: the baseline's
    assert json.loads((out / "brief.json").read_text(encoding="utf-8"))["reliability"]["conditional"] is True


def test_doc_states_the_rule_as_coded():
    """docs/reliability.md gives the thresholds the code uses."""
    from conftest import ROOT

    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    lo, hi = R.TARGET_80
    for text in (f"fewer than {R.MIN_PAIRS} origin–horizon pairs", f"outside {100 * lo:.0f}–{100 * hi:.0f}% of pairs",
                 f"within {100 * R.HIGH_TOLERANCE:.0f} points of its nominal level",
                 f"at most {R.HIGH_SKILL:.2f} against both", f"at least {R.HIGH_PAIRS} pairs have baselines",
                 f"fewer than {R.MODERATE_EPISODES} episodes in 1992–2012",
                 f"fewer than {R.MODERATE_OUTCOMES} of the backtest's", f"at least {R.HIGH_EPISODES} episodes",
                 f"at least {R.HIGH_OUTCOMES} outcomes", f"never above\n{R.RELATIONS_CAP}"):
        assert text in doc, text


def test_calibration_doc_states_the_computed_levels(rel):
    """docs/calibration.md (made by 'dialogue backtest --out docs') names the levels the rule gives now."""
    from conftest import ROOT

    doc = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert (f"rates the export judgment {rel.exports.level} and the judgments on relations and events "
            f"{rel.overall.level}.") in doc, "docs/calibration.md is stale: run dialogue backtest --out docs"
