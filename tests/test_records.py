"""Run records: the customer row store and the per-period counters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spiral.engines.customer_tally import CustomerTally
from spiral.engines.records import (
    CHURNED,
    COLUMN_ORDER,
    IN_PROGRESS,
    Customer,
    CustomerTable,
    PeriodCounters,
)


def a_customer(cid: int, arrival: float | None = None) -> Customer:
    c = Customer(cid, arrival=10.0 * cid if arrival is None else arrival, luck=0.5)
    c.failures, c.contacts, c.severity, c.wait = 2, 3, 1.5 * cid, 4.25
    c.warm, c.cold, c.ping_pongs, c.effort, c.visits = 1, 2, 1, 5, 7
    c.social, c.reach, c.recovered, c.first_failure = True, 123.5, True, 1
    return c


def a_table(keep: bool = True, chunk: int | None = None) -> CustomerTable:
    tally = CustomerTally(warmup=0.0, period=1440.0, nodes=3, segments=0)
    return CustomerTable(tally, keep=keep, chunk=chunk)


def test_customer_rows_round_trip_to_a_frame_sorted_by_id():
    table = a_table()
    for cid in (2, 0, 1):
        table.append(a_customer(cid), end=100.0 + cid, outcome=CHURNED, exit_node=2)
    table.append(Customer(3, 40.0, 0.1), end=float("nan"), outcome=IN_PROGRESS, exit_node=-1)
    frame = table.to_frame(("a", "b", "gone"))
    assert list(frame.columns) == list(COLUMN_ORDER)
    assert frame["customer"].tolist() == [0, 1, 2, 3]
    assert frame["outcome"].tolist() == ["churned"] * 3 + ["in_progress"]
    assert frame["exit_node"].tolist()[:3] == ["gone"] * 3 and pd.isna(frame["exit_node"][3])
    assert frame["first_failure"].tolist()[:3] == ["b"] * 3
    assert frame["severity"].tolist()[:3] == [0.0, 1.5, 3.0]
    assert frame["end"].tolist()[:3] == [100.0, 101.0, 102.0] and np.isnan(frame["end"][3])
    assert frame["handoffs_cold"].tolist()[:3] == [2, 2, 2]
    assert frame["social"].dtype == bool and frame["social"].tolist() == [True] * 3 + [False]
    assert frame["reach"].tolist()[:3] == [123.5] * 3


def test_rows_are_folded_a_chunk_at_a_time_so_memory_holds_one_chunk():
    table = a_table(keep=False, chunk=100)
    for cid in range(1000):  # all in the first day: memory for time is not at stake here
        table.append(a_customer(cid, arrival=cid / 100), 1.0, CHURNED, 0)
        assert len(table.floats) < 100 * 5  # never more than a chunk of rows waiting
    assert len(table) == 1000 and table.tally.total == 1000
    cube = table.folded().cube()
    assert cube["count"].sum() == 1000 and cube["contacts"].sum() == 3 * 1000
    assert table.outcome_count(CHURNED) == 1000
    grown = a_table(keep=False, chunk=100)
    for cid in range(10_000):
        grown.append(a_customer(cid, arrival=cid / 1000), 1.0, CHURNED, 0)
    # ten times the customers: only the severities kept for quantiles grow (9 bytes each)
    assert grown.nbytes() - table.nbytes() <= 9 * 9_000 + 16_384


def test_a_table_kept_on_disk_reads_back_in_chunks_and_whole():
    table = a_table(chunk=300)
    for cid in reversed(range(1000)):  # finishing out of order
        table.append(a_customer(cid), 1.0, CHURNED, 0)
    chunks = list(table.frames(("a", "b", "gone")))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert all(c["customer"].is_monotonic_increasing for c in chunks)
    assert table.to_frame(("a", "b", "gone"))["customer"].tolist() == list(range(1000))


def test_a_table_not_kept_says_how_to_keep_it():
    table = a_table(keep=False)
    table.append(a_customer(0), 1.0, CHURNED, 0)
    with pytest.raises(ValueError, match="run it with customers=True"):
        table.to_frame(("a", "b", "gone"))


def test_an_empty_table_gives_an_empty_frame_with_all_columns():
    frame = a_table().to_frame(("a",))
    assert len(frame) == 0 and list(frame.columns) == list(COLUMN_ORDER)


def test_period_counters_count_events_in_their_period():
    counters = PeriodCounters(period=60.0)
    for t in (0.0, 59.9, 60.0, 250.0):
        counters.add("failures", t)
    counters.add("ceo", 10.0)
    arrays = counters.to_arrays(6)
    np.testing.assert_array_equal(arrays["failures"], [2, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(arrays["ceo"], [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(arrays["contacts"], np.zeros(6))
