"""What happens to one customer at each event of the SimPy engine: the customer's record.

A failure, a contact, a wrong-place contact, an abandoned wait, a worsening and an
escalation, each applied to the customer as the rules module says and counted. The
engine (``simpy_engine.Engine``) mixes these in and supplies the clock, the streams and
the counters they read.
"""

from __future__ import annotations

from spiral.engines import rules
from spiral.engines.records import Customer


class CustomerEvents:
    """The bad events of a customer's journey and their bookkeeping (mixed into the engine)."""

    def _empowered(self, c: Customer, node: int, rule: tuple) -> bool:
        """Put a case right at first contact if its cost is within the agent's limit."""
        limit, mean_cost, draw = rule
        cost = rules.empowerment_cost(draw(), mean_cost)
        if not rules.empowered(cost, limit):
            return False
        if self.env.now >= self.scenario.warmup:
            self.empowerment_spend += cost
        if self.events is not None:
            self.events.append((self.env.now, c.id, node, "empowered", c.severity, f"{cost:.2f}"))
        return True

    def _fade(self, c: Customer) -> None:
        """Let the customer's severity fade to now (call only when it fades at all)."""
        half_life = self.half_life
        if c.severity > 0.0:
            now = self.env.now
            c.severity = rules.faded(c.severity, now - c.severity_at, half_life)
            c.severity_at = now

    def _fail(self, c: Customer, node: int) -> None:
        """Record a failure at a step: the complaint is born (severity 1) or amplified."""
        now = self.env.now
        if self.half_life is not None:
            self._fade(c)
            c.severity_at = now
        c.failures += 1
        c.open_issue = True
        if c.first_failure < 0:
            c.first_failure = node
            c.failed_at = now
        c.last_failure = node
        self.counters.add("failures", now)
        exp = self.scenario.experience
        c.severity = rules.after_failure(c.severity, exp.amplification, exp.severity_cap)
        if self.events is not None:  # with the severity the failure left
            self.events.append((now, c.id, node, "failure", c.severity, ""))
        self._escalate(c, node)

    def _contact(self, c: Customer, node: int) -> None:
        """Count a contact: failure demand while an issue is open, repeat after the first."""
        now = self.env.now
        c.contacts += 1
        self.counters.add("contacts", now)
        if c.open_issue:
            c.failure_demand += 1
            c.complaints += 1
            self.counters.add("failure_demand", now)
            c.issue_contacts += 1
            if c.issue_contacts > 1:
                c.repeat_contacts += 1
                if self.events is not None:
                    self.events.append((now, c.id, node, "repeat_contact", c.severity, ""))
                self._worsen(c, self.scenario.experience.repeat_contact, node)
        if self.events is not None:  # with the severity the repeat left
            self.events.append((now, c.id, node, "contact", c.severity, ""))

    def _misdirected(self, c: Customer, node: int) -> None:
        """Count a contact made at the wrong place after a misrouted handoff: failure demand."""
        now = self.env.now
        c.contacts += 1
        c.failure_demand += 1
        self.counters.add("contacts", now)
        self.counters.add("failure_demand", now)
        if self.events is not None:
            self.events.append((now, c.id, node, "contact", c.severity, "wrong place"))

    def _abandon(self, c: Customer, node: int):  # noqa: ANN202 - a SimPy sub-process
        """Handle a customer who gave up waiting: redial later or leave; return the next node."""
        env = self.env
        c.abandons += 1
        self.counters.add("abandons", env.now)
        if self.events is not None:
            self.events.append((env.now, c.id, node, "abandon", c.severity, ""))
        self._worsen(c, self.scenario.experience.abandonment, node)
        if self.decide[node]() < self.journey.redial[node]:
            yield env.timeout(self.redial_after[node]())
            return node
        return self.journey.give_up[node]

    def _worsen(self, c: Customer, factor: float, node: int) -> None:
        """Multiply an open complaint's severity by a bad event's factor, then maybe escalate.

        Before the first failure there is no complaint (severity 0) and nothing to multiply.
        """
        if c.severity > 0.0:
            if self.half_life is not None:
                self._fade(c)
            c.severity = rules.worsened(c.severity, factor, self.scenario.experience.severity_cap)
            self._escalate(c, node)

    def _escalate(self, c: Customer, node: int) -> None:
        escalation = self.escalations[c.segment]
        now = self.env.now
        if rules.escalation_due(c.severity, c.social, escalation.social.threshold):
            if self.escalation_draw() < escalation.social.probability:
                c.social = True
                c.reach = self.reach_draw()
                self.dynamics.on_social(c.reach)
                self.counters.add("social", now)
                if self.events is not None:
                    self.events.append((now, c.id, node, "escalate", c.severity, "social"))
        if rules.escalation_due(c.severity, c.ceo, escalation.ceo.threshold):
            if self.escalation_draw() < escalation.ceo.probability:
                c.ceo = True
                self.counters.add("ceo", now)
                if self.events is not None:
                    self.events.append((now, c.id, node, "escalate", c.severity, "ceo"))
