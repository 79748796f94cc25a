"""The discrete-event engine: customers walk the journey graph as SimPy processes."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from functools import partial

import numpy as np
import simpy

from spiral.engines import rules
from spiral.engines.customer_events import CustomerEvents
from spiral.engines.dynamics import Dynamics, FailureTables
from spiral.engines.journey import CONTACT, OUTCOME, STEP, Journey, compile_journey
from spiral.engines.records import (
    ADVOCATE,
    CHURNED,
    IN_PROGRESS,
    RETAINED,
    Customer,
    EventSink,
    PeriodCounters,
    table_for,
)
from spiral.engines.runs import RawRun
from spiral.engines.segments import SEGMENT_STREAM, segment_edges
from spiral.engines.staffing import Silo, staff_plan, staffing
from spiral.engines.streams import draws, generator, uniforms
from spiral.model.arrivals import Burst
from spiral.model.scenario import Scenario
from spiral.model.what_if import WhatIf
from spiral.model.what_if_arms import apply, with_demand


class Engine(CustomerEvents):
    """One simulation of a scenario under one root seed."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        event_log: bool = False,
        what_ifs: tuple[tuple[str, WhatIf], ...] = (),
        progress: Callable[[float], None] | None = None,
        customers: bool = True,
    ) -> None:
        # demand what-ifs change the arrivals everyone sees: the world the arm runs in
        scenario = with_demand(scenario, [what_if for _, what_if in what_ifs])
        self.scenario = scenario
        self.seed = seed
        self.progress = progress
        self.journey = journey = compile_journey(scenario)
        self.env = env = simpy.Environment()
        self.silos = [Silo(env, staff) if staff else None for staff in journey.staff]
        names = journey.names
        nodes = {**scenario.steps, **scenario.contacts}
        self.service = [
            draws(
                generator(seed, "service", n),
                nodes[n].service.sample if n in scenario.steps else nodes[n].handling.sample,
            )
            if n in nodes
            else None
            for n in names
        ]
        self.patience = [
            draws(generator(seed, "patience", n), scenario.contacts[n].patience.sample)
            if n in scenario.contacts and scenario.contacts[n].patience is not None
            else None
            for n in names
        ]
        self.redial_after = [
            draws(
                generator(seed, "patience", "redial:" + n), scenario.contacts[n].redial_after.sample
            )
            if n in scenario.contacts
            else None
            for n in names
        ]
        self.fail_draw = [uniforms(seed, "failures", n) for n in names]
        self.complain_draw = [uniforms(seed, "decisions", "complain:" + n) for n in names]
        self.decide = [uniforms(seed, "decisions", n) for n in names]
        self.handoff_draw = [uniforms(seed, "decisions", "handoff:" + n) for n in names]
        self.start_draw = uniforms(seed, "decisions", "__start__")
        self.escalation_draw = uniforms(seed, "escalation")
        social = scenario.experience.escalation.social
        mu, sigma = rules.reach_lognormal(social.reach_median, social.reach_sigma)
        self.reach_draw = draws(
            generator(seed, "escalation", "reach"), lambda rng, n: rng.lognormal(mu, sigma, n)
        )
        self.luck_draw = uniforms(seed, "outcome")
        segments = list(scenario.segments.values())
        self.segment_edges = segment_edges([segment.share for segment in segments])
        self.segment_draw = uniforms(seed, *SEGMENT_STREAM) if segments else None
        self.propensity = [segment.complain for segment in segments] or [1.0]
        self.tolerance = [segment.tolerance for segment in segments] or [1.0]
        self.escalations = [
            rules.tolerant(scenario.experience, t).escalation for t in self.tolerance
        ]
        self.failure_now = list(journey.failure)  # moved by erosion and learning
        self.empower_draw = [
            uniforms(seed, "decisions", "empower:" + n) if journey.kind[i] == CONTACT else None
            for i, n in enumerate(names)
        ]
        self._plan(what_ifs)
        tables = FailureTables(
            self.failure_now,
            list(zip(self.failure_ratio[1:], self.failures[1:], strict=True)),
            any(rule is not None for rule in self.learnings),
        )
        self.dynamics = Dynamics(scenario, journey, seed, tables)
        loops = scenario.loops
        self.shared_failure_demand = loops.failure_demand
        self.arrivals_end = 0.0
        self.calm_outcome = rules.loyalty_odds(0.0, False, scenario.experience.loyalty)
        self.half_life = scenario.experience.severity_half_life
        # rules.handoff_seen per node, for a customer without and with an open issue
        self.seen_into = [
            (rules.handoff_seen(k == CONTACT, f, False), rules.handoff_seen(k == CONTACT, f, True))
            for k, f in zip(journey.kind, journey.facing, strict=True)
        ]
        self.sink = EventSink() if event_log else None
        self.events: list[tuple] | None = self.sink.rows if self.sink is not None else None
        self.table = table_for(scenario, journey.size, keep=customers)
        self.counters = PeriodCounters(scenario.period)
        self.node_visits = [0] * journey.size
        n_silos = len(journey.silo_names)
        self.silo_busy = [0.0] * n_silos
        self.silo_wait = [0.0] * n_silos
        self.silo_served = [0] * n_silos
        # (time, silo, change in staff on duty): rosters, dated changes, what-ifs
        self.staff_log: list[tuple[float, int, int]] = []
        self.next_id = 0
        self.empowerment_spend = 0.0
        self.active: dict[int, Customer] = {}
        self.arrivals_done = False
        self.all_done = env.event()
        self.stop = env.event()

    # --- arrivals -----------------------------------------------------------------
    def _admit(self, entry: int | None = None) -> None:
        """Start a customer's journey now: at the start, or at node ``entry`` (a burst)."""
        customer = Customer(self.next_id, self.env.now, self.luck_draw())
        k = 0
        if self.segment_draw is not None:
            # once per arrival: the edges are cut once, a bisection places the customer
            k = customer.segment = bisect.bisect_right(self.segment_edges, self.segment_draw())
        if self.switching:
            scope = self.segment_scope[k]
            for bit, share, draw, reached in self.pilots:
                if draw() < share and reached >> k & 1:  # always drawn: streams stay aligned
                    scope |= bit
            customer.scope = scope
        self.next_id += 1
        sink = self.sink
        if sink is not None and len(sink.rows) >= sink.chunk:
            sink.spill()  # also here: a long stretch without finishes still spills
        # registered here, not in _walk, which starts only at the next event
        self.active[customer.id] = customer
        self.env.process(self._walk(customer, entry))

    def _arrivals(self):  # noqa: ANN202 - a SimPy process
        scenario = self.scenario
        env = self.env
        arrivals = scenario.arrivals
        rate = arrivals.rate
        schedule = arrivals.schedule
        timeline = arrivals.timeline
        thin = schedule is not None or bool(timeline)
        peak = max(schedule.multipliers) if schedule is not None else 1.0
        if schedule is not None:
            cycle = 1440.0 if schedule.cycle == "day" else 10080.0
            slot = cycle / len(schedule.multipliers)
        if thin:
            accept = uniforms(self.seed, "arrivals", "thinning")
            peak *= arrivals.peak_factor()  # candidates at the top rate, thinned to the time's
        # reputation scales the rate: thin from its ceiling down to the current reputation
        reputation = scenario.loops.reputation
        lift = reputation.ceiling if reputation.enabled else 1.0
        if reputation.enabled:
            follow = uniforms(self.seed, "arrivals", "reputation")
        top_rate = rate * peak * lift
        limit = scenario.customers
        horizon = scenario.horizon
        progress = self.progress
        if top_rate > 0:
            gaps = draws(
                generator(self.seed, "arrivals"), lambda rng, n: rng.exponential(1.0 / top_rate, n)
            )
            count = 0
            at = 0.0  # thinned-out candidates advance time without a SimPy event
            while limit is None or count < limit:
                at += gaps()
                if horizon is not None and at >= horizon:
                    break
                if thin:
                    m = schedule.multipliers[int((at % cycle) / slot)] if schedule else 1.0
                    if timeline:
                        m *= arrivals.factor_at(at)
                    if not rules.accepted_arrival(accept(), peak, m):
                        continue
                if reputation.enabled and follow() * lift >= self.dynamics.reputation:
                    continue
                yield env.timeout(at - env.now)
                self._admit()
                count += 1
                if progress is not None and not count & 1023:
                    progress(count / limit if limit is not None else at / horizon)
            if horizon is not None:
                yield env.timeout(horizon - env.now)
        elif horizon is not None:
            yield env.timeout(horizon)
        self.arrivals_done = True
        self.arrivals_end = env.now
        if not self.active:
            self.all_done.succeed()
        yield env.timeout(scenario.drain)
        if not self.stop.triggered:
            self.stop.succeed()

    def _burst(self, k: int, burst: Burst):  # noqa: ANN202 - a SimPy process
        """Admit a burst's customers at its node, spread at random over its time."""
        rng = generator(self.seed, "arrivals", f"burst:{k}")
        times = burst.at + np.sort(rng.uniform(0.0, burst.over, burst.customers))
        entry = self.journey.index(burst.node)
        for at in times.tolist():
            yield self.env.timeout(at - self.env.now)
            self._admit(entry)

    # --- one customer -------------------------------------------------------------
    def _plan(self, what_ifs: tuple[tuple[str, WhatIf], ...]) -> None:
        """Build one node table per combination of what-ifs a customer can be under.

        Variant ``v`` is a bit mask: bit i set means what-if i reaches this customer and
        has started. All variants share the random streams (common random numbers).
        """
        base = self.scenario
        self.what_ifs = what_ifs
        self.switching = bool(what_ifs)
        self.started = 0
        self.full_scope = 0  # what-ifs that reach every customer
        n_segments = len(self.tolerance)
        self.segment_scope = [0] * n_segments  # what-ifs that reach every customer of one
        self.pilots: list[tuple[int, float, object, int]] = []
        self.tables: list[list[tuple]] = []
        self.failure_ratio: list[list[float]] = []
        self.failures: list[list[float]] = []
        self.loyalty: list = []  # per variant: what-ifs may change recovery
        self.learnings: list[object] = []
        names = list(base.segments)
        for i, (name, what_if) in enumerate(what_ifs):
            share = what_if.scope.customers
            wanted = what_if.scope.segments
            reached = sum(1 << k for k in range(n_segments) if wanted is None or names[k] in wanted)
            if share >= 1.0:
                if wanted is None:
                    self.full_scope |= 1 << i
                for k in range(n_segments):
                    if reached >> k & 1:
                        self.segment_scope[k] |= 1 << i
            else:
                draw = uniforms(self.seed, "outcome", "pilot:" + name)
                self.pilots.append((1 << i, share, draw, reached))
        for v in range(1 << len(what_ifs)):
            chosen = [w for i, (_, w) in enumerate(what_ifs) if v >> i & 1]
            variant = apply(base, chosen) if chosen else base
            journey = compile_journey(variant) if chosen else self.journey
            self.tables.append(self._node_table(journey, variant))
            ratio = [
                new / old if old > 0 else new
                for new, old in zip(journey.failure, self.journey.failure, strict=True)
            ]
            self.failure_ratio.append(ratio)
            self.failures.append(
                self.failure_now
                if not chosen
                else [min(1.0, r * p) for r, p in zip(ratio, self.failure_now, strict=True)]
            )
            self.loyalty.append(
                [rules.tolerant(variant.experience, t).loyalty for t in self.tolerance]
            )
            learning = variant.loops.learning
            self.learnings.append(learning if learning.enabled else None)
        self.nodes = self.tables[0]

    def _node_table(self, journey: Journey, variant: Scenario) -> list[tuple]:
        """Return, per node, everything a visit reads, so a visit indexes once."""
        J = journey
        base = self.scenario
        nodes = {**variant.steps, **variant.contacts}
        base_nodes = {**base.steps, **base.contacts}
        table = []
        for i, name in enumerate(J.names):
            serve = self.service[i]
            if name in nodes and nodes[name] is not base_nodes[name]:
                old = base_nodes[name].service if name in base.steps else base_nodes[name].handling
                new = nodes[name].service if name in base.steps else nodes[name].handling
                if old.mean() > 0 and new.mean() != old.mean():
                    serve = _scaled(serve, new.mean() / old.mean())
            empower = J.empowerment[i]
            table.append(
                (
                    J.kind[i],
                    J.silo[i],
                    J.staffed[i],
                    J.paid[i],
                    J.fcr[i],
                    J.success[i],
                    J.failed[i],
                    J.patience[i],
                    serve,
                    self.fail_draw[i],
                    self.decide[i],
                    self.handoff_draw[i],
                    J.baton[i],
                    J.ping_pong[i],
                    None if empower is None else (*empower, self.empower_draw[i]),
                    self._silence(J, i),
                )
            )
        return table

    def _silence(self, journey: Journey, i: int) -> tuple | None:
        """Return (P(complain) per segment, silent route, draws) of a node; None: all complain."""
        voiced = tuple(rules.voiced(journey.complain[i], m) for m in self.propensity)
        base = min(rules.voiced(self.journey.complain[i], m) for m in self.propensity)
        if min(voiced) >= 1.0 and base >= 1.0:  # a what-if that invites all still draws
            return None
        return voiced, journey.silent[i], self.complain_draw[i]

    def _start(self, bit: int, what_if: WhatIf):  # noqa: ANN202 - a SimPy process
        """Switch a what-if on at its start time (staff changes: see ``staffing``)."""
        if what_if.start > 0:
            yield self.env.timeout(what_if.start)
        self.started |= bit

    def _staffed(self, s: int, now: float, change: int, capacity: int) -> None:
        """Record that silo ``s``'s staff on duty changed by ``change`` to ``capacity``."""
        self.staff_log.append((now, s, change))
        self.dynamics.staff[s] = float(capacity)

    def shown_failure(self) -> list[float]:
        """Return the failure probabilities of the variant every customer is under now."""
        return self.failures[self.started & self.full_scope]

    def _walk(self, c: Customer, entry: int | None = None):  # noqa: ANN202, C901 - the hot loop
        env = self.env
        timeout = env.timeout
        nodes = self.nodes
        silo_of, names = self.journey.silo, self.journey.names
        silos, patience = self.silos, self.patience
        node_visits, failure_now = self.node_visits, self.failure_now
        shared_failure_demand = self.shared_failure_demand
        switching, tables, failures = self.switching, self.tables, self.failures
        learning = self.learnings[0]
        silo_wait, silo_served, silo_busy = self.silo_wait, self.silo_served, self.silo_busy
        dynamics = self.dynamics
        erodes, standard, pace = dynamics.erodes, dynamics.standard, dynamics.pace
        work_in, jobs_in = dynamics.work_in, dynamics.jobs_in
        exp = self.scenario.experience
        compounding = exp.compounding
        failure_probability, handoff = rules.failure_probability, rules.handoff
        seen_into = self.seen_into
        cold_factor = exp.cold_handoff
        log = self.events
        warmup = self.scenario.warmup
        if log is not None:
            log.append((env.now, c.id, -1, "arrive", 0.0, ""))
        route = self.journey.start
        if entry is not None:
            node = entry
        else:
            node = route.targets[0] if len(route.targets) == 1 else route.pick(self.start_draw())
        while True:
            if switching:
                v = c.scope & self.started
                nodes, failure_now, learning = tables[v], failures[v], self.learnings[v]
            (
                kind,
                silo,
                staffed,
                paid,
                fcr,
                success,
                failed,
                impatient,
                serve,
                fail_draw,
                decide,
                handoff_draw,
                baton,
                ping_pong,
                empower,
                silence,
            ) = nodes[node]
            if kind == OUTCOME:
                self._finish(c, node)
                return
            bounce = c.bounce
            if kind == CONTACT:
                if bounce < 0:
                    self._contact(c, node)
                else:  # the wrong place: a contact all the same, and failure demand
                    self._misdirected(c, node)
            duration = serve()
            if staffed and (
                shared_failure_demand or not (kind == CONTACT and (c.open_issue or bounce >= 0))
            ):
                if erodes:  # the job's time in the current standard, then as fast as it goes
                    duration *= standard[silo]
                    work_in[silo] += duration
                    duration *= pace[silo]
                else:
                    work_in[silo] += duration
                jobs_in[silo] += 1
                res = silos[silo]
                now = asked = env.now
                req = res.seize(c)
                if req is None:
                    holder: object = c
                    waited = 0.0
                else:
                    if impatient and bounce < 0:
                        yield res.grant_or_timeout(req, patience[node]())
                        if not req.triggered:
                            req.cancel()
                            c.wait += env.now - asked
                            node = yield from self._abandon(c, node)
                            continue
                    else:
                        yield req
                    holder = req
                    now = env.now
                    waited = now - asked
                    c.wait += waited
                if now >= warmup:
                    silo_wait[silo] += waited
                    silo_served[silo] += 1
                    silo_busy[silo] += duration
                if log is not None:
                    log.append((now, c.id, node, "start", c.severity, f"{waited:.6g}"))
                if duration > 0:
                    yield timeout(duration)
                res.free(holder)
            else:
                if log is not None:
                    log.append((env.now, c.id, node, "start", c.severity, "0"))
                if duration > 0:
                    if paid and not staffed and env.now >= warmup:  # not the separate team
                        silo_busy[silo] += duration
                    yield timeout(duration)
            if bounce >= 0:  # sent on to where the customer should have gone: a real visit
                c.bounce = -1
                if log is not None:
                    log.append((env.now, c.id, node, "ping_pong", c.severity, names[bounce]))
                node = bounce
                continue
            c.visits += 1
            node_visits[node] += 1
            if log is not None:
                log.append((env.now, c.id, node, "complete", c.severity, ""))
            if kind == STEP:
                p = failure_now[node]
                if c.failures:
                    p = failure_probability(p, c.failures, compounding)
                if fail_draw() < p:  # always drawn: pilots and fixes keep the stream aligned
                    pursued = c.open_issue
                    self._fail(c, node)
                    route = failed
                    if silence is not None and not rules.complains(
                        silence[2](), silence[0][c.segment]
                    ):
                        c.silent += 1
                        c.open_issue = pursued  # a failure suffered in silence opens no case
                        if log is not None:
                            log.append((env.now, c.id, node, "silent", c.severity, ""))
                        route = silence[1]
                else:
                    route = success
            elif decide() < fcr or (
                empower is not None and c.open_issue and self._empowered(c, node, empower)
            ):
                if c.open_issue:
                    if c.failures == 1:
                        c.to_recovery = env.now - c.failed_at
                    c.recovered = True
                    c.open_issue = False
                    c.issue_contacts = 0
                    if learning is not None:
                        self.dynamics.on_recovery(c.last_failure, learning)
                if log is not None:
                    log.append((env.now, c.id, node, "resolved", c.severity, ""))
                route = success
            else:
                if log is not None:
                    log.append((env.now, c.id, node, "unresolved", c.severity, ""))
                route = failed
            targets = route.targets
            nxt = targets[0] if len(targets) == 1 else route.pick(decide())
            target_silo = silo_of[nxt]
            if target_silo != silo and target_silo >= 0:
                seen = seen_into[nxt][c.open_issue]
                # both draws always taken: the stream stays aligned whatever the outcome
                warm, misrouted = handoff(handoff_draw(), handoff_draw(), baton, ping_pong, seen)
                if warm:
                    c.warm += 1
                    if log is not None:
                        log.append((env.now, c.id, nxt, "handoff", c.severity, "warm"))
                else:
                    c.cold += 1
                    if log is not None:
                        log.append((env.now, c.id, nxt, "handoff", c.severity, "cold"))
                    if seen:
                        c.cold_seen += 1
                        if misrouted:  # to the wrong place first, then on to nxt
                            c.ping_pongs += 1
                            c.bounce = nxt
                        if c.severity > 0.0:  # no complaint yet: nothing to worsen
                            for _ in range(rules.cold_events(False, misrouted)):
                                self._worsen(c, cold_factor, nxt)
            node = nxt

    def _finish(self, c: Customer, node: int) -> None:
        now = self.env.now
        if self.half_life is not None:
            self._fade(c)
        s = c.severity
        if self.journey.churn_outcome[node]:
            outcome = CHURNED
        else:
            if s == 0.0:  # most customers: never failed
                churn, advocacy = self.calm_outcome
            else:
                loyalty = self.loyalty[c.scope & self.started if self.switching else 0][c.segment]
                once = rules.recovered_once(c.recovered, c.failures)
                speed = rules.recovery_speed(c.to_recovery, loyalty.recovery_time) if once else 0.0
                churn, advocacy = rules.loyalty_odds(s, once, loyalty, speed)
            u = c.luck
            outcome = CHURNED if u < churn else ADVOCATE if u < churn + advocacy else RETAINED
        if outcome == ADVOCATE:
            self.dynamics.on_advocate()
        c.visits += 1
        self.node_visits[node] += 1
        if self.events is not None:
            names = ("retained", "advocate", "churned")
            self.events.append((now, c.id, node, "outcome", c.severity, names[outcome]))
        self.table.append(c, now, outcome, node)
        if self.sink is not None and len(self.sink.rows) >= self.sink.chunk:
            self.sink.spill()  # the log goes to disk as it grows, never whole in memory
        del self.active[c.id]
        if self.arrivals_done and not self.active and not self.all_done.triggered:
            self.all_done.succeed()

    def run(self) -> RawRun:
        """Simulate until every customer has finished or the drain time is up."""
        self.start()
        self.env.run(until=self.finished)
        return self.records()

    @property
    def finished(self) -> simpy.Event:
        """The event that ends the run: every customer finished, or the drain time is up."""
        return self.all_done | self.stop

    def start(self) -> None:
        """Start the arrivals, staffing, bursts, what-ifs and loops (then step ``env``)."""
        env = self.env
        for i, (_, what_if) in enumerate(self.what_ifs):
            env.process(self._start(1 << i, what_if))
        for s, name in enumerate(self.journey.silo_names):
            silo = self.scenario.silos[name]
            plan = staff_plan(self.what_ifs, self.scenario, name)
            resource = self.silos[s]
            if resource is not None and (silo.roster is not None or silo.changes or plan):
                env.process(staffing(env, resource, silo, plan, partial(self._staffed, s)))
        for k, burst in enumerate(self.scenario.arrivals.events):
            env.process(self._burst(k, burst))
        env.process(self._arrivals())
        env.process(self.dynamics.process(self))

    def records(self) -> RawRun:
        """Return the run's records (customers still in a journey end as in progress)."""
        end = self.env.now
        for c in sorted(self.active.values(), key=lambda c: c.id):
            self.table.append(c, math.nan, IN_PROGRESS, -1)
        return RawRun(
            customers=self.table,
            counters=self.counters,
            events=self.sink,
            end=end,
            node_visits=self.node_visits,
            silo_busy=self.silo_busy,
            silo_wait=self.silo_wait,
            silo_served=self.silo_served,
            journey=self.journey,
            dynamics=self.dynamics,
            arrivals_end=self.arrivals_end,
            staff_log=self.staff_log,
            empowerment_spend=self.empowerment_spend,
        )


def _scaled(serve: Callable[[], float], factor: float) -> Callable[[], float]:
    """Return draws of ``serve`` times ``factor``: the same luck, scaled (common random numbers)."""
    return lambda: serve() * factor


def simulate_des(
    scenario: Scenario,
    seed: int,
    event_log: bool = False,
    what_ifs: tuple[tuple[str, WhatIf], ...] = (),
    progress: Callable[[float], None] | None = None,
    customers: bool = True,
) -> RawRun:
    """Run the SimPy engine once, what-ifs switched on at their starts; return its records.

    ``progress(fraction)`` is called as customers arrive (the share of the arrivals or of
    the horizon so far); the drain after the last arrival is not counted. ``customers``:
    keep the customer table (on disk); the metrics never need it.
    """
    return Engine(scenario, seed, event_log, what_ifs, progress, customers).run()
