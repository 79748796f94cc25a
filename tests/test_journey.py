"""The compiled journey: indexed nodes and routing tables."""

from __future__ import annotations

import pytest
from examples import TINY

from spiral.engines.journey import CONTACT, OUTCOME, STEP, Route, compile_journey
from spiral.model.loading import parse_scenario


def test_route_pick_follows_cumulative_probabilities():
    route = Route((4, 7, 9), (0.2, 0.5, 1.0))
    assert [route.pick(u) for u in (0.0, 0.19, 0.2, 0.49, 0.5, 0.999)] == [4, 4, 7, 7, 9, 9]
    assert route.probabilities() == pytest.approx({4: 0.2, 7: 0.3, 9: 0.5})


def test_compiled_journey_indexes_kinds_silos_staff_and_routes():
    journey = compile_journey(parse_scenario(TINY, "tiny.yaml"))
    i = journey.index
    assert journey.kind[i("order")] == STEP and journey.kind[i("help")] == CONTACT
    assert journey.kind[i("done")] == OUTCOME and journey.silo[i("done")] == -1
    assert journey.staff == (None, 3, 2)
    assert journey.staffed[i("ship")] and not journey.staffed[i("order")]
    assert journey.failure[i("ship")] == 0.2 and journey.fcr[i("help")] == 0.6
    assert journey.failed[i("help")].probabilities() == pytest.approx(
        {i("help"): 0.8, i("gone"): 0.2}
    )
    assert journey.give_up[i("help")] == i("gone")
    assert journey.churn_outcome[i("gone")] and not journey.churn_outcome[i("done")]
    assert journey.patience[i("help")] and not journey.patience[i("ship")]
