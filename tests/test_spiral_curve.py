"""The spiral curve: per failure count, the means of the run(s) with 95% intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.views.spiral_curve import spiral_curve, spiral_points


@pytest.fixture(scope="module")
def runs():
    scenario = with_length(load_scenario("online_retail"), horizon=6 * 1440.0)
    return [run(scenario, seed=s) for s in (1, 2, 3)]


def measured(result):
    table = result.customers
    table = table[
        (table["arrival"] >= result.scenario.warmup) & (table["outcome"] != "in_progress")
    ]
    return table.assign(bucket=table["failures"].clip(upper=4))


@pytest.mark.slow
def test_one_run_gives_its_own_means_with_normal_intervals(runs):
    points = spiral_points(runs[:1]).set_index(["failures", "metric"])
    table = measured(runs[0])
    for k, group in table.groupby("bucket"):
        churn = (group["outcome"] == "churned").mean()
        row = points.loc[(k, "churn_rate")]
        assert row["mean"] == pytest.approx(churn)
        half = 1.959964 * np.sqrt(churn * (1 - churn) / len(group))
        assert row["high"] - row["mean"] == pytest.approx(half)
        assert points.loc[(k, "severity_mean"), "mean"] == pytest.approx(group["severity"].mean())
        escalated = (group["social"] | group["ceo"]).mean()
        assert points.loc[(k, "escalation_rate"), "mean"] == pytest.approx(escalated)


def test_replications_give_t_intervals_of_the_run_means(runs):
    points = spiral_points(runs).set_index(["failures", "metric"])
    means = [measured(r).query("bucket == 1")["severity"].mean() for r in runs]
    row = points.loc[(1, "severity_mean")]
    assert row["mean"] == pytest.approx(np.mean(means))
    half = stats.t.ppf(0.975, 2) * np.std(means, ddof=1) / np.sqrt(3)
    assert row["high"] - row["mean"] == pytest.approx(half)
    assert row["runs"] == 3


def test_churn_rises_with_every_failure_in_the_curve(runs):
    churn = spiral_points(runs).query("metric == 'churn_rate'").set_index("failures")["mean"]
    assert churn.loc[0] < churn.loc[1] < churn.loc[2]


def test_the_figure_draws_the_points(runs):
    fig = spiral_curve(runs)
    points = spiral_points(runs)
    metrics = ("severity_mean", "churn_rate", "escalation_rate")
    for ax, name in zip(fig.axes, metrics, strict=True):
        line = ax.get_lines()[0]  # the curve; the rest are error-bar caps
        expected = points[points["metric"] == name]["mean"].to_numpy()
        assert np.allclose(line.get_ydata(), expected)
