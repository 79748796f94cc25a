"""Writing a run: every file parses back and carries the manifest."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
from examples import RUN_FILES

from spiral.loading import scenario_hash
from spiral.output import METADATA_KEY, package_versions, read_parquet_manifest, write_run
from spiral.runner import run


def test_written_tables_equal_the_result_and_carry_the_manifest(tiny_scenario, tmp_path):
    result = run(tiny_scenario, seed=6)
    written = write_run(result, tmp_path, command="spiral run tiny.yaml", source="tiny.yaml")
    assert {p.name for p in written} == RUN_FILES
    customers = pd.read_parquet(tmp_path / "customers.parquet")
    pd.testing.assert_frame_equal(customers, result.customers)
    series = pd.read_parquet(tmp_path / "timeseries.parquet")
    pd.testing.assert_frame_equal(series, result.timeseries)
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(
        json.dumps(result.summary)
    )
    manifest = read_parquet_manifest(tmp_path / "customers.parquet")
    assert manifest == json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["scenario_sha256"] == scenario_hash(tiny_scenario)
    assert manifest["seed"] == 6 and manifest["source"] == "tiny.yaml"
    assert METADATA_KEY in pq.read_schema(tmp_path / "timeseries.parquet").metadata
    silos = pd.read_csv(tmp_path / "silos.csv", index_col="silo")
    assert silos.loc["ops", "served"] == result.silos.loc["ops", "served"]


def test_the_event_log_is_written_when_the_run_kept_it(tiny_scenario, tmp_path):
    result = run(tiny_scenario, seed=6, event_log=True)
    write_run(result, tmp_path)
    events = pd.read_csv(tmp_path / "events.csv")
    assert len(events) == len(result.events)
    assert list(events.columns) == [
        "time",
        "customer",
        "node",
        "silo",
        "event",
        "severity",
        "detail",
    ]


def test_package_versions_name_spiral_and_its_numeric_stack():
    versions = package_versions()
    assert {"python", "spiral", "simpy", "numpy", "pandas"} <= set(versions)
