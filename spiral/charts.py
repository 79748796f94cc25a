"""Charts saved as image files (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: works on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402

from spiral.compare import KEY_METRICS, Comparison  # noqa: E402
from spiral.interventions import BASELINE  # noqa: E402


def comparison_chart(comparison: Comparison, path: Path, currency: str = "") -> Path:
    """Draw each key metric's difference to baseline with its 95% interval, one panel each."""
    metrics = [m for m in KEY_METRICS if m != "roi"]
    table = comparison.table[comparison.table["arm"] != BASELINE]
    arms = list(dict.fromkeys(table["arm"]))
    fig, axes = plt.subplots(2, 4, figsize=(14, 2.2 + 0.45 * len(arms) * 2), squeeze=False)
    for ax, metric in zip(axes.flat, [*metrics, "roi"], strict=False):
        rows = table[table["metric"] == metric].set_index("arm").loc[arms]
        y = range(len(arms))
        if metric == "roi":
            centre, low, high = rows["mean"], rows["ci_low"], rows["ci_high"]
            ax.set_title("ROI (gain / cost)")
        else:
            centre, low, high = rows["diff"], rows["diff_low"], rows["diff_high"]
            unit = f" ({currency})" if metric in ("cost", "revenue", "net_value") else ""
            ax.set_title(f"Δ {metric.replace('_', ' ')}{unit}")
        clear = (low > 0) | (high < 0) if metric == "roi" else rows["significant"]
        colours = ["tab:blue" if s else "tab:grey" for s in clear]
        if metric in ("cost", "revenue", "net_value"):
            ax.xaxis.set_major_formatter(EngFormatter())
        ax.errorbar(centre, list(y), xerr=[centre - low, high - centre], fmt="none", ecolor=colours)
        ax.scatter(centre, list(y), c=colours, zorder=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(list(y), arms if ax in axes[:, 0] else [""] * len(arms))
        ax.invert_yaxis()
    fig.suptitle(
        f"What-if minus baseline, 95% intervals over {comparison.replications} replications "
        "(grey: not significant)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
