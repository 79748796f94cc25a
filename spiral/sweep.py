"""Run a sweep: every (design point, replication) once, on local cores or a Dask cluster.

Runs are numbered in design order (run = point · replications + replication) and run
with seed = root seed + replication, so a run's result depends only on the sweep file,
never on the executor or the number of workers; within a replication every point shares
its random numbers (common random numbers sharpen the differences between points).
Finished rows are saved by ``spiral.sweep_store`` in batches as they arrive; a re-run
skips every run already saved as ok.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spiral.compare import metrics_of
from spiral.designs import design_points
from spiral.runner import run
from spiral.sweep_file import Sweep, scenario_with
from spiral.sweep_store import SweepStore


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, with everything a worker needs to do it."""

    run: int
    point: int
    replication: int
    seed: int
    values: dict
    base: dict
    source: str
    engine: str
    metrics: tuple[str, ...]


def execute(task: RunTask) -> dict:
    """Simulate one run and return its row; an error becomes a failed row, not a crash."""
    started = time.perf_counter()
    row: dict = {
        "run": task.run,
        "point": task.point,
        "replication": task.replication,
        "seed": task.seed,
        "values": task.values,
    }
    try:
        scenario, what_if = scenario_with(task.base, task.source, task.values)
        result = run(scenario, seed=task.seed, what_if=what_if, engine=task.engine)
        metrics = metrics_of(result.summary)
        row.update({m: metrics[m] for m in task.metrics}, status="ok", error="")
    except Exception as error:  # noqa: BLE001 - any error of a run is recorded, the sweep goes on
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        row.update({m: math.nan for m in task.metrics}, status="failed")
        row["error"] = f"{type(error).__name__}: {message}"[:500]
    row["seconds"] = time.perf_counter() - started
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def failed_row(task: RunTask, error: str) -> dict:
    """Return the row of a run whose worker died or was lost."""
    return {
        "run": task.run,
        "point": task.point,
        "replication": task.replication,
        "seed": task.seed,
        "values": task.values,
        **{m: math.nan for m in task.metrics},
        "status": "failed",
        "error": error,
        "seconds": math.nan,
        "worker": "",
    }


def plan(sweep: Sweep) -> list[RunTask]:
    """Return every run of the sweep in design order."""
    spec = sweep.spec
    points = design_points(spec.design, spec.parameters, spec.seed)
    return [
        RunTask(
            run=p * spec.replications + r,
            point=p,
            replication=r,
            seed=spec.seed + r,
            values=values,
            base=sweep.base,
            source=sweep.base_source,
            engine=spec.engine,
            metrics=tuple(spec.metrics),
        )
        for p, values in enumerate(points)
        for r in range(spec.replications)
    ]


# --- executors ----------------------------------------------------------------------------
Runner = Callable[[RunTask], dict]


class LocalPool:
    """A process pool on this machine, at most a few runs ahead of the workers."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def describe(self) -> str:
        """Return what runs the sweep, for the console."""
        return f"{self.workers} local worker{'s' * (self.workers != 1)}"

    def results(self, tasks: Iterable[RunTask], runner: Runner) -> Iterator[dict]:
        """Yield each task's row as it finishes; a worker that dies fails only its own run."""
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = list(tasks)[::-1]  # pop() from the end takes design order
        while pending:
            pool = ProcessPoolExecutor(self.workers)
            running: dict = {}
            broken = False
            try:
                while pending or running:
                    while pending and len(running) < 2 * self.workers:
                        task = pending.pop()
                        running[pool.submit(runner, task)] = task
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        try:
                            row = future.result()
                        except BrokenProcessPool:
                            running[future] = task
                            broken = True
                            continue
                        except Exception as error:  # noqa: BLE001 - e.g. a result that won't pickle
                            row = failed_row(task, f"{type(error).__name__}: {error}"[:500])
                        yield row
                    if broken:
                        break
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                # which run killed its worker is unknown: run each one that was in
                # flight alone; the one that dies again is failed, the rest go on
                suspects = list(running.values())
                for task in suspects:
                    yield _alone(task, runner)


def _alone(task: RunTask, runner: Runner) -> dict:
    """Run one task in a process of its own; a dead worker gives a failed row."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(1) as pool:
        try:
            return pool.submit(runner, task).result()
        except BrokenProcessPool:
            return failed_row(task, "WorkerDied: the worker process ended during this run")


class DaskCluster:
    """A ``dask.distributed`` cluster: an existing scheduler, or a LocalCluster started here."""

    timeout = "10s"  # to connect to an existing scheduler

    def __init__(self, address: str, workers: int) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "--scheduler needs dask.distributed: pip install 'spiral[cluster]'"
            ) from None
        self.address = address
        self.workers = workers

    def describe(self) -> str:
        """Return what runs the sweep, for the console."""
        if self.address == "local":
            return f"a Dask LocalCluster of {self.workers} workers"
        return f"the Dask cluster at {self.address}"

    def results(self, tasks: Iterable[RunTask], runner: Runner) -> Iterator[dict]:
        """Yield each task's row as it finishes; a run whose workers keep dying is failed."""
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if self.address == "local":
            import dask

            # the workers' statistical profiler samples every 10 ms: ~5% of a busy core
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            client = Client(cluster)
        else:
            client = Client(self.address, timeout=self.timeout)
        try:
            slots = max(sum(client.nthreads().values()), 1)
            pending = list(tasks)[::-1]
            running: dict = {}

            def submit() -> None:
                task = pending.pop()
                future = client.submit(runner, task, pure=False, key=f"spiral-run-{task.run}")
                running[future] = task
                stream.add(future)

            stream = as_completed()
            while pending and len(running) < 2 * slots:
                submit()
            for future in stream:
                task = running.pop(future)
                try:
                    row = future.result()
                except Exception as error:  # noqa: BLE001 - KilledWorker, lost workers, ...
                    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
                    row = failed_row(task, f"{type(error).__name__}: {message}"[:500])
                future.release()
                yield row
                if pending:
                    submit()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def executor_for(workers: int | None, scheduler: str | None) -> LocalPool | DaskCluster:
    """Return the executor a command asks for: local cores by default, or Dask."""
    count = workers or os.cpu_count() or 1
    if scheduler:
        return DaskCluster(scheduler, count)
    return LocalPool(count)


# --- the sweep ----------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    """What a sweep command did: runs in all, saved ok or failed, and run this time."""

    total: int
    ok: int
    failed: list[dict] = field(default_factory=list)
    ran: int = 0
    skipped: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    results: Path | None = None


def run_sweep(
    sweep: Sweep,
    out: Path,
    executor: LocalPool | DaskCluster,
    batch: int = 20,
    on_row: Callable[[dict], None] | None = None,
    runner: Runner = execute,
) -> SweepOutcome:
    """Run every run not yet saved ok in ``out``; save rows in batches as they finish.

    Ctrl-C saves what has finished and returns with ``interrupted`` set; a re-run resumes.
    """
    tasks = plan(sweep)
    store = SweepStore.open(out, sweep, len(tasks))
    done = store.finished()
    todo = [t for t in tasks if t.run not in done]
    outcome = SweepOutcome(total=len(tasks), ok=0, skipped=len(tasks) - len(todo))
    started = time.perf_counter()
    try:
        for row in executor.results(todo, runner):
            store.add(row)
            outcome.ran += 1
            if len(store.buffer) >= batch:
                store.flush()
            if on_row is not None:
                on_row(row)
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        store.flush()
    outcome.seconds = time.perf_counter() - started
    frame = store.load()
    outcome.ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    outcome.failed = frame[frame["status"] == "failed"].to_dict("records") if len(frame) else []
    if not outcome.interrupted and len(frame) == len(tasks):
        outcome.results = store.consolidate()
    return outcome


def estimate(sweep: Sweep, workers: int) -> tuple[int, float, float]:
    """Return (runs, seconds for one run, estimated seconds for the sweep on ``workers``)."""
    tasks = plan(sweep)
    probe = execute(tasks[0])
    one = probe["seconds"]
    return len(tasks), one, one * len(tasks) / max(workers, 1)
