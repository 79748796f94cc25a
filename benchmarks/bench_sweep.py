"""Sweep throughput: runs per second with 1 and 2 workers, locally and on Dask.

The same design (sweeps/online_retail_sobol.yaml: 96 runs of online_retail for 10 days)
runs from scratch into a fresh folder with each executor; the wall time includes starting
the workers and saving every row. Scheduling overhead is the wall time × workers over
the time the runs themselves took, less one.

    python benchmarks/bench_sweep.py            # local pool and Dask LocalCluster
    python benchmarks/bench_sweep.py --no-dask  # local pool only
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from spiral.sweeps.execution import DaskCluster, LocalPool, run_sweep
from spiral.sweeps.sweep_file import load_sweep

SWEEP = Path(__file__).resolve().parent.parent / "sweeps" / "online_retail_sobol.yaml"


def measure(executor) -> tuple[float, float, float, int]:
    """Run the sweep once; return (wall s, s until the first row, summed run s, runs)."""
    sweep = load_sweep(SWEEP)
    first: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        stamp = lambda _row: first.append(time.perf_counter())  # noqa: E731
        outcome = run_sweep(sweep, Path(folder) / "out", executor, on_row=stamp)
        wall = time.perf_counter() - started
        runs = pd.read_parquet(outcome.results)
    assert outcome.ok == len(runs), "every run must succeed"
    return wall, first[0] - started, float(runs["seconds"].sum()), len(runs)


def main() -> None:
    """Print runs per second of 1 and 2 workers and the 2-worker speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    executors = [("local pool", LocalPool)]
    if not args.no_dask:
        executors.append(("Dask LocalCluster", lambda n: DaskCluster("local", n)))
    print(f"# sweep throughput: {SWEEP.name}, every run from scratch\n")
    print(
        "| executor | workers | runs | wall | runs/s | scheduling overhead | speed-up "
        "| runs/s after the first row | speed-up after the first row |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, make in executors:
        rates, steady = {}, {}
        for workers in (1, 2):
            wall, startup, busy, runs = measure(make(workers))
            rates[workers] = runs / wall
            steady[workers] = (runs - 1) / (wall - startup)
            overhead = wall * workers / busy - 1
            two = workers == 2
            print(
                f"| {label} | {workers} | {runs} | {wall:.1f} s | {rates[workers]:.2f} "
                f"| {overhead:.0%} | {f'{rates[2] / rates[1]:.2f}×' if two else ''} "
                f"| {steady[workers]:.2f} | {f'{steady[2] / steady[1]:.2f}×' if two else ''} |"
            )


if __name__ == "__main__":
    main()
