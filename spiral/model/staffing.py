"""Who serves: silos, their staff, rosters and dated staff changes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from spiral.model.arrivals import MAX_SLOTS
from spiral.model.distributions import Duration
from spiral.model.fields import Amount, Model, Probability

MAX_STAFF = 100_000


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
