"""How a customer's complaint grows, escalates and decides churn: the individual spiral."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from spiral.model.distributions import Duration
from spiral.model.fields import Model, Probability

MAX_FACTOR = 100.0  # a severity or odds multiplier per event
MAX_SEVERITY = 1e6


class Channel(Model):
    """An escalation channel: severity at or above the threshold may escape there."""

    threshold: float = Field(
        gt=0, le=MAX_SEVERITY, description="Severity at which the channel opens (above 0, <= 1e6)."
    )
    probability: Probability = Field(
        description="Chance per bad event above the threshold that the customer escalates."
    )


class Social(Channel):
    """Escalation to social media, with a heavy-tailed audience."""

    reach_median: float = Field(
        default=150.0, ge=0, le=1e9, description="Median audience of a post (0 to 1e9)."
    )
    reach_sigma: float = Field(
        default=1.5, ge=0, le=10, description="Log-scale spread of the audience (0 to 10)."
    )


class Escalation(Model):
    """Where severity escapes: social media and the CEO's inbox."""

    social: Social = Social(threshold=4.0, probability=0.25)
    ceo: Channel = Channel(threshold=8.0, probability=0.15)


class Loyalty(Model):
    """How severity and recovery decide churn and advocacy at the end of a journey."""

    base_churn: Probability = Field(
        default=0.05, description="Churn of a customer who never failed."
    )
    max_churn: Probability = Field(
        default=0.9, description="Churn as severity grows without bound."
    )
    severity_scale: float = Field(
        default=4.0,
        gt=0,
        le=MAX_SEVERITY,
        description="Severity at which churn is 63% of the way up (above 0, <= 1e6).",
    )
    base_advocacy: Probability = Field(
        default=0.2, description="Advocacy of a customer who never failed."
    )
    advocacy_decay: float = Field(
        default=1.0, ge=0, le=100, description="Advocacy falls as exp(-decay·severity) (0 to 100)."
    )
    recovery_effect: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="Churn multiplier for a customer recovered after exactly one failure.",
    )
    recovery_time: Annotated[Duration, Field(gt=0)] | None = Field(
        default=None,
        description="How fast a first failure must be put right to count: speed = "
        "exp(-time from failure to resolution / recovery_time); an instant recovery leaves "
        "the customer as loyal as one who never failed. None: speed does not matter.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Loyalty:
        if self.max_churn < self.base_churn:
            raise ValueError("expected max_churn >= base_churn")
        return self


class Experience(Model):
    """How the customer's complaint grows: the individual death spiral."""

    amplification: float = Field(
        default=2.0,
        ge=1,
        le=MAX_FACTOR,
        description="Severity × this per further failure (1 to 100).",
    )
    compounding: float = Field(
        default=1.5,
        gt=0,
        le=MAX_FACTOR,
        description="Odds of failing × this per failure already suffered (1 = none; "
        "above 0, at most 100).",
    )
    cold_handoff: float = Field(
        default=1.25,
        ge=1,
        le=MAX_FACTOR,
        description="Severity × this per cold handoff (1 to 100).",
    )
    repeat_contact: float = Field(
        default=1.15,
        ge=1,
        le=MAX_FACTOR,
        description="Severity × this per repeat contact (1 to 100).",
    )
    abandonment: float = Field(
        default=1.2,
        ge=1,
        le=MAX_FACTOR,
        description="Severity × this per abandoned wait (1 to 100).",
    )
    baton: Probability = Field(default=0.3, description="Probability a cross-silo handoff is warm.")
    ping_pong: Probability = Field(
        default=0.15, description="Probability a cold handoff is misrouted and bounces back."
    )
    severity_cap: float = Field(
        default=1000.0,
        ge=1,
        le=MAX_SEVERITY,
        description="Severity never exceeds this: a customer looping through bad events is "
        "as angry as they get (keeps means meaningful); 1 to 1e6.",
    )
    severity_half_life: Annotated[Duration, Field(gt=0)] | None = Field(
        default=None,
        description="Severity halves over this time without a new bad event (memory fades); "
        "None: it never fades.",
    )
    escalation: Escalation = Escalation()
    loyalty: Loyalty = Loyalty()
