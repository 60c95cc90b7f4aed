"""Cached computation for the dashboard: simulations, headline figures, charts.

Simulations live in a bounded LRU store shared by all sessions (``st.cache_resource``
holds the store). An explicit store rather than ``st.cache_data`` because it

* hands back the same read-only Dataset without unpickling ~20 MB per rerun,
* can say whether a key is cached, so a progress bar appears only for real work,
* is bounded by total runs as well as entries (ten 10,000-run ensembles would be
  ~1 GB), so memory stays bounded whatever users do.

Keys are a hash of the resolved scenario TOML, which includes runs, seed and horizon.
Derived things (headline figures, paired shifts, chart bytes) are cached with
``st.cache_data(max_entries=...)`` keyed by those hashes, so returning to earlier
settings redraws from memory.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
import xarray as xr

from dashboard import state
from dashboard.safe import checked, md
from model import simulate
from model.scenario import Scenario

MAX_DATASETS = 12
MAX_STORED_RUNS = 60_000          # total runs kept across cached ensembles
CHUNK_RUNS = 1_000                # progress granularity for large ensembles
PROGRESS_FROM_RUNS = 5_000        # below this a spinner is enough

# The chart module uses matplotlib's object-oriented API, but styles through
# ``matplotlib.rc_context``, which changes global rcParams while a figure is built.
# Deferred downloads are generated on server threads, so every figure is drawn
# under this lock.
_MPL_LOCK = threading.Lock()


def scenario_key(sc: Scenario) -> str:
    """Cache key of a resolved scenario (its TOML carries runs, seed, horizon)."""
    return hashlib.sha256(sc.to_toml().encode()).hexdigest()[:20]


class DatasetStore:
    """Thread-safe LRU of simulated ensembles, bounded by entries and total runs."""

    def __init__(self, max_entries: int = MAX_DATASETS, max_runs: int = MAX_STORED_RUNS) -> None:
        self.max_entries, self.max_runs = max_entries, max_runs
        self._data: OrderedDict[str, xr.Dataset] = OrderedDict()
        self._lock = threading.RLock()
        self._sim_lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._data

    def get(self, key: str) -> xr.Dataset | None:
        with self._lock:
            ds = self._data.get(key)
            if ds is not None:
                self._data.move_to_end(key)
            return ds

    def put(self, key: str, ds: xr.Dataset) -> None:
        with self._lock:
            self._data[key] = ds
            self._data.move_to_end(key)
            while len(self._data) > 1 and (len(self._data) > self.max_entries or self.runs > self.max_runs):
                self._data.popitem(last=False)

    @property
    def runs(self) -> int:
        return sum(int(d.sizes["run"]) for d in self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@st.cache_resource(show_spinner=False)
def store() -> DatasetStore:
    return DatasetStore()


def simulate_chunked(sc: Scenario, progress: Callable[[float], None] | None = None) -> xr.Dataset:
    """Simulate ``sc``; large ensembles in chunks of runs so progress can be shown.

    Every random number is a function of (seed, global run index, month, purpose),
    so chunking with ``run_offset`` gives exactly the unsplit ensemble.
    """
    runs = sc.run.runs
    if progress is None or runs < PROGRESS_FROM_RUNS:
        return simulate(sc)
    parts = []
    for offset in range(0, runs, CHUNK_RUNS):
        n = min(CHUNK_RUNS, runs - offset)
        parts.append(simulate(sc, runs=n, run_offset=offset))
        progress((offset + n) / runs)
    ds = xr.concat(parts, dim="run", combine_attrs="override")
    ds.attrs["runs"] = runs
    return ds


@dataclass(frozen=True)
class Ensemble:
    key: str
    ds: xr.Dataset
    seconds: float
    cached: bool


def ensemble(sc: Scenario, label: str = "") -> Ensemble:
    """The simulated ensemble of ``sc``: from the store, or simulated now with a
    spinner (and a progress bar for large runs)."""
    key = scenario_key(sc)
    st_ = store()
    ds = st_.get(key)
    if ds is not None:
        return Ensemble(key, ds, 0.0, True)
    t0 = time.perf_counter()
    what = md("Simulating {} futures × {} months{}…", f"{sc.run.runs:,}", sc.run.horizon, label)
    with st.spinner(checked(what), show_time=sc.run.runs >= PROGRESS_FROM_RUNS):
        bar = st.progress(0.0, text=what) if sc.run.runs >= PROGRESS_FROM_RUNS else None
        with st_._sim_lock:  # one simulation at a time on a small machine
            ds = st_.get(key)
            if ds is None:
                ds = simulate_chunked(sc, (lambda f: bar.progress(f, text=what)) if bar else None)
                st_.put(key, ds)
        if bar is not None:
            bar.empty()
    return Ensemble(key, ds, time.perf_counter() - t0, False)


# ---------------------------------------------------------------- derived figures


@st.cache_data(max_entries=64, show_spinner=False)
def headline(key: str, _ds: xr.Dataset) -> state.Headline:
    return state.headline(_ds)


@st.cache_data(max_entries=64, show_spinner=False)
def shifts(key_current: str, key_preset: str, _current: xr.Dataset, _preset: xr.Dataset) -> list[state.Shift]:
    return state.shifts(_current, _preset)


@st.cache_data(max_entries=64, show_spinner=False)
def summary_csv(key: str, _ds: xr.Dataset) -> bytes:
    from model import summarize

    return summarize(_ds).to_frame().to_csv(index=False).encode("utf-8")


def netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The full ensemble as NetCDF (h5netcdf needs a real file, hence the temp file)."""
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".nc")
    os.close(fd)
    try:
        ds.to_netcdf(path, engine="h5netcdf")
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


# ---------------------------------------------------------------- charts

# id -> (title, caption); drawn by the shared chart module (model/charts.py).
CHARTS: dict[str, tuple[str, str]] = {
    "fan": ("Relations index", "Median and 50/80/95% bands of the relations index, "
                               "on the Goldstein scale with its named bands shaded."),
    "outcomes": ("Outcome at the horizon", "Probability of each outcome class, with Monte Carlo error bars."),
    "contributions": ("What moved relations", "Mean total contribution of each driver to the change "
                                              "in relations over the horizon."),
    "exports": ("UK goods exports to Russia", "2002-2012 history (ONS) continued by the simulated fan."),
    "events": ("Key events", "Cumulative probability that each event has happened by each month."),
    "trajectories": ("Sample futures", "A few individual simulated paths of the relations index."),
    "compare_fan": ("Relations: current vs preset", "Both fans on one axis (same seed, paired runs)."),
    "compare": ("Current vs preset", "Headline probabilities of both scenarios side by side."),
}


def _figure(chart: str, ds: xr.Dataset, other: xr.Dataset | None, names: tuple[str, str]):
    from model import charts

    if chart == "fan":
        return charts.fan_chart(ds, var="relations", size="slide")
    if chart == "outcomes":
        return charts.outcome_chart(ds, size="slide")
    if chart == "contributions":
        return charts.contributions_chart(ds, kind="waterfall", size="slide")
    if chart == "exports":
        return charts.exports_chart(ds, size="slide")
    if chart == "events":
        return charts.events_chart(ds, size="slide")
    if chart == "trajectories":
        return charts.trajectories_chart(ds, n=8, size="slide", seed=0)
    if chart == "compare_fan":
        return charts.fan_chart(ds, var="relations", size="slide", compare=other)
    if chart == "compare":
        return charts.compare_chart({names[0]: ds, names[1]: other}, size="slide")
    raise KeyError(chart)


# On screen, charts are SVG with text left as text (svg.fonttype "none"): the browser
# sets the glyphs, so matplotlib skips rasterising and PNG encoding, which halves the
# drawing time (about 0.3 s instead of 0.65 s for the fan chart) and stays sharp at
# any width. Downloads keep the chart module's own files (fonts as paths, 1920 px PNG).
SCREEN_RC = {"svg.fonttype": "none", "svg.hashsalt": "dialogue"}


def render(chart: str, fmt: str, ds: xr.Dataset, other: xr.Dataset | None = None,
           names: tuple[str, str] = ("current", "preset"), screen: bool = False) -> bytes:
    """Draw one chart with the shared chart module and return its file bytes
    (``model.charts.figure_bytes``: PNG at 1920 x 1080 for slides, SVG, PDF).
    ``screen=True`` gives a light SVG for the page instead (text as text)."""
    from model import charts

    with _MPL_LOCK:
        fig = _figure(chart, ds, other, names)
        if screen:  # the same figure, as SVG with live text for the page
            import matplotlib

            buf = io.BytesIO()
            with matplotlib.rc_context(SCREEN_RC):
                fig.savefig(buf, format="svg", metadata={"Date": None})
            return buf.getvalue()
        return charts.figure_bytes(fig, fmt)


# Which renderer draws the charts on the page: "vega" (interactive Vega-Lite specs from
# model.charts_screen, the default) or "svg" (the paper charts as SVG, the path before
# issue 13; kept so benchmarks/bench_dashboard.py can measure both in one run).
SCREEN_RENDERER = os.environ.get("DIALOGUE_DASHBOARD_CHARTS", "vega").strip().lower()


def screen_spec(key: str, chart: str, ds: xr.Dataset, other: xr.Dataset | None = None,
                names: tuple[str, str] = ("current", "preset")) -> dict:
    """The chart as a Vega-Lite spec for the page (``model.charts_screen``), cached by
    ``key``, the dataset(s) it is drawn from."""
    return _screen_spec(key, chart, ds, other, names)


@st.cache_data(max_entries=400, show_spinner=False)
def _screen_spec(key: str, chart: str, _ds: xr.Dataset, _other: xr.Dataset | None,
                 names: tuple[str, str]) -> dict:
    from model import charts_screen

    return charts_screen.screen_chart(chart, _ds, _other, names).spec()


@st.cache_data(max_entries=400, show_spinner=False)
def chart_bytes(key: str, chart: str, fmt: str, _ds: xr.Dataset, _other: xr.Dataset | None = None,
                names: tuple[str, str] = ("current", "preset"), screen: bool = False) -> bytes:
    """Cached chart bytes; ``key`` names the dataset(s) the chart is drawn from."""
    return render(chart, fmt, _ds, _other, names, screen)


def charts_zip(items: list[tuple[str, xr.Dataset, xr.Dataset | None, tuple[str, str]]], stem: str) -> bytes:
    """Every chart as PNG and SVG in one zip file (drawn on demand, for a download)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for chart, ds, other, names in items:
            for fmt in ("png", "svg"):
                zf.writestr(f"{stem}_{chart}.{fmt}", render(chart, fmt, ds, other, names))
    return buf.getvalue()


# ---------------------------------------------------------------- what matters / when does it go wrong
#
# Heavy analyses run only when the user presses a button (never on a slider redraw).
# Their results are kept in a bounded LRU shared by all sessions, keyed like the
# simulations by the resolved scenario (``scenario_key``) plus the output chosen, so
# pressing the button again for the same assumptions, or returning to them, costs nothing.

TORNADO_RUNS = 300               # random streams per tornado bar (79 parameters: 50,400 runs, as the dashboard reports)
TORNADO_LOW, TORNADO_HIGH = 0.10, 0.90
TORNADO_CHUNK = 8                # parameters per tornado call, for the progress bar
SOBOL_N = 256                    # Saltelli N: N x (D + 2) runs, 20,736 for 79 parameters
DISCOVER_N = 5_000               # futures sampled for scenario discovery
MAX_ANALYSES = 16

# How many times each heavy analysis actually ran in this process (not served from the
# store). Tests read it: a slider move must not add to it.
CALLS: dict[str, int] = {"what_matters": 0, "discover": 0}


@dataclass(frozen=True)
class WhatMatters:
    """Tornado and Sobol' indices of one output for one resolved scenario."""

    key: str
    output: str
    tornado: object   # pandas DataFrame from model.sensitivity.tornado
    sobol: object     # model.sensitivity.SensitivityResult
    seconds: float


@dataclass(frozen=True)
class WhenWrong:
    """Scenario discovery for one outcome: a result, or the one-line reason there is none."""

    key: str
    outcome: str
    result: object | None   # model.discovery.DiscoveryResult
    message: str
    seconds: float


class AnalysisStore:
    """Thread-safe LRU of finished analyses (small objects: tables of a few thousand rows)."""

    def __init__(self, max_entries: int = MAX_ANALYSES) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[str, str, str], object] = OrderedDict()
        self._lock = threading.RLock()
        self.run_lock = threading.Lock()  # one heavy analysis at a time on a small machine

    def get(self, key: tuple[str, str, str]):
        with self._lock:
            v = self._data.get(key)
            if v is not None:
                self._data.move_to_end(key)
            return v

    def put(self, key: tuple[str, str, str], value: object) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@st.cache_resource(show_spinner=False)
def analyses() -> AnalysisStore:
    return AnalysisStore()


_WARM_STARTED = threading.Event()
WARMED = threading.Event()  # set when the analysis libraries are imported


def warm_imports() -> None:
    """Import the analysis libraries (SALib, scipy.stats, PRIM, scikit-learn: about 3 s
    on this machine) in a background thread, once per server process, when an analysis
    tab is first opened, so the first button press does not pay for them. The slider
    path never imports them."""
    if _WARM_STARTED.is_set():
        return
    _WARM_STARTED.set()

    def work() -> None:
        try:
            import prim  # noqa: F401
            import SALib.analyze.sobol  # noqa: F401
            import SALib.sample.sobol  # noqa: F401
            import scipy.stats  # noqa: F401
            import sklearn.tree  # noqa: F401

            import model.charts_sensitivity  # noqa: F401
            import model.discovery  # noqa: F401
        except Exception:  # noqa: BLE001 - the press imports them again and reports any real problem
            logging.getLogger(__name__).exception("dashboard: warming the analysis imports failed")
        finally:
            WARMED.set()

    threading.Thread(target=work, name="dashboard-warm-imports", daemon=True).start()


def stored_what_matters(sc: Scenario, output: str) -> WhatMatters | None:
    """The stored result for these assumptions, if any (a look-up: never computes)."""
    return analyses().get((scenario_key(sc), "what", output))  # type: ignore[return-value]


def stored_when_wrong(sc: Scenario, outcome: str) -> WhenWrong | None:
    return analyses().get((scenario_key(sc), "when", outcome))  # type: ignore[return-value]


def _tornado_in_chunks(sc: Scenario, output: str, progress: Callable[[float], None]):
    """``model.sensitivity.tornado`` over every uncertain parameter, a few parameters per
    call so progress can be shown. Each call repeats the base block on the same random
    streams, so the joined frame equals one call's (stable sort on the swing, in the
    registry's order)."""
    import pandas as pd

    from model.sensitivity import factors, tornado

    names = [f.name for f in factors(sc, "uncertain")]
    chunks = [names[i:i + TORNADO_CHUNK] for i in range(0, len(names), TORNADO_CHUNK)]
    parts = []
    for i, chunk in enumerate(chunks):
        parts.append(tornado(sc, output=output, params=chunk, runs=TORNADO_RUNS, low=TORNADO_LOW,
                             high=TORNADO_HIGH))
        progress((i + 1) / len(chunks))
    t = pd.concat(parts, ignore_index=True)
    return t.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def what_matters(sc: Scenario, output: str, progress: Callable[[float], None] | None = None) -> WhatMatters:
    """Tornado (P10/P90, common random numbers) and Sobol' indices (Saltelli N=SOBOL_N)
    of ``output`` for ``sc``: from the store, or computed now. Raises DialogueError."""
    from model.sensitivity import sensitivity

    key = (scenario_key(sc), "what", output)
    st_ = analyses()
    with st_.run_lock:
        found = st_.get(key)
        if found is not None:
            return found  # type: ignore[return-value]
        report = progress or (lambda f: None)
        CALLS["what_matters"] += 1
        t0 = time.perf_counter()
        # Runs: tornado 24,900, Sobol' 10,496 (plus its analysis); progress split to match.
        t = _tornado_in_chunks(sc, output, lambda f: report(0.7 * f))
        res = sensitivity(sc, method="sobol", n=SOBOL_N, outputs=[output], by_year=False,
                          progress=lambda f: report(0.7 + 0.3 * f))
        out = WhatMatters(key[0], output, t, res, time.perf_counter() - t0)
        st_.put(key, out)
        return out


def when_wrong(sc: Scenario, outcome: str, progress: Callable[[float], None] | None = None) -> WhenWrong:
    """Scenario discovery (``model.discovery.discover``, DISCOVER_N futures) for
    ``outcome``: from the store, or computed now. An outcome that never or always
    happens gives a result with the model's one-line message instead of boxes."""
    from model.discovery import discover
    from model.errors import DialogueError

    key = (scenario_key(sc), "when", outcome)
    st_ = analyses()
    with st_.run_lock:
        found = st_.get(key)
        if found is not None:
            return found  # type: ignore[return-value]
        CALLS["discover"] += 1
        t0 = time.perf_counter()
        try:
            res, message = discover(sc, outcome=outcome, n=DISCOVER_N, progress=progress), ""
        except DialogueError as exc:
            res, message = None, str(exc)
        out = WhenWrong(key[0], outcome, res, message, time.perf_counter() - t0)
        st_.put(key, out)
        return out


def analysis_svg(key: str, chart: str, result: object, **kw) -> bytes:
    """One sensitivity/discovery chart (model.charts_sensitivity) as light SVG for the
    page; ``key`` names the result so the drawing is cached."""
    return _analysis_svg(key, chart, result, tuple(sorted(kw.items())))


@st.cache_data(max_entries=64, show_spinner=False)
def _analysis_svg(key: str, chart: str, _result: object, kw: tuple) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with _MPL_LOCK:
        fig = _analysis_figure(chart, _result, dict(kw))
        with matplotlib.rc_context(SCREEN_RC):
            fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def analysis_png(chart: str, result: object, **kw) -> bytes:
    """The same chart as a slide-size PNG (a download, drawn on click)."""
    from model import charts

    with _MPL_LOCK:
        return charts.figure_bytes(_analysis_figure(chart, result, kw), "png")


def _analysis_figure(chart: str, result, kw: dict):
    """Build the figure (the caller holds ``_MPL_LOCK``)."""
    from model import charts_sensitivity as cs

    if chart == "tornado":
        return cs.tornado_chart(result, top=12, size="slide")
    if chart == "sobol":
        return cs.sobol_chart(result, output=kw["output"], top=12, size="slide")
    if chart == "peeling":
        return cs.peeling_chart(result, size="slide")
    if chart == "box":
        return cs.box_chart(result, size="slide")
    raise KeyError(chart)
