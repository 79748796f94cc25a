"""Named service-time distributions with units, validated and sampled in blocks."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Self

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from spiral.model.units import MAX_YEARS, parse_duration

MAX_CV = 10.0
"""The largest coefficient of variation: beyond it almost every draw is 0 and a few huge."""

MAX_VALUES = 10_000
"""The most values an empirical distribution may list."""

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*[a-zA-Z]+\s*$"},
                {"const": 0},
            ],
            "description": "A duration with a unit, e.g. '30 s', '8 min', '2 h', '3 days'; "
            f"at most {MAX_YEARS} years.",
        }
    ),
]
"""A time with a unit in the file, minutes in Python."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _durations: ClassVar[tuple[str, ...]] = ()

    def scaled(self, factor: float) -> Self:
        """Return a copy with every duration times ``factor`` (same shape, mean × factor)."""
        update = {}
        for name in self._durations:
            value = getattr(self, name)
            scaled = [v * factor for v in value] if isinstance(value, list) else value * factor
            update[name] = scaled
        return self.model_copy(update=update)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values in minutes."""
        raise NotImplementedError

    def mean(self) -> float:
        """Return the theoretical mean in minutes."""
        raise NotImplementedError

    def laplace(self, rate: float) -> float:
        """Return E[exp(-rate · X)], the Laplace transform at ``rate`` (per minute).

        The share of a recovery's speed one visit of this duration keeps (docs/model.md §3);
        the default integrates the density numerically.
        """
        from scipy import integrate

        return float(
            integrate.quad(lambda x: np.exp(-rate * x) * self._pdf(x), *self._support())[0]
        )

    def _pdf(self, x: float) -> float:
        raise NotImplementedError

    def _support(self) -> tuple[float, float]:
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same duration."""

    dist: Literal["fixed"] = "fixed"
    value: Duration
    _durations = ("value",)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` copies of the value."""
        return np.full(size, self.value)

    def mean(self) -> float:
        """Return the value."""
        return self.value

    def laplace(self, rate: float) -> float:
        """Return exp(-rate · value)."""
        return math.exp(-rate * self.value)


class Exponential(_Dist):
    """Memoryless duration with the given mean."""

    dist: Literal["exponential"]
    mean_: Duration = Field(alias="mean")
    _durations = ("mean_",)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw exponential durations."""
        return rng.exponential(self.mean_, size)

    def mean(self) -> float:
        """Return the mean."""
        return self.mean_

    def laplace(self, rate: float) -> float:
        """Return 1 / (1 + rate · mean)."""
        return 1.0 / (1.0 + rate * self.mean_)


class _MeanCV(_Dist):
    mean_: Duration = Field(alias="mean")
    _durations = ("mean_",)
    cv: float = Field(
        gt=0,
        le=MAX_CV,
        description=f"Coefficient of variation (standard deviation / mean), in (0, {MAX_CV:g}].",
    )

    def mean(self) -> float:
        """Return the mean."""
        return self.mean_


class LogNormal(_MeanCV):
    """Right-skewed duration given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw lognormal durations with the given mean and cv."""
        sigma2 = np.log1p(self.cv**2)
        mu = np.log(self.mean_) - sigma2 / 2 if self.mean_ > 0 else -np.inf
        return rng.lognormal(mu, np.sqrt(sigma2), size) if self.mean_ > 0 else np.zeros(size)

    def laplace(self, rate: float) -> float:
        """Return E[exp(-rate · X)] by quadrature over the underlying normal."""
        from scipy import integrate, stats

        if self.mean_ <= 0:
            return 1.0
        sigma = math.sqrt(math.log1p(self.cv**2))
        mu = math.log(self.mean_) - sigma**2 / 2
        return float(
            integrate.quad(
                lambda z: stats.norm.pdf(z) * math.exp(-rate * math.exp(mu + sigma * z)),
                -40,
                40,
                points=[0.0],
                limit=200,
            )[0]
        )


class Gamma(_MeanCV):
    """Gamma duration given by its mean and coefficient of variation."""

    dist: Literal["gamma"]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw gamma durations with shape 1/cv² and scale mean·cv²."""
        return rng.gamma(1 / self.cv**2, self.mean_ * self.cv**2, size)

    def laplace(self, rate: float) -> float:
        """Return (1 + rate · scale)^-shape."""
        return (1.0 + rate * self.mean_ * self.cv**2) ** (-1.0 / self.cv**2)


class Uniform(_Dist):
    """Duration equally likely anywhere between low and high."""

    dist: Literal["uniform"]
    low: Duration
    high: Duration
    _durations = ("low", "high")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("expected low <= high")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw uniform durations."""
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        """Return the midpoint."""
        return (self.low + self.high) / 2

    def laplace(self, rate: float) -> float:
        """Return (exp(-rate·low) - exp(-rate·high)) / (rate · (high - low))."""
        width = self.high - self.low
        if rate == 0 or width == 0:
            return math.exp(-rate * self.low)
        return (math.exp(-rate * self.low) - math.exp(-rate * self.high)) / (rate * width)


class Triangular(_Dist):
    """Duration with a minimum, a most likely value and a maximum."""

    dist: Literal["triangular"]
    low: Duration
    mode: Duration
    high: Duration
    _durations = ("low", "mode", "high")

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw triangular durations."""
        return rng.triangular(self.low, self.mode, self.high, size)

    def mean(self) -> float:
        """Return (low + mode + high) / 3."""
        return (self.low + self.mode + self.high) / 3

    def _pdf(self, x: float) -> float:
        a, c, b = self.low, self.mode, self.high
        if x < a or x > b:
            return 0.0
        if x < c:
            return 2 * (x - a) / ((b - a) * (c - a))
        return 2 * (b - x) / ((b - a) * (b - c)) if b > c else 2 / (b - a)

    def _support(self) -> tuple[float, float]:
        return self.low, self.high


class Empirical(_Dist):
    """Duration resampled with replacement from observed values."""

    dist: Literal["empirical"]
    values: list[Duration] = Field(
        min_length=1,
        max_length=MAX_VALUES,
        description=f"Observed durations, 1 to {MAX_VALUES:,} of them.",
    )
    _durations = ("values",)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw observed values uniformly at random."""
        return rng.choice(np.asarray(self.values, dtype=float), size)

    def mean(self) -> float:
        """Return the sample mean of the values."""
        return float(np.mean(self.values))

    def laplace(self, rate: float) -> float:
        """Return the mean of exp(-rate · value) over the values."""
        return float(np.mean(np.exp(-rate * np.asarray(self.values, dtype=float))))


def _shorthand(value: object) -> object:
    """Read a bare duration (``'5 min'``) as a fixed distribution."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


_Named = Annotated[
    Fixed | Exponential | LogNormal | Gamma | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
]

DISTRIBUTION_KINDS = [
    "fixed",
    "exponential",
    "lognormal",
    "gamma",
    "uniform",
    "triangular",
    "empirical",
]

Distribution = Annotated[
    _Named,
    BeforeValidator(_shorthand, json_schema_input_type=Duration | _Named),
]
"""Any named duration distribution; a bare duration means ``fixed``."""
