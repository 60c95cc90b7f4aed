"""``dialogue backtest``: the rolling-origin backtest on the pre-2013 record."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from model.errors import DialogueError

DOC = "calibration.md"


@click.command()
@click.option("--runs", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Monte Carlo runs from each origin.")
@click.option("--origins", default="2004-2011", show_default=True, metavar="YEARS",
              help="Origin years (January of each): a range 2004-2011 or a list 2005,2008.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=20130313, show_default=True, help="Random seed.")
@click.option("--out", metavar="DIR", help=f"Folder to write {DOC} into (e.g. docs); an "
              "existing one is replaced, keeping its benchmark section.")
def backtest(runs, origins, seed, out) -> None:
    """Score the model's exports and events from every origin 2004-2011 against the pre-2013 record.

    Exports 1, 2 and 3 years ahead against the ONS series (coverage, PIT, CRPS, skill
    against persistence and trend), for the model and for the model before each calibration
    change (the original, then with export shocks); events within 12 months against the reference class
    (Brier against the base rate). With --out, writes calibration.md (docs/calibration.md
    is made by 'dialogue backtest --out docs').
    """
    from model.backtest import markdown, parse_origins, run_backtest, summary_line

    years = parse_origins(origins)
    target = _check_out(out) if out else None
    after = run_backtest(runs=runs, origins=years, seed=seed)
    shocks = run_backtest(runs=runs, origins=years, seed=seed, start_rule="last_year")
    before = run_backtest(runs=runs, origins=years, seed=seed, before_fix=True, start_rule="last_year")
    click.echo(f"The model now:                       {summary_line(after)}")
    click.echo(f"Export shocks, previous start rule:  {summary_line(shocks)}")
    click.echo(f"Original model, previous start rule: {summary_line(before)}")
    if target is not None:
        text = markdown(after, shocks, before) + _benchmark_section(target)
        _write(target, text)
        click.echo(f"\nWrote {target}")


def _check_out(out: str) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise DialogueError(f"--out {out}: exists and is not a folder; give a folder, e.g. --out docs")
    if not folder.exists():
        raise DialogueError(f"--out {out}: folder does not exist; create it first")
    target = folder / DOC
    if target.is_dir():
        raise DialogueError(f"--out {out}: {target} is a folder; remove it or choose another --out")
    return target


def _benchmark_section(target: Path) -> str:
    """The benchmark section of an existing document, kept as it was (bench_backtest.py writes it)."""
    from model.backtest import BENCHMARK_HEADING

    try:
        old = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    at = old.find("\n" + BENCHMARK_HEADING)
    return old[at:] if at >= 0 else ""


def _write(target: Path, text: str) -> None:
    """Write beside the target, then move into place: never a half-written document."""
    fd, tmp = tempfile.mkstemp(prefix=".calibration-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DialogueError(f"{target}: could not write ({(exc.strerror or 'error').lower()}); nothing was "
                            "written") from None
