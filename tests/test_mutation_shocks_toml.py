"""``[[shocks]]`` in model/scenario.py and the dated-entry TOML readers of model/validation.py,
on exact inputs and whole messages (issue 14: mutation gaps after issues 10 and 11).

Fast and in-process: every shock field at, inside and outside its bounds; ``with_shocks``
checked value by value; ``to_toml`` round trips; inheritance of shocks through real files;
and ``read_toml_text``/``parse_toml``/``only_sections``/``numbered_entries`` on real files
and through the observations and resolutions parsers that use them.
"""

from __future__ import annotations

import locale
import tomllib
from pathlib import Path

import pytest
import tomli_w
from pydantic import BaseModel, ConfigDict

from model import validation as v
from model.errors import DialogueError
from model.observations import load_observations, parse_observations
from model.resolutions import load_resolutions, parse_resolutions
from model.scenario import Scenario, Shock, _explain, load_scenario, load_scenario_text, shipped
from model.shocks import KINDS, SIZE_MAX

KIND_LIST = "major_incident, crisis, expulsion_round, sanctions, formula, no_formula"


def fails(fn, *args, **kwargs) -> str:
    """The one-line message ``fn`` raises."""
    with pytest.raises(DialogueError) as exc:
        fn(*args, **kwargs)
    return str(exc.value)


def upload(*shocks: dict, **top) -> str:
    """An uploaded scenario extending baseline, with these shocks."""
    doc = {"name": "s", "extends": "baseline"} | top
    if shocks:
        doc["shocks"] = list(shocks)
    return tomli_w.dumps(doc)


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario("baseline")


# ---------------------------------------------------------------- one shock's fields


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_kind(kind):
    assert Shock(kind=kind, month="2013-05").kind == kind


@pytest.mark.parametrize("got, tail", [
    ("major_incidnt", "; did you mean 'major_incident'?"),
    ("crises", "; did you mean 'crisis'?"),
    ("MAJOR", ""),
    ("", ""),
])
def test_unknown_kind_whole_message(got, tail):
    msg = fails(load_scenario_text, upload({"kind": got, "month": "2013-05"}), "up")
    assert msg == f"up: shocks[0].kind = {got!r} is not a kind of shock; use one of {KIND_LIST}{tail}"


@pytest.mark.parametrize("shock, message", [
    ({"kind": "crisis", "month": "2013-05", "until": "2013-04"},
     "shocks[0] (crisis 2013-05): until = 2013-04 is before month = 2013-05; the window must end in or "
     "after its first month"),
    ({"kind": "crisis", "month": "2014-01", "until": "2013-12"},
     "shocks[0] (crisis 2014-01): until = 2013-12 is before month = 2014-01; the window must end in or "
     "after its first month"),
    ({"kind": "crisis", "month": "2013-05", "size": -1.0},
     "shocks[0].size = -1.0 is out of range; it must be at least 0"),
    ({"kind": "crisis", "month": "2013-05", "size": 20.5},
     "shocks[0] (crisis 2013-05): size = 20.5 is out of range; for crisis (severity in Goldstein points) it must "
     "be between 0 and 20"),
    ({"kind": "sanctions", "month": "2013-05", "size": 1.01},
     "shocks[0] (sanctions 2013-05): size = 1.01 is out of range; for sanctions (share of UK exports to Russia "
     "hit, 0 to 1) it must be between 0 and 1"),
    ({"kind": "expulsion_round", "month": "2013-05", "size": 2.5},
     "shocks[0] (expulsion_round 2013-05): size = 2.5 is not a whole number of diplomats; write a whole number "
     "such as 2"),
    ({"kind": "no_formula", "month": "2013-05", "size": 0.0},
     "shocks[0] (no_formula 2013-05): size = 0 is not allowed: no_formula is a 2+2 meeting that finds no "
     "formula of words and takes no size; remove the size line"),
    ({"kind": "crisis", "month": "2013-05", "sise": 1.0}, "unknown key 'sise' in [shocks[0]]; did you mean 'size'?"),
    ({"kind": "crisis", "month": "2013-05", "untill": "2013-06"},
     "unknown key 'untill' in [shocks[0]]; did you mean 'until'?"),
    ({"kind": "crisis", "month": "2013-05", "zzzz": 1}, "unknown key 'zzzz' in [shocks[0]]"),
    ({"kind": "crisis", "month": "2013-5"}, "shocks[0].month = '2013-5' is not a month; write it as YYYY-MM, "
                                            "e.g. \"2013-03\""),
    ({"kind": "crisis", "month": "1989-12"}, "shocks[0].month = '1989-12' is outside the supported range; use a "
                                             "month from 1990-01 to 2100-12"),
    ({"kind": "crisis", "month": "2013-05", "until": "2101-01"},
     "shocks[0].until = '2101-01' is outside the supported range; use a month from 1990-01 to 2100-12"),
    ({"kind": "crisis"}, "shocks[0].month is missing"),
    ({"month": "2013-05"}, "shocks[0].kind is missing"),
    ({"kind": "crisis", "month": "2013-05", "note": "x" * 501}, "shocks[0].note is too long (501 characters); "
                                                                "use at most 500"),
    ({"kind": 3, "month": "2013-05"}, "shocks[0].kind must be text in quotes, got 3 (int)"),
    ({"kind": "crisis", "month": "2013-05", "size": "big"}, "shocks[0].size must be a number, got 'big' (str)"),
])
def test_bad_shock_whole_message(shock, message):
    assert fails(load_scenario_text, upload(shock), "up") == f"up: {message}"


@pytest.mark.parametrize("shock", [
    {"kind": "crisis", "month": "2013-05", "until": "2013-05"},  # a window of one month
    {"kind": "crisis", "month": "2013-05", "size": 0.0},
    {"kind": "crisis", "month": "2013-05", "size": 20.0},
    {"kind": "major_incident", "month": "2013-05", "size": 20.0},
    {"kind": "formula", "month": "2013-05", "size": 20.0},
    {"kind": "sanctions", "month": "2013-05", "size": 1.0},
    {"kind": "expulsion_round", "month": "2013-05", "size": 200.0},
    {"kind": "no_formula", "month": "2013-03"},
    {"kind": "crisis", "month": "2013-03", "until": "2018-02"},  # the baseline's first and last months
    {"kind": "crisis", "month": "2013-05", "note": "x" * 500},
])
def test_shock_at_its_bounds_loads(shock):
    sc = load_scenario_text(upload(shock), "up")
    assert sc.shocks == (Shock(**shock),)
    for key, val in shock.items():
        assert getattr(sc.shocks[0], key) == val


def test_size_max_is_each_kinds_bound():
    assert SIZE_MAX == {"major_incident": 20.0, "crisis": 20.0, "expulsion_round": 200.0, "sanctions": 1.0,
                        "formula": 20.0}
    for kind, top in SIZE_MAX.items():
        Shock(kind=kind, month="2013-05", size=top)
        with pytest.raises(ValueError, match="out of range"):
            Shock(kind=kind, month="2013-05", size=top + 1)


def test_shock_without_until_or_size():
    sh = Shock(kind="crisis", month="2013-05")
    assert (sh.until, sh.size, sh.note) == (None, None, None)


@pytest.mark.parametrize("shocks, message", [
    ({"kind": "crisis", "month": "2013-05"},
     "shocks must be a list of tables, got {'kind': 'crisis', 'month': '2013-05'}; write each shock under its own "
     "[[shocks]] header"),
    ("crisis", "shocks must be a list of tables, got 'crisis'; write each shock under its own [[shocks]] header"),
    ([1], "shocks[0] must be a table, got 1 (int)"),
    ([{"kind": "crisis", "month": "2013-05"}, "x"], "shocks[1] must be a table, got 'x' (str)"),
    ([{"kind": "crisis", "month": f"2013-{m:02d}"} for m in range(1, 13)] * 4
     + [{"kind": "crisis", "month": "2014-01"}] * 3, "shocks has too many entries; use at most 50"),
])
def test_shocks_section_of_the_wrong_shape(shocks, message):
    assert fails(load_scenario_text, tomli_w.dumps({"shocks": shocks}), "up") == f"up: {message}"


def test_unknown_key_outside_shocks_suggests_from_its_own_section():
    # An unknown key elsewhere is looked up in its own section, not among a shock's fields.
    assert fails(load_scenario_text, tomli_w.dumps({"calendar": {"until": 3}}), "up") == \
        "up: unknown key 'until' in [calendar]"
    assert fails(load_scenario_text, tomli_w.dumps({"kindd": 3}), "up") == \
        "up: unknown key 'kindd' in [the top level]"


class _Obj:
    """A shock given as attributes, not a table: the cross-field error cannot name it."""

    kind, month, until, size, note = "crisis", "2013-05", "2013-04", None, None


def test_cross_field_error_without_a_table_to_name_it():
    with pytest.raises(ValueError) as exc:
        Shock.model_validate(_Obj(), from_attributes=True)
    assert _explain(exc.value, ("shocks", 2)) == \
        "shocks[2]: until = 2013-04 is before month = 2013-05; the window must end in or after its first month"


# ---------------------------------------------------------------- with_shocks, value by value


def test_with_shocks_appends_to_a_scenarios_own(base):
    one = base.with_shocks([{"kind": "crisis", "month": "2013-05", "until": "2013-07", "size": 2.0}])
    kept = Shock(kind="formula", month="2014-03", size=1.5)
    two = one.with_shocks([kept, {"kind": "major_incident", "month": "2013-06", "note": "n"}])
    assert two.shocks == (Shock(kind="crisis", month="2013-05", until="2013-07", size=2.0), kept,
                          Shock(kind="major_incident", month="2013-06", note="n"))
    assert two.shocks[1] is kept  # a Shock is taken as it is
    assert two.changes == ("shocks[0]=crisis 2013-05..2013-07", "shocks[1]=formula 2014-03",
                           "shocks[2]=major_incident 2013-06")
    assert two.label == ("baseline + shocks[0]=crisis 2013-05..2013-07, shocks[1]=formula 2014-03, "
                         "shocks[2]=major_incident 2013-06")
    # everything else is the scenario's own
    for key in ("name", "description", "run", "initial", "calendar", "params", "source"):
        assert getattr(two, key) == getattr(base, key), key
    assert base.shocks == () and base.changes == ()  # the original is untouched


def test_with_shocks_keeps_earlier_overrides(base):
    sc = base.with_overrides({"repression": 0.8}).with_shocks([{"kind": "sanctions", "month": "2014-03"}])
    assert sc.changes == ("repression=0.8", "shocks[0]=sanctions 2014-03")
    assert sc.value("repression") == 0.8


@pytest.mark.parametrize("nothing", [[], (), None])
def test_with_no_shocks_is_the_same_scenario(base, nothing):
    assert base.with_shocks(nothing) is base


def test_with_shocks_numbers_errors_after_the_scenarios_own(base):
    sc = base.with_shocks([{"kind": "crisis", "month": "2013-05"}, {"kind": "formula", "month": "2013-06"}])
    added = [{"kind": "crisis", "month": "2014-05"}, {"kind": "crisis", "month": "2014-06", "mont": 1}]
    assert fails(sc.with_shocks, added) == "added shock: unknown key 'mont' in [shocks[3]]; did you mean 'month'?"
    assert fails(sc.with_shocks, [{"kind": "crisis", "month": "2014-05", "size": 99.0}], "form") == \
        ("form: shocks[2] (crisis 2014-05): size = 99 is out of range; for crisis (severity in Goldstein points) "
         "it must be between 0 and 20")
    assert fails(base.with_shocks, [{"kind": "crisis", "month": "2013-05", "size": -2.0}]) == \
        "added shock: shocks[0].size = -2.0 is out of range; it must be at least 0"


def _monthly(n: int, kind: str = "crisis") -> list[dict]:
    return [{"kind": kind, "month": f"{2013 + (2 + i) // 12}-{(2 + i) % 12 + 1:02d}"} for i in range(n)]


def test_with_shocks_limit_counts_the_scenarios_own(base):
    sc = base.with_shocks(_monthly(30))
    full = sc.with_shocks(_monthly(20, "formula"))
    assert len(full.shocks) == 50 and len(full.changes) == 50
    assert full.changes[-1] == "shocks[49]=formula 2014-10"
    assert fails(sc.with_shocks, _monthly(21, "formula"), "form") == \
        "form: 51 shocks in all; a scenario may hold at most 50"
    assert fails(full.with_shocks, [{"kind": "sanctions", "month": "2016-01"}]) == \
        "added shock: 51 shocks in all; a scenario may hold at most 50"


def test_with_shocks_checks_the_schedule_of_all(base):
    sc = base.with_shocks([{"kind": "crisis", "month": "2013-05", "until": "2013-08"}])
    assert fails(sc.with_shocks, [{"kind": "crisis", "month": "2013-08"}], "form") == \
        ("form: shocks[1] (crisis 2013-08) overlaps shocks[0] (crisis 2013-05..2013-08): windows of one kind "
         "must not overlap; merge them into one window, or move one")
    assert fails(base.with_shocks, [{"kind": "crisis", "month": "2018-03"}]) == \
        ("added shock: shocks[0] (crisis 2018-03): month = 2018-03 is after the last simulated month, 2018-02 "
         "(start 2013-03, horizon 60 months); use a month up to 2018-02, or a horizon of at least 61 months")
    assert fails(base.with_shocks, [{"kind": "crisis", "month": "2013-02"}]) == \
        ("added shock: shocks[0] (crisis 2013-02) is before the scenario's start month, 2013-03; use a month "
         "from 2013-03 to 2018-02")
    # another kind in the same months is fine
    assert len(sc.with_shocks([{"kind": "formula", "month": "2013-08"}]).shocks) == 2


def test_overrides_that_strand_a_shock_name_the_source(base, tmp_path):
    sc = base.with_shocks([{"kind": "crisis", "month": "2017-01"}])
    tail = ("shocks[0] (crisis 2017-01): month = 2017-01 is after the last simulated month, 2015-02 (start 2013-03, "
            "horizon 24 months); use a month up to 2015-02, or a horizon of at least 47 months")
    assert fails(sc.with_overrides, {"run.horizon": 24}) == f"{base.source}: {tail}"
    bare = Scenario(name="bare", params=base.params, shocks=sc.shocks)
    assert bare.source == ""
    assert fails(bare.with_overrides, {"run.horizon": 24}) == f"override: {tail}"
    moved = sc.with_overrides({"initial.start": "2013-06", "run.horizon": 60})
    assert moved.shocks == sc.shocks and moved.initial.start == "2013-06"


# ---------------------------------------------------------------- overrides and files, whole messages


@pytest.mark.parametrize("override, message", [
    ({"initial.strat": "2013-04"}, "unknown setting 'initial.strat'; did you mean 'initial.start'?"),
    ({"calendar.first_meting": "2013-04"}, "unknown setting 'calendar.first_meting'; did you mean "
                                           "'calendar.first_meeting'?"),
    ({"run.sed": 3}, "unknown setting 'run.sed'; did you mean 'run.seed'?"),
    ({"calendar.zz": 1}, "unknown setting 'calendar.zz'"),
    ({"represion": 0.5}, "unknown parameter 'represion'; did you mean 'repression'?"),
    ({"zzzz.value": 0.5}, "unknown parameter 'zzzz'"),
    ({"repression.dst": "uniform"}, "unknown field 'repression.dst': use repression, repression.dist or "
                                    "repression.spread"),
])
def test_unknown_override_whole_message(base, override, message):
    assert fails(base.with_overrides, override) == message


def test_override_of_a_distribution(base):
    sc = base.with_overrides({"repression.dist": "uniform"})
    assert (sc.params["repression"].dist, sc.changes) == ("uniform", ("repression.dist=uniform",))
    assert sc.source == base.source and sc.params["repression"].value == base.params["repression"].value


def test_a_files_own_errors_name_the_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('extends = "baseline"\n[initial]\nstrat = "2013-04"\n')
    assert fails(load_scenario, p) == f"{p}: unknown key 'strat' in [initial]; did you mean 'start'?"
    p.write_text("a = = 1\n")
    assert fails(load_scenario, p) == f"{p}: malformed TOML: Invalid value (at line 1, column 5)"
    p.write_text('[params]\nrepression = 7.0\n')
    assert fails(load_scenario, p).startswith(f"{p}: params.repression = 7 is out of range; it must be between 0 and 1")
    assert fails(load_scenario_text, "a = = 1\n", "up.toml") == \
        "up.toml: malformed TOML: Invalid value (at line 1, column 5)"


def test_name_and_description_come_from_the_file_or_its_name(tmp_path):
    p = _write(tmp_path / "mine.toml", [])
    sc = load_scenario(p)
    assert (sc.name, sc.description) == ("mine", "")
    _write(p, [], extends="baseline")  # the parent's name and description are inherited
    base = load_scenario("baseline")
    assert (load_scenario(p).name, load_scenario(p).description) == (base.name, base.description)
    _write(p, [], name="called", description="said")
    sc = load_scenario(p)
    assert (sc.name, sc.description, sc.source) == ("called", "said", str(p.resolve()))
    assert load_scenario_text("", "up.toml").name == "up"
    assert load_scenario_text("", "up.toml").description == ""


def test_upload_limits_and_extends_whole_messages():
    names = ", ".join(shipped())
    assert fails(load_scenario_text, 'extends = "/etc/x.toml"\n', "up") == (
        f"up: extends = '/etc/x.toml' is not allowed; an uploaded scenario may extend only a shipped scenario by "
        f"name ({names})")
    assert load_scenario_text('extends = "crackdown"\n', "up").params == load_scenario("crackdown").params
    assert load_scenario_text('\ufeffname = "b"\n', "up").name == "b"  # a byte-order mark is accepted
    assert fails(load_scenario_text, 'name = "' + "x" * 1_000_001 + '"', "up") == \
        "up: scenario is 1,000,010 bytes; the limit is 1,000,000"
    deep = "up: tables or arrays nested too deeply; a scenario needs at most 16 levels"
    assert fails(load_scenario_text, _nested(3000), "up") == deep  # tomllib's own RecursionError


def test_extends_cycle_whole_message(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\n')
    b.write_text('extends = "a.toml"\n')
    assert fails(load_scenario, a) == "extends cycle: a -> b -> a; remove one of these 'extends' lines"


# ---------------------------------------------------------------- to_toml


def test_to_toml_writes_shocks_without_empty_keys(base):
    sc = base.with_shocks([{"kind": "crisis", "month": "2013-05", "until": "2013-07", "size": 2.0, "note": "why"},
                           {"kind": "no_formula", "month": "2014-03"}])
    doc = tomllib.loads(sc.to_toml())
    assert doc["shocks"] == [{"kind": "crisis", "month": "2013-05", "until": "2013-07", "size": 2.0, "note": "why"},
                             {"kind": "no_formula", "month": "2014-03"}]
    assert set(doc) == {"name", "description", "run", "initial", "calendar", "params", "shocks"}
    back = load_scenario_text(sc.to_toml(), "back")
    assert back.shocks == sc.shocks
    assert (back.run, back.initial, back.calendar, back.params) == (sc.run, sc.initial, sc.calendar, sc.params)


def test_to_toml_without_shocks_has_no_shocks_key(base):
    doc = tomllib.loads(base.to_toml())
    assert "shocks" not in doc
    assert doc["name"] == "baseline" and doc["run"] == base.run.model_dump()
    assert load_scenario_text(base.to_toml(), "b").shocks == ()


# ---------------------------------------------------------------- inheritance through real files


def _write(path: Path, shocks: list[dict], **top) -> Path:
    path.write_text(tomli_w.dumps(top | ({"shocks": shocks} if shocks else {})))
    return path


def test_child_shocks_follow_the_parents_and_keep_their_files(tmp_path):
    _write(tmp_path / "parent.toml", [{"kind": "crisis", "month": "2013-05"}, {"kind": "formula", "month": "2014-03"}],
           extends="baseline")
    child = _write(tmp_path / "child.toml", [{"kind": "sanctions", "month": "2013-09"}], extends="parent.toml")
    sc = load_scenario(child)
    assert [(s.kind, s.month) for s in sc.shocks] == [("crisis", "2013-05"), ("formula", "2014-03"),
                                                       ("sanctions", "2013-09")]
    # a shorter horizon in the child strands the parent's second shock: named by its own file
    _write(child, [{"kind": "sanctions", "month": "2013-09"}], extends="parent.toml", run={"horizon": 12})
    assert fails(load_scenario, child) == (
        f"{child}: shocks[1] of parent.toml (formula 2014-03): month = 2014-03 is after the last simulated month, "
        "2014-02 (start 2013-03, horizon 12 months); use a month up to 2014-02, or a horizon of at least 13 months")
    # the child's own shock overlapping the parent's
    _write(child, [{"kind": "crisis", "month": "2013-04", "until": "2013-06"}], extends="parent.toml")
    assert fails(load_scenario, child) == (
        f"{child}: shocks[0] (crisis 2013-04..2013-06) overlaps shocks[0] of parent.toml (crisis 2013-05): "
        "windows of one kind must not overlap; merge them into one window, or move one")


def test_inherited_shocks_count_towards_the_limit(tmp_path):
    _write(tmp_path / "parent.toml", _monthly(30), extends="baseline")
    child = _write(tmp_path / "child.toml", _monthly(20, "formula"), extends="parent.toml")
    assert len(load_scenario(child).shocks) == 50
    _write(child, _monthly(21, "formula"), extends="parent.toml")
    assert fails(load_scenario, child) == (f"{child}: 51 shocks with those inherited through extends; "
                                           "a scenario may hold at most 50")


def test_upload_names_its_own_shocks_without_a_file(base):
    text = upload({"kind": "crisis", "month": "2013-05"}, {"kind": "crisis", "month": "2013-05"})
    assert fails(load_scenario_text, text, "mine.toml") == (
        "mine.toml: shocks[1] (crisis 2013-05) overlaps shocks[0] (crisis 2013-05): windows of one kind must not "
        "overlap; merge them into one window, or move one")


# ---------------------------------------------------------------- validation: reading dated-entry files

OB = '[[observation]]\nevent = "crisis"\nmonth = "2013-05"\nsource = "x"\n'
FACT = '[[fact]]\nkind = "number"\nvariable = "exports_annual"\nyear = 2014\nvalue = 3900.0\nsource = "x"\n'


@pytest.mark.parametrize("suffix", [".toml", ".TOML", ".Toml"])
def test_read_toml_text_returns_the_text(tmp_path, suffix):
    p = tmp_path / f"o{suffix}"
    text = "# Größe und Maß: ü\n" + OB
    p.write_text(text, encoding="utf-8")
    assert v.read_toml_text(p, "observations") == text
    assert v.read_toml_text(str(p), "observations") == text
    assert load_observations(p).entries[0].month == "2013-05"


def test_read_toml_text_is_utf8_whatever_the_locale(tmp_path):
    # A user whose locale is not UTF-8 (here plain ASCII) still gets the file read as UTF-8.
    p = tmp_path / "o.toml"
    text = "# Größe\n" + OB
    p.write_text(text, encoding="utf-8")
    old = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        assert locale.getpreferredencoding(False) != "UTF-8"
        assert v.read_toml_text(p, "observations") == text
    finally:
        locale.setlocale(locale.LC_CTYPE, old)


@pytest.mark.parametrize("name", ["o.txt", "o.toml.bak", "o", "toml"])
def test_read_toml_text_wants_the_suffix(tmp_path, name):
    p = tmp_path / name
    p.write_text(OB)
    assert fails(v.read_toml_text, p, "resolutions") == f"{p}: resolutions files are TOML and end in .toml"


def test_read_toml_text_missing_file_and_folder(tmp_path):
    assert fails(v.read_toml_text, tmp_path / "nope.toml", "observations") == \
        f"{tmp_path / 'nope.toml'}: observations file not found"
    (tmp_path / "dir.toml").mkdir()
    assert fails(load_resolutions, tmp_path / "dir.toml") == f"{tmp_path / 'dir.toml'}: resolutions file not found"


def test_read_toml_text_size_limit(tmp_path):
    p = tmp_path / "big.toml"
    head = OB.encode()
    p.write_bytes(head + b"#" * (v.MAX_FILE_BYTES - len(head) - 1) + b"\n")
    assert p.stat().st_size == v.MAX_FILE_BYTES
    assert len(v.read_toml_text(p, "observations")) == v.MAX_FILE_BYTES
    p.write_bytes(head + b"#" * (v.MAX_FILE_BYTES - len(head)) + b"\n")
    assert fails(v.read_toml_text, p, "observations") == f"{p}: too large; the limit is 1,000,000 bytes"
    assert fails(load_observations, p) == f"{p}: too large; the limit is 1,000,000 bytes"


@pytest.mark.parametrize("data", [b"\xff\xfe" + OB.encode("utf-16-le"),
                                  "# caf\xe9\n".encode("latin-1") + FACT.encode()])
def test_read_toml_text_refuses_other_encodings(tmp_path, data):
    p = tmp_path / "r.toml"
    p.write_bytes(data)
    assert fails(v.read_toml_text, p, "resolutions") == f"{p}: not UTF-8 text; save it as UTF-8"
    assert fails(load_resolutions, p) == f"{p}: not UTF-8 text; save it as UTF-8"


def test_parse_toml_returns_the_document():
    assert v.parse_toml('a = 1\n[b]\nc = "d"\n', "x") == {"a": 1, "b": {"c": "d"}}


def test_parse_toml_bad_toml_names_the_file():
    assert fails(v.parse_toml, "a = [[[1]]", "f.toml") == "f.toml: not valid TOML (Unclosed array (at end of document))"
    assert fails(parse_observations, "a = = 1", "o.toml") == \
        "o.toml: not valid TOML (Invalid value (at line 1, column 5))"


def _nested(depth: int) -> str:
    """A document whose nesting is ``depth`` (the document itself is 1)."""
    return "a = " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


def test_parse_toml_nesting_limit():
    assert v.nesting_depth(v.parse_toml(_nested(v.MAX_DEPTH), "x")) == v.MAX_DEPTH
    assert fails(v.parse_toml, _nested(v.MAX_DEPTH + 1), "x.toml") == "x.toml: nested too deeply; at most 16 levels"
    # deep enough that tomllib itself gives up (RecursionError): the same line
    assert fails(v.parse_toml, _nested(5000), "x.toml") == "x.toml: nested too deeply; at most 16 levels"
    assert fails(parse_resolutions, _nested(5000), "r") == "r: nested too deeply; at most 16 levels"


@pytest.mark.parametrize("doc, header, entry, message", [
    ({"observatons": {}}, "observations", "observation",
     "unknown section 'observatons'; did you mean 'observations'?; an observations file has [observations] and "
     "[[observation]] tables"),
    ({"facts": []}, "resolutions", "fact",
     "unknown section 'facts'; did you mean 'fact'?; a resolutions file has [resolutions] and [[fact]] tables"),
    ({"resolutions": {}, "fact": [], "zz": 1, "yy": 2}, "resolutions", "fact",
     "unknown section 'zz'; a resolutions file has [resolutions] and [[fact]] tables"),
    ({"x" * 60: 1}, "updates", "update",
     f"unknown section '{'x' * 34}...x'; an updates file has [updates] and [[update]] tables"),
    ({"q's": 1}, "items", "item", "unknown section 'q's'; an items file has [items] and [[item]] tables"),
    ({"q": 1}, "uppers", "upper", "unknown section 'q'; an uppers file has [uppers] and [[upper]] tables"),
    ({"q": 1}, "ebbs", "ebb", "unknown section 'q'; an ebbs file has [ebbs] and [[ebb]] tables"),
    ({"q": 1}, "oaths", "oath", "unknown section 'q'; an oaths file has [oaths] and [[oath]] tables"),
    ({"q": 1}, "zeds", "zed", "unknown section 'q'; a zeds file has [zeds] and [[zed]] tables"),
    ({"q": 1}, "Xrays", "Xray", "unknown section 'q'; a Xrays file has [Xrays] and [[Xray]] tables"),
])
def test_only_sections_whole_message(doc, header, entry, message):
    assert fails(v.only_sections, doc, "f", header, entry) == f"f: {message}"


@pytest.mark.parametrize("doc", [{}, {"resolutions": {}}, {"fact": []}, {"resolutions": {"t": 1}, "fact": [1]}])
def test_only_sections_accepts_the_two_tables(doc):
    assert v.only_sections(doc, "f", "resolutions", "fact") is None


def test_unknown_sections_through_the_real_parsers():
    assert fails(parse_observations, "[observatons]\n" + OB, "o.toml") == (
        "o.toml: unknown section 'observatons'; did you mean 'observations'?; an observations file has "
        "[observations] and [[observation]] tables")
    assert fails(parse_resolutions, "[resolution]\n" + FACT, "r.toml") == (
        "r.toml: unknown section 'resolution'; did you mean 'resolutions'?; a resolutions file has [resolutions] "
        "and [[fact]] tables")


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str | None = None
    n: int = 0


def _entries(doc: dict, limit: int = 3) -> list:
    return v.numbered_entries(doc, "f.toml", entry="item", limit=limit, docs="docs/x.md",
                              parse=lambda raw, i: _Item(n=i, **raw),
                              where=lambda i, oid: f"f.toml: item {i + 1}" + (f" ({oid})" if oid else ""))


@pytest.mark.parametrize("doc", [{}, {"item": []}, {"item": {"id": "a"}}, {"item": "a"}, {"item": 3}])
def test_numbered_entries_none(doc):
    assert fails(_entries, doc) == "f.toml: no items; add [[item]] tables (see docs/x.md)"


def test_numbered_entries_ids_order_and_limit():
    out = _entries({"item": [{}, {"id": "b"}, {}]})
    assert [(o.id, o.n) for o in out] == [("item-1", 0), ("b", 1), ("item-3", 2)]
    assert all(isinstance(o, _Item) for o in out)
    assert fails(_entries, {"item": [{}] * 4}) == "f.toml: 4 items; the limit is 3"
    assert fails(_entries, {"item": [{}] * 1001}, 1000) == "f.toml: 1,001 items; the limit is 1,000"
    assert len(_entries({"item": [{}] * 1000}, 1000)) == 1000


@pytest.mark.parametrize("items, message", [
    ([{"id": "a"}, {"id": "a"}], "f.toml: item 2 (a): id repeats item 1; give each item its own id"),
    ([{}, {"id": "item-1"}], "f.toml: item 2 (item-1): id repeats item 1; give each item its own id"),
    ([{"id": "item-2"}, {}], "f.toml: item 2: id repeats item 1; give each item its own id"),
    ([{"id": "x"}, {}, {"id": "y"}, {"id": "x"}], "f.toml: item 4 (x): id repeats item 1; give each item its own id"),
    ([{}, {"id": "q"}, {"id": "q"}], "f.toml: item 3 (q): id repeats item 2; give each item its own id"),
])
def test_numbered_entries_repeated_ids(items, message):
    assert fails(_entries, {"item": items}, 10) == message


def test_numbered_entries_through_the_real_parsers(tmp_path):
    p = tmp_path / "o.toml"
    p.write_text(OB + OB.replace("[[observation]]\n", '[[observation]]\nid = "observation-1"\n'))
    assert fails(load_observations, p) == \
        f"{p}: observation 2 ('observation-1'): id repeats observation 1; give each observation its own id"
    assert fails(parse_resolutions, FACT + FACT.replace("[[fact]]\n", '[[fact]]\nid = "fact-1"\n'), "r") == \
        "r: fact 2 ('fact-1'): id repeats fact 1; give each fact its own id"
    assert fails(parse_resolutions, "[resolutions]\n", "r") == "r: no facts; add [[fact]] tables (see docs/scoring.md)"
    assert fails(parse_observations, "", "o") == "o: no observations; add [[observation]] tables (see docs/updating.md)"
    r = tmp_path / "r.toml"
    r.write_text(FACT * 2)
    assert [f.id for f in load_resolutions(r).facts] == ["fact-1", "fact-2"]
    assert [o.id for o in parse_observations(OB * 2).entries] == ["observation-1", "observation-2"]


def test_shock_limits_are_the_documented_ones():
    assert (v.MAX_SHOCKS, v.MAX_SHOCK_NOTE_CHARS) == (50, 500)
