"""Dashboard state and widget wiring, without the app's simulations (issue 14).

Every generated slider is checked against the registry entry whose label it shows
(key, range, step, format, help); the session-state helpers, link decoding and
headline figures are checked against values computed here. Fast: the sidebar is
drawn alone through ``AppTest.from_function`` and the datasets are small.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import state, widgets  # noqa: E402
from model import load_scenario, simulate  # noqa: E402
from model.analysis import event_flags, median_shift, paired_runs, phia, probability_shift  # noqa: E402
from model.errors import DialogueError  # noqa: E402
from model.params import HEADLINE, registry  # noqa: E402
from model.scenario import shipped  # noqa: E402

PARAMS = list(registry())


# ---------------------------------------------------------------- widgets' session state

def test_clamp_and_set_run_keep_run_settings_in_range():
    assert widgets._clamp(5, (6, 240)) == 6 and widgets._clamp(241, (6, 240)) == 240
    assert widgets._clamp(6, (6, 240)) == 6 and widgets._clamp(240, (6, 240)) == 240
    assert widgets._clamp(7.9, (6, 240)) == 7
    ss: dict = {}
    base = load_scenario("baseline")
    widgets.set_run(ss, base, {"runs": 5, "seed": -1, "horizon": 1000})
    assert ss == {"runs": 100, "seed": 0, "horizon": 240}
    widgets.set_run(ss, base, {"runs": 10**6, "seed": 2**40, "horizon": 1})
    assert ss == {"runs": 20_000, "seed": 2**31 - 1, "horizon": 6}
    widgets.set_run(ss, base)
    assert ss == {"runs": base.run.runs, "seed": base.run.seed, "horizon": base.run.horizon}
    widgets.set_run(ss, base, {"seed": 3})
    assert ss == {"runs": base.run.runs, "seed": 3, "horizon": base.run.horizon}
    assert widgets.run_settings(ss) == (base.run.runs, 3, base.run.horizon)


def test_set_params_writes_every_parameter_to_its_own_key():
    crack = load_scenario("crackdown")
    ss: dict = {}
    widgets.set_params(ss, crack)
    assert ss == {f"p_{n}": float(crack.value(n)) for n in PARAMS}
    widgets.set_params(ss, crack, {"repression": 0.123})
    assert ss["p_repression"] == 0.123 and ss["p_trade_growth"] == crack.value("trade_growth")
    assert widgets.values(ss) == {n: (0.123 if n == "repression" else float(crack.value(n))) for n in PARAMS}


def test_init_session_from_a_link_and_only_once():
    ss: dict = {}
    widgets.init_session(ss, {"scenario": "crackdown", "repression": "0.25", "runs": "400", "bogus": "1"})
    crack = load_scenario("crackdown")
    assert ss["scenario"] == "crackdown" and ss["uploads"] == {} and ss["upload_error"] is None
    assert ss["problems"] == ["link: unknown parameter 'bogus'; ignored"]
    assert ss["p_repression"] == 0.25 and ss["p_trade_growth"] == crack.value("trade_growth")
    assert widgets.run_settings(ss) == (400, crack.run.seed, crack.run.horizon)
    assert ss["initialised"] is True
    widgets.init_session(ss, {"scenario": "baseline"})  # a later run keeps the session
    assert ss["scenario"] == "crackdown"
    fresh: dict = {}
    widgets.init_session(fresh, {})
    assert fresh["scenario"] == state.preset_names()[0] and fresh["problems"] == []
    assert widgets.current_preset(fresh).name == state.preset_names()[0]


UPLOAD = b'extends = "baseline"\nname = "mine"\n[params.repression]\nvalue = 0.33\n[run]\nruns = 50\n'


def test_accept_upload_switches_to_it_or_keeps_the_last_good_state():
    ss: dict = {}
    widgets.init_session(ss, {})
    ok, label = widgets.accept_upload(ss, "mine.toml", UPLOAD)
    assert (ok, label) == (True, "mine")
    assert ss["scenario"] == "uploaded: mine" and "mine" in ss["uploads"]
    assert ss["p_repression"] == 0.33 and ss["runs"] == 100  # 50 runs clamped to the sidebar's minimum
    assert widgets.current_preset(ss).value("repression") == 0.33
    before = dict(ss)
    ok, msg = widgets.accept_upload(ss, "bad.toml", b"\xff\xfe")
    assert not ok and msg == "bad.toml: not a text file (scenario files are UTF-8 TOML)"
    assert ss == before


# ---------------------------------------------------------------- state: parameters

def test_decimals_and_formats():
    assert [state.decimals(s) for s in (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5)] == [3, 3, 2, 2, 1, 1, 1,
                                                                                            0, 0]
    spec = registry()["repression"]
    assert state.widget_format(spec) == f"%.{state.decimals(spec.widget_step)}f"
    assert state.widget_help(spec) == (f"{spec.help} Units: {spec.units}. Range {spec.low:g} to {spec.high:g}.")
    assert state.param_key("x") == "p_x"


def test_clean_differs_and_overrides():
    assert state.clean(0.020000000000000004) == 0.02 and state.clean(3) == 3.0
    spec = registry()["repression"]
    tol = spec.widget_step * 1e-3
    assert not state.differs(spec, 0.5 + 0.9 * tol, 0.5)
    assert state.differs(spec, 0.5 + 1.1 * tol, 0.5)
    assert state.differs(spec, 0.5 - 1.1 * tol, 0.5)
    base = load_scenario("baseline")
    vals = {n: base.value(n) for n in PARAMS}
    assert state.overrides_from_values(base, vals) == {}
    vals |= {"repression": 0.9000000000000001, "trade_growth": base.value("trade_growth") + 1e-12, "nope": 1.0}
    assert state.overrides_from_values(base, vals) == {"repression": 0.9}


def test_presets_and_uploaded_presets():
    assert state.preset_names() == list(shipped())
    assert state.load_preset("crackdown", {}).name == "crackdown"
    sc, text = state.parse_upload("mine.toml", UPLOAD)
    assert sc.name == "mine" and sc.value("repression") == 0.33
    assert state.load_preset("uploaded: mine", {"mine": text}).value("repression") == 0.33
    with pytest.raises(DialogueError, match="uploaded scenario 'gone' is no longer available; upload it again"):
        state.load_preset("uploaded: gone", {"mine": text})


def test_build_current_and_run_settings():
    base = load_scenario("baseline")
    same = state.build_current(base, {}, 200, 3, 9)
    assert same.name == "baseline" and (same.run.runs, same.run.seed, same.run.horizon) == (200, 3, 9)
    moved = state.build_current(base, {"repression": 0.8, "trade_growth": 0.1}, 200, 3, 9)
    assert moved.name == "baseline_modified"
    assert moved.description == f"{base.description} Changed in the dashboard: repression = 0.8, trade_growth = 0.1."
    assert moved.value("repression") == 0.8 and moved.value("trade_growth") == 0.1
    assert moved.value("syria_divergence") == base.value("syria_divergence")
    r = state.with_run_settings(base, 150, 4, 10).run
    assert (r.runs, r.seed, r.horizon) == (150, 4, 10)


def test_upload_size_limit_and_extends():
    pad = b"# " + b"x" * (state.MAX_UPLOAD_BYTES - len(UPLOAD) - 3) + b"\n"
    assert len(pad + UPLOAD) == state.MAX_UPLOAD_BYTES
    assert state.parse_upload("big.toml", pad + UPLOAD)[0].name == "mine"  # at the limit: accepted
    with pytest.raises(DialogueError, match=r"^big.toml: file is 200,001 bytes; a scenario file is a few kB"):
        state.parse_upload("big.toml", b"#" + pad + UPLOAD)
    state.check_upload_extends("f", 'extends = "crackdown"')
    state.check_upload_extends("f", "name = 'x'")
    state.check_upload_extends("f", "not toml [[")
    with pytest.raises(DialogueError, match=r"^f: extends = '/etc/passwd' is not allowed: .*\(shipped: baseline, "):
        state.check_upload_extends("f", 'extends = "/etc/passwd"')
    long = "a" * 81
    with pytest.raises(DialogueError, match=f"extends = '{'a' * 77}\\.\\.\\.' is not allowed"):
        state.check_upload_extends("f", f'extends = "{long}"')
    with pytest.raises(DialogueError, match=f"extends = '{'a' * 80}' is not allowed"):
        state.check_upload_extends("f", f'extends = "{"a" * 80}"')


# ---------------------------------------------------------------- state: links

def test_encode_url():
    assert state.encode_url("baseline", {"repression": 0.1 + 0.2}, 300.0, 7, 12) == {
        "scenario": "baseline", "repression": "0.3", "runs": "300", "seed": "7", "horizon": "12"}


def test_decode_url_accepts_each_bound_and_refuses_beyond():
    spec = registry()["repression"]
    ok = state.decode_url({"runs": "100", "seed": str(2**31 - 1), "horizon": "240",
                           "repression": f"{spec.low}", "trade_growth": f"{registry()['trade_growth'].high}",
                           "scenario": ["baseline", "crackdown"]})
    assert ok.problems == []
    assert ok.run == {"runs": 100, "seed": 2**31 - 1, "horizon": 240}
    assert ok.values == {"repression": spec.low, "trade_growth": registry()["trade_growth"].high}
    assert ok.scenario == "crackdown"  # the last of repeated values
    ok = state.decode_url({"runs": "20000", "seed": "0", "horizon": "6"})
    assert ok.run == {"runs": 20000, "seed": 0, "horizon": 6} and ok.problems == []
    bad = state.decode_url({"runs": "99", "seed": "-1", "horizon": "241", "repression": "1.01",
                            "trade_growth": "nan", "protest_growth": "x", "scenario": "nowhere", "zzz": "1",
                            "syria_divergence": "y"})
    assert bad.run == {} and bad.values == {} and bad.scenario is None
    tg = registry()["trade_growth"]
    assert bad.problems == [
        "link: runs = 99 is out of range (100 to 20000); ignored",
        "link: seed = -1 is out of range (0 to 2147483647); ignored",
        "link: horizon = 241 is out of range (6 to 240); ignored",
        f"link: repression = 1.01 is out of range; it must be between 0 and 1 ({spec.units}); ignored",
        f"link: trade_growth = nan is out of range; it must be between {tg.low:g} and {tg.high:g} ({tg.units}); "
        "ignored",
        "link: protest_growth = 'x' is not a number; ignored",
        f"link names scenario 'nowhere', which is not a shipped scenario (shipped: {', '.join(shipped())}); "
        "showing the baseline",
        "link: unknown parameter 'zzz'; ignored",
        "link: syria_divergence = 'y' is not a number; ignored",
    ]
    assert state.decode_url({"runs": "1.5"}).problems == ["link: runs = '1.5' is not a whole number; ignored"]


# ---------------------------------------------------------------- state: headline figures

@pytest.fixture(scope="module")
def two():
    # 22 months: both events still start in the last month in some runs, so the horizon month matters.
    a = simulate(load_scenario("baseline"), runs=300, horizon=22, seed=3)
    b = simulate(load_scenario("crackdown"), runs=300, horizon=22, seed=3)
    return a, b


def test_headline_figures_against_the_dataset(two):
    ds, _ = two
    h = state.headline(ds)
    flags = event_flags(ds)
    end = ds.isel(time=-1)
    ind = {"rupture": ds["outcome"].values == "rupture",
           "dialogue suspended": flags["dialogue suspended"].isel(time=-1).values.astype(bool),
           "diplomats expelled": flags["diplomats expelled"].isel(time=-1).values.astype(bool)}
    assert list(h.probs) == ["rupture", "dialogue suspended", "diplomats expelled"]
    for k, x in ind.items():
        p = x.mean()
        assert h.probs[k] == pytest.approx((p, math.sqrt(p * (1 - p) / 300)), abs=1e-15), k
        assert h.words(k) == phia(p)
        np.testing.assert_array_equal(state.indicators(ds)[k], x)
        assert state.indicators(ds)[k].dtype == bool
        if k != "rupture":
            assert (flags[k].isel(time=-2).values != x).any(), k  # the check can tell the months apart
    assert 0 < h.probs["dialogue suspended"][0] < 1  # the check has something to tell apart
    # Medians in float64 (exports are recorded as float32).
    assert h.medians == {"relations": float(np.median(end["relations"].values.astype(np.float64))),
                         "exports": float(np.median(end["exports_gbp_m"].values.astype(np.float64)))}
    assert h.horizon == "2014-12" and h.runs == 300
    assert state.month_name("2018-02") == ("Feb", "2018") and state.month_name("2015-12") == ("Dec", "2015")


def test_shifts_are_paired_in_headline_order(two):
    a, b = two
    got = state.shifts(a, b, boot=50, seed=1)
    paired = paired_runs(a, b)
    ia, ib = state.indicators(a), state.indicators(b)
    la, lb = state.levels(a), state.levels(b)
    want = [probability_shift(k, ia[k], ib[k], paired) for k, _ in state.HEADLINE_PROBS]
    want += [median_shift(k, la[k], lb[k], paired, 50, 1) for k, _ in state.HEADLINE_LEVELS]
    assert got == want
    assert [s.key for s in got] == ["rupture", "dialogue suspended", "diplomats expelled", "relations", "exports"]
    assert set(state.headline_help()) == {"rupture", "dialogue suspended", "diplomats expelled", "relations",
                                          "exports"}


def test_on_upload_switches_to_a_good_file_and_reports_a_bad_one():
    """The upload callback on Streamlit's own session state and UploadedFile (bare mode)."""
    import streamlit as st
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    ss = st.session_state
    for k in list(ss):
        del ss[k]
    widgets.init_session(ss, {})
    ss["upload"] = None
    widgets.on_upload()  # nothing chosen: nothing changes
    assert ss["scenario"] == state.preset_names()[0] and ss["upload_error"] is None
    ss["upload_error"] = "old"
    ss["upload"] = UploadedFile(UploadedFileRec("1", "mine.toml", "application/toml", UPLOAD), None)
    widgets.on_upload()
    assert ss["scenario"] == "uploaded: mine" and ss["upload_error"] is None and ss["p_repression"] == 0.33
    ss["upload"] = UploadedFile(UploadedFileRec("2", "bad.toml", "application/toml", b"\xff"), None)
    widgets.on_upload()
    assert ss["upload_error"] == "bad.toml: not a text file (scenario files are UTF-8 TOML)"
    assert ss["scenario"] == "uploaded: mine"
    for k in list(ss):
        del ss[k]


# ---------------------------------------------------------------- survivors of the first campaign

def test_differs_only_beyond_a_thousandth_of_a_step():
    spec = registry()["repression"]
    tol = spec.widget_step * 1e-3
    assert not state.differs(spec, tol, 0.0)  # exactly a thousandth: slider noise, not a move
    assert state.differs(spec, 2 * tol, 0.0)


def test_upload_errors_name_the_file():
    with pytest.raises(DialogueError, match=r"^f\.toml: malformed TOML"):
        state.parse_upload("f.toml", b"x = [")
    with pytest.raises(DialogueError, match=r"^f\.toml: extends = '/etc/passwd' is not allowed"):
        state.parse_upload("f.toml", b'extends = "/etc/passwd"\n')
    # A byte-order mark does not hide a path from the check.
    with pytest.raises(DialogueError, match=r"^f\.toml: extends = '/etc/passwd' is not allowed"):
        state.parse_upload("f.toml", '\ufeffextends = "/etc/passwd"\n'.encode())
    with pytest.raises(DialogueError) as e:
        state.check_upload_extends("f", "a = " + "[" * 5000 + "]" * 5000)
    assert str(e.value) == "f: the TOML is nested too deeply; a scenario file needs only a few levels of tables"


def test_an_unexpected_checker_failure_is_one_line_and_logged(monkeypatch, caplog):
    def broken(name, data):
        raise RuntimeError("bug")

    monkeypatch.setattr(state, "parse_upload", broken)  # inject a bug into the checker
    ss: dict = {}
    widgets.init_session(ss, {})
    before = dict(ss)
    with caplog.at_level("ERROR", logger="dashboard.widgets"):
        ok, msg = widgets.accept_upload(ss, "f.toml", b"")
    assert (ok, msg) == (False, "f.toml: this file could not be checked (an unexpected error, logged on the "
                                "server); it was not loaded")
    assert ss == before
    assert [r.getMessage() for r in caplog.records] == ["dashboard: checking the upload 'f.toml' failed unexpectedly"]
    assert caplog.records[0].exc_info is not None


def test_a_good_upload_clears_earlier_problems():
    ss: dict = {}
    widgets.init_session(ss, {"zzz": "1"})
    assert ss["problems"] != []
    assert widgets.accept_upload(ss, "mine.toml", UPLOAD) == (True, "mine")
    assert ss["problems"] == []


def test_shifts_default_to_400_bootstrap_draws_seeded_0(two):
    a, b = two
    assert state.shifts(a, b) == state.shifts(a, b, boot=400, seed=0)
    assert state.shifts(a, b)[3] != state.shifts(a, b, boot=400, seed=1)[3]


def _bare_state():
    """Streamlit's own session state in bare mode (no app running), emptied."""
    import streamlit as st

    ss = st.session_state
    for k in list(ss):
        del ss[k]
    return ss


def test_scenario_change_and_reset_callbacks():
    ss = _bare_state()
    widgets.init_session(ss, {"zzz": "1"})
    ss["upload_error"], ss["problems"], ss["scenario"] = "old", ["p"], "crackdown"
    widgets.on_scenario_change()
    assert ss["upload_error"] is None and ss["problems"] == []
    assert widgets.values(ss) == {n: float(load_scenario("crackdown").value(n)) for n in PARAMS}
    ss["scenario"] = "uploaded: gone"
    widgets.on_scenario_change()
    assert ss["problems"] == ["uploaded scenario 'gone' is no longer available; upload it again"]
    ss["scenario"], ss["problems"], ss["runs"], ss["p_repression"] = "baseline", ["p"], 12345, 0.99
    widgets.on_reset()
    base = load_scenario("baseline")
    assert ss["problems"] == [] and ss["runs"] == base.run.runs and ss["p_repression"] == base.value("repression")
    _bare_state()


def _sidebar_with_upload() -> None:
    import streamlit as st

    from dashboard import widgets as w

    ss = st.session_state
    if not ss.get("initialised"):
        w.init_session(ss, {})
        w.accept_upload(ss, "mine.toml", b'extends = "baseline"\nname = "mine"\n')
    w.sidebar(w.current_preset(ss))


def test_sidebar_offers_uploads_and_keeps_the_chosen_one():
    at = AppTest.from_function(_sidebar_with_upload, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert list(at.selectbox[0].options) == [*shipped(), "uploaded: mine"]
    assert at.selectbox[0].value == "uploaded: mine"


# ---------------------------------------------------------------- the sidebar, drawn alone

def _sidebar_app() -> None:
    import streamlit as st

    from dashboard import widgets as w

    w.init_session(st.session_state, {"runs": "300", "seed": "7", "horizon": "12"})
    w.sidebar(w.current_preset(st.session_state))


@pytest.fixture(scope="module")
def sidebar_app() -> AppTest:
    at = AppTest.from_function(_sidebar_app, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_every_slider_shows_its_parameter_and_writes_its_key(sidebar_app):
    at = sidebar_app
    by_label = {registry()[n].label: n for n in PARAMS}
    assert len(by_label) == len(PARAMS)  # labels are unique, so a label names one parameter
    assert sorted(s.label for s in at.slider) == sorted(by_label)
    base = load_scenario("baseline")
    for s in at.slider:
        name = by_label[s.label]
        spec = registry()[name]
        assert s.key == f"p_{name}" == state.param_key(name)
        assert (s.min, s.max, s.step) == (spec.low, spec.high, spec.widget_step), name
        assert s.value == pytest.approx(base.value(name)), name
        assert s.help == state.widget_help(spec)
        assert s.proto.format == state.widget_format(spec)
    # The headline drivers come first, in registry order, then the other groups.
    assert [s.label for s in at.slider][:len(HEADLINE)] == [registry()[n].label for n in HEADLINE]
    assert [n.value for n in at.number_input] == [300, 12, 7]
    assert [n.label for n in at.number_input] == ["Runs (futures simulated)", "Horizon (months)", "Seed"]
    assert list(at.selectbox[0].options) == list(shipped())


def test_moving_a_slider_and_resetting(sidebar_app):
    at = AppTest.from_function(_sidebar_app, default_timeout=60)
    at.run()
    name = "repression"
    s = next(x for x in at.slider if x.key == state.param_key(name))
    s.set_value(0.9).run()
    assert widgets.values(at.session_state)[name] == 0.9
    assert widgets.values(at.session_state)["trade_growth"] == load_scenario("baseline").value("trade_growth")
    at.number_input[0].set_value(5000).run()
    at.button[0].click().run()  # reset: back to the preset, run settings too
    assert widgets.values(at.session_state)[name] == load_scenario("baseline").value(name)
    assert widgets.run_settings(at.session_state) == tuple(
        getattr(load_scenario("baseline").run, k) for k in ("runs", "seed", "horizon"))
    at.selectbox[0].set_value("crackdown").run()
    crack = load_scenario("crackdown")
    assert widgets.values(at.session_state) == {n: float(crack.value(n)) for n in PARAMS}
    assert at.session_state["problems"] == []
    assert at.selectbox[0].value == "crackdown"  # the choice survives the next run


def _sidebar_with_error() -> None:
    import streamlit as st

    from dashboard import widgets as w

    w.init_session(st.session_state, {"scenario": "crackdown"})
    st.session_state["upload_error"] = "bad.toml: not a text file"
    w.sidebar(w.current_preset(st.session_state))


def test_sidebar_sections_run_settings_and_upload_error():
    from dashboard.safe import md, plain

    at = AppTest.from_function(_sidebar_with_error, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["Assumptions"]
    assert [h.value for h in at.subheader] == ["Headline drivers", "Other assumptions", "Monte Carlo",
                                               "Your own scenario"]
    groups: dict[str, int] = {}
    for name, spec in registry().items():
        if name not in HEADLINE:
            groups[spec.group] = groups.get(spec.group, 0) + 1
    assert [e.label for e in at.expander] == [md("{} ({})", g, n) for g, n in groups.items()]
    crack = load_scenario("crackdown")
    assert [c.value for c in at.caption] == [plain(crack.description, limit=600)]
    runs, horizon, seed = (n.proto for n in at.number_input)
    assert (runs.label, runs.min, runs.max, runs.step) == ("Runs (futures simulated)", 100, 20_000, 500)
    assert (horizon.label, horizon.min, horizon.max, horizon.step) == ("Horizon (months)", 6, 240, 6)
    assert (seed.label, seed.min, seed.max, seed.step) == ("Seed", 0, 2**31 - 1, 1)
    assert at.selectbox[0].label == "Scenario preset" and at.button[0].label == "Reset to scenario"
    assert [e.value for e in at.error] == [md("Upload rejected: {}", "bad.toml: not a text file")]
