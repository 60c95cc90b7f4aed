"""``dialogue batch`` (model.batch.command) and ``analyze_sweep`` (model.batch.analysis),
in this process (issue 14: mutation gaps in the batch command and the sweep analysis).

Everything runs in process (no ``--workers``, no scheduler), so mutmut can follow and
time it: the command through ``model.cli.main`` on a tiny batch (5 runs x 3 months in
chunks of 2), its result table from hand-made summaries, and ``analyze_sweep`` on one
small batch holding a plain scenario, a saltelli sweep and a morris sweep (chunks of 10,
so the sweeps' chunks are uneven). The sensitivity indices are checked against SALib
called here on outputs worked out here by running each sweep point's rows through the
engine in one go, not from the partial summaries that ``analyze_sweep`` reads.
"""

from __future__ import annotations

import json
import shutil
import warnings

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from model.batch import analyze_sweep, build_plan, run_batch
from model.batch.command import SEED, _print_table, batch
from model.batch.runner import BatchReport
from model.cli import main
from model.engine import ENGINES
from model.errors import DialogueError
from model.results import OUTCOMES, classify

RUNS, HORIZON, SIZE = 5, 3, 2


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    return lines[0]


# ------------------------------------------------------------------ the result table


def _summary(rows: int, **extra) -> pd.DataFrame:
    """A summary table as build_summary writes it, with the columns the table reads."""
    k = np.arange(rows)
    cols = {"point": [f"p{i}" for i in k], "runs": 5 + k,
            "param_repression": 0.123456 + k, "param_unused": np.full(rows, np.nan),
            "outcome_rupture_p": 0.0 + k / 1000, "outcome_confrontation_p": 0.25 + 0 * k,
            "outcome_cool_p": 0.5 + 0 * k, "outcome_thaw_p": 0.25 + 0 * k,
            "relations_q50": -1.234 + k}
    return pd.DataFrame(cols | extra)


def _report(tmp_path, summary) -> BatchReport:
    return BatchReport(tmp_path, 1, 1, 5, 5, 1, 1.0, "in process", False, summary)


HEAD = ("point".ljust(28) + "repression".rjust(17) + "P(rupture)".rjust(12) + "P(confront.)".rjust(13)
        + "P(cool)".rjust(9) + "P(thaw)".rjust(9) + "relations p50".rjust(15))


def _line(point, param, rupture, rel) -> str:
    return (point.ljust(28) + param.rjust(17) + rupture.rjust(12) + "0.250".rjust(13) + "0.500".rjust(9)
            + "0.250".rjust(9) + rel.rjust(15))


def test_no_summary_or_an_empty_one_prints_nothing(tmp_path, capsys):
    _print_table(_report(tmp_path, None))
    _print_table(_report(tmp_path, _summary(0)))
    assert capsys.readouterr().out == ""


def test_one_point_table_in_full(tmp_path, capsys):
    _print_table(_report(tmp_path, _summary(1)))
    # The all-NaN parameter and the non-parameter columns are left out; a blank line ends it.
    assert capsys.readouterr().out == "\n".join([HEAD, _line("p0", "0.1235", "0.000", "-1.23"), "", ""])


def test_long_names_are_cut_and_parameters_set_on_some_points_only_are_shown(tmp_path, capsys):
    s = _summary(2, point=["a" * 26 + "bcd", "x"],
                 param_a_long_parameter_name_here=[np.nan, 7.0], param_b=[2.5e-7, np.nan])
    _print_table(_report(tmp_path, s))
    head = ("point".ljust(28) + "repression".rjust(17) + "a_long_parameter".rjust(17) + "b".rjust(17)
            + HEAD[28 + 17:])
    want = [head,
            "a" * 26 + "b " + "0.1235".rjust(17) + "nan".rjust(17) + "2.5e-07".rjust(17) + _line("", "", "0.000",
                                                                                                  "-1.23")[28 + 17:],
            "x".ljust(28) + "1.123".rjust(17) + "7".rjust(17) + "nan".rjust(17) + _line("", "", "0.001",
                                                                                        "-0.23")[28 + 17:],
            "", ""]
    assert capsys.readouterr().out == "\n".join(want)


def test_twenty_points_are_shown_and_the_rest_counted(tmp_path, capsys):
    _print_table(_report(tmp_path, _summary(20)))
    out = capsys.readouterr().out.split("\n")
    assert len(out) == 1 + 20 + 2 and out[20] == _line("p19", "19.12", "0.019", "+17.77")
    assert out[-2:] == ["", ""] and "more points" not in "".join(out)
    _print_table(_report(tmp_path, _summary(23)))
    out = capsys.readouterr().out.split("\n")
    assert out[1:21] == [_line(f"p{i}", f"{0.123456 + i:.4g}", f"{i / 1000:.3f}", f"{-1.234 + i:+.2f}")
                         for i in range(20)]
    assert out[21:] == [f"... 3 more points in {tmp_path}/summary.csv", "", ""]


# ------------------------------------------------------------------ the command, in process


def _argv(out, *extra):
    return ["batch", "baseline", "--runs", str(RUNS), "--horizon", str(HORIZON), "--chunk-size", str(SIZE),
            "--seed", "11", "--out", str(out), *extra]


def test_a_quiet_batch_prints_its_table_and_report_and_records_its_options(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(_argv(out, "--variables", "relations", "--compress", "-q")) == 0
    cap = capsys.readouterr()
    assert cap.err == ""  # -q: no estimate, no progress bar
    s = pd.read_parquet(out / "summary.parquet")
    r = s.iloc[0]
    table = cap.out.split("\n")
    assert table[0] == HEAD[:28] + HEAD[28 + 17:]  # a plain scenario has no swept parameters
    assert table[1] == ("baseline".ljust(28) + f"{r['outcome_rupture_p']:.3f}".rjust(12)
                        + f"{r['outcome_confrontation_p']:.3f}".rjust(13) + f"{r['outcome_cool_p']:.3f}".rjust(9)
                        + f"{r['outcome_thaw_p']:.3f}".rjust(9) + f"{r['relations_q50']:+.2f}".rjust(15))
    assert table[2] == "" and table[3].startswith("Batch complete: 1 point, 5 runs in 3 chunks this session, ")
    assert table[3].endswith(" (in process).") and table[4] == f"Results: {out}/ (summary.parquet, summary.csv, " \
        "manifest.json, ensembles/)"
    m = json.loads((out / "manifest.json").read_text())
    assert (m["runs_total"], m["chunk_size"], m["variables"], m["compress"]) == (5, 2, ["relations"], True)
    assert [(p["id"], p["runs"], p["seed"], p["horizon"], p["chunks"]) for p in m["points"]] == [
        ("baseline", 5, 11, 3, 3)]
    opts = m["sessions"][0]["options"]
    assert opts == {"inputs": ["baseline"], "sweeps": [], "design": None, "observed": None, "runs": 5, "seed": 11,
                    "horizon": 3, "chunk_size": 2, "out": str(out), "workers": None, "scheduler": None,
                    "connect_timeout": 10.0, "resume": False, "variables": "relations", "compress": True,
                    "dry_run": False, "quiet": True}
    assert m["sessions"][0]["mode"] == "in process"


def test_without_quiet_the_estimate_goes_to_stderr_and_resume_runs_what_is_missing(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(_argv(out, "--workers", "1")) == 0  # one worker: in this process
    err = capsys.readouterr().err
    assert "batch: 3 of 3 chunks to run; " in err
    (out / "partials" / "baseline" / "chunk-000001.npz").unlink()
    assert main(_argv(out, "--resume", "-q")) == 0
    cap = capsys.readouterr()
    assert "note: chunk baseline/chunk-000001 is recorded as done but its files are missing; recomputing it" in cap.err
    assert "Batch complete: 1 point, 2 runs in 1 chunks this session (5 in all), " in cap.out
    m = json.loads((out / "manifest.json").read_text())
    assert [s["options"]["resume"] for s in m["sessions"]] == [False, True]
    assert m["sessions"][0]["options"]["quiet"] is False and m["sessions"][0]["options"]["workers"] == 1


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "new"
    assert main(_argv(out, "--dry-run")) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"plan: 1 point, 5 runs in 3 chunks of up to 2 runs; in process; --out {out}\n"
                           "  baseline: 5 runs x 3 months, seed 11\n")
    assert text.endswith("dry run: nothing was written\n") and not out.exists()


def test_dry_run_shows_each_input_and_mode_option_reaching_the_plan(tmp_path, capsys):
    # A dry run starts no worker and connects to no scheduler, so the mode options are checked here too.
    grid = tmp_path / "grid.toml"
    grid.write_text('name = "g"\nscenario = "baseline"\n[params.repression]\nvalues = [0.3, 0.9]\n')
    design = tmp_path / "d.csv"
    pd.DataFrame({"repression": [0.2, 0.4, 0.6]}).to_csv(design, index=False)
    observed = tmp_path / "obs.toml"
    observed.write_text('[[observation]]\nid = "m"\nevent = "formula"\nmonth = "2013-03"\nsource = "test"\n')
    out = tmp_path / "o"
    common = ["--horizon", "3", "--chunk-size", "2", "--seed", "11", "--out", str(out), "--dry-run"]
    cases = [
        (["--runs", "5", "--sweep", str(grid), "--workers", "3"],
         ["plan: 3 points, 15 runs in 9 chunks of up to 2 runs; 3 local processes; --out {out}",
          "  baseline: 5 runs x 3 months, seed 11",
          "  g-0000: 5 runs x 3 months, seed 11; repression = 0.3",
          "  g-0001: 5 runs x 3 months, seed 11; repression = 0.9"]),
        (["--design", str(design), "--scheduler", "tcp://127.0.0.1:1"],
         ["plan: 1 point, 3 runs in 2 chunks of up to 2 runs; dask cluster tcp://127.0.0.1:1; --out {out}",
          "  baseline: 3 runs x 3 months, seed 11; design d.csv, one run per row, varying repression"]),
        (["--runs", "5", "--observed", str(observed)],
         ["plan: 1 point, 5 runs in 1 chunk of a whole point each; in process; --out {out}",
          f"  conditioned on 1 observation ({observed}); each point runs as one chunk (sequential Monte Carlo "
          "weighs its whole ensemble at once)",
          "  baseline: 5 runs x 3 months, seed 11"]),
    ]
    for extra, lines in cases:
        assert main(["batch", "baseline", *common, *extra]) == 0
        text = capsys.readouterr().out.splitlines()
        assert text[:len(lines)] == [ln.format(out=out) for ln in lines], extra
        assert text[-1] == "dry run: nothing was written" and not out.exists()


@pytest.mark.parametrize("argv,message", [
    (["--seed", "-1"], "Invalid value for '--seed': -1 is out of range; use a whole number from 0 to 2^63-1"),
    (["--seed", str(2**63)], f"Invalid value for '--seed': {2**63} is out of range; use a whole number from 0 "
                             "to 2^63-1"),
    (["--seed", "1.5"], "Invalid value for '--seed': '1.5' is not a whole number"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "use either --workers or --scheduler, not both"),
    (["--scheduler", "localhost:8786"], "--scheduler localhost:8786: give an address like tcp://HOST:8786"),
])
def test_option_errors_are_one_line_and_touch_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "b"
    line = _one_line_error(capsys, ["batch", "baseline", "--out", str(out), *argv])
    assert line == f"dialogue: error: {message} (see 'dialogue batch --help')"
    assert not out.exists()


def test_seed_accepts_both_ends_and_shows_as_seed():
    assert SEED.convert("0", None, None) == 0 and SEED.convert(str(2**63 - 1), None, None) == 2**63 - 1
    assert SEED.get_metavar(None) == "SEED" and SEED.name == "seed"
    r = CliRunner().invoke(batch, ["--help"], terminal_width=200)
    assert r.exit_code == 0 and "--seed SEED" in r.output and "--chunk-size INTEGER RANGE" in r.output
    assert "[default: 10000; 1<=x<=10000000]" in r.output and "[default: 10; 0<x<=3600]" in r.output


@pytest.mark.parametrize("value,message", [("x", "'x' is not a whole number"),
                                           ("-3", "-3 is out of range; use a whole number from 0 to 2^63-1")])
def test_seed_errors_name_their_option_when_converted_outside_option_parsing(value, message):
    # click fills in the option itself while parsing; a direct convert() (a callback, another
    # command reusing SEED) must still name it.
    opt = next(p for p in batch.params if p.name == "seed")
    ctx = click.Context(batch)
    with pytest.raises(click.BadParameter) as e:
        SEED.convert(value, opt, ctx)
    assert e.value.param is opt and e.value.ctx is ctx
    assert e.value.format_message() == f"Invalid value for '--seed': {message}"


# ------------------------------------------------------------------ analyze_sweep

SALTELLI = """
name = "sal"
scenario = "baseline"
method = "saltelli"
points = 8
sample_seed = 3
horizon = 24
[params.repression]
[params.syria_divergence]
low = 0.3
high = 1.0
"""
MORRIS = SALTELLI.replace('"sal"', '"mor"').replace('"saltelli"', '"morris"').replace("points = 8", "points = 4")
PROBLEM = {"num_vars": 2, "names": ["repression", "syria_divergence"], "bounds": [[0.0, 1.0], [0.3, 1.0]]}
COLUMNS = ["point", "sweep", "method", "output", "output_label", "mean", "param", "low", "high", "rows", "constant"]
SOBOL, MORRIS_KEYS = ["S1", "S1_conf", "ST", "ST_conf"], ["mu", "mu_star", "sigma", "mu_star_conf"]
LABELS = {"confrontation_or_worse": "P(confrontation or worse)", "rupture": "P(rupture)",
          "confrontation": "P(confrontation)", "cool": "P(cool)", "thaw": "P(thaw)",
          "dialogue_suspended": "P(dialogue suspended)", "expulsions": "P(diplomats expelled)",
          "sanctions": "P(sanctions)", "relations": "relations index",
          "exports": "UK exports to Russia (GBP m/month)"}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """A plain scenario, a saltelli sweep (32 runs: chunks 10,10,10,2) and a morris one (12: 10,2),
    summaries only (analyze_sweep reads the partials). Returns the folder and each sweep point's
    sample and outputs, worked out here by simulating the point's rows in one go."""
    d = tmp_path_factory.mktemp("sweeps")
    (d / "s.toml").write_text(SALTELLI)
    (d / "m.toml").write_text(MORRIS)
    plan = build_plan(["baseline"], sweeps=[str(d / "s.toml"), str(d / "m.toml")], runs=3, chunk_size=10,
                      variables=())
    run_batch(plan, d / "b", progress=False)
    expected = {}
    for pt in plan.points[1:]:
        # Runs share streams in blocks of stream_block rows (a sample's base row and its variations).
        out, _ = ENGINES["ensemble"](pt.scenario, np.arange(pt.runs) // pt.stream_block, pt.seed, pt.horizon,
                                     design=pt.design)
        x = np.column_stack([np.asarray(pt.design[n]) for n in PROBLEM["names"]])
        expected[pt.id] = x, _expected_outputs(out)
    assert {k: v[0].shape for k, v in expected.items()} == {"sal": (32, 2), "mor": (12, 2)}
    return d / "b", expected


def _expected_outputs(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each run's outputs at the horizon from the engine's (month, run) arrays."""
    outcome = classify(out["relations"][-1], out["sanctions"][-1].astype(bool))
    y = {k: (outcome == k).astype(float) for k in OUTCOMES}
    y["confrontation_or_worse"] = ((outcome == "rupture") | (outcome == "confrontation")).astype(float)
    y["dialogue_suspended"] = (out["dialogue_active"] == 0).any(axis=0).astype(float)
    y["expulsions"] = ((out["expulsions"] > 0) | (out["russian_expulsions"] > 0)).any(axis=0) * 1.0
    y["sanctions"] = (out["sanctions"] != 0).any(axis=0).astype(float)
    y["relations"] = out["relations"][-1].astype(float)
    y["exports"] = out["exports_gbp_m"][-1].astype(float)
    return y


def _salib(method, x, y, num_resamples, seed) -> dict[str, np.ndarray]:
    from SALib.analyze import morris, sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            return sobol.analyze(PROBLEM, y, calc_second_order=False, num_resamples=num_resamples,
                                 seed=np.random.default_rng(seed))  # seed 0 as a seed, not as none
        return morris.analyze(PROBLEM, x, y, num_resamples=num_resamples, num_levels=4, seed=seed)


def _check_point(t, sweeps, point, method, outputs, num_resamples=100, seed=0) -> None:
    x, ys = sweeps[1][point]
    mine = t[t["point"] == point]
    assert list(zip(mine["output"], mine["param"], strict=True)) == [(o, n) for o in outputs for n in PROBLEM["names"]]
    keys = SOBOL if method == "sobol" else MORRIS_KEYS
    other = MORRIS_KEYS if method == "sobol" else SOBOL
    for out in outputs:
        y = ys[out]
        rows = mine[mine["output"] == out]
        assert (rows["sweep"] == point).all() and (rows["method"] == method).all()
        assert (rows["output_label"] == LABELS[out]).all() and (rows["rows"] == y.size).all()
        assert rows["mean"].tolist() == [pytest.approx(y.mean(), abs=1e-12)] * 2
        assert rows["low"].tolist() == [0.0, 0.3] and rows["high"].tolist() == [1.0, 1.0]
        constant = bool(y.min() == y.max())
        assert rows["constant"].tolist() == [constant] * 2, out
        if constant:
            assert rows[keys].isna().all().all(), out
        else:
            want = _salib(method, x, y, num_resamples, seed)
            for k in keys:
                assert np.allclose(rows[k].to_numpy(dtype=float), want[k], rtol=0, atol=1e-12, equal_nan=True), \
                    (out, k)
        if other[0] in rows:
            assert rows[other].isna().all().all()


def test_sweep_indices_equal_salib_on_outputs_from_the_ensembles(sweeps):
    t = analyze_sweep(sweeps[0])
    assert list(t.columns) == COLUMNS + SOBOL + MORRIS_KEYS
    # The plain scenario is left out; saltelli rows first, as in the manifest.
    assert t["point"].tolist() == ["sal"] * 20 + ["mor"] * 20
    _check_point(t, sweeps, "sal", "sobol", list(LABELS))
    _check_point(t, sweeps, "mor", "morris", list(LABELS))
    # The fixture must exercise both branches: constant and varying outputs, 0/1 events that vary.
    sal = t[t["point"] == "sal"].drop_duplicates("output").set_index("output")
    assert sal.loc["rupture", "constant"] and not sal.loc["relations", "constant"]
    assert not sal.loc["expulsions", "constant"] and not sal.loc["dialogue_suspended", "constant"]
    assert not sal.loc["confrontation", "constant"] and sal.loc["cool", "mean"] != sal.loc["thaw", "mean"]


def test_chosen_outputs_resamples_and_seed_reach_salib(sweeps):
    t = analyze_sweep(sweeps[0], outputs=" expulsions, relations,expulsions", num_resamples=7, seed=5)
    assert list(t.columns) == COLUMNS + SOBOL + MORRIS_KEYS
    _check_point(t, sweeps, "sal", "sobol", ["expulsions", "relations"], num_resamples=7, seed=5)
    _check_point(t, sweeps, "mor", "morris", ["expulsions", "relations"], num_resamples=7, seed=5)
    t = analyze_sweep(sweeps[0], outputs=["thaw"])
    _check_point(t, sweeps, "sal", "sobol", ["thaw"])
    _check_point(t, sweeps, "mor", "morris", ["thaw"])
    with pytest.raises(DialogueError, match="^unknown output 'relation' "):
        analyze_sweep(sweeps[0], outputs="relation")


def test_a_batch_without_a_saltelli_or_morris_sweep_is_one_line(tmp_path):
    f = tmp_path / "d.csv"
    pd.DataFrame({"repression": [0.2, 0.4, 0.6]}).to_csv(f, index=False)
    run_batch(build_plan(["baseline"], horizon=HORIZON, design=str(f)), tmp_path / "b", progress=False)
    with pytest.raises(DialogueError) as e:
        analyze_sweep(tmp_path / "b")
    assert str(e.value) == (f"{tmp_path / 'b'}: no saltelli or morris sweep in this batch; run one with "
                            "'dialogue batch --sweep FILE.toml' (method = \"saltelli\" or \"morris\")")


def test_a_sample_that_cannot_be_rebuilt_is_one_line(sweeps, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(sweeps[0], b)
    m = json.loads((b / "manifest.json").read_text())
    (mor,) = [p for p in m["points"] if p["id"] == "mor"]
    mor["design"]["sha256"] = "0" * 64
    (b / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DialogueError) as e:
        analyze_sweep(b, outputs="relations")
    assert str(e.value) == (f"{b}: the morris sample of mor cannot be rebuilt exactly (another SALib version?); "
                            "analyse the stored parameters (ensemble 'params') with SALib")


def test_the_default_seed_gives_the_same_sobol_intervals_twice(sweeps):
    a, b = (analyze_sweep(sweeps[0], outputs="relations") for _ in range(2))
    assert a["S1_conf"].equals(b["S1_conf"]) and a["ST_conf"].equals(b["ST_conf"])
