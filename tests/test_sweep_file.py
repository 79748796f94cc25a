"""Sweep files: every problem one line naming the file and the field, values checked early."""

from __future__ import annotations

import pytest
import yaml
from test_cli import call_main

from spiral.errors import ScenarioError
from spiral.sweep_file import Range, load_sweep, set_path

BASE = {
    "scenario": "online_retail",
    "design": {"kind": "lhs", "samples": 4},
    "parameters": {"steps.deliver.failure": {"low": 0.1, "high": 0.3}},
}

BAD = {
    "unknown metric": (
        {"metrics": ["churn"]},
        "metrics",
        "unknown metric 'churn'; expected one of churn_rate, complaints,",
    ),
    "value the scenario refuses": (
        {"parameters": {"steps.deliver.failure": {"low": 0.1, "high": 1.5}}},
        "parameters.steps.deliver.failure",
        "the value 1.5 gives steps.deliver.failure: expected a probability in [0, 1], got 1.5",
    ),
    "unknown step": (
        {"parameters": {"steps.nope.failure": [0.1]}},
        "parameters.steps.nope.failure",
        "no steps entry 'nope' in the scenario; expected one of checkout, pick_pack, deliver,",
    ),
    "sobol not a power of 2": (
        {"design": {"kind": "sobol", "samples": 6}},
        "design",
        "sobol: expected samples a power of 2, got 6",
    ),
    "two units": (
        {"parameters": {"arrivals.rate": {"low": "400 per day", "high": "9 per h"}}},
        "parameters.arrivals.rate",
        "expected low and high in one unit, got 'per day' and 'per h'",
    ),
    "low above high": (
        {"parameters": {"steps.deliver.failure": {"low": 0.3, "high": 0.1}}},
        "parameters.steps.deliver.failure",
        "expected low < high, got 0.3 and 0.1",
    ),
    "unknown what-if": (
        {"parameters": {"what_if": ["baseline", "nope"]}},
        "parameters.what_if",
        "the value 'nope' gives nope: unknown what-if (expected one of: fix_delivery,",
    ),
    "inside a number": (
        {"parameters": {"steps.checkout.failure.x": [1]}},
        "parameters.steps.checkout.failure.x",
        "steps.checkout.failure is 0.04 in the scenario, not a mapping; write it in full",
    ),
    "unknown design": (
        {"design": {"kind": "random"}},
        "design.kind",
        "input should be 'grid', 'lhs', 'sobol' or 'morris'",
    ),
    "no parameters": ({"parameters": {}}, "parameters", "at least 1 item"),
    "unknown scenario": ({"scenario": "nope"}, "scenario", "no such file or built-in scenario"),
    "unknown field": ({"sample": 3}, "sample", "unknown field"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_sweep_file_gets_one_line_naming_the_file_and_field(tmp_path, case):
    change, field, expected = BAD[case]
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**BASE, **change}), encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_sweep(path)
    (line,) = error.value.lines()
    assert line.startswith(f"{path}: {field}: ")
    assert expected in line


def test_the_sweep_command_refuses_a_bad_file_with_exit_code_2(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**BASE, "metrics": ["churn"]}), encoding="utf-8")
    code, out, err = call_main(monkeypatch, capsys, "sweep", path, "--out", tmp_path / "o")
    assert code == 2 and out == ""
    assert err.strip().startswith(f"{path}: metrics: unknown metric 'churn'")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_range_keeps_the_unit_it_was_written_in():
    rate = Range(low="400 per day", high="600 per day")
    assert rate.at(0.0) == "400 per day" and rate.at(0.25) == "450 per day"
    assert Range(low=0.1, high=0.3).at(0.5) == pytest.approx(0.2)


def test_set_path_creates_missing_mappings_and_refuses_to_enter_a_value():
    data = {"steps": {"a": {"failure": 0.1}}}
    set_path(data, "experience.compounding", 1.3)
    set_path(data, "steps.a.failure", 0.2)
    assert data == {"steps": {"a": {"failure": 0.2}}, "experience": {"compounding": 1.3}}
    with pytest.raises(ValueError, match="steps.a.failure is 0.2 in the scenario, not a mapping"):
        set_path(data, "steps.a.failure.low", 1)


def test_a_scenario_path_is_read_relative_to_the_sweep_file(tmp_path):
    (tmp_path / "sub").mkdir()
    from spiral.loading import resolve_source

    (tmp_path / "sub" / "mine.yaml").write_text(
        resolve_source("online_retail").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = tmp_path / "sub" / "sweep.yaml"
    path.write_text(yaml.safe_dump({**BASE, "scenario": "mine.yaml", "horizon": "5 days"}))
    sweep = load_sweep(path)
    assert sweep.base_source == str(tmp_path / "sub" / "mine.yaml")
    assert sweep.scenario.horizon == 5 * 1440 and sweep.scenario.customers is None
    assert sweep.name == "sweep"


def test_whole_number_ranges_are_integers_only_where_the_field_refuses_a_fraction(tmp_path):
    path = tmp_path / "sweep.yaml"
    parameters = {
        "silos.customer_service.staff": {"low": 1, "high": 5},  # staff: whole people
        "silos.customer_service.baton": {"low": 0, "high": 1},  # a probability
    }
    path.write_text(yaml.safe_dump({**BASE, "parameters": parameters}), encoding="utf-8")
    found = load_sweep(path).spec.parameters
    assert found["silos.customer_service.staff"].integer is True
    assert found["silos.customer_service.baton"].integer is False
    staff = found["silos.customer_service.staff"]
    values = [staff.at(u) for u in (0.0, 0.1999, 0.2, 0.5, 0.7999, 0.8, 1.0)]
    assert values == [1, 1, 2, 3, 4, 5, 5]  # five equal slices of [0, 1]
    assert found["silos.customer_service.baton"].at(0.5) == 0.5


def test_an_engine_the_scenario_rules_out_is_refused_when_the_file_is_read(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**BASE, "engine": "vectorised"}), encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_sweep(path)
    (line,) = error.value.lines()
    assert line.startswith(f"{path}: engine: the vectorised engine cannot run this: ")
    assert line.endswith("; expected auto or des")
