"""Go: the SimPy engine stepped a slice at a time tells the same story as one whole run."""

from __future__ import annotations

import numpy as np

from spiral.engines.simpy_engine import simulate_des
from spiral.studio.live import LiveRun


def test_stepping_a_run_in_slices_gives_the_same_run_as_simulating_it_whole(tiny_scenario):
    live = LiveRun(tiny_scenario, seed=4)
    clocks = []
    while not live.done:
        live.advance(6 * 60)
        clocks.append(live.now)
    stepped = live.engine.records()
    whole = simulate_des(tiny_scenario, 4)
    assert np.all(np.diff(clocks) >= 0) and clocks[0] == 360
    assert stepped.end == whole.end
    assert len(stepped.customers) == len(whole.customers)
    names = whole.journey.names
    a, b = stepped.customers.to_frame(names), whole.customers.to_frame(names)
    for name in ("customer", "outcome", "failures", "contacts"):
        assert a[name].tolist() == b[name].tolist()


def test_the_trajectory_counts_what_has_happened_so_far(tiny_scenario):
    live = LiveRun(tiny_scenario, seed=4)
    live.advance(2 * 1440)
    state = live.trajectory()
    assert live.now == 2 * 1440
    assert state.day[-1] == 2.0 and len(state.day) == 48  # hourly samples
    finished = live.engine.table.to_frame(live.engine.journey.names)["outcome"]
    assert state.churned == int((finished == "churned").sum())
    assert state.arrivals == len(finished) + state.in_journey
    assert np.all(state.reputation == 1.0)  # the tiny scenario has no reputation loop
    assert np.all(state.failure == np.mean([0.1, 0.2]))  # no loop moves the failures


def test_a_finished_run_does_not_advance(tiny_scenario):
    live = LiveRun(tiny_scenario, seed=1)
    live.advance(live.end * 2)
    assert live.done
    end = live.now
    live.advance(60)
    assert live.now == end <= live.end


def test_a_run_of_a_count_of_customers_ends_its_arrivals_at_the_expected_time(tiny_data):
    from spiral.model.loading import parse_scenario

    del tiny_data["horizon"]
    tiny_data["customers"] = 400
    live = LiveRun(parse_scenario(tiny_data, "count.yaml"), seed=1)
    assert live.arrivals_end == 400 / (200 / 1440)  # two days at 200 a day
    while not live.done:
        live.advance(1440)
    assert live.trajectory().arrivals == 400
