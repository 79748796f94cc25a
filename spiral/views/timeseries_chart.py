"""A run over time: demand, staff, utilisation, backlog, failures and churn, with the verdict."""

from __future__ import annotations

import textwrap

from spiral.views.style import ACCENT, BAD, GOOD, INK, NEUTRAL, house_style, new_figure

VERDICT_COLOURS = {"stable": GOOD, "stressed": ACCENT, "runaway": BAD}

MIN_FINISHED = 20
WIDTH = 110  # characters of a reason in the title, so the figure keeps its width
PANELS = ("demand", "staff", "utilisation", "backlog", "failure", "reputation", "churn")
"""The chart's panels, top to bottom (reputation only while its loop is on)."""

LABELS = {
    "demand": "demand: customers arriving, per period",
    "staff": "staff on duty, per silo (mean over the period)",
    "utilisation": "utilisation, per silo: busy / on duty (above 1: jobs run past a shift's end);"
    " dashed: standard time per job (1 = as designed)",
    "backlog": "customers waiting, per silo",
    "failure": "failure probability, per step",
    "reputation": "reputation (1 = as at the start)",
    "churn": f"churned / finished, per period (from {MIN_FINISHED} finishers)",
}


ALWAYS = ("demand", "backlog", "churn")
"""Panels drawn even when flat; the others only when something in them moves."""


def panels_of(result) -> tuple[str, ...]:  # noqa: ANN001 - a RunResult
    """Return the panels drawn: reputation only while its loop is on; flat panels left out.

    Staff that never changes (no roster, no dated change) and failure probabilities that no
    loop moves are constant lines that say nothing; the axis label names what was left out.
    """
    on = result.scenario.loops.reputation.enabled
    series = panel_series(result)
    kept = []
    for panel in PANELS:
        if panel == "reputation" and not on:
            continue
        if panel not in ALWAYS and all(_flat(v) for v in series[panel].values()):
            continue
        kept.append(panel)
    return tuple(kept)


def _flat(values: list[float]) -> bool:
    finite = [v for v in values if v == v]
    return not finite or max(finite) - min(finite) < 1e-9


def _per_silo(ts, prefix: str) -> dict[str, list[float]]:  # noqa: ANN001 - a DataFrame
    return {c.removeprefix(prefix): ts[c].tolist() for c in ts if c.startswith(prefix)}


def panel_series(result) -> dict[str, dict[str, list[float]]]:  # noqa: ANN001 - a RunResult
    """Return per panel the series drawn (label -> values per period)."""
    ts = result.timeseries
    steps = [s for s in result.scenario.steps if f"failure_{s}" in ts]
    # a rate over a handful of stragglers (the drain) is noise: drawn only from 20 finishers
    done = ts["completions"].where(ts["completions"] >= MIN_FINISHED)
    utilisation = _per_silo(ts, "utilisation_")
    standard = {  # only where it moved: a flat line at 1 says nothing
        f"{silo} standard": v for silo, v in _per_silo(ts, "standard_").items() if min(v) < 1
    }
    return {
        "demand": {"arrivals": ts["arrivals"].tolist()},
        "staff": _per_silo(ts, "staff_"),
        "utilisation": {**utilisation, **standard},
        "backlog": _per_silo(ts, "backlog_"),
        "failure": {s: ts[f"failure_{s}"].tolist() for s in steps},
        "reputation": {"reputation": ts["reputation"].tolist()},
        "churn": {"churn rate": (ts["churned"] / done).tolist()},
    }


def timeseries_chart(result, title: str | None = None):  # noqa: ANN001, ANN201 - RunResult, Figure
    """Draw a run's time series, the warm-up shaded, the early warning marked, the verdict above."""
    ts = result.timeseries
    days = (ts["start"] / 1440.0).tolist()
    series = panel_series(result)
    panels = panels_of(result)
    summary = result.summary
    verdict = summary.get("regime", "")
    reasons = summary.get("regime_reasons") or []
    warned = summary.get("early_warning_day")
    with house_style():
        fig, axes = new_figure(
            len(panels), 1, figsize=(14, 2.3 * len(panels) + 1), sharex=True, squeeze=False
        )
        axes = axes[:, 0]
        warm = ts.loc[ts["warmup"], "start"]
        arrivals_end = result.raw.arrivals_end / 1440.0
        end = max(result.raw.end / 1440.0, arrivals_end)
        for ax, panel in zip(axes, panels, strict=True):
            colours: dict[str, str] = {}
            for label, values in series[panel].items():
                colour = BAD if panel == "churn" else GOOD if panel == "reputation" else None
                if label.endswith(" standard"):  # the same colour as its silo's utilisation
                    colour = colours.get(label.removesuffix(" standard"))
                style = "--" if label.endswith(" standard") else "-"
                (line,) = ax.plot(days, values, style, label=label, linewidth=2.2, color=colour)
                colours[label] = line.get_color()
            if len(warm):
                ax.axvspan(
                    0,
                    (warm.max() + result.scenario.period) / 1440.0,
                    color=NEUTRAL,
                    alpha=0.15,
                    linewidth=0,
                )
            if warned is not None:
                ax.axvline(warned, color=ACCENT, linewidth=1.6, linestyle=":")
            if end > arrivals_end:  # the drain: no new customers, the last ones finishing
                ax.axvspan(
                    arrivals_end,
                    end,
                    facecolor="none",
                    edgecolor=NEUTRAL,
                    hatch="//",
                    linewidth=0,
                    alpha=0.5,
                )
            ax.set_xlim(0, end)
            ax.set_title(LABELS[panel], loc="left", fontsize=12)
            if len(series[panel]) > 1:  # beside the panel, never over its lines
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
            if panel in ("demand", "staff"):
                ax.set_ylim(bottom=0)
        note = f"; dotted: early warning, day {warned:g}" if warned is not None else ""
        if end > arrivals_end:
            note += f"; hatched: drain after arrivals stop on day {arrivals_end:g}"
        left_out = [p for p in PANELS if p not in panels and p != "reputation"]
        if left_out:
            note += f"; not drawn, flat: {', '.join(left_out)}"
        axes[-1].set_xlabel(f"day (grey: warm-up, not measured{note})")
        head = title or f"{result.scenario.name} over time"
        why = "".join("\n" + textwrap.shorten(r, WIDTH, placeholder="...") for r in reasons[:3])
        fig.suptitle(f"{head}: {verdict}{why}", color=VERDICT_COLOURS.get(verdict, INK))
        fig.tight_layout()
    return fig
