"""What-if models: named interventions a scenario file declares under ``what_ifs:``.

A what-if is a list of changes with a start time, a scope and a cost. Applying one to a
scenario is ``spiral.model.what_if_arms.apply``; the engine handles its start time and a
customer-share pilot. Exact semantics: docs/model.md, section "What-ifs".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from spiral.model.distributions import Duration
from spiral.model.fields import MAX_AMOUNT, Amount, Model, Name, Probability, Whole

Factor = Annotated[float, Field(gt=0, le=1)]
MAX_STAFF_CHANGE = 100_000


class FixStep(Model):
    """Fix a step: lower its failure probability by a factor or to a value."""

    change: Literal["fix_step"]
    step: Name
    factor: Factor | None = Field(default=None, description="New failure = old × factor.")
    to: Probability | None = Field(default=None, description="New failure = min(old, to).")

    @model_validator(mode="after")
    def _one_way(self) -> FixStep:
        if (self.factor is None) == (self.to is None):
            raise ValueError("expected exactly one of factor (0 < f <= 1) or to (a probability)")
        return self


class AddStaff(Model):
    """Add staff to a silo (a negative count removes them, leaving at least one)."""

    change: Literal["add_staff"]
    silo: Name
    count: Whole = Field(
        ge=-MAX_STAFF_CHANGE,
        le=MAX_STAFF_CHANGE,
        description="Staff added (negative: removed); -100,000 to 100,000, not 0.",
    )
    until: Duration | None = Field(
        default=None,
        description="When the added staff leave again (pre-staffing a launch); default never.",
    )

    @model_validator(mode="after")
    def _nonzero(self) -> AddStaff:
        if self.count == 0:
            raise ValueError("expected a non-zero count")
        return self


class MoveStaff(Model):
    """Move staff from one silo to another."""

    change: Literal["move_staff"]
    from_silo: Name = Field(alias="from")
    to_silo: Name = Field(alias="to")
    count: Whole = Field(gt=0, le=MAX_STAFF_CHANGE, description="Staff moved: 1 to 100,000.")


class RecoveryTraining(Model):
    """Service-recovery training: contacts resolve more, recovered customers churn less."""

    change: Literal["recovery_training"]
    contacts: list[Name] | None = Field(
        default=None, description="Contact points trained; default: all (in scope)."
    )
    fcr_gain: Probability = Field(
        default=0.1, description="Added to first-contact resolution (capped at 1)."
    )
    recovery_effect: Probability | None = Field(
        default=None, description="New churn multiplier for a customer recovered once."
    )


class WarmHandoffs(Model):
    """The customer baton: cross-silo handoffs become warm, fewer are misrouted."""

    change: Literal["warm_handoffs"]
    baton: Probability = Field(description="New probability a cross-silo handoff is warm.")
    ping_pong: Probability | None = Field(
        default=None, description="New probability a cold handoff is misrouted."
    )


class BackOfficeSupport(Model):
    """Support a back-office team that serves the front line: fewer failures, faster work."""

    change: Literal["back_office_support"]
    silo: Name
    failure_factor: Factor = Field(default=1.0, description="Its steps' failure × this.")
    time_factor: Factor = Field(default=1.0, description="Its steps' service time × this.")


class FeedbackLoop(Model):
    """Complaint feedback loop: switch on (or strengthen) learning from resolved complaints."""

    change: Literal["feedback_loop"]
    fix_share: Probability | None = Field(default=None, description="New loops.learning.fix_share.")
    fix_effect: Probability | None = Field(
        default=None, description="New loops.learning.fix_effect."
    )
    slack_below: float | None = Field(
        default=None, gt=0, le=100, description="New loops.learning.slack_below (above 0, <= 100)."
    )


class Empower(Model):
    """Front-line empowerment: resolve at first contact, without a handoff, up to a cost limit."""

    change: Literal["empowerment"]
    contacts: list[Name] | None = Field(
        default=None, description="Contact points empowered; default: all (in scope)."
    )
    limit: Amount = Field(description="Money an agent may spend to put one case right (0 to 1e9).")
    mean_cost: float = Field(
        gt=0,
        le=MAX_AMOUNT,
        description="Mean cost of putting a case right (exponentially distributed; "
        "above 0, at most 1e9).",
    )


class InviteComplaints(Model):
    """Make complaining easy: more of the customers who meet a failure get in touch."""

    change: Literal["invite_complaints"]
    steps: list[Name] | None = Field(
        default=None, description="Steps whose failures are invited; default: all (in scope)."
    )
    factor: float = Field(
        ge=1,
        le=100,
        description="Each step's complaint probability × this, at most 1 (1 to 100).",
    )


class Demand(Model):
    """More (or fewer) arrivals for a while: 'demand +20% for 26 weeks', a launch, a storm."""

    change: Literal["demand"]
    factor: float = Field(ge=0, le=1000, description="Arrival rate × this (0 to 1,000).")
    start_at: Duration = Field(alias="from", description="From this simulated time.")
    end_at: Duration = Field(alias="to", description="Until this simulated time.")

    @model_validator(mode="after")
    def _ordered(self) -> Demand:
        if self.end_at <= self.start_at:
            raise ValueError("expected to after from")
        return self


class ExtraShift(Model):
    """A shift on top of a silo's staff every day: 'add an evening shift'."""

    change: Literal["extra_shift"]
    silo: Name
    start_hour: Duration = Field(alias="from", description="Time of day it starts, e.g. '17 h'.")
    end_hour: Duration = Field(alias="to", description="Time of day it ends, e.g. '22 h'.")
    add: Whole = Field(ge=1, le=MAX_STAFF_CHANGE, description="Staff on the shift (1 to 100,000).")

    @model_validator(mode="after")
    def _within_a_day(self) -> ExtraShift:
        if not 0 <= self.start_hour < self.end_hour <= 1440.0:
            raise ValueError("expected 0 h <= from < to <= 24 h")
        return self

    def on_duty(self, minute: float) -> bool:
        """Return whether the shift is on at a simulated time."""
        return self.start_hour <= minute % 1440.0 < self.end_hour


Change = Annotated[
    FixStep
    | AddStaff
    | MoveStaff
    | RecoveryTraining
    | WarmHandoffs
    | BackOfficeSupport
    | FeedbackLoop
    | Empower
    | InviteComplaints
    | Demand
    | ExtraShift,
    Field(discriminator="change"),
]
"""One change a what-if makes, named by its ``change`` field."""

CHANGE_KINDS = [
    "fix_step",
    "add_staff",
    "move_staff",
    "recovery_training",
    "warm_handoffs",
    "back_office_support",
    "feedback_loop",
    "empowerment",
    "invite_complaints",
    "demand",
    "extra_shift",
]


class Scope(Model):
    """Who a what-if reaches: a share of customers (a pilot), some segments and/or some silos."""

    customers: Probability = Field(
        default=1.0, description="Share of customers in the pilot (1 = everyone)."
    )
    silos: list[Name] | None = Field(
        default=None, description="Only changes at nodes of these silos apply; default all."
    )
    segments: list[Name] | None = Field(
        default=None,
        min_length=1,
        description="Only customers of these segments are reached; default all.",
    )


class Cost(Model):
    """What a what-if costs to run (staff it adds are paid through the silo's staff cost)."""

    one_off: Amount = Field(default=0.0, description="Paid once, at the start (0 to 1e9).")
    per_period: Amount = Field(
        default=0.0,
        description="Paid every period (the scenario's `period`) from the start to the end "
        "of arrivals; a customer-share pilot pays this share of it (0 to 1e9).",
    )


def _scope(value: object) -> object:
    """Read ``scope: all`` as everyone, everywhere."""
    return {} if value == "all" else value


class WhatIf(Model):
    """A named intervention: changes, when they start, who they reach and what they cost."""

    description: str = ""
    start: Duration = Field(default=0.0, description="Simulated time at which it takes effect.")
    scope: Annotated[Scope, BeforeValidator(_scope)] = Scope()
    cost: Cost = Cost()
    changes: list[Change] = Field(min_length=1)

    @model_validator(mode="after")
    def _staff_scope(self) -> WhatIf:
        world = any(isinstance(c, AddStaff | MoveStaff | ExtraShift | Demand) for c in self.changes)
        if world and self.scope.customers < 1:
            raise ValueError(
                "expected scope.customers = 1 for staff and demand changes (they reach every "
                "customer; pilot staff by silos)"
            )
        if world and self.scope.segments is not None:
            raise ValueError(
                "expected no scope.segments for staff and demand changes (they reach every "
                "customer; pilot staff by silos)"
            )
        return self

    def acts_from(self) -> float:
        """Return when it starts to act: its start, or (dated demand changes only) the first."""
        if all(isinstance(c, Demand) for c in self.changes):
            return max(self.start, min(c.start_at for c in self.changes))
        return self.start
