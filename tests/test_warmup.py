"""MSER-5 warm-up detection on series with a known initial transient."""

from __future__ import annotations

import numpy as np

from spiral.analysis.warmup import mser5, work_in_progress
from spiral.engines.customer_tally import CustomerTally
from spiral.engines.records import COLUMN_ORDER


def test_mser5_cuts_a_linear_ramp_and_keeps_a_stationary_series():
    rng = np.random.default_rng(1)
    ramp = np.concatenate([np.linspace(0, 10, 50), 10 + rng.normal(0, 1, 450)])
    cut = mser5(ramp)
    assert cut % 5 == 0 and 40 <= cut <= 60
    assert mser5(10 + rng.normal(0, 1, 500)) <= 25


def test_mser5_never_cuts_more_than_half_and_handles_short_series():
    assert mser5(np.arange(100.0)) <= 50
    assert mser5(np.array([1.0, 2.0, 3.0])) == 0


def test_work_in_progress_counts_arrived_but_unfinished_customers():
    tally = CustomerTally(warmup=0.0, period=1440.0, nodes=3, segments=0)
    n = 3
    tally.add(
        {
            **{name: np.zeros(n, np.int32) for name in COLUMN_ORDER},
            "customer": np.arange(n),
            "arrival": np.array([10.0, 20.0, 70.0]),
            "end": np.array([30.0, np.nan, 80.0]),
            "outcome": np.array([0, -1, 0]),
            "first_failure": np.full(n, -1),
            "exit_node": np.array([2, -1, 2]),
        }
    )
    # at 60: two arrived, one finished; at 120: three arrived, two finished
    assert work_in_progress(tally, 120.0).tolist() == [1.0, 1.0]
