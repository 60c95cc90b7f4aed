"""``dialogue batch --observed``: every scenario or sweep point conditioned on the same
observations, each point one chunk, the file part of the batch's identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import simulate
from model.batch import build_plan, load_batch
from model.cli import main
from model.scenario import load_scenario

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "observations" / "example-2013.toml"
RUNS, HORIZON, CHUNK = 240, 24, 100


def _sweep(tmp: Path) -> Path:
    p = tmp / "grid.toml"
    p.write_text('name = "g"\nscenario = "baseline"\n[params.repression]\nvalues = [0.3, 0.9]\n')
    return p


def _args(tmp: Path, out: Path, observed: Path, *extra: str) -> list[str]:
    return ["batch", "baseline", "--sweep", str(_sweep(tmp)), "--runs", str(RUNS), "--horizon", str(HORIZON),
            "--chunk-size", str(CHUNK), "--observed", str(observed), "--out", str(out), "-q", *extra]


@pytest.fixture(scope="module")
def observed_batch(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("obs")
    out = tmp / "batch"
    assert main(_args(tmp, out, EXAMPLE)) == 0
    return out


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_each_point_equals_simulate_with_observations(observed_batch):
    b = load_batch(observed_batch)
    assert b.points == ["baseline", "g-0000", "g-0001"]
    # SMC couples a point's runs: one chunk per point whatever --chunk-size.
    assert all(p["chunks"] == 1 for p in b.manifest["points"])
    assert b.manifest["observations"]["entries"] == 5
    for point, overrides in (("baseline", {}), ("g-0001", {"repression": 0.9})):
        sc = load_scenario("baseline", overrides=overrides or None)
        direct = simulate(sc, runs=RUNS, horizon=HORIZON, observations=EXAMPLE)
        got = b.open(point).load()
        for v in ("weight", "ancestor", "relations", "exports_gbp_m", "dialogue_active", "param_repression"):
            assert np.array_equal(got[v].values, direct[v].values), (point, v)
        assert got.attrs["smc"] == direct.attrs["smc"]
        # The posterior really is conditioned: runs were resampled (some prior runs copied).
        assert np.unique(direct["ancestor"].values).size < RUNS
        row = b.summary.set_index("point").loc[point]
        out = direct["outcome"].values.astype(str)
        assert row["outcome_cool_p"] == pytest.approx(float((out == "cool").mean()), abs=1e-12)


def test_observations_are_part_of_the_inputs_hash(tmp_path, observed_batch, capsys):
    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE.read_text().replace("value = 520.0", "value = 560.0"))
    plain = build_plan(["baseline"], runs=RUNS, horizon=HORIZON)
    a = build_plan(["baseline"], runs=RUNS, horizon=HORIZON, observed=EXAMPLE)
    b = build_plan(["baseline"], runs=RUNS, horizon=HORIZON, observed=other)
    assert len({plain.inputs_hash, a.inputs_hash, b.inputs_hash}) == 3
    assert [t.runs for t in a.chunks()] == [RUNS] and len(plain.chunks()) == 1
    # A batch with other observations is never mistaken for this one.
    msg = _one_line_error(capsys, _args(tmp_path, observed_batch, other, "--resume"))
    assert "different inputs" in msg and "--observed" in msg
    msg = _one_line_error(capsys, ["batch", "baseline", "--sweep", str(_sweep(tmp_path)), "--runs", str(RUNS),
                                   "--horizon", str(HORIZON), "--chunk-size", str(CHUNK), "--out",
                                   str(observed_batch), "--resume", "-q"])
    assert "--observed was 'example-2013.toml' (5 entries), now none" in msg


BAD = {
    "unknown-event": ('[[observation]]\nevent = "dialog_suspended"\nmonth = "2013-05"\nsource = "x"\n',
                      "did you mean 'dialogue_suspended'"),
    "bad-sd": ('[[observation]]\nvariable = "exports_gbp_m"\nmonth = "2013-06"\nvalue = 500.0\nsd = "10%"\n'
               'source = "x"\n', "not a valid error"),
    "after-horizon": ('[[observation]]\nevent = "formula"\nmonth = "2016-01"\nsource = "x"\n',
                      "after the last simulated month"),
    "not-toml": ("[[observation]\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_observed_file_one_line_nothing_written(tmp_path, capsys, case):
    text, want = BAD[case]
    f = tmp_path / "obs.toml"
    f.write_text(text)
    out = tmp_path / "out"
    msg = _one_line_error(capsys, _args(tmp_path, out, f))
    assert want in msg, msg
    assert not out.exists()


def test_missing_file_and_impossible_observation(tmp_path, capsys):
    out = tmp_path / "out"
    msg = _one_line_error(capsys, _args(tmp_path, out, tmp_path / "nope.toml"))
    assert "observations file not found" in msg and not out.exists()
    f = tmp_path / "impossible.toml"
    f.write_text('[[observation]]\nevent = "sanctions"\nmonth = "2013-03"\nsource = "Invented for illustration"\n')
    msg = _one_line_error(capsys, ["batch", "baseline", "--runs", "50", "--horizon", "12", "--observed", str(f),
                                   "--out", str(out), "-q"])
    assert "point baseline: no simulated future matches 'sanctions in 2013-03' (0 of 50)" in msg
    assert not list(out.glob("ensembles/*/*.nc")) and not list(out.glob("partials/*/*.npz"))


def test_local_processes_give_the_same_posterior(tmp_path, observed_batch):
    out = tmp_path / "w2"
    assert main(["batch", "baseline", "--runs", str(RUNS), "--horizon", str(HORIZON), "--observed", str(EXAMPLE),
                 "--out", str(out), "--workers", "2", "-q"]) == 0
    got, ref = load_batch(out).open("baseline").load(), load_batch(observed_batch).open("baseline").load()
    for v in ("weight", "ancestor", "relations", "protest"):
        assert np.array_equal(got[v].values, ref[v].values), v
