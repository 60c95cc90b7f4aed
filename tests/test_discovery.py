"""Scenario discovery: PRIM and CART find planted boxes; the model path and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import DialogueError, discover
from model.cli import main
from model.discovery import describe_box, find_boxes


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
    assert res.x.shape == (1500, 39) and res.y.dtype == bool
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


def test_outcome_that_never_happens_is_one_line(baseline):
    with pytest.raises(DialogueError, match="no sanctions in 300 futures; nothing to discover"):
        discover(baseline, outcome="sanctions", n=300, horizon=1)


@pytest.mark.parametrize("args, words", [
    (["--outcome", "ruptre"], "did you mean 'rupture'"),
    (["--outcome", "rupture", "--n", "10"], "too small"),
    (["--outcome", "rupture", "--params", "represion"], "did you mean 'repression'"),
    (["--outcome", "sanctions", "--n", "300", "--horizon", "1"], "nothing to discover"),
])
def test_cli_bad_input(tmp_path, capsys, args, words):
    code = main(["discover", "baseline", *args, "--out", str(tmp_path / "d")])
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
