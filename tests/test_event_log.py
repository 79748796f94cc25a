"""Event logs: standard columns, XES that pm4py reads, the journey graph as its DFG."""

from __future__ import annotations

import contextlib
import io
import warnings
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import yaml
from test_cli import call_main

from spiral.analysis.results import run
from spiral.io.event_log import (
    ACTIVITY,
    CASE,
    FAILURE,
    HANDOFF,
    LIFECYCLE,
    RESOURCE,
    TIME,
    process_log,
    write_log,
)
from spiral.model.graph import build_graph
from spiral.model.loading import load_scenario, parse_scenario, resolve_source, with_length
from spiral.views.journey_map import _transitions


def pm4py():
    """Import pm4py (AGPL: a test-only dependency) without its banner."""
    warnings.filterwarnings("ignore", module="pm4py")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py as module
    return module


@pytest.fixture(scope="module")
def plain():
    """online_retail with unlimited staff and no misrouting: every move is a graph edge."""
    data = yaml.safe_load(resolve_source("online_retail").read_text(encoding="utf-8"))
    for silo in data["silos"].values():
        silo["staff"] = "unlimited"
        silo.pop("ping_pong", None)
    data.setdefault("experience", {})["ping_pong"] = 0.0
    data["horizon"] = "5 days"
    data.pop("what_ifs")  # one adds staff, which an unlimited silo does not have
    data["start_date"] = "2026-03-02T08:00:00+01:00"
    scenario = parse_scenario(data, "plain.yaml")
    return run(scenario, seed=2, event_log=True)


@pytest.mark.slow
def test_the_log_has_the_standard_columns_and_iso_times_from_the_start_date(plain, tmp_path):
    log = process_log(plain)
    path = write_log(log, tmp_path / "log.csv")
    back = pd.read_csv(path, dtype={CASE: str})
    assert list(back.columns[:5]) == [CASE, ACTIVITY, TIME, RESOURCE, LIFECYCLE]
    first = pd.Timestamp(back[TIME].iloc[0])
    arrival = plain.customers.sort_values("arrival")["arrival"].iloc[0]
    expected = pd.Timestamp("2026-03-02T08:00:00+01:00") + pd.Timedelta(minutes=arrival)
    assert abs(first - expected) < pd.Timedelta(milliseconds=1)  # written to the millisecond
    assert back[TIME].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+01:00$").all()
    assert set(back[LIFECYCLE]) <= {"start", "complete", "withdraw"}
    # one complete per visit with an outcome last; failures as many as the table's
    completes = back[back[LIFECYCLE] == "complete"]
    steps = set(plain.scenario.steps)
    failed_steps = completes[completes[ACTIVITY].isin(steps) & completes[FAILURE]]
    assert len(failed_steps) == plain.customers["failures"].sum()
    assert set(back[HANDOFF].fillna("")) <= {"", "warm", "cold"}


@pytest.mark.slow
def test_pm4py_reads_the_csv_and_the_xes_alike(plain, tmp_path):
    pm = pm4py()
    log = process_log(plain)
    write_log(log, tmp_path / "log.csv")
    write_log(log, tmp_path / "log.xes")
    from_xes = pm.read_xes(str(tmp_path / "log.xes"))
    frame = pd.read_csv(tmp_path / "log.csv", dtype={CASE: str})
    from_csv = pm.format_dataframe(frame, case_id=CASE, activity_key=ACTIVITY, timestamp_key=TIME)
    assert len(from_xes) == len(from_csv) == len(log)
    assert from_xes[CASE].nunique() == len(plain.customers)
    assert from_xes["spiral:failure"].sum() == log[FAILURE].sum()
    root = ET.parse(tmp_path / "log.xes").getroot()
    assert root.tag == "{http://www.xes-standard.org/}log"
    assert root.get("xes.version") == "1849-2016"


def dfg_of(pm, path):
    """Return pm4py's directly-follows graph of the visits (each visit's last event)."""
    log = pm.read_xes(str(path))
    ends = log[log[LIFECYCLE].isin(["complete", "withdraw"])]
    return pm.discover_dfg(ends), ends


@pytest.mark.slow
def test_the_directly_follows_graph_is_the_journey_graph_customers_used(plain, tmp_path):
    pm = pm4py()
    write_log(process_log(plain), tmp_path / "log.xes")
    (dfg, starts, ends), _ = dfg_of(pm, tmp_path / "log.xes")
    graph = build_graph(plain.scenario)
    assert set(dfg) <= set(graph.edges)  # no misrouting here: every move is a graph edge
    moves, _, _ = _transitions(plain.events)  # counted from the engine's own events
    assert dict(dfg) == dict(moves)
    assert sum(starts.values()) == len(plain.customers)
    assert set(ends) <= set(plain.scenario.outcomes)


@pytest.mark.slow
def test_in_a_built_in_scenario_only_misrouted_bounces_leave_the_graph(tmp_path):
    pm = pm4py()
    result = run(
        with_length(load_scenario("online_retail"), horizon=4 * 1440.0), seed=1, event_log=True
    )
    write_log(process_log(result), tmp_path / "log.xes")
    (dfg, _, _), visits = dfg_of(pm, tmp_path / "log.xes")
    moves, _, _ = _transitions(result.events)
    assert dict(dfg) == dict(moves)  # counts: every move customers made, queues and all
    bounces, redials = set(), set()
    for _, trace in visits.groupby(CASE, sort=False):
        names, wrong = trace[ACTIVITY].tolist(), trace["spiral:misrouted"].tolist()
        gave_up = (trace[LIFECYCLE] == "withdraw").tolist()
        steps = list(zip(names, names[1:], wrong, gave_up, strict=False))
        bounces |= {(a, b) for a, b, w, _ in steps if w}
        redials |= {(a, b) for a, b, _, g in steps if g and a == b}
    graph = set(build_graph(result.scenario).edges)
    outside = set(dfg) - graph
    # only a misrouted visit's way back, or a redial after giving up, leaves the graph
    assert outside and outside <= bounces | redials
    assert result.customers["ping_pongs"].sum() == visits["spiral:misrouted"].sum()


@pytest.mark.slow
def test_run_writes_the_event_log_and_refuses_another_format(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run.xes"
    code, text, _ = call_main(
        monkeypatch, capsys, "run", "online_retail", "--horizon", "4 days", "--event-log", out
    )
    assert code == 0 and f"wrote the event log to {out}" in text
    assert out.read_text(encoding="utf-8").count("<trace>") > 1000
    code, _, err = call_main(monkeypatch, capsys, "run", "--event-log", tmp_path / "run.json")
    assert code == 2
    assert err.strip() == (
        "spiral run: --event-log: expected a file ending in .csv or .xes, got 'run.json'"
    )


def test_a_run_without_an_event_log_is_refused_clearly():
    result = run(with_length(load_scenario("online_retail"), horizon=4 * 1440.0), seed=1)
    with pytest.raises(ValueError, match="the run kept no event log"):
        process_log(result)


@pytest.mark.slow
def test_an_event_log_in_a_missing_folder_gets_the_folder(tmp_path, monkeypatch, capsys):
    """As with --out, the folders on the way are made (before the run)."""
    target = tmp_path / "nowhere" / "run.csv"
    code, _, err = call_main(
        monkeypatch, capsys, "run", "--horizon", "4 days", "--event-log", target
    )
    assert code == 0, err
    assert pd.read_csv(target).columns[0] == CASE


def test_an_event_log_under_a_file_is_refused_before_the_run(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "run.csv"
    code, out, err = call_main(monkeypatch, capsys, "run", "--event-log", target)
    assert code == 2 and out == ""
    assert err.strip() == (
        f"{target}: --event-log: cannot create the folder {target.parent}: {target.parent} is "
        "a file; expected a place that can be written"
    )


@pytest.mark.slow
def test_a_log_spooled_to_disk_in_small_chunks_reads_back_the_same(plain, monkeypatch, tmp_path):
    """Chunks of 97 events (a misrouted visit is sure to span two) give the same log."""
    from spiral.engines.records import EventSink

    monkeypatch.setattr(EventSink, "CHUNK", 97)
    again = run(plain.scenario, seed=plain.seed, event_log=True)
    assert len(again.raw.events.parts.paths) > 100  # really spooled
    pd.testing.assert_frame_equal(again.events, plain.events)
    chunks = list(again.event_chunks())
    # spilled at each arrival and finish: a chunk holds little more than 97 events
    assert max(len(c) for c in chunks) <= 2 * 97
    pd.testing.assert_frame_equal(process_log(again), process_log(plain))


@pytest.mark.slow
def test_streamed_csv_and_xes_equal_the_logs_written_whole(monkeypatch, tmp_path):
    """Cases spread over buckets of 7 customers still come out one trace each, in order."""
    import spiral.io.event_log
    from spiral.engines.records import EventSink
    from spiral.io.event_log import write_run_log

    scenario = with_length(load_scenario("online_retail"), horizon=4 * 1440.0)
    result = run(scenario, seed=4, event_log=True)
    whole = process_log(result)
    write_log(whole, tmp_path / "whole.csv")
    write_log(whole, tmp_path / "whole.xes")
    monkeypatch.setattr(EventSink, "CHUNK", 300)
    monkeypatch.setattr(spiral.io.event_log, "CASES_PER_BUCKET", 7)
    streamed = run(scenario, seed=4, event_log=True)
    write_run_log(streamed, tmp_path / "streamed.csv")
    write_run_log(streamed, tmp_path / "streamed.xes")
    csv = pd.read_csv(tmp_path / "streamed.csv", dtype=str, keep_default_na=False)
    back = pd.read_csv(tmp_path / "whole.csv", dtype=str, keep_default_na=False)
    # rows held back for an open visit come out later: the same rows, each case in order
    key = [CASE, TIME, LIFECYCLE, ACTIVITY]
    pd.testing.assert_frame_equal(
        csv.sort_values(key, kind="stable").reset_index(drop=True),
        back.sort_values(key, kind="stable").reset_index(drop=True),
    )
    assert traces(tmp_path / "streamed.xes") == traces(tmp_path / "whole.xes")


def traces(path) -> dict[str, list[tuple]]:
    """Return each XES trace's events (their attributes, in order) by case."""
    found = {}
    for trace in ET.parse(path).getroot().iter("{http://www.xes-standard.org/}trace"):
        name = next(a.get("value") for a in trace if a.get("key") == "concept:name")
        found[name] = [
            tuple((a.get("key"), a.get("value")) for a in event)
            for event in trace.iter("{http://www.xes-standard.org/}event")
        ]
    return found
