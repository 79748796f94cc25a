"""Which engine runs a scenario, and one call from a scenario to its raw records."""

from __future__ import annotations

from collections.abc import Callable

from spiral.engines.runs import ENGINES, RawRun, closed_form_problems
from spiral.model.scenario import Scenario
from spiral.model.what_if import WhatIf


def choose_engine(scenario: Scenario, engine: str, event_log: bool, what_ifs: bool) -> str:
    """Return 'des' or 'vectorised' for a request; refuse an impossible one (ValueError)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'auto', 'des' or 'vectorised', got {engine!r}")
    if engine == "des":
        return "des"
    reasons = [f"{field}: {why.split(',')[0]}" for field, why in closed_form_problems(scenario)]
    if scenario.arrivals.events:
        reasons.append("arrivals.events: bursts enter at a node; the SimPy engine runs them")
    if event_log:
        reasons.append("event log: the vectorised engine keeps none")
    if what_ifs:
        reasons.append("what-if: the vectorised engine runs the scenario as it is")
    if engine == "auto":
        return "des" if reasons else "vectorised"
    if reasons:
        raise ValueError(
            "the vectorised engine cannot run this: "
            + "; ".join(reasons)
            + "; expected unlimited staff, loops off, no bursts, event log or what-if "
            "(--engine auto runs the SimPy engine then)"
        )
    return "vectorised"


def simulate(
    scenario: Scenario,
    seed: int,
    engine: str = "des",
    event_log: bool = False,
    what_ifs: tuple[tuple[str, WhatIf], ...] = (),
    progress: Callable[[float], None] | None = None,
    customers: bool = True,
) -> RawRun:
    """Run a scenario once on the engine asked for (see ``choose_engine``); return its records.

    ``customers``: keep the customer table (on disk, read back on request).
    """
    from spiral.engines.simpy_engine import simulate_des
    from spiral.engines.vectorised import simulate_vectorised

    chosen = choose_engine(scenario, engine, event_log, bool(what_ifs))
    if chosen == "vectorised":
        return simulate_vectorised(scenario, seed, progress=progress, customers=customers)
    return simulate_des(scenario, seed, event_log, what_ifs, progress, customers)
