"""Metrics: the spiral table, where complaints are born, silos, time series and the summary."""

from __future__ import annotations

import numpy as np
import pytest
from examples import TINY

from spiral.analysis.metrics import by_failure_step, spiral_table
from spiral.analysis.results import run
from spiral.engines.customer_tally import CustomerTally
from spiral.engines.records import COLUMN_ORDER
from spiral.model.loading import parse_scenario

NODES = ("order", "ship", "help", "done", "gone")
OUTCOME_CODES = {"in_progress": -1, "retained": 0, "advocate": 1, "churned": 2}


def tally_of(rows: list[tuple[int, float, str, str | None, bool]]) -> CustomerTally:
    """Fold customers given as (failures, severity, outcome, first_failure, social)."""
    n = len(rows)
    failures, severity, outcome, first, social = (list(c) for c in zip(*rows, strict=True))
    tally = CustomerTally(warmup=0.0, period=1440.0, nodes=len(NODES), segments=0)
    tally.add(
        {
            **{name: np.zeros(n) for name in COLUMN_ORDER},
            "customer": np.arange(n),
            "arrival": np.ones(n),
            "end": np.where(np.array(outcome) == "in_progress", np.nan, 2.0),
            "outcome": np.array([OUTCOME_CODES[o] for o in outcome]),
            "failures": np.array(failures),
            "severity": np.array(severity),
            "first_failure": np.array([-1 if f is None else NODES.index(f) for f in first]),
            "exit_node": np.full(n, -1),
            "social": np.array(social, dtype=int),
            "effort": np.array(failures) * 2,
        }
    )
    return tally


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
    table = spiral_table(tally_of(ROWS))
    assert table.index.tolist() == ["0", "1", "2", "3+"]
    assert table["customers"].tolist() == [3, 2, 1, 1]
    assert table["churn_rate"].tolist() == pytest.approx([1 / 3, 1 / 2, 1.0, 1.0])
    assert table["advocacy_rate"].tolist() == pytest.approx([1 / 3, 0, 0, 0])
    assert table["severity_mean"].tolist() == [0.0, 1.0, 2.0, 8.0]
    assert table["social_rate"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert table["share"].sum() == pytest.approx(1.0)


def test_churn_and_revenue_at_risk_are_attributed_to_the_first_failure_step():
    scenario = parse_scenario(TINY, "tiny.yaml")
    table = by_failure_step(tally_of(ROWS), scenario, NODES)
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


def test_metrics_from_the_tally_equal_the_customer_tables_by_hand(monkeypatch):
    from spiral.engines.records import CustomerTable

    monkeypatch.setattr(CustomerTable, "CHUNK", 150)  # folded in many chunks
    data = {
        **TINY,
        "warmup": "1 day",
        "segments": {"a": {"share": 0.4, "value": 50}, "b": {"share": 0.6}},
    }
    result = run(parse_scenario(data, "tiny.yaml"), seed=5)
    table = result.customers
    done = table[table["measured"] & (table["outcome"] != "in_progress")]
    summary = result.summary
    severity = done["severity"].to_numpy()
    assert summary["severity_p95"] == np.quantile(severity, 0.95)  # exactly, not nearly
    assert summary["severity_max"] == severity.max()
    assert summary["time_in_journey_mean_h"] == pytest.approx(
        ((done["end"] - done["arrival"]) / 60).mean(), rel=1e-12
    )
    failed, voiced = done["failures"] > 0, done["complaints"] > 0
    assert summary["silent_sufferers"] == int((failed & ~voiced).sum())
    assert summary["churn_by_voice"]["complained"] == pytest.approx(
        (done.loc[voiced, "outcome"] == "churned").mean(), rel=1e-12
    )
    value = np.where(done["segment"] == 0, 50, result.scenario.money.revenue_per_retained)
    churned = (done["outcome"] == "churned").to_numpy()
    assert summary["revenue_at_risk"] == pytest.approx(value[churned].sum(), rel=1e-12)
    spiral = result.spiral
    for label, mine in done.groupby(done["failures"].clip(upper=3)):
        row = spiral.loc["3+" if label == 3 else str(label)]
        assert row["customers"] == len(mine)
        assert row["severity_p95"] == np.quantile(mine["severity"].to_numpy(), 0.95)
        assert row["effort_mean"] == pytest.approx(mine["effort"].mean(), rel=1e-12)
    segments = result.by_segment
    assert segments.loc["a", "churned"] == int((churned & (done["segment"] == 0)).sum())
