"""The "What matters" and "When does it go wrong" tabs.

Both run heavy analyses (``model.sensitivity`` and ``model.discovery``) only when
their button is pressed, with a progress bar; results are kept by ``dashboard.compute``
keyed by the resolved scenario. A redraw (a slider move) never computes here: it shows
the stored result for the current assumptions if there is one, else the last result
this session computed, marked as out of date.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import compute
from dashboard.safe import md, plain
from model.errors import DialogueError
from model.scenario import Scenario
from model.sensitivity import OUTPUTS

SENTENCE_LIMIT = 1_000   # the model's sentences run to ~400 characters; show them whole

OUTCOMES = ("rupture", "confrontation_or_worse", "confrontation", "dialogue_suspended", "expulsions",
            "sanctions", "cool", "thaw")


def outcome_label(name: str) -> str:
    """'P(confrontation or worse)' -> 'Confrontation or worse'."""
    label = OUTPUTS[name][0]
    label = label[2:-1] if label.startswith("P(") else label
    return label[:1].upper() + label[1:]


def _bar(what: str) -> tuple[Callable[[float], None], object]:
    bar = st.progress(0.0, text=md("{}: starting…", what))

    def update(f: float) -> None:
        bar.progress(min(max(float(f), 0.0), 1.0), text=md("{}: {}%", what, f"{100 * f:.0f}"))

    return update, bar


def _stale_note(kind: str) -> None:
    st.warning(md("The assumptions have changed since these {} were computed: they show the earlier "
                  "assumptions. Press the button to compute them for the current ones.", kind),
               icon=":material/history:")


def _pick(ss, result_key: str, current_key: str, chosen: str, stored):
    """What to show: the stored result for these assumptions, else this session's last
    result for the same choice (stale), else nothing. Never computes."""
    if stored is not None:
        ss[result_key] = stored
        return stored, False
    last = ss.get(result_key)
    if last is not None and getattr(last, "output", getattr(last, "outcome", None)) == chosen:
        return last, last.key != current_key
    return None, False


def _svg(key: str, chart: str, result: object, **kw) -> None:
    try:
        svg = compute.analysis_svg(key, chart, result, **kw)
    except Exception as exc:  # noqa: BLE001 - one broken chart must not take the page down
        st.warning(md("This chart could not be drawn ({}: {}).", type(exc).__name__, exc), icon=":material/warning:")
        return
    st.image(svg.decode("utf-8"), width="stretch")


def _png_button(label: str, chart: str, result: object, file_name: str, key: str, **kw) -> None:
    st.download_button(label, data=lambda: compute.analysis_png(chart, result, **kw), file_name=file_name,
                       mime="image/png", key=key, type="tertiary", icon=":material/download:", on_click="ignore",
                       help="Download this chart as PNG (1920 × 1080, slide size)")


# ---------------------------------------------------------------- what matters


def what_matters_tab(current: Scenario, stem: str) -> None:
    from model.sensitivity import tornado_sentence

    ss = st.session_state
    compute.warm_imports()
    st.markdown(md("**Which assumptions is this forecast resting on?** A tornado moves one assumption at a time "
                   "from its P10 to its P90 (the same percentiles of every assumption's own uncertainty, "
                   "{} futures a bar, common random numbers); Sobol' indices (Saltelli sample, N = {}) share out "
                   "the variance of the judgment among all uncertain assumptions at once, interactions included.",
                   f"{compute.TORNADO_RUNS:,}", compute.SOBOL_N))
    output = st.selectbox("Judgment", list(OUTPUTS), format_func=lambda o: OUTPUTS[o][0], key="wm_output",
                          help="The forecast figure to explain, at the horizon.")
    key = compute.scenario_key(current)
    pressed = st.button("Find what matters", key="wm_run", type="primary", icon=":material/tune:",
                        help="Runs about 35,000 simulated futures: a few seconds. Results are kept for these "
                             "assumptions; moving a slider does not recompute them.")
    if pressed:
        update, bar = _bar("What matters")
        try:
            res = compute.what_matters(current, output, update)
        except DialogueError as exc:
            bar.empty()
            st.error(plain(exc), icon=":material/error:")
            return
        bar.empty()
        ss["wm_last"] = res
        stale = False
    else:
        res, stale = _pick(ss, "wm_last", key, output, compute.stored_what_matters(current, output))
    if res is None:
        st.info("Press **Find what matters** to compute the tornado and the Sobol' indices for the current "
                "assumptions. Moving a slider afterwards keeps the last result on screen, marked as out of date, "
                "until you press the button again.", icon=":material/info:")
        return
    if stale:
        _stale_note("results")
    t, sres = res.tornado, res.sobol
    # The model's sentence goes on to sum the first-order indices; at this N that sum is noise
    # (0.4 to 0.8 in the baseline where N = 1,024 gives 0.28), so the tab stops where the chart title does.
    st.markdown(md("**{}**", sres.sentence(output).split(" On their own")[0], limit=SENTENCE_LIMIT))
    st.markdown(plain(tornado_sentence(t), limit=SENTENCE_LIMIT))
    warn = sres.trust(output)
    if warn:
        # The model's advice names the CLI flag; say what to do from here instead.
        st.warning(md("{}. The dashboard's quick run uses N = {}; for indices you can trust run `dialogue "
                      "sensitivity` with a larger `--n` (1024 by default).", warn.split("; rerun")[0],
                      compute.SOBOL_N), icon=":material/warning:")
    chunks = -(-len(t) // compute.TORNADO_CHUNK)  # each tornado call repeats the base block
    st.caption(md("Computed in {} s: {} futures for the tornado, {} for the Sobol' indices ({} uncertain "
                  "assumptions).", f"{res.seconds:.1f}", f"{(2 * len(t) + chunks) * compute.TORNADO_RUNS:,}",
                  f"{sres.runs:,}", len(sres.factors)))
    # One chart per row: a dozen parameter labels each need the page's width to be read.
    _svg(res.key + output, "tornado", t)
    _png_button("Tornado PNG", "tornado", t, f"{stem}_tornado.png", "dl_wm_tornado")
    _svg(res.key + output, "sobol", sres, output=output)
    _png_button("Sobol' PNG", "sobol", sres, f"{stem}_sobol.png", "dl_wm_sobol", output=output)


# ---------------------------------------------------------------- when does it go wrong


def when_wrong_tab(current: Scenario, stem: str) -> None:
    ss = st.session_state
    compute.warm_imports()
    st.markdown(md("**Under which combinations of assumptions does it go wrong?** {} futures are sampled over "
                   "every uncertain assumption (Latin hypercube); PRIM finds the box of assumptions in which the "
                   "outcome is most concentrated, and a decision tree (CART) cross-checks it.",
                   f"{compute.DISCOVER_N:,}"))
    outcome = st.selectbox("Outcome", list(OUTCOMES), format_func=outcome_label, key="ww_outcome",
                           help="Counted by the horizon.")
    key = compute.scenario_key(current)
    pressed = st.button("Find when it goes wrong", key="ww_run", type="primary", icon=":material/search:",
                        help="Samples and simulates the futures, then searches for boxes: a few seconds. Results "
                             "are kept for these assumptions; moving a slider does not recompute them.")
    if pressed:
        update, bar = _bar("When does it go wrong")
        res = compute.when_wrong(current, outcome, update)
        bar.empty()
        ss["ww_last"] = res
        stale = False
    else:
        res, stale = _pick(ss, "ww_last", key, outcome, compute.stored_when_wrong(current, outcome))
    if res is None:
        st.info("Press **Find when it goes wrong** to search the current assumptions. Moving a slider afterwards "
                "keeps the last result on screen, marked as out of date, until you press the button again.",
                icon=":material/info:")
        return
    if stale:
        _stale_note("boxes")
    if res.result is None:  # the outcome never or always happens: the model's one line
        st.info(md("{}.", res.message), icon=":material/info:")
        return
    d = res.result
    st.markdown(md("**{}** by the horizon happens in {}% of the {} futures.", outcome_label(outcome),
                   f"{100 * d.base_rate:.0f}", f"{d.n:,}"))
    for note in d.notes:
        st.markdown(plain(note, limit=SENTENCE_LIMIT))
    for i, b in enumerate(d.boxes):
        st.markdown(md("**Box {} (PRIM).** {}", i + 1, b.sentence, limit=SENTENCE_LIMIT))
    if d.cart is not None:
        st.markdown(md("**Cross-check (decision tree, CART).** {}", d.cart.sentence, limit=SENTENCE_LIMIT))
    st.caption(md("Computed in {} s. Coverage: the share of all futures with the outcome that fall in the box; "
                  "density: the share of the box's futures that have it.", f"{res.seconds:.1f}"))
    # One chart per row, as in "What matters": at half width their axis labels are too small to read.
    _svg(res.key + outcome, "peeling", d)
    _png_button("Peeling PNG", "peeling", d, f"{stem}_peeling_{outcome}.png", "dl_ww_peeling")
    _svg(res.key + outcome, "box", d)
    _png_button("Box PNG", "box", d, f"{stem}_box_{outcome}.png", "dl_ww_box")
