"""`spiral from-log`: a starting scenario fitted to an organisation's event log."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from spiral.cli.common import (
    LimitOption,
    app,
    commit,
    distinct,
    err_console,
    fail,
    limits_from,
    opened,
    out_console,
    writing,
)


@app.command("from-log")
def from_log_command(
    log_file: Annotated[
        Path, typer.Argument(help="An event log: FILE.csv, FILE.parquet or FILE.xes.")
    ],
    out: Annotated[Path, typer.Option(help="The scenario file to write (YAML).")],
    name: Annotated[str | None, typer.Option(help="The scenario's name.")] = None,
    case: Annotated[str, typer.Option(help="The column naming each case.")] = "case:concept:name",
    activity: Annotated[
        str, typer.Option(help="The column naming each event's activity.")
    ] = "concept:name",
    timestamp: Annotated[
        str, typer.Option(help="The column with each event's (completion) time.")
    ] = "time:timestamp",
    start_timestamp: Annotated[
        str | None,
        typer.Option(help="A column with each activity's start time (one row per activity)."),
    ] = None,
    resource: Annotated[
        str | None, typer.Option(help="The column naming who did the work (default org:resource).")
    ] = None,
    limit: LimitOption = None,
) -> None:
    """Build a starting scenario from an event log: routing, failure shares, service times."""
    from spiral.cli.feedback import feedback
    from spiral.io.atomic_output import OutputFile
    from spiral.io.event_log import CASE as CASE_COLUMN
    from spiral.io.from_log import (
        LogColumns,
        fit_log,
        fitted_yaml,
        read_log,
        service_note,
    )
    from spiral.model.errors import ScenarioError, safe_text
    from spiral.model.limits import log_events, suggest

    where = "spiral from-log"
    limits = limits_from(limit, where)
    distinct(where, {"the log": log_file, "--out": out})
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
        target = opened(stack, OutputFile(out, "--out"))
        with feedback(err_console, where) as shown:
            shown.step("reading the log")
            try:
                columns = LogColumns(case, activity, timestamp, start_timestamp, resource)
                log = read_log(log_file, columns)
            except ScenarioError as error:
                raise fail(error.lines()) from None
            shown.step("fitting")
            try:
                default = "".join(c if c.isprintable() else "_" for c in log_file.stem)[:100]
                fit = fit_log(log, name or default or "fitted", str(log_file))
                data = fit.data
            except ScenarioError as error:
                raise fail(error.lines()) from None
            note = service_note(log)
            with writing(out, "--out"):
                target.stage.write_text(fitted_yaml(fit, str(log_file)), encoding="utf-8")
            commit(stack)
    if note:
        err_console.print(f"note: {note}", highlight=False)
    for warning in fit.warnings:
        err_console.print(f"warning: {safe_text(warning)}", highlight=False, markup=False)
    out_console.print(
        f"wrote {safe_text(str(out))}: {len(data['steps'])} steps, {len(data['outcomes'])} "
        f"outcomes, {len(data['silos'])} silos from {log[CASE_COLUMN].nunique()} cases",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
