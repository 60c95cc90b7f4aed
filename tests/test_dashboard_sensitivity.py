"""The "What matters" and "When does it go wrong" tabs through AppTest (no browser).

The heavy analyses run in this process, so the app's result objects and the call
counter of ``dashboard.compute`` are the same objects the test reads: a slider move
is checked to compute nothing by counting real calls, not by timing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import compute, insight, state  # noqa: E402
from model import load_scenario  # noqa: E402
from model.charts import lower_first  # noqa: E402
from model.discovery import likely_words  # noqa: E402
from model.sensitivity import tornado  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
RUNS = 300


def shown(markdown: str) -> str:
    """What a reader sees of a message built with ``dashboard.safe`` (escapes removed)."""
    return markdown.replace("\\", "").replace("\u2060", "")


def texts(at: AppTest) -> str:
    return " ".join(shown(e.value) for kind in ("markdown", "info", "warning", "error", "caption")
                    for e in getattr(at, kind))


def make_app(tab: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    for k, v in (query or {"runs": str(RUNS)}).items():
        at.query_params[k] = v
    at.session_state["view"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def press(at: AppTest, key: str) -> AppTest:
    [b for b in at.button if b.key == key][0].click().run()
    assert not at.exception, at.exception
    return at


def images(at: AppTest) -> int:
    return len(at.get("image"))


@pytest.fixture(autouse=True)
def fresh_store():
    compute.analyses().clear()
    yield
    compute.analyses().clear()


def test_what_matters_button_matches_an_independent_tornado_and_a_slider_move_computes_nothing():
    at = make_app("What matters")
    # nothing heavy before the button: an invitation, no charts
    assert "Press **Find what matters** to compute" in texts(at) and images(at) == 0
    calls = compute.CALLS["what_matters"]
    press(at, "wm_run")
    assert compute.CALLS["what_matters"] == calls + 1
    res = at.session_state["wm_last"]
    assert images(at) == 2  # tornado and Sobol' bars

    # the same tornado computed here, independently, with the app's settings
    preset = load_scenario("baseline")
    sc = state.build_current(preset, {}, RUNS, preset.run.seed, preset.run.horizon)
    want = tornado(sc, output="confrontation_or_worse", runs=compute.TORNADO_RUNS, low=compute.TORNADO_LOW,
                   high=compute.TORNADO_HIGH)
    assert res.tornado.iloc[0]["param"] == want.iloc[0]["param"]
    # the chunked run (for the progress bar) is exactly one call's frame
    pd.testing.assert_frame_equal(res.tornado, want)
    page = texts(at)
    assert f"moves it most for {lower_first(want.iloc[0]['label'])}" in page
    # the Sobol' sentence: "N assumptions carry X% of the uncertainty in ..."
    assert res.sobol.sentence("confrontation_or_worse").split(" On their own")[0] in page
    assert "On their own, all assumptions explain" not in page  # the first-order sum is noise at this N
    assert "of the uncertainty in P(confrontation or worse)" in page
    assert res.sobol.n == compute.SOBOL_N

    # a slider move redraws from memory: no heavy call, the same result object, marked stale
    at.slider(key=state.param_key("repression")).set_value(0.9).run()
    assert not at.exception
    assert compute.CALLS["what_matters"] == calls + 1
    assert at.session_state["wm_last"] is res
    assert "assumptions have changed since" in texts(at)
    assert images(at) == 2
    # back to the assumptions it was computed for: current again, still no call
    at.slider(key=state.param_key("repression")).set_value(0.6).run()
    assert compute.CALLS["what_matters"] == calls + 1
    assert "assumptions have changed since" not in texts(at)
    # pressing again for the same assumptions is served from the store
    press(at, "wm_run")
    assert compute.CALLS["what_matters"] == calls + 1 and at.session_state["wm_last"] is res


def test_when_it_goes_wrong_shows_the_box_sentence_for_a_likely_outcome():
    # Expulsions (either side's rounds, by the horizon): in the issue-10 baseline, confrontation or worse
    # is too rare (about 10%) for any box to make it likely, so the "becomes <PHIA term>" wording is
    # exercised on an event that some assumptions do make likely.
    at = make_app("When does it go wrong")
    calls = compute.CALLS["discover"]
    at.selectbox(key="ww_outcome").set_value("expulsions").run()
    assert compute.CALLS["discover"] == calls  # choosing an outcome is not the button
    press(at, "ww_run")
    assert compute.CALLS["discover"] == calls + 1
    res = at.session_state["ww_last"].result
    assert res is not None and res.boxes
    page = texts(at)
    box = res.boxes[0]
    assert box.sentence in page
    # A likely box reads "becomes" + the PHIA term of its own density (recomputed on the futures).
    inside = np.ones(res.n, dtype=bool)
    for k, (lo, hi) in box.limits.items():
        inside &= (res.x[k] >= lo).to_numpy() & (res.x[k] <= hi).to_numpy()
    density = res.y[inside].mean()
    assert density == pytest.approx(box.density) and density >= 0.525  # "likely" or stronger
    assert f"Expulsion of diplomats becomes {likely_words(density)} ({100 * density:.0f}%" in page
    assert images(at) == 2  # peeling trajectory and the box over its scatter
    at.slider(key=state.param_key("syria_divergence")).set_value(0.3).run()
    assert compute.CALLS["discover"] == calls + 1
    assert "assumptions have changed since" in texts(at)


NO_SANCTIONS = (b'name = "no_sanctions"\nextends = "baseline"\n[run]\nhorizon = 12\nruns = 200\n'
                b'[params]\ncrisis_rate = {value = 0.0, dist = "fixed"}\n'
                b'incident_rate = {value = 0.0, dist = "fixed"}\neu_threshold = {value = 15.0, dist = "fixed"}\n')


def test_no_sanctions_within_a_year_by_the_eu_rule():
    """The premise of the next test, from the EU rule's constants: with no crises and no incidents on UK
    soil, pressure on the EU grows by at most one expulsion round and full values concern a month, so in
    a year it stays below a threshold fixed at the top of its range."""
    from model.agents.eu import EXPULSION_PRESSURE, VALUES_PRESSURE
    from model.params import registry

    most = 12 * (EXPULSION_PRESSURE + VALUES_PRESSURE * (1.0 - 0.5))
    assert registry()["eu_threshold"].high == 15.0 and most < 15.0


def test_an_outcome_that_never_happens_gives_the_one_line_message():
    """With no crises, no incidents on UK soil and the EU's threshold at its top, there are no sanctions
    within a year: nothing to discover."""
    at = make_app("When does it go wrong")
    at.file_uploader(key="upload").set_value(("no_sanctions.toml", NO_SANCTIONS, "application/toml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.selectbox(key="ww_outcome").set_value("sanctions").run()
    press(at, "ww_run")
    infos = [shown(i.value) for i in at.info]
    assert infos == ["no sanctions in 5,000 futures; nothing to discover."], infos
    assert images(at) == 0


def test_outcome_labels_cover_the_model_outcomes():
    from model.discovery import OUTCOMES

    assert set(insight.OUTCOMES) == set(OUTCOMES)
    assert insight.outcome_label("confrontation_or_worse") == "Confrontation or worse"


def test_what_matters_says_when_n_is_too_small_to_trust_the_indices():
    """P(rupture) (about 10%) needs more than the tab's N: the result object says so, and so must the tab."""
    at = make_app("What matters")
    at.selectbox(key="wm_output").set_value("rupture").run()
    press(at, "wm_run")
    res = at.session_state["wm_last"]
    assert res.output == "rupture"
    why = res.sobol.trust("rupture")
    warnings = [shown(w.value) for w in at.warning]
    assert why, "expected N=256 to be too small for P(rupture)"
    assert any(why.split("; rerun")[0] in w and "dialogue sensitivity" in w for w in warnings), warnings
    assert f"N={compute.SOBOL_N} is too small to trust these indices" in " ".join(warnings)
