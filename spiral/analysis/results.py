"""Running a scenario: one call from a validated scenario to a result object."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from spiral.analysis.metrics import (
    by_failure_step,
    by_segment,
    silo_table,
    spiral_table,
    summarise,
    timeseries,
)
from spiral.engines.dispatch import simulate
from spiral.engines.runs import RawRun
from spiral.model.scenario import Scenario
from spiral.model.what_if_arms import BASELINE, Arm, intervention_cost, parse_arm


@dataclass
class RunResult:
    """One run's records and metrics: ``.summary``, ``.customers``, ``.events``, ``.timeseries``."""

    scenario: Scenario
    seed: int
    raw: RawRun = field(repr=False)
    arm: Arm = field(default=Arm(BASELINE))

    @cached_property
    def customers(self) -> pd.DataFrame:
        """One row per customer, warm-up included; ``measured``: arrived after the warm-up.

        Sorted by customer (the order they arrived); times (``arrival``, ``end``, ``wait``)
        are in minutes from the start of the run. The table comes into memory here, read
        from disk; a run made with ``customers=False`` kept none (ValueError).
        ``customer_chunks()`` reads it a chunk at a time.
        """
        frame = self.raw.customers.to_frame(self.raw.journey.names)
        frame["measured"] = frame["arrival"] >= self.scenario.warmup
        return frame

    def customer_chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the customer table a chunk at a time (memory: one chunk), each by customer.

        Chunks follow the order customers finished, so ids rise only within a chunk.
        """
        for frame in self.raw.customers.frames(self.raw.journey.names):
            frame["measured"] = frame["arrival"] >= self.scenario.warmup
            yield frame

    @cached_property
    def events(self) -> pd.DataFrame | None:
        """One row per event, or None when the run was made without ``event_log=True``.

        The whole log comes into memory; ``event_chunks()`` reads it a chunk at a time.
        """
        if self.raw.events is None:
            return None
        return self.raw.events.frame(*self._event_names())

    def event_chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the event log in time order, a chunk at a time (memory: one chunk)."""
        if self.raw.events is None:
            raise ValueError("the run kept no event log; run it with event_log=True")
        return self.raw.events.chunks(*self._event_names())

    def _event_names(self) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
        journey = self.raw.journey
        silos = tuple(journey.silo_names[s] if s >= 0 else None for s in journey.silo)
        return journey.names, silos

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per period with arrivals, failures, contacts, escalations, churn, revenue."""
        return timeseries(self.raw, self.scenario)

    @cached_property
    def summary(self) -> dict:
        """Headline metrics of the measured customers (after the warm-up)."""
        raw = self.raw
        what_ifs = [w for _, w in self.arm.what_ifs]
        cost = intervention_cost(what_ifs, self.scenario, raw.arrivals_end, raw.empowerment_spend)
        summary = summarise(raw, self.scenario, self.seed, self.timeseries, cost)
        summary["what_if"] = self.arm.label
        return summary

    @cached_property
    def spiral(self) -> pd.DataFrame:
        """Severity, churn and escalations by number of failures: the death spiral."""
        return spiral_table(self.raw.customers.folded())

    @cached_property
    def by_failure_step(self) -> pd.DataFrame:
        """Churn and revenue at risk by the step where customers' first failure was born."""
        return by_failure_step(self.raw.customers.folded(), self.scenario, self.raw.journey.names)

    @cached_property
    def by_segment(self) -> pd.DataFrame:
        """Churn, silence and revenue at risk per customer segment (one row if none)."""
        return by_segment(self.raw.customers.folded(), self.scenario)

    @cached_property
    def silos(self) -> pd.DataFrame:
        """Utilisation, waits and cost per silo."""
        return silo_table(self.raw, self.scenario)


def run(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    event_log: bool = False,
    what_if: str | Arm | None = None,
    engine: str = "des",
    progress: Callable[[float], None] | None = None,
    customers: bool = True,
) -> RunResult:
    """Simulate a scenario (validated, or a file or built-in name) once; seed: its own.

    ``what_if`` switches on the scenario's what-ifs: a name, ``'a+b'`` or ``'name@10%'``.
    ``engine``: ``'des'`` (SimPy, everything), ``'vectorised'`` (numpy, for unlimited staff
    and no loops, no event log or what-ifs) or ``'auto'`` (vectorised where it can).
    ``progress(fraction)`` is called now and then with the share of the run done.
    ``customers``: keep the customer table (spooled to disk as the run goes, read on
    request by ``.customers``); every metric is exact without it, and memory stays flat.
    """
    if not isinstance(scenario, Scenario):
        from spiral.model.loading import load_scenario

        scenario = load_scenario(scenario)  # a file or a built-in name
    seed = scenario.seed if seed is None else seed
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    arm = Arm(BASELINE) if what_if is None else what_if
    if isinstance(arm, str):
        arm = parse_arm(arm, scenario)
    raw = simulate(scenario, seed, engine, event_log, arm.what_ifs, progress, customers)
    return RunResult(scenario, seed, raw, arm)
