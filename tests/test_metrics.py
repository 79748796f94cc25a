"""Metrics: the spiral table, where complaints are born, silos, time series and the summary."""

from __future__ import annotations

import pandas as pd
import pytest
from examples import TINY

from spiral.analysis.metrics import by_failure_step, spiral_table
from spiral.analysis.results import run
from spiral.model.loading import parse_scenario


def customers_frame(rows: list[tuple[int, float, str, str | None, bool]]) -> pd.DataFrame:
    """Build a customer frame from (failures, severity, outcome, first_failure, social)."""
    frame = pd.DataFrame(
        rows, columns=["failures", "severity", "outcome", "first_failure", "social"]
    )
    frame["ceo"] = False
    frame["effort"] = frame["failures"] * 2
    frame["outcome"] = frame["outcome"].astype("category")
    return frame


ROWS = [
    (0, 0.0, "retained", None, False),
    (0, 0.0, "advocate", None, False),
    (0, 0.0, "churned", None, False),
    (1, 1.0, "retained", "ship", False),
    (1, 1.0, "churned", "order", False),
    (2, 2.0, "churned", "ship", True),
    (4, 8.0, "churned", "ship", True),
    (3, 4.0, "in_progress", "order", False),
]


def test_spiral_table_groups_finished_customers_by_failures_with_3_plus_last():
    table = spiral_table(customers_frame(ROWS))
    assert table.index.tolist() == ["0", "1", "2", "3+"]
    assert table["customers"].tolist() == [3, 2, 1, 1]
    assert table["churn_rate"].tolist() == pytest.approx([1 / 3, 1 / 2, 1.0, 1.0])
    assert table["advocacy_rate"].tolist() == pytest.approx([1 / 3, 0, 0, 0])
    assert table["severity_mean"].tolist() == [0.0, 1.0, 2.0, 8.0]
    assert table["social_rate"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert table["share"].sum() == pytest.approx(1.0)


def test_churn_and_revenue_at_risk_are_attributed_to_the_first_failure_step():
    scenario = parse_scenario(TINY, "tiny.yaml")
    table = by_failure_step(customers_frame(ROWS), scenario)
    assert table.index.tolist() == ["ship", "order"]
    assert table.loc["ship", "customers"] == 3 and table.loc["ship", "churned"] == 2
    assert table.loc["order", "churned"] == 1
    assert table.loc["ship", "revenue_at_risk"] == 2 * scenario.money.revenue_per_retained
    assert table.loc["ship", "share_of_all_churn"] == pytest.approx(2 / 4)
    assert table.loc["ship", "escalations"] == 2


@pytest.fixture(scope="module")
def tiny_run():
    return run(parse_scenario({**TINY, "warmup": "1 day"}, "tiny.yaml"), seed=3)


def test_time_series_add_up_to_the_customer_table(tiny_run):
    series, customers = tiny_run.timeseries, tiny_run.customers
    assert series["arrivals"].sum() == len(customers)
    assert series["completions"].sum() == (customers["outcome"] != "in_progress").sum()
    assert series["failures"].sum() == customers["failures"].sum()
    assert series["contacts"].sum() == customers["contacts"].sum()
    assert series["failure_demand"].sum() == customers["failure_demand"].sum()
    assert series["churned"].sum() == (customers["outcome"] == "churned").sum()
    assert series["warmup"].tolist()[:2] == [True, False]
    assert series["in_journey"].iloc[-1] == 0


def test_summary_money_follows_from_outcomes_and_silo_costs(tiny_run):
    summary, money = tiny_run.summary, tiny_run.scenario.money
    value = money.revenue_per_retained
    revenue = summary["retained"] * value + summary["advocates"] * value * (
        1 + money.advocate_bonus
    )
    assert summary["revenue"] == pytest.approx(revenue)
    assert summary["revenue_at_risk"] == summary["churned"] * value
    # staff are paid from the warm-up to the end of arrivals (the 5-day horizon)
    window_h = (tiny_run.raw.arrivals_end - summary["warmup_min"]) / 60
    assert tiny_run.raw.arrivals_end == tiny_run.scenario.horizon
    staff_cost = (3 + 2) * window_h * money.cost_per_staff_hour
    escalations = (
        summary["escalations_social"] * money.cost_per_social_escalation
        + summary["escalations_ceo"] * money.cost_per_ceo_escalation
    )
    # the self-service web silo is unpaid; ops (3) and support (2) are paid for the window
    assert summary["cost_to_serve"] == pytest.approx(staff_cost + escalations)
    assert summary["net_value"] == pytest.approx(summary["revenue"] - summary["cost_to_serve"])


def test_summary_rates_are_shares_of_measured_customers(tiny_run):
    summary, customers = tiny_run.summary, tiny_run.customers
    measured = customers[customers["arrival"] >= 1440]
    assert summary["customers"] == len(measured)
    assert summary["churn_rate"] == pytest.approx((measured["outcome"] == "churned").mean())
    assert summary["failures_per_customer"] == pytest.approx(measured["failures"].mean())
    assert sum(summary["failures_distribution"].values()) == pytest.approx(1.0)
    complainants = (measured["complaints"] > 0).sum()  # got in touch about a problem
    assert summary["complainants"] == complainants
    assert summary["praise_to_complaint"] == pytest.approx(
        (measured["outcome"] == "advocate").sum() / complainants
    )
    silent = (measured["failures"] > 0) & (measured["complaints"] == 0)
    assert summary["silent_sufferers"] == silent.sum()
    assert summary["customers_with_failure"] == complainants + silent.sum()
    churned = measured["outcome"] == "churned"
    shares = {"no failure": measured["failures"] == 0, "complained": measured["complaints"] > 0}
    for group, who in {**shares, "silent": silent}.items():
        expected = churned[who].mean() if who.any() else 0.0
        assert summary["churn_by_voice"][group] == pytest.approx(expected), group
    assert summary["severity_max"] == measured["severity"].max()
