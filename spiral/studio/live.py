"""Playing the organisation over time: the SimPy engine stepped a slice at a time.

"Go" in the studio advances one run of the SimPy engine by a slice of simulated time per
tick and reads its state as it goes: the backlog in every queue, the steps' failure
probabilities, the reputation (from the loops' hourly samples), customers in a journey
and customers lost so far. The run is the same as ``spiral run`` with the same seed:
stepping changes when the state is read, not what happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from spiral.engines.records import CHURNED
from spiral.engines.simpy_engine import Engine
from spiral.model.limits import arrival_span
from spiral.model.scenario import Scenario

MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True)
class Trajectory:
    """The state so far, one value per loop sample (hourly by default); time in days."""

    day: np.ndarray
    backlog: np.ndarray  # customers waiting in every queue together
    failure: np.ndarray  # the steps' mean failure probability
    reputation: np.ndarray
    churned: int
    in_journey: int
    arrivals: int


class LiveRun:
    """One run of the SimPy engine, advanced by hand; ``now`` is its clock in minutes."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.engine = Engine(scenario, seed)
        self.engine.start()

    @property
    def now(self) -> float:
        """Return the simulated time reached, in minutes."""
        return float(self.engine.env.now)

    @property
    def done(self) -> bool:
        """Return whether the run is over (everyone finished, or the drain time is up)."""
        return self.engine.all_done.triggered or self.engine.stop.triggered

    @property
    def arrivals_end(self) -> float:
        """Return when arrivals stop, in minutes (for a count of customers: its expected time)."""
        return arrival_span(self.scenario)

    @property
    def end(self) -> float:
        """Return the latest time the run should reach: arrivals' end plus the drain, minutes."""
        return self.arrivals_end + self.scenario.drain

    def advance(self, minutes: float) -> None:
        """Simulate ``minutes`` more (less if the run ends first)."""
        if self.done or minutes <= 0:
            return
        engine = self.engine
        env = engine.env
        # one flat AnyOf: a nested condition, once met, unhooks the conditions inside it
        env.run(until=simpy.AnyOf(env, [env.timeout(minutes), engine.all_done, engine.stop]))

    def trajectory(self) -> Trajectory:
        """Return the state sampled so far."""
        engine = self.engine
        samples = engine.dynamics.samples
        if samples.rows:
            columns = samples.columns()
            day = columns["time"] / MINUTES_PER_DAY
            backlog = columns["queue"].sum(axis=1)
            failure = columns["failure"]
            failure = failure.mean(axis=1) if failure.shape[1] else np.zeros(len(day))
            reputation = columns["reputation"]
        else:
            day = backlog = failure = reputation = np.zeros(0)
        return Trajectory(
            day=day,
            backlog=backlog,
            failure=failure,
            reputation=reputation,
            churned=engine.table.outcome_count(CHURNED),
            in_journey=len(engine.active),
            arrivals=engine.next_id,
        )
