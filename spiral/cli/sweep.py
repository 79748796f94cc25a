"""The `spiral sweep` and `spiral sweep-report` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from spiral.cli.common import (
    LimitOption,
    XlsxOption,
    app,
    check_xlsx,
    err_console,
    fail,
    limits_from,
    out_console,
    spreadsheet,
    writing,
)
from spiral.model.errors import ScenarioError


def _duration(seconds: float) -> str:
    """Return seconds as '45 s', '12 min' or '3.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _stopped(message: str) -> typer.Exit:
    """Print why a sweep stopped part-way, and return the exit (code 1): it can resume."""
    err_console.print(f"{message}; run the same command to resume", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def _dry_run(sweep, out: Path, executor, total: int, remote: bool) -> None:  # noqa: ANN001
    """Print the runs, the runs already saved, and an estimate from one timed run."""
    from spiral.sweeps.execution import estimate
    from spiral.sweeps.store import load_rows

    spec = sweep.spec
    saved = load_rows(out) if out.is_dir() else None
    left = total - (int((saved["status"] == "ok").sum()) if saved is not None else 0)
    _, probe = estimate(sweep)
    if probe["status"] != "ok":
        err_console.print(
            f"spiral sweep: --dry-run: the first run failed: {probe['error']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    one = probe["seconds"]
    where = (
        f"{_duration(one * left)} of worker time on {executor.describe()} (÷ its workers)"
        if remote
        else f"about {_duration(one * left / executor.workers)} on {executor.describe()}"
    )
    out_console.print(
        f"{sweep.name}: {total} runs = {total // spec.replications} points "
        f"({spec.design.kind}) × {spec.replications} replication(s), {left} still to run "
        f"(engine: {sweep.engine}); one run took {one:.2f} s here, so {where}",
        highlight=False,
        soft_wrap=True,
    )


def _sized(sweep, path: Path, limits, parallel: int) -> int:  # noqa: ANN001
    """Return the sweep's number of runs; refuse (exit 2) one past a size guard.

    The runs are counted from the design without making them, and the scenario is sized at
    the corners of the design, where a run is largest.
    """
    from spiral.model.limits import figure, run_problems, suggest
    from spiral.sweeps.designs import design_size
    from spiral.sweeps.sweep_file import scenario_with

    spec = sweep.spec
    total = design_size(spec.design, spec.parameters) * spec.replications
    if total > limits.runs:
        raise fail(
            [
                f"{path}: design: {figure(total)} runs ({spec.design.kind} design × "
                f"{spec.replications} replication(s)), above the limit of {figure(limits.runs)}; "
                f"expected a smaller design, or raise the limit with --limit runs={suggest(total)}"
            ]
        )
    parallel = min(parallel, total)  # never more processes than runs
    lines = [
        f"{path}: scenario: {why}" for _, why in run_problems(sweep.scenario, limits, parallel)
    ]
    for corner in [] if lines else corners(spec.parameters):
        try:
            scenario, _ = scenario_with(sweep.base, sweep.base_source, corner)
        except ScenarioError:
            continue  # a corner the scenario refuses: that run fails alone, as designed
        problems = run_problems(scenario, limits, parallel)
        if problems:
            names = ", ".join(corner)
            at = ", ".join(str(v) for v in corner.values())
            lines += [f"{path}: parameters.{names}: at {at}: {why}" for _, why in problems[:1]]
            break
    if lines:
        raise fail(lines)
    return total


CORNERS = 256  # design corners checked at most; past that, each end alone and all together


def corners(parameters: dict) -> list[dict]:
    """Return the points a size guard checks: every combination of the parameters' ends.

    A run is largest at a corner of the design (each range at an end; a list of numbers
    at its least or most); what-ifs are left out.
    """
    import itertools

    from spiral.sweeps.sweep_file import WHAT_IF, Range, split_quantity

    ends = {}
    for name, values in parameters.items():
        if name == WHAT_IF:
            continue
        if isinstance(values, Range):
            ends[name] = [values.low, values.high]
            continue
        try:
            ranked = sorted(values, key=lambda v: split_quantity(v)[0])
        except (TypeError, ValueError):
            ranked = list(values)
        ends[name] = list(dict.fromkeys([ranked[0], ranked[-1]]))
    names = list(ends)
    if 2 ** len(names) <= CORNERS:
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*ends.values())]
    single = [{name: value} for name in names for value in ends[name]]
    return single + [{n: ends[n][0] for n in names}, {n: ends[n][-1] for n in names}]


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (YAML).")],
    out: Annotated[Path, typer.Option(help="Folder for the results (resumed if it exists).")],
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: every core here).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run on Dask: tcp://host:8786, or 'local' for a LocalCluster here."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the number of runs and a time estimate.")
    ] = False,
    batch: Annotated[int, typer.Option(help="Rows saved per batch as runs finish.")] = 20,
    limit: LimitOption = None,
) -> None:
    """Run every point of a sweep design, in parallel, saving rows as they finish."""
    from spiral.cli.feedback import feedback
    from spiral.sweeps.execution import executor_for, run_sweep
    from spiral.sweeps.sweep_file import load_sweep

    limits = limits_from(limit, "spiral sweep")
    if workers is not None and workers < 1:
        raise fail([f"spiral sweep: --workers: expected at least 1, got {workers}"])
    if batch < 1:
        raise fail([f"spiral sweep: --batch: expected at least 1, got {batch}"])
    try:
        sweep = load_sweep(sweep_file)
    except ScenarioError as error:
        raise fail(error.lines()) from None
    try:
        executor = executor_for(workers, scheduler)
    except RuntimeError as error:
        raise fail([f"spiral sweep: --scheduler: {error}"]) from None
    from spiral.analysis.parallel import WorkersFailed
    from spiral.sweeps.execution import ExecutorLost
    from spiral.sweeps.store import SweepStore, load_rows

    total = _sized(sweep, sweep_file, limits, executor.workers if scheduler is None else 1)
    try:
        SweepStore.check(out, sweep)
    except ScenarioError as error:
        raise fail(error.lines()) from None
    if dry_run:
        _dry_run(sweep, out, executor, total, scheduler is not None and scheduler != "local")
        return
    try:
        done = len(SweepStore.open(out, sweep, total).finished())
    except ScenarioError as error:
        raise fail(error.lines()) from None
    with feedback(err_console, "spiral sweep") as shown:
        # runs saved before are where the bar starts, not progress made now
        shown.step(f"{sweep.name}: {done} of {total} runs", done / total if total else 1.0)
        counts = {"done": 0}
        started = {"at": None}

        def advance(row: dict) -> None:
            import time

            if started["at"] is None:
                started["at"] = time.perf_counter()
            counts["done"] += 1
            elapsed = max(time.perf_counter() - started["at"], 1e-9)
            finished = done + counts["done"]
            shown.step(
                f"{sweep.name}: {finished} of {total} runs, {counts['done'] / elapsed:.2f} runs/s",
                finished / total,
            )

        try:
            outcome = run_sweep(sweep, out, executor, batch=batch, on_row=advance)
        except ExecutorLost as error:
            saved = len(load_rows(out))
            if saved == done:  # nothing ran: the address is wrong or the cluster is down
                raise fail([f"spiral sweep: --scheduler: {error}"]) from None
            raise _stopped(
                f"spiral sweep: --scheduler: {error}; {saved} of {total} runs saved in {out}"
            ) from None
        except OSError as error:
            raise _stopped(
                f"{out}: --out: cannot write results ({error.strerror}); the rows saved so far stay"
            ) from None
        except WorkersFailed as error:
            raise _stopped(f"spiral sweep: --workers: {error}") from None
        except ScenarioError as error:  # another sweep holds the folder
            raise fail(error.lines()) from None
    rate = outcome.ran / outcome.seconds if outcome.seconds > 0 else 0.0
    out_console.print(
        f"{sweep.name}: {outcome.ok} of {outcome.total} runs ok, {len(outcome.failed)} failed; "
        f"{outcome.ran} run now in {outcome.seconds:.1f} s ({rate:.2f} runs/s) on "
        f"{executor.describe()}, {outcome.skipped} already saved",
        highlight=False,
        soft_wrap=True,
    )
    for row in outcome.failed[:10]:
        out_console.print(
            f"failed: run {row['run']} (point {row['point']}, replication "
            f"{row['replication']}): {row['error']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if len(outcome.failed) > 10:
        out_console.print(f"... and {len(outcome.failed) - 10} more (status column)")
    if outcome.interrupted:
        err_console.print(
            f"interrupted: {outcome.ok + len(outcome.failed)} of {outcome.total} runs saved in "
            f"{out}; run the same command to resume",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=128 + outcome.interrupted)
    if outcome.results is not None:
        out_console.print(f"results: {outcome.results}", highlight=False, soft_wrap=True)
    if outcome.failed:
        raise typer.Exit(code=1)


@app.command("sweep-report")
def sweep_report_command(
    folder: Annotated[Path, typer.Argument(help="A folder written by spiral sweep.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the report here (default: FOLDER/report).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the indices as JSON.")] = False,
    x: Annotated[
        str | None, typer.Option("--x", help="Heat map across this parameter (with --y).")
    ] = None,
    y: Annotated[str | None, typer.Option("--y", help="... and down this one.")] = None,
    xlsx: XlsxOption = None,
) -> None:
    """Means per design point with 95% intervals, sensitivity indices, tornado and heat map."""
    import pandas as pd
    from rich.table import Table

    from spiral.sweeps.sensitivity import RANKED_BY, NoRuns, sweep_report
    from spiral.sweeps.store import MANIFEST
    from spiral.views.sweep_charts import write_report

    check_xlsx("spiral sweep-report", xlsx)
    if not (folder / MANIFEST).exists():
        raise fail([f"{folder}: {MANIFEST}: not found; expected a folder written by spiral sweep"])
    from spiral.cli.feedback import feedback

    where = "spiral sweep-report"
    try:
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("reading the runs and computing the indices")
            report = sweep_report(folder)
    except NoRuns as error:
        raise fail([str(error)]) from None
    if (x is None) != (y is None):
        raise fail(["spiral sweep-report: --x/--y: expected both parameters of the heat map"])
    for option, name in (("--x", x), ("--y", y)):
        if name is not None and name not in report.spec.parameters:
            known = ", ".join(report.spec.parameters)
            raise fail([f"spiral sweep-report: {option}: expected one of {known}, got {name!r}"])
    pair = (x, y) if x is not None and y is not None else None
    target = out or folder / "report"
    from contextlib import ExitStack

    from spiral.cli.common import commit, opened
    from spiral.io.atomic_output import OutputFolder

    names = {"points.csv", "indices.csv"} | {
        f"{n}.{s}" for n in ("tornado", "heatmap") for s in ("png", "svg")
    }
    stack = ExitStack()
    with stack:
        written = opened(stack, OutputFolder(target, "--out", lambda name: name in names))
        sheet = spreadsheet(stack, xlsx)
        try:
            with feedback(err_console, where, enabled=not as_json) as shown:
                shown.step("drawing the charts and writing the tables")
                staged = write_report(report, written.stage, pair)
        except OSError as error:
            raise fail([f"{target}: --out: cannot write the report ({error.strerror})"]) from None
        with writing(xlsx, "--xlsx"):
            if sheet is not None:
                from spiral.io.column_units import with_units
                from spiral.io.spreadsheet import write_xlsx

                said = [f"warning: {w}" for w in report.warnings] + [
                    f"note: {n}" for n in report.notes
                ]
                write_xlsx(
                    {
                        "points": with_units(report.named_points(), report.currency),
                        "indices": report.indices,
                        "warnings and notes": pd.DataFrame({"what the report says": said}),
                    },
                    sheet,
                )
        commit(stack)
    paths = [target / p.relative_to(written.stage) for p in staged]
    if as_json:
        payload = {
            "notes": report.notes,
            "warnings": report.warnings,
            "indices": report.indices.to_dict(orient="records"),
            "points": len(report.points),
        }
        from spiral.io.json_text import strict_json

        print(strict_json(payload))
        return
    spec = report.spec
    by = RANKED_BY[spec.design.kind]
    out_console.print(
        f"{report.manifest['sweep']}: {len(report.runs)} runs, {len(report.points)} design "
        f"points ({spec.design.kind}), {spec.replications} replication(s) each",
        highlight=False,
        soft_wrap=True,
    )
    if len(report.indices):
        chosen = report.indices[report.indices["index"] == by]
        values = chosen.pivot(index="parameter", columns="metric", values="value")
        table = Table(
            title=f"sensitivity: {by} per metric (larger: drives it more), ± 95% interval"
        )
        table.add_column("parameter")
        for metric in spec.metrics:
            if metric in values.columns:
                table.add_column(metric, justify="right")
        lead = spec.metrics[0] if spec.metrics[0] in values.columns else values.columns[0]
        conf = chosen.pivot(index="parameter", columns="metric", values="conf")
        first = report.indices[report.indices["index"] == "S1"]
        s1 = first.pivot(index="parameter", columns="metric", values="value")
        s1_conf = first.pivot(index="parameter", columns="metric", values="conf")

        def cell(name: str, metric: str) -> str:
            text = f"{values.loc[name, metric]:.3f}"
            if pd.notna(conf.loc[name, metric]):
                text += f" ± {conf.loc[name, metric]:.3f}"
            if len(first):  # Sobol: the first-order index beside the total
                text += f" (S1 {s1.loc[name, metric]:.3f} ± {s1_conf.loc[name, metric]:.3f})"
            return text

        for name in values[lead].abs().sort_values(ascending=False).index:
            table.add_row(name, *[cell(name, m) for m in spec.metrics if m in values.columns])
        out_console.print(table)
    for note in report.notes:
        out_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    for warning in report.warnings:
        out_console.print(Text("warning: ", "bold red") + Text(warning), soft_wrap=True)
    for path in paths:
        out_console.print(f"wrote {path}", highlight=False, soft_wrap=True)
