"""What the studio computes for a setting: replications, headline intervals, paired sides.

Replication r of every side runs under seed ``seed + r`` (common random numbers), so a
side-by-side difference is paired, as in ``spiral compare``. Work can be cancelled
between customers: a slider moved mid-run stops the old run within a few hundred
arrivals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from spiral.analysis.compare import metrics_of, t_half_width
from spiral.analysis.results import RunResult, run
from spiral.engines.dispatch import choose_engine
from spiral.model.scenario import Scenario
from spiral.model.what_if_arms import parse_arm

HEADLINE: tuple[tuple[str, str], ...] = (
    ("churn_rate", "churn"),
    ("complaints", "complaints"),
    ("escalations", "escalations"),
    ("revenue_at_risk", "revenue at risk"),
    ("net_value", "net value"),
)
"""The headline metrics (key, label), as ``spiral compare`` names them."""

BETTER_HIGHER = frozenset({"net_value"})
"""Metrics where more is better; for the others (churn, complaints, ...) less is better."""

REGIME_ORDER = ("stable", "stressed", "runaway")


class Cancelled(Exception):
    """The settings changed while this work ran; its results are not wanted."""


def headline_of(result: RunResult) -> dict[str, float]:
    """Return one run's headline metrics."""
    values = metrics_of(result.summary)
    values["revenue_at_risk"] = float(result.summary["revenue_at_risk"])
    return values


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95% half-width (nan below two replications)."""

    mean: float
    half_width: float
    n: int

    @classmethod
    def of(cls, values: np.ndarray) -> Estimate:
        """Return the estimate of a set of replications' values."""
        values = np.asarray(values, float)
        return cls(float(values.mean()), t_half_width(values), len(values))

    def significant(self) -> bool:
        """Return whether the interval excludes zero (a difference that shows)."""
        return not math.isnan(self.half_width) and abs(self.mean) > self.half_width


@dataclass
class Side:
    """One side of the page: a scenario (and what-if) over the replications done so far."""

    label: str
    scenario: Scenario
    what_if: str | None = None
    results: list[RunResult] = field(default_factory=list)

    def values(self, metric: str) -> np.ndarray:
        """Return a headline metric of each replication done."""
        return np.array([headline_of(r)[metric] for r in self.results], float)

    def estimate(self, metric: str) -> Estimate:
        """Return a headline metric's mean and interval over the replications done."""
        return Estimate.of(self.values(metric))

    def regime(self) -> tuple[str, list[str]]:
        """Return the worst regime of the replications done and its reasons (never hidden)."""
        worst, reasons = "stable", []
        for result in self.results:
            regime = result.summary["regime"]
            if REGIME_ORDER.index(regime) > REGIME_ORDER.index(worst):
                worst, reasons = regime, list(result.summary["regime_reasons"])
        return worst, reasons


def difference(left: Side, right: Side, metric: str) -> Estimate:
    """Return right minus left over the replications both have done (paired)."""
    n = min(len(left.results), len(right.results))
    return Estimate.of(right.values(metric)[:n] - left.values(metric)[:n])


def engine_for(sides: list[Side]) -> str:
    """Return one engine for every side: vectorised only if each side can use it."""
    chosen = {choose_engine(s.scenario, "auto", False, s.what_if is not None) for s in sides}
    return "vectorised" if chosen == {"vectorised"} else "des"


def compute(
    sides: list[Side],
    seed: int,
    replications: int,
    cancelled: Callable[[], bool] = lambda: False,
    on_progress: Callable[[float], None] | None = None,
    on_replication: Callable[[list[Side]], None] | None = None,
) -> list[Side]:
    """Run replication after replication of every side (seed + r), reporting as it goes.

    ``on_progress(fraction of all the work)`` is called within runs; ``on_replication``
    after each replication of every side (the page redraws then). Raises ``Cancelled``
    as soon as ``cancelled()`` is true.
    """
    engine = engine_for(sides)
    total = replications * len(sides)
    arms = [parse_arm(s.what_if, s.scenario) if s.what_if else None for s in sides]
    for r in range(replications):
        for k, side in enumerate(sides):
            done = r * len(sides) + k

            def progress(fraction: float, done: int = done) -> None:
                if cancelled():
                    raise Cancelled
                if on_progress is not None:
                    on_progress((done + min(fraction, 1.0)) / total)

            if cancelled():
                raise Cancelled
            result = run(
                side.scenario,
                seed=seed + r,
                what_if=arms[k],
                engine=engine,
                progress=progress,
                customers=False,
            )
            result.summary  # noqa: B018 - metrics now, in this thread, not in the page's
            side.results.append(result)
        if on_replication is not None:
            on_replication(sides)
    return sides
