"""`spiral from-log`: a scenario fitted to an event log reproduces its routing."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest
import yaml
from test_cli import call_main
from test_event_log import plain  # noqa: F401 - the fixture

from spiral.analysis.results import run
from spiral.io.event_log import ACTIVITY, CASE, LIFECYCLE, process_log, write_log
from spiral.io.from_log import read_log, scenario_from_log
from spiral.model.errors import ScenarioError
from spiral.model.loading import parse_scenario


def transitions(log: pd.DataFrame) -> dict[str, Counter]:
    """Count where each activity's completed visits went next."""
    visits = log[log[LIFECYCLE] == "complete"]
    found: dict[str, Counter] = defaultdict(Counter)
    for _, trace in visits.groupby(CASE, sort=False):
        acts = trace[ACTIVITY].tolist()
        for a, b in zip(acts, acts[1:], strict=False):
            found[a][b] += 1
    return found


@pytest.mark.slow
def test_simulate_log_fit_simulate_reproduces_the_routing(plain, tmp_path):  # noqa: F811
    first = process_log(plain)
    write_log(first, tmp_path / "first.csv")
    data = scenario_from_log(read_log(tmp_path / "first.csv"), "fitted")
    fitted = parse_scenario(data, "fitted.yaml")
    second = process_log(run(fitted, seed=11, event_log=True))
    one, two = transitions(first), transitions(second)
    compared = 0
    for activity, counts in one.items():
        n1, n2 = sum(counts.values()), sum(two[activity].values())
        if n1 < 30 or n2 < 30:
            continue
        for target in set(counts) | set(two[activity]):
            p1, p2 = counts[target] / n1, two[activity][target] / n2
            pooled = (counts[target] + two[activity][target]) / (n1 + n2)
            sigma = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
            assert abs(p1 - p2) <= 3.29 * sigma + 1e-12, (activity, target, p1, p2)
            compared += 1
    assert compared >= 15


@pytest.mark.slow
def test_the_fit_has_the_logs_starts_failures_and_service_times(plain, tmp_path):  # noqa: F811
    log = process_log(plain)
    write_log(log, tmp_path / "log.xes")
    data = scenario_from_log(read_log(tmp_path / "log.xes"), "fitted")
    customers = plain.customers
    first = customers.groupby("customer")  # one case per customer
    assert sum(data["start"].values()) == pytest.approx(1.0)
    assert set(data["outcomes"]) <= set(plain.scenario.outcomes)
    completes = log[(log[LIFECYCLE] == "complete") & (log[ACTIVITY] == "deliver")]
    failed = completes["spiral:failure"].mean()
    assert data["steps"]["deliver"]["failure"] == pytest.approx(failed, abs=1e-6)
    # silos are the log's resources (spiral writes silo names); staff the most visits ever
    # in progress at once, which an unlimited silo of this run makes large
    fitted = parse_scenario(data, "fitted.yaml")
    assert set(data["silos"]) <= set(plain.scenario.silos)
    assert all(isinstance(s["staff"], int) and s["staff"] >= 1 for s in data["silos"].values())
    assert fitted.silos["customer_service"].staff > 10
    assert len(first) == len(customers)


@pytest.mark.slow
def test_the_csv_and_the_xes_of_one_run_give_the_same_scenario(plain, tmp_path):  # noqa: F811
    log = process_log(plain)
    write_log(log, tmp_path / "log.csv")
    write_log(log, tmp_path / "log.xes")
    from_csv = scenario_from_log(read_log(tmp_path / "log.csv"), "x")
    from_xes = scenario_from_log(read_log(tmp_path / "log.xes"), "x")
    assert from_csv["start"] == pytest.approx(from_xes["start"])
    assert from_csv["steps"].keys() == from_xes["steps"].keys()
    for name, step in from_csv["steps"].items():
        assert step["next"] == pytest.approx(from_xes["steps"][name]["next"])
        assert step["failure"] == pytest.approx(from_xes["steps"][name]["failure"])


def test_a_log_without_the_standard_columns_is_one_line(tmp_path):
    path = tmp_path / "log.csv"
    pd.DataFrame({"case": ["1"], "activity": ["a"]}).to_csv(path, index=False)
    with pytest.raises(ScenarioError) as error:
        read_log(path)
    (line,) = error.value.lines()
    assert line == (
        f"{path}: columns: missing case:concept:name, concept:name, time:timestamp; the log "
        "has case, activity (name them with --case, --activity, --timestamp, "
        "--start-timestamp, --resource)"
    )


@pytest.mark.slow
def test_from_log_writes_a_scenario_that_runs(plain, tmp_path, monkeypatch, capsys):  # noqa: F811
    write_log(process_log(plain), tmp_path / "log.xes")
    out = tmp_path / "fitted.yaml"
    code, text, _ = call_main(monkeypatch, capsys, "from-log", tmp_path / "log.xes", "--out", out)
    assert code == 0 and text.startswith(f"wrote {out}: ")
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["name"] == "log"
    code, _, _ = call_main(monkeypatch, capsys, "validate", out)
    assert code == 0


@pytest.mark.slow
def test_fitting_a_built_in_log_drops_misrouted_detours(tmp_path):
    from spiral.model.graph import build_graph
    from spiral.model.loading import load_scenario, with_length

    result = run(
        with_length(load_scenario("online_retail"), horizon=7 * 1440.0), seed=1, event_log=True
    )
    write_log(process_log(result), tmp_path / "log.csv")
    data = scenario_from_log(read_log(tmp_path / "log.csv"), "fitted")
    graph = set(build_graph(result.scenario).edges)
    for name, step in data["steps"].items():
        for target in [*step["next"], *step.get("on_failure", {})]:
            # every fitted route is a journey edge, or a redial after giving up
            assert (name, target) in graph or name == target, (name, target)
    fitted = parse_scenario(data, "fitted.yaml")
    service = fitted.steps["pick_pack"].service
    assert service.mean() == pytest.approx(12.0, rel=0.1)  # gamma, mean 12 min
    # abandoned contacts and redials pair no start with a complete: never a negative time
    assert min(step.service.mean() for step in fitted.steps.values()) >= 0


@pytest.mark.parametrize(
    ("content", "field", "expected"),
    [
        ("", "file", "cannot be read as an event log"),
        (
            "case:concept:name,concept:name,time:timestamp\n1,,2026-01-05T00:00:00Z\n",
            "concept:name",
            "empty in 1 events; expected every event named",
        ),
        (
            "case:concept:name,concept:name,time:timestamp,lifecycle:transition\n"
            "1,a,2026-01-05T00:00:00Z,start\n",
            "lifecycle:transition",
            "no completed visits",
        ),
    ],
    ids=["empty", "blank activity", "only starts"],
)
def test_a_bad_log_is_one_line_naming_it(tmp_path, monkeypatch, capsys, content, field, expected):
    path = tmp_path / "log.csv"
    path.write_text(content, encoding="utf-8")
    code, _, err = call_main(monkeypatch, capsys, "from-log", path, "--out", tmp_path / "s.yaml")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"{path}: {field}: ") and expected in line
