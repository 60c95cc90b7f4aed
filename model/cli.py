"""The ``dialogue`` command line.

Every user error prints one line, ``dialogue: error: ...``, and exits with code 2;
no traceback reaches the user.
"""

from __future__ import annotations

import json
import sys
import tomllib
from typing import Any

import click

from model.errors import DialogueError


def parse_sets(items: tuple[str, ...]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs; values are read as TOML literals (numbers, true/false,
    "text"), bare words as text."""
    from model.validation import MAX_DEPTH, MAX_FILE_BYTES, clip

    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip() or not raw.strip():
            raise DialogueError(f"--set {clip(item)}: write it as NAME=VALUE, e.g. --set repression=0.8")
        if len(item) > MAX_FILE_BYTES:
            raise DialogueError(f"--set {clip(item)}: too long; the limit is {MAX_FILE_BYTES:,} characters")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        except RecursionError:  # tomllib parses nested arrays recursively
            raise DialogueError(f"--set {clip(item)}: nested too deeply; at most {MAX_DEPTH} levels") from None
        out[name.strip()] = value
    return out


class _Group(click.Group):
    """Lists each command with its whole first sentence: click's default cuts it at
    about 45 characters with '...'."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=200)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Seed(click.IntRange):
    """A seed: help says "0 to 2^63-1" instead of printing 2**63 - 1 in full."""

    def _describe_range(self) -> str:
        return "0 to 2^63-1"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="uk-russia-dialogue", prog_name="dialogue")
def main_group() -> None:
    """Scenario forecasts of UK-Russia relations from the 2013 Strategic Dialogue."""


@main_group.command()
@click.argument("scenario")
@click.option("--runs", type=click.IntRange(1, 10_000_000), help="Monte Carlo runs [scenario's, 2000].")
@click.option("--seed", type=_Seed(0, 2**63 - 1), help="Random seed [scenario's].")
@click.option("--horizon", type=click.IntRange(1, 600), help="Months to simulate [scenario's, 60].")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a parameter (repeatable), e.g. --set repression=0.8.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the full ensemble as NetCDF.")
@click.option("--force", is_flag=True, help="With --out: overwrite an existing results file.")
@click.option("--engine", type=click.Choice(["ensemble", "reference"]), default="ensemble",
              show_default=True, help="'reference' runs one simpy environment per run (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--start", metavar="YYYY-MM", help="Hindcast: start at this earlier month (2004-01 to 2013-12), "
              "from the record known then (docs/calibration.md).")
def run(scenario, runs, seed, horizon, sets, out, force, engine, as_json, start) -> None:
    """Simulate SCENARIO (a shipped name or a .toml path) and print a summary.

    SCENARIO's settings can be changed with --runs, --seed, --horizon and --set.
    With --out, the path is checked first (folder, free space, an existing file) so a
    long run is not wasted; --force allows overwriting.
    """
    from model import simulate, summarize
    from model.results import check_output_path, estimate_bytes, save
    from model.scenario import load_scenario

    if out:
        check_output_path(out, overwrite=force)
    sc = load_scenario(scenario, overrides=None if start else parse_sets(sets))
    if start is not None:  # hindcast: the starting state from the record then; --set still wins
        from model.hindcast import hindcast_scenario

        sc = hindcast_scenario(sc, start).with_overrides(parse_sets(sets))
    if out:  # free space, before hours of simulating
        check_output_path(out, overwrite=force, need_bytes=estimate_bytes(runs or sc.run.runs,
                                                                           horizon or sc.run.horizon))
    ds = simulate(sc, runs=runs, seed=seed, horizon=horizon, engine=engine)
    summary = summarize(ds)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        click.echo(summary.text())
    if out:
        save(ds, out, overwrite=force)
        click.echo(f"\nWrote {out} ({ds.sizes['run']:,} runs x {ds.sizes['time']} months)", err=as_json)


@main_group.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    from model.scenario import load_scenario, no_shipped_hint, shipped

    if not shipped():  # an empty list would look like success
        raise DialogueError(no_shipped_hint())
    for name in shipped():
        sc = load_scenario(name)
        click.echo(f"{name:<22} {sc.description}")


@main_group.command()
@click.argument("scenario")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def params(scenario, as_json) -> None:
    """List every parameter of SCENARIO: label, units, range, value, default and
    uncertainty distribution."""
    from model.params import registry
    from model.scenario import load_scenario

    sc = load_scenario(scenario)
    rows = []
    for name, spec in registry().items():
        st = sc.params[name]
        rows.append({"name": name, "label": spec.label, "units": spec.units, "group": spec.group,
                     "low": spec.low, "high": spec.high, "value": st.value, "default": spec.default,
                     "dist": st.dist, "spread": st.spread, "headline": spec.headline,
                     "distribution": spec.describe_dist(st.value, st.dist, st.spread),
                     "help": spec.help, "source": spec.source})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':<27}{'value':>8}{'default':>9}  {'range':<16}{'distribution':<38}units")
    for r in rows:
        mark = "*" if r["headline"] else " "
        rng = f"[{r['low']:g}, {r['high']:g}]"
        click.echo(f"{mark}{r['name']:<26}{r['value']:>8g}{r['default']:>9g}  {rng:<16}"
                   f"{r['distribution']:<38}{r['units']}")
    click.echo("\n* headline driver. Full labels, help and sources: dialogue params SCENARIO --json")


@main_group.command()
@click.argument("file")
def validate(file) -> None:
    """Check a scenario FILE and report the first problem, if any."""
    from model.scenario import load_scenario

    sc = load_scenario(file)
    changed = [n for n, st in sc.params.items() if st.value != _default(n)]
    click.echo(f"ok: {file} is a valid scenario '{sc.name}' ({len(changed)} parameters differ from defaults)")
    from model.shocks import describe

    for i, shock in enumerate(sc.shocks):
        click.echo(f"  shocks[{i}]: {describe(shock)}")


def _default(name: str) -> float:
    from model.params import registry

    return registry()[name].default


# Commands that live beside their own subsystem (briefing, batch runs, dashboard).
# Each module keeps heavy imports inside the command body so `dialogue run` stays fast.
_EXTENSIONS = ("model.brief.command:brief", "model.batch.command:batch", "model.dashboard_command:dashboard",
               "model.sensitivity_command:sensitivity", "model.sensitivity_command:discover")
_EXTENSIONS += ("model.score_command:score",)  # forecast scoring (issue 9)
_EXTENSIONS += ("model.backtest_command:backtest",)  # rolling-origin backtest (issue 9)
_EXTENSIONS += ("model.update_command:update",)  # conditioning on observations (issue 11)


def _register_extensions() -> None:
    import importlib

    for spec in _EXTENSIONS:
        mod, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name and mod.startswith(exc.name):
                continue  # that subsystem is not installed in this tree
            raise
        main_group.add_command(getattr(module, attr))


_register_extensions()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, turning every user error into one line, exit 2."""
    try:
        main_group.main(args=argv, prog_name="dialogue", standalone_mode=False)
    except DialogueError as exc:
        click.echo(f"dialogue: error: {exc}", err=True)
        return 2
    except _NO_ARGS_IS_HELP as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.UsageError as exc:
        sub = exc.ctx.info_name if exc.ctx and exc.ctx.parent is not None else ""
        hint = f" (see 'dialogue {sub + ' ' if sub else ''}--help')"
        click.echo(f"dialogue: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.Abort:
        click.echo("dialogue: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("dialogue: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file-system failure not met by a check: still one line, no internals
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"dialogue: error: {where}{(exc.strerror or exc.__class__.__name__).lower()}", err=True)
        return 2
    except SystemExit as exc:  # click exits this way on a closed pipe
        return int(exc.code or 0)
    return 0


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", None) or getattr(
    click.exceptions, "NoArgsIsHelp", click.exceptions.UsageError)


def entry() -> None:  # pragma: no cover - console script wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
