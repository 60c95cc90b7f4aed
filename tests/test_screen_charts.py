"""Screen charts (Vega-Lite via Altair, ``model.charts_screen``) against the paper charts
(matplotlib, ``model.charts``): both draw the data layer's output, so titles, notes,
numbers and colours must agree; and the dashboard shows the screen charts with the
model's numbers in their data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("altair")
import altair as alt  # noqa: E402
from altair.utils.schemapi import validate_jsonschema  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from model import charts as C  # noqa: E402
from model import charts_screen as S  # noqa: E402
from model import load_scenario, simulate  # noqa: E402
from model.agents.relations import BANDS  # noqa: E402
from model.analysis import median_shift  # noqa: E402
from model.scenario import shipped  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
RUNS, HORIZON = 120, 24


@pytest.fixture(scope="module")
def ensembles():
    """Every shipped scenario, small: the titles' wording depends on the numbers, so each
    scenario exercises different branches (slide / improve / still, daggers, ...)."""
    return {name: simulate(load_scenario(path), runs=RUNS, horizon=HORIZON) for name, path in shipped().items()}


def norm(text: str) -> str:
    """A title as read: line breaks (wrapping differs between renderers) as spaces."""
    return " ".join(text.split())


def paper_and_screen(chart: str, ds, other):
    """(paper figure, screen spec) of one dashboard chart id, drawn from the same inputs."""
    if chart == "fan":
        fig = C.fan_chart(ds)
    elif chart == "compare_fan":
        fig = C.fan_chart(ds, compare=other)
    elif chart == "outcomes":
        fig = C.outcome_chart(ds)
    elif chart == "outcomes-compare":
        fig = C.outcome_chart(ds, compare=other)
        return fig, S.outcomes(C.outcome_data(ds, other)).spec()
    elif chart == "contributions":
        fig = C.contributions_chart(ds, kind="waterfall")
    elif chart == "contributions-stacked":
        fig = C.contributions_chart(ds, kind="stacked")
    elif chart == "exports":
        fig = C.exports_chart(ds)
    elif chart == "events":
        fig = C.events_chart(ds)
    elif chart == "trajectories":
        fig = C.trajectories_chart(ds, n=8, seed=0)
    elif chart == "compare":
        fig = C.compare_chart({"current": ds, "preset": other})
    else:
        raise KeyError(chart)
    return fig, S.screen_chart(chart, ds, other, ("current", "preset")).spec()


CHART_IDS = ("fan", "outcomes", "contributions", "contributions-stacked", "exports", "events", "trajectories",
             "compare_fan", "compare", "outcomes-compare")


@pytest.mark.parametrize("chart", CHART_IDS)
def test_paper_and_screen_titles_and_notes_are_identical(ensembles, chart):
    names = list(ensembles)
    for i, name in enumerate(names):
        ds, other = ensembles[name], ensembles[names[(i + 1) % len(names)]]
        fig, spec = paper_and_screen(chart, ds, other)
        paper_title = norm(fig._suptitle.get_text())
        assert paper_title, (chart, name)
        assert norm(S.title_text(spec)) == paper_title, (chart, name)
        assert norm(S.note_text(spec)) == norm(fig._supxlabel.get_text()), (chart, name)
        if chart != "trajectories":  # the finding names the horizon month it describes
            assert C.horizon_label(ds) in paper_title, (chart, name)


def test_screen_specs_are_valid_vega_lite(ensembles):
    schema = alt.vegalite.v6.schema.core.load_schema()
    ds, other = ensembles["baseline"], ensembles["crackdown"]
    for chart in CHART_IDS:
        spec = paper_and_screen(chart, ds, other)[1]
        validate_jsonschema(spec, schema)
        json.dumps(spec, allow_nan=False)  # plain JSON: no NaN, no numpy types


def _dataset_with(spec: dict, column: str) -> pd.DataFrame:
    found = [pd.DataFrame(rows) for rows in spec["datasets"].values() if rows and column in rows[0]]
    assert found, f"no dataset with {column}"
    return found[0]


def test_fan_spec_holds_the_model_quantiles(ensembles):
    ds = ensembles["baseline"]
    spec = S.screen_chart("fan", ds).spec()
    fan = _dataset_with(spec, S.qf(0.5))
    rel = ds["relations"].values.astype(np.float64)
    init = float(ds.attrs["initial_relations"])
    np.testing.assert_allclose(fan[S.qf(0.5)], np.r_[init, np.median(rel, axis=0)], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fan[S.qf(0.1)].iloc[1:], np.quantile(rel, 0.1, axis=0), rtol=0, atol=1e-12)
    # months: the start, then each month whose END state is shown
    months = pd.DatetimeIndex(ds["time"].values)
    assert list(fan["Month"]) == [f"start, {C.start_label(ds)}"] + [m.strftime("%b %Y") for m in months]


def test_screen_uses_the_paper_colours_and_bands(ensembles):
    ds = ensembles["crackdown"]
    fig = C.fan_chart(ds)
    ax = fig.axes[0]
    paper_fills = {to_hex(c.get_facecolor()[0]).upper() for c in ax.collections if isinstance(c, PolyCollection)}
    spec = S.screen_chart("fan", ds).spec()
    scales = [lay["encoding"]["color"]["scale"] for lay in spec["layer"]
              if "color" in lay.get("encoding", {}) and "scale" in lay["encoding"]["color"]]
    screen = dict(zip(scales[0]["domain"], scales[0]["range"], strict=True))
    assert {screen[k] for k in ("50% of runs", "80% of runs", "95% of runs")} == paper_fills
    median_colour = [to_hex(line.get_color()).upper() for line in ax.lines if line.get_linewidth() == 2.4]
    assert screen[f"Median ('{ds.attrs['scenario']}')"] == median_colour[0]
    # the named bands: the same ones shaded and named as on paper's right-hand axis
    bands = _dataset_with(spec, "band")
    lo, hi = ax.get_ylim()
    assert list(bands["band"]) == [n for n, a, b in BANDS if min(b, hi) > max(a, lo)]
    assert list(bands["fill"]) == [C.BAND_COLOURS[n] for n in bands["band"]]
    right = [t.get_text() for t in ax.child_axes[0].get_yticklabels()]  # the band names on paper
    assert right and [x for x in bands["label"] if x] == right


def _hover_titles(spec: dict) -> list[str]:
    """Tooltip titles of the month-wide hover columns (a rect layer with a pointerover param)."""
    for lay in spec["layer"]:
        if lay.get("mark", {}).get("type") == "rect" and any(
                p.get("select", {}).get("on") == "pointerover" for p in lay.get("params", [])):
            return [t["title"] for t in lay["encoding"]["tooltip"]]
    return []


@pytest.mark.parametrize("chart", ["fan", "exports", "events", "trajectories", "compare_fan"])
def test_time_charts_show_month_and_values_on_hover(ensembles, chart):
    ds, other = ensembles["baseline"], ensembles["major_incident"]
    spec = S.screen_chart(chart, ds, other).spec()
    titles = _hover_titles(spec)
    assert titles[0] == "Month", titles
    if chart == "events":
        assert titles[1:] == list(C.events_data(ds).values["series"])
    else:
        assert "Median" in titles[1] and "80% of runs" in titles
    # every data mark other than the hover columns' rule carries a tooltip
    for lay in spec["layer"]:
        mark = lay.get("mark", {}).get("type")
        if mark in ("area", "bar", "point") or (mark == "line" and chart != "trajectories"):
            assert "tooltip" in lay["encoding"] or any(
                t.startswith("Median") for t in titles), (chart, mark)


@pytest.mark.parametrize("chart", ["compare_fan", "compare"])
def test_compare_views_hide_a_series_on_legend_click(ensembles, chart):
    spec = S.screen_chart(chart, ensembles["baseline"], ensembles["crackdown"]).spec()
    legend = [p for p in _walk(spec, "params") for p in p if p.get("bind") == "legend"]
    assert len(legend) == 1 and legend[0]["select"]["fields"] == ["series"], legend
    # the series' marks dim (and stay in the legend) when a click leaves them out
    conditions = [c for c in _walk(spec, "condition") if isinstance(c, dict) and c.get("param") == legend[0]["name"]]
    assert len(conditions) >= 3


def _walk(node, key: str):
    """Every value stored under ``key`` anywhere in a JSON-like tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def test_brief_panels_are_unchanged_by_the_data_layer(ensembles):
    """The paper renderer draws from the data layer: its title is the data layer's."""
    ds = ensembles["baseline"]
    for data, fig in ((C.fan_data(ds), C.fan_chart(ds)), (C.events_data(ds), C.events_chart(ds)),
                      (C.waterfall_data(ds), C.contributions_chart(ds)),
                      (C.outcome_data(ds), C.outcome_chart(ds))):
        assert norm(fig._suptitle.get_text()) == data.title
        assert norm(fig._supxlabel.get_text()) == norm(data.note)


@pytest.mark.parametrize("sizes", [(2000, 2000, True), (2000, 2000, False), (301, 301, True), (57, 64, False),
                                   (2, 2, True)])
def test_median_bootstrap_equals_resampled_medians(sizes):
    """The counting bootstrap gives exactly np.median over the same resamples."""
    na, nb, paired = sizes
    rng = np.random.default_rng(7)
    a = np.round(rng.normal(size=na), 1)  # ties, as in the model's clipped series
    b = a + rng.normal(size=nb) * 0.3 if paired else np.round(rng.normal(size=nb), 1)
    for seed in (0, 3):
        s = median_shift("x", a, b, paired, boot=200, seed=seed)
        r = np.random.default_rng(seed)
        ia = r.integers(0, na, size=(200, na))
        ib = ia if paired else r.integers(0, nb, size=(200, nb))
        reps = np.median(a[ia], axis=1) - np.median(b[ib], axis=1)
        assert s.se == float(reps.std(ddof=1))
        lo, hi = np.quantile(reps, [0.025, 0.975])
        assert (s.lo, s.hi) == (float(min(lo, s.diff)), float(max(hi, s.diff)))


# ---------------------------------------------------------------- in the app (AppTest)


def _app(query: dict[str, str], tab: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    if tab:
        at.session_state["view"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    """Each Vega-Lite chart on the page: (spec, datasets as frames, from Streamlit's Arrow)."""
    import pyarrow as pa

    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        sets = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in el.proto.datasets}
        out.append((spec, sets))
    return out


def test_every_forecast_chart_in_the_app_holds_the_model_numbers():
    from dashboard import state

    at = _app({"runs": "300", "horizon": "24"})
    preset = load_scenario(shipped()["baseline"])
    sc = state.build_current(preset, {}, 300, preset.run.seed, 24)
    ds = simulate(sc)
    rel = ds["relations"].values.astype(np.float64)
    expected = {
        "fan": (S.qf(0.5), np.r_[ds.attrs["initial_relations"], np.median(rel, axis=0)]),
        "trajectories": (S.qf(0.5), np.r_[ds.attrs["initial_relations"], np.median(rel, axis=0)]),
        "exports": (S.qf(0.5), 12 * np.median(ds["exports_gbp_m"].values.astype(np.float64), axis=0)),
        "outcomes": ("p", [float((ds["outcome"].values.astype(str) == k).mean())
                           for k in ("rupture", "confrontation", "cool", "thaw")]),
        "events": ("p", None),
        "contributions": ("b", None),
    }
    for chart, (column, values) in expected.items():
        at.segmented_control(key="chart").set_value(chart).run()
        assert not at.exception, at.exception
        shown = _charts(at)
        assert len(shown) == 1, chart  # only the picked chart is built
        spec, sets = shown[0]
        assert norm(S.title_text(spec)) == S.chart_data(chart, ds).title, chart
        frame = next(f for f in sets.values() if column in f.columns)
        if values is None:
            continue
        got = frame[column].to_numpy(dtype=float)
        if chart == "exports":
            got = got[1:] if len(got) == len(values) + 1 else got
        np.testing.assert_allclose(got, values, rtol=0, atol=1e-9, err_msg=chart)
    # "All six": six charts, built only when asked for
    at.segmented_control(key="chart").set_value("all").run()
    assert len(_charts(at)) == 6


def test_compare_tab_charts_hold_both_scenarios():
    at = _app({"runs": "300", "horizon": "24", "repression": "0.9"}, tab="Compare with preset")
    (spec, sets), = _charts(at)
    assert "'baseline' median" in S.title_text(spec)
    series = set().union(*(set(f["series"]) for f in sets.values() if "series" in f.columns)) \
        if any("series" in f.columns for f in sets.values()) else set()
    text = json.dumps(spec)
    assert "Median ('baseline')" in text and '"bind": "legend"' in text, series
    at.segmented_control(key="cmp_chart").set_value("compare").run()
    (spec, sets), = _charts(at)
    outcome = next(f for f in sets.values() if "Outcome" in f.columns)
    assert set(outcome["Scenario"]) == {"current", "baseline"}
