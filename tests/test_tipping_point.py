"""The tipping point: the chain's work per customer, the loop gain, and where a team tips."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest
from test_dynamics import TEAM as DYNAMICS_TEAM  # a sibling test module's scenario

from spiral.analysis.results import run
from spiral.analysis.tipping_point import (
    loop_gain,
    lowest_load,
    tipping_points,
    work_per_customer,
    work_when_cut,
)
from spiral.model.loading import load_scenario, parse_scenario

TEAM = {  # tipping_point.yaml without compounding: its chain can be solved by hand
    **copy.deepcopy(DYNAMICS_TEAM),
    "arrivals": {"rate": "900 per day"},
    "silos": {"team": {"staff": 20}},
    "experience": {"compounding": 1.0},
    "loops": {"erosion": {"enabled": True, "threshold": 0.9, "sensitivity": 2}},
}


def hand_work(p: float) -> float:
    """Minutes of the team's work per customer: handle visits V = 1/(1 - p·0.6/0.72)."""
    visits = 1 / (1 - p / 1.2)  # complaint visits p·V/0.72, resolved share 0.6 back to handle
    return visits * (20 + 15 * p / 0.72)


def team(**changes) -> dict:
    data = copy.deepcopy(TEAM)
    data.update(changes)
    return data


def test_work_per_customer_is_the_hand_solved_chain():
    scenario = parse_scenario(team(), "team.yaml")
    assert work_per_customer(scenario)["team"] == pytest.approx(hand_work(0.1), rel=1e-6)


def test_without_the_failure_demand_loop_complaints_are_not_the_teams_work():
    scenario = parse_scenario(team(loops={"failure_demand": False}), "team.yaml")
    assert work_per_customer(scenario)["team"] == pytest.approx(20 / (1 - 0.1 / 1.2), rel=1e-6)


def test_the_loop_gain_is_the_work_a_cut_brings_back_per_unit_it_saves():
    scenario = parse_scenario(team(), "team.yaml")
    # p(cut) = 1 - 0.9(1 - 2·cut): dp/dcut = 1.8; gain = 1.8 · W'(0.1) / W(0.1)
    h = 1e-6
    slope = (hand_work(0.1 + h) - hand_work(0.1 - h)) / (2 * h)
    expected = 1.8 * slope / hand_work(0.1)
    assert expected == pytest.approx(3.335, abs=1e-3)  # worked by hand in docs/model.md
    assert loop_gain(work_when_cut(scenario, "team")) == pytest.approx(expected, rel=1e-3)


def test_the_first_minimum_of_the_load_is_found_going_down_from_the_standard():
    # h(S) = S(1 + 4(1-S)^2): minimum 25/27 at S = 5/6, a maximum at 1/2, then down to 0
    assert lowest_load(lambda cut: 1 + 4 * cut**2) == pytest.approx(25 / 27, rel=1e-4)
    # eroding always helps where cutting costs nothing: the load falls to 0
    assert lowest_load(lambda cut: 10.0) == 0.0


def test_tipping_points_state_the_threshold_form_for_each_team():
    (point,) = tipping_points(parse_scenario(team(), "team.yaml"))
    assert point.rate == pytest.approx(0.9 * 20 / hand_work(0.1) * 1440, rel=1e-6)
    assert point.gain > 1 and point.runaway == point.rate  # the loop feeds itself: λ** = λ*
    assert point.now == pytest.approx(900) and point.headroom == pytest.approx(point.rate / 900 - 1)
    gentle = parse_scenario(team(loops={"erosion": {"enabled": True, "sensitivity": 0.3}}), "t")
    (settles,) = tipping_points(gentle)
    # a failure probability capped below 1 keeps the work finite: eroding always gives time back
    assert settles.gain < 1 and math.isinf(settles.runaway) and settles.threshold == 1.0


def test_without_erosion_a_team_tips_where_its_work_reaches_its_staff():
    scenario = parse_scenario(team(loops={}), "team.yaml")
    (point,) = tipping_points(scenario)
    assert point.threshold == 1.0 and point.gain is None
    assert point.rate == point.runaway == pytest.approx(20 / hand_work(0.1) * 1440, rel=1e-6)


@pytest.mark.slow  # subprocesses and a sweep: the fast tier stays under a minute
def test_explain_prints_the_tipping_point_as_json_and_as_a_table():
    done = subprocess.run(
        [sys.executable, "-m", "spiral", "explain", "tipping_point", "--tipping-point", "--json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (team_point,) = json.loads(done.stdout)["tipping_points"]
    expected = tipping_points(load_scenario("tipping_point"))[0]
    assert team_point["silo"] == "team" and team_point["rate"] == pytest.approx(expected.rate)
    assert 1060 < team_point["rate"] < 1075  # the file's comment: the line is 1,067 a day
    table = subprocess.run(
        [sys.executable, "-m", "spiral", "explain", "tipping_point", "--tipping-point"],
        capture_output=True,
        text=True,
    )
    assert "1,066.8" in table.stdout and "runs away at" in table.stdout


def regime_at(rate: float, seed: int) -> str:
    """Return the regime of tipping_point.yaml at a rate (customers a day), 45 days."""
    scenario = load_scenario("tipping_point")
    arrivals = scenario.arrivals.model_copy(update={"rate": rate / 1440})
    short = scenario.model_copy(
        update={"arrivals": arrivals, "horizon": 45 * 1440.0, "drain": 1440.0}
    )
    return run(short, seed=seed).summary["regime"]


def bisect(seed: int, line: float) -> float:
    """Return the rate where tipping_point.yaml turns runaway, to 1.25%, for one seed."""
    low, high = 0.9 * line, 1.1 * line
    assert regime_at(low, seed) != "runaway" and regime_at(high, seed) == "runaway"
    for _ in range(4):
        middle = (low + high) / 2
        if regime_at(middle, seed) == "runaway":
            high = middle
        else:
            low = middle
    return (low + high) / 2


@pytest.mark.slow
def test_a_bisection_on_the_rate_lands_within_5_percent_of_the_derived_tipping_point():
    line = tipping_points(load_scenario("tipping_point"))[0].rate
    with ProcessPoolExecutor(2) as pool:
        found = list(pool.map(bisect, [1, 2, 3], [line] * 3))
    for rate in found:
        assert rate == pytest.approx(line, rel=0.05), (found, line)
