"""One customer's journey told as a story, step by step, from a run's event log."""

from __future__ import annotations

import math

import pandas as pd

SPIRAL_FAILURES = 3  # `--spiral` picks a customer who suffered at least this many failures
SHORT = 25  # lines in a story that fits on a screen (`--full` for every event)


SAYINGS = {
    "resolved": "{node} put it right",
    "unresolved": "{node} could not put it right",
    "ping_pong": "that was the wrong place (ping-pong): sent on to {detail}",
    "abandon": "gave up waiting at {node}",
    "empowered": "{node} put it right on the spot (cost {detail})",
    "silent": "says nothing about it and carries on: suffers in silence",
}
"""How the story tells the plain events, by event name."""

OUTCOMES = {
    "churned": "leaves (churned)",
    "retained": "stays (retained)",
    "advocate": "stays and recommends us (advocate)",
}
"""How the story tells the end of the journey."""


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
        lost = (done["outcome"] == "churned") | (done["social"] > 0) | (done["ceo"] > 0)
        found = done[(done["failures"] >= SPIRAL_FAILURES) & lost]
        if not len(found):
            raise NoSuchCustomer(
                f"no customer churned or escalated after {SPIRAL_FAILURES}+ failures in this "
                "run; expected a longer --horizon or another --seed"
            )
        return int(found["customer"].iloc[0])
    failed = done[done["failures"] > 0]
    return int((failed if len(failed) else done)["customer"].iloc[0])


def story(result, customer: int, full: bool = False) -> list[str]:  # noqa: ANN001 - a RunResult
    """Return the customer's journey as lines of text: at most 25 unless ``full``."""
    mine = pd.concat(
        [chunk[chunk["customer"] == customer] for chunk in result.event_chunks()],
        ignore_index=True,
    )
    row = result.customers.set_index("customer").loc[customer]
    told = _told(mine)
    failures = sum(key for key, _, _ in told if key == 2) // 2
    cap = result.scenario.experience.severity_cap
    final = float(row["severity"])
    severity = (
        f"severity at its cap ({cap:g}: as angry as a customer gets)"
        if final >= cap
        else f"final severity {final:.2f}"
    )
    segments = list(result.scenario.segments)
    who = f", segment {segments[int(row['segment'])]}" if segments else ""
    if result.arm.what_ifs:
        who += f", what-if {result.arm.label}"
    header = (
        f"Customer {customer} of {result.scenario.name} (seed {result.seed}{who}): "
        f"{failures} failure(s), {severity}, {row['outcome']}"
    )
    lines = [text for _, _, text in told]
    if full or len(lines) < SHORT:
        return [header, *lines]
    return [header, *_shortened([(key, routine, text) for key, routine, text in told])]


def _shortened(told: list[tuple[int, bool, str]]) -> list[str]:
    """Return the story in SHORT - 1 lines: routine moves first, then the middle, left out."""
    room = SHORT - 1
    kept = [t for t in told if not t[1]]
    if len(kept) <= room:
        return [text for _, _, text in kept]
    head, tail = 8, room - 9
    hidden = kept[head : len(kept) - tail]
    failed = sum(1 for key, _, _ in hidden if key == 2)
    note = f"… {len(hidden)} more events"
    if failed:
        note += f", {failed} of them failures"
    note += f"; {len(told) - len(kept)} routine moves left out (--full tells every one)"
    return [text for _, _, text in kept[:head]] + [note] + [text for _, _, text in kept[-tail:]]


def _told(mine: pd.DataFrame) -> list[tuple[int, bool, str]]:
    """Return (2 for a failure else 0, routine?, line) for each event worth telling."""
    out: list[tuple[int, bool, str]] = []
    severity = 0.0
    failures = 0
    handoff = None
    again = False
    for event in mine.itertuples(index=False):
        when = clock(event.time)
        node = "" if pd.isna(event.node) else str(event.node)
        silo = "" if pd.isna(event.silo) else str(event.silo)
        kind, detail = event.event, str(event.detail)
        if kind == "handoff":  # told with the visit it leads to
            handoff = detail
            continue
        if kind == "repeat_contact":  # told with the contact it belongs to
            again = True
            continue
        grew = ""
        if event.severity > severity + 1e-12 and severity > 0 and kind != "escalate":
            grew = f"  (severity {severity:.2f} → {event.severity:.2f})"
        severity = event.severity
        routine, text, key = False, None, 0
        if kind == "arrive":
            text = "arrives"
        elif kind == "start":
            wait = float(detail) if detail not in ("", "nan") else 0.0
            queued = f" after waiting {_duration(wait)}" if wait >= 0.5 else ""
            text = f"at {node} ({silo}){_handed(handoff)}{queued}"
            routine = not grew and wait < 30 and handoff != "cold"
            handoff = None
        elif kind == "failure":
            failures += 1
            key = 2
            first = "a complaint is born" if failures == 1 else f"failure number {failures}"
            text = f"✗ {node} FAILED: {first}"
        elif kind == "contact":
            what = f"contacts {node} AGAIN about the same problem" if again else f"contacts {node}"
            text = what + _handed(handoff)
            again, handoff = False, None
        elif kind == "escalate":
            where = "social media" if detail == "social" else "the CEO"
            text = f"⚠ escalates to {where} (severity {event.severity:.2f})"
        elif kind == "outcome":
            text = f"ends at {node}: {OUTCOMES.get(detail, detail)}"
        elif kind in SAYINGS:
            text = SAYINGS[kind].format(node=node, detail=detail)
        if text is not None:
            out.append((key, routine, f"{when}  {text}{grew}"))
    return out


def _handed(handoff: str | None) -> str:
    """Return how the customer was handed over, in words ('' when not handed over)."""
    if handoff == "warm":
        return ", handed over warm (the context went along)"
    if handoff == "cold":
        return ", handed over COLD (the context was lost)"
    return ""


def _duration(minutes: float) -> str:
    """Return a wait in words: minutes, hours or days."""
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 2 * 1440:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"
