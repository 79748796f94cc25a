"""The run front door: seeds and the result object."""

from __future__ import annotations

import pytest
from examples import TINY

from spiral.analysis.results import run
from spiral.model.loading import parse_scenario


def test_a_negative_seed_is_refused_with_its_value():
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        run(parse_scenario(TINY, "tiny.yaml"), seed=-1)


def test_the_scenario_seed_is_the_default():
    scenario = parse_scenario({**TINY, "seed": 42}, "tiny.yaml")
    default, explicit = run(scenario), run(scenario, seed=42)
    assert default.seed == 42
    assert default.summary == explicit.summary


def test_the_result_exposes_summary_customers_events_and_timeseries():
    result = run(parse_scenario(TINY, "tiny.yaml"), seed=1, event_log=True)
    assert result.summary["arrivals"] == len(result.customers)
    assert set(result.events["customer"]) == set(result.customers["customer"])
    assert result.timeseries["arrivals"].sum() == len(result.customers)
