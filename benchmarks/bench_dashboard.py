"""How fast does the dashboard redraw after a slider change? (not a test)

Measures, side by side in one run, at 2,000 runs x 60 months on the Forecast tab:

* AppTest (the app's script in-process, no browser): first load; a slider change
  to a new value (cold: simulate + headline + chart); returning to an earlier
  value (cached); the "All six" chart grid, cold and cached. Each row gives the
  median and worst wall time over several changes and the in-app breakdown
  (cumulative seconds at the end of each phase, from ``st.session_state["_timing"]``).
* "What matters" and "When does it go wrong" (AppTest): the button press, from click to
  the page drawn with its charts (the store of analyses cleared before each press),
  with the in-app compute time; and a slider change with that tab open, which must
  compute nothing (checked with ``dashboard.compute.CALLS``).
* Browser round trip (if /usr/bin/chromium exists): the real server started by
  ``dialogue dashboard``, a Playwright keyboard press on a headline slider, timed
  until the headline figure and the chart image have changed and the app is idle.
* ``--renderers``: the screen renderer (Vega-Lite specs, the default) beside the matplotlib
  SVG path (``DIALOGUE_DASHBOARD_CHARTS=svg``), each on its own fresh ``dialogue dashboard``
  in one run: key press to the headline figures changed, key press to the page idle (and
  painted), with the fan chart and with "All six"; medians of ``--steps`` moves to new
  values. Writes its own table (between the ``bench-screen`` markers).

Usage::

    python benchmarks/bench_dashboard.py            # print and write docs/dashboard.md
    python benchmarks/bench_dashboard.py --no-write
    python benchmarks/bench_dashboard.py --no-browser
    python benchmarks/bench_dashboard.py --renderers --steps 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine import cpu_model  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
DOC = ROOT / "docs" / "dashboard.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SCREEN_START, SCREEN_END = "<!-- bench-screen:start -->", "<!-- bench-screen:end -->"
RUNS, HORIZON = 2000, 60


def machine() -> str:
    cpu = cpu_model()
    import streamlit

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
            f"Python {platform.python_version()}, Streamlit {streamlit.__version__}; "
            f"load average at start {load}")


def stats(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s (worst {max(xs):.2f} s, n={len(xs)})"


def breakdown(timings: list[dict]) -> str:
    keys = ("simulate", "headline", "total")
    med = {k: statistics.median(t[k] for t in timings) for k in keys}
    return (f"simulated by {med['simulate']:.2f} s, headline figures by {med['headline']:.2f} s, "
            f"script done at {med['total']:.2f} s")


# ---------------------------------------------------------------- AppTest


def bench_apptest(values_cold: list[float]) -> list[tuple[str, str, str]]:
    from streamlit.testing.v1 import AppTest

    rows = []
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.query_params["runs"] = str(RUNS)
    at.query_params["horizon"] = str(HORIZON)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    assert not at.exception, at.exception
    rows.append(("First load (simulate baseline, draw fan chart)", f"{first:.2f} s",
                 breakdown([at.session_state["_timing"]])))

    def change(values, param="repression"):
        walls, timings = [], []
        for v in values:
            at.slider(key=f"p_{param}").set_value(v)
            t = time.perf_counter()
            at.run()
            walls.append(time.perf_counter() - t)
            timings.append(dict(at.session_state["_timing"]))
            assert not at.exception, at.exception
        return walls, timings

    walls, timings = change(values_cold)
    assert all(t["simulated_now"] for t in timings)
    rows.append(("Slider change to a new value (cold)", stats(walls), breakdown(timings)))
    walls, timings = change([*reversed(values_cold[:-1]), 0.6])  # 0.6: the baseline, loaded first
    assert not any(t["simulated_now"] for t in timings)
    rows.append(("Return to an earlier value (cached)", stats(walls), breakdown(timings)))

    at.segmented_control(key="chart").set_value("all")
    at.slider(key="p_repression").set_value(0.5)
    t = time.perf_counter()
    at.run()
    cold_all = time.perf_counter() - t
    rows.append(("Slider change, all six charts shown (cold)", f"{cold_all:.2f} s",
                 breakdown([at.session_state["_timing"]])))
    at.slider(key="p_repression").set_value(values_cold[0])
    at.run()
    at.slider(key="p_repression").set_value(0.5)
    t = time.perf_counter()
    at.run()
    rows.append(("Return to an earlier value, all six charts (cached)", f"{time.perf_counter() - t:.2f} s",
                 breakdown([at.session_state["_timing"]])))
    return rows


def bench_analyses(presses: int) -> list[tuple[str, str, str]]:
    from streamlit.testing.v1 import AppTest

    from dashboard import compute

    rows = []
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.query_params["runs"] = str(RUNS)
    at.query_params["horizon"] = str(HORIZON)
    at.session_state["view"] = "What matters"
    at.run()
    assert not at.exception, at.exception
    # Opening the tab starts importing SALib/PRIM/scikit-learn in the background (once per
    # server); a reader takes longer than that to read the tab's introduction.
    t = time.perf_counter()
    compute.WARMED.wait(60)
    rows.append(("Opening an analysis tab: SALib, PRIM, scikit-learn imported in the background (once per server; "
                 "wait after the tab was drawn)",
                 f"{time.perf_counter() - t:.2f} s", "the page is drawn at once; presses below start after it"))
    new_values = iter([(0.62, 0.64, 0.66), (0.68, 0.70, 0.72)])  # values not simulated before: cold
    for tab, button, kind, what in (
            ("What matters", "wm_run", "what_matters",
             f"tornado {compute.TORNADO_RUNS} runs a bar + Sobol' N={compute.SOBOL_N}, P(confrontation or worse)"),
            ("When does it go wrong", "ww_run", "discover", f"discovery, {compute.DISCOVER_N:,} futures, rupture")):
        at.session_state["view"] = tab
        at.run()
        walls, inner = [], []
        for _ in range(presses):
            compute.analyses().clear()
            calls = compute.CALLS[kind]
            t = time.perf_counter()
            [b for b in at.button if b.key == button][0].click().run()
            walls.append(time.perf_counter() - t)
            assert not at.exception, at.exception
            assert compute.CALLS[kind] == calls + 1
            inner.append(at.session_state["wm_last" if kind == "what_matters" else "ww_last"].seconds)
        rows.append((f"{tab}: button press to page drawn ({what})", stats(walls),
                     f"analysis {statistics.median(inner):.2f} s (median; first press {inner[0]:.2f} s), the rest is "
                     "drawing the charts; progress bar throughout"))
        # A slider change with the tab open: the normal redraw, nothing recomputed.
        walls = []
        calls = compute.CALLS[kind]
        for v in next(new_values):
            at.slider(key="p_repression").set_value(v)
            t = time.perf_counter()
            at.run()
            walls.append(time.perf_counter() - t)
            assert not at.exception, at.exception
            assert at.session_state["_timing"]["simulated_now"]
        assert compute.CALLS[kind] == calls, "a slider move ran the analysis"
        rows.append((f"Slider change (cold) with the {tab} tab open", stats(walls),
                     "no analysis run (call counter unchanged); last result shown, marked out of date"))
        at.slider(key="p_repression").set_value(0.6)
        at.run()
    return rows


# ---------------------------------------------------------------- browser


def bench_browser(steps: int) -> list[tuple[str, str, str]]:
    """Key presses in a real browser with the default (Vega-Lite) charts; ``--renderers``
    compares with the matplotlib path."""
    from test_dashboard_browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        return [("Browser round trip", "skipped", f"no Chromium at {CHROMIUM}")]
    res = _browser_moves("vega", steps)
    return [("Browser: key press to new value (cold), page idle and painted", stats(res["idle"]),
             f"headline figures changed after {_med(res['metric'])}"),
            ("Browser, all six charts: key press to new value (cold), page idle and painted",
             stats(res["all_idle"]), f"headline figures changed after {_med(res['all_metric'])}")]


PAINTED_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def _browser_moves(renderer: str, steps: int) -> dict[str, list[float]]:
    """Key presses on a fresh ``dialogue dashboard`` drawing its charts with ``renderer``
    ("vega" or "svg"): per press, seconds to the headline figures changed and to the page
    idle and painted; with the fan chart, then with "All six"."""
    from playwright.sync_api import sync_playwright
    from test_dashboard_browser import ARGS, CHROMIUM, IDLE_JS, dialogue_cmd, free_port, wait_healthy, wait_idle

    port = free_port()
    # No source watching: other work in the tree would put a "source changed" prompt on the page.
    env = os.environ | {"DIALOGUE_DASHBOARD_CHARTS": renderer, "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    proc = subprocess.Popen([*dialogue_cmd(), "dashboard", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    out: dict[str, list[float]] = {"metric": [], "idle": [], "all_metric": [], "all_idle": []}
    chart_sel = '[data-testid="stVegaLiteChart"]' if renderer == "vega" else '[data-testid="stImage"] img'
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(f"{url}/?runs={RUNS}&horizon={HORIZON}")
            page.locator(chart_sel).first.wait_for()
            wait_idle(page, timeout=180, settle=1.0, poll_ms=50)
            thumb = page.locator('[data-testid="stSlider"]').filter(
                has_text="Kremlin repressiveness").locator('input[type="range"]')

            def press(key: str) -> tuple[float, float]:
                met0 = _metrics(page)
                thumb.focus()
                t = time.perf_counter()
                thumb.press(key)
                t_metric = t_busy = None
                while time.perf_counter() - t < 120:
                    now = time.perf_counter() - t
                    if t_metric is None and _metrics(page) != met0:
                        t_metric = now
                    idle = page.evaluate(IDLE_JS)
                    if not idle and t_busy is None:
                        t_busy = now
                    if idle and (t_busy is not None or t_metric is not None):
                        page.evaluate(PAINTED_JS)
                        break
                    page.wait_for_timeout(10)
                t_idle = time.perf_counter() - t
                wait_idle(page, timeout=120, settle=0.8, poll_ms=50)
                return (t_metric if t_metric is not None else float("nan")), t_idle

            for _ in range(steps):
                m, i = press("ArrowRight")
                out["metric"].append(m)
                out["idle"].append(i)
            page.locator('[data-testid="stButtonGroup"]').first.get_by_text("All six", exact=True).click()
            wait_idle(page, timeout=180, settle=1.0, poll_ms=50)
            for _ in range(steps):
                m, i = press("ArrowRight")
                out["all_metric"].append(m)
                out["all_idle"].append(i)
            browser.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=15)
    return out


def _med(xs: list[float]) -> str:
    ok = [x for x in xs if x == x]
    if not ok:
        return "n/a"
    return f"{statistics.median(ok):.2f} s (worst {max(ok):.2f}, n={len(ok)})"


def bench_renderers(steps: int) -> str:
    """The two renderers side by side, each on its own fresh server, in one run."""
    from test_dashboard_browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        return f"Skipped: no Chromium at {CHROMIUM}."
    res = {r: _browser_moves(r, steps) for r in ("svg", "vega")}
    rows = [("Key press to headline figures changed (fan chart shown)", "metric", "\u2264 0.5 s"),
            ("Key press to page idle and painted (fan chart shown)", "idle", "\u2264 1.0 s"),
            ("\"All six\": key press to headline figures changed", "all_metric", ""),
            ("\"All six\": key press to page idle and painted", "all_idle", "\u2264 1.5 s")]
    lines = ["| What (new value each press) | Vega-Lite screen renderer (now) | matplotlib SVG (before) | Target |",
             "|---|---|---|---|"]
    lines += [f"| {label} | {_med(res['vega'][k])} | {_med(res['svg'][k])} | {target} |" for label, k, target in rows]
    return "\n".join(lines)


def write_block(text: str, start: str, end: str) -> None:
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if start not in doc:
        doc += f"\n{start}\n{end}\n"
    doc = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{text}\n{end}", doc, flags=re.S)
    DOC.write_text(doc, encoding="utf-8")


def _metrics(page) -> str:
    return "|".join(page.locator('[data-testid="stMetricValue"]').all_inner_texts())


# ---------------------------------------------------------------- report


def report(rows: list[tuple[str, str, str]], header: str) -> str:
    lines = [header, "", "| What | Time | Breakdown |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else f"{START}\n{END}\n"
    if START not in doc:
        doc += f"\n{START}\n{END}\n"
    doc = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{text}\n{END}", doc, flags=re.S)
    DOC.write_text(doc, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/dashboard.md alone")
    ap.add_argument("--no-browser", action="store_true", help="AppTest timings only")
    ap.add_argument("--steps", type=int, default=5, help="slider changes per measurement")
    ap.add_argument("--presses", type=int, default=3, help="button presses per analysis measurement")
    ap.add_argument("--only-analyses", action="store_true", help="just the What matters / discovery rows")
    ap.add_argument("--renderers", action="store_true",
                    help="only the browser comparison of the Vega-Lite and matplotlib chart paths")
    args = ap.parse_args()
    header = (f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine()}. "
              f"{RUNS:,} runs x {HORIZON} months, Forecast tab (fan chart) unless stated.")
    if args.renderers:
        text = (f"Measured {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M')} UTC on {machine()}. "
                f"{RUNS:,} runs x {HORIZON} months, Chromium (Playwright) against `dialogue dashboard`, "
                f"key presses on the Kremlin repressiveness slider, each to a new value.\n\n"
                + bench_renderers(args.steps))
        print(text)
        if not args.no_write:
            write_block(text, SCREEN_START, SCREEN_END)
            print(f"\nwrote {DOC.relative_to(ROOT)}")
        return 0
    values = [round(0.61 + 0.02 * i, 2) for i in range(args.steps)]
    rows = [] if args.only_analyses else bench_apptest(values)
    rows += bench_analyses(args.presses)
    if not args.no_browser and not args.only_analyses:
        rows += bench_browser(args.steps)
    text = report(rows, header)
    print(text)
    if not args.no_write:
        write_doc(text)
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
