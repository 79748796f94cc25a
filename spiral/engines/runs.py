"""Runs: which engine can run a scenario, and one call from a scenario to its raw records.

Every engine returns a ``RawRun``: the records of one simulation before any metric.
The SimPy engine runs everything; the vectorised and analytic engines only journeys in
which customers never meet (unlimited staff) and no system loop couples them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spiral.model.scenario import Scenario
from spiral.model.what_if import WhatIf

if TYPE_CHECKING:
    from spiral.engines.dynamics import Dynamics
    from spiral.engines.journey import Journey
    from spiral.engines.records import CustomerTable, EventSink, PeriodCounters

ENGINES = ("auto", "des", "vectorised")


@dataclass
class RawRun:
    """What one simulation run produced, before metrics."""

    customers: CustomerTable
    counters: PeriodCounters
    events: EventSink | None
    end: float
    node_visits: list[int]
    silo_busy: list[float]
    silo_wait: list[float]
    silo_served: list[int]
    journey: Journey
    dynamics: Dynamics
    arrivals_end: float
    staff_log: list[tuple[float, int, int]]
    empowerment_spend: float
    engine: str = "des"


def closed_form_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Return (field, reason) for each part of a scenario that couples customers.

    Queues (a silo with a staff count serving paid work) and system loops make customers
    meet; without them a journey is an absorbing Markov chain, which the vectorised and
    analytic engines handle.
    """
    problems = []
    paid = {n.silo for n in scenario.steps.values() if not n.self_service}
    paid |= {n.silo for n in scenario.contacts.values()}
    for name, silo in scenario.silos.items():
        if silo.staff != "unlimited" and name in paid:
            problems.append(
                (
                    f"silos.{name}.staff",
                    f"{silo.staff} staff make a queue, which has no closed form here; expected "
                    "unlimited staff (approximate=True, `spiral explain --unlimited`)",
                )
            )
    loops = scenario.loops
    for name in ("erosion", "reputation", "learning"):
        if getattr(loops, name).enabled:
            problems.append(
                (
                    f"loops.{name}.enabled",
                    "a system loop couples customers, which has no closed form; expected it "
                    "off (loops_off=True, `spiral explain --without-loops`)",
                )
            )
    return problems


def choose_engine(scenario: Scenario, engine: str, event_log: bool, what_ifs: bool) -> str:
    """Return 'des' or 'vectorised' for a request; refuse an impossible one (ValueError)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'auto', 'des' or 'vectorised', got {engine!r}")
    if engine == "des":
        return "des"
    reasons = [f"{field}: {why.split(',')[0]}" for field, why in closed_form_problems(scenario)]
    if event_log:
        reasons.append("event log: the vectorised engine keeps none")
    if what_ifs:
        reasons.append("what-if: the vectorised engine runs the scenario as it is")
    if engine == "auto":
        return "des" if reasons else "vectorised"
    if reasons:
        raise ValueError("the vectorised engine cannot run this: " + "; ".join(reasons))
    return "vectorised"


def simulate(
    scenario: Scenario,
    seed: int,
    engine: str = "des",
    event_log: bool = False,
    what_ifs: tuple[tuple[str, WhatIf], ...] = (),
    progress: Callable[[float], None] | None = None,
) -> RawRun:
    """Run a scenario once on the engine asked for (see ``choose_engine``); return its records."""
    chosen = choose_engine(scenario, engine, event_log, bool(what_ifs))
    if chosen == "vectorised":
        from spiral.engines.vectorised import simulate_vectorised

        return simulate_vectorised(scenario, seed, progress=progress)
    from spiral.engines.simpy_engine import simulate_des

    return simulate_des(scenario, seed, event_log, what_ifs, progress)
