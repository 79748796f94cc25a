"""Sweep throughput: runs per second with 1 and 2 workers, locally and on Dask.

The same design (sweeps/online_retail_sobol.yaml: 96 runs of online_retail for 10 days)
runs from scratch into a fresh folder with each executor; the wall time includes starting
the workers and saving every row. Scheduling overhead is the wall time × workers over
the time the runs themselves took, less one.

    python benchmarks/bench_sweep.py            # local pool and Dask LocalCluster
    python benchmarks/bench_sweep.py --no-dask  # local pool only
    python benchmarks/bench_sweep.py --scale    # 1,000 short runs on Dask: memory and overhead

``--scale`` runs a 1,000-run Latin hypercube (online_retail, 4 days each: 1 after the
warm-up) on a Dask LocalCluster of 1 and then 2 workers, started here and reached by its
address as a remote cluster would be. Every 100 rows it reads, on the scheduler, the
tasks it holds and its process's resident memory: flat in runs means the tasks stay
within the submission window (2 × workers) and the memory does not climb with the rows
written. Overhead per run is the wall time × workers less the runs' own time, over the
runs.
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


SCALE_SWEEP = """\
name: scale
scenario: online_retail
horizon: 4 days
design: {{kind: lhs, samples: {runs}}}
parameters:
  steps.deliver.failure: {{low: 0.03, high: 0.2}}
replications: 1
seed: 1
metrics: [churn_rate, net_value]
"""


def _held(dask_scheduler) -> tuple[int, int]:  # noqa: ANN001 - a distributed Scheduler
    """Return the tasks the scheduler holds and its process's resident bytes."""
    import psutil

    return len(dask_scheduler.tasks), psutil.Process().memory_info().rss


def scale_once(runs: int, workers: int) -> tuple[int, float, float, list[tuple[int, int]]]:
    """Run the scale sweep once; return (runs ok, wall s, runs' own s, samples every 100)."""
    from distributed import Client, LocalCluster

    samples: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scale.yaml"
        path.write_text(SCALE_SWEEP.format(runs=runs), encoding="utf-8")
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        watcher = Client(cluster)
        rows = [0]

        def sample(_row: dict) -> None:
            rows[0] += 1
            if rows[0] % 100 == 0:
                samples.append(watcher.run_on_scheduler(_held))

        try:
            started = time.perf_counter()
            executor = DaskCluster(cluster.scheduler_address, workers)
            outcome = run_sweep(load_sweep(path), Path(folder) / "out", executor, on_row=sample)
            wall = time.perf_counter() - started
            busy = float(pd.read_parquet(outcome.results)["seconds"].sum())
        finally:
            watcher.close()
            cluster.close()
    return outcome.ok, wall, busy, samples


def scale(runs: int) -> None:
    """Print runs/s, overhead per run and the scheduler's tasks and memory every 100 rows."""
    print(f"\n# {runs:,}-run sweep on a Dask LocalCluster (online_retail, 4 days a run)\n")
    print(
        "| workers | runs | wall | runs/s | overhead per run | scheduler tasks (max) "
        "| scheduler RSS at 10% → 100% of rows | growth |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    rates = {}
    for workers in (1, 2):
        ok, wall, busy, samples = scale_once(runs, workers)
        rates[workers] = ok / wall
        tasks = max(t for t, _ in samples)
        first, last = samples[0][1] / 1e6, samples[-1][1] / 1e6
        print(
            f"| {workers} | {ok:,} | {wall:.0f} s | {rates[workers]:.1f} "
            f"| {(wall * workers - busy) / ok * 1000:.0f} ms | {tasks} "
            f"| {first:.0f} → {last:.0f} MB | {last - first:+.0f} MB |"
        )
        series = ", ".join(f"{rss / 1e6:.0f}" for _, rss in samples)
        print(f"|  |  |  |  |  |  | every 100 rows: {series} MB |  |")
    print(f"\n2 workers ÷ 1: {rates[2] / rates[1]:.2f}× the runs per second")


def main() -> None:
    """Print runs per second of 1 and 2 workers and the 2-worker speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--scale", action="store_true", help="1,000 runs on Dask (minutes)")
    parser.add_argument("--runs", type=int, default=1000, help="runs of the --scale sweep")
    args = parser.parse_args()
    if args.scale:
        scale(args.runs)
        return
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
