"""Pilot or go big: the customers and days a pilot needs, and the value forgone meanwhile."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from spiral.analysis.compare import Comparison
from spiral.analysis.pilot import pilot_customers, pilot_question
from spiral.model.loading import parse_scenario


def test_the_pilot_needs_the_two_proportion_sample_size_by_hand():
    # churn 10% against 8.5%, a 10% pilot (control 9× as large):
    # (1.959964 + 0.841621)² × (0.085 × 0.915 + 0.10 × 0.90 / 9) / 0.015² = 3,062
    needed = pilot_customers(0.10, 0.085, 0.10)
    assert needed == pytest.approx(7.848879 * (0.077775 + 0.01) / 0.000225, rel=1e-6)
    assert needed == pytest.approx(3061.4, abs=1)


def test_no_effect_can_never_be_detected():
    assert math.isinf(pilot_customers(0.1, 0.1, 0.1))
    assert math.isinf(pilot_customers(0.1, 0.05, 1.0))


def test_the_pilot_question_reads_the_full_roll_out_from_the_same_comparison(tiny_data):
    scenario = parse_scenario(tiny_data, "tiny.yaml")  # 200 a day, 5 days, no warm-up
    rows = [
        ("baseline", "churn_rate", 0.10, math.nan),
        ("fix", "churn_rate", 0.085, -0.015),
        ("fix", "net_value", 0.0, 5_000.0),
        ("fix@10%", "churn_rate", 0.0985, -0.0015),
    ]
    table = pd.DataFrame(rows, columns=["arm", "metric", "mean", "diff"])
    effects = pd.DataFrame({"arm": ["fix"], "days_to_half_full_effect": [2.0]})
    decided = Comparison(table, pd.DataFrame(), effects, 5, 0.0, True)
    (row,) = pilot_question(decided, scenario).to_dict(orient="records")
    customers = pilot_customers(0.10, 0.085, 0.10)
    assert row["pilot"] == "fix@10%" and row["share"] == 0.1
    assert row["churn_effect"] == pytest.approx(1.5)
    assert row["customers"] == pytest.approx(customers)
    assert row["days"] == pytest.approx(customers / 20)  # 10% of 200 a day in the pilot
    assert row["full_days_to_half_effect"] == 2.0
    # the others (90%) go without 5,000 over 5 days = 1,000 a day while the pilot runs
    assert row["value_forgone"] == pytest.approx(1_000 * customers / 20 * 0.9)
