"""``dialogue sensitivity`` and ``dialogue discover``: which assumptions matter, and
which combinations lead to an outcome.

Both validate everything before simulating, print plain-language results, and
write their files (``--out DIR``) into a temporary sibling folder that is renamed
into place only when complete, so a failure never leaves a half-written folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from model.errors import DialogueError

_MARKERS = ("sensitivity.csv", "boxes.csv")  # files that show a folder is one of ours


def check_out_dir(out: str | None) -> Path | None:
    """Refuse an output folder that cannot work, before any simulating."""
    if not out:
        return None
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise DialogueError(f"{path}: exists and is not a folder; choose a folder name for --out")
    if path.is_dir() and any(path.iterdir()) and not any((path / m).exists() for m in _MARKERS):
        raise DialogueError(f"{path}: folder exists and holds other files; choose a new or empty folder")
    if not path.resolve().parent.is_dir():
        raise DialogueError(f"{path.parent}: folder does not exist; create it first")
    return path


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_dir)``, then move the finished folder to ``path``."""
    parent = path.resolve().parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=parent))
    except PermissionError:
        raise DialogueError(f"{parent}: permission denied; choose a folder you can write to") from None
    try:
        write(tmp)
        old = None
        if path.exists():
            old = parent / f".{path.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
        tmp.rename(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise DialogueError(f"{path}: could not write results ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@click.command()
@click.argument("scenario")
@click.option("--method", default="sobol", show_default=True, help="sobol, morris or delta.")
@click.option("--params", "params", default="uncertain", show_default=True,
              help="headline, uncertain, all, or comma-separated parameter names.")
@click.option("--n", "n", type=int, help="Sample size: Sobol' base N (power of two) [1024], Morris trajectories "
                                         "[20], delta samples [4096].")
@click.option("--outputs", help="Comma-separated outputs [all]: confrontation_or_worse, rupture, confrontation, cool, "
                                "thaw, dialogue_suspended, expulsions, sanctions, relations, exports.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed [scenario's].")
@click.option("--horizon", type=click.IntRange(1, 600), help="Months to simulate [scenario's].")
@click.option("--tornado-runs", type=click.IntRange(0, 100_000), default=1000, show_default=True,
              help="Runs per bar of the P10/P90 tornado (0: no tornado).")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the tables (Parquet, CSV) and charts.")
def sensitivity(scenario, method, params, n, outputs, seed, horizon, tornado_runs, out) -> None:
    """Which assumptions does the forecast for SCENARIO rest on? (SALib: Sobol', Morris, delta)"""
    # By name from the module: ``model.sensitivity`` is also the function exported by ``model``.
    from model.scenario import load_scenario
    from model.sensitivity import (
        DEFAULT_N,
        check_n,
        check_outputs,
        factors,
        run_sensitivity,
        tornado,
        tornado_sentence,
    )

    out_dir = check_out_dir(out)
    check_n(method, DEFAULT_N.get(method, 0) if n is None else n)
    names = check_outputs(outputs)
    sc = load_scenario(scenario)
    factors(sc, params)  # validates --params before any simulating
    res = run_sensitivity(sc, method=method, params=params, n=n, outputs=names, seed=seed, horizon=horizon)
    click.echo(res.text())
    tor = None
    target = "confrontation_or_worse" if "confrontation_or_worse" in names else names[0]
    if tornado_runs:
        tor = tornado(sc, output=target, params=params, runs=tornado_runs, seed=seed, horizon=horizon)
        click.echo("\nOne at a time (tornado, P10 to P90 of each assumption's own distribution, common random "
                   f"numbers, {tornado_runs:,} runs a bar):\n  " + tornado_sentence(tor))
    if out_dir is None:
        return

    def write(tmp: Path) -> None:
        from model.charts import save_figure
        from model.charts_sensitivity import sobol_chart, timeline_chart, tornado_chart

        res.save(tmp)
        (tmp / "summary.txt").write_text(res.text() + "\n", encoding="utf-8")
        save_figure(sobol_chart(res, target), tmp / f"{method}.png")
        if res.table["month"].nunique() > 1:
            save_figure(timeline_chart(res, target), tmp / f"{method}-by-year.png")
        if tor is not None:
            tor.to_csv(tmp / "tornado.csv", index=False)
            tor.to_parquet(tmp / "tornado.parquet", index=False)
            save_figure(tornado_chart(tor), tmp / "tornado.png")

    write_atomically(out_dir, write)
    click.echo(f"\nWrote {out_dir}/ (sensitivity.parquet, sensitivity.csv, charts)")


@click.command()
@click.argument("scenario")
@click.option("--outcome", required=True, help="rupture, confrontation_or_worse, confrontation, cool, thaw, "
                                                "dialogue_suspended, expulsions or sanctions (by the horizon).")
@click.option("--params", "params", default="uncertain", show_default=True,
              help="headline, uncertain, all, or comma-separated parameter names.")
@click.option("--n", "n", type=int, default=10_000, show_default=True, help="Futures sampled (Latin hypercube).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed [scenario's].")
@click.option("--horizon", type=click.IntRange(1, 600), help="Months to simulate [scenario's].")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the boxes (Parquet, CSV) and charts.")
def discover(scenario, outcome, params, n, seed, horizon, out) -> None:
    """Which combinations of assumptions make OUTCOME likely in SCENARIO? (PRIM, CART)"""
    import model.discovery as discovery
    from model.scenario import load_scenario
    from model.sensitivity import factors
    from model.validation import suggest

    out_dir = check_out_dir(out)
    if outcome not in discovery.OUTCOMES:
        raise DialogueError(f"unknown outcome '{outcome}' (outcomes: {', '.join(discovery.OUTCOMES)})"
                            f"{suggest(outcome, discovery.OUTCOMES)}")
    if n < discovery.MIN_N:
        raise DialogueError(f"--n {n} is too small for scenario discovery; use at least {discovery.MIN_N}")
    sc = load_scenario(scenario)
    factors(sc, params)
    res = discovery.discover(sc, outcome=outcome, params=params, n=n, seed=seed, horizon=horizon)
    click.echo(res.text())
    if out_dir is None:
        return

    def write(tmp: Path) -> None:
        from model.charts import save_figure
        from model.charts_sensitivity import box_chart, peeling_chart

        res.save(tmp)
        (tmp / "summary.txt").write_text(res.text() + "\n", encoding="utf-8")
        save_figure(peeling_chart(res), tmp / "peeling.png")
        if res.boxes or res.cart:
            save_figure(box_chart(res), tmp / "box.png")

    write_atomically(out_dir, write)
    click.echo(f"\nWrote {out_dir}/ (boxes.parquet, boxes.csv, peeling.csv, futures.parquet, charts)")
