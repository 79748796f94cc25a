"""When customers come: a daily or weekly profile, dated surges and bursts at a node."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from spiral.model.distributions import Duration
from spiral.model.fields import Model, Name, Rate, Whole

MAX_MULTIPLIER = 1000.0
MAX_SLOTS = 10_080  # one a minute over a week


class Schedule(Model):
    """A repeating profile of the arrival rate over a day or a week."""

    cycle: Literal["day", "week"] = "day"
    multipliers: list[Annotated[float, Field(ge=0, le=MAX_MULTIPLIER)]] = Field(
        min_length=1,
        max_length=MAX_SLOTS,
        description="Equal slots over the cycle (1 to 10,080 of them); the rate in a slot is "
        "rate × multiplier, each multiplier 0 to 1,000 and at least one above 0.",
    )

    @model_validator(mode="after")
    def _some_arrivals(self) -> Schedule:
        if not any(m > 0 for m in self.multipliers):
            raise ValueError("expected at least one multiplier above 0 (else no one arrives)")
        return self


class Surge(Model):
    """A stretch of time with more (or fewer) arrivals: a launch, a storm, Christmas."""

    start: Duration = Field(description="When it begins (from minute 0).")
    end: Duration = Field(description="When it ends (after start).")
    factor: float = Field(
        ge=0,
        le=MAX_MULTIPLIER,
        description="Arrival rate × this between start and end, on top of the repeating "
        "profile (0 to 1,000; 1.2: +20%).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Surge:
        if self.end <= self.start:
            raise ValueError("expected end after start")
        return self


class Burst(Model):
    """Extra customers who all enter at one node in a short time: an outage, a recall."""

    at: Duration = Field(description="When the burst begins.")
    node: Name = Field(description="Where these customers enter (a step or a contact point).")
    customers: Whole = Field(ge=1, le=10**7, description="How many (1 to 10 million).")
    over: Duration = Field(
        default=1440.0, gt=0, description="Spread evenly at random over this long (default 1 day)."
    )


class Arrivals(Model):
    """New customers arrive as a Poisson process, optionally time-varying."""

    rate: Rate
    schedule: Schedule | None = None
    timeline: list[Surge] = Field(
        default_factory=list,
        max_length=1000,
        description="Dated stretches of more or fewer arrivals, in time order, not overlapping.",
    )
    events: list[Burst] = Field(
        default_factory=list,
        max_length=1000,
        description="Bursts of extra customers entering at a node.",
    )

    @field_validator("timeline")
    @classmethod
    def _apart(cls, timeline: list[Surge]) -> list[Surge]:
        for k, (first, second) in enumerate(zip(timeline, timeline[1:], strict=False)):
            if second.start < first.end:
                raise ValueError(
                    f"surge {k + 1} (from {second.start:g} min) starts before surge {k} ends "
                    f"({first.end:g} min); expected surges in time order, not overlapping"
                )
        return timeline

    def factor_at(self, minute: float) -> float:
        """Return the timeline's factor at a time (1 outside every surge)."""
        for surge in self.timeline:
            if surge.start <= minute < surge.end:
                return surge.factor
        return 1.0

    def peak_factor(self) -> float:
        """Return the largest factor the timeline reaches (at least 1)."""
        return max([1.0, *(surge.factor for surge in self.timeline)])
