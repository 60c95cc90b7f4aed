"""Briefing charts, shared by the dashboard and ``dialogue brief``.

Every function takes a results Dataset (see ``docs/architecture.md``) and returns a
:class:`matplotlib.figure.Figure` built with the object-oriented API only: no pyplot,
no global state, safe under the Agg backend and in threads. Styling is applied with
``matplotlib.rc_context`` inside each function, so the caller's rcParams are never
changed.

Style rules (see ``docs/briefing.md``): the title states the finding, computed from
the data; every chart carries a source-and-notes line; colours come from the
Okabe-Ito colour-blind-safe palette and, wherever colour carries meaning, hatching,
line styles or direct labels carry it too, so the charts read in greyscale.

``save_figure`` / ``figure_bytes`` write PNG, SVG or PDF deterministically: the same
figure gives the same bytes (no dates embedded, fixed SVG hash salt, TrueType fonts
embedded in PDFs).
"""

from __future__ import annotations

import contextvars
import io
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from model.agents.relations import BANDS, DRIVER_LABELS
from model.analysis import (
    OUTCOME_BANDS_NOTE,
    Z95,
    contributions,
    event_cumprob,
    fan,
    fmt_prob,
    phia,
    phia_crossing,
    prob_with_se,
    reversion_note,
    scenario_label,
    waterfall_rows,
)
from model.errors import DialogueError
from model.results import OUTCOMES

# Figure sizes in inches. "slide" is 16:9 (PowerPoint's default widescreen slide);
# "a4" is half an A4 page in landscape (A5 landscape, 210 x 148.5 mm): a chart is read
# at the page's full width and two stack on one portrait page with room for captions.
# A full A4 portrait page for a single chart would make every chart tall and empty.
SIZES: dict[str, tuple[float, float]] = {"slide": (13.333, 7.5), "a4": (8.27, 5.845)}
# Resolution of raster output: a slide is 1920 x 1080 px; a4 is print quality.
DPI: dict[str, int] = {"slide": 144, "a4": 150}
# Base font size in points (a slide is read from across a room).
FONT_PT: dict[str, float] = {"slide": 15.0, "a4": 9.0}
FORMATS = ("png", "svg", "pdf")

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
SERIES = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
HATCHES = ("//", "\\\\", "xx", "..", "oo", "--", "++")

OUTCOME_STYLE = {  # colour, hatch: distinguishable in greyscale by the hatch
    "rupture": ("#D55E00", "xx"),
    "confrontation": ("#E69F00", "//"),
    "cool": ("#56B4E9", ""),
    "thaw": ("#0072B2", ".."),
}
OUTCOME_TEXT = {
    "rupture": "Rupture\n(sanctions, or \u2264 \u22126)",
    "confrontation": "Confrontation\n(\u22126 to \u22122)",
    "cool": "Cool\n(\u22122 to +2)",
    "thaw": "Thaw\n(above +2)",
}
BAND_COLOURS = {  # very light fills for the named bands of the relations scale
    "hostile": "#F6D5C0", "confrontational": "#FBEBD0", "cool": "#F2F2F2",
    "constructive": "#D8EAF6", "partnership": "#C4DDEE",
}
FAN_LEVELS = ((0.95, 0.025, 0.975), (0.80, 0.10, 0.90), (0.50, 0.25, 0.75))
FAN_QUANTILES = (0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975)

# Read when a figure is drawn or saved, so they are applied in figure_bytes too. No font
# hinting: glyph metrics then do not depend on what FreeType has rendered before, so
# layouts (and bytes) are the same however many figures a process has drawn.
_SAVE_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.hashsalt": "uk-russia-dialogue",
            "svg.fonttype": "path", "pdf.compression": 6, "text.hinting": "no_hinting"}
_METADATA = {"png": {"Software": None}, "svg": {"Date": None},
             "pdf": {"CreationDate": None, "ModDate": None}}

# Whether charts carry their own source-and-notes line (the one-page brief turns it
# off and prints the source once, in its footer).
_NOTES = contextvars.ContextVar("dialogue_chart_notes", default=True)

VAR_LABELS = {
    "relations": "Relations index (Goldstein points)",
    "exports_gbp_m": "UK goods exports to Russia (\u00a3m a month)",
    "protest": "Share of Russian public protesting",
    "grievance": "Share of Russian public disaffected",
    "repression": "Repression (index 0\u20131)",
    "threat": "Kremlin threat perception (index 0\u20131)",
    "syria_divergence": "Syria divergence (index 0\u20131)",
    "values_concern": "UK values concern (index 0\u20131)",
    "us_russia": "US\u2013Russia relations (index \u22121 to 1)",
    "pressure": "UK escalation pressure (points)",
    "ladder": "UK response rung (0\u20134)",
}


# ---------------------------------------------------------------- style and helpers

def _rc(size: str, font_pt: float | None = None) -> dict:
    from cycler import cycler

    base = FONT_PT[size] if font_pt is None else font_pt
    return {
        "font.family": "DejaVu Sans", "font.size": base,
        "axes.titlesize": base, "axes.labelsize": base * 0.92, "axes.titleweight": "bold",
        "xtick.labelsize": base * 0.85, "ytick.labelsize": base * 0.85, "legend.fontsize": base * 0.82,
        "figure.titlesize": base * 1.18, "figure.titleweight": "bold", "figure.labelsize": base * 0.72,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.color": "#D9D9D9", "grid.linewidth": 0.6, "axes.axisbelow": True,
        "axes.edgecolor": "#555555", "axes.linewidth": 0.8, "xtick.color": "#333333",
        "ytick.color": "#333333", "axes.labelcolor": "#222222", "text.color": "#111111",
        "legend.frameon": False, "hatch.linewidth": 0.7, "hatch.color": "#333333",
        "axes.prop_cycle": cycler(color=list(SERIES)), "axes.unicode_minus": True,
        "lines.solid_capstyle": "butt", "figure.facecolor": "white", "savefig.facecolor": "white",
        **_SAVE_RC,
    }


@contextmanager
def _style(size: str, font_pt: float | None = None):
    import matplotlib

    if size not in SIZES:
        raise DialogueError(f"unknown chart size '{size}'; use one of {', '.join(SIZES)}")
    with matplotlib.rc_context(_rc(size, font_pt)):
        yield


def _new_figure(size: str, nrows: int = 1, ncols: int = 1, **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZES[size], dpi=DPI[size], layout="constrained")
    fig.get_layout_engine().set(w_pad=0.08, h_pad=0.08, wspace=0.06, hspace=0.06)
    return fig


def minus(text: str) -> str:
    """Typographic minus signs in numbers ("-2.1" -> "\u22122.1")."""
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        prev = text[i - 1] if i else " "
        out.append("\u2212" if ch == "-" and nxt.isdigit() and not prev.isalnum() else ch)
    return "".join(out)


def fmt_pts(x: float, digits: int = 1) -> str:
    """Signed points with a typographic minus; values that round to zero print as 0.0."""
    if round(x, digits) == 0:
        return f"{0:.{digits}f}"
    return minus(f"{x:+.{digits}f}")


def lower_first(label: str) -> str:
    """'Incidents on UK soil' -> 'incidents on UK soil' (acronyms and proper nouns kept)."""
    proper = ("Russia", "Russian", "Strategic", "Syria", "London", "Moscow", "Kremlin")
    if label[:2].isupper() or label.split(" ", 1)[0] in proper:
        return label
    return label[:1].lower() + label[1:]


def month_label(ts) -> str:
    return pd.Timestamp(ts).strftime("%b %Y")


def horizon_label(ds: xr.Dataset) -> str:
    """The last simulated month, e.g. 'Feb 2018' (the state at its end)."""
    return month_label(ds["time"].values[-1])


def start_label(ds: xr.Dataset) -> str:
    return month_label(_start_ts(ds))


def _start_ts(ds: xr.Dataset) -> pd.Timestamp:
    start = ds.attrs.get("start")
    return pd.Timestamp(start) if start else pd.Timestamp(ds["time"].values[0])


def _x(ds: xr.Dataset) -> pd.DatetimeIndex:
    """Plot positions: each value is the state at the END of its month."""
    return pd.DatetimeIndex(ds["time"].values) + pd.offsets.MonthBegin(1)


def _initial(ds: xr.Dataset, var: str) -> float | None:
    if var == "relations" and "initial_relations" in ds.attrs:
        return float(ds.attrs["initial_relations"])
    try:
        ini = tomllib.loads(ds.attrs.get("scenario_toml", "")).get("initial", {})
    except tomllib.TOMLDecodeError:
        return None
    val = ini.get(var)
    return float(val) if isinstance(val, int | float) and not isinstance(val, bool) else None


@lru_cache(maxsize=4)
def _measuring_font(weight: str):
    """A private FreeType face for measuring text: never shared with the renderers,
    so measuring cannot change the state their layouts start from."""
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    return FT2Font(findfont(FontProperties(family="DejaVu Sans", weight=weight)))


@lru_cache(maxsize=8192)
def text_width_pt(text: str, size: float, weight: str = "normal") -> float:
    """Width of ``text`` in points, measured from the DejaVu Sans glyphs."""
    from matplotlib.ft2font import LoadFlags

    font = _measuring_font("bold" if weight == "bold" else "normal")
    font.set_size(size, 72)
    font.set_text(text, 0.0, flags=LoadFlags.NO_HINTING)
    w, _ = font.get_width_height()
    return w / 64.0


def wrap_lines(text: str, width_in: float, size: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap using real glyph widths, so no line overruns ``width_in``."""
    limit = width_in * 72
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            cand = f"{line} {word}" if line else word
            if line and text_width_pt(cand, size, weight) > limit:
                lines.append(line)
                line = word
            else:
                line = cand
        lines.append(line)
    return lines


def _size_in(fig, horizontal: bool) -> float:
    """Width (or height) of a Figure or SubFigure in inches; a SubFigure's comes
    from its slot in the parent's grid."""
    spec = getattr(fig, "_subplotspec", None)
    if spec is None:
        return fig.get_figwidth() if horizontal else fig.get_figheight()
    gs = spec.get_gridspec()
    if horizontal:
        ratios, n, span = gs.get_width_ratios(), gs.ncols, spec.colspan
        lo, hi = (gs.left if gs.left is not None else 0.0), (gs.right if gs.right is not None else 1.0)
    else:
        ratios, n, span = gs.get_height_ratios(), gs.nrows, spec.rowspan
        lo, hi = (gs.bottom if gs.bottom is not None else 0.0), (gs.top if gs.top is not None else 1.0)
    ratios = np.asarray(ratios or [1] * n, dtype=float)
    share = float(ratios[list(range(span.start, span.stop))].sum() / ratios.sum())
    return _size_in(fig._parent, horizontal) * (hi - lo) * share


def _width_in(fig) -> float:
    return _size_in(fig, horizontal=True)


def _height_in(fig) -> float:
    return _size_in(fig, horizontal=False)


def _wrap(fig, text: str, font_pt: float, frac: float = 0.97, weight: str = "normal") -> str:
    """Wrap ``text`` to the (sub)figure's width at ``font_pt``."""
    return "\n".join(wrap_lines(text, _width_in(fig) * frac, font_pt, weight)) if text else ""


def _fontsize(key: str) -> float:
    import matplotlib
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=matplotlib.rcParams[key]).get_size_in_points()


def _frame(fig, title: str, note: str) -> None:
    """Finding as the title (top left) and the source-and-notes line (bottom left)."""
    tsize = _fontsize("figure.titlesize")
    nsize = _fontsize("figure.labelsize")
    fig.suptitle(_wrap(fig, minus(title), tsize, weight="bold"), x=0.01, ha="left", va="top")
    if not _NOTES.get():
        return
    fig.supxlabel(_wrap(fig, note, nsize), x=0.01, ha="left", va="bottom",
                  color="#444444", linespacing=1.25)


def source_note(ds: xr.Dataset, extra: str = "", trade: bool = False) -> str:
    """The source-and-notes line: scenario, runs, seed, version, source."""
    a = ds.attrs
    src = "Source: model simulation" + ("; ONS UK goods exports to Russia 2002\u20132012" if trade else "")
    parts = [f"Scenario '{scenario_label(ds)}'", f"{ds.sizes['run']:,} runs", f"seed {a.get('seed', '?')}",
             f"model v{a.get('version', '?')}", src]
    return " \u00b7 ".join(parts) + (f". {extra}" if extra else ".")


def _mix(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` mixed with white: 1.0 is the colour, 0.0 is white (opaque, so bands
    nest without alpha blending and print the same everywhere)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (1 - amount * (1 - r), 1 - amount * (1 - g), 1 - amount * (1 - b))


def _date_axis(ax, ds: xr.Dataset) -> None:
    """Year (or month) ticks at fixed positions computed once from the data range.

    Fixed locators rather than matplotlib's rrule-based date locators: those are
    re-evaluated at every layout pass and cost about a tenth of a second a chart,
    which matters for the dashboard's redraw time."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FixedFormatter, FixedLocator

    lo, hi = pd.Timestamp(_start_ts(ds)), pd.Timestamp(_x(ds)[-1])
    months = ds.sizes["time"]
    if months > 30:
        major = pd.date_range(lo.to_period("Y").to_timestamp(), hi, freq="YS")
        major = major[major >= lo]
        labels = [f"{t.year}" for t in major]
        minor = pd.date_range(lo, hi, freq="QS-JAN") if months <= 84 else pd.DatetimeIndex([])
        minor = minor[minor.month != 1]
    else:
        step = 3 if months > 12 else 1
        major = pd.date_range(lo.to_period("M").to_timestamp(), hi, freq=f"{step}MS")
        major = major[major >= lo]
        labels = [t.strftime("%b\n%Y") for t in major]
        minor = pd.DatetimeIndex([])
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(major.to_pydatetime())))
    ax.xaxis.set_major_formatter(FixedFormatter(labels))
    ax.xaxis.set_minor_locator(FixedLocator(mdates.date2num(minor.to_pydatetime())))
    ax.set_xlim(lo, hi)
    ax.grid(axis="x", which="major", color="#EBEBEB")


def _spread(values: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Positions near ``values`` at least ``gap`` apart, kept inside [lo, hi]
    (for direct labels that must not overlap)."""
    order = np.argsort(values)
    pos = np.array(values, dtype=float)[order]
    for _ in range(50):
        moved = False
        for i in range(1, len(pos)):
            if pos[i] - pos[i - 1] < gap - 1e-12:
                mid = (pos[i] + pos[i - 1]) / 2
                pos[i - 1], pos[i] = mid - gap / 2, mid + gap / 2
                moved = True
        if len(pos):
            if pos[0] < lo:
                pos += lo - pos[0]
                moved = True
            if pos[-1] > hi:
                pos -= pos[-1] - hi
                moved = True
        if not moved:
            break
    out = np.empty_like(pos)
    out[order] = pos
    return out.tolist()


def _band_name(x: float) -> str:
    for name, _lo, hi in BANDS:
        if x <= hi:
            return name
    return BANDS[-1][0]


def _relations_ylim(values: list[float]) -> tuple[float, float]:
    """Snap the y range outwards to band edges around ``values``."""
    lo, hi = min(values), max(values)
    edges = sorted({e for _, a, b in BANDS for e in (a, b)})
    y0 = max(e for e in edges if e <= lo - 0.3) if lo - 0.3 > edges[0] else edges[0]
    y1 = min(e for e in edges if e >= hi + 0.3) if hi + 0.3 < edges[-1] else edges[-1]
    return y0, y1


def _shade_bands(ax, ylim: tuple[float, float]) -> None:
    """Lightly shade the named bands of the relations scale and name them on a
    right-hand axis."""
    ticks, names = [], []
    for name, lo, hi in BANDS:
        a, b = max(lo, ylim[0]), min(hi, ylim[1])
        if b <= a:
            continue
        ax.axhspan(a, b, color=BAND_COLOURS[name], zorder=0, lw=0)
        if b - a >= 1.5:
            ticks.append((a + b) / 2)
            names.append(name)
    for e in {e for _, lo, hi in BANDS for e in (lo, hi)}:
        if ylim[0] < e < ylim[1]:
            ax.axhline(e, color="#FFFFFF", lw=1.2, zorder=0.5)
    right = ax.secondary_yaxis("right")
    right.set_yticks(ticks, labels=names)
    right.tick_params(length=0, labelsize=_fontsize("ytick.labelsize"), labelcolor="#555555")
    right.spines["right"].set_visible(False)


def _fan_values(ds: xr.Dataset, var: str, scale: float = 1.0):
    """(x, quantile frame) with the start value prepended when known."""
    f = fan(ds, var, FAN_QUANTILES) * scale
    x = _x(ds)
    init = _initial(ds, var)
    if init is not None:
        first = pd.DataFrame([[init * scale] * len(FAN_QUANTILES)], columns=f.columns, index=[_start_ts(ds)])
        f = pd.concat([first, f.set_axis(x)])
        x = f.index
    else:
        f = f.set_axis(x)
    return x, f


def _draw_fan_layers(ax, x, f, colour: str, label_prefix: str = "") -> list:
    handles = []
    from matplotlib.patches import Patch

    for (level, lo, hi), amount in zip(FAN_LEVELS, (0.22, 0.42, 0.68), strict=True):
        ax.fill_between(x, f[lo], f[hi], color=_mix(colour, amount), lw=0, zorder=2)
        handles.append(Patch(color=_mix(colour, amount), label=f"{label_prefix}{level:.0%} of runs"))
    line, = ax.plot(x, f[0.5], color=_mix(colour, 1.0) if colour != "#0072B2" else "#00406A",
                    lw=2.4, zorder=4, label=f"{label_prefix}median")
    return [line] + handles[::-1]


def _below_ticks(ax):
    """Axes coordinates shifted down by the height of two lines of tick labels: a
    legend anchored there sits under the date labels whatever the panel's height."""
    from matplotlib.transforms import ScaledTranslation

    drop = 2.6 * _fontsize("xtick.labelsize") / 72
    return ax.transAxes + ScaledTranslation(0, -drop, ax.figure.dpi_scale_trans)


def _mark_start(ax, ds: xr.Dataset, y: float | None, fmt=fmt_pts) -> None:
    t0 = _start_ts(ds)
    ax.axvline(t0, color="#333333", lw=1.0, ls=":", zorder=5)
    if y is not None:
        ax.plot([t0], [y], marker="o", ms=6, color="#000000", zorder=6, clip_on=False)
        ax.annotate(f"Start {month_label(t0)}: {fmt(y)}", (t0, y), xytext=(8, 8), textcoords="offset points",
                    fontsize=_fontsize("xtick.labelsize"), color="#222222", zorder=6,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})


# ---------------------------------------------------------------- data layer
#
# What each chart shows is computed once, by the ``*_data`` functions below, and both
# renderers draw from it: the paper one here (matplotlib: the brief and the PNG/SVG/PDF
# downloads) and the screen one in ``model.charts_screen`` (Vega-Lite through Altair, the
# dashboard). A title, a note or a number therefore cannot differ between the two.


@dataclass(frozen=True)
class ChartData:
    """What one chart shows: the finding as ``title`` (typographic minus signs), the
    source-and-notes line ``note``, and the numbers drawn, in ``values``."""

    kind: str
    title: str
    note: str
    values: dict = field(default_factory=dict)


# ---------------------------------------------------------------- fan chart

def _relations_title(ds: xr.Dataset) -> str:
    end = ds["relations"].isel(time=-1).values.astype(float)
    init = float(ds.attrs.get("initial_relations", np.nan))
    med, p10, p90 = np.median(end), np.quantile(end, 0.10), np.quantile(end, 0.90)
    start_band, end_band = _band_name(init), _band_name(med)
    h = horizon_label(ds)
    if end_band == start_band:
        verb = f"are most likely still {start_band} in {h}"
        if med < init - 0.5:
            verb += ", but weaker"
        elif med > init + 0.5:
            verb += ", but warmer"
    elif med < init:
        verb = f"most likely slide from {start_band} in {start_label(ds)} to {end_band} in {h}"
    else:
        verb = f"most likely improve from {start_band} in {start_label(ds)} to {end_band} in {h}"
    return (f"Relations {verb} (median {fmt_pts(med)}, from {fmt_pts(init)}; "
            f"80% of runs between {fmt_pts(p10)} and {fmt_pts(p90)})")


def _generic_title(ds: xr.Dataset, var: str) -> str:
    end = ds[var].isel(time=-1).values.astype(float)
    label = VAR_LABELS.get(var, var).split(" (")[0]
    init = _initial(ds, var)
    med = float(np.median(end))
    change = "" if init is None else (" up from " if med > init else " down from " if med < init else " as at ")
    change = f",{change}{init:.3g} at the start" if init is not None else ""
    return (f"{label}: median {med:.3g} in {horizon_label(ds)}{change} "
            f"(80% of runs {np.quantile(end, 0.1):.3g} to {np.quantile(end, 0.9):.3g})")


def _relations_ylabel(fig) -> str:
    """The relations axis label, shortened where the panel is too short for it
    (a rotated label longer than its axes runs into the title)."""
    h = _height_in(fig)
    if h >= 4.0:
        return "Relations index (Goldstein points,\n\u221210 conflict to +10 alliance)"
    if h >= 2.6:
        return "Relations index\n(Goldstein, \u221210 to +10)"
    return "Relations\n(Goldstein)"


def fan_data(ds: xr.Dataset, var: str = "relations", title: str | None = None,
             compare: xr.Dataset | None = None) -> ChartData:
    """The fan of ``var``: quantile frame (start value prepended), y range snapped to
    band edges for relations, an optional second scenario, title and notes."""
    if var not in ds:
        raise DialogueError(f"no variable '{var}' in these results")
    x, f = _fan_values(ds, var)
    ys = [float(f.min().min()), float(f.max().max())]
    cmp = None
    if compare is not None:
        cx, cf = _fan_values(compare, var)
        cmp = {"x": cx, "f": cf, "name": compare.attrs.get("scenario", "comparison")}
        ys += [float(cf.min().min()), float(cf.max().max())]
    init = _initial(ds, var)
    ylim = _relations_ylim(ys + ([init] if init is not None else [])) if var == "relations" else None
    note = ("Shading: middle 50%, 80% and 95% of simulated runs; line: median; each value is the state at the "
            "end of its month.")
    if var == "relations":
        note += (" Background: named bands of the relations scale (the outcome classes use the same edges, but "
                 "rupture also counts any run with sanctions in force).")
    if compare is not None:
        note += (f" Dashed: scenario '{compare.attrs.get('scenario', '?')}' ({compare.sizes['run']:,} runs, "
                 f"seed {compare.attrs.get('seed', '?')}).")
    if title is None:
        title = _relations_title(ds) if var == "relations" else _generic_title(ds, var)
        if compare is not None and var == "relations":
            cm = float(np.median(compare["relations"].isel(time=-1)))
            title += f"; '{compare.attrs.get('scenario', '?')}' median {fmt_pts(cm)}"
    return ChartData("fan", minus(title), source_note(ds, note),
                     {"var": var, "x": x, "f": f, "init": init, "ylim": ylim, "compare": cmp,
                      "scenario": ds.attrs.get("scenario", "?"), "start": _start_ts(ds),
                      "xlim": (min(_start_ts(ds), _start_ts(compare)), max(_x(ds)[-1], _x(compare)[-1]))
                      if compare is not None else None})


def _draw_fan(fig, ds: xr.Dataset, var: str, title: str | None, compare: xr.Dataset | None) -> None:
    from matplotlib.lines import Line2D

    data = fan_data(ds, var, title, compare)
    v = data.values
    ax = fig.add_subplot()
    x, f = v["x"], v["f"]
    handles = _draw_fan_layers(ax, x, f, OKABE_ITO["blue"])
    handles[0].set_label(f"Median ('{v['scenario']}')")
    if v["compare"] is not None:
        cx, cf, name = v["compare"]["x"], v["compare"]["f"], v["compare"]["name"]
        col = OKABE_ITO["vermillion"]
        ax.plot(cx, cf[0.5], color=col, lw=2.2, ls="--", zorder=5)
        ax.plot(cx, cf[0.10], color=col, lw=1.2, ls=":", zorder=5)
        ax.plot(cx, cf[0.90], color=col, lw=1.2, ls=":", zorder=5)
        handles += [Line2D([], [], color=col, lw=2.2, ls="--", label=f"Median ('{name}')"),
                    Line2D([], [], color=col, lw=1.2, ls=":", label=f"80% of runs ('{name}')")]
    init = v["init"]
    if var == "relations":
        ylim = v["ylim"]
        _shade_bands(ax, ylim)
        ax.set_ylim(*ylim)
        ax.set_ylabel(_relations_ylabel(fig))
    else:
        ax.set_ylabel(VAR_LABELS.get(var, var))
    _mark_start(ax, ds, init, fmt_pts if var == "relations" else (lambda v: f"{v:.3g}"))
    _date_axis(ax, ds)
    if v["xlim"] is not None:
        ax.set_xlim(*v["xlim"])
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=_below_ticks(ax),
              ncol=min(len(handles), 4 if _width_in(fig) > 6 else 2), handlelength=2.4)
    _frame(fig, data.title, data.note)


def fan_chart(ds: xr.Dataset, var: str = "relations", size: str = "slide", title: str | None = None,
              compare: xr.Dataset | None = None):
    """Median and 50/80/95% bands of ``var`` over time; for relations, the named
    bands of the scale shaded and labelled. ``compare``: a second Dataset drawn as a
    dashed median with a dotted 80% outline."""
    with _style(size):
        fig = _new_figure(size)
        _draw_fan(fig, ds, var, title, compare)
    return fig


# ---------------------------------------------------------------- outcomes

def outcome_probs(ds: xr.Dataset) -> dict[str, tuple[float, float]]:
    """Outcome class -> (probability, Monte Carlo standard error), in OUTCOMES order."""
    out = ds["outcome"].values.astype(str)
    return {k: prob_with_se(out == k) for k in OUTCOMES}


UNSETTLED = ("; \u2020: the 95% Monte Carlo interval spans an edge of the yardstick, so the word is not settled "
             "at this number of runs")


def _dagger(p: float, se: float) -> str:
    """'\u2020' after a PHIA word whose 95% Monte Carlo interval spans a yardstick edge."""
    return "\u2020" if phia_crossing(p, se) is not None else ""


def _any_unsettled(*datasets) -> bool:
    return any(phia_crossing(*pse) is not None for d in datasets if d is not None
               for pse in outcome_probs(d).values())


def _draw_outcomes(fig, ds: xr.Dataset, compare: xr.Dataset | None) -> None:
    from matplotlib.patches import Patch

    data = outcome_data(ds, compare)
    ax = fig.add_subplot()
    sets = [(ds, 1.0, "")] + ([(compare, 0.45, "")] if compare is not None else [])
    n = len(sets)
    h = 0.7 / n
    ypos = np.arange(len(OUTCOMES))[::-1].astype(float)
    fs = _fontsize("xtick.labelsize")
    # Plot width in inches, less the class labels on the left (their longest line).
    longest = max(text_width_pt(line, fs) for k in OUTCOMES for line in OUTCOME_TEXT[k].split("\n"))
    axes_w_in = _width_in(fig) * 0.97 - longest / 72 - 0.3
    for j, (d, amount, _) in enumerate(sets):
        probs = data.values["sets"][j][1]
        offs = (j - (n - 1) / 2) * h
        for i, k in enumerate(OUTCOMES):
            p, se = probs[k]
            colour, hatch = OUTCOME_STYLE[k]
            y = ypos[i] - offs
            ax.barh(y, p, height=h * 0.92, color=_mix(colour, amount), hatch=hatch if j == 0 else "..",
                    edgecolor="#333333", lw=0.6, zorder=2)
            err = Z95 * se
            ax.errorbar(p, y, xerr=err, fmt="none", ecolor="#000000", elinewidth=1.2, capsize=4, zorder=3)
            label = f"{100 * p:.1f}% \u00b1 {100 * err:.1f}  {phia(p)}{_dagger(p, se)}"
            if n > 1:
                label = f"{d.attrs.get('scenario', '?')}: " + label
            if p + err < 0.58:
                # Wrap the words under the number when the label would run past the axes
                # (long "between ... and ..." wording in a narrow panel).
                room_in = (1.0 - p - err - 0.02) * axes_w_in
                if text_width_pt(label, fs) / 72 > room_in:
                    label = label.replace("  ", "\n", 1)
                ax.text(p + err + 0.012, y, label, va="center", ha="left", fontsize=fs, zorder=4,
                        linespacing=1.1)
            else:
                ax.text(p - err - 0.012, y, label, va="center", ha="right", fontsize=fs, zorder=4,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    ax.set_yticks(ypos, labels=[OUTCOME_TEXT[k] for k in OUTCOMES])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_xlabel(f"Probability of each outcome in {horizon_label(ds)} (share of runs)")
    ax.grid(axis="y", visible=False)
    if compare is not None:
        ax.legend(handles=[Patch(facecolor=_mix("#777777", 1.0), edgecolor="#333333",
                                 label=f"'{ds.attrs.get('scenario', '?')}' (upper bar)"),
                           Patch(facecolor=_mix("#777777", 0.45), edgecolor="#333333", hatch="..",
                                 label=f"'{compare.attrs.get('scenario', '?')}' (lower bar)")],
                  loc="lower right")
    _frame(fig, data.title, data.note)


def outcome_data(ds: xr.Dataset, compare: xr.Dataset | None = None) -> ChartData:
    """Outcome-class probabilities with Monte Carlo standard errors (one or two
    scenarios), the modal class, title and notes."""
    probs = outcome_probs(ds)
    modal = max(OUTCOMES, key=lambda k: probs[k][0])
    p = probs[modal][0]
    bad = probs["rupture"][0] + probs["confrontation"][0]
    bad_se = float(np.sqrt(bad * (1 - bad) / ds.sizes["run"]))
    title = (f"{modal.capitalize()} is the most likely outcome in {horizon_label(ds)} ({fmt_prob(p)}, "
             f"{phia(p)}{_dagger(p, probs[modal][1])}); confrontation or worse {fmt_prob(bad)} "
             f"({phia(bad)}{_dagger(bad, bad_se)})")
    note = ("Bars: share of runs in each class in the horizon month; whiskers and \u00b1: 95% Monte Carlo "
            "interval (1.96 standard errors; the precision of the simulation, not model uncertainty). Words: "
            f"PHIA probability yardstick{UNSETTLED if _any_unsettled(ds, compare) or _dagger(bad, bad_se) else ''}. "
            f"The {OUTCOME_BANDS_NOTE}.")
    sets = [(ds.attrs.get("scenario", "?"), probs)]
    if compare is not None:
        sets.append((compare.attrs.get("scenario", "?"), outcome_probs(compare)))
    return ChartData("outcomes", minus(title), source_note(ds, note),
                     {"sets": sets, "horizon": horizon_label(ds), "modal": modal, "bad": (bad, bad_se)})


def outcome_chart(ds: xr.Dataset, size: str = "slide", compare: xr.Dataset | None = None):
    """Outcome-class probabilities at the horizon with Monte Carlo uncertainty and
    PHIA words."""
    with _style(size):
        fig = _new_figure(size)
        _draw_outcomes(fig, ds, compare)
    return fig


# ---------------------------------------------------------------- contributions

def driver_totals(ds: xr.Dataset) -> dict[str, float]:
    """Mean over runs of each driver's total contribution to the change in relations."""
    c = contributions(ds)
    return {d: float(c[d].sum()) for d in c.columns}


def waterfall_data(ds: xr.Dataset) -> ChartData:
    """Start level, each driver's mean net contribution and the mean at the horizon
    (rows of (label, value, "total" | "step")), title and notes."""
    totals = driver_totals(ds)
    init = float(ds.attrs.get("initial_relations", 0.0))
    end_all = ds["relations"].isel(time=-1).values.astype(np.float64)
    end, median = float(end_all.mean()), float(np.median(end_all))
    rows = [(f"Start, {start_label(ds)}", init, "total")]
    rows += [(label, v, "step") for label, v in waterfall_rows(totals)]
    rows.append((f"Mean in {horizon_label(ds)}", end, "total"))
    moved = sorted(((d, v) for d, v in totals.items() if d != "reversion"), key=lambda kv: -abs(kv[1]))[:2]
    parts = " and ".join(f"{lower_first(DRIVER_LABELS[d])} ({fmt_pts(v)})" for d, v in moved)
    title = (f"Mean relations go from {fmt_pts(init)} in {start_label(ds)} to {fmt_pts(end)} in "
             f"{horizon_label(ds)} (the median run ends at {fmt_pts(median)}): {parts} weighed most, "
             f"net of fading")
    title = title[0].upper() + title[1:]
    rev = totals.get("reversion")
    note = ("Bars: each driver's net effect on relations at the horizon (its jolts and pulls, less the part that "
            "has faded since), averaged over runs (hatched up: improved; hatched down: worsened); grey: levels. "
            "Means, not medians: they add up exactly, and the mean sits below the median because a tail of runs "
            "ruptures." + (f" '{DRIVER_LABELS['reversion']}': {reversion_note(rev)}." if rev is not None else ""))
    return ChartData("contributions", minus(title), source_note(ds, note),
                     {"rows": rows, "totals": totals, "init": init, "end": end, "median": median})


def _draw_waterfall(fig, ds: xr.Dataset) -> None:
    data = waterfall_data(ds)
    ax = fig.add_subplot()
    rows = data.values["rows"]
    fs = _fontsize("xtick.labelsize")
    level = 0.0
    y = np.arange(len(rows))[::-1]
    lefts, rights = [0.0], [0.0]
    prev_level = None
    for (_label, v, kind), yi in zip(rows, y, strict=True):
        if kind == "total":
            a, b = 0.0, v
            level = v
            colour, hatch = "#7F7F7F", ""
        else:
            a, b = level, level + v
            level = b
            colour, hatch = (OKABE_ITO["blue"], "//") if v >= 0 else (OKABE_ITO["vermillion"], "\\\\")
        ax.barh(yi, b - a, left=a, height=0.64, color=_mix(colour, 0.85), hatch=hatch, edgecolor="#333333",
                lw=0.6, zorder=2)
        if prev_level is not None:
            ax.plot([prev_level, prev_level], [yi + 1 - 0.32, yi + 0.32], color="#555555", lw=0.8, ls=":", zorder=1)
        prev_level = level
        lefts.append(min(a, b))
        rights.append(max(a, b))
        # Values in their own column right of the plot, so they never sit on a bar;
        # as axes children they count in the layout, so they cannot reach the next chart.
        ax.text(1.02, yi, fmt_pts(v, 2), transform=ax.get_yaxis_transform(), va="center", ha="left",
                fontsize=fs, zorder=3, gid="waterfall-value")
    lo, hi = min(lefts), max(rights)
    pad = 0.04 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    ax.axvline(0, color="#333333", lw=0.8, zorder=1.5)
    ax.set_yticks(y, labels=[r[0] for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Relations index (Goldstein points): mean over runs")
    _frame(fig, data.title, data.note)


def stacked_data(ds: xr.Dataset) -> ChartData:
    """Cumulative mean contributions over time of the five biggest movers, the rest and
    fading (label -> values), the net change in mean relations, title and notes."""
    c = contributions(ds).cumsum()
    x = _x(ds)
    totals = c.iloc[-1]
    movers = [d for d in totals.abs().sort_values(ascending=False).index if d != "reversion"][:5]
    series = {DRIVER_LABELS[d]: c[d].values for d in movers}
    rest = [d for d in c.columns if d not in movers and d != "reversion"]
    if rest:
        series[f"{len(rest)} other drivers"] = c[rest].sum(axis=1).values
    if "reversion" in c:
        series[DRIVER_LABELS["reversion"]] = c["reversion"].values
    xs = pd.DatetimeIndex([_start_ts(ds)]).append(x)
    net = np.concatenate([[0.0], ds["relations"].mean("run").values - float(ds.attrs.get("initial_relations", 0))])
    top = movers[0]
    effect = "cost relations" if totals[top] < 0 else "added to relations"
    title = (f"By {horizon_label(ds)}, {lower_first(DRIVER_LABELS[top])} has {effect} {abs(totals[top]):.1f} points "
             f"on average, net of fading; relations have moved {fmt_pts(net[-1])} in all")
    note = ("Each area: a driver's net effect on mean relations at each date (its jolts and pulls so far, less the "
            "part that has faded); areas stack above and below zero and add up to the black line.")
    return ChartData("contributions-stacked", minus(title), source_note(ds, note),
                     {"xs": xs, "series": series, "net": net})


def _draw_stacked(fig, ds: xr.Dataset) -> None:
    data = stacked_data(ds)
    ax = fig.add_subplot()
    series, xs, net = data.values["series"], data.values["xs"], data.values["net"]
    pos_base = np.zeros(len(xs))
    neg_base = np.zeros(len(xs))
    fs = _fontsize("legend.fontsize")
    for i, (label, vals) in enumerate(series.items()):
        v = np.concatenate([[0.0], vals])
        pos, neg = np.clip(v, 0, None), np.clip(v, None, 0)
        colour = "#BBBBBB" if label == DRIVER_LABELS["reversion"] else SERIES[i % len(SERIES)]
        kw = {"facecolor": _mix(colour, 0.75), "hatch": HATCHES[i % len(HATCHES)], "edgecolor": "#333333",
              "lw": 0.4, "zorder": 2}
        ax.fill_between(xs, pos_base, pos_base + pos, label=f"{label} ({fmt_pts(vals[-1])})", **kw)
        ax.fill_between(xs, neg_base, neg_base + neg, **kw)
        pos_base, neg_base = pos_base + pos, neg_base + neg
    ax.plot(xs, net, color="#000000", lw=2.4, zorder=4, label=f"Net change in mean relations ({fmt_pts(net[-1])})")
    ax.axhline(0, color="#333333", lw=0.8, zorder=3)
    _date_axis(ax, ds)
    ax.set_ylabel("Cumulative contribution since the start\n(Goldstein points, mean over runs)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=fs, handleheight=1.4)
    _frame(fig, data.title, data.note)


def contributions_chart(ds: xr.Dataset, kind: str = "waterfall", size: str = "slide"):
    """What moved relations. ``waterfall``: from the initial value through each
    driver's mean total contribution to the mean at the horizon. ``stacked``:
    cumulative mean contributions over time."""
    if kind not in ("waterfall", "stacked"):
        raise DialogueError(f"unknown contributions chart '{kind}'; use waterfall or stacked")
    with _style(size):
        fig = _new_figure(size)
        (_draw_waterfall if kind == "waterfall" else _draw_stacked)(fig, ds)
    return fig


# ---------------------------------------------------------------- exports

def exports_data(ds: xr.Dataset) -> ChartData:
    """Recorded annual exports (ONS, plotted at mid-year) and the fan of simulated
    exports annualised (monthly x 12), in \u00a3m a year; title and notes."""
    from model.calibration import trade_history

    years, hist = trade_history()
    hx = pd.DatetimeIndex([pd.Timestamp(f"{y}-07-01") for y in years])
    x, f = _fan_values(ds, "exports_gbp_m", scale=12.0)
    med, p10, p90 = (float(f[q].iloc[-1]) for q in (0.5, 0.10, 0.90))
    last = float(hist[-1])
    direction = "above" if med > last else "below"
    title = (f"Exports to Russia: median annualised \u00a3{med / 1000:.1f}bn in {horizon_label(ds)}, "
             f"{abs(med / last - 1):.0%} {direction} 2012's \u00a3{last / 1000:.1f}bn "
             f"(80% of runs \u00a3{p10 / 1000:.1f}bn to \u00a3{p90 / 1000:.1f}bn)")
    note = ("Black: recorded annual totals, plotted at mid-year. Green: simulated monthly exports \u00d7 12 "
            "(annualised rate); shading: middle 50%, 80% and 95% of runs.")
    return ChartData("exports", minus(title), source_note(ds, note, trade=True),
                     {"years": years, "hist": hist, "hx": hx, "x": x, "f": f, "start": _start_ts(ds),
                      "xlim": (pd.Timestamp(f"{years[0]}-01-01"), _x(ds)[-1])})


def _draw_exports(fig, ds: xr.Dataset) -> None:
    data = exports_data(ds)
    ax = fig.add_subplot()
    years, hist, hx, x, f = (data.values[k] for k in ("years", "hist", "hx", "x", "f"))
    colour = OKABE_ITO["green"]
    handles = _draw_fan_layers(ax, x, f, colour)
    handles[0].set_label("Simulated median (monthly value \u00d7 12)")
    hline, = ax.plot(hx, hist, color="#000000", lw=2.0, marker="o", ms=5, zorder=5,
                     label="Recorded, calendar year (ONS)")
    ax.axvline(_start_ts(ds), color="#333333", lw=1.0, ls=":", zorder=5)
    ax.annotate(f"Simulation starts {start_label(ds)}", (_start_ts(ds), 1), xycoords=("data", "axes fraction"),
                xytext=(6, -4), textcoords="offset points", va="top", fontsize=_fontsize("xtick.labelsize"),
                color="#333333")
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.YearLocator(2 if len(years) + ds.sizes["time"] / 12 > 12 else 1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlim(*data.values["xlim"])
    ax.set_ylim(0, None)
    ax.yaxis.set_major_formatter(lambda v, _: f"\u00a3{v / 1000:,.0f}bn" if v else "0")
    ax.set_ylabel("UK goods exports to Russia, \u00a3 a year\n(simulated: monthly value \u00d7 12)")
    ax.legend(handles=[hline] + handles, loc="upper left", ncol=1)
    _frame(fig, data.title, data.note)


def exports_chart(ds: xr.Dataset, size: str = "slide"):
    """Annual exports 2002-2012 (ONS) continued by the fan of simulated exports,
    annualised (monthly x 12)."""
    with _style(size):
        fig = _new_figure(size)
        _draw_exports(fig, ds)
    return fig


# ---------------------------------------------------------------- events

EVENT_COLOURS = (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["purple"],
                 OKABE_ITO["green"], OKABE_ITO["sky"])


def events_data(ds: xr.Dataset) -> ChartData:
    """Cumulative probability of each key event by month (0 at the start), the value
    and Monte Carlo standard error at the horizon, title and notes."""
    ev = event_cumprob(ds)
    xs = pd.DatetimeIndex([_start_ts(ds)]).append(_x(ds))
    runs = ds.sizes["run"]

    def se_of(p: float) -> float:
        return float(np.sqrt(p * (1 - p) / runs))

    series = {name: np.concatenate([[0.0], ev[name].values]) for name in ev.columns}
    ends = {name: (float(y[-1]), se_of(float(y[-1]))) for name, y in series.items()}
    top = ev.iloc[-1].sort_values(ascending=False)
    first, p1 = top.index[0], float(top.iloc[0])
    title = (f"{first.capitalize()} is the likeliest of the key events: {fmt_prob(p1)} by "
             f"{horizon_label(ds)} ({phia(p1)}{_dagger(p1, se_of(p1))})")
    if len(top) > 1:
        last, pl = top.index[-1], float(top.iloc[-1])
        title += f"; {last} the least likely at {fmt_prob(pl)} ({phia(pl)}{_dagger(pl, se_of(pl))})"
    note = "Lines: share of runs in which the event has happened at least once by each month."
    if any(phia_crossing(p, se_of(p)) is not None for p in ev.iloc[-1]):
        note += f" Words: PHIA probability yardstick{UNSETTLED}."
    return ChartData("events", minus(title), source_note(ds, note),
                     {"xs": xs, "series": series, "ends": ends, "horizon": horizon_label(ds)})


def _draw_events(fig, ds: xr.Dataset) -> None:
    data = events_data(ds)
    ax = fig.add_subplot()
    x = _x(ds)
    xs = data.values["xs"]
    ends = []
    for i, (name, y) in enumerate(data.values["series"].items()):
        colour = EVENT_COLOURS[i % 6]
        ax.plot(xs, y, color=colour, lw=2.2, ls=LINESTYLES[i % len(LINESTYLES)], marker=MARKERS[i % len(MARKERS)],
                markevery=max(1, len(xs) // 6), ms=6, zorder=3)
        ends.append((name, float(y[-1]), colour, MARKERS[i % len(MARKERS)]))
    ax.set_ylim(0, 1)
    _date_axis(ax, ds)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    narrow = _width_in(fig) < 5.0  # a panel of a page: shorter labels so the plot keeps its width
    ax.set_ylabel("Share of runs\n(cumulative)" if _height_in(fig) < 4.0
                  else "Probability the event has happened\n(share of runs, cumulative)")
    title, note_line = data.title, data.note
    fs = _fontsize("legend.fontsize")
    # Direct labels just right of the axes, spread so they never overlap.
    # Height of the plotting area: the figure less the title, notes and tick labels.
    tsize, nsize = _fontsize("figure.titlesize"), _fontsize("figure.labelsize")
    n_title = len(wrap_lines(title, _width_in(fig) * 0.97, tsize, "bold"))
    n_note = len(wrap_lines(note_line, _width_in(fig) * 0.97, nsize)) if _NOTES.get() else 0
    axes_h_in = (_height_in(fig) - (n_title * tsize + n_note * nsize) * 1.3 / 72
                 - 3.0 * _fontsize("xtick.labelsize") / 72 - 0.45)
    gap = (fs * 2.9 / 72) / max(axes_h_in, 0.5)
    pos = _spread([e[1] for e in ends], gap, 0.04, 0.96)
    for (name, p, colour, marker), yp in zip(ends, pos, strict=True):
        # The leader starts in the margin, right of the last month, and is grey and
        # dotted, so it cannot be read as the line carrying on past the horizon.
        se = float(np.sqrt(p * (1 - p) / ds.sizes["run"]))
        text = f"{name}\n{fmt_prob(p)}" if narrow else f"{name}\n{fmt_prob(p)} \u00b7 {phia(p)}{_dagger(p, se)}"
        ax.annotate(text, (1.012, p), xytext=(1.045, yp),
                    xycoords=("axes fraction", "data"), textcoords=("axes fraction", "data"), va="center",
                    ha="left", fontsize=fs, color="#111111", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.7, "ls": ":", "shrinkA": 0,
                                "shrinkB": 0})
        ax.plot([x[-1]], [p], marker=marker, ms=6, color=colour, clip_on=False, zorder=4)
    _frame(fig, title, note_line)


def events_chart(ds: xr.Dataset, size: str = "slide"):
    """Cumulative probability over time of the key events."""
    with _style(size):
        fig = _new_figure(size)
        _draw_events(fig, ds)
    return fig


# ---------------------------------------------------------------- trajectories

def trajectories_data(ds: xr.Dataset, n: int = 8, seed: int = 0) -> ChartData:
    """``n`` runs of relations drawn at random (``seed``), the median and 80% band of all
    runs, the y range, title and notes."""
    x, f = _fan_values(ds, "relations")
    rel = ds["relations"].values
    init = float(ds.attrs.get("initial_relations", rel[:, 0].mean()))
    n = max(1, min(n, rel.shape[0]))
    pick = np.sort(np.random.default_rng(seed).choice(rel.shape[0], size=n, replace=False))
    ylim = _relations_ylim([float(f.min().min()), float(f.max().max()), float(rel[pick].min()),
                            float(rel[pick].max()), init])
    paths = {int(i): np.concatenate([[init], rel[i]]) for i in pick}
    touched = float((rel <= -2).any(axis=1).mean())
    med = float(f[0.5].iloc[-1])
    title = (f"Single futures are far more volatile than the median: {100 * touched:.0f}% of runs turn "
             f"confrontational or worse at some point, while the median ends at {fmt_pts(med)}")
    note = (f"Thin lines: {n} runs drawn at random (seed {seed}) from the ensemble; thick line: median of all runs; "
            "shading: middle 80% of runs.")
    return ChartData("trajectories", minus(title), source_note(ds, note),
                     {"x": x, "f": f, "paths": paths, "init": init, "ylim": ylim})


def _draw_trajectories(fig, ds: xr.Dataset, n: int, seed: int) -> None:
    data = trajectories_data(ds, n, seed)
    v = data.values
    ax = fig.add_subplot()
    x, f, ylim, init = v["x"], v["f"], v["ylim"], v["init"]
    _shade_bands(ax, ylim)
    ax.fill_between(x, f[0.10], f[0.90], color=_mix(OKABE_ITO["blue"], 0.25), lw=0, zorder=1.5,
                    label="80% of runs")
    for j, y in enumerate(v["paths"].values()):
        ax.plot(x, y, color=SERIES[j % len(SERIES)], lw=1.1, ls=LINESTYLES[j % 4], zorder=3,
                label="Sample runs" if j == 0 else None)
    ax.plot(x, f[0.5], color="#000000", lw=3.0, zorder=4, label="Median of all runs")
    ax.set_ylim(*ylim)
    _mark_start(ax, ds, init)
    _date_axis(ax, ds)
    ax.set_ylabel(_relations_ylabel(fig))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=_below_ticks(ax), ncol=3)
    _frame(fig, data.title, data.note)


def trajectories_chart(ds: xr.Dataset, n: int = 8, size: str = "slide", seed: int = 0):
    """A handful of sample runs of relations over the ensemble median."""
    with _style(size):
        fig = _new_figure(size)
        _draw_trajectories(fig, ds, n, seed)
    return fig


# ---------------------------------------------------------------- comparison

def compare_data(datasets: dict[str, xr.Dataset]) -> ChartData:
    """Two or more scenarios: each one's relations fan (quantile frame), median at the
    horizon and outcome probabilities; the shared y range, title and notes."""
    if len(datasets) < 2:
        raise DialogueError("a comparison needs two or more scenarios")
    fans, medians, probs, ys = {}, {}, {}, []
    for name, d in datasets.items():
        x, f = _fan_values(d, "relations")
        fans[name] = (x, f)
        medians[name] = float(f[0.5].iloc[-1])
        probs[name] = outcome_probs(d)
        ys += [float(f[0.10].min()), float(f[0.90].max())]
    first = next(iter(datasets.values()))
    best = max(medians, key=medians.get)
    worst = min(medians, key=medians.get)
    bad = {n: probs[n]["rupture"][0] + probs[n]["confrontation"][0] for n in datasets}
    title = (f"'{best}' is the most hopeful scenario (median {fmt_pts(medians[best])} in {horizon_label(first)}, "
             f"confrontation or worse {fmt_prob(bad[best])}) and '{worst}' the bleakest "
             f"({fmt_pts(medians[worst])}, {fmt_prob(bad[worst])})")
    runs = ", ".join(f"'{n}' {d.sizes['run']:,} runs, seed {d.attrs.get('seed', '?')}" for n, d in datasets.items())
    note = (f"{runs}. Source: model simulation, model v{first.attrs.get('version', '?')}. Markers and line styles "
            "identify scenarios in both panels; whiskers: 95% Monte Carlo interval (1.96 standard errors).")
    return ChartData("compare", minus(title), note,
                     {"fans": fans, "medians": medians, "probs": probs, "ylim": _relations_ylim(ys),
                      "horizon": horizon_label(first),
                      "xlim": (min(_start_ts(d) for d in datasets.values()),
                               max(_x(d)[-1] for d in datasets.values()))})


def _draw_compare(fig, datasets: dict[str, xr.Dataset]) -> None:
    from matplotlib.lines import Line2D

    data = compare_data(datasets)
    v = data.values
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.5, 1.0])
    handles = []
    for i, name in enumerate(datasets):
        x, f = v["fans"][name]
        colour, ls = SERIES[i % len(SERIES)], LINESTYLES[i % len(LINESTYLES)]
        ax.fill_between(x, f[0.10], f[0.90], color=colour, alpha=0.10, lw=0, zorder=1.5)
        ax.plot(x, f[0.10], color=colour, lw=0.8, ls=ls, zorder=2)
        ax.plot(x, f[0.90], color=colour, lw=0.8, ls=ls, zorder=2)
        ax.plot(x, f[0.5], color=colour, lw=2.4, ls=ls, zorder=3, marker=MARKERS[i % len(MARKERS)],
                markevery=max(1, len(x) // 5), ms=6)
        handles.append(Line2D([], [], color=colour, lw=2.4, ls=ls, marker=MARKERS[i % len(MARKERS)], ms=6,
                              label=f"{name} (median {fmt_pts(v['medians'][name])})"))
    first = next(iter(datasets.values()))
    ylim = v["ylim"]
    _shade_bands(ax, ylim)
    ax.set_ylim(*ylim)
    _date_axis(ax, first)
    ax.set_xlim(*v["xlim"])
    ax.set_ylabel("Relations index (Goldstein points)")
    ax.set_title("Relations: median (thick) and 80% of runs (thin)", loc="left", fontsize=_fontsize("font.size"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=_below_ticks(ax),
              ncol=2 if len(handles) > 2 else 1)
    # Right: outcome probabilities per scenario (dots with 95% Monte Carlo intervals).
    k = len(datasets)
    ypos = np.arange(len(OUTCOMES))[::-1].astype(float)
    for i, name in enumerate(datasets):
        probs = v["probs"][name]
        off = ((k - 1) / 2 - i) * min(0.22, 0.7 / k)
        ps = np.array([probs[o][0] for o in OUTCOMES])
        es = np.array([Z95 * probs[o][1] for o in OUTCOMES])
        ax2.errorbar(ps, ypos + off, xerr=es, fmt=MARKERS[i % len(MARKERS)], color=SERIES[i % len(SERIES)],
                     ms=7, capsize=3, elinewidth=1.2, zorder=3)
    ax2.set_yticks(ypos, labels=[OUTCOME_TEXT[o].split("\n")[0] for o in OUTCOMES])
    ax2.set_xlim(-0.02, 1.02)
    ax2.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    ax2.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax2.set_xlabel(f"Probability in {horizon_label(first)}")
    ax2.set_title("Outcome probabilities", loc="left", fontsize=_fontsize("font.size"))
    ax2.grid(axis="y", visible=False)
    _frame(fig, data.title, data.note)


def compare_chart(datasets: dict[str, xr.Dataset], size: str = "slide"):
    """Two or more scenarios: relations medians with 80% bands, and outcome
    probabilities side by side."""
    with _style(size):
        fig = _new_figure(size)
        _draw_compare(fig, dict(datasets))
    return fig


# ---------------------------------------------------------------- output

def _check_fmt(fmt: str) -> str:
    f = str(fmt).lower().lstrip(".")
    if f not in FORMATS:
        raise DialogueError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    return f


@contextmanager
def without_notes():
    """Draw charts without their source-and-notes line (for pages that print the
    source once)."""
    token = _NOTES.set(False)
    try:
        yield
    finally:
        _NOTES.reset(token)


def _all_axes(fig):
    yield from getattr(fig, "_localaxes", fig.axes)
    for sub in fig.subfigs:
        yield from _all_axes(sub)


def _all_figs(fig):
    yield fig
    for sub in fig.subfigs:
        yield from _all_figs(sub)


def freeze_layout(fig, digits: int = 6) -> None:
    """Run the constrained layout once, round every position it set to ``digits``
    decimals of the figure, and switch the layout engine off.

    Constrained layout is iterative and its last few bits depend on what was drawn
    before; rounding and freezing makes the output bytes a function of the inputs
    only (and later saves reuse the same layout)."""
    import matplotlib
    from matplotlib.transforms import Bbox

    if getattr(fig, "_dialogue_frozen", False) or fig.get_layout_engine() is None:
        return
    with matplotlib.rc_context(_SAVE_RC):
        fig.draw_without_rendering()
    for ax in _all_axes(fig):
        pts = np.round(ax.get_position(original=False).get_points(), digits)
        ax.set_position(Bbox(pts), which="both")
    for f in _all_figs(fig):
        for label in (f._suptitle, f._supxlabel, f._supylabel):
            if label is not None:
                x, y = label.get_position()
                label.set_position((round(x, digits), round(y, digits)))
    fig.set_layout_engine("none")
    fig._dialogue_frozen = True


def _round_pdf_numbers(decimals: int = 6) -> None:
    """Make matplotlib's PDF writer print numbers to ``decimals`` places (1e-6 pt)
    instead of 10. The last bits of a transformed text position can differ between
    two identical draws in one process (numpy/BLAS kernels depend on memory
    alignment), and at 10 places that reached the file: the same brief came out with
    '572.6102938495' once and '...496' the next time. Installed once per process."""
    from matplotlib.backends import backend_pdf

    if getattr(backend_pdf.pdfRepr, "_dialogue_rounded", False):
        return
    original = backend_pdf.pdfRepr

    def pdf_repr(obj):
        if isinstance(obj, float | np.floating) and np.isfinite(obj):
            text = (b"%.*f" % (decimals, obj)).rstrip(b"0").rstrip(b".")
            return b"0" if text in (b"-0", b"", b"-") else text
        return original(obj)

    pdf_repr._dialogue_rounded = True
    backend_pdf.pdfRepr = pdf_repr


def figure_bytes(fig, fmt: str = "png", dpi: float | None = None) -> bytes:
    """The figure as PNG, SVG or PDF bytes; the same figure always gives the same
    bytes (no dates or software versions that change run to run). ``dpi`` overrides
    the figure's resolution for PNG."""
    import matplotlib

    f = _check_fmt(fmt)
    freeze_layout(fig)
    if f == "pdf":
        _round_pdf_numbers()
    buf = io.BytesIO()
    with matplotlib.rc_context(_SAVE_RC):
        fig.savefig(buf, format=f, dpi=dpi or "figure", metadata=_METADATA[f])
    return buf.getvalue()


def save_figure(fig, path: str | Path, fmt: str | None = None) -> Path:
    """Write the figure to ``path`` (format from ``fmt`` or the file's suffix)."""
    path = Path(path)
    data = figure_bytes(fig, fmt or path.suffix)
    path.write_bytes(data)
    return path


CHARTS = {  # name -> (function, kwargs): the standard set written by ``dialogue brief``
    "fan": (fan_chart, {}),
    "outcomes": (outcome_chart, {}),
    "contributions": (contributions_chart, {"kind": "waterfall"}),
    "contributions-stacked": (contributions_chart, {"kind": "stacked"}),
    "exports": (exports_chart, {}),
    "events": (events_chart, {}),
    "trajectories": (trajectories_chart, {}),
}
