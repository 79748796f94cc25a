"""The spiral curve: severity, churn and escalation against the number of failures suffered."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from spiral.analysis.metrics import finished_measured
from spiral.engines.records import CHURNED
from spiral.views.style import ACCENT, BAD, INK, house_style, new_figure

CURVE_METRICS = {
    "severity_mean": "mean severity",
    "churn_rate": "P(churn)",
    "escalation_rate": "P(social or CEO escalation)",
}
"""What the curve shows per failure count, with its axis label."""

TOP = 4  # 0, 1, 2, 3 and "4+" failures


def _per_run(cube: pd.DataFrame) -> pd.DataFrame:
    """Return one run's per-bucket means from its tally's cube: severity, churn, escalation.

    Over measured, finished customers; the severity's standard deviation follows from the
    sums of severity and of its square (the tally keeps both).
    """
    done = finished_measured(cube)
    churned = done["count"].where(done["outcome"] == CHURNED, 0)
    grouped = done.assign(churned=churned, failures=done["failures_key"].clip(upper=TOP))
    sums = grouped.groupby("failures")[["count", "severity", "severity_sq", "churned", "escalated"]]
    total = sums.sum()
    n = total["count"]
    out = pd.DataFrame(
        {
            "severity_mean": total["severity"] / n,
            "churn_rate": total["churned"] / n,
            "escalation_rate": total["escalated"] / n,
            "customers": n.astype(int),
        }
    )
    variance = (total["severity_sq"] - total["severity"] ** 2 / n) / (n - 1)
    out["sd_severity_mean"] = np.sqrt(variance.clip(lower=0)).where(n > 1)
    return out[n > 0]


def spiral_points(results: list) -> pd.DataFrame:  # list[RunResult]
    """Return the curve's points: per failure count and metric, the mean and a 95% interval.

    With several runs (replications) the interval is the Student-t interval of the run
    means; with one run it is the normal interval of that run's customers (a proportion's
    √(p(1−p)/n), a mean's s/√n).
    """
    runs = [_per_run(r.raw.customers.folded().cube()) for r in results]
    rows = []
    for k in sorted(set().union(*(run.index for run in runs))):
        present = [run.loc[k] for run in runs if k in run.index]
        customers = int(sum(p["customers"] for p in present))
        for metric in CURVE_METRICS:
            values = np.array([p[metric] for p in present])
            mean = float(values.mean())
            if len(values) > 1:
                half = (
                    stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
                )
            else:
                n = present[0]["customers"]
                if metric == "severity_mean":
                    sd = present[0]["sd_severity_mean"]
                    spread = 0.0 if np.isnan(sd) else sd
                else:
                    spread = np.sqrt(mean * (1 - mean))
                half = 1.959964 * spread / np.sqrt(n)
            rows.append(
                {
                    "failures": int(k),
                    "label": f"{TOP}+" if k == TOP else str(int(k)),
                    "metric": metric,
                    "mean": mean,
                    "low": mean - half,
                    "high": mean + half,
                    "customers": customers,
                    "runs": len(values),
                }
            )
    return pd.DataFrame(rows)


def spiral_curve(results: list, title: str | None = None):  # noqa: ANN201 - a Figure
    """Draw the spiral curve of one run or of replications (with 95% intervals)."""
    points = spiral_points(results)
    name = results[0].scenario.name
    with house_style():
        fig, axes = new_figure(1, 3, figsize=(15, 4.8))
        for ax, (metric, label) in zip(axes, CURVE_METRICS.items(), strict=True):
            part = points[points["metric"] == metric]
            colour = ACCENT if metric == "escalation_rate" else BAD
            ax.errorbar(
                part["failures"],
                part["mean"],
                yerr=[part["mean"] - part["low"], part["high"] - part["mean"]],
                color=colour,
                ecolor=INK,
                marker="o",
                markersize=8,
                linewidth=2.5,
                capsize=4,
            )
            ax.set_xticks(part["failures"], part["label"])
            ax.set_xlabel("failures suffered")
            ax.set_title(label)
            if metric != "severity_mean":
                ax.set_ylim(0, 1)
        runs = points["runs"].max()
        detail = f"{runs} replications" if runs > 1 else "one run"
        fig.suptitle(title or f"{name}: each failure makes the next one worse ({detail}, 95%)")
        fig.tight_layout()
    return fig
