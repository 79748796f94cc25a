"""How long a fitted journey's cases are: expected visits and time per case, exactly.

A first-order fit is an absorbing Markov chain over the activities: expected visits are
the start vector times the fundamental matrix N = (I − Q)⁻¹ (Kemeny & Snell 1960). A set
of activities no case leaves makes I − Q singular (no finite answer); the scenario
checks refuse such a loop before this is asked.
"""

from __future__ import annotations

import numpy as np

from spiral.model.graph import build_graph
from spiral.model.scenario import Scenario


def visits_per_case(scenario: Scenario) -> dict[str, float] | None:
    """Return the expected visits per case to each step and contact (None: a loop has no exit)."""
    graph = build_graph(scenario)
    nodes = [n for n in scenario.node_names() if n not in scenario.outcomes]
    index = {n: i for i, n in enumerate(nodes)}
    q = np.zeros((len(nodes), len(nodes)))
    for u, v, data in graph.edges(data=True):
        if u in index and v in index:
            q[index[u], index[v]] += data["p"]
    start = np.zeros(len(nodes))
    for node, p in scenario.start.items():
        if node in index:
            start[index[node]] += p
    try:
        visits = np.linalg.solve((np.eye(len(nodes)) - q).T, start)
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(visits).all() or (visits < -1e-9).any():
        return None
    return {n: float(max(v, 0.0)) for n, v in zip(nodes, visits, strict=True)}


def expected_visits(scenario: Scenario) -> float:
    """Return the expected visits to steps and contacts per case (inf if a loop has no exit)."""
    visits = visits_per_case(scenario)
    return float("inf") if visits is None else sum(visits.values())


def expected_duration(scenario: Scenario) -> float:
    """Return a case's expected time in minutes with unlimited staff (inf if it never ends)."""
    visits = visits_per_case(scenario)
    if visits is None:
        return float("inf")
    nodes = {**scenario.steps, **scenario.contacts}
    return sum(
        v * (nodes[n].service.mean() if n in scenario.steps else nodes[n].handling.mean())
        for n, v in visits.items()
    )
