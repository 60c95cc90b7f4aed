"""The "How reliable is this?" panel on the Forecast tab.

It shows what :func:`model.reliability.reliability` computes: the rolling-origin
backtest's interval coverage and skill against persistence, the analytic-confidence
rating with its reasons, and the caveat that the event record is thin. The backtest
takes a few seconds, so it runs only when the panel is first opened (the expander
reruns the page on open) and is kept for every session after that
(``st.cache_resource``); a redraw with the panel open is a look-up.
"""

from __future__ import annotations

import logging

import streamlit as st

from dashboard.safe import md, plain
from model.reliability import Reliability, pc, reliability
from model.scenario import Scenario, load_scenario_text

KEY = "reliability_open"  # the expander's open state in st.session_state
SENTENCE_LIMIT = 1_000    # the model's own sentences, shown whole
log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False, max_entries=64)
def cached(toml: str) -> Reliability:
    """The reliability for a resolved scenario (its TOML is the cache key). The backtest
    inside is computed once per process (``model.reliability.track_record``)."""
    return reliability(load_scenario_text(toml, "current"))


def level_word(level: str) -> str:
    return level.capitalize()


def ratio(x: float) -> str:
    return f"{x:.2f}"


def panel(current: Scenario) -> None:
    """The expander; its content is computed only while it is open."""
    box = st.expander("How reliable is this?", key=KEY, on_change="rerun", icon=":material/fact_check:")
    if not box.open:
        return
    with box:
        try:
            with st.spinner("Scoring the model against the pre-2013 record (a few seconds, once)…"):
                rel = cached(current.to_toml())
        except Exception as exc:  # noqa: BLE001 - the panel must not take the page down
            log.exception("reliability panel could not be computed")
            st.warning(md("The track record could not be computed ({}: {}). See docs/calibration.md.",
                          type(exc).__name__, exc), icon=":material/warning:")
            return
        show(rel)


def show(rel: Reliability) -> None:
    r = rel.record
    o = r.origins
    st.markdown(md("**Backtest**: the model run from January of each year {}–{} and scored {}–{} years ahead "
                   "against ONS exports, using only what was known at each start.", o[0], o[-1], r.horizons[0],
                   r.horizons[-1]))
    cols = st.columns(3, border=True)
    with cols[0]:
        st.metric("80% interval coverage", pc(r.cover(0.8)),
                  help="Share of backtest origin–horizon pairs whose outcome fell in the model's central 80% "
                       "interval for annual exports; calibrated fans cover about 80% (target 60–95%).")
        st.caption(md("50%: {} · 90%: {} · {} pairs", pc(r.cover(0.5)), pc(r.cover(0.9)), r.pairs))
    with cols[1]:
        st.metric("Skill vs persistence", ratio(r.skill_persistence),
                  help="Model CRPS / CRPS of carrying the last year's exports forward with the series' own "
                       "volatility, over the pairs with a baseline. Below 1: the model is better.")
        st.caption(md("vs trend: {} · below 1 is better · {} pairs", ratio(r.skill_trend), r.skill_pairs))
    with cols[2]:
        st.metric("Analytic confidence", level_word(rel.overall.level),
                  help="High, moderate or low, as UK assessments state it beside the PHIA yardstick: how far "
                       "the evidence supports the judgments. Set by a fixed rule (docs/reliability.md).")
        st.caption(md("relations and events: {} · exports: {}", rel.overall.level, rel.exports.level))
    st.markdown(md("**Relations and events: {} confidence.**", rel.overall.level))
    for reason in rel.overall.reasons:
        st.markdown(md("- {}", reason, limit=SENTENCE_LIMIT))
    st.markdown(md("**Exports: {} confidence.**", rel.exports.level))
    for reason in rel.exports.reasons:
        st.markdown(md("- {}", reason, limit=SENTENCE_LIMIT))
    if rel.conditional:
        st.info(md("The track record is the baseline's. **{}** is also conditional on its own assumptions, "
                   "which no record tests.", rel.scenario), icon=":material/info:")
    st.warning(plain(rel.caveat, limit=SENTENCE_LIMIT), icon=":material/warning:")
    st.caption("Every pair, the PIT and the event table: docs/calibration.md (made by `dialogue backtest`). "
               "The confidence rule: docs/reliability.md.")
