"""A sweep's output folder: a manifest, batches of rows as they finish, one final table.

Layout of ``DIR``:

- ``manifest.json``: the sweep file's hash (with its scenario's), the sweep as
  validated, the number of runs, package versions;
- ``parts/part-*.parquet``: rows saved as they finish, each batch written to a
  temporary file and renamed, so a file is either whole or absent;
- ``results.parquet``: one row per run, written (also atomically) when every run has
  a row; the parts are then removed.

Reading unions ``results.parquet`` and the parts and keeps each run's latest row, so a
crash at any moment loses at most the batch in memory, and a re-run that retries a
failed run replaces its row.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from spiral.io.result_files import package_versions, write_parquet
from spiral.model.errors import problem
from spiral.sweeps.sweep_file import WHAT_IF, Range, Sweep, split_quantity

MANIFEST = "manifest.json"
RESULTS = "results.parquet"
PARTS = "parts"


def _atomic_write(write, path: Path) -> None:  # noqa: ANN001 - a function of a path
    """Write through a temporary file in the same folder, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _units_of(values: list) -> set[str] | None:
    """Return the units of a list of quantities, or None if a value is not a quantity."""
    found = set()
    for value in values:
        if isinstance(value, bool):
            return None
        try:
            found.add(split_quantity(value)[1])
        except ValueError:
            return None
    return found


def parameter_columns(sweep: Sweep) -> dict[str, str]:
    """Return each parameter's column type: 'float' (numbers, in the unit written) or 'str'."""
    kinds = {}
    for name, values in sweep.spec.parameters.items():
        numeric = isinstance(values, Range) or (
            name != WHAT_IF and len(_units_of(values) or {"", "x"}) == 1
        )
        kinds[name] = "float" if numeric else "str"
    return kinds


def units(sweep: Sweep) -> dict[str, str]:
    """Return the unit of each numeric parameter written with one (e.g. 'per day')."""
    out = {}
    kinds = parameter_columns(sweep)
    for name, values in sweep.spec.parameters.items():
        first = values.low if isinstance(values, Range) else values[0]
        if kinds[name] == "float" and split_quantity(first)[1]:
            out[name] = split_quantity(first)[1]
    return out


class SweepStore:
    """The output folder of one sweep; refuses a folder holding another sweep's results."""

    def __init__(self, folder: Path, sweep: Sweep, total: int) -> None:
        self.folder = folder
        self.sweep = sweep
        self.total = total
        self.buffer: list[dict] = []
        self.kinds = parameter_columns(sweep)

    @classmethod
    def check(cls, folder: Path, sweep: Sweep) -> None:
        """Refuse (ScenarioError) a folder holding another sweep, or one that is not a folder."""
        manifest = folder / MANIFEST
        digest = sweep.digest()
        if folder.exists() and not folder.is_dir():
            raise problem(str(folder), "--out", "is a file; expected a folder for the results")
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))["digest"]
            except (OSError, ValueError, KeyError):
                raise problem(
                    str(manifest), "digest", "unreadable; expected a spiral sweep manifest"
                ) from None
            if found != digest:
                raise problem(
                    str(manifest),
                    "digest",
                    f"this folder holds results of another sweep (hash {found}; "
                    f"{sweep.path} with its scenario gives {digest}); expected the same "
                    "sweep file, or a new --out folder",
                )
        elif folder.exists() and any(folder.iterdir()):
            raise problem(
                str(folder), "--out", "not empty and not a sweep folder; expected a new folder"
            )

    @classmethod
    def open(cls, folder: Path, sweep: Sweep, total: int) -> SweepStore:
        """Open (or create) ``folder`` for this sweep; ScenarioError if it holds another."""
        cls.check(folder, sweep)
        store = cls(folder, sweep, total)
        try:
            (folder / PARTS).mkdir(parents=True, exist_ok=True)
            if not (folder / MANIFEST).exists():
                store._write_manifest()
        except OSError as error:
            raise problem(
                str(folder), "--out", f"cannot be written ({error.strerror}); expected a folder"
            ) from None
        return store

    def _write_manifest(self) -> None:
        spec = self.sweep.spec
        info = {
            "sweep": self.sweep.name,
            "sweep_file": self.sweep.path,
            "scenario": self.sweep.base_source,
            "digest": self.sweep.digest(),
            "runs": self.total,
            "replications": spec.replications,
            "parameters": self.sweep.parameters,
            "units": units(self.sweep),
            "metrics": spec.metrics,
            "currency": self.sweep.scenario.money.currency,
            "engine": self.sweep.engine,
            "spec": spec.model_dump(mode="json"),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": package_versions(),
        }
        text = json.dumps(info, indent=2)
        _atomic_write(lambda p: p.write_text(text, encoding="utf-8"), self.folder / MANIFEST)

    def manifest(self) -> dict:
        """Return the folder's manifest."""
        return json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))

    def add(self, row: dict) -> None:
        """Keep a finished run's row until the next flush."""
        self.buffer.append(row)

    def _frame(self, rows: list[dict]) -> pd.DataFrame:
        """Return rows as a table with one fixed schema, parameters as their own columns."""
        spec = self.sweep.spec
        records = []
        for row in rows:
            record = {k: row[k] for k in ("run", "point", "replication", "seed")}
            for name, value in row["values"].items():
                record[name] = (
                    split_quantity(value)[0] if self.kinds[name] == "float" else str(value)
                )
            for metric in spec.metrics:
                record[metric] = float(row[metric])
            for key in ("status", "error", "worker"):
                record[key] = str(row[key])
            record["seconds"] = float(row["seconds"])
            records.append(record)
        frame = pd.DataFrame.from_records(records, columns=self.columns())
        return frame.astype({k: "int64" for k in ("run", "point", "replication", "seed")})

    def columns(self) -> list[str]:
        """Return the result table's columns in order."""
        return [
            "run",
            "point",
            "replication",
            "seed",
            *self.sweep.parameters,
            *self.sweep.spec.metrics,
            "status",
            "error",
            "seconds",
            "worker",
        ]

    def flush(self) -> None:
        """Save the rows in memory as one new part file (atomically)."""
        if not self.buffer:
            return
        frame = self._frame(self.buffer)
        name = f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        info = {"sweep": self.sweep.name, "digest": self.sweep.digest()}
        _atomic_write(lambda p: write_parquet(frame, p, info), self.folder / PARTS / name)
        self.buffer = []

    def load(self) -> pd.DataFrame:
        """Return every saved row, the latest per run, in run order."""
        return load_rows(self.folder, self.columns())

    def finished(self) -> set[int]:
        """Return the runs already saved as ok."""
        frame = self.load()
        return set(frame.loc[frame["status"] == "ok", "run"].tolist())

    def consolidate(self) -> Path:
        """Write results.parquet (one row per run) and remove the parts it replaces."""
        files = saved_files(self.folder)
        frame = self.load()
        info = {k: v for k, v in self.manifest().items() if k != "versions"}
        path = self.folder / RESULTS
        _atomic_write(lambda p: write_parquet(frame, p, info), path)
        for part in files:
            if part != path:
                part.unlink()
        return path


def saved_files(folder: Path) -> list[Path]:
    """Return results.parquet (if written) then the parts, oldest first: later rows win."""
    results = folder / RESULTS
    parts = sorted((folder / PARTS).glob("part-*.parquet"))
    return ([results] if results.exists() else []) + parts


def load_rows(folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Return the saved rows of a sweep folder, the latest per run, in run order."""
    frames = [pd.read_parquet(f) for f in saved_files(folder)]
    if not frames:
        return pd.DataFrame(columns=columns or ["run", "status"])
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.drop_duplicates("run", keep="last").sort_values("run")
    return frame.reset_index(drop=True)
