"""The analytic engine's chain: a journey's states solved a failure count at a time.

See ``Chain``; the severity lattice is ``lattice``, a state's moves ``moves``, where
customers end and what it means ``ends``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from spiral.engines import rules
from spiral.engines.analytic.ends import JourneyEnds
from spiral.engines.analytic.lattice import SeverityLattice
from spiral.engines.analytic.moves import StateMoves
from spiral.engines.expectations import Theory
from spiral.engines.journey import OUTCOME, compile_journey
from spiral.model.scenario import Scenario


class Chain:
    """The journey's chain solved for the expected visits of each state.

    A state is (node, failures, open issue, contacts about it (0, 1, 2+), recovered,
    pending bounce). Escalation flags and severity are exact: a level's masses are arrays
    (variant, state, social, ceo, b, c) over the severity lattice (``lattice.py``: b cold
    handoffs and c repeat contacts since the first failure).

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
        self.lattice = SeverityLattice(exp)
        self.moves = StateMoves(self.j, self.v, self.variants, self.keep)
        self.ends = JourneyEnds(scenario, self.j, self.lattice, self.variants, self.keep)
        self._levels: dict[tuple, tuple] = {}
        n = self.j.size
        self.visits = np.zeros((n, self.v))
        self.fails_at = np.zeros((n, self.v))
        self.born = np.zeros((n, self.v))
        self.t: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(self.v))

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
        self.t.update(self.ends.flagged(self.v))
        return [
            self.ends.expectations(
                v, float(truncated[v]), self.visits, self.fails_at, self.born, self.t
            )
            for v in range(self.variants)
        ]

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
            # from two failures on only the failure odds change with f, and every weight is
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
                self.ends.add((node, f, rules.recovered_once(rec, f)), total[:, s].copy())
        out = []
        for _, ops, tgt, src, w in (move for move in solved if move[0]):
            x = _mix(w, total[:, src].reshape(v, len(src), -1))
            out.append((tgt, self.lattice.apply(f, ops, x.reshape(v, len(tgt), *total.shape[2:]))))
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
            counters, nodes, moves = self.moves.of(keys[i], f, p[keys[i][0]])
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
        inverse = None  # made when a point off the edges has mass (the 1 × 1 tail has none)
        fulls = None
        size_b, size_c = self.lattice.sizes(f) if f else (1, 1)
        corner = size_b * size_c - 1
        at_cap = bool(self.lattice.capped(f, size_b - 1, size_c - 1))
        inflow = inflow.copy()
        rows, columns = inflow.shape[-2:]
        if at_cap:
            # every capped point is alike (escalation and loyalty see only severity, which
            # stays capped): their mass is kept at the far corner
            box = self.lattice.capped(f, slice(rows), slice(columns))
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
            points, bs, cs, edges = self.lattice.diagonal_at(f, k)
            y = pending.pop(k).transpose(2, 1, 3, 4, 0)  # (variant, state, flags, point)
            mass = y.reshape(v, -1).sum(axis=1)
            if mass.max() < eps:
                lost += mass
                continue
            if edges.size < bs.size:
                if inverse is None:
                    inverse = np.linalg.inv(np.eye(d) - w0)
                z = _mix(inverse, y.reshape(v, d, -1)).reshape(y.shape)
            else:
                z = np.zeros_like(y)
            # at an edge a bad event along it keeps the point: solved with W0 exactly
            for i in edges:
                if y[..., i].any():
                    if fulls is None:  # each move's weights over all states, for the edges
                        fulls = [_full(w, tgt, src, d) for _, _, tgt, src, w in moves]
                    z[..., i] = self._edge(f, int(bs[i]), int(cs[i]), w0, moves, fulls, y[..., i])
            totals[k] = z
            for _, ops, tgt, src, w in moves:
                x = _mix(w, z[:, src].reshape(v, len(src), -1))
                x = x.reshape(v, len(tgt), 2, 2, len(points))
                b, c = self.lattice.carry(f, ops, x, bs, cs)
                target = np.where(self.lattice.capped(f, b, c), corner, b * size_c + c)
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
        size_b, size_c = self.lattice.sizes(f) if f else (1, 1)
        b, c = np.divmod(points, size_c)
        diagonal = b + c
        # mostly one diagonal: a bad event moves every point of one the same way
        one = diagonal.size and diagonal.min() == diagonal.max()
        # targets are distinct but for capped points folded onto the corner together
        folded = np.count_nonzero(points == size_b * size_c - 1) > 1
        for k in diagonal[:1].tolist() if one else np.unique(diagonal).tolist():
            on = diagonal == k
            on_points = self.lattice.diagonal_at(f, k)[0]
            at = np.searchsorted(on_points, points[on])
            if k not in pending:
                pending[k] = np.zeros((on_points.size, d, x.shape[0], 2, 2))
            index = (at[:, None], states[None, :])
            values = (x if one else x[..., on]).transpose(4, 1, 0, 2, 3)
            if not folded:
                pending[k][index] += values
            else:  # points folded onto the corner together
                np.add.at(pending[k], index, values)

    def _box(
        self, f: int, v: int, d: int, totals: dict[int, np.ndarray], at_cap: bool
    ) -> np.ndarray:
        """Return the solved visits as (variant, state, social, ceo, b, c), cut to where mass went.

        The corner's mass stands for every capped point: it goes to the capped point that
        grows the box least.
        """
        size_b, size_c = self.lattice.sizes(f) if f else (1, 1)
        corner = size_b * size_c - 1
        rows_end = columns_end = 1
        corner_mass = None
        for k, z in totals.items():
            points, bs, cs, _ = self.lattice.diagonal_at(f, k)
            held = z.reshape(-1, z.shape[-1]).any(axis=0)
            if at_cap and points[-1] == corner and held[-1]:
                corner_mass = z[..., -1]
                held[-1] = False
            if held.any():
                rows_end = max(rows_end, int(bs[held].max()) + 1)
                columns_end = max(columns_end, int(cs[held].max()) + 1)
        if corner_mass is not None:  # any capped point will do: the one that grows it least
            best_b, best_c = self.lattice.least_capped(f, rows_end, columns_end)
            rows_end, columns_end = max(rows_end, best_b + 1), max(columns_end, best_c + 1)
        box = np.zeros((v, d, 2, 2, rows_end, columns_end))
        for k, z in totals.items():
            points, bs, cs, _ = self.lattice.diagonal_at(f, k)
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

    def _edge(  # noqa: PLR0913
        self,
        f: int,
        b: int,
        c: int,
        w0: np.ndarray,
        moves: list[tuple],
        fulls: list[np.ndarray],
        y: np.ndarray,
    ) -> np.ndarray:
        """Return the visits at an edge point from its inflow, the moves kept there included.

        A move kept at the point passes its k escalation checks there: its flags go by E^k,
        E the chance of escalating at the point. Flags only rise, so E is triangular and the
        four flag combinations are solved in turn, each a linear system over the states.
        """
        v, d = self.v, w0.shape[1]
        size_b, size_c = self.lattice.sizes(f)
        odds = [0.0, 0.0]
        for flag, chance in self.lattice.chances(f):
            odds[flag] = float(chance[b, c])
        social, ceo = (np.array([[1.0 - a, 0.0], [a, 1.0]]) for a in odds)
        flags = np.kron(social, ceo)  # new flags from old, index 2 · social + ceo
        kept = []
        for (_, ops, _, _, _), full in zip(moves, fulls, strict=True):
            if ("b" in ops and b < size_b - 1) or ("c" in ops and c < size_c - 1):
                continue
            kept.append((full, np.linalg.matrix_power(flags, len(ops))))
        y = y.reshape(v, d, 4)
        z = np.zeros_like(y)
        base = np.eye(d) - w0
        for i in range(4):
            a = base.copy()
            rhs = y[:, :, i].copy()
            for full, events in kept:
                a -= events[i, i] * full
                if i:
                    rhs += np.einsum("vts,vs->vt", full, z[:, :, :i] @ events[i, :i])
            z[:, :, i] = np.linalg.solve(a, rhs[..., None])[..., 0]
        return z.reshape(v, d, 2, 2)


def _mix(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return w @ x per variant: (variant, t, s) @ (variant, s, points)."""
    return np.matmul(w, x)


def _full(w: np.ndarray, tgt: np.ndarray, src: np.ndarray, d: int) -> np.ndarray:
    """Return a move's weights (variant, target, source) over all d states."""
    full = np.zeros((w.shape[0], d, d))
    full[:, tgt[:, None], src[None, :]] = w
    return full


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
