"""A starting scenario from an organisation's own event log (CSV or XES).

Each activity becomes a step (its silo: the resource that handled it most often) and each
activity that never has a successor an outcome. From the completed visits, in order per
case: where cases start, the share of visits that failed (`spiral:failure`, when the
log has it), where customers went next after a good and after a failed visit, and the
mean service time (start to complete, when the log has both). Arrivals: the cases over
the span of their first events. Staff are unlimited and compounding is off (a
first-order fit); the file is a start, to edit.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spiral.io.event_log import ACTIVITY, CASE, FAILURE, LIFECYCLE, MISROUTED, RESOURCE, TIME
from spiral.model.errors import problem, safe_text
from spiral.model.fields import check_name
from spiral.model.loading import parse_scenario

REQUIRED = (CASE, ACTIVITY, TIME)


def read_log(path: Path) -> pd.DataFrame:
    """Read an event log from CSV or XES; a missing column or bad file is one line."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xes"):
        raise problem(str(path), "file", f"expected a .csv or .xes event log, got {path.name!r}")
    try:
        frame = _read_csv(path) if suffix == ".csv" else _read_xes(path)
    except (OSError, ET.ParseError, ValueError, UnicodeDecodeError) as error:
        # ValueError covers pandas' empty and parse errors and a bad XES number
        raise problem(str(path), "file", f"cannot be read as an event log ({error})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise problem(
            str(path),
            "columns",
            f"missing {', '.join(missing)}; expected the standard columns {', '.join(REQUIRED)}",
        )
    blank = frame[ACTIVITY].isna() | (frame[ACTIVITY].astype(str).str.strip() == "")
    if blank.any():
        raise problem(
            str(path), ACTIVITY, f"empty in {int(blank.sum())} events; expected every event named"
        )
    frame = frame.reset_index(drop=True)
    for column in (ACTIVITY, RESOURCE):
        _check_names(path, frame, column)
    frame[CASE] = frame[CASE].astype(str)
    frame[TIME] = _times(path, frame[TIME])
    if not len(frame):
        raise problem(str(path), "file", "no events; expected at least one case")
    return frame


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


def _times(path: Path, times: pd.Series) -> pd.Series:
    """Return the time column as UTC timestamps; a time that is not ISO 8601 is one line."""
    parsed = pd.to_datetime(times.astype(str), utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad)) + 1
        value = times.iloc[row - 1]
        got = "nothing" if pd.isna(value) else repr(str(value)[:40])
        raise problem(str(path), TIME, f"row {row}: expected an ISO 8601 time, got {got}")
    return parsed


def _read_csv(path: Path) -> pd.DataFrame:
    # only an empty cell is missing: an activity may be named NA, null or None
    return pd.read_csv(
        path,
        dtype={CASE: str, ACTIVITY: str, RESOURCE: str},
        keep_default_na=False,
        na_values=[""],
    )


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


def _true(values: pd.Series) -> pd.Series:
    """Return a flag column as booleans, however the file wrote them (True, true, 1)."""
    return values.astype(str).str.lower().isin(["true", "1", "1.0"])


def _visits(log: pd.DataFrame) -> pd.DataFrame:
    """Return the completed visits in order per case, with service minutes where known."""
    log = log.sort_values([CASE, TIME], kind="stable").reset_index(drop=True)
    life = log[LIFECYCLE].astype(str).str.lower() if LIFECYCLE in log else None
    if life is None:
        visits = log.assign(minutes=math.nan)
    else:
        ends = life.isin(["complete", "withdraw"])
        visits = log[ends].copy()
        # pair each complete with the start of the same activity just before it in its case
        began: dict[tuple[str, str], object] = {}
        minutes = {}
        rows = zip(log.index, log[CASE], log[ACTIVITY], log[TIME], life, strict=True)
        for index, case, activity, time, kind in rows:
            if kind == "start":
                began[(case, activity)] = time
            elif kind in ("complete", "withdraw"):
                first = began.pop((case, activity), None)
                if kind == "complete" and first is not None and first <= time:
                    minutes[index] = (time - first).total_seconds() / 60
        visits["minutes"] = [minutes.get(i, math.nan) for i in visits.index]
    failed = visits[FAILURE] if FAILURE in visits else pd.Series(False, index=visits.index)
    visits["failed"] = _true(failed)
    if life is not None:  # a customer who gave up did not get the activity's job done
        visits.loc[life[visits.index] == "withdraw", "failed"] = True
    visits = visits.reset_index(drop=True)
    if MISROUTED in visits:
        # a misrouted visit (the wrong place, before the customer is sent on to the visit
        # meant) is a detour, not routing: drop it, so the visit before leads on to the
        # one meant
        wrong = _true(visits[MISROUTED]).to_numpy()
        visits = visits[~wrong].reset_index(drop=True)
    return visits


def _shares(counts: Counter) -> dict[str, float]:
    total = sum(counts.values())
    return {target: n / total for target, n in sorted(counts.items(), key=lambda kv: -kv[1])}


def scenario_from_log(log: pd.DataFrame, name: str, source: str = "<log>") -> dict:
    """Return scenario data (as a YAML file would hold it) fitted to an event log."""
    visits = _visits(log)
    if not len(visits):
        raise problem(
            source, LIFECYCLE, "no completed visits; expected 'complete' events (or no column)"
        )
    starts: Counter = Counter()
    after_good: dict[str, Counter] = defaultdict(Counter)
    after_bad: dict[str, Counter] = defaultdict(Counter)
    done: Counter = Counter()
    bad: Counter = Counter()
    for _, trace in visits.groupby(CASE, sort=False):
        acts, fails = trace[ACTIVITY].tolist(), trace["failed"].tolist()
        starts[acts[0]] += 1
        for here, there, failed in zip(acts, acts[1:], fails, strict=False):
            done[here] += 1
            bad[here] += failed
            (after_bad if failed else after_good)[here][there] += 1
    activities = list(dict.fromkeys(visits[ACTIVITY]))
    outcomes = [a for a in activities if not after_good[a] and not after_bad[a]]
    if len(outcomes) == len(activities):
        raise problem(
            source,
            ACTIVITY,
            f"no case goes on from one activity to another ({len(visits)} completed "
            "visits); expected cases of at least two activities, a step and then an outcome",
        )
    if not outcomes:
        raise problem(
            source,
            ACTIVITY,
            "every activity is followed by another somewhere; expected at least one that "
            "ends cases (an outcome)",
        )
    resource = visits[RESOURCE].fillna("") if RESOURCE in visits else pd.Series("", visits.index)
    silo_of = {
        a: (Counter(resource[visits[ACTIVITY] == a]).most_common(1)[0][0] or "unknown")
        for a in activities
        if a not in outcomes
    }
    steps = {}
    for activity in activities:
        if activity in outcomes:
            continue
        failure = bad[activity] / done[activity] if done[activity] else 0.0
        good, worse = after_good[activity], after_bad[activity]
        mean = visits.loc[visits[ACTIVITY] == activity, "minutes"].mean()
        step = {
            "silo": silo_of[activity],
            "self_service": True,
            "service": {"dist": "exponential", "mean": f"{mean if mean == mean else 0:.6g} min"},
            "failure": round(failure, 6),
            "next": _shares(good or worse),
        }
        if worse and failure > 0:
            step["on_failure"] = _shares(worse)
        steps[activity] = step
    firsts = log.groupby(CASE, sort=False)[TIME].min()
    span_days = max((firsts.max() - firsts.min()).total_seconds() / 86400, 1 / 24)
    horizon = math.ceil(span_days)
    data = {
        "name": name,
        "description": f"Fitted to an event log: {len(firsts)} cases, "
        f"{len(activities)} activities.",
        "start_date": log[TIME].min().isoformat(),
        "horizon": f"{horizon} days",
        "arrivals": {"rate": f"{len(firsts) / span_days:.6g} per day"},
        "start": _shares(starts),
        "silos": {silo: {"staff": "unlimited"} for silo in dict.fromkeys(silo_of.values())},
        "steps": steps,
        "outcomes": {outcome: {} for outcome in outcomes},
        "experience": {"compounding": 1.0, "ping_pong": 0.0},
    }
    parse_scenario(data, source)  # a log that fits no scenario is refused naming the log
    return data


_PLAIN = frozenset(
    """name description start_date horizon arrivals rate start silos staff unlimited steps
    silo self_service service dist exponential mean failure next on_failure outcomes
    experience compounding ping_pong""".split()
)
"""The field names and keywords a fitted scenario holds: written plain, all else quoted."""


class _FittedDumper(yaml.SafeDumper):
    """Writes every string a log supplied (names, times, text) double-quoted."""


def _quoted(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if value in _PLAIN else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FittedDumper.add_representer(str, _quoted)


def fitted_yaml(data: dict, log_file: str) -> str:
    """Return the YAML text of a fitted scenario, headed by a comment naming its log.

    The log's name is escaped into the one-line comment and every string the log supplied
    is a double-quoted YAML string, so no file or activity name can add a key.
    """
    header = (
        f"# Fitted by `spiral from-log {safe_text(str(log_file))}`: a starting point to edit.\n"
    )
    body = yaml.dump(data, Dumper=_FittedDumper, sort_keys=False, allow_unicode=True, width=1000)
    return header + body


def service_note(log: pd.DataFrame) -> str | None:
    """Return a note when the log cannot give service times (no start events)."""
    if LIFECYCLE in log and (log[LIFECYCLE].astype(str).str.lower() == "start").any():
        return None
    return "the log has no start events, so service times are unknown: set to 0 min"
