"""The time-series chart draws the run's own series and states its verdict."""

from __future__ import annotations

import numpy as np

from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.views.timeseries_chart import MIN_FINISHED, panel_series, panels_of, timeseries_chart


def test_every_line_is_a_series_of_the_run_and_the_title_gives_the_verdict():
    result = run(with_length(load_scenario("tipping_point"), horizon=16 * 1440.0), seed=1)
    series = panel_series(result)
    ts = result.timeseries
    assert set(series["backlog"]) == set(result.scenario.silos) & {
        c.removeprefix("backlog_") for c in ts
    }
    assert set(series["failure"]) == set(result.scenario.steps)
    enough = ts["completions"] >= MIN_FINISHED
    churn = (ts["churned"] / ts["completions"]).where(enough).to_numpy()
    assert np.allclose(series["churn"]["churn rate"], churn, equal_nan=True)
    assert np.isnan(series["churn"]["churn rate"]).sum() == (~enough).sum()
    fig = timeseries_chart(result)
    for ax, panel in zip(fig.axes, panels_of(result), strict=True):
        drawn = [line.get_ydata() for line in ax.get_lines()]
        for line, values in zip(drawn, series[panel].values(), strict=True):
            assert np.allclose(line, values, equal_nan=True)
    assert fig._suptitle.get_text().endswith(result.summary["regime"])


def test_the_drain_is_hatched_and_named_legends_sit_beside_and_flat_panels_are_left_out(
    tiny_scenario,
):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    result = run(tiny_scenario, seed=1)
    fig = timeseries_chart(result)
    panels = panels_of(result)
    assert "failure" not in panels and "staff" not in panels  # no loop, no roster: flat
    assert "not drawn, flat: staff, failure" in fig.axes[-1].get_xlabel()
    arrivals_end, end = result.raw.arrivals_end / 1440, result.raw.end / 1440
    assert f"drain after arrivals stop on day {arrivals_end:g}" in fig.axes[-1].get_xlabel()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    for ax in fig.axes:
        assert ax.get_xlim() == (0.0, end)  # never past the run's end
        hatched = [p for p in ax.patches if p.get_hatch() == "//"]
        assert len(hatched) == 1 and hatched[0].get_x() == arrivals_end
        legend = ax.get_legend()
        if legend is not None:  # beside the panel, never over its lines
            box = legend.get_window_extent(canvas.get_renderer())
            assert box.x0 >= ax.get_window_extent(canvas.get_renderer()).x1
