"""Customer segments: groups of customers who differ in value, tolerance and voice."""

from __future__ import annotations

from pydantic import Field

from spiral.model.fields import MAX_AMOUNT, Model

MAX_TOLERANCE = 100.0
SHARE_SLACK = 1e-6  # segment shares are typed by hand: 0.333 + 0.333 + 0.334 is 1


class Segment(Model):
    """A group of customers: its share of arrivals, its value, its tolerance and its voice."""

    description: str = ""
    share: float = Field(gt=0, le=1, description="Share of arriving customers (above 0, <= 1).")
    value: float | None = Field(
        default=None,
        ge=0,
        le=MAX_AMOUNT,
        description="Value of a retained customer of the segment (0 to 1e9); default: "
        "money.revenue_per_retained.",
    )
    tolerance: float = Field(
        default=1.0,
        gt=0,
        le=MAX_TOLERANCE,
        description="How much severity the segment takes before it acts: escalation "
        "thresholds and the loyalty severity scale × this (2: twice as tolerant; above 0, "
        "at most 100).",
    )
    complain: float = Field(
        default=1.0,
        ge=0,
        le=MAX_TOLERANCE,
        description="Complaint propensity: each step's chance that a failure makes the "
        "customer get in touch × this, at most 1 (0 to 100).",
    )
