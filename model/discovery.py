"""Scenario discovery: which combinations of assumptions lead to an outcome?

Samples the varied parameters by Latin hypercube (scipy.stats.qmc) in probability
space, turns each row into parameter values with the registry's inverse CDFs
(as :mod:`model.sensitivity` does), runs the rows through the design path in one
ensemble, and marks each future by whether the outcome happened by the horizon.
PRIM (the ``prim`` package: the EMA Workbench's PRIM as a standalone library)
then peels the parameter space towards boxes where the outcome is likely;
CART (scikit-learn) gives a second opinion.

Before PRIM, the ``keep`` parameters whose distributions differ most between
futures with and without the outcome (Kolmogorov-Smirnov statistic) are kept:
PRIM peels every dimension it is given, and a box over 39 dimensions is not a
sentence. The box reported is the point on PRIM's peeling trajectory with the
best weighted relative accuracy, mass x (density - base rate): the standard
balance, in subgroup discovery, of how many futures a box holds against how much
likelier the outcome is inside it. (Coverage is the share of all cases inside the
box; density the share of the box's futures that are cases; mass the share of all
futures in the box.) Only restrictions that PRIM's quasi-p test finds significant
(p < 0.05) are kept, at most ``max_dims`` of them, and coverage, density and mass
are recomputed for the box exactly as stated, so a sentence's numbers are those of
the sentence's box.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import DialogueError
from model.sensitivity import (
    BINARY_OUTCOMES,
    OUTPUTS,
    Factor,
    _date,
    _lower,
    _month_words,
    _scenario,
    at_date,
    factors,
    run_design,
    to_values,
)
from model.validation import suggest

OUTCOMES = BINARY_OUTCOMES
MIN_N = 200
DEFAULT_N = 10_000

# (Sentence subject, "all futures with ...")
_WORDS = {
    "rupture": ("Rupture", "all ruptures"),
    "confrontation_or_worse": ("Confrontation or worse", "all futures of confrontation or worse"),
    "confrontation": ("Confrontation", "all futures of confrontation"),
    "cool": ("A cool relationship", "all cool futures"),
    "thaw": ("A thaw", "all thaws"),
    "dialogue_suspended": ("Suspension of the dialogue", "all futures with the dialogue suspended"),
    "expulsions": ("Expulsion of diplomats", "all futures with expulsions"),
    "sanctions": ("Sanctions", "all futures with sanctions"),
}
_NOUN = {"rupture": "rupture", "confrontation_or_worse": "confrontation or worse", "confrontation": "confrontation",
         "cool": "cool relationship", "thaw": "thaw", "dialogue_suspended": "suspension of the dialogue",
         "expulsions": "expulsion", "sanctions": "sanctions"}


@dataclass
class Box:
    """A box of assumptions: per restricted parameter, its bounds in the box."""

    method: str  # "prim" or "cart"
    limits: dict[str, tuple[float, float]]  # name -> (low, high) inside the box
    coverage: float
    density: float
    mass: float
    sentence: str = ""


@dataclass
class DiscoveryResult:
    """Sampled futures, the outcome per future, the boxes and their sentences."""

    scenario: str
    outcome: str
    n: int
    horizon: int
    date: str
    x: pd.DataFrame  # parameter values, one row per future
    y: np.ndarray  # outcome per future (bool)
    factors: list[Factor]
    boxes: list[Box]
    trajectory: pd.DataFrame  # PRIM peeling trajectory of the first box
    chosen: int  # index of the chosen point on the trajectory
    cart: Box | None
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        return float(self.y.mean())

    def boxes_frame(self) -> pd.DataFrame:
        """Tidy boxes: one row per (box, restricted parameter)."""
        labels = {f.name: f.label for f in self.factors}
        rows = []
        for i, b in enumerate(self.boxes + ([self.cart] if self.cart else [])):
            for name, (lo, hi) in b.limits.items():
                rows.append({"outcome": self.outcome, "box": i + 1 if b.method == "prim" else 0, "method": b.method,
                             "param": name, "label": labels[name], "low": lo, "high": hi,
                             "coverage": b.coverage, "density": b.density, "mass": b.mass,
                             "base_rate": self.base_rate, "sentence": b.sentence})
        return pd.DataFrame(rows)

    def text(self) -> str:
        """Plain-language results for the terminal."""
        subj = _WORDS[self.outcome][0]
        lines = [f"Scenario discovery for '{self.scenario}': {self.n:,} futures sampled over {len(self.factors)} "
                 f"assumptions (Latin hypercube over their uncertainty), in {self.seconds:.1f} s.",
                 f"{subj} {at_date(self.outcome, _month_words(self.date))} happens in {100 * self.base_rate:.0f}% "
                 "of them "
                 f"({int(self.y.sum()):,} futures).", *self.notes, ""]
        for i, b in enumerate(self.boxes):
            lines.append(f"Box {i + 1} (PRIM): {b.sentence}")
        if self.cart is not None:
            lines += ["", f"Cross-check (decision tree, CART): {self.cart.sentence}"]
        return "\n".join(lines)

    def save(self, out_dir: str | Path) -> list[Path]:
        """Boxes (Parquet, CSV), the peeling trajectory (CSV) and the futures (Parquet)."""
        out_dir = Path(out_dir)
        paths = [out_dir / "boxes.parquet", out_dir / "boxes.csv", out_dir / "peeling.csv",
                 out_dir / "futures.parquet"]
        bf = self.boxes_frame()
        bf.to_parquet(paths[0], index=False)
        bf.to_csv(paths[1], index=False)
        self.trajectory.to_csv(paths[2], index_label="step")
        (self.x.assign(**{self.outcome: self.y})).to_parquet(paths[3], index=False)
        return paths


def _fmt(v: float) -> str:
    a = abs(v)
    s = f"{v:.3g}" if a < 10 else f"{v:,.1f}" if a < 1000 else f"{v:,.0f}"
    return s.replace("-", "\u2212") if v < 0 else s


def _in_box(x: pd.DataFrame, limits: dict[str, tuple[float, float]]) -> np.ndarray:
    inside = np.ones(len(x), dtype=bool)
    for name, (lo, hi) in limits.items():
        inside &= (x[name].to_numpy() >= lo) & (x[name].to_numpy() <= hi)
    return inside


def _stats(x: pd.DataFrame, y: np.ndarray, limits: dict[str, tuple[float, float]]) -> tuple[float, float, float]:
    inside = _in_box(x, limits)
    k = int(inside.sum())
    cov = float(y[inside].sum() / max(y.sum(), 1))
    dens = float(y[inside].mean()) if k else 0.0
    return cov, dens, k / len(y)


def likely_words(p: float) -> str:
    """PHIA terms for a box's density of 37.5% or more; '' below (then a ratio is clearer)."""
    for cut, word in ((0.925, "almost certain"), (0.775, "highly likely"), (0.525, "likely"),
                      (0.375, "a realistic possibility")):
        if p >= cut:
            return word
    return ""


def screen(x: pd.DataFrame, y: np.ndarray, keep: int) -> list[str]:
    """The ``keep`` parameters whose distributions differ most between futures with and
    without the outcome (two-sample Kolmogorov-Smirnov statistic)."""
    from scipy.stats import ks_2samp

    d = {c: ks_2samp(x[c].to_numpy()[y], x[c].to_numpy()[~y]).statistic for c in x.columns}
    return sorted(d, key=lambda c: -d[c])[:keep]


def describe_box(outcome: str, limits: dict[str, tuple[float, float]], bounds: dict[str, tuple[float, float]],
                 labels: dict[str, str], coverage: float, density: float, mass: float, base: float) -> str:
    """The box as a sentence an analyst can paste."""
    subj, all_cases = _WORDS[outcome]
    conds = []
    for name, (lo, hi) in limits.items():
        blo, bhi = bounds[name]
        cut_lo, cut_hi = lo > blo, hi < bhi
        lab = _lower(labels[name])
        if cut_lo and cut_hi:
            conds.append(f"{lab} is between {_fmt(lo)} and {_fmt(hi)}")
        elif cut_lo:
            conds.append(f"{lab} is above {_fmt(lo)}")
        else:
            conds.append(f"{lab} is below {_fmt(hi)}")
    when = conds[0] if len(conds) == 1 else ", ".join(conds[:-1]) + " and " + conds[-1]
    word = likely_words(density)
    odds = f"({100 * density:.0f}%, against {100 * base:.0f}% overall)"
    head = f"{subj} becomes {word} {odds}" if word else f"{subj} is {density / base:.1f} times as likely {odds}"
    return (f"{head} when {when}. "
            f"These futures hold {100 * coverage:.0f}% of {all_cases}, and {100 * mass:.0f}% of all futures "
            "fall in them.")


def _prim_boxes(x: pd.DataFrame, y: np.ndarray, max_dims: int, n_boxes: int, alpha: float
                ) -> tuple[list[dict[str, tuple[float, float]]], pd.DataFrame, int]:
    import prim

    logging.getLogger("prim").setLevel(logging.WARNING)
    p = prim.Prim(x, y.astype(bool), threshold=0.5, threshold_type=">", peel_alpha=0.05, paste_alpha=0.05,
                  mass_min=0.02)
    out, traj, chosen = [], pd.DataFrame(), 0
    for k in range(n_boxes):
        box = p.find_box()
        if box is None:
            break
        tr = box.peeling_trajectory.reset_index(drop=True).astype(float)
        # Weighted relative accuracy: mass x (density - base rate), subgroup discovery's
        # standard balance of a box's size against how much likelier the outcome is in it.
        i = int(np.argmax(tr["mass"].to_numpy() * (tr["density"].to_numpy() - y.mean())))
        box.select(i)
        lim = box.limits.sort_values("qp values")
        # Keep the significant restrictions (all of them, if none is), at most max_dims,
        # most significant first; then drop any that barely changes the density.
        sig = lim[lim["qp values"] < alpha]
        lim = (sig if len(sig) else lim).head(max_dims)
        limits = simplify(x, y, {str(name): (float(r["min"]), float(r["max"])) for name, r in lim.iterrows()})
        if k == 0:
            traj, chosen = tr, i
        if not limits:
            break
        out.append(limits)
    return out, traj, chosen


def _cart_box(x: pd.DataFrame, y: np.ndarray, max_depth: int) -> dict[str, tuple[float, float]] | None:
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(20, len(y) // 50), random_state=0)
    tree.fit(x.to_numpy(), y)
    t = tree.tree_
    leaves = np.flatnonzero(t.children_left == -1)
    leaf_of = tree.apply(x.to_numpy())
    best, best_f = None, 0.0
    for leaf in leaves:
        inside = leaf_of == leaf
        f = inside.mean() * (y[inside].mean() - y.mean())  # weighted relative accuracy, as for PRIM
        if f > best_f:
            best, best_f = leaf, f
    if best is None:
        return None
    # Walk from the root to the leaf, narrowing each feature's bounds.
    parent = {c: (i, True) for i, c in enumerate(t.children_left) if c != -1}
    parent |= {c: (i, False) for i, c in enumerate(t.children_right) if c != -1}
    limits: dict[str, list[float]] = {}
    node = best
    while node in parent:
        i, left = parent[node]
        name, thr = x.columns[t.feature[i]], float(t.threshold[i])
        lo, hi = limits.setdefault(name, [-np.inf, np.inf])
        limits[name] = [lo, min(hi, thr)] if left else [max(lo, thr), hi]
        node = i
    box = {k: (max(v[0], float(x[k].min())), min(v[1], float(x[k].max()))) for k, v in limits.items()}
    return simplify(x, y, box)


def simplify(x: pd.DataFrame, y: np.ndarray, limits: dict[str, tuple[float, float]]
             ) -> dict[str, tuple[float, float]]:
    """Drop, one at a time, any restriction whose removal does not lower the box's
    weighted relative accuracy (the objective the box was chosen by): it adds words,
    not information."""
    base = float(np.mean(y))

    def wracc(lim: dict[str, tuple[float, float]]) -> float:
        _, dens, mass = _stats(x, y, lim)
        return mass * (dens - base)

    limits = dict(limits)
    while len(limits) > 1:
        now = wracc(limits)
        trials = {k: wracc({j: v for j, v in limits.items() if j != k}) for k in limits}
        k = max(trials, key=trials.get)
        if trials[k] < now:
            break
        del limits[k]
    return limits


def find_boxes(x: pd.DataFrame, y: np.ndarray, max_dims: int = 3, n_boxes: int = 2, keep: int = 8,
               cart: bool = True) -> tuple[list[Box], pd.DataFrame, int, Box | None]:
    """PRIM boxes (and a CART box) where ``y`` (bool per row of ``x``) is likely.

    Returns the PRIM boxes (a later box only if it adds at least 5% of the cases and
    is at least 1.5 times as dense as all futures), PRIM's peeling trajectory for the
    first box, the chosen point on it, and the CART box (or None). Sentences are
    left empty: :func:`describe_box` writes them.
    """
    y = np.asarray(y, dtype=bool)
    cases, base = int(y.sum()), float(y.mean())
    # PRIM peels every dimension it is given; screening first keeps boxes to the few
    # assumptions that matter (and PRIM fast).
    cols = screen(x, y, keep)
    lims, traj, chosen = _prim_boxes(x[cols], y, max_dims, n_boxes, alpha=0.05)
    boxes: list[Box] = []
    covered = np.zeros(len(y), dtype=bool)
    for i, lim in enumerate(lims):
        cov, dens, mass = _stats(x, y, lim)
        if i > 0:
            new = _in_box(x, lim) & ~covered
            if y[new].sum() < 0.05 * cases or dens < 1.5 * base:
                break
        boxes.append(Box("prim", lim, cov, dens, mass))
        covered |= _in_box(x, lim)
    cbox = None
    if cart:
        cl = _cart_box(x[cols], y, max_depth=max_dims)
        if cl:
            cbox = Box("cart", cl, *_stats(x, y, cl))
    return boxes, traj, chosen, cbox


def discover(scenario: Any, outcome: str = "rupture", params: str | Iterable[str] = "uncertain",
             n: int = DEFAULT_N, seed: int | None = None, horizon: int | None = None, max_dims: int = 3,
             n_boxes: int = 2, cart: bool = True, keep: int = 8, progress: Callable[[float], None] | None = None
             ) -> DiscoveryResult:
    """Find the combinations of assumptions in which ``outcome`` is likely.

    ``outcome``: one of :data:`OUTCOMES` (by the horizon). ``params``: as
    :func:`model.sensitivity.factors`. Raises :class:`DialogueError` (one line)
    for an unknown outcome or parameter, ``n`` too small, and an outcome that
    never or always happens in the sampled futures.
    """
    from scipy.stats import qmc

    t0 = time.perf_counter()
    if outcome not in OUTCOMES:
        raise DialogueError(f"unknown outcome '{outcome}' (outcomes: {', '.join(OUTCOMES)})"
                            f"{suggest(outcome, OUTCOMES)}")
    if n < MIN_N:
        raise DialogueError(f"--n {n} is too small for scenario discovery; use at least {MIN_N} "
                            f"(default {DEFAULT_N:,})")
    sc = _scenario(scenario, seed, horizon)
    fs = factors(sc, params)
    u = qmc.LatinHypercube(d=len(fs), seed=sc.run.seed % (2**32)).random(n)
    x = to_values(fs, u)
    months = [sc.run.horizon - 1]
    y = run_design(sc, x, np.arange(n, dtype=np.int64), [outcome], months,
                   progress=(lambda f: progress(0.7 * f)) if progress else None)[outcome][0].astype(bool)
    cases = int(y.sum())
    noun = _NOUN[outcome]
    if cases == 0:
        raise DialogueError(f"no {noun} in {n:,} futures; nothing to discover")
    if cases == n:
        raise DialogueError(f"{noun} in all {n:,} futures; nothing to discover")
    labels = {f.name: f.label for f in fs}
    bounds = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    base = float(y.mean())
    boxes, traj, chosen, cbox = find_boxes(x, y, max_dims=max_dims, n_boxes=n_boxes, keep=keep, cart=cart)
    for b in boxes + ([cbox] if cbox else []):
        b.sentence = describe_box(outcome, b.limits, bounds, labels, b.coverage, b.density, b.mass, base)
    notes = []
    best = float(traj["density"].max()) if len(traj) else 0.0
    if best < 0.5:
        notes.append(f"No combination of these assumptions makes {noun} likely: even the densest box PRIM found "
                     f"has it in {100 * best:.0f}% of its futures. It rests more on chance than on assumptions.")
    if not boxes:
        notes.append("PRIM found no box whose restrictions are significant: no combination of these "
                     f"assumptions makes {noun} markedly more likely than in {100 * base:.0f}% of all futures.")
    if progress:
        progress(1.0)
    return DiscoveryResult(sc.name, outcome, n, sc.run.horizon, _date(sc, sc.run.horizon - 1), x, y, fs, boxes,
                           traj, chosen, cbox, time.perf_counter() - t0, notes)


__all__ = ["OUTCOMES", "Box", "DiscoveryResult", "describe_box", "discover", "find_boxes", "OUTPUTS"]
