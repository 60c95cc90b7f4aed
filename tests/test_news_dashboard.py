"""The dashboard's "What has happened since" panel, through streamlit.testing's AppTest.

The figures it must show are computed here with ``simulate`` and ``model.smc.report``
directly, not read from the panel's own module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import news  # noqa: E402
from model import simulate  # noqa: E402
from model.scenario import load_scenario  # noqa: E402
from model.smc import report  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "observations" / "example-2013.toml"
RUNS = 300


def shown(markdown: str) -> str:
    """What a reader sees of text built with ``dashboard.safe`` (escapes removed)."""
    return markdown.replace("\\", "").replace("\u2060", "")


def app(runs: int = RUNS) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["runs"] = str(runs)
    at.session_state["view"] = "Forecast"
    at.session_state[news.KEY] = True
    at.run()
    assert not at.exception, at.exception
    return at


def probabilities(at: AppTest):
    return next(d.value for d in at.dataframe if "quantity" in d.value.columns)


def add(at: AppTest, kind: str, month: str, source: str, **kw) -> None:
    at.selectbox(key="news_kind").set_value(kind)
    at.selectbox(key="news_month").set_value(month)
    for key, value in kw.items():
        getattr(at, "number_input" if key in ("news_value", "news_sd") else "text_input")(key=key).set_value(value)
    at.text_input(key="news_source").set_value(source)
    next(b for b in at.button if b.label == "Add observation").click()
    at.run()
    assert not at.exception, at.exception


def test_panel_shows_the_posterior_of_model_smc_report(monkeypatch):
    calls = []
    real = news.compute
    monkeypatch.setattr(news, "compute", lambda *a: calls.append(1) or real(*a))
    at = app(RUNS + 7)  # a run count no other test uses: the first update is computed here
    at.button(key="news_example").click()
    at.run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    sc = load_scenario("baseline")
    rep = report(simulate(sc, runs=RUNS + 7), simulate(sc, runs=RUNS + 7, observations=EXAMPLE))
    table = probabilities(at)
    assert list(table["quantity"]) == list(rep.probabilities["quantity"])
    assert list(table["posterior"]) == pytest.approx(list(100 * rep.probabilities["posterior"]), abs=1e-9)
    assert list(table["prior"]) == pytest.approx(list(100 * rep.probabilities["prior"]), abs=1e-9)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Lowest effective sample size"] == f"{rep.steps['ess'].min():,.0f}"
    text = " ".join(shown(m.value) for m in at.markdown)
    assert f"Updated on {len(rep.steps)} observation(s) through {rep.through}" in text
    assert all(s in text for s in rep.favoured)
    # Every ESS warning of the report is shown, as a warning.
    assert [w for w in rep.warnings if not any(w in shown(x.value) for x in at.warning)] == []
    # A redraw with the same scenario and observations is a look-up.
    assert len(calls) == 1
    at.run()
    assert len(calls) == 1 and list(probabilities(at)["posterior"]) == list(table["posterior"])
    # Unticking an observation changes the observations, hence the update.
    at.checkbox(key="news_use_2").uncheck()
    at.run()
    assert len(calls) == 2
    assert "Updated on 4 observation(s)" in " ".join(shown(m.value) for m in at.markdown)


def test_impossible_observation_is_one_error_line():
    at = app()
    add(at, "sanctions", "2013-03", "Invented for illustration")
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith("no simulated future matches 'sanctions in 2013-03' (0 of 300")
    assert "\n" not in errors[0] and "Traceback" not in errors[0]
    assert not [d for d in at.dataframe if "quantity" in d.value.columns]


def test_bad_entry_is_refused_in_one_line_and_source_stays_text():
    at = app()
    add(at, "exports_gbp_m", "2013-06", "[x](http://evil.example) **bold**", news_value=500.0)  # no sd
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1 and "'sd' is missing" in errors[0], errors
    assert at.session_state[news.ITEMS] == []
    add(at, "exports_gbp_m", "2013-06", "[x](http://evil.example) **bold**", news_value=500.0, news_sd=60.0)
    assert not at.error
    captions = [c.value for c in at.caption if "Source:" in c.value]
    assert captions and "\\[x\\]\\(http" in captions[0] and "\\*\\*bold\\*\\*" in captions[0]
    assert probabilities(at) is not None



def test_store_is_bounded_by_entries_and_runs():
    small = news.Update(None, posterior=simulate(load_scenario("baseline"), runs=20, horizon=6))
    refused = news.Update("no simulated future matches ...")
    store = news.Store(max_entries=3, max_runs=50)
    for k in "abc":
        store.put(k, small)
    assert store.get("a") is None and store.runs == 40  # a third 20-run posterior is over 50 runs: 'a' out
    assert store.get("b") is small  # now the most recently used
    store.put("d", refused)  # a refusal holds no runs
    store.put("e", small)  # 60 runs again: the least recently used ('c') goes
    assert [store.get(k) is not None for k in "bcde"] == [True, False, True, True] and store.runs == 40
    for k in "fgh":
        store.put(k, refused)
    assert [k for k in "bdefgh" if store.get(k) is not None] == ["f", "g", "h"]  # at most 3 entries
