"""The held-out validation picture: each distance against its noise floor."""

from __future__ import annotations

from spiral.io.discovery.holdout import HoldoutReport


def holdout_chart(report: HoldoutReport, name: str = ""):  # noqa: ANN201 - a Figure
    """Draw each measure's distance (simulation vs held-out cases) with its noise floor."""
    from spiral.views.style import BAD, GOOD, INK, NEUTRAL, house_style, new_figure

    table = report.table
    y = list(range(len(table)))
    with house_style():
        fig, ax = new_figure(1, 1, figsize=(9, 0.55 * len(table) + 1.8))
        colours = [GOOD if within else BAD for within in table["within"]]
        ax.barh(y, table["simulated"], color=colours, height=0.6, label="simulation vs held out")
        ax.scatter(
            table["noise_floor"], y, marker="|", s=600, color=INK, zorder=3,
            label="noise floor (99%, bootstrap)",
        )  # fmt: skip
        ax.scatter(
            table["between_periods"], y, marker="o", s=30, color=NEUTRAL, zorder=4,
            label="fitted cases vs held out (the log itself)",
        )  # fmt: skip
        ax.set_yticks(y, table["measure"])
        ax.invert_yaxis()
        ax.set_xlabel("distance (0: the same; shares: total variation; times: relative)")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_title(
            f"{name + ': ' if name else ''}{report.fitted_cases:,} cases fitted, "
            f"{report.held_cases:,} held out\n(blue: within the noise floor, red: beyond it)"
        )
        fig.tight_layout()
    return fig
