"""event_flags on hand-made data: each event is 'has it happened by this month', counted from
exactly one occurrence, either side's expulsions counted (issue 10), the regime-crisis flag included."""

from __future__ import annotations

import numpy as np
import xarray as xr

from model.analysis import event_cumprob, event_flags


def _ds() -> xr.Dataset:
    runs, months = 4, 5
    z = np.zeros((runs, months))
    v = {
        "dialogue_active": np.ones((runs, months), dtype=bool),
        "expulsions": z.copy(), "russian_expulsions": z.copy(), "sanctions": np.zeros((runs, months), dtype=bool),
        "major_incidents": z.copy(), "regime_crisis": np.zeros((runs, months), dtype=bool),
    }
    v["dialogue_active"][0, 2] = False          # run 0: suspended in month 2 only, then resumed
    v["expulsions"][1, 3] = 1                   # run 1: exactly one diplomat, by the UK, in month 3
    v["russian_expulsions"][2, 1] = 1           # run 2: exactly one, by Russia alone, in month 1
    v["sanctions"][3, 4] = True                 # run 3: sanctions in the last month
    v["major_incidents"][0, 0] = 1              # run 0: a major incident in the first month
    v["regime_crisis"][1, 2:] = True            # run 1: a regime crisis from month 2 (sticky)
    return xr.Dataset({k: (("run", "time"), a) for k, a in v.items()},
                      coords={"run": np.arange(runs), "time": np.arange(months)})


def test_each_event_counts_from_its_first_occurrence_and_stays_counted():
    f = {k: a.values for k, a in event_flags(_ds()).items()}
    assert set(f) == {"dialogue suspended", "diplomats expelled", "sanctions", "major incident on UK soil",
                      "regime crisis in Russia"}
    want = np.zeros((4, 5), dtype=bool)
    first = {"dialogue suspended": (0, 2), "sanctions": (3, 4), "major incident on UK soil": (0, 0),
             "regime crisis in Russia": (1, 2)}
    for name, (run, month) in first.items():
        w = want.copy()
        w[run, month:] = True
        np.testing.assert_array_equal(f[name], w, err_msg=name)
    w = want.copy()
    w[1, 3:] = True   # the UK's single expulsion
    w[2, 1:] = True   # Russia's single expulsion, with no UK round
    np.testing.assert_array_equal(f["diplomats expelled"], w)


def test_cumulative_probabilities_are_the_run_means_of_the_flags():
    ds = _ds()
    cp = event_cumprob(ds)
    assert cp.shape == (5, 5)
    np.testing.assert_allclose(cp["diplomats expelled"].values, [0, 0.25, 0.25, 0.5, 0.5])
    np.testing.assert_allclose(cp["regime crisis in Russia"].values, [0, 0, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(cp["dialogue suspended"].values, [0, 0, 0.25, 0.25, 0.25])
