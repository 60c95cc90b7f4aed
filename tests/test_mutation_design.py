"""``model.design.check_design`` at its edges, with whole messages (issue 14: mutation gaps).

``test_design.py`` checks designs through ``simulate``; here the checker is called
directly: every refusal's full message, the ulp tolerance exactly at, inside and outside
each bound, and the kinds of column it takes or refuses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.design import ULPS, check_design, design_rows
from model.errors import DialogueError

EPS = np.spacing(1.0)  # the ulp at 1: the tolerance for bounds within [-1, 1] is ULPS of these


@pytest.mark.parametrize("design,where,message", [
    ([0.5], "design", "design must be a table (pandas DataFrame or dict of arrays), got list"),
    ({"repression": [0.5], "param_repression": [0.6]}, "design",
     "design gives parameter 'repression' twice; keep one column"),
    ({"repression": [[0.5, 0.6]]}, "grid", "grid column 'repression' must be one value per run (a flat list)"),
    ({"repression": [0.5], "protest_growth": [0.1, 0.2]}, "design",
     "design columns have different lengths (1 and 2 for 'protest_growth'); give every column one value per run"),
    ({"repression": np.array([0.5, None, object()], dtype=object)}, "design",
     "design column 'repression' must hold numbers only"),
    ({"repression": np.array(["0.5", "0.6"])}, "design", "design column 'repression' must hold numbers, not <U3"),
    ({"repression": [True, False]}, "design", "design column 'repression' must hold numbers, not bool"),
    ({"repression": [0.5, np.inf]}, "design",
     "design column 'repression' has a missing or infinite value in row 1; fill every cell with a number"),
    ({"repression": [0.5, -0.25]}, "table",
     "table column 'repression' row 1 = -0.25 is out of range; it must be between 0 and 1 (index 0-1)"),
    ({"repression": [0.5]}, "design", None),
])
def test_check_design_messages(design, where, message):
    kwargs = {} if where == "design" else {"where": where}  # "design" is the default
    if message is None:
        with pytest.raises(DialogueError, match="^design has 1 rows but runs = 2;"):
            check_design(design, runs=2, **kwargs)
        return
    with pytest.raises(DialogueError) as e:
        check_design(design, **kwargs)
    assert str(e.value) == message


def test_integer_and_object_number_columns_are_taken_as_floats():
    out = check_design({"repression": np.array([0, 1]), "param_protest_growth": np.array([0.01, 0.02], dtype=object)})
    assert out["repression"].dtype == np.float64 and out["repression"].tolist() == [0.0, 1.0]
    assert out["protest_growth"].dtype == np.float64 and out["protest_growth"].tolist() == [0.01, 0.02]
    assert design_rows(out) == 2
    frame = check_design(pd.DataFrame({"repression": [0.25, 0.75]}), runs=2)
    assert frame["repression"].tolist() == [0.25, 0.75]


def test_the_ulp_tolerance_is_exactly_ulps_at_each_bound_and_values_are_clipped():
    assert ULPS == 4
    # exactly at the tolerance: accepted and clipped to the bound (0 and 1 for repression)
    out = check_design({"repression": [-ULPS * EPS, 1.0 + ULPS * EPS, -2 * EPS, 1.0 + 2 * EPS, 0.0, 1.0]})
    assert out["repression"].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    # one ulp past the tolerance: refused, on either side
    for bad in (-(ULPS + 1) * EPS, -(2 * ULPS - 1) * EPS, -1.0):
        with pytest.raises(DialogueError, match="row 0 .* is out of range"):
            check_design({"repression": [bad]})
    for bad in (1.0 + (ULPS + 1) * EPS, 1.0 + (2 * ULPS - 1) * EPS, 2.0):
        with pytest.raises(DialogueError, match="row 0 .* is out of range"):
            check_design({"repression": [bad]})
