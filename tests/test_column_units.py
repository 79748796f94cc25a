"""spiral.io.column_units: one rule for a column's unit, in brackets for sheets, as a CSV suffix."""

from __future__ import annotations

import pandas as pd
import pytest

from spiral.io.column_units import csv_name, unit_of, with_csv_units, with_units


@pytest.mark.parametrize(
    ("column", "unit"),
    [
        ("net_value", "EUR"),
        ("net_value_ci95", "EUR"),  # an interval has its value's unit
        ("revenue_at_risk[premium]", "EUR"),
        ("value_forgone", "EUR"),
        ("churn_rate[premium]", "share 0-1"),
        ("wait_mean_min", "minutes"),
        ("wait_courier_desk", "minutes"),
        ("start", "minutes"),
        ("busy_h", "hours"),
        ("full_days_to_half_effect", "days"),
        ("roi", "× cost"),
        ("customers", None),
        ("utilisation_warehouse", None),
    ],
)
def test_a_columns_unit_is_read_from_its_name(column, unit):
    assert unit_of(column, "EUR") == unit


@pytest.mark.parametrize(
    ("column", "named"),
    [
        ("staff_cost", "staff_cost_GBP"),
        ("net_value_ci95", "net_value_ci95_GBP"),
        ("revenue[premium]", "revenue_GBP[premium]"),  # the segment stays last
        ("start", "start_min"),
        ("wait_web", "wait_web_min"),
        ("mean_wait_min", "mean_wait_min"),  # said once
        ("churn_rate", "churn_rate"),  # a share says so in its name
        ("busy_h", "busy_h"),
        ("customers", "customers"),
    ],
)
def test_a_csv_name_carries_money_and_time_units_once(column, named):
    assert csv_name(column, "GBP") == named


def test_sheets_name_units_in_brackets_and_csvs_as_suffixes_of_the_same_columns():
    frame = pd.DataFrame({"arm": ["a"], "cost": [1.0], "churn_rate": [0.1], "served": [3]})
    assert list(with_units(frame, "USD").columns) == [
        "arm",
        "cost (USD)",
        "churn_rate (share 0-1)",
        "served",
    ]
    assert list(with_csv_units(frame, "USD").columns) == ["arm", "cost_USD", "churn_rate", "served"]
