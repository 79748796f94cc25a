"""Fit an activity's duration distribution to observed durations, choosing the family by fit.

Process-mining simulation tools fit several distribution families to each activity's observed
durations and keep the one that fits best by a goodness-of-fit measure: Simod (Camargo, Dumas &
González-Rojas, "Automated discovery of business process simulation models from event logs",
Decision Support Systems 134, 2020) and Prosimos (López-Pintado et al., "Prosimos", 2022).
This module does the same and returns a spiral scenario distribution mapping:

- NaN, infinite and negative durations are dropped; no durations left gives ``"0 min"``.
- All durations equal (to 6 significant digits, as written) gives ``fixed`` at that value.
- exponential, lognormal and gamma are fitted by maximum likelihood on the positive durations
  (location 0; lognormal and gamma need two distinct positive values); the coefficient of
  variation is clamped to (0, MAX_CV].
- Each family's Kolmogorov-Smirnov distance is measured against the whole sample, zeros
  included, using the parameters as written (6 significant digits).  ``empirical`` keeps the
  EMPIRICAL_POINTS midpoint quantiles, measured as a discrete distribution on those values.
- The parametric family with the smallest distance is chosen, unless the sample rejects it —
  its distance exceeds the Kolmogorov-Smirnov test's 1% critical value 1.63/√n (Massey 1951)
  — and there are at least EMPIRICAL_MIN_N durations: then no family fits the shape and
  ``empirical`` keeps the observed one (if it is closer).  The fit is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from spiral.model.distributions import MAX_CV
from spiral.model.units import MAX_DURATION

FAMILIES = ("exponential", "lognormal", "gamma", "empirical")
EMPIRICAL_POINTS = 50  # quantiles kept by an empirical fit (keeps the YAML small)
KS_CRITICAL = 1.63
"""× 1/√n: the KS distance beyond which a sample rejects a family at the 1% level."""
EMPIRICAL_MIN_N = 30
"""The fewest durations for which a poor parametric fit falls back to empirical."""
_MIN_CV = 1e-6


@dataclass(frozen=True)
class DurationFit:
    """The distribution chosen for one activity's durations, and why."""

    spec: object
    family: str
    n: int
    distances: dict[str, float]

    def comment(self) -> str:
        """Return one line for the YAML naming the family, every KS distance and n."""
        count = f"{self.n:,} duration{'' if self.n == 1 else 's'}"
        if self.family == "fixed":
            value = self.spec if isinstance(self.spec, str) else self.spec["value"]
            return f"fixed at {value}; {count}"
        others = ", ".join(
            f"{name} {d:.2g}" for name, d in self.distances.items() if name != self.family
        )
        return f"{self.family} by KS {self.distances[self.family]:.2g} ({others}); {count}"


def _round(x: float) -> float:
    return float(f"{min(x, MAX_DURATION):.6g}")


def _minutes(x: float) -> str:
    return f"{_round(x):.6g} min"


def _ks(sample: np.ndarray, cdf: np.ndarray) -> float:
    """Return the KS distance between a sorted sample and a continuous CDF evaluated on it."""
    n = len(sample)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n), 0.0))


def _ks_discrete(sample: np.ndarray, values: np.ndarray) -> float:
    """Return the KS distance between a sorted sample and equal weights on sorted values."""
    points = np.concatenate([sample, values])
    ecdf = np.searchsorted(sample, points, side="right") / len(sample)
    model = np.searchsorted(values, points, side="right") / len(values)
    return float(np.max(np.abs(ecdf - model)))


def _parametric(x: np.ndarray) -> dict[str, tuple[dict, object]]:
    """Return family -> (spec, frozen scipy distribution as written) for the positive values."""
    pos = x[x > 0]
    mean = _round(float(pos.mean()))
    fits = {"exponential": ({"dist": "exponential", "mean": _minutes(mean)}, stats.expon(0, mean))}
    if len(np.unique(pos)) < 2:
        return fits
    sigma, _, scale = stats.lognorm.fit(pos, floc=0)
    spread = math.log(pos.mean()) - float(np.log(pos).mean())  # ≈ cv²/2; 0 if all (nearly) equal
    if spread > _MIN_CV**2 / 2:
        shape, _, theta = stats.gamma.fit(pos, floc=0)
    else:
        shape, theta = 1 / _MIN_CV**2, float(pos.mean()) * _MIN_CV**2
    lognormal = (scale * math.exp(sigma**2 / 2), math.sqrt(math.expm1(sigma**2)))
    gamma = (shape * theta, 1 / math.sqrt(shape))
    for family, (m, cv) in (("lognormal", lognormal), ("gamma", gamma)):
        m, cv = _round(m), float(f"{min(max(cv, _MIN_CV), MAX_CV):.6g}")
        if family == "lognormal":
            s2 = math.log1p(cv**2)
            frozen = stats.lognorm(math.sqrt(s2), scale=m * math.exp(-s2 / 2))
        else:
            frozen = stats.gamma(1 / cv**2, scale=m * cv**2)
        fits[family] = ({"dist": family, "mean": _minutes(m), "cv": cv}, frozen)
    return fits


def fit_duration(minutes: np.ndarray) -> DurationFit:
    """Fit a duration distribution to observed minutes; choose the family by KS distance."""
    x = np.asarray(minutes, dtype=float).ravel()
    x = np.sort(x[np.isfinite(x) & (x >= 0)])
    if len(x) == 0:
        return DurationFit("0 min", "fixed", 0, {})
    if _round(x[0]) == _round(x[-1]):  # equal as written, to 6 significant digits
        return DurationFit({"dist": "fixed", "value": _minutes(x[0])}, "fixed", len(x), {})
    distances: dict[str, float] = {}
    specs: dict[str, object] = {}
    for family, (spec, frozen) in _parametric(x).items():
        specs[family], distances[family] = spec, _ks(x, frozen.cdf(x))
    best = min(distances, key=distances.__getitem__)
    k = EMPIRICAL_POINTS
    values = np.array([_round(v) for v in np.quantile(x, (np.arange(k) + 0.5) / k)])
    specs["empirical"] = {"dist": "empirical", "values": [_minutes(v) for v in values]}
    distances["empirical"] = _ks_discrete(x, values)
    poor = distances[best] > KS_CRITICAL / math.sqrt(len(x)) and len(x) >= EMPIRICAL_MIN_N
    if poor and distances["empirical"] < distances[best]:
        best = "empirical"
    return DurationFit(specs[best], best, len(x), distances)
