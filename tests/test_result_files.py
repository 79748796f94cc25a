"""Writing a run: every file parses back to the result it came from and carries the manifest."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest
from examples import RUN_FILES, TINY

from spiral.analysis.results import run
from spiral.engines.records import CustomerTable
from spiral.io.column_units import csv_name
from spiral.io.result_files import (
    METADATA_KEY,
    manifest,
    package_versions,
    read_parquet_manifest,
    write_parquet,
    write_run,
)
from spiral.model.loading import parse_scenario, scenario_hash


@pytest.fixture(scope="module")
def result():
    """Return one run of the tiny scenario (400 customers, seed 6) with its event log."""
    tiny = copy.deepcopy(TINY)
    del tiny["horizon"]
    tiny["customers"] = 400
    return run(parse_scenario(tiny, "tiny.yaml"), seed=6, event_log=True)


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "nested" / "results"  # created with parents
    paths = write_run(result, out, command="spiral run tiny.yaml --seed 6", source="tiny.yaml")
    return out, paths


def as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the frame with every value as text (NaN as ''), index reset: CSV's view of it."""
    frame = frame.reset_index() if frame.index.name else frame
    return frame.astype(object).where(frame.notna(), "").astype(str).reset_index(drop=True)


def test_write_run_writes_every_file_and_returns_their_paths(written):
    out, paths = written
    assert {p.name for p in paths} == RUN_FILES | {"events.csv"}
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)


def test_the_summary_file_is_the_summary_as_strict_json(result, written):
    out, _ = written

    def refuse(constant):
        raise ValueError(constant)

    text = (out / "summary.json").read_text()
    assert text.endswith("}\n")
    assert json.loads(text, parse_constant=refuse) == json.loads(json.dumps(result.summary))


@pytest.mark.parametrize("name", ["customers", "timeseries"])
def test_parquet_tables_read_back_equal_to_the_result(result, written, name):
    out, _ = written
    back = pd.read_parquet(out / f"{name}.parquet")
    pd.testing.assert_frame_equal(back, getattr(result, name))


@pytest.mark.parametrize(
    ("name", "attribute", "index"),
    [
        ("spiral.csv", "spiral", "failures"),
        ("silos.csv", "silos", "silo"),
        ("by_failure_step.csv", "by_failure_step", "first_failure_step"),
    ],
)
def test_csv_tables_read_back_with_their_index_and_values(result, written, name, attribute, index):
    out, _ = written
    frame = getattr(result, attribute)
    back = pd.read_csv(out / name, index_col=index)
    assert len(frame) > 0
    assert back.index.astype(str).tolist() == frame.index.astype(str).tolist()
    named = {column: csv_name(column, "GBP") for column in frame.columns}
    assert list(back.columns) == list(named.values())
    numeric = set(frame.select_dtypes("number").columns)
    for column in frame.columns:
        read = back[named[column]]
        if column in numeric:
            expected = pytest.approx(frame[column].to_numpy(float), nan_ok=True)
            assert read.to_numpy(float) == expected, column
        else:
            assert read.astype(str).tolist() == frame[column].astype(str).tolist()


def test_csv_columns_name_their_money_and_time_units(written):
    out, _ = written
    silos = pd.read_csv(out / "silos.csv").columns.tolist()
    assert "staff_cost_GBP" in silos and "mean_wait_min" in silos and "utilisation" in silos
    series = pd.read_csv(out / "timeseries.csv", nrows=1).columns.tolist()
    assert {"start_min", "revenue_GBP", "revenue_at_risk_GBP", "churned"} <= set(series)
    assert any(c.startswith("wait_") and c.endswith("_min") for c in series)


def test_the_time_series_csv_reads_back_as_the_parquet_to_eight_digits(result, written):
    out, _ = written
    back = pd.read_csv(out / "timeseries.csv")
    frame = result.timeseries
    named = {column: csv_name(column, "GBP") for column in frame.columns}
    assert list(back.columns) == list(named.values()) and len(back) == len(frame)
    for column in frame.select_dtypes("number").columns:
        expected = pytest.approx(frame[column].to_numpy(float), rel=1e-7, nan_ok=True)
        assert back[named[column]].to_numpy(float) == expected, column


def test_csv_numbers_carry_at_most_eight_significant_digits(written):
    out, _ = written
    text = (out / "timeseries.csv").read_text() + (out / "silos.csv").read_text()
    digits = [
        len(n.lstrip("-").replace(".", "").lstrip("0")) for n in re.findall(r"-?\d+\.\d+", text)
    ]
    assert digits and max(digits) <= 8


def test_the_customer_table_flags_who_was_measured(result):
    customers = result.customers
    assert (customers["measured"] == (customers["arrival"] >= result.scenario.warmup)).all()
    assert customers["measured"].any()


def test_the_event_log_reads_back_row_for_row(result, written):
    out, _ = written
    back = pd.read_csv(out / "events.csv", keep_default_na=False, dtype=str)
    events = result.events
    assert list(back.columns) == ["time", "customer", "node", "silo", "event", "severity", "detail"]
    assert len(back) == len(events) > 0
    assert pd.to_numeric(back["time"]).to_numpy() == pytest.approx(events["time"].to_numpy())
    assert pd.to_numeric(back["customer"]).tolist() == events["customer"].tolist()
    for column in ("node", "silo", "event", "detail"):
        assert back[column].tolist() == as_strings(events[[column]])[column].tolist(), column


def test_the_manifest_file_and_the_parquet_metadata_are_the_same_manifest(result, written):
    out, _ = written
    info = json.loads((out / "manifest.json").read_text())
    # the manifest file also lists the files beside it (the tables' metadata cannot)
    beside = sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    assert sorted(info.pop("files")) == beside
    for table in ("customers.parquet", "timeseries.parquet"):
        assert read_parquet_manifest(out / table) == info
        assert json.loads(pq.read_schema(out / table).metadata[METADATA_KEY]) == info
    assert info["scenario"] == "tiny" and info["source"] == "tiny.yaml"
    assert info["seed"] == 6 and info["engine"] == "des"
    assert info["scenario_sha256"] == scenario_hash(result.scenario)
    assert info["command"] == "spiral run tiny.yaml --seed 6"
    assert info["versions"] == package_versions()
    assert info["spiral_version"] == info["versions"]["spiral"]
    created = dt.datetime.fromisoformat(info["created"])
    assert created.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=10)


def test_a_manifest_without_command_or_source_says_python_api(result):
    info = manifest(result)
    assert info["command"] == "python API" and info["source"] is None
    assert set(info) == {
        "scenario",
        "source",
        "scenario_sha256",
        "seed",
        "what_if",
        "engine",
        "spiral_version",
        "versions",
        "command",
        "created",
    }


def test_a_run_without_event_log_writes_no_events_file(tiny_data, tmp_path):
    tiny_data["horizon"] = "1 day"
    quiet = run(parse_scenario(tiny_data, "tiny.yaml"), seed=2)
    paths = write_run(quiet, tmp_path)
    assert quiet.events is None
    assert {p.name for p in paths} == {p.name for p in tmp_path.iterdir()} == RUN_FILES


def test_read_parquet_manifest_returns_what_write_parquet_stored(tmp_path):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    info = {"seed": 42, "command": "spiral run 'é ü' --seed 42", "nested": {"k": [1.5, None]}}
    path = tmp_path / "t.parquet"
    write_parquet(frame, path, info)
    assert read_parquet_manifest(path) == info
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    # pandas' own metadata is kept alongside ours
    assert b"pandas" in pq.read_schema(path).metadata


def test_package_versions_name_python_spiral_and_its_numeric_stack():
    versions = package_versions()
    assert set(versions) == {
        "python",
        "spiral",
        "simpy",
        "numpy",
        "pandas",
        "pyarrow",
        "networkx",
        "pydantic",
    }
    assert versions["pandas"] == pd.__version__
    assert all(v and v != "not installed" for v in versions.values())


def test_a_run_without_event_log_removes_a_stale_events_file(tiny_data, tmp_path):
    tiny_data["horizon"] = "1 day"
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    write_run(run(scenario, seed=2, event_log=True), tmp_path)
    assert (tmp_path / "events.csv").exists()
    write_run(run(scenario, seed=2), tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == RUN_FILES


def test_a_customer_table_of_many_chunks_is_written_whole_a_chunk_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(CustomerTable, "CHUNK", 97)  # many parts for a small run
    result = run(parse_scenario(copy.deepcopy(TINY), "tiny.yaml"), seed=2)
    assert result.raw.customers.parts is not None and len(result.raw.customers.parts.paths) > 5
    write_run(result, tmp_path)
    back = pd.read_parquet(tmp_path / "customers.parquet")
    assert len(back) == result.summary["arrivals"]
    ordered = back.sort_values("customer", ignore_index=True)
    pd.testing.assert_frame_equal(ordered, result.customers)
