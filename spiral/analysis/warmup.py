"""Warm-up detection by MSER-5 (White 1997; White, Cobb & Spratt 2000).

The simulation starts empty; MSER picks the truncation point that minimises the
standard error of the mean of what remains, on batch means of 5 observations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def work_in_progress(customers: pd.DataFrame, step: float, until: float) -> np.ndarray:
    """Return customers in the journey at times step, 2·step, … up to ``until``."""
    grid = np.arange(step, until + 1e-9, step)
    arrived = np.searchsorted(np.sort(customers["arrival"].to_numpy()), grid, side="right")
    ends = customers["end"].to_numpy()
    finished = np.searchsorted(np.sort(ends[~np.isnan(ends)]), grid, side="right")
    return (arrived - finished).astype(float)


def detect_warmup(runs: list[pd.DataFrame], arrivals_end: float, step: float = 60.0) -> float:
    """Return a warm-up (minutes) by MSER-5 on the replications' mean work in progress."""
    series = np.mean([work_in_progress(c, step, arrivals_end) for c in runs], axis=0)
    return mser5(series) * step
