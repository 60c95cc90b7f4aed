"""Scenario discovery: PRIM and CART find planted boxes; the model path and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import DialogueError, discover, load_scenario
from model.cli import main
from model.discovery import describe_box, find_boxes
from model.params import registry


@pytest.fixture(scope="module")
def planted():
    """Outcome likely (90%) when a > 0.7 and c < 0.4; 3% elsewhere; b, d, e are noise."""
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.uniform(size=(6000, 5)), columns=list("abcde"))
    inside = (x["a"] > 0.7) & (x["c"] < 0.4)
    y = np.where(inside, rng.uniform(size=6000) < 0.9, rng.uniform(size=6000) < 0.03)
    return x, y


def test_prim_recovers_a_planted_box(planted):
    x, y = planted
    boxes, traj, chosen, cart = find_boxes(x, y)
    box = boxes[0]
    assert set(box.limits) == {"a", "c"}
    assert box.limits["a"][0] == pytest.approx(0.7, abs=0.04) and box.limits["a"][1] > 0.99
    assert box.limits["c"][1] == pytest.approx(0.4, abs=0.04) and box.limits["c"][0] < 0.01
    assert box.density > 0.8 and box.coverage > 0.7
    assert traj["coverage"].iloc[0] == 1.0 and 0 < chosen < len(traj)


def test_cart_recovers_a_planted_box(planted):
    x, y = planted
    _, _, _, cart = find_boxes(x, y)
    assert set(cart.limits) == {"a", "c"}
    assert cart.limits["a"][0] == pytest.approx(0.7, abs=0.04)
    assert cart.limits["c"][1] == pytest.approx(0.4, abs=0.04)


def test_box_sentence():
    s = describe_box("rupture", {"repression": (0.74, 1.0), "syria_divergence": (0.85, 1.0)},
                     {"repression": (0.0, 1.0), "syria_divergence": (0.0, 1.0)},
                     {"repression": "Kremlin repressiveness", "syria_divergence": "UK-Russia divergence over Syria"},
                     coverage=0.58, density=0.62, mass=0.09, base=0.1)
    assert s == ("Rupture becomes likely (62%, against 10% overall) when Kremlin repressiveness is above 0.74 and "
                 "UK-Russia divergence over Syria is above 0.85. These futures hold 58% of all ruptures, and 9% of "
                 "all futures fall in them.")


def test_discover_on_the_model(baseline):
    res = discover(baseline, outcome="confrontation_or_worse", n=1500, horizon=36)
    # One column per parameter the scenario gives an uncertainty (every one not marked fixed).
    uncertain = [n for n, st in baseline.params.items() if st.dist != "fixed"]
    assert res.x.shape == (1500, len(uncertain)) and list(res.x.columns) == uncertain and res.y.dtype == bool
    assert 0 < res.base_rate < 1
    # The sentence's numbers are those of the stated box, recomputed on the futures.
    b = res.boxes[0]
    inside = np.ones(res.n, dtype=bool)
    for k, (lo, hi) in b.limits.items():
        inside &= (res.x[k] >= lo).to_numpy() & (res.x[k] <= hi).to_numpy()
    assert b.density == pytest.approx(res.y[inside].mean())
    assert f"{100 * b.density:.0f}%" in b.sentence and f"{100 * b.mass:.0f}% of all futures" in b.sentence
    frame = res.boxes_frame()
    assert {"box", "method", "param", "low", "high", "coverage", "density", "sentence"} <= set(frame)


# Sanctions in the first month, made impossible by the rules: with no crisis base rate (and no
# earlier major incident to open one), the EU's pressure in month one is at most one major incident,
# one expulsion round and full values concern, below a threshold fixed at its top of range.
NO_FIRST_MONTH_SANCTIONS = """\
name = "no_first_month_sanctions"
extends = "baseline"

[params]
crisis_rate = { value = 0.0, dist = "fixed" }
eu_threshold = { value = 15.0, dist = "fixed" }
"""


def test_first_month_sanctions_are_impossible_by_the_rules():
    """The premise of the next two tests, from the EU rule's own constants."""
    from model.agents.eu import EXPULSION_PRESSURE, MAJOR_INCIDENT_PRESSURE, VALUES_PRESSURE

    # At most one major incident a month (exiles.py), one round, concern at most 1 (0.5 above its floor).
    most = MAJOR_INCIDENT_PRESSURE * 1 + EXPULSION_PRESSURE * 1 + VALUES_PRESSURE * (1.0 - 0.5)
    assert registry()["eu_threshold"].high == 15.0 and most < 15.0


def test_outcome_that_never_happens_is_one_line(tmp_path):
    (tmp_path / "s.toml").write_text(NO_FIRST_MONTH_SANCTIONS, encoding="utf-8")
    with pytest.raises(DialogueError, match="no sanctions in 300 futures; nothing to discover"):
        discover(load_scenario(tmp_path / "s.toml"), outcome="sanctions", n=300, horizon=1)


@pytest.fixture(scope="module")
def never_sanctioned(tmp_path_factory):
    p = tmp_path_factory.mktemp("scenario") / "s.toml"
    p.write_text(NO_FIRST_MONTH_SANCTIONS, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("scenario, args, words", [
    ("baseline", ["--outcome", "ruptre"], "did you mean 'rupture'"),
    ("baseline", ["--outcome", "rupture", "--n", "10"], "too small"),
    ("baseline", ["--outcome", "rupture", "--params", "represion"], "did you mean 'repression'"),
    (None, ["--outcome", "sanctions", "--n", "300", "--horizon", "1"], "nothing to discover"),
])
def test_cli_bad_input(tmp_path, capsys, never_sanctioned, scenario, args, words):
    code = main(["discover", scenario or never_sanctioned, *args, "--out", str(tmp_path / "d")])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and words in err
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_boxes_and_charts(tmp_path, capsys):
    out = tmp_path / "d"
    code = main(["discover", "baseline", "--outcome", "confrontation_or_worse", "--n", "800", "--horizon", "24",
                 "--out", str(out)])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "Box 1 (PRIM): Confrontation or worse" in text
    assert sorted(p.name for p in out.iterdir()) == ["box.png", "boxes.csv", "boxes.parquet", "futures.parquet",
                                                     "peeling.csv", "peeling.png", "summary.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
