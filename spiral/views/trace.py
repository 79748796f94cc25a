"""One customer's journey told as a story, step by step, from a run's event log."""

from __future__ import annotations

import math

import pandas as pd

SPIRAL_FAILURES = 3  # `--spiral` picks a customer who suffered at least this many failures


SAYINGS = {
    "contact": "contacts {node} about the problem",
    "repeat_contact": "contacts {node} AGAIN about the same problem",
    "resolved": "{node} resolved it",
    "unresolved": "{node} could not resolve it",
    "ping_pong": "{node} was the wrong place: sent back to {detail} (ping-pong)",
    "abandon": "gave up waiting at {node}",
    "silent": "says nothing and carries on: suffers in silence",
    "empowered": "{node} put it right on the spot (cost {detail})",
    "outcome": "ends at {node}: {detail}",
}
"""How the story tells the plain events, by event name."""


class NoSuchCustomer(ValueError):
    """The run has no customer matching the request."""


def clock(minutes: float) -> str:
    """Return simulated time as 'day D hh:mm'."""
    day, rest = divmod(int(math.floor(minutes)), 1440)
    return f"day {day} {rest // 60:02d}:{rest % 60:02d}"


def pick_customer(
    result, customer: int | None = None, worst: bool = False, spiral: bool = False
) -> int:  # noqa: ANN001 - a RunResult
    """Return the customer to tell: the one asked for, the worst, a spiral, or the first failure."""
    table = result.customers
    done = table[table["outcome"] != "in_progress"]
    if not len(done):
        raise NoSuchCustomer("no customer finished in this run; expected a longer --horizon")
    if customer is not None:
        if customer not in set(done["customer"]):
            raise NoSuchCustomer(
                f"no finished customer {customer}; expected one of 0 to "
                f"{int(table['customer'].max())} who finished"
            )
        return customer
    if worst:
        ranked = done.sort_values(
            ["severity", "failures", "customer"], ascending=[False, False, True]
        )
        return int(ranked["customer"].iloc[0])
    if spiral:
        found = done[done["failures"] >= SPIRAL_FAILURES]
        if not len(found):
            raise NoSuchCustomer(
                f"no customer suffered {SPIRAL_FAILURES}+ failures in this run; expected a "
                "longer --horizon or another --seed"
            )
        return int(found["customer"].iloc[0])
    failed = done[done["failures"] > 0]
    return int((failed if len(failed) else done)["customer"].iloc[0])


def story(result, customer: int) -> list[str]:  # noqa: ANN001 - a RunResult
    """Return the customer's journey as lines of text, one per thing that happened."""
    mine = pd.concat(
        [chunk[chunk["customer"] == customer] for chunk in result.event_chunks()],
        ignore_index=True,
    )
    row = result.customers.set_index("customer").loc[customer]
    lines = [
        f"Customer {customer} of {result.scenario.name} (seed {result.seed}): "
        f"{int(row['failures'])} failure(s), final severity {row['severity']:.2f}, "
        f"{row['outcome']}"
    ]
    severity = 0.0
    failures = 0
    handoff = None
    for event in mine.itertuples(index=False):
        when = clock(event.time)
        node = "" if pd.isna(event.node) else str(event.node)
        silo = "" if pd.isna(event.silo) else str(event.silo)
        if event.event == "handoff":  # told with the visit it leads to
            handoff = str(event.detail)
            continue
        grew = ""
        if event.severity > severity + 1e-12 and severity > 0:
            grew = f"  (severity {severity:.2f} → {event.severity:.2f})"
        severity = event.severity
        kind, detail = event.event, str(event.detail)
        text = None
        if kind == "arrive":
            text = "arrives"
        elif kind == "start":
            wait = float(detail) if detail not in ("", "nan") else 0.0
            queued = f" after waiting {wait:.0f} min" if wait >= 0.5 else ""
            how = ""
            if handoff == "warm":
                how = ", handed over warm: the baton was passed"
            elif handoff == "cold":
                how = ", handed over COLD: explains it all again"
            text = f"at {node} ({silo}){how}{queued}"
            handoff = None
        elif kind == "failure":
            failures += 1
            first = "a complaint is born" if failures == 1 else f"failure number {failures}"
            text = f"✗ {node} FAILED: {first}"
        elif kind == "escalate":
            where = "social media" if detail == "social" else "the CEO"
            text = f"⚠ escalates to {where} (severity {event.severity:.2f})"
        elif kind in SAYINGS:
            text = SAYINGS[kind].format(node=node, detail=detail)
        if text is not None:
            lines.append(f"{when}  {text}{grew}")
    return lines
