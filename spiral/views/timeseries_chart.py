"""A run over time: backlog, failure probabilities, reputation and churn, with the verdict."""

from __future__ import annotations

from spiral.views.style import ACCENT, BAD, GOOD, INK, NEUTRAL, house_style, new_figure

VERDICT_COLOURS = {"stable": GOOD, "stressed": ACCENT, "runaway": BAD}

MIN_FINISHED = 20
PANELS = ("backlog", "failure", "reputation", "churn")
"""The chart's panels, top to bottom."""


def panel_series(result) -> dict[str, dict[str, list[float]]]:  # noqa: ANN001 - a RunResult
    """Return per panel the series drawn (label -> values per period)."""
    ts = result.timeseries
    backlog = {c.removeprefix("backlog_"): ts[c].tolist() for c in ts if c.startswith("backlog_")}
    steps = [s for s in result.scenario.steps if f"failure_{s}" in ts]
    failure = {s: ts[f"failure_{s}"].tolist() for s in steps}
    # a rate over a handful of stragglers (the drain) is noise: drawn only from 20 finishers
    done = ts["completions"].where(ts["completions"] >= MIN_FINISHED)
    churn = (ts["churned"] / done).tolist()
    return {
        "backlog": backlog,
        "failure": failure,
        "reputation": {"reputation": ts["reputation"].tolist()},
        "churn": {"churn rate": churn},
    }


def timeseries_chart(result, title: str | None = None):  # noqa: ANN001, ANN201 - RunResult, Figure
    """Draw a run's time series, the warm-up shaded and the regime verdict in the title."""
    ts = result.timeseries
    days = (ts["start"] / 1440.0).tolist()
    series = panel_series(result)
    labels = {
        "backlog": "customers waiting, per silo",
        "failure": "failure probability, per step",
        "reputation": "reputation (1 = as at the start)",
        "churn": f"churned / finished, per period (from {MIN_FINISHED} finishers)",
    }
    verdict = result.summary.get("regime", "")
    reasons = result.summary.get("regime_reasons") or []
    with house_style():
        fig, axes = new_figure(len(PANELS), 1, figsize=(12, 11), sharex=True)
        warm = ts.loc[ts["warmup"], "start"]
        for ax, panel in zip(axes, PANELS, strict=True):
            for label, values in series[panel].items():
                colour = BAD if panel == "churn" else GOOD if panel == "reputation" else None
                ax.plot(days, values, label=label, linewidth=2.2, color=colour)
            if len(warm):
                ax.axvspan(
                    0,
                    (warm.max() + result.scenario.period) / 1440.0,
                    color=NEUTRAL,
                    alpha=0.15,
                    linewidth=0,
                )
            ax.set_title(labels[panel], loc="left", fontsize=13)
            if len(series[panel]) > 1:
                ax.legend(loc="upper left", ncols=min(len(series[panel]), 4), fontsize=10)
        axes[-1].set_xlabel("day (grey: warm-up, not measured)")
        head = title or f"{result.scenario.name} over time"
        why = "\n" + "; ".join(reasons) if reasons else ""
        fig.suptitle(f"{head}: {verdict}{why}", color=VERDICT_COLOURS.get(verdict, INK))
        fig.tight_layout()
    return fig
