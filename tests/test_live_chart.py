"""The live chart: lines grow across fixed axes; the drain is shaded and labelled."""

from __future__ import annotations

import numpy as np

from spiral.views.live_chart import PANELS, live_chart


def test_the_axes_span_the_whole_run_and_the_drain_is_shaded_and_named():
    day = np.arange(0, 5, 1 / 24)
    series = {
        "backlog": day * 2,
        "failure": np.full(len(day), 0.1),
        "reputation": np.ones(len(day)),
    }
    fig = live_chart(day, series, horizon_day=30.0, end_day=60.0, title="t")
    axes = fig.axes
    assert len(axes) == len(PANELS) == 3
    for ax, (name, label, _) in zip(axes, PANELS, strict=True):
        assert ax.get_xlim() == (0.0, 60.0)  # the room sees how far the run has to go
        assert ax.get_title() == label
        line = ax.get_lines()[0]
        assert np.array_equal(line.get_xdata(), day)
        assert np.array_equal(line.get_ydata(), series[name])
        shaded = [p for p in ax.patches if p.get_x() == 30.0]
        assert len(shaded) == 1 and shaded[0].get_width() == 30.0
    assert "drain" in axes[0].texts[0].get_text()
    assert axes[0].get_ylim()[1] >= series["backlog"].max()


def test_an_empty_run_draws_empty_axes():
    empty = np.zeros(0)
    fig = live_chart(empty, dict.fromkeys(("backlog", "failure", "reputation"), empty), 1, 2, "t")
    assert all(len(ax.get_lines()[0].get_xdata()) == 0 for ax in fig.axes)
