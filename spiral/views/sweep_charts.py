"""Pictures of a sweep: the tornado of sensitivity indices, a heat map over two parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spiral.io.result_files import write_csv
from spiral.sweeps.sensitivity import (
    RANKED_BY,
    SweepReport,
    default_heatmap,
    heatmap_table,
    ranking,
)


def tornado_chart(report: SweepReport):  # noqa: ANN201 - a matplotlib Figure, imported lazily
    """Return a tornado chart: per metric, parameters ranked by the design's main index."""
    from spiral.views.style import house_style, new_figure

    with house_style():
        metrics = [m for m in report.spec.metrics if m in set(report.indices["metric"])]
        by = RANKED_BY[report.spec.design.kind]
        cols = min(max(len(metrics), 1), 3)
        rows = -(-max(len(metrics), 1) // cols)
        height = 0.6 * len(report.spec.parameters) + 2.0
        fig, axes = new_figure(rows, cols, figsize=(6.5 * cols, height * rows), squeeze=False)
        axes = axes.ravel()
        for ax, metric in zip(axes, metrics, strict=False):
            ranked = ranking(report, metric)[::-1]  # largest at the top
            chosen = report.indices[
                (report.indices["metric"] == metric) & (report.indices["index"] == by)
            ].set_index("parameter")
            values = chosen["value"].reindex(ranked.index)
            shown = values if by == "SRC" else ranked
            conf = chosen["conf"].reindex(ranked.index)
            colors = ["#c0392b" if v > 0 else "#2471a3" for v in values]
            centre = shown.to_numpy()
            if conf.isna().all():
                error = None
            elif by == "SRC":  # a signed coefficient: its interval may cross zero
                error = conf.to_numpy()
            else:  # ST and mu* are at least 0: the interval is cut at 0, not drawn below it
                error = np.vstack([np.minimum(conf.to_numpy(), centre), conf.to_numpy()])
            ax.barh(ranked.index, centre, xerr=error, color=colors, capsize=3)
            ax.set_title(metric)
            ax.set_xlabel(by + (" (95% interval)" if not conf.isna().all() else ""))
            ax.axvline(0, color="black", linewidth=0.8)
        for ax in axes[len(metrics) :]:
            ax.axis("off")
        fig.suptitle(f"{report.manifest['sweep']}: what drives each metric ({by})")
        fig.tight_layout()
    return fig


def write_report(
    report: SweepReport, out: Path, heatmap: tuple[str, str] | None = None
) -> list[Path]:
    """Write points.csv, indices.csv, the tornado chart and a heat map (PNG and SVG)."""
    from spiral.views.style import save_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "points.csv", out / "indices.csv"]
    write_csv(report.named_points(), paths[0], report.currency, index=False)
    write_csv(report.indices, paths[1], report.currency, index=False)
    if len(report.indices):
        paths += save_figure(tornado_chart(report), out, "tornado")
    pair = heatmap or default_heatmap(report)
    if pair is not None and np.isfinite(report.points[report.spec.metrics[0]]).any():
        metric = report.spec.metrics[0]
        paths += save_figure(heatmap_chart(report, *pair, metric), out, "heatmap")
    return paths


def heatmap_chart(report: SweepReport, x: str, y: str, metric: str, bins: int = 6):  # noqa: ANN201
    """Draw the metric's mean over two swept parameters as a heat map."""
    from spiral.views.style import house_style, new_figure

    table = heatmap_table(report, x, y, metric, bins)
    with house_style():
        fig, ax = new_figure(figsize=(1.1 * len(table.columns) + 4, 0.8 * len(table) + 2.5))
        ax.grid(False)
        import matplotlib

        # an empty bin is grey, never the lowest value's white
        cmap = matplotlib.colormaps["Reds"].with_extremes(bad="#bdbdbd")
        image = ax.imshow(np.ma.masked_invalid(table.to_numpy(float)), cmap=cmap, aspect="auto")
        ax.set_xticks(
            range(len(table.columns)),
            [f"{v:.3g}" if isinstance(v, float) else v for v in table.columns],
            rotation=30,
        )
        ax.set_yticks(
            range(len(table.index)),
            [f"{v:.3g}" if isinstance(v, float) else v for v in table.index],
        )
        values = table.to_numpy(float)
        middle = np.nanmin(values) + 0.6 * (np.nanmax(values) - np.nanmin(values))
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ink = "white" if value > middle else "black"
                ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=10, color=ink)
            else:
                ax.text(j, i, "no runs", ha="center", va="center", fontsize=9, color="black")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        fig.colorbar(image, ax=ax, label=metric)
        ax.set_title(f"{report.manifest['sweep']}: mean {metric}")
        fig.tight_layout()
    return fig
