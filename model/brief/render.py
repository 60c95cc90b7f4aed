"""Lay out a :class:`~model.brief.content.BriefContent` as a one-page A4 PDF (a single
matplotlib figure, so the page can never spill onto a second) and as a
self-contained HTML page (charts inlined as base64 PNG)."""

from __future__ import annotations

import base64
import html

import pandas as pd

from model import charts
from model.analysis import phia
from model.brief.content import TORNADO_PCT, TORNADO_TOP, BriefContent, fmt_value, pct, printed_points
from model.errors import DialogueError

PAGE = (8.27, 11.69)  # A4 portrait, inches
MARGIN = 0.45
BODY_PT = 8.2
SMALL_PT = 6.6
CHART_PT = 7.2
INK = "#111111"
MUTED = "#444444"
ACCENT = "#0072B2"
GENERATOR = "uk-russia-dialogue brief"  # marks a folder as a previous pack (see build.check_out)
TORNADO_W = 0.6  # the tornado's share of the page width
JUDGMENT_KEY = "[probability \u00b1 its 95% Monte Carlo interval, percentage points]"


# ---------------------------------------------------------------- measured text

wrap = charts.wrap_lines


class Flow:
    """Places wrapped text top-down in inches on a page figure."""

    def __init__(self, fig, left: float, top: float, width: float):
        self.fig, self.left, self.y, self.width = fig, left, top, width
        self.H = fig.get_figheight()
        self.W = fig.get_figwidth()

    def _text(self, x_in: float, y_in: float, s: str, size: float, **kw):
        self.fig.text(x_in / self.W, 1 - y_in / self.H, s, fontsize=size, va="top", ha="left",
                      family="DejaVu Sans", **kw)

    def para(self, text: str, size: float = BODY_PT, weight: str = "normal", color: str = INK,
             indent: float = 0.0, gap: float = 0.05, bullet: str | None = None, spacing: float = 1.28,
             width: float | None = None, dry: bool = False) -> float:
        w = (width or self.width) - indent
        lines = wrap(text, w, size, weight)
        line_h = size * spacing / 72
        if not dry:
            if bullet:
                self._text(self.left + indent - 0.2, self.y, bullet, size, weight="bold", color=ACCENT)
            self._text(self.left + indent, self.y, "\n".join(lines), size, weight=weight, color=color,
                       linespacing=spacing)
        height = len(lines) * line_h + gap
        if not dry:
            self.y += height
        return height

    def rule(self, color: str = "#BBBBBB", lw: float = 0.6, gap: float = 0.06) -> None:
        from matplotlib.lines import Line2D

        y = 1 - self.y / self.H
        self.fig.add_artist(Line2D([self.left / self.W, (self.left + self.width) / self.W], [y, y],
                                   color=color, lw=lw))
        self.y += gap

    def table(self, header: list[str], rows: list[list[str]], fractions: list[float], size: float = SMALL_PT,
              dry: bool = False) -> float:
        """A ruled table; each cell wraps inside its column."""
        widths = [f * self.width for f in fractions]
        line_h = size * 1.22 / 72
        y0 = self.y
        y = self.y
        for i, row in enumerate([header] + rows):
            weight = "bold" if i == 0 else "normal"
            cells = [wrap(c, w - 0.08, size, weight) for c, w in zip(row, widths, strict=True)]
            n = max(len(c) for c in cells)
            if not dry:
                x = self.left
                for c, w in zip(cells, widths, strict=True):
                    self._text(x, y + 0.025, "\n".join(c), size, weight=weight, color=INK, linespacing=1.22)
                    x += w
            y += n * line_h + 0.05
            if not dry:
                from matplotlib.lines import Line2D

                yy = 1 - y / self.H
                self.fig.add_artist(Line2D([self.left / self.W, (self.left + self.width) / self.W], [yy, yy],
                                           color="#888888" if i == 0 else "#DDDDDD", lw=0.6))
        if not dry:
            self.y = y + 0.04
        return y - y0 + 0.04


# ---------------------------------------------------------------- the PDF page

def _pcts() -> tuple[str, str]:
    return tuple(f"P{round(100 * q)}" for q in TORNADO_PCT)


def tornado_rows(content: BriefContent, top: int | None = None) -> list[list[str]]:
    """The tornado's rows as printed (largest swing first): assumption, its values at
    P10 and P90, the probability at each, the swing."""
    rows = []
    for s in content.swings[:top]:
        rows.append([s.label, f"{charts.minus(fmt_value(s.low))} \u2192 {charts.minus(fmt_value(s.high))}",
                     f"{pct(s.p_low)} \u2192 {pct(s.p_high)}", f"{printed_points(s.p_low, s.p_high)} pts"])
    return rows


def tornado_title(content: BriefContent, top: int = TORNADO_TOP) -> str:
    lo, hi = _pcts()
    return (f"One assumption at a time at its {lo} or {hi}:\nP(confrontation or worse), "
            f"top {min(top, len(content.swings))} of {len(content.swings)} assumptions")


def draw_tornado(fig, content: BriefContent, top: int = TORNADO_TOP) -> None:
    """The tornado as a panel of the page (the pack's full chart is
    :func:`model.charts_sensitivity.tornado_chart`, which draws its own figure): same
    colours and hatches, each bar's end labelled with its probability."""
    from matplotlib.patches import Patch

    from model.charts_sensitivity import _HIGH, _LOW

    lo, hi = _pcts()
    rows = content.swings[:top][::-1]
    base = content.swings[0].base
    ax = fig.add_subplot()
    fs = charts._fontsize("xtick.labelsize")
    for y, s in enumerate(rows):
        for val, colour, hatch in ((s.p_low, _LOW, "//"), (s.p_high, _HIGH, "..")):
            ax.barh(y, val - base, left=base, height=0.64, color=colour, hatch=hatch, edgecolor="#333333", lw=0.5,
                    zorder=2)
        for val in (s.p_low, s.p_high):
            right = val >= base
            ax.annotate(pct(val), (val, y), xytext=(2 if right else -2, 0), textcoords="offset points",
                        ha="left" if right else "right", va="center", fontsize=fs * 0.95, gid="tornado-value")
    ax.axvline(base, color="#000000", lw=1.0, zorder=3)
    ax.set_yticks(range(len(rows)), labels=[f"{s.label} ({charts.minus(fmt_value(s.low))}\u2013"
                                             f"{charts.minus(fmt_value(s.high))})" for s in rows])
    ax.tick_params(axis="y", length=0, pad=2)
    ax.grid(axis="y", visible=False)
    span = max(max(abs(s.p_low - base), abs(s.p_high - base)) for s in rows) if rows else 0.1
    ax.set_xlim(max(0.0, base - span * 1.75), min(1.0, base + span * 1.75))
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_xlabel(f"Line: all drawn as usual ({pct(base)}); {content.sensitivity_runs:,} runs a bar",
                  fontsize=fs)
    ax.legend(handles=[Patch(facecolor=_LOW, hatch="//", edgecolor="#333333", label=f"at its {lo} (10th pct.)"),
                       Patch(facecolor=_HIGH, hatch="..", edgecolor="#333333", label=f"at its {hi} (90th pct.)")],
              loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=fs, borderaxespad=0.1,
              handlelength=1.6, columnspacing=0.8)
    fig.suptitle(tornado_title(content, top), x=0.01, ha="left", va="top")  # two short lines, never wider


def judgment_lines(content: BriefContent) -> list[str]:
    out = []
    for j in content.main.judgments:
        out.append(f"{j.text} [{100 * j.p:.1f}% \u00b1 {196 * j.se:.1f}]")
    if len(content.scenarios) > 1:
        h = content.main.headline
        when = content.main.ds["time"].values[-1]
        parts = [f"{pct(sb.headline.p)} ({phia(sb.headline.p)}) in '{sb.name}'" for sb in content.scenarios[1:]]
        out[-1:] = [f"By comparison, the probability that relations are confrontational or worse in "
                    f"{pd.Timestamp(when):%b %Y} is {pct(h.p)} ({phia(h.p)}) in '{content.main.name}' against "
                    + ", ".join(parts) + "."] if len(out) >= 5 else out[-1:]
    return out


def page_figure(content: BriefContent):
    """The one-page brief as a single A4 matplotlib Figure."""
    import matplotlib
    from matplotlib.figure import Figure

    main = content.main
    ds = main.ds
    with charts._style("a4", CHART_PT), matplotlib.rc_context({"figure.titlesize": CHART_PT * 1.12}):
        fig = Figure(figsize=PAGE, dpi=150)
        W, H = PAGE
        width = W - 2 * MARGIN
        flow = Flow(fig, MARGIN, MARGIN, width)
        # Header
        flow.para(content.title, size=14, weight="bold", gap=0.04)
        flow.para(content.subtitle + (f" {content.description}" if content.description else ""), size=SMALL_PT + 0.6,
                  color=MUTED, gap=0.04)
        flow.rule(color=ACCENT, lw=1.2, gap=0.08)
        # Key judgments
        # The key to the bracketed figures sits on the heading's line, after it.
        key_x = MARGIN + charts.text_width_pt("Key judgments", BODY_PT + 1.2, "bold") / 72 + 0.15
        flow._text(key_x, flow.y + (BODY_PT + 1.2 - SMALL_PT) / 72 * 0.8, JUDGMENT_KEY, SMALL_PT, color=MUTED)
        flow.para("Key judgments", size=BODY_PT + 1.2, weight="bold", gap=0.04)
        for i, line in enumerate(judgment_lines(content), 1):
            flow.para(line, size=BODY_PT, indent=0.22, bullet=f"{i}.", gap=0.035)
        flow.y += 0.04
        # Measure the text below the charts, so the charts get exactly the rest.
        change_h = (0.06 + Flow(fig, 0, 0, width).para("x", size=BODY_PT + 1.2, weight="bold", gap=0.03, dry=True)
                    + Flow(fig, 0, 0, width).para(content.change_text, size=BODY_PT, gap=0.04, dry=True))
        half_w = width * (1 - TORNADO_W) - 0.1
        assum_rows = [list(r[:3]) for r in content.assumptions]
        assum_h = (Flow(fig, 0, 0, half_w).para("x", size=SMALL_PT + 0.4, weight="bold", gap=0.02, dry=True)
                   + Flow(fig, 0, 0, half_w).table(["Assumption", "Value", "Uncertainty"], assum_rows,
                                                   [0.5, 0.13, 0.37], dry=True))
        notes_text = " ".join(content.notes)
        charts_top = flow.y
        # The notes shrink (down to 5 pt) and the tornado loses bars before the charts
        # go below 3.6 in: long judgments (many Monte Carlo caveats at few runs) must
        # not push the page onto a second sheet.
        for notes_pt, bars in ((SMALL_PT - 0.4, TORNADO_TOP), (SMALL_PT - 0.8, TORNADO_TOP),
                               (SMALL_PT - 1.2, TORNADO_TOP), (SMALL_PT - 1.6, TORNADO_TOP),
                               (SMALL_PT - 1.6, TORNADO_TOP - 1), (SMALL_PT - 1.6, TORNADO_TOP - 2)):
            bars = min(bars, len(content.swings))
            tornado_h = max(0.6 + 0.15 * bars, assum_h + 0.05)
            notes_h = (Flow(fig, 0, 0, width).para(notes_text, size=notes_pt, gap=0.03, dry=True)
                       + Flow(fig, 0, 0, width).para(content.provenance, size=notes_pt, gap=0.0, dry=True) + 0.11)
            charts_h = H - MARGIN - (change_h + tornado_h + notes_h) - charts_top
            if charts_h >= 4.0:
                break
        if charts_h < 3.6:
            raise DialogueError(f"the brief's text leaves only {charts_h:.2f} in for its charts (3.6 in needed); "
                                "shorten the scenario's name or description, or drop --observed")
        row_h, row2_h = charts_h * 0.46, charts_h * 0.54
        # One GridSpec for the page (constrained layout lays out one grid): rows are the
        # text above, two chart rows, the "what would change" text, the tornado (left;
        # the assumptions table is text on the right) and the notes; text rows hold no subfigure.
        fig.set_layout_engine("constrained", rect=(MARGIN / W, MARGIN / H, width / W, (H - 2 * MARGIN) / H),
                              w_pad=0.02, h_pad=0.02, wspace=0.0, hspace=0.0)
        # Columns: the charts take halves (0 | 1-2); the tornado columns 0-1 (TORNADO_W of the width). No
        # nested subfigures: their positions would escape charts.freeze_layout's rounding.
        heights = [charts_top - MARGIN, row_h, row2_h, change_h, tornado_h,
                   H - MARGIN - charts_top - charts_h - change_h - tornado_h]
        gs = fig.add_gridspec(6, 3, width_ratios=[0.5, TORNADO_W - 0.5, 1 - TORNADO_W], height_ratios=heights,
                              wspace=0, hspace=0, left=MARGIN / W, right=1 - MARGIN / W, top=1 - MARGIN / H,
                              bottom=MARGIN / H)
        several = len(content.scenarios) > 1
        panels = [
            (gs[1, 0], lambda f: charts._draw_fan(f, ds, "relations", None, None)),
            (gs[1, 1:], lambda f: charts._draw_outcomes(f, ds, None)),
        ]
        if several:
            dsets = {sb.name: sb.ds for sb in content.scenarios}
            panels.append((gs[2, :], lambda f: charts._draw_compare(f, dsets)))
        else:
            panels += [(gs[2, 0], lambda f: charts._draw_waterfall(f, ds)),
                       (gs[2, 1:], lambda f: charts._draw_events(f, ds))]
        content.extra["tornado_shown"] = bars  # recorded in brief.json
        if content.swings:  # the assumptions table (text) takes the rest of the row
            panels.append((gs[4, :2], lambda f: draw_tornado(f, content, bars)))
        with charts.without_notes():
            for slot, draw in panels:
                draw(fig.add_subfigure(slot))
        flow.y = charts_top + charts_h + 0.05
        flow.rule(gap=0.06)
        # What would change this judgment
        flow.para("What would change this judgment", size=BODY_PT + 1.2, weight="bold", gap=0.03)
        flow.para(content.change_text, size=BODY_PT, gap=0.04)
        ytab = charts_top + charts_h + change_h
        right_flow = Flow(fig, MARGIN + width * TORNADO_W + 0.1, ytab, half_w)
        right_flow.para("Assumptions (headline drivers and changes from defaults)", size=SMALL_PT + 0.4,
                        weight="bold", gap=0.02)
        right_flow.table(["Assumption", "Value", "Uncertainty"], assum_rows, [0.5, 0.13, 0.37])
        flow.y = ytab + tornado_h + 0.03
        flow.rule(gap=0.05)
        flow.para(notes_text, size=notes_pt, color=MUTED, gap=0.03)
        flow.para(content.provenance, size=notes_pt, color=MUTED, gap=0.0)
        if flow.y > H - MARGIN + 0.2:
            raise DialogueError(f"the brief's text runs {flow.y - (H - MARGIN):.2f} in past the foot of its page; "
                                "shorten the scenario's name or description, or drop --observed")
    return fig


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#111;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;border-bottom:2px solid #0072B2;
padding-bottom:.15rem;margin-top:1.6rem}.sub{color:#444}ol li{margin:.35rem 0}
.n{color:#444;font-size:.9em;white-space:nowrap}figure{margin:1.2rem 0}img{max-width:100%;height:auto;
border:1px solid #ddd}figcaption{font-size:.85rem;color:#444}table{border-collapse:collapse;font-size:.88rem;
margin:.5rem 0}th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{border-bottom:2px solid #888}.notes,.prov{font-size:.82rem;color:#444}
"""


def page_html(content: BriefContent, images: list[tuple[str, str, bytes]]) -> str:
    """Self-contained HTML: ``images`` are (title, caption, PNG bytes), inlined."""
    e = html.escape
    main = content.main
    parts = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f'<meta name="generator" content="{GENERATOR}">',
             f"<title>{e(content.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(content.title)}</h1>",
             f'<p class="sub">{e(content.subtitle)} {e(content.description)}</p>',
             f'<h2>Key judgments</h2><p class="notes">{e(JUDGMENT_KEY)}</p><ol>']
    for j in main.judgments:
        parts.append(f'<li data-key="{e(j.key)}" data-p="{j.p:.6f}">{e(j.text)} '
                     f'<span class="n">[{100 * j.p:.1f}% \u00b1 {196 * j.se:.1f}]</span></li>')
    parts.append("</ol>")
    if len(content.scenarios) > 1:
        parts.append("<h2>Scenarios compared</h2><table><tr><th>Scenario</th><th>Runs</th>"
                     "<th>P(confrontation or worse)</th><th>PHIA</th></tr>")
        for sb in content.scenarios:
            h = sb.headline
            parts.append(f"<tr><td>{e(sb.name)}</td><td>{sb.ds.sizes['run']:,}</td>"
                         f"<td>{100 * h.p:.1f}% \u00b1 {196 * h.se:.1f}</td><td>{e(phia(h.p))}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Charts</h2>")
    for title, caption, png in images:
        b64 = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{e(title)}" src="data:image/png;base64,{b64}">'
                     f"<figcaption>{e(caption)}</figcaption></figure>")
    lo, hi = _pcts()
    parts.append(f"<h2>What would change this judgment</h2><p>{e(content.change_text)}</p>")
    parts.append(f"<table><caption>P(confrontation or worse) with one assumption at a time at its {lo} or {hi} "
                 f"(the same percentiles of each one's own distribution), {content.sensitivity_runs:,} runs each; "
                 f"all {len(content.swings)} uncertain assumptions, largest swing first. With every assumption "
                 f"drawn as usual: {e(pct(content.swings[0].base)) if content.swings else ''}.</caption>"
                 f"<tr><th>Assumption</th><th>{lo} \u2192 {hi}</th><th>P at {lo} \u2192 {hi}</th><th>Swing</th></tr>")
    for i, r in enumerate(tornado_rows(content)):
        parts.append(f'<tr data-rank="{i + 1}">' + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    res = content.sobol
    parts.append(f"</table><table><caption>Sobol' indices for P(confrontation or worse), N={res.n:,} "
                 f"({res.runs:,} runs): share of its variance, \u00b1 the 95% bootstrap interval; top 8 by total "
                 "effect</caption><tr><th>Assumption</th><th>First-order S1 (alone)</th>"
                 "<th>Total ST (with interactions)</th></tr>")
    for r in res.at_horizon("confrontation_or_worse").head(8).itertuples():
        parts.append(f"<tr><td>{e(r.label)}</td><td>{charts.minus(f'{r.S1:.2f}')} \u00b1 {r.S1_conf:.2f}</td>"
                     f"<td>{charts.minus(f'{r.ST:.2f}')} \u00b1 {r.ST_conf:.2f}</td></tr>")
    parts.append("</table><h2>Assumptions</h2><table><tr><th>Assumption</th><th>Value</th>"
                 "<th>Uncertainty</th><th>Note</th></tr>")
    for r in content.assumptions:
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    parts.append("</table><h2>Notes</h2>")
    parts += [f'<p class="notes">{e(n)}</p>' for n in content.notes]
    parts.append(f'<p class="prov">{e(content.provenance)}</p></body></html>')
    return "\n".join(parts) + "\n"
