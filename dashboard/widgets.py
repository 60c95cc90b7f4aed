"""Sidebar widgets, generated from the parameter registry, and their callbacks.

Every slider's label, range, step, format and help come from
``model.params.registry()``; nothing about a parameter is typed here.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from dashboard import state
from dashboard.safe import md, plain
from model.errors import DialogueError
from model.params import HEADLINE, registry
from model.scenario import Scenario

SS = MutableMapping[str, Any]
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- session state


def _clamp(v: int, lo_hi: tuple[int, int]) -> int:
    return max(lo_hi[0], min(lo_hi[1], int(v)))


def set_params(ss: SS, preset: Scenario, values: dict[str, float] | None = None) -> None:
    """Put the preset's parameter values (or ``values`` where given) into the widgets."""
    values = values or {}
    for name in registry():
        ss[state.param_key(name)] = float(values.get(name, preset.value(name)))


def set_run(ss: SS, preset: Scenario, run: dict[str, int] | None = None) -> None:
    run = run or {}
    ss["runs"] = _clamp(run.get("runs", preset.run.runs), state.RUNS_RANGE)
    ss["seed"] = _clamp(run.get("seed", preset.run.seed), state.SEED_RANGE)
    ss["horizon"] = _clamp(run.get("horizon", preset.run.horizon), state.HORIZON_RANGE)


def init_session(ss: SS, query: dict[str, str]) -> None:
    """First run of a session: start from the link's assumptions, else the baseline."""
    if ss.get("initialised"):
        return
    url = state.decode_url(query)
    ss["uploads"] = {}
    ss["problems"] = list(url.problems)
    ss["upload_error"] = None
    ss["scenario"] = url.scenario or state.preset_names()[0]
    preset = state.load_preset(ss["scenario"], ss["uploads"])
    set_params(ss, preset, url.values)
    set_run(ss, preset, url.run)
    ss["initialised"] = True


def current_preset(ss: SS) -> Scenario:
    return state.load_preset(ss["scenario"], ss["uploads"])


def values(ss: SS) -> dict[str, float]:
    return {n: float(ss[state.param_key(n)]) for n in registry()}


def run_settings(ss: SS) -> tuple[int, int, int]:
    return int(ss["runs"]), int(ss["seed"]), int(ss["horizon"])


# ---------------------------------------------------------------- callbacks


def on_scenario_change() -> None:
    ss = st.session_state
    ss["upload_error"] = None
    ss["problems"] = []
    try:
        set_params(ss, current_preset(ss))
    except DialogueError as exc:
        ss["problems"] = [str(exc)]


def on_reset() -> None:
    ss = st.session_state
    ss["problems"] = []
    preset = current_preset(ss)
    set_params(ss, preset)
    set_run(ss, preset)


def on_upload() -> None:
    """Validate an uploaded scenario; on success switch to it, else keep the last
    good state and remember the message."""
    ss = st.session_state
    f = ss.get("upload")
    if f is None:
        return
    ok, message = accept_upload(ss, f.name, f.getvalue())
    ss["upload_error"] = None if ok else message


def accept_upload(ss: SS, name: str, data: bytes) -> tuple[bool, str]:
    """Handle uploaded bytes (the testable core of :func:`on_upload`). Bad input gives
    the DialogueError's one line; any other exception is a bug in the checker: it is
    logged with its traceback and the user gets one line without internals."""
    try:
        sc, toml_text = state.parse_upload(name, data)
    except DialogueError as exc:
        return False, str(exc)
    except Exception:  # noqa: BLE001 - a bug must not crash the page or reach the user as a traceback
        log.exception("dashboard: checking the upload %r failed unexpectedly", name)
        return False, (f"{name}: this file could not be checked (an unexpected error, logged on the server); "
                       "it was not loaded")
    label = sc.name or name
    ss["uploads"][label] = toml_text
    ss["scenario"] = state.UPLOAD_PREFIX + label
    ss["problems"] = []
    set_params(ss, sc)
    set_run(ss, sc)
    return True, label


# ---------------------------------------------------------------- drawing


def slider(name: str) -> None:
    spec = registry()[name]
    st.slider(spec.label, min_value=float(spec.low), max_value=float(spec.high),
              step=float(spec.widget_step), format=state.widget_format(spec),
              key=state.param_key(name), help=state.widget_help(spec))


def sidebar(preset: Scenario | None) -> None:
    ss = st.session_state
    options = state.preset_names() + [state.UPLOAD_PREFIX + n for n in ss["uploads"]]
    if ss["scenario"] not in options:
        ss["scenario"] = options[0]
    with st.sidebar:
        st.header("Assumptions")
        st.selectbox("Scenario preset", options, key="scenario", on_change=on_scenario_change,
                     help="Start from a shipped scenario (or one you uploaded). Sliders take its values.")
        if preset is not None and preset.description:
            st.caption(plain(preset.description, limit=600))
        st.button("Reset to scenario", on_click=on_reset, icon=":material/restart_alt:",
                  help="Put every slider and the run settings back to the preset's values.")

        st.subheader("Headline drivers")
        for name in HEADLINE:
            slider(name)

        st.subheader("Other assumptions")
        groups: dict[str, list[str]] = {}
        for name, spec in registry().items():
            if name not in HEADLINE:
                groups.setdefault(spec.group, []).append(name)
        for group, names in groups.items():
            with st.expander(md("{} ({})", group, len(names))):
                for name in names:
                    slider(name)

        st.subheader("Monte Carlo")
        st.number_input("Runs (futures simulated)", min_value=state.RUNS_RANGE[0],
                        max_value=state.RUNS_RANGE[1], step=500, key="runs",
                        help="More runs, less Monte Carlo noise (error shrinks as 1/sqrt(runs)), slower redraws.")
        c1, c2 = st.columns(2)
        c1.number_input("Horizon (months)", min_value=state.HORIZON_RANGE[0],
                        max_value=state.HORIZON_RANGE[1], step=6, key="horizon",
                        help="Months simulated from the scenario's start month.")
        c2.number_input("Seed", min_value=state.SEED_RANGE[0], max_value=state.SEED_RANGE[1],
                        step=1, key="seed", help="Random seed; the same seed gives the same futures.")

        st.subheader("Your own scenario")
        st.file_uploader("Upload a scenario file (TOML)", type=["toml"], key="upload", on_change=on_upload,
                         help="A scenario file as in scenarios/*.toml. It may extend a shipped scenario by "
                              "name (`extends = \"baseline\"`); paths are refused.")
        if ss.get("upload_error"):
            st.error(md("Upload rejected: {}", ss["upload_error"]), icon=":material/error:")
