"""What-if comparison charts: metric bars with 95% intervals, and the paired differences."""

from __future__ import annotations

from pathlib import Path

from spiral.analysis.compare import KEY_METRICS, Comparison
from spiral.model.what_if_arms import BASELINE

BAR_METRICS = ("churn_rate", "complaints", "escalations", "net_value")
"""The metrics ``comparison_bars`` draws, one panel each."""


def comparison_bars(comparison: Comparison, currency: str = "", name: str = ""):  # noqa: ANN201
    """Draw each arm's mean of the headline metrics as bars with their 95% intervals."""
    from spiral.views.style import BAD, GOOD, INK, NEUTRAL, compact_money, house_style, new_figure

    table = comparison.table
    arms = list(dict.fromkeys(table["arm"]))
    with house_style():
        # arms down the side, one row each: names never collide, however many or long
        fig, axes = new_figure(
            1, len(BAR_METRICS), figsize=(4.2 * len(BAR_METRICS), 1.6 + 0.5 * len(arms))
        )
        for k, (ax, metric) in enumerate(zip(axes, BAR_METRICS, strict=True)):
            rows = table[table["metric"] == metric].set_index("arm").loc[arms]
            clear = rows["significant"].fillna(False).astype(bool).tolist()
            colours = [
                NEUTRAL if arm == BASELINE or not sure else GOOD if better else BAD
                for arm, better, sure in zip(arms, _better(rows, metric), clear, strict=True)
            ]
            ax.barh(
                range(len(arms)),
                rows["mean"],
                xerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
                color=colours,
                ecolor=INK,
                capsize=4,
            )
            ax.set_yticks(range(len(arms)), arms if k == 0 else [""] * len(arms))
            ax.invert_yaxis()
            unit = f" ({currency})" if metric == "net_value" and currency else ""
            ax.set_title(metric.replace("_", " ") + unit)
            if metric == "net_value":
                compact_money(ax.xaxis)
            else:
                from matplotlib.ticker import MaxNLocator

                ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        fig.suptitle(
            f"{name + ': ' if name else ''}means with 95% intervals, {comparison.replications} "
            "replications (blue: clearly better than baseline, red: clearly worse, grey: not clear)"
        )
        fig.tight_layout()
    return fig


def _better(rows, metric: str) -> list[bool]:  # noqa: ANN001 - a DataFrame
    """Return per arm whether its difference to baseline is an improvement."""
    higher_is_better = metric in ("net_value", "revenue", "roi")
    diff = rows["diff"].fillna(0.0)
    return [(d > 0) == higher_is_better and d != 0 for d in diff]


def comparison_differences(comparison: Comparison, currency: str = ""):  # noqa: ANN201
    """Draw each key metric's difference to baseline with its 95% interval, one panel each."""
    from spiral.views.style import BAD, GOOD, NEUTRAL, compact_money, house_style, new_figure

    metrics = [m for m in KEY_METRICS if m != "roi"]
    table = comparison.table[comparison.table["arm"] != BASELINE]
    arms = list(dict.fromkeys(table["arm"]))
    with house_style():
        fig, axes = new_figure(2, 4, figsize=(16, 2.6 + 0.5 * len(arms) * 2), squeeze=False)
        for ax, metric in zip(axes.flat, [*metrics, "roi"], strict=False):
            rows = table[table["metric"] == metric].set_index("arm").loc[arms]
            y = range(len(arms))
            if metric == "roi":
                centre, low, high = rows["mean"], rows["ci_low"], rows["ci_high"]
                ax.set_title("ROI (net value gained ÷ cost, ×)")
            else:
                centre, low, high = rows["diff"], rows["diff_low"], rows["diff_high"]
                unit = f" ({currency})" if metric in ("cost", "revenue", "net_value") else ""
                ax.set_title(f"Δ {metric.replace('_', ' ')}{unit}")
            clear = (low > 0) | (high < 0) if metric == "roi" else rows["significant"]
            # one meaning on every chart: blue better, red worse, grey not distinguishable
            better = centre > 0 if metric in ("net_value", "revenue", "roi") else centre < 0
            colours = [
                (GOOD if b else BAD) if s else NEUTRAL for s, b in zip(clear, better, strict=True)
            ]
            if metric in ("cost", "revenue", "net_value"):
                compact_money(ax.xaxis)
            else:  # at most five ticks: labels of narrow panels never run together
                from matplotlib.ticker import MaxNLocator

                ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.errorbar(
                centre, list(y), xerr=[centre - low, high - centre], fmt="none", ecolor=colours
            )
            ax.scatter(centre, list(y), c=colours, zorder=3, s=60)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_yticks(list(y), arms if ax in axes[:, 0] else [""] * len(arms))
            ax.invert_yaxis()
        fig.suptitle(
            f"What-if minus baseline, paired 95% intervals over {comparison.replications} "
            "replications (blue: better, red: worse, grey: not distinguishable from zero)"
        )
        fig.tight_layout()
    return fig


def comparison_chart(comparison: Comparison, path: Path, currency: str = "") -> Path:
    """Save the paired differences chart as one image file."""
    fig = comparison_differences(comparison, currency)
    fig.savefig(path, dpi=120)
    return path
