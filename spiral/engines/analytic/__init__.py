"""The analytic engine: a journey with unlimited staff and no system loops, solved exactly.

A customer's journey is then an absorbing Markov chain on states (node, failures so far,
severity, open issue, contacts about it, recovered, escalated, a pending ping-pong
bounce). ``theory`` solves that chain for the expected visits of every state, following
the SimPy engine's decisions at each visit, and adds up expectations from them; what
mass it leaves (far below ``tolerance``) is reported as truncated. Queues have closed
forms of their own: ``spiral.engines.queueing``.

The package: this module is the API (``theory``, ``explain``, what is refused and why);
``chain`` solves the states a failure count at a time, ``lattice`` is the severity
lattice and escalation on it, ``moves`` a state's moves as the SimPy engine decides a
visit, ``ends`` where customers end and the expectations that follow.
"""

from __future__ import annotations

import math

from spiral.engines.analytic.chain import Chain
from spiral.engines.expectations import Theory, mixed
from spiral.engines.journey import compile_journey
from spiral.engines.runs import closed_form_problems
from spiral.engines.segments import segment_views
from spiral.model.scenario import Scenario

TOLERANCE = 1e-12
EXPLAIN_TOLERANCE = 1e-6  # `spiral explain`: probabilities to ~6 decimals, in seconds


class NoClosedForm(ValueError):
    """The scenario has parts the analytic engine cannot solve exactly."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(f"{field}: {why}" for field, why in reasons))


def unlimited(scenario: Scenario) -> Scenario:
    """Return the scenario with every silo's staff unlimited (no queues, no abandonment)."""
    silos = {
        name: silo.model_copy(update={"staff": "unlimited"})
        for name, silo in scenario.silos.items()
    }
    return scenario.model_copy(update={"silos": silos})


def without_loops(scenario: Scenario) -> Scenario:
    """Return the scenario with erosion, reputation and learning switched off."""
    loops = scenario.loops
    update = {
        name: getattr(loops, name).model_copy(update={"enabled": False})
        for name in ("erosion", "reputation", "learning")
    }
    return scenario.model_copy(update={"loops": loops.model_copy(update=update)})


def theory(
    scenario: Scenario,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = TOLERANCE,
) -> Theory:
    """Return the exact journey expectations; refuse (NoClosedForm) unless it has one.

    ``approximate=True`` treats every silo as unlimited (the no-queue approximation);
    ``loops_off=True`` switches the system loops off; otherwise both are refused.
    """
    return _solve(_solvable(scenario, approximate, loops_off), tolerance)[0]


def _solve(
    scenario: Scenario, tolerance: float, failures: list[list[float]] | None = None
) -> list[Theory]:
    """Solve the chain of every variant: one chain per customer segment, mixed by share."""
    views = segment_views(scenario)
    if len(views) == 1:
        return Chain(scenario, tolerance, failures).solve()
    solved = [Chain(view.scenario, tolerance, failures).solve() for view in views]
    shares = [view.share for view in views]
    return [
        mixed([theories[i] for theories in solved], shares, scenario.name)
        for i in range(len(solved[0]))
    ]


def _solvable(scenario: Scenario, approximate: bool, loops_off: bool) -> Scenario:
    """Return the scenario as asked (unlimited staff, loops off); refuse one with no closed form."""
    if approximate:
        scenario = unlimited(scenario)
    if loops_off:
        scenario = without_loops(scenario)
    problems = closed_form_problems(scenario)
    loyalty = scenario.experience.loyalty
    highest_churn = max(loyalty.base_churn, loyalty.max_churn * loyalty.recovery_effect)
    if loyalty.recovery_time is not None and loyalty.base_advocacy + highest_churn > 1.0:
        problems.append(
            (
                "experience.loyalty.base_advocacy",
                "with recovery_time, advocacy capped at 1 - churn depends on the whole "
                "spread of recovery times, which has no closed form here; expected "
                "base_advocacy + max(base_churn, max_churn × recovery_effect) <= 1",
            )
        )
    if scenario.experience.severity_half_life is not None:
        problems.append(
            (
                "experience.severity_half_life",
                "severity that fades with time depends on when each event happens, which has "
                "no closed form here; expected it unset (the simulation engines follow it)",
            )
        )
    if problems:
        raise NoClosedForm(problems)
    return scenario


def fix_ranking(  # noqa: ANN201 - a DataFrame; pandas is imported lazily
    scenario: Scenario,
    factor: float = 0.5,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = 1e-7,
):
    """Rank steps by how much fixing each (failure × factor) cuts expected churn and severity.

    Returns a DataFrame indexed by step: failure now, share of complaints born there,
    and the cuts in churn rate, mean severity and failures per customer, sorted by the
    churn cut (largest first), then the severity cut.
    """
    return explain(scenario, factor, approximate, loops_off, tolerance)[1]


RANKING_COLUMNS = (
    "step",
    "failure",
    "born_share",
    "churn_cut",
    "contacts_cut",
    "severity_cut",
    "failures_cut",
)


def ranking_frame(rows: list[dict[str, float | str]]):  # noqa: ANN201 - pandas is lazy
    """Return fix-ranking rows (as ``explain_with_fixes`` gives them) as a DataFrame by step."""
    import pandas as pd

    return pd.DataFrame(rows, columns=list(RANKING_COLUMNS)).set_index("step")


def explain(  # noqa: ANN201 - (Theory, DataFrame); pandas is imported lazily
    scenario: Scenario,
    factor: float = 0.5,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = 1e-7,
):
    """Return the exact expectations and the fix ranking, from one solve of every variant.

    The journey as it is and the journey with each step's failure × ``factor`` share
    their states, so they are solved together.
    """
    base, rows, _ = explain_with_fixes(scenario, {}, factor, approximate, loops_off, tolerance)
    return base, ranking_frame(rows)


def _last_if_nan(value: float) -> tuple[bool, float]:
    """Return a sort key: largest first, a NaN last (as pandas sorts)."""
    return (math.isnan(value), 0.0 if math.isnan(value) else -value)


def explain_with_fixes(
    scenario: Scenario,
    fixes: dict[str, dict[str, float]],
    factor: float = 0.5,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = 1e-7,
) -> tuple[Theory, list[dict[str, float | str]], dict[str, Theory]]:
    """Return ``explain``'s answers and, in the same solve, each named fix's expectations.

    ``fixes`` maps a name to new failure probabilities by step (a what-if that only fixes
    steps); the second value is the fix ranking as rows (``RANKING_COLUMNS``; largest churn
    cut first, then severity cut), the third maps each name to its journey's ``Theory``.
    """
    scenario = _solvable(scenario, approximate, loops_off)
    j = compile_journey(scenario)
    now = list(j.failure)
    steps = [name for name, step in scenario.steps.items() if step.failure > 0]
    variants = [now]
    for name in steps:
        fixed = list(now)
        fixed[j.names.index(name)] *= factor
        variants.append(fixed)
    for changed in fixes.values():
        fixed = list(now)
        for name, failure in changed.items():
            fixed[j.names.index(name)] = failure
        variants.append(fixed)
    base, *solved = _solve(scenario, tolerance, variants)
    fixes_solved = dict(zip(fixes, solved[len(steps) :], strict=True))
    born = max(sum(base.born.values()), 1e-300)
    rows = [
        {
            "step": name,
            "failure": scenario.steps[name].failure,
            "born_share": base.born[name] / born,
            "churn_cut": base.churn_rate - fixed.churn_rate,
            "contacts_cut": base.contacts - fixed.contacts,
            "severity_cut": base.severity_mean - fixed.severity_mean,
            "failures_cut": base.failures_mean - fixed.failures_mean,
        }
        for name, fixed in zip(steps, solved[: len(steps)], strict=True)
    ]
    # largest churn cut first, then severity cut; ties keep the scenario's step order
    rows.sort(key=lambda row: (_last_if_nan(row["churn_cut"]), _last_if_nan(row["severity_cut"])))
    return base, rows, fixes_solved
