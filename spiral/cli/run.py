"""`spiral run`: simulate a scenario once and print what the spiral did."""

from __future__ import annotations

import shlex
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from spiral.cli.common import (
    HorizonOption,
    LimitOption,
    PlotOption,
    ScenarioArgument,
    SeedOption,
    WhatIfOption,
    XlsxOption,
    app,
    arms_from,
    check_seed,
    check_xlsx,
    commit,
    distinct,
    err_console,
    fail,
    guard,
    inside,
    limits_from,
    load,
    opened,
    out_console,
    results_places,
    spreadsheet,
    writing,
)
from spiral.model.units import parse_duration, parse_rate
from spiral.scenarios import DEFAULT_SCENARIO


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
    what_if: WhatIfOption = None,
    engine: Annotated[
        str,
        typer.Option(
            help="auto (vectorised when staff are unlimited and loops off), des or vectorised."
        ),
    ] = "auto",
    plot: PlotOption = None,
    xlsx: XlsxOption = None,
    event_log: Annotated[
        Path | None,
        typer.Option(
            "--event-log", help="Write the process-mining event log: FILE.csv or FILE.xes."
        ),
    ] = None,
    limit: LimitOption = None,
) -> None:
    """Simulate a scenario and print what the spiral did."""
    from spiral.analysis.results import run
    from spiral.cli.feedback import feedback
    from spiral.engines.dispatch import choose_engine
    from spiral.io.atomic_output import OutputFile
    from spiral.io.result_files import RUN_NAMES, strict_json, write_run
    from spiral.model.loading import resolve_source, with_length
    from spiral.views.console import print_run

    where = "spiral run"
    limits = limits_from(limit, where)
    model = load(scenario)
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
    check_seed(seed, where)
    arm = None
    if what_if is not None:
        model, (arm,) = arms_from(model, [what_if])
    if event_log is not None and event_log.suffix.lower() not in (".csv", ".xes"):
        raise fail(
            [
                f"{where}: --event-log: expected a file ending in .csv or .xes, "
                f"got {event_log.name!r}"
            ]
        )
    # pictures may go into the results folder (--plot DIR = --out DIR); the log is a file
    check_xlsx(where, xlsx)
    distinct(where, {"--out": out, "--event-log": event_log, "--xlsx": xlsx})
    distinct(where, {"--plot": plot, "--event-log": event_log})
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
    guard(model, limits, str(resolve_source(scenario)), options, where=where)
    from spiral.views.pictures import RUN_FIGURES

    stack = ExitStack()
    with stack:
        folder, plots = results_places(stack, out, plot, "manifest.json", RUN_NAMES, RUN_FIGURES)
        sheet = spreadsheet(stack, xlsx)
        if event_log is not None:
            log_path = (
                folder.place(event_log)
                if inside(event_log, out)
                else opened(stack, OutputFile(event_log, "--event-log")).stage
            )
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("simulating")
            result = run(
                model,
                seed=seed,
                event_log=log,
                what_if=arm,
                engine=chosen,
                progress=shown.update,
                customers=out is not None,  # written to customers.parquet; nothing else needs it
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
            with writing(event_log, "--event-log"):
                if event_log is not None:
                    from spiral.io.event_log import write_run_log

                    shown.step("writing the event log")
                    write_run_log(result, log_path)
            with writing(plot, "--plot"):
                if plot is not None:
                    from spiral.views.pictures import run_figures

                    shown.step("drawing")
                    plots.mkdir(parents=True, exist_ok=True)
                    drawn = run_figures(result, plots)
            with writing(out, "--out"):
                if folder is not None:
                    shown.step("writing results")
                    command = shlex.join(["spiral", *sys.argv[1:]])
                    written = write_run(
                        result, folder.stage, command, str(resolve_source(scenario)), events=events
                    )
            with writing(xlsx, "--xlsx"):
                if sheet is not None:
                    from spiral.io.spreadsheet import run_sheets, write_xlsx

                    shown.step("writing the spreadsheet")
                    write_xlsx(run_sheets(result), sheet)
            shown.step("saving")
            commit(stack)
    if not as_json:
        if out is not None:
            out_console.print(f"wrote {len(written)} files to {out}/", highlight=False)
        if event_log is not None:
            out_console.print(f"wrote the event log to {event_log}", highlight=False)
        if plot is not None:
            out_console.print(f"drew {len(drawn)} pictures in {plot}/", highlight=False)
        if xlsx is not None:
            out_console.print(f"wrote the tables to {xlsx}", highlight=False)
