"""What `spiral explain` prints: the exact answers, the fix-first ranking, step fixes valued.

Works on rows, not DataFrames: the command stays clear of pandas (start-up is most of its time).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from spiral.views.tables import pct, rows_table

if TYPE_CHECKING:
    from spiral.analysis.tipping_point import TippingPoint
    from spiral.engines.expectations import Theory
    from spiral.model.scenario import Scenario


def print_theory(
    exact: Theory,
    ranking: list[dict[str, float | str]],
    factor: float,
    notes: list[str],
    console: Console,
    customer_value: float | None = None,
    currency: str = "",
) -> None:
    """Print the analytic engine's answers and the fix-first ranking (rows, best first).

    ``customer_value``: what a retained customer is worth; the ranking then gives the revenue at
    risk each fix keeps per 1,000 customers, and per point of failure probability removed.
    """
    how = "exact" + (f", {', '.join(notes)}" if notes else "")
    table = Table(title=f"spiral explain: {exact.scenario} ({how}, per customer)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    dist = exact.failures_distribution
    shares = [dist.get(0, 0.0), dist.get(1, 0.0), dist.get(2, 0.0)]
    shares.append(max(1.0 - sum(shares), 0.0))
    rows = [
        ("failures per customer", f"{exact.failures_mean:.4f}"),
        ("customers with 0 / 1 / 2 / 3+ failures", " / ".join(pct(v) for v in shares)),
        ("contacts / repeat contacts", f"{exact.contacts:.4f} / {exact.repeat_contacts:.4f}"),
        ("failures suffered in silence", f"{exact.silent:.4f}"),
        (
            "handoffs warm / cold / ping-pong",
            f"{exact.handoffs_warm:.4f} / {exact.handoffs_cold:.4f} / {exact.ping_pongs:.4f}",
        ),
        (
            "severity mean / p95",
            f"{exact.severity_mean:.3f} / {exact.severity_quantile(0.95):.3f}",
        ),
        ("escalation: social media / CEO", f"{pct(exact.social)} / {pct(exact.ceo)}"),
        ("churn / advocacy", f"{pct(exact.churn_rate)} / {pct(exact.advocate)}"),
        *((f"ends at {name}", pct(p)) for name, p in exact.outcomes.items()),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(_born_table(exact))
    console.print(_ranking_table(exact, ranking, factor, customer_value, currency))
    if exact.truncated > 1e-9:
        console.print(f"probability mass not followed to the end: {exact.truncated:.1e}")


def _born_table(exact: Theory) -> Table:
    """Where complaints are born: each step's share of failures and of first failures."""
    failures = max(sum(exact.failures_by_step.values()), 1e-300)
    born = sum(exact.born.values()) or 1.0
    steps = list(dict.fromkeys([*exact.failures_by_step, *exact.born]))
    rows = [
        (
            step,
            [
                exact.failures_by_step.get(step, math.nan) / failures,
                exact.born.get(step, math.nan) / born,
            ],
        )
        for step in steps
    ]
    # largest share first, a missing share last; ties keep the journey's order
    rows.sort(key=lambda row: math.inf if math.isnan(row[1][0]) else -row[1][0])
    return rows_table(
        "step",
        ["failure_share", "born_share"],
        rows,
        "Where complaints are born (share of failures; of first failures)",
        percent=("failure_share", "born_share"),
    )


def _ranking_table(
    exact: Theory,
    ranking: list[dict[str, float | str]],
    factor: float,
    customer_value: float | None,
    currency: str,
) -> Table:
    """Where to start: each step fixed, its churn, complaint and severity cuts (and money)."""
    columns = [
        "failure",
        "born here",
        "churn cut (points)",
        "churn cut (relative)",
        "complaints cut /1,000",
        "severity cut",
    ]  # failures cut: in --json
    if customer_value is not None:
        columns += [f"revenue kept /1,000 ({currency})", f"per failure point ({currency})"]
    rows = []
    for row in ranking:
        churn_cut, failure = float(row["churn_cut"]), float(row["failure"])
        values: list[object] = [
            failure,
            float(row["born_share"]),
            100 * churn_cut,
            churn_cut / exact.churn_rate if exact.churn_rate else math.nan,
            1000 * float(row["contacts_cut"]),
            float(row["severity_cut"]),
        ]
        if customer_value is not None:
            kept = 1000 * churn_cut * customer_value
            removed = 100 * failure * (1 - factor)  # points of failure probability
            values += [_whole(kept), _whole(kept / removed)]
        rows.append((row["step"], values))
    return rows_table(
        "step",
        columns,
        rows,
        f"Where to start: each step's failure × {factor:g}, largest churn cut first "
        f"(churn now {100 * exact.churn_rate:.1f}%; /1,000: per 1,000 customers; money per "
        "point of failure probability removed)",
        percent=("churn cut (relative)", "born here"),
    )


def print_what_if_values(
    values: list[dict[str, float | str]], unsolved: dict[str, str], currency: str, console: Console
) -> None:
    """Print the scenario's step fixes solved exactly, with money and cost, best net value first."""
    if values:
        table = Table(
            title="The scenario's step fixes, solved exactly (full roll-out from each start, "
            "/1,000: per 1,000 customers; largest net value first)"
        )
        table.add_column("what-if")
        for name in (
            "churn cut (points)",
            "complaints cut /1,000",
            "customers reached",
            f"revenue kept ({currency})",
            f"cost ({currency})",
            f"net value ({currency})",
            "ROI (net ÷ cost)",
        ):
            table.add_column(name, justify="right")
        for row in values:
            roi = float(row["roi"])
            table.add_row(
                str(row["what_if"]),
                f"{100 * float(row['churn_cut']):.2f}",
                f"{1000 * float(row['contacts_cut']):,.1f}",
                f"{float(row['customers']):,.0f}",
                f"{float(row['revenue_kept']):,.0f}",
                f"{float(row['cost']):,.0f}",
                f"{float(row['net_value']):,.0f}",
                "free" if math.isnan(roi) else f"{roi:,.1f}×",
            )
        console.print(table)
    for name, why in unsolved.items():
        console.print(f"{name}: {why}; spiral compare estimates it by simulation", highlight=False)


def _whole(value: float) -> int | float:
    """Return money rounded to a whole unit; NaN (printed n/a) stays."""
    return round(value) if math.isfinite(value) else math.nan


def _rate(value: float | None) -> str:
    return "never" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def print_tipping_points(points: list[TippingPoint], scenario: Scenario, console: Console) -> None:
    """Print each staffed silo's tipping point: where erosion starts, where it runs away."""
    erosion = scenario.loops.erosion
    eroding = erosion.enabled and erosion.model == "standard"
    table = Table(title=f"Tipping points of {scenario.name} (customers per day)")
    for name in ("silo", "staff", "work min", "line", "tips at", "runs away at", "loop gain"):
        table.add_column(name, justify="left" if name == "silo" else "right")
    table.add_column("now", justify="right")
    table.add_column("headroom", justify="right")
    for p in points:
        table.add_row(
            p.silo,
            f"{p.staff:g}",
            "never drains" if not math.isfinite(p.work) else f"{p.work:.2f}",
            f"{p.threshold:g}",
            _rate(p.rate),
            _rate(p.runaway),
            "" if p.gain is None else ("inf" if not math.isfinite(p.gain) else f"{p.gain:.2f}"),
            f"{p.now:,.1f}" + (f" (peak {p.peak:,.1f})" if p.peak > p.now else ""),
            pct(p.headroom) if math.isfinite(p.headroom) else "",
        )
    console.print(table)
    if eroding:
        console.print(
            "tips at: λ* = line × staff / work, where the work pressure at the scenario's "
            "standard reaches the erosion threshold and the standard starts to fall; runs "
            "away at: λ** = line × staff / min S·W(1 − S), beyond which eroding cannot "
            "bring the pressure back (the same as λ* when the loop gain is above 1).",
            highlight=False,
        )
    else:
        console.print(
            "tips at: staff / work, where more work arrives than the staff can do (no "
            "erosion: the line is a pressure of 1).",
            highlight=False,
        )
