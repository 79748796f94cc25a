"""Event logs that process-mining tools read: CSV with the standard columns, and XES.

Each case is a customer, each activity a node of the journey, each visit a `start` and a
`complete` event (an outcome is one `complete`; a contact abandoned in the queue a
`withdraw`, the XES lifecycle for an activity cancelled before it started);
times are ISO 8601 from the scenario's `start_date`, the resource is the silo. Extra
attributes: `spiral:severity` (at the event), `spiral:failure` (the visit did not do its
job: a step failed or a contact did not resolve), `spiral:handoff` (how the customer
was handed to the activity: warm, cold or empty) and `spiral:misrouted` (a cold handoff
sent the customer to this activity by mistake: served here, then sent back). XES (IEEE
1849-2016) is written with the standard library, streaming, so a large log never sits
in memory as XML.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd

CASE, ACTIVITY, TIME, RESOURCE, LIFECYCLE = (
    "case:concept:name",
    "concept:name",
    "time:timestamp",
    "org:resource",
    "lifecycle:transition",
)
SEVERITY, FAILURE, HANDOFF = "spiral:severity", "spiral:failure", "spiral:handoff"
MISROUTED = "spiral:misrouted"
COLUMNS = [CASE, ACTIVITY, TIME, RESOURCE, LIFECYCLE, SEVERITY, FAILURE, HANDOFF, MISROUTED]


def process_log(result) -> pd.DataFrame:  # noqa: ANN001 - a RunResult with an event log
    """Return the run's event log in process-mining form, one row per event."""
    events = result.events
    if events is None:
        raise ValueError("the run kept no event log; run it with event_log=True")
    rows: dict[str, list] = {column: [] for column in COLUMNS}
    pending: dict[int, str] = {}  # customer -> how they were handed to their next activity
    current: dict[int, str] = {}  # customer -> how they were handed to their current visit
    started: dict[int, int] = {}  # customer -> row of their current visit's start
    last: dict[int, int] = {}  # customer -> row of their last complete

    def add(time: float, customer: int, node: str, silo: object, life: str, severity: float) -> int:
        rows[TIME].append(time)
        rows[CASE].append(str(customer))
        rows[ACTIVITY].append(str(node))
        rows[RESOURCE].append("" if pd.isna(silo) else str(silo))
        rows[LIFECYCLE].append(life)
        rows[SEVERITY].append(float(severity))
        rows[FAILURE].append(False)
        rows[HANDOFF].append(current.get(customer, ""))
        rows[MISROUTED].append(False)
        return len(rows[TIME]) - 1

    for time, customer, node, silo, kind, severity, detail in events.itertuples(index=False):
        if kind == "handoff":
            pending[customer] = str(detail)
        elif kind in ("failure", "unresolved") and customer in last:
            rows[FAILURE][last[customer]] = True
        elif kind in ("contact", "start"):
            if customer not in current:  # a new visit: a contact reached, or a step served
                current[customer] = pending.pop(customer, "")
            if kind == "start":
                started[customer] = add(time, customer, node, silo, "start", severity)
        elif kind in ("complete", "ping_pong", "abandon"):
            life = "withdraw" if kind == "abandon" else "complete"
            row = add(time, customer, node, silo, life, severity)
            if kind == "complete":
                last[customer] = row
            if kind == "ping_pong":  # served at the wrong place: the whole visit was misrouted
                rows[MISROUTED][row] = True
                if customer in started:
                    rows[MISROUTED][started[customer]] = True
            current.pop(customer, None)
            started.pop(customer, None)
        elif kind == "outcome":
            current.pop(customer, None)
            pending.pop(customer, None)
            add(time, customer, node, silo, "complete", severity)
    frame = pd.DataFrame(rows)
    start = pd.Timestamp(result.scenario.start_date)
    frame[TIME] = start + pd.to_timedelta(frame[TIME].to_numpy(float), unit="min")
    return frame[COLUMNS]


def write_log(log: pd.DataFrame, path: Path) -> Path:
    """Write the log as CSV or XES, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        out = log.copy()
        out[TIME] = out[TIME].map(lambda t: t.isoformat(timespec="milliseconds"))
        out.to_csv(path, index=False)
    elif suffix == ".xes":
        write_xes(log, path)
    else:
        raise ValueError(f"expected a file ending in .csv or .xes, got {path.name!r}")
    return path


XES_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
 <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
 <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
 <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
 <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
 <global scope="trace"><string key="concept:name" value="__INVALID__"/></global>
 <global scope="event">
  <string key="concept:name" value="__INVALID__"/>
  <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  <string key="lifecycle:transition" value="complete"/>
 </global>
 <classifier name="Activity" keys="concept:name"/>
 <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
 <string key="concept:name" value="spiral simulation"/>
"""


def write_xes(log: pd.DataFrame, path: Path) -> None:
    """Write the log as XES (IEEE 1849-2016), one trace per case, streaming."""
    with path.open("w", encoding="utf-8") as out:
        out.write(XES_HEAD)
        for case, trace in log.groupby(CASE, sort=False):
            out.write(f' <trace>\n  <string key="concept:name" value={quoteattr(str(case))}/>\n')
            for row in trace.itertuples(index=False):
                activity, when, resource, life, severity, failure, handoff, misrouted = row[1:]
                parts = [
                    _attribute("string", ACTIVITY, activity),
                    _attribute("date", TIME, _iso(when)),
                    _attribute("string", RESOURCE, resource) if resource else "",
                    _attribute("string", LIFECYCLE, life),
                    _attribute("float", SEVERITY, f"{severity:.6g}"),
                    _attribute("boolean", FAILURE, str(bool(failure)).lower()),
                    _attribute("string", HANDOFF, handoff) if handoff else "",
                    _attribute("boolean", MISROUTED, str(bool(misrouted)).lower()),
                ]
                out.write("  <event>" + "".join(parts) + "</event>\n")
            out.write(" </trace>\n")
        out.write("</log>\n")


def _attribute(kind: str, key: str, value: object) -> str:
    """Return one XES attribute element, its value escaped."""
    return f'<{kind} key="{key}" value={quoteattr(str(value))}/>'


def _iso(when: pd.Timestamp) -> str:
    """Return an XES date: ISO 8601 with milliseconds and the UTC offset."""
    text = when.isoformat(timespec="milliseconds")
    return text if when.tzinfo is not None else text + "+00:00"
