"""Time in scenarios: demand timelines, bursts, rosters, dated changes and the what-ifs on them.

Each run is small and its numbers are exact (a roster's staff minutes and cost, a closed
stretch with no arrivals, a burst's head count) or checked against Poisson intervals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from spiral.analysis.results import run
from spiral.model.loading import parse_scenario

Z99 = stats.norm.ppf(0.995)
HOUR = 60.0
DAY = 1440.0


def desk(**arrivals) -> dict:
    """Return one desk of staff handling one step; arrivals as given (rate 1000 a day)."""
    return {
        "name": "desk",
        "horizon": "6 days",
        "period": "1 day",
        "arrivals": {"rate": "1000 per day", **arrivals},
        "start": "serve",
        "silos": {"desk": {"staff": 2, "cost_per_hour": 10}},
        "steps": {
            "serve": {
                "silo": "desk",
                "service": {"dist": "exponential", "mean": "1 min"},
                "next": "done",
            }
        },
        "outcomes": {"done": {}},
    }


def arrivals_per_day(data: dict, seed: int = 1) -> np.ndarray:
    return run(parse_scenario(data, "desk.yaml"), seed=seed).timeseries["arrivals"].to_numpy()


def test_a_timeline_multiplies_the_rate_in_its_stretch_and_a_factor_0_closes_the_door():
    timeline = [
        {"start": "2 days", "end": "4 days", "factor": 3},
        {"start": "5 days", "end": "6 days", "factor": 0},
    ]
    counts = arrivals_per_day(desk(timeline=timeline))
    surge, normal = counts[2:4].sum(), counts[[0, 1, 4]].sum()
    assert abs(surge - 6000) <= Z99 * math.sqrt(6000)
    assert abs(normal - 3000) <= Z99 * math.sqrt(3000)
    assert counts[5] == 0  # no one arrives while the factor is 0


def test_a_burst_adds_exactly_its_customers_at_its_node_within_its_time():
    data = desk(
        rate="0.001 per day",
        events=[{"at": "1 day", "node": "serve", "customers": 250, "over": "2 h"}],
    )
    customers = run(parse_scenario(data, "desk.yaml"), seed=1).customers
    inside = customers["arrival"].between(DAY, DAY + 2 * HOUR)
    assert inside.sum() == 250 and len(customers) - inside.sum() <= 1


def roster_desk(staff: list[int], **extra) -> dict:
    data = desk(**extra.pop("arrivals", {}))
    data["silos"]["desk"]["roster"] = {"cycle": "day", "staff": staff}
    data.update(extra)
    return data


def test_staff_on_duty_and_staff_cost_follow_the_roster():
    staff = [2] * 12 + [4] * 12  # 72 staff-hours a day
    result = run(parse_scenario(roster_desk(staff, period="1 h"), "desk.yaml"), seed=1)
    on_duty = result.timeseries["staff_desk"].to_numpy()[: 6 * 24]
    hours = np.arange(len(on_duty)) % 24
    # the mean of the hourly samples in each hour: the roster, or (at the change) between
    assert (on_duty[(hours > 0) & (hours < 12)] == 2).all()
    assert (on_duty[(hours > 12)] == 4).all()
    assert result.summary["staff_cost"] == pytest.approx(72 * 6 * 10)  # 6 days at £10 an hour


def test_dated_changes_replace_or_add_to_the_roster():
    changes = [{"start": "2 days", "staff": 5}, {"start": "4 days", "add": -3}]
    data = roster_desk([2] * 24)
    data["silos"]["desk"]["changes"] = changes
    result = run(parse_scenario(data, "desk.yaml"), seed=1)
    on_duty = result.timeseries["staff_desk"].to_numpy()[:6]
    assert list(on_duty) == pytest.approx([2, 2, 5, 5, 2, 2])
    assert result.summary["staff_cost"] == pytest.approx((2 * 4 + 5 * 2) * 24 * 10)


def test_a_job_running_past_the_end_of_a_shift_finishes_and_the_next_waits_for_opening():
    """One server 00:00-12:00 and a 3-hour job from 11:00: it ends at 14:00.

    The job is not cut at noon; a customer arriving at 11:30 waits for the next morning.
    """
    data = roster_desk(
        [1] * 12 + [0] * 12,
        arrivals={
            "rate": "0.001 per day",
            "events": [
                {"at": "11 h", "node": "serve", "customers": 1, "over": "1 s"},
                {"at": "11.5 h", "node": "serve", "customers": 1, "over": "1 s"},
            ],
        },
        horizon="2 days",
    )
    data["steps"]["serve"]["service"] = "3 h"
    customers = run(parse_scenario(data, "desk.yaml"), seed=1).customers.sort_values("arrival")
    first, second = customers.iloc[0], customers.iloc[1]
    assert first["end"] == pytest.approx(first["arrival"] + 3 * HOUR)
    assert second["end"] == pytest.approx(DAY + 3 * HOUR)  # opens at midnight: 00:00 + 3 h
    assert second["wait"] == pytest.approx(DAY - second["arrival"])


def compare_desk(**what_if) -> dict:
    data = desk()
    data["what_ifs"] = {"it": what_if}
    return data


def test_an_extra_shift_adds_staff_at_its_hours_and_is_paid_for_them():
    data = compare_desk(
        changes=[{"change": "extra_shift", "silo": "desk", "from": "17 h", "to": "20 h", "add": 3}]
    )
    data["period"] = "1 h"
    result = run(parse_scenario(data, "desk.yaml"), seed=1, what_if="it")
    on_duty = result.timeseries["staff_desk"].to_numpy()[: 6 * 24]
    hours = np.arange(len(on_duty)) % 24
    assert (on_duty[(hours > 17) & (hours < 20)] == 5).all()
    assert (on_duty[(hours < 17) | (hours > 20)] == 2).all()
    assert result.summary["staff_cost"] == pytest.approx((2 * 24 + 3 * 3) * 6 * 10)


def test_added_staff_leave_again_at_until():
    change = {"change": "add_staff", "silo": "desk", "count": 4, "until": "3 days"}
    data = compare_desk(start="1 day", changes=[change])
    result = run(parse_scenario(data, "desk.yaml"), seed=1, what_if="it")
    assert list(result.timeseries["staff_desk"].to_numpy()[:6]) == pytest.approx([2, 6, 6, 2, 2, 2])
    assert result.summary["staff_cost"] == pytest.approx((2 * 6 + 4 * 2) * 24 * 10)


def test_a_demand_what_if_multiplies_arrivals_on_top_of_the_timeline():
    timeline = [{"start": "1 day", "end": "3 days", "factor": 2}]
    data = compare_desk(
        changes=[{"change": "demand", "factor": 1.5, "from": "2 days", "to": "4 days"}]
    )
    data["arrivals"]["timeline"] = timeline
    result = run(parse_scenario(data, "desk.yaml"), seed=1, what_if="it")
    counts = result.timeseries["arrivals"].to_numpy()
    for day, factor in enumerate([1, 2, 3, 1.5, 1, 1]):  # day 2: ×2 × ×1.5
        expected = 1000 * factor
        assert abs(counts[day] - expected) <= Z99 * math.sqrt(expected), (day, counts)
