"""Every picture of a run or a comparison, written as PNG and SVG (``--plot DIR``).

matplotlib is imported only when a picture is drawn: a command without ``--plot`` never pays it.
"""

from __future__ import annotations

from pathlib import Path

RUN_FIGURES = ("spiral_curve", "journey_map", "timeseries")
COMPARISON_FIGURES = ("compare_bars", "compare_differences")


def run_figures(result, folder: Path) -> list[Path]:  # noqa: ANN001 - a RunResult
    """Write a run's spiral curve, journey map and time series to ``folder``."""
    from spiral.views.journey_map import journey_map
    from spiral.views.spiral_curve import spiral_curve
    from spiral.views.style import save_figure
    from spiral.views.timeseries_chart import timeseries_chart

    paths = save_figure(spiral_curve([result]), folder, "spiral_curve")
    paths += save_figure(journey_map(result), folder, "journey_map")
    paths += save_figure(timeseries_chart(result), folder, "timeseries")
    return paths


def comparison_figures(comparison, folder: Path, currency: str = "", name: str = "") -> list[Path]:  # noqa: ANN001
    """Write a comparison's metric bars and paired differences to ``folder``."""
    from spiral.views.comparison_charts import comparison_bars, comparison_differences
    from spiral.views.style import save_figure

    paths = save_figure(comparison_bars(comparison, currency, name), folder, "compare_bars")
    paths += save_figure(
        comparison_differences(comparison, currency), folder, "compare_differences"
    )
    return paths
