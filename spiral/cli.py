"""The `spiral` command line: run, validate, list and describe scenarios."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from spiral.limits import Limits

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
    from spiral.errors import safe_text

    for line in lines:
        # names and values come from users' files: no control character reaches the terminal
        err_console.print(safe_text(line), markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


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


LimitOption = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        metavar="NAME=VALUE",
        help="Raise a size guard on purpose, e.g. customers=5e7 or memory=16GB "
        "(customers, visits, work, ticks, periods, runs, log_events, memory); repeatable.",
    ),
]


def _limits(texts: list[str] | None, where: str) -> Limits:
    """Return the default limits with the --limit overrides; a bad one is one line, exit 2."""
    from spiral.limits import Limits

    try:
        return Limits().with_overrides(texts)
    except ValueError as error:
        raise fail([f"{where}: --limit: {error}"]) from None


def _guard(
    model: Scenario,
    limits: Limits,
    source: str,
    options: dict[str, str] | None = None,
    parallel: int = 1,
    where: str = "spiral",
) -> None:
    """Refuse a run past a size guard (one line per guard, exit 2); note a large one.

    ``options``: fields set on the command line (``customers`` -> ``--customers``), named
    as the option the user typed, after ``where`` (the command).
    """
    from spiral.limits import run_problems, run_size, size

    problems = run_problems(model, limits, parallel)
    if problems:
        options = options or {}
        raise fail(
            [
                f"{where if field in options else source}: {options.get(field, field)}: {why}"
                for field, why in problems
            ]
        )
    memory = run_size(model).memory * parallel
    if memory > 2**30:
        err_console.print(
            f"note: this needs about {size(memory)} of memory", highlight=False, soft_wrap=True
        )


def _opened(stack: ExitStack, output: object) -> object:
    """Open an output (check and lock its place) inside ``stack``; bad places exit 2."""
    try:
        return stack.enter_context(output)  # type: ignore[arg-type]
    except ScenarioError as error:
        raise fail(error.lines()) from None


def _commit(stack: ExitStack) -> None:
    """Put every output in place; a place that cannot take it is one line, exit 2."""
    try:
        stack.close()
    except ScenarioError as error:
        raise fail(error.lines()) from None


@contextmanager
def _writing(place: Path | None, option: str) -> Iterator[None]:
    """Turn a failed write (a full disk, say) into one line and exit 2; nothing is kept."""
    try:
        yield
    except OSError as error:
        raise fail(
            [f"{place}: {option}: cannot write results ({error.strerror or error})"]
        ) from None


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


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
        bool,
        typer.Option(
            "--events/--no-events", help="With --out: also write events.csv (one row per event)."
        ),
    ] = False,
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
    limit: LimitOption = None,
) -> None:
    """Simulate a scenario and print what the spiral did."""
    from spiral.atomic_output import OutputFile, OutputFolder
    from spiral.console import print_run
    from spiral.feedback import feedback
    from spiral.output import RUN_NAMES, spiral_wrote, strict_json, write_run
    from spiral.runner import choose_engine, run

    where = "spiral run"
    limits = _limits(limit, where)
    model = _load(scenario)
    try:
        length = parse_duration(horizon) if horizon is not None else None
        model = with_length(model, horizon=length, customers=customers)
    except ValueError as error:
        raise fail([f"{where}: {'--horizon' if horizon else '--customers'}: {error}"]) from None
    if rate is not None:
        try:
            arrivals = model.arrivals.model_copy(update={"rate": parse_rate(rate)})
        except ValueError as error:
            raise fail([f"{where}: --rate: {error}"]) from None
        model = model.model_copy(update={"arrivals": arrivals})
    _check_seed(seed, where)
    arm = None
    if what_if is not None:
        model, (arm,) = _arms(model, [what_if])
    if event_log is not None and event_log.suffix.lower() not in (".csv", ".xes"):
        raise fail(
            [
                f"{where}: --event-log: expected a file ending in .csv or .xes, "
                f"got {event_log.name!r}"
            ]
        )
    if events and out is None:
        raise fail([f"{where}: --events: expected --out DIR to write events.csv into"])
    # the journey map counts moves from the event log
    log = events or plot is not None or event_log is not None
    try:
        chosen = choose_engine(model, engine, log, arm is not None and bool(arm.what_ifs))
    except ValueError as error:
        raise fail([f"{where}: --engine: {error}"]) from None
    options = {"customers": "--customers"} if customers is not None else {}
    if horizon is not None:
        options["horizon"] = "--horizon"
    _guard(model, limits, str(resolve_source(scenario)), options, where=where)
    stack = ExitStack()
    with stack:
        folder = None
        if out is not None:
            known = spiral_wrote(out, "manifest.json", RUN_NAMES)
            folder = _opened(stack, OutputFolder(out, "--out", known))
        if plot is not None:
            plots = (
                folder.place(plot)
                if _inside(plot, out)
                else _opened(stack, OutputFolder(plot, "--plot", whole=False)).stage
            )
        if event_log is not None:
            log_path = (
                folder.place(event_log)
                if _inside(event_log, out)
                else _opened(stack, OutputFile(event_log, "--event-log")).stage
            )
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("simulating")
            result = run(
                model, seed=seed, event_log=log, what_if=arm, engine=chosen, progress=shown.update
            )
            shown.step("computing the metrics")
            summary = result.summary
        if as_json:
            print(strict_json(summary))
        else:
            print_run(result, out_console)
            if chosen == "vectorised" and engine == "auto":
                out_console.print(
                    "engine: vectorised (unlimited staff, no loops: customers never meet); "
                    "--engine des for the SimPy engine",
                    highlight=False,
                )
        with feedback(err_console, where, enabled=not as_json) as shown:
            with _writing(event_log, "--event-log"):
                if event_log is not None:
                    from spiral.event_log import write_run_log

                    shown.step("writing the event log")
                    write_run_log(result, log_path)
            with _writing(plot, "--plot"):
                if plot is not None:
                    from spiral.figures import run_figures

                    shown.step("drawing")
                    plots.mkdir(parents=True, exist_ok=True)
                    drawn = run_figures(result, plots)
            with _writing(out, "--out"):
                if folder is not None:
                    shown.step("writing results")
                    command = shlex.join(["spiral", *sys.argv[1:]])
                    written = write_run(
                        result, folder.stage, command, str(resolve_source(scenario)), events=events
                    )
            shown.step("saving")
            _commit(stack)
    if not as_json:
        if out is not None:
            out_console.print(f"wrote {len(written)} files to {out}/", highlight=False)
        if event_log is not None:
            out_console.print(f"wrote the event log to {event_log}", highlight=False)
        if plot is not None:
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
    limit: LimitOption = None,
) -> None:
    """Compare the baseline with what-ifs over replications, with 95% confidence intervals."""
    from spiral.compare import compare
    from spiral.console import print_comparison
    from spiral.feedback import feedback
    from spiral.output import write_comparison

    where = "spiral compare"
    limits = _limits(limit, where)
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
    from spiral.atomic_output import OutputFolder
    from spiral.output import COMPARE_NAMES, spiral_wrote, strict_json
    from spiral.workers import WorkersFailed

    runs = (reps if isinstance(reps, int) else max_replications) * len(parsed) + len(parsed)
    _guard(model, limits, str(resolve_source(scenario)), parallel=min(jobs, runs))
    stack = ExitStack()
    with stack:
        folder = None
        if out is not None:
            known = spiral_wrote(out, "compare_manifest.json", COMPARE_NAMES)
            folder = _opened(stack, OutputFolder(out, "--out", known))
        if plot is not None:
            plots = (
                folder.place(plot)
                if _inside(plot, out)
                else _opened(stack, OutputFolder(plot, "--plot", whole=False)).stage
            )
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("replications")

            def progress(done: int, total: int) -> None:
                shown.step(f"replications {done} of {total}", done / total)

            try:
                result = compare(
                    model,
                    parsed,
                    replications=reps,
                    seed=seed,
                    crn=crn,
                    target=share,
                    max_replications=max_replications,
                    jobs=jobs,
                    progress=progress,
                )
            except WorkersFailed as error:
                err_console.print(f"{where}: --jobs: {error}", highlight=False, soft_wrap=True)
                raise typer.Exit(code=1) from None
        if as_json:
            print(strict_json(result.table.to_dict(orient="records")))
        else:
            print_comparison(result, model, out_console)
        with feedback(err_console, where, enabled=not as_json) as shown:
            with _writing(out, "--out"):
                if folder is not None:
                    shown.step("writing results")
                    command = shlex.join(["spiral", *sys.argv[1:]])
                    written = write_comparison(
                        result, model, folder.stage, command, str(resolve_source(scenario))
                    )
            with _writing(plot, "--plot"):
                if plot is not None:
                    from spiral.figures import comparison_figures

                    shown.step("drawing")
                    plots.mkdir(parents=True, exist_ok=True)
                    drawn = comparison_figures(result, plots, model.money.currency, model.name)
            shown.step("saving")
            _commit(stack)
    if not as_json:
        if out is not None:
            out_console.print(f"wrote {len(written)} files to {out}/", highlight=False)
        if plot is not None:
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
    limit: LimitOption = None,
) -> None:
    """Exact answers without simulating, and which step to fix first (unlimited staff, no loops)."""
    from spiral.analytic import EXPLAIN_TOLERANCE, NoClosedForm, explain
    from spiral.console import print_theory
    from spiral.limits import journey_problems
    from spiral.output import strict_json

    where = "spiral explain"
    limits = _limits(limit, where)
    model = _load(scenario)
    if not 0 < factor < 1:
        raise fail([f"{where}: --factor: expected a number between 0 and 1, got {factor}"])
    source = scenario  # as typed: a built-in's name, or a file
    # a journey customers can hardly leave would keep the chain's mass travelling for ever
    problems = journey_problems(model, limits)
    if problems:
        raise fail([f"{source}: {field}: {why}" for field, why in problems])
    from spiral.feedback import feedback

    try:
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("solving the journey's chain")
            # one solve gives the numbers and every fix; what it leaves is printed as truncated
            exact, ranking = explain(
                model, factor, unlimited, loops_off, tolerance=EXPLAIN_TOLERANCE
            )
    except NoClosedForm as error:
        raise fail([f"{source}: {field}: {why}" for field, why in error.reasons]) from None
    if as_json:
        payload = {
            **exact.summary(),
            "visits": exact.visits,
            "outcomes": exact.outcomes,
            "born": exact.born,
            "failures_distribution": {str(k): v for k, v in exact.failures_distribution.items()},
            "fix_ranking": ranking.reset_index().to_dict(orient="records"),
        }
        print(strict_json(payload))
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
    limit: LimitOption = None,
) -> None:
    """Check a scenario file ('ok' or one line per problem, exit 2), or validate against theory.

    A file that would run past a size guard (customers, visits per customer, loop ticks,
    periods, memory) is refused as a run of it would be.
    """
    from spiral.errors import safe_text
    from spiral.limits import run_problems

    if theory:
        _theory_report(quick, markdown)
        return
    if scenario is None:
        raise fail(["spiral validate: expected a scenario file or built-in name, or --theory"])
    limits = _limits(limit, "spiral validate")
    model = _load(scenario)
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
    from rich.markup import escape
    from rich.table import Table

    from spiral.feedback import feedback
    from spiral.validation import markdown, validation_report

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
    """Entry point of the `spiral` command: usage errors become one line and exit code 2.

    Ctrl-C and SIGTERM stop the command the same way: workers are ended, outputs being
    written are dropped (earlier results stay as they were), and one line says so.
    """
    from spiral.workers import Interrupted, signals_interrupt

    try:
        with signals_interrupt():
            code = app(standalone_mode=False, prog_name="spiral")
    except Interrupted as error:
        err_console.print(
            f"interrupted ({error}): nothing written; results already there are left as they were",
            highlight=False,
        )
        code = error.exit_code
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
