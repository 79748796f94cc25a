"""The early warning: the day a team's work pressure passed the point where the spiral starts.

The runaway verdict needs the damage done (a step failing at twice its base, a backlog
that grows); the fold comes days or weeks earlier, when a team's work pressure passes
its erosion threshold and its standard starts to fall (or, without erosion, when more
work arrives than its staff can do). The warning fires at the first period whose
pressure and the next period's are both above that line, and says from the loop gain at
the scenario's standard whether cutting corners will keep up (gain below 1: a lasting
loss of quality) or feed the spiral (above 1: expect a runaway). docs/model.md, section
"The tipping point", gives the rule and why it is not a critical-slowing-down test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from spiral.analysis.tipping_point import loop_gain, work_when_cut
from spiral.model.scenario import Scenario

DAY = 1440.0
RUNNING = 2  # periods in a row above the line: one noisy period is not a warning
FAILURE_DOUBLED = 2.0

_gains: dict[tuple[str, str], float] = {}


@dataclass(frozen=True)
class EarlyWarning:
    """When and where the warning fired, and what the loop gain says will follow."""

    day: float
    silo: str
    pressure: float
    threshold: float
    eroding: bool
    gain: float | None

    def reason(self) -> str:
        """Return the warning as one sentence."""
        where = f"day {self.day:g}: {self.silo}'s work pressure {self.pressure:.2f}"
        if not self.eroding:
            return f"{where} above 1: more work arrives than its staff can do"
        text = f"{where} passed the erosion threshold {self.threshold:g}: corners are being cut"
        if self.gain is None:
            return text
        if self.gain >= 1:
            return (
                f"{text}; loop gain {self.gain:.2f} > 1, each minute cut brings back more "
                "work than it saves: expect a runaway"
            )
        return (
            f"{text}; loop gain {self.gain:.2f} < 1, cutting corners gives time back: the team "
            "can settle at a lower standard (lasting damage) unless demand passes the rate "
            "where it runs away (spiral explain --tipping-point)"
        )


def gain_of(scenario: Scenario, silo: str) -> float:
    """Return the silo's loop gain at the scenario's standard (remembered per scenario)."""
    key = (hashlib.sha256(scenario.model_dump_json().encode()).hexdigest(), silo)
    if key not in _gains:
        _gains[key] = loop_gain(work_when_cut(scenario, silo))
    return _gains[key]


def early_warning(series: pd.DataFrame, scenario: Scenario) -> EarlyWarning | None:
    """Return the first warning in the periods of ``series`` (before arrivals stop), or None."""
    erosion = scenario.loops.erosion
    eroding = erosion.enabled and erosion.model == "standard"
    line = erosion.threshold if eroding else 1.0
    found: list[tuple[int, str, float]] = []  # (period, silo, pressure)
    for column in series.filter(like="pressure_"):
        pressure = series[column].to_numpy()
        above = pressure > line
        for k in range(len(pressure)):
            if len(above[k : k + RUNNING]) == RUNNING and above[k : k + RUNNING].all():
                found.append((k, column.removeprefix("pressure_"), float(pressure[k])))
                break
    if not found:
        return None
    k, silo, pressure_then = min(found)
    day = float(series["start"].iloc[k]) / DAY
    gain = gain_of(scenario, silo) if eroding else None
    return EarlyWarning(day, silo, pressure_then, line, eroding, gain)


def failure_doubled_day(series: pd.DataFrame, base_failure: dict[str, float]) -> float | None:
    """Return the day a step first failed at twice its base probability (None: never)."""
    days = []
    for step, p0 in base_failure.items():
        column = f"failure_{step}"
        if p0 > 0 and column in series:
            hit = (series[column] >= FAILURE_DOUBLED * p0).to_numpy()
            if hit.any():
                days.append(float(series["start"].iloc[int(hit.argmax())]) / DAY)
    return min(days) if days else None
