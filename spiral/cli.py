"""The `spiral` command line: run, validate, list and describe scenarios."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spiral.errors import ScenarioError
from spiral.loading import (
    DEFAULT_SCENARIO,
    builtin_description,
    builtin_scenarios,
    load_scenario,
    resolve_source,
    with_length,
)
from spiral.scenario import Scenario
from spiral.units import parse_duration, parse_rate

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="spiral: simulate how broken processes compound complaints, escalations and churn.",
)
# Piped output gets room for the tables instead of rich's 80-column default.
out_console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


def fail(lines: list[str]) -> typer.Exit:
    """Print one line per problem to stderr and return the exit for bad input (code 2)."""
    for line in lines:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _load(source: str) -> Scenario:
    try:
        return load_scenario(source)
    except ScenarioError as error:
        raise fail(error.lines()) from None


@app.command("run")
def run_command(
    scenario: Annotated[
        str, typer.Argument(help="Scenario file or built-in name.")
    ] = DEFAULT_SCENARIO,
    seed: Annotated[int | None, typer.Option(help="Root seed (default: the scenario's).")] = None,
    horizon: Annotated[
        str | None, typer.Option(help="Arrive for this long, e.g. '30 days'.")
    ] = None,
    customers: Annotated[int | None, typer.Option(help="Or: simulate this many customers.")] = None,
    rate: Annotated[
        str | None, typer.Option(help="Override the arrival rate, e.g. '500 per day'.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write results to this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    events: Annotated[
        bool, typer.Option(help="Keep the event log (on by default with --out).")
    ] = True,
) -> None:
    """Simulate a scenario and print what the spiral did."""
    from spiral.console import print_run
    from spiral.output import write_run
    from spiral.runner import run

    model = _load(scenario)
    try:
        length = parse_duration(horizon) if horizon is not None else None
        model = with_length(model, horizon=length, customers=customers)
    except ValueError as error:
        raise fail([f"spiral run: {'--horizon' if horizon else '--customers'}: {error}"]) from None
    if rate is not None:
        try:
            arrivals = model.arrivals.model_copy(update={"rate": parse_rate(rate)})
        except ValueError as error:
            raise fail([f"spiral run: --rate: {error}"]) from None
        model = model.model_copy(update={"arrivals": arrivals})
    if seed is not None and seed < 0:
        raise fail([f"spiral run: --seed: expected a non-negative integer, got {seed}"])
    result = run(model, seed=seed, event_log=out is not None and events)
    if as_json:
        out_console.print_json(json.dumps(result.summary))
    else:
        print_run(result, out_console)
    if out is not None:
        command = shlex.join(["spiral", *sys.argv[1:]])
        try:
            written = write_run(result, out, command, str(resolve_source(scenario)))
        except OSError as error:
            raise fail([f"{out}: --out: cannot write results ({error.strerror})"]) from None
        if not as_json:
            out_console.print(f"wrote {len(written)} files to {out}/")


@app.command("validate")
def validate_command(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in name.")],
) -> None:
    """Check a scenario file; print 'ok' or one line per problem (exit code 2)."""
    model = _load(scenario)
    n = len(model.node_names())
    out_console.print(f"{scenario}: ok ({n} nodes, {len(model.silos)} silos)", highlight=False)


@app.command("scenarios")
def scenarios_command() -> None:
    """List the built-in scenarios, one line each."""
    for name, path in builtin_scenarios().items():
        out_console.print(f"{name:<22} {builtin_description(path)}", highlight=False, markup=False)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


def main() -> None:
    """Entry point of the `spiral` command: usage errors become one line and exit code 2."""
    try:
        code = app(standalone_mode=False, prog_name="spiral")
    except typer.Abort:
        err_console.print("interrupted")
        code = 130
    except Exception as error:
        # click's UsageError family (typer vendors click, so match by shape, not class)
        if getattr(error, "exit_code", None) != 2 or not hasattr(error, "format_message"):
            raise
        ctx = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            code = 0
        else:
            where = ctx.command_path if ctx is not None else "spiral"
            code = fail([f"{where}: {error.format_message()}"]).exit_code
    sys.exit(code or 0)
