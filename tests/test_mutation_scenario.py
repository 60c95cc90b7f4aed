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
