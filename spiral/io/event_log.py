"""Event logs that process-mining tools read: CSV with the standard columns, and XES.

Each case is a customer, each activity a node of the journey, each visit a `start` and a
`complete` event (an outcome is one `complete`; a contact abandoned in the queue a
`withdraw`, the XES lifecycle for an activity cancelled before it started);
times are ISO 8601 from the scenario's `start_date`, the resource is the silo. Extra
attributes: `spiral:severity` (at the event), `spiral:failure` (the visit did not do its
job: a step failed or a contact did not resolve), `spiral:handoff` (how the customer
was handed to the activity: warm, cold or empty) and `spiral:misrouted` (a cold handoff
sent the customer to the wrong place first: this visit, after which the customer is sent
on to the same activity for real). XES (IEEE
1849-2016) is written with the standard library, streaming, so a large log never sits
in memory as XML.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO
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
MISROUTED = "spiral:misrouted"
COLUMNS = [CASE, ACTIVITY, TIME, RESOURCE, LIFECYCLE, SEVERITY, FAILURE, HANDOFF, MISROUTED]


class _Processor:
    """Turns the engine's events into process-mining rows, chunk by chunk.

    A misrouted visit is known only when it ends (``ping_pong``), and its ``start`` row is
    marked then; so rows from the earliest visit still open at the end of a chunk are
    held back until a later chunk closes it. Everything before goes out, in event order.
    """

    def __init__(self) -> None:
        self.rows: dict[str, list] = {column: [] for column in COLUMNS if column != CASE}
        self.rows["customer"] = []
        self.offset = 0  # global number of the first row held
        self.pending: dict[int, str] = {}  # customer -> how handed to their next activity
        self.current: dict[int, str] = {}  # customer -> how handed to their current visit
        self.started: dict[int, int] = {}  # customer -> row of their current visit's start
        self.last: dict[int, int] = {}  # customer -> row of their last complete

    def _add(
        self, time: float, customer: int, node: object, silo: object, life: str, severity: float
    ) -> int:
        rows = self.rows
        rows[TIME].append(time)
        rows["customer"].append(customer)
        rows[ACTIVITY].append(str(node))
        rows[RESOURCE].append("" if pd.isna(silo) else str(silo))
        rows[LIFECYCLE].append(life)
        rows[SEVERITY].append(float(severity))
        rows[FAILURE].append(False)
        rows[HANDOFF].append(self.current.get(customer, ""))
        rows[MISROUTED].append(False)
        return self.offset + len(rows[TIME]) - 1

    def _mark(self, column: str, row: int) -> None:
        if row >= self.offset:  # rows already released cannot change (see the class note)
            self.rows[column][row - self.offset] = True

    def feed(self, events: pd.DataFrame) -> None:
        """Take the next chunk of the engine's events (in time order)."""
        pending, current, started, last = self.pending, self.current, self.started, self.last
        add = self._add
        for time, customer, node, silo, kind, severity, detail in events.itertuples(index=False):
            if kind == "handoff":
                pending[customer] = str(detail)
            elif kind in ("failure", "unresolved") and customer in last:
                self._mark(FAILURE, last[customer])
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
                    self._mark(MISROUTED, row)
                    if customer in started:
                        self._mark(MISROUTED, started[customer])
                current.pop(customer, None)
                started.pop(customer, None)
            elif kind == "outcome":
                current.pop(customer, None)
                pending.pop(customer, None)
                last.pop(customer, None)
                add(time, customer, node, silo, "complete", severity)

    def release(self, final: bool = False) -> pd.DataFrame:
        """Return the rows that can no longer change (all of them when ``final``)."""
        held = len(self.rows[TIME])
        cut = held if final or not self.started else min(self.started.values()) - self.offset
        cut = max(0, min(cut, held))
        out = {column: values[:cut] for column, values in self.rows.items()}
        for values in self.rows.values():
            del values[:cut]
        self.offset += cut
        return pd.DataFrame(out)


def process_chunks(result) -> Iterator[pd.DataFrame]:  # noqa: ANN001 - a RunResult
    """Yield the run's event log in process-mining form, a chunk of rows at a time.

    Rows carry an extra integer column ``customer`` (the case as a number) for sorting.
    """
    start = pd.Timestamp(result.scenario.start_date)
    processor = _Processor()
    chunks = result.event_chunks()
    for events in chunks:
        processor.feed(events)
        frame = processor.release()
        if len(frame):
            yield _dated(frame, start)
    frame = processor.release(final=True)
    if len(frame):
        yield _dated(frame, start)


def _dated(frame: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Return rows with the case as text and times as calendar times from ``start``."""
    frame[CASE] = frame["customer"].astype(str)
    frame[TIME] = start + pd.to_timedelta(frame[TIME].to_numpy(float), unit="min")
    return frame[[*COLUMNS, "customer"]]


def process_log(result) -> pd.DataFrame:  # noqa: ANN001 - a RunResult with an event log
    """Return the run's event log in process-mining form, one row per event."""
    if result.events is None:
        raise ValueError("the run kept no event log; run it with event_log=True")
    frames = list(process_chunks(result))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def write_log(log: pd.DataFrame, path: Path) -> Path:
    """Write the log as CSV or XES, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _write_csv([log], path)
    elif suffix == ".xes":
        write_xes(log, path)
    else:
        raise ValueError(f"expected a file ending in .csv or .xes, got {path.name!r}")
    return path


def write_run_log(result, path: Path) -> Path:  # noqa: ANN001 - a RunResult with an event log
    """Write a run's event log as CSV or XES, streaming: never the whole log in memory."""
    if result.raw.events is None:
        raise ValueError("the run kept no event log; run it with event_log=True")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _write_csv(process_chunks(result), path)
    elif suffix == ".xes":
        _write_xes_by_case(process_chunks(result), path)
    else:
        raise ValueError(f"expected a file ending in .csv or .xes, got {path.name!r}")
    return path


def _write_csv(frames: Iterable[pd.DataFrame], path: Path) -> None:
    """Write frames one after another as one CSV file with ISO 8601 times."""
    with path.open("w", encoding="utf-8", newline="") as out:
        header = True
        for frame in frames:
            frame = frame[COLUMNS].copy()
            frame[TIME] = frame[TIME].map(lambda t: t.isoformat(timespec="milliseconds"))
            frame.to_csv(out, index=False, header=header)
            header = False
        if header:
            pd.DataFrame(columns=COLUMNS).to_csv(out, index=False)


CASES_PER_BUCKET = 100_000


def _write_xes_by_case(frames: Iterable[pd.DataFrame], path: Path) -> None:
    """Write XES with each case's events together, holding one bucket of cases at a time.

    Rows arrive in time order, cases interleaved; they are spooled to one parquet file
    per bucket of case numbers, and each bucket is sorted by case when it is written.
    """
    import shutil
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    spool = Path(tempfile.mkdtemp(prefix="spiral-xes-"))
    writers: dict[int, pq.ParquetWriter] = {}
    try:
        for frame in frames:
            bucket = frame["customer"].to_numpy() // CASES_PER_BUCKET
            for b in np.unique(bucket):
                table = pa.Table.from_pandas(frame[bucket == b], preserve_index=False)
                if b not in writers:
                    writers[b] = pq.ParquetWriter(spool / f"{b:09d}.parquet", table.schema)
                writers[b].write_table(table.cast(writers[b].schema))
        for writer in writers.values():
            writer.close()
        with path.open("w", encoding="utf-8") as out:
            out.write(XES_HEAD)
            for b in sorted(writers):
                part = pq.read_table(spool / f"{b:09d}.parquet").to_pandas()
                part = part.sort_values("customer", kind="stable")
                _write_traces(part, out)
            out.write("</log>\n")
    finally:
        for writer in writers.values():
            writer.close()
        shutil.rmtree(spool, ignore_errors=True)


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
        _write_traces(log, out)
        out.write("</log>\n")


def _write_traces(log: pd.DataFrame, out: TextIO) -> None:
    """Write one XES trace per case, in order of each case's first row."""
    for case, trace in log.groupby(CASE, sort=False):
        out.write(f' <trace>\n  <string key="concept:name" value={quoteattr(str(case))}/>\n')
        for row in trace[COLUMNS].itertuples(index=False):
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


def _attribute(kind: str, key: str, value: object) -> str:
    """Return one XES attribute element, its value escaped."""
    return f'<{kind} key="{key}" value={quoteattr(str(value))}/>'


def _iso(when: pd.Timestamp) -> str:
    """Return an XES date: ISO 8601 with milliseconds and the UTC offset."""
    text = when.isoformat(timespec="milliseconds")
    return text if when.tzinfo is not None else text + "+00:00"
