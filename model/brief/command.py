"""``dialogue brief``: charts and a one-page brief from one or more scenarios.

Heavy imports (matplotlib, the model) happen inside the command body so that
registering the command costs nothing for ``dialogue run``.
"""

from __future__ import annotations

import sys

import click


class _Status:
    """Progress on one self-erasing terminal line; nothing when stderr is not a
    terminal, so a failing run prints only its one error line."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown = False

    def show(self, msg: str) -> None:
        if self.live:
            click.echo(f"\r\033[K{msg}", err=True, nl=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)
            self.shown = False


@click.command()
@click.argument("scenarios", nargs=-1, metavar="[SCENARIO]...")
@click.option("--from", "from_files", multiple=True, metavar="RESULTS.nc",
              help="Use a results file from 'dialogue run --out' (repeatable); listed before any SCENARIO.")
@click.option("--out", required=True, metavar="DIR",
              help="Folder to write: new, empty or a previous brief (same-named files are replaced).")
@click.option("--force", is_flag=True, help="Write into a non-empty folder that is not a previous brief.")
@click.option("--format", "formats", default="png,pdf", show_default=True, metavar="LIST",
              help="Chart formats, comma-separated: png, svg, pdf.")
@click.option("--size", default="slide", show_default=True, metavar="slide|a4",
              help="Chart size: slide (13.3 x 7.5 in, 16:9) or a4 (half an A4 page, landscape).")
@click.option("--observed", type=click.Path(dir_okay=False), metavar="FILE.toml",
              help="Update the forecast on what has happened since (docs/updating.md): the brief shows the "
                   "posterior, each judgment prior -> posterior, and the assumptions the news favours.")
@click.option("--runs", type=click.IntRange(1, 10_000_000), help="Monte Carlo runs [scenario's, 2000].")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed [scenario's].")
@click.option("--sensitivity-runs", type=int, default=1000, show_default=True,
              help="Runs per tornado bar in 'what would change this judgment' (at least 50; at most the "
                   "results' runs).")
@click.option("--sobol-n", type=int, default=1024, show_default=True, metavar="N",
              help="Sobol' base sample (a power of two, at least 64): N*(parameters+2) runs.")
def brief(scenarios, from_files, out, formats, size, observed, runs, seed, sensitivity_runs, sobol_n,
          force) -> None:
    """Write briefing charts and a one-page brief (brief.pdf, brief.html) for SCENARIO(s).

    The first scenario is briefed in full; further scenarios are compared with it.
    """
    import time

    from model.brief.build import build_brief
    from model.errors import DialogueError

    t0 = time.perf_counter()
    status = _Status()
    try:
        res = build_brief(scenarios, out, from_files=from_files, formats=formats, size=size, runs=runs, seed=seed,
                          sensitivity_runs=sensitivity_runs, sobol_n=sobol_n, echo=status.show, force=force,
                          observed=observed)
    except (DialogueError, KeyboardInterrupt):
        status.clear()  # an error is one line: no progress line left above it
        raise
    status.clear()
    head = res.content.main.headline
    click.echo(f"Wrote {len(res.files)} files to {res.out} in {time.perf_counter() - t0:.1f} s")
    click.echo(f"Headline: {head.text}")
    if "observed" in res.content.extra:
        click.echo(res.content.extra["observed"]["line"])
