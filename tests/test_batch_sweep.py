"""Sweep files: grids, Latin hypercubes and every validation message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.batch import build_plan
from model.batch.sweep import load_sweep
from model.cli import main
from model.errors import DialogueError
from model.params import registry

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios" / "sweeps"


def write(tmp_path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_grid_sweep():
    sw, _ = load_sweep(SHIPPED / "syria_repression_grid.toml")
    pts = sw.point_values()
    assert len(pts) == 20
    assert sorted({p["repression"] for p in pts}) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert sorted({p["syria_divergence"] for p in pts}) == [0.2, 0.5, 0.8, 1.0]
    assert pts[0] == pytest.approx({"repression": 0.2, "syria_divergence": 0.2})
    assert pts[1] == pytest.approx({"repression": 0.2, "syria_divergence": 0.5})
    plan = build_plan(sweeps=[str(SHIPPED / "syria_repression_grid.toml")], runs=100)
    assert len(plan.points) == 20 and plan.points[7].id == "syria_repression_grid-0007"
    assert plan.points[7].scenario.value("repression") == pytest.approx(0.4)
    assert plan.points[7].scenario.value("syria_divergence") == 1.0
    assert plan.points[7].seed == 20130313 and plan.points[7].runs == 100


def test_shipped_lhs_sweep_is_stratified_and_reproducible():
    sw, _ = load_sweep(SHIPPED / "headline_lhs.toml")
    pts = sw.point_values()
    assert len(pts) == 40 and pts == sw.point_values()
    spec = registry()["repression"]
    rep = np.array([p["repression"] for p in pts])
    # one point in each of the 40 equal strata of [0, 1] (the parameter's whole range)
    assert sorted(np.floor((rep - spec.low) / (spec.high - spec.low) * 40).astype(int)) == list(range(40))
    syr = np.array([p["syria_divergence"] for p in pts])
    assert sorted(np.floor((syr - 0.3) / 0.7 * 40).astype(int)) == list(range(40))
    assert syr.min() >= 0.3 and syr.max() <= 1.0
    other = sw.model_copy(update={"lhs_seed": 1}).point_values()
    assert other != pts


def test_positional_sweep_file_is_detected(tmp_path):
    p = write(tmp_path, 'scenario = "crackdown"\n[params.repression]\nvalues = [0.5]\n')
    plan = build_plan([str(p), "baseline"], runs=10)
    assert [pt.id for pt in plan.points] == ["baseline", "s-0000"]
    assert plan.points[1].base == "crackdown"


def test_sweep_seed_and_runs_are_overridden_by_flags(tmp_path):
    p = write(tmp_path, 'scenario = "baseline"\nruns = 77\nseed = 5\n[params.repression]\nvalues = [0.5]\n')
    assert build_plan(sweeps=[str(p)]).points[0].runs == 77
    pt = build_plan(sweeps=[str(p)], runs=11, seed=9).points[0]
    assert (pt.runs, pt.seed) == (11, 9)


@pytest.mark.parametrize("text, expected", [
    ('scenario = "baseline"\n[params.repression\nvalues = [0.5]\n', "malformed TOML"),
    ('scenario = "baseline"\n[params.represion]\nvalues = [0.5]\n',
     "unknown parameter 'represion' in [params]; did you mean 'repression'?"),
    ('scenario = "baseline"\n[params.repression]\nvalues = [0.5, 1.4]\n',
     "params.repression value 1.4 is outside the parameter's range; it must be between 0 and 1"),
    # The range is the registry's (issue 10 narrowed trade_growth to -0.2..0.3), in bound_words' wording.
    ('scenario = "baseline"\n[params.trade_growth]\nlow = -0.5\nhigh = 0.1\nsteps = 3\n',
     f"must be between {registry()['trade_growth'].low:g} and {registry()['trade_growth'].high:g}"),
    ('scenario = "baseline"\n[params.repression]\nvalue = [0.5]\n',
     "unknown key 'value' in [params.repression]; did you mean 'values'?"),
    ('scenario = "baseline"\nmethdo = "lhs"\n[params.repression]\nvalues = [0.5]\n',
     "unknown key 'methdo' in the top level; did you mean 'method'?"),
    ('scenario = "baseline"\nmethod = "lhs"\n[params.repression]\n', "needs 'points = N'"),
    ('scenario = "baseline"\nmethod = "grid"\n[params.repression]\nlow = 0.1\n', "missing high, steps"),
    ('scenario = "baseline"\nmethod = "lhs"\npoints = 4\n[params.repression]\nvalues = [0.1]\n',
     "samples between low and high"),
    ('scenario = "baseline"\nmethod = "random"\n[params.repression]\nvalues = [0.1]\n',
     'use "grid", "lhs", "saltelli" or "morris"'),
    ('scenario = "baseline"\nruns = 0\n[params.repression]\nvalues = [0.1]\n', "runs = 0 is out of range"),
    ('scenario = "baseline"\n', "'params' is missing"),
    ('[params.repression]\nvalues = [0.1]\n', "'scenario' is missing"),
    ('scenario = "nowhere"\n[params.repression]\nvalues = [0.1]\n', "scenario 'nowhere' not found"),
    ('scenario = "baseline"\n[params.repression]\nlow = 0.8\nhigh = 0.2\nsteps = 2\n', "low = 0.8 is above high"),
])
def test_bad_sweeps_give_one_clear_line(tmp_path, capsys, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(DialogueError, match=None) as exc:
        build_plan(sweeps=[str(p)])
    assert expected in str(exc.value) and "\n" not in str(exc.value)
    assert main(["batch", "--sweep", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dialogue: error: ") and expected in err and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_malformed_toml_names_the_line(tmp_path):
    p = write(tmp_path, 'scenario = "baseline"\n\n[params.repression]\nvalues = [0.5,\nlow = 1\n')
    with pytest.raises(DialogueError, match=r"line \d+") as exc:
        load_sweep(p)
    assert str(p) in str(exc.value)


def test_missing_sweep_file(tmp_path):
    with pytest.raises(DialogueError, match="not found"):
        load_sweep(tmp_path / "nope.toml")
