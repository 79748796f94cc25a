"""The commands that show the spiral: `spiral trace`, `spiral animate`, `spiral report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spiral.cli.common import (
    HorizonOption,
    LimitOption,
    ScenarioArgument,
    SeedOption,
    WhatIfOption,
    app,
    arms_from,
    check_seed,
    commit,
    err_console,
    fail,
    guard,
    limits_from,
    load_for,
    opened,
    out_console,
    writing,
)
from spiral.scenarios import DEFAULT_SCENARIO

STYLES = (("FAILED", "bold red"), ("⚠", "bold red"), ("COLD", "dark_orange"), ("warm", "blue"))


def _logged_run(  # noqa: ANN202 - a RunResult
    scenario: str,
    seed: int | None,
    horizon: str | None,
    where: str,
    limit: list[str] | None,
    what_if: str | None = None,
):
    """Run a scenario with its event log (the SimPy engine); bad options are one line, exit 2."""
    from spiral.analysis.results import run
    from spiral.model.loading import resolve_source

    check_seed(seed, where)
    limits = limits_from(limit, where)
    model = load_for(scenario, horizon, where)
    arm = None
    if what_if is not None:
        model, (arm,) = arms_from(model, [what_if])
    guard(model, limits, str(resolve_source(scenario)))
    return model, lambda shown: run(
        model, seed=seed, event_log=True, what_if=arm, progress=shown.update
    )


@app.command("trace")
def trace_command(
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    customer: Annotated[int | None, typer.Option(help="Tell this customer's journey.")] = None,
    worst: Annotated[bool, typer.Option("--worst", help="Tell the worst-hit customer.")] = False,
    spiral: Annotated[
        bool,
        typer.Option(
            "--spiral", help="Tell a customer who churned or escalated after 3+ failures."
        ),
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Tell every event (the story is 25 lines at most).")
    ] = False,
    what_if: WhatIfOption = None,
    seed: SeedOption = None,
    horizon: HorizonOption = None,
    limit: LimitOption = None,
) -> None:
    """Tell one customer's journey as a story: where it broke, who had the baton, what it cost."""
    from rich.text import Text

    from spiral.cli.feedback import feedback
    from spiral.views.trace import NoSuchCustomer, pick_customer, story

    where = "spiral trace"
    if sum([customer is not None, worst, spiral]) > 1:
        raise fail([f"{where}: --customer/--worst/--spiral: expected at most one of them"])
    _, simulate = _logged_run(scenario, seed, horizon, where, limit, what_if)
    with feedback(err_console, where) as shown:
        shown.step("simulating")
        result = simulate(shown)
    try:
        chosen = pick_customer(result, customer, worst, spiral)
    except NoSuchCustomer as error:
        option = "--customer" if customer is not None else "--spiral" if spiral else "--horizon"
        raise fail([f"{where}: {option}: {error}"]) from None
    for line in story(result, chosen, full):
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

    from spiral.cli.common import arms_from
    from spiral.cli.feedback import feedback
    from spiral.io.atomic_output import OutputFile
    from spiral.model.loading import resolve_source
    from spiral.sweeps.sensitivity import sweep_report
    from spiral.sweeps.store import MANIFEST
    from spiral.views.report import report_html

    where = "spiral report"
    limits = limits_from(limit, where)
    if replications < 2:
        raise fail([f"{where}: --replications: expected at least 2, got {replications}"])
    check_seed(seed, where)
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
        from spiral.sweeps.sensitivity import NoRuns

        try:
            summary = sweep_report(sweep)
        except NoRuns as error:
            raise fail([str(error)]) from None
    model = load_for(source, horizon, where)
    guard(model, limits, str(resolve_source(source)))
    arms = []
    if what_if:
        model, arms = arms_from(model, what_if)
    stack = ExitStack()
    with stack:
        page = opened(stack, OutputFile(out, "--out"))
        with feedback(err_console, where) as shown:
            html_text = report_html(model, arms, summary, replications, seed, progress=shown.step)
            with writing(out, "--out"):
                page.stage.write_text(html_text, encoding="utf-8")
            commit(stack)
    size = out.stat().st_size / 1024
    out_console.print(f"wrote {out} ({size:,.0f} KB, self-contained)", highlight=False)


@app.command("animate")
def animate_command(
    out: Annotated[Path, typer.Option(help="The clip to write: run.gif, or run.mp4 (ffmpeg).")],
    scenario: ScenarioArgument = DEFAULT_SCENARIO,
    seconds: Annotated[float, typer.Option(help="Length of the clip.")] = 30.0,
    fps: Annotated[int, typer.Option(help="Frames per second.")] = 10,
    size: Annotated[
        str, typer.Option(help="Width x height in pixels, e.g. 1920x1080 (type grows with it).")
    ] = "960x540",
    what_if: WhatIfOption = None,
    seed: SeedOption = None,
    horizon: HorizonOption = None,
    limit: LimitOption = None,
) -> None:
    """Animate a run: customers as dots over the journey map, complaints reddening the nodes."""
    from contextlib import ExitStack

    from spiral.cli.feedback import feedback
    from spiral.io.atomic_output import OutputFile
    from spiral.views.animation import animate, can_write

    where = "spiral animate"
    problem = can_write(out, fps)
    if problem:
        raise fail([f"{where}: --out: {problem}"])
    if not 0 < seconds <= 600:
        raise fail([f"{where}: --seconds: expected more than 0 and at most 600, got {seconds:g}"])
    if not 1 <= fps <= 60:
        raise fail([f"{where}: --fps: expected 1 to 60, got {fps}"])
    pixels = _pixels(size)
    if pixels is None:
        raise fail(
            [f"{where}: --size: expected WIDTHxHEIGHT from 320x180 to 3840x2160, got {size!r}"]
        )
    _, simulate = _logged_run(scenario, seed, horizon, where, limit, what_if)
    stack = ExitStack()
    with stack:
        clip = opened(stack, OutputFile(out, "--out"))
        with feedback(err_console, where) as shown:
            shown.step("simulating")
            result = simulate(shown)
            shown.step("drawing frames")
            try:
                animate(result, clip.stage, seconds, fps, pixels)
            except OSError as error:
                raise fail([f"{out}: --out: cannot write the clip ({error.strerror})"]) from None
            commit(stack)
    size = out.stat().st_size / 2**20
    out_console.print(
        f"wrote {out}: {round(seconds * fps)} frames, {seconds:g} s, {size:.1f} MB", highlight=False
    )


def _pixels(size: str) -> tuple[int, int] | None:
    """Return '1280x720' as (1280, 720), within 320x180 to 3840x2160 (None if not)."""
    width, _, height = size.lower().partition("x")
    if not (width.strip().isdigit() and height.strip().isdigit()):
        return None
    w, h = int(width), int(height)
    return (w, h) if 320 <= w <= 3840 and 180 <= h <= 2160 else None
