"""Exact answers without simulating: the journey's chain solved, and which step to fix first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spiral.engines.analytic import EXPLAIN_TOLERANCE
from spiral.engines.analytic import explain as solve
from spiral.engines.expectations import Theory
from spiral.model.errors import ScenarioError
from spiral.model.limits import Limits, journey_problems
from spiral.model.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Explanation:
    """The exact expectations of a journey and its steps ranked by what fixing each gives."""

    theory: Theory
    ranking: pd.DataFrame
    factor: float
    unlimited: bool
    without_loops: bool


def explain(
    scenario: Scenario | str | Path,
    *,
    factor: float = 0.5,
    unlimited: bool = False,
    without_loops: bool = False,
    tolerance: float = EXPLAIN_TOLERANCE,
    limits: Limits | None = None,
) -> Explanation:
    """Solve a journey exactly and rank its steps by fixing each (failure × ``factor``).

    Staff queues and system loops have no closed form: they are refused
    (``NoClosedForm``) unless ``unlimited=True`` (every silo unlimited) or
    ``without_loops=True`` (loops off) ask for the approximation, as the command's
    ``--unlimited`` and ``--without-loops`` do. A journey customers can hardly leave is
    refused (``ScenarioError``) by the visits guard (``limits``).
    """
    if not isinstance(scenario, Scenario):
        from spiral.model.loading import load_scenario

        scenario = load_scenario(scenario)  # a file or a built-in name
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1, got {factor}")
    problems = journey_problems(scenario, limits or Limits())
    if problems:
        raise ScenarioError(scenario.name, problems)
    theory, ranking = solve(scenario, factor, unlimited, without_loops, tolerance=tolerance)
    return Explanation(theory, ranking, factor, unlimited, without_loops)
