"""The validated scenario: pydantic v2 models for everything a scenario file declares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal, get_args

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from spiral.model.arrivals import Arrivals
from spiral.model.distributions import Distribution, Duration, Fixed
from spiral.model.experience import Experience
from spiral.model.fields import MAX_AMOUNT, Amount, Model, Name, Probability, Routing, Whole
from spiral.model.loops import Loops
from spiral.model.segments import SHARE_SLACK, Segment
from spiral.model.staffing import Silo
from spiral.model.what_if import WhatIf

NO_TIME = Fixed(value=0)
MAX_NODES = 500  # of each kind: journeys have tens; the size guard solves a dense chain
MAX_SEGMENTS = 20  # the analytic engine solves one chain per segment
FIRST_DATE = datetime(1900, 1, 1, tzinfo=UTC)
LAST_DATE = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
LAST_END = datetime(2262, 1, 1, tzinfo=UTC)  # pandas' timestamps end in April 2262
EvidenceKey = Literal[
    "failure_demand_share",
    "fcr",
    "contacts_per_issue",
    "social_share",
    "silent_share",
    "unresolved_churn_ratio",
]
"""A published benchmark a scenario's ``evidence_notes`` may explain (evidence_check)."""
EVIDENCE_KEYS: tuple[str, ...] = get_args(EvidenceKey)
COMPLAINT_BY_LOSS = {"small": 0.03, "large": 0.5}
"""P(complain | a failure) by its cost to the customer: small, Goodman & Newman (2003);
large, a guess (docs/model.md §3)."""


class Step(Model):
    """Work the organisation does for the customer; it may fail."""

    silo: Name
    self_service: bool = Field(
        default=False, description="Done by the customer or a system: no staff, no queue."
    )
    customer_facing: bool = Field(
        default=False,
        description="The customer takes part (a visit, a call, a screen): a handoff into it "
        "is one the customer sees. Otherwise back office: warm or cold, never re-explained.",
    )
    service: Distribution = Field(default=NO_TIME, description="Time the step takes.")
    failure: Probability = Field(default=0.0, description="Base probability the step fails.")
    on_failure: Routing | None = Field(
        default=None, description="Where a failure sends a customer who complains."
    )
    next: Routing = Field(description="Where the customer goes when the step succeeds.")
    complain: Probability | None = Field(
        default=None,
        description="Probability that a failure here makes the customer get in touch "
        "(on_failure); the others suffer in silence (silent). Default: from loss, else 1.",
    )
    loss: Literal["small", "large"] | None = Field(
        default=None,
        description="What a failure here costs the customer: small (3% complain) or large "
        "(50% complain); sets complain.",
    )
    silent: Routing | None = Field(
        default=None,
        description="Where a customer who does not complain goes (default: next).",
    )

    @model_validator(mode="after")
    def _one_complaint_rate(self) -> Step:
        if self.complain is not None and self.loss is not None:
            raise ValueError("expected complain or loss, not both")
        return self

    def complaint_probability(self) -> float:
        """Return P(a failure here makes the customer get in touch)."""
        if self.complain is not None:
            return self.complain
        return COMPLAINT_BY_LOSS[self.loss] if self.loss is not None else 1.0

    def silent_route(self) -> dict[str, float]:
        """Return where a customer who suffers a failure here in silence goes."""
        return self.silent if self.silent is not None else self.next


class Empowerment(Model):
    """Agents may put a case right at first contact if it costs no more than a limit."""

    limit: Amount = Field(description="Money an agent may spend on one case (0 to 1e9).")
    mean_cost: float = Field(
        gt=0,
        le=MAX_AMOUNT,
        description="Mean cost of putting a case right (exponentially distributed; "
        "above 0, at most 1e9).",
    )


class Contact(Model):
    """A point where a customer reaches out (phone, chat, store, email)."""

    silo: Name
    handling: Distribution = Field(description="Staff time to handle one contact.")
    fcr: Probability = Field(description="Probability the contact resolves the issue.")
    resolved: Routing = Field(description="Where a resolved (recovered) customer goes.")
    unresolved: Routing = Field(
        description="Where an unresolved customer goes: a transfer, this point again, an outcome."
    )
    patience: Distribution | None = Field(
        default=None, description="How long a customer waits in the queue before abandoning."
    )
    redial: Probability = Field(
        default=0.7, description="Share of abandoning customers who contact again."
    )
    redial_after: Distribution = Field(
        default=Fixed(value="1 h"),
        description="Delay before an abandoning customer contacts again.",
    )
    give_up: Name | None = Field(
        default=None, description="Outcome for abandoning customers who do not contact again."
    )
    empowerment: Empowerment | None = Field(
        default=None,
        description="An open issue the agent cannot resolve is still put right (and routed as "
        "resolved) when its cost is within the limit.",
    )

    @model_validator(mode="after")
    def _redial_later(self) -> Contact:
        if self.patience is not None and self.redial > 0 and self.redial_after.mean() <= 0:
            raise ValueError(
                "expected redial_after above 0 when customers redial: a redial at once meets "
                "the same queue at the same moment, for ever"
            )
        return self

    @model_validator(mode="after")
    def _give_up_needed(self) -> Contact:
        if self.patience is not None and self.redial < 1 and self.give_up is None:
            raise ValueError("expected give_up (an outcome) when patience is set and redial < 1")
        return self


class Outcome(Model):
    """A terminal node: the journey ends here."""

    kind: Literal["complete", "churn"] = Field(
        default="complete",
        description="complete: loyalty decides retained/advocate/churned; churn: customer leaves.",
    )
    next: Routing | None = Field(default=None, description="Not allowed: outcomes are terminal.")


class Money(Model):
    """Values that turn outcomes into revenue and cost."""

    currency: Name = "GBP"
    revenue_per_retained: Amount = Field(
        default=100.0, description="Value of a retained customer (0 to 1e9)."
    )
    advocate_bonus: float = Field(
        default=0.25,
        ge=0,
        le=100,
        description="Extra value of an advocate as a share of revenue_per_retained (0 to 100).",
    )
    cost_per_staff_hour: Amount = Field(default=30.0, description="0 to 1e9.")
    cost_per_social_escalation: Amount = Field(default=50.0, description="0 to 1e9.")
    cost_per_ceo_escalation: Amount = Field(default=400.0, description="0 to 1e9.")


class Scenario(Model):
    """A whole scenario: organisation, journey, customer experience and money."""

    name: Name
    description: str = ""
    horizon: Duration | None = Field(
        default=None, description="Simulated time during which customers arrive."
    )
    customers: Whole | None = Field(
        default=None,
        ge=1,
        le=10**15,
        description="Or: stop after this many arrivals (a whole number, 1 to 1e15).",
    )
    warmup: Duration = Field(
        default=0.0, description="Customers arriving before this are not measured."
    )
    drain: Duration = Field(
        default=30 * 1440.0, description="After arrivals stop, how long customers may still finish."
    )
    period: Duration = Field(default=1440.0, gt=0, description="Length of one time-series period.")
    seed: Whole = Field(
        default=1, ge=0, le=2**63 - 1, description="Default root seed (0 to 2^63 - 1)."
    )
    start_date: datetime = Field(
        default=datetime(2026, 1, 5, tzinfo=UTC),
        description="Calendar time of minute 0 (ISO 8601), for event logs; UTC if no offset; "
        "from 1900-01-01 to 2100-12-31.",
    )
    start: Routing = Field(description="Where customers enter the journey.")

    @field_validator("start_date", mode="before")
    @classmethod
    def _calendar(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):  # YAML reads 2026-01-05
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value

    @field_validator("start_date")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if not FIRST_DATE <= value <= LAST_DATE:
            raise ValueError(
                f"expected a date from {FIRST_DATE:%Y-%m-%d} to {LAST_DATE:%Y-%m-%d}, "
                f"got {value.isoformat()}"
            )
        return value

    arrivals: Arrivals
    silos: dict[Name, Silo] = Field(min_length=1, max_length=MAX_NODES)
    steps: dict[Name, Step] = Field(min_length=1, max_length=MAX_NODES)
    contacts: dict[Name, Contact] = Field(default_factory=dict, max_length=MAX_NODES)
    outcomes: dict[Name, Outcome] = Field(min_length=1, max_length=MAX_NODES)
    experience: Experience = Experience()
    money: Money = Money()
    loops: Loops = Loops()
    segments: dict[Name, Segment] = Field(
        default_factory=dict,
        max_length=MAX_SEGMENTS,
        description="Customer segments, their shares summing to 1; default: one kind of customer.",
    )
    what_ifs: dict[Name, WhatIf] = Field(
        default_factory=dict, description="Named interventions for `spiral compare`."
    )
    evidence_notes: dict[EvidenceKey, Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=dict,
        description="Why the scenario lies outside a published range, by benchmark "
        "(spiral validate --evidence).",
    )

    @model_validator(mode="after")
    def _length(self) -> Scenario:
        if (self.horizon is None) == (self.customers is None):
            raise ValueError("expected exactly one of horizon (a duration) or customers (a count)")
        if self.horizon is not None and self.horizon <= self.warmup:
            raise ValueError(
                "expected a horizon longer than the warm-up (nothing would be measured)"
            )
        if self.period <= 0:
            raise ValueError("expected period > 0")
        if self.horizon is not None:
            end = self.start_date + timedelta(minutes=self.horizon + self.drain)
            if end >= LAST_END:
                raise ValueError(
                    f"expected start_date + horizon + drain before {LAST_END:%Y-%m-%d} "
                    f"(event log times end there), got {end:%Y-%m-%d}"
                )
        return self

    @field_validator("segments")
    @classmethod
    def _shares(cls, value: dict[str, Segment]) -> dict[str, Segment]:
        total = sum(segment.share for segment in value.values())
        if value and abs(total - 1.0) > SHARE_SLACK:
            raise ValueError(f"expected segment shares summing to 1, got {total:.6g}")
        return value

    def segment_values(self) -> list[float]:
        """Return the value of a retained customer, per segment (one if there are none)."""
        default = self.money.revenue_per_retained
        if not self.segments:
            return [default]
        return [default if s.value is None else s.value for s in self.segments.values()]

    def mean_customer_value(self) -> float:
        """Return the value of a retained customer averaged over the segments by share."""
        shares = [s.share for s in self.segments.values()] or [1.0]
        return sum(v * w for v, w in zip(self.segment_values(), shares, strict=True))

    def node_names(self) -> list[str]:
        """Return all node names: steps, then contacts, then outcomes."""
        return [*self.steps, *self.contacts, *self.outcomes]
