"""Observations files (model/observations.py) and the `dialogue update` command's bad-input
contract: one line, exit 2, no traceback, nothing written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.cli import main
from model.errors import DialogueError
from model.observations import (
    EVENTS,
    LEVELS,
    Observation,
    check_schedule,
    describe,
    indicator,
    load_observations,
    parse_observations,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "observations" / "example-2013.toml"
SRC = 'source = "invented for illustration"\n'


def _doc(*entries: str) -> str:
    return "".join(f"[[observation]]\n{e}{SRC}\n" for e in entries)


def test_example_file_parses_and_describes():
    obs = load_observations(EXAMPLE)
    assert [describe(o) for o in obs.entries] == [
        "formula in 2013-03", "no expulsion round by 2013-06", "exports_gbp_m in 2013-06 = 520 +/- 40",
        "protest in 2013-09 = 0.12 +/- 0.03", "dialogue not suspended by 2013-12"]
    assert [o.id for o in obs.entries][:2] == ["first-2plus2", "no-expulsions-spring"]
    check_schedule(obs, "2013-03", 60)  # inside the baseline's months


def test_describe_matches_the_issue_wording():
    ob = Observation(event="dialogue_suspended", month="2013-05", source="x")
    assert describe(ob) == "dialogue suspended in 2013-05"
    assert describe(Observation(event="crisis", month="2013-05", until="2013-07", source="x")) == \
        "crisis in 2013-05..2013-07"


def test_ids_default_to_position():
    obs = parse_observations(_doc('event = "crisis"\nmonth = "2013-05"\n', 'event = "crisis"\nmonth = "2013-07"\n'))
    assert [o.id for o in obs.entries] == ["observation-1", "observation-2"]


def test_indicator_reads_windows_and_negation():
    # months x runs: run 0 has a crisis in month 2, run 1 never.
    crisis = np.zeros((5, 2), dtype=bool)
    crisis[2, 0] = True
    get = {"crisis": crisis}.__getitem__
    yes = Observation(event="crisis", month="2013-04", until="2013-06", source="x")
    no = Observation(event="crisis", until="2013-05", happened=False, source="x")
    assert indicator(yes, get, 1, 3).tolist() == [True, False]
    assert indicator(yes, get, 3, 4).tolist() == [False, False]
    assert indicator(no, get, 0, 2).tolist() == [False, True]


def test_dialogue_resumed_needs_a_suspension_before():
    # run 0: suspended in month 1, active again in month 2; run 1: active throughout;
    # run 2: suspended from the start state (month 0 inactive), active in month 1.
    active = np.array([[True, True, False], [False, True, True], [True, True, True]])
    get = {"dialogue_active": active}.__getitem__
    ob = Observation(event="dialogue_resumed", month="2013-03", until="2013-05", source="x")
    assert indicator(ob, get, 0, 2, initial_active=True).tolist() == [True, False, True]


def test_every_event_kind_has_words_and_variables():
    from model.engine import RECORDED

    for name, (words, neg, variables, _f) in EVENTS.items():
        assert words and neg, name
        assert all(v in RECORDED for v in variables), name
    assert all(v in RECORDED for v in LEVELS)


BAD_FILES = {
    "unknown event, nearest name": (_doc('event = "dialogue_suspend"\nmonth = "2013-05"\n'),
                                    "observation 1: unknown event 'dialogue_suspend'; did you mean "
                                    "'dialogue_suspended'?"),
    "unknown variable, nearest name": (_doc('variable = "export_gbp_m"\nmonth = "2013-05"\nvalue = 500.0\n'
                                            'sd = 40.0\n'),
                                       "unknown variable 'export_gbp_m'; did you mean 'exports_gbp_m'?"),
    "event given as a variable": (_doc('variable = "crisis"\nmonth = "2013-05"\nvalue = 1.0\nsd = 1.0\n'),
                                  "'crisis' is an event: give event = \"crisis\""),
    "unknown key": (_doc('event = "crisis"\nmonht = "2013-05"\n'), "unknown key 'monht'; did you mean 'month'?"),
    "sd as a percentage": (_doc('variable = "exports_gbp_m"\nmonth = "2013-05"\nvalue = 500.0\nsd = "10%"\n'),
                           "sd = '10%' is not a valid error (write the number itself, not a percentage); give one "
                           "standard deviation as a positive number"),
    "negative sd": (_doc('variable = "protest"\nmonth = "2013-05"\nvalue = 0.1\nsd = -0.02\n'),
                    "sd = -0.02 is not a valid error"),
    "zero sd": (_doc('variable = "protest"\nmonth = "2013-05"\nvalue = 0.1\nsd = 0\n'), "sd = 0 is not a valid error"),
    "missing sd": (_doc('variable = "protest"\nmonth = "2013-05"\nvalue = 0.1\n'), "'sd' is missing"),
    "value off the scale": (_doc('variable = "protest"\nmonth = "2013-05"\nvalue = 12.0\nsd = 0.1\n'),
                            "value = 12 is outside the protest scale; it must be between 0 and 1"),
    "value a hair off the scale": (_doc('variable = "protest"\nmonth = "2013-05"\nvalue = 1.0000001\nsd = 0.1\n'),
                                   "value = 1.0000001 is outside the protest scale; it must be between 0 and 1"),
    "no date": (_doc('event = "crisis"\n'), "no date; give month"),
    "bad month": (_doc('event = "crisis"\nmonth = "May 2013"\n'), "month must be a month written YYYY-MM"),
    "window backwards": (_doc('event = "crisis"\nmonth = "2013-07"\nuntil = "2013-05"\n'),
                         "until = 2013-05 is before month = 2013-07"),
    "no source": ('[[observation]]\nevent = "crisis"\nmonth = "2013-05"\n', "'source' is missing"),
    "both event and variable": (_doc('event = "crisis"\nvariable = "protest"\nmonth = "2013-05"\n'),
                                "has both event and variable"),
    "contradiction": (_doc('event = "expulsion_round"\nmonth = "2013-06"\n',
                           'event = "expulsion_round"\nuntil = "2013-09"\nhappened = false\n'),
                      "obs.toml: observation 2 ('no expulsion round by 2013-09') contradicts observation 1 "
                      "('expulsion round in 2013-06'): 'expulsion round in 2013-06' falls inside the window of "
                      "'no expulsion round by 2013-09'; correct one of them"),
    "formula and no formula in one month": (_doc('event = "formula"\nmonth = "2013-03"\n',
                                                 'event = "no_formula"\nmonth = "2013-03"\n'),
                                            "a month has at most one 2+2 meeting"),
    "two measurements far apart": (_doc('variable = "exports_gbp_m"\nmonth = "2013-05"\nvalue = 400.0\nsd = 10.0\n',
                                        'variable = "exports_gbp_m"\nmonth = "2013-05"\nvalue = 600.0\nsd = 10.0\n'),
                                   "two measurements of one month 14 combined errors apart"),
    "no observations": ('[observations]\ntitle = "x"\n', "no observations; add [[observation]] tables"),
    "unknown section": ('[[observatoin]]\nevent = "crisis"\n', "unknown section 'observatoin'; did you mean "
                        "'observation'?"),
    "not toml": ("event = = 1", "not valid TOML"),
}


@pytest.mark.parametrize("text,fragment", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_are_one_line_errors(text, fragment):
    with pytest.raises(DialogueError) as exc:
        parse_observations(text, "obs.toml")
    msg = str(exc.value)
    assert fragment in msg
    assert "\n" not in msg and msg.startswith("obs.toml")


def test_contradiction_needs_the_window_inside():
    # Happened in June, did not happen in July-September: consistent.
    parse_observations(_doc('event = "expulsion_round"\nmonth = "2013-06"\n',
                            'event = "expulsion_round"\nmonth = "2013-07"\nuntil = "2013-09"\nhappened = false\n'))


SCHEDULE = {
    "before the start": ('event = "crisis"\nmonth = "2013-01"\n',
                         "2013-01 is before the scenario's start month, 2013-03"),
    "after the horizon": ('event = "crisis"\nmonth = "2013-03"\nuntil = "2019-01"\n',
                          "2019-01 is after the last simulated month, 2018-02 (start 2013-03, horizon 60 months); "
                          "use a month up to 2018-02, or a horizon of at least 71 months"),
}


@pytest.mark.parametrize("entry,fragment", SCHEDULE.values(), ids=SCHEDULE.keys())
def test_dates_outside_the_forecast(entry, fragment):
    obs = parse_observations(_doc(entry), "obs.toml")
    with pytest.raises(DialogueError, match="observation 1") as exc:
        check_schedule(obs, "2013-03", 60)
    assert fragment in str(exc.value)


# ---------------------------------------------------------------- through the CLI

CLI_CASES = {
    "unknown event": (_doc('event = "major_incidnet"\nmonth = "2013-05"\n'),
                      "did you mean 'major_incident'?"),
    "before the start": (_doc('event = "crisis"\nmonth = "2012-12"\n'), "before the scenario's start month"),
    "after the horizon": (_doc('event = "crisis"\nmonth = "2020-01"\n'), "after the last simulated month"),
    "contradictory": (_doc('event = "crisis"\nmonth = "2013-05"\n',
                           'event = "crisis"\nmonth = "2013-04"\nuntil = "2013-06"\nhappened = false\n'),
                      "contradicts"),
    "malformed error": (_doc('variable = "exports_gbp_m"\nmonth = "2013-05"\nvalue = 500.0\nsd = "forty"\n'),
                        "sd = 'forty' is not a valid error"),
    # EU sanctions never come within two months of the start in this model: 0 runs match.
    "impossible": (_doc('event = "sanctions"\nmonth = "2013-05"\n'),
                   "no simulated future matches 'sanctions in 2013-05' (0 of 300); loosen the window, add runs, "
                   "or check the assumptions."),
}


@pytest.mark.parametrize("text,fragment", CLI_CASES.values(), ids=CLI_CASES.keys())
def test_update_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, text, fragment):
    f = tmp_path / "obs.toml"
    f.write_text(text)
    out = tmp_path / "post.nc"
    code = main(["update", "baseline", "--observed", str(f), "--runs", "300", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    assert fragment in lines[0]
    assert "Traceback" not in err + stdout
    assert list(tmp_path.iterdir()) == [f]  # no results file, no partial file


def test_impossible_observation_exact_line_from_console_script(tmp_path):
    exe = shutil.which("dialogue")
    cmd = [exe] if exe else [sys.executable, "-m", "model.cli"]
    f = tmp_path / "obs.toml"
    f.write_text(_doc('event = "sanctions"\nmonth = "2013-05"\n'))
    r = subprocess.run([*cmd, "update", "baseline", "--observed", str(f), "--runs", "300",
                        "--out", str(tmp_path / "p.nc")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr == ("dialogue: error: no simulated future matches 'sanctions in 2013-05' (0 of 300); loosen "
                        "the window, add runs, or check the assumptions.\n")
    assert list(tmp_path.iterdir()) == [f]


def test_update_refuses_missing_file_and_wrong_suffix(tmp_path, capsys):
    assert main(["update", "baseline", "--observed", str(tmp_path / "none.toml")]) == 2
    assert "observations file not found" in capsys.readouterr().err
    bad = tmp_path / "obs.txt"
    bad.write_text("x")
    assert main(["update", "baseline", "--observed", str(bad)]) == 2
    assert "end in .toml" in capsys.readouterr().err


def test_update_prints_ess_and_moves_and_writes_posterior(tmp_path, capsys):
    from model.results import load

    out = tmp_path / "post.nc"
    code = main(["update", "baseline", "--observed", str(EXAMPLE), "--runs", "400", "--seed", "3", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "Updated on 5 observations through 2013-12 (400 runs)" in stdout
    assert "ESS" in stdout and "prior -> given the observations through each month -> posterior" in stdout
    assert "formula in 2013-03" in stdout and "100.0%" in stdout
    ds = load(out)
    assert ds["weight"].sum() == pytest.approx(1.0)
    assert ds["ancestor"].dtype == np.int64 and ds.sizes["run"] == 400
    assert "exports-june" in ds.attrs["observations_toml"]
    for ob in load_observations(EXAMPLE).entries:  # what was observed holds in every run written
        if ob.is_event:
            from model.observations import holds

            assert holds(ob, ds).all()


def test_update_json(capsys):
    import json

    assert main(["update", "baseline", "--observed", str(EXAMPLE), "--runs", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [o["id"] for o in doc["observations"]][0] == "first-2plus2"
    assert {"quantity", "prior", "posterior", "change"} <= set(doc["probabilities"][0])
    assert all(0 < o["ess"] <= 300 for o in doc["observations"])


def test_update_min_ess_draws_more_runs(tmp_path, capsys):
    f = tmp_path / "obs.toml"
    f.write_text(_doc('variable = "exports_gbp_m"\nmonth = "2013-06"\nvalue = 560.0\nsd = 15.0\n'))
    assert main(["update", "baseline", "--observed", str(f), "--runs", "200", "--horizon", "12", "--no-steps"]) == 0
    low = capsys.readouterr().out
    assert "warning: ESS" in low and "use --min-ess N" in low
    assert main(["update", "baseline", "--observed", str(f), "--runs", "200", "--horizon", "12", "--no-steps",
                 "--min-ess", "60"]) == 0
    out = capsys.readouterr().out
    assert "200 asked for, more drawn to reach --min-ess" in out
    ess = float(out.split("= 560 +/- 15")[1].split()[1].replace(",", ""))
    assert ess >= 60


def test_update_min_ess_out_of_reach_fails_honestly(tmp_path, capsys):
    f = tmp_path / "obs.toml"
    f.write_text(_doc('variable = "exports_gbp_m"\nmonth = "2013-06"\nvalue = 560.0\nsd = 15.0\n'))
    out = tmp_path / "post.nc"
    code = main(["update", "baseline", "--observed", str(f), "--runs", "20", "--horizon", "6", "--min-ess", "5000",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "is below --min-ess 5,000 even with 320 runs" in err
    assert list(tmp_path.iterdir()) == [f]
