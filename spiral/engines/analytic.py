"""The analytic engine: a journey with unlimited staff and no system loops, solved exactly.

A customer's journey is then an absorbing Markov chain on states (node, failures so far,
severity, open issue, contacts about it, recovered, escalated, a pending ping-pong
bounce). ``theory`` solves that chain for the expected visits of every state, following
the SimPy engine's decisions at each visit, and adds up expectations from them; what
mass it leaves (far below ``tolerance``) is reported as truncated. Queues have closed
forms of their own: ``erlang_c`` and ``erlang_a``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from spiral.engines import rules
from spiral.engines.expectations import Theory, mixed
from spiral.engines.journey import CONTACT, OUTCOME, STEP, Route, compile_journey
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
    """The journey's chain solved for the expected visits of each state.

    A state is (node, failures, open issue, contacts about it (0, 1, 2+), recovered,
    pending bounce). Escalation flags and severity are exact and kept per state as an
    array x[variant, social, ceo, b, c]: a customer with f >= 1 failures, b cold handoffs
    and c repeat contacts since the first failure has severity
    min(amplification^(f-1) · cold^b · repeat^c, cap). Every factor is >= 1, so capping
    once at the end equals capping at each step, and an index past the point where one
    factor alone reaches the cap can stay at that edge without changing anything.

    Failures never go down and a bad event never moves down the (b, c) lattice, so the
    chain is solved a failure count (level) at a time and, within one, a lattice diagonal
    at a time; only the moves that change neither (W0) form loops, and those are solved
    exactly, (I - W0)^-1. Capped points are all alike: their mass is kept at one point.
    A diagonal is built when mass first reaches it and its pending mass dropped once
    solved, so memory goes with the points reached, not with the lattice's extent.

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
        self._grids: dict[tuple, np.ndarray] = {}
        self._odds: dict[int, list] = {}
        self._levels: dict[tuple, tuple] = {}
        self._diagonal: dict[tuple, tuple] = {}
        self._loyalty: dict[tuple, tuple] = {}
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

    def grid(self, f: int, rows: int, columns: int) -> np.ndarray:
        """Return the severity of the lattice points b < rows, c < columns at f >= 1 failures."""
        key = (f, rows, columns)
        if key not in self._grids:
            self._grids[key] = self.severity(
                f, np.arange(rows)[:, None], np.arange(columns)[None, :]
            )
        return self._grids[key]

    def severity(self, f: int, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Return the severity at lattice points (b, c) for a customer with f >= 1 failures."""
        exp = self.exp
        return rules.severity_of(
            f, b, c, exp.amplification, exp.cold_handoff, exp.repeat_contact, self.cap
        )

    def _capped(self, f: int, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Return whether each lattice point (b, c) is at the severity cap (none at f = 0)."""
        if not f:
            return np.zeros(np.broadcast(b, c).shape, bool)
        return self.severity(f, b, c) >= self.cap

    def _fit(self, f: int, x: np.ndarray) -> np.ndarray:
        """Return masses cut to the lattice at f failures, what lies past an edge on the edge."""
        b, c = self.sizes(f)
        if x.shape[-2] > b:
            x = np.concatenate([x[..., : b - 1, :], x[..., b - 1 :, :].sum(-2, keepdims=True)], -2)
        if x.shape[-1] > c:
            x = np.concatenate([x[..., : c - 1], x[..., c - 1 :].sum(-1, keepdims=True)], -1)
        return x

    # --- severity and escalation --------------------------------------------------------
    def _channels(self, f: int) -> list[tuple[int, float, float]]:
        """Return (flag, probability, threshold) of each channel that can fire at f failures.

        Severity grows along both axes: a channel whose threshold the far corner does not
        reach cannot fire anywhere on the lattice.
        """
        if f not in self._odds:
            size_b, size_c = self.sizes(f)
            top = float(self.severity(f, np.array(size_b - 1), np.array(size_c - 1)))
            self._odds[f] = [
                (flag, channel.probability, channel.threshold)
                for flag, channel in enumerate((self.esc.social, self.esc.ceo))
                if channel.probability > 0 and top >= channel.threshold
            ]
        return self._odds[f]

    def _escalate_at(self, f: int, x: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Return masses x (variant, state, social, ceo, ...) after the checks at severities s."""
        for flag, probability, threshold in self._channels(f):
            chance = rules.escalation_due(s, False, threshold) * probability
            if not chance.any():
                continue
            if flag == 0:
                hit = x[:, :, 0] * chance
                x[:, :, 0] -= hit
                x[:, :, 1] += hit
            else:
                hit = x[:, :, :, 0] * chance
                x[:, :, :, 0] -= hit
                x[:, :, :, 1] += hit
        return x

    def _escalate(self, f: int, x: np.ndarray) -> np.ndarray:
        """Return the masses after the escalation checks at f failures, as the engine makes them.

        ``x`` is (variant, state, social, ceo, b, c), a fresh array no one else holds.
        """
        if not self._channels(f):
            return x
        return self._escalate_at(f, x, self.grid(f, x.shape[-2], x.shape[-1]))

    def _apply(self, f: int, ops: tuple[str, ...], x: np.ndarray) -> np.ndarray:
        """Return masses after a move's bad events: c repeat contact, b cold, F failure."""
        for op in ops:
            if op == "F":  # a failure: to the lattice at f + 1 failures
                f += 1
                x = self._escalate(f, self._fit(f, x))
                continue
            axis = -2 if op == "b" else -1
            x = self._escalate(f, _shift(x, axis, self.sizes(f)[axis + 2]))
        return x

    # --- the chain ----------------------------------------------------------------------
    def solve(self) -> list[Theory]:
        """Solve the chain one number of failures at a time; return one Theory per variant.

        Mass leaving a level by a failure is the next level's inflow; levels go on until
        that inflow is below a thousandth of the tolerance.
        """
        j = self.j
        keys = list(j.start.probabilities())
        inflow = np.zeros((self.v, len(keys), 2, 2, 1, 1))
        for i, p in enumerate(j.start.probabilities().values()):
            inflow[:, i, 0, 0, 0, 0] = p
        keys = [(target, False, 0, False, -1) for target in keys]
        truncated = np.zeros(self.v)
        eps = self.tolerance * 1e-3
        f = 0
        while True:
            mass = inflow.reshape(self.v, -1).sum(axis=1)
            if mass.max() < eps:
                truncated += mass
                break
            keys, inflow, lost = self._level(f, keys, inflow, eps)
            truncated += lost
            if not keys:
                break
            f += 1
        # escalations only raise flags and every customer ends at an outcome (or in the
        # truncated mass): the chance of each escalation is the mass that ends flagged
        for flagged in self.ends.values():
            self.t["social"] += flagged[:, 1].reshape(self.v, -1).sum(axis=1)
            self.t["ceo"] += flagged[:, :, 1].reshape(self.v, -1).sum(axis=1)
        return [self._theory(v, float(truncated[v])) for v in range(self.variants)]

    def _level(
        self, f: int, keys: list[tuple], inflow: np.ndarray, eps: float
    ) -> tuple[list[tuple], np.ndarray, np.ndarray]:
        """Solve level f from its inflow; return the next level's states, inflow, mass lost."""
        j, v = self.j, self.v
        p = self.failure
        if f:
            p = rules.failure_probability(p, f, self.exp.compounding)
        if f < 2:
            keys, next_keys, w0, solved, coef, node_coef = self._build(f, list(keys), p)
        else:
            # past two failures only the failure odds change with f, and every weight is
            # affine in its step's odds: the level's structure is built once, then scaled
            cached = self._levels.get(tuple(keys))
            if cached is None:
                cached = self._affine(f, keys)
                self._levels[tuple(keys)] = cached
            keys, next_keys, nodes, (w0, solved, coef, node_coef) = cached
            odds = p[nodes].T  # (variant, state): the failure odds at each state's node
            w0 = w0[0] + w0[1] * odds[:, None, :]
            solved = [
                (df, ops, tgt, src, w[0] + w[1] * odds[:, None, src])
                for df, ops, tgt, src, w in solved
            ]
            coef = {name: c[0] + c[1] * odds.T for name, c in coef.items()}
            node_coef = {name: c[0] + c[1] * odds.T[None] for name, c in node_coef.items()}
        d = len(keys)
        within = [move for move in solved if not move[0]]
        total, lost = self._lattice(f, d, w0, within, inflow, eps * 1e-3)
        m = total.reshape(v, d, -1).sum(axis=2)
        for name, c in coef.items():
            self.t[name] += (c * m.T).sum(axis=0)
        for name, counts in node_coef.items():
            getattr(self, name)[:] += (counts * m.T[None]).sum(axis=1)
        for s, key in enumerate(keys):
            node, _, _, rec, _ = key
            if j.kind[node] == OUTCOME and m[:, s].any():
                _add(self.ends, (node, f, rules.recovered_once(rec, f)), total[:, s].copy())
        out = []
        for _, ops, tgt, src, w in (move for move in solved if move[0]):
            x = _mix(w, total[:, src].reshape(v, len(src), -1))
            out.append((tgt, self._apply(f, ops, x.reshape(v, len(tgt), *total.shape[2:]))))
        if not out:
            return [], np.zeros((v, 0, 2, 2, 1, 1)), lost
        return next_keys, _scatter(out, v, len(next_keys)), lost

    def _build(self, f: int, keys: list[tuple], p: np.ndarray) -> tuple:
        """Return level f's states (those given first), next level's, W0, moves and counters."""
        j, v = self.j, self.v
        index = {key: i for i, key in enumerate(keys)}
        found: list[tuple] = []  # per state: (counters, node counts, moves)
        i = 0
        while i < len(keys):
            counters, nodes, moves = self._moves(keys[i], f, p[keys[i][0]])
            for target, df, _, _ in moves:
                if df == 0 and target not in index:
                    index[target] = len(keys)
                    keys.append(target)
            found.append((counters, nodes, moves))
            i += 1
        d = len(keys)
        w0 = np.zeros((v, d, d))
        groups: dict[tuple, dict] = {}
        coef: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((d, v)))
        node_coef = {name: np.zeros((j.size, d, v)) for name in ("visits", "fails_at", "born")}
        next_keys: list[tuple] = []
        next_index: dict[tuple, int] = {}
        for s, (counters, nodes, moves) in enumerate(found):
            for name, c in counters:
                coef[name][s] += c
            for name, c in nodes:
                node_coef[name][keys[s][0], s] += c
            for target, df, ops, w in moves:
                if df == 0 and not ops:
                    w0[:, index[target], s] += w
                    continue
                group = groups.setdefault((df, ops), {})
                if df:
                    if target not in next_index:
                        next_index[target] = len(next_keys)
                        next_keys.append(target)
                    t = next_index[target]
                else:
                    t = index[target]
                group[(t, s)] = group.get((t, s), 0.0) + w
        solved = []
        for (df, ops), pairs in groups.items():
            tgt = sorted({t for t, _ in pairs})
            src = sorted({s for _, s in pairs})
            w = np.zeros((v, len(tgt), len(src)))
            for (t, s), weight in pairs.items():
                w[:, tgt.index(t), src.index(s)] += weight
            solved.append((df, ops, np.array(tgt), np.array(src), w))
        return keys, next_keys, w0, solved, dict(coef), node_coef

    def _affine(self, f: int, keys: list[tuple]) -> tuple:
        """Return level f's structure with every weight as (a, b): a + b · its step's odds."""
        low = self._build(f, list(keys), np.full_like(self.failure, 0.25))
        high = self._build(f, list(keys), np.full_like(self.failure, 0.75))

        def split(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            slope = (y - x) / 0.5
            return x - 0.25 * slope, slope

        keys, next_keys = low[0], low[1]
        solved = [
            (df, ops, tgt, src, split(w, w_high))
            for (df, ops, tgt, src, w), (*_, w_high) in zip(low[3], high[3], strict=True)
        ]
        coef = {name: split(c, high[4][name]) for name, c in low[4].items()}
        node_coef = {name: split(c, high[5][name]) for name, c in low[5].items()}
        nodes = np.array([key[0] for key in keys])
        return keys, next_keys, nodes, (split(low[2], high[2]), solved, coef, node_coef)

    def _lattice(  # noqa: PLR0913
        self,
        f: int,
        d: int,
        w0: np.ndarray,
        moves: list[tuple],
        inflow: np.ndarray,
        eps: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the visits of every state at level f over its lattice, and the mass lost.

        A bad event only moves mass up the lattice (to a larger b + c), or keeps it at an
        edge, so the points are solved a diagonal at a time: each diagonal's mass is final
        once the diagonals below have been pushed, and is pushed on in turn. Only the
        diagonals mass reaches are made, and a diagonal's pending mass is held only until
        it is solved: memory goes with the points reached, not the lattice's extent.
        """
        v = self.v
        inverse = np.linalg.inv(np.eye(d) - w0)
        size_b, size_c = self.sizes(f) if f else (1, 1)
        corner = size_b * size_c - 1
        at_cap = bool(self._capped(f, np.array(size_b - 1), np.array(size_c - 1)))
        inflow = inflow.copy()
        rows, columns = inflow.shape[-2:]
        if at_cap:
            # every capped point is alike (escalation and loyalty see only severity, which
            # stays capped): their mass is kept at the far corner
            box = self._capped(f, np.arange(rows)[:, None], np.arange(columns)[None, :])
            held = inflow[..., box].sum(axis=-1)
            inflow[..., box] = 0.0
            x = inflow.reshape(*inflow.shape[:-2], -1)
            points = (np.arange(rows)[:, None] * size_c + np.arange(columns)[None, :]).ravel()
            x = np.concatenate([x, held[..., None]], axis=-1)
            points = np.append(points, corner)
        else:
            x = inflow.reshape(*inflow.shape[:-2], -1)
            points = (np.arange(rows)[:, None] * size_c + np.arange(columns)[None, :]).ravel()
        # pending mass per diagonal b + c: (point on it, state, variant, social, ceo)
        pending: dict[int, np.ndarray] = {}
        held = x.any(axis=(0, 1, 2, 3))
        if held.any():
            states = np.arange(inflow.shape[1])
            self._put(f, pending, d, states, points[held], x[..., held])
        totals: dict[int, np.ndarray] = {}  # solved visits per diagonal, (v, d, 2, 2, point)
        lost = np.zeros(v)
        while pending:
            k = min(pending)
            points, bs, cs, edges = self._diagonal_at(f, k)
            y = pending.pop(k).transpose(2, 1, 3, 4, 0)  # (variant, state, flags, point)
            mass = y.reshape(v, -1).sum(axis=1)
            if mass.max() < eps:
                lost += mass
                continue
            z = _mix(inverse, y.reshape(v, d, -1)).reshape(y.shape)
            # at an edge a bad event along it keeps the point: solved with W0 exactly
            for i in edges:
                if y[..., i].any():
                    z[..., i] = self._edge(f, int(bs[i]), int(cs[i]), w0, moves, y[..., i])
            totals[k] = z
            for _, ops, tgt, src, w in moves:
                x = _mix(w, z[:, src].reshape(v, len(src), -1))
                x = x.reshape(v, len(tgt), 2, 2, len(points))
                b, c = self._carry(f, ops, x, bs, cs)
                target = np.where(self._capped(f, b, c), corner, b * size_c + c)
                kept = target == points  # kept at an edge: in its solve already
                if kept.all():
                    continue
                if kept.any():
                    x, target = x[..., ~kept], target[~kept]
                self._put(f, pending, d, tgt, target, x)
        return self._box(f, v, d, totals, at_cap), lost

    def _put(  # noqa: PLR0913
        self,
        f: int,
        pending: dict[int, np.ndarray],
        d: int,
        states: np.ndarray,
        points: np.ndarray,
        x: np.ndarray,
    ) -> None:
        """Add masses x (variant, state, social, ceo, point) at those flat points and states.

        A diagonal's pending array (point on it, state, variant, social, ceo) is made when
        mass first reaches it.
        """
        size_c = self.sizes(f)[1] if f else 1
        b, c = np.divmod(points, size_c)
        diagonal = b + c
        for k in np.unique(diagonal).tolist():
            on = diagonal == k
            on_points = self._diagonal_at(f, k)[0]
            at = np.searchsorted(on_points, points[on])
            if k not in pending:
                pending[k] = np.zeros((on_points.size, d, x.shape[0], 2, 2))
            index = (at[:, None], states[None, :])
            values = (x if on.all() else x[..., on]).transpose(4, 1, 0, 2, 3)
            if np.unique(at).size == at.size:
                pending[k][index] += values
            else:  # points folded onto the corner together
                np.add.at(pending[k], index, values)

    def _diagonal_at(self, f: int, k: int) -> tuple[np.ndarray, ...]:
        """Return diagonal b + c = k at f failures: its flat points, b, c, and edge indices.

        Capped points are left out: the far corner (kept) stands for every one of them.
        """
        if (f, k) not in self._diagonal:
            size_b, size_c = self.sizes(f) if f else (1, 1)
            bs = np.arange(max(0, k - size_c + 1), min(k, size_b - 1) + 1)
            cs = k - bs
            keep = ~self._capped(f, bs, cs) | ((bs == size_b - 1) & (cs == size_c - 1))
            bs, cs = bs[keep], cs[keep]
            edges = np.flatnonzero((bs == size_b - 1) | (cs == size_c - 1))
            self._diagonal[(f, k)] = (bs * size_c + cs, bs, cs, edges)
        return self._diagonal[(f, k)]

    def _box(
        self, f: int, v: int, d: int, totals: dict[int, np.ndarray], at_cap: bool
    ) -> np.ndarray:
        """Return the solved visits as (variant, state, social, ceo, b, c), cut to where mass went.

        The corner's mass stands for every capped point: it goes to the capped point that
        grows the box least.
        """
        size_b, size_c = self.sizes(f) if f else (1, 1)
        corner = size_b * size_c - 1
        rows_end = columns_end = 1
        corner_mass = None
        for k, z in totals.items():
            points, bs, cs, _ = self._diagonal_at(f, k)
            held = z.reshape(-1, z.shape[-1]).any(axis=0)
            if at_cap and points[-1] == corner and held[-1]:
                corner_mass = z[..., -1]
                held[-1] = False
            if held.any():
                rows_end = max(rows_end, int(bs[held].max()) + 1)
                columns_end = max(columns_end, int(cs[held].max()) + 1)
        if corner_mass is not None:  # any capped point will do: the one that grows it least
            best_b, best_c = self._least_capped(f, rows_end, columns_end)
            rows_end, columns_end = max(rows_end, best_b + 1), max(columns_end, best_c + 1)
        box = np.zeros((v, d, 2, 2, rows_end, columns_end))
        for k, z in totals.items():
            points, bs, cs, _ = self._diagonal_at(f, k)
            inside = (bs < rows_end) & (cs < columns_end)
            if corner_mass is not None:
                inside &= points != corner
            if inside.all():
                box[..., bs, cs] = z
            elif inside.any():
                box[..., bs[inside], cs[inside]] = z[..., inside]
        if corner_mass is not None:
            box[..., best_b, best_c] += corner_mass
        return box

    def _least_capped(self, f: int, rows: int, columns: int) -> tuple[int, int]:
        """Return the capped point that grows a rows × columns box least (the first such).

        Capped points form an up-set, so the first capped point of each row is enough.
        """
        size_b, size_c = self.sizes(f)
        bs = np.arange(size_b)
        first = np.zeros(size_b, int)
        if size_c > 1:
            base = self.severity(f, bs, np.zeros(size_b, int))
            gap = np.log(np.maximum(self.cap / base, 1.0)) / math.log(self.exp.repeat_contact)
            first = np.clip(np.ceil(gap).astype(int), 0, size_c - 1)
            for _ in range(size_c):  # the float products, as the grid computes them
                lower = (first > 0) & self._capped(f, bs, first - 1)
                higher = (first < size_c - 1) & ~self._capped(f, bs, first)
                if not (lower.any() or higher.any()):
                    break
                first = first - lower + higher
        capped = self._capped(f, bs, first)
        area = np.maximum(bs + 1, rows) * np.maximum(first + 1, columns)
        area = np.where(capped, area, np.iinfo(area.dtype).max)
        best = int(np.argmin(area))
        return int(bs[best]), int(first[best])

    def _edge(  # noqa: PLR0913
        self, f: int, b: int, c: int, w0: np.ndarray, moves: list[tuple], y: np.ndarray
    ) -> np.ndarray:
        """Return the visits at an edge point from its inflow, the moves kept there included.

        A move kept at the point passes its k escalation checks there: its flags go by E^k,
        E the chance of escalating at the point. Flags only rise, so E is triangular and the
        four flag combinations are solved in turn, each a linear system over the states.
        """
        v, d = self.v, w0.shape[1]
        size_b, size_c = self.sizes(f)
        odds = [0.0, 0.0]
        s = float(self.severity(f, np.array(b), np.array(c)))
        for flag, probability, threshold in self._channels(f):
            odds[flag] = probability * float(rules.escalation_due(s, False, threshold))
        social, ceo = (np.array([[1.0 - a, 0.0], [a, 1.0]]) for a in odds)
        flags = np.kron(social, ceo)  # new flags from old, index 2 · social + ceo
        kept = []
        for _, ops, tgt, src, w in moves:
            if ("b" in ops and b < size_b - 1) or ("c" in ops and c < size_c - 1):
                continue
            full = np.zeros((v, d, d))
            full[:, tgt[:, None], src[None, :]] = w
            kept.append((full, np.linalg.matrix_power(flags, len(ops))))
        y = y.reshape(v, d, 4)
        z = np.zeros_like(y)
        for i in range(4):
            a = np.eye(d) - w0
            rhs = y[:, :, i].copy()
            for full, events in kept:
                a -= events[i, i] * full
                if i:
                    rhs += np.einsum("vts,vs->vt", full, z[:, :, :i] @ events[i, :i])
            z[:, :, i] = np.linalg.solve(a, rhs[..., None])[..., 0]
        return z.reshape(v, d, 2, 2)

    def _carry(
        self, f: int, ops: tuple[str, ...], x: np.ndarray, b: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Move masses at lattice points (b, c) by bad events within level f; return the points."""
        size_b, size_c = self.sizes(f)
        for op in ops:
            if op == "b":
                b = np.minimum(b + 1, size_b - 1)
            else:
                c = np.minimum(c + 1, size_c - 1)
            if self._channels(f):
                self._escalate_at(f, x, self.severity(f, b, c))
        return b, c

    def _moves(self, key: tuple, f: int, p: np.ndarray) -> tuple[list, list, list]:
        """Return a state's counters and moves per unit of mass, as the engine decides a visit.

        Counters are (name, per variant); node counts (visits, fails_at, born) likewise; a
        move is (target state, failures added, bad events on the way, weight per variant).
        """
        j = self.j
        node, open_, ic, rec, bounce = key
        kind = j.kind[node]
        ones = np.ones(self.v)
        counters: list = []
        nodes: list = [("visits", ones)] if bounce < 0 or kind == OUTCOME else []
        moves: list = []
        if kind == OUTCOME:
            return counters, nodes, moves
        scale = ones
        if self.keep is not None and f == 1 and open_:
            scale = np.concatenate([ones[: self.variants], ones[self.variants :] * self.keep[node]])
        ops: tuple[str, ...] = ()
        if kind == CONTACT and bounce >= 0:  # the wrong place: a contact, failure demand
            counters += [("contacts", ones), ("failure_demand", ones)]
        if kind == CONTACT and bounce < 0:
            counters.append(("contacts", ones))
            if open_:
                counters.append(("failure_demand", ones))
                ic = min(ic + 1, 2)
                if ic == 2:
                    counters.append(("repeat_contacts", ones))
                    if f:
                        ops = ("c",)
        if bounce >= 0:  # sent on from the wrong place to where it should have gone
            moves.append(((bounce, open_, ic, rec, -1), 0, ops, scale))
            return counters, nodes, moves
        after = []
        if kind == STEP:
            if (p > 0).any():
                nodes.append(("fails_at", p))
                if f == 0:
                    nodes.append(("born", p))
                voiced = j.complain[node]
                failed = scale * p
                if voiced < 1.0:  # the others suffer in silence
                    counters.append(("silent", p * (1.0 - voiced)))
                    # a failure suffered in silence opens no case: an open one stays open
                    after.append((f + 1, open_, ic, rec, failed * (1.0 - voiced), j.silent[node]))
                if voiced > 0.0:
                    after.append((f + 1, True, ic, rec, failed * voiced, j.failed[node]))
            if (p < 1).any():
                after.append((f, open_, ic, rec, scale * (1 - p), j.success[node]))
        else:
            r = rules.resolution_probability(j.fcr[node], j.empowerment[node] if open_ else None)
            if r > 0.0:
                if open_:
                    after.append((f, False, 0, True, scale * r, j.success[node]))
                else:
                    after.append((f, open_, ic, rec, scale * r, j.success[node]))
            if r < 1.0:
                after.append((f, open_, ic, rec, scale * (1 - r), j.failed[node]))
        for f1, o1, ic1, r1, w, route in after:
            first = ("F",) if f1 > f else ops
            carry = (f1, o1, ic1, r1 and f1 == 1)
            self._route(node, route, carry, w, first, f1 - f, counters, moves)
        return counters, nodes, moves

    def _route(  # noqa: PLR0913
        self,
        node: int,
        route: Route,
        carry: tuple,
        w: np.ndarray,
        ops: tuple,
        df: int,
        counters: list,
        moves: list,
    ) -> None:
        """Add the moves (and handoff counters) of mass ``w`` sent on by a route."""
        j = self.j
        f, open_, ic, rec = carry
        silo = j.silo[node]
        for target, q in route.probabilities().items():
            target_silo = j.silo[target]
            if target_silo == silo or target_silo < 0:
                moves.append(((target, open_, ic, rec, -1), df, ops, w * q))
                continue
            seen = rules.handoff_seen(j.kind[target] == CONTACT, j.facing[target], open_)
            warm, cold_share, pp = rules.handoff_shares(j.baton[node], j.ping_pong[node], seen)
            if warm > 0:
                counters.append(("handoffs_warm", w * (q * warm)))
                moves.append(((target, open_, ic, rec, -1), df, ops, w * (q * warm)))
            if cold_share <= 0:
                continue
            counters.append(("handoffs_cold", w * (q * cold_share)))
            counters.append(("ping_pongs", w * (q * cold_share * pp)))
            for misrouted, share in ((True, pp), (False, 1 - pp)):
                if share <= 0:
                    continue
                bounce = target if misrouted else -1
                events = rules.cold_events(False, misrouted, seen) if f else 0
                y = w * (q * cold_share * share)
                moves.append(((target, open_, ic, rec, bounce), df, ops + ("b",) * events, y))

    def _odds_at(self, f: int, rec: bool, shape: tuple, s: np.ndarray) -> tuple[np.ndarray, ...]:
        """Return churn and advocacy odds (and with an instant recovery) at severities ``s``."""
        key = (f, rec, tuple(shape))
        if key not in self._loyalty:
            loyalty = self.scenario.experience.loyalty
            churn, adv = rules.loyalty_odds(s, np.asarray(rec), loyalty)
            quick = (None, None)
            if rec and self.keep is not None:
                quick = rules.loyalty_odds(s, np.asarray(rec), loyalty, 1.0)
            self._loyalty[key] = (churn, adv, *quick)
        return self._loyalty[key]

    def _theory(self, v: int, truncated: float) -> Theory:
        """Return the expectations of variant ``v``."""
        j, scenario = self.j, self.scenario
        retained = advocate = churned = 0.0
        outcomes: dict[str, float] = defaultdict(float)
        failures: dict[int, float] = defaultdict(float)
        values, masses = [], []  # severity of each lattice point, and the mass there
        for (node, f, rec), flagged in self.ends.items():
            x = flagged[v].sum(axis=(0, 1))
            total = float(x.sum())
            if total == 0.0:
                continue
            outcomes[j.names[node]] += total
            failures[f] += total
            if f == 0:
                s = np.zeros(1)
                x = np.array([total])
            else:
                s = self.grid(f, x.shape[0], x.shape[1]).ravel()
                x = x.ravel()
            values.append(s)
            masses.append(x)
            if j.churn_outcome[node]:
                churned += total
                continue
            churn, adv, quick_churn, quick_adv = self._odds_at(f, rec, flagged.shape[-2:], s)
            if rec and self.keep is not None:  # linear in the recovery's speed: its mean
                fast = self.ends[(node, f, rec)][v + self.variants].sum(axis=(0, 1)).ravel()
                churned += float((fast * (quick_churn - churn)).sum())
                advocate += float((fast * (quick_adv - adv)).sum())
                retained -= float((fast * (quick_churn - churn + quick_adv - adv)).sum())
            churned += float((x * churn).sum())
            advocate += float((x * adv).sum())
            retained += float((x * (1 - churn - adv)).sum())
        severity = _spread(values, masses)
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
            severity=severity,
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


def _spread(values: list[np.ndarray], masses: list[np.ndarray]) -> list[tuple[float, float]]:
    """Return sorted (severity, mass) pairs: the mass at each distinct severity."""
    if not values:
        return []
    value, mass = np.concatenate(values), np.concatenate(masses)
    held = mass > 0
    distinct, where = np.unique(value[held], return_inverse=True)
    return list(zip(distinct.tolist(), np.bincount(where, mass[held]).tolist(), strict=True))


def _mix(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return w @ x per variant (numpy's stacked matmul is far slower here than BLAS)."""
    out = np.empty((x.shape[0], w.shape[1], x.shape[2]))
    for i in range(x.shape[0]):
        np.dot(w[i], x[i], out=out[i])
    return out


def _sum(arrays: list[np.ndarray]) -> np.ndarray:
    """Return the sum of lattices of different extents, each padded with zeros."""
    b = max(x.shape[-2] for x in arrays)
    c = max(x.shape[-1] for x in arrays)
    out = np.zeros((*arrays[0].shape[:-2], b, c))
    for x in arrays:
        out[..., : x.shape[-2], : x.shape[-1]] += x
    return out


def _scatter(parts: list[tuple[np.ndarray, np.ndarray]], v: int, d: int) -> np.ndarray:
    """Return masses over ``d`` states from (state indices, masses) parts."""
    b = max(x.shape[-2] for _, x in parts)
    c = max(x.shape[-1] for _, x in parts)
    out = np.zeros((v, d, 2, 2, b, c))
    for index, x in parts:
        out[:, index, :, :, : x.shape[-2], : x.shape[-1]] += x
    return out


def _keep(scenario: Scenario, name: str, rate: float) -> float:
    """Return E[exp(-rate · duration)] of a visit to a node (1 at an outcome)."""
    if name in scenario.steps:
        return scenario.steps[name].service.laplace(rate)
    if name in scenario.contacts:
        return scenario.contacts[name].handling.laplace(rate)
    return 1.0


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
