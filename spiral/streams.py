"""Random streams: one numpy Generator per purpose (and per node), drawn in blocks.

Every stream is derived from the root seed and a stable key, never from the order
in which streams are created, so two variants of a scenario with the same seed
share their luck (common random numbers): the arrival times are identical and
each node's service times and failure draws come in the same order.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

PURPOSES = ("arrivals", "service", "failures", "decisions", "patience", "escalation", "outcome")
BLOCK = 1024


def stream_key(purpose: str, name: str = "") -> tuple[int, int]:
    """Return the stable spawn key of a stream for a purpose and an optional node name."""
    return (PURPOSES.index(purpose), zlib.crc32(name.encode()))


def generator(seed: int, purpose: str, name: str = "") -> np.random.Generator:
    """Return the Generator for one purpose (and node) under a root seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream_key(purpose, name)))


class Draws:
    """Values drawn from a block sampler, served one at a time.

    Drawing numpy values one by one costs about a microsecond each; drawing a block and
    serving Python floats from a list costs a tenth of that.
    """

    __slots__ = ("_block", "_buffer", "_index", "_rng", "_sampler")

    def __init__(
        self,
        rng: np.random.Generator,
        sampler: Callable[[np.random.Generator, int], np.ndarray] | None = None,
        block: int = BLOCK,
    ) -> None:
        self._rng = rng
        self._sampler = sampler
        self._block = block
        self._buffer: list[float] = []
        self._index = 0

    def __call__(self) -> float:
        """Return the next value."""
        index = self._index
        if index == len(self._buffer):
            values = (
                self._rng.random(self._block)
                if self._sampler is None
                else self._sampler(self._rng, self._block)
            )
            self._buffer = values.tolist()
            index = 0
        self._index = index + 1
        return self._buffer[index]


def uniforms(seed: int, purpose: str, name: str = "") -> Draws:
    """Return buffered U(0, 1) draws for a purpose (and node)."""
    return Draws(generator(seed, purpose, name))
