"""The analytic engine: a journey with unlimited staff and no system loops, solved exactly.

A customer's journey is then an absorbing Markov chain on states (node, failures so far,
severity, open issue, contacts about it, recovered, escalated, a pending ping-pong
bounce). ``theory`` pushes probability mass through that chain hop by hop, exactly as
the SimPy engine decides at each visit, and adds up expectations on the way; it stops
when the mass still travelling is below ``tolerance`` and reports it as truncated.
Queues have closed forms of their own: ``erlang_c`` and ``erlang_a``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from spiral.journey import CONTACT, OUTCOME, STEP, compile_journey
from spiral.scenario import Scenario

TOLERANCE = 1e-12


class NoClosedForm(ValueError):
    """The scenario has parts the analytic engine cannot solve exactly."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(f"{field}: {why}" for field, why in reasons))


def closed_form_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Return (field, reason) for each part of a scenario without a closed form."""
    problems = []
    paid = {n.silo for n in scenario.steps.values() if not n.self_service}
    paid |= {n.silo for n in scenario.contacts.values()}
    for name, silo in scenario.silos.items():
        if silo.staff != "unlimited" and name in paid:
            problems.append(
                (
                    f"silos.{name}.staff",
                    f"{silo.staff} staff queue customers; the journey has no closed form "
                    "with queues (use unlimited staff as an approximation)",
                )
            )
    loops = scenario.loops
    for name in ("erosion", "reputation", "learning"):
        if getattr(loops, name).enabled:
            problems.append(
                (f"loops.{name}.enabled", "a system loop couples customers; no closed form")
            )
    return problems


def unlimited(scenario: Scenario) -> Scenario:
    """Return the scenario with every silo's staff unlimited (no queues, no abandonment)."""
    silos = {
        name: silo.model_copy(update={"staff": "unlimited"})
        for name, silo in scenario.silos.items()
    }
    return scenario.model_copy(update={"silos": silos})


@dataclass
class Theory:
    """Exact per-customer expectations and distributions of a journey."""

    scenario: str
    visits: dict[str, float]
    failures_by_step: dict[str, float]
    born: dict[str, float]  # P(first failure at the step)
    failures_distribution: dict[int, float]
    outcomes: dict[str, float]  # P(journey ends at the outcome node)
    retained: float
    advocate: float
    churned: float
    severity: list[tuple[float, float]]  # (final severity, probability), ascending
    contacts: float
    repeat_contacts: float
    failure_demand: float
    handoffs_warm: float
    handoffs_cold: float
    ping_pongs: float
    social: float
    ceo: float
    social_reach: float
    truncated: float
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def failures_mean(self) -> float:
        """Return the expected failures per customer."""
        return sum(k * p for k, p in self.failures_distribution.items())

    @property
    def severity_mean(self) -> float:
        """Return the expected final severity."""
        return sum(s * p for s, p in self.severity)

    def severity_quantile(self, q: float) -> float:
        """Return the smallest severity whose cumulative probability reaches ``q``."""
        total = 0.0
        for s, p in self.severity:
            total += p
            if total >= q - 1e-12:
                return s
        return self.severity[-1][0]

    @property
    def churn_rate(self) -> float:
        """Return P(churned) among customers who finish."""
        return self.churned / max(self.retained + self.advocate + self.churned, 1e-300)

    def summary(self) -> dict[str, float]:
        """Return the headline numbers, named as in a run's summary, per customer."""
        return {
            "failures_per_customer": self.failures_mean,
            "contacts_per_customer": self.contacts,
            "repeat_contacts_per_customer": self.repeat_contacts,
            "failure_demand_share": self.failure_demand / self.contacts if self.contacts else 0.0,
            "severity_mean": self.severity_mean,
            "severity_p95": self.severity_quantile(0.95),
            "churn_rate": self.churn_rate,
            "advocacy_rate": self.advocate,
            "social_rate": self.social,
            "ceo_rate": self.ceo,
            "handoffs_warm_per_customer": self.handoffs_warm,
            "handoffs_cold_per_customer": self.handoffs_cold,
            "ping_pongs_per_customer": self.ping_pongs,
            "truncated_mass": self.truncated,
        }


def theory(scenario: Scenario, approximate: bool = False, tolerance: float = TOLERANCE) -> Theory:
    """Return the exact journey expectations; refuse (NoClosedForm) unless it has one.

    ``approximate=True`` treats every silo as unlimited (the no-queue approximation);
    system loops are always refused.
    """
    problems = closed_form_problems(scenario)
    if approximate:
        problems = [p for p in problems if not p[0].endswith(".staff")]
        scenario = unlimited(scenario)
    if problems:
        raise NoClosedForm(problems)
    return _Chain(scenario, tolerance).solve()


class _Chain:
    """Forward propagation of probability mass over the journey's states."""

    def __init__(self, scenario: Scenario, tolerance: float) -> None:
        self.scenario = scenario
        self.tolerance = tolerance
        self.j = compile_journey(scenario)
        exp = scenario.experience
        self.exp = exp
        self.esc = exp.escalation
        self.cap = exp.severity_cap
        n = self.j.size
        self.visits = [0.0] * n
        self.fails_at = [0.0] * n
        self.born = [0.0] * n
        self.ends: dict[tuple, float] = defaultdict(float)  # (node, F, s, rec, social, ceo)
        self.t: dict[str, float] = defaultdict(float)

    # --- severity and escalation --------------------------------------------------------
    def _escalate(self, s: float, social: bool, ceo: bool, m: float):  # noqa: ANN202
        """Yield (social, ceo, mass) after the escalation checks at severity ``s``."""
        branches = [(social, m)]
        if not social and s >= self.esc.social.threshold:
            p = self.esc.social.probability
            branches = [(True, m * p), (False, m * (1 - p))]
            self.t["social"] += m * p
        for soc, mass in branches:
            if mass == 0.0:
                continue
            if not ceo and s >= self.esc.ceo.threshold:
                p = self.esc.ceo.probability
                self.t["ceo"] += mass * p
                yield soc, True, mass * p
                yield soc, False, mass * (1 - p)
            else:
                yield soc, ceo, mass

    def _worsen(self, s: float, factor: float, social: bool, ceo: bool, m: float):  # noqa: ANN202
        """Yield (severity, social, ceo, mass) after a bad event multiplying severity."""
        if s <= 0.0:
            yield s, social, ceo, m
            return
        s = _key(min(s * factor, self.cap))
        for soc, c, mass in self._escalate(s, social, ceo, m):
            yield s, soc, c, mass

    # --- the chain ----------------------------------------------------------------------
    def solve(self) -> Theory:
        j = self.j
        live: dict[tuple, float] = defaultdict(float)
        for target, p in j.start.probabilities().items():
            # state: node, failures, severity, open, issue_contacts (0/1/2+), recovered,
            # social, ceo, bounce
            live[(target, 0, 0.0, False, 0, False, False, False, -1)] += p
        truncated = 0.0
        while live:
            mass = sum(live.values())
            if mass < self.tolerance:
                truncated += mass
                break
            nxt: dict[tuple, float] = defaultdict(float)
            for state, m in live.items():
                if m < self.tolerance * 1e-4:
                    truncated += m
                    continue
                self._visit(state, m, nxt)
            live = nxt
        return self._theory(truncated)

    def _visit(self, state: tuple, m: float, nxt: dict) -> None:  # noqa: C901 - mirrors _walk
        j, exp = self.j, self.exp
        node, f, s, open_, ic, rec, soc, ceo, bounce = state
        kind = j.kind[node]
        if kind == OUTCOME:
            self.visits[node] += m
            self.ends[(node, f, s, rec, soc, ceo)] += m
            return
        pre = [(s, ic, soc, ceo, m)]
        if kind == CONTACT and bounce < 0:
            self.t["contacts"] += m
            if open_:
                self.t["failure_demand"] += m
                ic = min(ic + 1, 2)
                if ic == 2:
                    self.t["repeat_contacts"] += m
                    pre = [
                        (s2, ic, so2, c2, m2)
                        for s2, so2, c2, m2 in self._worsen(s, exp.repeat_contact, soc, ceo, m)
                    ]
                else:
                    pre = [(s, ic, soc, ceo, m)]
        if bounce >= 0:
            for s2, ic2, so2, c2, m2 in pre:
                nxt[(bounce, f, s2, open_, ic2, rec, so2, c2, -1)] += m2
            return
        self.visits[node] += m
        for s0, ic0, so0, c0, m0 in pre:
            # (failures, severity, open, issue_contacts, recovered, social, ceo, mass, route)
            after = []
            if kind == STEP:
                p = j.failure[node]
                if 0.0 < p < 1.0 and f and exp.compounding != 1.0:
                    odds = p / (1 - p) * exp.compounding ** min(f, _power_cap(exp.compounding))
                    p = odds / (1 + odds)
                if p > 0.0:
                    mf = m0 * p
                    self.fails_at[node] += mf
                    if f == 0:
                        self.born[node] += mf
                    if s0 == 0.0:
                        branches = [
                            (1.0, a, b, mm) for a, b, mm in self._escalate(1.0, so0, c0, mf)
                        ]
                    else:
                        branches = list(self._worsen(s0, exp.amplification, so0, c0, mf))
                    for s1, so1, c1, mm in branches:
                        after.append((f + 1, s1, True, ic0, rec, so1, c1, mm, j.failed[node]))
                if p < 1.0:
                    after.append((f, s0, open_, ic0, rec, so0, c0, m0 * (1 - p), j.success[node]))
            else:
                r = j.fcr[node]
                rule = j.empowerment[node]
                if open_ and rule is not None:
                    limit, mean_cost = rule
                    r = r + (1 - r) * (1 - math.exp(-limit / mean_cost))
                if r > 0.0:
                    if open_:
                        after.append((f, s0, False, 0, True, so0, c0, m0 * r, j.success[node]))
                    else:
                        after.append((f, s0, open_, ic0, rec, so0, c0, m0 * r, j.success[node]))
                if r < 1.0:
                    after.append((f, s0, open_, ic0, rec, so0, c0, m0 * (1 - r), j.failed[node]))
            for f1, s1, o1, ic1, r1, so1, c1, mm, route in after:
                if mm == 0.0:
                    continue
                self._route(node, route, (f1, s1, o1, ic1, r1, so1, c1), mm, nxt)

    def _route(self, node: int, route, carry: tuple, m: float, nxt: dict) -> None:  # noqa: ANN001
        j, exp = self.j, self.exp
        f, s, open_, ic, rec, soc, ceo = carry
        silo = j.silo[node]
        for target, q in route.probabilities().items():
            mq = m * q
            target_silo = j.silo[target]
            if target_silo == silo or target_silo < 0:
                nxt[(target, f, s, open_, ic, rec, soc, ceo, -1)] += mq
                continue
            baton, pp = j.baton[node], j.ping_pong[node]
            warm = mq * baton
            if warm:
                self.t["handoffs_warm"] += warm
                nxt[(target, f, s, open_, ic, rec, soc, ceo, -1)] += warm
            cold = mq * (1 - baton)
            if not cold:
                continue
            self.t["handoffs_cold"] += cold
            for misrouted, mc in ((True, cold * pp), (False, cold * (1 - pp))):
                if not mc:
                    continue
                bounce = node if misrouted else -1
                if misrouted:
                    self.t["ping_pongs"] += mc
                for s1, so1, c1, m1 in self._worsen(s, exp.cold_handoff, soc, ceo, mc):
                    if misrouted:
                        for s2, so2, c2, m2 in self._worsen(s1, exp.cold_handoff, so1, c1, m1):
                            nxt[(target, f, s2, open_, ic, rec, so2, c2, bounce)] += m2
                    else:
                        nxt[(target, f, s1, open_, ic, rec, so1, c1, bounce)] += m1

    def _theory(self, truncated: float) -> Theory:
        j, scenario = self.j, self.scenario
        loyalty = scenario.experience.loyalty
        retained = advocate = churned = 0.0
        outcomes: dict[str, float] = defaultdict(float)
        failures: dict[int, float] = defaultdict(float)
        severity: dict[float, float] = defaultdict(float)
        for (node, f, s, rec, _soc, _ceo), m in self.ends.items():
            outcomes[j.names[node]] += m
            failures[f] += m
            severity[s] += m
            if j.churn_outcome[node]:
                churned += m
                continue
            if s == 0.0:
                churn = loyalty.base_churn
                adv = min(loyalty.base_advocacy, 1 - churn)
            else:
                churn = loyalty.max_churn - (loyalty.max_churn - loyalty.base_churn) * math.exp(
                    -s / loyalty.severity_scale
                )
                if rec and f == 1:
                    churn *= loyalty.recovery_effect
                adv = min(loyalty.base_advocacy * math.exp(-loyalty.advocacy_decay * s), 1 - churn)
            churned += m * churn
            advocate += m * adv
            retained += m * (1 - churn - adv)
        social = scenario.experience.escalation.social
        reach = social.reach_median * math.exp(social.reach_sigma**2 / 2)
        t = self.t
        return Theory(
            scenario=scenario.name,
            visits={name: self.visits[i] for i, name in enumerate(j.names)},
            failures_by_step={
                j.names[i]: self.fails_at[i] for i in range(j.size) if j.kind[i] == STEP
            },
            born={j.names[i]: self.born[i] for i in range(j.size) if j.kind[i] == STEP},
            failures_distribution=dict(sorted(failures.items())),
            outcomes={name: outcomes.get(name, 0.0) for name in scenario.outcomes},
            retained=retained,
            advocate=advocate,
            churned=churned,
            severity=sorted(severity.items()),
            contacts=t["contacts"],
            repeat_contacts=t["repeat_contacts"],
            failure_demand=t["failure_demand"],
            handoffs_warm=t["handoffs_warm"],
            handoffs_cold=t["handoffs_cold"],
            ping_pongs=t["ping_pongs"],
            social=t["social"],
            ceo=t["ceo"],
            social_reach=t["social"] * reach,
            truncated=truncated,
            totals=dict(t),
        )


def _key(s: float) -> float:
    """Round a severity so products reached in different orders merge into one state."""
    return float(f"{s:.12g}")


def _power_cap(compounding: float) -> int:
    return int(600 / math.log(compounding)) if compounding > 1 else 1 << 30


def fix_ranking(scenario: Scenario, factor: float = 0.5, approximate: bool = False):  # noqa: ANN201
    """Rank steps by how much fixing each (failure × factor) cuts expected churn and severity.

    Returns a DataFrame indexed by step: failure now, Δ churn rate, Δ severity mean,
    Δ failures per customer, sorted by the churn cut (largest first).
    """
    import pandas as pd

    from spiral.interventions import apply
    from spiral.what_if import WhatIf

    base = theory(scenario, approximate=approximate)
    rows = []
    for name, step in scenario.steps.items():
        if step.failure <= 0:
            continue
        fix = WhatIf(changes=[{"change": "fix_step", "step": name, "factor": factor}])
        fixed = theory(apply(scenario, [fix]), approximate=approximate)
        rows.append(
            {
                "step": name,
                "failure": step.failure,
                "born_share": base.born[name] / max(sum(base.born.values()), 1e-300),
                "churn_cut": base.churn_rate - fixed.churn_rate,
                "severity_cut": base.severity_mean - fixed.severity_mean,
                "failures_cut": base.failures_mean - fixed.failures_mean,
            }
        )
    frame = pd.DataFrame(rows).set_index("step")
    return frame.sort_values(["churn_cut", "severity_cut"], ascending=False)


# --- queues -------------------------------------------------------------------------------


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> tuple[float, float]:
    """Return (P(wait), mean wait in queue) of an M/M/c queue (Erlang C); rates per minute."""
    a = arrival_rate / service_rate
    if servers < 1 or a >= servers:
        raise ValueError(f"unstable or empty queue: offered load {a:g} with {servers} servers")
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= a / k
        total += term
    top = term * a / servers * servers / (servers - a)
    p_wait = top / (total + top)
    return p_wait, p_wait / (servers * service_rate - arrival_rate)


def erlang_a(
    arrival_rate: float, service_rate: float, servers: int, patience_rate: float
) -> dict[str, float]:
    """Return P(abandon), P(wait), mean queue wait and mean queue length of an M/M/c+M queue.

    Exact stationary distribution of the birth-death chain (births λ, deaths
    min(n, c)·μ + max(n − c, 0)·θ), summed until the tail is negligible.
    """
    if servers < 1 or service_rate <= 0 or patience_rate <= 0:
        raise ValueError("expected servers >= 1 and positive service and patience rates")
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, servers) * service_rate + max(n - servers, 0) * patience_rate
        weights.append(weights[-1] * arrival_rate / death)
        if n > servers and weights[-1] < 1e-16 * sum(weights):
            break
    p = np.asarray(weights) / sum(weights)
    states = np.arange(len(p))
    queue = np.maximum(states - servers, 0)
    mean_queue = float((queue * p).sum())
    abandon_rate = patience_rate * mean_queue
    return {
        "p_abandon": abandon_rate / arrival_rate,
        "p_wait": float(p[servers:].sum()),
        "mean_wait": mean_queue / arrival_rate,  # Little: over all arrivals
        "mean_queue": mean_queue,
    }
