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

from spiral.event_log import (
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
from spiral.graph import build_graph
from spiral.loading import load_scenario, parse_scenario, resolve_source, with_length
from spiral.runner import run


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
    assert set(back[LIFECYCLE]) <= {"start", "complete", "ate_abort"}
    # one complete per visit with an outcome last; failures as many as the table's
    completes = back[back[LIFECYCLE] == "complete"]
    steps = set(plain.scenario.steps)
    failed_steps = completes[completes[ACTIVITY].isin(steps) & completes[FAILURE]]
    assert len(failed_steps) == plain.customers["failures"].sum()
    assert set(back[HANDOFF].fillna("")) <= {"", "warm", "cold"}


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


def test_the_directly_follows_graph_is_the_journey_graph_customers_used(plain, tmp_path):
    pm = pm4py()
    write_log(process_log(plain), tmp_path / "log.xes")
    log = pm.read_xes(str(tmp_path / "log.xes"))
    visits = log[log[LIFECYCLE] == "complete"]
    dfg, starts, ends = pm.discover_dfg(visits)
    graph = build_graph(plain.scenario)
    assert set(dfg) <= set(graph.edges)  # no move outside the journey graph
    # counts: every customer's own sequence of visited nodes, from the event log
    events = plain.events
    moves = events[events["event"].isin(["start", "outcome"])]
    expected: dict = {}
    for _, trace in moves.groupby("customer"):
        nodes = trace["node"].tolist()
        for a, b in zip(nodes, nodes[1:], strict=False):
            expected[(a, b)] = expected.get((a, b), 0) + 1
    assert dict(dfg) == expected
    assert sum(starts.values()) == len(plain.customers)
    outcomes = set(plain.scenario.outcomes)
    assert set(ends) <= outcomes


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
