"""Sweep pictures: empty heat-map bins are grey and named; ST intervals never drop below 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_guard_rails import sobol, spec

from spiral.sweeps.sensitivity import SweepReport
from spiral.views import sweep_charts


def report(indices: pd.DataFrame) -> SweepReport:
    manifest = {"sweep": "s", "spec": spec().model_dump(mode="json")}
    return SweepReport(manifest, pd.DataFrame(), pd.DataFrame(), indices, [])


def test_an_empty_heat_map_bin_is_grey_and_says_no_runs(monkeypatch):
    table = pd.DataFrame([[1.0, np.nan], [2.0, 3.0]], index=[0.9, 0.5], columns=[0.1, 0.2])
    monkeypatch.setattr(sweep_charts, "heatmap_table", lambda *args, **kwargs: table)
    fig = sweep_charts.heatmap_chart(report(pd.DataFrame()), "x", "y", "churn_rate")
    ax = fig.axes[0]
    (image,) = ax.get_images()
    assert image.get_array().mask[0, 1] and not image.get_array().mask[1, 1]
    assert image.cmap.get_bad().tolist() == [0.7411764705882353] * 3 + [1.0]  # #bdbdbd
    texts = {t.get_text() for t in ax.texts}
    assert "no runs" in texts and "1" in texts and "3" in texts


def test_a_tornado_interval_of_a_share_of_variance_stops_at_zero():
    found = sobol(
        {
            "steps.deliver.failure": (0.5, 0.1, 0.6, 0.1),
            "arrivals.rate": (0.01, 0.05, 0.02, 0.3),  # ± 0.3 around 0.02
        }
    )
    fig = sweep_charts.tornado_chart(report(found))
    ax = fig.axes[0]
    (bars,) = [c for c in ax.collections if len(c.get_segments()) == 2]
    lows = sorted(min(segment[0][0], segment[1][0]) for segment in bars.get_segments())
    assert lows[0] == 0.0  # 0.02 - 0.3 is cut at 0
    assert abs(lows[1] - 0.5) < 1e-12  # 0.6 - 0.1: drawn whole
