"""`spiral validate`, `spiral scenarios`, `spiral schema`: check, list and describe scenarios."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from spiral.cli.common import (
    LimitOption,
    app,
    err_console,
    fail,
    limits_from,
    load,
    out_console,
)


@app.command("validate")
def validate_command(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario file or built-in name to check.")
    ] = None,
    theory: Annotated[
        bool, typer.Option("--theory", help="Run the simulation-against-theory report instead.")
    ] = False,
    evidence: Annotated[
        bool,
        typer.Option("--evidence", help="Compare every built-in with published figures instead."),
    ] = False,
    quick: Annotated[bool, typer.Option(help="With --theory: fewer, smaller runs.")] = False,
    markdown: Annotated[
        bool,
        typer.Option(
            help="With --theory or --evidence: print Markdown (docs/validation.md, "
            "docs/evidence_check.md)."
        ),
    ] = False,
    limit: LimitOption = None,
) -> None:
    """Check a scenario file ('ok' or one line per problem, exit 2), or validate against theory.

    A file that would run past a size guard (customers, visits per customer, loop ticks,
    periods, memory) is refused as a run of it would be.
    """
    from spiral.model.errors import safe_text
    from spiral.model.limits import run_problems
    from spiral.model.loading import resolve_source

    if theory and evidence:
        raise fail(["spiral validate: --theory/--evidence: expected one of them"])
    if theory:
        _theory_report(quick, markdown)
        return
    if evidence:
        _evidence_report(markdown)
        return
    if scenario is None:
        raise fail(["spiral validate: expected a scenario file or built-in name, or --theory"])
    limits = limits_from(limit, "spiral validate")
    model = load(scenario)
    source = str(resolve_source(scenario))
    problems = run_problems(model, limits)
    if problems:
        raise fail([f"{source}: {field}: {why}" for field, why in problems])
    n = len(model.node_names())
    out_console.print(
        f"{safe_text(scenario)}: ok ({n} nodes, {len(model.silos)} silos)",
        highlight=False,
        markup=False,
    )


def _theory_report(quick: bool, as_markdown: bool) -> None:
    """Print the validation report; exit 1 if more than 3% of exact values fall outside."""
    from rich.table import Table
    from rich.text import Text

    from spiral.analysis.theory_check import markdown, validation_report
    from spiral.cli.feedback import feedback

    with feedback(err_console, "spiral validate --theory") as shown:
        shown.step("simulating against theory")
        report = validation_report(quick=quick)
    if as_markdown:
        print(markdown(report), end="")
    else:
        table = Table(
            title="spiral validate --theory: exact value vs simulated mean (99% interval)"
        )
        for name in ("case", "quantity", "exact", "simulated", "99% interval", ""):
            table.add_column(name, justify="left" if name in ("case", "quantity", "") else "right")
        for row in report.itertuples():
            table.add_row(
                row.case,
                row.quantity,
                f"{row.exact:.6g}",
                f"{row.simulated:.6g}",
                f"{row.low:.6g} … {row.high:.6g}",
                Text("pass") if row.inside else Text("outside", "bold red"),
            )
        out_console.print(table)
        passed = int(report["inside"].sum())
        out_console.print(
            f"{passed} of {len(report)} exact values inside their 99% interval "
            "(about 1 in 100 is expected outside by chance)"
        )
    if (~report["inside"]).mean() > 0.03:
        raise typer.Exit(code=1)


@app.command("scenarios")
def scenarios_command() -> None:
    """List the built-in scenarios, one line each."""
    from spiral.model.loading import builtin_description, builtin_scenarios

    for name, path in builtin_scenarios().items():
        out_console.print(f"{name:<22} {builtin_description(path)}", highlight=False, markup=False)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from spiral.model.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


def _evidence_report(as_markdown: bool) -> None:
    """Print each built-in against the published figures (docs/evidence_check.md)."""
    from rich.table import Table
    from rich.text import Text

    from spiral.analysis.evidence_check import BENCHMARKS, evidence_table, markdown
    from spiral.cli.feedback import feedback

    with feedback(err_console, "spiral validate --evidence") as shown:
        shown.step("running the built-in scenarios")
        table = evidence_table()
    if as_markdown:
        print(markdown(table), end="")
        return
    percent = {b.key: b.percent for b in BENCHMARKS}
    shown_table = Table(title="spiral validate --evidence: built-ins against published figures")
    for name in ("scenario", "benchmark", "published", "spiral", "verdict"):
        shown_table.add_column(name, justify="right" if name == "spiral" else "left")
    styles = {"inside": "", "explained": "dark_orange", "outside": "bold red", "n/a": "dim"}
    for row in table.itertuples():
        fmt = "{:.1%}" if percent[row.benchmark] else "{:.2f}"
        value = "—" if row.spiral != row.spiral else fmt.format(row.spiral)
        shown_table.add_row(
            row.scenario,
            row.label,
            f"{fmt.format(row.low)} – {fmt.format(row.high)}",
            value,
            Text(row.verdict + (f": {row.note}" if row.note else ""), styles[row.verdict]),
        )
    out_console.print(shown_table)
