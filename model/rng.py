"""Counter-based random streams keyed by run, month and purpose.

Why not one ``numpy.random.Generator`` for the ensemble? Because then run 7's
future would depend on how many runs share its array, and a batch split into
chunks (or the one-run reference engine) would give different numbers. Here
every random number is a pure function of

    (key from numpy.random.SeedSequence(seed), global run index, month, stream)

hashed with the MurmurHash3 64-bit finaliser. Any subset of runs, in any order,
on any worker, draws exactly the same numbers. The root key comes from
``SeedSequence``, which gives well-mixed keys even for seeds 0, 1, 2, ...

Conditioning on observations (:mod:`model.smc`) resamples the runs and lets them
carry on with fresh randomness: ``generation`` g > 0 mixes a salt into each run's
key, so a resampled run draws numbers keyed by (seed, run index, generation, month,
stream). Generation 0 is the unsalted key: today's numbers, bit for bit.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy import special

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_S33 = np.uint64(33)
_S11 = np.uint64(11)
_INV53 = 1.0 / (1 << 53)
_GENERATION = 0xD6E8FEB86659FD93  # odd multiplier spreading generation numbers over 64 bits

PARAM_MONTH = -1  # the "month" at which per-run parameters are drawn


def _fmix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 fmix64, in place on a uint64 array."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def _fmix_int(x: int) -> int:
    x &= _MASK
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _MASK
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _MASK
    x ^= x >> 33
    return x


def stream_id(name: str) -> int:
    """A stable integer for a named purpose (crc32: identical in every process)."""
    return zlib.crc32(name.encode())


class Streams:
    """Random numbers for a set of runs, identified by their global indices."""

    def __init__(self, seed: int, run_ids: np.ndarray, generation: int = 0):
        k0, k1 = np.random.SeedSequence(seed).generate_state(2, np.uint64)
        self.k1 = int(k1)
        self.generation = int(generation)
        ids = np.asarray(run_ids, dtype=np.uint64)
        with np.errstate(over="ignore"):
            self._base = _fmix(ids * np.uint64(_GOLDEN) ^ k0)
            if self.generation:  # generation 0 keeps the unsalted key (today's numbers)
                self._base ^= np.uint64(_fmix_int(self.generation * _GENERATION + 1))
                _fmix(self._base)
        self.month = 0

    @property
    def size(self) -> int:
        return self._base.size

    def uniform(self, stream: str, month: int | None = None) -> np.ndarray:
        """Uniform(0, 1) per run, never exactly 0 or 1."""
        m = self.month if month is None else month
        salt = _fmix_int(self.k1 + (m + 2) * _GOLDEN + stream_id(stream) * 0x632BE59BD9B4E019)
        h = self._base ^ np.uint64(salt)
        _fmix(h)
        return ((h >> _S11).astype(np.float64) + 0.5) * _INV53

    def normal(self, stream: str) -> np.ndarray:
        """Standard normal per run, by inverse CDF."""
        return special.ndtri(self.uniform(stream))

    def bernoulli(self, stream: str, p: np.ndarray | float) -> np.ndarray:
        """True with probability ``p`` per run."""
        return self.uniform(stream) < p

    def poisson(self, stream: str, lam: np.ndarray) -> np.ndarray:
        """Poisson counts by inverse CDF; rates here are small (< 3 a month)."""
        u = self.uniform(stream)
        lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
        p = np.exp(-lam)
        cdf = p.copy()
        k = np.zeros(u.shape, dtype=np.int64)
        for j in range(1, 40):
            above = u > cdf
            if not above.any():
                break
            k += above
            p = p * lam / j
            cdf = cdf + p
        return k
