"""The model's behaviour in one table: what every shipped scenario and the extremes of
the four headline drivers do, so a review of the dynamics starts from measured figures.

    python scripts/behaviour.py [--runs 2000] [--out docs/behaviour.md]

Writes docs/behaviour.md. Everything is computed here from ``simulate``; nothing is typed
in by hand. One-at-a-time extremes use common random numbers (the same seed), so the
differences between rows are the driver's effect, not Monte Carlo noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import load_scenario, simulate  # noqa: E402
from model.params import HEADLINE, registry  # noqa: E402
from model.scenario import shipped  # noqa: E402

# State variables with a documented scale, and its bounds (None: unbounded on that side).
BOUNDED = {
    "relations": (-10.0, 10.0), "protest": (0.0, 1.0), "grievance": (0.0, 1.0),
    "repression": (0.0, 1.0), "threat": (0.0, 1.0), "syria_divergence": (0.0, 1.0),
    "values_concern": (0.0, 1.0), "us_russia": (-1.0, 1.0),
}  # the ladder is a discrete rung: rung 0 is its normal state, not a runaway
ON_BOUND = 1e-3  # a quantile this close to a bound counts as "on the bound"


def headline_row(ds: xr.Dataset) -> dict[str, float]:
    """The figures an analyst reads first, for one ensemble."""
    end = ds.isel(time=-1)
    outcome = ds["outcome"].values
    exports_2012 = 4791.0 / 12  # ONS 2012 annual exports, as a monthly level
    return {
        "median relations": float(np.median(end["relations"])),
        "P10": float(np.quantile(end["relations"], 0.1)),
        "P90": float(np.quantile(end["relations"], 0.9)),
        "P(thaw)": float(np.mean(outcome == "thaw")),
        "P(cool)": float(np.mean(outcome == "cool")),
        "P(confrontation)": float(np.mean(outcome == "confrontation")),
        "P(rupture)": float(np.mean(outcome == "rupture")),
        "P(dialogue suspended)": float((~ds["dialogue_active"]).any("time").mean()),
        "P(expulsions)": float((ds["expulsions"] > 0).any("time").mean()),
        "P(sanctions)": float(ds["sanctions"].any("time").mean()),
        "exports vs 2012": float(np.median(end["exports_gbp_m"]) / exports_2012),
    }


def state_rows(ds: xr.Dataset) -> list[tuple[str, float, float, float, str]]:
    """Median and P90 of each bounded state at the horizon, flagged when on a bound."""
    rows = []
    end = ds.isel(time=-1)
    for var, (lo, hi) in BOUNDED.items():
        x = end[var].values.astype(float)
        med, p10, p90 = np.median(x), np.quantile(x, 0.1), np.quantile(x, 0.9)
        flags = [name for name, q in (("median", med), ("P90", p90), ("P10", p10))
                 if min(abs(q - lo), abs(q - hi)) < ON_BOUND]
        rows.append((var, p10, med, p90, ", ".join(flags) or "interior"))
    return rows


def fmt(v: float, kind: str) -> str:
    return f"{100 * v:.0f}%" if kind.startswith("P(") else f"{v:+.2f}" if "relations" in kind or kind in (
        "P10", "P90") else f"{v:.2f}"


def table(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    cols = list(rows[0][1])
    out = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in rows:
        out.append(f"| {name} | " + " | ".join(fmt(r[c], c) for c in cols) + " |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--out", default=str(ROOT / "docs" / "behaviour.md"))
    args = ap.parse_args()

    base = load_scenario("baseline")
    seed, horizon = base.run.seed, base.run.horizon
    lines = [
        "# Model behaviour",
        "",
        f"Produced by `python scripts/behaviour.py --runs {args.runs}` on {dt.date.today().isoformat()} "
        f"({platform.python_implementation()} {platform.python_version()}); seed {seed}, "
        f"{horizon} months from {base.initial.start}. Every figure is computed by the script; rerun it "
        "after any model change and read the differences before trusting a forecast.",
        "",
        "## Shipped scenarios",
        "",
        "Relations at the horizon (Goldstein points), outcome classes at the horizon, events at any time "
        "by the horizon, and median monthly exports as a multiple of the 2012 average.",
        "",
    ]
    rows, ensembles = [], {}
    for name in shipped():
        ds = simulate(load_scenario(name), runs=args.runs, seed=seed, horizon=horizon)
        ensembles[name] = ds
        rows.append((f"`{name}`", headline_row(ds)))
    lines += table(rows)

    lines += ["", "## One-at-a-time extremes of the headline drivers (baseline, common random numbers)", "",
              "Each driver's value is set to the bottom or top of its valid range; everything else is "
              "as in the baseline, including every per-run draw of the other parameters.", ""]
    specs = registry()
    rows = [("baseline", headline_row(ensembles["baseline"]))]
    for name in HEADLINE:
        spec = specs[name]
        for label, value in (("low", spec.low), ("high", spec.high)):
            ds = simulate(base, runs=args.runs, seed=seed, horizon=horizon, overrides={name: value})
            rows.append((f"`{name}` {label} ({value:g})", headline_row(ds)))
    lines += table(rows)

    lines += ["", "## Where the baseline's states end up", "",
              "P10, median and P90 of each bounded state at the horizon, and whether a quantile sits on a "
              f"bound of its scale (within {ON_BOUND:g}). A state pinned at a bound means the dynamics have "
              "run away from the scale's meaning.", "",
              "| state | scale | P10 | median | P90 | on a bound |", "|---|---|---|---|---|---|"]
    for var, p10, med, p90, flag in state_rows(ensembles["baseline"]):
        lo, hi = BOUNDED[var]
        lines.append(f"| `{var}` | [{lo:g}, {hi:g}] | {p10:.2f} | {med:.2f} | {p90:.2f} | {flag} |")
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
