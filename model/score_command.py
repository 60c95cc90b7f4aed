"""``dialogue score``: score a saved forecast against a resolutions file."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from model.errors import DialogueError

OUTPUTS = ("scores.csv", "summary.csv", "reliability.png", "pit.png")


@click.command()
@click.argument("forecast", type=click.Path(dir_okay=False))
@click.argument("resolutions", type=click.Path(dir_okay=False))
@click.option("--baseline", "baseline", default="persistence,trend,base-rate", show_default=True,
              metavar="LIST", help="Baselines to score beside the model (comma-separated), or none.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for scores.csv, summary.csv and the "
              "reliability and PIT charts (created if missing; existing files of those names are replaced).")
def score(forecast, resolutions, baseline, out) -> None:
    """Score FORECAST.nc (from 'dialogue run --out') against RESOLUTIONS.toml.

    Numbers get the CRPS, coverage of the 50/80/90% intervals and the PIT; events and
    states the Brier and log scores; each beside naive baselines, with skill as the
    ratio model / baseline. See docs/scoring.md.
    """
    from model.resolutions import load_resolutions
    from model.results import load
    from model.scoring import parse_baselines
    from model.scoring import score as run_score

    names = parse_baselines(baseline)
    folder = _check_out(out) if out else None
    res = load_resolutions(resolutions)
    ds = load(forecast)
    report = run_score(ds, res, names)
    files = _render(report) if folder else {}
    click.echo(report.table())
    if folder:
        _write_all(folder, files)
        click.echo(f"\nWrote {', '.join(files)} to {folder}")
    else:
        click.echo("\n(add --out DIR for the per-fact CSV and the reliability and PIT charts)")


def _check_out(out: str) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise DialogueError(f"{path}: exists and is not a folder; give a folder for --out")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise DialogueError(f"{path.parent}: folder does not exist; create it first")
    return path


def _render(report) -> dict[str, bytes]:
    """Every output in memory first, so a failure writes nothing."""
    from model.charts import figure_bytes
    from model.charts_scoring import pit_chart, reliability_chart

    return {
        "scores.csv": report.facts.to_csv(index=False).encode(),
        "summary.csv": report.summary.to_csv(index=False).encode(),
        "reliability.png": figure_bytes(reliability_chart(report), "png"),
        "pit.png": figure_bytes(pit_chart(report), "png"),
    }


def _write_all(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file into a staging folder beside the target, then move them in;
    on failure nothing is left behind (a folder this call created is removed)."""
    created = not folder.exists()
    stage = None
    try:
        folder.mkdir(exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".score-partial-", dir=folder))
        for name, data in files.items():
            (stage / name).write_bytes(data)
        for name in files:
            (stage / name).replace(folder / name)
    except OSError as exc:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        reason = (exc.strerror or exc.__class__.__name__).lower()
        raise DialogueError(f"{folder}: could not write the scores ({reason}); nothing was written") from None
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
