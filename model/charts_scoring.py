"""Charts of forecast scores: a reliability diagram and a PIT histogram.

Both take a :class:`model.scoring.ScoreReport` and return a matplotlib Figure in the
house style of :mod:`model.charts` (object-oriented API, Okabe-Ito colours with
markers and hatching so they read in greyscale, the finding as the title, a source
line). Save them with ``model.charts.save_figure`` / ``figure_bytes``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.charts import HATCHES, MARKERS, OKABE_ITO, SERIES, _fontsize, _frame, _new_figure, _style, minus

PROB_BINS = np.linspace(0, 1, 6)  # five bins of 20 points: the record is thin, finer bins would be empty


def _note(report, extra: str) -> str:
    return (f"Scenario '{report.scenario}' \u00b7 {report.runs:,} runs \u00b7 {report.span} \u00b7 "
            f"resolutions: {report.resolutions}. {extra}")


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#444444")
    ax.set_xticks([])
    ax.set_yticks([])


def reliability_points(p: np.ndarray, o: np.ndarray, bins=PROB_BINS) -> pd.DataFrame:
    """Per probability bin: mean forecast, observed frequency and count (empty bins dropped)."""
    p, o = np.asarray(p, dtype=float), np.asarray(o, dtype=float)
    idx = np.clip(np.digitize(p, bins[1:-1], right=False), 0, len(bins) - 2)
    rows = [(float(p[idx == i].mean()), float(o[idx == i].mean()), int((idx == i).sum()))
            for i in range(len(bins) - 1) if (idx == i).any()]
    return pd.DataFrame(rows, columns=["forecast", "observed", "n"])


def reliability_chart(report, size: str = "slide"):
    """Observed frequency against forecast probability for the event and state facts,
    for the model and each baseline that gives a probability."""
    facts = report.facts
    cats = facts[facts["kind"] != "number"] if len(facts) else facts
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        if not len(cats):
            _empty(ax, "No event or state facts to score")
            _frame(fig, "Reliability: no events or states in the resolutions", _note(report, ""))
            return fig
        ax.plot([0, 1], [0, 1], color="#777777", lw=1.0, ls=":", label="Perfect calibration")
        series = [("model", "Model", cats["forecast"])]
        series += [(b, b.capitalize(), cats[f"{b}_forecast"]) for b in report.baselines
                   if f"{b}_forecast" in cats and cats[f"{b}_forecast"].notna().any()]
        label_pt = _fontsize("xtick.labelsize")
        for i, (_key, label, p) in enumerate(series):
            have = p.notna()
            pts = reliability_points(p[have].to_numpy(float), cats.loc[have, "observed"].to_numpy(float))
            colour = SERIES[i % len(SERIES)]
            ax.plot(pts["forecast"], pts["observed"], color=colour, lw=1.6, ls="-" if i == 0 else "--",
                    marker=MARKERS[i % len(MARKERS)], ms=7 + 2 * np.sqrt(pts["n"].max()),
                    label=f"{label} ({int(have.sum())} facts)", zorder=4 - 0.1 * i)
            for _, r in pts.iterrows():
                right = r["forecast"] > 0.85  # keep labels at the right edge inside the axes
                ax.annotate(f"n={int(r['n'])}", (r["forecast"], r["observed"]),
                            xytext=(-8 if right else 8, 6 - 16 * i), ha="right" if right else "left",
                            textcoords="offset points", fontsize=label_pt * 0.9, color=colour)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.05, 1.05)
        ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.set_xlabel("Forecast probability (mean within each 20-point bin)")
        ax.set_ylabel("Share that came true")
        ax.legend(loc="upper left")
        summ = report.summary.set_index("measure")
        brier = float(cats["brier"].astype(float).mean())
        vs = ""
        key = "brier:event" if "brier:event" in summ.index else "brier:state"
        for b in report.baselines:
            if key in summ.index and b in summ.columns and pd.notna(summ.loc[key, b]):
                vs = (f"; on the {key[6:]}s it covers, the {b} baseline scores {summ.loc[key, b]:.3f} "
                      f"against the model's {summ.loc[key, 'model']:.3f}")
                break
        title = f"Reliability of {len(cats)} event and state forecasts: mean Brier score {brier:.3f}{vs}"
        _frame(fig, minus(title), _note(report, "Points on the dotted diagonal are calibrated; "
                                                "with few facts per bin the pattern is mostly noise."))
    return fig


def pit_chart(report, size: str = "slide", bins: int | None = None):
    """Histogram of the PIT values of the number facts (model bars, baselines as
    outlines); a calibrated forecast gives a flat histogram."""
    facts = report.facts
    nums = facts[facts["kind"] == "number"] if len(facts) else facts
    with _style(size):
        fig = _new_figure(size)
        ax = fig.add_subplot()
        if not len(nums):
            _empty(ax, "No number facts to score")
            _frame(fig, "PIT: no numbers in the resolutions", _note(report, ""))
            return fig
        k = bins or (10 if len(nums) >= 20 else 5)
        edges = np.linspace(0, 1, k + 1)
        counts, _ = np.histogram(nums["pit"].astype(float), bins=edges)
        ax.bar(edges[:-1], counts, width=1 / k, align="edge", color=OKABE_ITO["blue"], alpha=0.75,
               edgecolor="white", hatch=HATCHES[0], label=f"Model ({len(nums)} numbers)")
        for i, b in enumerate(report.baselines):
            col = f"{b}_pit"
            if col in nums and nums[col].notna().any():
                c, _ = np.histogram(nums[col].dropna().astype(float), bins=edges)
                ax.stairs(c, edges, color=SERIES[(i + 1) % len(SERIES)], lw=2.0, ls=("--", ":", "-.")[i % 3],
                          label=f"{b.capitalize()} ({int(nums[col].notna().sum())})")
        ax.axhline(len(nums) / k, color="#555555", lw=1.0, ls=":", label="Flat: calibrated")
        ax.set_xlim(0, 1)
        ax.set_xlabel("PIT: where the observed value fell in the forecast distribution (0 = below all, "
                      "1 = above all)")
        ax.set_ylabel("Number of facts")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(0, max(counts.max(), len(nums) / k) * 1.35 + 0.5)  # headroom for the legend
        ax.legend(loc="upper center", ncol=2)
        mean = float(nums["pit"].astype(float).mean())
        lean = ("above the forecasts' middle" if mean > 0.6 else "below the forecasts' middle" if mean < 0.4
                else "near the forecasts' middle")
        outside = int(((nums["pit"] < 0.05) | (nums["pit"] > 0.95)).sum())
        title = (f"PIT of {len(nums)} number forecasts: mean {mean:.2f}, outcomes fell {lean}; "
                 f"{outside} outside the 90% interval")
        _frame(fig, minus(title), _note(report, "A flat histogram means calibrated; a U shape, too narrow; "
                                                "a hump, too wide."))
    return fig
