"""``scripts/mutation.sh`` and its driver: the score it reports and the bar it holds (issue 14).

A campaign takes hours, so these tests do not run mutmut: they give the scorer mutmut's
per-file results (``mutants/<file>.meta``) written here, in a copy of the scripts, and
check the table, the bar and the exit status against counts worked out here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KILLED, SURVIVED, NO_TESTS, TIMEOUT = 1, 0, 33, -24


@pytest.fixture()
def tree(tmp_path):
    """The two scripts, with the project's model/ and dashboard/ beside them (linked)."""
    (tmp_path / "scripts").mkdir()
    for name in ("mutation.sh", "mutation_driver.py"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    for name in ("model", "dashboard", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _meta(tree, path, codes: dict[str, int | None]):
    meta = tree / "mutants" / f"{path}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {}}))


def _score(tree, *modules):
    env = {**os.environ, "MUTATION_SCORE_ONLY": "1"}
    return subprocess.run(["bash", str(tree / "scripts" / "mutation.sh"), *modules], capture_output=True,
                          text=True, env=env, cwd=tree, timeout=60)


def _row(out, module):
    (line,) = [ln for ln in out.splitlines() if ln.split()[:1] == [module]]
    return line.split()[1:]


def test_scores_count_each_status_and_the_bar_is_per_module(tree):
    rng = {f"model.rng.x_f__mutmut_{i}": KILLED for i in range(1, 18)}  # 17 killed
    rng |= {"model.rng.x_f__mutmut_18": TIMEOUT, "model.rng.x_f__mutmut_19": SURVIVED,
            "model.rng.x_f__mutmut_20": SURVIVED}  # 18 of 20 caught: 90%
    eng = {f"model.engine.x_g__mutmut_{i}": KILLED for i in range(1, 17)}  # 16 of 20: 80%
    eng |= {f"model.engine.x_g__mutmut_{i}": code for i, code in
            zip(range(17, 21), (SURVIVED, NO_TESTS, None, SURVIVED), strict=True)}
    _meta(tree, "model/rng.py", rng)
    _meta(tree, "model/engine.py", eng)
    r = _score(tree, "model/rng.py", "model/engine.py")
    assert r.returncode == 1, r.stderr  # engine is below 85%
    assert _row(r.stdout, "model/rng.py") == ["20", "17", "1", "2", "0", "0", "90.0%"]
    assert _row(r.stdout, "model/engine.py") == ["20", "16", "0", "2", "1", "1", "80.0%"]
    assert _row(r.stdout, "TOTAL") == ["40", "33", "1", "4", "1", "1", "85.0%"]
    # Every mutant not caught is named under its module.
    assert "    model.rng.x_f__mutmut_19 (survived)" in r.stdout
    assert "    model.engine.x_g__mutmut_18 (no tests)" in r.stdout
    assert "    model.engine.x_g__mutmut_19 (not checked)" in r.stdout
    assert "model.rng.x_f__mutmut_18" not in r.stdout  # a timeout counts as caught
    assert "bar: at least 85% killed in every module: NOT met by model/engine.py" in r.stdout

    # Exactly at the bar is met.
    eng["model.engine.x_g__mutmut_17"] = KILLED
    _meta(tree, "model/engine.py", eng)
    r = _score(tree, "model/rng.py", "model/engine.py")
    assert r.returncode == 0 and _row(r.stdout, "model/engine.py")[-1] == "85.0%"
    assert "bar: at least 85% killed in every module: met" in r.stdout


def test_a_package_sums_its_files(tree):
    _meta(tree, "model/agents/trade.py", {"model.agents.trade.x_a__mutmut_1": KILLED,
                                          "model.agents.trade.x_a__mutmut_2": SURVIVED})
    _meta(tree, "model/agents/eu.py", {"model.agents.eu.x_b__mutmut_1": KILLED})
    r = _score(tree, "model/agents/")
    assert _row(r.stdout, "model/agents") == ["3", "2", "0", "1", "0", "0", "66.7%"] and r.returncode == 1


def test_only_the_chart_functions_a_campaign_mutates_are_scored(tree):
    _meta(tree, "model/charts.py", {"model.charts.x_minus__mutmut_1": KILLED,
                                    "model.charts.x__relations_title__mutmut_3": KILLED,
                                    "model.charts.x__draw_outcomes__mutmut_1": None,  # drawing: not mutated
                                    "model.charts.x_minus_plus__mutmut_1": None})  # not a listed function
    r = _score(tree, "model/charts.py")
    assert _row(r.stdout, "model/charts.py") == ["2", "2", "0", "0", "0", "0", "100.0%"] and r.returncode == 0
    _meta(tree, "model/charts_screen.py", {"model.charts_screen.xǁ_Axesǁx__mutmut_1": KILLED,  # a method
                                           "model.charts_screen.x_fan__mutmut_2": SURVIVED,
                                           "model.charts_screen.x__finish__mutmut_1": None})  # styling only
    r = _score(tree, "model/charts_screen.py")
    assert _row(r.stdout, "model/charts_screen.py") == ["2", "1", "0", "1", "0", "0", "50.0%"] and r.returncode == 1


def test_a_module_never_run_is_below_the_bar_and_many_untested_mutants_warn(tree):
    _meta(tree, "model/rng.py", {f"model.rng.x_f__mutmut_{i}": NO_TESTS for i in range(10)}
          | {"model.rng.x_f__mutmut_99": KILLED})
    r = _score(tree, "model/rng.py", "model/params.py")
    assert _row(r.stdout, "model/params.py") == ["0", "0", "0", "0", "0", "0", "0.0%"]
    assert "WARNING: many mutants were not run against any test" in r.stdout
    assert "NOT met by model/rng.py, model/params.py" in r.stdout and r.returncode == 1


def test_the_default_core_has_a_test_list_for_every_module(tree):
    r = _score(tree)  # no mutants/ yet: every module reads 0 mutants
    assert r.returncode == 1 and r.stderr == ""
    rows = [ln.split()[0] for ln in r.stdout.splitlines()[2:] if ln.startswith(("model/", "dashboard/"))]
    assert rows[:4] == ["model/agents", "model/rng.py", "model/engine.py", "model/params.py"]
    core = {"model/scenario.py", "model/analysis.py", "model/results.py", "model/charts.py", "dashboard/state.py",
            "dashboard/widgets.py"} | {f"model/batch/{f.name}" for f in (ROOT / "model" / "batch").glob("*.py")
                                       if f.name != "__init__.py"}
    assert core <= set(rows), core - set(rows)
    assert all((ROOT / m).exists() for m in rows)


def test_an_unknown_module_or_one_without_tests_is_one_line(tree):
    r = _score(tree, "model/nothing.py")
    assert r.returncode == 2 and r.stderr == (
        "dialogue: error: no such module 'model/nothing.py'; give a path such as model/rng.py or model/agents/\n")
    r = _score(tree, "model/errors.py")
    assert r.returncode == 2 and r.stderr == (
        "dialogue: error: no test list for 'model/errors.py'; add it to tests_for() in scripts/mutation.sh\n")


def test_every_listed_test_file_exists_and_runs_and_every_other_is_left_out(tree):
    """A name that ends a line of tests_for() once failed the match and was silently left out."""
    env = {**os.environ, "MUTATION_DRY_RUN": "1"}
    r = subprocess.run(["bash", str(tree / "scripts" / "mutation.sh")], capture_output=True, text=True, env=env,
                       cwd=tree, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = dict(ln.split(":", 1) for ln in r.stdout.splitlines() if ln.startswith(("tests:", "ignored:")))
    wanted = set(lines["tests"].split())
    files = {p.name for p in (ROOT / "tests").glob("test_*.py")}
    assert wanted <= files, wanted - files  # no list names a file that is gone
    assert {"test_scenario.py", "test_mutation_batch.py", "test_results.py", "test_mutation_batch_pools.py",
            "test_mutation_dashboard.py"} <= wanted  # names that end a line of tests_for()
    assert int(lines["ignored"]) == len(files - wanted)
