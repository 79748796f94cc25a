"""Run records: the per-customer table, the optional event log and per-period counters.

Customer rows are folded into exact aggregates a chunk at a time (``CustomerTable``,
``spiral.engines.customer_tally``) and kept on disk only when asked for; the event log
exists only when asked for, spooled to disk the same way: memory holds a chunk of each.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spiral.engines.customer_columns import COLUMN_ORDER, FLOAT_COLUMNS, INT_COLUMNS
from spiral.engines.customer_tally import CustomerTally
from spiral.engines.rules import effort
from spiral.model.scenario import Scenario

IN_PROGRESS, RETAINED, ADVOCATE, CHURNED = -1, 0, 1, 2
OUTCOME_NAMES = {
    IN_PROGRESS: "in_progress",
    RETAINED: "retained",
    ADVOCATE: "advocate",
    CHURNED: "churned",
}


class Customer:
    """What a customer carries through the journey.

    Counters start as class-level defaults, so creating a customer sets three
    attributes, not twenty; only customers still in a journey are held in memory.
    """

    failures = contacts = repeat_contacts = failure_demand = silent = complaints = 0
    warm = cold = cold_seen = ping_pongs = abandons = 0
    visits = issue_contacts = 0
    severity = wait = reach = 0.0
    social = ceo = recovered = open_issue = False
    first_failure = last_failure = -1
    failed_at = 0.0  # when the first failure happened
    severity_at = 0.0  # when severity last changed (it fades from then)
    to_recovery = -1.0  # minutes from the first failure to its resolution; -1: not recovered
    bounce = -1
    scope = 0  # bit mask of the what-ifs whose pilot this customer is in
    segment = 0  # index of the customer's segment (scenario.segments order)

    def __init__(self, cid: int, arrival: float, luck: float) -> None:
        self.id = cid
        self.arrival = arrival
        self.luck = luck  # the outcome draw, fixed at arrival for common random numbers


# A row packed in one C call: ``array.extend`` would convert its values one at a time.
# Native byte order and standard sizes, as ``array("i")`` and ``array("d")`` store them.
_INT_ROW = struct.Struct(f"={len(INT_COLUMNS)}i")
_FLOAT_ROW = struct.Struct(f"={len(FLOAT_COLUMNS)}d")


class Parts:
    """Spooled part files in a temporary folder, removed when this is garbage-collected."""

    def __init__(self, prefix: str) -> None:
        import tempfile
        import weakref

        self.paths: list[str] = []
        self.folder = tempfile.mkdtemp(prefix=prefix)
        self._cleanup = weakref.finalize(self, _remove_folder, self.folder)

    def write(self, table: object) -> None:  # a pyarrow Table
        """Write one part (Arrow IPC with LZ4: written and read far faster than parquet)."""
        import pyarrow.feather as feather

        path = f"{self.folder}/part-{len(self.paths):06d}.arrow"
        feather.write_feather(table, path, compression="lz4")
        self.paths.append(path)

    def read(self) -> Iterator[pd.DataFrame]:
        """Yield the parts in the order written, one at a time."""
        import pyarrow.feather as feather

        for path in self.paths:
            yield feather.read_table(path).to_pandas()


class CustomerTable:
    """Customer rows as they finish, folded into a tally a chunk at a time; kept if asked.

    Rows wait in two typed ``array`` stores (124 bytes a customer) until ``chunk`` of them
    have come; then they are folded into ``tally`` (exact aggregates every metric reads)
    and, when ``keep``, written to a part on disk (Arrow IPC), and dropped. Memory holds one
    chunk of rows, whatever the number of customers; ``frames`` reads the kept rows back a
    chunk at a time, ``to_frame`` all at once, sorted by customer.
    """

    CHUNK = 65_536

    def __init__(self, tally: CustomerTally, keep: bool = True, chunk: int | None = None) -> None:
        self.ints = array("i")
        self.floats = array("d")
        self.tally = tally
        self.keep = keep
        self.chunk = chunk or self.CHUNK
        self.parts: Parts | None = Parts("spiral-customers-") if keep else None
        self._flush_at = self.chunk * len(FLOAT_COLUMNS)

    def append(self, c: Customer, end: float, outcome: int, exit_node: int) -> None:
        """Add one customer's row."""
        self.ints.frombytes(
            _INT_ROW.pack(
                c.id,
                outcome,
                exit_node,
                c.failures,
                c.contacts,
                c.repeat_contacts,
                c.failure_demand,
                c.silent,
                c.complaints,
                c.warm,
                c.cold,
                c.ping_pongs,
                c.abandons,
                effort(c.contacts, c.cold_seen, c.ping_pongs, c.abandons),
                c.visits,
                c.social,
                c.ceo,
                c.recovered,
                c.first_failure,
                c.scope,
                c.segment,
            )
        )
        self.floats.frombytes(_FLOAT_ROW.pack(c.arrival, end, c.severity, c.wait, c.reach))
        if len(self.floats) >= self._flush_at:
            self.flush()

    def extend(self, columns: dict[str, np.ndarray]) -> None:
        """Add many customers at once, given column by column (any numeric types)."""
        self._fold({name: np.asarray(columns[name]) for name in COLUMN_ORDER})

    def flush(self) -> None:
        """Fold the rows waiting in memory into the tally (and the kept parts), and drop them."""
        if not len(self.floats):
            return
        ints = np.frombuffer(self.ints, dtype=np.int32).reshape(-1, len(INT_COLUMNS))
        floats = np.frombuffer(self.floats, dtype=np.float64).reshape(-1, len(FLOAT_COLUMNS))
        columns = {name: ints[:, j].copy() for j, name in enumerate(INT_COLUMNS)}
        columns.update({name: floats[:, j].copy() for j, name in enumerate(FLOAT_COLUMNS)})
        self.ints, self.floats = array("i"), array("d")
        self._fold(columns)

    def _fold(self, columns: dict[str, np.ndarray]) -> None:
        self.tally.add(columns)
        if self.parts is not None:
            import pyarrow as pa

            order = np.argsort(columns["customer"], kind="stable")  # each part by customer
            typed = {  # the rows' types: int32, and float64 for times and amounts
                name: columns[name][order].astype(
                    np.float64 if name in FLOAT_COLUMNS else np.int32, copy=False
                )
                for name in COLUMN_ORDER
            }
            self.parts.write(pa.table(typed))

    def folded(self) -> CustomerTally:
        """Return the tally with every row so far folded in."""
        self.flush()
        return self.tally

    def __len__(self) -> int:
        return self.tally.total + len(self.floats) // len(FLOAT_COLUMNS)

    def outcome_count(self, outcome: int) -> int:
        """Return how many customers so far ended with this outcome code."""
        waiting = np.frombuffer(self.ints, dtype=np.int32).reshape(-1, len(INT_COLUMNS))
        pending = int((waiting[:, INT_COLUMNS.index("outcome")] == outcome).sum())
        return self.tally.outcome_total(outcome) + pending

    def nbytes(self) -> int:
        """Return the bytes held in memory: rows waiting and the tally (kept parts are on disk)."""
        waiting = self.ints.itemsize * len(self.ints) + self.floats.itemsize * len(self.floats)
        return waiting + self.tally.nbytes()

    def frames(self, node_names: tuple[str, ...]) -> Iterator[pd.DataFrame]:
        """Yield the kept rows a chunk at a time, readable; each chunk sorted by customer.

        Chunks hold customers in the order they finished (those in a journey last), so
        customer ids only rise within a chunk.
        """
        if self.parts is None:
            raise ValueError(
                "the run kept no customer table; run it with customers=True (spiral run --out)"
            )
        self.flush()
        empty = True
        for raw in self.parts.read():
            empty = False
            yield readable(raw, node_names)
        if empty:
            yield readable(pd.DataFrame({name: [] for name in COLUMN_ORDER}), node_names)

    def to_frame(self, node_names: tuple[str, ...]) -> pd.DataFrame:
        """Return every kept row as one frame sorted by customer (it all comes into memory)."""
        frame = pd.concat(list(self.frames(node_names)), ignore_index=True)
        return frame.sort_values("customer", ignore_index=True, kind="stable")


def table_for(scenario: Scenario, nodes: int, keep: bool) -> CustomerTable:
    """Return an empty customer table for a run of ``scenario`` (``keep``: rows on disk)."""
    tally = CustomerTally(scenario.warmup, scenario.period, nodes, len(scenario.segments))
    return CustomerTable(tally, keep)


def readable(raw: pd.DataFrame, node_names: tuple[str, ...]) -> pd.DataFrame:
    """Return customer rows with their types and readable categories (outcome, nodes)."""
    data = {
        name: raw[name].to_numpy(np.float64 if name in FLOAT_COLUMNS else np.int32)
        for name in COLUMN_ORDER
    }
    data["customer"] = data["customer"].astype(np.int64)
    for flag in ("social", "ceo", "recovered"):
        data[flag] = data[flag].astype(bool)
    frame = pd.DataFrame({name: data[name] for name in COLUMN_ORDER})
    nodes = list(node_names)
    frame["outcome"] = pd.Categorical.from_codes(
        frame["outcome"].to_numpy() + 1, categories=list(OUTCOME_NAMES.values())
    )
    frame["exit_node"] = pd.Categorical.from_codes(frame["exit_node"].to_numpy(), nodes)
    frame["first_failure"] = pd.Categorical.from_codes(frame["first_failure"].to_numpy(), nodes)
    frame["reach"] = frame["reach"].astype(np.float32)
    return frame


EVENT_COLUMNS = ("time", "customer", "node", "event", "severity", "detail")


def events_frame(
    rows: list[tuple] | pd.DataFrame,
    node_names: tuple[str, ...],
    node_silo: tuple[str | None, ...],
) -> pd.DataFrame:
    """Return the event log as a DataFrame (time in minutes, one row per event)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=EVENT_COLUMNS)
    frame = frame.reset_index(drop=True)
    codes = frame["node"].to_numpy(dtype=np.int64) if len(frame) else np.array([], np.int64)
    silo_names = sorted({s for s in node_silo if s is not None})
    silo_codes = np.array([silo_names.index(s) if s else -1 for s in node_silo] + [-1])
    frame["silo"] = pd.Categorical.from_codes(silo_codes[codes], silo_names)
    frame["node"] = pd.Categorical.from_codes(codes, list(node_names))
    frame["event"] = frame["event"].astype("category")
    return frame[["time", "customer", "node", "silo", "event", "severity", "detail"]]


class EventSink:
    """A run's event log, spooled to parquet files on disk as it grows.

    The engine appends tuples to ``rows`` (a plain list, as fast as it gets) and calls
    ``spill`` now and then: once ``rows`` holds ``chunk`` events they are written to a
    part file and dropped, so memory never holds more than one chunk of the log. The
    files live in a temporary folder removed when the sink is garbage-collected.
    """

    CHUNK = 200_000

    def __init__(self, chunk: int | None = None) -> None:
        self.rows: list[tuple] = []
        self.chunk = chunk or self.CHUNK
        self.count = 0
        self.parts = Parts("spiral-events-")

    def spill(self, force: bool = False) -> None:
        """Write the events held in memory to a part file once there are enough (or now)."""
        rows = self.rows
        if not rows or (len(rows) < self.chunk and not force):
            return
        import pyarrow as pa

        columns = list(zip(*rows, strict=True))
        table = pa.table(
            {
                "time": pa.array(columns[0], pa.float64()),
                "customer": pa.array(columns[1], pa.int64()),
                "node": pa.array(columns[2], pa.int32()),
                "event": pa.array(columns[3], pa.string()).dictionary_encode(),
                "severity": pa.array(columns[4], pa.float64()),
                "detail": pa.array(columns[5], pa.string()),
            }
        )
        self.parts.write(table)
        self.count += len(rows)
        rows.clear()

    def __len__(self) -> int:
        return self.count + len(self.rows)

    def raw_chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the log in time order, one chunk at a time, as written (node codes)."""
        for frame in self.parts.read():
            frame["event"] = frame["event"].astype(str)
            yield frame
        if self.rows:
            yield pd.DataFrame(self.rows, columns=EVENT_COLUMNS)

    def chunks(
        self, node_names: tuple[str, ...], node_silo: tuple[str | None, ...]
    ) -> Iterator[pd.DataFrame]:
        """Yield the log in time order, one readable chunk at a time."""
        for raw in self.raw_chunks():
            yield events_frame(raw, node_names, node_silo)

    def frame(self, node_names: tuple[str, ...], node_silo: tuple[str | None, ...]) -> pd.DataFrame:
        """Return the whole log as one DataFrame (it all comes into memory)."""
        raws = list(self.raw_chunks())
        raw = pd.concat(raws, ignore_index=True) if raws else pd.DataFrame(columns=EVENT_COLUMNS)
        return events_frame(raw, node_names, node_silo)


def _remove_folder(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


# Counted as they happen; arrivals, completions and outcomes come from the customer tally.
SERIES = ("failures", "contacts", "failure_demand", "abandons", "social", "ceo")


@dataclass
class PeriodCounters:
    """Counts per period of simulated time (a day by default) of events inside journeys."""

    period: float
    counts: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in SERIES})

    def add(self, name: str, time: float) -> None:
        """Count one event of series ``name`` in the period containing ``time``."""
        series = self.counts[name]
        k = int(time / self.period)
        if k >= len(series):
            series.extend([0.0] * (k + 1 - len(series)))
        series[k] += 1.0

    def add_many(self, name: str, times: np.ndarray) -> None:
        """Count many events of series ``name`` at once."""
        if not len(times):
            return
        counts = np.bincount((np.asarray(times) / self.period).astype(np.int64))
        series = self.counts[name]
        if len(counts) > len(series):
            series.extend([0.0] * (len(counts) - len(series)))
        m = len(counts)
        series[:m] = (np.asarray(series[:m]) + counts).tolist()

    def to_arrays(self, periods: int) -> dict[str, np.ndarray]:
        """Return every series as an array of ``periods`` values."""
        data = {}
        for name, series in self.counts.items():
            values = np.zeros(periods)
            m = min(periods, len(series))
            values[:m] = series[:m]
            data[name] = values
        return data
