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
    percent,
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
    resource_groups: Annotated[
        Path | None,
        typer.Option(help="A CSV of resource, group: each person's team (the teams are silos)."),
    ] = None,
    routing: Annotated[
        str,
        typer.Option(
            help="Routing memory: first (the current activity decides), second (it and the "
            "one before), third (and the one before that), or auto (whichever predicts the "
            "log's latest cases best)."
        ),
    ] = "auto",
    holdout: Annotated[
        str | None,
        typer.Option(
            help="Hold out this share of the cases (e.g. 30%): fit the rest, simulate, and "
            "compare; writes OUT's name .holdout.csv and .holdout.png beside it."
        ),
    ] = None,
    holdout_split: Annotated[
        str,
        typer.Option(help="Which cases are held out: time (the latest) or random."),
    ] = "time",
    limit: LimitOption = None,
) -> None:
    """Fit a scenario to an event log: routing and case ends, durations, arrivals, silos."""
    from spiral.cli.feedback import feedback
    from spiral.io.atomic_output import OutputFile
    from spiral.io.event_log import CASE as CASE_COLUMN
    from spiral.io.from_log import (
        LogColumns,
        fit_log,
        fitted_yaml,
        read_groups,
        read_log,
        service_note,
    )
    from spiral.model.errors import ScenarioError, safe_text
    from spiral.model.limits import log_events, suggest
    from spiral.views.holdout_chart import holdout_chart

    where = "spiral from-log"
    limits = limits_from(limit, where)
    share = _share(holdout, where)
    memory = {"first": 1, "second": 2, "third": 3, "auto": "auto"}.get(routing)
    if memory is None:
        raise fail([f"{where}: --routing: expected first, second, third or auto, got {routing!r}"])
    if holdout_split not in ("time", "random"):
        raise fail([f"{where}: --holdout-split: expected time or random, got {holdout_split!r}"])
    report_csv = out.with_name(out.stem + ".holdout.csv")
    report_png = out.with_name(out.stem + ".holdout.png")
    places = {"the log": log_file, "--out": out}
    if share is not None:
        places.update({"the holdout table": report_csv, "the holdout picture": report_png})
    distinct(where, places)
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
                groups = read_groups(resource_groups) if resource_groups else None
            except ScenarioError as error:
                raise fail(error.lines()) from None
            shown.step("fitting")
            try:
                default = "".join(c if c.isprintable() else "_" for c in log_file.stem)[:100]
                fit = fit_log(log, name or default or "fitted", str(log_file), memory, groups)
                data = fit.data
            except ScenarioError as error:
                raise fail(error.lines()) from None
            note = service_note(log)
            with writing(out, "--out"):
                target.stage.write_text(fitted_yaml(fit, str(log_file)), encoding="utf-8")
            report = None
            if share is not None:
                shown.step("fitting the earlier cases and simulating the rest")
                report = _holdout(
                    stack, log, share, holdout_split, fit, log_file, report_csv, memory, groups
                )
                with writing(report_png, "--holdout"):
                    picture = opened(stack, OutputFile(report_png, "--holdout"))
                    figure = holdout_chart(report, fit.data["name"])
                    figure.savefig(picture.stage, dpi=110)
            commit(stack)
    if note:
        err_console.print(f"note: {note}", highlight=False)
    for warning in fit.warnings:
        err_console.print(f"warning: {safe_text(warning)}", highlight=False, markup=False)
    if report is not None:
        out_console.print(holdout_table(report))
        out_console.print(
            f"wrote {safe_text(str(report_csv))} and {safe_text(str(report_png))}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    out_console.print(
        f"wrote {safe_text(str(out))}: {len(data['steps'])} steps, {len(data['outcomes'])} "
        f"outcomes, {len(data['silos'])} silos from {log[CASE_COLUMN].nunique()} cases",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _share(holdout: str | None, where: str) -> float | None:
    """Return --holdout as a share of the cases (0 < share < 1); a bad value exits 2."""
    if holdout is None:
        return None
    share = percent(holdout, f"{where}: --holdout")
    if not 0.0 < share < 1.0:
        raise fail([f"{where}: --holdout: expected a share between 0% and 100%, got {holdout!r}"])
    return share


def _holdout(stack, log, share, split, fit, log_file, report_csv, memory, groups):  # noqa: ANN001, ANN202
    """Compare a fit of the earlier cases with the held-out ones; write the table (CSV)."""
    from spiral.io.atomic_output import OutputFile
    from spiral.io.discovery.holdout import holdout_report
    from spiral.model.errors import ScenarioError

    try:
        report = holdout_report(
            log, share, fit.data["name"], str(log_file), split, 1, memory, groups
        )
    except ScenarioError as error:
        raise fail(error.lines()) from None
    table = opened(stack, OutputFile(report_csv, "--holdout"))
    with writing(report_csv, "--holdout"):
        report.table.to_csv(table.stage, index=False)
    return report


def holdout_table(report):  # noqa: ANN001, ANN201 - a HoldoutReport, a rich Table
    """Return the held-out comparison as a rich table."""
    from rich.table import Table

    table = Table(
        title=f"Held out: {report.held_cases:,} cases against a simulation of a fit to "
        f"{report.fitted_cases:,}",
        caption="distance 0: the same (shares: total variation; times and rates: relative); "
        "noise floor: 99% of what a perfect model would show with this many cases",
    )
    for name in ("measure", "simulated", "noise floor", "between periods", ""):
        table.add_column(name, justify="left" if name in ("measure", "") else "right")
    for row in report.table.itertuples():
        table.add_row(
            row.measure,
            f"{row.simulated:.3f}",
            f"{row.noise_floor:.3f}",
            f"{row.between_periods:.3f}",
            "within" if row.within else "beyond",
        )
    return table
