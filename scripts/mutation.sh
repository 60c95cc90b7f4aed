#!/usr/bin/env bash
# Mutation testing of the model, module by module, with mutmut 3 (see docs/testing.md).
#
#   scripts/mutation.sh                               # the core: agents, rng, engine, params
#   scripts/mutation.sh model/rng.py model/agents/   # chosen modules (files or packages)
#   MUTATION_JOBS=1 scripts/mutation.sh model/engine.py
#   MUTATION_SCORE_ONLY=1 scripts/mutation.sh        # print the last results again
#
# mutmut copies model/ into ./mutants/, compiles every mutant into that copy behind a
# switch and runs, for each mutant, only the tests that executed the mutated function
# (it records which in a first clean run). The working tree is never modified.
# scripts/mutation_driver.py narrows mutmut to the modules asked for.
# Parallelism is across mutants (--max-children), so pytest-xdist is not used: each
# mutant's pytest run is a second or two and xdist's start-up would cost more than it saves.
# Results are kept in ./mutants/; delete it for a clean campaign.
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests that exercise each module. Tests not listed for any chosen module are
# left out of the run (pytest --ignore), which keeps the campaign fast.
CORE="test_rules.py test_bookings.py test_streams.py test_calendar.py test_properties.py
      test_reproducibility.py test_statics.py"
tests_for() {
  case "$1" in
    model/agents*|model/rng.py) echo "$CORE test_mutation_trade.py" ;;
    model/engine.py) echo "$CORE test_design.py" ;;
    model/params.py) echo "$CORE test_scenario.py" ;;
    # mutmut runs a mutant's tests fastest first and stops at the first failure, so a slow
    # file costs time mainly on survivors; these lists leave out the slow end-to-end files.
    model/scenario.py|model/validation.py) echo "test_mutation_scenario.py test_mutation_validation.py test_scenario.py
                                            test_field_bounds.py test_fuzz_scenario.py" ;;
    model/design.py) echo "test_design.py test_mutation_design.py" ;;
    model/batch/summary.py|model/batch/plan.py) echo "test_mutation_batch.py test_batch_chunking.py" ;;
    # Scored on the fast in-process tests only. test_batch*.py run chunks in worker
    # processes: a mutant that deadlocks a pool worker sleeps for ever (mutmut's limit is on
    # CPU time, which a waiting process does not use), and each survivor costs minutes.
    model/batch/integrity.py|model/batch/store.py|model/batch/chunks.py)
      echo "test_mutation_batch_io.py test_mutation_batch.py" ;;
    # The runner's serial path (workers None or 1) runs chunks in this process.
    model/batch/runner.py) echo "test_mutation_batch_runner.py test_mutation_batch_io.py test_mutation_batch.py" ;;
    dashboard/state.py|dashboard/widgets.py) echo "test_mutation_dashboard.py" ;;
    model/batch*) echo "test_batch.py test_batch_chunking.py test_batch_integrity.py test_batch_sweep.py
                        test_batch_sweep_fuzz.py test_reproducibility.py" ;;
    model/results.py|model/analysis.py) echo "test_mutation_analysis.py test_mutation_results.py test_results.py
                        test_presentation.py" ;;
    model/charts*) echo "test_mutation_charts.py test_charts.py test_presentation.py" ;;
    model/brief*) echo "test_brief.py test_presentation.py" ;;
    model/calibration.py) echo "test_calibration.py" ;;
    model/scoring.py|model/resolutions.py|model/reference.py|model/score_command.py)
      echo "test_scoring.py test_resolutions.py test_reference_events.py" ;;
    model/sensitivity*|model/discovery.py) echo "test_sensitivity.py test_discovery.py" ;;
    model/cli.py|model/simulate.py) echo "test_cli.py test_hardening_cli.py test_results.py" ;;
    *) echo "dialogue: error: no test list for '$1'; add it to tests_for() in scripts/mutation.sh" >&2
       exit 2 ;;
  esac
}

# Score per module from mutmut's per-file results (mutants/<file>.meta).
score() {
  python3 - "$@" <<'EOF'
import json
import sys
from collections import Counter
from pathlib import Path

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 37: "type check", None: "not checked", -24: "timeout", 24: "timeout",
          152: "timeout", 255: "timeout"}
total_all = Counter()
print(f"\n{'module':32} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} {'no tests':>8} "
      f"{'unchecked':>9} {'score':>6}")
for mod in sys.argv[1:]:
    root = Path("mutants") / mod
    metas = sorted(root.rglob("*.py.meta")) if root.is_dir() else [Path(f"mutants/{mod}.meta")]
    c, survivors = Counter(), []
    for meta in metas:
        if not meta.exists():
            continue
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            st = STATUS.get(code, "suspicious")
            c[st] += 1
            if st not in ("killed", "timeout"):
                survivors.append(f"{key} ({st})")
    n = sum(c.values())
    caught = c["killed"] + c["timeout"]  # a timeout is a mutant the tests noticed (it hangs)
    total_all += c
    print(f"{mod:32} {n:7} {c['killed']:7} {c['timeout']:7} {c['survived']:8} {c['no tests']:8} "
          f"{c['not checked']:9} {100 * caught / max(n, 1):5.1f}%")
    for s in survivors:
        print(f"    {s}")
n = sum(total_all.values())
caught = total_all["killed"] + total_all["timeout"]
print(f"{'TOTAL':32} {n:7} {total_all['killed']:7} {total_all['timeout']:7} {total_all['survived']:8} "
      f"{total_all['no tests']:8} {total_all['not checked']:9} {100 * caught / max(n, 1):5.1f}%")
if total_all["no tests"] + total_all["not checked"] > 0.05 * max(n, 1):
    print("\nWARNING: many mutants were not run against any test; the score above is not meaningful")
print("\nShow a survivor's diff with: python3 -m mutmut show <name>   (never 'mutmut apply': it edits the tree)")
EOF
}

main() {
  local wanted="" mod base ignores=""
  for mod in "$@"; do
    mod="${mod%/}"
    if [ ! -e "$mod" ]; then
      echo "dialogue: error: no such module '$mod'; give a path such as model/rng.py or model/agents/" >&2
      exit 2
    fi
    wanted="$wanted $(tests_for "$mod")"
  done
  if [ "${MUTATION_SCORE_ONLY:-}" = 1 ]; then
    score "$@"
    return
  fi
  for f in tests/test_*.py; do
    base="$(basename "$f")"
    case " $wanted " in *" $base "*) ;; *) ignores="$ignores --ignore=$f" ;; esac
  done
  # The engines' agreement in distribution (3 s) adds nothing to their bit-identity test here.
  ignores="$ignores --deselect=tests/test_reproducibility.py::test_reference_and_ensemble_agree_in_distribution"
  # An in-process Dask cluster in mutmut's forked test runs stalls each mutant until its timeout.
  ignores="$ignores --deselect=tests/test_mutation_batch_runner.py::test_a_batch_on_an_in_process_dask_cluster_matches_the_serial_one"
  ignores="$ignores --deselect=tests/test_mutation_batch_runner.py::test_a_batch_on_a_scheduler_address_connects_and_closes_its_client"
  export PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-}$ignores"

  echo "mutating: $*"
  echo "tests:    $(echo "$wanted" | tr ' \n' '\n\n' | sort -u | xargs)"
  mkdir -p mutants
  local status=0
  nice -n 10 python3 scripts/mutation_driver.py "${MUTATION_JOBS:-2}" "$@" > mutants/run.log 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 30 mutants/run.log >&2
    echo "dialogue: error: mutmut failed (exit $status); see mutants/run.log" >&2
    exit 2
  fi
  score "$@"
}

if [ "$#" -eq 0 ]; then
  set -- model/agents/ model/rng.py model/engine.py model/params.py
fi
# main is a function, so bash reads the whole file before running: editing it mid-run is safe.
main "$@"
exit
