"""`spiral explain`: exact answers from the journey's chain, and which step to fix first."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from spiral.cli.common import (
    LimitOption,
    ScenarioArgument,
    app,
    err_console,
    fail,
    limits_from,
    load,
    out_console,
)
from spiral.scenarios import DEFAULT_SCENARIO

if TYPE_CHECKING:
    from spiral.model.scenario import Scenario


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
    tipping_point: Annotated[
        bool,
        typer.Option(
            "--tipping-point",
            help="Print each staffed silo's tipping point instead: the arrival rate at "
            "which erosion starts and the one at which it runs away.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    limit: LimitOption = None,
) -> None:
    """Exact answers without simulating, and which step to fix first (unlimited staff, no loops)."""
    from spiral.engines.analytic import EXPLAIN_TOLERANCE, NoClosedForm
    from spiral.io.json_text import strict_json
    from spiral.views.explanation_console import print_theory, print_what_if_values

    where = "spiral explain"
    limits = limits_from(limit, where)
    model = load(scenario)
    if not 0 < factor < 1:
        raise fail([f"{where}: --factor: expected a number between 0 and 1, got {factor}"])
    from spiral.analysis.explanation import explain
    from spiral.cli.feedback import feedback
    from spiral.model.errors import ScenarioError

    source = scenario  # as typed: a built-in's name, or a file
    if tipping_point:
        _print_tipping_points(model, as_json)
        return
    try:
        with feedback(err_console, where, enabled=not as_json) as shown:
            shown.step("solving the journey's chain")
            # one solve gives the numbers and every fix; what it leaves is printed as truncated
            explained = explain(
                model,
                factor=factor,
                unlimited=unlimited,
                without_loops=loops_off,
                tolerance=EXPLAIN_TOLERANCE,
                limits=limits,
            )
    except NoClosedForm as error:  # said in the command's words, not the Python API's
        raise fail(
            [f"{source}: {field}: {cli_words(why)}" for field, why in error.reasons]
        ) from None
    except ScenarioError as error:  # customers can hardly leave: the chain would never drain
        raise fail([f"{source}: {field}: {why}" for field, why in error.problems]) from None
    exact, ranking = explained.theory, explained.ranking_rows
    if as_json:
        payload = {
            **exact.summary(),
            "visits": exact.visits,
            "outcomes": exact.outcomes,
            "born": exact.born,
            "failures_distribution": {str(k): v for k, v in exact.failures_distribution.items()},
            "fix_ranking": ranking,
            "what_ifs": explained.what_if_rows,
            "what_ifs_left_to_compare": explained.unsolved,
        }
        print(strict_json(payload))
        return
    notes = [n for n, on in (("unlimited staff", unlimited), ("loops off", loops_off)) if on]
    value = model.mean_customer_value()
    if model.segments:
        notes = [*notes, "money at the mean customer value over the segments"]
    print_theory(exact, ranking, factor, notes, out_console, value, model.money.currency)
    print_what_if_values(
        explained.what_if_rows, explained.unsolved, model.money.currency, out_console
    )


def _print_tipping_points(model: Scenario, as_json: bool) -> None:
    from spiral.analysis.tipping_point import tipping_points
    from spiral.cli.feedback import feedback
    from spiral.io.json_text import strict_json
    from spiral.views.explanation_console import print_tipping_points

    with feedback(err_console, "spiral explain", enabled=not as_json) as shown:
        shown.step("solving the journey's chain for each silo's work")
        points = tipping_points(model)
    if as_json:
        print(strict_json({"tipping_points": [p.as_dict() for p in points]}))
        return
    print_tipping_points(points, model, out_console)


def cli_words(reason: str) -> str:
    """Return a refusal with its Python spelling dropped: '(--unlimited)', not 'unlimited=True'."""
    return re.sub(r"; in Python \w+=True\)", ")", reason)
