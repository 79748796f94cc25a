"""A state's moves in the analytic engine's chain, decided as the SimPy engine decides a visit.

A state is (node, open issue, contacts about it (0, 1, 2+), recovered, pending bounce) at a
number of failures; from it, per unit of mass, go counters (contacts, handoffs, ...), node
counts (visits, failures, where complaints are born) and moves: (target state, failures
added, bad events on the way, weight per variant). The rules are ``spiral.engines.rules``.
"""

from __future__ import annotations

import numpy as np

from spiral.engines import rules
from spiral.engines.journey import CONTACT, OUTCOME, STEP, Journey, Route


class StateMoves:
    """The moves out of each state of a journey, for ``v`` rows of mass (variants and twins)."""

    def __init__(self, journey: Journey, v: int, variants: int, keep: list[float] | None) -> None:
        self.j = journey
        self.v = v
        self.variants = variants
        self.keep = keep  # per node, E[exp(-duration/recovery_time)]: the twins' discount

    def of(self, key: tuple, f: int, p: np.ndarray) -> tuple[list, list, list]:
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
