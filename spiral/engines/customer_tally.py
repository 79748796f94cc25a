"""A run's customers as exact, mergeable aggregates: memory flat in the number of customers.

Every finished (or, at the end, unfinished) customer's row is folded, a chunk at a time,
into three things, and every metric is computed from them:

- a **cube**: counts and sums of every per-customer column, per combination of the keys
  a metric groups by (measured, outcome, segment, failures up to ``FAILURES_CAP``, the step
  of the first failure, whether they complained, whether they were put right, where they
  ended). Sums make means and counts exact; the cube has at most a few thousand rows
  whatever the number of customers.
- the **positive severities** of measured, finished customers (and their failure
  bucket): quantiles are exact, read from these values plus the count of zeros in the
  cube. A customer with no failure has severity 0, so this holds only those with one (8
  bytes each: the only memory that grows with customers, ≈ 20% of them in the built-ins).
- **counts per period** (and per ``STEP`` minutes, for warm-up detection) of arrivals,
  completions and outcomes by segment: they grow with simulated time, not customers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from spiral.engines.customer_columns import COLUMN_ORDER, KEY_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

FAILURES_CAP = 8
"""Failures are keyed 0..8; 8 stands for 8 or more (every metric groups at most to '4+')."""

STEP = 60.0
"""Minutes per bin of the fine arrival/completion counts (warm-up detection's grid)."""

SPIRAL_TOP = 3
"""The spiral table's last failure bucket ('3+'); positive severities keep it."""

KEYS = (
    "measured",
    "outcome",
    "segment",
    "failures_key",
    "first_failure",
    "exit_node",
    "voiced",
    "recovered",
)
SUMS = (
    *(c for c in COLUMN_ORDER if c not in KEY_COLUMNS),
    "severity_sq",
    "escalated",
    "duration",
)
"""Columns summed per group: the row's counts and amounts, and three derived from them."""
OUTCOME_CODES = (-1, 0, 1, 2)  # in progress, retained, advocate, churned (records.py)
COMPACT_EVERY = 32  # chunks folded before their partial cubes are merged
DENSE_KEYS = 1 << 20  # a key space this small is counted directly, not sorted
SUMMED_KEYS = 1 << 15  # and one this small is summed into directly (no row-to-group pass)


def _counted(counts: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Return ``counts`` with one added per bin in ``bins`` (grown, by doubling, as needed).

    Only the span the chunk covers is counted, so a chunk late in a long run costs what
    an early one does.
    """
    if not len(bins):
        return counts
    low, high = int(bins.min()), int(bins.max())
    if high >= len(counts):
        grown = np.zeros(max(high + 1, 2 * len(counts)))
        grown[: len(counts)] = counts
        counts = grown
    counts[low : high + 1] += np.bincount(bins - low, minlength=high - low + 1)
    return counts


class CustomerTally:
    """Exact aggregates of a run's customer rows, folded a chunk at a time."""

    def __init__(self, warmup: float, period: float, nodes: int, segments: int) -> None:
        self.warmup = warmup
        self.period = period
        self.nodes = nodes
        self.segments = max(segments, 1)
        self.radix = (2, 4, self.segments, FAILURES_CAP + 1, nodes + 1, nodes + 1, 2, 2)
        self.total = 0
        self._keys: list[np.ndarray] = []
        self._sums: list[np.ndarray] = []
        self._severities: list[np.ndarray] = []
        self._severity_buckets: list[np.ndarray] = []
        self.arrivals = np.zeros(0)  # per period, every customer
        self.arrivals_fine = np.zeros(0)  # per STEP minutes
        self.completions_fine = np.zeros(0)  # per STEP minutes, by end
        # per period, by end: outcome (retained, advocate, churned) × segment
        self.outcomes = np.zeros((3, self.segments, 0))
        self._cube: pd.DataFrame | None = None  # built on first use after the last add

    def add(self, columns: dict[str, np.ndarray]) -> None:
        """Fold one chunk of customer rows, given column by column (as ``CustomerTable``)."""
        n = len(columns["customer"])
        if not n:
            return
        self.total += n
        self._cube = None
        arrival = np.asarray(columns["arrival"], np.float64)
        end = np.asarray(columns["end"], np.float64)
        outcome = np.asarray(columns["outcome"], np.int64)
        failures = np.asarray(columns["failures"], np.int64)
        segment = np.asarray(columns["segment"], np.int64)
        measured = arrival >= self.warmup
        done = outcome != -1
        parts = (
            measured,
            outcome + 1,
            segment,
            np.minimum(failures, FAILURES_CAP),
            np.asarray(columns["first_failure"]) + 1,
            np.asarray(columns["exit_node"]) + 1,
            np.asarray(columns["complaints"]) > 0,
            np.asarray(columns["recovered"]) > 0,
        )
        key = np.zeros(n, np.intp)  # bincount's own index type: no conversion per column
        for part, size in zip(parts, self.radix, strict=True):
            key *= size
            key += part
        severity = np.asarray(columns["severity"], np.float64)
        social = np.asarray(columns["social"]) > 0
        ceo = np.asarray(columns["ceo"]) > 0
        values = {name: np.asarray(columns[name]) for name in SUMS if name in columns}
        values["severity_sq"] = severity * severity
        values["escalated"] = social | ceo
        values["duration"] = np.where(done, end - arrival, 0.0)
        unique, counts, group, by_key = self._groups(key)
        size = math.prod(self.radix) if by_key else len(unique)
        sums = np.zeros((len(unique), len(SUMS) + 1))
        sums[:, 0] = counts
        for j, name in enumerate(SUMS, start=1):
            weights = values[name]
            if weights.any():  # a column an engine leaves at zero (waits, abandons) costs nothing
                summed = np.bincount(group, weights=weights, minlength=size)
                sums[:, j] = summed[unique] if by_key else summed
        self._keys.append(unique)
        self._sums.append(sums)
        if len(self._keys) >= COMPACT_EVERY:
            self._compact()
        kept = measured & done & (severity > 0)
        self._severities.append(severity[kept])
        self._severity_buckets.append(np.minimum(failures[kept], SPIRAL_TOP).astype(np.int8))
        self._count_periods(arrival, end, outcome, segment, done)

    def _groups(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Return the keys met, their counts, each row's group, and whether groups are keys.

        A small or moderate key space is counted whole in one pass (as it is for most
        journeys). A small one is its own grouping (the group is the key: sums over it
        cover the whole space and are read at the keys met); a moderate one is mapped to
        the keys met. A larger one is sorted (``np.unique``).
        """
        space = math.prod(self.radix)
        if space > DENSE_KEYS:
            unique, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            return unique, counts.astype(np.float64), inverse, False
        every = np.bincount(key, minlength=space)
        unique = np.flatnonzero(every)
        counts = every[unique].astype(np.float64)
        if space <= SUMMED_KEYS:
            return unique, counts, key, True
        lookup = np.empty(space, np.int64)
        lookup[unique] = np.arange(len(unique))
        return unique, counts, lookup[key], False

    def _count_periods(
        self,
        arrival: np.ndarray,
        end: np.ndarray,
        outcome: np.ndarray,
        segment: np.ndarray,
        done: np.ndarray,
    ) -> None:
        every = bool(done.all())  # the usual chunk: no masked copies
        ended = end if every else end[done]
        # times are never negative: truncating the quotient is its floor (as PeriodCounters)
        arrived_fine = (arrival / STEP).astype(np.int64)
        ended_fine = (ended / STEP).astype(np.int64)
        arrived = (arrival / self.period).astype(np.int64)
        periods = (ended / self.period).astype(np.int64)
        self.arrivals = _counted(self.arrivals, arrived)
        self.arrivals_fine = _counted(self.arrivals_fine, arrived_fine)
        self.completions_fine = _counted(self.completions_fine, ended_fine)
        if not len(periods):
            return
        low, high = int(periods.min()), int(periods.max())
        if high >= self.outcomes.shape[2]:
            grown = np.zeros((3, self.segments, max(high + 1, 2 * self.outcomes.shape[2])))
            grown[:, :, : self.outcomes.shape[2]] = self.outcomes
            self.outcomes = grown
        width = high - low + 1
        code = outcome if every else outcome[done]
        if self.segments > 1:
            code = code * self.segments + (segment if every else segment[done])
        flat = code * width + (periods - low)
        counts = np.bincount(flat, minlength=3 * self.segments * width)
        self.outcomes[:, :, low : high + 1] += counts.reshape(3, self.segments, width)

    def _compact(self) -> None:
        """Merge the partial cubes into one (a cube has at most a few thousand rows)."""
        if len(self._keys) <= 1:
            return
        keys = np.concatenate(self._keys)
        sums = np.concatenate(self._sums)
        unique, inverse = np.unique(keys, return_inverse=True)
        merged = np.zeros((len(unique), sums.shape[1]))
        np.add.at(merged, inverse, sums)
        self._keys, self._sums = [unique], [merged]

    @property
    def completions(self) -> np.ndarray:
        """Return the customers who finished, per period (every one ends with an outcome)."""
        return self.outcomes.sum(axis=(0, 1))

    def outcome_total(self, outcome: int) -> int:
        """Return how many folded customers ended with this outcome code (-1: in progress)."""
        if outcome < 0:
            return int(self.total - self.outcomes.sum())
        return int(self.outcomes[outcome].sum())

    def cube(self) -> pd.DataFrame:
        """Return the cube: one row per combination of keys met, with ``count`` and sums.

        Keys: ``measured`` (bool), ``outcome`` (-1 in progress, 0 retained, 1 advocate, 2
        churned), ``segment``, ``failures_key`` (failures, 8 meaning 8+), ``first_failure``
        and ``exit_node`` (node codes, -1 none), ``voiced`` (complained at least once),
        ``recovered`` (bool). Built once per state of the tally (every metric reads it).
        """
        if self._cube is not None:
            return self._cube
        import pandas as pd

        self._compact()
        keys = self._keys[0] if self._keys else np.zeros(0, np.int64)
        sums = self._sums[0] if self._sums else np.zeros((0, len(SUMS) + 1))
        decoded = {}
        rest = keys.copy()
        for name, size in reversed(list(zip(KEYS, self.radix, strict=True))):
            decoded[name] = rest % size
            rest //= size
        frame = pd.DataFrame(
            {
                "measured": decoded["measured"].astype(bool),
                "outcome": decoded["outcome"] - 1,
                "segment": decoded["segment"],
                "failures_key": decoded["failures_key"],
                "first_failure": decoded["first_failure"] - 1,
                "exit_node": decoded["exit_node"] - 1,
                "voiced": decoded["voiced"].astype(bool),
                "recovered": decoded["recovered"].astype(bool),
                "count": sums[:, 0].astype(np.int64),
            }
        )
        for j, name in enumerate(SUMS, start=1):
            frame[name] = sums[:, j]
        self._cube = frame
        return frame

    def severities(self, bucket: int | None = None) -> np.ndarray:
        """Return the positive severities of measured finished customers (of one bucket)."""
        values = np.concatenate(self._severities) if self._severities else np.zeros(0)
        if bucket is None:
            return values
        buckets = np.concatenate(self._severity_buckets) if self._severity_buckets else values
        return values[buckets == bucket]

    def nbytes(self) -> int:
        """Return the bytes the tally holds (cube, severities and period counts)."""
        arrays = [*self._keys, *self._sums, *self._severities, *self._severity_buckets]
        arrays += [self.arrivals, self.arrivals_fine, self.completions_fine]
        return sum(a.nbytes for a in arrays) + self.outcomes.nbytes


def quantile_with_zeros(zeros: int, positives: np.ndarray, q: float) -> float:
    """Return numpy's linear quantile of ``zeros`` zeros and the ``positives``, exactly.

    The same virtual index and interpolation as ``np.quantile`` on the whole array, read
    from its two neighbours, so the result is the same to the last bit.
    """
    n = zeros + len(positives)
    if n == 0:
        return 0.0
    values = np.sort(positives)
    index = q * (n - 1)
    low = math.floor(index)
    high = min(low + 1, n - 1)

    def at(k: int) -> float:
        return 0.0 if k < zeros else float(values[k - zeros])

    pair = np.array([at(low), at(high)])
    return float(np.quantile(pair, index - low))
