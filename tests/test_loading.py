"""Loading scenario files: YAML problems by line, built-ins by name, hashes and lengths."""

from __future__ import annotations

import pytest
from examples import TINY

from spiral.errors import ScenarioError
from spiral.loading import (
    DEFAULT_SCENARIO,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    scenario_hash,
    with_length,
)


def lines_of(path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.lines()


def test_a_file_and_a_builtin_name_both_load(write_scenario):
    scenario = load_scenario(write_scenario(TINY))
    assert scenario.name == "tiny" and scenario.horizon == 5 * 1440
    assert load_scenario(DEFAULT_SCENARIO).name == DEFAULT_SCENARIO
    assert DEFAULT_SCENARIO in builtin_scenarios()


def test_yaml_syntax_errors_name_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsteps:\n  a: {silo: ops\n  b: 1\n")
    [line] = lines_of(path)
    assert line.startswith(f"{path}: line ") and "invalid YAML" in line


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("name: x\nstart: a\nstart: b\n")
    assert lines_of(path) == [f"{path}: line 3: key 'start' appears twice; expected each key once"]


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert lines_of(path) == [f"{path}: (top level): expected a mapping of scenario fields"]


def test_a_missing_file_names_the_builtins():
    [line] = lines_of("no_such_scenario.yaml")
    assert line.startswith("no_such_scenario.yaml: file: no such file or built-in scenario")
    assert DEFAULT_SCENARIO in line


def test_problems_in_a_file_are_reported_with_its_path(write_scenario):
    bad = {**TINY, "arrivals": {"rate": "lots"}}
    path = write_scenario(bad, "bad.yaml")
    assert lines_of(path) == [
        f"{path}: arrivals.rate: expected a rate like '120 per day' (s, min, h, day(s), "
        "week(s)), got 'lots'"
    ]


def test_with_length_switches_between_horizon_and_customers():
    scenario = parse_scenario(TINY, "tiny.yaml")
    by_count = with_length(scenario, customers=500)
    assert by_count.customers == 500 and by_count.horizon is None
    by_time = with_length(by_count, horizon=60.0)
    assert by_time.horizon == 60.0 and by_time.customers is None
    with pytest.raises(ValueError, match="give either horizon or customers, not both"):
        with_length(scenario, horizon=1.0, customers=1)
    with pytest.raises(ValueError, match="customers must be positive, got 0"):
        with_length(scenario, customers=0)


def test_the_scenario_hash_is_stable_and_changes_with_content():
    a = parse_scenario(TINY, "a.yaml")
    b = parse_scenario(TINY, "b.yaml")
    assert scenario_hash(a) == scenario_hash(b) and len(scenario_hash(a)) == 64
    changed = parse_scenario({**TINY, "seed": 2}, "a.yaml")
    assert scenario_hash(changed) != scenario_hash(a)
