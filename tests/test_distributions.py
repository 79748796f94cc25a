"""Service-time distributions: theoretical means, samples within CLT bounds, bad input refused.

Tolerances are four standard errors computed from each distribution's theoretical moments:
the sample mean has standard error sd/√n; the sample variance has standard error
σ²·√((κ − 1)/n), κ the (non-excess) kurtosis; the sample cv = s/x̄ has, by the delta method,
variance (cv²·σ² + (μ4 − σ⁴)/(4σ²) − cv·μ3/σ)/(n·m²).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from spiral.model.distributions import Distribution, Empirical, Exponential, Fixed, Gamma, LogNormal

ADAPTER = TypeAdapter(Distribution)
N = 200_000
SEED = 12


def dist(spec: object):
    return ADAPTER.validate_python(spec)


def lognormal_moments(mean: float, cv: float) -> tuple[float, float, float, float]:
    """Return mean, sd, skewness, kurtosis of a lognormal with this mean and cv."""
    w = 1 + cv**2  # exp(sigma²)
    return mean, mean * cv, (w + 2) * math.sqrt(w - 1), w**4 + 2 * w**3 + 3 * w**2 - 3


def gamma_moments(mean: float, cv: float) -> tuple[float, float, float, float]:
    """Return mean, sd, skewness, kurtosis of a gamma with shape 1/cv² and this mean."""
    return mean, mean * cv, 2 * cv, 3 + 6 * cv**2


def empirical_moments(values: list[float]) -> tuple[float, float, float, float]:
    """Return mean, sd, skewness, kurtosis of a uniform draw from the values."""
    x = np.asarray(values, dtype=float)
    m, sd = x.mean(), x.std()
    return m, sd, float(((x - m) ** 3).mean() / sd**3), float(((x - m) ** 4).mean() / sd**4)


def triangular_moments(a: float, c: float, b: float) -> tuple[float, float, float, float]:
    """Return mean, sd, skewness, kurtosis of a triangular(low=a, mode=c, high=b)."""
    q = a * a + b * b + c * c - a * b - a * c - b * c
    skew = math.sqrt(2) * (a + b - 2 * c) * (2 * a - b - c) * (a - 2 * b + c) / (5 * q**1.5)
    return (a + b + c) / 3, math.sqrt(q / 18), skew, 3 - 3 / 5


# spec -> (mean, sd, skewness, kurtosis), all in minutes, from theory
CASES = {
    "exponential 10 min": (
        {"dist": "exponential", "mean": "10 min"},
        (10.0, 10.0, 2.0, 9.0),
    ),
    "lognormal 8 min cv 0.5": (
        {"dist": "lognormal", "mean": "8 min", "cv": 0.5},
        lognormal_moments(8.0, 0.5),
    ),
    "lognormal 2 h cv 1.2": (
        {"dist": "lognormal", "mean": "2 h", "cv": 1.2},
        lognormal_moments(120.0, 1.2),
    ),
    "gamma 1 h cv 0.8": (
        {"dist": "gamma", "mean": "1 h", "cv": 0.8},
        gamma_moments(60.0, 0.8),
    ),
    "gamma 30 s cv 2": (
        {"dist": "gamma", "mean": "30 s", "cv": 2.0},
        gamma_moments(0.5, 2.0),
    ),
    "uniform 4-14 min": (
        {"dist": "uniform", "low": "4 min", "high": "14 min"},
        (9.0, 10 / math.sqrt(12), 0.0, 9 / 5),
    ),
    "triangular 1-2-4 days": (
        {"dist": "triangular", "low": "1 day", "mode": "2 days", "high": "4 days"},
        triangular_moments(1440.0, 2880.0, 5760.0),
    ),
    "empirical 5/10/15/40 min": (
        {"dist": "empirical", "values": ["5 min", "10 min", "15 min", "40 min"]},
        empirical_moments([5.0, 10.0, 15.0, 40.0]),
    ),
}


@pytest.fixture(scope="module")
def samples() -> dict[str, np.ndarray]:
    """Return N draws per case, each from its own fixed-seed generator."""
    return {
        name: dist(spec).sample(np.random.default_rng(SEED), N) for name, (spec, _) in CASES.items()
    }


@pytest.mark.parametrize(
    ("spec", "mean"),
    [
        ("5 min", 5.0),
        (0, 0.0),
        ({"dist": "fixed", "value": "2 h"}, 120.0),
        ({"dist": "exponential", "mean": "3 days"}, 4320.0),
        ({"dist": "lognormal", "mean": "8 min", "cv": 0.5}, 8.0),
        ({"dist": "gamma", "mean": "1 week", "cv": 0.8}, 10080.0),
        ({"dist": "uniform", "low": "4 min", "high": "14 min"}, 9.0),
        ({"dist": "uniform", "low": "30 s", "high": "30 s"}, 0.5),
        ({"dist": "triangular", "low": "1 day", "mode": "2 days", "high": "4 days"}, 3360.0),
        ({"dist": "empirical", "values": ["5 min", "10 min", "15 min", "1 h"]}, 22.5),
    ],
)
def test_mean_is_the_theoretical_mean_in_minutes(spec, mean):
    assert dist(spec).mean() == pytest.approx(mean)


def test_a_bare_duration_is_a_fixed_distribution_that_always_draws_it():
    fixed = dist("90 s")
    assert isinstance(fixed, Fixed) and fixed.value == 1.5
    assert (fixed.sample(np.random.default_rng(SEED), 1000) == 1.5).all()


def test_each_kind_is_parsed_into_its_class():
    assert isinstance(dist({"dist": "exponential", "mean": "1 min"}), Exponential)
    assert isinstance(dist({"dist": "lognormal", "mean": "1 min", "cv": 1}), LogNormal)
    assert isinstance(dist({"dist": "gamma", "mean": "1 min", "cv": 1}), Gamma)
    assert isinstance(dist({"dist": "empirical", "values": ["1 min"]}), Empirical)


@pytest.mark.parametrize("name", CASES)
def test_sample_mean_agrees_with_theory_within_four_standard_errors(name, samples):
    spec, (mean, sd, _, _) = CASES[name]
    assert dist(spec).mean() == pytest.approx(mean)
    sample = samples[name]
    assert sample.shape == (N,) and (sample >= 0).all()
    assert abs(sample.mean() - mean) <= 4 * sd / math.sqrt(N)


@pytest.mark.parametrize("name", CASES)
def test_sample_variance_agrees_with_theory_within_four_standard_errors(name, samples):
    _, (_, sd, _, kurtosis) = CASES[name]
    variance = sd**2
    standard_error = variance * math.sqrt((kurtosis - 1) / N)
    assert abs(samples[name].var(ddof=1) - variance) <= 4 * standard_error


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith(("lognormal", "gamma"))])
def test_lognormal_and_gamma_have_the_coefficient_of_variation_asked_for(name, samples):
    spec, (mean, sd, skewness, kurtosis) = CASES[name]
    cv = spec["cv"]
    assert sd / mean == pytest.approx(cv)
    mu3, mu4 = skewness * sd**3, kurtosis * sd**4
    variance = (cv**2 * sd**2 + (mu4 - sd**4) / (4 * sd**2) - cv * mu3 / sd) / (N * mean**2)
    sample = samples[name]
    assert abs(sample.std(ddof=1) / sample.mean() - cv) <= 4 * math.sqrt(variance)


def test_empirical_draws_only_the_observed_values_equally_often():
    sample = dist({"dist": "empirical", "values": ["5 min", "10 min", "40 min"]}).sample(
        np.random.default_rng(SEED), 30_000
    )
    values, counts = np.unique(sample, return_counts=True)
    assert values.tolist() == [5.0, 10.0, 40.0]
    # each count is Binomial(n, 1/3): sd = sqrt(n·(1/3)·(2/3))
    assert np.abs(counts - 10_000).max() <= 4 * math.sqrt(30_000 * 2 / 9)


def test_uniform_and_triangular_stay_within_their_bounds():
    rng = np.random.default_rng(SEED)
    uniform = dist({"dist": "uniform", "low": "4 min", "high": "14 min"}).sample(rng, 10_000)
    assert uniform.min() >= 4 and uniform.max() <= 14
    spec = {"dist": "triangular", "low": "1 min", "mode": "1 min", "high": "3 min"}
    triangular = dist(spec).sample(rng, 10_000)
    assert triangular.min() >= 1 and triangular.max() <= 3


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "lognormal", "mean": 0, "cv": 0.5},
        {"dist": "gamma", "mean": "0 min", "cv": 0.5},
        {"dist": "exponential", "mean": 0},
    ],
)
def test_a_zero_mean_draws_zeros(spec):
    sample = dist(spec).sample(np.random.default_rng(SEED), 100)
    assert dist(spec).mean() == 0 and (sample == 0).all()


@pytest.mark.parametrize("spec", [entry[0] for entry in CASES.values()])
def test_the_same_seed_draws_the_same_values(spec):
    first = dist(spec).sample(np.random.default_rng(7), 50)
    again = dist(spec).sample(np.random.default_rng(7), 50)
    other = dist(spec).sample(np.random.default_rng(8), 50)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("spec", "where", "message"),
    [
        (
            {"dist": "exponential", "mean": "-1 min"},
            ("exponential", "mean"),
            "expected a non-negative duration, got '-1 min'",
        ),
        (
            {"dist": "lognormal", "mean": "-8 min", "cv": 0.5},
            ("lognormal", "mean"),
            "expected a non-negative duration, got '-8 min'",
        ),
        (
            {"dist": "gamma", "mean": 5, "cv": 0.5},
            ("gamma", "mean"),
            "got bare number 5",
        ),
        (
            {"dist": "lognormal", "mean": "8 min", "cv": 0},
            ("lognormal", "cv"),
            "greater than 0",
        ),
        (
            {"dist": "gamma", "mean": "8 min", "cv": -1},
            ("gamma", "cv"),
            "greater than 0",
        ),
        ({"dist": "gamma", "mean": "8 min"}, ("gamma", "cv"), "Field required"),
        (
            {"dist": "uniform", "low": "9 min", "high": "4 min"},
            ("uniform",),
            "expected low <= high",
        ),
        (
            {"dist": "triangular", "low": "1 min", "mode": "9 min", "high": "4 min"},
            ("triangular",),
            "expected low <= mode <= high with low < high",
        ),
        (
            {"dist": "triangular", "low": "5 min", "mode": "1 min", "high": "9 min"},
            ("triangular",),
            "expected low <= mode <= high with low < high",
        ),
        (
            {"dist": "triangular", "low": "5 min", "mode": "5 min", "high": "5 min"},
            ("triangular",),
            "expected low <= mode <= high with low < high",
        ),
        (
            {"dist": "empirical", "values": []},
            ("empirical", "values"),
            "List should have at least 1 item after validation, not 0",
        ),
        (
            {"dist": "empirical", "values": ["1 min", "-1 min"]},
            ("empirical", "values", 1),
            "expected a non-negative duration, got '-1 min'",
        ),
        (
            {"dist": "exponential", "mean": "1 min", "shape": 2},
            ("exponential", "shape"),
            "Extra inputs are not permitted",
        ),
        ({"dist": "weibull", "mean": "1 min"}, (), "'weibull'"),
        ({"mean": "1 min"}, (), "discriminator 'dist'"),
    ],
)
def test_bad_parameters_are_refused_at_the_field_with_a_reason(spec, where, message):
    with pytest.raises(ValidationError) as caught:
        dist(spec)
    [error] = caught.value.errors()
    assert error["loc"] == where
    assert re.search(re.escape(message), error["msg"]), error["msg"]
