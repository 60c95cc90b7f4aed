"""The "What has happened since" panel on the Forecast tab: condition the forecast on
observations and show prior and posterior together (docs/updating.md).

The analyst adds observations with a small form (an event that happened or did not in a
month or window, or a measured level with its error, each with a source), loads the
example file or uploads one, and ticks the ones to use. The ticked ones become an
observations TOML, validated by :func:`model.observations.parse_observations`; the
posterior is ``simulate(current, observations=...)`` and the comparison
:func:`model.smc.report` against the dashboard's own (prior) ensemble of the same
scenario, seed and runs.

The posterior, its report and its two charts are kept per (scenario TOML, observations
TOML) in a bounded store held by ``st.cache_resource`` (shared by all sessions, bounded
by entries and runs as the dashboard's simulations are): after the first, a redraw is a
look-up. A refusal
(a bad file, an observation no run matches) is cached too and shown as one line.
Sources and notes are user text: shown only through :mod:`dashboard.safe`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import xarray as xr

from dashboard.safe import checked, md, plain
from model.errors import DialogueError
from model.observations import EVENTS, LEVELS, describe, parse_observations
from model.scenario import Scenario
from model.shocks import month_at

SS = MutableMapping[str, Any]
KEY = "news_open"          # the expander's open state
ITEMS = "news_items"       # the observations entered: a list of dicts (an [[observation]] entry each)
ERROR = "news_error"       # the last refusal of the form or an upload, one line, or None
FROM_START = "(from the start)"
ONE_MONTH = "(that month only)"
EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "observations" / "example-2013.toml"
MAX_CACHED = 16           # updates kept for all sessions ...
MAX_CACHED_RUNS = 60_000  # ... and at most this many posterior runs among them
log = logging.getLogger(__name__)
_LOCK = threading.Lock()  # matplotlib's rc_context is global state: one figure at a time


# ---------------------------------------------------------------- the observations


def items(ss: SS) -> list[dict[str, Any]]:
    return list(ss.get(ITEMS) or [])


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v))
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def to_toml(entries: list[dict[str, Any]]) -> str:
    """An observations file from entries (dicts of an ``[[observation]]`` table's keys)."""
    out = []
    for e in entries:
        out.append("[[observation]]")
        out += [f"{k} = {_toml_value(v)}" for k, v in e.items() if v is not None]
        out.append("")
    return "\n".join(out)


def ticked(ss: SS) -> list[dict[str, Any]]:
    """The entries whose box is ticked (new entries start ticked)."""
    return [e for i, e in enumerate(items(ss)) if ss.get(f"news_use_{i}", True)]


def entry(kind: str, first: str, until: str, happened: bool, value: float | None, sd: float | None,
          source: str, note: str) -> dict[str, Any]:
    """An ``[[observation]]`` entry from the form's values."""
    out: dict[str, Any] = {}
    if kind in LEVELS:
        out |= {"variable": kind, "month": first if first != FROM_START else None, "value": value, "sd": sd}
    else:
        out |= {"event": kind}
        if first != FROM_START:
            out["month"] = first
        if until != ONE_MONTH:
            out["until"] = until
        elif first == FROM_START:
            out["month"] = None  # neither: parse_observations says what is missing
        if not happened:
            out["happened"] = False
    out["source"] = source.strip()
    if note.strip():
        out["note"] = note.strip()
    return out


def add(ss: SS, new: dict[str, Any]) -> str | None:
    """Add ``new`` if it is a valid observation beside the others; else the one-line reason."""
    entries = [*items(ss), new]
    try:
        parse_observations(to_toml(entries), "observation not added")
    except DialogueError as exc:
        return str(exc)
    ss[ITEMS] = entries
    return None


def _on_add() -> None:
    ss = st.session_state
    try:
        new = entry(ss["news_kind"], ss["news_month"], ss["news_until"], ss["news_happened"] == "happened",
                    ss.get("news_value"), ss.get("news_sd"), ss.get("news_source") or "", ss.get("news_note") or "")
    except KeyError:  # a widget not drawn yet: nothing to add
        return
    ss[ERROR] = add(ss, new)


def load_entries(ss: SS, text: str, name: str) -> str | None:
    """Replace the entries by a file's (every one ticked); the one-line reason if it is refused."""
    try:
        obs = parse_observations(text, name)
    except DialogueError as exc:
        return str(exc)
    for key in [k for k in ss if str(k).startswith("news_use_")]:
        del ss[key]
    ss[ITEMS] = [ob.model_dump(exclude_none=True) for ob in obs.entries]
    return None


def _on_example() -> None:
    ss = st.session_state
    ss[ERROR] = load_entries(ss, EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name)


def _on_upload() -> None:
    ss = st.session_state
    f = ss.get("news_upload")
    if f is None:
        return
    try:
        text = f.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        ss[ERROR] = "the uploaded file is not UTF-8 text; save it as UTF-8"
        return
    ss[ERROR] = load_entries(ss, text, "uploaded file")


def _on_clear() -> None:
    ss = st.session_state
    for key in [k for k in ss if str(k).startswith("news_use_")]:
        del ss[key]
    ss[ITEMS] = []
    ss[ERROR] = None


# ---------------------------------------------------------------- the update (cached)


@dataclass(frozen=True)
class Update:
    """The posterior of one (scenario, observations) pair, or why there is none."""

    error: str | None
    report: Any = None           # model.smc.UpdateReport
    posterior: xr.Dataset | None = None
    fan_svg: bytes = b""
    outcomes_svg: bytes = b""


def _svg(fig) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dialogue"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def compute(scenario_toml: str, obs_toml: str, prior: xr.Dataset) -> Update:
    """Condition the scenario on the observations; compare with ``prior`` (same scenario,
    seed and runs); draw the overlays. A refusal is returned, not raised."""
    from model import charts, simulate
    from model.scenario import load_scenario_text
    from model.smc import report

    try:
        sc = load_scenario_text(scenario_toml, "current")
        obs = parse_observations(obs_toml, "observations")
        post = simulate(sc, observations=obs)
    except DialogueError as exc:
        return Update(str(exc))
    rep = report(prior, post)
    a = post.assign_attrs(scenario="given the news")
    b = prior.assign_attrs(scenario="before the news")
    with _LOCK:
        fan = _svg(charts.fan_chart(a, var="relations", size="slide", compare=b))
        outcomes = _svg(charts.outcome_chart(a, size="slide", compare=b))
    return Update(None, rep, post, fan, outcomes)


class Store:
    """Updates by (scenario TOML, observations TOML), least recently used first out, bounded
    by entries and by the posterior runs held (a 20,000-run posterior is about 200 MB)."""

    def __init__(self, max_entries: int = MAX_CACHED, max_runs: int = MAX_CACHED_RUNS) -> None:
        self.max_entries, self.max_runs = max_entries, max_runs
        self._data: OrderedDict[str, Update] = OrderedDict()
        self._lock = threading.Lock()
        self.compute_lock = threading.Lock()  # one conditioning at a time on a small machine

    def get(self, key: str) -> Update | None:
        with self._lock:
            up = self._data.get(key)
            if up is not None:
                self._data.move_to_end(key)
            return up

    def put(self, key: str, up: Update) -> None:
        with self._lock:
            self._data[key] = up
            self._data.move_to_end(key)
            while len(self._data) > 1 and (len(self._data) > self.max_entries or self.runs > self.max_runs):
                self._data.popitem(last=False)

    @property
    def runs(self) -> int:
        return sum(int(u.posterior.sizes["run"]) for u in self._data.values() if u.posterior is not None)


@st.cache_resource(show_spinner=False)
def store() -> Store:
    return Store()


def key_of(scenario_toml: str, obs_toml: str) -> str:
    h = hashlib.sha256(scenario_toml.encode())
    h.update(b"\0" + obs_toml.encode())
    return h.hexdigest()[:24]


def cached(scenario_toml: str, obs_toml: str, prior: xr.Dataset) -> Update:
    """:func:`compute`, kept per (scenario TOML, observations TOML): the prior is the
    dashboard's ensemble of that same scenario TOML, so the pair decides it."""
    st_, key = store(), key_of(scenario_toml, obs_toml)
    up = st_.get(key)
    if up is None:
        with st_.compute_lock:
            up = st_.get(key)
            if up is None:
                up = compute(scenario_toml, obs_toml, prior)
                st_.put(key, up)
    return up


# ---------------------------------------------------------------- the page


def panel(current: Scenario, prior: xr.Dataset) -> None:
    """The expander; its content is computed only while it is open."""
    box = st.expander("What has happened since", key=KEY, on_change="rerun", icon=":material/update:")
    if not box.open:
        return
    with box:
        try:
            _panel(current, prior)
        except Exception as exc:  # noqa: BLE001 - the panel must not take the page down
            log.exception("news panel failed")
            st.warning(md("The update could not be shown ({}: {}). See docs/updating.md.", type(exc).__name__, exc),
                       icon=":material/warning:")


def _months(sc: Scenario) -> list[str]:
    return [month_at(sc.initial.start, i) for i in range(sc.run.horizon)]


def _kind_words(k: str) -> str:
    return f"{k}: {EVENTS[k][0]}" if k in EVENTS else f"{k}: {LEVELS[k][0]}"


def form(current: Scenario) -> None:
    ss = st.session_state
    months = _months(current)
    for key, options in (("news_month", [FROM_START, *months]), ("news_until", [ONE_MONTH, *months])):
        if ss.get(key) not in options:
            ss[key] = options[1] if key == "news_month" else options[0]
    with st.form("news_form", border=False):
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.selectbox("What", [*EVENTS, *LEVELS], key="news_kind", format_func=_kind_words,
                     help="An event (happened, or did not, in a month or window) or a measured level "
                          "(value and its error). docs/updating.md lists each.")
        c2.selectbox("Month (first of a window)", [FROM_START, *months], key="news_month",
                     help="For a level, the month it was measured.")
        c3.selectbox("Until (events)", [ONE_MONTH, *months], key="news_until",
                     help="The last month of a window: the event happened at least once in it (or never).")
        c4, c5, c6 = st.columns([2, 1, 1])
        c4.radio("Event", ["happened", "did not happen"], key="news_happened", horizontal=True)
        c5.number_input("Level: value", value=None, key="news_value", placeholder="measured value",
                        help="On the model's scale (docs/updating.md), e.g. exports in GBP m a month.")
        c6.number_input("Level: error (sd)", value=None, min_value=0.0, key="news_sd",
                        placeholder="one sd", help="One standard deviation, in the value's units.")
        st.text_input("Source", key="news_source", max_chars=2000,
                      placeholder="citation and URL, or 'Invented for illustration'")
        st.text_input("Note (optional)", key="news_note", max_chars=2000)
        st.form_submit_button("Add observation", on_click=_on_add, icon=":material/add:")


def _panel(current: Scenario, prior: xr.Dataset) -> None:
    ss = st.session_state
    if ITEMS not in ss:
        ss[ITEMS] = []
    st.caption("Condition the forecast on what has happened since its start month: runs that contradict an "
               "event drop out, measured levels weigh runs by their error (sequential Monte Carlo; "
               "docs/updating.md). The project's own example uses the article's facts and invented ones.")
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    with row:
        with st.popover("Add an observation", icon=":material/add:"):
            form(current)
        st.button("Load the example (illustration)", key="news_example", on_click=_on_example,
                  icon=":material/description:")
        with st.popover("Upload a file", icon=":material/upload:"):
            st.file_uploader("An observations file (TOML; docs/updating.md)", type=["toml"], key="news_upload",
                             on_change=_on_upload)
        if items(ss):
            st.button("Remove all", key="news_clear", on_click=_on_clear, type="tertiary")
    if ss.get(ERROR):
        st.error(md("{}", ss[ERROR]), icon=":material/error:")
    entries = items(ss)
    for i, e in enumerate(entries):
        try:
            words = describe(parse_observations(to_toml([e]), "entry").entries[0])
        except DialogueError:
            words = e.get("event") or e.get("variable") or "?"
        st.checkbox(md("{}", words), value=True, key=f"news_use_{i}")
        where = (md("Source: {} · Note: {}", e.get("source", ""), e["note"]) if e.get("note")
                 else md("Source: {}", e.get("source", "")))
        st.caption(checked(where))
    use = ticked(ss)
    if not use:
        st.info("Tick or add observations to update the forecast.", icon=":material/info:")
        return
    with st.spinner("Conditioning the forecast on the observations…"):
        up = cached(current.to_toml(), to_toml(use), prior)
    if up.error:
        st.error(plain(up.error), icon=":material/error:")
        return
    show(up)


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _count(x: float) -> str:
    return f"{x:,.0f}"


def _pts(d: float) -> str:
    return f"{100 * d:+.1f} pts"


def show(up: Update) -> None:
    rep = up.report
    low = float(rep.steps["ess"].min()) if len(rep.steps) else float(rep.runs)
    st.markdown(md("**Updated on {} observation(s) through {}** ({} runs).", len(rep.steps), rep.through,
                   f"{rep.runs:,}"))
    probs = rep.probabilities
    cols = st.columns(3, border=True)
    head = probs[probs["quantity"].str.startswith(("P(outcome = rupture ", "P(outcome = confrontation "))]
    bad = float(head["prior"].sum()), float(head["posterior"].sum())
    with cols[0]:
        st.metric("Rupture or confrontation: given the news", _pct(bad[1]), delta=_pts(bad[1] - bad[0]),
                  delta_color="inverse", help="At the horizon; the arrow is the change from the forecast before "
                                              "the observations.")
        st.caption(md("before the news: {}", _pct(bad[0])))
    with cols[1]:
        st.metric("Lowest effective sample size", _count(low),
                  help="1 / sum(w²) of the run weights after each observation: how many equally weighted runs "
                       "the answer rests on at its thinnest.")
        st.caption(md("of {} runs", f"{rep.runs:,}"))
    with cols[2]:
        st.metric("Assumptions the news moved", str(len(rep.favoured)),
                  help="Parameters whose median moved clearly beyond Monte Carlo noise (listed below).")
    for w in rep.warnings:
        st.warning(md("Low effective sample size: {}", w, limit=600), icon=":material/warning:")
    c1, c2 = st.columns(2)
    with c1:
        st.image(up.fan_svg.decode("utf-8"), width="stretch")
        st.caption("Relations: the forecast given the news (shaded fan) and before it (dashed median, dotted 80%).")
    with c2:
        st.image(up.outcomes_svg.decode("utf-8"), width="stretch")
        st.caption("Outcome at the horizon: given the news (upper bars) and before it (lower bars).")
    table = pd.DataFrame({"quantity": probs["quantity"], "prior": 100 * probs["prior"],
                          "posterior": 100 * probs["posterior"], "change (pts)": 100 * probs["change"]})
    st.dataframe(table, hide_index=True, width="stretch", key="news_probabilities",
                 column_config={"prior": st.column_config.NumberColumn("before the news", format="%.1f%%"),
                                "posterior": st.column_config.NumberColumn("given the news", format="%.1f%%"),
                                "change (pts)": st.column_config.NumberColumn(format="%+.1f")})
    st.markdown("**Assumptions the news favours** (posterior 80% band, prior in brackets)")
    for s in rep.favoured:
        st.markdown(md("- {}", s, limit=600))
    if not rep.favoured:
        st.caption("None: no parameter's median moved clearly beyond Monte Carlo noise.")
    steps = pd.DataFrame({"month": rep.steps["month"], "observation": rep.steps["description"],
                          "matched (%)": 100 * rep.steps["p_match"], "ESS": rep.steps["ess"].round(0)})
    st.dataframe(steps, hide_index=True, width="stretch", key="news_steps",
                 column_config={"matched (%)": st.column_config.NumberColumn(format="%.1f%%"),
                                "ESS": st.column_config.NumberColumn(format="%d")})
    st.caption("Per observation: the share of runs still in play that matched it (how expected it was), and the "
               "effective sample size after it. The posterior's runs are resampled to equal weights.")
