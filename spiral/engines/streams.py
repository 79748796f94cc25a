"""Random streams: one numpy Generator per purpose (and per node), drawn in blocks.

Every stream is derived from the root seed and a stable key, never from the order
in which streams are created, so two variants of a scenario with the same seed
share their luck (common random numbers): the arrival times are identical and
each node's service times and failure draws come in the same order.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from itertools import chain, repeat

import numpy as np

PURPOSES = ("arrivals", "service", "failures", "decisions", "patience", "escalation", "outcome")
BLOCK = 1024


def stream_key(purpose: str, name: str = "") -> tuple[int, int]:
    """Return the stable spawn key of a stream for a purpose and an optional node name."""
    return (PURPOSES.index(purpose), zlib.crc32(name.encode()))


def generator(seed: int, purpose: str, name: str = "") -> np.random.Generator:
    """Return the Generator for one purpose (and node) under a root seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream_key(purpose, name)))


def draws(
    rng: np.random.Generator,
    sampler: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    block: int = BLOCK,
) -> Callable[[], float]:
    """Return a no-argument callable serving values drawn in blocks, one at a time.

    Drawing numpy values one by one costs about a microsecond each; a C iterator over
    ``tolist()`` blocks serves a Python float in a few tens of nanoseconds, with no Python
    frame to resume (a generator's costs a third more). Each block is drawn when the
    previous one is used up. ``sampler(rng, n)`` draws n values; None means U(0, 1).
    """

    def block_of(_: None) -> list[float]:
        return (rng.random(block) if sampler is None else sampler(rng, block)).tolist()

    return chain.from_iterable(map(block_of, repeat(None))).__next__


def uniforms(seed: int, purpose: str, name: str = "") -> Callable[[], float]:
    """Return buffered U(0, 1) draws for a purpose (and node)."""
    return draws(generator(seed, purpose, name))
