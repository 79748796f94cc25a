"""The vectorised engine: numpy moves every customer one visit at a time.

With unlimited staff and no system loops customers never meet, so they need no event
queue: each hop, the customers at a node are served, decide and move together. The
rules are the SimPy engine's, in the same order (see ``Engine._walk``); the random
numbers come from the same kind of seeded streams (one per purpose and node, here per
chunk of customers too), so the two engines agree in distribution, not draw for draw.
Customers are simulated in chunks, so memory stays bounded whatever their number.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from spiral.analytic import closed_form_problems
from spiral.dynamics import Dynamics
from spiral.engine import RawRun
from spiral.journey import CONTACT, OUTCOME, STEP, Journey, compile_journey, power_cap
from spiral.records import ADVOCATE, CHURNED, RETAINED, CustomerTable, PeriodCounters
from spiral.scenario import Scenario
from spiral.streams import generator

CHUNK = 200_000


class _Chunk:
    """The state of one chunk of customers, one array per attribute."""

    def __init__(self, ids: np.ndarray, arrival: np.ndarray, luck: np.ndarray) -> None:
        n = len(ids)
        self.id, self.arrival, self.luck = ids, arrival, luck
        self.t = arrival.copy()
        self.node = np.zeros(n, np.int32)
        self.bounce = np.full(n, -1, np.int32)
        ints = (
            "failures contacts repeat_contacts failure_demand handoffs_warm handoffs_cold "
            "ping_pongs visits issue_contacts"
        )
        for name in ints.split():
            setattr(self, name, np.zeros(n, np.int32))
        self.first_failure = np.full(n, -1, np.int32)
        self.severity = np.zeros(n)
        self.reach = np.zeros(n)
        for name in ("open", "recovered", "social", "ceo"):
            setattr(self, name, np.zeros(n, bool))
        self.end = np.full(n, np.nan)
        self.outcome = np.full(n, -1, np.int32)
        self.exit_node = np.full(n, -1, np.int32)


class VectorisedEngine:
    """Simulate a scenario with no queues and no loops, all customers at once per hop."""

    def __init__(self, scenario: Scenario, seed: int, chunk: int = CHUNK) -> None:
        problems = closed_form_problems(scenario)
        if problems:
            raise ValueError("; ".join(f"{f}: {why}" for f, why in problems))
        self.scenario = scenario
        self.seed = seed
        self.chunk = chunk
        self.j: Journey = compile_journey(scenario)
        nodes = {**scenario.steps, **scenario.contacts}
        self.dists = [
            (nodes[n].service if n in scenario.steps else nodes[n].handling) if n in nodes else None
            for n in self.j.names
        ]
        self.silo_of = np.asarray(self.j.silo, np.int32)
        self._routes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.table = CustomerTable()
        self.counters = PeriodCounters(scenario.period)
        self.node_visits = np.zeros(self.j.size, np.int64)
        self.silo_busy = np.zeros(len(self.j.silo_names))
        self.end = 0.0
        self.event_times: dict[str, list[np.ndarray]] = {}

    def _count(self, name: str, times: np.ndarray) -> None:
        """Keep event times; they are counted per period once, at the end."""
        self.event_times.setdefault(name, []).append(times)

    # --- arrivals ---------------------------------------------------------------------
    def _arrival_times(self) -> np.ndarray:
        """Return all arrival times: a Poisson process, thinned by the schedule."""
        s = self.scenario
        rng = generator(self.seed, "arrivals", "vectorised")
        schedule = s.arrivals.schedule
        peak = max(schedule.multipliers) if schedule else 1.0
        top = s.arrivals.rate * peak
        if top <= 0:
            return np.zeros(0)
        times: list[np.ndarray] = []
        at, count = 0.0, 0
        block = 100_000
        while True:
            gaps = rng.exponential(1.0 / top, block)
            t = at + np.cumsum(gaps)
            at = float(t[-1])
            if schedule is not None:
                cycle = 1440.0 if schedule.cycle == "day" else 10080.0
                slot = cycle / len(schedule.multipliers)
                m = np.asarray(schedule.multipliers)[((t % cycle) / slot).astype(int)]
                t = t[rng.random(len(t)) * peak < m]
            if s.horizon is not None:
                t = t[t < s.horizon]
            times.append(t)
            count += len(t)
            if s.customers is not None and count >= s.customers:
                return np.concatenate(times)[: s.customers]
            if s.horizon is not None and at >= s.horizon:
                return np.concatenate(times)

    # --- one chunk -------------------------------------------------------------------------
    def _escalate(self, c: _Chunk, idx: np.ndarray, rng: np.random.Generator) -> None:
        esc = self.scenario.experience.escalation
        social = esc.social
        s = c.severity[idx]
        hit = idx[
            (~c.social[idx]) & (s >= social.threshold) & (rng.random(len(idx)) < social.probability)
        ]
        if len(hit):
            c.social[hit] = True
            median = math.log(max(social.reach_median, 1e-12))
            c.reach[hit] = rng.lognormal(median, social.reach_sigma, len(hit))
            self._count("social", c.t[hit])
        ceo = esc.ceo
        hit = idx[(~c.ceo[idx]) & (s >= ceo.threshold) & (rng.random(len(idx)) < ceo.probability)]
        if len(hit):
            c.ceo[hit] = True
            self._count("ceo", c.t[hit])

    def _worsen(self, c: _Chunk, idx: np.ndarray, factor: float, rng: np.random.Generator) -> None:
        idx = idx[c.severity[idx] > 0]
        if len(idx):
            cap = self.scenario.experience.severity_cap
            c.severity[idx] = np.minimum(c.severity[idx] * factor, cap)
            self._escalate(c, idx, rng)

    def _route(self, route, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001
        if id(route) not in self._routes:
            self._routes[id(route)] = (
                np.asarray(route.targets, np.int32),
                np.asarray(route.cumulative[:-1]),
            )
        targets, cumulative = self._routes[id(route)]
        if len(targets) == 1:
            return np.full(len(idx), targets[0], np.int32)
        return targets[np.searchsorted(cumulative, rng.random(len(idx)), side="right")]

    def _chunk(self, c: _Chunk, rng: np.random.Generator) -> None:  # noqa: C901 - mirrors _walk
        j, exp = self.j, self.scenario.experience
        warmup = self.scenario.warmup
        start = j.start
        c.node[:] = self._route(start, np.arange(len(c.id)), rng)
        active = np.arange(len(c.id))
        while len(active):
            c.visits[active] += 1  # every hop is a visit, but for serving a misrouted bounce
            nodes = c.node[active]
            moved = []
            for node in np.flatnonzero(np.bincount(nodes, minlength=j.size)):
                idx = active[nodes == node]
                kind = j.kind[node]
                if kind == OUTCOME:
                    self._finish(c, idx, int(node))
                    continue
                returning = c.bounce[idx] >= 0  # misrouted: served here, then sent back
                fresh, bounced = idx[~returning], idx[returning]
                if kind == CONTACT and len(fresh):
                    c.contacts[fresh] += 1
                    self._count("contacts", c.t[fresh])
                    about = fresh[c.open[fresh]]
                    if len(about):
                        c.failure_demand[about] += 1
                        self._count("failure_demand", c.t[about])
                        c.issue_contacts[about] += 1
                        again = about[c.issue_contacts[about] > 1]
                        c.repeat_contacts[again] += 1
                        self._worsen(c, again, exp.repeat_contact, rng)
                dist = self.dists[node]
                duration = dist.sample(rng, len(idx))
                if j.paid[node]:
                    busy = duration[c.t[idx] >= warmup] if warmup > 0 else duration
                    self.silo_busy[j.silo[node]] += float(busy.sum())
                c.t[idx] += duration
                if len(bounced):
                    c.node[bounced] = c.bounce[bounced]
                    c.bounce[bounced] = -1
                    moved.append(bounced)
                idx = fresh
                if not len(idx):
                    continue
                self.node_visits[node] += len(idx)
                u = rng.random(len(idx))
                if kind == STEP:
                    base = j.failure[node]
                    failed = u < base
                    if exp.compounding != 1.0 and 0 < base < 1:
                        f = c.failures[idx]
                        again = np.flatnonzero(f)  # compounding only after a failure
                        if len(again):
                            power = np.minimum(f[again], power_cap(exp.compounding))
                            odds = base / (1 - base) * exp.compounding**power
                            failed[again] = u[again] < odds / (1 + odds)
                    bad, good = idx[failed], idx[~failed]
                    if len(bad):
                        c.failures[bad] += 1
                        c.open[bad] = True
                        first = bad[c.first_failure[bad] < 0]
                        c.first_failure[first] = node
                        self._count("failures", c.t[bad])
                        new = c.severity[bad] == 0
                        born, older = bad[new], bad[~new]
                        c.severity[born] = 1.0
                        self._escalate(c, born, rng)
                        self._worsen(c, older, exp.amplification, rng)
                    routes = ((bad, j.failed[node]), (good, j.success[node]))
                else:
                    ok = u < j.fcr[node]
                    rule = j.empowerment[node]
                    if rule is not None:
                        limit, mean_cost = rule
                        cost = rng.exponential(mean_cost, len(idx))
                        ok |= c.open[idx] & (cost <= limit)
                    good, bad = idx[ok], idx[~ok]
                    recovered = good[c.open[good]]
                    c.recovered[recovered] = True
                    c.open[recovered] = False
                    c.issue_contacts[recovered] = 0
                    routes = ((good, j.success[node]), (bad, j.failed[node]))
                for who, route in routes:
                    if not len(who):
                        continue
                    nxt = self._route(route, who, rng)
                    target_silo = self.silo_of[nxt]
                    cross = (target_silo != j.silo[node]) & (target_silo >= 0)
                    hand = who[cross]
                    if len(hand):
                        warm = rng.random(len(hand)) < j.baton[node]
                        misrouted = rng.random(len(hand)) < j.ping_pong[node]
                        c.handoffs_warm[hand[warm]] += 1
                        cold = hand[~warm]
                        c.handoffs_cold[cold] += 1
                        bounce = cold[misrouted[~warm]]
                        c.ping_pongs[bounce] += 1
                        c.bounce[bounce] = node
                        cold = cold[c.severity[cold] > 0]  # no complaint yet: nothing to worsen
                        bounce = bounce[c.severity[bounce] > 0]
                        self._worsen(c, cold, exp.cold_handoff, rng)
                        self._worsen(c, bounce, exp.cold_handoff, rng)
                    c.node[who] = nxt
                    moved.append(who)
            active = np.concatenate(moved) if moved else np.zeros(0, np.int64)

    def _finish(self, c: _Chunk, idx: np.ndarray, node: int) -> None:
        loyalty = self.scenario.experience.loyalty
        self.node_visits[node] += len(idx)
        c.end[idx] = c.t[idx]
        c.exit_node[idx] = node
        if self.j.churn_outcome[node]:
            c.outcome[idx] = CHURNED
            return
        once = c.recovered[idx] & (c.failures[idx] == 1)
        churn, advocacy = loyalty.odds(c.severity[idx], once)
        u = c.luck[idx]
        c.outcome[idx] = np.where(
            u < churn, CHURNED, np.where(u < churn + advocacy, ADVOCATE, RETAINED)
        )

    def run(self) -> RawRun:
        """Simulate every customer, chunk by chunk, and return the raw records."""
        arrivals = self._arrival_times()
        luck_rng = generator(self.seed, "outcome", "vectorised")
        n = len(arrivals)
        for k, first in enumerate(range(0, n, self.chunk)):
            ids = np.arange(first, min(first + self.chunk, n))
            c = _Chunk(ids, arrivals[ids], luck_rng.random(len(ids)))
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(99, k)))
            self._chunk(c, rng)
            self.end = max(self.end, float(np.nanmax(c.end)) if len(ids) else 0.0)
            self.table.extend(
                {
                    "customer": c.id,
                    "outcome": c.outcome,
                    "exit_node": c.exit_node,
                    "failures": c.failures,
                    "contacts": c.contacts,
                    "repeat_contacts": c.repeat_contacts,
                    "failure_demand": c.failure_demand,
                    "handoffs_warm": c.handoffs_warm,
                    "handoffs_cold": c.handoffs_cold,
                    "ping_pongs": c.ping_pongs,
                    "abandons": np.zeros(len(ids)),
                    "effort": c.contacts + c.handoffs_cold + c.ping_pongs,
                    "visits": c.visits - c.ping_pongs,
                    "social": c.social,
                    "ceo": c.ceo,
                    "recovered": c.recovered,
                    "first_failure": c.first_failure,
                    "what_if_mask": np.zeros(len(ids)),
                    "arrival": c.arrival,
                    "end": c.end,
                    "severity": c.severity,
                    "wait": np.zeros(len(ids)),
                    "reach": c.reach,
                }
            )
        for name, times in self.event_times.items():
            self.counters.add_many(name, np.concatenate(times))
        s = self.scenario
        arrivals_end = s.horizon if s.horizon is not None else (float(arrivals[-1]) if n else 0.0)
        stub = SimpleNamespace(failure_now=list(self.j.failure), learnings=[None])
        return RawRun(
            customers=self.table,
            counters=self.counters,
            events=None,
            end=max(self.end, arrivals_end),
            node_visits=self.node_visits.tolist(),
            silo_busy=self.silo_busy.tolist(),
            silo_wait=[0.0] * len(self.j.silo_names),
            silo_served=[0] * len(self.j.silo_names),
            journey=self.j,
            dynamics=Dynamics(s, self.j, stub, self.seed),
            arrivals_end=arrivals_end,
            staff_log=[],
            empowerment_spend=0.0,
            engine="vectorised",
        )


def simulate_vectorised(scenario: Scenario, seed: int, chunk: int = CHUNK) -> RawRun:
    """Run the vectorised engine once (unlimited staff, no loops) and return its records."""
    return VectorisedEngine(scenario, seed, chunk).run()
