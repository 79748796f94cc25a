"""Exact answers without simulating: the journey's chain solved, and which step to fix first."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from spiral.engines.analytic import EXPLAIN_TOLERANCE, explain_with_fixes, ranking_frame
from spiral.engines.expectations import Theory
from spiral.model.errors import ScenarioError
from spiral.model.limits import Limits, arrival_span, journey_problems, mean_rate
from spiral.model.scenario import Scenario
from spiral.model.what_if import FixStep, WhatIf
from spiral.model.what_if_arms import apply, intervention_cost

if TYPE_CHECKING:
    import pandas as pd


WHAT_IF_COLUMNS = (
    "what_if",
    "churn_cut",
    "contacts_cut",
    "customers",
    "revenue_kept",
    "cost",
    "net_value",
    "roi",
)


@dataclass
class Explanation:
    """The exact expectations of a journey and its steps ranked by what fixing each gives.

    The ranking and the what-ifs are kept as rows (the command prints them without pandas);
    ``ranking`` and ``what_ifs`` give them as DataFrames, made on first use.
    """

    theory: Theory
    ranking_rows: list[dict[str, float | str]]
    """Each step fixed, largest churn cut first (``spiral.engines.analytic.RANKING_COLUMNS``)."""
    factor: float
    unlimited: bool
    without_loops: bool
    what_if_rows: list[dict[str, float | str]]
    """The scenario's step-fixing what-ifs, solved exactly, with money and cost (best first)."""
    unsolved: dict[str, str]
    """The scenario's other what-ifs, and why ``explain`` leaves them to ``spiral compare``."""

    @cached_property
    def ranking(self) -> pd.DataFrame:
        """The steps ranked by what fixing each gives, indexed by step."""
        return ranking_frame(self.ranking_rows)

    @cached_property
    def what_ifs(self) -> pd.DataFrame:
        """The scenario's step-fixing what-ifs with money and cost, indexed by what-if."""
        import pandas as pd

        return pd.DataFrame(self.what_if_rows, columns=list(WHAT_IF_COLUMNS)).set_index("what_if")


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
    fixes, unsolved = step_fixes(scenario)
    theory, ranking, fixed = explain_with_fixes(
        scenario,
        {name: changed for name, (_, changed) in fixes.items()},
        factor,
        unlimited,
        without_loops,
        tolerance=tolerance,
    )
    what_ifs = what_if_rows(scenario, theory, {n: w for n, (w, _) in fixes.items()}, fixed)
    return Explanation(theory, ranking, factor, unlimited, without_loops, what_ifs, unsolved)


def step_fixes(
    scenario: Scenario,
) -> tuple[dict[str, tuple[WhatIf, dict[str, float]]], dict[str, str]]:
    """Split the scenario's what-ifs into step fixes (with new failures) and the others.

    A step fix changes only ``fix_step``s and reaches every segment: its journey is the same
    chain with other failure probabilities, solved with the rest. A pilot counts at full
    roll-out. Anything else (handoffs, staff, training, segments) changes more than the chain's
    failures and is left to ``spiral compare``, with the reason.
    """
    fixes: dict[str, tuple[WhatIf, dict[str, float]]] = {}
    unsolved: dict[str, str] = {}
    for name, what_if in scenario.what_ifs.items():
        if not all(isinstance(change, FixStep) for change in what_if.changes):
            kinds = sorted({c.change for c in what_if.changes if not isinstance(c, FixStep)})
            unsolved[name] = f"changes more than a step's failure ({', '.join(kinds)})"
        elif what_if.scope.segments is not None:
            unsolved[name] = "reaches only some segments"
        else:
            full = what_if.model_copy(
                update={"scope": what_if.scope.model_copy(update={"customers": 1.0})}
            )
            steps = apply(scenario, [full]).steps
            changed = {
                c.step: steps[c.step].failure for c in what_if.changes if isinstance(c, FixStep)
            }
            fixes[name] = (full, changed)
    return fixes, unsolved


def what_if_rows(
    scenario: Scenario,
    base: Theory,
    fixes: dict[str, WhatIf],
    solved: dict[str, Theory],
) -> list[dict[str, float | str]]:
    """Return per step fix its churn and complaint cuts, revenue kept, cost and net value.

    Customers reached are those expected to arrive between the fix's start (or the warm-up,
    if later) and the end of arrivals, at the mean arrival rate; each keeps the churn cut ×
    the mean customer value. Cost is the what-if's own over the same span; ROI is the net value
    over the cost (a multiple, as ``spiral compare`` gives it). Largest net value first.
    """
    end = arrival_span(scenario)
    value = scenario.mean_customer_value()
    rows = []
    for name, what_if in fixes.items():
        fixed = solved[name]
        reached = mean_rate(scenario) * max(end - max(what_if.start, scenario.warmup), 0.0)
        kept = (base.churn_rate - fixed.churn_rate) * value * reached
        cost = intervention_cost([what_if], scenario, end)
        rows.append(
            {
                "what_if": name,
                "churn_cut": base.churn_rate - fixed.churn_rate,
                "contacts_cut": base.contacts - fixed.contacts,
                "customers": reached,
                "revenue_kept": kept,
                "cost": cost,
                "net_value": kept - cost,
                "roi": (kept - cost) / cost if cost > 0 else float("nan"),
            }
        )
    # largest net value first, a NaN last (as pandas sorts); ties keep the scenario's order
    rows.sort(key=lambda row: (math.isnan(row["net_value"]), -row["net_value"]))
    return rows
