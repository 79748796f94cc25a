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
def test_bar_heights_equal_the_means_and_error_bars_the_intervals(comparison):
    fig = comparison_bars(comparison)
    table = comparison.table.set_index(["arm", "metric"])
    arms = list(dict.fromkeys(comparison.table["arm"]))
    for ax, metric in zip(fig.axes, BAR_METRICS, strict=True):
        heights = [bar.get_height() for bar in ax.patches]
        assert heights == pytest.approx([table.loc[(a, metric), "mean"] for a in arms])
        (caps,) = [c for c in ax.collections if len(c.get_segments()) == len(arms)]
        tops = [segment[1][1] for segment in caps.get_segments()]
        assert tops == pytest.approx([table.loc[(a, metric), "ci_high"] for a in arms])


def test_difference_points_are_the_paired_differences(comparison):
    fig = comparison_differences(comparison)
    table = comparison.table.set_index(["arm", "metric"])
    ax = fig.axes[0]  # churn rate
    points = ax.collections[-1].get_offsets()
    expected = [table.loc[(a, "churn_rate"), "diff"] for a in ("warm_handoffs", "fix_delivery")]
    assert np.allclose(points[:, 0], expected)
