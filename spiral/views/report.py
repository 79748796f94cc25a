"""One self-contained HTML report: a run, and what-ifs or a sweep when given.

Images are embedded as base64 PNG and the styles are inline, so the file opens anywhere
with no network and can be mailed as it is.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from spiral.analysis.compare import KEY_METRICS
from spiral.model.scenario import Scenario
from spiral.views.style import INK

if TYPE_CHECKING:
    from spiral.sweeps.sensitivity import SweepReport

CSS = f"""
body {{ font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: {INK};
       max-width: 1180px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }}
h1 {{ font-size: 2em; margin-bottom: 0.1em; }}
h2 {{ margin-top: 2em; border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }}
.meta {{ color: #666; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.95em; }}
th, td {{ border-bottom: 1px solid #e3e3e3; padding: 0.3em 0.8em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ margin: 1.2em 0; }}
figure img {{ max-width: 100%; height: auto; border: 1px solid #eee; }}
figcaption {{ color: #555; font-size: 0.95em; }}
.verdict-stable {{ color: #2471a3; }} .verdict-stressed {{ color: #e67e22; }}
.verdict-runaway {{ color: #c0392b; }}
.warning {{ color: #c0392b; font-weight: bold; }}
"""

HEADLINES = (
    ("customers", "customers", "{:,.0f}"),
    ("churn_rate", "churn rate", "{:.1%}"),
    ("failures_per_customer", "failures per customer", "{:.3f}"),
    ("customers_with_failure", "customers with a failure", "{:,.0f}"),
    ("complainants", "of them complained", "{:,.0f}"),
    ("silent_sufferers", "of them suffered in silence", "{:,.0f}"),
    ("severity_mean", "mean severity", "{:.2f}"),
    ("severity_p95", "severity p95", "{:.2f}"),
    ("escalations_social", "social-media escalations", "{:,.0f}"),
    ("escalations_ceo", "CEO escalations", "{:,.0f}"),
    ("failure_demand_share", "failure demand share of contacts", "{:.1%}"),
    ("handoffs_cold", "cold handoffs", "{:,.0f}"),
    ("revenue", "revenue", "{:,.0f}"),
    ("cost_to_serve", "cost to serve", "{:,.0f}"),
    ("net_value", "net value", "{:,.0f}"),
)
"""The metrics table: summary key, label, format."""


def png(fig) -> str:  # noqa: ANN001 - a matplotlib Figure
    """Return a figure as a base64 PNG data URI; the figure is closed."""
    from spiral.views.style import png_bytes

    return "data:image/png;base64," + base64.b64encode(png_bytes(fig)).decode("ascii")


@dataclass
class Report:
    """Sections of HTML, built in order and written as one page."""

    title: str
    meta: str
    sections: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Start a section."""
        self.sections.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, css: str = "") -> None:
        """Add a paragraph of plain text."""
        attribute = f' class="{css}"' if css else ""
        self.sections.append(f"<p{attribute}>{html.escape(text)}</p>")

    def figure(self, fig, caption: str) -> None:  # noqa: ANN001 - a Figure
        """Add a picture, embedded."""
        self.sections.append(
            f'<figure><img src="{png(fig)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def table(self, frame: pd.DataFrame, index: bool = False) -> None:
        """Add a table."""
        self.sections.append(frame.to_html(index=index, border=0, escape=True, na_rep=""))

    def html(self) -> str:
        """Return the whole page."""
        body = "\n".join(self.sections)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head><body>"
            f'<h1>{html.escape(self.title)}</h1><p class="meta">{html.escape(self.meta)}</p>'
            f"{body}</body></html>\n"
        )


def headline_table(summary: dict, currency: str) -> pd.DataFrame:
    """Return the run's headline metrics as a two-column table."""
    rows = []
    for key, label, fmt in HEADLINES:
        if key in summary:
            money = key in ("revenue", "cost_to_serve", "net_value")
            rows.append(
                {
                    "metric": label + (f" ({currency})" if money else ""),
                    "value": fmt.format(summary[key]),
                }
            )
    return pd.DataFrame(rows)


def run_report(result, comparison=None, sweep=None) -> Report:  # noqa: ANN001
    """Build the report of a run, with a comparison and a sweep report when given."""
    from spiral.views.comparison_charts import comparison_bars, comparison_differences
    from spiral.views.journey_map import journey_map
    from spiral.views.spiral_curve import spiral_curve
    from spiral.views.timeseries_chart import timeseries_chart

    scenario = result.scenario
    summary = result.summary
    currency = scenario.money.currency
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = Report(
        f"{scenario.name}: the customer-journey spiral",
        f"seed {result.seed} · {summary['customers']:,} customers · engine "
        f"{summary['engine']} · written {stamp} by spiral",
    )
    report.heading("The scenario")
    report.paragraph(scenario.description or scenario.name)
    steps = pd.DataFrame(
        [
            {"step": name, "silo": step.silo, "failure probability": step.failure}
            for name, step in scenario.steps.items()
        ]
    )
    report.table(steps)
    report.heading("What the run shows")
    verdict = summary.get("regime", "")
    reasons = "; ".join(summary.get("regime_reasons") or []) or "no warning signs"
    report.paragraph(f"Regime: {verdict} ({reasons}).", css=f"verdict-{verdict}")
    if summary.get("early_warning"):
        doubled = summary.get("failure_doubled_day")
        then = f" A step failed at twice its base rate from day {doubled:g}." if doubled else ""
        report.paragraph(f"Early warning: {summary['early_warning']}.{then}")
    report.table(headline_table(summary, currency))
    if scenario.segments:
        report.paragraph(
            "By customer segment: churn, silent suffering (failed, never got in touch) and "
            f"revenue at risk ({currency})."
        )
        report.table(result.by_segment.round(4), index=True)
    report.figure(
        spiral_curve([result]),
        "The spiral curve: severity, churn and escalation by the number of failures suffered.",
    )
    report.figure(
        journey_map(result),
        "The journey map: where complaints are born, how customers flow, which handoffs go cold.",
    )
    report.figure(
        timeseries_chart(result),
        "The run over time: demand, staff on duty, utilisation, backlog, failures and churn, "
        "with the regime verdict and the early warning.",
    )
    if comparison is not None:
        report.heading("What-ifs")
        report.figure(
            comparison_bars(comparison, currency, scenario.name),
            "Each arm's headline metrics with 95% intervals.",
        )
        report.figure(
            comparison_differences(comparison, currency),
            "What-if minus baseline: paired differences with 95% intervals.",
        )
        from spiral.analysis.decision import recommendation, regime_warnings
        from spiral.views.console import metric_text

        for warning in regime_warnings(comparison):
            report.paragraph(warning, css="warning")
        report.paragraph("Recommendation: " + recommendation(comparison, currency))
        table = comparison.table
        shown = table[(table["arm"] != "baseline") & table["metric"].isin(KEY_METRICS)]
        rows = []
        for row in shown.itertuples(index=False):
            half = (row.diff_high - row.diff_low) / 2
            rows.append(
                {
                    "what-if": row.arm,
                    "metric": row.metric.replace("_", " "),
                    "mean": metric_text(row.metric, row.mean, currency),
                    "Δ vs baseline (95%)": (
                        ""
                        if pd.isna(row.diff)
                        else f"{metric_text(row.metric, row.diff, currency, True)} ± "
                        f"{metric_text(row.metric, half, currency)}"
                    ),
                    "distinguishable from zero": (
                        "" if pd.isna(row.diff) else ("yes" if row.significant else "no")
                    ),
                }
            )
        report.table(pd.DataFrame(rows))
        report.paragraph(
            f"Money in thousands of {currency}; churn in %; ROI = net value gained ÷ cost (×)."
        )
    if sweep is not None:
        _sweep_section(report, sweep)
    return report


def _sweep_section(report: Report, sweep) -> None:  # noqa: ANN001 - a SweepReport
    from spiral.sweeps.sensitivity import RANKED_BY, default_heatmap
    from spiral.views.sweep_charts import heatmap_chart, tornado_chart

    spec = sweep.spec
    report.heading("Parameter sweep")
    report.paragraph(
        f"{sweep.manifest['sweep']}: {len(sweep.runs)} runs over {len(sweep.points)} design "
        f"points ({spec.design.kind}), {spec.replications} replication(s) each."
    )
    if len(sweep.indices):
        report.figure(tornado_chart(sweep), "What drives each metric.")
        by = RANKED_BY[spec.design.kind]
        chosen = sweep.indices[sweep.indices["index"] == by]
        report.table(
            chosen.pivot(index="parameter", columns="metric", values="value").round(3), index=True
        )
    pair = default_heatmap(sweep)
    if pair is not None:
        report.figure(
            heatmap_chart(sweep, *pair, spec.metrics[0]),
            f"Mean {spec.metrics[0]} over the two parameters that drive it most.",
        )
    for note in sweep.notes:
        report.paragraph(f"Note: {note}")


def report_html(
    scenario: Scenario,
    what_ifs: Sequence[object] = (),
    sweep: SweepReport | None = None,
    replications: int = 3,
    seed: int | None = None,
    progress: Callable[[str, float | None], None] | None = None,
) -> str:
    """Return the HTML of a scenario's report: what-ifs compared, and a sweep's summary.

    ``what_ifs``: names, ``'a+b'``, ``'name@10%'`` or arms; ``progress(phase, share)`` is
    called as the work goes (the command shows it).
    """
    from spiral.analysis.compare import compare
    from spiral.analysis.results import run

    def step(phase: str, share: float | None = None) -> None:
        if progress is not None:
            progress(phase, share)

    comparison = None
    if what_ifs:
        step("comparing what-ifs")
        comparison = compare(
            scenario,
            list(what_ifs),
            replications=replications,
            seed=seed,
            progress=lambda done, total: step("comparing what-ifs", done / total),
        )
    step("simulating")
    result = run(
        scenario,
        seed=seed,
        event_log=True,
        progress=lambda share: step("simulating", share),
        customers=False,
    )
    step("drawing")
    return run_report(result, comparison, sweep).html()


def report(
    scenario: Scenario | str | Path,
    out: str | Path,
    *,
    what_ifs: Sequence[str] = (),
    sweep: str | Path | None = None,
    replications: int = 3,
    seed: int | None = None,
) -> Path:
    """Write one self-contained HTML report of a scenario (what-ifs and a sweep when given).

    ``scenario``: a validated scenario, a file or a built-in name; ``sweep``: a folder
    written by ``spiral.sweep`` (read first: a bad folder fails before any simulation).
    The file is written whole (see ``OutputFile``).
    """
    from spiral.io.atomic_output import OutputFile
    from spiral.model.loading import load_scenario
    from spiral.sweeps.sensitivity import sweep_report

    model = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    summary = sweep_report(Path(sweep)) if sweep is not None else None
    with OutputFile(Path(out)) as page:
        html_text = report_html(model, what_ifs, summary, replications, seed)
        page.stage.write_text(html_text, encoding="utf-8")
    return Path(out)
