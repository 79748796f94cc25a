"""What the analytic engine answers: exact per-customer expectations of a journey."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields


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
    silent: float = 0.0  # failures suffered in silence, per customer

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
            "silent_failures_per_customer": self.silent,
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


def mixed(parts: list[Theory], shares: list[float], name: str) -> Theory:
    """Return the expectations of a population made of ``parts`` in these shares.

    Every expectation is per customer, so the mixture's is the share-weighted sum; the
    distributions (failures, severity) are mixtures too.
    """
    values: dict[str, object] = {"scenario": name}
    for field in fields(Theory):
        if field.name == "scenario":
            continue
        items = [getattr(part, field.name) for part in parts]
        if isinstance(items[0], dict):
            total: dict = defaultdict(float)
            for item, share in zip(items, shares, strict=True):
                for key, value in item.items():
                    total[key] += share * value
            values[field.name] = (
                dict(sorted(total.items()))
                if field.name.endswith("distribution")
                else {key: total[key] for key in items[0]}
            )
        elif isinstance(items[0], list):
            mass: dict[float, float] = defaultdict(float)
            for item, share in zip(items, shares, strict=True):
                for value, p in item:
                    mass[value] += share * p
            values[field.name] = sorted(mass.items())
        else:
            values[field.name] = sum(share * x for x, share in zip(items, shares, strict=True))
    return Theory(**values)
