"""The commands that show the spiral: `spiral trace`, `spiral animate`, `spiral report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spiral.cli import (
    DEFAULT_SCENARIO,
    HorizonOption,
    LimitOption,
    ScenarioArgument,
    SeedOption,
    _check_seed,
    _commit,
    _guard,
    _limits,
    _load_for,
    _opened,
    _writing,
    app,
    err_console,
    fail,
    out_console,
)
from spiral.event_log import CASE as CASE_COLUMN
from spiral.loading import resolve_source

STYLES = (("FAILED", "bold red"), ("⚠", "bold red"), ("COLD", "dark_orange"), ("warm", "blue"))


def _logged_run(  # noqa: ANN202 - a RunResult
    scenario: str, seed: int | None, horizon: str | None, where: str, limit: list[str] | None
):
    """Run a scenario with its event log (the SimPy engine); bad options are one line, exit 2."""
    from spiral.runner import run

    _check_seed(seed, where)
    limits = _limits(limit, where)
    model = _load_for(scenario, horizon, where)
    _guard(model, limits, str(resolve_source(scenario)))
    return model, lambda shown: run(model, seed=seed, event_log=True, progress=shown.update)


@app.command("trace")
def trace_command(
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    customer: Annotated[int | None, typer.Option(help="Tell this customer's journey.")] = None,
    worst: Annotated[bool, typer.Option("--worst", help="Tell the worst-hit customer.")] = False,
    spiral: Annotated[
        bool, typer.Option("--spiral", help="Tell a customer who suffered 3+ failures.")
    ] = False,
    seed: SeedOption = None,
    horizon: HorizonOption = None,
    limit: LimitOption = None,
) -> None:
    """Tell one customer's journey as a story: where it broke, who had the baton, what it cost."""
    from rich.text import Text

    from spiral.feedback import feedback
    from spiral.trace import NoSuchCustomer, pick_customer, story

    where = "spiral trace"
    if sum([customer is not None, worst, spiral]) > 1:
        raise fail([f"{where}: --customer/--worst/--spiral: expected at most one of them"])
    _, simulate = _logged_run(scenario, seed, horizon, where, limit)
    with feedback(err_console, where) as shown:
        shown.step("simulating")
        result = simulate(shown)
    try:
        chosen = pick_customer(result, customer, worst, spiral)
    except NoSuchCustomer as error:
        option = "--customer" if customer is not None else "--spiral" if spiral else "--horizon"
        raise fail([f"{where}: {option}: {error}"]) from None
    for line in story(result, chosen):
        style = next((s for word, s in STYLES if word in line), "")
        out_console.print(Text(line, style=style), soft_wrap=True)


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="The HTML file to write, e.g. report.html.")],
    source: Annotated[
        str, typer.Argument(help="Scenario file or built-in name, or a sweep's folder.")
    ] = DEFAULT_SCENARIO,
    what_if: Annotated[
        list[str] | None,
        typer.Option("--what-if", help="Compare these what-ifs too (repeat the option)."),
    ] = None,
    sweep: Annotated[
        Path | None, typer.Option(help="Add this sweep folder's report (spiral sweep --out).")
    ] = None,
    replications: Annotated[int, typer.Option(help="Replications per what-if arm.")] = 3,
    seed: SeedOption = None,
    horizon: HorizonOption = None,
    limit: LimitOption = None,
) -> None:
    """Write one self-contained HTML report: the run, its pictures, what-ifs and a sweep."""
    import json
    from contextlib import ExitStack

    from spiral.atomic_output import OutputFile
    from spiral.cli import _arms
    from spiral.feedback import feedback
    from spiral.report import run_report
    from spiral.runner import run
    from spiral.sensitivity import sweep_report
    from spiral.sweep_store import MANIFEST

    where = "spiral report"
    limits = _limits(limit, where)
    if replications < 2:
        raise fail([f"{where}: --replications: expected at least 2, got {replications}"])
    _check_seed(seed, where)
    folder = Path(source)
    if folder.is_dir():
        if not (folder / MANIFEST).exists():
            raise fail([f"{folder}: {MANIFEST}: not found; expected a scenario or a sweep folder"])
        sweep = folder
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            source = manifest["scenario"]
            horizon = horizon or manifest["spec"].get("horizon")
        except (OSError, ValueError, KeyError, AttributeError):
            raise fail(
                [f"{folder / MANIFEST}: file: unreadable; expected a sweep manifest"]
            ) from None
    if sweep is not None and not (sweep / MANIFEST).exists():
        raise fail([f"{sweep}: {MANIFEST}: not found; expected a folder written by spiral sweep"])
    summary = None
    if sweep is not None:  # read the sweep before simulating: a bad folder fails fast
        from spiral.sensitivity import NoRuns

        try:
            summary = sweep_report(sweep)
        except NoRuns as error:
            raise fail([str(error)]) from None
    model = _load_for(source, horizon, where)
    _guard(model, limits, str(resolve_source(source)))
    stack = ExitStack()
    with stack:
        page = _opened(stack, OutputFile(out, "--out"))
        with feedback(err_console, where) as shown:
            comparison = None
            if what_if:
                from spiral.compare import compare

                model, arms = _arms(model, what_if)
                shown.step("comparing what-ifs")
                comparison = compare(
                    model,
                    arms,
                    replications=replications,
                    seed=seed,
                    progress=lambda done, total: shown.update(done / total),
                )
            shown.step("simulating")
            result = run(model, seed=seed, event_log=True, progress=shown.update)
            shown.step("drawing")
            report = run_report(result, comparison, summary)
            with _writing(out, "--out"):
                page.stage.write_text(report.html(), encoding="utf-8")
            _commit(stack)
    size = out.stat().st_size / 1024
    out_console.print(f"wrote {out} ({size:,.0f} KB, self-contained)", highlight=False)


@app.command("animate")
def animate_command(
    out: Annotated[Path, typer.Option(help="The clip to write: run.gif, or run.mp4 (ffmpeg).")],
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    seconds: Annotated[float, typer.Option(help="Length of the clip.")] = 30.0,
    fps: Annotated[int, typer.Option(help="Frames per second.")] = 10,
    seed: SeedOption = None,
    horizon: HorizonOption = None,
    limit: LimitOption = None,
) -> None:
    """Animate a run: customers as dots over the journey map, complaints reddening the nodes."""
    from contextlib import ExitStack

    from spiral.animation import animate, can_write
    from spiral.atomic_output import OutputFile
    from spiral.feedback import feedback

    where = "spiral animate"
    problem = can_write(out, fps)
    if problem:
        raise fail([f"{where}: --out: {problem}"])
    if not 0 < seconds <= 600:
        raise fail([f"{where}: --seconds: expected more than 0 and at most 600, got {seconds:g}"])
    if not 1 <= fps <= 60:
        raise fail([f"{where}: --fps: expected 1 to 60, got {fps}"])
    _, simulate = _logged_run(scenario, seed, horizon, where, limit)
    stack = ExitStack()
    with stack:
        clip = _opened(stack, OutputFile(out, "--out"))
        with feedback(err_console, where) as shown:
            shown.step("simulating")
            result = simulate(shown)
            shown.step("drawing frames")
            try:
                animate(result, clip.stage, seconds, fps)
            except OSError as error:
                raise fail([f"{out}: --out: cannot write the clip ({error.strerror})"]) from None
            _commit(stack)
    size = out.stat().st_size / 2**20
    out_console.print(
        f"wrote {out}: {round(seconds * fps)} frames, {seconds:g} s, {size:.1f} MB", highlight=False
    )


@app.command("from-log")
def from_log_command(
    log_file: Annotated[Path, typer.Argument(help="An event log: FILE.csv or FILE.xes.")],
    out: Annotated[Path, typer.Option(help="The scenario file to write (YAML).")],
    name: Annotated[str | None, typer.Option(help="The scenario's name.")] = None,
    limit: LimitOption = None,
) -> None:
    """Build a starting scenario from an event log: routing, failure shares, service times."""
    from contextlib import ExitStack

    from spiral.atomic_output import OutputFile
    from spiral.errors import ScenarioError, safe_text
    from spiral.feedback import feedback
    from spiral.from_log import fitted_yaml, read_log, scenario_from_log, service_note
    from spiral.limits import log_events, suggest

    where = "spiral from-log"
    limits = _limits(limit, where)
    try:
        events = log_events(log_file)
    except OSError as error:
        raise fail([f"{log_file}: file: cannot be read ({error.strerror})"]) from None
    if events > limits.log_events:
        raise fail(
            [
                f"{log_file}: file: about {events:,} events, above the limit of "
                f"{limits.log_events:,.0f}; expected a smaller log, or raise the limit with "
                f"--limit log_events={suggest(events)}"
            ]
        )
    stack = ExitStack()
    with stack:
        target = _opened(stack, OutputFile(out, "--out"))
        with feedback(err_console, where) as shown:
            shown.step("reading the log")
            try:
                log = read_log(log_file)
            except ScenarioError as error:
                raise fail(error.lines()) from None
            shown.step("fitting")
            try:
                default = "".join(c if c.isprintable() else "_" for c in log_file.stem)[:100]
                data = scenario_from_log(log, name or default or "fitted", str(log_file))
            except ScenarioError as error:
                raise fail(error.lines()) from None
            note = service_note(log)
            with _writing(out, "--out"):
                target.stage.write_text(fitted_yaml(data, str(log_file)), encoding="utf-8")
            _commit(stack)
    if note:
        err_console.print(f"note: {note}", highlight=False)
    out_console.print(
        f"wrote {safe_text(str(out))}: {len(data['steps'])} steps, {len(data['outcomes'])} "
        f"outcomes, {len(data['silos'])} silos from {log[CASE_COLUMN].nunique()} cases",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
