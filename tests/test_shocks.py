"""Dated shocks (issue 10, item 6): the ``[[shocks]]`` schema, its one-line errors
through the real CLI, inheritance, TOML round trips, the batch identity, the
engine's view (:func:`model.shocks.forced`) and the dashboard's form."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from model.errors import DialogueError
from model.scenario import Scenario, Shock, load_scenario, load_scenario_text
from model.shocks import KINDS, UNITS, describe, forced, month_index, shock_months
from model.validation import MAX_SHOCKS

ROOT = Path(__file__).resolve().parent.parent
START = "2013-03"


def doc(*shocks: dict, extends: str | None = "baseline", **sections) -> str:
    """A scenario's TOML with these ``[[shocks]]``."""
    d: dict = {"name": "shocked"}
    if extends:
        d["extends"] = extends
    d |= sections
    if shocks:
        d["shocks"] = list(shocks)
    return tomli_w.dumps(d)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real command line in a fresh process (this checkout first on the path)."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "model.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == "", r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), r.stderr
    return lines[0]


# ---------------------------------------------------------------- bad input, through the CLI

MI = {"kind": "major_incident", "month": "2013-05"}
BAD = {
    "unknown kind": ([{"kind": "major_incidnt", "month": "2013-05"}],
                     ["shocks[0].kind", "not a kind of shock", "did you mean 'major_incident'?"]),
    "malformed month": ([{"kind": "crisis", "month": "2013-5"}], ["shocks[0].month", "YYYY-MM"]),
    "month 13": ([{"kind": "crisis", "month": "2013-13"}], ["shocks[0].month", "YYYY-MM"]),
    "before the start": ([{"kind": "crisis", "month": "2013-02"}],
                         ["shocks[0] (crisis 2013-02)", "before the scenario's start month, 2013-03"]),
    "after the horizon": ([MI, {"kind": "crisis", "month": "2018-03"}],
                          ["shocks[1] (crisis 2018-03)", "after the last simulated month, 2018-02",
                           "horizon of at least 61 months"]),
    "window ends after the horizon": ([{"kind": "crisis", "month": "2017-12", "until": "2018-04"}],
                                      ["shocks[0]", "until = 2018-04 is after the last simulated month"]),
    "until before month": ([{"kind": "crisis", "month": "2013-06", "until": "2013-05"}],
                           ["shocks[0] (crisis 2013-06)", "until = 2013-05 is before month = 2013-06"]),
    "negative size": ([MI | {"size": -1.0}], ["shocks[0].size = -1.0 is out of range", "at least 0"]),
    "sanctions above 1": ([{"kind": "sanctions", "month": "2014-03", "size": 1.5}],
                          ["shocks[0] (sanctions 2014-03)", "size = 1.5 is out of range", "between 0 and 1"]),
    "size on no_formula": ([{"kind": "no_formula", "month": "2013-03", "size": 1.0}],
                           ["shocks[0] (no_formula 2013-03)", "takes no size", "remove the size"]),
    "half a diplomat": ([{"kind": "expulsion_round", "month": "2013-09", "size": 2.5}],
                        ["shocks[0]", "not a whole number of diplomats"]),
    "Goldstein size past the scale": ([MI | {"size": 25.0}], ["shocks[0]", "between 0 and 20"]),
    "overlapping windows": ([{"kind": "crisis", "month": "2013-05", "until": "2013-07"}, MI,
                             {"kind": "crisis", "month": "2013-07", "until": "2013-09"}],
                            ["shocks[2] (crisis 2013-07..2013-09) overlaps shocks[0] (crisis 2013-05..2013-07)",
                             "merge them into one window"]),
    "same kind, same month": ([MI, MI], ["shocks[1] (major_incident 2013-05) overlaps shocks[0]", "merge"]),
    "too many": ([{"kind": "crisis", "month": f"{2013 + i // 12}-{i % 12 + 1:02d}"}
                  for i in range(2, 3 + MAX_SHOCKS)], ["shocks has too many entries", f"at most {MAX_SHOCKS}"]),
    "unknown key": ([MI | {"sise": 3.0}], ["unknown key 'sise' in [shocks[0]]", "did you mean 'size'?"]),
    "size as text": ([MI | {"size": "big"}], ["shocks[0].size must be a number"]),
    "note too long": ([MI | {"note": "x" * 600}], ["shocks[0].note is too long"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_shock_is_one_line_exit_2(case, tmp_path):
    shocks, needles = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(doc(*shocks))
    line = one_line_error(cli("run", str(path), "--runs", "10"))
    assert str(path) in line, line
    for needle in needles:
        assert needle in line, (needle, line)


def test_shocks_written_as_a_table_get_the_header_hint(tmp_path):
    path = tmp_path / "table.toml"
    path.write_text('extends = "baseline"\n[shocks]\nkind = "crisis"\nmonth = "2013-05"\n')
    line = one_line_error(cli("validate", str(path)))
    assert "shocks must be a list of tables" in line and "[[shocks]] header" in line


def test_month_after_a_parents_horizon_is_refused(tmp_path):
    """The horizon may come from the parent: the child is checked in the resolved scenario."""
    (tmp_path / "short.toml").write_text(doc(run={"horizon": 12}))
    child = tmp_path / "child.toml"
    child.write_text(doc({"kind": "crisis", "month": "2014-03"}, extends="short.toml"))
    line = one_line_error(cli("run", str(child), "--runs", "10"))
    assert str(child) in line and "shocks[0] (crisis 2014-03)" in line
    assert "after the last simulated month, 2014-02 (start 2013-03, horizon 12 months)" in line


def test_start_from_the_parent_moves_the_bound(tmp_path):
    (tmp_path / "late.toml").write_text(doc(initial={"start": "2014-01"}))
    child = tmp_path / "child.toml"
    child.write_text(doc({"kind": "crisis", "month": "2013-06"}, extends="late.toml"))
    line = one_line_error(cli("run", str(child), "--runs", "10"))
    assert "before the scenario's start month, 2014-01" in line


def test_run_overrides_are_checked_too(tmp_path):
    """--horizon and --set initial.start apply after loading; a shock they leave outside is refused."""
    path = tmp_path / "s.toml"
    path.write_text(doc({"kind": "crisis", "month": "2013-10"}))
    line = one_line_error(cli("run", str(path), "--runs", "10", "--horizon", "6"))
    assert str(path) in line and "shocks[0] (crisis 2013-10)" in line
    assert "2013-08 (start 2013-03, horizon 6 months)" in line and "at least 8 months" in line
    line = one_line_error(cli("run", str(path), "--runs", "10", "--set", "initial.start=2014-01"))
    assert "before the scenario's start month, 2014-01" in line


def test_inherited_shocks_count_and_overlap_across_files(tmp_path):
    parent = tmp_path / "parent.toml"
    parent.write_text(doc({"kind": "crisis", "month": "2013-05", "until": "2013-08"}))
    child = tmp_path / "child.toml"
    child.write_text(doc({"kind": "crisis", "month": "2013-08"}, extends="parent.toml"))
    line = one_line_error(cli("run", str(child), "--runs", "10"))
    assert str(child) in line
    assert "shocks[0] (crisis 2013-08) overlaps shocks[0] of parent.toml (crisis 2013-05..2013-08)" in line

    many = [{"kind": "crisis", "month": f"{2013 + i // 12}-{i % 12 + 1:02d}"} for i in range(2, 42)]
    parent.write_text(doc(*many[:30]))
    child.write_text(doc(*many[30:], *[{"kind": "sanctions", "month": m["month"]} for m in many[:20]],
                         extends="parent.toml"))
    line = one_line_error(cli("run", str(child), "--runs", "10"))
    assert f"60 shocks with those inherited through extends; a scenario may hold at most {MAX_SHOCKS}" in line


def test_validate_accepts_good_shocks(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(doc({"kind": "major_incident", "month": "2013-04", "until": "2013-06", "size": 3.0},
                        {"kind": "no_formula", "month": "2014-03"}, {"kind": "sanctions", "month": "2018-02",
                                                                    "size": 1.0}))
    r = cli("validate", str(path))
    assert r.returncode == 0, r.stderr
    assert "ok:" in r.stdout


# ---------------------------------------------------------------- the schema

shock_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=True),
                         st.floats(-1, 25), st.text(max_size=8), st.sampled_from(KINDS),
                         st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1985, 2020), st.integers(0, 13)))
shock_docs = st.lists(st.fixed_dictionaries({}, optional={k: shock_values for k in
                                                          ("kind", "month", "until", "size", "note", "x")}),
                      max_size=4)


@settings(max_examples=200, deadline=None, database=None)
@given(shock_docs)
def test_fuzz_shocks_load_or_one_line(shocks):
    """Random, often nearly valid, shocks: a valid scenario whose shocks pass every rule, or one line."""
    clean = [{k: v for k, v in s.items() if v is not None} for s in shocks]
    try:
        sc = load_scenario_text(doc(*clean, run={"horizon": 24}))
    except DialogueError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) < 400 and "shocks" in msg, msg
        return
    last = "2015-02"
    for s in sc.shocks:
        assert s.kind in KINDS and START <= s.month <= (s.until or s.month) <= last
        assert s.size is None or (0 <= s.size <= 20 and s.kind != "no_formula")
    assert load_scenario_text(sc.to_toml()).shocks == sc.shocks



def test_size_units_are_in_the_field_description():
    text = Shock.model_fields["size"].description
    for kind, unit in UNITS.items():
        if unit:
            assert f"{kind}: {unit}" in text
    assert "no_formula takes no size" in text


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_loads_at_the_bounds_of_its_months(kind):
    size = {"no_formula": {}, "sanctions": {"size": 1.0}}.get(kind, {"size": 0.0})
    sc = load_scenario_text(doc({"kind": kind, "month": START} | size,
                                {"kind": kind, "month": "2017-12", "until": "2018-02"} | size))
    assert [s.kind for s in sc.shocks] == [kind, kind]
    assert describe(sc.shocks[1]).count("\n") == 0
    assert "2017-12 to 2018-02" in describe(sc.shocks[1])


def test_describe_says_size_and_window():
    sc = load_scenario_text(doc({"kind": "sanctions", "month": "2014-03", "size": 0.25},
                                {"kind": "expulsion_round", "month": "2013-09"}))
    assert describe(sc.shocks[0]) == "An EU sanctions decision, in 2014-03, 25% of exports hit"
    assert describe(sc.shocks[1]).endswith("in 2013-09, size drawn by the model")


def test_round_trip_through_toml():
    text = doc({"kind": "major_incident", "month": "2013-04", "until": "2013-06", "size": 3.0,
                "note": 'Illustration: "quoted" [not a link](x)\nsecond line'},
               {"kind": "formula", "month": "2014-03", "size": 0.5})
    sc = load_scenario_text(text)
    again = load_scenario_text(sc.to_toml())
    assert again.shocks == sc.shocks and len(sc.shocks) == 2
    assert again.to_toml() == sc.to_toml()


def test_no_shocks_leaves_the_toml_as_before():
    """A scenario without shocks writes no shocks key, so batch hashes and dashboard caches
    of scenarios without shocks are unchanged."""
    sc = load_scenario_text(doc())
    assert sc.shocks == () and "shocks" not in sc.to_toml()


def test_shocks_are_part_of_the_scenario_identity(tmp_path):
    """The batch input hash (what --resume checks) and results attrs come from to_toml:
    a different shock must give a different hash."""
    from model.batch.plan import build_plan

    hashes = []
    for size in (2.0, 3.0):
        path = tmp_path / f"s{size:g}.toml"
        path.write_text(doc({"kind": "major_incident", "month": "2013-05", "size": size}))
        hashes.append(build_plan([str(path)], runs=10).inputs_hash)
    path = tmp_path / "none.toml"
    path.write_text(doc())
    hashes.append(build_plan([str(path)], runs=10).inputs_hash)
    assert len(set(hashes)) == 3


def test_child_shocks_are_appended_to_the_parents(tmp_path):
    (tmp_path / "a.toml").write_text(doc({"kind": "crisis", "month": "2013-05"}))
    (tmp_path / "b.toml").write_text(doc({"kind": "major_incident", "month": "2013-06"},
                                         {"kind": "crisis", "month": "2013-06"}, extends="a.toml"))
    (tmp_path / "c.toml").write_text(doc({"kind": "sanctions", "month": "2014-01", "size": 0.1}, extends="b.toml"))
    sc = load_scenario(tmp_path / "c.toml")
    assert [(s.kind, s.month) for s in sc.shocks] == [
        ("crisis", "2013-05"), ("major_incident", "2013-06"), ("crisis", "2013-06"), ("sanctions", "2014-01")]


def test_overrides_keep_the_shocks():
    sc = load_scenario_text(doc({"kind": "crisis", "month": "2013-05"}))
    out = sc.with_overrides({"repression": 0.8, "run.horizon": 24})
    assert out.shocks == sc.shocks
    with pytest.raises(DialogueError, match="unknown parameter 'shocks'"):
        sc.with_overrides({"shocks": []})


def test_with_shocks_checks_like_the_loader():
    sc = load_scenario_text(doc({"kind": "crisis", "month": "2013-05"}))
    out = sc.with_shocks([{"kind": "crisis", "month": "2013-06"}])
    assert [s.month for s in out.shocks] == ["2013-05", "2013-06"]
    assert "shocks[1]=crisis 2013-06" in out.label
    with pytest.raises(DialogueError, match=r"^added shock: shocks\[1\] \(crisis 2013-05\) overlaps shocks\[0\]"):
        sc.with_shocks([{"kind": "crisis", "month": "2013-05"}])
    with pytest.raises(DialogueError, match=r"^added shock: shocks\[1\]\.kind = 'crisys' .*did you mean 'crisis'"):
        sc.with_shocks([{"kind": "crisys", "month": "2013-05"}])


# ---------------------------------------------------------------- the engine's view


def model_for(sc: Scenario, run_ids, horizon: int = 60):
    from model.engine import Model

    return Model(sc, np.asarray(run_ids), 20130313, horizon)


WINDOW = {"kind": "major_incident", "month": "2013-04", "until": "2013-09", "size": 3.0}


def test_window_months_are_uniform_over_many_runs():
    sc = load_scenario_text(doc(WINDOW))
    n = 30_000
    months = shock_months(model_for(sc, np.arange(n)))[0]
    lo, hi = month_index(START, "2013-04"), month_index(START, "2013-09")
    assert months.min() == lo and months.max() == hi
    counts = np.bincount(months - lo, minlength=hi - lo + 1)
    expected = n / (hi - lo + 1)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 20.5, (counts, chi2)  # 5 degrees of freedom: p = 0.001


def test_a_run_draws_the_same_month_alone_in_a_chunk_and_in_the_batch():
    sc = load_scenario_text(doc(WINDOW, {"kind": "crisis", "month": "2013-05", "until": "2014-05"}))
    ids = np.arange(500)
    whole = shock_months(model_for(sc, ids))
    chunk = shock_months(model_for(sc, ids[300:]))
    assert np.array_equal(whole[:, 300:], chunk)
    for rid in (0, 7, 499):
        alone = shock_months(model_for(sc, [rid]))
        assert np.array_equal(alone[:, 0], whole[:, rid])
    # The two windows draw from different streams: not the same offsets run by run.
    assert not np.array_equal(whole[0] - whole[0].min(), whole[1, :] - whole[1].min())


def test_window_hits_each_run_exactly_once_with_its_size():
    sc = load_scenario_text(doc(WINDOW))
    m = model_for(sc, np.arange(2000))
    hits = np.zeros(m.n, dtype=int)
    for t in range(m.horizon):
        m.month = t
        mask, size = forced(m, "major_incident")
        hits += mask
        assert np.all(size[mask] == 3.0) and np.all(np.isnan(size[~mask]))
        assert mask.sum() == np.sum(shock_months(m)[0] == t)
        assert not forced(m, "crisis")[0].any()
    assert np.all(hits == 1)


def test_fixed_month_hits_every_run_and_only_then():
    sc = load_scenario_text(doc({"kind": "sanctions", "month": "2014-03"},
                                {"kind": "expulsion_round", "month": "2014-03", "size": 4.0}))
    m = model_for(sc, np.arange(300))
    at = month_index(START, "2014-03")
    for t in (0, at - 1, at, at + 1):
        m.month = t
        mask, size = forced(m, "sanctions")
        assert mask.all() == (t == at) and mask.any() == (t == at)
        assert np.isnan(size).all()  # no size given: the model draws it
        emask, esize = forced(m, "expulsion_round")
        assert np.array_equal(emask, mask) and (np.all(esize == 4.0) if t == at else np.isnan(esize).all())


def test_no_shocks_no_mask():
    m = model_for(load_scenario_text(doc()), np.arange(50))
    first = forced(m, "crisis")
    for t in range(m.horizon):
        m.month = t
        for kind in KINDS:
            mask, size = forced(m, kind)
            assert mask.shape == size.shape == (50,)
            assert not mask.any() and np.isnan(size).all()
            assert mask is first[0]  # one cached pair: nothing allocated per call
    assert not first[0].flags.writeable


def test_unknown_kind_is_a_programming_error():
    m = model_for(load_scenario_text(doc()), np.arange(3))
    with pytest.raises(ValueError, match="unknown shock kind 'incident'"):
        forced(m, "incident")


def test_engines_agree_and_each_run_meets_its_incident_in_its_drawn_month():
    """Through the real engines: ensemble and reference are bit-identical with a windowed
    shock, and the forced incident is recorded in the month each run drew."""
    from model.engine import run_ensemble, run_reference

    sc = load_scenario_text(doc(WINDOW))
    ids = np.arange(100, 140)
    ens, _ = run_ensemble(sc, ids, 20130313, 12)
    ref, _ = run_reference(sc, ids, 20130313, 12)
    assert all(np.array_equal(ens[k], ref[k]) for k in ens)
    drawn = shock_months(model_for(sc, ids, horizon=12))[0]
    assert np.all(ens["major_incidents"][drawn, np.arange(ids.size)] >= 1)


# ---------------------------------------------------------------- the dashboard


def test_dashboard_add_and_apply_without_streamlit():
    from dashboard import shocks as ui

    ss: dict = {}
    sc = load_scenario_text(doc())
    assert ui.apply(sc, ss) is sc
    assert ui.add(ss, sc, ui.entry("crisis", "2013-05", ui.NO_END, None)) is None
    bad = ui.add(ss, sc, ui.entry("sanctions", "2013-06", "2013-08", 2.0))
    assert bad and "\n" not in bad and "between 0 and 1" in bad
    assert ss["shocks"] == [{"kind": "crisis", "month": "2013-05"}]
    out = ui.apply(sc, ss)
    assert out.name == "shocked_modified" and out.shocks[-1].kind == "crisis"
    assert load_scenario_text(out.to_toml()).shocks == out.shocks


@pytest.fixture
def app():
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.query_params["runs"] = "100"
    at.session_state["view"] = "Share & export"
    at.run()
    assert not at.exception, at.exception
    return at


def _add(at, kind: str, month: str, until: str | None = None, size: float | None = None):
    at.selectbox(key="shock_kind").set_value(kind)
    at.selectbox(key="shock_month").set_value(month)
    at.selectbox(key="shock_until").set_value(until or "(one month)")
    at.number_input(key="shock_size").set_value(size)
    next(b for b in at.button if b.label == "Add shock").click().run()
    assert not at.exception, at.exception


def shock_errors(at) -> list[str]:
    """Error lines about shocks, as a reader sees them (dashboard.safe's escapes removed)."""
    shown = [e.value.replace("\\", "").replace("\u2060", "") for e in at.error]
    return [e for e in shown if "shock" in e]


def test_dashboard_adds_a_shock_to_the_simulated_scenario(app):
    _add(app, "major_incident", "2013-05", "2013-07", 3.0)
    assert not shock_errors(app)
    current = load_scenario_text(app.session_state["last_good"][1], "current")
    assert current.shocks[-1] == Shock(kind="major_incident", month="2013-05", until="2013-07", size=3.0)
    assert current.name.endswith("_modified")
    preset = load_scenario_text(app.session_state["last_good"][2], "preset")
    assert preset.shocks == current.shocks[:-1]  # the comparison runs without it
    # Remove it again: the scenario is the preset's once more.
    next(b for b in app.button if b.key == "shock_rm_0").click().run()
    current = load_scenario_text(app.session_state["last_good"][1], "current")
    assert current.shocks == preset.shocks


def test_dashboard_bad_shock_is_one_error_line(app):
    _add(app, "sanctions", "2013-06", None, 2.0)
    errs = shock_errors(app)
    assert len(errs) == 1 and "\n" not in errs[0] and "between 0 and 1" in errs[0], errs
    assert "Traceback" not in " ".join(e.value for e in app.error)
    assert not app.session_state["shocks"]
    _add(app, "crisis", "2013-08", "2013-06")
    errs = shock_errors(app)
    assert len(errs) == 1 and "before month = 2013-08" in errs[0], errs
