"""Where customers end in the analytic engine's chain, and what that means: the Theory.

The chain hands over, per (outcome node, failures, recovered), the masses that end there
with their escalation flags and lattice points; loyalty turns each point's severity into
churn and advocacy, and the chain's visits and counters complete the expectations.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from spiral.engines import rules
from spiral.engines.analytic.lattice import SeverityLattice
from spiral.engines.expectations import Theory
from spiral.engines.journey import STEP, Journey
from spiral.model.scenario import Scenario


class JourneyEnds:
    """The masses ending at each outcome, by failures and recovery, for ``variants`` variants."""

    def __init__(  # noqa: PLR0913
        self,
        scenario: Scenario,
        journey: Journey,
        lattice: SeverityLattice,
        variants: int,
        keep: list[float] | None,
    ) -> None:
        self.scenario = scenario
        self.j = journey
        self.lattice = lattice
        self.variants = variants
        self.keep = keep
        self.masses: dict[tuple, np.ndarray] = {}  # (node, failures, recovered) -> masses
        self._loyalty: dict[tuple, tuple] = {}

    def add(self, key: tuple, x: np.ndarray) -> None:
        """Add masses (variant, social, ceo, b, c) ending at (node, failures, recovered)."""
        if key not in self.masses:
            self.masses[key] = x
            return
        y = self.masses[key]
        if y.shape != x.shape:
            shape = np.maximum(y.shape, x.shape)
            y, x = _padded(y, shape), _padded(x, shape)
        self.masses[key] = y + x

    def flagged(self, v: int) -> dict[str, np.ndarray]:
        """Return per variant row the chance of each escalation: the mass that ends flagged.

        Escalations only raise flags and every customer ends at an outcome (or in the
        truncated mass), so no escalation is counted on the way.
        """
        social, ceo = np.zeros(v), np.zeros(v)
        for x in self.masses.values():
            social += x[:, 1].reshape(v, -1).sum(axis=1)
            ceo += x[:, :, 1].reshape(v, -1).sum(axis=1)
        return {"social": social, "ceo": ceo}

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

    def expectations(  # noqa: PLR0913
        self,
        v: int,
        truncated: float,
        visits: np.ndarray,
        fails_at: np.ndarray,
        born: np.ndarray,
        counted: dict[str, np.ndarray],
    ) -> Theory:
        """Return the expectations of variant ``v`` from the chain's visits and counters."""
        j, scenario = self.j, self.scenario
        retained = advocate = churned = 0.0
        outcomes: dict[str, float] = defaultdict(float)
        failures: dict[int, float] = defaultdict(float)
        values, masses = [], []  # severity of each lattice point, and the mass there
        for (node, f, rec), flagged in self.masses.items():
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
                s = self.lattice.table(f)[: x.shape[0], : x.shape[1]].ravel()
                x = x.ravel()
            values.append(s)
            masses.append(x)
            if j.churn_outcome[node]:
                churned += total
                continue
            churn, adv, quick_churn, quick_adv = self._odds_at(f, rec, flagged.shape[-2:], s)
            if rec and self.keep is not None:  # linear in the recovery's speed: its mean
                fast = self.masses[(node, f, rec)][v + self.variants].sum(axis=(0, 1)).ravel()
                churned += float((fast * (quick_churn - churn)).sum())
                advocate += float((fast * (quick_adv - adv)).sum())
                retained -= float((fast * (quick_churn - churn + quick_adv - adv)).sum())
            churned += float((x * churn).sum())
            advocate += float((x * adv).sum())
            retained += float((x * (1 - churn - adv)).sum())
        severity = _spread(values, masses)
        social = scenario.experience.escalation.social
        reach = rules.mean_reach(social.reach_median, social.reach_sigma)
        t = {name: float(values[v]) for name, values in counted.items()}
        t = defaultdict(float, t)
        steps = [i for i in range(j.size) if j.kind[i] == STEP]
        return Theory(
            scenario=scenario.name,
            visits={name: float(visits[i, v]) for i, name in enumerate(j.names)},
            failures_by_step={j.names[i]: float(fails_at[i, v]) for i in steps},
            born={j.names[i]: float(born[i, v]) for i in steps},
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


def _padded(x: np.ndarray, shape: np.ndarray) -> np.ndarray:
    if tuple(x.shape) == tuple(shape):
        return x
    out = np.zeros(shape)
    out[..., : x.shape[-2], : x.shape[-1]] = x
    return out
