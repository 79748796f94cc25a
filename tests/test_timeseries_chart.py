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
