"""Write a briefing pack atomically: everything goes into a temporary folder beside
the destination and is moved into place only when every file has been written."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from model.errors import DialogueError

DEFAULT_SENSITIVITY_RUNS = 1000
DEFAULT_SOBOL_N = 1024  # Saltelli base sample: N*(D+2) runs, about 2 s for the baseline's 39 parameters
SENSITIVITY_CHARTS = ("tornado", "sobol")  # written per briefed scenario, beside charts.CHARTS


@dataclass
class BriefResult:
    out: Path
    files: list[Path]
    content: object


def parse_formats(spec: str | None) -> list[str]:
    from model.charts import FORMATS

    items = [f.strip().lower().lstrip(".") for f in (spec or "png").split(",") if f.strip()]
    if not items:
        raise DialogueError("--format: give one or more of png, svg, pdf, e.g. --format png,pdf")
    bad = [f for f in items if f not in FORMATS]
    if bad:
        raise DialogueError(f"unknown format '{bad[0]}'; use one or more of {', '.join(FORMATS)} (e.g. png,pdf)")
    return list(dict.fromkeys(items))


def check_sensitivity(sensitivity_runs: int, sobol_n: int) -> None:
    """Refuse, before any work, settings the tornado or the Sobol' analysis cannot use."""
    from model.brief.content import MIN_SENSITIVITY_RUNS
    from model.sensitivity import MIN_N

    if sensitivity_runs < MIN_SENSITIVITY_RUNS:
        raise DialogueError(f"--sensitivity-runs {sensitivity_runs} is too few for the tornado; use at least "
                            f"{MIN_SENSITIVITY_RUNS} (default {DEFAULT_SENSITIVITY_RUNS})")
    if sobol_n < MIN_N["sobol"] or sobol_n & (sobol_n - 1):
        lo = 1 << max(6, sobol_n.bit_length() - 1)
        raise DialogueError(f"--sobol-n {sobol_n}: Sobol' needs a power of two of at least {MIN_N['sobol']}; "
                            f"use {lo} or {2 * lo} (default {DEFAULT_SOBOL_N})")


def check_size(size: str) -> str:
    from model.charts import SIZES

    if size not in SIZES:
        raise DialogueError(f"unknown size '{size}'; use one of {', '.join(SIZES)}")
    return size


def is_previous_brief(folder: Path) -> bool:
    """A folder written by ``dialogue brief``: its brief.html carries our generator
    mark (or, for packs made before the mark, our provenance line)."""
    page = folder / "brief.html"
    try:
        head = page.read_text(encoding="utf-8", errors="replace")[:200_000]
    except OSError:
        return False
    from model.brief.render import GENERATOR

    return f'content="{GENERATOR}' in head or ('class="prov">Provenance:' in head and "uk-russia-dialogue" in head)


def check_out(out: str | Path, force: bool = False) -> Path:
    """The destination folder: its parent must be an existing, writable folder; the
    folder itself may exist if it is empty or a previous brief (same-named files are
    replaced), or with ``force``; never as a file."""
    out = Path(out)
    parent = out.resolve().parent
    if out.exists() and not out.is_dir():
        raise DialogueError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and not force and any(out.iterdir()) and not is_previous_brief(out):
        raise DialogueError(f"--out {out}: folder is not empty and is not a previous brief; choose a new folder, "
                            "or add --force to write the pack into it")
    if not parent.is_dir():
        raise DialogueError(f"--out {out}: folder {out.parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.is_dir() and not os.access(out, os.W_OK | os.X_OK)):
        raise DialogueError(f"--out {out}: permission denied; choose a folder you can write to")
    return out


# Rough bytes a pack takes, per chart and format and for the page (measured on the
# example pack; deliberately low, so the check refuses only a disk that is surely too full).
_CHART_BYTES = {"png": 60_000, "svg": 150_000, "pdf": 25_000}
_PAGE_BYTES = 250_000


def check_space(out: Path, n_scenarios: int, fmts: list[str]) -> None:
    """Refuse, before any work, a disk that cannot hold the pack."""
    from model.charts import CHARTS

    per_chart = sum(_CHART_BYTES[f] for f in fmts)
    need = _PAGE_BYTES + (max(1, n_scenarios) * len(CHARTS) + len(SENSITIVITY_CHARTS)) * per_chart
    try:
        free = shutil.disk_usage(out.resolve().parent).free
    except OSError:
        return
    if free < need:
        raise DialogueError(f"--out {out}: only {free // 1024:,} kB free on that disk and the pack needs about "
                            f"{need // 1024:,} kB; free some space or choose another folder")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def check_observed(observed, scenarios, from_files, runs, seed):
    """``--observed``: the observations, checked against every scenario's months before any work."""
    from model.observations import as_observations, check_schedule
    from model.scenario import load_scenario

    if from_files:
        raise DialogueError("--observed conditions scenarios as they are simulated, so it cannot apply to --from "
                            "results files; name the SCENARIO instead")
    obs = as_observations(observed)
    for name in scenarios:
        sc = load_scenario(name)
        check_schedule(obs, sc.initial.start, sc.run.horizon)
    return obs


def load_inputs(scenarios, from_files, runs, seed, observed=None):
    """Datasets for the brief: results files first (in order), then simulated scenarios
    (conditioned on ``observed``, when given)."""
    from model import simulate
    from model.results import load
    from model.scenario import load_scenario

    if not scenarios and not from_files:
        raise DialogueError("name at least one SCENARIO or give --from RESULTS.nc")
    loaded = [load(p) for p in from_files]
    scs = [load_scenario(s) for s in scenarios]  # every scenario checked before any simulation
    sims = [simulate(sc, runs=runs, seed=seed, observations=observed) for sc in scs]
    return loaded + sims


def build_brief(scenarios: tuple[str, ...] | list[str] = (), out: str | Path = "brief", from_files=(),
                formats: str | list[str] = "png", size: str = "slide", runs: int | None = None,
                seed: int | None = None, sensitivity_runs: int = DEFAULT_SENSITIVITY_RUNS,
                sobol_n: int = DEFAULT_SOBOL_N, echo=None, force: bool = False, observed=None) -> BriefResult:
    """Write the briefing pack to ``out``. Raises DialogueError, leaving nothing
    behind, for any bad input. ``observed``: an observations file conditioning every
    simulated scenario (model.brief.observed)."""
    from model import charts
    from model.brief.content import build_content, sidecar_json
    from model.brief.render import page_figure, page_html

    fmts = parse_formats(formats) if isinstance(formats, str) else parse_formats(",".join(formats))
    check_size(size)
    check_sensitivity(sensitivity_runs, sobol_n)
    out = check_out(out, force)
    check_space(out, len(scenarios) + len(from_files), fmts)
    obs = check_observed(observed, list(scenarios), list(from_files), runs, seed) if observed is not None else None
    datasets = load_inputs(list(scenarios), list(from_files), runs, seed, obs)
    names = _unique([_safe(str(d.attrs.get("scenario", "results"))) for d in datasets])
    say = echo or (lambda _msg: None)
    say(f"Computing judgments and sensitivity ({len(datasets)} scenario(s))...")
    content = build_content(datasets, names, sensitivity_runs, sobol_n)
    if obs is not None:  # the prior of the first scenario: same scenario, seed and runs, unconditioned
        from model import simulate
        from model.brief.observed import add_update
        from model.scenario import load_scenario

        add_update(content, simulate(load_scenario(scenarios[0]), runs=runs, seed=seed), datasets[0], obs)

    parent = out.resolve().parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise DialogueError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the pack is an ordinary folder
    try:
        written: list[str] = []
        images = []
        main_name = names[0]
        for name, ds in zip(names, datasets, strict=True):
            for chart, (func, kw) in charts.CHARTS.items():
                fig = func(ds, size=size, **kw)
                for f in fmts:
                    fn = f"{name}-{chart}.{f}"
                    (tmp / fn).write_bytes(charts.figure_bytes(fig, f))
                    written.append(fn)
                if name == main_name and chart in ("fan", "outcomes", "contributions", "events", "exports",
                                                   "trajectories"):
                    images.append((fig.get_suptitle().replace("\n", " "), f"{name}-{chart}",
                                   charts.figure_bytes(fig, "png", dpi=96)))
        # The tornado and the Sobol' indices behind "what would change this judgment".
        from model.charts_sensitivity import sobol_chart, tornado_chart

        for chart, fig in (("tornado", tornado_chart(content.tornado, top=12, size=size)),
                           ("sobol", sobol_chart(content.sobol, "confrontation_or_worse", top=12, size=size))):
            for f in fmts:
                fn = f"{main_name}-{chart}.{f}"
                (tmp / fn).write_bytes(charts.figure_bytes(fig, f))
                written.append(fn)
            images.append((fig.get_suptitle().replace("\n", " "), f"{main_name}-{chart}",
                           charts.figure_bytes(fig, "png", dpi=96)))
        if len(datasets) > 1:
            fig = charts.compare_chart(dict(zip(names, datasets, strict=True)), size=size)
            for f in fmts:
                (tmp / f"compare.{f}").write_bytes(charts.figure_bytes(fig, f))
                written.append(f"compare.{f}")
            images.insert(2, (fig.get_suptitle().replace("\n", " "), "compare",
                              charts.figure_bytes(fig, "png", dpi=96)))
        say("Laying out brief.pdf and brief.html...")
        try:
            page = page_figure(content)
        except DialogueError:  # the page is full: an updated brief's subtitle gives way first
            if "observed_short_subtitle" not in content.extra:
                raise
            content.subtitle = content.extra.pop("observed_short_subtitle")
            page = page_figure(content)
        (tmp / "brief.pdf").write_bytes(charts.figure_bytes(page, "pdf"))
        (tmp / "brief.html").write_text(page_html(content, images), encoding="utf-8")
        (tmp / "brief.json").write_text(sidecar_json(content, {
            "scenarios": list(scenarios), "from": [str(p) for p in from_files], "runs": runs, "seed": seed,
            "sensitivity_runs": sensitivity_runs, "sobol_n": sobol_n, "formats": fmts, "size": size}
            | ({"observed": str(observed)} if obs is not None else {}), images),
            encoding="utf-8")
        written += ["brief.pdf", "brief.html", "brief.json"]
        # Move into place: a new folder is renamed in one step; into an existing folder
        # each file is replaced atomically.
        if not out.exists():
            tmp.rename(out)
        else:
            for fn in written:
                os.replace(tmp / fn, out / fn)
            shutil.rmtree(tmp, ignore_errors=True)
    except PermissionError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DialogueError(f"--out {out}: permission denied; choose a folder you can write to") from None
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DialogueError(f"--out {out}: could not write the brief ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BriefResult(out, [out / fn for fn in written], content)
