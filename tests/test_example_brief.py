"""The example pack in docs/example-brief/ matches the code that ships with it.

The pack records its settings, the model version and a fingerprint of its results
in brief.json (written by ``dialogue brief``). This test re-runs those settings and
compares: the model version, the results fingerprint (which changes only when the
numbers change, not with every commit), every judgment, the tornado (every uncertain
parameter at its P10 and P90) and the Sobol' sentence with its indices.
When it fails, rebuild the pack with ``scripts/make_example_brief.sh``.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import ROOT

PACK = ROOT / "docs" / "example-brief"
FIX = "docs/example-brief is stale; rebuild it with scripts/make_example_brief.sh"


@pytest.fixture(scope="module")
def recorded() -> dict:
    path = PACK / "brief.json"
    assert path.is_file(), f"{path} missing; {FIX}"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rerun(recorded):
    from model.brief.build import load_inputs

    st = recorded["settings"]
    assert not st["from"], "the example pack is built from scenarios, not results files"
    (ds,) = load_inputs(st["scenarios"], [], st["runs"], st["seed"])
    return ds


def test_the_script_is_the_recorded_command(recorded):
    script = (ROOT / "scripts" / "make_example_brief.sh").read_text()
    st = recorded["settings"]
    assert f"brief {' '.join(st['scenarios'])} --out" in script
    for flag, value in (("--runs", st["runs"]), ("--seed", st["seed"]), ("--sensitivity-runs", st["sensitivity_runs"]),
                        ("--sobol-n", st["sobol_n"]), ("--format", ",".join(st["formats"])), ("--size", st["size"])):
        assert f"{flag} {value}" in script, flag


def test_model_version_matches(recorded):
    from model import __version__

    assert recorded["model_version"] == __version__, FIX


def test_results_fingerprint_matches(recorded, rerun):
    from model.brief.content import results_fingerprint

    assert results_fingerprint(rerun) == recorded["results_fingerprint"]["baseline"], FIX


def test_judgments_match(recorded, rerun):
    from model.brief.content import judgments

    fresh = judgments(rerun)
    assert [(j.key, j.p, j.text) for j in fresh] == [(j["key"], j["p"], j["text"]) for j in recorded["judgments"]], FIX


def test_tornado_matches(recorded, rerun):
    from model.sensitivity import tornado

    st, tor = recorded["settings"], recorded["tornado"]
    assert (tor["low_pct"], tor["high_pct"]) == (0.1, 0.9)
    t = tornado(st["scenarios"][0], runs=tor["runs"], low=tor["low_pct"], high=tor["high_pct"], seed=st["seed"],
                horizon=rerun.sizes["time"])
    got = list(t[["param", "low_value", "high_value", "out_low", "out_high"]].itertuples(index=False, name=None))
    assert got == [(s["param"], s["low"], s["high"], s["p_low"], s["p_high"]) for s in recorded["swings"]], FIX
    assert t["base"].iloc[0] == tor["base"], FIX


def test_sobol_matches(recorded, rerun):
    from model.brief.content import sobol_result

    rec = recorded["sobol"]
    res = sobol_result(rerun, recorded["settings"]["sobol_n"])
    t = res.at_horizon("confrontation_or_worse")
    assert list(t[["param", "S1", "ST"]].itertuples(index=False, name=None)) == [
        (i["param"], i["S1"], i["ST"]) for i in rec["indices"]], FIX
    assert res.sentence("confrontation_or_worse") == rec["sentence"], FIX


def test_the_pages_say_what_the_sidecar_records(recorded):
    page = html.unescape((PACK / "brief.html").read_text(encoding="utf-8"))
    for j in recorded["judgments"]:
        assert j["text"] in page, j["key"]
    assert recorded["change_text"] in page
    assert recorded["sobol"]["text"] in recorded["change_text"]
    for s in recorded["swings"]:  # the tornado table lists every uncertain parameter
        assert f"<td>{s['label']}</td>" in page, s["param"]
    alts = set(re.findall(r'<img alt="([^"]*)"', (PACK / "brief.html").read_text(encoding="utf-8")))
    assert {html.escape(t) for t in recorded["chart_titles"].values()} <= alts
    for name in ("brief.pdf", "baseline-fan.png", "baseline-fan.svg", "baseline-fan.pdf", "baseline-tornado.png",
                 "baseline-tornado.svg", "baseline-tornado.pdf", "baseline-sobol.png"):
        assert (PACK / name).is_file(), name
