"""What the studio computes: replications under seed + r, paired differences, cancelling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spiral.analysis.compare import compare
from spiral.analysis.results import run
from spiral.studio.computation import (
    Cancelled,
    Estimate,
    Side,
    compute,
    difference,
    engine_for,
    headline_of,
)


def test_replication_r_runs_under_seed_plus_r_as_compare_does(tiny_scenario):
    sides = compute([Side("base", tiny_scenario)], seed=5, replications=3)
    assert [r.seed for r in sides[0].results] == [5, 6, 7]
    table = compare(tiny_scenario, what_ifs=[], replications=3, seed=5).table
    churn = table[table["metric"] == "churn_rate"].iloc[0]
    estimate = sides[0].estimate("churn_rate")
    assert estimate.mean == pytest.approx(churn["mean"])
    assert estimate.half_width == pytest.approx(churn["half_width"])


def test_one_replication_has_no_interval(tiny_scenario):
    estimate = compute([Side("base", tiny_scenario)], seed=1, replications=1)[0].estimate(
        "churn_rate"
    )
    assert estimate.n == 1 and math.isnan(estimate.half_width)
    assert not estimate.significant()


def test_two_identical_sides_differ_by_exactly_zero_under_common_random_numbers(tiny_scenario):
    left, right = compute([Side("a", tiny_scenario), Side("b", tiny_scenario)], 1, 2)
    for metric in ("churn_rate", "complaints", "net_value"):
        assert difference(left, right, metric) == Estimate(0.0, 0.0, 2)


def test_the_difference_is_paired_replication_by_replication(tiny_scenario):
    better = tiny_scenario.model_copy(
        update={
            "steps": {
                **tiny_scenario.steps,
                "ship": tiny_scenario.steps["ship"].model_copy(update={"failure": 0.05}),
            }
        }
    )
    left, right = compute([Side("a", tiny_scenario), Side("b", better)], 1, 3)
    by_hand = np.array(
        [headline_of(run(better, seed=s))["churn_rate"] for s in (1, 2, 3)]
    ) - np.array([headline_of(run(tiny_scenario, seed=s))["churn_rate"] for s in (1, 2, 3)])
    assert difference(left, right, "churn_rate") == Estimate.of(by_hand)


def test_a_what_if_side_runs_the_simpy_engine_for_both_sides(tiny_scenario):
    unlimited = tiny_scenario.model_copy(
        update={
            "silos": {
                n: s.model_copy(update={"staff": "unlimited"})
                for n, s in tiny_scenario.silos.items()
            }
        }
    )
    assert engine_for([Side("a", unlimited)]) == "vectorised"
    assert engine_for([Side("a", unlimited), Side("b", tiny_scenario)]) == "des"


def test_moving_on_cancels_the_work_under_way(tiny_scenario):
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        compute([Side("a", tiny_scenario)], 1, 5, cancelled=cancelled)


def test_each_replication_is_reported_as_it_finishes(tiny_scenario):
    seen = []
    compute(
        [Side("a", tiny_scenario)],
        1,
        3,
        on_replication=lambda sides: seen.append(len(sides[0].results)),
    )
    assert seen == [1, 2, 3]


def test_the_worst_regime_of_the_replications_is_shown_with_its_reasons(tiny_scenario):
    side = compute([Side("a", tiny_scenario)], 1, 2)[0]
    side.results[1].summary["regime"] = "runaway"
    side.results[1].summary["regime_reasons"] = ["backlog grows"]
    assert side.regime() == ("runaway", ["backlog grows"])
