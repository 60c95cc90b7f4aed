"""End to end: the real server (``dialogue dashboard``) driven by a real browser.

Starts ``dialogue dashboard --port <free port>``, waits for Streamlit's health
endpoint, then uses Playwright (sync API) with the system Chromium to move a
headline slider, upload an invalid scenario, and save screenshots under
``test-artifacts/``; checks that links carrying Markdown render no link or image,
that the page never contacts another host (it works air-gapped), and that the
headline cards show their labels whole. Skipped only when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

CHROMIUM = os.environ.get("DASHBOARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"browser test needs Chromium at {CHROMIUM} (CI installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dialogue_cmd() -> list[str]:
    exe = shutil.which("dialogue")
    return [exe] if exe else [sys.executable, "-c", "import sys; from model.cli import main; sys.exit(main())"]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"dashboard exited with {proc.returncode}:\n{out}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"dashboard at {url} not healthy after {timeout:.0f} s")


@pytest.fixture(scope="module")
def server():
    """The dashboard served by the real command; always stopped afterwards.
    ``DASHBOARD_URL`` points the tests at a server that is already running instead."""
    if os.environ.get("DASHBOARD_URL"):
        yield os.environ["DASHBOARD_URL"].rstrip("/")
        return
    port = free_port()
    proc = subprocess.Popen([*dialogue_cmd(), "dashboard", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group only
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def metric(page, label_start: str) -> str:
    """Text of the headline metric whose label starts with ``label_start``."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile("^" + re.escape(label_start))))
    return box.locator('[data-testid="stMetricValue"]').first.inner_text()


IDLE_JS = """() => !document.querySelector('[data-testid="stStatusWidget"]')
                  && !document.querySelector('[data-stale="true"]')"""


def wait_idle(page, timeout: float = 60, settle: float = 1.2, poll_ms: int = 150) -> None:
    """Until the app has finished its script run: no running indicator and no stale
    (greyed) elements, continuously for ``settle`` seconds (checked every ``poll_ms``)."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        if page.evaluate(IDLE_JS):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return
        else:
            quiet_since = None
        page.wait_for_timeout(poll_ms)
    raise TimeoutError("the app did not become idle")


def screenshot(page, name: str) -> Path:
    """Whole app: Streamlit scrolls inside its main section, so grow the viewport to
    the content's height first (a plain full-page shot would stop at the fold)."""
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stSidebarContent"]')]
        .map(e => e.scrollHeight), document.body.scrollHeight)""")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(300)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})
    return path


def test_slider_upload_and_screenshot(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?runs=1000")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    wait_idle(page)
    before = metric(page, "Relations")

    # Move "UK-Russia divergence over Syria" from 0.80 to its minimum with the keyboard.
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="divergence over Syria")
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    thumb.press("Home")
    page.wait_for_function(
        """([label, old]) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
              m.innerText.startsWith(label) &&
              m.querySelector('[data-testid="stMetricValue"]').innerText !== old)""",
        arg=["Relations", before], timeout=30_000)
    after = metric(page, "Relations")
    assert float(after.replace("−", "-")) > float(before.replace("−", "-")), (before, after)
    assert "syria_divergence=0" in page.url
    wait_idle(page)
    screenshot(page, "dashboard.png")

    # An invalid scenario file: a clear message, no traceback, the app keeps its state.
    page.set_input_files('[data-testid="stFileUploader"] input[type="file"]', files=[{
        "name": "bad.toml", "mimeType": "application/toml",
        "buffer": b'extends = "baseline"\n[params]\nrepression = 7\n'}])
    err = page.locator('[data-testid="stAlertContentError"]', has_text="Uploaded scenario rejected").first
    err.wait_for()
    assert "out of range" in err.inner_text()
    assert "Traceback" not in page.content()
    assert metric(page, "Relations") == after
    wait_idle(page)
    screenshot(page, "dashboard-upload-error.png")

    # The comparison tab, for the screenshot review.
    page.get_by_role("tab", name="Compare with preset").click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.locator('[data-testid="stVegaLiteChart"]:visible').first.wait_for()
    wait_idle(page)
    screenshot(page, "dashboard-compare.png")
    page.close()


def test_link_reproduces_view(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?scenario=crackdown&repression=0.95&runs=500&seed=3&horizon=36")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    wait_idle(page)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Kremlin repressiveness").locator(
        'input[type="range"]')
    assert float(thumb.input_value()) == 0.95
    captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    assert any("median in Feb\u00a02016" in c for c in captions), captions
    page.close()


# ---------------------------------------------------------------- security and offline use

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def offline_page(browser, width: int = 1400):
    """A page that records every request and WebSocket, and refuses any to another
    host (as an air-gapped network would); returns (page, list of external URLs)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    external: list[str] = []

    def is_external(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme not in {"data", "blob", "about"} and parts.hostname not in LOCAL_HOSTS

    def route(r):
        if is_external(r.request.url):
            external.append(r.request.url)
            return r.abort()
        return r.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("request", lambda req: external.append(req.url) if is_external(req.url) else None)
    page.on("websocket", lambda ws: external.append(ws.url) if is_external(ws.url) else None)
    return page, external


EVIL_LINK = "[Session expired - click to log in](https://evil.example/login)"
EVIL_IMAGE = "![x](https://evil.example/pixel.png)"


def evil_markup(page) -> list[str]:
    """Links, images and sources in the page that point at the evil host."""
    return page.evaluate("""() => [...document.querySelectorAll('a[href], img[src], [srcset], link[href]')]
        .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('srcset'))
        .filter(u => u && u.includes('evil.example'))""")


@pytest.mark.parametrize("query, shown", [
    (f"scenario={quote(EVIL_LINK)}&runs=200", "not a shipped scenario"),
    (f"{quote(EVIL_IMAGE)}=1&runs=200", "unknown parameter"),
    (f"repression={quote('see https://evil.example/x or www.evil.example ' + EVIL_LINK)}&runs=200", "not a number"),
])
def test_links_carrying_markup_render_as_text_and_fetch_nothing(server, browser, query, shown):
    page, external = offline_page(browser)
    page.goto(f"{server}/?{query}")
    alert = page.locator('[data-testid="stAlertContentWarning"]', has_text=shown).first
    alert.wait_for()
    wait_idle(page)
    text = alert.inner_text().replace("\u2060", "")
    assert "evil.example" in text  # the input is shown, as text
    assert not evil_markup(page)
    assert alert.locator("a, img").count() == 0
    assert not external, external
    page.context.close()


def test_uploaded_markup_renders_as_text_and_fetches_nothing(server, browser):
    page, external = offline_page(browser)
    page.goto(f"{server}/?runs=200")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    wait_idle(page)
    data = (f'name = "{EVIL_LINK}"\ndescription = "{EVIL_IMAGE} https://evil.example/d"\n'
            'extends = "baseline"\n[params]\nrepression = 0.7\n').encode()
    page.set_input_files('[data-testid="stFileUploader"] input[type="file"]', files=[{
        "name": f"{EVIL_IMAGE}.toml", "mimeType": "application/toml", "buffer": data}])
    page.get_by_text("Session expired - click to log in", exact=False).first.wait_for()
    wait_idle(page)
    # a bad file whose name carries markup
    page.set_input_files('[data-testid="stFileUploader"] input[type="file"]', files=[{
        "name": f"{EVIL_LINK}.toml", "mimeType": "application/toml", "buffer": b"[params\n"}])
    page.locator('[data-testid="stAlertContentError"]', has_text="rejected").first.wait_for()
    wait_idle(page)
    assert not evil_markup(page)
    assert not external, external
    page.context.close()


def test_normal_session_contacts_no_other_host(server, browser):
    """Load, move a slider, switch tabs: every request stays on the dashboard's own
    server, so the page works air-gapped and leaks nothing (external requests are
    refused here, as they would be offline, and recorded)."""
    page, external = offline_page(browser)
    page.goto(f"{server}/?runs=300")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    wait_idle(page)
    before = metric(page, "Relations")
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="divergence over Syria").locator(
        'input[type="range"]')
    thumb.focus()
    thumb.press("Home")
    page.wait_for_function(
        """([label, old]) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
              m.innerText.startsWith(label) &&
              m.querySelector('[data-testid="stMetricValue"]').innerText !== old)""",
        arg=["Relations", before], timeout=30_000)
    wait_idle(page)
    for tab in ("Compare with preset", "Share & export", "Forecast"):
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    # the page's own fonts and icons came from the server
    fonts = page.evaluate("() => [...document.fonts].filter(f => f.status === 'loaded').length")
    assert fonts >= 1
    assert not external, external
    page.context.close()


TRUNCATED_LABELS_JS = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"] *')]
    .filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""


@pytest.mark.parametrize("width", [1400, 1920])
def test_headline_cards_show_whole_labels(server, browser, width):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?runs=1000&repression=0.8")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    wait_idle(page)
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert len(labels) == 5, labels
    assert not page.evaluate(TRUNCATED_LABELS_JS)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-cards-{width}.png"))
    page.close()


def test_what_matters_button_shows_tornado_and_sentence(server, browser):
    """Press "Find what matters": a progress bar, then the tornado, the Sobol' bars and
    the plain sentence; all on the page's own server (nothing fetched elsewhere)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page, external = offline_page(browser, width=1600)
    page.set_default_timeout(120_000)
    page.goto(f"{server}/?runs=500")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    wait_idle(page)
    page.get_by_role("tab", name="What matters").click()
    button = page.get_by_role("button", name=re.compile("Find what matters"))
    button.wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stImage"] img').count() == 0  # nothing computed before the press
    button.click()
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=30_000)
    sentence = page.get_by_text(re.compile(r"assumptions? carr(y|ies) \d+% of the uncertainty in "
                                           r"P\(confrontation or worse\)")).first
    sentence.wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"moves it most for ")).first.wait_for()
    imgs = page.locator('[data-testid="stImage"] img')
    imgs.nth(1).wait_for()
    wait_idle(page)
    assert imgs.count() == 2
    # the charts are drawn (SVG with live text): the tornado's title names its leader
    srcs = [imgs.nth(i).get_attribute("src") or "" for i in range(2)]
    assert all(s.startswith("data:image/svg") or s.startswith("/media/") for s in srcs), srcs
    box = imgs.first.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 200, box
    assert "Traceback" not in page.content()
    assert not external, external
    page.mouse.move(5, 5)  # away from the button, so its tooltip does not cover the page
    screenshot(page, "dashboard-what-matters.png")

    # When does it go wrong (rupture, the default outcome): the box sentences and two charts.
    page.get_by_role("tab", name="When does it go wrong").click()
    page.get_by_role("button", name=re.compile("Find when it goes wrong")).click()
    page.get_by_text(re.compile(r"Box 1 \(PRIM\)")).first.wait_for(timeout=120_000)
    page.locator('[data-testid="stImage"] img').nth(1).wait_for()
    wait_idle(page)
    assert not external, external
    page.mouse.move(5, 5)
    screenshot(page, "dashboard-when-wrong.png")
    page.context.close()
