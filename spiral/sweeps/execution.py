"""Run a sweep: every (design point, replication) once, on local cores or a Dask cluster.

Runs are numbered in design order (run = point · replications + replication) and run
with seed = root seed + replication, so a run's result depends only on the sweep file,
never on the executor or the number of workers; within a replication every point shares
its random numbers (common random numbers sharpen the differences between points).
Finished rows are saved by ``spiral.sweeps.store`` in batches as they arrive; a re-run
skips every run already saved as ok.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from spiral.analysis.compare import metrics_of
from spiral.analysis.parallel import (
    Interrupted,
    cores,
    finished,
    process_pool,
    signals_deferred,
    stop_pool,
    submit_failed,
)
from spiral.analysis.results import run
from spiral.io.atomic_output import OutputLock
from spiral.sweeps.designs import design_points
from spiral.sweeps.store import SweepStore
from spiral.sweeps.sweep_file import Sweep, scenario_with


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
        result = run(scenario, seed=task.seed, what_if=what_if, engine=task.engine, customers=False)
        metrics = metrics_of(result.summary)
        row.update({m: metrics[m] for m in task.metrics}, status="ok", error="")
    except Exception as error:  # noqa: BLE001 - any error of a run is recorded, the sweep goes on
        row.update({m: math.nan for m in task.metrics}, status="failed")
        row["error"] = one_line(error)
    row["seconds"] = time.perf_counter() - started
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def one_line(error: BaseException) -> str:
    """Return an error as 'Type: first line of its message', at most 500 characters."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"[:500]


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
            engine=sweep.engine,
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
        from concurrent.futures.process import BrokenProcessPool

        pending = list(tasks)[::-1]  # pop() from the end takes design order
        size = max(1, min(self.workers, len(pending)))  # no idle processes to start
        while pending:
            pool = process_pool(size)
            running: dict = {}
            broken = False
            try:
                while pending or running:
                    with signals_deferred():  # see signals_deferred: a pool's locks
                        while pending and len(running) < 2 * size:
                            try:
                                future = pool.submit(runner, pending[-1])
                            except BrokenProcessPool:  # a worker died since the last check
                                broken = True
                                break
                            except OSError as error:  # the system refused a new process
                                raise submit_failed(error) from None
                            running[future] = pending.pop()
                        if broken:
                            break
                        done = finished(running, any_one=True)
                    for future in done:
                        task = running.pop(future)
                        try:
                            row = future.result()
                        except BrokenProcessPool:
                            running[future] = task
                            broken = True
                            continue
                        except Exception as error:  # noqa: BLE001 - e.g. a result that won't pickle
                            row = failed_row(task, one_line(error))
                        yield row
                    if broken:
                        break
            except BaseException:
                stop_pool(pool)  # Ctrl-C, SIGTERM or an error: no worker runs on alone
                raise
            pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                # which run killed its worker is unknown: run each one that was in
                # flight alone; the one that dies again is failed, the rest go on
                suspects = list(running.values())
                for task in suspects:
                    yield _alone(task, runner)


def _alone(task: RunTask, runner: Runner) -> dict:
    """Run one task in a process of its own; a dead worker gives a failed row."""
    from concurrent.futures.process import BrokenProcessPool

    pool = process_pool(1)
    try:
        with signals_deferred():
            future = pool.submit(runner, task)
            finished([future])
        return future.result()
    except BrokenProcessPool:
        return failed_row(task, "WorkerDied: the worker process ended during this run")
    except OSError as error:
        raise submit_failed(error) from None
    except BaseException:
        stop_pool(pool)
        raise
    finally:
        pool.shutdown()


class ExecutorLost(RuntimeError):
    """The cluster went away (or could not be reached); the saved rows stay."""


ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s:/]+(:\d+)?$")


class DaskCluster:
    """A ``dask.distributed`` cluster: an existing scheduler, or a LocalCluster started here."""

    timeout = "10s"  # to connect to an existing scheduler
    poll = 2.0  # seconds between checks that the scheduler is still there

    def __init__(self, address: str, workers: int) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "--scheduler needs dask.distributed: pip install 'spiral[cluster]'"
            ) from None
        if address != "local" and not ADDRESS.match(address):
            raise RuntimeError(
                f"expected 'local' or a scheduler address like tcp://host:8786, got {address!r}"
            )
        self.address = address
        self.workers = workers

    def describe(self) -> str:
        """Return what runs the sweep, for the console."""
        if self.address == "local":
            return f"a Dask LocalCluster of {self.workers} workers"
        return f"the Dask cluster at {self.address}"

    def _connect(self, runs: int):  # noqa: ANN202 - (Client, LocalCluster | None)
        from distributed import Client, LocalCluster

        if self.address == "local":
            import dask

            # the workers' statistical profiler samples every 10 ms: ~5% of a busy core
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = LocalCluster(
                    n_workers=max(1, min(self.workers, runs)),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            return Client(cluster), cluster
        try:
            return Client(self.address, timeout=self.timeout), None
        except (OSError, TimeoutError) as error:
            raise ExecutorLost(f"cannot reach {self.address} ({error})") from None

    def results(self, tasks: Iterable[RunTask], runner: Runner) -> Iterator[dict]:
        """Yield each task's row as it finishes; a run whose workers keep dying is failed."""
        from distributed import wait

        pending = list(tasks)[::-1]
        if not pending:
            return
        # spiral reports a lost scheduler or worker itself, in one line: dask's own log of
        # reconnection attempts (with tracebacks) would bury it
        import distributed  # noqa: F401 - its loggers exist once it is imported

        names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
        levels = {n: logging.getLogger(n).level for n in names}
        for name in names:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        client = cluster = None
        token = uuid.uuid4().hex[:12]  # keys of this sweep only: never another's results
        plugins: dict[int, str] = {}  # a base scenario's id -> its worker plugin's name
        bases: list[dict] = []  # the bases themselves, held: an id stays theirs meanwhile
        try:
            client, cluster = self._connect(len(pending))
            from spiral.sweeps.dask_base import SweepBase, with_base

            running: dict = {}
            slots, counted = 1, 0.0
            lost = ExecutorLost(f"lost the Dask scheduler at {self.address}")
            while pending or running:
                try:
                    if time.monotonic() - counted > self.poll:  # workers come and go
                        slots = max(sum(client.nthreads().values()), 1)
                        counted = time.monotonic()
                    while pending and len(running) < 2 * slots:
                        task = pending.pop()
                        key = f"spiral-{token}-{task.run}"
                        name = plugins.get(id(task.base))
                        if name is None:  # sent to every worker once, not in every message
                            name = plugins[id(task.base)] = f"spiral-base-{token}-{len(bases)}"
                            bases.append(task.base)
                            try:
                                client.register_plugin(SweepBase(name, task.base))
                            except Exception:  # noqa: BLE001 - a worker lost mid-broadcast:
                                # the scheduler keeps the plugin for the others and new ones
                                if client.status != "running":
                                    raise
                        light = replace(task, base={})
                        future = client.submit(with_base, runner, light, name, pure=False, key=key)
                        running[future] = task
                except Exception as error:  # noqa: BLE001 - the scheduler went between waits
                    # (a closed comm is an OSError: it must not read as a disk that is full)
                    raise ExecutorLost(f"{lost} ({one_line(error)})") from None
                try:
                    done, _ = wait(list(running), timeout=self.poll, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    if client.status in ("closing", "closed"):
                        raise lost from None
                    continue
                except Exception as error:  # noqa: BLE001 - futures cancelled: connection gone
                    raise ExecutorLost(f"{lost} ({one_line(error)})") from None
                for future in done:
                    if future.status == "cancelled":  # not the run's fault: keep it unsaved
                        raise ExecutorLost(f"{lost} (a run was cancelled: {future.key})")
                    task = running.pop(future)
                    try:
                        row = future.result()
                    except Exception as error:  # noqa: BLE001 - KilledWorker, lost workers, ...
                        row = failed_row(task, one_line(error))
                    future.release()
                    yield row
        finally:
            # closing a client whose scheduler is gone can raise (a closed comm is an
            # OSError): it must not replace the reason the sweep stopped
            for name in plugins.values() if client is not None else ():
                with contextlib.suppress(Exception):  # the cluster may outlive this sweep
                    client.unregister_worker_plugin(name)
            with contextlib.suppress(Exception):
                if client is not None:
                    client.close()
            with contextlib.suppress(Exception):
                if cluster is not None:
                    cluster.close()
            for name, level in levels.items():  # dask's logs are as they were, whatever happened
                logging.getLogger(name).setLevel(level)


def executor_for(workers: int | None, scheduler: str | None) -> LocalPool | DaskCluster:
    """Return the executor a command asks for: local cores by default, or Dask."""
    count = workers or cores()
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
    interrupted: int = 0  # the signal that stopped the sweep (SIGINT: Ctrl-C), or 0
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
    lock = OutputLock(out, "--out")  # two sweeps in one folder would run every run twice
    out.parent.mkdir(parents=True, exist_ok=True)
    lock.acquire()
    try:
        return _run_locked(sweep, out, executor, tasks, batch, on_row, runner)
    finally:
        lock.release()


def _run_locked(
    sweep: Sweep,
    out: Path,
    executor: LocalPool | DaskCluster,
    tasks: list[RunTask],
    batch: int,
    on_row: Callable[[dict], None] | None,
    runner: Runner,
) -> SweepOutcome:
    store = SweepStore.open(out, sweep, len(tasks))
    done = store.finished()
    todo = [t for t in tasks if t.run not in done]
    outcome = SweepOutcome(total=len(tasks), ok=0, skipped=len(tasks) - len(todo))
    started = time.perf_counter()
    rows = executor.results(todo, runner)
    try:
        for row in rows:
            store.add(row)
            outcome.ran += 1
            if len(store.buffer) >= batch:
                store.flush()
            if on_row is not None:
                on_row(row)
    except (KeyboardInterrupt, Interrupted) as error:  # keep what finished, end the workers
        outcome.interrupted = getattr(error, "signum", signal.SIGINT)
    finally:
        rows.close()
        store.flush()
    outcome.seconds = time.perf_counter() - started
    frame = store.load()
    outcome.ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    outcome.failed = frame[frame["status"] == "failed"].to_dict("records") if len(frame) else []
    if not outcome.interrupted and len(frame) == len(tasks):
        outcome.results = store.consolidate()
    return outcome


def estimate(sweep: Sweep) -> tuple[int, dict]:
    """Return the number of runs and the row of the first run, timed here."""
    tasks = plan(sweep)
    return len(tasks), execute(tasks[0])


def sweep(
    sweep_file: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    batch: int = 20,
    on_row: Callable[[dict], None] | None = None,
) -> SweepOutcome:
    """Run a sweep file into a folder: every run not yet saved there, rows saved as they finish.

    ``workers``: local processes (default: every core here); ``scheduler``: a Dask
    scheduler address, or ``'local'`` for a LocalCluster. Re-running resumes.
    """
    from spiral.sweeps.sweep_file import load_sweep

    executor = executor_for(workers, scheduler)
    return run_sweep(load_sweep(sweep_file), Path(out), executor, batch=batch, on_row=on_row)
