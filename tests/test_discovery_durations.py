"""Fitting an activity's duration distribution: right family, parameters within sampling error.

Tolerances are four standard errors of the maximum-likelihood estimates (delta method), and the
KS 99% critical value 1.63/√n (conservative here: fitted parameters make the distance smaller).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from spiral.io.discovery.durations import EMPIRICAL_POINTS, FAMILIES, fit_duration
from spiral.model.distributions import MAX_CV, Distribution
from spiral.model.units import parse_duration

ADAPTER = TypeAdapter(Distribution)
N = 5_000
KS_CRITICAL = 1.63 / math.sqrt(N)
SEED = 7


def lognormal_sample(mean: float, cv: float, n: int, rng: np.random.Generator) -> np.ndarray:
    s2 = math.log1p(cv**2)
    return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)


def test_lognormal_sample_is_recognised_and_mean_and_cv_recovered():
    mean, cv = 20.0, 1.5
    fit = fit_duration(lognormal_sample(mean, cv, N, np.random.default_rng(SEED)))
    assert fit.family == "lognormal"
    assert fit.n == N
    assert fit.distances["lognormal"] <= KS_CRITICAL
    # MLE: var(mu) = s²/n, var(s²) = 2s⁴/n; log mean = mu + s²/2; cv = sqrt(exp(s²) - 1).
    s2 = math.log1p(cv**2)
    se_log_mean = math.sqrt((s2 + s2**2 / 2) / N)
    se_cv = math.exp(s2) / (2 * cv) * math.sqrt(2 / N) * s2
    assert abs(math.log(parse_duration(fit.spec["mean"]) / mean)) <= 4 * se_log_mean
    assert abs(fit.spec["cv"] - cv) <= 4 * se_cv


def test_exponential_sample_is_recognised_as_exponential_or_gamma_with_cv_one():
    mean = 10.0
    fit = fit_duration(np.random.default_rng(SEED).exponential(mean, N))
    assert fit.family in ("exponential", "gamma")
    assert fit.distances[fit.family] <= KS_CRITICAL
    assert abs(parse_duration(fit.spec["mean"]) - mean) <= 4 * mean / math.sqrt(N)
    if fit.family == "gamma":
        # var(shape) = k / (n (k ψ'(k) - 1)) at k = 1, ψ'(1) = π²/6; cv = k^-1/2.
        se_cv = 0.5 * math.sqrt(1 / (N * (math.pi**2 / 6 - 1)))
        assert abs(fit.spec["cv"] - 1) <= 4 * se_cv


def test_gamma_sample_with_low_cv_is_fitted_by_gamma():
    mean, cv = 20.0, 0.3
    fit = fit_duration(np.random.default_rng(SEED).gamma(1 / cv**2, mean * cv**2, N))
    assert fit.family == "gamma"
    assert fit.distances["gamma"] <= KS_CRITICAL
    assert fit.distances["gamma"] <= fit.distances["lognormal"]
    assert abs(parse_duration(fit.spec["mean"]) - mean) <= 4 * mean * cv / math.sqrt(N)


def test_bimodal_sample_falls_back_to_empirical_with_few_values():
    rng = np.random.default_rng(SEED)
    sample = np.concatenate([rng.normal(10, 1, N // 2), rng.normal(60, 2, N // 2)])
    fit = fit_duration(sample)
    assert fit.family == "empirical"
    assert all(fit.distances[f] > 0.1 for f in ("exponential", "lognormal", "gamma"))
    values = [parse_duration(v) for v in fit.spec["values"]]
    assert len(values) <= EMPIRICAL_POINTS
    assert abs(np.mean(values) - sample.mean()) <= 4 * sample.std() / math.sqrt(N) + 0.5
    assert fit.distances["empirical"] <= KS_CRITICAL


def test_many_zeros_penalise_continuous_families_and_give_empirical():
    rng = np.random.default_rng(SEED)
    sample = np.concatenate([np.zeros(500), rng.exponential(10, 500)])
    fit = fit_duration(sample)
    assert fit.family == "empirical"
    assert all(fit.distances[f] >= 0.45 for f in ("exponential", "lognormal", "gamma"))


def test_small_sample_never_falls_back_to_empirical():
    rng = np.random.default_rng(SEED)
    fit = fit_duration(np.concatenate([rng.normal(10, 1, 10), rng.normal(60, 2, 10)]))
    assert fit.family in ("exponential", "lognormal", "gamma")
    assert fit.distances[fit.family] > 0.1


@pytest.mark.parametrize("value", [0.0, 7.25, 1e-4, 3000.0])
def test_constant_sample_gives_fixed(value: float):
    fit = fit_duration(np.full(40, value))
    assert fit.family == "fixed"
    assert fit.n == 40
    assert ADAPTER.validate_python(fit.spec).value == pytest.approx(value, rel=1e-6)


def test_values_equal_to_six_significant_digits_give_fixed():
    fit = fit_duration(10 + np.random.default_rng(SEED).uniform(0, 1e-6, 100))
    assert (fit.spec, fit.family) == ({"dist": "fixed", "value": "10 min"}, "fixed")


@pytest.mark.parametrize("sample", [[], [np.nan, np.nan], [-1.0, -5.0, np.nan]])
def test_empty_or_invalid_sample_gives_zero_minutes(sample: list[float]):
    fit = fit_duration(np.array(sample))
    assert (fit.spec, fit.family, fit.n, fit.distances) == ("0 min", "fixed", 0, {})


def test_nan_and_negative_values_are_dropped():
    rng = np.random.default_rng(SEED)
    sample = np.concatenate([rng.exponential(5, 200), [np.nan, -3.0, np.inf]])
    assert fit_duration(sample).n == 200


def _samples() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    return {
        "lognormal": lognormal_sample(20, 1.5, 500, rng),
        "heavy tail beyond MAX_CV": rng.lognormal(0, 4, 500),
        "nearly constant": 10 + rng.uniform(0, 1e-9, 100),
        "barely varying": 10 * (1 + rng.uniform(0, 1e-4, 100)),
        "tiny": rng.exponential(1e-5, 100),
        "huge": rng.exponential(1e7, 100),
        "zeros and one value": np.array([0, 0, 5, 5]),
        "two values": np.array([1.0, 2.0]),
        "bimodal": np.concatenate([rng.normal(10, 1, 100), rng.normal(60, 2, 100)]),
        "integers": rng.integers(0, 5, 300).astype(float),
    }


@pytest.mark.parametrize("name", list(_samples()))
def test_every_spec_validates_as_a_spiral_distribution(name: str):
    fit = fit_duration(_samples()[name])
    dist = ADAPTER.validate_python(fit.spec)
    assert dist.dist == fit.family
    assert set(fit.distances) <= set(FAMILIES)
    assert all(0 <= d <= 1 for d in fit.distances.values())
    if fit.family in ("lognormal", "gamma"):
        assert 0 < fit.spec["cv"] <= MAX_CV


def test_comment_names_family_every_distance_and_n():
    fit = fit_duration(np.random.default_rng(SEED).exponential(10, 1234))
    comment = fit.comment()
    assert comment.startswith(f"{fit.family} by KS {fit.distances[fit.family]:.2g}")
    for family, distance in fit.distances.items():
        assert f"{family} {distance:.2g}" in comment or family == fit.family
    assert set(fit.distances) == set(FAMILIES)
    assert "1,234 durations" in comment


def test_comment_of_fixed_fit_names_value_and_n():
    assert fit_duration(np.full(3, 5.0)).comment() == "fixed at 5 min; 3 durations"
