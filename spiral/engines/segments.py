"""Customer segments as the engines see them: one scenario per segment, and who is in which.

A segment's customers walk the same journey as everyone else; they differ in how much
severity they take before acting (``rules.tolerant``), how readily a failure makes them
get in touch (``rules.voiced``) and what they are worth. The analytic engine solves one
chain per segment and mixes them by share; the vectorised engine runs each segment's
customers as a group; the SimPy engine gives each customer its segment's rules.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from spiral.engines import rules
from spiral.model.scenario import Scenario

SEGMENT_STREAM = ("outcome", "segment")
"""A segment is drawn at arrival from its own stream: what-ifs never move a customer."""


@dataclass(frozen=True)
class SegmentView:
    """One segment: its name, share of arrivals and the scenario its customers live in."""

    name: str
    share: float
    scenario: Scenario


def segment_views(scenario: Scenario) -> list[SegmentView]:
    """Return the scenario as each segment's customers live it (one view if none declared)."""
    if not scenario.segments:
        return [SegmentView("all", 1.0, scenario)]
    views = []
    for name, segment in scenario.segments.items():
        steps = {
            key: step.model_copy(
                update={
                    "complain": rules.voiced(step.complaint_probability(), segment.complain),
                    "loss": None,
                }
            )
            for key, step in scenario.steps.items()
        }
        money = scenario.money
        if segment.value is not None:
            money = money.model_copy(update={"revenue_per_retained": segment.value})
        view = scenario.model_copy(
            update={
                "steps": steps,
                "experience": rules.tolerant(scenario.experience, segment.tolerance),
                "money": money,
                "segments": {},
            }
        )
        views.append(SegmentView(name, segment.share, view))
    return views


def segment_edges(shares: list[float]) -> list[float]:
    """Return the cumulative shares that separate the segments (one fewer than segments)."""
    return np.cumsum(shares)[:-1].tolist()


def segment_of(u: np.ndarray | float, shares: list[float]) -> np.ndarray | int:
    """Return the segment index of customers from U(0, 1) draws: by cumulative share."""
    edges = segment_edges(shares)
    if isinstance(u, np.ndarray):
        return np.searchsorted(edges, u, side="right")
    return bisect.bisect_right(edges, u)
