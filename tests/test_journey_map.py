"""The journey map: colours follow where complaints are born, widths the flows."""

from __future__ import annotations

import numpy as np
import pytest

from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.views.journey_map import edge_widths, journey_map, map_data, node_colours


@pytest.fixture(scope="module")
def result():
    return run(
        with_length(load_scenario("online_retail"), horizon=5 * 1440.0), seed=1, event_log=True
    )


@pytest.mark.slow
def test_node_colours_follow_the_share_of_complaints_born_there(result):
    data = map_data(result)
    table = result.by_failure_step
    for step, share in data.born_share.items():
        expected = table["share_of_failing"].get(step, 0.0)
        assert share == pytest.approx(expected)
    fig = journey_map(result)
    drawn = next(c for c in fig.axes[0].collections if len(c.get_offsets()) == len(data.positions))
    assert np.allclose(drawn.get_facecolors(), node_colours(data))
    steps = sorted(data.born_share, key=data.born_share.get)
    order = list(data.positions)
    darkness = {s: drawn.get_facecolors()[order.index(s)][:3].sum() for s in steps}
    assert darkness[steps[-1]] < darkness[steps[0]]  # the most complaints: the darkest red


def test_flows_are_counted_from_the_event_log(result):
    data = map_data(result)
    assert data.counted
    outcomes = [n for n, kind in data.kinds.items() if kind == "outcome"]
    into_outcomes = sum(f for (u, v), f in data.flow.items() if v in outcomes)
    finished = (result.customers["outcome"] != "in_progress").sum()
    start_outcomes = sum(1 for n in result.scenario.start if n in outcomes)
    assert start_outcomes == 0 and into_outcomes == finished
    first = result.events.query("event == 'start'").drop_duplicates("customer")
    second = result.events.query("event == 'start' and node == 'pick_pack'")
    into = sum(f for (u, v), f in data.flow.items() if v == "pick_pack")
    assert into == len(second) > 0  # back office: never misrouted, each start one move in
    assert len(first) > 0


def test_edge_widths_are_in_proportion_to_flow(result):
    data = map_data(result)
    widths = edge_widths(data)
    top = max(data.flow.values())
    for edge, flow in data.flow.items():
        assert widths[edge] == pytest.approx(0.6 + 11.4 * flow / top)


@pytest.mark.slow
def test_without_an_event_log_flows_are_estimated_and_cold_shares_follow_the_baton():
    scenario = with_length(load_scenario("online_retail"), horizon=4 * 1440.0)
    result = run(scenario, seed=1)
    data = map_data(result)
    assert not data.counted
    visits = dict(zip(result.raw.journey.names, result.raw.node_visits, strict=True))
    # checkout fails 4%; a small loss, so 97% of those carry on to pick_pack in silence
    on = 0.96 + 0.04 * 0.97
    assert data.flow[("checkout", "pick_pack")] == pytest.approx(visits["checkout"] * on)
    baton = scenario.experience.baton
    assert data.cold_share[("checkout", "pick_pack")] == pytest.approx(1 - baton)


def test_a_run_where_nothing_fails_draws_with_no_red(tiny_data):
    from spiral.model.loading import parse_scenario

    for step in tiny_data["steps"].values():
        step["failure"] = 0.0
    tiny_data["horizon"] = "2 days"
    result = run(parse_scenario(tiny_data, "calm.yaml"), seed=1, event_log=True)
    assert len(result.by_failure_step) == 0
    data = map_data(result)
    assert set(data.born_share.values()) == {0.0}
    assert journey_map(result).axes  # drawn, not an error
