"""Streamlit dashboard: adjust assumptions, watch the forecast move, compare with the
preset, take the charts away.

Run with ``dialogue dashboard`` (or ``streamlit run dashboard/app.py``). The
dashboard holds no model logic: it calls ``load_scenario``/``load_scenario_text``,
``simulate``, ``summarize``, ``model.analysis`` and the shared chart module
``model.charts``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from dashboard import compute, insight, state, widgets  # noqa: E402
from dashboard import news as news_panel  # noqa: E402
from dashboard import reliability as reliability_panel  # noqa: E402
from dashboard import shocks as shocks_ui  # noqa: E402
from dashboard.safe import checked, file_stem, md, plain  # noqa: E402
from model.agents.relations import band_of  # noqa: E402
from model.analysis import Z95  # noqa: E402
from model.errors import DialogueError  # noqa: E402
from model.params import registry  # noqa: E402
from model.scenario import Scenario, load_scenario_text  # noqa: E402

BAD_EVENTS = {"rupture", "dialogue suspended", "diplomats expelled", "regime crisis in Russia"}
TABS = ("Forecast", "Compare with preset", "What matters", "When does it go wrong", "Share & export")
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- scenario resolution


def resolve(ss) -> tuple[Scenario, Scenario, Scenario, dict[str, float]]:
    """(preset, current, preset with the current run settings, overrides).

    On a DialogueError the message is shown and the last good state is used, so the
    app keeps working.
    """
    try:
        preset = widgets.current_preset(ss)
        runs, seed, horizon = widgets.run_settings(ss)
        overrides = state.overrides_from_values(preset, widgets.values(ss))
        current = state.build_current(preset, overrides, runs, seed, horizon)
        current = shocks_ui.apply(current, ss)  # dated shocks added in the sidebar
        preset_run = state.with_run_settings(preset, runs, seed, horizon)
    except DialogueError as exc:
        last = ss.get("last_good")
        if last is None:  # nothing good yet: fall back to the first shipped preset
            ss["scenario"] = state.preset_names()[0]
            widgets.on_scenario_change()
            raise
        st.error(md("{}. Still showing the last valid assumptions.", exc), icon=":material/error:")
        preset, current, preset_run, overrides = (load_scenario_text(last[0], "preset"),
                                                  load_scenario_text(last[1], "current"),
                                                  load_scenario_text(last[2], "preset"), last[3])
        return preset, current, preset_run, overrides
    ss["last_good"] = (preset.to_toml(), current.to_toml(), preset_run.to_toml(), overrides)
    return preset, current, preset_run, overrides


def sync_url(ss, overrides: dict[str, float]) -> None:
    """Keep the address bar a link to this view (scenario, moved parameters, runs)."""
    name = ss["scenario"]
    if name.startswith(state.UPLOAD_PREFIX):
        name = "uploaded:" + name[len(state.UPLOAD_PREFIX):]
    q = state.encode_url(name, overrides, *widgets.run_settings(ss))
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


# ---------------------------------------------------------------- headline


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def money(x: float, signed: bool = False) -> str:
    """GBP millions: £608m, or signed for a shift: +£12m / -£16m (ASCII minus: st.metric reads the arrow from it)."""
    sign = ("+" if x >= 0 else "-") if signed else ("-" if x < 0 else "")
    return f"{sign}£{abs(x):,.0f}m"


def headline_row(h: state.Headline, shifts: list[state.Shift] | None, preset_name: str) -> None:
    """The five headline figures; arrows give the shift from the preset, grey and
    without an arrow when it is within Monte Carlo noise."""
    by_key = {s.key: s for s in shifts or []}
    helps = state.headline_help()
    cols = st.columns(5, border=True)

    def show(col, key, label, value, delta_text, caption, bad):
        s = by_key.get(key)
        noisy = s is not None and s.within_noise
        with col:
            st.metric(label, value, delta=None if s is None else delta_text(s.diff), help=helps[key],
                      delta_color="off" if noisy else ("inverse" if bad else "normal"),
                      delta_arrow="off" if noisy else "auto",
                      delta_description=None if s is None else ("within noise" if noisy else "vs preset"))
            st.caption(checked(caption))

    labels = state.CARD_LABELS
    month, year = state.month_name(h.horizon)
    # No-break spaces (\u00a0) keep "Feb 2018" and "±2.1 pts (95%)" whole when a caption wraps.
    for col, (key, _) in zip(cols, state.HEADLINE_PROBS, strict=False):
        p, se = h.probs[key]
        show(col, key, labels[key], pct(p), lambda d: f"{100 * d:+.1f} pts",
             md("by {}\u00a0{} · **{}** · ±{}\u00a0pts\u00a0(95%)", month, year, h.words(key),
                f"{100 * Z95 * se:.1f}"), True)
    rel = h.medians["relations"]
    show(cols[3], "relations", labels["relations"], f"{rel:+.2f}", lambda d: f"{d:+.2f}",
         md("median in {}\u00a0{} · **{}** (Goldstein −10 to +10)", month, year, band_of(np.array([rel]))[0]),
         False)
    ex = h.medians["exports"]
    show(cols[4], "exports", labels["exports"], money(ex), lambda d: money(d, signed=True),
         md("median in {}\u00a0{} · UK goods to Russia, per month", month, year), False)
    if shifts:
        st.caption(md("± is the 95% Monte Carlo interval (1.96 standard errors) from the finite number of runs. "
                      "Arrows: shift from the **{}** preset (same seed, run by run); grey means within Monte "
                      "Carlo noise. Details in *Compare with preset*.", preset_name))
    else:
        st.caption("± is the 95% Monte Carlo interval (1.96 standard errors) from the finite number of runs.")


# ---------------------------------------------------------------- charts


def chart(chart_id: str, key: str, ds, other=None, names=("current", "preset"), stem: str = "") -> None:
    """One chart, with its PNG and SVG downloads. On the page: an interactive Vega-Lite
    chart (``model.charts_screen``); the downloads are the paper charts (``model.charts``);
    both are drawn from the same data layer, so titles and numbers agree."""
    try:
        if compute.SCREEN_RENDERER == "svg":  # the paper chart as SVG (benchmark baseline)
            svg = compute.chart_bytes(key, chart_id, "svg", ds, other, names, screen=True)
        else:
            spec = compute.screen_spec(key, chart_id, ds, other, names)
    except Exception as exc:  # one broken chart must not take the page down
        log.exception("chart %s could not be drawn", chart_id)
        st.warning(md("This chart could not be drawn ({}: {}).", type(exc).__name__, exc),
                   icon=":material/warning:")
        return
    if compute.SCREEN_RENDERER == "svg":
        st.image(svg.decode("utf-8"), width="stretch")
    else:
        # theme=None: the chart's own fonts and Okabe-Ito colours, as in the brief.
        st.vega_lite_chart(spec, width="stretch", theme=None, key=f"vl_{chart_id}")
    row = st.container(horizontal=True, gap="small", vertical_alignment="center", wrap=False)
    with row:
        st.caption(plain(compute.CHARTS[chart_id][1]), width="stretch")
        st.download_button("PNG", data=_deferred(chart_id, "png", ds, other, names),
                           file_name=f"{stem}_{chart_id}.png", mime="image/png",
                           key=f"dl_{chart_id}_png", type="tertiary", icon=":material/download:",
                           on_click="ignore", help="Download this chart as PNG (1920 × 1080, slide size)")
        st.download_button("SVG", data=_deferred(chart_id, "svg", ds, other, names),
                           file_name=f"{stem}_{chart_id}.svg", mime="image/svg+xml",
                           key=f"dl_{chart_id}_svg", type="tertiary", icon=":material/download:",
                           on_click="ignore", help="Download this chart as SVG (vector)")


def compute_mime(fmt: str) -> str:
    return {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}[fmt]


def _deferred(chart_id, fmt, ds, other, names):
    return lambda: compute.render(chart_id, fmt, ds, other, names)


FORECAST_CHARTS = ("fan", "outcomes", "contributions", "exports", "events", "trajectories")
CHART_PICKS = {"fan": "Relations", "outcomes": "Outcomes", "contributions": "What moved relations",
               "exports": "Exports", "events": "Key events", "trajectories": "Sample futures",
               "all": "All six"}


def forecast_tab(cur: compute.Ensemble, stem: str) -> None:
    """One chart at full width (each is drawn in about half a second, so a slider
    move redraws what is on screen within a second), or all six in a grid."""
    pick = st.segmented_control("Chart", list(CHART_PICKS), format_func=CHART_PICKS.get, default="fan",
                                key="chart", required=True, label_visibility="collapsed")
    if pick != "all":
        chart(pick or "fan", cur.key, cur.ds, stem=stem)
        return
    for pair in zip(FORECAST_CHARTS[::2], FORECAST_CHARTS[1::2], strict=True):
        cols = st.columns(2, gap="medium")
        for col, chart_id in zip(cols, pair, strict=True):
            with col:
                chart(chart_id, cur.key, cur.ds, stem=stem)


def compare_tab(cur: compute.Ensemble, pre: compute.Ensemble, shifts: list[state.Shift] | None,
                preset: Scenario, overrides: dict[str, float], stem: str, current: Scenario | None = None) -> None:
    preset_name = preset.name
    if cur.key == pre.key:
        st.info(md("The current assumptions are exactly the **{}** preset. Move a slider to see how the "
                   "forecast shifts.", preset_name), icon=":material/info:")
    else:
        specs = registry()
        moved = "; ".join(f"{specs[n].label} {_fmt(n, preset.value(n))} → {_fmt(n, v)}"
                          for n, v in overrides.items())
        added = "; ".join(c for c in (current.changes if current else ()) if c.startswith("shocks["))
        moved = "; ".join(x for x in (moved, added) if x) or "run settings only"
        st.markdown(md("**Current assumptions vs {}**: {}. Both simulated with the same seed and runs "
                       "(common random numbers), so each run is compared with its twin.", preset_name, moved))
    if shifts:
        import pandas as pd

        rows = []
        labels = dict(state.HEADLINE_PROBS + state.HEADLINE_LEVELS)
        for s in shifts:
            prob = s.key in BAD_EVENTS
            f = (lambda x: f"{100 * x:.1f}%") if prob else (
                (lambda x: f"{x:+.2f}") if s.key == "relations" else (lambda x: f"£{x:,.0f}m"))
            d = (lambda x: f"{100 * x:+.1f} pts") if prob else (
                (lambda x: f"{x:+.2f}") if s.key == "relations" else (lambda x: money(x, signed=True)))
            rows.append({"figure": labels[s.key], "preset: " + preset_name: f(s.preset), "current": f(s.current),
                         "shift": d(s.diff), "95% interval": f"{d(s.lo)} to {d(s.hi)}",
                         "reading": "within Monte Carlo noise" if s.within_noise else
                         ("higher" if s.diff > 0 else "lower") + " beyond noise"})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Probability shifts: mean of the per-run differences of the event indicator; its 95% "
                   "interval is ±1.96 standard errors (paired runs), as every ± on this page. Medians: paired "
                   "bootstrap over runs, 95%. A shift whose interval contains zero is within Monte Carlo noise; "
                   "add runs to resolve it.")
    names = ("current", preset_name)
    pick = st.segmented_control("Comparison chart", ["compare_fan", "compare"], default="compare_fan",
                                format_func={"compare_fan": "Both fans", "compare": "Side by side"}.get,
                                key="cmp_chart", required=True, label_visibility="collapsed")
    chart(pick or "compare_fan", f"{cur.key}|{pre.key}", cur.ds, pre.ds, names, stem=stem)


def _fmt(name: str, v: float) -> str:
    spec = registry()[name]
    return f"{v:.{state.decimals(spec.widget_step)}f}"


def export_tab(current: Scenario, cur: compute.Ensemble, pre: compute.Ensemble, stem: str,
               preset_name: str) -> None:
    st.markdown("**Link to this view.** The address bar already carries the scenario, every moved "
                "assumption and the run settings; copy it to share or bookmark this exact forecast.")
    from urllib.parse import urlencode

    base = (st.context.url or "").split("?")[0]
    st.code(base + "?" + urlencode(st.query_params.to_dict()), language=None, wrap_lines=True)
    if st.session_state["scenario"].startswith(state.UPLOAD_PREFIX):
        st.warning("A link cannot carry an uploaded file: share the scenario TOML below instead.",
                   icon=":material/warning:")
    st.markdown("**Data**")
    c = st.container(horizontal=True, gap="small")
    with c:
        st.download_button("Scenario (TOML)", data=current.to_toml(), file_name=f"{stem}.toml",
                           mime="application/toml", icon=":material/description:", on_click="ignore",
                           help="The resolved scenario: `dialogue run` on this file reproduces the forecast.")
        st.download_button("Results (NetCDF)", data=lambda: compute.netcdf_bytes(cur.ds), file_name=f"{stem}.nc",
                           mime="application/x-netcdf", icon=":material/dataset:", on_click="ignore",
                           help=md("Every run and month ({} × {}); open with xarray or `model.results.load`.",
                                   f"{cur.ds.sizes['run']:,}", cur.ds.sizes["time"]))
        st.download_button("Summary (CSV)", data=compute.summary_csv(cur.key, cur.ds), file_name=f"{stem}_summary.csv",
                           mime="text/csv", icon=":material/table:", on_click="ignore",
                           help="Headline quantities with Monte Carlo standard errors and PHIA wording.")
    st.markdown("**Charts**")
    items = [(c, cur.ds, None, ("current", preset_name)) for c in
             ("fan", "outcomes", "contributions", "exports", "events", "trajectories")]
    items += [(c, cur.ds, pre.ds, ("current", preset_name)) for c in ("compare_fan", "compare")]
    st.download_button("All charts (ZIP of PNG + SVG)", data=lambda: compute.charts_zip(items, stem),
                       file_name=f"{stem}_charts.zip", mime="application/zip", icon=":material/folder_zip:",
                       on_click="ignore", type="primary")
    for chart_id, ds, other, names in items:
        row = st.container(horizontal=True, gap="small", vertical_alignment="center")
        with row:
            st.markdown(plain(compute.CHARTS[chart_id][0]))
            for fmt in ("png", "svg"):
                st.download_button(fmt.upper(), data=_deferred(chart_id, fmt, ds, other, names),
                                   file_name=f"{stem}_{chart_id}.{fmt}", mime=compute_mime(fmt),
                                   key=f"dlx_{chart_id}_{fmt}", on_click="ignore", type="tertiary",
                                   icon=":material/download:")


# ---------------------------------------------------------------- page


def main() -> None:
    import time

    t0 = time.perf_counter()
    marks: dict[str, float] = {}
    # The favicon is an emoji, drawn by the browser: a ":material/..." icon would be
    # fetched from fonts.gstatic.com, a request to another host on every page load.
    st.set_page_config(page_title="UK–Russia relations: scenario forecast", page_icon="🌍",
                       layout="wide", initial_sidebar_state="expanded")
    ss = st.session_state
    try:
        widgets.init_session(ss, st.query_params.to_dict())
    except DialogueError as exc:
        st.error(plain(exc), icon=":material/error:")
        st.stop()

    try:
        preset, current, preset_run, overrides = resolve(ss)
    except DialogueError as exc:
        st.error(md("{}. Showing the first shipped scenario instead.", exc), icon=":material/error:")
        preset, current, preset_run, overrides = resolve(ss)
    marks["resolve"] = time.perf_counter() - t0
    widgets.sidebar(preset)
    shocks_ui.sidebar(current)
    sync_url(ss, overrides)
    marks["sidebar"] = time.perf_counter() - t0

    preset_name = preset.name
    stem = file_stem(current.name)
    r = current.run
    st.title("UK–Russia relations: scenario forecast")
    st.caption(md("Scenario **{}** · {} simulated futures · seed {} · {} months from {}. Probabilities carry "
                  "their 95% Monte Carlo interval and the PHIA yardstick wording.",
                  current.name, f"{r.runs:,}", r.seed, r.horizon, current.initial.start))
    if overrides:
        specs = registry()
        moved = "; ".join(f"{specs[n].label} {_fmt(n, preset.value(n))} → {_fmt(n, v)}" for n, v in overrides.items())
        st.caption(md("Changed from **{}**: {}.", preset_name, moved))
    for msg in ss.get("problems", []):
        st.warning(plain(msg), icon=":material/link_off:")
    if ss.get("upload_error"):
        st.error(md("Uploaded scenario rejected: {}. Still showing the last valid assumptions.",
                    ss["upload_error"]), icon=":material/error:")

    try:
        cur = compute.ensemble(current)
        pre = cur if preset_run.to_toml() == current.to_toml() else compute.ensemble(
            preset_run, label=" for the " + preset_name + " preset")
    except DialogueError as exc:
        st.error(plain(exc), icon=":material/error:")
        st.stop()

    marks["simulate"] = time.perf_counter() - t0
    h = compute.headline(cur.key, cur.ds)
    shifts = None if pre.key == cur.key else compute.shifts(cur.key, pre.key, cur.ds, pre.ds)
    headline_row(h, shifts, preset_name)
    marks["headline"] = time.perf_counter() - t0

    tabs = st.tabs(TABS, key="view", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            reliability_panel.panel(current)  # "How reliable is this?": computed only when opened
            news_panel.panel(current, cur.ds)  # "What has happened since": conditioned only when opened
            forecast_tab(cur, stem)
    if tabs[1].open:
        with tabs[1]:
            compare_tab(cur, pre, shifts, preset, overrides, stem, current)
    # The analysis tabs compute only on their button; an open tab's redraw is a look-up.
    if tabs[2].open:
        with tabs[2]:
            insight.what_matters_tab(current, stem)
    if tabs[3].open:
        with tabs[3]:
            insight.when_wrong_tab(current, stem)
    if tabs[4].open:
        with tabs[4]:
            export_tab(current, cur, pre, stem, preset_name)
    marks["total"] = time.perf_counter() - t0
    # Cumulative seconds from the start of the script run (read by benchmarks/bench_dashboard.py).
    ss["_timing"] = marks | {"simulated_now": not cur.cached}


def run_page() -> None:
    """The page, with a last guard: an unexpected error (a bug, not bad input, which
    raises DialogueError) is logged with its traceback on the server and shown to the
    user as one line, never as a traceback or a blank page."""
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - Streamlit's rerun/stop signals are not Exceptions
        log.exception("dashboard: unexpected error")
        st.error(md("dashboard: error: something unexpected went wrong ({}); it is logged on the server. "
                    "Pick a scenario or press Reset to scenario to carry on.", type(exc).__name__),
                 icon=":material/error:")


run_page()
