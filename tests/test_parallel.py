"""Worker processes: sized to the work, ended with their command, a failed start in one line."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import call_main

import spiral
from spiral.analysis.parallel import (
    Interrupted,
    cores,
    process_pool,
    signals_deferred,
    signals_interrupt,
    stop_pool,
)

LINUX = Path("/proc/self/stat").exists()


def children(pid: int) -> set[int]:
    """Return the processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Return whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, what: str, limit: float = 900.0) -> None:
    """Poll until ``condition()`` holds; a hang guard, not a speed check."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def _signals() -> tuple[bool, bool]:
    return (
        signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
        signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
    )


def test_workers_ignore_ctrl_c_and_die_on_sigterm():
    """Ctrl-C is the command's to handle; SIGTERM ends a worker outright."""
    pool = process_pool(1)
    try:
        assert pool.submit(_signals).result() == (True, True)
    finally:
        pool.shutdown()


def test_stopping_a_pool_ends_workers_in_the_middle_of_a_run():
    pool = process_pool(2)
    futures = [pool.submit(time.sleep, 3600) for _ in range(2)]
    wait_until(lambda: len(pool._processes) == 2, "two workers started")
    pids = list(pool._processes)
    stop_pool(pool)
    assert not any(alive(pid) for pid in pids)
    wait_until(lambda: all(f.done() for f in futures), "the runs given up")  # broken, not hung


def test_the_cores_here_are_counted():
    assert 1 <= cores() <= (os.cpu_count() or 1)


@pytest.mark.slow
def test_compare_starts_no_more_workers_than_runs(monkeypatch, tiny_file):
    """--jobs 1000 for 2 arms × 2 replications: 4 processes at most."""
    module = importlib.import_module("spiral.analysis.compare")  # spiral.compare is the function
    sizes = []
    real = module.process_pool
    monkeypatch.setattr(module, "process_pool", lambda n: sizes.append(n) or real(n))
    scenario = spiral.load_scenario(tiny_file)
    scenario = scenario.model_copy(update={"horizon": 1440.0 * 2})
    arm = "{name: quick, changes: [{change: fix_step, step: ship, factor: 0.5}]}"
    from spiral.cli.common import arms_from as _arms

    model, arms = _arms(scenario, [arm])
    spiral.compare(model, arms, replications=2, jobs=1000)
    assert sizes == [4]


def test_a_failed_process_start_is_one_line_and_exit_1(monkeypatch, capsys, tiny_file):
    """The system refusing fork (EAGAIN) must not give a traceback or a hang."""
    import multiprocessing.process

    def refuse(self):  # noqa: ANN001
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    arm = "{name: quick, changes: [{change: fix_step, step: ship, factor: 0.5}]}"
    code, _, err = call_main(
        monkeypatch,
        capsys,
        *("compare", tiny_file, "--what-if", arm, "--replications", "2", "--jobs", "2"),
        *("--horizon", "1 day"),
    )
    assert code == 1
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith(
        "spiral compare: --jobs: cannot start worker processes (Resource temporarily unavailable)"
    )


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="reads processes from /proc")
@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_sigterm_ends_the_command_and_every_worker(command, tmp_path):
    """What `timeout`, CI and systemd send: the command exits 143 and leaves no worker behind."""
    if command == "compare":
        args = ["compare", "online_retail", "--replications", "40", "--jobs", "2"]
    else:
        sweep = tmp_path / "sweep.yaml"
        sweep.write_text(
            "scenario: online_retail\nhorizon: 20 days\ndesign: {kind: lhs, samples: 40}\n"
            "parameters:\n  steps.deliver.failure: {low: 0.05, high: 0.2}\n"
        )
        args = ["sweep", str(sweep), "--out", str(tmp_path / "out"), "--workers", "2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "spiral", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until(lambda: len(children(process.pid)) >= 2, "two workers running")
        workers = children(process.pid)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate()  # pytest-timeout guards against a hang
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 143, err
    assert "Traceback" not in err
    assert not [pid for pid in workers if alive(pid)]


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="the kernel's parent-death signal is Linux's")
def test_workers_die_with_a_command_killed_by_sigkill():
    process = subprocess.Popen(
        [sys.executable, "-m", "spiral", "compare", "online_retail", "--replications", "40"]
        + ["--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: len(children(process.pid)) >= 2, "two workers running")
        workers = children(process.pid)
        process.kill()
        process.wait()
        wait_until(lambda: not any(alive(pid) for pid in workers), "the workers ended")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_signal_while_a_pool_is_driven_is_raised_at_the_next_safe_point():
    """SIGTERM inside a pool's bookkeeping must not raise there (a lock left held hangs exit)."""
    reached = []
    with signals_interrupt(), pytest.raises(Interrupted) as stopped:
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now: it noted the signal, no more
            reached.append("after the signal")
    assert reached == ["after the signal"] and stopped.value.exit_code == 143
    with signals_interrupt(), pytest.raises(Interrupted):  # outside: raised at once
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
