"""Every built-in scenario validates, runs, says where its numbers come from and shows a spiral."""

from __future__ import annotations

import pytest

from spiral.analysis.results import run
from spiral.model.loading import DEFAULT_SCENARIO, builtin_scenarios, load_scenario

NAMES = sorted(builtin_scenarios())


def test_there_are_the_four_promised_scenarios_and_the_default_is_one():
    assert {"online_retail", "broadband_install", "airline_disruption", "b2b_equipment"} <= set(
        NAMES
    )
    assert DEFAULT_SCENARIO in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_scenario_file_opens_with_a_header_saying_what_it_models_and_its_sources(name):
    text = builtin_scenarios()[name].read_text(encoding="utf-8")
    header = text.split("\nname:")[0]
    assert all(line.startswith("#") for line in header.splitlines() if line.strip())
    assert "Where the numbers come from" in header
    assert "guess" in header  # says which numbers are not from a source
    assert load_scenario(name).description


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_scenario_runs_to_completion_and_shows_a_death_spiral(name):
    result = run(load_scenario(name))
    summary, table = result.summary, result.spiral
    assert summary["in_progress"] <= 0.001 * summary["customers"]
    # enough customers meet three or more failures to measure them (since the built-ins
    # were calibrated, about half of the failures are suffered in silence and fewer
    # customers reach the exception paths), and each further failure multiplies severity:
    # two more failures at least amplification² times, handoffs and repeats on top
    assert table.loc["3+", "customers"] >= 20
    amplification = result.scenario.experience.amplification
    assert table.loc["3+", "severity_mean"] > amplification**2 * table.loc["1", "severity_mean"]
    assert table.loc["3+", "churn_rate"] > 3 * table.loc["0", "churn_rate"]
    assert table["churn_rate"].is_monotonic_increasing
    for silo, row in result.silos.iterrows():
        if row["staff"] != "unlimited":
            assert row["utilisation"] < 0.95, silo
