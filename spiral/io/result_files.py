"""Writing a run to disk: summary, tables, event log and a manifest that makes it traceable."""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from spiral.analysis.compare import Comparison
from spiral.analysis.results import RunResult
from spiral.io.column_units import unit_of, with_csv_units
from spiral.io.json_text import strict_json
from spiral.model.loading import scenario_hash
from spiral.model.scenario import Scenario

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
    write_parquet_chunks(iter([frame]), path, info)


def write_parquet_chunks(frames: Iterator[pd.DataFrame], path: Path, info: dict) -> None:
    """Write frames of one schema to one parquet file a chunk at a time (memory: a chunk)."""
    writer = None
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                meta = dict(table.schema.metadata or {})
                meta[METADATA_KEY] = json.dumps(info).encode()
                schema = table.schema.with_metadata(meta)
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()


def read_parquet_manifest(path: Path) -> dict:
    """Return the spiral manifest stored in a parquet file's metadata."""
    return json.loads(pq.read_schema(path).metadata[METADATA_KEY])


CSV_FLOATS = "%.8g"
"""Eight significant digits in CSV files: whole amounts stay whole, no 17-digit noise."""

PICTURES = frozenset(
    f"{name}.{suffix}"
    for name in (
        "spiral_curve",
        "journey_map",
        "timeseries",
        "compare_bars",
        "compare_differences",
    )
    for suffix in ("png", "svg")
)
RUN_NAMES = frozenset(
    {
        "summary.json",
        "customers.parquet",
        "timeseries.parquet",
        "timeseries.csv",
        "spiral.csv",
        "by_failure_step.csv",
        "by_segment.csv",
        "silos.csv",
        "events.csv",
        "manifest.json",
    }
)
COMPARE_NAMES = frozenset(
    {
        "compare.csv",
        "compare.parquet",
        "runs.csv",
        "effects.csv",
        "compare.png",
        "compare_manifest.json",
    }
)


def spiral_wrote(folder: Path, manifest_name: str, names: frozenset[str]):  # noqa: ANN201
    """Return a test of whether a file in ``folder`` is one a spiral command writes there.

    Its own file names, pictures, and whatever the folder's manifest lists.
    """
    try:
        listed = set(json.loads((folder / manifest_name).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        listed = set()
    return lambda name: name in names or name in PICTURES or name in listed


def write_manifest(folder: Path, info: dict, name: str = "manifest.json") -> Path:
    """Write the manifest last, listing every file beside it with its size and SHA-256."""
    from spiral.io.atomic_output import file_records

    files = file_records(folder)
    files.pop(name, None)
    path = folder / name
    path.write_text(strict_json({**info, "files": files}) + "\n", encoding="utf-8")
    return path


def write_run(
    result: RunResult,
    out: Path,
    command: str | None = None,
    source: str | None = None,
    events: bool | None = None,
) -> list[Path]:
    """Write summary.json, customers.parquet, the time series, tables, events and manifest.

    ``events``: write events.csv (default: when the run kept its event log). The manifest
    is written last and lists every file in ``out`` with its size and SHA-256.
    """
    out.mkdir(parents=True, exist_ok=True)
    info = manifest(result, command, source)
    written = []

    def path(name: str) -> Path:
        written.append(out / name)
        return out / name

    path("summary.json").write_text(strict_json(result.summary) + "\n", encoding="utf-8")
    write_parquet_chunks(result.customer_chunks(), path("customers.parquet"), info)
    write_parquet(result.timeseries, path("timeseries.parquet"), info)
    currency = result.scenario.money.currency
    write_csv(result.timeseries, path("timeseries.csv"), currency, index=False)
    write_csv(result.spiral, path("spiral.csv"), currency)
    write_csv(result.by_failure_step, path("by_failure_step.csv"), currency)
    if result.scenario.segments:
        write_csv(result.by_segment, path("by_segment.csv"), currency)
    write_csv(result.silos, path("silos.csv"), currency)
    if events is None:
        events = result.raw.events is not None
    if events:
        write_events_csv(result, path("events.csv"))
    else:
        (out / "events.csv").unlink(missing_ok=True)  # a stale log from an earlier run would lie
    written.append(write_manifest(out, info))
    return written


def write_csv(frame: pd.DataFrame, path: Path, currency: str, index: bool = True) -> Path:
    """Write a table as CSV: 8 significant digits, money and time columns named with their unit."""
    with_csv_units(frame, currency).to_csv(path, index=index, float_format=CSV_FLOATS)
    return path


def write_events_csv(result: RunResult, path: Path) -> Path:
    """Write the engine's event log as CSV a chunk at a time (never whole in memory)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        header = True
        for chunk in result.event_chunks():
            chunk.to_csv(handle, index=False, header=header)
            header = False
    return path


def write_comparison(
    comparison: Comparison,
    scenario: Scenario,
    out: Path,
    command: str | None = None,
    source: str | None = None,
) -> list[Path]:
    """Write compare.csv/.parquet (tidy), runs.csv (every replication), effects.csv, manifest.

    The manifest lists every file in ``out``: draw pictures there first (``compare.png``).
    """
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
    currency = scenario.money.currency
    units = [unit_of(str(metric), currency) or "" for metric in comparison.table["metric"]]
    tidy = comparison.table.assign(unit=units)
    tidy.to_csv(written[0], index=False, float_format=CSV_FLOATS)
    write_parquet(tidy, written[1], info)
    write_csv(comparison.runs, written[2], currency, index=False)
    write_csv(comparison.effects, written[3], currency, index=False)
    written.append(write_manifest(out, info, "compare_manifest.json"))
    return written
