"""The command line: runs, files written and read back, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from examples import RUN_FILES, TINY

from spiral.output import read_parquet_manifest


def spiral(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spiral", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def tiny_file(write_scenario):
    return write_scenario(TINY, "tiny.yaml")


def test_validate_says_ok_for_a_good_file(tiny_file):
    done = spiral("validate", str(tiny_file))
    assert done.returncode == 0
    assert done.stdout.strip() == f"{tiny_file}: ok (5 nodes, 3 silos)"


def test_validate_reports_each_problem_on_one_line_with_exit_code_2(write_scenario):
    bad = {
        **TINY,
        "steps": {
            **TINY["steps"],
            "ship": {**TINY["steps"]["ship"], "failure": 2, "next": "nowhere"},
        },
    }
    path = write_scenario(bad, "bad.yaml")
    done = spiral("validate", str(path))
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [f"{path}: steps.ship.failure: expected a probability in [0, 1], got 2"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("validate", "missing.yaml"), "missing.yaml: file: no such file or built-in scenario"),
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
        (("frobnicate",), "spiral: No such command 'frobnicate'"),
        (("run", "TINY", "--rate", "lots"), "spiral run: --rate: expected a rate like"),
    ],
)
def test_bad_command_lines_get_one_line_and_exit_code_2(args, expected, tiny_file):
    done = spiral(*(str(tiny_file) if a == "TINY" else a for a in args))
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(expected), line


def test_run_prints_the_summary_as_json_and_is_reproducible(tiny_file):
    first = spiral("run", str(tiny_file), "--customers", "400", "--seed", "3", "--json")
    again = spiral("run", str(tiny_file), "--customers", "400", "--seed", "3", "--json")
    other = spiral("run", str(tiny_file), "--customers", "400", "--seed", "4", "--json")
    summary = json.loads(first.stdout)
    assert summary["arrivals"] == 400 and summary["seed"] == 3
    assert json.loads(again.stdout) == summary
    assert json.loads(other.stdout) != summary


def test_rate_overrides_the_arrival_rate_and_is_recorded(tiny_file, tmp_path):
    base = json.loads(spiral("run", str(tiny_file), "--json").stdout)
    out = tmp_path / "fast"
    done = spiral("run", str(tiny_file), "--rate", "400 per day", "--json", "--out", str(out))
    busier = json.loads(done.stdout)
    # 5 days at 200 and at 400 a day: Poisson counts far apart
    assert busier["arrivals"] > 1.6 * base["arrivals"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "--rate '400 per day'" in manifest["command"]


def test_run_prints_the_spiral_tables(tiny_file):
    done = spiral("run", str(tiny_file), "--customers", "300")
    assert done.returncode == 0
    for title in ("The spiral: by failures suffered", "Where complaints are born", "Silos"):
        assert title in done.stdout


def test_out_writes_every_file_and_each_parses_back_with_the_manifest(tiny_file, tmp_path):
    out = tmp_path / "results"
    done = spiral("run", str(tiny_file), "--customers", "500", "--seed", "9", "--out", str(out))
    assert done.returncode == 0, done.stderr
    names = {p.name for p in out.iterdir()}
    assert names == RUN_FILES | {"events.csv"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 9 and len(manifest["scenario_sha256"]) == 64
    assert manifest["command"].startswith("spiral run") and "--seed 9" in manifest["command"]
    assert manifest["versions"]["simpy"] and manifest["spiral_version"]
    for table in ("customers.parquet", "timeseries.parquet"):
        assert read_parquet_manifest(out / table) == manifest
    customers = pd.read_parquet(out / "customers.parquet")
    summary = json.loads((out / "summary.json").read_text())
    assert len(customers) == summary["arrivals"] == 500
    events = pd.read_csv(out / "events.csv")
    assert set(events["customer"]) == set(customers["customer"])
    assert (events["event"] == "outcome").sum() == summary["completed"]
    spiral_rows = pd.read_csv(out / "spiral.csv", index_col=0)
    assert spiral_rows["customers"].sum() == summary["completed"]


def test_out_to_an_unwritable_place_is_a_one_line_error(tiny_file, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = spiral("run", str(tiny_file), "--customers", "50", "--out", str(blocker / "x"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"{blocker / 'x'}: --out: cannot write")


def test_scenarios_lists_each_builtin_with_its_description():
    done = spiral("scenarios")
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("online_retail ") for line in lines)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_schema_is_json_schema_of_scenario_files():
    schema = json.loads(spiral("schema").stdout)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert {"name", "start", "arrivals", "silos", "steps", "outcomes"} <= set(schema["required"])
    assert "experience" in schema["properties"]
