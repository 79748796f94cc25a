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

import numpy as np

from spiral.engines import rules
from spiral.engines.expectations import Theory, mixed
from spiral.engines.journey import CONTACT, OUTCOME, STEP, compile_journey
from spiral.engines.runs import closed_form_problems
from spiral.engines.segments import segment_views
from spiral.model.scenario import Scenario

TOLERANCE = 1e-12
EXPLAIN_TOLERANCE = 1e-6  # `spiral explain`: probabilities to ~6 decimals, in seconds


class NoClosedForm(ValueError):
    """The scenario has parts the analytic engine cannot solve exactly."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(f"{field}: {why}" for field, why in reasons))


def unlimited(scenario: Scenario) -> Scenario:
    """Return the scenario with every silo's staff unlimited (no queues, no abandonment)."""
    silos = {
        name: silo.model_copy(update={"staff": "unlimited"})
        for name, silo in scenario.silos.items()
    }
    return scenario.model_copy(update={"silos": silos})


def without_loops(scenario: Scenario) -> Scenario:
    """Return the scenario with erosion, reputation and learning switched off."""
    loops = scenario.loops
    update = {
        name: getattr(loops, name).model_copy(update={"enabled": False})
        for name in ("erosion", "reputation", "learning")
    }
    return scenario.model_copy(update={"loops": loops.model_copy(update=update)})


def theory(
    scenario: Scenario,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = TOLERANCE,
) -> Theory:
    """Return the exact journey expectations; refuse (NoClosedForm) unless it has one.

    ``approximate=True`` treats every silo as unlimited (the no-queue approximation);
    ``loops_off=True`` switches the system loops off; otherwise both are refused.
    """
    return _solve(_solvable(scenario, approximate, loops_off), tolerance)[0]


def _solve(
    scenario: Scenario, tolerance: float, failures: list[list[float]] | None = None
) -> list[Theory]:
    """Solve the chain of every variant: one chain per customer segment, mixed by share."""
    views = segment_views(scenario)
    if len(views) == 1:
        return _Chain(scenario, tolerance, failures).solve()
    solved = [_Chain(view.scenario, tolerance, failures).solve() for view in views]
    shares = [view.share for view in views]
    return [
        mixed([theories[i] for theories in solved], shares, scenario.name)
        for i in range(len(solved[0]))
    ]


def _solvable(scenario: Scenario, approximate: bool, loops_off: bool) -> Scenario:
    """Return the scenario as asked (unlimited staff, loops off); refuse one with no closed form."""
    if approximate:
        scenario = unlimited(scenario)
    if loops_off:
        scenario = without_loops(scenario)
    problems = closed_form_problems(scenario)
    loyalty = scenario.experience.loyalty
    highest_churn = max(loyalty.base_churn, loyalty.max_churn * loyalty.recovery_effect)
    if loyalty.recovery_time is not None and loyalty.base_advocacy + highest_churn > 1.0:
        problems.append(
            (
                "experience.loyalty.base_advocacy",
                "with recovery_time, advocacy capped at 1 - churn depends on the whole "
                "spread of recovery times, which has no closed form here; expected "
                "base_advocacy + max(base_churn, max_churn × recovery_effect) <= 1",
            )
        )
    if scenario.experience.severity_half_life is not None:
        problems.append(
            (
                "experience.severity_half_life",
                "severity that fades with time depends on when each event happens, which has "
                "no closed form here; expected it unset (the simulation engines follow it)",
            )
        )
    if problems:
        raise NoClosedForm(problems)
    return scenario


class _Chain:
    """Forward propagation of probability mass over the journey's states.

    A state is (node, failures, open issue, contacts about it (0, 1, 2+), recovered,
    pending bounce). Escalation flags and severity are exact and kept per state as an
    array x[variant, social, ceo, b, c]: a customer with f >= 1 failures, b cold handoffs
    and c repeat contacts since the first failure has severity
    min(amplification^(f-1) · cold^b · repeat^c, cap). Every factor is >= 1, so capping
    once at the end equals capping at each step, and an index past the point where one
    factor alone reaches the cap can stay at that edge without changing anything.

    Variants are the same journey with other step failure probabilities, solved together:
    the states and every operation are shared, only the masses differ.
    """

    def __init__(
        self, scenario: Scenario, tolerance: float, failures: list[list[float]] | None = None
    ) -> None:
        self.scenario = scenario
        self.tolerance = tolerance
        self.j = compile_journey(scenario)
        self.failure = np.asarray(failures or [list(self.j.failure)]).T  # node -> per variant
        self.variants = self.failure.shape[1]
        exp = scenario.experience
        recovery_time = exp.loyalty.recovery_time
        self.keep: list[float] | None = None
        if recovery_time is not None:
            # Each variant gets a twin row of discounted mass, E[mass · exp(-T/recovery_time)]
            # with T the time since the first failure: every operation is linear, so the
            # twin goes through the chain as a variant does; only a visit while the first
            # issue is open discounts it, by that node's E[exp(-duration/recovery_time)].
            self.failure = np.concatenate([self.failure, self.failure], axis=1)
            self.keep = [_keep(scenario, name, 1.0 / recovery_time) for name in self.j.names]
        self.v = self.failure.shape[1]
        self.exp = exp
        self.esc = exp.escalation
        self.cap = exp.severity_cap
        self._sizes: dict[int, tuple[int, int]] = {}
        self._grids: dict[int, np.ndarray] = {}
        self._odds: dict[int, tuple] = {}
        n = self.j.size
        self.visits = np.zeros((n, self.v))
        self.fails_at = np.zeros((n, self.v))
        self.born = np.zeros((n, self.v))
        self.ends: dict[tuple, np.ndarray] = {}  # (node, failures, recovered) -> masses
        self.t: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(self.v))

    def _amplified(self, f: int) -> float:
        """Return the severity of a customer with f >= 1 failures and nothing else."""
        return rules.amplified(f, self.exp.amplification)

    def sizes(self, f: int) -> tuple[int, int]:
        """Return the lattice extent at f failures along (cold handoffs, repeat contacts).

        The more failures, the sooner one factor alone reaches the cap: past that point
        every severity is the cap, so the lattice shrinks as failures grow.
        """
        if f not in self._sizes:
            amp = self._amplified(max(f, 1))
            exp = self.exp
            self._sizes[f] = (
                _axis(exp.cold_handoff, self.cap, amp),
                _axis(exp.repeat_contact, self.cap, amp),
            )
        return self._sizes[f]

    def grid(self, f: int) -> np.ndarray:
        """Return the severity of each lattice point for a customer with f >= 1 failures."""
        if f not in self._grids:
            b, c = self.sizes(f)
            exp = self.exp
            self._grids[f] = rules.severity_of(
                f,
                np.arange(b)[:, None],
                np.arange(c)[None, :],
                exp.amplification,
                exp.cold_handoff,
                exp.repeat_contact,
                self.cap,
            )
        return self._grids[f]

    def _fit(self, f: int, x: np.ndarray) -> np.ndarray:
        """Return masses cut to the lattice at f failures, what lies past an edge on the edge."""
        b, c = self.sizes(f)
        if x.shape[-2] > b:
            x = np.concatenate([x[..., : b - 1, :], x[..., b - 1 :, :].sum(-2, keepdims=True)], -2)
        if x.shape[-1] > c:
            x = np.concatenate([x[..., : c - 1], x[..., c - 1 :].sum(-1, keepdims=True)], -1)
        return x

    def empty(self) -> np.ndarray:
        """Return a lattice of zero mass: (variant, social, ceo, cold handoffs, repeat contacts)."""
        return np.zeros((self.v, 2, 2, 1, 1))  # grows along an axis only as far as masses reach

    # --- severity and escalation --------------------------------------------------------
    def _chances(self, f: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Return per lattice point the chance of escalating to social, to the CEO (or None)."""
        if f not in self._odds:
            s = self.grid(f)
            out = []
            for channel in (self.esc.social, self.esc.ceo):
                chance = rules.escalation_due(s, False, channel.threshold) * channel.probability
                out.append(chance if chance.any() else None)
            self._odds[f] = tuple(out)
        return self._odds[f]

    def _escalate(self, f: int, x: np.ndarray) -> np.ndarray:
        """Return the masses after the escalation checks at f failures, as the engine makes them."""
        b, c = x.shape[-2], x.shape[-1]
        # x is always a fresh array no one else holds, so it is changed in place
        for flag, chance, name in zip((0, 1), self._chances(f), ("social", "ceo"), strict=True):
            # severity grows along both axes: no chance at the far corner means none at all
            if chance is None or chance[b - 1, c - 1] == 0:
                continue
            if flag == 0:
                hit = x[:, 0] * chance[:b, :c]
                x[:, 0] -= hit
                x[:, 1] += hit
            else:
                hit = x[:, :, 0] * chance[:b, :c]
                x[:, :, 0] -= hit
                x[:, :, 1] += hit
            self.t[name] += hit.sum(axis=(1, 2, 3))
        return x

    def _worsen(self, f: int, axis: int, times: int, x: np.ndarray) -> np.ndarray:
        """Return the masses after ``times`` bad events on a lattice axis (-2: cold, -1: repeat)."""
        if f == 0:  # no complaint yet: nothing to worsen
            return x
        limit = self.sizes(f)[axis + 2]
        for _ in range(times):
            x = self._escalate(f, _shift(x, axis, limit))
        return x

    # --- the chain ----------------------------------------------------------------------
    def solve(self) -> list[Theory]:
        """Push the mass through the chain; return one Theory per variant."""
        j = self.j
        live: dict[tuple, np.ndarray] = {}
        for target, p in j.start.probabilities().items():
            x = self.empty()
            x[:, 0, 0, 0, 0] = p
            _add(live, (target, 0, False, 0, False, -1), x)
        # Mass reaching a state is pooled until the state's turn comes, whichever visit it
        # came from: every quantity is linear in mass, so the order of pushes does not
        # matter, and a state is worked on once per round instead of once per path.
        truncated = np.zeros(self.v)
        while live:
            masses = sum(_mass(x) for x in live.values())
            if masses.max() < self.tolerance:
                truncated += masses
                break
            for state in list(live):
                x = live.pop(state, None)
                if x is None:
                    continue
                m = _mass(x)
                if m.max() < self.tolerance * 1e-3:
                    truncated += m
                    continue
                self._visit(state, m, x, live)
        return [self._theory(v, float(truncated[v])) for v in range(self.variants)]

    def _visit(self, state: tuple, m: np.ndarray, x: np.ndarray, nxt: dict) -> None:
        j, exp = self.j, self.exp
        node, f, open_, ic, rec, bounce = state
        kind = j.kind[node]
        if self.keep is not None and f == 1 and open_ and kind != OUTCOME:
            x = np.concatenate([x[: self.variants], x[self.variants :] * self.keep[node]])
        if kind == OUTCOME:
            self.visits[node] += m
            key = (node, f, rules.recovered_once(rec, f))
            _add(self.ends, key, x)
            return
        if kind == CONTACT and bounce >= 0:  # the wrong place: a contact, failure demand
            self.t["contacts"] += m
            self.t["failure_demand"] += m
        if kind == CONTACT and bounce < 0:
            self.t["contacts"] += m
            if open_:
                self.t["failure_demand"] += m
                ic = min(ic + 1, 2)
                if ic == 2:
                    self.t["repeat_contacts"] += m
                    x = self._worsen(f, -1, 1, x)
        if bounce >= 0:  # sent on from the wrong place to where it should have gone
            _add(nxt, (bounce, f, open_, ic, rec, -1), x)
            return
        self.visits[node] += m
        # (failures, open, issue contacts, recovered, masses, route)
        after = []
        if kind == STEP:
            p = self.failure[node]
            if f:
                p = rules.failure_probability(p, f, exp.compounding)
            if (p > 0).any():
                self.fails_at[node] += m * p
                if f == 0:
                    self.born[node] += m * p
                failed = self._escalate(f + 1, self._fit(f + 1, x * _per_variant(p)))
                voiced = j.complain[node]
                if voiced < 1.0:  # the others suffer in silence
                    self.t["silent"] += m * p * (1.0 - voiced)
                    # a failure suffered in silence opens no case: an open one stays open
                    after.append((f + 1, open_, ic, rec, failed * (1.0 - voiced), j.silent[node]))
                    failed = failed * voiced
                if voiced > 0.0:
                    after.append((f + 1, True, ic, rec, failed, j.failed[node]))
            if (p < 1).any():
                after.append((f, open_, ic, rec, x * _per_variant(1 - p), j.success[node]))
        else:
            r = rules.resolution_probability(j.fcr[node], j.empowerment[node] if open_ else None)
            if r > 0.0:
                if open_:
                    after.append((f, False, 0, True, x * r, j.success[node]))
                else:
                    after.append((f, open_, ic, rec, x * r, j.success[node]))
            if r < 1.0:
                after.append((f, open_, ic, rec, x * (1 - r), j.failed[node]))
        for f1, o1, ic1, r1, y, route in after:
            self._route(node, route, (f1, o1, ic1, r1 and f1 == 1), y, nxt)

    def _route(self, node: int, route, carry: tuple, x: np.ndarray, nxt: dict) -> None:  # noqa: ANN001
        j = self.j
        f, open_, ic, rec = carry
        silo = j.silo[node]
        for target, q in route.probabilities().items():
            target_silo = j.silo[target]
            if target_silo == silo or target_silo < 0:
                _add(nxt, (target, f, open_, ic, rec, -1), x * q)
                continue
            mass = _mass(x) * q
            seen = rules.handoff_seen(j.kind[target] == CONTACT, j.facing[target], open_)
            warm, cold_share, pp = rules.handoff_shares(j.baton[node], j.ping_pong[node], seen)
            if warm > 0:
                self.t["handoffs_warm"] += mass * warm
                _add(nxt, (target, f, open_, ic, rec, -1), x * (q * warm))
            if cold_share <= 0:
                continue
            self.t["handoffs_cold"] += mass * cold_share
            self.t["ping_pongs"] += mass * cold_share * pp
            for misrouted, share in ((True, pp), (False, 1 - pp)):
                if share <= 0:
                    continue
                cold = x * (q * cold_share * share)
                bounce = target if misrouted else -1
                y = self._worsen(f, -2, rules.cold_events(False, misrouted, seen), cold)
                _add(nxt, (target, f, open_, ic, rec, bounce), y)

    def _theory(self, v: int, truncated: float) -> Theory:
        """Return the expectations of variant ``v``."""
        j, scenario = self.j, self.scenario
        loyalty = scenario.experience.loyalty
        retained = advocate = churned = 0.0
        outcomes: dict[str, float] = defaultdict(float)
        failures: dict[int, float] = defaultdict(float)
        severity: dict[float, float] = defaultdict(float)
        for (node, f, rec), flagged in self.ends.items():
            x = flagged[v].sum(axis=(0, 1))
            total = float(x.sum())
            if total == 0.0:
                continue
            outcomes[j.names[node]] += total
            failures[f] += total
            if f == 0:
                severity[0.0] += total
                s = np.zeros(1)
                x = np.array([total])
            else:
                s = self.grid(f)[: x.shape[0], : x.shape[1]].ravel()
                x = x.ravel()
                for value, mass in zip(s[x > 0].tolist(), x[x > 0].tolist(), strict=True):
                    severity[value] += mass
            if j.churn_outcome[node]:
                churned += total
                continue
            churn, adv = rules.loyalty_odds(s, np.asarray(rec), loyalty)
            if rec and self.keep is not None:  # linear in the recovery's speed: its mean
                fast = self.ends[(node, f, rec)][v + self.variants].sum(axis=(0, 1)).ravel()
                quick_churn, quick_adv = rules.loyalty_odds(s, np.asarray(rec), loyalty, 1.0)
                churned += float((fast * (quick_churn - churn)).sum())
                advocate += float((fast * (quick_adv - adv)).sum())
                retained -= float((fast * (quick_churn - churn + quick_adv - adv)).sum())
            churned += float((x * churn).sum())
            advocate += float((x * adv).sum())
            retained += float((x * (1 - churn - adv)).sum())
        social = scenario.experience.escalation.social
        reach = rules.mean_reach(social.reach_median, social.reach_sigma)
        t = {name: float(values[v]) for name, values in self.t.items()}
        t = defaultdict(float, t)
        steps = [i for i in range(j.size) if j.kind[i] == STEP]
        return Theory(
            scenario=scenario.name,
            visits={name: float(self.visits[i, v]) for i, name in enumerate(j.names)},
            failures_by_step={j.names[i]: float(self.fails_at[i, v]) for i in steps},
            born={j.names[i]: float(self.born[i, v]) for i in steps},
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
            silent=t["silent"],
        )


def _keep(scenario: Scenario, name: str, rate: float) -> float:
    """Return E[exp(-rate · duration)] of a visit to a node (1 at an outcome)."""
    if name in scenario.steps:
        return scenario.steps[name].service.laplace(rate)
    if name in scenario.contacts:
        return scenario.contacts[name].handling.laplace(rate)
    return 1.0


def _mass(x: np.ndarray) -> np.ndarray:
    """Return the total mass of each variant."""
    return x.reshape(x.shape[0], -1).sum(axis=1)


def _per_variant(p: np.ndarray) -> np.ndarray:
    """Return per-variant factors shaped to multiply masses."""
    return p[:, None, None, None, None]


def _axis(factor: float, cap: float, scale: float = 1.0) -> int:
    """Return the lattice length along a factor: up to where scale·factor^k reaches the cap."""
    if factor <= 1.0 or scale >= cap:
        return 1
    k = max(0, math.ceil(math.log(cap / scale) / math.log(factor)))
    while scale * factor**k < cap:  # the float product, as the grid computes it
        k += 1
    return k + 1


def _shift(x: np.ndarray, axis: int, limit: int) -> np.ndarray:
    """Move every mass one step along a lattice axis; index ``limit - 1`` keeps what passes it."""
    if limit == 1:
        return x
    if x.shape[axis] < limit:  # grow by one: a zero slice in front
        shape = list(x.shape)
        shape[axis] = 1
        return np.concatenate([np.zeros(shape), x], axis=axis)
    out = np.zeros_like(x)
    if axis == -2:
        out[..., 1:, :] = x[..., :-1, :]
        out[..., -1, :] += x[..., -1, :]
    else:
        out[..., 1:] = x[..., :-1]
        out[..., -1] += x[..., -1]
    return out


def _add(states: dict, key: tuple, x: np.ndarray) -> None:
    if key not in states:
        states[key] = x
        return
    y = states[key]
    if y.shape != x.shape:
        shape = np.maximum(y.shape, x.shape)
        y, x = _padded(y, shape), _padded(x, shape)
    states[key] = y + x


def _padded(x: np.ndarray, shape: np.ndarray) -> np.ndarray:
    if tuple(x.shape) == tuple(shape):
        return x
    out = np.zeros(shape)
    out[..., : x.shape[-2], : x.shape[-1]] = x
    return out


def fix_ranking(  # noqa: ANN201 - a DataFrame; pandas is imported lazily
    scenario: Scenario,
    factor: float = 0.5,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = 1e-7,
):
    """Rank steps by how much fixing each (failure × factor) cuts expected churn and severity.

    Returns a DataFrame indexed by step: failure now, share of complaints born there,
    and the cuts in churn rate, mean severity and failures per customer, sorted by the
    churn cut (largest first), then the severity cut.
    """
    return explain(scenario, factor, approximate, loops_off, tolerance)[1]


def explain(  # noqa: ANN201 - (Theory, DataFrame); pandas is imported lazily
    scenario: Scenario,
    factor: float = 0.5,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = 1e-7,
):
    """Return the exact expectations and the fix ranking, from one solve of every variant.

    The journey as it is and the journey with each step's failure × ``factor`` share
    their states, so they are pushed through the chain together.
    """
    base, ranking, _ = explain_with_fixes(scenario, {}, factor, approximate, loops_off, tolerance)
    return base, ranking


def explain_with_fixes(  # noqa: ANN201 - (Theory, DataFrame, dict); pandas is imported lazily
    scenario: Scenario,
    fixes: dict[str, dict[str, float]],
    factor: float = 0.5,
    approximate: bool = False,
    loops_off: bool = False,
    tolerance: float = 1e-7,
):
    """Return ``explain``'s answers and, in the same solve, each named fix's expectations.

    ``fixes`` maps a name to new failure probabilities by step (a what-if that only fixes
    steps); the third value maps each name to its journey's ``Theory``.
    """
    import pandas as pd

    scenario = _solvable(scenario, approximate, loops_off)
    j = compile_journey(scenario)
    now = list(j.failure)
    steps = [name for name, step in scenario.steps.items() if step.failure > 0]
    variants = [now]
    for name in steps:
        fixed = list(now)
        fixed[j.names.index(name)] *= factor
        variants.append(fixed)
    for changed in fixes.values():
        fixed = list(now)
        for name, failure in changed.items():
            fixed[j.names.index(name)] = failure
        variants.append(fixed)
    base, *solved = _solve(scenario, tolerance, variants)
    fixes_solved = dict(zip(fixes, solved[len(steps) :], strict=True))
    born = max(sum(base.born.values()), 1e-300)
    rows = [
        {
            "step": name,
            "failure": scenario.steps[name].failure,
            "born_share": base.born[name] / born,
            "churn_cut": base.churn_rate - fixed.churn_rate,
            "contacts_cut": base.contacts - fixed.contacts,
            "severity_cut": base.severity_mean - fixed.severity_mean,
            "failures_cut": base.failures_mean - fixed.failures_mean,
        }
        for name, fixed in zip(steps, solved[: len(steps)], strict=True)
    ]
    columns = [
        "step",
        "failure",
        "born_share",
        "churn_cut",
        "contacts_cut",
        "severity_cut",
        "failures_cut",
    ]
    frame = pd.DataFrame(rows, columns=columns).set_index("step")
    ranking = frame.sort_values(["churn_cut", "severity_cut"], ascending=False)
    return base, ranking, fixes_solved
