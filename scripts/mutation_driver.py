"""Run ``mutmut run`` on chosen modules only (called by scripts/mutation.sh).

mutmut 3 reads its settings from setup.cfg and, left alone, compiles mutants for every
file under ``model/`` on every change, which on this project is >10,000 mutants and
minutes of work before a test runs. Here its ``only_mutate`` setting is narrowed to the
modules asked for, so the other files are copied into ./mutants/ unmutated.

    python3 scripts/mutation_driver.py JOBS MODULE [MODULE ...]     # run
    python3 scripts/mutation_driver.py score MODULE [MODULE ...]    # the scores, from ./mutants
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from collections import Counter
from pathlib import Path

# Issue 14's bar: at least this share of each core module's mutants killed.
BAR = 85.0

# Files of which only some functions are mutated. In the chart modules these are the
# functions that compute a title's numbers or the data behind a chart; the drawing code
# (matplotlib and Vega-Lite styling) is judged by eye and by tests/test_presentation.py.
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "model/charts.py": (
        "minus", "fmt_pts", "lower_first", "month_label", "horizon_label", "start_label", "_start_ts", "_x",
        "_initial", "source_note", "_spread", "_band_name", "_relations_ylim", "_fan_values", "_relations_title",
        "_generic_title", "outcome_probs", "_dagger", "_any_unsettled", "driver_totals", "fan_data",
        "outcome_data", "waterfall_data", "stacked_data", "exports_data", "events_data", "trajectories_data",
        "compare_data"),
    # Everything but _finish and _year_x (styling constants only); a method is "ǁClassǁname".
    "model/charts_screen.py": (
        "hex_mix", "title_lines", "title_text", "note_text", "_title", "_layer", "_chart", "spec", "month_names",
        "_utc", "_iso", "qf", "_fan_frame", "_hover", "_bands", "_start", "_opacity", "_fan_layers", "_fan_colours",
        "_outcome_label", "chart_data", "screen_chart", "fan", "exports", "events", "trajectories", "outcomes",
        "waterfall", "stacked", "compare", "ǁ_Axesǁ__init__", "ǁ_Axesǁx", "ǁ_Axesǁx2", "ǁ_Axesǁy", "ǁ_Axesǁseries",
        "ǁScreenChartǁspec"),
}

# mutmut's exit codes, as scripts/mutation.sh reports them.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 37: "type check", None: "not checked", -24: "timeout", 24: "timeout",
          152: "timeout", 255: "timeout"}


def _patterns(modules: list[str]) -> list[str]:
    """mutmut's glob for each module path (a package means every file in it)."""
    return [f"{m.rstrip('/')}/*" if Path(m).is_dir() else m for m in modules]


def _mutant_globs(modules: list[str]) -> list[str]:
    """mutmut's mutant names are dotted module paths: model/agents -> model.agents.*, and a
    function f of model/charts.py is model.charts.x_f__mutmut_N."""
    globs = []
    for m in modules:
        dotted = m.rstrip("/").removesuffix(".py").replace("/", ".")
        fns = FUNCTIONS.get(m.rstrip("/"))
        globs += [f"{dotted}.x{f if f.startswith('ǁ') else '_' + f}__mutmut_*" for f in fns] if fns else [f"{dotted}.*"]
    return globs


def score(modules: list[str]) -> int:
    """Print each module's score from mutmut's results in ./mutants; 1 if any is below BAR."""
    total, below = Counter(), []
    print(f"\n{'module':32} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} {'no tests':>8} "
          f"{'unchecked':>9} {'score':>6}")
    for mod in modules:
        mod = mod.rstrip("/")
        root = Path("mutants") / mod
        metas = sorted(root.rglob("*.py.meta")) if root.is_dir() else [Path(f"mutants/{mod}.meta")]
        wanted = _mutant_globs([mod])
        c, left = Counter(), []
        for meta in metas:
            if not meta.exists():
                continue
            for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
                if not any(fnmatch.fnmatchcase(key, g) for g in wanted):
                    continue  # a function this module's campaign does not mutate
                st = STATUS.get(code, "suspicious")
                c[st] += 1
                if st not in ("killed", "timeout"):
                    left.append(f"{key} ({st})")
        n = sum(c.values())
        pct = 100 * (c["killed"] + c["timeout"]) / max(n, 1)  # a timeout: the tests noticed (it hangs)
        if n == 0 or pct < BAR:
            below.append(mod)
        total += c
        print(f"{mod:32} {n:7} {c['killed']:7} {c['timeout']:7} {c['survived']:8} {c['no tests']:8} "
              f"{c['not checked']:9} {pct:5.1f}%")
        for line in left:
            print(f"    {line}")
    n = sum(total.values())
    pct = 100 * (total["killed"] + total["timeout"]) / max(n, 1)
    print(f"{'TOTAL':32} {n:7} {total['killed']:7} {total['timeout']:7} {total['survived']:8} "
          f"{total['no tests']:8} {total['not checked']:9} {pct:5.1f}%")
    if total["no tests"] + total["not checked"] > 0.05 * max(n, 1):
        print("\nWARNING: many mutants were not run against any test; the score above is not meaningful")
    print(f"\nbar: at least {BAR:g}% killed in every module: "
          + (f"NOT met by {', '.join(below)}" if below else "met"))
    print("Show a survivor's diff with: python3 -m mutmut show <name>   (never 'mutmut apply': it edits the tree)")
    return 1 if below else 0


def main(argv: list[str]) -> None:
    if argv[0] == "score":
        sys.exit(score(argv[1:]))
    jobs, modules = argv[0], argv[1:]
    import mutmut.configuration as mc

    cfg = mc.config()
    cfg.only_mutate = _patterns(modules)
    # A file mutmut once copied unmutated looks "already generated" to it later (its copy
    # is newer than the source); remove such copies of the files we now want mutated.
    for src in [*Path("model").rglob("*.py"), *Path("dashboard").rglob("*.py")]:
        copy = Path("mutants") / src
        if cfg.should_mutate(src) and copy.exists() and "mutmut" not in copy.read_text():
            copy.unlink()
            Path(f"{copy}.meta").unlink(missing_ok=True)

    # mutmut caches which tests reach which function, and reuses the cache even when the
    # set of mutated files has changed (a file copied unmutated records no calls): the
    # new mutants would all be "no tests". Recording afresh costs one pass of the tests.
    Path("mutants/mutmut-stats.json").unlink(missing_ok=True)

    from mutmut.__main__ import cli

    # MUTATION_GLOBS narrows the run to some functions or to last run's survivors by name,
    # e.g. MUTATION_GLOBS="model.charts.x__relations_title*".
    globs = os.environ.get("MUTATION_GLOBS", "").split() or _mutant_globs(modules)
    sys.argv = ["mutmut", "run", "--max-children", jobs, *globs]
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
