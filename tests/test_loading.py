"""Loading scenario files: YAML problems by line, fields by dotted path, built-ins, hashes."""

from __future__ import annotations

import re

import pytest
import yaml

from spiral.analysis.results import run
from spiral.model.errors import ScenarioError, problem
from spiral.model.loading import (
    DEFAULT_SCENARIO,
    builtin_description,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    scenario_hash,
    with_length,
)

UNITS = "s, min, h, day(s), week(s)"
LINE = re.compile(r"^(?P<file>[^:]+): (?P<field>[\w.\[\]]+|\(top level\)): (?P<what>.+)$")


def lines_of(source) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(source)
    return caught.value.lines()


def needs_builtins() -> dict:
    builtins = builtin_scenarios()
    assert DEFAULT_SCENARIO in builtins
    return builtins


# --- loading a file ----------------------------------------------------------------------


def test_the_verbatim_tiny_file_holds_the_tiny_data(tiny_file, tiny_data):
    assert yaml.safe_load(tiny_file.read_text()) == tiny_data


def test_a_file_loads_into_minutes_and_per_minute_rates(tiny_file):
    scenario = load_scenario(tiny_file)
    assert scenario.name == "tiny"
    assert scenario.horizon == 5 * 1440 and scenario.customers is None
    assert scenario.arrivals.rate == pytest.approx(200 / 1440)
    assert scenario.start == {"order": 1.0}
    assert scenario.silos["web"].staff == "unlimited" and scenario.silos["ops"].staff == 3
    assert scenario.steps["order"].service.mean() == 5.0
    assert scenario.steps["ship"].next == {"done": 1.0}
    assert scenario.contacts["help"].handling.mean() == 8.0
    assert scenario.contacts["help"].unresolved == {"help": 0.8, "gone": 0.2}
    assert scenario.outcomes["gone"].kind == "churn"
    assert scenario.outcomes["done"].kind == "complete"
    assert scenario.node_names() == ["order", "ship", "help", "done", "gone"]


def test_a_path_given_as_text_or_path_loads_the_same(tiny_file):
    assert load_scenario(str(tiny_file)) == load_scenario(tiny_file)


def test_a_file_in_the_working_folder_wins_over_a_builtin_name(tiny_file, tmp_path, monkeypatch):
    (tmp_path / DEFAULT_SCENARIO).write_text(tiny_file.read_text())
    monkeypatch.chdir(tmp_path)
    assert load_scenario(DEFAULT_SCENARIO).name == "tiny"


# --- built-ins ---------------------------------------------------------------------------


def test_builtin_scenarios_are_named_by_their_yaml_files():
    builtins = needs_builtins()
    for name, path in builtins.items():
        assert path.suffix == ".yaml" and path.stem == name and path.is_file()
    assert list(builtins) == sorted(builtins)


def test_a_builtin_loads_by_name_as_from_its_file():
    builtins = needs_builtins()
    assert load_scenario(DEFAULT_SCENARIO) == load_scenario(builtins[DEFAULT_SCENARIO])


def test_a_builtin_description_is_the_first_line_of_its_description(tmp_path):
    path = tmp_path / "described.yaml"
    path.write_text("name: x\ndescription: |\n  First line.\n  Second line.\n")
    assert builtin_description(path) == "First line."


def test_a_builtin_without_description_is_listed_with_an_empty_one(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text("name: x\n")
    assert builtin_description(path) == ""


def test_a_missing_file_is_one_line_naming_the_builtins():
    [line] = lines_of("no_such_scenario.yaml")
    names = ", ".join(builtin_scenarios())
    assert line == (
        f"no_such_scenario.yaml: file: no such file or built-in scenario (built-ins: {names})"
    )


# --- YAML problems -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\nhorizon: 5 days\n  bad: indent\n",
            "line 3: invalid YAML (mapping values are not allowed here); expected a YAML mapping",
        ),
        (
            "name: x\nsteps:\n  a: {silo: ops\n  b: 1\n",
            "line 4: invalid YAML (expected ',' or '}', but got ':'); expected a YAML mapping",
        ),
        (
            "name: x\n\tstart: a\n",
            "line 2: invalid YAML (found character '\\t' that cannot start any token); "
            "expected a YAML mapping",
        ),
        (
            "name: x\nstart: a\nstart: b\n",
            "line 3: key 'start' appears twice; expected each key once",
        ),
        (
            "name: x\nsteps:\n  a: {silo: ops}\n  b: {}\n  a: {silo: web}\n",
            "line 5: key 'a' appears twice; expected each key once",
        ),
        ("- a\n- b\n", "(top level): expected a mapping of scenario fields"),
        ("", "(top level): expected a mapping of scenario fields"),
        ("just text\n", "(top level): expected a mapping of scenario fields"),
    ],
)
def test_yaml_problems_are_one_line_naming_the_line(tmp_path, text, expected):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    assert lines_of(path) == [f"{path}: {expected}"]


def test_a_file_that_is_not_utf8_cannot_be_read(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\n".encode("latin-1"))
    [line] = lines_of(path)
    assert line.startswith(f"{path}: file: cannot be read ('utf-8' codec can't decode byte 0xe9")


# --- field problems by dotted path -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["steps"]["ship"].update(failrue=0.1),
            [
                "steps.ship.failrue: unknown field; expected one of the documented fields "
                "(see `spiral schema`)"
            ],
        ),
        (
            lambda d: d.update(loops={"erosion": {"enabeld": True}}),
            [
                "loops.erosion.enabeld: unknown field; expected one of the documented fields "
                "(see `spiral schema`)"
            ],
        ),
        (
            lambda d: d.update(
                experience={"escalation": {"social": {"treshold": 3, "probability": 0.1}}}
            ),
            [
                "experience.escalation.social.threshold: missing; expected this field "
                "(see `spiral schema`)",
                "experience.escalation.social.treshold: unknown field; expected one of the "
                "documented fields (see `spiral schema`)",
            ],
        ),
        (
            lambda d: d["contacts"]["help"]["handling"].update(sd="2 min"),
            [
                "contacts.help.handling.sd: unknown field; expected one of the documented fields "
                "(see `spiral schema`)"
            ],
        ),
        (
            lambda d: d["steps"]["order"].update(
                service={"dist": "empirical", "values": ["1 min", 3]}
            ),
            [
                f"steps.order.service.values[1]: expected a duration with a unit like '8 min' "
                f"({UNITS}), got bare number 3"
            ],
        ),
        (
            lambda d: d["contacts"]["help"].pop("fcr"),
            ["contacts.help.fcr: missing; expected this field (see `spiral schema`)"],
        ),
        (
            lambda d: d.update(arrivals={"rate": "lots"}),
            [f"arrivals.rate: expected a rate like '120 per day' ({UNITS}), got 'lots'"],
        ),
        (
            lambda d: d.update(arrivals={"rate": "5 per h", "schedule": {"multipliers": [1, -1]}}),
            ["arrivals.schedule.multipliers[1]: input should be greater than or equal to 0"],
        ),
        (
            lambda d: d["silos"]["ops"].update(staff=0),
            ["silos.ops.staff: expected at least 1 staff or 'unlimited', got 0"],
        ),
        (
            lambda d: d["contacts"]["help"].pop("give_up"),
            ["contacts.help: expected give_up (an outcome) when patience is set and redial < 1"],
        ),
        (
            lambda d: d["outcomes"]["gone"].update(kind="angry"),
            ["outcomes.gone.kind: input should be 'complete' or 'churn'"],
        ),
    ],
)
def test_field_problems_name_the_dotted_path(write_scenario, tiny_data, change, expected):
    change(tiny_data)
    path = write_scenario(tiny_data, "bad.yaml")
    assert lines_of(path) == [f"{path}: {line}" for line in expected]


def test_an_unknown_distribution_names_the_kinds_expected(tiny_data):
    tiny_data["steps"]["order"]["service"] = {"dist": "weibull", "mean": "1 min"}
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    [line] = caught.value.lines()
    assert line.startswith(
        "bad.yaml: steps.order.service: expected dist to be one of 'fixed', 'exponential', "
        "'lognormal', 'gamma', 'uniform', 'triangular', 'empirical', got "
    )


def test_an_unknown_distribution_is_quoted_alone(tiny_data):
    tiny_data["steps"]["order"]["service"] = {"dist": "weibull", "mean": "1 min"}
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    [line] = caught.value.lines()
    assert line.endswith(", got 'weibull'")


def test_a_node_named_like_a_distribution_keeps_its_name_in_the_path(tiny_data):
    tiny_data["outcomes"]["fixed"] = {"kind": "angry"}
    tiny_data["steps"]["ship"]["next"] = {"done": 0.5, "fixed": 0.5}
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    assert caught.value.lines() == [
        "bad.yaml: outcomes.fixed.kind: input should be 'complete' or 'churn'"
    ]


def test_a_bad_staff_count_is_reported_at_its_field(tiny_data):
    tiny_data["silos"]["ops"]["staff"] = "many"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    assert {line.split(": ")[1] for line in caught.value.lines()} == {"silos.ops.staff"}


def test_every_problem_line_has_the_form_file_field_expectation(write_scenario, tiny_data):
    tiny_data["steps"]["ship"].update(failure=2, colour="red")
    tiny_data["contacts"]["help"]["handling"] = {"dist": "gamma", "mean": 8, "cv": -1}
    tiny_data["warmup"] = "soon"
    path = write_scenario(tiny_data, "bad.yaml")
    lines = lines_of(path)
    assert len(lines) == 5
    for line in lines:
        match = LINE.match(line)
        assert match and match["file"] == str(path), line
        assert "\n" not in line


# --- ScenarioError -----------------------------------------------------------------------


def test_scenario_error_lines_are_file_field_expectation():
    error = ScenarioError("f.yaml", [("steps.a.next", "expected x"), ("start", "expected y")])
    assert error.lines() == ["f.yaml: steps.a.next: expected x", "f.yaml: start: expected y"]
    assert str(error) == "f.yaml: steps.a.next: expected x\nf.yaml: start: expected y"
    assert isinstance(error, ValueError) and error.source == "f.yaml"


def test_problem_makes_a_one_line_scenario_error():
    error = problem("f.yaml", "file", "expected a file")
    assert error.problems == [("file", "expected a file")]
    assert error.lines() == ["f.yaml: file: expected a file"]


# --- length: horizon xor customers ---------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [lambda d: d.update(customers=100), lambda d: d.pop("horizon")],
    ids=["both", "neither"],
)
def test_a_scenario_needs_exactly_one_of_horizon_and_customers(tiny_data, change):
    change(tiny_data)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    assert caught.value.lines() == [
        "bad.yaml: (top level): expected exactly one of horizon (a duration) or customers (a count)"
    ]


def test_customers_alone_is_a_valid_length(tiny_data):
    del tiny_data["horizon"]
    tiny_data["customers"] = 250
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    assert scenario.customers == 250 and scenario.horizon is None


def test_with_length_switches_between_horizon_and_customers(tiny_scenario):
    by_count = with_length(tiny_scenario, customers=500)
    assert by_count.customers == 500 and by_count.horizon is None
    by_time = with_length(by_count, horizon=60.0)
    assert by_time.horizon == 60.0 and by_time.customers is None
    assert tiny_scenario.horizon == 7200 and tiny_scenario.customers is None  # not modified
    assert with_length(tiny_scenario) is tiny_scenario


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 1.0, "customers": 1}, "give either horizon or customers, not both"),
        ({"customers": 0}, "customers must be positive, got 0"),
        ({"customers": -5}, "customers must be positive, got -5"),
        ({"horizon": 0.0}, "horizon must be positive, got 0.0"),
        ({"horizon": -1.0}, "horizon must be positive, got -1.0"),
    ],
)
def test_with_length_refuses_both_or_non_positive_lengths(tiny_scenario, kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        with_length(tiny_scenario, **kwargs)


# --- scenario hash -----------------------------------------------------------------------


def test_the_scenario_hash_is_sha256_hex_and_ignores_file_layout(tiny_file, tmp_path, tiny_data):
    block = tmp_path / "block.yaml"
    block.write_text(
        "# the same scenario, block style\n" + yaml.safe_dump(tiny_data, sort_keys=False)
    )
    digest = scenario_hash(load_scenario(tiny_file))
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert scenario_hash(load_scenario(block)) == digest
    assert scenario_hash(parse_scenario(tiny_data, "elsewhere.yaml")) == digest


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(seed=2),
        lambda d: d["steps"]["ship"].update(failure=0.21),
        lambda d: d["silos"]["ops"].update(staff=4),
        lambda d: d.update(horizon="6 days"),
        lambda d: d["contacts"]["help"]["handling"].update(cv=0.6),
    ],
)
def test_the_scenario_hash_changes_with_content(tiny_data, change):
    before = scenario_hash(parse_scenario(tiny_data, "a.yaml"))
    change(tiny_data)
    assert scenario_hash(parse_scenario(tiny_data, "a.yaml")) != before


def test_fields_added_later_leave_older_scenarios_hashes_as_they_were(tiny_data):
    # the hash of the tiny scenario as spiral computed it before complain, loss, silent,
    # customer_facing, severity_half_life, recovery_time and evidence_notes existed
    # (commit 0f667c2): stored sweeps and manifests still match
    before = "7bf940bb7759132903c857b31aab431d489095ecbd542258beb3c60cc218d3ec"
    assert scenario_hash(parse_scenario(tiny_data, "a.yaml")) == before
    tiny_data["steps"]["ship"]["customer_facing"] = True  # a new field set: a new hash
    assert scenario_hash(parse_scenario(tiny_data, "a.yaml")) != before


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["steps"]["ship"].update(complain=0.5),
        lambda d: d["steps"]["ship"].update(loss="small"),
        lambda d: d["steps"]["ship"].update(complain=0.5, silent="gone"),
        lambda d: d.setdefault("experience", {}).update(severity_half_life="2 days"),
        lambda d: d.setdefault("experience", {}).update(loyalty={"recovery_time": "1 day"}),
        lambda d: d.update(evidence_notes={"fcr": "a reason"}),
    ],
)
def test_a_field_added_later_changes_the_hash_once_set(tiny_data, change):
    before = scenario_hash(parse_scenario(tiny_data, "a.yaml"))
    change(tiny_data)
    assert scenario_hash(parse_scenario(tiny_data, "a.yaml")) != before


def test_spelling_a_default_out_does_not_change_the_hash(tiny_data):
    before = scenario_hash(parse_scenario(tiny_data, "a.yaml"))
    tiny_data["contacts"]["help"]["redial"] = 0.7  # the default
    assert scenario_hash(parse_scenario(tiny_data, "a.yaml")) == before


def test_scenarios_with_the_same_hash_give_the_same_run(tiny_data):
    tiny_data.update(customers=300)
    del tiny_data["horizon"]
    first = parse_scenario(tiny_data, "a.yaml")
    tiny_data["contacts"]["help"]["unresolved"] = {"gone": 0.2, "help": 0.8}
    reordered = parse_scenario(tiny_data, "b.yaml")
    assert scenario_hash(first) != scenario_hash(reordered) or (
        run(first, seed=5).summary == run(reordered, seed=5).summary
    )


def test_a_zero_period_is_reported_at_period(tiny_data):
    tiny_data["period"] = "0 min"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    assert caught.value.lines() == ["bad.yaml: period: input should be greater than 0"]


def test_a_distribution_without_dist_names_the_kinds(tiny_data):
    tiny_data["steps"]["ship"]["service"] = {"mean": "5 min"}
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "bad.yaml")
    (line,) = caught.value.lines()
    assert line.startswith("bad.yaml: steps.ship.service: missing dist;")
    assert "gamma" in line and "empirical" in line


def test_a_horizon_within_the_warmup_is_refused(tiny_data):
    tiny_data["warmup"] = "6 days"
    with pytest.raises(ScenarioError, match="expected a horizon longer than the warm-up"):
        parse_scenario(tiny_data, "tiny.yaml")
    tiny_data["warmup"] = "1 day"
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    with pytest.raises(ValueError, match=r"horizon must be longer than the warm-up \(1 days\)"):
        with_length(scenario, horizon=720.0)
