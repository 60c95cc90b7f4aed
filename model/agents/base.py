"""The actor protocol shared by every module in :mod:`model.agents`.

An actor is a set of named rules run in order, every ``cadence`` months, at a
fixed ``phase`` within the month (so that, say, the Kremlin reacts to this
month's protests and the relations ledger closes the month last). Rules are plain
functions ``rule(m)`` of the :class:`model.engine.Model`; they act on whole
arrays of runs at once, so the same code serves the vectorised ensemble and the
one-run reference engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from model.engine import Model
    from model.params import ParamSpec

Rule = Callable[["Model"], None]


class Actor:
    """Base class: subclasses set ``name``, ``phase``, ``rules`` and ``PARAMS``."""

    name: ClassVar[str]
    cadence: ClassVar[int] = 1
    phase: ClassVar[float]
    rules: ClassVar[tuple[Rule, ...]]
    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()

    def step(self, m: Model) -> None:
        for rule in self.rules:
            rule(m)

    def process(self, m: Model):
        """The actor's simpy process: wake at its phase, act, sleep a cadence."""
        yield m.env.timeout(self.phase)
        while True:
            self.step(m)
            yield m.env.timeout(self.cadence)


def scaled_rate(base, gain, repression):
    """A monthly rate that is ``base`` at repression 0.5 and rises e-fold per
    ``1/gain`` of repression: one shape for every repression-driven event rate."""
    return base * np.exp(gain * (repression - 0.5))
