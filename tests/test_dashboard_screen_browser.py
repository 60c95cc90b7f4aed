"""The interactive charts in a real browser: ``dialogue dashboard`` served for real,
Chromium driven by Playwright. Hovering the fan chart shows a tooltip whose month and
median are the model's; the charts fetch nothing from another host. Skipped only when
/usr/bin/chromium is missing (as tests/test_dashboard_browser.py, whose server and
browser fixtures this module reuses: each module starts its own server).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

import numpy as np
import pytest
from test_dashboard_browser import (  # noqa: F401 - browser: a pytest fixture, used by name
    CHROMIUM,
    ROOT,
    browser,
    dialogue_cmd,
    free_port,
    offline_page,
    wait_healthy,
    wait_idle,
)

from model import charts, load_scenario, simulate
from model.scenario import shipped

RUNS, HORIZON = 300, 24
CHART = '[data-testid="stVegaLiteChart"]'

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                reason=f"browser test needs Chromium at {CHROMIUM}")


@pytest.fixture(scope="module")
def server():
    """``dialogue dashboard`` on a free port, not watching its source files: other work in
    this tree would otherwise put Streamlit's "source changed, rerun?" prompt on the page,
    and the page would never look idle."""
    port = free_port()
    env = os.environ | {"STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    proc = subprocess.Popen([*dialogue_cmd(), "dashboard", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
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


def expected_medians() -> dict[str, str]:
    """Month label -> median relations as the tooltip prints it, computed here from the
    model (the dashboard's baseline view at these run settings)."""
    from dashboard import state

    preset = load_scenario(shipped()["baseline"])
    ds = simulate(state.build_current(preset, {}, RUNS, preset.run.seed, HORIZON))
    med = np.median(ds["relations"].values.astype(np.float64), axis=0)
    return {charts.month_label(t): charts.fmt_pts(m, 2) for t, m in zip(ds["time"].values, med, strict=True)}


def tooltip_at(page, box: dict, fx: float, fy: float = 0.55) -> str:
    """Move the pointer to a fraction of the chart's box and return the tooltip's text."""
    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    tip = page.locator("#vg-tooltip-element")
    page.wait_for_function("""() => { const t = document.querySelector('#vg-tooltip-element');
        return t && t.classList.contains('visible') && t.innerText.includes('Month'); }""", timeout=15_000)
    return tip.inner_text()


def test_hovering_the_fan_chart_shows_the_models_month_and_median(server, browser):  # noqa: F811
    page, external = offline_page(browser)
    page.set_default_timeout(120_000)
    page.goto(f"{server}/?runs={RUNS}&horizon={HORIZON}")
    chart = page.locator(CHART).first
    chart.locator("canvas, svg").first.wait_for()
    wait_idle(page, timeout=120)
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    want = expected_medians()
    seen = []
    for fx in (0.45, 0.8):
        text = tooltip_at(page, box, fx)
        month = re.search(r"Month\s+([A-Z][a-z]{2} \d{4})", text)
        median = re.search(r"Median\s+([+\u2212-]?\d+\.\d\d)(?!\d)", text)
        assert month and median, text
        assert month.group(1) in want, (month.group(1), sorted(want))
        assert median.group(1) == want[month.group(1)], (text, want[month.group(1)])
        assert re.search(r"80% of runs\s+\S+ to \S+", text), text
        seen.append(month.group(1))
    assert seen[0] != seen[1]  # the tooltip follows the pointer along the months
    assert not external, external  # Vega draws locally: nothing from another host
    page.context.close()
