"""Event logs that process-mining tools read: CSV with the standard columns, and XES.

Each case is a customer, each activity a node of the journey, each visit a `start` and a
`complete` event (an outcome is one `complete`, an abandoned contact an `ate_abort`);
times are ISO 8601 from the scenario's `start_date`, the resource is the silo. Extra
attributes: `spiral:severity` (at the event), `spiral:failure` (the visit did not do its
job: a step failed or a contact did not resolve) and `spiral:handoff` (how the customer
was handed to the activity: warm, cold or empty). XES (IEEE 1849-2016) is written with
the standard library, streaming, so a large log never sits in memory as XML.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

CASE, ACTIVITY, TIME, RESOURCE, LIFECYCLE = (
    "case:concept:name",
    "concept:name",
    "time:timestamp",
    "org:resource",
    "lifecycle:transition",
)
SEVERITY, FAILURE, HANDOFF = "spiral:severity", "spiral:failure", "spiral:handoff"
COLUMNS = [CASE, ACTIVITY, TIME, RESOURCE, LIFECYCLE, SEVERITY, FAILURE, HANDOFF]
FORMATS = (".csv", ".xes")


def process_log(result) -> pd.DataFrame:  # noqa: ANN001 - a RunResult with an event log
    """Return the run's event log in process-mining form, one row per event."""
    events = result.events
    if events is None:
        raise ValueError("the run kept no event log; run it with event_log=True")
    cases, activities, minutes, resources, lifecycles, severities = [], [], [], [], [], []
    failures: list[bool] = []
    handoffs: list[str] = []
    pending: dict[int, str] = {}  # customer -> how they were handed to their next activity
    warmth: dict[int, str] = {}  # customer -> how they were handed to their current one
    last: dict[int, int] = {}  # customer -> row of their last complete
    for time, customer, node, silo, kind, severity, detail in events.itertuples(index=False):
        if kind == "handoff":
            pending[customer] = str(detail)
            continue
        if kind in ("failure", "unresolved") and customer in last:
            failures[last[customer]] = True
            continue
        if kind == "start":
            warmth[customer] = pending.pop(customer, "")
            life = "start"
        elif kind in ("complete", "outcome", "ping_pong"):  # a misrouted visit ends too
            life = "complete"
        elif kind == "abandon":
            life = "ate_abort"
        else:
            continue
        if kind == "complete":
            last[customer] = len(cases)
        cases.append(str(customer))
        activities.append(str(node))
        minutes.append(time)
        resources.append("" if pd.isna(silo) else str(silo))
        lifecycles.append(life)
        severities.append(float(severity))
        failures.append(False)
        handoffs.append(
            pending.pop(customer, "") if kind == "outcome" else warmth.get(customer, "")
        )
        if kind in ("complete", "abandon"):
            warmth.pop(customer, None)
    start = pd.Timestamp(result.scenario.start_date)
    return pd.DataFrame(
        {
            CASE: cases,
            ACTIVITY: activities,
            TIME: start + pd.to_timedelta(np.asarray(minutes, float), unit="min"),
            RESOURCE: resources,
            LIFECYCLE: lifecycles,
            SEVERITY: severities,
            FAILURE: failures,
            HANDOFF: handoffs,
        }
    )


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
                activity, when, resource, life, severity, failure, handoff = row[1:]
                out.write(
                    "  <event>"
                    f'<string key="concept:name" value={quoteattr(activity)}/>'
                    f'<date key="time:timestamp" value="{_iso(when)}"/>'
                    f'<string key="org:resource" value={quoteattr(resource)}/>'
                    f'<string key="lifecycle:transition" value="{life}"/>'
                    f'<float key="spiral:severity" value="{severity:.6g}"/>'
                    f'<boolean key="spiral:failure" value="{str(bool(failure)).lower()}"/>'
                    f'<string key="spiral:handoff" value={quoteattr(handoff)}/>'
                    "</event>\n"
                )
            out.write(" </trace>\n")
        out.write("</log>\n")


def _iso(when: pd.Timestamp) -> str:
    """Return an XES date: ISO 8601 with milliseconds and the UTC offset."""
    text = when.isoformat(timespec="milliseconds")
    return text if when.tzinfo is not None else text + "+00:00"
