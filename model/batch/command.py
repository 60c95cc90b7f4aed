"""``dialogue batch``: the command (heavy imports stay inside the function)."""

from __future__ import annotations

import click


class _Seed(click.ParamType):
    """A seed from 0 to 2^63-1, shown as SEED in the help (not the raw range)."""

    name = "seed"

    def get_metavar(self, param, ctx=None) -> str:
        return "SEED"

    def convert(self, value, param, ctx) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if not 0 <= n <= 2**63 - 1:
            self.fail(f"{n} is out of range; use a whole number from 0 to 2^63-1", param, ctx)
        return n


SEED = _Seed()


@click.command()
@click.argument("inputs", nargs=-1, metavar="[SCENARIO_OR_FILE]...")
@click.option("--sweep", "sweeps", multiple=True, type=click.Path(dir_okay=False), metavar="SWEEP.toml",
              help="A sweep file (repeatable): base scenario and parameters to vary (grid, Latin hypercube, or a "
              "saltelli/morris sample run as one design).")
@click.option("--design", type=click.Path(dir_okay=True), metavar="FILE",
              help="A per-run parameter table, .csv or .parquet (one row per run, one column per parameter): "
              "each scenario runs once per row.")
@click.option("--observed", type=click.Path(dir_okay=False), metavar="FILE.toml",
              help="Condition every scenario or sweep point on these observations (docs/updating.md); each "
              "point then runs as one chunk.")
@click.option("--runs", type=click.IntRange(1, 10_000_000), help="Runs per scenario or point [sweep's, scenario's].")
@click.option("--seed", type=SEED, help="Random seed, a whole number from 0 to 2^63-1 [sweep's, scenario's].")
@click.option("--horizon", type=click.IntRange(1, 600), help="Months to simulate [sweep's, scenario's].")
@click.option("--chunk-size", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True,
              help="Runs per chunk: the unit of work, of writing and of resuming; memory grows with it.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder (new or empty, "
              "or a batch to finish with --resume).")
@click.option("--workers", type=click.IntRange(1, 1024), help="Run chunks on N local processes.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run chunks on a dask.distributed cluster.")
@click.option("--connect-timeout", type=click.FloatRange(0, 3600, min_open=True), default=10, show_default=True,
              metavar="SECONDS", help="How long to wait for the --scheduler to answer.")
@click.option("--resume", is_flag=True, help="Finish the batch in --out: run only the missing chunks.")
@click.option("--variables", metavar="NAMES", help="Comma-separated (run, time) variables to keep in the "
              "ensembles (per-run parameters and outcome are always kept); 'none' keeps summaries only "
              "[all].")
@click.option("--compress", is_flag=True, help="zlib-compress the ensembles (about 40% smaller, slower).")
@click.option("--dry-run", is_flag=True, help="Print the plan and its disk, time and memory estimates; write nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No estimate and no progress bar (notices and errors still print).")
def batch(inputs, sweeps, design, observed, runs, seed, horizon, chunk_size, out, workers, scheduler,
          connect_timeout, resume, variables, compress, dry_run, quiet) -> None:
    """Simulate many scenarios or sweep points into a results folder, in chunks.

    SCENARIO_OR_FILE: shipped scenario names, scenario .toml files or sweep .toml
    files. --design FILE runs a per-run parameter sample (e.g. from SALib) on each
    scenario. Results: OUT/summary.parquet (and .csv), one row per scenario or sweep
    point; OUT/ensembles/ (full ensembles, NetCDF per chunk); OUT/manifest.json.
    Identical results in process, with --workers and on a --scheduler cluster.
    An estimate of disk, time and memory is printed first; --dry-run stops there.
    """
    from model.batch.plan import build_plan, parse_variables
    from model.batch.runner import plan_text, run_batch

    if scheduler and workers:
        raise click.UsageError("use either --workers or --scheduler, not both")
    if scheduler and not scheduler.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")):
        raise click.UsageError(f"--scheduler {scheduler}: give an address like tcp://HOST:8786")
    plan = build_plan(inputs, sweeps, runs=runs, seed=seed, horizon=horizon, chunk_size=chunk_size,
                      variables=parse_variables(variables), compress=compress, design=design, observed=observed)
    if dry_run:
        click.echo(plan_text(plan, out, workers=workers, scheduler=scheduler, resume=resume))
        return
    options = dict(click.get_current_context().params)
    rep = run_batch(plan, out, workers=workers, scheduler=scheduler, resume=resume, progress=not quiet,
                    options=options, connect_timeout=connect_timeout, notify=lambda s: click.echo(s, err=True))
    _print_table(rep)
    click.echo(rep.text())


def _print_table(rep) -> None:
    s = rep.summary
    if s is None or len(s) == 0:
        return
    cols = [c for c in s.columns if c.startswith("param_") and s[c].notna().any()]
    shown = s.head(20)
    head = f"{'point':<28}" + "".join(f"{c[6:][:16]:>17}" for c in cols)
    head += f"{'P(rupture)':>12}{'P(confront.)':>13}{'P(cool)':>9}{'P(thaw)':>9}{'relations p50':>15}"
    click.echo(head)
    for _, r in shown.iterrows():
        line = f"{str(r['point'])[:27]:<28}" + "".join(f"{r[c]:>17.4g}" for c in cols)
        line += (f"{r['outcome_rupture_p']:>12.3f}{r['outcome_confrontation_p']:>13.3f}"
                 f"{r['outcome_cool_p']:>9.3f}{r['outcome_thaw_p']:>9.3f}{r['relations_q50']:>+15.2f}")
        click.echo(line)
    if len(s) > len(shown):
        click.echo(f"... {len(s) - len(shown)} more points in {rep.out}/summary.csv")
    click.echo("")
