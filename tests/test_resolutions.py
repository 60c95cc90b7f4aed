"""Resolutions files (issue 9): the format, and one-line errors naming the fact, from
the parser and from `dialogue score` (exit 2, nothing written)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from model.errors import DialogueError
from model.resolutions import (
    EventFact,
    NumberFact,
    StateFact,
    check_against,
    load_resolutions,
    number_sample,
    parse_resolutions,
)
from model.results import save

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "resolutions-invented.toml"
EXE = [shutil.which("dialogue")] if shutil.which("dialogue") else [sys.executable, "-m", "model.cli"]

GOOD = """[[fact]]
id = "x"
kind = "number"
variable = "exports_annual"
year = 2014
value = 3900.0
source = "INVENTED for the test"
"""


def test_example_file_parses_and_is_labelled_invented():
    res = load_resolutions(EXAMPLE)
    assert len(res.facts) == 10 and res.forecast_start == "2013-03"
    kinds = [type(f) for f in res.facts]
    assert NumberFact in kinds and EventFact in kinds and StateFact in kinds
    assert all(f.source.startswith("INVENTED") for f in res.facts)
    assert "INVENTED" in EXAMPLE.read_text().splitlines()[0]


def test_ids_default_to_position_and_ints_are_numbers():
    res = parse_resolutions(GOOD.replace('id = "x"\n', "").replace("3900.0", "3900"))
    assert res.facts[0].id == "fact-1" and res.facts[0].value == 3900.0


@pytest.mark.parametrize("old, new, fragment", [
    ('variable = "exports_annual"', 'variable = "export_annual"',
     "fact 1 ('x'): unknown number variable 'export_annual'; did you mean 'exports_annual'?"),
    ('variable = "exports_annual"', 'variable = "outcome"', "'outcome' is a state variable"),
    ("value = 3900.0", 'value = "3,900"', "fact 1 ('x'): value must be a number, got '3,900' (str)"),
    ("value = 3900.0", "value = nan", "value must be a finite number"),
    ("value = 3900.0", "value = -5.0", "value must be 0 or more for exports_annual"),
    ("year = 2014", 'year = "2014"', "year must be a whole number"),
    ("year = 2014", 'date = "2014-06"', "exports_annual is a yearly total; give year = YYYY"),
    ('source = "INVENTED for the test"\n', "", "'source' is missing"),
    ('source = "INVENTED for the test"', 'source = ""', "source must not be empty"),
    ('kind = "number"', 'kind = "numbr"', "kind is 'numbr'; did you mean 'number'?"),
    ("year = 2014", "year = 2014\ncolour = 1", "unknown key 'colour'"),
    ('source = "INVENTED for the test"\n', 'source = "INVENTED for the test"\n' + GOOD,
     "fact 2 ('x'): id repeats fact 1"),
])
def test_bad_facts_are_one_line_naming_the_fact(old, new, fragment):
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(DialogueError) as exc:
        parse_resolutions(text, "r.toml")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("r.toml: ")
    assert fragment in msg, msg


EVENT = """[[fact]]
id = "e"
kind = "event"
event = "dialogue_suspended"
start = "2013-03"
end = "2014-12"
happened = true
source = "INVENTED"
"""
STATE = """[[fact]]
id = "s"
kind = "state"
variable = "relations_band"
date = "2015-06"
value = "cool"
source = "INVENTED"
"""


@pytest.mark.parametrize("text, fragment", [
    (EVENT.replace("dialogue_suspended", "dialog_suspended"),
     "fact 1 ('e'): unknown event 'dialog_suspended'; did you mean 'dialogue_suspended'?"),
    (EVENT.replace('end = "2014-12"', 'end = "2012-12"'), "end 2012-12 is before start 2013-03"),
    (EVENT.replace('start = "2013-03"', 'start = "2013-3"'), "start must be a month written YYYY-MM"),
    (EVENT.replace("happened = true", 'happened = "yes"'), "happened must be true or false"),
    (STATE.replace('"cool"', '"coool"'), "value 'coool' is not a relations_band state; did you mean 'cool'?"),
    (STATE.replace('"cool"', "true"), "is not a relations_band state"),
    (STATE.replace('"relations_band"', '"ladder"').replace('"cool"', "7"), "use one of 0, 1, 2, 3"),
    ("[[fact]\nkind=1", "not valid TOML"),
    ("title = 'x'", "unknown section 'title'"),
    ("[resolutions]\ntitle = 'x'\n", "no facts"),
])
def test_bad_events_states_and_files(text, fragment):
    with pytest.raises(DialogueError) as exc:
        parse_resolutions(text, "r.toml")
    assert "\n" not in str(exc.value) and fragment in str(exc.value), str(exc.value)


@pytest.mark.parametrize("text, fragment", [
    (GOOD.replace("2014", "2013"), "year 2013 is only partly inside the forecast (2013-03 to 2018-02)"),
    (GOOD.replace("2014", "2019"), "year 2019 is outside the forecast (2013-03 to 2018-02); a yearly total"),
    (EVENT.replace('end = "2014-12"', 'end = "2019-01"'), "fact 1 ('e'): 2019-01 is outside the forecast"),
    (STATE.replace("2015-06", "2012-06"), "fact 1 ('s'): 2012-06 is outside the forecast"),
    ('[resolutions]\nforecast_start = "2008-03"\n' + GOOD, "resolves a forecast starting 2008-03"),
])
def test_dates_outside_the_forecast(small_ds, text, fragment):
    with pytest.raises(DialogueError) as exc:
        check_against(parse_resolutions(text, "r.toml"), small_ds)
    assert "\n" not in str(exc.value) and fragment in str(exc.value), str(exc.value)


def test_annual_total_is_the_sum_of_the_twelve_months(small_ds):
    f = parse_resolutions(GOOD).facts[0]
    months = small_ds["time"].to_index()
    sel = months.year == 2014
    assert sel.sum() == 12
    np.testing.assert_allclose(number_sample(f, small_ds),
                               small_ds["exports_gbp_m"].values[:, sel].astype(float).sum(axis=1))


# ---------------------------------------------------------------- dialogue score: bad input

def _score(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([*EXE, "score", *args], capture_output=True, text=True, timeout=300)
    return r


@pytest.fixture(scope="module")
def forecast(tmp_path_factory, small_ds):
    path = tmp_path_factory.mktemp("fc") / "base.nc"
    return save(small_ds.isel(run=slice(0, 60)), path)


@pytest.mark.parametrize("name, text, fragment", [
    ("unknown-var.toml", GOOD.replace('"exports_annual"', '"exports_anual"'),
     "fact 1 ('x'): unknown number variable 'exports_anual'; did you mean 'exports_annual'?"),
    ("unknown-event.toml", EVENT.replace("dialogue_suspended", "sanction"),
     "unknown event 'sanction'; did you mean 'sanctions'?"),
    ("outside.toml", GOOD.replace("2014", "2020"), "year 2020 is outside the forecast"),
    ("malformed.toml", GOOD.replace("3900.0", "3900.0.0"), "not valid TOML"),
    ("malformed-number.toml", GOOD.replace("3900.0", '"3.9k"'), "value must be a number, got '3.9k' (str)"),
])
def test_score_command_bad_resolutions(tmp_path, forecast, name, text, fragment):
    res = tmp_path / name
    res.write_text(text)
    out = tmp_path / "out"
    r = _score(str(forecast), str(res), "--out", str(out))
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("dialogue: error: "), r.stderr
    assert fragment in r.stderr, r.stderr
    assert not out.exists()  # nothing half-written


def test_score_command_refuses_a_forecast_that_is_not_ours(tmp_path):
    res = tmp_path / "r.toml"
    res.write_text(GOOD)
    other = tmp_path / "other.nc"
    xr.Dataset({"t": ("x", np.arange(3.0))}).to_netcdf(other, engine="h5netcdf")
    text = tmp_path / "text.nc"
    text.write_text("not netcdf")
    out = tmp_path / "out"
    for path, fragment in ((other, "not a results file from 'dialogue run'"),
                           (text, "not a readable NetCDF results file"),
                           (tmp_path / "missing.nc", "results file not found")):
        r = _score(str(path), str(res), "--out", str(out))
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
        assert r.stderr.startswith("dialogue: error: ") and fragment in r.stderr, r.stderr
    r = _score(str(other), str(res), "--baseline", "persistance")
    assert r.returncode == 2 and "did you mean 'persistence'?" in r.stderr and len(r.stderr.splitlines()) == 1
    assert not out.exists()
