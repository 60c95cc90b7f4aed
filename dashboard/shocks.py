"""Dated shocks in the dashboard: a sidebar expander to add a shock to the scenario
being simulated, and list or remove the ones added (docs/shocks.md).

Added shocks live in the session as plain dicts (``ss["shocks"]``), the same fields
as a ``[[shocks]]`` entry, and join the current scenario through
:meth:`model.scenario.Scenario.with_shocks`, which checks them as the loader would.
The scenario's TOML then holds them, so the cache, the downloaded TOML and
``dialogue run`` on it all see the same shocks. A link does not carry them.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from dashboard.safe import md
from model.errors import DialogueError
from model.scenario import Scenario
from model.shocks import KINDS, LABELS, SIZE_MAX, UNITS, describe, label, month_at

SS = MutableMapping[str, Any]
KEY = "shocks"            # the added shocks: a list of dicts
ERROR = "shock_error"     # the last refusal, one line, or None
NO_END = "(one month)"    # the window-end choice for a fixed month


def added(ss: SS) -> list[dict[str, Any]]:
    return list(ss.get(KEY) or [])


def apply(sc: Scenario, ss: SS) -> Scenario:
    """``sc`` with the dashboard's shocks appended after its own, renamed as modified.
    Raises DialogueError (one line) if one no longer fits, e.g. after a shorter horizon."""
    extra = added(ss)
    if not extra:
        return sc
    out = sc.with_shocks(extra, where="dashboard shock")
    own = len(sc.shocks)
    words = "; ".join(label(s) for s in out.shocks[own:])
    name = sc.name if sc.name.endswith("_modified") else f"{sc.name}_modified"
    return out.model_copy(update={
        "name": name, "description": f"{sc.description} Dated shocks added in the dashboard: {words}.".strip()})


def entry(kind: str, month: str, until: str | None, size: float | None) -> dict[str, Any]:
    """A ``[[shocks]]`` entry from the form's values (None and the no-end choice left out)."""
    out: dict[str, Any] = {"kind": kind, "month": month}
    if until and until != NO_END:
        out["until"] = until
    if size is not None:
        out["size"] = float(size)
    return out


def add(ss: SS, current: Scenario, new: dict[str, Any]) -> str | None:
    """Add ``new`` if the current scenario takes it; else return the one-line reason."""
    try:
        current.with_shocks([new], where="shock not added")
    except DialogueError as exc:
        return str(exc)
    ss[KEY] = [*added(ss), new]
    return None


def _on_add(current: Scenario) -> None:
    ss = st.session_state
    try:
        new = entry(ss["shock_kind"], ss["shock_month"], ss.get("shock_until"), ss.get("shock_size"))
    except (KeyError, TypeError, ValueError):  # a widget not drawn yet: nothing to add
        return
    ss[ERROR] = add(ss, current, new)


def _on_remove(index: int) -> None:
    ss = st.session_state
    items = added(ss)
    if 0 <= index < len(items):
        del items[index]
    ss[KEY] = items
    ss[ERROR] = None


def _on_clear() -> None:
    st.session_state[KEY] = []
    st.session_state[ERROR] = None


def _months(sc: Scenario) -> list[str]:
    return [month_at(sc.initial.start, i) for i in range(sc.run.horizon)]


def sidebar(current: Scenario) -> None:
    """The "Dated shocks" expander, at the foot of the sidebar."""
    ss = st.session_state
    if KEY not in ss:
        ss[KEY] = []
    items = added(ss)
    months = _months(current)
    # A month left over from a longer horizon or another start month is not an option any more.
    for key, options in (("shock_month", months), ("shock_until", [NO_END, *months])):
        if ss.get(key) not in options:
            ss[key] = options[0]
    own = current.shocks[:len(current.shocks) - len(items)]
    with st.sidebar, st.expander(md("Dated shocks ({})", len(current.shocks)), expanded=bool(items)):
        st.caption("A one-off event in a given month, or in one month of a window (each run draws its own). "
                   "See docs/shocks.md.")
        for sh in own:
            st.caption(md("From the scenario: {}", describe(sh)))
        for i, sh in enumerate(current.shocks[len(own):]):
            row = st.container(horizontal=True, gap="small", vertical_alignment="center")
            with row:
                st.caption(md("Added: {}", describe(sh)), width="stretch")
                st.button("Remove", key=f"shock_rm_{i}", on_click=_on_remove, args=(i,), type="tertiary",
                          icon=":material/close:", help="Remove this shock from the simulated scenario.")
        if items:
            st.button("Remove all added shocks", key="shock_clear", on_click=_on_clear, type="tertiary")
            st.caption("A link does not carry added shocks: download the scenario TOML (Share & export) "
                       "to keep them.")
        with st.form("shock_form", border=False):
            st.selectbox("Kind", KINDS, key="shock_kind", format_func=lambda k: f"{k}: {LABELS[k]}",
                         help="What happens; docs/shocks.md describes each kind.")
            c1, c2 = st.columns(2)
            c1.selectbox("Month", months, key="shock_month", help="The month of the shock, or the first "
                         "month of its window.")
            c2.selectbox("Window end", [NO_END, *months], key="shock_until",
                         help="Optional: the last month of a window; each run draws its month in it.")
            st.number_input("Size (optional)", min_value=0.0, value=None, step=0.5, key="shock_size",
                            placeholder="the model's own draw", help=_size_help())
            st.form_submit_button("Add shock", on_click=_on_add, args=(current,), icon=":material/add:")
        if ss.get(ERROR):
            st.error(md("{}", ss[ERROR]), icon=":material/error:")


def _size_help() -> str:
    units = "; ".join(f"{k}: {u} (0 to {SIZE_MAX[k]:g})" for k, u in UNITS.items() if u)
    return "In the kind's units; left empty, the model draws it. " + units + "; no_formula takes no size."
