"""Comparison charts: bar heights are the arms' means, points the paired differences."""

from __future__ import annotations

import numpy as np
import pytest

import spiral
from spiral.model.loading import load_scenario, with_length
from spiral.views.comparison_charts import BAR_METRICS, comparison_bars, comparison_differences


@pytest.fixture(scope="module")
def comparison():
    scenario = with_length(load_scenario("online_retail"), horizon=5 * 1440.0)
    return spiral.compare(scenario, ["warm_handoffs", "fix_delivery"], replications=2)


@pytest.mark.slow
def test_bar_lengths_equal_the_means_and_error_bars_the_intervals(comparison):
    fig = comparison_bars(comparison)
    table = comparison.table.set_index(["arm", "metric"])
    arms = list(dict.fromkeys(comparison.table["arm"]))
    for ax, metric in zip(fig.axes, BAR_METRICS, strict=True):
        lengths = [bar.get_width() for bar in ax.patches]  # one row per arm
        assert lengths == pytest.approx([table.loc[(a, metric), "mean"] for a in arms])
        (caps,) = [c for c in ax.collections if len(c.get_segments()) == len(arms)]
        ends = [segment[1][0] for segment in caps.get_segments()]
        assert ends == pytest.approx([table.loc[(a, metric), "ci_high"] for a in arms])


def test_difference_points_are_the_paired_differences(comparison):
    fig = comparison_differences(comparison)
    table = comparison.table.set_index(["arm", "metric"])
    ax = fig.axes[0]  # churn rate
    points = ax.collections[-1].get_offsets()
    expected = [table.loc[(a, "churn_rate"), "diff"] for a in ("warm_handoffs", "fix_delivery")]
    assert np.allclose(points[:, 0], expected)


def test_six_long_named_arms_and_money_ticks_never_collide():
    from test_decision import comparison

    from spiral.views.comparison_charts import comparison_bars, comparison_differences
    from spiral.views.style import overlapping_labels

    base = [1000.0, 1000.0, 1000.0]
    net = {"baseline": base}
    for k in range(6):
        net[f"fix_the_delivery_partner_{k}"] = [v + 150_000 * k + 7 * r for r, v in enumerate(base)]
    decided = comparison(net=net)
    for draw in (comparison_bars, comparison_differences):
        fig = draw(decided, "GBP")
        assert overlapping_labels(fig) == [], draw.__name__
    fig = comparison_differences(decided, "GBP")
    money = next(ax for ax in fig.axes if "net value" in ax.get_title())
    texts = [t.get_text() for t in money.get_xticklabels() if t.get_text()]
    assert texts and all(t.endswith(("k", "M")) or t in ("0", "−0") for t in texts), texts
