"""What the room sees, as HTML: the headline table, the side-by-side table, the regimes.

Each Panel pane is its own shadow root, so the page's stylesheet does not reach inside:
``PANE_CSS`` is given to every pane that shows this HTML.
"""

from __future__ import annotations

import html

from spiral.model.errors import safe_text
from spiral.studio.computation import BETTER_HIGHER, HEADLINE, Side, difference
from spiral.views.style import BAD, GOOD, INK

PAGE_CSS = """
body.presenter { zoom: 1.35; }
"""
"""Presenter type scales the whole page (widgets and panes alike) for a projector."""

PANE_CSS = f"""
:host {{ font-size: 18px; color: {INK}; }}
table {{ border-collapse: collapse; font-size: 20px; }}
th, td {{ padding: 6px 14px; text-align: right; border-bottom: 1px solid #ddd; }}
th:first-child, td:first-child {{ text-align: left; }}
td.value {{ font-weight: bold; font-size: 1.3em; }}
.better {{ color: {GOOD}; font-weight: bold; }}
.worse {{ color: {BAD}; font-weight: bold; }}
.regime {{ padding: 10px 16px; margin: 4px 0; border-radius: 6px; font-size: 20px; color: white; }}
.regime.stable {{ background: {GOOD}; }}
.regime.stressed {{ background: #b9770e; }}
.regime.runaway {{ background: {BAD}; }}
.story {{ font-family: monospace; font-size: 15px; white-space: pre-wrap; }}
.clock {{ font-size: 28px; font-weight: bold; }}
.problems {{ background: #fdecea; color: {BAD}; border: 1px solid {BAD}; border-radius: 6px;
  padding: 8px 12px; font-size: 16px; }}
"""
"""Styles inside the panes (each pane is its own shadow root: page CSS does not reach it)."""


def shown(metric: str, value: float, currency: str, signed: bool = False) -> str:
    """Return a headline value as the page shows it: churn in %, money with its currency."""
    sign = "+" if signed else ""
    if metric == "churn_rate":
        return f"{value * 100:{sign}.1f}" + (" points" if signed else "%")
    if metric in ("revenue_at_risk", "net_value"):
        return f"{value:{sign},.0f} {currency}".strip()
    return f"{value:{sign},.0f}"


def interval(metric: str, half_width: float, currency: str) -> str:
    """Return '± half-width' in the metric's units, or a note when one run gives none."""
    if half_width != half_width:  # nan: fewer than two replications
        return "one run: no interval yet"
    return "± " + shown(metric, half_width, currency).replace("%", " points")


def regime_html(sides: list[Side]) -> str:
    """Return a coloured banner per side: its worst regime and the reasons."""
    parts = []
    for side in sides:
        regime, reasons = side.regime()
        why = f": {'; '.join(reasons)}" if reasons else ""
        parts.append(
            f'<div class="regime {regime}">{html.escape(side.label)}: '
            f"<b>{regime}</b>{html.escape(why)}</div>"
        )
    return "".join(parts)


def numbers_html(side: Side) -> str:
    """Return the headline table: each metric's mean and 95% interval over the runs done."""
    currency = side.scenario.money.currency
    rows = []
    for metric, label in HEADLINE:
        estimate = side.estimate(metric)
        rows.append(
            f"<tr><td>{label}</td><td class='value' data-metric='{metric}'>"
            f"{shown(metric, estimate.mean, currency)}</td>"
            f"<td>{interval(metric, estimate.half_width, currency)}</td></tr>"
        )
    n = len(side.results)
    return (
        f"<table><tr><th>{html.escape(side.scenario.name)}</th><th>mean</th>"
        f"<th>95% interval ({n} run{'s' if n > 1 else ''})</th></tr>{''.join(rows)}</table>"
    )


def comparison_html(left: Side, right: Side, seed: int) -> str:
    """Return the side-by-side table: both means and the paired difference, coloured."""
    currency = left.scenario.money.currency
    rows = []
    for metric, label in HEADLINE:
        a, b = left.estimate(metric), right.estimate(metric)
        diff = difference(left, right, metric)
        better = (diff.mean > 0) == (metric in BETTER_HIGHER)
        css = ("better" if better else "worse") if diff.significant() else ""
        rows.append(
            f"<tr><td>{label}</td><td>{shown(metric, a.mean, currency)}</td>"
            f"<td>{shown(metric, b.mean, currency)}</td>"
            f"<td class='diff {css}' data-metric='{metric}'>"
            f"{shown(metric, diff.mean, currency, signed=True)} "
            f"{interval(metric, diff.half_width, currency)}</td></tr>"
        )
    return (
        f"<table><tr><th></th><th>{html.escape(left.label)}</th>"
        f"<th>{html.escape(right.label)}</th><th class='runs'>difference (95%, paired, "
        f"{min(len(left.results), len(right.results))} runs)</th></tr>"
        f"{''.join(rows)}</table><p>Same random numbers on both sides (seeds "
        f"{seed} onward); blue: better, red: worse, shown only where the "
        "interval excludes zero.</p>"
    )


def problems_html(lines: list[str]) -> str:
    """Return problems one line each (names and values from files made safe)."""
    shown_lines = "".join(f"<div>{html.escape(safe_text(line))}</div>" for line in lines)
    return f'<div class="problems">{shown_lines}</div>'


STORY_TITLES = ("A customer who spiralled", "A customer who met a failure and stayed")


def stories_html(told: list[list[str]]) -> list[str]:
    """Return the two stories as titled blocks of lines."""
    return [
        f"<h3>{title}</h3><div class='story'>"
        + "<br>".join(html.escape(line) for line in lines)
        + "</div>"
        for title, lines in zip(STORY_TITLES, told, strict=True)
    ]
