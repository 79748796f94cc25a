"""The organisation's feedback loops: failure demand, erosion, reputation, learning."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from spiral.model.distributions import Duration
from spiral.model.fields import Model, Probability

EROSION_DEFAULTS = {
    "standard": {"sensitivity": 1.0, "erode_time": "19 weeks", "recover_time": "never"},
    "corners": {"sensitivity": 4.0, "erode_time": "14 days", "recover_time": "19 weeks"},
}
"""Defaults by erosion model: Oliva & Sterman's (2001) eroding standard, or spiral's first."""


class Erosion(Model):
    """Quality erosion under work pressure (Oliva & Sterman 2001).

    ``model: standard`` (the default, after the paper): above the threshold, staff cut
    the time per job to pressure^-elasticity of their standard, so throughput rises and
    jobs fail more often (a share of the needed time not spent); the standard drifts
    toward the time actually spent (``erode_time``, about 19 weeks), and recovers only
    with slack, far more slowly (``recover_time``; the paper estimates practically
    never). ``model: corners`` is spiral's first model, kept for comparison: corners cut
    raise failure odds but save no time, and standards recover in weeks.
    """

    enabled: bool = False
    model: Literal["standard", "corners"] = Field(
        default="standard",
        description="standard: Oliva & Sterman's eroding standard time per job (default); "
        "corners: spiral's first model (odds rise, no time saved), for comparison.",
    )
    threshold: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Work pressure (required / available capacity) above which time per job "
        "is cut (above 0, at most 100; Oliva & Sterman: 1).",
    )
    elasticity: float = Field(
        default=0.64,
        gt=0,
        le=10,
        description="Time per job = standard × (pressure / threshold)^-elasticity "
        "(Oliva & Sterman 2001: 0.64); above 0, at most 10.",
    )
    sensitivity: float = Field(
        default=1.0,
        ge=0,
        le=1000,
        description="standard: a share x of the needed time not spent makes that share × "
        "sensitivity of jobs fail (default 1, a guess); corners: failure odds × (1 + "
        "sensitivity × corners cut) (default 4); 0 to 1,000.",
    )
    erode_time: Duration = Field(
        default=19 * 10080.0,
        gt=0,
        description="standard: time constant of the standard drifting down to the time spent "
        "(default 19 weeks, Oliva & Sterman 2001); corners: of corners being cut (14 days).",
    )
    recover_time: Duration | Literal["never"] = Field(
        default="never",
        description="Time constant of recovery with slack: 'never' (default for standard: "
        "Oliva & Sterman estimate 8×10⁶ weeks) or a duration (corners: 19 weeks).",
    )
    attrition: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of staff lost per week while pressure stays above the threshold.",
    )

    @field_validator("recover_time")
    @classmethod
    def _positive(cls, value: float | str) -> float | str:
        if value != "never" and not value > 0:
            raise ValueError("input should be greater than 0")
        return value

    @model_validator(mode="before")
    @classmethod
    def _defaults_of_the_model(cls, data: object) -> object:
        if isinstance(data, dict):
            chosen = data.get("model", "standard")
            for name, value in EROSION_DEFAULTS.get(chosen, {}).items():
                data = data if name in data else {**data, name: value}
        return data

    def recovers(self) -> bool:
        """Return whether eroded standards recover at all."""
        return self.recover_time != "never"


class Reputation(Model):
    """Reputation: social escalations lower it, advocates raise it; arrivals follow it."""

    enabled: bool = False
    harm_per_thousand_reached: float = Field(
        default=0.002,
        ge=0,
        le=10,
        description="Reputation lost per 1,000 people reached by a post (0 to 10).",
    )
    lift_per_advocate: float = Field(
        default=0.0005,
        ge=0,
        le=10,
        description="Reputation gained per advocate (referrals); 0 to 10.",
    )
    memory: Duration = Field(
        default=90 * 1440.0,
        gt=0,
        description="Time constant of reputation drifting back to 1 (above 0).",
    )
    floor: float = Field(default=0.05, gt=0, le=1, description="Lowest reputation (0 to 1].")
    ceiling: float = Field(
        default=3.0, ge=1, le=1000, description="Highest reputation (1 to 1,000)."
    )


class Learning(Model):
    """Learning: resolved complaints become root-cause fixes, but only when there is slack."""

    enabled: bool = False
    fix_share: Probability = Field(
        default=0.05, description="Share of resolved complaints that yield a root-cause fix."
    )
    fix_effect: Probability = Field(
        default=0.1, description="A fix lowers the step's base failure probability by this share."
    )
    slack_below: float = Field(
        default=0.8,
        gt=0,
        le=100,
        description="Fixes happen only while the silo's pressure is below this (above 0, "
        "at most 100).",
    )


class Loops(Model):
    """The organisation's feedback loops, each switchable."""

    failure_demand: bool = Field(
        default=True,
        description="Failure-caused contacts compete for the same staff (false: a separate, "
        "unlimited team serves them, the counterfactual without the loop).",
    )
    erosion: Erosion = Erosion()
    reputation: Reputation = Reputation()
    learning: Learning = Learning()
    tick: Duration = Field(
        default=60.0,
        gt=0,
        description="How often pressure, erosion and reputation are updated (above 0).",
    )
    pressure_window: Duration = Field(
        default=1440.0,
        gt=0,
        description="Smoothing time of measured work pressure, the work arriving per minute "
        "and the queue's work over this window, per member of staff (above 0; default 1 day).",
    )
