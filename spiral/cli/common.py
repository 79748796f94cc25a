"""What every command shares: the Typer app, consoles, options, loading and output helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from spiral.model.errors import ScenarioError
from spiral.model.units import parse_duration

if TYPE_CHECKING:
    from spiral.model.scenario import Scenario
    from spiral.model.what_if_arms import Arm

if TYPE_CHECKING:
    from spiral.model.limits import Limits


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="spiral: simulate how broken processes compound complaints, escalations and churn.",
)


# markup off: names and paths from users ('x[/]') print as written; styles are Text objects
out_console = Console(width=None if sys.stdout.isatty() else 120, markup=False)


err_console = Console(stderr=True, markup=False)


ScenarioArgument = Annotated[str, typer.Argument(help="Scenario file or built-in name.")]


SeedOption = Annotated[int | None, typer.Option(help="Root seed (default: the scenario's).")]


HorizonOption = Annotated[str | None, typer.Option(help="Arrive for this long, e.g. '30 days'.")]


WhatIfOption = Annotated[
    str | None,
    typer.Option("--what-if", help="Run with a what-if on: NAME, A+B, NAME@10% or a YAML mapping."),
]


PlotOption = Annotated[
    Path | None, typer.Option(help="Draw the pictures into this folder (PNG and SVG).")
]


def fail(lines: list[str]) -> typer.Exit:
    """Print one line per problem to stderr and return the exit for bad input (code 2)."""
    from spiral.model.errors import safe_text

    for line in lines:
        # names and values come from users' files: no control character reaches the terminal
        err_console.print(safe_text(line), markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def check_seed(seed: int | None, where: str) -> None:
    """Refuse a negative --seed: one line, exit code 2."""
    if seed is not None and seed < 0:
        raise fail([f"{where}: --seed: expected a non-negative integer, got {seed}"])


def load_for(source: str, horizon: str | None, where: str) -> Scenario:
    """Load a scenario with --horizon applied; bad input is one line and exit code 2."""
    from spiral.model.loading import with_length

    model = load(source)
    try:
        length = parse_duration(horizon) if horizon is not None else None
        return with_length(model, horizon=length)
    except ValueError as error:
        raise fail([f"{where}: --horizon: {error}"]) from None


def load(source: str) -> Scenario:
    """Load a scenario file or built-in; bad input is one line per problem and exit code 2."""
    from spiral.model.loading import load_scenario

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


def limits_from(texts: list[str] | None, where: str) -> Limits:
    """Return the default limits with the --limit overrides; a bad one is one line, exit 2."""
    from spiral.model.limits import Limits

    try:
        return Limits().with_overrides(texts)
    except ValueError as error:
        raise fail([f"{where}: --limit: {error}"]) from None


def guard(
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
    from spiral.model.limits import run_problems, run_size, size

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


def opened(stack: ExitStack, output: object) -> object:
    """Open an output (check and lock its place) inside ``stack``; bad places exit 2."""
    try:
        return stack.enter_context(output)  # type: ignore[arg-type]
    except ScenarioError as error:
        raise fail(error.lines()) from None


def commit(stack: ExitStack) -> None:
    """Put every output in place; a place that cannot take it is one line, exit 2."""
    try:
        stack.close()
    except ScenarioError as error:
        raise fail(error.lines()) from None


@contextmanager
def writing(place: Path | None, option: str) -> Iterator[None]:
    """Turn a failed write (a full disk, say) into one line and exit 2; nothing is kept."""
    try:
        yield
    except OSError as error:
        raise fail(
            [f"{place}: {option}: cannot write results ({error.strerror or error})"]
        ) from None


XlsxOption = Annotated[
    Path | None,
    typer.Option("--xlsx", help="Also write the tables to this spreadsheet (one sheet each)."),
]


def check_xlsx(where: str, xlsx: Path | None) -> None:
    """Refuse a spreadsheet name that does not end in .xlsx: one line, exit 2."""
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise fail([f"{where}: --xlsx: expected a file ending in .xlsx, got {xlsx.name!r}"])


def spreadsheet(stack: ExitStack, xlsx: Path | None) -> Path | None:
    """Check and lock the spreadsheet's place in ``stack``; return where to write it first."""
    if xlsx is None:
        return None
    from spiral.io.atomic_output import OutputFile

    return opened(stack, OutputFile(xlsx, "--xlsx")).stage


def distinct(where: str, places: dict[str, Path | None]) -> None:
    """Refuse two outputs (or an output and an input) that are one place: one line, exit 2."""
    seen: dict[Path, str] = {}
    for option, place in places.items():
        if place is None:
            continue
        key = place.resolve()
        if key in seen:
            raise fail(
                [f"{where}: {option}: the same place as {seen[key]}; expected a place of its own"]
            )
        seen[key] = option


def picture_names(figures: tuple[str, ...]) -> frozenset[str]:
    """Return the files a set of pictures is written as (PNG and SVG each)."""
    return frozenset(f"{name}.{suffix}" for name in figures for suffix in ("png", "svg"))


def results_places(
    stack: ExitStack,
    out: Path | None,
    plot: Path | None,
    manifest: str,
    names: frozenset[str],
    figures: tuple[str, ...],
) -> tuple[object | None, Path | None]:
    """Open (check and lock) a results folder and a pictures folder before any work.

    Returns the results folder (or None) and where to draw the pictures now (or None):
    inside the results folder's staging when ``plot`` lies in ``out``.
    """
    from spiral.io.atomic_output import OutputFolder
    from spiral.io.result_files import spiral_wrote

    folder = None
    if out is not None:
        folder = opened(stack, OutputFolder(out, "--out", spiral_wrote(out, manifest, names)))
    if plot is None:
        return folder, None
    if inside(plot, out):
        return folder, folder.place(plot)
    pictures = OutputFolder(plot, "--plot", whole=False, names=picture_names(figures))
    return folder, opened(stack, pictures).stage


def inside(path: Path, folder: Path | None) -> bool:
    """Return whether ``path`` lies inside ``folder`` (written into its staging area)."""
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def inline_what_if(text: str, model: Scenario) -> tuple[Scenario, str]:
    """Add a what-if written on the command line as a YAML mapping; return it and its name."""
    import yaml
    from pydantic import ValidationError

    from spiral.model.loading import validation_problems
    from spiral.model.what_if import WhatIf
    from spiral.model.what_if_arms import what_if_problems, with_what_ifs

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


def arms_from(model: Scenario, texts: list[str]) -> tuple[Scenario, list[Arm]]:
    """Read --what-if values (names, a+b, name@10%, inline YAML) into arms; exit 2 if bad."""
    from spiral.model.what_if_arms import parse_arm

    names = []
    for text in texts:
        if text.lstrip().startswith("{"):
            model, text = inline_what_if(text, model)
        names.append(text)
    try:
        arms = [parse_arm(a, model) for a in names]
    except ScenarioError as error:
        raise fail(error.lines()) from None
    return model, list({arm.label: arm for arm in arms}.values())


def percent(text: str, where: str) -> float:
    """Read '10%' or '0.1' as a share in [0, 1]; bad input exits with one line."""
    try:
        value = float(text[:-1]) / 100 if text.strip().endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise fail([f"{where}: expected a share like '10%' (0% to 100%), got {text!r}"])
    return value
