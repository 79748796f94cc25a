"""The command line: one-line errors with exit code 2, runs reproducible, files read back.

End-to-end checks run real ``python -m spiral`` processes, all started together (a few at a
time) by one module-scoped fixture to keep this fast; the matrix of usage errors calls the
same entry point, ``spiral.cli.main``, in this process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import TINY_YAML
from examples import RUN_FILES, TINY

from spiral.cli import main
from spiral.io.atomic_output import manifest_problems
from spiral.io.result_files import package_versions, read_parquet_manifest
from spiral.model.loading import (
    DEFAULT_SCENARIO,
    builtin_scenarios,
    load_scenario,
    scenario_hash,
    with_length,
)
from spiral.model.scenario import Scenario

LINE = re.compile(r"^(?P<file>[^:]+): (?P<field>[\w.\[\]]+|\(top level\)): (?P<what>.+)$")
SUMMARY_KEYS = {
    "scenario",
    "seed",
    "arrivals",
    "customers",
    "completed",
    "in_progress",
    "failures_per_customer",
    "contacts",
    "severity_mean",
    "severity_p95",
    "escalations_social",
    "escalations_ceo",
    "churned",
    "advocates",
    "retained",
    "churn_rate",
    "revenue",
    "cost_to_serve",
    "handoffs_warm",
    "handoffs_cold",
    "silos",
}


def spiral(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spiral", *map(str, args)],
        capture_output=True,
        text=True,
    )


def strict_json(text: str):
    """Parse JSON refusing NaN and Infinity, which are not JSON."""

    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def one_error_line(code: int, stderr: str) -> str:
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    return line


def bad_files(folder: Path) -> dict[str, tuple[Path, set[str]]]:
    """Write broken scenarios in a deep folder (long lines); return them with the lines due."""
    deep = folder / ("a_folder_name_long_enough_to_push_every_line_past_eighty_columns" * 2)
    deep.mkdir(exist_ok=True)
    fields = yaml.safe_load(TINY_YAML)
    fields["silos"]["ops"]["colour"] = "red"
    fields["contacts"]["help"]["fcr"] = 1.6
    fields["steps"]["order"]["service"] = 5
    structure = yaml.safe_load(TINY_YAML)
    structure["steps"]["ship"].update(silo="opz", next="dun")
    structure["contacts"]["help"]["unresolved"] = {"help": 0.5, "gone": 0.2}
    expected = {
        "fields": {
            "silos.ops.colour: unknown field; expected one of the documented fields "
            "(see `spiral schema`)",
            "contacts.help.fcr: expected a probability in [0, 1], got 1.6",
            "steps.order.service: expected a duration with a unit like '8 min' "
            "(s, min, h, day(s), week(s)), got bare number 5",
        },
        "structure": {
            "steps.ship.silo: unknown silo 'opz' (expected one of: web, ops, support)",
            "steps.ship.next: unknown node 'dun' (expected one of: order, ship, help, done, gone)",
            "contacts.help.unresolved: routing probabilities sum to 0.7, expected 1",
        },
    }
    files = {}
    for name, data in (("fields", fields), ("structure", structure)):
        path = deep / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        files[name] = (path, {f"{path}: {line}" for line in expected[name]})
    return files


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def tiny_path(folder: Path) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(TINY_YAML)
    return path


@pytest.fixture(scope="module")
def cli(folder: Path, tiny_path: Path) -> dict:
    """Run every end-to-end command once, concurrently; return results and output folders."""
    files = bad_files(folder)
    run = ("run", tiny_path, "--customers", "300")
    out = {key: folder / key for key in ("first", "again", "other", "quiet")}
    commands = {
        "validate ok": ("validate", tiny_path),
        "validate fields": ("validate", files["fields"][0]),
        "validate structure": ("validate", files["structure"][0]),
        "missing file": ("validate", "missing.yaml"),
        "negative seed": (*run, "--seed", "-3"),
        "horizon and customers": (*run, "--horizon", "2 days"),
        "no arguments": (),
        "scenarios": ("scenarios",),
        "schema": ("schema",),
        "json": (*run, "--seed", "3", "--json"),
        "first": (*run, "--seed", "3", "--out", out["first"], "--events"),
        "again": (*run, "--seed", "3", "--out", out["again"], "--events"),
        "other": (*run, "--seed", "4", "--out", out["other"]),
        "quiet": (*run, "--json", "--no-events", "--out", out["quiet"]),
    }
    commands["validate builtin"] = ("validate", DEFAULT_SCENARIO)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {key: pool.submit(spiral, *args) for key, args in commands.items()}
        done = {key: future.result() for key, future in futures.items()}
    return {"done": done, "out": out, "files": files}


@pytest.fixture(scope="module")
def runs(cli: dict) -> dict:
    """Return the successful runs of the tiny scenario."""
    for key in ("json", "first", "again", "other", "quiet"):
        assert cli["done"][key].returncode == 0, (key, cli["done"][key].stderr)
    return cli


# --- validate ----------------------------------------------------------------------------


@pytest.mark.slow
def test_validate_says_ok_for_a_good_file_with_exit_code_0(cli, tiny_path):
    done = cli["done"]["validate ok"]
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.strip() == f"{tiny_path}: ok (5 nodes, 3 silos)"


@pytest.mark.slow
def test_validate_accepts_a_builtin_by_name(cli):
    done = cli["done"]["validate builtin"]
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{DEFAULT_SCENARIO}: ok (")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fields", "structure"])
def test_a_bad_file_gets_every_problem_on_its_own_file_field_line_and_exit_code_2(cli, kind):
    path, expected = cli["files"][kind]
    done = cli["done"][f"validate {kind}"]
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert set(lines) == expected and len(lines) == len(expected)
    for line in lines:
        match = LINE.match(line)
        assert match and match["file"] == str(path), line


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "missing file",
            "missing.yaml: file: no such file or built-in scenario (built-ins: "
            + ", ".join(builtin_scenarios())
            + ")",
        ),
        ("negative seed", "spiral run: --seed: expected a non-negative integer, got -3"),
        (
            "horizon and customers",
            "spiral run: --horizon: give either horizon or customers, not both",
        ),
    ],
)
@pytest.mark.slow
def test_a_bad_command_gets_one_line_and_exit_code_2_from_the_real_process(cli, case, expected):
    done = cli["done"][case]
    assert one_error_line(done.returncode, done.stderr) == expected
    assert done.stdout == ""


# --- usage errors: the same entry point, in process ----------------------------------------

USAGE = [
    (("validate", "missing.yaml"), "missing.yaml: file: no such file or built-in scenario"),
    (("validate", "SYNTAX"), "SYNTAX: line 3: invalid YAML (mapping values are not allowed here)"),
    (
        ("run", "TINY", "--seed", "-3"),
        "spiral run: --seed: expected a non-negative integer, got -3",
    ),
    (("run", "TINY", "--seed", "abc"), "spiral run: Invalid value for '--seed'"),
    (
        ("run", "TINY", "--horizon", "2 days", "--customers", "9"),
        "spiral run: --horizon: give either horizon or customers, not both",
    ),
    (
        ("run", "TINY", "--horizon", "soon"),
        "spiral run: --horizon: expected a duration like '8 min'",
    ),
    (("run", "TINY", "--horizon", "0 min"), "spiral run: --horizon: horizon must be positive"),
    (
        ("run", "TINY", "--customers", "0"),
        "spiral run: --customers: customers must be positive, got 0",
    ),
    (("run", "TINY", "--rate", "lots"), "spiral run: --rate: expected a rate like '120 per day'"),
    (("frobnicate",), "spiral: No such command 'frobnicate'"),
    (("validate",), "spiral validate: expected a scenario file or built-in name, or --theory"),
    (("run", "TINY", "--colour", "red"), "spiral run: No such option: --colour"),
    (
        ("run", "TINY", "--customers", "20", "--out", "BLOCKED"),
        "BLOCKED: --out: cannot create the folder",
    ),
]


def call_main(monkeypatch, capsys, *args: object) -> tuple[int, str, str]:
    """Run ``spiral ARGS`` through the command's entry point; return code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["spiral", *map(str, args)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return exited.value.code, out, err


@pytest.mark.parametrize(("args", "expected"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_a_bad_command_line_gets_one_line_naming_the_option_and_exit_code_2(
    args, expected, tmp_path, tiny_file, monkeypatch, capsys
):
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("name: x\nhorizon: 5 days\n  bad: indent\n")
    (tmp_path / "a_file").write_text("not a folder")
    names = {"TINY": tiny_file, "SYNTAX": syntax, "BLOCKED": tmp_path / "a_file" / "out"}
    for name, path in names.items():
        expected = expected.replace(name, str(path))
    code, _, err = call_main(monkeypatch, capsys, *(names.get(a, a) for a in args))
    line = one_error_line(code, err)
    assert line.startswith(expected), line


@pytest.mark.slow
def test_no_arguments_prints_the_help_with_exit_code_0(cli):
    done = cli["done"]["no arguments"]
    assert done.returncode == 0 and done.stderr == ""
    assert "Usage:" in done.stdout
    for command in ("run", "validate", "scenarios", "schema"):
        assert re.search(rf"^\W*{command}\b", done.stdout, re.MULTILINE), command


# --- run -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_run_json_prints_the_summary_as_strict_json(runs):
    summary = strict_json(runs["done"]["json"].stdout)
    assert SUMMARY_KEYS <= set(summary)
    assert summary["scenario"] == "tiny" and summary["seed"] == 3
    assert summary["arrivals"] == summary["customers"] == 300
    assert summary["completed"] + summary["in_progress"] == 300
    assert summary["churned"] + summary["advocates"] + summary["retained"] == summary["completed"]
    assert summary["churn_rate"] == pytest.approx(summary["churned"] / summary["completed"])
    assert set(summary["silos"]) == {"web", "ops", "support"}


@pytest.mark.slow
def test_the_same_command_twice_writes_an_identical_summary_and_another_seed_differs(runs):
    first, again, other = (runs["out"][k] / "summary.json" for k in ("first", "again", "other"))
    assert first.read_bytes() == again.read_bytes()
    assert strict_json(first.read_text()) == strict_json(runs["done"]["json"].stdout)
    assert strict_json(other.read_text())["seed"] == 4
    differing = {
        key
        for key, value in strict_json(other.read_text()).items()
        if strict_json(first.read_text())[key] != value
    }
    assert {"seed", "churned", "contacts"} <= differing


@pytest.mark.slow
def test_the_same_command_twice_writes_identical_tables(runs):
    first, again = runs["out"]["first"], runs["out"]["again"]
    for table in ("customers.parquet", "timeseries.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(first / table), pd.read_parquet(again / table)
        )
    for table in ("spiral.csv", "silos.csv", "by_failure_step.csv", "events.csv"):
        assert (first / table).read_bytes() == (again / table).read_bytes(), table


@pytest.mark.slow
def test_without_seed_the_scenarios_own_seed_is_used(runs):
    assert Scenario.model_fields["seed"].default == 1 and "seed" not in TINY
    assert strict_json(runs["done"]["quiet"].stdout)["seed"] == 1


@pytest.mark.slow
def test_out_with_events_writes_every_file_including_the_event_log(runs):
    assert {p.name for p in runs["out"]["first"].iterdir()} == RUN_FILES | {"events.csv"}


@pytest.mark.slow
def test_no_events_leaves_the_event_log_out_and_json_keeps_stdout_pure(runs):
    assert {p.name for p in runs["out"]["quiet"].iterdir()} == RUN_FILES
    # with --json and --out, stdout is only the JSON (no 'wrote N files' line)
    summary = strict_json(runs["done"]["quiet"].stdout)
    assert summary == strict_json((runs["out"]["quiet"] / "summary.json").read_text())


@pytest.mark.slow
def test_the_written_files_parse_back_and_agree_with_the_summary(runs):
    out = runs["out"]["first"]
    summary = strict_json((out / "summary.json").read_text())
    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == summary["arrivals"] == 300
    assert customers["customer"].tolist() == list(range(300))
    assert int((customers["outcome"] == "churned").sum()) == summary["churned"]
    assert int(customers["contacts"].sum()) == summary["contacts"]
    series = pd.read_parquet(out / "timeseries.parquet")
    assert series["arrivals"].sum() == 300
    assert series["period"].tolist() == list(range(len(series)))
    spiral_rows = pd.read_csv(out / "spiral.csv", index_col="failures")
    assert spiral_rows["customers"].sum() == summary["completed"]
    assert spiral_rows["share"].sum() == pytest.approx(1)
    silos = pd.read_csv(out / "silos.csv", index_col="silo")
    assert silos.index.tolist() == ["web", "ops", "support"]
    assert silos.loc["ops", "served"] == summary["silos"]["ops"]["served"]
    steps = pd.read_csv(out / "by_failure_step.csv", index_col="first_failure_step")
    assert steps["customers"].sum() == summary["customers_with_failure"]
    assert set(steps.index) <= {"order", "ship"}
    events = pd.read_csv(out / "events.csv")
    assert set(events["customer"]) == set(customers["customer"])
    assert (events["event"] == "outcome").sum() == summary["completed"]
    assert events["time"].is_monotonic_increasing


@pytest.mark.slow
def test_the_manifest_traces_the_run_and_is_in_every_parquet_file(runs, tiny_path):
    out = runs["out"]["first"]
    manifest = strict_json((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["scenario"] == "tiny"
    as_run = with_length(load_scenario(tiny_path), customers=300)  # --customers 300
    assert manifest["scenario_sha256"] == scenario_hash(as_run)
    assert manifest["source"] == str(tiny_path)
    assert manifest["versions"] == package_versions()
    assert manifest["spiral_version"] == manifest["versions"]["spiral"]
    assert manifest["command"] == (
        f"spiral run {tiny_path} --customers 300 --seed 3 --out {out} --events"
    )
    assert manifest_problems(out) == []  # it lists every file beside it, as they are
    del manifest["files"]  # which the tables' own metadata cannot hold
    for table in ("customers.parquet", "timeseries.parquet"):
        assert read_parquet_manifest(out / table) == manifest


@pytest.mark.slow
def test_runs_differing_only_in_seed_share_the_scenario_hash(runs):
    first, other = (
        strict_json((runs["out"][k] / "manifest.json").read_text()) for k in ("first", "other")
    )
    assert first["scenario_sha256"] == other["scenario_sha256"]
    assert (first["seed"], other["seed"]) == (3, 4)


# --- scenarios and schema --------------------------------------------------------------------


@pytest.mark.slow
def test_scenarios_lists_every_builtin_in_order_with_its_description(cli):
    builtins = builtin_scenarios()
    assert builtins
    done = cli["done"]["scenarios"]
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(builtins)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


@pytest.fixture(scope="module")
def schema(cli) -> dict:
    done = cli["done"]["schema"]
    assert done.returncode == 0, done.stderr
    return strict_json(done.stdout)


@pytest.mark.slow
def test_schema_describes_the_scenarios_top_level_fields(schema):
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(Scenario.model_fields)
    assert set(schema["required"]) == {"name", "start", "arrivals", "silos", "steps", "outcomes"}


def schema_errors(schema: dict, value, node: dict | None = None, where: str = "") -> list[str]:
    """Validate ``value`` against the subset of JSON Schema pydantic emits; return problems."""
    node = schema if node is None else node
    if "$ref" in node:
        return schema_errors(schema, value, schema["$defs"][node["$ref"].split("/")[-1]], where)
    if "anyOf" in node:
        options = [schema_errors(schema, value, option, where) for option in node["anyOf"]]
        return [] if any(not o for o in options) else [f"{where}: no anyOf option matches"]
    if "oneOf" in node:
        matches = sum(not schema_errors(schema, value, option, where) for option in node["oneOf"])
        return [] if matches == 1 else [f"{where}: {matches} oneOf options match"]
    problems = []
    kinds = {
        "object": dict,
        "array": list,
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "null": type(None),
    }
    if "type" in node:
        is_bool = isinstance(value, bool)
        if not isinstance(value, kinds[node["type"]]) or (is_bool and node["type"] != "boolean"):
            return [f"{where}: expected {node['type']}, got {value!r}"]
    if "const" in node and value != node["const"]:
        problems.append(f"{where}: expected {node['const']!r}")
    if "enum" in node and value not in node["enum"]:
        problems.append(f"{where}: expected one of {node['enum']}")
    if "pattern" in node and not re.search(node["pattern"], value):
        problems.append(f"{where}: {value!r} does not match {node['pattern']}")
    if "minimum" in node and value < node["minimum"]:
        problems.append(f"{where}: below minimum")
    if "maximum" in node and value > node["maximum"]:
        problems.append(f"{where}: above maximum")
    if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
        problems.append(f"{where}: not above exclusiveMinimum")
    if "minItems" in node and len(value) < node["minItems"]:
        problems.append(f"{where}: too few items")
    if "minProperties" in node and len(value) < node["minProperties"]:
        problems.append(f"{where}: too few properties")
    if "items" in node:
        for i, item in enumerate(value):
            problems += schema_errors(schema, item, node["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        properties = node.get("properties", {})
        required = node.get("required", [])
        problems += [f"{where}.{key}: required" for key in required if key not in value]
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                problems += schema_errors(schema, item, properties[key], f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}.{key}: not allowed")
            elif isinstance(extra, dict):
                problems += schema_errors(schema, item, extra, f"{where}.{key}")
    return problems


def expanded_tiny() -> dict:
    """Return the tiny scenario with the bare-duration shorthand spelled out as `fixed`."""
    data = yaml.safe_load(TINY_YAML)
    data["steps"]["order"]["service"] = {"dist": "fixed", "value": "5 min"}
    return data


@pytest.mark.slow
def test_a_valid_scenario_validates_against_the_schema(schema):
    assert schema_errors(schema, expanded_tiny()) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(colour="red"), ".colour: not allowed"),
        (lambda d: d.pop("start"), ".start: required"),
        (lambda d: d["steps"]["ship"].update(failure=1.5), ".steps.ship.failure"),
        (lambda d: d["silos"]["ops"].update(staff="many"), ".silos.ops.staff"),
        (lambda d: d.update(horizon="soon"), ".horizon"),
        (lambda d: d["contacts"]["help"]["handling"].update(dist="weibull"), "handling"),
    ],
)
@pytest.mark.slow
def test_the_schema_refuses_what_the_loader_refuses(schema, change, problem):
    data = expanded_tiny()
    change(data)
    errors = schema_errors(schema, data)
    assert any(problem in error for error in errors), errors


@pytest.mark.slow
def test_the_verbatim_tiny_file_validates_against_the_schema(schema):
    assert schema_errors(schema, yaml.safe_load(TINY_YAML)) == []


# --- spiral compare ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_with_what_ifs(tmp_path_factory) -> Path:
    data = yaml.safe_load(TINY_YAML)
    data["what_ifs"] = {
        "fix_ship": {
            "description": "half the ship failures",
            "cost": {"one_off": 100},
            "changes": [{"change": "fix_step", "step": "ship", "factor": 0.5}],
        },
        "baton": {"changes": [{"change": "warm_handoffs", "baton": 0.95}]},
    }
    path = tmp_path_factory.mktemp("compare") / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
def test_compare_writes_a_tidy_table_runs_and_a_chart(tiny_with_what_ifs, tmp_path):
    out = tmp_path / "cmp"
    done = spiral(
        "compare", tiny_with_what_ifs, "--replications", "3", "--pilot", "50%", "--out", out
    )
    assert done.returncode == 0, done.stderr
    assert "spiral compare: 3 replications per arm" in done.stdout
    table = pd.read_csv(out / "compare.csv")
    table["unit"] = table["unit"].fillna("")  # a count has no unit: an empty cell
    arms = {"baseline", "fix_ship", "baton", "fix_ship@50%", "baton@50%"}
    assert set(table["arm"]) == arms
    pd.testing.assert_frame_equal(pd.read_parquet(out / "compare.parquet"), table)
    info = read_parquet_manifest(out / "compare.parquet")
    assert info["replications"] == 3 and info["common_random_numbers"] is True
    units = dict(zip(table["metric"], table["unit"], strict=False))
    assert units["net_value"] == "GBP" and units["churn_rate"] == "share 0-1"
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 3 * len(arms) and runs.groupby("replication")["seed"].nunique().eq(1).all()
    assert {"net_value_GBP", "intervention_cost_GBP", "churn_rate"} <= set(runs)
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_compare_takes_a_what_if_written_on_the_command_line(tiny_with_what_ifs):
    inline = "{name: no_ship_failures, changes: [{change: fix_step, step: ship, to: 0}]}"
    done = spiral(
        "compare", tiny_with_what_ifs, "--what-if", inline, "--replications", "2", "--json"
    )
    assert done.returncode == 0, done.stderr
    decided = json.loads(done.stdout)
    rows = pd.DataFrame(decided["table"])
    assert set(rows["arm"]) == {"baseline", "no_ship_failures"}
    assert [r["arm"] for r in decided["ranking"]] == ["no_ship_failures"]
    assert {r["arm"] for r in decided["regimes"]} == {"baseline", "no_ship_failures"}
    assert decided["recommendation"].endswith(".")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--what-if", "nope"],
            "--what-if: nope: unknown what-if (expected one of: fix_ship, baton)",
        ),
        (["--what-if", "fix_ship@200%"], "expected a pilot share between 0% and 100%"),
        (["--replications", "1"], "--replications: expected 'auto' or a whole number >= 2"),
        (["--pilot", "half"], "--pilot: expected a share like '10%'"),
        (["--target", "0%"], "--target: expected a share above 0%"),
        (["--jobs", "0"], "--jobs: expected at least 1, got 0"),
        (
            ["--what-if", "{name: x, changes: [{change: fix_step, step: nowhere, factor: 0.5}]}"],
            "--what-if: what_ifs.x.changes[0].step: unknown step 'nowhere'",
        ),
        (["--what-if", "{changes: []}"], "expected a YAML mapping with a name"),
    ],
)
@pytest.mark.slow
def test_compare_bad_input_is_one_line_and_exit_code_2(tiny_with_what_ifs, args, message):
    done = spiral("compare", tiny_with_what_ifs, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr


@pytest.mark.slow
def test_run_with_a_what_if_names_it_and_records_it(tiny_with_what_ifs, tmp_path):
    done = spiral("run", tiny_with_what_ifs, "--what-if", "fix_ship@50%", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "spiral run: tiny + fix_ship@50%" in done.stdout
    assert "what-if cost (in net value)" in done.stdout
    info = json.loads((tmp_path / "manifest.json").read_text())
    assert info["what_if"] == "fix_ship@50%"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["what_if"] == "fix_ship@50%" and summary["intervention_cost"] == 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--what-if", "fix_ship", "--what-if", " fix_ship"], None),
        (["--replications", "²"], "--replications: expected 'auto' or a whole number >= 2"),
        (["--what-if", "fix_ship@1.2.3%"], "expected a what-if name, 'a+b' or 'name@10%'"),
        (
            ["--what-if", "{name: baseline, changes: [{change: fix_step, step: ship, to: 0}]}"],
            "other than 'baseline'",
        ),
        (["--what-if", "{name: x, changes: [{step: ship}]}"], "missing change; expected change"),
    ],
)
@pytest.mark.slow
def test_compare_edge_input_never_gives_a_traceback(tiny_with_what_ifs, args, message):
    done = spiral("compare", tiny_with_what_ifs, "--replications", "2", "--json", *args)
    assert "Traceback" not in done.stderr
    if message is None:  # the same what-if twice is run once
        assert done.returncode == 0, done.stderr
        table = pd.DataFrame(json.loads(done.stdout)["table"])
        assert set(table["arm"]) == {"baseline", "fix_ship"}
    else:
        assert done.returncode == 2 and message in done.stderr, done.stderr


# --- spiral explain ---------------------------------------------------------------------


@pytest.mark.slow
def test_explain_refuses_queues_and_loops_in_the_commands_words_one_line_each_exit_2():
    done = spiral("explain", "tipping_point")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "tipping_point: silos.team.staff: 20 staff make a queue, which has no closed form here; "
        "expected unlimited staff (--unlimited)",
        "tipping_point: loops.erosion.enabled: a system loop couples customers, which has no "
        "closed form; expected it off (--without-loops)",
    ]


@pytest.mark.slow
def test_explain_prints_exact_numbers_and_the_fix_first_ranking_as_json():
    done = spiral("explain", "tipping_point", "--unlimited", "--without-loops", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["fix_ranking"][0]["step"] == "handle"
    # every customer ends somewhere or is the mass left travelling (a few tolerances at most)
    ended = sum(found["outcomes"].values())
    assert ended + found["truncated_mass"] == pytest.approx(1, abs=1e-9)
    assert 0 < found["churn_rate"] < 1 and found["truncated_mass"] < 1e-5
    text = spiral("explain", "tipping_point", "--unlimited", "--without-loops")
    assert "Where to start" in text.stdout and "handle" in text.stdout


@pytest.mark.slow
def test_explain_prices_the_scenarios_step_fixes_and_names_the_what_ifs_left_to_compare():
    done = spiral("explain", "online_retail", "--unlimited", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    (fix,) = found["what_ifs"]
    assert fix["what_if"] == "fix_delivery" and fix["churn_cut"] > 0
    assert fix["net_value"] == pytest.approx(fix["revenue_kept"] - fix["cost"])
    assert set(found["what_ifs_left_to_compare"]) == {
        "warm_handoffs",
        "recovery_training",
        "one_more_agent",
    }
    text = spiral("explain", "online_retail", "--unlimited").stdout
    assert "The scenario's step fixes, solved exactly" in text
    assert "one_more_agent: changes more than a step's failure (add_staff); spiral compare" in text


@pytest.mark.slow
def test_explain_refuses_a_bad_factor():
    done = spiral("explain", "tipping_point", "--unlimited", "--without-loops", "--factor", "2")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "spiral explain: --factor: expected a number between 0 and 1, got 2.0"
    )


@pytest.mark.slow
def test_run_picks_the_vectorised_engine_when_it_can_and_says_so(tmp_path):
    data = yaml.safe_load(TINY_YAML)
    for silo in ("ops", "support"):
        data["silos"][silo]["staff"] = "unlimited"
    data["contacts"]["help"].pop("patience")
    data["contacts"]["help"].pop("give_up")
    path = tmp_path / "open.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    done = spiral("run", path)
    assert done.returncode == 0, done.stderr
    assert "engine vectorised" in done.stdout and "--engine des for the SimPy" in done.stdout
    forced = spiral("run", path, "--engine", "des")
    assert "engine des" in forced.stdout and "engine: vectorised" not in forced.stdout
    refused = spiral("run", "online_retail", "--engine", "vectorised")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "spiral run: --engine: the vectorised engine cannot run this" in refused.stderr
