"""How long `spiral from-log` takes, and how it grows with the log.

Synthetic help-desk-like logs (completions only, a resource per event, 12 activities with
rework loops, about 4 events a case) of 25k to 400k events are read from CSV and fitted
(second-order routing chosen by `auto`, durations, arrivals, silos), as `spiral from-log`
does without `--holdout`. Targets: a 100k-event log in under 5 seconds, and time linear
in events (doubling the log at most 2.5 times the time).

    python benchmarks/bench_from_log.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spiral.io.from_log import LogColumns, fit_log, read_log

SIZES = (25_000, 50_000, 100_000, 200_000, 400_000)
TARGET_100K = 5.0  # seconds
TARGET_DOUBLING = 2.5  # time ratio when the log doubles
COLUMNS = LogColumns("case", "activity", "done", resource="who")


def synthetic_log(events: int, seed: int = 1) -> pd.DataFrame:
    """Return a log of about ``events`` events: cases of a small help desk with rework."""
    rng = np.random.default_rng(seed)
    activities = [f"a{k}" for k in range(12)]
    people = [f"p{k}" for k in range(25)]
    cases, rows, t = 0, [], pd.Timestamp("2026-01-05").value / 1e9
    while len(rows) < events:
        t += rng.exponential(600.0)
        at, act = t, 0
        while True:
            at += rng.lognormal(7.0, 1.2)
            who = people[(act * 2 + rng.integers(0, 3)) % len(people)]
            rows.append((f"c{cases}", activities[act], at, who))
            if rng.random() < 0.3:
                break
            act = min(len(activities) - 1, max(0, act + int(rng.integers(-1, 3))))
        cases += 1
    frame = pd.DataFrame(rows[:events], columns=["case", "activity", "done", "who"])
    frame["done"] = pd.to_datetime(frame["done"], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def seconds_to_fit(path: Path) -> float:
    """Return the seconds to read and fit one log (best of two)."""
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        fit_log(read_log(path, COLUMNS), "bench", str(path))
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Print the time per log size, the 100k target and the growth per doubling."""
    times = {}
    with tempfile.TemporaryDirectory() as folder:
        print("| events | cases | read + fit | per 100k events |")
        print("|---:|---:|---:|---:|")
        for events in SIZES:
            log = synthetic_log(events)
            path = Path(folder) / f"log{events}.csv"
            log.to_csv(path, index=False)
            times[events] = seconds_to_fit(path)
            per = times[events] / events * 100_000
            print(
                f"| {events:,} | {log['case'].nunique():,} | {times[events]:.2f} s | {per:.2f} s |"
            )
    print("\n| target | measured | ratio (measured / target) |")
    print("|---|---:|---:|")
    print(
        f"| 100k events in under {TARGET_100K:g} s | {times[100_000]:.2f} s "
        f"| {times[100_000] / TARGET_100K:.2f} |"
    )
    worst = max(times[b] / times[a] for a, b in zip(SIZES, SIZES[1:], strict=False))
    print(
        f"| doubling the log at most {TARGET_DOUBLING:g}× the time | {worst:.2f}× (worst) "
        f"| {worst / TARGET_DOUBLING:.2f} |"
    )


if __name__ == "__main__":
    main()
