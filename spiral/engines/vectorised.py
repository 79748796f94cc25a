"""The vectorised engine: numpy moves every customer one visit at a time.

With unlimited staff and no system loops customers never meet, so they need no event
queue: each hop, the customers at a node are served, decide and move together. The
rules are the SimPy engine's, in the same order (see ``Engine._walk``); the random
numbers come from the same kind of seeded streams (one per purpose and node, here per
chunk of customers too), so the two engines agree in distribution, not draw for draw.
Customers are simulated in chunks, so memory stays bounded whatever their number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from spiral.engines import rules
from spiral.engines.dynamics import Dynamics, FailureTables
from spiral.engines.journey import CONTACT, OUTCOME, STEP, Journey, compile_journey
from spiral.engines.records import ADVOCATE, CHURNED, RETAINED, PeriodCounters, table_for
from spiral.engines.runs import RawRun, closed_form_problems
from spiral.engines.segments import SEGMENT_STREAM, segment_of, segment_views
from spiral.engines.streams import generator
from spiral.model.scenario import Scenario

CHUNK = 200_000
TALLIES = (
    "visits contacts repeat_contacts failure_demand silent complaints handoffs handoffs_cold "
    "cold_seen ping_pongs"
).split()


class _Chunk:
    """The state of one chunk of customers, one array per attribute."""

    def __init__(self, ids: np.ndarray, arrival: np.ndarray, luck: np.ndarray) -> None:
        n = len(ids)
        self.id, self.arrival, self.luck = ids, arrival, luck
        self.t = arrival.copy()
        self.failures = np.zeros(n, np.int32)
        self.issue_contacts = np.zeros(n, np.int32)
        self.first_failure = np.full(n, -1, np.int32)
        self.failed_at = np.zeros(n)  # when the first failure happened
        self.severity_at = np.zeros(n)  # when severity last changed (it fades from then)
        self.to_recovery = np.zeros(n)  # minutes from the first failure to its resolution
        self.severity = np.zeros(n)
        self.reach = np.zeros(n)
        for name in ("open", "recovered", "social", "ceo"):
            setattr(self, name, np.zeros(n, bool))
        self.end = np.full(n, np.nan)
        self.outcome = np.full(n, -1, np.int32)
        self.exit_node = np.full(n, -1, np.int32)
        # per-customer counts, kept as lists of index arrays and counted once at the end
        self.tally: dict[str, list[np.ndarray]] = {name: [] for name in TALLIES}

    def counts(self, name: str) -> np.ndarray:
        """Return how often each customer appears in the tally ``name``."""
        found = self.tally[name]
        if not found:
            return np.zeros(len(self.id), np.int64)
        return np.bincount(np.concatenate(found), minlength=len(self.id))


class VectorisedEngine:
    """Simulate a scenario with no queues and no loops, all customers at once per hop."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        chunk: int = CHUNK,
        progress: Callable[[float], None] | None = None,
        customers: bool = True,
    ) -> None:
        problems = closed_form_problems(scenario)
        if problems:
            raise ValueError("; ".join(f"{f}: {why}" for f, why in problems))
        self.scenario = scenario
        self.seed = seed
        self.chunk = chunk
        self.progress = progress
        self.j: Journey = compile_journey(scenario)
        # each segment's customers are a group of their own: customers never meet
        views = segment_views(scenario)
        self.views = [
            (v.share, v.scenario, compile_journey(v.scenario) if len(views) > 1 else self.j)
            for v in views
        ]
        self.base, self.base_journey = scenario, self.j
        nodes = {**scenario.steps, **scenario.contacts}
        self.dists = [
            (nodes[n].service if n in scenario.steps else nodes[n].handling) if n in nodes else None
            for n in self.j.names
        ]
        self.silo_of = np.asarray(self.j.silo, np.int32)
        self._routes: dict[tuple[int, int], tuple] = {}
        self.order = self._order()
        self._pending: list[list[np.ndarray]] = []
        self._returning: dict[tuple[int, int], list[np.ndarray]] = {}
        self.empowerment_spend = 0.0
        self.table = table_for(scenario, self.j.size, keep=customers)
        self.counters = PeriodCounters(scenario.period)
        self.node_visits = np.zeros(self.j.size, np.int64)
        self.silo_busy = np.zeros(len(self.j.silo_names))
        self.end = 0.0
        self.event_times: dict[str, list[np.ndarray]] = {}

    def _count(self, name: str, times: np.ndarray) -> None:
        """Keep event times; they are counted per period once the chunk is done."""
        self.event_times.setdefault(name, []).append(times)

    # --- arrivals ---------------------------------------------------------------------
    def _done_share(self, customers: int, at: float) -> float:
        """Return the share of the run done: of its customers, or of its horizon."""
        s = self.base
        if s.customers is not None:
            return min(customers / s.customers, 1.0)
        return min(at / s.horizon, 1.0) if s.horizon else 1.0

    def _arrival_blocks(self) -> Iterator[np.ndarray]:
        """Yield arrival times block by block: a Poisson process, thinned by the schedule."""
        s = self.scenario
        arrivals = s.arrivals
        rng = generator(self.seed, "arrivals", "vectorised")
        schedule = arrivals.schedule
        thin = schedule is not None or bool(arrivals.timeline)
        peak = max(schedule.multipliers) if schedule else 1.0
        peak *= arrivals.peak_factor()
        top = arrivals.rate * peak
        if top <= 0:
            return
        at, count = 0.0, 0
        block = 100_000
        while True:
            gaps = rng.exponential(1.0 / top, block)
            t = at + np.cumsum(gaps)
            at = float(t[-1])
            if thin:
                m = np.ones(len(t))
                if schedule is not None:
                    cycle = 1440.0 if schedule.cycle == "day" else 10080.0
                    slot = cycle / len(schedule.multipliers)
                    m = np.asarray(schedule.multipliers)[((t % cycle) / slot).astype(int)]
                for surge in arrivals.timeline:
                    m = np.where((t >= surge.start) & (t < surge.end), m * surge.factor, m)
                t = t[rules.accepted_arrival(rng.random(len(t)), peak, m)]
            if s.horizon is not None:
                t = t[t < s.horizon]
            if s.customers is not None and count + len(t) >= s.customers:
                yield t[: s.customers - count]
                return
            count += len(t)
            yield t
            if s.horizon is not None and at >= s.horizon:
                return

    def _arrival_chunks(self) -> Iterator[np.ndarray]:
        """Yield arrival times ``chunk`` at a time (the last chunk may be short)."""
        held: list[np.ndarray] = []
        size = 0
        for block in self._arrival_blocks():
            held.append(block)
            size += len(block)
            while size >= self.chunk:
                joined = np.concatenate(held)
                yield joined[: self.chunk]
                held, size = [joined[self.chunk :]], size - self.chunk
        if size:
            yield np.concatenate(held)

    # --- one chunk -------------------------------------------------------------------------
    def _escalate(
        self, c: _Chunk, idx: np.ndarray, s: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Give customers ``idx``, now at severity ``s``, their chance to escalate."""
        esc = self.scenario.experience.escalation
        for rule, flag, name in ((esc.social, c.social, "social"), (esc.ceo, c.ceo, "ceo")):
            # only customers over the threshold and not yet escalated draw
            due = idx[rules.escalation_due(s, flag[idx], rule.threshold)]
            if not len(due):
                continue
            hit = due[rng.random(len(due)) < rule.probability]
            if len(hit):
                flag[hit] = True
                if name == "social":
                    mu, sigma = rules.reach_lognormal(rule.reach_median, rule.reach_sigma)
                    c.reach[hit] = rng.lognormal(mu, sigma, len(hit))
                self._count(name, c.t[hit])

    def _fade(self, c: _Chunk, idx: np.ndarray) -> None:
        """Let the severity of customers ``idx`` fade to their clocks, if it fades at all."""
        half_life = self.scenario.experience.severity_half_life
        if half_life is not None and len(idx):
            c.severity[idx] = rules.faded(c.severity[idx], c.t[idx] - c.severity_at[idx], half_life)
            c.severity_at[idx] = c.t[idx]

    def _worsen(self, c: _Chunk, idx: np.ndarray, factor: float, rng: np.random.Generator) -> None:
        """Multiply the severity of customers with a complaint, then let them escalate."""
        self._fade(c, idx)
        s = c.severity[idx]
        live = s > 0  # no complaint yet: nothing to worsen
        if live.any():
            idx = idx[live]
            s = rules.worsened(s[live], factor, self.scenario.experience.severity_cap)
            c.severity[idx] = s
            self._escalate(c, idx, s, rng)

    def _routes_of(self, node: int, route) -> tuple:  # noqa: ANN001
        """Return (targets, cumulative cut points, cross-silo per target) of a route."""
        key = (node, id(route))
        if key not in self._routes:
            silo = self.j.silo[node] if node >= 0 else -1
            cross = [
                node >= 0 and self.j.silo[t] != silo and self.j.silo[t] >= 0 for t in route.targets
            ]
            self._routes[key] = (route.targets, np.asarray(route.cumulative[:-1]), cross)
        return self._routes[key]

    def _order(self) -> list[int]:
        """Return the nodes breadth-first from the start: one sweep carries customers far."""
        j = self.j
        order: list[int] = []
        frontier = list(j.start.targets)
        while frontier:
            node = frontier.pop(0)
            if node in order:
                continue
            order.append(node)
            for route in (j.success[node], j.failed[node], j.silent[node]):
                if route is not None:
                    frontier.extend(route.targets)
        return order + [n for n in range(j.size) if n not in order]

    def _send(self, c: _Chunk, node: int, who: np.ndarray, route, rng: np.random.Generator) -> None:  # noqa: ANN001
        """Route customers leaving ``node`` and hand them over, warm, cold or misrouted."""
        targets, cumulative, cross = self._routes_of(node, route)
        if len(targets) == 1:
            groups = [(targets[0], cross[0], who)]
        else:
            pick = np.searchsorted(cumulative, rng.random(len(who)), side="right")
            groups = [
                (t, x, who[pick == k]) for k, (t, x) in enumerate(zip(targets, cross, strict=True))
            ]
        exp = self.scenario.experience
        for target, handoff, group in groups:
            if not len(group):
                continue
            if handoff and self.j.baton[node] >= 1.0:  # warm whatever the draw: none is made
                c.tally["handoffs"].append(group)
            elif handoff:
                # one draw decides both: warm below baton, then misrouted with ping_pong
                # probability among the cold ones (only where the customer sees the handoff)
                baton, ping_pong = self.j.baton[node], self.j.ping_pong[node]
                j = self.j
                seen = rules.handoff_seen(
                    j.kind[target] == CONTACT, j.facing[target], c.open[group]
                )
                u = rng.random(len(group))
                split = rules.split_draw(u, baton)
                warm, misrouted = rules.handoff(u, split, baton, ping_pong, seen)
                c.tally["handoffs"].append(group)  # warm ones: all handoffs less the cold
                c.tally["handoffs_cold"].append(group[~warm])
                if seen.any():
                    worsen = rules.cold_events(warm, misrouted, seen)  # 0, 1, 2 (misrouted)
                    cold = group[worsen >= 1]
                    c.tally["cold_seen"].append(cold)
                    self._worsen(c, cold, exp.cold_handoff, rng)
                    if misrouted.any():
                        bounce = group[worsen >= 2]
                        c.tally["ping_pongs"].append(bounce)
                        self._worsen(c, bounce, exp.cold_handoff, rng)
                        # the wrong place first, then on to the target: a real visit
                        self._returning.setdefault((target, target), []).append(bounce)
                        group = group[~misrouted]
            self._pending[target].append(group)

    def _serve(self, c: _Chunk, node: int, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Take the service time at ``node``; count it as busy time after the warm-up."""
        duration = self.dists[node].sample(rng, len(idx))
        t = c.t[idx]
        if self.j.paid[node]:
            warmup = self.scenario.warmup
            busy = duration[t >= warmup] if warmup > 0 else duration
            self.silo_busy[self.j.silo[node]] += float(busy.sum())
        c.t[idx] = t + duration

    def _visit(self, c: _Chunk, node: int, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Serve and decide for every customer arriving fresh at ``node``."""
        j, exp = self.j, self.scenario.experience
        c.tally["visits"].append(idx)
        kind = j.kind[node]
        if kind == OUTCOME:
            self._finish(c, idx, node)
            return
        if kind == CONTACT:
            c.tally["contacts"].append(idx)
            self._count("contacts", c.t[idx])
            about = idx[c.open[idx]]
            if len(about):
                c.tally["failure_demand"].append(about)
                c.tally["complaints"].append(about)
                self._count("failure_demand", c.t[about])
                c.issue_contacts[about] += 1
                again = about[c.issue_contacts[about] > 1]
                c.tally["repeat_contacts"].append(again)
                self._worsen(c, again, exp.repeat_contact, rng)
        self._serve(c, node, idx, rng)
        self.node_visits[node] += len(idx)
        u = rng.random(len(idx))
        if kind == STEP:
            base = j.failure[node]
            failed = u < base
            if exp.compounding != 1.0 and 0 < base < 1:
                f = c.failures[idx]
                again = np.flatnonzero(f)  # compounding only after a failure
                if len(again):
                    p = rules.failure_probability(base, f[again], exp.compounding)
                    failed[again] = u[again] < p
            bad, good = idx[failed], idx[~failed]
            pursued = c.open[bad]  # a copy: what was open before this failure
            if len(bad):
                c.failures[bad] += 1
                c.open[bad] = True
                first = bad[c.first_failure[bad] < 0]
                c.first_failure[first] = node
                c.failed_at[first] = c.t[first]
                self._count("failures", c.t[bad])
                self._fade(c, bad)
                new = c.severity[bad] == 0
                born, older = bad[new], bad[~new]  # escalation draws: the born first
                c.severity[born] = rules.after_failure(
                    c.severity[born], exp.amplification, exp.severity_cap
                )
                self._escalate(c, born, c.severity[born], rng)
                self._worsen(c, older, exp.amplification, rng)
            voiced = j.complain[node]
            if voiced < 1.0 and len(bad):
                speaks = rules.complains(rng.random(len(bad)), voiced)
                quiet = bad[~speaks]
                c.open[quiet] = pursued[~speaks]  # a failure suffered in silence opens no case
                c.tally["silent"].append(quiet)
                routes = (
                    (bad[speaks], j.failed[node]),
                    (quiet, j.silent[node]),
                    (good, j.success[node]),
                )
            else:
                routes = ((bad, j.failed[node]), (good, j.success[node]))
        else:
            ok = u < j.fcr[node]
            rule = j.empowerment[node]
            if rule is not None:
                limit, mean_cost = rule
                cost = rules.empowerment_cost(rng.random(len(idx)), mean_cost)
                empowered = ~ok & c.open[idx] & rules.empowered(cost, limit)
                spent = cost[empowered & (c.t[idx] >= self.scenario.warmup)]
                self.empowerment_spend += float(spent.sum())
                ok |= empowered
            good, bad = idx[ok], idx[~ok]
            recovered = good[c.open[good]]
            once = recovered[c.failures[recovered] == 1]
            c.to_recovery[once] = c.t[once] - c.failed_at[once]
            c.recovered[recovered] = True
            c.open[recovered] = False
            c.issue_contacts[recovered] = 0
            routes = ((good, j.success[node]), (bad, j.failed[node]))
        for who, route in routes:
            if len(who):
                self._send(c, node, who, route, rng)

    def _chunk(self, c: _Chunk, rng: np.random.Generator) -> None:
        """Move a chunk's customers until all have reached an outcome.

        Customers never meet, so the order of visits across customers is free: each sweep
        takes every node in breadth-first order with all customers waiting there.
        """
        self._pending = [[] for _ in range(self.j.size)]
        self._returning = {}
        self._send(c, -1, np.arange(len(c.id)), self.j.start, rng)
        while True:
            returning, self._returning = self._returning, {}
            for (node, back), groups in returning.items():
                # misrouted: served at the wrong place (timed as the target), then sent on
                idx = np.concatenate(groups)
                if self.j.kind[node] == CONTACT:  # a contact all the same: failure demand
                    c.tally["contacts"].append(idx)
                    c.tally["failure_demand"].append(idx)
                    self._count("contacts", c.t[idx])
                    self._count("failure_demand", c.t[idx])
                self._serve(c, node, idx, rng)
                self._pending[back].append(idx)
            waiting = False
            for node in self.order:
                groups = self._pending[node]
                if groups:
                    waiting = True
                    self._pending[node] = []
                    idx = groups[0] if len(groups) == 1 else np.concatenate(groups)
                    if len(idx):
                        self._visit(c, node, idx, rng)
            if not waiting and not self._returning:
                return

    def _finish(self, c: _Chunk, idx: np.ndarray, node: int) -> None:
        loyalty = self.scenario.experience.loyalty
        self.node_visits[node] += len(idx)
        c.end[idx] = c.t[idx]
        c.exit_node[idx] = node
        self._fade(c, idx)
        if self.j.churn_outcome[node]:
            c.outcome[idx] = CHURNED
            return
        if rules.loyalty_neutral(loyalty):  # the odds below are 0 and 0 for everyone
            c.outcome[idx] = RETAINED
            return
        once = rules.recovered_once(c.recovered[idx], c.failures[idx])
        speed = rules.recovery_speed(c.to_recovery[idx], loyalty.recovery_time)
        churn, advocacy = rules.loyalty_odds(c.severity[idx], once, loyalty, speed)
        u = c.luck[idx]
        c.outcome[idx] = np.where(
            u < churn, CHURNED, np.where(u < churn + advocacy, ADVOCATE, RETAINED)
        )

    def _record(self, c: _Chunk, segment: int) -> None:
        """Add a finished chunk's customers (of one segment) to the table."""
        n = len(c.id)
        self.end = max(self.end, float(np.nanmax(c.end)) if n else 0.0)
        counts = {name: c.counts(name) for name in TALLIES}
        counts["handoffs_warm"] = counts.pop("handoffs") - counts["handoffs_cold"]
        seen = counts.pop("cold_seen")  # for effort only: not a column
        self.table.extend(
            {
                "customer": c.id,
                "outcome": c.outcome,
                "exit_node": c.exit_node,
                "failures": c.failures,
                **counts,
                "abandons": np.zeros(n),
                "effort": rules.effort(counts["contacts"], seen, counts["ping_pongs"], 0),
                "social": c.social,
                "ceo": c.ceo,
                "recovered": c.recovered,
                "first_failure": c.first_failure,
                "what_if_mask": np.zeros(n),
                "segment": np.full(n, segment),
                "arrival": c.arrival,
                "end": c.end,
                "severity": c.severity,
                "wait": np.zeros(n),
                "reach": c.reach,
            }
        )

    def run(self) -> RawRun:
        """Simulate every customer, chunk by chunk, and return the raw records."""
        luck_rng = generator(self.seed, "outcome", "vectorised")
        segment_rng = generator(self.seed, *SEGMENT_STREAM)
        shares = [share for share, _, _ in self.views]
        first, last_arrival = 0, 0.0
        for k, arrivals in enumerate(self._arrival_chunks()):
            ids = np.arange(first, first + len(arrivals))
            first += len(arrivals)
            last_arrival = float(arrivals[-1])
            luck = luck_rng.random(len(ids))
            segment = segment_of(segment_rng.random(len(ids)), shares)
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(99, k)))
            for g, (_, scenario, journey) in enumerate(self.views):
                mine = np.flatnonzero(segment == g) if len(self.views) > 1 else slice(None)
                self.scenario, self.j = scenario, journey
                c = _Chunk(ids[mine], arrivals[mine], luck[mine])
                self._chunk(c, rng)
                self._record(c, g)
            for name, times in self.event_times.items():  # counted per chunk: memory flat
                self.counters.add_many(name, np.concatenate(times))
            self.event_times.clear()
            if self.progress is not None:
                self.progress(self._done_share(first, last_arrival))
        s, self.j = self.scenario, self.base_journey = self.base, self.base_journey
        arrivals_end = s.horizon if s.horizon is not None else last_arrival
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
            dynamics=Dynamics(s, self.j, self.seed, FailureTables(list(self.j.failure))),
            arrivals_end=arrivals_end,
            staff_log=[],
            empowerment_spend=self.empowerment_spend,
            engine="vectorised",
        )


def simulate_vectorised(
    scenario: Scenario,
    seed: int,
    chunk: int = CHUNK,
    progress: Callable[[float], None] | None = None,
    customers: bool = True,
) -> RawRun:
    """Run the vectorised engine once (unlimited staff, no loops) and return its records."""
    return VectorisedEngine(scenario, seed, chunk, progress, customers).run()
