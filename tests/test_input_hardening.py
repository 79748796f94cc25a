"""Bad input of every kind is refused when read, in one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import TINY_YAML

from spiral.io.from_log import fitted_yaml, read_log, scenario_from_log
from spiral.model.errors import ScenarioError, problem, safe_text
from spiral.model.loading import load_scenario, parse_scenario, read_yaml
from spiral.model.scenario import Scenario
from spiral.sweeps.sweep_file import load_sweep

DEEP = "expected at most 50 levels of mappings and lists"


def refusal(path) -> list[str]:
    """Return the lines a scenario file is refused with."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.lines()


def parsed_lines(data: dict) -> list[str]:
    """Return the lines scenario data is refused with."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "bad.yaml")
    return caught.value.lines()


def write(tmp_path, text: str, name: str = "f.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- YAML reading --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nsteps:\n  ? [a, b]\n  : 1\n", "line 3: a key must be a name, got a list"),
        ("name: x\nsteps: {[1, 2]: x}\n", "line 2: a key must be a name, got a list"),
        ("? {a: 1}\n: 2\n", "line 1: a key must be a name, got a mapping"),
        ("base: &b {[1]: 2}\nx: {<<: *b}\n", "line 1: a key must be a name, got a list"),
    ],
    ids=["block list", "flow list", "mapping", "merged"],
)
def test_a_list_or_mapping_as_a_key_is_one_line_naming_its_line(tmp_path, text, expected):
    """A key that is a list or a mapping is refused at its line, not with a TypeError."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        read_yaml(path)
    assert caught.value.lines() == [f"{path}: {expected}"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 5000 + "]" * 5000, 1),
        ("{a: " * 5000 + "1" + "}" * 5000, 1),
        ("a:\n" + "- " * 5000 + "x\n", 2),
    ],
    ids=["lists", "mappings", "block"],
)
def test_very_deep_nesting_is_one_line_not_a_recursion_error(tmp_path, text, line):
    """5,000 levels of nesting are refused at the line where level 51 starts."""
    path = write(tmp_path, text)
    assert refusal(path) == [f"{path}: line {line}: nested deeper than 50 levels; {DEEP}"]


def test_nesting_through_aliases_is_refused_after_loading(tmp_path):
    """Aliases that nest lists past 50 levels are refused once the data is loaded."""
    text = "a0: &a0 " + "[" * 40 + "]" * 40 + "\n"
    for i in range(1, 4):
        text += f"a{i}: &a{i} " + "[" * 40 + f"*a{i - 1}" + "]" * 40 + "\n"
    path = write(tmp_path, text)
    assert refusal(path) == [f"{path}: file: nested deeper than 50 levels through aliases; {DEEP}"]


def test_an_alias_inside_the_list_it_names_is_refused(tmp_path):
    """A list holding itself through an alias is refused instead of nesting without end."""
    path = write(tmp_path, "a: &a [1, *a]\n")
    assert refusal(path) == [
        f"{path}: file: an alias names a list or mapping that holds it (it would nest without "
        "end); expected aliases to name earlier values only"
    ]


def test_aliases_expanding_to_over_a_million_values_are_refused(tmp_path):
    """A 'billion laughs' file is refused from its expanded size, without expanding it."""
    text = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for i in range(1, 8):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    path = write(tmp_path, text)
    assert refusal(path) == [
        f"{path}: file: holds more than 1,000,000 values (or 100 MB of text) once aliases are "
        "expanded; expected a scenario or sweep of ordinary size"
    ]


def test_merge_keys_are_read_and_a_key_beside_them_overrides_the_merged_one(tmp_path):
    """`<<: *base` merges a mapping; a key written beside it wins over the merged value."""
    text = "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n"
    assert read_yaml(write(tmp_path, text)) == {"base": {"x": 1, "y": 2}, "other": {"x": 1, "y": 3}}


def test_a_scenario_can_share_fields_through_a_merge_key(tmp_path):
    """A step that merges another step's fields loads as if they were written out."""
    text = TINY_YAML.replace("  order: {", "  order: &order {").replace(
        "  ship: {silo: ops,", "  ship: {<<: *order, silo: ops, self_service: false,"
    )
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.steps["ship"].failure == 0.2 and not scenario.steps["ship"].self_service


def test_a_key_repeated_beside_a_merge_key_is_still_refused(tmp_path):
    """Merging does not excuse a key written twice in the same mapping."""
    path = write(tmp_path, "base: &b {x: 1}\nother:\n  <<: *b\n  y: 3\n  y: 4\n")
    assert refusal(path) == [f"{path}: line 5: key 'y' appears twice; expected each key once"]


def test_every_scalar_key_is_read_as_its_source_text(tmp_path):
    """Keys `yes`, `no`, `on`, `404`, `1.5` and `null` stay names, not booleans or numbers."""
    text = "yes: 1\nno: 2\non: 3\n404: 4\n1.5: 5\nnull: 6\n"
    assert read_yaml(write(tmp_path, text)) == {
        "yes": 1,
        "no": 2,
        "on": 3,
        "404": 4,
        "1.5": 5,
        "null": 6,
    }


def test_only_true_and_false_are_booleans(tmp_path):
    """Booleans are YAML 1.2's: true and false in any case; yes, no, on, off stay text."""
    text = "a: yes\nb: no\nc: on\nd: off\ne: true\nf: FALSE\ng: tRuE\nh: y\n"
    assert read_yaml(write(tmp_path, text)) == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "off",
        "e": True,
        "f": False,
        "g": True,
        "h": "y",
    }


def test_a_node_named_yes_is_routed_to_by_next_yes(tmp_path):
    """`next: yes` routes to the outcome named yes instead of failing as a boolean."""
    text = TINY_YAML.replace("next: done", "next: yes").replace("  done: {}", "  yes: {}")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.steps["ship"].next == {"yes": 1.0} and "yes" in scenario.outcomes


def test_boolean_fields_still_accept_yes_and_off(tmp_path):
    """Pydantic's boolean fields read the strings yes, no, on and off as before."""
    text = TINY_YAML + "loops: {erosion: {enabled: yes}, failure_demand: off}\n"
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.loops.erosion.enabled is True and scenario.loops.failure_demand is False


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "next: done",
            "next: true",
            "steps.ship.next: YAML read true as a boolean; expected a node name: quote it ('true')",
        ),
        (
            "silo: ops",
            "silo: False",
            "steps.ship.silo: YAML read false as a boolean; expected a name: quote it ('false')",
        ),
        (
            "silo: ops",
            "silo: 404",
            "steps.ship.silo: YAML read 404 as a number; expected a name: quote it ('404')",
        ),
    ],
)
def test_a_boolean_or_number_where_a_name_is_expected_says_to_quote_it(
    tmp_path, old, new, expected
):
    """A name YAML read as a boolean or a number is refused with the advice to quote it."""
    path = write(tmp_path, TINY_YAML.replace(old, new, 1))
    assert refusal(path) == [f"{path}: {expected}"]


def test_a_file_over_2_mb_is_refused_before_parsing_with_its_size(tmp_path):
    """A 10 MB file is refused with its size, having read no more than 2 MB of it."""
    path = write(tmp_path, "name: x\ndescription: " + "a" * (10 * 2**20) + "\n")
    read = []
    real = Path.open

    def counting(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        handle = real(self, *args, **kwargs)
        original = handle.read
        handle.read = lambda size=-1: read.append(size) or original(size)
        return handle

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "open", counting)
        assert refusal(path) == [f"{path}: file: is 10.0 MB; expected a file of at most 2 MB"]
    assert read and all(0 < size <= 2 * 2**20 + 1 for size in read)


def test_a_folder_is_refused_as_a_scenario_file(tmp_path):
    """A folder given as a scenario file is one line, not an IsADirectoryError."""
    assert refusal(tmp_path) == [f"{tmp_path}: file: is a folder; expected a YAML file"]


# --- escaping untrusted text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text, é and 日本", "plain text, é and 日本"),
        ("a\nb", "a\\nb"),
        ("a\tb\rc", "a\\tb\\rc"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("abc\u202edef", "abc\\u202edef"),
        ("x\u2028y\x85z\u00a0", "x\\u2028y\\x85z\\xa0"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\U000e0041tag", "\\U000e0041tag"),
    ],
)
def test_safe_text_escapes_every_non_printable_character(text, escaped):
    """Newlines, tabs, ESC, bidi overrides and other format characters become escapes."""
    assert safe_text(text) == escaped
    assert safe_text(escaped) == escaped  # escaping twice changes nothing


def test_no_error_line_holds_a_newline_or_control_character():
    """The source, the field and the message of an error line all pass through safe_text."""
    error = ScenarioError("x\n.yaml", [("steps.a\u202eb", "got '\x1b[2J'\nFAKE: ok")])
    (line,) = error.lines()
    assert line == "x\\n.yaml: steps.a\\u202eb: got '\\x1b[2J'\\nFAKE: ok"
    assert line.isprintable() and str(error) == line


def test_a_node_name_with_a_newline_cannot_forge_a_second_line(tiny_data):
    """A node named 'a', newline, 'FAKE.yaml: ok' is refused in one line with its name escaped."""
    tiny_data["outcomes"]["a\nFAKE.yaml: ok"] = {}
    assert parsed_lines(tiny_data) == [
        "bad.yaml: outcomes.a\\nFAKE.yaml: ok: expected a name of 1 to 100 printable "
        "characters, got 'a\\nFAKE.yaml: ok'"
    ]


NAMES = {
    "silo": lambda d, n: d["silos"].update({n: {"staff": 1}}),
    "step": lambda d, n: d["steps"].update({n: {"silo": "web", "next": "done"}}),
    "contact": lambda d, n: d["contacts"].update({n: d["contacts"]["help"]}),
    "outcome": lambda d, n: d["outcomes"].update({n: {}}),
    "what-if": lambda d, n: d.update(what_ifs={n: {"changes": [{"change": "add_staff"}]}}),
}


@pytest.mark.parametrize("kind", NAMES)
@pytest.mark.parametrize(
    ("name", "shown", "expected"),
    [
        ("", "''", "expected a name of 1 to 100 printable characters, got ''"),
        ("r\u202etl", "r\\u202etl", "expected a name of 1 to 100 printable characters, got "),
        ("n" * 101, "n" * 101, "expected a name of at most 100 characters, got 101 characters"),
    ],
    ids=["empty", "bidi", "long"],
)
def test_a_name_must_be_short_printable_and_non_empty(tiny_data, kind, name, shown, expected):
    """Silo, node and what-if names are 1 to 100 printable characters, escaped if not."""
    section = {"silo": "silos", "step": "steps", "contact": "contacts", "outcome": "outcomes"}
    NAMES[kind](tiny_data, name)
    where = f"{section.get(kind, 'what_ifs')}.{shown}"
    lines = parsed_lines(tiny_data)
    assert any(line.startswith(f"bad.yaml: {where}: {expected}") for line in lines), lines
    assert all(line.isprintable() for line in lines)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.update(name="two\nlines"),
            "name: expected a name of 1 to 100 printable characters, got 'two\\nlines'",
        ),
        (
            lambda d: d.update(money={"currency": "\x1b[31mGBP"}),
            "money.currency: expected a name of 1 to 100 printable characters, got '\\x1b[31mGBP'",
        ),
    ],
)
def test_the_scenario_name_and_currency_are_names_too(tiny_data, change, expected):
    """The scenario's name and money.currency follow the same rule as node names."""
    change(tiny_data)
    assert parsed_lines(tiny_data) == [f"bad.yaml: {expected}"]


# --- sensible finite ranges ----------------------------------------------------------------

GT0 = "input should be greater than 0"


def _what_if(**fields) -> dict:
    return {"w": {"changes": [{"change": "add_staff", "silo": "ops", "count": 1}], **fields}}


RANGES = {
    "cv inf": (
        lambda d: d["contacts"]["help"]["handling"].update(cv=float("inf")),
        "contacts.help.handling.cv: input should be a finite number",
    ),
    "cv nan": (
        lambda d: d["contacts"]["help"]["handling"].update(cv=float("nan")),
        "contacts.help.handling.cv: input should be a finite number",
    ),
    "cv 1e6": (
        lambda d: d["contacts"]["help"]["handling"].update(cv=1e6),
        "contacts.help.handling.cv: input should be less than or equal to 10",
    ),
    "duration over 100 years": (
        lambda d: d.update(horizon="40000 days"),
        "horizon: expected a duration of at most 100 years (36,525 days), got '40000 days'",
    ),
    "empirical values": (
        lambda d: d["steps"]["order"].update(
            service={"dist": "empirical", "values": ["1 min"] * 10_001}
        ),
        "steps.order.service.values: list should have at most 10000 items after validation, "
        "not 10001",
    ),
    "staff 1e12": (
        lambda d: d["silos"]["ops"].update(staff=1e12),
        "silos.ops.staff: expected at most 100,000 staff or 'unlimited', got 1e+12",
    ),
    "staff true": (
        lambda d: d["silos"]["ops"].update(staff=True),
        "silos.ops.staff: YAML read true as a boolean; expected a whole number of staff or "
        "'unlimited'",
    ),
    "money": (
        lambda d: d.update(money={"revenue_per_retained": 2e9}),
        "money.revenue_per_retained: input should be less than or equal to 1000000000",
    ),
    "silo cost": (
        lambda d: d["silos"]["ops"].update(cost_per_hour=1e10),
        "silos.ops.cost_per_hour: input should be less than or equal to 1000000000",
    ),
    "empowerment": (
        lambda d: d["contacts"]["help"].update(empowerment={"limit": 1e10, "mean_cost": 5}),
        "contacts.help.empowerment.limit: input should be less than or equal to 1000000000",
    ),
    "what-if cost": (
        lambda d: d.update(what_ifs=_what_if(cost={"per_period": 1e12})),
        "what_ifs.w.cost.per_period: input should be less than or equal to 1000000000",
    ),
    "what-if staff": (
        lambda d: d.update(
            what_ifs={"w": {"changes": [{"change": "add_staff", "silo": "ops", "count": 10**6}]}}
        ),
        "what_ifs.w.changes[0].count: input should be less than or equal to 100000",
    ),
    "tick 0": (lambda d: d.update(loops={"tick": 0}), f"loops.tick: {GT0}"),
    "pressure window 0": (
        lambda d: d.update(loops={"pressure_window": "0 h"}),
        f"loops.pressure_window: {GT0}",
    ),
    "memory 0": (
        lambda d: d.update(loops={"reputation": {"memory": "0 days"}}),
        f"loops.reputation.memory: {GT0}",
    ),
    "erode time 0": (
        lambda d: d.update(loops={"erosion": {"erode_time": 0}}),
        f"loops.erosion.erode_time: {GT0}",
    ),
    "recover time 0": (
        lambda d: d.update(loops={"erosion": {"recover_time": "0 s"}}),
        f"loops.erosion.recover_time: {GT0}",
    ),
    "multiplier inf": (
        lambda d: d["arrivals"].update(schedule={"multipliers": [1, float("inf")]}),
        "arrivals.schedule.multipliers[1]: input should be a finite number",
    ),
    "multiplier 1e4": (
        lambda d: d["arrivals"].update(schedule={"multipliers": [1, 1e4]}),
        "arrivals.schedule.multipliers[1]: input should be less than or equal to 1000",
    ),
    "multipliers all 0": (
        lambda d: d["arrivals"].update(schedule={"multipliers": [0, 0]}),
        "arrivals.schedule: expected at least one multiplier above 0 (else no one arrives)",
    ),
    "start date 9999": (
        lambda d: d.update(start_date="9999-01-05"),
        "start_date: expected a date from 1900-01-01 to 2100-12-31, got 9999-01-05T00:00:00+00:00",
    ),
    "start date 1800": (
        lambda d: d.update(start_date="1800-06-01T12:00:00Z"),
        "start_date: expected a date from 1900-01-01 to 2100-12-31, got 1800-06-01T12:00:00+00:00",
    ),
    "run past 2262": (
        lambda d: d.update(start_date="2100-01-01", horizon="36000 days", drain="36000 days"),
        "(top level): expected start_date + horizon + drain before 2262-01-01 (event log times "
        "end there), got 2297-02-17",
    ),
    "customers 0": (
        lambda d: (d.pop("horizon"), d.update(customers=0)),
        "customers: input should be greater than or equal to 1",
    ),
    "customers true": (
        lambda d: (d.pop("horizon"), d.update(customers=True)),
        "customers: YAML read true as a boolean; expected a whole number",
    ),
    "customers 2.5": (
        lambda d: (d.pop("horizon"), d.update(customers=2.5)),
        "customers: input should be a valid integer, got a number with a fractional part",
    ),
    "amplification": (
        lambda d: d.update(experience={"amplification": 1e300}),
        "experience.amplification: input should be less than or equal to 100",
    ),
    "severity cap": (
        lambda d: d.update(experience={"severity_cap": 1e7}),
        "experience.severity_cap: input should be less than or equal to 1000000",
    ),
    "reach median": (
        lambda d: d.update(
            experience={
                "escalation": {"social": {"threshold": 4, "probability": 0.1, "reach_median": 1e12}}
            }  # noqa: E501
        ),
        "experience.escalation.social.reach_median: input should be less than or equal to "
        "1000000000",
    ),
}


@pytest.mark.parametrize(("change", "expected"), RANGES.values(), ids=RANGES.keys())
def test_an_out_of_range_number_is_refused_naming_its_field(tiny_data, change, expected):
    """Every numeric field has a finite range; a value outside it is one line at the field."""
    change(tiny_data)
    assert parsed_lines(tiny_data) == [f"bad.yaml: {expected}"]


def test_the_ends_of_the_ranges_are_accepted(tiny_data):
    """A value at each bound is valid: the limits are inclusive where they say so."""
    tiny_data["silos"]["ops"].update(staff=100_000, cost_per_hour=1e9)
    tiny_data["contacts"]["help"]["handling"]["cv"] = 10
    tiny_data["arrivals"]["schedule"] = {"multipliers": [0, 1000]}
    tiny_data.update(start_date="2100-12-31", money={"revenue_per_retained": 1e9})
    scenario = parse_scenario(tiny_data, "ok.yaml")
    assert scenario.silos["ops"].staff == 100_000


def test_a_cv_of_infinity_in_yaml_is_refused(tmp_path):
    """`cv: .inf` as YAML writes it is refused, not accepted and overflowed later."""
    path = write(tmp_path, TINY_YAML.replace("cv: 0.5", "cv: .inf"))
    assert refusal(path) == [f"{path}: contacts.help.handling.cv: input should be a finite number"]


@pytest.mark.parametrize(
    ("model", "field", "bound"),
    [
        ("Silo", "staff", "100,000"),
        ("Money", "revenue_per_retained", "1e9"),
        ("Loops", "tick", "above 0"),
        ("Scenario", "start_date", "2100-12-31"),
        ("LogNormal", "cv", "10"),
        ("Empirical", "values", "10,000"),
        ("Cost", "one_off", "1e9"),
    ],
)
def test_the_schema_states_each_bound_in_the_description(model, field, bound):
    """`spiral schema` shows the bound in each field's description."""
    schema = Scenario.model_json_schema()
    properties = (
        schema["properties"] if model == "Scenario" else schema["$defs"][model]["properties"]
    )
    assert bound in properties[field]["description"]


# --- sweep files ---------------------------------------------------------------------------

SWEEP = {
    "scenario": "online_retail",
    "design": {"kind": "lhs", "samples": 4},
    "parameters": {"steps.deliver.failure": {"low": 0.1, "high": 0.3}},
}


def sweep_lines(tmp_path, data: dict) -> list[str]:
    path = write(tmp_path, yaml.safe_dump(data, sort_keys=False), "sweep.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    return caught.value.lines()


def test_a_sweep_naming_a_folder_is_refused_at_its_scenario_field(tmp_path):
    """`scenario:` naming a folder is one line naming the sweep file and the field."""
    (tmp_path / "scenarios").mkdir()
    lines = sweep_lines(tmp_path, {**SWEEP, "scenario": "scenarios"})
    assert lines == [
        f"{tmp_path / 'sweep.yaml'}: scenario: {tmp_path / 'scenarios'} is a folder; expected "
        "a scenario file or a built-in scenario name"
    ]


def test_a_sweep_naming_an_unreadable_scenario_is_refused_at_its_scenario_field(tmp_path):
    """A scenario file that cannot be read is blamed on the sweep's scenario field."""
    (tmp_path / "latin1.yaml").write_bytes("name: café\n".encode("latin-1"))
    (line,) = sweep_lines(tmp_path, {**SWEEP, "scenario": "latin1.yaml"})
    assert line.startswith(
        f"{tmp_path / 'sweep.yaml'}: scenario: {tmp_path / 'latin1.yaml'}: file: cannot be read "
    )


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            True,
            "YAML read true as a boolean; expected a scenario file or built-in name: quote it "
            "('true')",
        ),
        ("", "expected a scenario file or built-in name, got ''"),
    ],
)
def test_a_sweep_scenario_that_is_no_name_is_refused(tmp_path, scenario, expected):
    """`scenario:` must be text naming a file or a built-in, not a boolean or nothing."""
    lines = sweep_lines(tmp_path, {**SWEEP, "scenario": scenario})
    assert lines == [f"{tmp_path / 'sweep.yaml'}: scenario: {expected}"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"replications": 0}, "replications: input should be greater than or equal to 1"),
        (
            {"replications": True},
            "replications: YAML read true as a boolean; expected a whole number",
        ),
        (
            {"replications": 2.5},
            "replications: input should be a valid integer, got a number with a fractional part",
        ),
        (
            {"design": {"kind": "lhs", "samples": 0}},
            "design.samples: input should be greater than or equal to 1",
        ),
        (
            {"design": {"kind": "lhs", "samples": False}},
            "design.samples: YAML read false as a boolean; expected a whole number",
        ),
    ],
)
def test_sweep_counts_must_be_positive_whole_numbers(tmp_path, change, expected):
    """Replications and design sample sizes are whole numbers of at least 1."""
    assert sweep_lines(tmp_path, {**SWEEP, **change}) == [f"{tmp_path / 'sweep.yaml'}: {expected}"]


# --- event logs ----------------------------------------------------------------------------

HEADER = "case:concept:name,concept:name,time:timestamp\n"
GOOD = "1,a,2026-01-05T00:00:00Z\n1,b,2026-01-05T01:00:00Z\n"


def log_lines(tmp_path, content: str, name: str = "log.csv") -> list[str]:
    path = write(tmp_path, content, name)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_log(read_log(path), "fitted", str(path))
    return caught.value.lines()


def test_a_garbage_timestamp_names_the_column_and_its_first_row(tmp_path):
    """A time that is not ISO 8601 is one line naming its row, not pandas' advice."""
    rows = GOOD * 3 + "2,a,yesterday\n2,b,never\n"
    path = tmp_path / "log.csv"
    assert log_lines(tmp_path, HEADER + rows) == [
        f"{path}: time:timestamp: row 7: expected a date and time such as "
        "2026-01-05 09:30:00, got 'yesterday'"
    ]


def test_a_missing_timestamp_names_its_row(tmp_path):
    """An event without a time is refused at its row."""
    path = tmp_path / "log.csv"
    assert log_lines(tmp_path, HEADER + GOOD + "2,a,\n") == [
        f"{path}: time:timestamp: row 3: expected a date and time such as "
        "2026-01-05 09:30:00, got nothing"
    ]


@pytest.mark.parametrize(
    ("name", "shown"),
    [('"x\ny"', "'x\\ny'"), ("x\x1b[2Jy", "'x\\x1b[2Jy'"), ("x\u202ey", "'x\\u202ey'")],
    ids=["newline", "escape", "bidi"],
)
def test_an_activity_name_with_a_non_printable_character_names_its_row(tmp_path, name, shown):
    """An activity a scenario could not name is one line at its row, the name escaped."""
    path = tmp_path / "log.csv"
    lines = log_lines(tmp_path, HEADER + GOOD + f"2,{name},2026-01-05T02:00:00Z\n")
    assert lines == [
        f"{path}: concept:name: row 3: expected a name of 1 to 100 printable characters, "
        f"got {shown}"
    ]


@pytest.mark.parametrize(
    "rows",
    ["1,a,2026-01-05T00:00:00Z\n", "1,a,2026-01-05T00:00:00Z\n2,b,2026-01-06T00:00:00Z\n"],
    ids=["one event", "one activity per case"],
)
def test_a_log_too_small_to_fit_is_blamed_on_the_log(tmp_path, rows):
    """A log whose cases never go from one activity to another is one line naming it."""
    (line,) = log_lines(tmp_path, HEADER + rows)
    assert line.startswith(
        f"{tmp_path / 'log.csv'}: concept:name: no case goes on from one activity to another"
    )


def test_a_fit_the_scenario_refuses_is_blamed_on_the_log(tmp_path):
    """What the fit makes is validated as a scenario read from the log file."""
    rows = "1,a,1850-01-05T00:00:00Z\n1,b,1850-01-05T01:00:00Z\n"
    (line,) = log_lines(tmp_path, HEADER + rows)
    assert line.startswith(f"{tmp_path / 'log.csv'}: start_date: expected a date from 1900-01-01")


def test_fitted_yaml_reads_back_as_the_same_data_whatever_the_names(tmp_path):
    """Names YAML would misread or that look like keys are quoted; the log name is escaped."""
    names = ["yes", "<<", "money: {revenue_per_retained: 0}", "# not a comment", "1.5", "null"]
    rows = "".join(
        f'{case},"{name}",2026-01-05T0{i}:00:00Z\n{case},done,2026-01-05T0{i}:30:00Z\n'
        for case, (i, name) in enumerate(enumerate(names))
    )
    path = write(tmp_path, HEADER + rows, "log.csv")
    data = scenario_from_log(read_log(path), "fitted", str(path))
    log_name = "x\nmoney: {revenue_per_retained: 0}.csv"
    text = fitted_yaml(data, log_name)
    header, body = text.split("\n", 1)
    assert header == (
        "# Fitted by `spiral from-log x\\nmoney: {revenue_per_retained: 0}.csv`: a starting "
        "point to edit."
    )
    out = write(tmp_path, text, "fitted.yaml")
    assert read_yaml(out) == data == yaml.safe_load(text)
    assert set(yaml.safe_load(text)) == set(data)  # no extra key
    # "done" takes half an hour after each: a step after which every case ends
    assert set(data["steps"]) == {*names, "done"}
    assert load_scenario(out).steps.keys() == {*names, "done"}


def test_problem_lines_built_by_hand_are_escaped_too():
    """problem() gives the same escaped single line as any ScenarioError."""
    assert problem("f\n.yaml", "file", "bad\rthing").lines() == ["f\\n.yaml: file: bad\\rthing"]
