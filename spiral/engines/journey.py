"""The compiled journey: a validated scenario as flat, indexed tables for the engines."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from spiral.model.scenario import Scenario

STEP, CONTACT, OUTCOME = 0, 1, 2


KIND_NAMES = ("step", "contact", "outcome")


@dataclass(frozen=True)
class Route:
    """A routing table: targets and their cumulative probabilities."""

    targets: tuple[int, ...]
    cumulative: tuple[float, ...]

    def pick(self, u: float) -> int:
        """Return the target for a uniform draw ``u``."""
        targets = self.targets
        if len(targets) == 1:
            return targets[0]
        return targets[min(bisect_right(self.cumulative, u), len(targets) - 1)]

    def probabilities(self) -> dict[int, float]:
        """Return target -> probability."""
        out: dict[int, float] = {}
        previous = 0.0
        for target, cum in zip(self.targets, self.cumulative, strict=True):
            out[target] = out.get(target, 0.0) + cum - previous
            previous = cum
        return out


def _route(routing: dict[str, float] | None, index: dict[str, int]) -> Route | None:
    if not routing:
        return None
    items = [(index[name], p) for name, p in routing.items() if p > 0]
    total = sum(p for _, p in items)
    cumulative = tuple(c / total for c in accumulate(p for _, p in items))
    return Route(tuple(t for t, _ in items), cumulative)


@dataclass(frozen=True)
class Journey:
    """Nodes of a scenario by index, with everything the engines read per visit."""

    names: tuple[str, ...]
    kind: tuple[int, ...]
    silo: tuple[int, ...]
    silo_names: tuple[str, ...]
    staff: tuple[int | None, ...]
    staffed: tuple[bool, ...]
    paid: tuple[bool, ...]
    failure: tuple[float, ...]
    fcr: tuple[float, ...]
    success: tuple[Route | None, ...]
    failed: tuple[Route | None, ...]
    start: Route
    churn_outcome: tuple[bool, ...]
    patience: tuple[bool, ...]
    redial: tuple[float, ...]
    give_up: tuple[int, ...]
    baton: tuple[float, ...]
    ping_pong: tuple[float, ...]
    empowerment: tuple[tuple[float, float] | None, ...]  # (limit, mean cost) at contacts
    complain: tuple[float, ...]  # P(a failure at a step is voiced); 1 elsewhere
    silent: tuple[Route | None, ...]  # where a step's silent sufferers go
    facing: tuple[bool, ...]  # contacts and customer-facing steps (rules.handoff_seen)

    @property
    def size(self) -> int:
        """Return the number of nodes."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Return the index of a node name."""
        return self.names.index(name)


def compile_journey(scenario: Scenario) -> Journey:
    """Return the indexed form of a validated scenario."""
    names = tuple(scenario.node_names())
    index = {name: i for i, name in enumerate(names)}
    silo_names = tuple(scenario.silos)
    silo_index = {name: i for i, name in enumerate(silo_names)}
    staff = tuple(
        None if silo.staff == "unlimited" else int(silo.staff) for silo in scenario.silos.values()
    )
    paid = []
    kind, silo, staffed, failure, fcr, success, failed = [], [], [], [], [], [], []
    churn, patience, redial, give_up = [], [], [], []
    baton, ping_pong, empowerment = [], [], []
    complain: list[float] = []
    silent: list[Route | None] = []
    facing: list[bool] = []
    experience = scenario.experience
    for name in names:
        if name in scenario.steps:
            node = scenario.steps[name]
            kind.append(STEP)
            silo.append(silo_index[node.silo])
            staffed.append(not node.self_service and staff[silo_index[node.silo]] is not None)
            paid.append(not node.self_service)
            failure.append(node.failure)
            fcr.append(0.0)
            success.append(_route(node.next, index))
            failed.append(_route(node.on_failure, index))
            complain.append(node.complaint_probability() if node.on_failure else 1.0)
            silent.append(_route(node.silent_route(), index) if node.on_failure else None)
            facing.append(node.customer_facing)
            patience.append(False)
            redial.append(0.0)
            give_up.append(-1)
            churn.append(False)
        elif name in scenario.contacts:
            node = scenario.contacts[name]
            kind.append(CONTACT)
            silo.append(silo_index[node.silo])
            staffed.append(staff[silo_index[node.silo]] is not None)
            paid.append(True)
            failure.append(0.0)
            fcr.append(node.fcr)
            success.append(_route(node.resolved, index))
            failed.append(_route(node.unresolved, index))
            complain.append(1.0)
            silent.append(None)
            facing.append(True)
            patience.append(node.patience is not None)
            redial.append(node.redial)
            give_up.append(index[node.give_up] if node.give_up else -1)
            churn.append(False)
        else:
            kind.append(OUTCOME)
            silo.append(-1)
            staffed.append(False)
            paid.append(False)
            failure.append(0.0)
            fcr.append(0.0)
            success.append(None)
            failed.append(None)
            complain.append(1.0)
            silent.append(None)
            facing.append(False)
            patience.append(False)
            redial.append(0.0)
            give_up.append(-1)
            churn.append(scenario.outcomes[name].kind == "churn")
        owner = scenario.silos[node.silo] if name not in scenario.outcomes else None
        own_baton = owner.baton if owner is not None else None
        own_ping_pong = owner.ping_pong if owner is not None else None
        baton.append(experience.baton if own_baton is None else own_baton)
        ping_pong.append(experience.ping_pong if own_ping_pong is None else own_ping_pong)
        rule = scenario.contacts[name].empowerment if name in scenario.contacts else None
        empowerment.append(None if rule is None else (rule.limit, rule.mean_cost))
    start = _route(scenario.start, index)
    assert start is not None  # validated: start routing sums to 1
    return Journey(
        names=names,
        kind=tuple(kind),
        silo=tuple(silo),
        silo_names=silo_names,
        staff=staff,
        staffed=tuple(staffed),
        paid=tuple(paid),
        failure=tuple(failure),
        fcr=tuple(fcr),
        success=tuple(success),
        failed=tuple(failed),
        start=start,
        churn_outcome=tuple(churn),
        patience=tuple(patience),
        redial=tuple(redial),
        give_up=tuple(give_up),
        baton=tuple(baton),
        ping_pong=tuple(ping_pong),
        empowerment=tuple(empowerment),
        complain=tuple(complain),
        silent=tuple(silent),
        facing=tuple(facing),
    )
