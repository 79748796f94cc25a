"""Sweep throughput: runs per second with 1 and 2 workers, locally and on Dask.

The same design (sweeps/online_retail_sobol.yaml: 96 runs of online_retail for 10 days)
runs from scratch into a fresh folder with each executor; the wall time includes starting
the workers and saving every row. Scheduling overhead is the wall time × workers over
the time the runs themselves took, less one.

    python benchmarks/bench_sweep.py            # local pool and Dask LocalCluster
    python benchmarks/bench_sweep.py --no-dask  # local pool only
    python benchmarks/bench_sweep.py --scale    # 1,000 short runs on Dask: memory and overhead

``--scale`` runs a 1,000-run Latin hypercube (online_retail, 4 days each: 1 after the
warm-up) on a Dask cluster of 1 and then 2 workers: ``dask scheduler`` and ``dask worker``
in processes of their own, reached by the scheduler's address as a remote cluster would
be. Every 100 rows it reads, on the scheduler, the tasks it holds and its process's
resident memory, and the resident memory of this process (the client and the sweep's
writer). Flat in runs means the tasks stay within the submission window (2 × workers)
and the scheduler's memory does not climb with the rows written; the target (growth over
the second half of the runs under 10 MB: a guess at "flat", about 20 KB a run) is
printed with the measured growth. Overhead per run is the wall time × workers less the
runs' own time, over the runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
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


def _cluster(folder: Path, workers: int) -> tuple[list[subprocess.Popen], str]:
    """Start ``dask scheduler`` and ``dask worker`` processes; return them and the file."""
    address_file = str(folder / "scheduler.json")
    module = [sys.executable, "-m"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            *module,
            "distributed.cli.dask_scheduler",
            "--no-dashboard",
            "--port",
            "0",
            "--scheduler-file",
            address_file,
        ],
        **quiet,
    )
    workers_process = subprocess.Popen(
        [
            *module,
            "distributed.cli.dask_worker",
            "--scheduler-file",
            address_file,
            "--nworkers",
            str(workers),
            "--nthreads",
            "1",
            "--no-dashboard",
        ],
        **quiet,
    )
    return [workers_process, scheduler], address_file


def scale_once(runs: int, workers: int) -> tuple[int, float, float, list[tuple[int, int, int]]]:
    """Run the scale sweep once; return (runs ok, wall s, runs' own s, samples every 100).

    A sample is (tasks the scheduler holds, the scheduler process's RSS, this process's RSS:
    the client and the sweep's writer).
    """
    import psutil
    from distributed import Client

    samples: list[tuple[int, int, int]] = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "scale.yaml"
        path.write_text(SCALE_SWEEP.format(runs=runs), encoding="utf-8")
        processes, address_file = _cluster(folder, workers)
        watcher = None
        try:
            for _ in range(600):  # the scheduler writes its address when it listens
                if Path(address_file).exists():
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("dask scheduler did not start within 60 s")
            watcher = Client(scheduler_file=address_file)
            watcher.wait_for_workers(workers, timeout=120)
            rows = [0]

            def sample(_row: dict) -> None:
                rows[0] += 1
                if rows[0] % 100 == 0:
                    tasks, rss = watcher.run_on_scheduler(_held)
                    samples.append((tasks, rss, psutil.Process().memory_info().rss))

            started = time.perf_counter()
            executor = DaskCluster(watcher.scheduler.address, workers)
            outcome = run_sweep(load_sweep(path), folder / "out", executor, on_row=sample)
            wall = time.perf_counter() - started
            busy = float(pd.read_parquet(outcome.results)["seconds"].sum())
        finally:
            if watcher is not None:
                watcher.close()
            for process in processes:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    return outcome.ok, wall, busy, samples


def scale(runs: int) -> None:
    """Print runs/s, overhead per run and the scheduler's tasks and memory every 100 rows."""
    if runs < 200:
        print(
            "bench_sweep.py: --runs: expected at least 200 (memory is read every 100)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    print(
        f"\n# {runs:,}-run sweep on a Dask cluster of separate processes (`dask scheduler`, "
        "`dask worker`; online_retail, 4 days a run)\n"
    )
    print(
        "| workers | runs | wall | runs/s | overhead per run | scheduler tasks (max) "
        "| scheduler RSS, row 100 → last | over the second half "
        "| client + writer RSS, row 100 → last |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rates, series, growths = {}, {}, []
    for workers in (1, 2):
        ok, wall, busy, samples = scale_once(runs, workers)
        rates[workers] = ok / wall
        tasks = max(t for t, _, _ in samples)
        mb = [(s / 1e6, d / 1e6) for _, s, d in samples]
        growths.append(mb[-1][0] - mb[len(mb) // 2 - 1][0])
        print(
            f"| {workers} | {ok:,} | {wall:.0f} s | {rates[workers]:.1f} "
            f"| {(wall * workers - busy) / ok * 1000:.0f} ms | {tasks} "
            f"| {mb[0][0]:.0f} → {mb[-1][0]:.0f} MB | {growths[-1]:+.1f} MB "
            f"| {mb[0][1]:.0f} → {mb[-1][1]:.0f} MB |"
        )
        series[workers] = mb
    for workers, mb in series.items():
        print(
            f"\nscheduler RSS every 100 rows, {workers} worker(s): "
            + ", ".join(f"{m:.0f}" for m, _ in mb)
            + " MB"
        )
        print(
            f"client + writer RSS every 100 rows, {workers} worker(s): "
            + ", ".join(f"{d:.0f}" for _, d in mb)
            + " MB"
        )
    print(f"\n2 workers ÷ 1: {rates[2] / rates[1]:.2f}× the runs per second")
    growth = max(growths)
    print("\n| target | measured | ratio |\n|---|---:|---:|")
    print(
        f"| scheduler memory flat in runs: growth over the second half < 10 MB "
        f"| {growth:+.1f} MB | {max(growth, 0) / 10:.2f} |"
    )


def main() -> None:
    """Print runs per second of 1 and 2 workers and the 2-worker speed-up (or ``--scale``)."""
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
