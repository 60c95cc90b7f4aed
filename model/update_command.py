"""``dialogue update``: condition a scenario's forecast on what has happened since."""

from __future__ import annotations

import json

import click


class _Seed(click.IntRange):
    """A seed: help says "0 to 2^63-1" as 'dialogue run' does."""

    def _describe_range(self) -> str:
        return "0 to 2^63-1"


@click.command()
@click.argument("scenario")
@click.option("--observed", "observed", required=True, type=click.Path(dir_okay=False), metavar="FILE.toml",
              help="Observations: dated facts with sources (docs/updating.md).")
@click.option("--runs", type=click.IntRange(1, 10_000_000), help="Monte Carlo runs [scenario's, 2000].")
@click.option("--seed", type=_Seed(0, 2**63 - 1), help="Random seed [scenario's].")
@click.option("--horizon", type=click.IntRange(1, 600), help="Months to simulate [scenario's, 60].")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a parameter (repeatable), e.g. --set repression=0.8.")
@click.option("--min-ess", "min_ess", type=click.IntRange(1, 10_000_000), metavar="N",
              help="Draw more runs (up to 16 times --runs) until every update keeps an effective sample "
                   "size of at least N; fail if it cannot.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the posterior ensemble as NetCDF "
              "(with each run's weight and ancestor).")
@click.option("--force", is_flag=True, help="With --out: overwrite an existing results file.")
@click.option("--steps/--no-steps", "stepwise", default=True, show_default=True,
              help="Also show the key probabilities after each update month (runs the ensemble on from each "
                   "update to the horizon: slower).")
@click.option("--json", "as_json", is_flag=True, help="Print the update as JSON.")
def update(scenario, observed, runs, seed, horizon, sets, min_ess, out, force, stepwise, as_json) -> None:
    """Update SCENARIO's forecast on what has happened since its start (--observed FILE.toml).

    The ensemble is conditioned on the observations by sequential Monte Carlo: runs
    that contradict an event are dropped, levels weigh runs by their measurement
    error, and the survivors carry on. Prints, per observation, how many runs matched
    and the effective sample size (ESS); then the key probabilities prior -> posterior
    and the assumptions the observations favour. See docs/updating.md.
    """
    from model import simulate
    from model.cli import parse_sets
    from model.observations import check_schedule, load_observations
    from model.results import check_output_path, estimate_bytes, save
    from model.scenario import load_scenario
    from model.smc import report

    if out:
        check_output_path(out, overwrite=force)
    sc = load_scenario(scenario, overrides=parse_sets(sets))
    obs = load_observations(observed)
    check_schedule(obs, sc.initial.start, horizon or sc.run.horizon)  # before any simulating
    if out:
        check_output_path(out, overwrite=force, need_bytes=estimate_bytes(runs or sc.run.runs,
                                                                           horizon or sc.run.horizon))
    post = simulate(sc, runs=runs, seed=seed, horizon=horizon, observations=obs, min_ess=min_ess,
                    stepwise=stepwise)
    prior = simulate(sc, runs=runs, seed=seed, horizon=horizon)
    rep = report(prior, post)
    if as_json:
        click.echo(json.dumps({
            "runs": rep.runs, "through": rep.through, "warnings": rep.warnings,
            "observations": rep.steps.to_dict(orient="records"),
            "probabilities": rep.probabilities.to_dict(orient="records"),
            "parameters": rep.parameters.to_dict(orient="records"), "favoured": rep.favoured}, indent=2))
    else:
        click.echo(rep.text())
    if out:
        save(post, out, overwrite=force)
        click.echo(f"\nWrote {out} ({post.sizes['run']:,} runs x {post.sizes['time']} months, posterior)",
                   err=as_json)
