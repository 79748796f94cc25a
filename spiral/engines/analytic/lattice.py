"""The analytic engine's severity lattice: where a customer's severity stands, and escalation.

A customer with f >= 1 failures, b cold handoffs and c repeat contacts since the first
failure has severity min(amplification^(f-1) · cold^b · repeat^c, cap). Every factor is
>= 1, so capping once at the end equals capping at each step, and an index past the point
where one factor alone reaches the cap can stay at that edge without changing anything:
the lattice at f failures is finite, and shrinks as f grows. Masses on it are arrays
(..., social, ceo, b, c); a bad event moves them one step along an axis and the escalation
checks move mass from unflagged to flagged, as the SimPy engine checks after every bad event.
"""

from __future__ import annotations

import math

import numpy as np

from spiral.engines import rules
from spiral.model.experience import Experience


class SeverityLattice:
    """The (cold handoffs, repeat contacts) lattice of one customer experience, cached."""

    def __init__(self, experience: Experience) -> None:
        self.exp = experience
        self.esc = experience.escalation
        self.cap = experience.severity_cap
        self._sizes: dict[int, tuple[int, int]] = {}
        self._diagonal: dict[tuple, tuple] = {}
        self._tables: dict[int, np.ndarray] = {}
        self._chances: dict[int, list[tuple[int, np.ndarray]]] = {}
        self._capped: dict[int, np.ndarray] = {}

    def sizes(self, f: int) -> tuple[int, int]:
        """Return the lattice extent at f failures along (cold handoffs, repeat contacts).

        The more failures, the sooner one factor alone reaches the cap: past that point
        every severity is the cap, so the lattice shrinks as failures grow.
        """
        if f not in self._sizes:
            amp = rules.amplified(max(f, 1), self.exp.amplification)
            exp = self.exp
            self._sizes[f] = (
                _axis(exp.cold_handoff, self.cap, amp),
                _axis(exp.repeat_contact, self.cap, amp),
            )
        return self._sizes[f]

    def table(self, f: int) -> np.ndarray:
        """Return the severity at every point of the lattice at f failures (cached)."""
        if f not in self._tables:
            size_b, size_c = self.sizes(f)
            exp = self.exp
            self._tables[f] = rules.severity_of(
                f,
                np.arange(size_b)[:, None],
                np.arange(size_c)[None, :],
                exp.amplification,
                exp.cold_handoff,
                exp.repeat_contact,
                self.cap,
            )
        return self._tables[f]

    def capped(self, f: int, b, c) -> np.ndarray:
        """Return whether each lattice point (b, c) is at the severity cap (none at f = 0)."""
        if not f:
            return np.zeros(np.broadcast(b, c).shape, bool)
        if f not in self._capped:
            self._capped[f] = self.table(f) >= self.cap
        return self._capped[f][b, c]

    def fit(self, f: int, x: np.ndarray) -> np.ndarray:
        """Return masses cut to the lattice at f failures, what lies past an edge on the edge."""
        b, c = self.sizes(f)
        if x.shape[-2] > b:
            x = np.concatenate([x[..., : b - 1, :], x[..., b - 1 :, :].sum(-2, keepdims=True)], -2)
        if x.shape[-1] > c:
            x = np.concatenate([x[..., : c - 1], x[..., c - 1 :].sum(-1, keepdims=True)], -1)
        return x

    def chances(self, f: int) -> list[tuple[int, np.ndarray]]:
        """Return (flag, chance of escalating at every lattice point) per channel that can fire."""
        if f not in self._chances:
            table = self.table(f)
            self._chances[f] = [
                (flag, rules.escalation_due(table, False, ch.threshold) * ch.probability)
                for flag, ch in enumerate((self.esc.social, self.esc.ceo))
                if ch.probability > 0 and table[-1, -1] >= ch.threshold
            ]
        return self._chances[f]

    def escalate(self, f: int, x: np.ndarray) -> np.ndarray:
        """Return the masses after the escalation checks at f failures, as the engine makes them.

        ``x`` is (variant, state, social, ceo, b, c), a fresh array no one else holds.
        """
        rows, columns = x.shape[-2:]
        return _escalated(x, [(k, ch[:rows, :columns]) for k, ch in self.chances(f)])

    def apply(self, f: int, ops: tuple[str, ...], x: np.ndarray) -> np.ndarray:
        """Return masses after a move's bad events: c repeat contact, b cold, F failure."""
        for op in ops:
            if op == "F":  # a failure: to the lattice at f + 1 failures
                f += 1
                x = self.escalate(f, self.fit(f, x))
                continue
            axis = -2 if op == "b" else -1
            x = self.escalate(f, _shift(x, axis, self.sizes(f)[axis + 2]))
        return x

    def diagonal_at(self, f: int, k: int) -> tuple[np.ndarray, ...]:
        """Return diagonal b + c = k at f failures: its flat points, b, c, and edge indices.

        Capped points are left out: the far corner (kept) stands for every one of them.
        """
        if (f, k) not in self._diagonal:
            size_b, size_c = self.sizes(f) if f else (1, 1)
            bs = np.arange(max(0, k - size_c + 1), min(k, size_b - 1) + 1)
            cs = k - bs
            keep = ~self.capped(f, bs, cs) | ((bs == size_b - 1) & (cs == size_c - 1))
            bs, cs = bs[keep], cs[keep]
            edges = np.flatnonzero((bs == size_b - 1) | (cs == size_c - 1))
            self._diagonal[(f, k)] = (bs * size_c + cs, bs, cs, edges)
        return self._diagonal[(f, k)]

    def least_capped(self, f: int, rows: int, columns: int) -> tuple[int, int]:
        """Return the capped point that grows a rows × columns box least (the first such)."""
        capped = self.table(f) >= self.cap
        first = capped.argmax(axis=1)  # capped points form an up-set: each row's first
        area = np.maximum(np.arange(first.size) + 1, rows) * np.maximum(first + 1, columns)
        best = int(np.argmin(np.where(capped.any(axis=1), area, np.iinfo(area.dtype).max)))
        return best, int(first[best])

    def carry(
        self, f: int, ops: tuple[str, ...], x: np.ndarray, b: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Move masses at lattice points (b, c) by bad events within level f; return the points."""
        size_b, size_c = self.sizes(f)
        chances = self.chances(f)
        for op in ops:
            if op == "b":
                b = np.minimum(b + 1, size_b - 1)
            else:
                c = np.minimum(c + 1, size_c - 1)
            if chances:
                _escalated(x, [(flag, chance[b, c]) for flag, chance in chances])
        return b, c


def _escalated(x: np.ndarray, odds: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Return masses x (variant, state, social, ceo, ...) after each channel's check, in place.

    ``odds`` gives, per channel (0: social media, 1: CEO), the chance of escalating at each point.
    """
    for flag, chance in odds:
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
