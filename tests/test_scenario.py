"""Scenario files: shipped scenarios, inheritance, overrides and every bad-input case."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest

from model import DialogueError, load_scenario
from model.params import HEADLINE, registry
from model.scenario import load_scenario_text, shipped


def _write(tmp_path, name, text):
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def test_baseline_values_come_from_file_and_registry(baseline):
    assert baseline.name == "baseline"
    assert set(baseline.params) == set(registry())
    assert baseline.value("repression") == 0.6
    for name, spec in registry().items():
        assert spec.low <= baseline.value(name) <= spec.high


def test_at_least_four_alternatives_each_extending_baseline():
    names = [n for n in shipped() if n != "baseline"]
    assert len(names) >= 4
    base = load_scenario("baseline")
    for n in names:
        raw = tomllib.loads(shipped()[n].read_text())
        assert raw.get("extends") == "baseline", n
        sc = load_scenario(n)
        assert len(sc.description) > 40, n
        changed = [k for k in sc.params if sc.params[k] != base.params[k]] + (
            ["initial"] if sc.initial != base.initial else []) + (["shocks"] if sc.shocks != base.shocks else [])
        assert changed, f"{n} changes nothing"
        # Inheritance, not copying: the child file sets few keys.
        assert len(raw.get("params", {})) <= 6


def test_child_overrides_parent_and_keeps_the_rest(tmp_path):
    _write(tmp_path, "parent", '[params]\nrepression = 0.7\nsyria_divergence = 0.5\n')
    child = _write(tmp_path, "child", 'extends = "parent"\n[params]\nrepression = 0.9\n')
    sc = load_scenario(child)
    assert sc.value("repression") == 0.9
    assert sc.value("syria_divergence") == 0.5
    assert sc.params["repression"].dist == registry()["repression"].dist


def test_table_entry_changes_distribution(tmp_path):
    p = _write(tmp_path, "t", '[params]\nrepression = { value = 0.7, dist = "normal", spread = 0.05 }\n')
    st = load_scenario(p).params["repression"]
    assert (st.value, st.dist, st.spread) == (0.7, "normal", 0.05)


def test_resolved_toml_round_trips(tmp_path, baseline):
    sc = baseline.with_overrides({"repression": 0.75, "initial.relations": -1.0})
    p = tmp_path / "resolved.toml"
    p.write_text(sc.to_toml())
    back = load_scenario(p)
    assert back.params == sc.params and back.initial == sc.initial and back.calendar == sc.calendar


@pytest.mark.parametrize("text, expected", [
    ('[params]\nrepresion = 0.5\n', "unknown parameter 'represion' in [params]; did you mean 'repression'?"),
    ('[params]\nrepression = 1.5\n', "params.repression = 1.5 is out of range; it must be between 0 and 1"),
    ('[params]\nrepression = "high"\n', "params.repression must be"),
    ('[initial]\nrelations = 12.0\n', "initial.relations = 12.0 is out of range; it must be between -10"),
    ('[initial]\nrelatons = 1.0\n', "unknown key 'relatons' in [initial]; did you mean 'relations'?"),
    ('[initial]\nstart = "March 2013"\n', "is not a month; write it as YYYY-MM"),
    ('[intial]\nrelations = 1.0\n', "unknown key 'intial' in [the top level]; did you mean 'initial'?"),
    ('[run]\nruns = "many"\n', "run.runs must be a whole number"),
    ('[params]\nrepression = { value = 0.5, dist = "gaussian" }\n', "is not a distribution; use one of"),
    ('[params]\nrepression = { value = 0.5, spread = 5.0 }\n', "spread = 5 is wider than the whole range"),
    ('[params\nrepression = 0.5\n', "malformed TOML"),
])
def test_bad_scenario_gives_one_clear_line(tmp_path, text, expected):
    p = _write(tmp_path, "bad", text)
    with pytest.raises(DialogueError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert expected in msg
    assert "\n" not in msg and str(p) in msg


def test_malformed_toml_names_the_line(tmp_path):
    p = _write(tmp_path, "bad", 'name = "x"\n\n[params]\nrepression = = 0.5\n')
    with pytest.raises(DialogueError, match="line 4"):
        load_scenario(p)


def test_missing_file_and_unknown_name():
    with pytest.raises(DialogueError, match="not found.*shipped: baseline"):
        load_scenario("no_such_scenario")
    with pytest.raises(DialogueError, match="did you mean 'baseline'"):
        load_scenario("baselin")


def test_extends_cycle_is_reported(tmp_path):
    _write(tmp_path, "a", 'extends = "b"\n')
    _write(tmp_path, "b", 'extends = "a"\n')
    with pytest.raises(DialogueError, match="extends cycle: a -> b -> a"):
        load_scenario(tmp_path / "a.toml")


def test_extends_missing_parent(tmp_path):
    p = _write(tmp_path, "orphan", 'extends = "nobody"\n')
    with pytest.raises(DialogueError, match="scenario 'nobody' not found"):
        load_scenario(p)


@pytest.mark.parametrize("overrides, expected", [
    ({"represion": 0.5}, "did you mean 'repression'"),
    ({"repression": 2}, "between 0 and 1"),
    ({"repression.spred": 0.1}, "use repression, repression.dist or repression.spread"),
    ({"initial.relatons": 0.0}, "did you mean 'initial.relations'"),
    ({"run.runs": 0}, "run.runs = 0 is out of range"),
    ({"repression": "high"}, "must be a number"),
])
def test_bad_overrides(baseline, overrides, expected):
    with pytest.raises(DialogueError, match=expected.replace("(", r"\(").replace(".", r"\.")):
        baseline.with_overrides(overrides)


def test_headline_drivers_are_the_four_named():
    assert HEADLINE == ("protest_growth", "repression", "syria_divergence", "trade_growth")
    specs = registry()
    assert all(specs[n].headline for n in HEADLINE)
    assert list(specs)[:4] == list(HEADLINE)


def test_uploaded_text_is_validated_and_named():
    sc = load_scenario_text('extends = "baseline"\n[params]\nrepression = 0.8\n', "my.toml")
    assert sc.value("repression") == 0.8
    with pytest.raises(DialogueError, match=r"^my\.toml: unknown parameter"):
        load_scenario_text('[params]\nrepresion = 0.8\n', "my.toml")
    with pytest.raises(DialogueError, match="my.toml: malformed TOML"):
        load_scenario_text('[params\n', "my.toml")


def test_start_month_moves_the_calendar(baseline):
    from model.engine import CalendarPlan

    later = baseline.with_overrides({"initial.start": "2014-01"})
    plan = CalendarPlan.from_scenario(later)
    assert plan.first_meeting == 2  # the 2+2 cycle continues in March
    names = {n: at for n, _, at in plan.campaigns}
    assert names["Moscow City Duma"] == 8


# ---------------------------------------------------------------- uploads (issue 12, sections 3 and 4)


def test_upload_may_extend_only_shipped_scenarios(tmp_path):
    sc = load_scenario_text('extends = "crackdown"\n[params]\ntrade_growth = 0.2\n', "up.toml")
    assert sc.value("trade_growth") == 0.2
    assert sc.value("repression") == load_scenario("crackdown").value("repression")
    real = tmp_path / "real.toml"
    real.write_text('[params]\nrepression = 0.9\n')
    messages = []
    for ref in (str(real), str(tmp_path / "missing.toml"), "/etc/passwd", "/etc/nothing_here",
                "../scenarios/baseline.toml", "scenarios/baseline", "real", "no_such_name"):
        with pytest.raises(DialogueError) as exc:
            load_scenario_text(f'extends = "{ref}"\n', "up.toml")
        messages.append(re.sub(r"extends = '.*' is not", "extends = REF is not", str(exc.value)))
    # One message, whatever the reference: an uploader learns nothing about the server's files.
    assert len(set(messages)) == 1, messages
    assert messages[0] == ("up.toml: extends = REF is not allowed; an uploaded scenario may extend only a shipped "
                           f"scenario by name ({', '.join(shipped())})")


def test_files_on_disk_may_still_extend_paths(tmp_path):
    (tmp_path / "parent.toml").write_text('[params]\nrepression = 0.9\n')
    child = _write(tmp_path, "child", f'extends = "{tmp_path / "parent.toml"}"\n')
    assert load_scenario(child).value("repression") == 0.9


@pytest.mark.parametrize("text, expected", [
    ("x = " + "[" * 1000 + "]" * 1000, "nested too deeply"),
    ("x = " + "{a = " * 1000 + "1" + "}" * 1000, "nested too deeply"),
    ('[initial]\nstart = "9999-12"\n', "initial.start = '9999-12' is outside the supported range"),
    ('[initial]\nstart = "0000-01"\n', "use a month from 1990-01 to 2100-12"),
    ('extends = "' + "b" * 5000 + '"\n', "extends is too long (5,000 characters)"),
    ('name = "' + "n" * 5000 + '"\n', "name is too long (5,000 characters)"),
    ("# pad\n" * 200_000, "the limit is 1,000,000"),
    ('[initial]\nrelations = nan\n', "must be a finite number"),
    ('[params]\nrepression = inf\n', "params.repression must be a finite number"),
])
def test_upload_bad_input_is_one_line(text, expected):
    with pytest.raises(DialogueError) as exc:
        load_scenario_text(text, "up.toml")
    msg = str(exc.value)
    assert expected in msg and msg.startswith("up.toml: ") and "\n" not in msg and len(msg) < 400


def test_upload_byte_order_mark_and_name():
    sc = load_scenario_text("\ufeff[params]\nrepression = 0.7\n", "my upload.toml")
    assert sc.value("repression") == 0.7 and sc.name == "my upload"


# ---------------------------------------------------------------- samplers and labels (issue 12, section 5)


def test_a_few_ulps_past_a_bound_is_the_bound(baseline):
    spec = registry()["trade_growth"]
    over = np.nextafter(np.nextafter(spec.high, 1), 1)  # 0.4000000000000001
    assert over > spec.high
    assert baseline.with_overrides({"trade_growth": float(over)}).value("trade_growth") == spec.high
    under = float(np.nextafter(spec.low, -1))
    assert baseline.with_overrides({"trade_growth": under}).value("trade_growth") == spec.low
    with pytest.raises(DialogueError, match="out of range"):
        baseline.with_overrides({"trade_growth": spec.high + 1e-6})


def test_salib_morris_sample_is_accepted(baseline):
    """A real SALib Morris design over the headline drivers, every row a valid scenario."""
    morris = pytest.importorskip("SALib.sample.morris")
    specs = registry()
    problem = {"num_vars": len(HEADLINE), "names": list(HEADLINE),
               "bounds": [[specs[n].low, specs[n].high] for n in HEADLINE]}
    design = morris.sample(problem, N=40, num_levels=4, seed=3)
    outside = (design > np.array(problem["bounds"])[:, 1]) | (design < np.array(problem["bounds"])[:, 0])
    assert outside.any(), "the design should overshoot a bound by rounding, as the issue found"
    for row in design:
        sc = baseline.with_overrides(dict(zip(HEADLINE, map(float, row), strict=True)))
        for n, v in zip(HEADLINE, row, strict=True):
            assert specs[n].low <= sc.value(n) <= specs[n].high
            assert sc.value(n) == pytest.approx(v, abs=1e-12)


def test_overrides_are_named_in_the_label(baseline):
    assert baseline.label == "baseline"
    sc = baseline.with_overrides({"repression": 0.8})
    assert sc.label == "baseline + repression=0.8" and sc.name == "baseline"
    sc = sc.with_overrides({"initial.start": "2014-01", "repression.dist": "normal", "run.runs": 5})
    assert sc.label == "baseline + repression=0.8, initial.start=2014-01, repression.dist=normal"
    assert sc.with_overrides({"repression": 0.7}).label.startswith("baseline + initial.start=2014-01")
    assert "repression=0.7" in sc.with_overrides({"repression": 0.7}).label
    assert load_scenario("baseline", overrides={"run.seed": 3}).label == "baseline"


def test_resolved_toml_of_a_long_file_name_reloads(tmp_path):
    """Results keep the resolved TOML and the brief reloads it as text: every name a
    file can have must pass the text loader's limits."""
    p = _write(tmp_path, "s" * 250, "[params]\nrepression = 0.7\n")
    sc = load_scenario(p)
    back = load_scenario_text(sc.to_toml(), "results.toml")
    assert back.name == "s" * 250 and back.params == sc.params
