"""The observables contract of ``simulate``'s Dataset, and results files on disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import DialogueError, simulate, summarize
from model.agents.relations import DRIVERS
from model.params import registry
from model.results import OUTCOMES, classify, load, save

REQUIRED = ["relations", "protest", "repression", "syria_divergence", "exports_gbp_m", "dialogue_active",
            "expulsions", "sanctions", "incidents"]


def test_dims_time_axis_and_variables(small_ds):
    ds = small_ds
    assert ds["relations"].dims == ("run", "time")
    assert ds.sizes["time"] == 60
    assert pd.Timestamp(ds.time.values[0]) == pd.Timestamp("2013-03-01")
    assert pd.Timestamp(ds.time.values[-1]) == pd.Timestamp("2018-02-01")
    for v in REQUIRED:
        assert v in ds, v
    for d in ("protest_growth", "repression", "syria_divergence", "trade_growth", "incidents", "dialogue",
              "shocks"):
        assert f"contrib_{d}" in ds
    for name in registry():
        assert ds[f"param_{name}"].dims == ("run",)
    assert ds["dialogue_active"].dtype == bool and ds["sanctions"].dtype == bool
    for key in ("scenario_toml", "seed", "runs", "version", "git_commit", "created"):
        assert key in ds.attrs
    assert ds.attrs["runs"] == 400 and ds.attrs["seed"] == 11


def test_contributions_sum_to_change(small_ds):
    ds = small_ds
    total = sum(ds[f"contrib_{d}"] for d in DRIVERS)
    rel = ds["relations"].values
    change = np.diff(np.concatenate([np.full((rel.shape[0], 1), ds.attrs["initial_relations"]), rel], axis=1))
    np.testing.assert_allclose(total.values, change, atol=1e-9)


def test_outcome_follows_its_rules(small_ds):
    end = small_ds.isel(time=-1)
    rel, sanc, out = end["relations"].values, end["sanctions"].values, small_ds["outcome"].values
    assert set(out) <= set(OUTCOMES)
    assert ((out == "rupture") == (sanc | (rel <= -6))).all()
    assert ((out == "thaw") == (~sanc & (rel > 2))).all()
    assert list(classify(np.array([-6.0, -5.9, -2.0, 2.0, 2.01]), np.zeros(5, bool))) == [
        "rupture", "confrontation", "confrontation", "cool", "thaw"]


def test_event_variables_are_consistent(small_ds):
    ds = small_ds
    ladder = ds["ladder"].values
    assert np.array_equal(ds["dialogue_active"].values, ladder < 2)
    assert np.array_equal(ds["sanctions"].values, ladder >= 4)
    assert (ds["expulsions"].values[ds["expulsions"].values > 0] % 2 == 0).all()
    assert (ds["major_incidents"] <= ds["incidents"]).all()
    assert not ds["meeting"].values[~ds["dialogue_active"].values].any()
    months = pd.DatetimeIndex(ds.time.values).month
    assert not ds["meeting"].values[:, months != 3].any()  # 2+2s are held each March


def test_save_and_load_round_trip(tmp_path, small_ds):
    p = save(small_ds, tmp_path / "r.nc")
    back = load(p)
    for v in ("relations", "dialogue_active", "outcome", "contrib_shocks", "param_repression"):
        np.testing.assert_array_equal(back[v].values, small_ds[v].values)
    assert back.attrs["scenario_toml"] == small_ds.attrs["scenario_toml"]
    assert summarize(back).outcomes == summarize(small_ds).outcomes
    assert not list(tmp_path.glob(".*partial"))


def test_bad_results_files(tmp_path, small_ds):
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not a netcdf file")
    with pytest.raises(DialogueError, match="not a readable NetCDF results file"):
        load(junk)
    with pytest.raises(DialogueError, match="not found"):
        load(tmp_path / "missing.nc")
    other = tmp_path / "other.nc"
    small_ds[["protest"]].drop_attrs().to_netcdf(other, engine="h5netcdf")
    with pytest.raises(DialogueError, match="not a results file"):
        load(other)
    with pytest.raises(DialogueError, match="end in .nc"):
        save(small_ds, tmp_path / "r.csv")


def test_failed_write_leaves_nothing(tmp_path, small_ds):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.access(ro, os.W_OK):  # root ignores permissions; use a missing folder instead
            with pytest.raises(DialogueError, match="does not exist"):
                save(small_ds, tmp_path / "nope" / "r.nc")
        else:
            with pytest.raises(DialogueError, match="permission denied"):
                save(small_ds, ro / "r.nc")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_summary_numbers_match_the_dataset(small_ds):
    s = summarize(small_ds)
    end = small_ds.isel(time=-1)
    assert s.relations_median == pytest.approx(float(np.median(end["relations"])))
    assert s.outcomes["rupture"][0] == pytest.approx((small_ds["outcome"] == "rupture").mean().item())
    susp = (~small_ds["dialogue_active"]).any("time").mean().item()
    assert s.events["dialogue suspended"][0] == pytest.approx(susp)
    assert sum(p for p, _ in s.outcomes.values()) == pytest.approx(1.0)
    p, se = s.events["dialogue suspended"]
    assert se == pytest.approx(np.sqrt(p * (1 - p) / 400))
    assert "rupture" in s.text() and len(s.to_frame()) > 10


def test_horizon_and_runs_arguments(baseline):
    ds = simulate(baseline, runs=7, seed=1, horizon=13)
    assert ds.sizes == {"run": 7, "time": 13}
    with pytest.raises(DialogueError, match="unknown engine"):
        simulate(baseline, runs=7, engine="turbo")


def test_too_large_for_memory_points_to_batch(baseline):
    with pytest.raises(DialogueError, match="needs about 18.7 GB.*dialogue batch"):
        simulate(baseline, runs=2_000_000, horizon=60)


def test_estimate_matches_the_file_written(tmp_path, small_ds):
    from model.results import estimate_bytes

    p = save(small_ds, tmp_path / "r.nc")
    size = p.stat().st_size
    est = estimate_bytes(small_ds.sizes["run"], small_ds.sizes["time"])
    assert size <= est <= 1.1 * size + 1_000_000  # never under, a little over


def test_label_and_name_in_attrs(tmp_path, baseline):
    ds = simulate(baseline.with_overrides({"repression": 0.8}), runs=5, horizon=3)
    assert ds.attrs["scenario"] == "baseline"
    assert ds.attrs["scenario_label"] == "baseline + repression=0.8"
    back = load(save(ds, tmp_path / "l.nc"))
    assert back.attrs["scenario_label"] == "baseline + repression=0.8"


def test_save_refuses_to_overwrite_when_asked(tmp_path, small_ds):
    p = save(small_ds.isel(run=slice(0, 5)), tmp_path / "r.nc")
    before = p.read_bytes()
    with pytest.raises(DialogueError, match="already exists; add --force"):
        save(small_ds, p, overwrite=False)
    assert p.read_bytes() == before
    save(small_ds.isel(run=slice(0, 7)), p)  # the library default still overwrites
    assert load(p).sizes["run"] == 7
