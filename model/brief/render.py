"""Lay out a :class:`~model.brief.content.BriefContent` as a one-page A4 PDF (a single
matplotlib figure, so the page can never spill onto a second) and as a
self-contained HTML page (charts inlined as base64 PNG)."""

from __future__ import annotations

import base64
import html

import pandas as pd

from model import charts
from model.analysis import phia
from model.brief.content import BriefContent, pct, printed_points

PAGE = (8.27, 11.69)  # A4 portrait, inches
MARGIN = 0.45
BODY_PT = 8.2
SMALL_PT = 6.6
CHART_PT = 7.2
INK = "#111111"
MUTED = "#444444"
ACCENT = "#0072B2"
GENERATOR = "uk-russia-dialogue brief"  # marks a folder as a previous pack (see build.check_out)
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

def _swing_rows(content: BriefContent) -> list[list[str]]:
    rows = []
    for s in sorted(content.swings, key=lambda s: -abs(s.swing)):
        rows.append([s.label, f"{charts.minus(f'{s.low:.3g}')} \u2192 {charts.minus(f'{s.high:.3g}')}",
                     f"{pct(s.p_low)} \u2192 {pct(s.p_high)}", f"{printed_points(s.p_low, s.p_high)} pts"])
    return rows


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
        change_h = (Flow(fig, 0, 0, width).para("x", size=BODY_PT + 1.2, weight="bold", dry=True)
                    + Flow(fig, 0, 0, width).para(content.change_text, size=BODY_PT, dry=True))
        left_w = width * 0.5 - 0.1
        swing_h = Flow(fig, 0, 0, left_w).table(["Headline driver", "Low \u2192 high", "P(confr.+)", "Swing"],
                                                _swing_rows(content), [0.44, 0.2, 0.2, 0.16], dry=True)
        assum_rows = [list(r[:3]) for r in content.assumptions]
        assum_h = Flow(fig, 0, 0, left_w).table(["Assumption", "Value", "Uncertainty"], assum_rows,
                                                [0.5, 0.13, 0.37], dry=True)
        tables_h = 0.2 + max(swing_h, assum_h)
        notes_text = " ".join(content.notes)
        charts_top = flow.y
        # The notes shrink (down to 5 pt) before the charts do: long judgments (many
        # Monte Carlo caveats at few runs) must not push the page onto a second sheet.
        for notes_pt in (SMALL_PT - 0.4, SMALL_PT - 0.8, SMALL_PT - 1.2, SMALL_PT - 1.6):
            notes_h = (Flow(fig, 0, 0, width).para(notes_text, size=notes_pt, dry=True)
                       + Flow(fig, 0, 0, width).para(content.provenance, size=notes_pt, dry=True) + 0.1)
            bottom_h = 0.05 + 0.06 + change_h + 0.06 + tables_h + 0.02 + 0.05 + notes_h
            charts_h = H - MARGIN - bottom_h - charts_top
            if charts_h >= 4.0:
                break
        if charts_h < 3.6:
            raise RuntimeError(f"brief layout: only {charts_h:.2f} in left for charts")
        row_h, row2_h = charts_h * 0.46, charts_h * 0.54
        # One GridSpec for the page (constrained layout lays out one grid): rows are the
        # text above, two chart rows, the text below; the text rows hold no subfigure.
        fig.set_layout_engine("constrained", rect=(MARGIN / W, MARGIN / H, width / W, (H - 2 * MARGIN) / H),
                              w_pad=0.02, h_pad=0.02, wspace=0.0, hspace=0.0)
        gs = fig.add_gridspec(4, 2, height_ratios=[charts_top - MARGIN, row_h, row2_h, bottom_h],
                              wspace=0, hspace=0, left=MARGIN / W, right=1 - MARGIN / W, top=1 - MARGIN / H,
                              bottom=MARGIN / H)
        several = len(content.scenarios) > 1
        panels = [
            (gs[1, 0], lambda f: charts._draw_fan(f, ds, "relations", None, None)),
            (gs[1, 1], lambda f: charts._draw_outcomes(f, ds, None)),
        ]
        if several:
            dsets = {sb.name: sb.ds for sb in content.scenarios}
            panels.append((gs[2, :], lambda f: charts._draw_compare(f, dsets)))
        else:
            panels += [(gs[2, 0], lambda f: charts._draw_waterfall(f, ds)),
                       (gs[2, 1], lambda f: charts._draw_events(f, ds))]
        with charts.without_notes():
            for slot, draw in panels:
                draw(fig.add_subfigure(slot))
        flow.y = charts_top + charts_h + 0.05
        flow.rule(gap=0.06)
        # What would change this judgment
        flow.para("What would change this judgment", size=BODY_PT + 1.2, weight="bold", gap=0.03)
        flow.para(content.change_text, size=BODY_PT, gap=0.06)
        ytab = flow.y
        left_flow = Flow(fig, MARGIN, ytab, left_w)
        left_flow.para(f"Swing in P(confrontation or worse), {content.sensitivity_runs:,} runs each",
                       size=SMALL_PT + 0.4, weight="bold", gap=0.02)
        left_flow.table(["Headline driver", "Low \u2192 high", "P(confr.+)", "Swing"], _swing_rows(content),
                        [0.44, 0.2, 0.2, 0.16])
        right_flow = Flow(fig, MARGIN + width * 0.5 + 0.1, ytab, left_w)
        right_flow.para("Assumptions (headline drivers and changes from defaults)", size=SMALL_PT + 0.4,
                        weight="bold", gap=0.02)
        right_flow.table(["Assumption", "Value", "Uncertainty"], assum_rows, [0.5, 0.13, 0.37])
        flow.y = max(left_flow.y, right_flow.y) + 0.02
        flow.rule(gap=0.05)
        flow.para(notes_text, size=notes_pt, color=MUTED, gap=0.03)
        flow.para(content.provenance, size=notes_pt, color=MUTED, gap=0.0)
        if flow.y > H - MARGIN + 0.2:
            raise RuntimeError(f"brief layout overflow: {flow.y:.2f} in > {H - MARGIN:.2f} in")
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
    parts.append(f"<h2>What would change this judgment</h2><p>{e(content.change_text)}</p>")
    parts.append(f"<table><caption>Swing in P(confrontation or worse), {content.sensitivity_runs:,} runs each"
                 "</caption><tr><th>Headline driver</th><th>Low \u2192 high</th><th>P at low \u2192 high</th>"
                 "<th>Swing</th></tr>")
    for r in _swing_rows(content):
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    parts.append("</table><h2>Assumptions</h2><table><tr><th>Assumption</th><th>Value</th>"
                 "<th>Uncertainty</th><th>Note</th></tr>")
    for r in content.assumptions:
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    parts.append("</table><h2>Notes</h2>")
    parts += [f'<p class="notes">{e(n)}</p>' for n in content.notes]
    parts.append(f'<p class="prov">{e(content.provenance)}</p></body></html>')
    return "\n".join(parts) + "\n"
