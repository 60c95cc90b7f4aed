"""The dashboard's "How reliable is this?" panel, through streamlit.testing's AppTest.

The figures it must show are computed here from model.backtest and model.reference
directly, not read from the panel's own module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard.reliability import KEY  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
LABELS = ("80% interval coverage", "Skill vs persistence", "Analytic confidence")


def shown(markdown: str) -> str:
    """What a reader sees of text built with ``dashboard.safe`` (escapes removed)."""
    return markdown.replace("\\", "").replace("\u2060", "")


def app(query: dict[str, str], open_panel: bool) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    at.session_state["view"] = "Forecast"
    at.session_state[KEY] = open_panel
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def expected():
    """Coverage, skill and the thin-record count, computed independently of the panel."""
    from model.backtest import EVENTS, run_backtest, skill
    from model.reference import base_rates
    from model.reliability import events_confidence, exports_confidence, lowest

    res = run_backtest()
    cov = {lv: res.coverage(lv) for lv in (0.5, 0.8, 0.9)}
    sp, st = skill(res.pairs, "persistence"), skill(res.pairs, "trend")
    rates = base_rates()
    exports = exports_confidence(cov, len(res.pairs), int(res.pairs["persistence_crps"].notna().sum()), sp, st).level
    ev = res.events
    events = events_confidence({e: rates.event_rate(e).count for e in EVENTS}, int(ev["happened"].sum()), len(ev),
                               ev["model_brier"].mean() / ev["base_brier"].mean()).level
    overall = lowest(exports, events, "moderate")
    return {"c80": f"{100 * cov[0.8]:.0f}%", "sp": f"{sp:.2f}", "expulsions": rates.expulsion_rounds.count,
            "overall": overall, "exports": exports}


@pytest.fixture(scope="module")
def opened():
    return app({"runs": "300"}, open_panel=True)


def test_panel_shows_the_computed_figures(opened, expected):
    metrics = {m.label: m.value for m in opened.metric}
    print(f"\npanel: {[metrics.get(k) for k in LABELS]}")
    assert metrics["80% interval coverage"] == expected["c80"]
    assert metrics["Skill vs persistence"] == expected["sp"]
    assert metrics["Analytic confidence"] == expected["overall"].capitalize()
    text = " ".join(shown(m.value) for m in opened.markdown)
    assert f"Relations and events: {expected['overall']} confidence." in text
    assert f"Exports: {expected['exports']} confidence." in text


def test_panel_says_the_event_record_is_thin(opened, expected):
    n = expected["expulsions"]
    warnings = [shown(w.value) for w in opened.warning]
    assert any(w.startswith("The event record is thin") and f"{n} expulsion round" in w for w in warnings), warnings
    captions = " ".join(c.value for c in opened.caption)
    assert "docs/calibration.md" in captions and "docs/reliability.md" in captions
    assert not [i for i in opened.info if "conditional" in i.value]  # the baseline is what was backtested


def test_panel_is_closed_and_not_computed_by_default():
    at = app({"runs": "300"}, open_panel=False)
    assert [e.label for e in at.expander if e.label == "How reliable is this?"]
    assert not {m.label for m in at.metric} & set(LABELS)


def test_other_scenario_is_flagged_conditional():
    at = app({"runs": "300", "scenario": "crackdown"}, open_panel=True)
    infos = [shown(i.value) for i in at.info]
    assert any("crackdown" in i and "conditional on its own assumptions" in i for i in infos), infos
