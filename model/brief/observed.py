"""``dialogue brief --observed``: the brief of a forecast updated on what has happened since.

The briefed ensemble is the posterior (``simulate(..., observations=...)``: runs
consistent with the observations, resampled to equal weights), so every judgment and
chart is conditioned. :func:`add_update` then says so on the page, short enough to keep
the one-page layout:

* the subtitle: "Updated on N observations through <month>" with the lowest effective
  sample size, and the top few assumptions the news favours (:func:`model.smc.report`);
* one line, "Key judgments, prior -> posterior: (1) 34% -> 38%; ...", numbered as the
  judgments (each computed on the unconditioned ensemble of the same scenario, seed and
  runs): one line for the five keeps the page within its sheet;
* a note: what was observed, and that the sensitivity analyses are of the forecast
  before the observations (conditioning each tornado bar would mean a filter per bar).

``brief.json`` gets the whole comparison (``observed``), sources included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from model.brief.content import BriefContent, Judgment, judgments, pct
from model.charts import minus

FAVOURED_TOP = 3  # assumptions named in the subtitle (brief.json has all)
LISTED = 6  # observations named in the note (brief.json has all, with sources)


def month_words(ym: str) -> str:
    """'2013-12' -> 'Dec 2013' (the brief's month style)."""
    return pd.Timestamp(f"{ym}-01").strftime("%b %Y")


def prior_judgments(prior: xr.Dataset, posterior: list[Judgment]) -> dict[str, float]:
    """Each posterior judgment's probability on the prior ensemble, by key. The event
    judgment names the posterior's likeliest event, which may not be the prior's."""
    from model.analysis import event_flags

    before = {j.key: j.p for j in judgments(prior)}
    flags = None
    for j in posterior:
        if j.key not in before and j.key.startswith("event:"):
            flags = flags if flags is not None else event_flags(prior)
            before[j.key] = float(np.asarray(flags[j.key[6:]].isel(time=-1).values, dtype=bool).mean())
    return before


def update_line(n: int, through: str, runs: int, low_ess: float) -> str:
    return (f"Updated on {n} observation{'s' * (n != 1)} through {month_words(through)} "
            f"(lowest effective sample size {low_ess:,.0f} of {runs:,} runs).")


def judgment_line(content: BriefContent, before: dict[str, float]) -> str:
    """'Key judgments, prior -> posterior: (1) 34% -> 38%; (2) ...', numbered as on the page."""
    parts = [f"({i}) {pct(before[j.key])} \u2192 {pct(j.p)}" for i, j in enumerate(content.main.judgments, 1)]
    return "Key judgments, prior \u2192 posterior: " + "; ".join(parts) + "."


def _fits(extra: str, budget_lines: int) -> bool:
    """Does ``extra`` take at most ``budget_lines`` lines of the page's subtitle?"""
    from model.brief.render import MARGIN, PAGE, SMALL_PT
    from model.charts import wrap_lines

    return len(wrap_lines(extra, PAGE[0] - 2 * MARGIN, SMALL_PT + 0.6)) <= budget_lines


def add_update(content: BriefContent, prior: xr.Dataset, posterior: xr.Dataset, obs) -> None:
    """Say on the brief that it is updated on ``obs`` (see the module docstring)."""
    from model.smc import report

    rep = report(prior, posterior)
    low = float(rep.steps["ess"].min()) if len(rep.steps) else float(rep.runs)
    head = update_line(len(rep.steps), rep.through, rep.runs, low)
    before = prior_judgments(prior, content.main.judgments)
    judged = judgment_line(content, before)
    caution = " Caution: the posterior rests on few runs; brief more runs." if rep.warnings else ""
    # The assumptions the news favours: as many as keep the addition within three subtitle lines
    # (the page has about half an inch to spare; brief.json has them all).
    for k in range(min(FAVOURED_TOP, len(rep.favoured)), -1, -1):
        fav = [s.removeprefix("the observations favour ") for s in rep.favoured[:k]]
        shift = ("The news favours " + "; ".join(fav) + "." if fav else
                 "No assumption moved clearly beyond Monte Carlo noise." if not rep.favoured else "")
        extra = minus(" ".join(x for x in (head, judged, shift + caution) if x))
        if _fits(extra, 3) or k == 0:
            break
    # If the page still overflows, build.py falls back to this (the assumptions in brief.json and the HTML).
    short = minus(" ".join((head, judged, "Assumptions the news favours: brief.json." if rep.favoured else "")))
    content.extra["observed_short_subtitle"] = f"{content.subtitle} {short}".strip()
    content.subtitle = f"{content.subtitle} {extra}"
    listed = "; ".join(rep.steps["description"].head(LISTED))
    more = f"; and {len(rep.steps) - LISTED} more" if len(rep.steps) > LISTED else ""
    content.notes.insert(1, f"Observed (sources in brief.json): {listed}{more}. Judgments and charts: the runs "
                            "consistent with them; sensitivity: the forecast before them (docs/updating.md).")
    content.extra["observed"] = {
        "file": str(obs.path), "title": obs.title, "observations": len(rep.steps), "through": rep.through,
        "runs": rep.runs, "lowest_ess": low, "line": head, "judgment_line": judged, "warnings": rep.warnings,
        "favoured": rep.favoured,
        "judgments": {j.key: {"prior": before[j.key], "posterior": j.p} for j in content.main.judgments},
        "steps": rep.steps.to_dict(orient="records"),
        "probabilities": rep.probabilities.to_dict(orient="records"),
        "parameters": rep.parameters.to_dict(orient="records"),
        "entries": [ob.model_dump(exclude_none=True) for ob in obs.entries],
    }
