"""Interventions: apply what-ifs to a scenario (a new scenario; the base is never mutated).

``apply`` gives the scenario as if the what-ifs reached everyone from time zero; the
engine uses it per pilot group and switches it on at each what-if's start time. An
*arm* of a comparison is one or more what-ifs, written ``name``, ``a+b`` (combined) or
``name@10%`` (the same what-if as a pilot for 10% of customers).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from spiral.model.arrivals import Surge
from spiral.model.errors import ScenarioError, problem
from spiral.model.scenario import Empowerment, Scenario
from spiral.model.what_if import (
    AddStaff,
    BackOfficeSupport,
    Demand,
    Empower,
    ExtraShift,
    FeedbackLoop,
    FixStep,
    InviteComplaints,
    MoveStaff,
    RecoveryTraining,
    WarmHandoffs,
    WhatIf,
)

BASELINE = "baseline"


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: a label and the what-ifs it switches on (none: baseline)."""

    label: str
    what_ifs: tuple[tuple[str, WhatIf], ...] = ()


def staff_changes(what_if: WhatIf, scenario: Scenario) -> dict[str, int]:
    """Return the change in staff per silo a what-if makes."""
    delta: dict[str, int] = {}
    for change in what_if.changes:
        if isinstance(change, AddStaff):
            delta[change.silo] = delta.get(change.silo, 0) + change.count
        elif isinstance(change, MoveStaff):
            delta[change.from_silo] = delta.get(change.from_silo, 0) - change.count
            delta[change.to_silo] = delta.get(change.to_silo, 0) + change.count
    return delta


def apply(scenario: Scenario, what_ifs: list[WhatIf] | tuple[WhatIf, ...]) -> Scenario:
    """Return the scenario with the what-ifs' changes made, as if everyone had them from t=0."""
    steps = dict(scenario.steps)
    contacts = dict(scenario.contacts)
    silos = dict(scenario.silos)
    experience, loops = scenario.experience, scenario.loops

    def update(model, **fields):  # noqa: ANN001, ANN202 - any frozen pydantic model
        return model.model_copy(update=fields)

    for what_if in what_ifs:
        wanted = what_if.scope.silos

        def reached(silo: str, wanted: list[str] | None = wanted) -> bool:
            return wanted is None or silo in wanted

        def chosen(names: list[str] | None) -> list[str]:
            pool = contacts if names is None else names
            return [n for n in pool if reached(contacts[n].silo)]

        for silo, delta in staff_changes(what_if, scenario).items():
            staff = silos[silo].staff
            silos[silo] = update(silos[silo], staff=max(1, int(staff) + delta))
        for change in what_if.changes:
            if isinstance(change, FixStep) and reached(steps[change.step].silo):
                step = steps[change.step]
                p = step.failure * change.factor if change.factor else min(step.failure, change.to)
                steps[change.step] = update(step, failure=p)
            elif isinstance(change, BackOfficeSupport) and reached(change.silo):
                for name, step in steps.items():
                    if step.silo == change.silo:
                        steps[name] = update(
                            step,
                            failure=step.failure * change.failure_factor,
                            service=step.service.scaled(change.time_factor),
                        )
            elif isinstance(change, RecoveryTraining):
                for name in chosen(change.contacts):
                    contacts[name] = update(
                        contacts[name], fcr=min(1.0, contacts[name].fcr + change.fcr_gain)
                    )
                if change.recovery_effect is not None:
                    loyalty = update(experience.loyalty, recovery_effect=change.recovery_effect)
                    experience = update(experience, loyalty=loyalty)
            elif isinstance(change, WarmHandoffs):
                fields = {"baton": change.baton}
                if change.ping_pong is not None:
                    fields["ping_pong"] = change.ping_pong
                if wanted is None:
                    experience = update(experience, **fields)
                for name in wanted if wanted is not None else list(silos):
                    if wanted is not None or any(
                        getattr(silos[name], key) is not None for key in fields
                    ):  # a silo's own value would win over experience's
                        silos[name] = update(silos[name], **fields)
            elif isinstance(change, FeedbackLoop):
                fields = {"enabled": True}
                for name in ("fix_share", "fix_effect", "slack_below"):
                    if getattr(change, name) is not None:
                        fields[name] = getattr(change, name)
                loops = update(loops, learning=update(loops.learning, **fields))
            elif isinstance(change, InviteComplaints):
                for name in change.steps if change.steps is not None else list(steps):
                    step = steps[name]
                    if reached(step.silo):
                        voiced = min(1.0, step.complaint_probability() * change.factor)
                        steps[name] = update(step, complain=voiced, loss=None)
            elif isinstance(change, Empower):
                rule = Empowerment(limit=change.limit, mean_cost=change.mean_cost)
                for name in chosen(change.contacts):
                    contacts[name] = update(contacts[name], empowerment=rule)
    return scenario.model_copy(
        update={
            "steps": steps,
            "contacts": contacts,
            "silos": silos,
            "experience": experience,
            "loops": loops,
        }
    )


def with_demand(scenario: Scenario, what_ifs: list[WhatIf] | tuple[WhatIf, ...]) -> Scenario:
    """Return the scenario with the what-ifs' demand changes in its arrivals timeline.

    Demand reaches every customer, so it changes the world the arm runs in, not a node.
    Factors multiply where stretches overlap (a +20% what-if during a +50% surge: ×1.8).
    """
    layers = [
        (c.start_at, c.end_at, c.factor)
        for what_if in what_ifs
        for c in what_if.changes
        if isinstance(c, Demand)
    ]
    if not layers:
        return scenario
    layers += [(s.start, s.end, s.factor) for s in scenario.arrivals.timeline]
    edges = sorted({t for start, end, _ in layers for t in (start, end)})
    timeline: list[Surge] = []
    for start, end in zip(edges, edges[1:], strict=False):
        factor = math.prod(f for a, b, f in layers if a <= start and end <= b)
        if timeline and timeline[-1].end == start and timeline[-1].factor == factor:
            start = timeline.pop().start  # one stretch, not two
        if factor != 1.0:
            timeline.append(Surge.model_construct(start=start, end=end, factor=factor))
    arrivals = scenario.arrivals.model_copy(update={"timeline": timeline})
    return scenario.model_copy(update={"arrivals": arrivals})


def what_if_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Return (field, expected) for what-if changes naming unknown or unfit nodes and silos."""
    problems: list[tuple[str, str]] = []
    silos, steps, contacts = scenario.silos, scenario.steps, scenario.contacts
    horizon = scenario.horizon

    def known(where: str, name: str, pool: dict, what: str) -> None:
        if name not in pool:
            expected = ", ".join(pool) or "none declared"
            problems.append((where, f"unknown {what} {name!r} (expected one of: {expected})"))

    for key, what_if in scenario.what_ifs.items():
        at = f"what_ifs.{key}"
        if key == BASELINE or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            problems.append(
                (at, "expected a name of letters, digits, '_', '.' or '-', other than 'baseline'")
            )
        for name in what_if.scope.silos or []:
            known(f"{at}.scope.silos", name, silos, "silo")
        for name in what_if.scope.segments or []:
            known(f"{at}.scope.segments", name, scenario.segments, "segment")
        for i, change in enumerate(what_if.changes):
            where = f"{at}.changes[{i}]"
            if isinstance(change, FixStep):
                known(f"{where}.step", change.step, steps, "step")
            elif isinstance(change, BackOfficeSupport):
                known(f"{where}.silo", change.silo, silos, "silo")
            elif isinstance(change, InviteComplaints):
                for name in change.steps or []:
                    known(f"{where}.steps", name, steps, "step")
            elif isinstance(change, RecoveryTraining | Empower):
                for name in change.contacts or []:
                    known(f"{where}.contacts", name, contacts, "contact point")
            elif isinstance(change, ExtraShift):
                known(f"{where}.silo", change.silo, silos, "silo")
                if change.silo in silos and silos[change.silo].staff == "unlimited":
                    expected = "has unlimited staff; expected a silo with a staff count"
                    problems.append((f"{where}.silo", f"silo {change.silo!r} {expected}"))
            elif isinstance(change, Demand) and horizon is not None and change.end_at > horizon:
                problems.append(
                    (
                        f"{where}.to",
                        f"{change.end_at:g} min is after the horizon ({horizon:g} min); "
                        "expected the change to end within it",
                    )
                )
            elif isinstance(change, AddStaff | MoveStaff):
                if isinstance(change, AddStaff) and change.until is not None:
                    if change.until <= what_if.start:
                        problems.append(
                            (
                                f"{where}.until",
                                f"{change.until:g} min is not after the what-if starts "
                                f"({what_if.start:g} min); expected a later time",
                            )
                        )
                names = (
                    [change.silo]
                    if isinstance(change, AddStaff)
                    else [change.from_silo, change.to_silo]
                )
                for name in names:
                    known(f"{where}.silo", name, silos, "silo")
                    if name in silos and silos[name].staff == "unlimited":
                        expected = "has unlimited staff; expected a silo with a staff count"
                        problems.append((f"{where}.silo", f"silo {name!r} {expected}"))
        if problems:
            continue
        for silo, delta in staff_changes(what_if, scenario).items():
            if delta < 0 and int(silos[silo].staff) + delta < 1:
                problems.append(
                    (
                        f"{at}.changes",
                        f"leaves silo {silo!r} with {int(silos[silo].staff) + delta} staff; "
                        "expected at least 1",
                    )
                )
    return problems


_ARM = re.compile(r"^(?P<names>[^@]+?)(?:@(?P<share>[0-9]+(?:\.[0-9]+)?)%)?$")


def parse_arm(text: str, scenario: Scenario, source: str = "--what-if") -> Arm:
    """Return the arm for ``name``, ``a+b`` or ``name@10%``; unknown names raise ScenarioError."""
    match = _ARM.match(text.strip())
    if not match:
        raise problem(source, text, "expected a what-if name, 'a+b' or 'name@10%'")
    share = None
    if match["share"] is not None:
        share = float(match["share"]) / 100
        if not 0 <= share <= 1:
            raise problem(source, text, "expected a pilot share between 0% and 100%")
    chosen = []
    names = [name.strip() for name in match["names"].split("+")]
    if len(set(names)) < len(names):
        raise problem(source, text, "a what-if named twice; expected each once")
    for name in names:
        if name not in scenario.what_ifs:
            known = ", ".join(scenario.what_ifs) or "none: add them under what_ifs:"
            raise problem(source, name, f"unknown what-if (expected one of: {known})")
        what_if = scenario.what_ifs[name]
        if share is not None:
            if staff_changes(what_if, scenario):
                raise problem(
                    source, text, "staff changes reach every customer; expected no pilot share"
                )
            scope = what_if.scope.model_copy(update={"customers": share})
            what_if = what_if.model_copy(update={"scope": scope})
        chosen.append((name, what_if))
    label = "+".join(names) + (f"@{match['share']}%" if share is not None else "")
    return Arm(label, tuple(chosen))


def with_what_ifs(scenario: Scenario, extra: dict[str, WhatIf]) -> Scenario:
    """Return the scenario with more what-ifs (from the command line) added to its own."""
    clash = set(extra) & set(scenario.what_ifs)
    if clash:
        expected = "already defined in the scenario; expected a new name"
        raise ScenarioError("--what-if", [(name, expected) for name in sorted(clash)])
    return scenario.model_copy(update={"what_ifs": {**scenario.what_ifs, **extra}})


def intervention_cost(
    what_ifs: tuple[WhatIf, ...] | list[WhatIf],
    scenario: Scenario,
    arrivals_end: float,
    empowerment_spend: float = 0.0,
) -> float:
    """Return what the what-ifs cost over a run: one-off, per period while on, and spend.

    Periods are counted from the later of the start and the warm-up to the end of
    arrivals; a pilot (or a what-if for some segments) pays its share of the per-period
    cost; a 0% pilot costs nothing.
    """
    total = empowerment_spend
    for what_if in what_ifs:
        share = what_if.scope.customers * reached_share(what_if, scenario)
        if share <= 0 or what_if.start >= arrivals_end:
            continue
        on = max(arrivals_end - max(what_if.start, scenario.warmup), 0.0)
        total += what_if.cost.one_off + what_if.cost.per_period * share * on / scenario.period
    return total


def reached_share(what_if: WhatIf, scenario: Scenario) -> float:
    """Return the share of arrivals in the segments a what-if reaches (1: all of them)."""
    wanted = what_if.scope.segments
    if wanted is None:
        return 1.0
    return sum(s.share for name, s in scenario.segments.items() if name in wanted)
