"""Sweeps: the same rows on every executor, resumable after SIGKILL, failures kept apart."""

from __future__ import annotations

import copy
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from examples import TINY
from test_cli import call_main

from spiral.sweeps.execution import DaskCluster, LocalPool, RunTask, execute, plan, run_sweep
from spiral.sweeps.store import PARTS, RESULTS
from spiral.sweeps.sweep_file import load_sweep

TIMING = ["seconds", "worker"]  # the only columns allowed to differ between executors


def fast_scenario(customers: int | None = 300) -> dict:
    """Return the tiny scenario, for a number of customers (runs of a few ms) or 5 days."""
    data = copy.deepcopy(TINY)
    if customers is not None:
        data.pop("horizon")
        data["customers"] = customers
    data["warmup"] = 0
    return data


def write_sweep(folder: Path, customers: int | None = 300, **changes: object) -> Path:
    """Write the tiny scenario and a small LHS sweep over it; return the sweep file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(yaml.safe_dump(fast_scenario(customers)), encoding="utf-8")
    sweep = {
        "scenario": "tiny.yaml",
        "design": {"kind": "lhs", "samples": 6},
        "parameters": {
            "steps.ship.failure": {"low": 0.05, "high": 0.4},
            "contacts.help.fcr": [0.4, 0.8],
            "arrivals.rate": {"low": "150 per day", "high": "250 per day"},
        },
        "replications": 2,
        "seed": 3,
        "metrics": ["churn_rate", "complaints", "severity_p95"],
    }
    sweep.update(changes)
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows without the timing columns, in run order."""
    return frame.drop(columns=TIMING).sort_values("run").reset_index(drop=True)


def test_a_run_seed_comes_from_the_root_seed_and_its_replication(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path))
    tasks = plan(sweep)
    assert len(tasks) == 6 * 2
    assert [t.run for t in tasks] == list(range(12))
    assert [(t.point, t.replication) for t in tasks[:3]] == [(0, 0), (0, 1), (1, 0)]
    assert [t.seed for t in tasks[:4]] == [3, 4, 3, 4]


@pytest.mark.slow
def test_dask_local_cluster_process_pool_and_one_worker_give_the_same_rows(tmp_path):
    path = write_sweep(tmp_path / "in")
    sweep = load_sweep(path)
    pool = run_sweep(sweep, tmp_path / "pool", LocalPool(2), batch=3)
    one = run_sweep(sweep, tmp_path / "one", LocalPool(1), batch=5)
    dask = run_sweep(sweep, tmp_path / "dask", DaskCluster("local", 2), batch=4)
    frames = [pd.read_parquet(o.results) for o in (pool, one, dask)]
    assert all(o.ok == 12 and not o.failed for o in (pool, one, dask))
    assert len(frames[0]) == 12 and frames[0]["run"].is_unique
    pd.testing.assert_frame_equal(comparable(frames[0]), comparable(frames[1]))
    pd.testing.assert_frame_equal(comparable(frames[0]), comparable(frames[2]))
    assert frames[2]["worker"].nunique() == 2  # two Dask worker processes did the work
    assert not (tmp_path / "pool" / PARTS).exists() or not any(
        (tmp_path / "pool" / PARTS).iterdir()
    )


@pytest.mark.slow
def test_a_sweep_killed_with_sigkill_and_resumed_equals_an_uninterrupted_one(tmp_path):
    path = write_sweep(tmp_path / "in", customers=3000, design={"kind": "lhs", "samples": 30})
    killed = tmp_path / "killed"
    process = start_sweep(path, killed, "--workers", "2", "--batch", "2")
    wait_for_parts(killed, 3, process)
    os.killpg(process.pid, signal.SIGKILL)  # the sweep and its workers, no clean-up
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert not (killed / RESULTS).exists(), "the sweep finished before it could be killed"
    saved = len(pd.concat(pd.read_parquet(p) for p in killed.glob(f"{PARTS}/part-*.parquet")))
    assert 0 < saved < 60

    command = [sys.executable, "-m", "spiral", "sweep", str(path), "--workers", "2"]
    resumed = subprocess.run([*command, "--out", str(killed)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{saved} already saved" in resumed.stdout
    whole = subprocess.run([*command, "--out", str(tmp_path / "whole")], capture_output=True)
    assert whole.returncode == 0
    a = pd.read_parquet(killed / RESULTS)
    b = pd.read_parquet(tmp_path / "whole" / RESULTS)
    assert len(a) == 60 and a["run"].is_unique
    pd.testing.assert_frame_equal(comparable(a), comparable(b))


@pytest.mark.slow
def test_a_changed_sweep_file_is_refused_in_an_old_output_folder(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path / "in")
    out = tmp_path / "out"
    code, _, _ = call_main(monkeypatch, capsys, "sweep", path, "--out", out, "--workers", "1")
    assert code == 0
    write_sweep(tmp_path / "in", replications=3)
    code, out_text, err = call_main(monkeypatch, capsys, "sweep", path, "--out", out)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"{out / 'manifest.json'}: digest: this folder holds results of another")
    assert "expected the same sweep file, or a new --out folder" in line
    assert len(pd.read_parquet(out / RESULTS)) == 12  # the old results are untouched


def raising(task: RunTask) -> dict:
    """Run a task, but fail run 3 with an error, as a bad parameter value would."""
    if task.run == 3:
        raise_in = dict(task.values)
        raise_in["steps.ship.failure"] = 7.0  # out of [0, 1]: the scenario refuses it
        return execute(RunTask(**{**task.__dict__, "values": raise_in}))
    return execute(task)


def dying(task: RunTask) -> dict:
    """Run a task, but kill the worker process during run 5."""
    if task.run == 5:
        os._exit(3)
    return execute(task)


@pytest.mark.slow
@pytest.mark.parametrize("runner", [raising, dying], ids=["raises", "dies"])
def test_a_failing_run_is_marked_failed_and_the_sweep_goes_on(tmp_path, runner):
    sweep = load_sweep(write_sweep(tmp_path / "in"))
    outcome = run_sweep(sweep, tmp_path / "out", LocalPool(2), batch=2, runner=runner)
    frame = pd.read_parquet(outcome.results)
    assert len(frame) == 12 and frame["run"].is_unique
    failed = frame[frame["status"] == "failed"]
    bad = 3 if runner is raising else 5
    assert failed["run"].tolist() == [bad]
    assert [row["run"] for row in outcome.failed] == [bad]
    error = failed["error"].iloc[0]
    if runner is raising:
        assert error.startswith("ScenarioError: ") and "steps.ship.failure" in error
    else:
        assert error == "WorkerDied: the worker process ended during this run"
    assert frame.loc[frame["status"] == "ok", "churn_rate"].notna().all()
    assert failed["churn_rate"].isna().all()


@pytest.mark.slow
def test_failed_runs_are_retried_on_the_next_run_and_replaced(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path / "in"))
    out = tmp_path / "out"
    first = run_sweep(sweep, out, LocalPool(1), runner=raising)
    assert [row["run"] for row in first.failed] == [3]
    again = run_sweep(sweep, out, LocalPool(1))
    assert again.ran == 1 and again.skipped == 11 and not again.failed
    whole = run_sweep(sweep, tmp_path / "whole", LocalPool(1))
    pd.testing.assert_frame_equal(
        comparable(pd.read_parquet(again.results)), comparable(pd.read_parquet(whole.results))
    )


@pytest.mark.slow
def test_parameter_values_are_stored_as_numbers_in_the_files_units(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path / "in"))
    frame = pd.read_parquet(run_sweep(sweep, tmp_path / "out", LocalPool(1)).results)
    rate = frame["arrivals.rate"]
    assert rate.between(150, 250).all() and rate.dtype == float  # per day, as written
    assert set(frame["contacts.help.fcr"]) <= {0.4, 0.8}
    # both replications of a point share its values; seeds differ
    pairs = frame.groupby("point")
    assert (pairs["arrivals.rate"].nunique() == 1).all()
    assert (pairs["seed"].nunique() == 2).all()


def test_dry_run_prints_the_run_count_and_an_estimate_and_writes_nothing(
    tmp_path, monkeypatch, capsys
):
    path = write_sweep(tmp_path / "in")
    out = tmp_path / "out"
    code, text, _ = call_main(
        monkeypatch, capsys, "sweep", path, "--out", out, "--dry-run", "--workers", "2"
    )
    assert code == 0
    assert "12 runs = 6 points (lhs) × 2 replication(s), 12 still to run" in text
    assert "(engine: des); one run took" in text and "on 2 local workers" in text
    assert not out.exists()


def test_the_sweep_command_reports_counts_and_exits_1_when_a_run_failed(
    tmp_path, monkeypatch, capsys
):
    # each value alone is valid; a 2-day warm-up with a 1-day horizon is refused
    path = write_sweep(
        tmp_path / "in",
        customers=None,
        design={"kind": "grid"},
        parameters={"warmup": ["0 min", "2 days"], "horizon": ["1 day", "3 days"]},
        replications=1,
    )
    out = tmp_path / "out"
    code, text, _ = call_main(monkeypatch, capsys, "sweep", path, "--out", out, "--workers", "2")
    assert code == 1
    assert "3 of 4 runs ok, 1 failed; 4 run now" in text
    failed = [line for line in text.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1
    assert failed[0].startswith("failed: run 2 (point 2, replication 0): ScenarioError: ")
    assert "horizon" in failed[0]
    assert f"results: {out / RESULTS}" in text
    frame = pd.read_parquet(out / RESULTS)
    assert frame["status"].tolist() == ["ok", "ok", "failed", "ok"]


def start_sweep(path: Path, out: Path, *extra: str) -> subprocess.Popen:
    """Start `spiral sweep` in a session of its own (so its workers can be signalled too)."""
    return subprocess.Popen(
        [sys.executable, "-m", "spiral", "sweep", str(path), "--out", str(out), *extra],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_parts(out: Path, count: int, process: subprocess.Popen) -> None:
    """Wait until ``count`` batches are saved (or the process ended)."""
    # a hang guard only: pytest-timeout bounds the test
    while process.poll() is None:
        if len(list(out.glob(f"{PARTS}/part-*.parquet"))) >= count:
            return
        time.sleep(0.05)


@pytest.mark.slow
def test_ctrl_c_saves_what_finished_exits_130_and_the_same_command_resumes(tmp_path):
    path = write_sweep(tmp_path / "in", customers=3000, design={"kind": "lhs", "samples": 30})
    out = tmp_path / "out"
    process = start_sweep(path, out, "--workers", "2", "--batch", "2")
    wait_for_parts(out, 2, process)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    stdout, stderr = process.communicate()
    assert process.returncode == 130, stderr
    line = stderr.strip().splitlines()[-1]
    saved = int(re.match(r"interrupted: (\d+) of 60 runs saved in ", line).group(1))
    assert line.endswith(f"{out}; run the same command to resume")
    assert "Traceback" not in stderr
    assert 0 < saved < 60
    assert len(pd.concat(pd.read_parquet(p) for p in out.glob(f"{PARTS}/*.parquet"))) == saved
    resumed = subprocess.run(
        [sys.executable, "-m", "spiral", "sweep", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0 and f"{saved} already saved" in resumed.stdout
    assert len(pd.read_parquet(out / RESULTS)) == 60


def dask_by_hand(base_port: int, workers: int) -> tuple:
    """Start `dask scheduler` and `dask worker` as the docs do; return both and the address."""
    dask = str(Path(sys.executable).parent / "dask")
    port = base_port + os.getpid() % 1000
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--port", str(port), "--no-dashboard"], **quiet
    )
    worker = subprocess.Popen(
        [dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"],
        **quiet,
    )
    return scheduler, worker, address


@pytest.mark.slow
def test_a_sweep_runs_on_a_scheduler_and_workers_started_by_hand(tmp_path):
    # the docs' recipe: `dask scheduler`, `dask worker ADDRESS`, `spiral sweep --scheduler`
    scheduler, worker, address = dask_by_hand(18786, workers=2)
    try:
        path = write_sweep(tmp_path / "in")
        done = subprocess.run(
            [sys.executable, "-m", "spiral", "sweep", str(path), "--out", str(tmp_path / "c")]
            + ["--scheduler", address],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert f"on the Dask cluster at {address}" in done.stdout
    finally:
        worker.terminate()
        scheduler.terminate()
        worker.wait(30)
        scheduler.wait(30)
    local = run_sweep(load_sweep(path), tmp_path / "local", LocalPool(1))
    pd.testing.assert_frame_equal(
        comparable(pd.read_parquet(tmp_path / "c" / RESULTS)),
        comparable(pd.read_parquet(local.results)),
    )


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path / "in")
    monkeypatch.setattr(DaskCluster, "timeout", "1s")
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens
    code, _, err = call_main(
        monkeypatch, capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", address
    )
    assert code == 2
    (line,) = [x for x in err.strip().splitlines() if "cannot reach" in x]
    assert line.startswith(f"spiral sweep: --scheduler: cannot reach {address} (")


@pytest.mark.slow
def test_two_sweeps_on_one_dask_cluster_at_once_keep_their_own_results(tmp_path):
    from distributed import LocalCluster

    paths = [write_sweep(tmp_path / "one", seed=3), write_sweep(tmp_path / "two", seed=9)]
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        processes = [
            start_sweep(path, tmp_path / f"dask_{i}", "--scheduler", address)
            for i, path in enumerate(paths)
        ]
        for process in processes:
            _, stderr = process.communicate()
            assert process.returncode == 0, stderr
    for i, path in enumerate(paths):
        local = run_sweep(load_sweep(path), tmp_path / f"local_{i}", LocalPool(1))
        pd.testing.assert_frame_equal(
            comparable(pd.read_parquet(tmp_path / f"dask_{i}" / RESULTS)),
            comparable(pd.read_parquet(local.results)),
        )
    assert set(pd.read_parquet(tmp_path / "dask_1" / RESULTS)["seed"]) == {9, 10}


@pytest.mark.slow
def test_losing_the_scheduler_mid_sweep_keeps_the_rows_and_exits_1(tmp_path):
    scheduler, worker, address = dask_by_hand(19786, workers=1)
    path = write_sweep(tmp_path / "in", customers=3000, design={"kind": "lhs", "samples": 30})
    out = tmp_path / "out"
    try:
        process = start_sweep(path, out, "--scheduler", address, "--batch", "1")
        wait_for_parts(out, 2, process)
        scheduler.kill()
        stdout, stderr = process.communicate()
    finally:
        worker.kill()
        scheduler.kill()
        worker.wait(30)
        scheduler.wait(30)
    assert process.returncode == 1, stderr
    lines = [x for x in stderr.splitlines() if x.startswith("spiral sweep: --scheduler: ")]
    assert len(lines) == 1, stderr  # whichever call meets the closed connection first
    (line,) = lines
    assert line.startswith(f"spiral sweep: --scheduler: lost the Dask scheduler at {address}")
    assert "Traceback" not in stderr
    assert line.endswith(f"runs saved in {out}; run the same command to resume")
    resumed = run_sweep(load_sweep(path), out, LocalPool(2))
    assert resumed.skipped >= 2 and len(pd.read_parquet(resumed.results)) == 60


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--scheduler", "garbage"],
            "spiral sweep: --scheduler: expected 'local' or a scheduler "
            "address like tcp://host:8786, got 'garbage'",
        ),
        (["--workers", "0"], "spiral sweep: --workers: expected at least 1, got 0"),
    ],
)
def test_bad_sweep_options_are_one_line_and_exit_code_2(
    tmp_path, monkeypatch, capsys, args, expected
):
    path = write_sweep(tmp_path / "in")
    code, _, err = call_main(monkeypatch, capsys, "sweep", path, "--out", tmp_path / "o", *args)
    assert code == 2 and err.strip() == expected


def test_an_out_that_is_a_file_is_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path / "in")
    code, _, err = call_main(monkeypatch, capsys, "sweep", path, "--out", path)
    assert code == 2
    assert err.strip() == f"{path}: --out: is a file; expected a folder for the results"


def test_a_list_of_quantities_is_stored_as_numbers_and_labels_keep_the_files_order(tmp_path):
    from spiral.sweeps.sensitivity import _src
    from spiral.sweeps.store import parameter_columns, units

    path = write_sweep(
        tmp_path / "in",
        design={"kind": "grid"},
        parameters={"arrivals.rate": ["300 per day", "1000 per day"], "what_if": ["baseline"]},
        replications=1,
    )
    sweep = load_sweep(path)
    assert parameter_columns(sweep) == {"arrivals.rate": "float", "what_if": "str"}
    assert units(sweep) == {"arrivals.rate": "per day"}
    frame = pd.read_parquet(run_sweep(sweep, tmp_path / "o", LocalPool(1)).results)
    assert frame["arrivals.rate"].tolist() == [300.0, 1000.0]
    # labels are coded by their place in the file's list, not alphabetically
    points = pd.DataFrame({"x": ["high", "low", "high", "low"], "m": [4.0, 1.0, 4.2, 0.8]})
    coded = _src(points, ["x"], "m", {"x": ["low", "high"]})
    assert coded[0]["value"] > 0.99


def test_dask_logs_are_as_they_were_after_a_scheduler_that_cannot_be_reached(monkeypatch):
    """The sweep quiets dask's loggers for its own duration only, also when it fails."""
    import logging

    import distributed  # noqa: F401 - its loggers exist once it is imported

    from spiral.sweeps.execution import DaskCluster, ExecutorLost

    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
    before = {n: logging.getLogger(n).level for n in names}
    monkeypatch.setattr(DaskCluster, "timeout", "1s")
    cluster = DaskCluster("tcp://127.0.0.1:9", 1)  # nothing listens on the discard port
    with pytest.raises(ExecutorLost, match="cannot reach tcp://127.0.0.1:9"):
        list(cluster.results([object()], lambda task: {}))
    assert {n: logging.getLogger(n).level for n in names} == before


def on_which_worker(task: RunTask) -> dict:
    """Run a task as the sweep does, and name the Dask worker (its address) that ran it."""
    from distributed import get_worker

    assert task.base, "the worker must be given the sweep's base scenario"
    return {**execute(task), "worker": get_worker().address}


@pytest.mark.slow
def test_a_worker_that_joins_mid_sweep_is_given_the_base_scenario_and_runs(tmp_path):
    """The base goes to workers once (a plugin), not in every run's message to the scheduler."""
    import pickle

    from distributed import LocalCluster

    sweep = load_sweep(write_sweep(tmp_path / "in", customers=1500))
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        grown = []

        def grow(_row: dict) -> None:
            if not grown:  # a second worker joins once the first row is in
                grown.append(True)
                cluster.scale(2)
                cluster.sync(cluster._correct_state)

        outcome = run_sweep(
            sweep,
            tmp_path / "d",
            DaskCluster(cluster.scheduler_address, 2),
            on_row=grow,
            runner=on_which_worker,
        )
        logged = [
            message
            for stream in cluster.scheduler.stream_comms.values()
            for batch in stream.recent_message_log
            for message in (batch if isinstance(batch, list) else [])
            if isinstance(message, dict) and message.get("op") == "compute-task"
        ]
    rows = pd.read_parquet(outcome.results)
    assert outcome.ok == len(rows) == 12
    assert rows["worker"].nunique() == 2  # the late worker ran runs too
    assert logged and all(
        len(pickle.dumps(m["run_spec"])) < len(pickle.dumps(sweep.base)) for m in logged
    )
    local = run_sweep(sweep, tmp_path / "local", LocalPool(1))
    pd.testing.assert_frame_equal(comparable(rows), comparable(pd.read_parquet(local.results)))
