"""Run records: the per-customer table, the optional event log and per-period counters.

The customer table is columnar (typed ``array`` columns, about 100 bytes a customer);
the event log exists only when asked for, so memory never grows with events otherwise.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

IN_PROGRESS, RETAINED, ADVOCATE, CHURNED = -1, 0, 1, 2
OUTCOME_NAMES = {IN_PROGRESS: "in_progress", RETAINED: "retained", ADVOCATE: "advocate",
                 CHURNED: "churned"}


class Customer:
    """What a customer carries through the journey."""

    __slots__ = (
        "abandons", "arrival", "bounce", "ceo", "contacts", "cold", "effort", "failure_demand",
        "failures", "first_failure", "id", "issue_contacts", "luck", "open_issue", "ping_pongs",
        "reach", "recovered", "repeat_contacts", "severity", "social", "visits", "wait", "warm",
    )

    def __init__(self, cid: int, arrival: float, luck: float) -> None:
        self.id = cid
        self.arrival = arrival
        self.luck = luck  # the outcome draw, fixed at arrival for common random numbers
        self.failures = self.contacts = self.repeat_contacts = self.failure_demand = 0
        self.warm = self.cold = self.ping_pongs = self.abandons = 0
        self.effort = self.visits = self.issue_contacts = 0
        self.severity = self.wait = self.reach = 0.0
        self.social = self.ceo = self.recovered = self.open_issue = False
        self.first_failure = -1
        self.bounce = -1


# (column, array typecode); the order is the DataFrame's column order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer", "q"), ("arrival", "d"), ("end", "d"), ("outcome", "b"), ("exit_node", "h"),
    ("failures", "i"), ("contacts", "i"), ("repeat_contacts", "i"), ("failure_demand", "i"),
    ("handoffs_warm", "i"), ("handoffs_cold", "i"), ("ping_pongs", "i"), ("abandons", "i"),
    ("severity", "d"), ("effort", "i"), ("wait", "d"), ("visits", "i"), ("social", "b"),
    ("ceo", "b"), ("reach", "f"), ("recovered", "b"), ("first_failure", "h"),
)


class CustomerTable:
    """Columnar store of finished (or, at the end, unfinished) customers."""

    def __init__(self) -> None:
        self.columns = {name: array(code) for name, code in COLUMNS}

    def append(self, c: Customer, end: float, outcome: int, exit_node: int) -> None:
        """Add one customer's row."""
        col = self.columns
        col["customer"].append(c.id)
        col["arrival"].append(c.arrival)
        col["end"].append(end)
        col["outcome"].append(outcome)
        col["exit_node"].append(exit_node)
        col["failures"].append(c.failures)
        col["contacts"].append(c.contacts)
        col["repeat_contacts"].append(c.repeat_contacts)
        col["failure_demand"].append(c.failure_demand)
        col["handoffs_warm"].append(c.warm)
        col["handoffs_cold"].append(c.cold)
        col["ping_pongs"].append(c.ping_pongs)
        col["abandons"].append(c.abandons)
        col["severity"].append(c.severity)
        col["effort"].append(c.effort)
        col["wait"].append(c.wait)
        col["visits"].append(c.visits)
        col["social"].append(c.social)
        col["ceo"].append(c.ceo)
        col["reach"].append(c.reach)
        col["recovered"].append(c.recovered)
        col["first_failure"].append(c.first_failure)

    def __len__(self) -> int:
        return len(self.columns["customer"])

    def nbytes(self) -> int:
        """Return the bytes held by the columns."""
        return sum(a.itemsize * len(a) for a in self.columns.values())

    def to_frame(self, node_names: tuple[str, ...]) -> pd.DataFrame:
        """Return one row per customer, sorted by customer id, with readable categories."""
        data = {name: np.frombuffer(a, dtype=a.typecode) if len(a) else np.array([], a.typecode)
                for name, a in self.columns.items()}
        frame = pd.DataFrame(data)
        for flag in ("social", "ceo", "recovered"):
            frame[flag] = frame[flag].astype(bool)
        nodes = list(node_names)
        frame["outcome"] = pd.Categorical.from_codes(
            frame["outcome"].to_numpy() + 1, categories=list(OUTCOME_NAMES.values())
        )
        frame["exit_node"] = pd.Categorical.from_codes(frame["exit_node"].to_numpy(), nodes)
        frame["first_failure"] = pd.Categorical.from_codes(frame["first_failure"].to_numpy(), nodes)
        return frame.sort_values("customer", ignore_index=True)


EVENT_COLUMNS = ("time", "customer", "node", "event", "severity", "detail")


def events_frame(
    rows: list[tuple], node_names: tuple[str, ...], node_silo: tuple[str | None, ...]
) -> pd.DataFrame:
    """Return the event log as a DataFrame (time in minutes, one row per event)."""
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    codes = frame["node"].to_numpy(dtype=np.int64) if len(frame) else np.array([], np.int64)
    silo_names = sorted({s for s in node_silo if s is not None})
    silo_codes = np.array([silo_names.index(s) if s else -1 for s in node_silo] + [-1])
    frame["silo"] = pd.Categorical.from_codes(silo_codes[codes], silo_names)
    frame["node"] = pd.Categorical.from_codes(codes, list(node_names))
    frame["event"] = frame["event"].astype("category")
    return frame[["time", "customer", "node", "silo", "event", "severity", "detail"]]


SERIES = (
    "arrivals", "completions", "failures", "contacts", "failure_demand", "abandons", "social",
    "ceo", "retained", "advocates", "churned", "revenue", "revenue_at_risk",
)


@dataclass
class PeriodCounters:
    """Counts per period of simulated time (a day by default)."""

    period: float
    counts: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in SERIES})

    def add(self, name: str, time: float, amount: float = 1.0) -> None:
        """Add ``amount`` to series ``name`` in the period containing ``time``."""
        series = self.counts[name]
        k = int(time / self.period)
        if k >= len(series):
            series.extend([0.0] * (k + 1 - len(series)))
        series[k] += amount

    def to_frame(self, end: float, warmup: float) -> pd.DataFrame:
        """Return one row per period up to ``end`` with all series and the work in progress."""
        n = max(int(np.ceil(end / self.period)), 1)
        data = {}
        for name, series in self.counts.items():
            values = np.zeros(n)
            m = min(n, len(series))
            values[:m] = series[:m]
            data[name] = values
        frame = pd.DataFrame(data)
        frame.insert(0, "period", np.arange(n))
        frame.insert(1, "start", frame["period"] * self.period)
        frame.insert(2, "warmup", frame["start"] < warmup)
        frame["in_journey"] = frame["arrivals"].cumsum() - frame["completions"].cumsum()
        frame["failure_demand_share"] = np.where(
            frame["contacts"] > 0, frame["failure_demand"] / frame["contacts"].where(
                frame["contacts"] > 0, 1), 0.0
        )
        return frame
