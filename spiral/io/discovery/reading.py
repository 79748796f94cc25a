"""Reading an organisation's event log: CSV, parquet or XES, with its own column names.

Real logs name their columns as they like (`CaseID`, `ActivityID`, `CompleteTimestamp`);
``LogColumns`` maps them onto the standard (pm4py / XES) names the fit uses. A log with
a start-time column gets one start and one complete event per row. A bad file, column or
value is one line naming the file, the column, the row and what was expected.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spiral.io.event_log import ACTIVITY, CASE, LIFECYCLE, RESOURCE, TIME
from spiral.model.errors import problem
from spiral.model.fields import check_name

REQUIRED = (CASE, ACTIVITY, TIME)
SUFFIXES = (".csv", ".parquet", ".xes")


@dataclass(frozen=True)
class LogColumns:
    """Which of a log's columns hold the case, activity, times and resource."""

    case: str = CASE
    activity: str = ACTIVITY
    timestamp: str = TIME
    start_timestamp: str | None = None
    resource: str | None = None

    def renames(self) -> dict[str, str]:
        """Return the log's column names mapped to the standard ones (only those that differ)."""
        pairs = {self.case: CASE, self.activity: ACTIVITY, self.timestamp: TIME}
        if self.resource is not None:
            pairs[self.resource] = RESOURCE
        return {k: v for k, v in pairs.items() if k != v}


def read_log(path: Path, columns: LogColumns | None = None) -> pd.DataFrame:
    """Read an event log from CSV, parquet or XES into the standard columns (one line if not)."""
    columns = columns or LogColumns()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise problem(
            str(path), "file", f"expected a .csv, .parquet or .xes event log, got {path.name!r}"
        )
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = _read_xes(path)
    except (OSError, ET.ParseError, ValueError, UnicodeDecodeError) as error:
        # ValueError covers pandas' empty and parse errors, a bad parquet and a bad XES number
        raise problem(str(path), "file", f"cannot be read as an event log ({error})") from None
    frame = _mapped(path, frame, columns)
    blank = frame[ACTIVITY].isna() | (frame[ACTIVITY].astype(str).str.strip() == "")
    if blank.any():
        raise problem(
            str(path), ACTIVITY, f"empty in {int(blank.sum())} events; expected every event named"
        )
    frame = frame.reset_index(drop=True)
    frame[ACTIVITY] = frame[ACTIVITY].astype(str)
    if RESOURCE in frame:
        frame[RESOURCE] = frame[RESOURCE].astype("string").astype(object)
    for column in (ACTIVITY, RESOURCE):
        _check_names(path, frame, column)
    frame[CASE] = frame[CASE].astype(str)
    frame[TIME] = _times(path, frame[TIME], columns.timestamp)
    if not len(frame):
        raise problem(str(path), "file", "no events; expected at least one case")
    if columns.start_timestamp is not None:
        frame = _with_starts(path, frame, columns.start_timestamp)
    return frame


def _mapped(path: Path, frame: pd.DataFrame, columns: LogColumns) -> pd.DataFrame:
    """Rename the log's columns to the standard ones; a column not there is one line."""
    wanted = [columns.case, columns.activity, columns.timestamp]
    wanted += [c for c in (columns.start_timestamp, columns.resource) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:12])) or "none"
        flags = "--case, --activity, --timestamp, --start-timestamp, --resource"
        raise problem(
            str(path),
            "columns",
            f"missing {', '.join(missing)}; the log has {have} (name them with {flags})",
        )
    renames = columns.renames()
    clash = [new for old, new in renames.items() if new in frame.columns and new not in renames]
    frame = frame.drop(columns=clash).rename(columns=renames)
    return frame


def _with_starts(path: Path, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Return one start and one complete event per row of a log with a start-time column."""
    starts = _times(path, frame[column], column)
    late = (starts > frame[TIME]).to_numpy()
    if late.any():
        row = int(np.argmax(late)) + 1
        raise problem(
            str(path),
            column,
            f"row {row}: the start is after the completion; expected start <= end",
        )
    done = frame.drop(columns=[column]).assign(**{LIFECYCLE: "complete"})
    began = done.assign(**{TIME: starts, LIFECYCLE: "start"})
    both = pd.concat([began, done], ignore_index=True)
    order = np.argsort(np.r_[np.arange(len(done)), np.arange(len(done))], kind="stable")
    return both.iloc[order].reset_index(drop=True)


def _check_names(path: Path, frame: pd.DataFrame, column: str) -> None:
    """Refuse a name (activity, resource) a scenario could not take, at its first row."""
    if column not in frame:
        return
    bad = {}
    for value in frame[column].dropna().unique():
        try:
            check_name(str(value))
        except ValueError as error:
            bad[value] = str(error)
    if bad:
        row = int(np.argmax(frame[column].isin(list(bad)).to_numpy())) + 1
        value = frame[column].iloc[row - 1]
        raise problem(str(path), column, f"row {row}: {bad[value]}")


def _times(path: Path, times: pd.Series, column: str) -> pd.Series:
    """Return a time column as UTC timestamps: ISO 8601, else any common format (one line)."""
    if pd.api.types.is_datetime64_any_dtype(times):
        parsed = pd.to_datetime(times, utc=True)
    else:
        text = times.astype(str)
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        if parsed.isna().any():
            mixed = pd.to_datetime(text, utc=True, format="mixed", errors="coerce")
            if mixed.notna().sum() > parsed.notna().sum():
                parsed = mixed
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad)) + 1
        value = times.iloc[row - 1]
        got = "nothing" if pd.isna(value) else repr(str(value)[:40])
        raise problem(
            str(path),
            column,
            f"row {row}: expected a date and time such as 2026-01-05 09:30:00, got {got}",
        )
    return parsed


def _read_csv(path: Path) -> pd.DataFrame:
    # only an empty cell is missing: an activity may be named NA, null or None
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def _read_xes(path: Path) -> pd.DataFrame:
    """Read XES events with their attributes, the trace's name as the case."""
    rows: list[dict] = []
    case = None
    traces = 0
    in_event = False
    for moment, element in ET.iterparse(path, events=("start", "end")):
        tag = element.tag.rsplit("}", 1)[-1]
        if moment == "start":
            in_event = in_event or tag == "event"
            if tag == "trace":  # a trace without a name still is a case of its own
                traces += 1
                case = f"trace {traces}"
            continue
        if tag == "event":
            row = {CASE: case}
            for attribute in element:
                kind = attribute.tag.rsplit("}", 1)[-1]
                value = attribute.get("value")
                if kind == "boolean":
                    value = value == "true"
                elif kind in ("float", "int"):
                    value = float(value)
                row[attribute.get("key")] = value
            rows.append(row)
            in_event = False
            element.clear()
        elif tag == "string" and not in_event and element.get("key") == "concept:name":
            case = element.get("value")  # the trace's name, written before its events
        elif tag == "trace":
            element.clear()
    return pd.DataFrame(rows)


def read_groups(path: Path) -> dict[str, str]:
    """Read a resource-to-group table (CSV: resource, group): which team each person is in."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise problem(str(path), "file", f"cannot be read as a CSV table ({error})") from None
    if table.shape[1] != 2 or not len(table):
        raise problem(
            str(path), "columns", "expected two columns, a resource and its group, and a row each"
        )
    table = table.dropna()
    _check_names(path, table.rename(columns={table.columns[1]: "group"}), "group")
    return dict(zip(table.iloc[:, 0].astype(str), table.iloc[:, 1].astype(str), strict=True))
