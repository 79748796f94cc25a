"""The validated scenario: pydantic v2 models for everything a scenario file declares."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from spiral.distributions import Distribution, Duration, Fixed
from spiral.fields import Model, Probability, Rate, Routing
from spiral.what_if import WhatIf

NO_TIME = Fixed(value=0)


class Schedule(Model):
    """A repeating profile of the arrival rate over a day or a week."""

    cycle: Literal["day", "week"] = "day"
    multipliers: list[Annotated[float, Field(ge=0)]] = Field(
        min_length=1,
        description="Equal slots over the cycle; the rate in a slot is rate × multiplier.",
    )


class Arrivals(Model):
    """New customers arrive as a Poisson process, optionally time-varying."""

    rate: Rate
    schedule: Schedule | None = None


class Silo(Model):
    """A department that owns steps and contact points and employs staff."""

    staff: int | Literal["unlimited"] = Field(
        description="Number of staff serving in parallel, or 'unlimited' (no queue)."
    )
    cost_per_hour: float | None = Field(
        default=None,
        ge=0,
        description="Cost of one staff hour; defaults to money.cost_per_staff_hour.",
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

    @field_validator("staff")
    @classmethod
    def _positive(cls, staff: int | str) -> int | str:
        if isinstance(staff, int) and staff < 1:
            raise ValueError(f"expected at least 1 staff or 'unlimited', got {staff}")
        return staff


class Step(Model):
    """Work the organisation does for the customer; it may fail."""

    silo: str
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

    limit: float = Field(ge=0, description="Money an agent may spend on one case.")
    mean_cost: float = Field(
        gt=0, description="Mean cost of putting a case right (exponentially distributed)."
    )


class Contact(Model):
    """A point where a customer reaches out (phone, chat, store, email)."""

    silo: str
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
    give_up: str | None = Field(
        default=None, description="Outcome for abandoning customers who do not contact again."
    )
    empowerment: Empowerment | None = Field(
        default=None,
        description="An open issue the agent cannot resolve is still put right (and routed as "
        "resolved) when its cost is within the limit.",
    )

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

    threshold: float = Field(gt=0, description="Severity at which the channel opens.")
    probability: Probability = Field(
        description="Chance per bad event above the threshold that the customer escalates."
    )


class Social(Channel):
    """Escalation to social media, with a heavy-tailed audience."""

    reach_median: float = Field(default=150.0, ge=0, description="Median audience of a post.")
    reach_sigma: float = Field(default=1.5, ge=0, description="Log-scale spread of the audience.")


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
        default=4.0, gt=0, description="Severity at which churn is 63% of the way up."
    )
    base_advocacy: Probability = Field(
        default=0.2, description="Advocacy of a customer who never failed."
    )
    advocacy_decay: float = Field(
        default=1.0, ge=0, description="Advocacy falls as exp(-decay·severity)."
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

    def odds(
        self, severity: np.ndarray, recovered_once: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return P(churn) and P(advocate) at the end of a journey, element by element.

        The SimPy engine applies the same curve one customer at a time (Engine._finish).
        """
        s = np.asarray(severity, dtype=float)
        span = self.max_churn - self.base_churn
        churn = np.where(
            s == 0, self.base_churn, self.max_churn - span * np.exp(-s / self.severity_scale)
        )
        churn = np.where(recovered_once & (s > 0), churn * self.recovery_effect, churn)
        advocacy = np.minimum(
            np.where(
                s == 0, self.base_advocacy, self.base_advocacy * np.exp(-self.advocacy_decay * s)
            ),
            1 - churn,
        )
        return churn, advocacy


class Experience(Model):
    """How the customer's complaint grows: the individual death spiral."""

    amplification: float = Field(
        default=2.0, ge=1, description="Severity × this per further failure."
    )
    compounding: float = Field(
        default=1.5,
        gt=0,
        description="Odds of failing × this per failure already suffered (1 = none).",
    )
    cold_handoff: float = Field(default=1.25, ge=1, description="Severity × this per cold handoff.")
    repeat_contact: float = Field(
        default=1.15, ge=1, description="Severity × this per repeat contact."
    )
    abandonment: float = Field(default=1.2, ge=1, description="Severity × this per abandoned wait.")
    baton: Probability = Field(default=0.3, description="Probability a cross-silo handoff is warm.")
    ping_pong: Probability = Field(
        default=0.15, description="Probability a cold handoff is misrouted and bounces back."
    )
    severity_cap: float = Field(
        default=1000.0,
        ge=1,
        description="Severity never exceeds this: a customer looping through bad events is "
        "as angry as they get (keeps means meaningful).",
    )
    escalation: Escalation = Escalation()
    loyalty: Loyalty = Loyalty()


class Money(Model):
    """Values that turn outcomes into revenue and cost."""

    currency: str = "GBP"
    revenue_per_retained: float = Field(
        default=100.0, ge=0, description="Value of a retained customer."
    )
    advocate_bonus: float = Field(
        default=0.25,
        ge=0,
        description="Extra value of an advocate as a share of revenue_per_retained.",
    )
    cost_per_staff_hour: float = Field(default=30.0, ge=0)
    cost_per_social_escalation: float = Field(default=50.0, ge=0)
    cost_per_ceo_escalation: float = Field(default=400.0, ge=0)


class Erosion(Model):
    """Quality erosion under pressure (Oliva & Sterman 2001): overloaded silos cut corners."""

    enabled: bool = False
    threshold: float = Field(
        default=1.0, gt=0, description="Work pressure above which corners are cut."
    )
    elasticity: float = Field(
        default=0.64,
        gt=0,
        description="Time per job falls as pressure^-elasticity (Oliva & Sterman 2001).",
    )
    sensitivity: float = Field(
        default=4.0, ge=0, description="Failure odds × (1 + sensitivity × corners cut)."
    )
    erode_time: Duration = Field(
        default=14 * 1440.0, description="Time constant of corners being cut under pressure."
    )
    recover_time: Duration = Field(
        default=19 * 10080.0, description="Time constant of standards recovering with slack."
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
        default=0.002, ge=0, description="Reputation lost per 1,000 people reached by a post."
    )
    lift_per_advocate: float = Field(
        default=0.0005, ge=0, description="Reputation gained per advocate (referrals)."
    )
    memory: Duration = Field(
        default=90 * 1440.0, description="Time constant of reputation drifting back to 1."
    )
    floor: float = Field(default=0.05, gt=0, le=1, description="Lowest reputation.")
    ceiling: float = Field(default=3.0, ge=1, description="Highest reputation.")


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
        default=0.8, gt=0, description="Fixes happen only while the silo's pressure is below this."
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
        default=60.0, description="How often pressure, erosion and reputation are updated."
    )
    pressure_window: Duration = Field(
        default=1440.0, description="Smoothing time of measured work pressure."
    )


class Scenario(Model):
    """A whole scenario: organisation, journey, customer experience and money."""

    name: str
    description: str = ""
    horizon: Duration | None = Field(
        default=None, description="Simulated time during which customers arrive."
    )
    customers: int | None = Field(
        default=None, gt=0, description="Or: stop after this many arrivals."
    )
    warmup: Duration = Field(
        default=0.0, description="Customers arriving before this are not measured."
    )
    drain: Duration = Field(
        default=30 * 1440.0, description="After arrivals stop, how long customers may still finish."
    )
    period: Duration = Field(default=1440.0, gt=0, description="Length of one time-series period.")
    seed: int = Field(default=1, ge=0, description="Default root seed.")
    start_date: datetime = Field(
        default=datetime(2026, 1, 5, tzinfo=UTC),
        description="Calendar time of minute 0 (ISO 8601), for event logs; UTC if no offset.",
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
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    arrivals: Arrivals
    silos: dict[str, Silo] = Field(min_length=1)
    steps: dict[str, Step] = Field(min_length=1)
    contacts: dict[str, Contact] = Field(default_factory=dict)
    outcomes: dict[str, Outcome] = Field(min_length=1)
    experience: Experience = Experience()
    money: Money = Money()
    loops: Loops = Loops()
    what_ifs: dict[str, WhatIf] = Field(
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
        return self

    def node_names(self) -> list[str]:
        """Return all node names: steps, then contacts, then outcomes."""
        return [*self.steps, *self.contacts, *self.outcomes]
