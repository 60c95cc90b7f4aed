"""Screen renderer: the briefing charts as interactive Vega-Lite specs (built with Altair).

Each function takes the data layer's output (``model.charts.*_data``, a
:class:`model.charts.ChartData`) and returns an Altair chart, so the title, the notes and
every number are the ones the paper renderer (matplotlib, ``model.charts``) prints in the
brief and in the PNG/SVG/PDF downloads.

Same colours as on paper (Okabe-Ito, the same mixes with white for the fan bands), the
named bands of the relations scale shaded and named, the finding as the title and the
source-and-notes line under it. Interactivity: hovering anywhere over a month of a time
chart shows a tooltip with the month, the median and the bands (and a rule marks the
month); every other mark carries its own tooltip; in the comparison charts a click on a
legend entry hides or shows that series (shift-click for several).

``spec(chart)`` gives the Vega-Lite dict without Altair's JSON-schema validation (the
tests validate; skipping it saves tens of milliseconds a redraw).
"""

from __future__ import annotations

import contextvars
import functools
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import pandas as pd
import xarray as xr
from altair.utils.schemapi import debug_mode as altair_debug

from model import charts as C
from model.agents.relations import BANDS
from model.analysis import Z95, phia
from model.results import OUTCOMES

WIDTH = "container"
HEIGHT = 380
TITLE_CHARS = 125   # characters a title line (the page is ~1,100 px wide)
NOTE_CHARS = 190
FONT = "DejaVu Sans, Verdana, sans-serif"
MEDIAN_BLUE = "#00406A"  # the paper fan's median line (model.charts._draw_fan_layers)
LEVEL_MIX = {0.95: 0.22, 0.80: 0.42, 0.50: 0.68}  # likewise
HIDDEN = 0.08           # opacity of a series hidden by a legend click


def hex_mix(colour: str, amount: float) -> str:
    """``model.charts._mix`` as a hex string (the same opaque colour on screen as on paper)."""
    r, g, b = C._mix(colour, amount)
    return "#{:02X}{:02X}{:02X}".format(*(int(round(255 * v)) for v in (r, g, b)))


def title_lines(text: str, width: int = TITLE_CHARS) -> list[str]:
    """Wrap a title (or note) into lines; joined with spaces they give the text back."""
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def title_text(chart_spec: dict) -> str:
    """The title of a spec as one string (the lines joined with spaces)."""
    t = chart_spec["title"]["text"]
    return " ".join(t) if isinstance(t, list) else t


def note_text(chart_spec: dict) -> str:
    t = chart_spec["title"].get("subtitle", "")
    return " ".join(t) if isinstance(t, list) else t


def _title(data: C.ChartData) -> dict:
    note = title_lines(data.note, NOTE_CHARS) if C._NOTES.get() else []
    return {"text": title_lines(data.title), "subtitle": note, "anchor": "start", "fontSize": 15,
            "fontWeight": "bold", "font": FONT, "color": "#111111", "subtitleFontSize": 11,
            "subtitleColor": "#444444", "subtitleFont": FONT, "subtitlePadding": 6, "offset": 10}


_UNIT_TOP = ("$schema", "config", "datasets")


def _layer(*charts, **props) -> dict:
    """A layered spec from unit charts, assembled as a dict: Altair's LayerChart copies
    every layer several times over, which cost more than the chart's data."""
    layers = []
    for c in charts:
        d = c.to_dict(validate=False)
        layers.append({k: v for k, v in d.items() if k not in _UNIT_TOP})
    return {"layer": layers, **props}


def _finish(chart: dict, data: C.ChartData, legend_columns: int = 4, autosize: str = "fit-x") -> dict:
    """Title (the finding), notes, fonts and colours of axes and legends."""
    axis = {"labelFont": FONT, "titleFont": FONT, "gridColor": "#E3E3E3", "domainColor": "#555555",
            "labelColor": "#333333", "titleColor": "#222222", "labelFontSize": 11, "titleFontSize": 12,
            "titleFontWeight": "normal"}
    legend = {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "orient": "bottom",
              "columns": legend_columns, "symbolStrokeWidth": 3, "labelLimit": 420}
    return {"$schema": alt.SCHEMA_URL, **chart, "title": _title(data),
            "config": {"axis": axis, "legend": legend, "view": {"stroke": None}},
            "autosize": {"type": autosize, "contains": "padding"}}


# The data of the chart being built: each layer refers to a named dataset, and the values
# are added to the spec once at the end. Altair deep-copies inline values every time a
# chart is layered or converted (about a tenth of a second for a fan chart).
_SETS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("dialogue_screen_sets", default=None)


def _chart(df: pd.DataFrame, series: str | None = None) -> alt.Chart:
    """``alt.Chart`` on a named dataset holding ``df``'s rows (one dataset per frame,
    however many layers draw it); ``series`` adds that constant field."""
    sets = _SETS.get()
    seen = sets.setdefault("\0seen", {})
    if id(df) not in seen:
        seen[id(df)] = (f"d{len(seen)}", df)  # the frame is kept so its id is not reused
        sets[seen[id(df)][0]] = df.to_dict("records")
    chart = alt.Chart(alt.NamedData(name=seen[id(df)][0]))
    return chart.transform_calculate(series=json.dumps(series)) if series is not None else chart


@dataclass(frozen=True)
class ScreenChart:
    """An Altair chart whose layers refer to named datasets, and those datasets."""

    chart: dict
    datasets: dict

    def spec(self) -> dict:
        """The Vega-Lite spec (a dict, data included), not validated (the tests validate)."""
        return {**self.chart, "datasets": self.datasets}


def spec(chart: ScreenChart) -> dict:
    return chart.spec()


def _screen(fn):
    """Collect the datasets a chart function creates into its ScreenChart. Altair's debug
    mode (validating every object as it is made) is off while building: the tests
    validate the finished specs."""
    @functools.wraps(fn)
    def wrapper(data: C.ChartData, *args, **kw) -> ScreenChart:
        token = _SETS.set({})
        try:
            with altair_debug(False):
                chart = fn(data, *args, **kw)
            sets = _SETS.get()
            sets.pop("\0seen", None)
            return ScreenChart(chart, sets)
        finally:
            _SETS.reset(token)
    return wrapper


def month_names(x, start: pd.Timestamp | None) -> list[str]:
    """Tooltip names of plot positions: each value is the state at the END of its month
    (plotted at the start of the next month); the first is the state at the start."""
    names = [C.month_label(pd.Timestamp(t) - pd.offsets.MonthBegin(1)) for t in x]
    if start is not None and len(names) and pd.Timestamp(x[0]) == pd.Timestamp(start):
        names[0] = f"start, {C.month_label(start)}"
    return names


def _utc(t) -> dict:
    """A date as a Vega-Lite DateTime in UTC (a scale domain of plain strings would be
    parsed in the browser's time zone)."""
    t = pd.Timestamp(t)
    return {"year": t.year, "month": t.month, "date": t.day, "utc": True}


def _iso(x) -> list[str]:
    return [pd.Timestamp(t).strftime("%Y-%m-%d") for t in x]


class _Axes:
    """x (dates) and y encodings with fixed scales, shared by every layer of a chart."""

    def __init__(self, xlim, ylim, ytitle: str, yfmt: str | None = None, label_expr: str | None = None,
                 colour: alt.Scale | None = None, legend: bool = True) -> None:
        self.xscale = alt.Scale(type="utc", domain=[_utc(t) for t in xlim])
        self.yscale = alt.Scale(domain=list(ylim), nice=False, zero=False) if ylim is not None else None
        self.ytitle, self.yfmt, self.label_expr = ytitle, yfmt, label_expr
        self.colour, self.legend = colour, legend

    def x(self, field: str = "date") -> alt.X:
        return alt.X(f"{field}:T", title=None, scale=self.xscale,
                     axis=alt.Axis(format="%Y", tickCount="year", gridColor="#EBEBEB"))

    def x2(self, field: str) -> alt.X2:
        return alt.X2(f"{field}:T")

    def y(self, field: str) -> alt.Y:
        kw = {k: v for k, v in (("format", self.yfmt), ("labelExpr", self.label_expr)) if v}
        axis = alt.Axis(**kw)
        return alt.Y(f"{field}:Q", title=self.ytitle, scale=self.yscale, axis=axis)

    def series(self) -> alt.Color:
        return alt.Color("series:N", scale=self.colour, sort=None,
                         legend=alt.Legend(title=None) if self.legend else None)


def qf(q: float) -> str:
    """Field name of a quantile: 0.025 -> "q025", 0.5 -> "q500" (no dots: Vega-Lite reads a
    dot in a field name as a nested field)."""
    return f"q{int(round(1000 * q)):03d}"


def _fan_frame(x, f, names: list[str], fmt: Callable[[float], str]) -> pd.DataFrame:
    """One row per plot position: the quantiles and the tooltip strings."""
    df = pd.DataFrame({"date": _iso(x), "Month": names})
    for q in C.FAN_QUANTILES:
        df[qf(q)] = f[q].to_numpy(dtype=float)
    df["Median"] = [fmt(v) for v in f[0.5]]
    for level, lo, hi in C.FAN_LEVELS[::-1]:
        df[f"{level:.0%} of runs"] = [f"{fmt(a)} to {fmt(b)}" for a, b in zip(f[lo], f[hi], strict=True)]
    return df


def _hover(ax: _Axes, df: pd.DataFrame, fields: list[str], ylim) -> list:
    """Transparent month-wide columns over the whole plot carrying the tooltip, and a
    rule marking the hovered month."""
    dates = pd.DatetimeIndex(df["date"])
    mids = dates[:-1] + (dates[1:] - dates[:-1]) / 2
    half = (dates[1] - dates[0]) / 2 if len(dates) > 1 else pd.Timedelta(days=15)
    # plain field names: Vega-Lite reads dots, brackets and quotes in a name as a path
    h = df[["date", *fields]].set_axis(["date", *(f"t{i}" for i in range(len(fields)))], axis=1)
    h["x0"] = _iso(pd.DatetimeIndex([dates[0] - half]).append(mids))
    h["x1"] = _iso(mids.append(pd.DatetimeIndex([dates[-1] + half])))
    h["y0"], h["y1"] = float(ylim[0]), float(ylim[1])
    pick = alt.selection_point(on="pointerover", fields=["date"], empty=False, clear="pointerout")
    rule = _chart(h).mark_rule(color="#333333", strokeWidth=1).encode(
        x=ax.x(), opacity=alt.OpacityValue(value=0.0, condition={"param": pick.name, "value": 0.7, "empty": False}))
    cols = _chart(h).mark_rect(fill="#FFFFFF", opacity=0.001).encode(
        x=ax.x("x0"), x2=ax.x2("x1"), y=ax.y("y0"), y2="y1:Q",
        tooltip=[alt.Tooltip(f"t{i}:N", title=c) for i, c in enumerate(fields)]).add_params(pick)
    return [rule, cols]


def _bands(ax: _Axes, ylim, x_right) -> list:
    """The named bands of the relations scale, shaded, with white edges and their names."""
    rows = []
    for name, lo, hi in BANDS:
        a, b = max(lo, ylim[0]), min(hi, ylim[1])
        if b > a:
            rows.append({"band": name, "lo": a, "hi": b, "mid": (a + b) / 2, "fill": C.BAND_COLOURS[name],
                         "range": f"{C.fmt_pts(lo)} to {C.fmt_pts(hi)}", "date": _iso([x_right])[0],
                         "label": name if b - a >= 1.5 else ""})
    df = pd.DataFrame(rows)
    rect = _chart(df).mark_rect(stroke="#FFFFFF", strokeWidth=1.2).encode(
        y=ax.y("lo"), y2="hi:Q", fill=alt.Fill("fill:N", scale=None, legend=None),
        tooltip=[alt.Tooltip("band:N", title="Band of the relations scale"), alt.Tooltip("range:N", title="Range")])
    text = _chart(df).mark_text(align="right", dx=-4, color="#555555", font=FONT, fontSize=11,
                                   fontStyle="italic").encode(x=ax.x(), y=ax.y("mid"), text="label:N")
    return [rect, text]


def _start(ax: _Axes, start, value: float | None, fmt) -> list:
    """A dotted rule at the start, and the starting value marked and labelled."""
    row = {"date": _iso([start])[0], "what": f"Simulation starts {C.month_label(start)}"}
    if value is not None:
        row |= {"value": float(value), "label": f"Start {C.month_label(start)}: {fmt(value)}"}
    df = pd.DataFrame([row])
    out = [_chart(df).mark_rule(color="#333333", strokeDash=[2, 3]).encode(
        x=ax.x(), tooltip=[alt.Tooltip("what:N", title="Start")])]
    if value is not None:
        out += [_chart(df).mark_point(filled=True, color="#000000", size=50, opacity=1).encode(
                    x=ax.x(), y=ax.y("value"), tooltip=[alt.Tooltip("label:N", title="Start")]),
                _chart(df).mark_text(align="left", dx=8, dy=-10, font=FONT, fontSize=11, color="#222222").encode(
                    x=ax.x(), y=ax.y("value"), text="label:N")]
    return out


def _opacity(sel, on: float = 1.0):
    """Full opacity, dimmed to HIDDEN when a legend selection ``sel`` leaves the series out."""
    if sel is None:
        return alt.Undefined
    return alt.OpacityValue(value=HIDDEN, condition={"param": sel.name, "value": on, "empty": True})


def _fan_layers(ax: _Axes, df: pd.DataFrame, median_name: str, sel=None, tooltip=None) -> list:
    """Areas for the 95/80/50% bands and the median line, coloured through ``series`` so
    the legend names them (and, with ``sel``, a click hides them)."""
    tip = tooltip or []
    out = []
    for level, lo, hi in C.FAN_LEVELS:
        out.append(_chart(df, f"{level:.0%} of runs").mark_area().encode(
            x=ax.x(), y=ax.y(qf(lo)), y2=f"{qf(hi)}:Q", color=ax.series(), opacity=_opacity(sel), tooltip=tip))
    out.append(_chart(df, median_name).mark_line(strokeWidth=2.6).encode(
        x=ax.x(), y=ax.y(qf(0.5)), color=ax.series(), opacity=_opacity(sel), tooltip=tip))
    return out


def _fan_colours(colour: str, median: str, median_name: str) -> tuple[list[str], list[str]]:
    domain = [median_name] + [f"{lvl:.0%} of runs" for lvl, _, _ in C.FAN_LEVELS[::-1]]
    return domain, [median] + [hex_mix(colour, LEVEL_MIX[lvl]) for lvl, _, _ in C.FAN_LEVELS[::-1]]


# ---------------------------------------------------------------- charts


def fan(data: C.ChartData, height: int = HEIGHT):
    """Median and 50/80/95% bands over time; for relations the named bands of the scale
    shaded and named; an optional second scenario as a dashed median and dotted 80% lines,
    each series hidden or shown by a click on its legend entry."""
    v = data.values
    var, x, f, cmp = v["var"], v["x"], v["f"], v["compare"]
    fmt = (lambda a: C.fmt_pts(a, 2)) if var == "relations" else (lambda a: f"{a:.3g}")
    df = _fan_frame(x, f, month_names(x, v["start"]), fmt)
    med_name = f"Median ('{v['scenario']}')"
    domain, rng = _fan_colours(C.OKABE_ITO["blue"], MEDIAN_BLUE, med_name)
    if v["ylim"] is not None:
        ylim = v["ylim"]
    else:
        vals = [float(f.min().min()), float(f.max().max())] + ([v["init"]] if v["init"] is not None else [])
        if cmp is not None:
            vals += [float(cmp["f"].min().min()), float(cmp["f"].max().max())]
        pad = 0.04 * (max(vals) - min(vals) or 1.0)
        ylim = (min(vals) - pad, max(vals) + pad)
    xlim = v["xlim"] or (v["start"], x[-1])
    sel = None
    fields = ["Month", "Median", "50% of runs", "80% of runs", "95% of runs"]
    if cmp is not None:
        domain += [f"Median ('{cmp['name']}')", f"80% of runs ('{cmp['name']}')"]
        rng += [C.OKABE_ITO["vermillion"]] * 2
        sel = alt.selection_point(fields=["series"], bind="legend")
    ytitle = ("Relations index (Goldstein points, \u221210 conflict to +10 alliance)" if var == "relations"
              else C.VAR_LABELS.get(var, var))
    ax = _Axes(xlim, ylim, ytitle, colour=alt.Scale(domain=domain, range=rng))
    bands = _bands(ax, ylim, xlim[1]) if var == "relations" else []
    layers = bands[:1]
    fl = _fan_layers(ax, df, med_name, sel)
    if sel is not None:
        fl[-1] = fl[-1].add_params(sel)
    layers += fl
    if cmp is not None:
        cdf = _fan_frame(cmp["x"], cmp["f"], month_names(cmp["x"], None), fmt)
        layers.append(_chart(cdf, domain[-2]).mark_line(strokeDash=[7, 4], strokeWidth=2.4)
                      .encode(x=ax.x(), y=ax.y(qf(0.5)), color=ax.series(), opacity=_opacity(sel)))
        for q in (0.1, 0.9):
            layers.append(_chart(cdf, domain[-1]).mark_line(strokeDash=[1.5, 3], strokeWidth=1.4)
                          .encode(x=ax.x(), y=ax.y(qf(q)), color=ax.series(), opacity=_opacity(sel)))
        extra = cdf[["date", "Median", "80% of runs"]].rename(
            columns={"Median": domain[-2], "80% of runs": domain[-1]})
        df = df.merge(extra, on="date", how="outer").sort_values("date", kind="stable")
        # Months only one scenario reaches: blank hover text; number columns stay NaN (pandas 4
        # refuses a string fill of a float column).
        df = df.fillna({c: "" for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])})
        df["Month"] = month_names(pd.DatetimeIndex(df["date"]), v["start"])
        fields += list(extra.columns[1:])
    layers += bands[1:]  # the band names over the fan
    layers += _start(ax, v["start"], v["init"], fmt)
    layers += _hover(ax, df, fields, ylim)
    chart = _layer(*layers, width=WIDTH, height=height)
    return _finish(chart, data)


def exports(data: C.ChartData, height: int = HEIGHT):
    """Recorded annual exports (ONS) continued by the fan of simulated exports, annualised."""
    v = data.values
    x, f = v["x"], v["f"]

    def bn(a: float) -> str:
        return f"\u00a3{a / 1000:.2f}bn"

    df = _fan_frame(x, f, month_names(x, v["start"]), bn)
    med_name = "Simulated median (monthly value \u00d7 12)"
    domain, rng = _fan_colours(C.OKABE_ITO["green"], hex_mix(C.OKABE_ITO["green"], 1.0), med_name)
    domain.insert(0, "Recorded, calendar year (ONS)")
    rng.insert(0, "#000000")
    top = max(float(f.max().max()), float(max(v["hist"])))
    ylim = (0.0, top * 1.05)
    ax = _Axes(v["xlim"], ylim, "UK goods exports to Russia, \u00a3 a year (simulated: monthly value \u00d7 12)",
               label_expr="datum.value == 0 ? '0' : '\u00a3' + format(datum.value / 1000, ',.0f') + 'bn'",
               colour=alt.Scale(domain=domain, range=rng))
    ax.x = _year_x(ax)
    hist = pd.DataFrame({"date": _iso(v["hx"]), "Year": [str(y) for y in v["years"]],
                         "Exports": [bn(h) for h in v["hist"]], "value": [float(h) for h in v["hist"]],
                         "series": domain[0]})
    layers = _fan_layers(ax, df, med_name)
    tip = [alt.Tooltip("Year:N"), alt.Tooltip("Exports:N", title="Recorded (ONS)")]
    layers.append(_chart(hist).mark_line(strokeWidth=2.0, point=alt.OverlayMarkDef(filled=True, size=40))
                  .encode(x=ax.x(), y=ax.y("value"), color=ax.series(), tooltip=tip))
    layers += _start(ax, v["start"], None, bn)
    layers += _hover(ax, df, ["Month", "Median", "50% of runs", "80% of runs", "95% of runs"], ylim)
    # the recorded points above the hover columns, so their own tooltip shows
    layers.append(_chart(hist).mark_point(filled=True, size=60, color="#000000", opacity=1)
                  .encode(x=ax.x(), y=ax.y("value"), tooltip=tip))
    return _finish(_layer(*layers, width=WIDTH, height=height), data, legend_columns=3)


def _year_x(ax: _Axes):
    def x(field: str = "date") -> alt.X:
        return alt.X(f"{field}:T", title=None, scale=ax.xscale,
                     axis=alt.Axis(format="%Y", tickCount={"interval": "year", "step": 2},
                                   gridColor="#EBEBEB"))
    return x


def events(data: C.ChartData, height: int = HEIGHT):
    """Cumulative probability of each key event by month; hover a month for all of them."""
    v = data.values
    xs, series = v["xs"], v["series"]
    names = month_names(xs, xs[0])
    colours = [C.EVENT_COLOURS[i % 6] for i in range(len(series))]
    dashes = ([1, 0], [6, 3], [6, 2, 1, 2], [1, 2], [5, 1, 1, 1], [1, 1])
    rows = []
    for name, y in series.items():
        rows += [{"date": d, "Month": m, "series": name, "p": float(p), "Probability": f"{100 * p:.1f}%"}
                 for d, m, p in zip(_iso(xs), names, y, strict=True)]
    long = pd.DataFrame(rows)
    ax = _Axes((xs[0], xs[-1]), (0.0, 1.0), "Probability the event has happened (share of runs, cumulative)",
               yfmt=".0%", colour=alt.Scale(domain=list(series), range=colours))
    sel = alt.selection_point(fields=["series"], bind="legend")
    tip = [alt.Tooltip("series:N", title="Event"), "Month:N", "Probability:N"]
    lines = _chart(long).mark_line(strokeWidth=2.4).encode(
        x=ax.x(), y=ax.y("p"), color=ax.series(), opacity=_opacity(sel), tooltip=tip,
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=list(series), range=list(dashes)),
                                  legend=None)).add_params(sel)
    wide = pd.DataFrame({"date": _iso(xs), "Month": names})
    for name, y in series.items():
        p, se = v["ends"][name]
        wide[name] = [f"{100 * q:.1f}%" for q in y]
    layers = [lines] + _hover(ax, wide, ["Month", *series], (0.0, 1.0))
    end = pd.DataFrame([{"date": _iso([xs[-1]])[0], "series": n, "p": p,
                         "Month": v["horizon"], "Probability": f"{100 * p:.1f}%",
                         "Words": f"{phia(p)}{C._dagger(p, se)}"} for n, (p, se) in v["ends"].items()])
    layers.append(_chart(end).mark_point(filled=True, size=70, opacity=1).encode(
        x=ax.x(), y=ax.y("p"), color=ax.series(), shape=alt.Shape("series:N", legend=None),
        tooltip=[*tip, alt.Tooltip("Words:N", title="PHIA")]))
    return _finish(_layer(*layers, width=WIDTH, height=height), data, legend_columns=3)


def trajectories(data: C.ChartData, height: int = HEIGHT):
    """A few sample runs of relations over the 80% band and median of all runs."""
    v = data.values
    x, f, ylim = v["x"], v["f"], v["ylim"]
    fmt = (lambda a: C.fmt_pts(a, 2))
    df = _fan_frame(x, f, month_names(x, x[0]), fmt)
    domain = ["Median of all runs", "80% of runs", "Sample runs"]
    ax = _Axes((x[0], x[-1]), ylim, "Relations index (Goldstein points, \u221210 conflict to +10 alliance)",
               colour=alt.Scale(domain=domain, range=["#000000", hex_mix(C.OKABE_ITO["blue"], 0.25),
                                                      C.SERIES[0]]))
    layers = _bands(ax, ylim, x[-1])
    layers.append(_chart(df, "80% of runs").mark_area().encode(
        x=ax.x(), y=ax.y(qf(0.1)), y2=f"{qf(0.9)}:Q", color=ax.series()))
    rows = []
    names = month_names(x, x[0])
    for j, (run, y) in enumerate(v["paths"].items()):
        rows += [{"date": d, "Month": m, "run": f"run {run}", "k": j, "value": float(a), "Relations": fmt(a)}
                 for d, m, a in zip(_iso(x), names, y, strict=True)]
    paths = pd.DataFrame(rows)
    layers.append(_chart(paths).mark_line(strokeWidth=1.2).encode(
        x=ax.x(), y=ax.y("value"), detail="run:N",
        stroke=alt.Stroke("run:N", scale=alt.Scale(range=list(C.SERIES)), legend=None),
        tooltip=[alt.Tooltip("run:N", title="Sample"), "Month:N", "Relations:N"]))
    layers.append(_chart(df, "Median of all runs").mark_line(strokeWidth=3).encode(
        x=ax.x(), y=ax.y(qf(0.5)), color=ax.series()))
    layers.append(_chart(pd.DataFrame([{"series": "Sample runs", "date": _iso([x[0]])[0],
                                           "value": float(v["init"])}])).mark_line().encode(
        x=ax.x(), y=ax.y("value"), color=ax.series()))
    layers += _start(ax, x[0], v["init"], fmt)
    layers += _hover(ax, df, ["Month", "Median", "80% of runs"], ylim)
    return _finish(_layer(*layers, width=WIDTH, height=height), data, legend_columns=3)


def _outcome_label(k: str) -> str:
    return C.OUTCOME_TEXT[k].split("\n")[0]


def outcomes(data: C.ChartData, height: int = HEIGHT):
    """Outcome-class probabilities at the horizon: bars with 95% Monte Carlo whiskers and
    the PHIA words; two scenarios side by side within each class."""
    v = data.values
    rows = []
    for j, (name, probs) in enumerate(v["sets"]):
        for k in OUTCOMES:
            p, se = probs[k]
            err = Z95 * se
            colour = C.OUTCOME_STYLE[k][0]
            rows.append({"Outcome": _outcome_label(k), "Scenario": name, "p": p, "lo": max(0.0, p - err),
                         "hi": min(1.0, p + err), "fill": colour if j == 0 else hex_mix(colour, 0.45),
                         "Probability": f"{100 * p:.1f}% \u00b1 {100 * err:.1f}",
                         "Words": f"{phia(p)}{C._dagger(p, se)}", "Class": C.OUTCOME_TEXT[k].replace("\n", " "),
                         "label": (f"{name}: " if len(v["sets"]) > 1 else "")
                         + f"{100 * p:.1f}% \u00b1 {100 * err:.1f}  {phia(p)}{C._dagger(p, se)}"})
    df = pd.DataFrame(rows)
    order = [_outcome_label(k) for k in OUTCOMES]
    y = alt.Y("Outcome:N", sort=order, title=None, axis=alt.Axis(labelFontSize=12, labelFontWeight="bold"))
    yoff = alt.YOffset("Scenario:N", sort=[n for n, _ in v["sets"]]) if len(v["sets"]) > 1 else alt.Undefined
    x = alt.X("p:Q", title=f"Probability of each outcome in {v['horizon']} (share of runs)",
              scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%"))
    tip = ["Class:N", "Scenario:N", alt.Tooltip("Probability:N", title="Probability (95% interval)"),
           alt.Tooltip("Words:N", title="PHIA")]
    base = _chart(df)
    bars = base.mark_bar(stroke="#333333", strokeWidth=0.6, height={"band": 0.85}).encode(
        y=y, x=x, fill=alt.Fill("fill:N", scale=None), yOffset=yoff, tooltip=tip)
    whisk = base.mark_rule(color="#000000", strokeWidth=1.4).encode(y=y, x="lo:Q", x2="hi:Q", yOffset=yoff,
                                                                    tooltip=tip)
    text = base.mark_text(align="left", dx=6, font=FONT, fontSize=11, color="#111111").encode(
        y=y, x="hi:Q", text="label:N", yOffset=yoff, tooltip=tip)
    chart = _layer(bars, whisk, text, width=WIDTH, height=height)
    return _finish(chart, data)


def waterfall(data: C.ChartData, height: int = HEIGHT):
    """From the start level through each driver's mean net contribution to the mean at
    the horizon."""
    rows, level = [], 0.0
    for i, (label, val, kind) in enumerate(data.values["rows"]):
        if kind == "total":
            a, b, level = 0.0, val, val
            fill = hex_mix("#7F7F7F", 0.85)
        else:
            a, b = level, level + val
            level = b
            fill = hex_mix(C.OKABE_ITO["blue"] if val >= 0 else C.OKABE_ITO["vermillion"], 0.85)
        rows.append({"Driver": label, "order": i, "a": a, "b": b, "right": max(a, b), "fill": fill,
                     "Value": C.fmt_pts(val, 2), "Level after": C.fmt_pts(b, 2),
                     "kind": "level" if kind == "total" else "contribution"})
    df = pd.DataFrame(rows)
    lo, hi = min([0.0, *df["a"], *df["b"]]), max([0.0, *df["a"], *df["b"]])
    pad = 0.04 * (hi - lo)
    y = alt.Y("Driver:N", sort=list(df["Driver"]), title=None, axis=alt.Axis(labelLimit=360))
    x = alt.X("a:Q", title="Relations index (Goldstein points): mean over runs",
              scale=alt.Scale(domain=[lo - pad, hi + pad], nice=False))
    tip = ["Driver:N", alt.Tooltip("Value:N", title="Points"), alt.Tooltip("Level after:N", title="Level after"),
           alt.Tooltip("kind:N", title="Bar")]
    bars = _chart(df).mark_bar(stroke="#333333", strokeWidth=0.6).encode(
        y=y, x=x, x2="b:Q", fill=alt.Fill("fill:N", scale=None), tooltip=tip)
    zero = _chart(pd.DataFrame([{"z": 0.0}])).mark_rule(color="#333333").encode(x="z:Q")
    vals = _chart(df).mark_text(align="left", dx=5, font=FONT, fontSize=11, color="#111111").encode(
        y=y, x="right:Q", text="Value:N", tooltip=tip)
    chart = _layer(bars, zero, vals, width=WIDTH, height=height)
    return _finish(chart, data)


def stacked(data: C.ChartData, height: int = HEIGHT):
    """Cumulative mean contributions over time, stacked above and below zero, with the net
    change in mean relations."""
    v = data.values
    xs, names = v["xs"], month_names(v["xs"], v["xs"][0])
    rows = []
    for label, vals in v["series"].items():
        y = [0.0, *map(float, vals)]
        rows += [{"date": d, "Month": m, "series": f"{label} ({C.fmt_pts(vals[-1])})", "value": a,
                  "Points": C.fmt_pts(a, 2)} for d, m, a in zip(_iso(xs), names, y, strict=True)]
    df = pd.DataFrame(rows)
    net = v["net"]
    net_name = f"Net change in mean relations ({C.fmt_pts(net[-1])})"
    domain = list(dict.fromkeys(df["series"])) + [net_name]
    rng = [C.SERIES[i % len(C.SERIES)] for i in range(len(domain) - 1)] + ["#000000"]
    # The stacked area sets its own y scale (stack="zero"); the axes give only x, title and colours.
    ax = _Axes((xs[0], xs[-1]), None, "Cumulative contribution since the start (Goldstein points, mean)",
               colour=alt.Scale(domain=domain, range=rng))
    tip = [alt.Tooltip("series:N", title="Driver"), "Month:N", "Points:N"]
    area = _chart(df).mark_area(opacity=0.8).encode(x=ax.x(), y=alt.Y("value:Q", stack="zero", title=ax.ytitle),
                                                       color=ax.series(), tooltip=tip)
    ndf = pd.DataFrame({"date": _iso(xs), "Month": names, "value": net, "Points": [C.fmt_pts(a, 2) for a in net],
                        "series": net_name})
    line = _chart(ndf).mark_line(strokeWidth=2.6).encode(x=ax.x(), y="value:Q", color=ax.series(), tooltip=tip)
    return _finish(_layer(area, line, width=WIDTH, height=height), data, legend_columns=2)


def compare(data: C.ChartData, height: int = HEIGHT):
    """Two or more scenarios: relations medians with 80% bands (left) and outcome
    probabilities with 95% whiskers (right); a legend click hides a scenario in both."""
    v = data.values
    names = list(v["fans"])
    labels = {n: f"{n} (median {C.fmt_pts(v['medians'][n])})" for n in names}
    colours = [C.SERIES[i % len(C.SERIES)] for i in range(len(names))]
    colour = alt.Scale(domain=[labels[n] for n in names], range=colours)
    sel = alt.selection_point(fields=["series"], bind="legend")
    ylim = v["ylim"]
    ax = _Axes(v["xlim"], ylim, "Relations index (Goldstein points)", colour=colour)
    layers = _bands(ax, ylim, v["xlim"][1])
    fans = []
    for n in names:
        x, f = v["fans"][n]
        d = _fan_frame(x, f, month_names(x, x[0]), lambda a: C.fmt_pts(a, 2)).assign(series=labels[n], Scenario=n)
        fans.append(d)
    df = pd.concat(fans, ignore_index=True)
    tip = ["Scenario:N", "Month:N", "Median:N", "80% of runs:N"]
    dashes = alt.StrokeDash("series:N", scale=alt.Scale(domain=colour.domain,
                                                        range=[[1, 0], [6, 3], [6, 2, 1, 2], [1, 2]][:len(names)]),
                            legend=None)
    layers.append(_chart(df).mark_area(opacity=0.12).encode(
        x=ax.x(), y=ax.y(qf(0.1)), y2=f"{qf(0.9)}:Q", color=ax.series(), detail="series:N",
        opacity=alt.OpacityValue(value=0.0, condition={"param": sel.name, "value": 0.12, "empty": True}),
        tooltip=tip))
    for q, w in ((0.1, 0.8), (0.9, 0.8), (0.5, 2.6)):
        line = _chart(df).mark_line(strokeWidth=w).encode(
            x=ax.x(), y=ax.y(qf(q)), color=ax.series(), strokeDash=dashes, opacity=_opacity(sel), tooltip=tip)
        layers.append(line.add_params(sel) if q == 0.5 else line)
    left = _layer(*layers, width=520, height=height,
                  title={"text": "Relations: median (thick) and 80% of runs (thin)", "anchor": "start", "fontSize": 12})
    rows = []
    for n in names:
        for k in OUTCOMES:
            p, se = v["probs"][n][k]
            err = Z95 * se
            rows.append({"Outcome": _outcome_label(k), "Scenario": n, "series": labels[n], "p": p,
                         "lo": p - err, "hi": p + err, "Probability": f"{100 * p:.1f}% \u00b1 {100 * err:.1f}",
                         "Words": f"{phia(p)}{C._dagger(p, se)}"})
    odf = pd.DataFrame(rows)
    order = [_outcome_label(k) for k in OUTCOMES]
    y = alt.Y("Outcome:N", sort=order, title=None)
    yoff = alt.YOffset("Scenario:N", sort=names)
    x = alt.X("p:Q", title=f"Probability in {v['horizon']}", scale=alt.Scale(domain=[-0.02, 1.02], nice=False),
              axis=alt.Axis(format=".0%"))
    otip = ["Scenario:N", "Outcome:N", alt.Tooltip("Probability:N", title="Probability (95% interval)"),
            alt.Tooltip("Words:N", title="PHIA")]
    whisk = _chart(odf).mark_rule(strokeWidth=1.4).encode(
        y=y, yOffset=yoff, x=x, x2="hi:Q", color=alt.Color("series:N", scale=colour, legend=None),
        opacity=_opacity(sel), tooltip=otip).transform_calculate(p="datum.lo")
    dots = _chart(odf).mark_point(filled=True, size=80).encode(
        y=y, yOffset=yoff, x=x, color=alt.Color("series:N", scale=colour, legend=None),
        shape=alt.Shape("series:N", scale=alt.Scale(domain=colour.domain,
                                                    range=["circle", "square", "triangle-up", "diamond"][:len(names)]),
                        legend=None), opacity=_opacity(sel), tooltip=otip)
    right = _layer(whisk, dots, width=300, height=height,
                   title={"text": "Outcome probabilities", "anchor": "start", "fontSize": 12})
    return _finish({"hconcat": [left, right], "spacing": 30}, data, legend_columns=2, autosize="pad")


# Wrapped here rather than with @_screen: mutmut leaves decorated functions unmutated, and these
# eight hold the screen charts' titles, fields and tooltips (issue 14's mutation campaign).
fan, exports, events, trajectories = _screen(fan), _screen(exports), _screen(events), _screen(trajectories)
outcomes, waterfall, stacked, compare = _screen(outcomes), _screen(waterfall), _screen(stacked), _screen(compare)


# ---------------------------------------------------------------- dispatch

SCREEN = {"fan": fan, "outcomes": outcomes, "contributions": waterfall, "contributions-stacked": stacked,
          "exports": exports, "events": events, "trajectories": trajectories, "compare": compare}


def chart_data(chart: str, ds: xr.Dataset, other: xr.Dataset | None = None,
               names: tuple[str, str] = ("current", "preset")) -> C.ChartData:
    """The data layer's output for a dashboard chart id (as ``dashboard.compute.CHARTS``)."""
    if chart == "fan":
        return C.fan_data(ds, "relations")
    if chart == "outcomes":
        return C.outcome_data(ds)
    if chart == "contributions":
        return C.waterfall_data(ds)
    if chart == "contributions-stacked":
        return C.stacked_data(ds)
    if chart == "exports":
        return C.exports_data(ds)
    if chart == "events":
        return C.events_data(ds)
    if chart == "trajectories":
        return C.trajectories_data(ds, 8, 0)
    if chart == "compare_fan":
        return C.fan_data(ds, "relations", compare=other)
    if chart == "compare":
        return C.compare_data({names[0]: ds, names[1]: other})
    raise KeyError(chart)


def screen_chart(chart: str, ds: xr.Dataset, other: xr.Dataset | None = None,
                 names: tuple[str, str] = ("current", "preset")):
    """The Altair chart for a dashboard chart id."""
    data = chart_data(chart, ds, other, names)
    return SCREEN["fan" if chart == "compare_fan" else chart](data)
