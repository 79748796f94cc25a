"""Warm-up detection by MSER-5 (White 1997; White, Cobb & Spratt 2000).

The simulation starts empty; MSER picks the truncation point that minimises the
standard error of the mean of what remains, on batch means of 5 observations.
"""

from __future__ import annotations

import numpy as np

from spiral.engines.customer_tally import STEP, CustomerTally

BATCH = 5


def mser5(series: np.ndarray) -> int:
    """Return how many leading observations to delete (a multiple of 5, at most half)."""
    values = np.asarray(series, dtype=float)
    m = len(values) // BATCH
    if m < 2:
        return 0
    batches = values[: m * BATCH].reshape(m, BATCH).mean(axis=1)
    best, best_d = np.inf, 0
    for d in range(m // 2 + 1):
        rest = batches[d:]
        score = float(((rest - rest.mean()) ** 2).sum()) / len(rest) ** 2
        if score < best:
            best, best_d = score, d
    return best_d * BATCH


def work_in_progress(tally: CustomerTally, until: float) -> np.ndarray:
    """Return customers in the journey at STEP, 2·STEP, … up to ``until`` (from the tally).

    Customers are counted from the tally's arrivals and completions per STEP minutes: at
    k·STEP, those who arrived before it and had not finished before it.
    """
    bins = int((until + 1e-9) // STEP)
    arrived = np.cumsum(_padded(tally.arrivals_fine, bins))
    finished = np.cumsum(_padded(tally.completions_fine, bins))
    return (arrived - finished).astype(float)


def _padded(counts: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    m = min(n, len(counts))
    out[:m] = counts[:m]
    return out


def detect_warmup(runs: list[CustomerTally], arrivals_end: float) -> float:
    """Return a warm-up (minutes) by MSER-5 on the replications' mean work in progress."""
    series = np.mean([work_in_progress(tally, arrivals_end) for tally in runs], axis=0)
    return mser5(series) * STEP
