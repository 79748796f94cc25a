"""Writing a run to disk: summary, tables, event log and a manifest that makes it traceable."""

from __future__ import annotations

import datetime as dt
import json
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from spiral.compare import Comparison
from spiral.loading import scenario_hash
from spiral.runner import RunResult
from spiral.scenario import Scenario

TRACKED_PACKAGES = ("spiral", "simpy", "numpy", "pandas", "pyarrow", "networkx", "pydantic")
METADATA_KEY = b"spiral"


def package_versions() -> dict[str, str]:
    """Return the installed versions of spiral and the packages its numbers depend on."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def manifest(result: RunResult, command: str | None = None, source: str | None = None) -> dict:
    """Return what is needed to trace and re-run a result."""
    return {
        "scenario": result.scenario.name,
        "source": source,
        "scenario_sha256": scenario_hash(result.scenario),
        "seed": result.seed,
        "what_if": result.arm.label,
        "engine": result.summary["engine"],
        "spiral_version": package_versions()["spiral"],
        "versions": package_versions(),
        "command": command or "python API",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_parquet(frame: pd.DataFrame, path: Path, info: dict) -> None:
    """Write a DataFrame as parquet with the manifest in the file's metadata under 'spiral'."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(info).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def read_parquet_manifest(path: Path) -> dict:
    """Return the spiral manifest stored in a parquet file's metadata."""
    return json.loads(pq.read_schema(path).metadata[METADATA_KEY])


def write_run(
    result: RunResult, out: Path, command: str | None = None, source: str | None = None
) -> list[Path]:
    """Write summary.json, customers.parquet, timeseries.parquet, tables, events and manifest."""
    out.mkdir(parents=True, exist_ok=True)
    info = manifest(result, command, source)
    written = []

    def path(name: str) -> Path:
        written.append(out / name)
        return out / name

    path("summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
    write_parquet(result.customers, path("customers.parquet"), info)
    write_parquet(result.timeseries, path("timeseries.parquet"), info)
    result.spiral.to_csv(path("spiral.csv"))
    result.by_failure_step.to_csv(path("by_failure_step.csv"))
    result.silos.to_csv(path("silos.csv"))
    if result.events is not None:
        result.events.to_csv(path("events.csv"), index=False)
    else:
        (out / "events.csv").unlink(missing_ok=True)  # a stale log from an earlier run would lie
    path("manifest.json").write_text(json.dumps(info, indent=2) + "\n")
    return written


def write_comparison(
    comparison: Comparison,
    scenario: Scenario,
    out: Path,
    command: str | None = None,
    source: str | None = None,
) -> list[Path]:
    """Write compare.csv/.parquet (tidy), runs.csv (every replication), effects.csv, a chart."""
    from spiral.charts import comparison_chart

    out.mkdir(parents=True, exist_ok=True)
    info = {
        "scenario": scenario.name,
        "source": source,
        "scenario_sha256": scenario_hash(scenario),
        "seeds": sorted(set(comparison.runs["seed"].tolist())),
        "replications": comparison.replications,
        "common_random_numbers": comparison.crn,
        "warmup_min": comparison.warmup,
        "notes": comparison.notes,
        "spiral_version": package_versions()["spiral"],
        "command": command or "python API",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    written = [out / n for n in ("compare.csv", "compare.parquet", "runs.csv", "effects.csv")]
    comparison.table.to_csv(written[0], index=False)
    write_parquet(comparison.table, written[1], info)
    comparison.runs.to_csv(written[2], index=False)
    comparison.effects.to_csv(written[3], index=False)
    written.append(comparison_chart(comparison, out / "compare.png", scenario.money.currency))
    (out / "compare_manifest.json").write_text(json.dumps(info, indent=2) + "\n")
    written.append(out / "compare_manifest.json")
    return written
