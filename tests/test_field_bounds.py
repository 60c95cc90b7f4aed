"""Every bounded field, tested at, just inside and just outside each bound.

The cases are generated from the pydantic field metadata and the parameter
registry, so a new bounded field is tested without being listed here. Each refusal
must state the bound the way it is enforced: 'above 0' for an exclusive bound,
'at least 0' or 'between 0 and 1' for inclusive ones.
"""

from __future__ import annotations

import pytest
import tomli_w

from model import DialogueError
from model.params import registry
from model.scenario import Calendar, Initial, ParamSetting, RunSettings, _ParamEntry, load_scenario_text
from model.validation import bound_words, field_bounds

# Each model, and where its fields sit in a scenario file.
SECTIONS = {RunSettings: ("run",), Initial: ("initial",), Calendar: ("calendar",),
            _ParamEntry: ("params", "repression")}


def _field_cases():
    for model, where in SECTIONS.items():
        for name, info in model.model_fields.items():
            lo, hi, lo_open, hi_open = field_bounds(info.metadata)
            kind = int if info.annotation is int else float
            for side, bound, is_open in (("low", lo, lo_open), ("high", hi, hi_open)):
                if bound is not None:
                    yield pytest.param(where, name, kind, side, bound, is_open, (lo, hi, lo_open, hi_open),
                                       id=f"{'.'.join(where)}.{name}-{side}")


def _doc(where: tuple[str, ...], name: str, value) -> str:
    doc: dict = {}
    node = doc
    for part in where:
        node = node.setdefault(part, {})
    node[name] = value
    return tomli_w.dumps(doc)


def _step(kind, bound, bounds) -> float | int:
    """The smallest change a user could mean: 1 for counts, a millionth of the range for numbers."""
    if kind is int:
        return 1
    lo, hi = bounds[0], bounds[1]
    span = (hi - lo) if lo is not None and hi is not None else max(1.0, abs(bound))
    return span * 1e-6


@pytest.mark.parametrize("where, name, kind, side, bound, is_open, bounds", list(_field_cases()))
def test_field_bound(where, name, kind, side, bound, is_open, bounds):
    step = _step(kind, bound, bounds)
    inward = step if side == "low" else -step
    at, inside, outside = kind(bound), kind(bound + inward), kind(bound - inward)
    key = ".".join((*where, name))

    assert load_scenario_text(_doc(where, name, inside)).name  # just inside: accepted
    if is_open:
        with pytest.raises(DialogueError) as exc:
            load_scenario_text(_doc(where, name, at))
        assert f"{key} = {at!r} is out of range" in str(exc.value)
    else:
        load_scenario_text(_doc(where, name, at))
    with pytest.raises(DialogueError) as exc:
        load_scenario_text(_doc(where, name, outside))
    msg = str(exc.value)
    assert f"it must be {bound_words(*bounds)}" in msg, msg
    assert "\n" not in msg


def test_some_fields_really_are_exclusive_and_say_so():
    """The generated cases include both kinds of bound, and the words differ."""
    cases = list(_field_cases())
    assert any(c.values[5] for c in cases) and any(not c.values[5] for c in cases)
    assert len(cases) >= 20
    with pytest.raises(DialogueError, match=r"initial\.exports_gbp_m = 0\.0 is out of range; "
                                            r"it must be above 0 and at most 100000$"):
        load_scenario_text("[initial]\nexports_gbp_m = 0.0\n")
    with pytest.raises(DialogueError, match=r"it must be between -10 and 10$"):
        load_scenario_text("[initial]\nrelations = -10.5\n")
    with pytest.raises(DialogueError, match=r"params\.repression\.spread = -0\.1 is out of range; "
                                            r"it must be at least 0$"):
        load_scenario_text("[params]\nrepression = { spread = -0.1 }\n")


def test_bound_words():
    assert bound_words(0, 1) == "between 0 and 1"
    assert bound_words(0, 100_000, lo_open=True) == "above 0 and at most 100000"
    assert bound_words(0, 1, hi_open=True) == "at least 0 and below 1"
    assert bound_words(0) == "at least 0"
    assert bound_words(0, lo_open=True) == "above 0"
    assert bound_words(None, 5) == "at most 5"
    assert bound_words(0.5, 1.5) == "between 0.5 and 1.5"


def test_setting_and_entry_agree_on_spread():
    """A resolved setting and a file entry accept the same spreads."""
    assert field_bounds(ParamSetting.model_fields["spread"].metadata) == field_bounds(
        _ParamEntry.model_fields["spread"].metadata)
    ParamSetting(value=0.5, dist="normal", spread=0.0)
    with pytest.raises(ValueError):
        ParamSetting(value=0.5, dist="normal", spread=-1e-9)


def _param_cases():
    for name in registry():
        for side in ("low", "high"):
            yield pytest.param(name, side, id=f"{name}-{side}")


@pytest.mark.parametrize("name, side", list(_param_cases()))
def test_parameter_range_bound(name, side):
    spec = registry()[name]
    bound = spec.low if side == "low" else spec.high
    inward = (spec.high - spec.low) * 1e-6 * (1 if side == "low" else -1)
    for value in (bound, bound + inward):
        assert load_scenario_text(_doc(("params",), name, float(value))).value(name) == pytest.approx(value)
    # A rounding overshoot of a few ulps is taken as the bound itself.
    tiny = bound - inward * 1e-6
    assert load_scenario_text(_doc(("params",), name, tiny)).value(name) == bound
    with pytest.raises(DialogueError) as exc:
        load_scenario_text(_doc(("params",), name, float(bound - inward)))
    assert f"it must be between {spec.low:g} and {spec.high:g}" in str(exc.value)
