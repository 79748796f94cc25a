"""Random streams: one numpy Generator per purpose (and per node), drawn in blocks.

Every stream is derived from the root seed and a stable key, never from the order
in which streams are created, so two variants of a scenario with the same seed
share their luck (common random numbers): the arrival times are identical and
each node's service times and failure draws come in the same order.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

import numpy as np

PURPOSES = ("arrivals", "service", "failures", "decisions", "patience", "escalation", "outcome")
BLOCK = 1024


def stream_key(purpose: str, name: str = "") -> tuple[int, int]:
    """Return the stable spawn key of a stream for a purpose and an optional node name."""
    return (PURPOSES.index(purpose), zlib.crc32(name.encode()))


def generator(seed: int, purpose: str, name: str = "") -> np.random.Generator:
    """Return the Generator for one purpose (and node) under a root seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream_key(purpose, name)))


def _blocks(
    rng: np.random.Generator,
    sampler: Callable[[np.random.Generator, int], np.ndarray] | None,
    block: int,
) -> Iterator[float]:
    while True:
        values = rng.random(block) if sampler is None else sampler(rng, block)
        yield from values.tolist()


def draws(
    rng: np.random.Generator,
    sampler: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    block: int = BLOCK,
) -> Callable[[], float]:
    """Return a no-argument callable serving values drawn in blocks, one at a time.

    Drawing numpy values one by one costs about a microsecond each; a generator over
    ``tolist()`` blocks serves a Python float in well under a tenth of that.
    ``sampler(rng, n)`` draws n values; None means U(0, 1).
    """
    return _blocks(rng, sampler, block).__next__


def uniforms(seed: int, purpose: str, name: str = "") -> Callable[[], float]:
    """Return buffered U(0, 1) draws for a purpose (and node)."""
    return draws(generator(seed, purpose, name))
