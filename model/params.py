"""Parameter specifications: units, range, default and uncertainty of every assumption.

Each actor module under :mod:`model.agents` declares the parameters its rules use as
:class:`ParamSpec` objects. This module gathers them into one registry, which is the
single source for scenario validation, the CLI's ``params`` listing and the
dashboard's widgets: nothing about a parameter is typed twice.

Uncertainty is declared *relative to the value*: a distribution kind and a
``spread``. When an analyst moves a value (a scenario file, ``--set`` or a slider)
the whole distribution moves with it, truncated to the valid range:

=============  ==============================================================
kind           per-run draw for value ``v`` and spread ``s`` on range [lo, hi]
=============  ==============================================================
``fixed``      ``v`` in every run
``uniform``    uniform on [max(lo, v-s), min(hi, v+s)]
``triangular`` triangular with mode ``v`` on [max(lo, v-s), min(hi, v+s)]
``normal``     normal(mean ``v``, sd ``s``) truncated to [lo, hi]
``beta``       beta on [lo, hi] with mean ``v`` and sd ``s`` (sd capped so the
               beta stays unimodal-or-U-free; see :func:`beta_shape`)
=============  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import special

DistKind = Literal["fixed", "uniform", "triangular", "normal", "beta"]
DIST_KINDS: tuple[str, ...] = ("fixed", "uniform", "triangular", "normal", "beta")

# Headline drivers, in the order a user meets them.
HEADLINE = ("protest_growth", "repression", "syria_divergence", "trade_growth")


@dataclass(frozen=True)
class ParamSpec:
    """One model parameter.

    ``source`` quotes the article sentence the parameter serves, or says plainly
    that the number is invented and why.
    """

    name: str
    label: str
    units: str
    low: float
    high: float
    default: float
    dist: DistKind
    spread: float
    group: str
    help: str
    source: str
    headline: bool = False
    step: float = field(default=0.0)

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"{self.name}: default outside its range")
        if self.dist not in DIST_KINDS:
            raise ValueError(f"{self.name}: unknown distribution {self.dist}")

    @property
    def widget_step(self) -> float:
        """A slider step that gives about 100 positions across the range."""
        if self.step:
            return self.step
        raw = (self.high - self.low) / 100
        mag = 10 ** np.floor(np.log10(raw))
        return float(mag * min((1, 2, 5, 10), key=lambda m: abs(m * mag - raw)))

    def describe_dist(self, value: float | None = None, dist: str | None = None,
                      spread: float | None = None) -> str:
        """Human-readable distribution, e.g. ``triangular(0.45, 0.60, 0.75)``."""
        v = self.default if value is None else value
        d = dist or self.dist
        s = self.spread if spread is None else spread
        lo, hi = max(self.low, v - s), min(self.high, v + s)
        if d == "fixed" or s == 0:
            return f"fixed({v:g})"
        if d == "uniform":
            return f"uniform({lo:g}, {hi:g})"
        if d == "triangular":
            return f"triangular({lo:g}, {v:g}, {hi:g})"
        if d == "normal":
            return f"normal({v:g}, sd {s:g}) in [{self.low:g}, {self.high:g}]"
        return f"beta(mean {v:g}, sd {s:g}) on [{self.low:g}, {self.high:g}]"


def beta_shape(mean01: np.ndarray, sd01: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beta (a, b) for a mean and sd on [0, 1].

    The mean is kept inside [0.01, 0.99] and the sd capped at 90% of the largest
    feasible value so the shape parameters stay positive at the range's edges.
    """
    m = np.clip(mean01, 0.01, 0.99)
    sd = np.minimum(sd01, 0.9 * np.sqrt(m * (1 - m)))
    kappa = m * (1 - m) / np.maximum(sd, 1e-9) ** 2 - 1
    return m * kappa, (1 - m) * kappa


def sample(spec: ParamSpec, value: float, dist: str, spread: float,
           u: np.ndarray) -> np.ndarray:
    """Map uniforms ``u`` (one per run) to parameter draws by inverse CDF.

    Inverse-CDF sampling keeps each run's draw a function of that run's own
    uniform only, which is what makes results independent of chunking.
    """
    lo, hi = spec.low, spec.high
    if dist == "fixed" or spread <= 0:
        return np.full(u.shape, float(value))
    if dist in ("uniform", "triangular"):
        a, b = max(lo, value - spread), min(hi, value + spread)
        if b <= a:
            return np.full(u.shape, float(value))
        if dist == "uniform":
            return a + (b - a) * u
        c = (value - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (value - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - value))
        return np.where(u < c, left, right)
    if dist == "normal":
        pa = special.ndtr((lo - value) / spread)
        pb = special.ndtr((hi - value) / spread)
        x = value + spread * special.ndtri(pa + u * (pb - pa))
        return np.clip(x, lo, hi)
    a, b = beta_shape(np.asarray((value - lo) / (hi - lo)), np.asarray(spread / (hi - lo)))
    return lo + (hi - lo) * special.betaincinv(a, b, u)


@lru_cache(maxsize=1)
def _registry() -> dict[str, ParamSpec]:
    """All parameters of all actors, keyed by name, headline drivers first."""
    from model.agents import ACTORS

    specs: dict[str, ParamSpec] = {}
    for actor in ACTORS:
        for spec in actor.PARAMS:
            if spec.name in specs:
                raise RuntimeError(f"parameter {spec.name} declared twice")
            specs[spec.name] = spec
    head = {n: specs[n] for n in HEADLINE}
    return head | {n: s for n, s in specs.items() if n not in head}


def registry() -> dict[str, ParamSpec]:
    """All parameters of all actors, keyed by name, headline drivers first."""
    return dict(_registry())
