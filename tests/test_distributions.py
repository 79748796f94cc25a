"""Service-time distributions: means from theory, samples agree, bad parameters refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from spiral.distributions import Distribution

ADAPTER = TypeAdapter(Distribution)
N = 200_000


def dist(spec: object):
    return ADAPTER.validate_python(spec)


# (spec, theoretical mean in minutes, theoretical standard deviation)
CASES = [
    ("5 min", 5.0, 0.0),
    ({"dist": "fixed", "value": "2 h"}, 120.0, 0.0),
    ({"dist": "exponential", "mean": "10 min"}, 10.0, 10.0),
    ({"dist": "lognormal", "mean": "8 min", "cv": 0.5}, 8.0, 4.0),
    ({"dist": "gamma", "mean": "1 h", "cv": 0.8}, 60.0, 48.0),
    ({"dist": "uniform", "low": "4 min", "high": "14 min"}, 9.0, 10 / math.sqrt(12)),
    (
        {"dist": "triangular", "low": "1 day", "mode": "2 days", "high": "4 days"},
        10080 / 3,
        1440 * math.sqrt((1 + 4 + 16 - 2 - 4 - 8) / 18),
    ),
    ({"dist": "empirical", "values": ["5 min", "10 min", "15 min"]}, 10.0, math.sqrt(50 / 3)),
]


@pytest.mark.parametrize(("spec", "mean", "sd"), CASES)
def test_mean_is_the_theoretical_mean(spec, mean, sd):
    assert dist(spec).mean() == pytest.approx(mean)


@pytest.mark.parametrize(("spec", "mean", "sd"), CASES)
def test_samples_agree_with_mean_and_spread_within_four_standard_errors(spec, mean, sd):
    sample = dist(spec).sample(np.random.default_rng(12), N)
    assert len(sample) == N and (sample >= 0).all()
    assert abs(sample.mean() - mean) <= 4 * sd / math.sqrt(N) + 1e-9
    if sd > 0:
        assert sample.std() == pytest.approx(sd, rel=0.03)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "exponential", "mean": "-1 min"}, "non-negative duration"),
        ({"dist": "lognormal", "mean": "8 min", "cv": 0}, "greater than 0"),
        ({"dist": "uniform", "low": "9 min", "high": "4 min"}, "expected low <= high"),
        (
            {"dist": "triangular", "low": "1 min", "mode": "9 min", "high": "4 min"},
            "expected low <= mode <= high",
        ),
        ({"dist": "empirical", "values": []}, "at least 1 item"),
        ({"dist": "weibull", "mean": "1 min"}, "weibull"),
        ({"dist": "exponential", "mean": "1 min", "shape": 2}, "[Ee]xtra inputs"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(spec, message):
    with pytest.raises(ValidationError, match=message):
        dist(spec)
