"""Runs: the records every engine returns, and what makes a journey need the SimPy engine.

Every engine returns a ``RawRun``: the records of one simulation before any metric.
The SimPy engine runs everything; the vectorised and analytic engines only journeys in
which customers never meet (unlimited staff) and no system loop couples them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from spiral.model.scenario import Scenario

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
                    "unlimited staff (--unlimited; in Python unlimited=True)",
                )
            )
    loops = scenario.loops
    for name in ("erosion", "reputation", "learning"):
        if getattr(loops, name).enabled:
            problems.append(
                (
                    f"loops.{name}.enabled",
                    "a system loop couples customers, which has no closed form; expected it "
                    "off (--without-loops; in Python without_loops=True)",
                )
            )
    return problems
