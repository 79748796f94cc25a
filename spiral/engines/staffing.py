"""Staff on duty in the SimPy engine: a silo's servers, and the process that rosters them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import simpy

from spiral.model.scenario import Scenario
from spiral.model.staffing import Silo as SiloModel
from spiral.model.what_if import AddStaff, ExtraShift, WhatIf
from spiral.model.what_if_arms import staff_changes


class Silo(simpy.Resource):
    """A silo's staff: a SimPy ``Resource`` with a fast path when someone is free.

    ``request()`` schedules an event and resumes the process even when a server is
    free; ``seize`` takes a free server at once and only falls back to a real
    ``Request`` (and a queue) when every server is busy. ``free`` releases either
    kind and lets the queue move on, exactly as ``release`` does.
    """

    def seize(self, holder: object) -> simpy.resources.resource.Request | None:
        """Take a free server for ``holder`` (return None) or return a Request to wait on."""
        if len(self.users) < self._capacity and not self.put_queue:
            self.users.append(holder)
            return None
        return self.request()

    def grant_or_timeout(self, req: simpy.Event, limit: float) -> simpy.Event:
        """Return an event that fires when ``req`` is granted or ``limit`` has passed.

        A lighter ``req | env.timeout(limit)``: no Condition bookkeeping, one plain event.
        """
        wake = self._env.event()

        def fire(_: simpy.Event) -> None:
            if not wake.triggered:
                wake.succeed()

        req.callbacks.append(fire)
        self._env.timeout(limit).callbacks.append(fire)
        return wake

    def free(self, holder: object) -> None:
        """Give back the server held by ``holder`` (a customer or a granted Request)."""
        self.users.remove(holder)
        if self.put_queue:
            self._trigger_put(None)

    _minutes = 0.0  # staff-minutes on duty up to ``_since``
    _since = 0.0

    def staff_minutes(self, now: float) -> float:
        """Return the staff-minutes on duty from time 0 to ``now``."""
        return self._minutes + self._capacity * (now - self._since)

    def set_staff(self, staff: int) -> int:
        """Change the number of servers (0 closes the silo); return the change.

        More servers take waiting customers at once; fewer let those serving finish (a
        server past the new count is released after its job), as a shift ends.
        """
        now = self._env.now
        self._minutes = self.staff_minutes(now)
        self._since = now
        before = self._capacity
        self._capacity = max(0, staff)  # 0: closed (a roster's night)
        while self.put_queue and len(self.users) < self._capacity:
            self._trigger_put(None)
        return self._capacity - before


Plan = list[tuple[float, float | None, int, ExtraShift | None]]
"""What-ifs' staff changes for one silo: (from, until, staff added, the daily shift or None)."""


def staff_plan(what_ifs: tuple[tuple[str, WhatIf], ...], scenario: Scenario, name: str) -> Plan:
    """Return the what-ifs' staff changes for silo ``name``."""
    plan: Plan = []
    for _, what_if in what_ifs:
        for silo, delta in staff_changes(what_if, scenario).items():
            if silo == name:
                until = min(
                    (
                        c.until
                        for c in what_if.changes
                        if isinstance(c, AddStaff) and c.silo == name and c.until is not None
                    ),
                    default=None,
                )
                plan.append((what_if.start, until, delta, None))
        for change in what_if.changes:
            if isinstance(change, ExtraShift) and change.silo == name:
                plan.append((what_if.start, None, change.add, change))
    return plan


def staffing(
    env: simpy.Environment,
    resource: Silo,
    model: SiloModel,
    plan: Plan,
    changed: Callable[[float, int, int], None],
) -> Iterator[simpy.Event]:
    """Put a silo's staff on duty as its roster, dated changes and what-ifs say (a process).

    A server whose shift ends mid-job finishes it and is then released (no job is cut
    short), as contact centres work. Staff added by what-ifs come on top of the roster
    in every slot it is open; an extra shift comes on at its hours, open or not.
    ``changed(now, change, staff on duty)`` hears of every change.
    """
    slot, dated = model.staff_changes_at()
    varies = model.roster is not None or bool(model.changes)
    extra = 0  # staff the what-ifs add now, on top of the roster
    while True:
        now = env.now
        base = model.staff_at(now) if varies else resource.capacity - extra
        extra = 0
        for start, until, add, shift in plan:
            if start <= now and (until is None or now < until):
                if shift is not None and shift.on_duty(now):
                    extra += add
                elif shift is None and (base > 0 or not varies):  # a closed slot stays shut
                    extra += add
        wanted = max(base + extra, 0) if varies else max(1, base + extra)
        change = resource.set_staff(wanted)
        if change:
            changed(now, change, resource.capacity)
        following = [t for t in dated if t > now]
        for start, until, _, shift in plan:
            following += [t for t in (start, until) if t is not None and t > now]
            if shift is not None:
                day = now // 1440.0 * 1440.0
                following += [
                    t
                    for t in (day + shift.start_hour, day + shift.end_hour, day + 1440.0)
                    if t > now
                ]
        if slot is not None:
            following.append((now // slot + 1) * slot)
        if not following:
            return
        yield env.timeout(min(following) - now)
