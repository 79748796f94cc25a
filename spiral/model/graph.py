"""The journey graph: a networkx DiGraph built from a scenario, and its structural checks.

The checks run on every load, so they walk plain dicts of the same nodes and edges: importing
networkx costs a tenth of a second, which ``spiral explain``'s one-second answer cannot spare.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from spiral.model.scenario import Scenario

if TYPE_CHECKING:
    import networkx as nx

STEP, CONTACT, OUTCOME = "step", "contact", "outcome"
START = "__start__"
ROUTING_TOLERANCE = 1e-6


def _branches(scenario: Scenario) -> dict[str, dict[str, tuple[float, dict[str, float]]]]:
    """Return, per node, each named branch as (branch probability, routing)."""
    out: dict[str, dict[str, tuple[float, dict[str, float]]]] = {}
    for name, step in scenario.steps.items():
        out[name] = {"next": (1.0 - step.failure, step.next)}
        if step.on_failure is not None:
            voiced = step.complaint_probability()
            out[name]["failure"] = (step.failure * voiced, step.on_failure)
            if voiced < 1.0:
                out[name]["silent"] = (step.failure * (1.0 - voiced), step.silent_route())
    for name, contact in scenario.contacts.items():
        out[name] = {
            "resolved": (contact.fcr, contact.resolved),
            "unresolved": (1.0 - contact.fcr, contact.unresolved),
        }
        if contact.give_up is not None:
            out[name]["give_up"] = (0.0, {contact.give_up: 1.0})
    for name, outcome in scenario.outcomes.items():
        out[name] = {"next": (1.0, outcome.next)} if outcome.next else {}
    return out


def _nodes(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Return each node's attributes: kind, silo, self_service (contacts: gives_up)."""
    nodes: dict[str, dict[str, Any]] = {}
    for name, step in scenario.steps.items():
        nodes[name] = {"kind": STEP, "silo": step.silo, "self_service": step.self_service}
    for name, contact in scenario.contacts.items():
        nodes[name] = {
            "kind": CONTACT,
            "silo": contact.silo,
            "self_service": False,
            "gives_up": contact.patience is not None and contact.redial < 1,
        }
    for name in scenario.outcomes:
        nodes[name] = {"kind": OUTCOME, "silo": None, "self_service": True}
    return nodes


def _edges(
    scenario: Scenario, nodes: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Return each edge's ``p``, ``branches`` and ``handoff`` (see ``build_graph``)."""
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for source, branches in _branches(scenario).items():
        for branch, (weight, routing) in branches.items():
            for target, prob in routing.items():
                if target not in nodes:
                    continue  # reported by _reference_problems
                data = edges.setdefault((source, target), {"p": 0.0, "branches": {}})
                data["p"] += weight * prob
                data["branches"][branch] = prob
    for (u, v), data in edges.items():
        su, sv = nodes[u]["silo"], nodes[v]["silo"]
        data["handoff"] = su is not None and sv is not None and su != sv
    return edges


def build_graph(scenario: Scenario) -> nx.DiGraph:
    """Return the journey as a DiGraph; edges carry ``p`` (base probability) and ``branches``.

    ``p`` is the probability of the transition for a customer who has not failed yet, with
    unlimited staff (no abandonment): the transition matrix of the journey's Markov chain
    when there is no compounding. An edge whose nodes belong to different silos has
    ``handoff=True``.
    """
    import networkx as nx

    graph = nx.DiGraph(name=scenario.name)
    nodes = _nodes(scenario)
    graph.add_nodes_from(nodes.items())
    graph.graph["start"] = dict(scenario.start)
    graph.add_edges_from((u, v, data) for (u, v), data in _edges(scenario, nodes).items())
    return graph


def _reference_problems(scenario: Scenario) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    nodes = scenario.node_names()
    known = set(nodes)
    seen: set[str] = set()
    for section in ("steps", "contacts", "outcomes"):
        for name in getattr(scenario, section):
            if name in seen:
                problems.append((f"{section}.{name}", "duplicate node name; expected unique names"))
            seen.add(name)

    def check_routing(where: str, routing: dict[str, float] | None) -> None:
        if routing is None:
            return
        for target in routing:
            if target not in known:
                problems.append(
                    (where, f"unknown node {target!r} (expected one of: {', '.join(nodes)})")
                )
        total = sum(routing.values())
        if not math.isclose(total, 1.0, abs_tol=ROUTING_TOLERANCE):
            problems.append((where, f"routing probabilities sum to {total:g}, expected 1"))

    check_routing("start", scenario.start)
    silos = set(scenario.silos)
    for section in ("steps", "contacts"):
        for name, node in getattr(scenario, section).items():
            if node.silo not in silos:
                problems.append(
                    (
                        f"{section}.{name}.silo",
                        f"unknown silo {node.silo!r} "
                        f"(expected one of: {', '.join(scenario.silos)})",
                    )
                )
    for name, step in scenario.steps.items():
        check_routing(f"steps.{name}.next", step.next)
        check_routing(f"steps.{name}.on_failure", step.on_failure)
        check_routing(f"steps.{name}.silent", step.silent)
        if step.failure > 0 and step.on_failure is None:
            problems.append(
                (f"steps.{name}.on_failure", "missing: expected a node for failures (failure > 0)")
            )
        for field in ("complain", "loss", "silent"):
            if getattr(step, field) is not None and step.on_failure is None:
                problems.append(
                    (
                        f"steps.{name}.{field}",
                        "needs on_failure: expected where the customers who complain go",
                    )
                )
    for name, contact in scenario.contacts.items():
        check_routing(f"contacts.{name}.resolved", contact.resolved)
        check_routing(f"contacts.{name}.unresolved", contact.unresolved)
        if contact.give_up is not None and contact.give_up not in scenario.outcomes:
            problems.append(
                (
                    f"contacts.{name}.give_up",
                    f"unknown outcome {contact.give_up!r} "
                    f"(expected one of: {', '.join(scenario.outcomes)})",
                )
            )
    for name, outcome in scenario.outcomes.items():
        check_routing(f"outcomes.{name}.next", outcome.next)
    return problems


def _closure(following: dict[str, list[str]], seeds: Iterable[str]) -> set[str]:
    """Return the seeds and every node reached from them along ``following``."""
    seen = set(seeds)
    todo = list(seen)
    while todo:
        for other in following.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _structure_problems(scenario: Scenario) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    nodes = _nodes(scenario)
    edges = _edges(scenario, nodes)
    successors: dict[str, list[str]] = {}
    for u, v in edges:
        successors.setdefault(u, []).append(v)
    outcomes = [n for n, data in nodes.items() if data["kind"] == OUTCOME]
    for name in outcomes:
        if successors.get(name):
            targets = ", ".join(successors[name])
            problems.append(
                (f"outcomes.{name}", f"outcome has outgoing edges to {targets}; expected none")
            )
    reachable = _closure(successors, (n for n, p in scenario.start.items() if n in nodes and p > 0))
    for name in nodes:
        if name not in reachable:
            problems.append((_where(nodes, name), "unreachable from start; expected a path to it"))
    live_predecessors: dict[str, list[str]] = {}
    for (u, v), data in edges.items():
        if data["p"] > 0 or ("give_up" in data["branches"] and nodes[u].get("gives_up")):
            live_predecessors.setdefault(v, []).append(u)
    can_finish = _closure(live_predecessors, outcomes)
    for name in nodes:
        if name in reachable and name not in can_finish:
            problems.append(
                (
                    _where(nodes, name),
                    "cannot reach any outcome (customers would loop forever); "
                    "expected a path with positive probability to an outcome",
                )
            )
    return problems


def _where(nodes: dict[str, dict[str, Any]], name: str) -> str:
    section = {STEP: "steps", CONTACT: "contacts", OUTCOME: "outcomes"}[nodes[name]["kind"]]
    return f"{section}.{name}"


def _time_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Return dated things that name an unknown node or fall past the horizon."""
    problems = []
    horizon = scenario.horizon
    places = [*scenario.steps, *scenario.contacts]
    past = f"after the horizon ({horizon or 0:g} min); expected a time within it"
    for k, surge in enumerate(scenario.arrivals.timeline):
        if horizon is not None and surge.end > horizon:
            problems.append(
                (
                    f"arrivals.timeline[{k}].end",
                    f"{surge.end:g} min is after the horizon ({horizon:g} min); expected the "
                    "surge to end within it (end: the horizon, for 'to the end')",
                )
            )
    for k, burst in enumerate(scenario.arrivals.events):
        if burst.node not in places:
            problems.append(
                (
                    f"arrivals.events[{k}].node",
                    f"unknown node {burst.node!r} (expected a step or a contact point: "
                    f"{', '.join(places)})",
                )
            )
        if horizon is None:
            problems.append(
                (f"arrivals.events[{k}]", "expected a horizon: a burst is dated, not counted")
            )
        elif burst.at + burst.over > horizon:
            problems.append(
                (
                    f"arrivals.events[{k}].at",
                    f"the burst ends at {burst.at + burst.over:g} min, after the horizon "
                    f"({horizon:g} min); expected it to end within the horizon",
                )
            )
    for name, silo in scenario.silos.items():
        for k, change in enumerate(silo.changes):
            if horizon is not None and change.start >= horizon:
                problems.append(
                    (f"silos.{name}.changes[{k}].start", f"{change.start:g} min is {past}")
                )
    return problems


def check_scenario(scenario: Scenario) -> list[tuple[str, str]]:
    """Return the structural problems of a scenario as (field, what was expected) pairs."""
    problems = _reference_problems(scenario) + _time_problems(scenario)
    if problems:
        return problems
    return _structure_problems(scenario)
