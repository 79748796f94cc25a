"""The early warning fires when a team passes its line for two periods, before the runaway."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_tipping_point import TEAM  # a sibling test module's scenario

from spiral.analysis.early_warning import EarlyWarning, early_warning, failure_doubled_day
from spiral.analysis.results import run
from spiral.model.loading import load_scenario, parse_scenario


def periods(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"start": np.arange(n) * 1440.0, **columns})


def test_it_fires_at_the_first_of_two_periods_above_the_erosion_threshold():
    scenario = parse_scenario(TEAM, "team.yaml")  # threshold 0.9
    series = periods(pressure_team=[0.5, 0.95, 0.7, 0.8, 0.91, 0.93, 1.2])
    warning = early_warning(series, scenario)
    assert (warning.day, warning.silo, warning.threshold) == (4.0, "team", 0.9)
    assert warning.pressure == pytest.approx(0.91) and warning.eroding
    assert warning.gain > 1 and "expect a runaway" in warning.reason()


def test_one_busy_period_is_not_a_warning():
    scenario = parse_scenario(TEAM, "team.yaml")
    assert early_warning(periods(pressure_team=[0.5, 0.95, 0.7, 0.8, 0.95]), scenario) is None


def test_without_erosion_the_line_is_more_work_than_staff():
    scenario = parse_scenario({**TEAM, "loops": {}}, "team.yaml")
    series = periods(pressure_team=[0.95, 0.99, 1.01, 1.02])
    warning = early_warning(series, scenario)
    assert warning.day == 2.0 and not warning.eroding and warning.gain is None
    assert warning.reason() == (
        "day 2: team's work pressure 1.01 above 1: more work arrives than its staff can do"
    )


def test_a_gain_below_one_says_the_damage_lasts():
    warning = EarlyWarning(3.0, "centre", 1.05, 1.0, True, 0.1)
    assert "loop gain 0.10 < 1" in warning.reason() and "lasting damage" in warning.reason()


def test_failure_doubled_on_the_first_period_a_step_reached_twice_its_base():
    series = periods(failure_handle=[0.1, 0.15, 0.19, 0.2, 0.3], failure_check=[0.0] * 5)
    assert failure_doubled_day(series, {"handle": 0.1, "check": 0.0}) == 3.0
    assert failure_doubled_day(series.iloc[:3], {"handle": 0.1}) is None


def short(name: str, rate: float):
    scenario = load_scenario(name)
    arrivals = scenario.arrivals.model_copy(update={"rate": rate / 1440})
    return scenario.model_copy(
        update={"arrivals": arrivals, "horizon": 45 * 1440.0, "drain": 1440.0}
    )


@pytest.mark.slow
def test_the_warning_comes_days_before_failure_doubles_and_never_in_a_stable_run():
    for seed in (1, 2, 3):
        spiral = run(short("tipping_point", 1100), seed=seed).summary
        assert spiral["regime"] == "runaway"
        assert spiral["early_warning_day"] + 4 <= spiral["failure_doubled_day"], spiral
        calm = run(short("tipping_point", 950), seed=seed).summary
        assert calm["regime"] == "stable"
        assert calm["early_warning_day"] is None and calm["early_warning"] is None
