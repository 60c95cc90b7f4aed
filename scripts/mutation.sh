#!/usr/bin/env bash
# Mutation testing of the model, module by module, with mutmut 3 (see docs/testing.md).
#
#   scripts/mutation.sh                               # the whole core (issue 14), file by file
#   scripts/mutation.sh model/rng.py model/agents/   # chosen modules (files or packages)
#   MUTATION_JOBS=1 scripts/mutation.sh model/engine.py
#   MUTATION_SCORE_ONLY=1 scripts/mutation.sh        # print the last results again
#
# Exit status: 0 when every module reaches the bar (85% of mutants killed), 1 when one
# does not, 2 when the campaign could not run.
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
    # [[shocks]] and the dated-entry readers (observations, resolutions) are tested in process by
    # test_mutation_shocks_toml.py; test_shocks.py and test_resolutions.py run CLIs and take minutes per survivor.
    model/scenario.py|model/validation.py) echo "test_mutation_scenario.py test_mutation_validation.py test_scenario.py
                                            test_field_bounds.py test_fuzz_scenario.py test_mutation_shocks_toml.py" ;;
    model/design.py) echo "test_design.py test_mutation_design.py" ;;
    model/batch/summary.py|model/batch/plan.py) echo "test_mutation_batch.py test_batch_chunking.py" ;;
    # Scored on the fast in-process tests only. test_batch*.py run chunks in worker
    # processes: a mutant that deadlocks a pool worker sleeps for ever (mutmut's limit is on
    # CPU time, which a waiting process does not use), and each survivor costs minutes.
    model/batch/integrity.py|model/batch/store.py|model/batch/chunks.py)
      echo "test_mutation_batch_io.py test_mutation_batch.py" ;;
    # The runner's serial path (workers None or 1) runs chunks in this process; its pools run a
    # tiny plan (test_mutation_batch_pools.py: spawned workers, and a Dask cluster in this process).
    model/batch/runner.py) echo "test_mutation_batch_runner.py test_mutation_batch_io.py test_mutation_batch.py
                                 test_mutation_batch_pools.py" ;;
    model/batch/sweep.py|model/batch/design_file.py)
      echo "test_mutation_batch_sweep.py test_batch_sweep.py test_batch_sweep_fuzz.py" ;;
    model/batch/command.py|model/batch/analysis.py) echo "test_mutation_batch_command.py" ;;
    dashboard/state.py|dashboard/widgets.py) echo "test_mutation_dashboard.py" ;;
    model/batch*) echo "test_batch.py test_batch_chunking.py test_batch_integrity.py test_batch_sweep.py
                        test_batch_sweep_fuzz.py test_reproducibility.py" ;;
    model/results.py|model/analysis.py) echo "test_mutation_analysis.py test_mutation_results.py
                        test_mutation_weighted.py test_event_flags.py test_results.py test_presentation.py
                        test_smc.py" ;;
    model/charts.py|model/charts_screen.py) echo "test_mutation_charts.py test_mutation_charts_data.py" ;;
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

# Score per module from mutmut's per-file results (mutants/<file>.meta); exit 1 below the bar.
score() {
  python3 scripts/mutation_driver.py score "$@"
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
  wanted="$(echo $wanted)"  # one space between names: a name that ends a line of tests_for() must match too
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
  export PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-}$ignores"
  if [ "${MUTATION_DRY_RUN:-}" = 1 ]; then  # what would run, and nothing else
    echo "tests:    $wanted"
    echo "ignored:  $(echo "$ignores" | tr ' ' '\n' | grep -c -- '--ignore=')"
    return
  fi

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

if [ "$#" -eq 0 ]; then  # issue 14's core, file by file (several hours on 2 cores: run parts as needed)
  set -- model/agents/ model/rng.py model/engine.py model/params.py model/scenario.py model/validation.py \
    model/design.py model/analysis.py model/results.py \
    model/batch/summary.py model/batch/plan.py model/batch/integrity.py model/batch/store.py model/batch/chunks.py \
    model/batch/runner.py model/batch/sweep.py model/batch/command.py model/batch/design_file.py \
    model/batch/analysis.py model/charts.py model/charts_screen.py dashboard/state.py dashboard/widgets.py
fi
# main is a function, so bash reads the whole file before running: editing it mid-run is safe.
main "$@"
exit
