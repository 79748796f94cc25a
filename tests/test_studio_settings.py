"""The studio's knobs: read from a scenario, written back into its data, validated, saved."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from spiral.model.errors import ScenarioError
from spiral.model.loading import (
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    read_yaml,
    yaml_data,
)
from spiral.studio.settings import apply_knobs, command_lines, knobs_of


def test_the_knobs_read_the_scenario_and_rates_are_per_day(tiny_data, tiny_scenario):
    knobs = knobs_of(tiny_scenario)
    assert knobs.failure == {"order": 0.1, "ship": 0.2}
    assert knobs.staff == {"ops": 3, "support": 2}  # the unlimited web silo has no slider
    assert knobs.arrival_rate == pytest.approx(200.0)
    assert knobs.baton == tiny_scenario.experience.baton


def test_only_the_moved_knobs_are_written_and_the_result_validates(tiny_data, tiny_scenario):
    knobs = dataclasses.replace(
        knobs_of(tiny_scenario),
        failure={"order": 0.1, "ship": 0.05},
        staff={"ops": 5, "support": 2},
    )
    setting = apply_knobs(tiny_data, knobs, "tiny.yaml")
    assert setting.changed == ["steps.ship.failure", "silos.ops.staff"]
    assert setting.scenario.steps["ship"].failure == 0.05
    assert setting.scenario.silos["ops"].staff == 5
    assert setting.data["steps"]["order"] == tiny_data["steps"]["order"]  # untouched
    assert tiny_data["steps"]["ship"]["failure"] == 0.2  # the loaded data is not changed


def test_the_saved_file_loads_back_as_the_same_scenario(tiny_data, tiny_scenario):
    knobs = dataclasses.replace(
        knobs_of(tiny_scenario), arrival_rate=333.0, amplification=3.5, compounding=2.0, baton=0.8
    )
    setting = apply_knobs(tiny_data, knobs, "tiny.yaml")
    text = setting.yaml_text("tiny")
    assert text.startswith("# saved by `spiral studio` from tiny\n# changed: ")
    loaded = parse_scenario(yaml_data(text, "saved.yaml"), "saved.yaml")
    assert loaded == setting.scenario
    assert loaded.arrivals.rate * 1440 == pytest.approx(333.0)
    assert (loaded.experience.amplification, loaded.experience.compounding) == (3.5, 2.0)


def test_the_baton_sets_the_warm_share_in_every_silo_that_sets_its_own(tiny_data, tiny_scenario):
    tiny_data["silos"]["support"]["baton"] = 0.1
    knobs = dataclasses.replace(knobs_of(parse_scenario(tiny_data, "t")), baton=0.9)
    setting = apply_knobs(tiny_data, knobs, "tiny.yaml")
    assert setting.scenario.experience.baton == 0.9
    assert setting.scenario.silos["support"].baton == 0.9
    assert "silos.support.baton" in setting.changed


def test_an_impossible_setting_is_refused_in_one_line_naming_the_field(tiny_data, tiny_scenario):
    knobs = dataclasses.replace(knobs_of(tiny_scenario), amplification=0.5)
    with pytest.raises(ScenarioError) as refused:
        apply_knobs(tiny_data, knobs, "tiny.yaml")
    assert refused.value.lines() == [
        "tiny.yaml: experience.amplification: input should be greater than or equal to 1"
    ]


def test_the_command_lines_reproduce_each_view():
    assert command_lines("s.yaml", 7) == ["spiral run s.yaml --seed 7"]
    assert command_lines("s.yaml", 7, 3) == [
        "for s in $(seq 7 9); do spiral run s.yaml --seed $s; done"
    ]
    assert command_lines("s.yaml", 7, 3, what_if="warm_handoffs") == [
        "spiral compare s.yaml --what-if warm_handoffs --replications 3 --seed 7"
    ]
    assert command_lines("my file.yaml", 2, 1, original="a.yaml") == [
        "spiral run 'my file.yaml' --seed 2",
        "spiral run a.yaml --seed 2",
    ]


def test_the_saved_settings_file_is_plain_yaml(tiny_data, tiny_scenario):
    setting = apply_knobs(tiny_data, knobs_of(tiny_scenario), "tiny.yaml")
    assert setting.changed == []
    assert yaml.safe_load(setting.yaml_text("tiny")) == tiny_data


def test_a_silo_on_a_roster_has_no_head_count_knob():
    scenario = load_scenario("lending_centre")
    assert scenario.silos["centre"].roster is not None
    assert "centre" not in knobs_of(scenario).staff


def test_untouched_knobs_change_nothing_in_any_built_in():
    for name, path in builtin_scenarios().items():
        data = read_yaml(path)
        setting = apply_knobs(data, knobs_of(parse_scenario(data, name)), name)
        assert setting.changed == [] and setting.data == data, name
