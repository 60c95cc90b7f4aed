"""Charts for sensitivity analysis and scenario discovery.

Same rules as :mod:`model.charts` (whose styling helpers this reuses): object-
oriented matplotlib only, the title states the finding computed from the data,
a source-and-notes line, Okabe-Ito colours with hatching or markers so the charts
read in greyscale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.charts import OKABE_ITO, _frame, _new_figure, _style, lower_first, minus
from model.discovery import _WORDS, DiscoveryResult
from model.sensitivity import OUTPUTS, SensitivityResult, at_date

_LOW, _HIGH = OKABE_ITO["sky"], OKABE_ITO["vermillion"]


def _fmt_out(output: str, v: float) -> str:
    return f"{100 * v:.0f}%" if OUTPUTS[output][1] else minus(f"{v:+.1f}" if output == "relations" else f"{v:,.0f}")


def tornado_chart(t: pd.DataFrame, top: int = 12, size: str = "slide"):
    """One-at-a-time swings (a frame from :func:`model.sensitivity.tornado`), largest on top."""
    out = t["output"].iloc[0]
    label = OUTPUTS[out][0]
    p_lo, p_hi = int(round(100 * t["low_pct"].iloc[0])), int(round(100 * t["high_pct"].iloc[0]))
    d = t.head(top).iloc[::-1]
    base = float(t["base"].iloc[0])
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        y = np.arange(len(d))
        for yi, (_, r) in zip(y, d.iterrows(), strict=True):
            for val, colour, hatch in ((r["out_low"], _LOW, "//"), (r["out_high"], _HIGH, "..")):
                ax.barh(yi, val - base, left=base, height=0.62, color=colour, hatch=hatch, edgecolor="#333333",
                        lw=0.6, zorder=2)
        ax.axvline(base, color="#000000", lw=1.2, zorder=3)
        labels = [f"{r['label']}  ({_v(r['low_value'])} \u2192 {_v(r['high_value'])})" for _, r in d.iterrows()]
        ax.set_yticks(y, labels=labels)
        ax.grid(axis="y", visible=False)
        if OUTPUTS[out][1]:
            ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        # Two lines: with long assumption labels the axes are narrow, and one line ran off the figure.
        ax.set_xlabel(f"{label} {at_date(out, pd.Timestamp(t['date'].iloc[0]).strftime('%b %Y'))}\nvertical line: "
                      f"all assumptions drawn as usual ({_fmt_out(out, base)})")
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(facecolor=_LOW, hatch="//", edgecolor="#333333",
                                 label=f"assumption at its P{p_lo} ({_ordinal(p_lo)} percentile)"),
                           Patch(facecolor=_HIGH, hatch="..", edgecolor="#333333",
                                 label=f"assumption at its P{p_hi} ({_ordinal(p_hi)} percentile)")],
                  loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=1)
        r0 = t.iloc[0]
        title = (f"{r0['label']} moves {label} most: {_fmt_out(out, r0['out_low'])} at its P{p_lo}, "
                 f"{_fmt_out(out, r0['out_high'])} at its P{p_hi}")
        note = (f"One assumption at a time set to the same percentiles (P{p_lo} and P{p_hi}) of its own uncertainty "
                f"distribution, all others drawn as usual, on the same {int(t['runs'].iloc[0]):,} random streams "
                f"(common random numbers). Top {len(d)} of {len(t)} uncertain assumptions. Scenario "
                f"'{t['scenario'].iloc[0]}'. Source: model simulation.")
        _frame(fig, title, note)
    return fig


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def _v(x: float) -> str:
    return minus(f"{x:.3g}")


def sobol_chart(res: SensitivityResult, output: str = "confrontation_or_worse", top: int = 12, size: str = "slide"):
    """First-order and total indices with 95% intervals for one output at the horizon."""
    t = res.at_horizon(output).head(top).iloc[::-1]
    label = OUTPUTS[output][0]
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        y = np.arange(len(t))
        if res.method == "sobol":
            ax.barh(y + 0.19, t["ST"], xerr=t["ST_conf"], height=0.36, color=OKABE_ITO["blue"], hatch="//",
                    edgecolor="#333333", lw=0.6, label="total effect ST (alone and with interactions)",
                    error_kw={"elinewidth": 1, "capsize": 3}, zorder=2)
            ax.barh(y - 0.19, t["S1"], xerr=t["S1_conf"], height=0.36, color=OKABE_ITO["orange"],
                    edgecolor="#333333", lw=0.6, label="first-order S1 (alone)",
                    error_kw={"elinewidth": 1, "capsize": 3}, zorder=2)
            ax.set_xlabel(f"Share of the variance of {label} "
                          f"{at_date(output, pd.Timestamp(res.horizon_date).strftime('%b %Y'))}")
        else:
            key, conf = ("mu_star", "mu_star_conf") if res.method == "morris" else ("delta", "delta_conf")
            ax.barh(y, t[key], xerr=t[conf], height=0.6, color=OKABE_ITO["blue"], hatch="//", edgecolor="#333333",
                    lw=0.6, label=key, error_kw={"elinewidth": 1, "capsize": 3}, zorder=2)
            ax.set_xlabel(f"{key} for {label}")
        ax.axvline(0, color="#555555", lw=0.8)
        ax.set_yticks(y, labels=list(t["label"]))
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")
        title = res.sentence(output) if res.method == "sobol" else f"What moves {label}: {res.method}"
        warn = res.trust(output)
        method = {"sobol": "Sobol'", "morris": "Morris", "delta": "Delta"}[res.method]
        note = (f"{method} indices from SALib, N={res.n:,} ({res.runs:,} runs), "
                f"{len(res.factors)} assumptions varied over their uncertainty; whiskers: 95% bootstrap intervals. "
                + (f"{warn}. " if warn else "") + f"Scenario '{res.scenario}'. Source: model simulation.")
        _frame(fig, title.split(" On their own")[0], note)
    return fig


def peeling_chart(res: DiscoveryResult, size: str = "slide"):
    """PRIM's peeling trajectory: coverage against density, the chosen box marked."""
    tr = res.trajectory
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        sc = ax.scatter(tr["coverage"], tr["density"], c=tr["res dim"], cmap="viridis", s=28, zorder=2,
                        edgecolor="#333333", lw=0.4)
        cb = fig.colorbar(sc, ax=ax)
        cb.set_label("parameters restricted")
        c = tr.iloc[res.chosen]
        ax.scatter([c["coverage"]], [c["density"]], s=220, facecolor="none", edgecolor="#000000", lw=2, zorder=3)
        ax.annotate("chosen box", (c["coverage"], c["density"]), xytext=(12, 12), textcoords="offset points")
        ax.axhline(res.base_rate, color="#555555", ls="--", lw=1)
        ax.text(0.01, res.base_rate, f" all futures: {100 * res.base_rate:.0f}%", va="bottom", ha="left",
                transform=ax.get_yaxis_transform())
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        subj = _WORDS[res.outcome][0]
        ax.set_xlabel(f"Coverage: share of {_WORDS[res.outcome][1]} inside the box")
        ax.set_ylabel(f"Density: share of the box's futures with {lower_first(subj)}")
        best = float(tr["density"].max())
        title = (f"Narrowing the assumptions raises the chance of {lower_first(subj)} from "
                 f"{100 * res.base_rate:.0f}% to at most {100 * best:.0f}%, at the cost of coverage")
        note = (f"PRIM peeling trajectory over {res.n:,} futures (Latin hypercube over {len(res.factors)} "
                "assumptions); each point is a box, from all futures (right) to the smallest (left). The chosen "
                "box is stated with its significant restrictions only (at most three). "
                f"Scenario '{res.scenario}'. Source: model simulation.")
        _frame(fig, title, note)
    return fig


def box_chart(res: DiscoveryResult, size: str = "slide", max_points: int = 4000):
    """The chosen box over a scatter of its two main dimensions."""
    from matplotlib.patches import Rectangle

    box = res.boxes[0] if res.boxes else res.cart
    dims = list(box.limits) if box else []
    if len(dims) < 2:
        from model.discovery import screen

        extra = [c for c in screen(res.x, res.y, 3) if c not in dims]
        dims = (dims + extra)[:2]
    a, b = dims[:2]
    labels = {f.name: f.label for f in res.factors}
    rng = np.random.default_rng(0)
    idx = rng.choice(res.n, size=min(max_points, res.n), replace=False)
    x, y, hit = res.x[a].to_numpy()[idx], res.x[b].to_numpy()[idx], res.y[idx]
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        ax.scatter(x[~hit], y[~hit], s=9, marker="o", color="#BBBBBB", lw=0, label="other futures", zorder=1)
        subj = _WORDS[res.outcome][0]
        ax.scatter(x[hit], y[hit], s=16, marker="^", color=OKABE_ITO["vermillion"], lw=0,
                   label=f"{lower_first(subj)}", zorder=2)
        if box is not None:
            lo_a, hi_a = box.limits.get(a, (res.x[a].min(), res.x[a].max()))
            lo_b, hi_b = box.limits.get(b, (res.x[b].min(), res.x[b].max()))
            ax.add_patch(Rectangle((lo_a, lo_b), hi_a - lo_a, hi_b - lo_b, fill=False, lw=2.2, ec="#000000",
                                   ls="-", zorder=3, label="the box (in these two dimensions)"))
        ax.set_xlabel(f"{labels[a]} ({a})")
        ax.set_ylabel(f"{labels[b]} ({b})")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        if box is not None:
            title = (f"{subj}: {100 * box.density:.0f}% inside the box, {100 * res.base_rate:.0f}% overall; "
                     f"the box holds {100 * box.coverage:.0f}% of cases")
        else:
            title = f"No box found for {lower_first(subj)}"
        others = [n for n in (box.limits if box else {}) if n not in (a, b)]
        note = (f"{len(idx):,} of {res.n:,} sampled futures shown. "
                + (f"The box also restricts {', '.join(lower_first(labels[n]) for n in others)}, so some "
                   "futures inside the rectangle lie outside the box. " if others else "")
                + f"Scenario '{res.scenario}'. Source: model simulation.")
        _frame(fig, title, note)
    return fig


def _leaders_title(t: pd.DataFrame, key: str, label: str) -> str:
    """'X until Feb 2015, Y in Feb 2016-Feb 2017, X again in Feb 2018' from the yearly leaders."""
    lead = t.sort_values(key, ascending=False).groupby("month").head(1).sort_values("month")
    segs: list[list] = []
    for _, r in lead.iterrows():
        when = pd.Timestamp(r["date"]).strftime("%b %Y")
        if segs and segs[-1][0] == r["label"]:
            segs[-1][2] = when
        else:
            segs.append([r["label"], when, when])
    if len(segs) == 1:
        return f"{segs[0][0]} matters most for {label} in every year"
    seen: set[str] = set()
    parts = []
    for i, (name, a, b) in enumerate(segs):
        span = f"in {a}" if a == b else (f"until {b}" if i == 0 else f"in {a}\u2013{b}")
        parts.append(f"{name if i == 0 else lower_first(name)}{' again' if name in seen else ''} {span}")
        seen.add(name)
    return f"What matters most for {label} changes: " + ", ".join(parts)


def timeline_chart(res: SensitivityResult, output: str = "confrontation_or_worse", top: int = 5,
                   size: str = "slide"):
    """Total index by year for the top parameters: what matters early and what matters late."""
    key = {"sobol": "ST", "morris": "mu_star", "delta": "delta"}[res.method]
    t = res.table[res.table["output"] == output]
    lead = list(res.at_horizon(output)["param"].head(top))
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        for i, p in enumerate(lead):
            s = t[t["param"] == p].sort_values("month")
            ax.plot(pd.to_datetime(s["date"]), s[key], marker="osD^v"[i % 5], lw=2, label=s["label"].iloc[0])
        ax.set_ylabel({"ST": "total-effect index ST", "mu_star": "mu*", "delta": "delta"}[key])
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        label = OUTPUTS[output][0]
        title = _leaders_title(t, key, label)
        _frame(fig, title,
               f"{res.method.capitalize()} indices at the end of each year. Scenario '{res.scenario}'. "
               "Source: model simulation.")
    return fig


__all__ = ["box_chart", "peeling_chart", "sobol_chart", "timeline_chart", "tornado_chart"]
