"""Design batches: ``dialogue batch SCENARIO --design FILE``, saltelli/morris sweeps,
the stacked chunk format (format 3) and its loader, and analyze_sweep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import load_scenario, simulate
from model.agents.relations import DRIVERS
from model.batch import analyze_sweep, build_plan, load_batch, run_batch
from model.batch.plan import FORMAT_VERSION
from model.cli import main
from model.engine import ENGINES, RECORDED
from model.errors import DialogueError
from model.params import registry
from model.sensitivity import analyze

HORIZON, ROWS, CHUNK = 12, 45, 20   # 45 rows in chunks of 20: 20 + 20 + 5 (uneven on purpose)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    return pd.DataFrame({"repression": rng.random(ROWS), "param_syria_divergence": rng.uniform(0.2, 1.0, ROWS),
                         "trade_growth": rng.uniform(-0.1, 0.25, ROWS)})


@pytest.fixture(scope="module")
def direct(table):
    return simulate(load_scenario("baseline"), horizon=HORIZON, design=table)


def cli(*argv) -> int:
    return main(["batch", *argv, "-q"])


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    assert "Traceback" not in err
    return lines[0]


def assert_equals_direct(ds, direct) -> None:
    for v in direct.data_vars:
        assert np.array_equal(ds[v].values, direct[v].values), v
        assert ds[v].attrs == direct[v].attrs, v
    assert np.array_equal(ds["run"].values, direct["run"].values)


# ------------------------------------------------------------------ --design


@pytest.mark.parametrize("suffix,workers", [(".csv", None), (".parquet", "2")])
def test_design_file_batch_is_bit_identical_to_simulate_in_one_go(tmp_path, table, direct, suffix, workers):
    f = tmp_path / f"design{suffix}"
    table.to_csv(f, index=False) if suffix == ".csv" else table.to_parquet(f, index=False)
    out = tmp_path / "b"
    extra = ["--workers", workers] if workers else []
    assert cli("baseline", "--design", str(f), "--horizon", str(HORIZON), "--chunk-size", str(CHUNK),
               "--out", str(out), *extra) == 0
    b = load_batch(out)
    assert [c["run_offset"] for c in b.manifest["chunks"]] == [0, 20, 40]
    assert [c["runs"] for c in b.manifest["chunks"]] == [20, 20, 5]
    ds = b.open("baseline").load()
    assert_equals_direct(ds, direct)  # CSV round-trips float64 exactly (pandas writes 17 significant digits)
    # The designed values are the table's; the rest are drawn as usual.
    assert np.array_equal(ds["param_repression"].values, table["repression"].values)
    assert ds["param_repression"].attrs["source"] == "design"
    row = b.summary.iloc[0]
    assert row["runs"] == ROWS and row["design"] == f.name
    counts = pd.Series(direct["outcome"].values).value_counts()
    assert row["outcome_cool_p"] == counts.get("cool", 0) / ROWS
    design = b.manifest["points"][0]["design"]
    assert design["rows"] == ROWS and design["params"] == ["repression", "syria_divergence", "trade_growth"]


def test_design_batch_resumes_to_the_same_result(tmp_path, table, direct):
    f = tmp_path / "d.csv"
    table.to_csv(f, index=False)
    args = ["baseline", "--design", str(f), "--horizon", str(HORIZON), "--chunk-size", str(CHUNK)]
    out = tmp_path / "b"
    assert cli(*args, "--out", str(out)) == 0
    # Lose the last two chunks and the "complete" status, as a killed run would.
    for i in (1, 2):
        (out / "partials" / "baseline" / f"chunk-{i:06d}.npz").unlink()
    m = json.loads((out / "manifest.json").read_text())
    m["status"] = "incomplete"
    (out / "manifest.json").write_text(json.dumps(m))
    assert cli(*args, "--out", str(out), "--resume") == 0
    b = load_batch(out)
    assert b.manifest["last_session"]["chunks"] == 2
    assert_equals_direct(b.open("baseline").load(), direct)
    # A changed design file is a different batch: --resume refuses it.
    table.assign(repression=table["repression"] * 0.5).to_csv(f, index=False)
    with pytest.raises(DialogueError, match="design of baseline differs"):
        run_batch(build_plan(["baseline"], horizon=HORIZON, chunk_size=CHUNK, design=f), out, resume=True,
                  progress=False)


def test_design_runs_must_match_rows(tmp_path, table, capsys):
    f = tmp_path / "d.csv"
    table.to_csv(f, index=False)
    line = one_line_error(capsys, ["batch", "baseline", "--design", str(f), "--runs", "10", "--out",
                                   str(tmp_path / "o")])
    assert f"has {ROWS} rows but runs = 10" in line
    assert not (tmp_path / "o").exists()


def _write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        content.to_parquet(path) if path.suffix == ".parquet" else content.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name,content,words", [
    ("d.csv", "represion,syria_divergence\n0.5,0.5\n", ["'represion' is not a parameter",
                                                        "did you mean 'repression'"]),
    ("d.csv", "repression\n0.5\n1.5\n", ["row 1 = 1.5 is out of range", "between 0 and 1"]),
    ("d.csv", "repression,syria_divergence\n0.5,\n", ["missing or infinite value in row 0"]),
    ("d.csv", "repression,syria_divergence\n", ["has no rows"]),
    ("d.csv", "", ["the file is empty"]),
    ("d.csv", "repression\n0.5\nabc\n", ["must hold numbers"]),
    ("d.csv", 'repression,trade_growth\n0.5,0.1\n0.4,"0.2\n', ["malformed CSV"]),
    ("d.csv", b"repression\n\xff\xfe0.5\n", ["not UTF-8"]),
    ("d.csv", pd.DataFrame({"repression": [0.5, 0.6]}).reset_index(), ["'index' is not a parameter"]),
    ("d.csv", ",repression\n0,0.5\n", ["has no name", "index=False"]),
    ("d.parquet", b"PAR1 this is not parquet", ["not a readable Parquet file"]),
    ("d.parquet", pd.DataFrame({"repression": [0.5, np.nan]}), ["missing or infinite value in row 1"]),
    ("d.xlsx", "repression\n0.5\n", ["use a .csv or .parquet file (got .xlsx)"]),
    ("d.json", "{}", ["use a .csv or .parquet file"]),
])
def test_bad_design_files_are_one_line_and_write_nothing(tmp_path, capsys, name, content, words):
    f = _write(tmp_path / name, content)
    out = tmp_path / "o"
    line = one_line_error(capsys, ["batch", "baseline", "--design", str(f), "--out", str(out)])
    for w in words:
        assert w in line, line
    assert not out.exists()


def test_missing_design_file_and_design_without_scenario(tmp_path, capsys):
    line = one_line_error(capsys, ["batch", "baseline", "--design", str(tmp_path / "nope.csv"),
                                   "--out", str(tmp_path / "o")])
    assert "file not found" in line
    f = _write(tmp_path / "d.csv", "repression\n0.5\n")
    line = one_line_error(capsys, ["batch", "--sweep", "scenarios/sweeps/syria_repression_grid.toml",
                                   "--design", str(f), "--out", str(tmp_path / "o")])
    assert "--design needs a scenario" in line
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ saltelli / morris sweeps


SALTELLI = """
name = "s"
scenario = "baseline"
method = "saltelli"
points = 8
sample_seed = 3
horizon = 12
[params.repression]
[params.syria_divergence]
low = 0.3
high = 1.0
"""


def test_saltelli_sweep_is_one_design_point_with_block_streams(tmp_path):
    from SALib.sample import sobol

    f = _write(tmp_path / "s.toml", SALTELLI)
    plan = build_plan(sweeps=[str(f)], chunk_size=7)   # blocks of 4 rows straddle chunks of 7
    (pt,) = plan.points
    assert pt.runs == 8 * (2 + 2) and pt.stream_block == 4
    prob = {"num_vars": 2, "names": ["repression", "syria_divergence"], "bounds": [[0.0, 1.0], [0.3, 1.0]]}
    x = sobol.sample(prob, 8, calc_second_order=False, seed=3)
    assert np.array_equal(np.column_stack([pt.design["repression"], pt.design["syria_divergence"]]), x)
    run_batch(plan, tmp_path / "b", progress=False, workers=2)
    ds = load_batch(tmp_path / "b").open(0).load()
    # Rows of one Saltelli block share one random stream (stream = row // 4), as in
    # 'dialogue sensitivity'; the stored run coordinate is still the row.
    sc = pt.scenario
    out, params = ENGINES["ensemble"](sc, np.arange(32) // 4, sc.run.seed, 12, design=pt.design)
    assert np.array_equal(ds["run"].values, np.arange(32))
    assert np.array_equal(ds["relations"].values, out["relations"].T)
    assert np.array_equal(ds["param_repression"].values, x[:, 0])
    assert np.array_equal(ds["param_trade_growth"].values, params["trade_growth"])


def test_row_streams_equal_simulate_with_the_sample_as_design(tmp_path):
    text = SALTELLI.replace('horizon = 12\n', 'horizon = 12\nstreams = "row"\n')
    f = _write(tmp_path / "s.toml", text)
    plan = build_plan(sweeps=[str(f)], chunk_size=10)
    (pt,) = plan.points
    assert pt.stream_block == 0
    run_batch(plan, tmp_path / "b", progress=False)
    ds = load_batch(tmp_path / "b").open(0).load()
    direct = simulate(load_scenario("baseline"), horizon=12, design=pd.DataFrame(pt.design))
    for v in ("relations", "sanctions", "param_repression", "param_trade_growth", "outcome"):
        assert np.array_equal(ds[v].values, direct[v].values), v


def test_analyze_sweep_equals_salib_on_the_batch_outputs(tmp_path):
    f = _write(tmp_path / "s.toml", SALTELLI.replace("points = 8", "points = 64"))
    plan = build_plan(sweeps=[str(f)], chunk_size=100, variables=())  # summaries only: partials suffice
    run_batch(plan, tmp_path / "b", progress=False)
    t = analyze_sweep(tmp_path / "b", outputs="relations,confrontation_or_worse")
    assert set(t["output"]) == {"relations", "confrontation_or_worse"} and len(t) == 4
    # The same numbers as SALib on outputs recomputed by simulating the same rows directly.
    (pt,) = plan.points
    sc = pt.scenario
    out, _ = ENGINES["ensemble"](sc, np.arange(pt.runs) // 4, sc.run.seed, 12, design=pt.design)
    prob = {"num_vars": 2, "names": ["repression", "syria_divergence"], "bounds": [[0.0, 1.0], [0.3, 1.0]]}
    x = np.column_stack([pt.design["repression"], pt.design["syria_divergence"]])
    want = analyze("sobol", prob, x, out["relations"][-1], 100, 0)
    got = t[t["output"] == "relations"].set_index("param")
    assert np.allclose(got.loc[["repression", "syria_divergence"], "ST"], want["ST"], rtol=0, atol=1e-12)
    assert np.allclose(got.loc[["repression", "syria_divergence"], "S1"], want["S1"], rtol=0, atol=1e-12)
    assert got.loc["repression", "mean"] == pytest.approx(out["relations"][-1].mean())


def test_morris_sweep_and_its_analysis(tmp_path):
    text = SALTELLI.replace('"saltelli"', '"morris"').replace("points = 8", "points = 6")
    f = _write(tmp_path / "m.toml", text)
    plan = build_plan(sweeps=[str(f)], chunk_size=100)
    assert plan.points[0].runs == 6 * 3 and plan.points[0].stream_block == 3
    run_batch(plan, tmp_path / "b", progress=False)
    t = analyze_sweep(tmp_path / "b", outputs="relations")
    assert list(t.columns[-4:]) == ["mu", "mu_star", "sigma", "mu_star_conf"]
    assert (t["mu_star"] >= 0).all() and t["method"].eq("morris").all()


def test_analyze_sweep_without_a_design_sweep_is_one_line(tmp_path):
    run_batch(build_plan(["baseline"], runs=10, horizon=6), tmp_path / "b", progress=False)
    with pytest.raises(DialogueError, match="no saltelli or morris sweep"):
        analyze_sweep(tmp_path / "b")


@pytest.mark.parametrize("edit,words", [
    (("points = 8", "points = 6"), "not a power of two"),
    (("points = 8\n", ""), "needs 'points = N'"),
    (("horizon = 12", "horizon = 12\nruns = 5"), "'runs' does not apply"),
    (("horizon = 12", "horizon = 12\nstreams = \"chunk\""), 'use "block"'),
    (("sample_seed = 3", "lhs_seed = 3"), "uses 'sample_seed'"),
    (("low = 0.3\nhigh = 1.0", "low = 0.5\nhigh = 0.5"), "needs low below high"),
    (("[params.repression]", "[params.repression]\nvalues = [0.1]"), "samples between low and high"),
    (("points = 8", "points = 1"), "at least 2 trajectories"),
])
def test_bad_design_sweeps_are_one_line(tmp_path, edit, words):
    text = SALTELLI.replace(*edit)
    if "trajectories" in words:
        text = text.replace('"saltelli"', '"morris"')
    f = _write(tmp_path / "s.toml", text)
    with pytest.raises(DialogueError) as exc:
        build_plan(sweeps=[str(f)])
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_grid_sweep_rejects_design_keys(tmp_path):
    f = _write(tmp_path / "g.toml", 'scenario = "baseline"\nsample_seed = 1\n[params.repression]\nvalues = [0.1]\n')
    with pytest.raises(DialogueError, match="'sample_seed' is for method"):
        build_plan(sweeps=[str(f)])


def test_shipped_saltelli_sweep():
    plan = build_plan(sweeps=["scenarios/sweeps/headline_saltelli.toml"])
    (pt,) = plan.points
    assert pt.runs == 256 * 6 and pt.stream_block == 6 and set(pt.design) == {
        "protest_growth", "repression", "syria_divergence", "trade_growth"}


# ------------------------------------------------------------------ format 3 and older folders


def test_chunk_files_hold_stacked_variables(tmp_path):
    import xarray as xr

    run_batch(build_plan(["baseline"], runs=10, horizon=6), tmp_path / "b", progress=False)
    with xr.open_dataset(tmp_path / "b" / "ensembles" / "baseline" / "chunk-000000.nc", engine="h5netcdf") as raw:
        names = set(raw.data_vars)
        assert {"params", "contrib"} <= names
        assert not any(n.startswith(("param_", "contrib_")) for n in names)
        assert raw["params"].dims == ("run", "param") and raw["contrib"].dims == ("run", "driver", "time")
        others = [v for v in RECORDED if not v.startswith("contrib_")]
        assert names == {"params", "contrib", "outcome", *others}
        assert raw.sizes["param"] == len(registry()) and list(raw["driver"].values) == list(DRIVERS)


def test_resuming_an_older_format_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "b"
    assert cli("baseline", "--runs", "10", "--horizon", "6", "--out", str(out)) == 0
    m = json.loads((out / "manifest.json").read_text())
    m["format_version"] = FORMAT_VERSION - 1
    m["status"] = "incomplete"
    (out / "manifest.json").write_text(json.dumps(m))
    before = sorted(p.name for p in out.rglob("*"))
    line = one_line_error(capsys, ["batch", "baseline", "--runs", "10", "--horizon", "6", "--out", str(out),
                                   "--resume", "-q"])
    assert f"format version {FORMAT_VERSION - 1}" in line and "start a new --out folder" in line
    assert sorted(p.name for p in out.rglob("*")) == before


def test_loader_opens_a_format_2_chunk_unchanged(tmp_path):
    """A chunk written the old way (one variable per parameter) still opens, as it was."""
    import xarray as xr

    from model.batch.store import with_member_names

    old = simulate(load_scenario("baseline"), runs=5, horizon=3)
    path = tmp_path / "old.nc"
    old.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        back = with_member_names(ds.load())
    assert set(back.data_vars) == set(old.data_vars)
    shutil.rmtree(tmp_path)
