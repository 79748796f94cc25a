"""Size guards: a run is sized from its scenario and refused past a limit, in one line."""

from __future__ import annotations

import math

import pytest

from spiral.model.limits import (
    Limits,
    expected_visits,
    journey_problems,
    log_events,
    parse_amount,
    run_problems,
    run_size,
    suggest,
    trapped_nodes,
)
from spiral.model.loading import builtin_scenarios, load_scenario, parse_scenario


def test_expected_visits_of_the_tiny_journey_match_the_hand_computed_chain(tiny_data):
    """Order → help (p 0.1) or ship; ship → help (0.2); help resolves (0.6) or repeats (0.8)."""
    visits = expected_visits(parse_scenario(tiny_data))
    # help is reached from order (0.1) and from ship (0.2 of ship's visits); each arrival at
    # help makes 1 / (1 - 0.4 * 0.8) visits to it before leaving it; ship's visits are
    # 0.9 + 0.6 × help's visits (resolved customers go back to ship)
    per_arrival = 1 / (1 - 0.4 * 0.8)
    # solve ship = 0.9 + 0.6 * help, help = (0.1 + 0.2 * ship) * per_arrival
    ship = (0.9 + 0.6 * 0.1 * per_arrival) / (1 - 0.6 * 0.2 * per_arrival)
    help_ = (0.1 + 0.2 * ship) * per_arrival
    assert visits["order"] == pytest.approx(1.0)
    assert visits["ship"] == pytest.approx(ship, rel=1e-12)
    assert visits["help"] == pytest.approx(help_, rel=1e-12)


def test_a_contact_customers_cannot_leave_is_a_trap_with_infinite_visits(tiny_data):
    """Help that never resolves and always routes back to itself traps whoever reaches it."""
    tiny_data["contacts"]["help"].update(fcr=0.0, unresolved={"help": 1.0})
    scenario = parse_scenario(tiny_data)
    assert trapped_nodes(scenario) == ["help"]
    assert math.isinf(expected_visits(scenario)["help"])
    [(field, why)] = journey_problems(scenario, Limits())
    assert field == "contacts.help"
    assert why.startswith("customers who reach help can never leave the journey")


def test_a_near_trap_is_refused_with_its_visits_and_the_flag_that_raises_the_limit(tiny_data):
    """Exit probability 1e-6 per visit: about a million visits per customer."""
    tiny_data["contacts"]["help"].update(fcr=0.0, unresolved={"help": 0.999999, "gone": 1e-6})
    scenario = parse_scenario(tiny_data)
    size = run_size(scenario)
    # 0.1 + 0.9 × 0.2 of customers reach help and then stay 1e6 visits
    assert size.visits == pytest.approx(1 + 0.9 + 0.28 * 1e6, rel=1e-4)
    [(field, why)] = journey_problems(scenario, Limits())
    assert field == "contacts.help"
    assert "280,002 visits on average, most at help" in why
    assert why.endswith("or raise the limit with --limit visits=290000")
    assert journey_problems(scenario, Limits(visits=2e6)) == []  # incl. the unlucky (1e6)


def test_compounding_that_makes_failure_certain_is_a_trap_for_unlucky_customers(tiny_data):
    """A contact that always resolves back to the failing step: only success leaves."""
    tiny_data["contacts"]["help"].update(fcr=1.0)
    scenario = parse_scenario(tiny_data)
    assert trapped_nodes(scenario) == []  # with base probabilities customers leave
    assert trapped_nodes(scenario, worst=True)  # failing for ever, they would not
    [(field, why)] = journey_problems(scenario, Limits())
    assert field.startswith("steps.")
    assert why.startswith("with compounding 1.5 failures grow ever likelier")
    tiny_data["experience"] = {"compounding": 1.0}  # no compounding: no such customer
    assert journey_problems(parse_scenario(tiny_data), Limits()) == []


def test_every_builtin_scenario_passes_every_guard():
    """The guards must never refuse what ships."""
    for name in builtin_scenarios():
        assert run_problems(load_scenario(name), Limits()) == [], name


def test_a_trillion_customers_are_refused_naming_the_field_and_the_flag(tiny_data):
    del tiny_data["horizon"]
    tiny_data["customers"] = 10**12
    problems = dict(run_problems(parse_scenario(tiny_data), Limits()))
    assert problems["customers"].startswith("about 1e12 customers, above the limit of 10,000,000")
    assert problems["customers"].endswith("--limit customers=1e12")


def test_a_tiny_tick_and_period_are_refused_by_the_updates_they_would_make(tiny_data):
    """5 days + 30 days of drain at one update a second: 3,024,000 ticks and periods."""
    tiny_data["loops"] = {"tick": "1 s"}
    tiny_data["period"] = "1 s"
    problems = dict(run_problems(parse_scenario(tiny_data), Limits()))
    assert problems["loops.tick"].startswith("3,024,000 updates of the system loops")
    assert problems["period"].startswith("3,024,000 periods in the time series")
    assert run_problems(parse_scenario(tiny_data), Limits(ticks=4e6, periods=4e6)) == []


def test_total_visits_past_the_work_limit_are_refused(tiny_data):
    scenario = parse_scenario(tiny_data)
    visits = run_size(scenario).total_visits
    [(field, why)] = run_problems(scenario, Limits(work=visits / 2))
    assert field == "horizon"
    assert "visits in all" in why and "--limit work=" in why


def test_memory_past_the_limit_is_refused_with_the_estimate(tiny_data):
    scenario = parse_scenario(tiny_data)
    need = run_size(scenario).memory
    [(field, why)] = run_problems(scenario, Limits(memory=need / 2))
    assert field == "horizon"
    assert why.startswith("needs about") and "--limit memory=" in why
    [(_, why)] = run_problems(scenario, Limits(memory=need * 1.5), parallel=2)
    assert "(2 runs at once)" in why


@pytest.mark.parametrize(
    ("text", "value"),
    [("2e7", 2e7), ("20M", 2e7), ("1.5k", 1500), ("inf", math.inf), ("8 GB", 8e9)],
)
def test_amounts_read_as_numbers_with_suffixes(text, value):
    assert parse_amount(text) == value


def test_memory_amounts_read_binary_units():
    assert parse_amount("512 MiB", memory=True) == 512 * 2**20


@pytest.mark.parametrize("text", ["", "-3", "0", "lots", "1e999", "5 parsecs"])
def test_a_bad_amount_is_refused(text):
    with pytest.raises(ValueError, match="expected a positive"):
        parse_amount(text)


def test_overrides_name_a_known_limit_or_are_refused():
    assert Limits().with_overrides(["customers=5e7", "log-events=1M"]).customers == 5e7
    assert Limits().with_overrides(["log_events=1M"]).log_events == 1e6
    with pytest.raises(ValueError, match="expected NAME=VALUE with NAME one of customers"):
        Limits().with_overrides(["speed=3"])


@pytest.mark.parametrize(
    ("value", "shown"),
    [(3.2, "4"), (999, "1000"), (280_002, "290000"), (3_024_000, "3.1e6"), (1e12, "1e12")],
)
def test_suggested_limits_are_round_numbers_at_or_above_the_need(value, shown):
    assert suggest(value) == shown
    assert parse_amount(shown) >= value


def test_log_events_counts_csv_rows_and_xes_events_without_parsing(tmp_path):
    csv = tmp_path / "log.csv"
    csv.write_text("case,activity\n" + "".join(f"{i},a\n" for i in range(2500)))
    assert log_events(csv) == 2500
    xes = tmp_path / "log.xes"
    # events straddle the 1 MB reading blocks
    xes.write_text("<log><trace>" + "<event/>" * 300_000 + "</trace></log>")
    assert log_events(xes) == 300_000
