"""The validated scenario: pydantic v2 models for everything a scenario file declares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal, get_args

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


class Roster(Model):
    """Staff on duty by slot of a repeating day or week: the shifts."""

    cycle: Literal["day", "week"] = "day"
    staff: list[Annotated[int, Field(ge=0, le=MAX_STAFF)]] = Field(
        min_length=1,
        max_length=MAX_SLOTS,
        description="Staff on duty in each equal slot of the cycle (0: closed), e.g. 24 hours.",
    )

    def at(self, minute: float) -> int:
        """Return the staff on duty at a time."""
        cycle = 1440.0 if self.cycle == "day" else 10080.0
        return self.staff[int((minute % cycle) / (cycle / len(self.staff)))]

    def slot_length(self) -> float:
        """Return the length of one slot in minutes."""
        return (1440.0 if self.cycle == "day" else 10080.0) / len(self.staff)


class StaffChange(Model):
    """From a date on, a silo's staff change: a new team, a hiring freeze, a cut."""

    start: Duration = Field(description="From when.")
    staff: Annotated[int, Field(ge=0, le=MAX_STAFF)] | None = Field(
        default=None, description="The staff from then on (replacing the roster), or"
    )
    add: Annotated[int, Field(ge=-MAX_STAFF, le=MAX_STAFF)] | None = Field(
        default=None, description="staff added to (or taken from) every slot of the roster."
    )

    @model_validator(mode="after")
    def _one(self) -> StaffChange:
        if (self.staff is None) == (self.add is None):
            raise ValueError("expected staff (a new count) or add (a change), one of them")
        return self


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
    roster: Roster | None = Field(
        default=None,
        description="Staff on duty by slot of the day or week (shifts); `staff` is then the "
        "head count the silo is sized by.",
    )
    changes: list[StaffChange] = Field(
        default_factory=list,
        max_length=1000,
        description="Dated changes of staff, in time order.",
    )

    @model_validator(mode="after")
    def _rostered_staff(self) -> Silo:
        if (self.roster is not None or self.changes) and self.staff == "unlimited":
            raise ValueError("expected a number of staff for a silo with a roster or changes")
        starts = [change.start for change in self.changes]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("expected changes in time order, one per date")
        if self.staff == "unlimited":
            return self
        slots = list(self.roster.staff) if self.roster is not None else [self.staff]
        ever = max(slots) > 0
        for k, change in enumerate(self.changes):
            if change.staff is not None:
                slots = [change.staff]
            else:
                slots = [n + change.add for n in slots]
                if min(slots) < 0:
                    raise ValueError(
                        f"changes[{k}].add: {change.add:+d} takes the staff on duty to "
                        f"{min(slots)} in some slot; expected staff of 0 or more"
                    )
            ever = ever or max(slots) > 0
        if not ever:
            raise ValueError(
                "roster.staff: every slot is 0 and no change brings staff; expected someone "
                "on duty some of the time (else no one is ever served)"
            )
        return self

    def staff_at(self, minute: float) -> int | None:
        """Return the staff on duty at a time (None: unlimited)."""
        if self.staff == "unlimited":
            return None
        on_duty = self.roster.at(minute) if self.roster is not None else self.staff
        for change in self.changes:
            if change.start > minute:
                break
            on_duty = change.staff if change.staff is not None else on_duty + change.add
        return max(on_duty, 0)

    def staff_changes_at(self) -> tuple[float | None, list[float]]:
        """Return the roster's slot length (None without one) and the dated change times."""
        slot = self.roster.slot_length() if self.roster is not None else None
        return slot, [change.start for change in self.changes]

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

    def node_names(self) -> list[str]:
        """Return all node names: steps, then contacts, then outcomes."""
        return [*self.steps, *self.contacts, *self.outcomes]
