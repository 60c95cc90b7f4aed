"""Dashboard security: user-supplied text never becomes markup, uploads cannot reach
server files, and bad uploads give one plain line (AppTest, no browser; the real-browser
checks of the same links are in ``tests/test_dashboard_browser.py``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import safe, state  # noqa: E402
from model.errors import DialogueError  # noqa: E402
from model.scenario import shipped  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
EVIL_LINK = "[Session expired - click to log in](https://evil.example/login)"
EVIL_IMAGE = "![x](https://evil.example/pixel.png)"
EVIL_BARE = "https://evil.example/a www.evil.example/b c@evil.example"

# Markdown that would render as a link or an image: [text](url), ![alt](url), <url>, and
# the bare URLs / e-mail addresses GitHub-flavoured Markdown auto-links.
LIVE = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(|(?<!\\)<[a-z]+:|https?://|www\.|[\w.+-]@[\w-]+\.", re.I)


def live_markup(text: str) -> list[str]:
    return LIVE.findall(text)


def rendered_text(at: AppTest) -> list[str]:
    """Every Markdown-rendered string on the page (alerts, captions, markdown, titles,
    metric labels, expander labels)."""
    out = [e.value for kind in ("error", "warning", "info", "success", "caption", "markdown", "title")
           for e in getattr(at, kind)]
    out += [m.label for m in at.metric]
    return out


def run_app(query: dict[str, str], tab: str | None = "Share & export") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    if tab:
        at.session_state["view"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def assert_inert(at: AppTest, *needles: str) -> None:
    """No rendered string holds link or image markup, and each needle's text is shown
    (escaped), so the test cannot pass by simply dropping the user's input."""
    texts = rendered_text(at)
    bad = [t for t in texts if live_markup(t)]
    assert not bad, bad
    shown = " ".join(t.replace("\\", "").replace("\u2060", "") for t in texts)
    for n in needles:
        assert n in shown, (n, shown[:2000])


# ---------------------------------------------------------------- the escaping helper


@pytest.mark.parametrize("payload", [EVIL_LINK, EVIL_IMAGE, EVIL_BARE, "<https://evil.example/x>",
                                     "**bold** `code` $x$ :red[x] # h | t |"])
def test_plain_leaves_no_markup_and_keeps_the_characters(payload):
    out = safe.plain(payload)
    assert not live_markup(out), out
    assert out.replace("\\", "").replace("\u2060", "") == payload
    assert not re.search(r"(?<!\\)[*`$\[\]#|<>]", out)


def test_plain_is_one_bounded_line():
    assert safe.plain("a\nb\r\n  c") == "a b c"
    assert len(safe.plain("x" * 5000)) <= safe.MAX_SHOWN


def test_md_escapes_arguments_only():
    assert safe.md("**{}** rejected", "[a](https://evil.example)") == \
        "**\\[a\\]\\(https\\:\u2060\\/\\/evil\\.example\\)** rejected"


# ---------------------------------------------------------------- injection paths in the app


def test_link_text_in_scenario_value_is_shown_as_text():
    at = run_app({"scenario": EVIL_LINK, "runs": "200"})
    assert any("not a shipped scenario" in w.value for w in at.warning)
    assert_inert(at, EVIL_LINK)


def test_image_in_query_key_is_shown_as_text():
    at = run_app({EVIL_IMAGE: "1", "runs": "200"})
    assert any("unknown parameter" in w.value for w in at.warning)
    assert_inert(at, EVIL_IMAGE)


@pytest.mark.parametrize("key", ["repression", "runs"])
def test_markup_in_query_values_is_shown_as_text(key):
    at = run_app({key: EVIL_BARE + " " + EVIL_LINK, "runs": "200"} if key != "runs" else {"runs": EVIL_LINK})
    assert any("ignored" in w.value for w in at.warning)
    assert_inert(at)


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="upload").set_value((name, data, "application/toml")).run()
    assert not at.exception, at.exception
    return at


def test_markup_in_uploaded_file_name_is_shown_as_text():
    at = run_app({"runs": "200"})
    upload(at, f"{EVIL_LINK}.toml", b"[params\n")
    assert any("rejected" in e.value for e in at.error)
    assert_inert(at, EVIL_LINK)


def test_markup_in_uploaded_scenario_name_and_description_is_shown_as_text():
    at = run_app({"runs": "200"})
    data = (f'name = "{EVIL_LINK}"\ndescription = "{EVIL_IMAGE} {EVIL_BARE}"\nextends = "baseline"\n'
            "[params]\nrepression = 0.7\n").encode()
    upload(at, "nice.toml", data)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="scenario").value == state.UPLOAD_PREFIX + EVIL_LINK
    # the sidebar shows the description, the page caption the name
    assert_inert(at, EVIL_LINK, EVIL_IMAGE)
    # a moved slider puts the name into "Changed from ..." and the compare tab
    at.slider(key="p_repression").set_value(0.9).run()
    at.session_state["view"] = "Compare with preset"
    at.run()
    assert not at.exception
    assert_inert(at, EVIL_LINK)
    # download file names (stem of the scenario name) are plain file names
    assert safe.file_stem(EVIL_LINK) == "Session_expired_-_click_to_log_in_https_evil_example_login"


# ---------------------------------------------------------------- uploads and server files

REAL = ROOT / "scenarios" / "crackdown.toml"


def upload_error(name: str, data: bytes) -> str:
    with pytest.raises(DialogueError) as info:
        state.parse_upload(name, data)
    return str(info.value)


@pytest.mark.parametrize("ref", ["/etc/passwd", str(REAL), "/no/such/file.toml", "../../../etc/passwd",
                                 "crackdown.toml", "./baseline"])
def test_upload_may_not_extend_a_path(ref):
    msg = upload_error("probe.toml", f'extends = "{ref}"\n'.encode())
    assert "\n" not in msg
    assert "may extend only a shipped scenario" in msg
    # nothing that tells whether the file exists or what it holds
    assert not re.search(r"line \d|column \d|malformed|no such file|not found|root:", msg), msg
    # the same words whatever the path points at
    assert msg.replace(ref, "REF") == upload_error("probe.toml", b'extends = "/x"\n').replace("/x", "REF")


def test_upload_may_extend_a_shipped_scenario_by_name():
    sc, _ = state.parse_upload("ok.toml", b'name = "mine"\nextends = "crackdown"\n')
    assert sc.value("repression") == pytest.approx(0.85) and "crackdown" in shipped()


def test_path_extends_in_the_app_is_refused_and_state_kept():
    at = run_app({"runs": "200"})
    before = [m.value for m in at.metric]
    for ref in ("/etc/passwd", str(REAL)):
        upload(at, "probe.toml", f'extends = "{ref}"\n'.encode())
        msgs = [e.value for e in at.error]
        assert msgs and all("may extend only a shipped scenario" in m for m in msgs), msgs
        assert not any(re.search(r"line \d|column \d", m) for m in msgs)
        assert at.selectbox(key="scenario").value == "baseline"
        assert [m.value for m in at.metric] == before


@pytest.mark.parametrize("data", [b"x = " + b"[" * 1000 + b"]" * 1000 + b"\n",
                                  b"x = " + b"{a = " * 1000 + b"1" + b"}" * 1000 + b"\n"])
def test_deeply_nested_upload_gives_one_line(data):
    at = run_app({"runs": "200"})
    before = [m.value for m in at.metric]
    upload(at, "deep.toml", data)
    msgs = [e.value for e in at.error]
    assert msgs and all("\n" not in m and "recursion" not in m.lower() for m in msgs), msgs
    assert any("nest" in m for m in msgs), msgs
    assert [m.value for m in at.metric] == before


def test_unexpected_upload_failure_is_one_line_and_logged(monkeypatch, caplog):
    """A bug in the checker (any exception that is not a DialogueError) must neither
    crash the app nor show internals: one line for the user, the traceback in the log."""
    at = run_app({"runs": "200"})

    def broken(name: str, data: bytes):
        raise RuntimeError("internal detail 0xdeadbeef")

    monkeypatch.setattr(state, "parse_upload", broken)
    upload(at, "ok.toml", b'extends = "baseline"\n')
    msgs = [e.value for e in at.error]
    assert msgs and all("0xdeadbeef" not in m and "\n" not in m for m in msgs), msgs
    assert any("could not be checked" in m for m in msgs)
    assert "0xdeadbeef" in caplog.text
    assert at.selectbox(key="scenario").value == "baseline"


# ---------------------------------------------------------------- every call site escapes

# Streamlit calls whose text arguments are rendered as Markdown.
TEXT_ARGS = {"label", "body", "help", "text", "value", "caption", "placeholder", "delta_description"}


def _is_built_text(node: ast.AST) -> bool:
    """An f-string, ``+``/``%`` on text or ``.format``: text assembled at run time."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(isinstance(s, ast.Constant | ast.JoinedStr) and isinstance(getattr(s, "value", ""), str)
                   for s in (node.left, node.right)) or _is_built_text(node.left) or _is_built_text(node.right)
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


# Calls whose first argument is Markdown body text: it must be a constant or come from
# safe.md / safe.plain, even when it is a variable (a message from elsewhere).
BODY_CALLS = {"markdown", "caption", "error", "warning", "info", "success", "write", "title", "header",
              "subheader", "toast", "expander", "spinner"}
# Calls that show text as it is (no Markdown).
PLAIN_CALLS = {"code", "text", "dataframe", "table", "json"}


def _is_escaped(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    f = node.func if isinstance(node, ast.Call) else None
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    return name in {"md", "plain", "checked"}


def streamlit_calls(tree: ast.AST):
    """Calls on ``st`` (``st.x(...)``, ``st.sidebar.x(...)``) or on a container/column
    variable (``col.metric(...)``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            if (isinstance(base, ast.Name) and base.id in {"st", "col", "c1", "c2", "row", "c", "bar"}
                    or isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name)
                    and base.value.id == "st"):
                yield node


def test_no_streamlit_call_gets_unescaped_text():
    """Every st.* call in dashboard/ gets constant text or text from ``safe.md``/``safe.plain``;
    a new call site that formats text inline, or shows a message variable as it is, fails here."""
    found = []
    for path in sorted((ROOT / "dashboard").glob("*.py")):
        for node in streamlit_calls(ast.parse(path.read_text(encoding="utf-8"))):
            if node.func.attr in PLAIN_CALLS:
                continue
            args = list(node.args) + [k.value for k in node.keywords if k.arg in TEXT_ARGS]
            found += [f"{path.name}:{a.lineno} built text" for a in args if _is_built_text(a)]
            body = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "body"), None)
            if node.func.attr in BODY_CALLS and body is not None and not _is_escaped(body):
                found.append(f"{path.name}:{node.lineno} {node.func.attr}() body not from safe.md")
    assert not found, f"build this text with safe.md(...): {found}"


def test_md_templates_are_constant():
    """``md``'s template is trusted text, so it must be a literal: ``md(f"{user}")`` would
    put user text into the template unescaped."""
    found = []
    for path in sorted((ROOT / "dashboard").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            f = node.func if isinstance(node, ast.Call) else None
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if name == "md" and not (node.args and isinstance(node.args[0], ast.Constant)):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"md() needs a literal template: {found}"


@pytest.mark.parametrize("start", ["9999-12", "0000-01"])
def test_out_of_range_start_month_upload_gives_one_line(start):
    """Whether the model refuses the month (a DialogueError) or a deeper layer fails on
    it, the user sees one line and the page keeps working."""
    at = run_app({"runs": "200"})
    upload(at, "far.toml", f'extends = "baseline"\n[initial]\nstart = "{start}"\n'.encode())
    msgs = [e.value for e in at.error]
    assert msgs and all("\n" not in m and "Traceback" not in m for m in msgs), msgs
    at.selectbox(key="scenario").set_value("crackdown").run()
    assert not at.exception and not at.error
    assert len(at.metric) == 5


def test_unexpected_page_error_is_one_line_and_logged(monkeypatch, caplog):
    """A bug while drawing the page (here the simulation step raising) shows one line,
    not a traceback or a blank page, and the sidebar still works."""
    from dashboard import compute

    def broken(sc, label=""):
        raise ValueError("internal detail 0xfeedface")

    monkeypatch.setattr(compute, "ensemble", broken)
    at = run_app({"runs": "200"})
    msgs = [e.value for e in at.error]
    assert len(msgs) == 1 and "something unexpected went wrong" in msgs[0] and "ValueError" in msgs[0], msgs
    assert "0xfeedface" not in msgs[0] and "0xfeedface" in caplog.text
    assert at.selectbox(key="scenario").value == "baseline" and len(at.slider) > 4


def test_markup_in_uploaded_scenario_name_stays_text_in_the_analysis_tabs():
    """The analysis tabs show the model's sentences (labels and numbers) through the safe
    helpers; an uploaded scenario whose name and description carry markup stays inert there."""
    at = run_app({"runs": "200"})
    data = (f'name = "{EVIL_LINK}"\ndescription = "{EVIL_IMAGE} {EVIL_BARE}"\nextends = "baseline"\n'
            "[params]\nrepression = 0.7\n").encode()
    upload(at, "nice.toml", data)
    for tab, button in (("What matters", "wm_run"), ("When does it go wrong", "ww_run")):
        at.session_state["view"] = tab
        at.run()
        [b for b in at.button if b.key == button][0].click().run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        assert_inert(at, EVIL_LINK)
    assert any("Box 1 (PRIM)" in m.value for m in at.markdown)
