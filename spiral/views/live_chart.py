"""The organisation over time, drawn as it is simulated: backlog, failure, reputation.

The x axis is fixed from day 0 to the horizon plus the drain, so the lines grow across
an empty chart as the clock runs; the drain (arrivals stopped) is shaded and labelled.
"""

from __future__ import annotations

import numpy as np

from spiral.views.style import ACCENT, BAD, GOOD, INK, NEUTRAL, house_style, new_figure

PANELS = (
    ("backlog", "customers waiting in queues", BAD),
    ("failure", "steps' mean failure probability", ACCENT),
    ("reputation", "reputation (1 = as at the start)", GOOD),
)
"""The live chart's panels: the series name, its axis title and colour."""


def live_chart(  # noqa: ANN201 - a Figure
    day: np.ndarray,
    series: dict[str, np.ndarray],
    horizon_day: float,
    end_day: float,
    title: str,
):
    """Draw the series sampled so far against the day, on axes that span the whole run."""
    with house_style():
        fig, axes = new_figure(1, len(PANELS), figsize=(15, 4.2))
        for ax, (name, label, colour) in zip(axes, PANELS, strict=True):
            values = series[name]
            ax.plot(day, values, color=colour, linewidth=2.5)
            if len(day):
                ax.plot(day[-1:], values[-1:], "o", color=colour, markersize=8)
            ax.axvspan(horizon_day, end_day, color=NEUTRAL, alpha=0.12, linewidth=0)
            ax.set_xlim(0, end_day)
            top = float(np.nanmax(values)) if len(values) else 0.0
            if name == "backlog":
                ax.set_ylim(0, max(5.0, top * 1.15))
            elif name == "failure":
                ax.set_ylim(0, max(0.1, min(1.0, top * 1.3)))
            else:
                ax.set_ylim(0, max(1.1, top * 1.1))
            ax.set_title(label, fontsize=14)
            ax.set_xlabel("day")
        axes[0].text(
            (horizon_day + end_day) / 2,
            0.97,
            "drain:\nno new\ncustomers",
            transform=axes[0].get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=11,
            color=INK,
        )
        fig.suptitle(title)
        fig.tight_layout()
    return fig
