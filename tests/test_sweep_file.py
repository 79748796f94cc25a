"""Sweep files: every problem one line naming the file and the field, values checked early."""

from __future__ import annotations

import pytest
import yaml
from test_cli import call_main

from spiral.model.errors import ScenarioError
from spiral.model.loading import resolve_source as resolve_builtin
from spiral.sweeps.sweep_file import Range, load_sweep, set_path

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
    from spiral.model.loading import resolve_source

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


def write(tmp_path, **changes):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**BASE, **changes}), encoding="utf-8")
    return path


def one_line(path) -> str:
    with pytest.raises(ScenarioError) as error:
        load_sweep(path)
    (line,) = error.value.lines()
    return line


def test_seed_and_other_reserved_names_are_not_parameters(tmp_path):
    for name in ("seed", "name", "status", "churn_rate"):
        line = one_line(write(tmp_path, parameters={name: [1, 2]}))
        assert line.startswith(f"{tmp_path / 'sweep.yaml'}: parameters.{name}: not a parameter")


def test_a_what_if_field_needs_a_what_if_parameter_that_switches_it_on(tmp_path):
    cost = {"what_ifs.fix_delivery.cost.one_off": [0, 1000]}
    line = one_line(write(tmp_path, parameters=cost))
    assert "changes the what-if 'fix_delivery', which no run switches on" in line
    ok = write(tmp_path, parameters={**cost, "what_if": ["baseline", "fix_delivery"]})
    assert "what_ifs.fix_delivery.cost.one_off" in load_sweep(ok).parameters


def test_whole_decimal_ends_on_an_integer_field_make_an_integer_range(tmp_path):
    staff = {"silos.customer_service.staff": {"low": 1.0, "high": 3.0}}
    found = load_sweep(write(tmp_path, parameters=staff)).spec.parameters
    assert found["silos.customer_service.staff"].integer is True
    explicit = {"silos.customer_service.staff": {"low": 1, "high": 3, "integer": False}}
    line = one_line(write(tmp_path, parameters=explicit))
    assert "parameters.silos.customer_service.staff.integer: the field takes whole numbers" in line


def test_customers_that_all_arrive_within_the_warm_up_are_refused(tmp_path):
    line = one_line(write(tmp_path, customers=300))
    assert ": customers: 300 customers arrive in about 0.7 days, within the scenario's" in line


def test_a_horizon_within_the_warm_up_is_blamed_on_the_sweep_files_horizon(tmp_path):
    line = one_line(write(tmp_path, horizon="2 days"))
    assert line.startswith(f"{tmp_path / 'sweep.yaml'}: horizon: ")
    assert "warm-up" in line


def test_one_engine_serves_every_run_of_a_sweep(tmp_path):
    unlimited = {
        **BASE,
        "parameters": {"silos.courier_desk.baton": [0.1, 0.9]},
    }
    data = yaml.safe_load(open(resolve_builtin("online_retail"), encoding="utf-8"))
    for silo in data["silos"].values():
        silo["staff"] = "unlimited"
    data["loops"] = {"erosion": {"enabled": False}}
    data["what_ifs"] = {"fix_delivery": data["what_ifs"]["fix_delivery"]}  # no staff changes
    (tmp_path / "unl.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    path = write(tmp_path, **{**unlimited, "scenario": "unl.yaml"})
    assert load_sweep(path).engine == "vectorised"
    # a what-if parameter needs the SimPy engine for every run, baseline runs included
    with_what_if = {"silos.courier_desk.baton": [0.1, 0.9], "what_if": ["baseline", "fix_delivery"]}
    path = write(tmp_path, scenario="unl.yaml", parameters=with_what_if)
    assert load_sweep(path).engine == "des"
    staff = {"silos.courier_desk.staff": ["unlimited", 2]}
    path = write(tmp_path, scenario="unl.yaml", parameters=staff, engine="vectorised")
    line = one_line(path)
    assert line.startswith(f"{path}: engine: the vectorised engine cannot run this: ")
    assert "(at parameters.silos.courier_desk.staff = 2); expected auto or des" in line
