"""``model.scenario``'s message helpers and shipped-folder lookup, exactly (issue 14: mutation gaps).

The scenario tests check that messages contain the right words; these check whole
messages for an unknown key at every level of the document (the suggestion comes from
the fields at that level), the bounds quoted for each kind of field, and where the
shipped scenarios are looked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model import scenario as sc
from model.errors import DialogueError
from model.params import registry


@pytest.mark.parametrize("doc,message", [
    ({"nmae": "x"}, "unknown key 'nmae' in [the top level]; did you mean 'name'?"),
    ({"run": {"rusn": 5}}, "unknown key 'rusn' in [run]; did you mean 'runs'?"),
    ({"initial": {"protset": 0.1}}, "unknown key 'protset' in [initial]; did you mean 'protest'?"),
    ({"calendar": {"frist_meeting": "2014-01"}}, "unknown key 'frist_meeting' in [calendar]; did you mean "
                                                 "'first_meeting'?"),
    ({"params": {"repression": {"valeu": 0.5}}}, "unknown key 'valeu' in [params.repression]; did you mean 'value'?"),
    ({"params": {"repression": {"sprad": 0.1}}}, "unknown key 'sprad' in [params.repression]; did you mean 'spread'?"),
    ({"run": {"zzzzzz": 5}}, "unknown key 'zzzzzz' in [run]"),
    ({"params": {"represion": 0.5}}, "unknown parameter 'represion' in [params]; did you mean 'repression'?"),
    ({"initial": {"exports_gbp_m": 0.0}}, "initial.exports_gbp_m = 0.0 is out of range; it must be above 0 and at "
                                          "most 100000"),
    ({"params": {"repression": {"spread": -1.0}}}, "params.repression.spread = -1.0 is out of range; it must be at "
                                                   "least 0"),
    ({"run": {"runs": 0}}, "run.runs = 0 is out of range; it must be between 1 and 10000000"),
    ({"calendar": {"campaign_months": 13}}, "calendar.campaign_months = 13 is out of range; it must be between 1 "
                                            "and 12"),
    ({"calendar": {"elections": [{"name": "", "date": "2014-01"}]}},
     "calendar.elections.0.name is empty; write some text or leave the key out"),
    ({"calendar": {"elections": [{"name": "x", "date": "2014-1"}]}},
     'calendar.elections.0.date = \'2014-1\' is not a month; write it as YYYY-MM, e.g. "2013-03"'),
    ({"calendar": {"elections": [{"name": "x", "date": "1989-12"}]}},
     "calendar.elections.0.date = '1989-12' is outside the supported range; use a month from 1990-01 to 2100-12"),
    ({"params": {"repression": {"dist": "gauss"}}},
     "params.repression.dist = 'gauss' is not a distribution; use one of fixed, uniform, triangular, normal, beta"),
])
def test_whole_messages_for_each_level(doc, message):
    with pytest.raises(DialogueError) as e:
        sc.parse(doc, "f.toml")
    assert str(e.value) == f"f.toml: {message}"


def test_fields_at_each_level_are_the_options_suggested():
    assert list(sc._fields_at([])) == list(sc._File.model_fields)
    assert list(sc._fields_at(["run"])) == ["runs", "seed", "horizon"]
    assert list(sc._fields_at(["calendar"])) == list(sc.Calendar.model_fields)
    assert list(sc._fields_at(["params"])) == list(registry())
    assert list(sc._fields_at(["params", "repression"])) == ["value", "dist", "spread"]
    assert list(sc._fields_at(["calendar", "elections"])) == ["name", "date"]
    assert list(sc._fields_at(["nonexistent"])) == []


def test_field_at_finds_the_field_behind_an_error_location():
    assert sc._field_at(["initial", "exports_gbp_m"]) is sc.Initial.model_fields["exports_gbp_m"]
    assert sc._field_at(["params", "repression", "spread"]) is sc._ParamEntry.model_fields["spread"]
    assert sc._field_at(["calendar", "elections", "0", "name"]) is sc.Election.model_fields["name"]
    assert sc._field_at(["run", "nothing"]) is None
    assert sc._field_at(["name", "deeper"]) is sc._File.model_fields["name"]


def test_shipped_dir_prefers_the_environment_then_the_package_then_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("DIALOGUE_SCENARIOS", str(tmp_path))
    assert sc._shipped_dir() == tmp_path
    monkeypatch.setenv("DIALOGUE_SCENARIOS", "")  # empty is unset
    here = Path(sc.__file__).resolve().parent
    want = here / "scenarios" if (here / "scenarios").is_dir() else here.parent / "scenarios"
    assert sc._shipped_dir() == want
    monkeypatch.delenv("DIALOGUE_SCENARIOS")
    assert sc._shipped_dir() == want
    assert (want / "baseline.toml").is_file()


def test_no_shipped_hint_names_the_cause_and_the_fix(monkeypatch):
    monkeypatch.setenv("DIALOGUE_SCENARIOS", "/x")
    assert sc.no_shipped_hint() == (f"DIALOGUE_SCENARIOS={sc.SHIPPED_DIR} holds no scenario .toml files; point it "
                                    "at a folder that does, or unset it to use the shipped scenarios")
    monkeypatch.delenv("DIALOGUE_SCENARIOS")
    assert sc.no_shipped_hint() == (f"no shipped scenarios in {sc.SHIPPED_DIR}: the installation is incomplete; "
                                    "reinstall it (pip install . or pip install -e . in the source folder)")


def test_a_long_key_is_cut_to_40_characters_in_the_location():
    with pytest.raises(DialogueError) as e:
        sc.parse({"params": {"a" * 50: "text"}}, "f.toml")
    assert str(e.value) == f"f.toml: params.{'a' * 37}... must be a number, got 'text' (str)"
    with pytest.raises(DialogueError) as e:
        sc.parse({"params": {"b" * 40: "text"}}, "f.toml")
    assert str(e.value) == f"f.toml: params.{'b' * 40} must be a number, got 'text' (str)"


def test_leaf_fields_offer_no_options_and_an_empty_location_has_no_field():
    assert list(sc._fields_at(["description"])) == []
    assert list(sc._fields_at(["calendar", "first_meeting"])) == []  # a str field: no __args__
    assert sc._field_at([]) is None


def test_shipped_lists_baseline_first_then_by_name(monkeypatch, tmp_path):
    for stem in ("zeta", "alpha", "baseline", "Beta"):
        (tmp_path / f"{stem}.toml").write_text("")
    monkeypatch.setattr(sc, "SHIPPED_DIR", tmp_path)
    assert list(sc.shipped()) == ["baseline", "Beta", "alpha", "zeta"]
    assert sc.shipped()["alpha"] == tmp_path / "alpha.toml"


# ---------------------------------------------------------------- second pass (2026-11-28)
# Survivors of the full campaign on model/scenario.py, closed by kind: bounds at the edge,
# defaults, whole messages, inheritance and overrides.

def _fixed_spec():
    """A registered parameter that is fixed (spread 0), so a new distribution needs a default spread."""
    return next(s for s in registry().values() if s.dist == "fixed" and s.spread == 0 and s.high > s.low)


def _random_spec():
    """A random parameter whose own spread differs from a tenth of its range."""
    return next(s for s in registry().values()
                if s.dist != "fixed" and s.spread > 0 and abs(s.spread - (s.high - s.low) / 10) > 1e-9)


def test_months_at_each_end_of_the_supported_range_are_accepted():
    for month in ("1990-01", "2100-12"):
        assert sc.parse({"initial": {"start": month}}).initial.start == month
    for month, outside in (("1989-12", True), ("2101-01", True)):
        with pytest.raises(DialogueError, match="outside the supported range") if outside else None:
            sc.parse({"initial": {"start": month}})


def test_a_parameter_keeps_its_spread_unless_its_distribution_changes():
    fixed, rand = _fixed_spec(), _random_spec()
    assert sc._check_param(fixed, {}, "w").spread == 0.0
    assert sc._check_param(fixed, {"dist": "fixed"}, "w").spread == 0.0
    # A fixed parameter made random gets a tenth of its range.
    tenth = (fixed.high - fixed.low) / 10
    assert sc._check_param(fixed, {"dist": "uniform"}, "w").spread == pytest.approx(tenth, rel=1e-12)
    assert sc._default_spread(fixed) == pytest.approx(tenth, rel=1e-12)
    # A random parameter given another distribution keeps its own spread.
    other = next(k for k in ("uniform", "triangular", "normal") if k != rand.dist)
    assert sc._check_param(rand, {"dist": other}, "w").spread == rand.spread
    assert sc._default_spread(rand) == rand.spread
    assert sc._check_param(rand, {"dist": other, "spread": 0.0}, "w").spread == 0.0


def test_a_value_within_the_tolerance_of_a_bound_is_the_bound():
    spec = next(iter(registry().values()))
    slack = sc.BOUND_TOLERANCE * (spec.high - spec.low)
    assert sc._check_param(spec, {"value": spec.low - slack}, "w").value == spec.low
    assert sc._check_param(spec, {"value": spec.high + slack}, "w").value == spec.high
    for outside in (spec.low - 3 * slack, spec.high + 3 * slack):
        with pytest.raises(DialogueError) as e:
            sc._check_param(spec, {"value": outside}, "w")
        assert str(e.value) == (f"w: params.{spec.name} = {outside:g} is out of range; it must be between "
                                f"{spec.low:g} and {spec.high:g} ({spec.units})")


def test_a_spread_as_wide_as_the_range_is_accepted_and_wider_is_refused_in_full():
    spec = next(s for s in registry().values() if s.low != 0)
    width = spec.high - spec.low
    assert sc._check_param(spec, {"spread": width}, "w").spread == width
    with pytest.raises(DialogueError) as e:
        sc._check_param(spec, {"spread": width * 1.5}, "w")
    assert str(e.value) == (f"w: params.{spec.name}.spread = {width * 1.5:g} is wider than the whole range; "
                            f"use at most {width:g}")


@pytest.mark.parametrize("value,label", [(True, "true"), (False, "false"), (0.8, "0.8"), (1 / 3, "0.333333"),
                                         (7, "7"), ("2014-01", "2014-01"), ("x" * 50, "x" * 40)])
def test_override_values_as_labels_show_them(value, label):
    assert sc._show(value) == label


class _Foreign(sc.BaseModel):
    count: int = sc.Field(ge=1, le=5)


def test_a_bound_error_outside_the_scenario_schema_takes_its_bounds_from_the_error():
    with pytest.raises(sc.ValidationError) as e:
        _Foreign(count=0)
    # The error's context holds only the bound that was broken.
    assert sc._explain(e.value) == "count = 0 is out of range; it must be at least 1"
    with pytest.raises(sc.ValidationError) as e:
        _Foreign(count=6)
    assert sc._explain(e.value) == "count = 6 is out of range; it must be at most 5"


def test_too_many_elections_and_a_missing_date_in_full():
    many = [{"name": "e", "date": "2014-01"}] * (sc.MAX_ELECTIONS + 1)
    with pytest.raises(DialogueError) as e:
        sc.parse({"calendar": {"elections": many}}, "f.toml")
    assert str(e.value) == f"f.toml: calendar.elections has too many entries; use at most {sc.MAX_ELECTIONS}"
    assert len(sc.parse({"calendar": {"elections": many[:-1]}}).calendar.elections) == sc.MAX_ELECTIONS
    with pytest.raises(DialogueError) as e:
        sc.parse({"calendar": {"elections": [{"name": "e"}]}}, "f.toml")
    assert str(e.value) == "f.toml: calendar.elections.0.date is missing"


def test_parse_names_the_document_scenario_by_default():
    with pytest.raises(DialogueError) as e:
        sc.parse({"nmae": "x"})
    assert str(e.value) == "scenario: unknown key 'nmae' in [the top level]; did you mean 'name'?"


def _nested(levels: int) -> list:
    """A list nested ``levels`` deep ([[...]] is 2)."""
    out: list = []
    for _ in range(levels - 1):
        out = [out]
    return out


def test_nesting_at_the_limit_passes_the_depth_check_and_one_more_is_refused():
    deep = f"tables or arrays nested too deeply; a scenario needs at most {sc.MAX_DEPTH} levels"
    # A document with a list nested n deep is n + 1 deep.
    at_limit, over = {"x": _nested(sc.MAX_DEPTH - 1)}, {"x": _nested(sc.MAX_DEPTH)}
    with pytest.raises(DialogueError) as e:
        sc.parse(at_limit, "f.toml")
    assert str(e.value).startswith("f.toml: unknown key 'x'")
    with pytest.raises(DialogueError) as e:
        sc.parse(over, "f.toml")
    assert str(e.value) == f"f.toml: {deep}"
    toml_at = "x = " + "[" * (sc.MAX_DEPTH - 1) + "]" * (sc.MAX_DEPTH - 1) + "\n"
    assert sc.nesting_depth(sc._parse_toml(toml_at, "t")) == sc.MAX_DEPTH
    with pytest.raises(DialogueError) as e:
        sc._parse_toml("x = " + "[" * sc.MAX_DEPTH + "]" * sc.MAX_DEPTH + "\n", "t")
    assert str(e.value) == f"t: {deep}"


def test_an_override_nested_too_deeply_is_refused_in_full_and_one_at_the_limit_is_validated():
    base = sc.load_scenario("baseline")
    with pytest.raises(DialogueError) as e:
        base.with_overrides({"calendar.elections": _nested(sc.MAX_DEPTH + 1)})
    assert str(e.value) == f"override calendar.elections: nested too deeply; at most {sc.MAX_DEPTH} levels"
    with pytest.raises(DialogueError) as e:
        base.with_overrides({"calendar.elections": _nested(sc.MAX_DEPTH)})
    assert str(e.value).startswith("override: calendar.elections.0")


def test_overrides_of_each_kind_land_where_they_say():
    base = sc.load_scenario("baseline")
    spec = next(iter(registry().values()))
    mid = (spec.low + spec.high) / 2
    s = base.with_overrides({f"{spec.name}.value": mid})
    assert s.value(spec.name) == mid
    assert s.changes == (f"{spec.name}={sc._show(mid)}",)
    assert s.label == f"baseline + {spec.name}={sc._show(mid)}"
    s = base.with_overrides({f"{spec.name}.spread": 0.0})
    assert s.params[spec.name].spread == 0.0 and s.changes == (f"{spec.name}.spread=0",)
    s = base.with_overrides({"run.runs": 7, "run.horizon": 5})
    assert (s.run.runs, s.run.horizon) == (7, 5)
    assert s.changes == ()  # how much to simulate is not an assumption
    s = base.with_overrides({"calendar.meeting_interval": 5})
    assert s.calendar.meeting_interval == 5 and s.changes == ("calendar.meeting_interval=5",)
    assert s.source == base.source


def test_a_label_with_an_equals_sign_in_its_value_survives_a_second_override():
    base = sc.load_scenario("baseline")
    elections = [{"name": "a=b", "date": "2014-09"}]
    once = base.with_overrides({"calendar.elections": elections})
    assert [(e.name, e.date) for e in once.calendar.elections] == [("a=b", "2014-09")]
    spec = next(iter(registry().values()))
    twice = once.with_overrides({spec.name: spec.low})
    assert twice.changes == (f"calendar.elections={str(elections)}", f"{spec.name}={sc._show(spec.low)}")
    # Setting the same key again replaces its entry in the label.
    again = twice.with_overrides({"calendar.elections": []})
    assert again.changes == (f"{spec.name}={sc._show(spec.low)}", "calendar.elections=[]")


def test_an_override_out_of_range_is_named_as_an_override():
    spec = next(iter(registry().values()))
    bad = spec.high + (spec.high - spec.low)
    with pytest.raises(DialogueError) as e:
        sc.load_scenario("baseline").with_overrides({spec.name: bad})
    assert str(e.value) == (f"override: params.{spec.name} = {bad:g} is out of range; it must be between "
                            f"{spec.low:g} and {spec.high:g} ({spec.units})")


def test_load_scenario_applies_its_overrides_and_records_the_file():
    spec = next(iter(registry().values()))
    s = sc.load_scenario("baseline", {spec.name: spec.low})
    assert s.value(spec.name) == spec.low and s.changes == (f"{spec.name}={sc._show(spec.low)}",)
    assert s.source == str(sc.shipped()["baseline"].resolve())


def test_the_first_meeting_defaults_to_the_start_month():
    assert sc.load_scenario_text('[initial]\nstart = "2015-06"\n').calendar.first_meeting == "2015-06"
    s = sc.load_scenario_text('[initial]\nstart = "2015-06"\n[calendar]\nfirst_meeting = "2016-01"\n')
    assert s.calendar.first_meeting == "2016-01"
    assert sc.load_scenario_text("").calendar.first_meeting == "2013-03"


def test_every_section_of_a_file_reaches_the_scenario(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[run]\nruns = 7\n[calendar]\nmeeting_interval = 5\n", encoding="utf-8")
    s = sc.load_scenario(str(path))
    assert (s.run.runs, s.calendar.meeting_interval) == (7, 5)
    assert (s.name, s.description, s.source) == ("mine", "", str(path.resolve()))


def test_a_child_section_overrides_only_the_keys_it_sets(tmp_path):
    (tmp_path / "parent.toml").write_text("[initial]\nprotest = 0.3\n[run]\nruns = 9\n", encoding="utf-8")
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n[initial]\ngrievance = 0.5\n[run]\nhorizon = 7\n',
                                         encoding="utf-8")
    s = sc.load_scenario(str(tmp_path / "child.toml"))
    assert (s.initial.protest, s.initial.grievance) == (0.3, 0.5)
    assert (s.run.runs, s.run.horizon) == (9, 7)


def test_an_upload_is_named_uploaded_unless_named_and_keeps_a_long_name():
    s = sc.load_scenario_text("")
    assert (s.name, s.source) == ("uploaded", "uploaded")
    assert sc.load_scenario_text("", name="").name == "uploaded"
    long = "n" * 200
    s = sc.load_scenario_text("", name=long)
    assert (s.name, s.source) == (long, long)
    with pytest.raises(DialogueError) as e:
        sc.load_scenario_text("nmae = 1")
    assert str(e.value).startswith("uploaded: unknown key 'nmae'")


def test_an_upload_may_extend_nothing_when_nothing_is_shipped(monkeypatch, tmp_path):
    monkeypatch.setattr(sc, "SHIPPED_DIR", tmp_path)
    with pytest.raises(DialogueError) as e:
        sc.load_scenario_text('extends = "baseline"\n')
    assert str(e.value) == ("uploaded: extends = 'baseline' is not allowed; an uploaded scenario may extend only a "
                            "shipped scenario by name (none)")


def test_resolve_path_messages_in_full(monkeypatch, tmp_path):
    with pytest.raises(DialogueError) as e:
        sc.resolve_path(str(tmp_path))
    assert str(e.value) == f"{tmp_path} is a folder, not a scenario file"
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(sc, "SHIPPED_DIR", shipped)
    monkeypatch.delenv("DIALOGUE_SCENARIOS", raising=False)
    with pytest.raises(DialogueError) as e:
        sc.resolve_path("nope")
    assert str(e.value) == f"scenario 'nope' not found: no such file, and {sc.no_shipped_hint()}"
    for stem in ("alpha", "baseline"):
        (shipped / f"{stem}.toml").write_text("")
    with pytest.raises(DialogueError) as e:
        sc.resolve_path("alpah")
    assert str(e.value) == ("scenario 'alpah' not found: no such file, and no shipped scenario of that name "
                            "(shipped: baseline, alpha); did you mean 'alpha'?")
    # A name next to the file that refers to it, with or without .toml.
    (tmp_path / "near.toml").write_text("")
    assert sc.resolve_path("near", relative_to=tmp_path) == (tmp_path / "near.toml").resolve()


def test_read_at_and_over_the_size_limit_and_its_other_messages(tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" + b"x" * (sc.MAX_FILE_BYTES - 2) + b"\n")
    assert sc._read(path).name is None  # exactly the limit: read
    path.write_bytes(b"#" + b"x" * (sc.MAX_FILE_BYTES - 1) + b"\n")
    with pytest.raises(DialogueError) as e:
        sc._read(path)
    assert str(e.value) == f"{path}: scenario file is {sc.MAX_FILE_BYTES + 1:,} bytes; the limit is " \
                           f"{sc.MAX_FILE_BYTES:,}"
    path.write_bytes(b"name = \"\xff\"\n")
    with pytest.raises(DialogueError) as e:
        sc._read(path)
    assert str(e.value) == f"{path}: not UTF-8 text; save the scenario file as UTF-8"
    with pytest.raises(DialogueError) as e:
        sc._read(tmp_path)  # a folder: the read fails
    assert str(e.value) == f"{tmp_path}: cannot read scenario file (Is a directory)"


def test_check_ref_at_each_limit_in_full():
    at_limit = ("a" * 200 + "/") * 5 + "b" * (sc.MAX_REF_CHARS - 1005)
    assert len(at_limit) == sc.MAX_REF_CHARS
    sc._check_ref(at_limit)
    with pytest.raises(DialogueError) as e:
        sc._check_ref(at_limit + "b")
    assert str(e.value) == (f"scenario reference is too long ({sc.MAX_REF_CHARS + 1:,} characters); use a shipped "
                            f"name or a path of at most {sc.MAX_REF_CHARS}")
    with pytest.raises(DialogueError) as e:
        sc._check_ref("a\x00b")
    assert str(e.value) == "scenario reference 'a\\x00b' contains a NUL character"
    part = "p" * sc.MAX_PATH_PART_CHARS
    sc._check_ref(f"{part}\\{part}")  # a backslash separates parts too (Windows-style paths)
    sc._check_ref(f"{part}/{part}")
    with pytest.raises(DialogueError) as e:
        sc._check_ref(f"x/{part}p")
    assert str(e.value) == (f"scenario reference {sc.clip(f'x/{part}p')}: a file or folder name in it has "
                            f"{sc.MAX_PATH_PART_CHARS + 1:,} characters; the limit is {sc.MAX_PATH_PART_CHARS}")


def test_load_scenario_checks_the_reference_first():
    with pytest.raises(DialogueError) as e:
        sc.load_scenario("a" * (sc.MAX_REF_CHARS + 1))
    assert str(e.value).startswith(f"scenario reference is too long ({sc.MAX_REF_CHARS + 1:,} characters)")


def test_a_reference_the_file_system_cannot_look_up_is_one_line(monkeypatch, tmp_path):
    # A scenario deep in folders whose `extends` makes the full path longer than the
    # system allows (PATH_MAX, 4096): looking it up fails with ENAMETOOLONG.
    deep = tmp_path.joinpath(*["d" * 240] * ((3800 - len(str(tmp_path))) // 241))
    deep.mkdir(parents=True)
    ref = "/".join(["e" * 250] * 4)
    (deep / "s.toml").write_text(f'extends = "{ref}"\n', encoding="utf-8")
    monkeypatch.chdir(deep)
    with pytest.raises(DialogueError) as e:
        sc.load_scenario("s.toml")
    assert str(e.value) == f"scenario {sc.clip(ref)} cannot be opened (File name too long)"
