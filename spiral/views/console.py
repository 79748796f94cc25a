"""Rendering results for the terminal with rich tables (only the CLI prints).

Names come from users' files: print with a console whose markup is off (the CLI's are),
so a name such as ``x[/]`` is shown as written; styles are given as ``Text`` objects.
"""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from spiral.analysis.compare import KEY_METRICS, Comparison, segment_metrics
from spiral.analysis.results import RunResult
from spiral.model.scenario import Scenario
from spiral.model.what_if_arms import BASELINE
from spiral.views.tables import money, pct, rows_table


def headline_table(result: RunResult) -> Table:
    """Return the run's key metrics as a two-column table."""
    s = result.summary
    cur = result.scenario.money.currency
    name = s["scenario"] if s["what_if"] == "baseline" else f"{s['scenario']} + {s['what_if']}"
    table = Table(title=f"spiral run: {name} (seed {s['seed']}, engine {s['engine']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    dist = s["failures_distribution"]
    rows = [
        ("customers measured (after warm-up)", f"{s['customers']:,}"),
        ("completed / still in journey", f"{s['completed']:,} / {s['in_progress']:,}"),
        ("failures per customer", f"{s['failures_per_customer']:.3f}"),
        (
            "customers with 0 / 1 / 2 / 3+ failures",
            " / ".join(pct(dist[k]) for k in ("0", "1", "2", "3+")),
        ),
        (
            "customers who failed: complained / silent",
            f"{s['complainants']:,} / {s['silent_sufferers']:,}",
        ),
        (
            "churn: no failure / complained / silent",
            " / ".join(pct(v) for v in s["churn_by_voice"].values()),
        ),
        ("contacts per customer", f"{s['contacts_per_customer']:.3f}"),
        ("failure-demand share of contacts", pct(s["failure_demand_share"])),
        ("repeat contacts / abandoned waits", f"{s['repeat_contacts']:,} / {s['abandons']:,}"),
        (
            "severity mean / p95 / max",
            f"{s['severity_mean']:.2f} / {s['severity_p95']:.2f} / {s['severity_max']:.1f}",
        ),
        (
            "escalations: social media / CEO",
            f"{s['escalations_social']:,} / {s['escalations_ceo']:,}",
        ),
        ("social reach (people)", f"{s['social_reach']:,.0f}"),
        ("churn rate", pct(s["churn_rate"])),
        ("retention / advocacy", f"{pct(s['retention_rate'])} / {pct(s['advocacy_rate'])}"),
        (
            "praise-to-complaint ratio",
            "n/a" if s["praise_to_complaint"] is None else f"{s['praise_to_complaint']:.2f}",
        ),
        (
            "handoffs warm / cold / ping-pong",
            f"{s['handoffs_warm']:,} / {s['handoffs_cold']:,} / {s['ping_pongs']:,}",
        ),
        ("effort per customer (points)", f"{s['effort_mean']:.2f}"),
        ("time in journey (mean)", f"{s['time_in_journey_mean_h']:.2f} h"),
        (
            "revenue / at risk (churned)",
            f"{money(s['revenue'], cur)} / {money(s['revenue_at_risk'], cur)}",
        ),
        (
            "cost to serve / per customer",
            f"{money(s['cost_to_serve'], cur)} / {cur} {s['cost_per_customer']:,.2f}",
        ),
        ("net value", money(s["net_value"], cur)),
    ]
    if s["what_if"] != "baseline":
        rows.insert(-1, ("what-if cost (in net value)", money(s["intervention_cost"], cur)))
    for name, value in rows:
        table.add_row(name, value)
    return table


def frame_table(frame: pd.DataFrame, title: str, percent: tuple[str, ...] = ()) -> Table:
    """Return a DataFrame (index included) as a rich table."""
    columns = [frame[name].tolist() for name in frame.columns]
    rows = ((index, [column[i] for column in columns]) for i, index in enumerate(frame.index))
    return rows_table(frame.index.name or "", list(frame.columns), rows, title, percent)


def segment_table(frame: pd.DataFrame) -> Table:
    """Return the by-segment table: who churns, who suffers in silence, what is at risk."""
    columns = ["customers", "failed_share", "silent_sufferers", "churn_rate"]
    shown = frame[[*columns, "silent_share_of_churn", "social"]].assign(
        revenue_risk=frame["revenue_at_risk"]
    )
    return frame_table(
        shown.rename(columns={"failed_share": "failed", "silent_share_of_churn": "silent_churn"}),
        "Customer segments",
        percent=("failed", "churn_rate", "silent_churn"),
    )


def print_run(result: RunResult, console: Console) -> None:
    """Print the headline metrics, the spiral, where complaints are born, and the silos."""
    console.print(headline_table(result))
    console.print(
        frame_table(
            result.spiral[
                [
                    "customers",
                    "severity_mean",
                    "severity_p95",
                    "churn_rate",
                    "social_rate",
                    "ceo_rate",
                    "effort_mean",
                ]
            ].rename(
                columns={
                    "severity_mean": "severity",
                    "severity_p95": "sev_p95",
                    "churn_rate": "churn",
                    "social_rate": "social",
                    "ceo_rate": "ceo",
                    "effort_mean": "effort",
                }
            ),
            "The spiral: by failures suffered",
            percent=("churn", "social", "ceo"),
        )
    )
    born = result.by_failure_step[
        [
            "customers",
            "churned",
            "churn_rate",
            "share_of_all_churn",
            "revenue_at_risk",
            "escalations",
        ]
    ].rename(columns={"share_of_all_churn": "churn_share", "revenue_at_risk": "revenue_risk"})
    born.index.name = "first failure"
    console.print(
        frame_table(
            born,
            "Where complaints are born (first failure step)",
            percent=("churn_rate", "churn_share"),
        )
    )
    if result.scenario.segments:
        console.print(segment_table(result.by_segment))
    silos = result.silos[["staff", "utilisation", "mean_wait_min", "served", "staff_cost"]].rename(
        columns={"mean_wait_min": "wait_min"}
    )
    console.print(frame_table(silos, "Silos", percent=("utilisation",)))
    summary = result.summary
    colour = {"stable": "green", "stressed": "yellow", "runaway": "bold red"}[summary["regime"]]
    loops = ", ".join(summary["loops_active"]) or "none"
    console.print(
        Text.assemble("regime: ", (summary["regime"], colour), f"   loops active: {loops}")
    )
    for reason in summary["regime_reasons"]:
        console.print(f"  - {reason}", highlight=False)
    if summary.get("early_warning"):
        console.print(
            Text.assemble(("early warning: ", "bold yellow"), summary["early_warning"]),
            highlight=False,
        )
        doubled = summary.get("failure_doubled_day")
        if doubled is not None:
            console.print(f"  a step failed at twice its base rate from day {doubled:g}")
    unfinished = result.summary["in_progress"]
    if unfinished:
        drain_days = result.scenario.drain / 1440
        console.print(
            Text.assemble(
                ("warning:", "bold red"),
                f" {unfinished:,} measured customers were still in the journey when the drain "
                f"time ({drain_days:g} days after arrivals stopped) ran out: a queue is not "
                "keeping up (see the silos) or journeys loop for a long time.",
            )
        )


METRIC_LABELS = {
    "churn_rate": "churn rate",
    "complaints": "complaints (customers)",
    "escalations": "escalations",
    "severity_p95": "severity p95",
    "cost": "cost",
    "revenue": "revenue",
    "net_value": "net value",
    "roi": "ROI",
}


def metric_text(metric: str, value: float, currency: str, signed: bool = False) -> str:
    """Format one metric's value (or difference) in its unit, compactly."""
    if pd.isna(value):
        return "—"
    metric = metric.split("[")[0]  # a segment's metric is formatted as the metric
    sign = "+" if signed else ""
    if metric == "roi":  # a multiple of the cost, as on the charts
        return f"{value:{sign},.1f}×"
    if metric == "churn_rate":
        return f"{100 * value:{sign}.2f}%"
    if metric in ("cost", "revenue", "net_value"):
        return f"{value / 1000:{sign},.1f}k"
    if metric == "severity_p95":
        return f"{value:{sign}.2f}"
    return f"{value:{sign},.0f}"


def _plus_minus(metric: str, value: float, half_width: float, currency: str, signed: bool) -> str:
    if pd.isna(value):
        return "—"
    centre = metric_text(metric, value, currency, signed)
    if pd.isna(half_width):
        return centre
    return f"{centre} ± {metric_text(metric, half_width, currency)}"


def comparison_table(comparison: Comparison, currency: str) -> Table:
    """Return the key metrics per arm: mean ± 95% half-width, and the paired difference."""
    how = "paired, common random numbers" if comparison.crn else "independent seeds, Welch"
    table = Table(
        title=f"spiral compare: {comparison.replications} replications per arm, "
        "mean ± 95% half-width",
        caption=f"Δ = what-if − baseline ({how}); n.s. = its interval contains 0; "
        f"money in thousands of {currency}; "
        "ROI = net value gained ÷ (what-if cost + added staff cost), a multiple (×)",
    )
    for name, justify in (
        ("metric", "left"),
        ("arm", "left"),
        ("mean", "right"),
        ("Δ vs baseline", "right"),
        ("", "left"),
    ):
        table.add_column(name, justify=justify)
    frame = comparison.table.set_index(["metric", "arm"])
    arms = list(dict.fromkeys(comparison.table["arm"]))
    by_segment = [m for m in segment_metrics(comparison.table["metric"].unique()) if "churn" in m]
    for metric in (*KEY_METRICS, *by_segment):
        for k, arm in enumerate(arms):
            row = frame.loc[(metric, arm)]
            mean = _plus_minus(metric, row["mean"], row["half_width"], currency, False)
            if pd.isna(row["diff"]):
                diff = verdict = ""
            else:
                half = (row["diff_high"] - row["diff_low"]) / 2
                diff = _plus_minus(metric, row["diff"], half, currency, True)
                verdict = Text("significant") if row["significant"] else Text("n.s.", "dim")
            kind, _, segment = metric.rstrip("]").partition("[")
            label = f"{METRIC_LABELS[kind]}, {segment}" if segment else METRIC_LABELS[kind]
            table.add_row(
                label if k == 0 else "",
                arm,
                mean,
                diff,
                verdict,
                end_section=k == len(arms) - 1,
            )
    return table


def ranking_table(comparison: Comparison, currency: str) -> Table:
    """Return the what-ifs ranked by net value gained, with cost, ROI and regime."""
    from spiral.analysis.decision import money, ranking

    table = Table(
        title="What to fund first: ranked by net value gained over the baseline",
        caption="95% intervals; ROI = gain ÷ cost (×); n.s. = not distinguishable from zero",
    )
    for name in ("rank", "what-if", "net value gained", "95% CI", "cost", "ROI", "regime"):
        table.add_column(name, justify="left" if name in ("what-if", "regime") else "right")
    for row in ranking(comparison).itertuples(index=False):
        interval = f"{money(row.gain_low, '')}..{money(row.gain_high, '')}"
        roi = _plus_minus("roi", row.roi, (row.roi_high - row.roi_low) / 2, currency, False)
        table.add_row(
            str(row.rank),
            row.arm,
            money(row.gain, currency),
            interval if row.significant else Text(f"{interval} n.s.", "dim"),
            money(row.cost, currency, signed=False),
            roi,
            Text(row.regime, "bold red" if row.regime != "stable" else ""),
        )
    return table


def print_comparison(comparison: Comparison, scenario: Scenario, console: Console) -> None:
    """Print regime warnings, the table, the ranking, the recommendation and the choices."""
    from spiral.analysis.decision import arm_regimes, recommendation, regime_warnings

    for line in regime_warnings(comparison):
        console.print(Text(line, "bold red"))
    currency = scenario.money.currency
    console.print(comparison_table(comparison, currency))
    baseline = arm_regimes(comparison).set_index("arm").loc[BASELINE]
    console.print(
        f"baseline regime: {baseline['regime']} (of {baseline['replications']} replications: "
        f"{baseline['stable']} stable, {baseline['stressed']} stressed, "
        f"{baseline['runaway']} runaway)",
        highlight=False,
    )
    console.print(ranking_table(comparison, currency))
    console.print(Text("Recommendation: " + recommendation(comparison, currency), "bold"))
    effects = comparison.effects.set_index("arm")
    if len(effects):
        effects.index.name = "what-if"
        console.print(
            frame_table(
                effects.rename(
                    columns={
                        "start_day": "starts (day)",
                        "complaints_avoided_per_day": "complaints avoided/day",
                        "days_to_half_full_effect": "days to half the full effect",
                    }
                ),
                "Time to effect (n/a: never within the run)",
            )
        )
    from spiral.analysis.pilot import pilot_question

    pilots = pilot_question(comparison, scenario)
    if len(pilots):
        table = Table(
            title="Pilot or go big: the days a pilot needs before its effect shows",
            caption="churn effect: the full roll-out's, in points; detected at 95% confidence "
            "with 80% power, pilot customers against the rest; forgone: net value the others "
            "go without while the pilot runs",
        )
        for name in (
            "pilot",
            "churn effect",
            "pilot customers",
            "days",
            "full roll-out: days to half effect",
            "value forgone",
        ):
            table.add_column(name, justify="left" if name == "pilot" else "right")
        for row in pilots.itertuples(index=False):
            table.add_row(
                row.pilot,
                f"{row.churn_effect:+.2f} points",
                "never" if math.isinf(row.customers) else f"{row.customers:,.0f}",
                "never" if math.isinf(row.days) else f"{row.days:,.0f}",
                "n/a"
                if pd.isna(row.full_days_to_half_effect)
                else f"{row.full_days_to_half_effect:g}",
                "—"
                if pd.isna(row.value_forgone) or math.isinf(row.value_forgone)
                else f"{row.value_forgone:,.0f} {scenario.money.currency}",
            )
        console.print(table)
    for note in comparison.notes:
        console.print(note, highlight=False)
    console.print(
        f"warm-up {comparison.warmup / 1440:g} days; seeds "
        + ("shared by every arm" if comparison.crn else "independent per arm"),
        highlight=False,
    )
