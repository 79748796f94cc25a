"""The validated scenario: pydantic v2 models for everything a scenario file declares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from spiral.model.distributions import Distribution, Duration, Fixed
from spiral.model.fields import MAX_AMOUNT, Amount, Model, Name, Probability, Rate, Routing, Whole
from spiral.model.what_if import WhatIf

NO_TIME = Fixed(value=0)
MAX_STAFF = 100_000
MAX_MULTIPLIER = 1000.0
MAX_SLOTS = 10_080  # one a minute over a week
MAX_FACTOR = 100.0  # a severity or odds multiplier per event
MAX_SEVERITY = 1e6
MAX_NODES = 500  # of each kind: journeys have tens; the size guard solves a dense chain
FIRST_DATE = datetime(1900, 1, 1, tzinfo=UTC)
LAST_DATE = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
LAST_END = datetime(2262, 1, 1, tzinfo=UTC)  # pandas' timestamps end in April 2262


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


class Arrivals(Model):
    """New customers arrive as a Poisson process, optionally time-varying."""

    rate: Rate
    schedule: Schedule | None = None


class Silo(Model):
    """A department that owns steps and contact points and employs staff."""

    staff: Annotated[int, Field(ge=1, le=MAX_STAFF)] | Literal["unlimited"] = Field(
        description="Number of staff serving in parallel (1 to 100,000), or 'unlimited' (no queue)."
    )
    cost_per_hour: Amount | None = Field(
        default=None,
        description="Cost of one staff hour (0 to 1e9); defaults to money.cost_per_staff_hour.",
    )
    baton: Probability | None = Field(
        default=None,
        description="Probability a handoff out of this silo is warm; default experience.baton.",
    )
    ping_pong: Probability | None = Field(
        default=None,
        description="Probability a cold handoff out of this silo bounces back; "
        "default experience.ping_pong.",
    )

    @field_validator("staff", mode="before")
    @classmethod
    def _positive(cls, staff: object) -> object:
        if isinstance(staff, bool):
            raise ValueError(
                f"YAML read {str(staff).lower()} as a boolean; expected a whole number of "
                "staff or 'unlimited'"
            )
        if isinstance(staff, int | float) and staff < 1:
            raise ValueError(f"expected at least 1 staff or 'unlimited', got {staff}")
        if isinstance(staff, int | float) and not staff <= MAX_STAFF:
            raise ValueError(f"expected at most {MAX_STAFF:,} staff or 'unlimited', got {staff:g}")
        return staff


class Step(Model):
    """Work the organisation does for the customer; it may fail."""

    silo: Name
    self_service: bool = Field(
        default=False, description="Done by the customer or a system: no staff, no queue."
    )
    service: Distribution = Field(default=NO_TIME, description="Time the step takes.")
    failure: Probability = Field(default=0.0, description="Base probability the step fails.")
    on_failure: Routing | None = Field(
        default=None, description="Where a failure sends the customer."
    )
    next: Routing = Field(description="Where the customer goes when the step succeeds.")


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
    escalation: Escalation = Escalation()
    loyalty: Loyalty = Loyalty()


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


class Erosion(Model):
    """Quality erosion under pressure (Oliva & Sterman 2001): overloaded silos cut corners."""

    enabled: bool = False
    threshold: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Work pressure above which corners are cut (above 0, at most 100).",
    )
    elasticity: float = Field(
        default=0.64,
        gt=0,
        le=10,
        description="Time per job falls as pressure^-elasticity (Oliva & Sterman 2001); "
        "above 0, at most 10.",
    )
    sensitivity: float = Field(
        default=4.0,
        ge=0,
        le=1000,
        description="Failure odds × (1 + sensitivity × corners cut); 0 to 1,000.",
    )
    erode_time: Duration = Field(
        default=14 * 1440.0,
        gt=0,
        description="Time constant of corners being cut under pressure (above 0).",
    )
    recover_time: Duration = Field(
        default=19 * 10080.0,
        gt=0,
        description="Time constant of standards recovering with slack (above 0).",
    )
    attrition: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of staff lost per week while pressure stays above the threshold.",
    )


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
        default=1440.0, gt=0, description="Smoothing time of measured work pressure (above 0)."
    )


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
    what_ifs: dict[Name, WhatIf] = Field(
        default_factory=dict, description="Named interventions for `spiral compare`."
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

    def node_names(self) -> list[str]:
        """Return all node names: steps, then contacts, then outcomes."""
        return [*self.steps, *self.contacts, *self.outcomes]
