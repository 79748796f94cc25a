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
from spiral.interventions import Arm
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


ScenarioArgument = Annotated[str, typer.Argument(help="Scenario file or built-in name.")]
SeedOption = Annotated[int | None, typer.Option(help="Root seed (default: the scenario's).")]
HorizonOption = Annotated[str | None, typer.Option(help="Arrive for this long, e.g. '30 days'.")]
PlotOption = Annotated[
    Path | None, typer.Option(help="Draw the pictures into this folder (PNG and SVG).")
]


def fail(lines: list[str]) -> typer.Exit:
    """Print one line per problem to stderr and return the exit for bad input (code 2)."""
    for line in lines:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _draw(draw, folder: Path) -> list[Path]:  # noqa: ANN001 - a function returning paths
    """Draw pictures into a folder; a folder that cannot be written is one line, exit 2."""
    try:
        return draw()
    except OSError as error:
        raise fail([f"{folder}: --plot: cannot write pictures ({error.strerror})"]) from None


def _check_seed(seed: int | None, where: str) -> None:
    """Refuse a negative --seed: one line, exit code 2."""
    if seed is not None and seed < 0:
        raise fail([f"{where}: --seed: expected a non-negative integer, got {seed}"])


def _load_for(source: str, horizon: str | None, where: str) -> Scenario:
    """Load a scenario with --horizon applied; bad input is one line and exit code 2."""
    model = _load(source)
    try:
        length = parse_duration(horizon) if horizon is not None else None
        return with_length(model, horizon=length)
    except ValueError as error:
        raise fail([f"{where}: --horizon: {error}"]) from None


def _load(source: str) -> Scenario:
    try:
        return load_scenario(source)
    except ScenarioError as error:
        raise fail(error.lines()) from None


@app.command("run")
def run_command(
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    seed: SeedOption = None,
    horizon: HorizonOption = None,
    customers: Annotated[int | None, typer.Option(help="Or: simulate this many customers.")] = None,
    rate: Annotated[
        str | None, typer.Option(help="Override the arrival rate, e.g. '500 per day'.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write results to this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    events: Annotated[
        bool, typer.Option(help="Keep the event log (on by default with --out).")
    ] = True,
    what_if: Annotated[
        str | None,
        typer.Option(
            "--what-if", help="Run with a what-if on: NAME, A+B, NAME@10% or a YAML mapping."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="auto (vectorised when staff are unlimited and loops off), des or vectorised."
        ),
    ] = "auto",
    plot: PlotOption = None,
    event_log: Annotated[
        Path | None,
        typer.Option(
            "--event-log", help="Write the process-mining event log: FILE.csv or FILE.xes."
        ),
    ] = None,
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
    _check_seed(seed, "spiral run")
    arm = None
    if what_if is not None:
        model, (arm,) = _arms(model, [what_if])
    from spiral.runner import choose_engine

    if event_log is not None and event_log.suffix.lower() not in (".csv", ".xes"):
        raise fail(
            [
                "spiral run: --event-log: expected a file ending in .csv or .xes, "
                f"got {event_log.name!r}"
            ]
        )
    if event_log is not None and not event_log.absolute().parent.is_dir():
        raise fail([f"{event_log}: --event-log: the folder {event_log.parent} does not exist"])
    # the journey map counts moves from the event log
    log = (out is not None and events) or plot is not None or event_log is not None
    try:
        chosen = choose_engine(model, engine, log, arm is not None and bool(arm.what_ifs))
    except ValueError as error:
        raise fail([f"spiral run: --engine: {error}"]) from None
    result = run(model, seed=seed, event_log=log, what_if=arm, engine=chosen)
    if as_json:
        out_console.print_json(json.dumps(result.summary))
    else:
        print_run(result, out_console)
        if chosen == "vectorised" and engine == "auto":
            out_console.print(
                "engine: vectorised (unlimited staff, no loops: customers never meet); "
                "--engine des for the SimPy engine",
                highlight=False,
            )
    if out is not None:
        command = shlex.join(["spiral", *sys.argv[1:]])
        try:
            written = write_run(result, out, command, str(resolve_source(scenario)))
        except OSError as error:
            raise fail([f"{out}: --out: cannot write results ({error.strerror})"]) from None
        if not as_json:
            out_console.print(f"wrote {len(written)} files to {out}/")
    if event_log is not None:
        from spiral.event_log import process_log, write_log

        try:
            write_log(process_log(result), event_log)
        except OSError as error:
            raise fail([f"{event_log}: --event-log: cannot write ({error})"]) from None
        if not as_json:
            out_console.print(f"wrote the event log to {event_log}", highlight=False)
    if plot is not None:
        from spiral.figures import run_figures

        drawn = _draw(lambda: run_figures(result, plot), plot)
        if not as_json:
            out_console.print(f"drew {len(drawn)} pictures in {plot}/", highlight=False)


def _inline_what_if(text: str, model: Scenario) -> tuple[Scenario, str]:
    """Add a what-if written on the command line as a YAML mapping; return it and its name."""
    import yaml
    from pydantic import ValidationError

    from spiral.interventions import what_if_problems, with_what_ifs
    from spiral.loading import validation_problems
    from spiral.what_if import WhatIf

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise fail(
            [
                f"--what-if: {text}: expected a YAML mapping with a name, e.g. "
                "'{name: half, changes: [{change: fix_step, step: deliver, factor: 0.5}]}'"
            ]
        )
    name = data.pop("name")
    try:
        what_if = WhatIf.model_validate(data)
        model = with_what_ifs(model, {name: what_if})
    except ValidationError as error:
        problems = validation_problems(error, data)
        raise fail([f"--what-if: what_ifs.{name}.{f}: {m}" for f, m in problems]) from None
    except ScenarioError as error:
        raise fail(error.lines()) from None
    problems = what_if_problems(model)
    if problems:
        raise fail([f"--what-if: {f}: {m}" for f, m in problems])
    return model, name


def _arms(model: Scenario, texts: list[str]) -> tuple[Scenario, list[Arm]]:
    """Read --what-if values (names, a+b, name@10%, inline YAML) into arms; exit 2 if bad."""
    from spiral.interventions import parse_arm

    names = []
    for text in texts:
        if text.lstrip().startswith("{"):
            model, text = _inline_what_if(text, model)
        names.append(text)
    try:
        arms = [parse_arm(a, model) for a in names]
    except ScenarioError as error:
        raise fail(error.lines()) from None
    return model, list({arm.label: arm for arm in arms}.values())


@app.command("compare")
def compare_command(
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    what_if: Annotated[
        list[str] | None,
        typer.Option(
            "--what-if",
            help="A what-if of the scenario: NAME, A+B (together), NAME@10% (a pilot), or a "
            "YAML mapping with a name and changes. Repeatable; default: all of them.",
        ),
    ] = None,
    replications: Annotated[
        str, typer.Option(help="Replications per arm, or 'auto' (until the CIs are tight).")
    ] = "10",
    seed: SeedOption = None,
    pilot: Annotated[
        str | None,
        typer.Option(help="Also run each what-if as a pilot for this share, e.g. '10%'."),
    ] = None,
    target: Annotated[
        str, typer.Option(help="With --replications auto: half-width target, share of the mean.")
    ] = "5%",
    max_replications: Annotated[
        int, typer.Option(help="With --replications auto: never more than this.")
    ] = 50,
    crn: Annotated[
        bool, typer.Option(help="Common random numbers: every arm replays the same luck.")
    ] = True,
    horizon: HorizonOption = None,
    jobs: Annotated[
        int, typer.Option(help="Run replications in this many processes (same results).")
    ] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Write compare.csv/.parquet, runs.csv and compare.png.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tidy table as JSON.")] = False,
    plot: PlotOption = None,
) -> None:
    """Compare the baseline with what-ifs over replications, with 95% confidence intervals."""
    from rich.progress import Progress

    from spiral.compare import compare
    from spiral.console import print_comparison
    from spiral.output import write_comparison

    where = "spiral compare"
    model = _load_for(scenario, horizon, where)
    _check_seed(seed, where)
    reps: int | str = replications
    if replications != "auto":
        if not (replications.isascii() and replications.isdecimal()) or int(replications) < 2:
            raise fail(
                [
                    f"{where}: --replications: expected 'auto' or a whole number >= 2, "
                    f"got {replications!r}"
                ]
            )
        reps = int(replications)
    share = _percent(target, f"{where}: --target")
    if share <= 0:
        raise fail([f"{where}: --target: expected a share above 0%, got {target!r}"])
    if jobs < 1:
        raise fail([f"{where}: --jobs: expected at least 1, got {jobs}"])
    if max_replications < 2:
        raise fail([f"{where}: --max-replications: expected at least 2, got {max_replications}"])
    model, parsed = _arms(model, what_if or list(model.what_ifs))
    if not parsed:
        raise fail(
            [
                f"{scenario}: what_ifs: none declared; expected what-ifs in the file "
                "or --what-if '{name: ..., changes: [...]}'"
            ]
        )
    if pilot is not None:
        pilot_share = _percent(pilot, f"{where}: --pilot")
        from spiral.interventions import staff_changes

        def pilotable(arm: Arm) -> bool:
            return "@" not in arm.label and not any(
                staff_changes(w, model) for _, w in arm.what_ifs
            )

        skipped = [a.label for a in parsed if "@" not in a.label and not pilotable(a)]
        if skipped:
            err_console.print(
                f"--pilot: no pilot of {', '.join(skipped)} (staff changes reach everyone)",
                highlight=False,
            )
        pilots = [f"{a.label}@{100 * pilot_share:g}%" for a in parsed if pilotable(a)]
        model, more = _arms(model, pilots)
        parsed += [a for a in more if a.label not in {p.label for p in parsed}]
    with Progress(console=err_console, transient=True, disable=as_json) as bar:
        task = bar.add_task("replications", total=None)
        result = compare(
            model,
            parsed,
            replications=reps,
            seed=seed,
            crn=crn,
            target=share,
            max_replications=max_replications,
            jobs=jobs,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print(result.table.to_json(orient="records", indent=2))
    else:
        print_comparison(result, model, out_console)
    if out is not None:
        command = shlex.join(["spiral", *sys.argv[1:]])
        try:
            written = write_comparison(result, model, out, command, str(resolve_source(scenario)))
        except OSError as error:
            raise fail([f"{out}: --out: cannot write results ({error.strerror})"]) from None
        if not as_json:
            out_console.print(f"wrote {len(written)} files to {out}/")
    if plot is not None:
        from spiral.figures import comparison_figures

        currency = model.money.currency
        drawn = _draw(lambda: comparison_figures(result, plot, currency, model.name), plot)
        if not as_json:
            out_console.print(f"drew {len(drawn)} pictures in {plot}/", highlight=False)


def _percent(text: str, where: str) -> float:
    """Read '10%' or '0.1' as a share in [0, 1]; bad input exits with one line."""
    try:
        value = float(text[:-1]) / 100 if text.strip().endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise fail([f"{where}: expected a share like '10%' (0% to 100%), got {text!r}"])
    return value


@app.command("explain")
def explain_command(
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    unlimited: Annotated[
        bool,
        typer.Option(help="Treat every silo's staff as unlimited (no queues): an approximation."),
    ] = False,
    loops_off: Annotated[
        bool, typer.Option("--without-loops", help="Switch the system loops off.")
    ] = False,
    factor: Annotated[
        float, typer.Option(help="Rank steps by fixing each to failure × this.")
    ] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
) -> None:
    """Exact answers without simulating, and which step to fix first (unlimited staff, no loops)."""
    from spiral.analytic import EXPLAIN_TOLERANCE, NoClosedForm, explain
    from spiral.console import print_theory

    model = _load(scenario)
    if not 0 < factor < 1:
        raise fail([f"spiral explain: --factor: expected a number between 0 and 1, got {factor}"])
    try:
        # one solve gives the numbers and every fix; what it leaves is printed as truncated
        exact, ranking = explain(model, factor, unlimited, loops_off, tolerance=EXPLAIN_TOLERANCE)
    except NoClosedForm as error:
        raise fail([f"{scenario}: {field}: {why}" for field, why in error.reasons]) from None
    if as_json:
        payload = {
            **exact.summary(),
            "visits": exact.visits,
            "outcomes": exact.outcomes,
            "born": exact.born,
            "failures_distribution": {str(k): v for k, v in exact.failures_distribution.items()},
            "fix_ranking": ranking.reset_index().to_dict(orient="records"),
        }
        print(json.dumps(payload, indent=2))
        return
    notes = [n for n, on in (("unlimited staff", unlimited), ("loops off", loops_off)) if on]
    print_theory(exact, ranking, factor, notes, out_console)


@app.command("validate")
def validate_command(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario file or built-in name to check.")
    ] = None,
    theory: Annotated[
        bool, typer.Option("--theory", help="Run the simulation-against-theory report instead.")
    ] = False,
    quick: Annotated[bool, typer.Option(help="With --theory: fewer, smaller runs.")] = False,
    markdown: Annotated[
        bool, typer.Option(help="With --theory: print Markdown (docs/validation.md).")
    ] = False,
) -> None:
    """Check a scenario file ('ok' or one line per problem, exit 2), or validate against theory."""
    if theory:
        _theory_report(quick, markdown)
        return
    if scenario is None:
        raise fail(["spiral validate: expected a scenario file or built-in name, or --theory"])
    model = _load(scenario)
    n = len(model.node_names())
    out_console.print(f"{scenario}: ok ({n} nodes, {len(model.silos)} silos)", highlight=False)


def _theory_report(quick: bool, as_markdown: bool) -> None:
    """Print the validation report; exit 1 if more than 3% of exact values fall outside."""
    from rich.markup import escape
    from rich.table import Table

    from spiral.validation import markdown, validation_report

    with err_console.status("simulating against theory…"):
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
                escape(row.case),
                escape(row.quantity),
                f"{row.exact:.6g}",
                f"{row.simulated:.6g}",
                f"{row.low:.6g} … {row.high:.6g}",
                "pass" if row.inside else "[bold red]outside[/]",
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


# the other commands register themselves on app when imported
from spiral import cli_show, cli_sweep  # noqa: E402, F401, I001
