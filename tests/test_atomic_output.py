"""Outputs are written whole or not at all, by one writer at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spiral.io.atomic_output import (
    OutputFile,
    OutputFolder,
    OutputLock,
    file_records,
    manifest_problems,
)
from spiral.model.errors import ScenarioError


def staged_folder(tmp_path, **files) -> tuple[OutputFolder, dict]:
    folder = OutputFolder(tmp_path / "res")
    folder.open()
    for name, text in files.items():
        (folder.stage / name).write_text(text)
    return folder, files


def contents(folder) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_a_committed_folder_replaces_the_old_one_whole(tmp_path):
    old = tmp_path / "res"
    old.mkdir()
    (old / "a.csv").write_text("old a")
    (old / "stale.csv").write_text("from an earlier run")
    folder, files = staged_folder(tmp_path, **{"a.csv": "new a", "b.csv": "new b"})
    assert contents(old) == {"a.csv": "old a", "stale.csv": "from an earlier run"}
    folder.commit()
    assert contents(tmp_path / "res") == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no staging, no lock left


def test_an_aborted_folder_leaves_the_previous_results_as_they_were(tmp_path):
    old = tmp_path / "res"
    old.mkdir()
    (old / "a.csv").write_text("old a")
    folder, _ = staged_folder(tmp_path, **{"a.csv": "half-written"})
    folder.abort()
    assert contents(old) == {"a.csv": "old a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_an_exception_inside_the_block_aborts_and_success_commits(tmp_path):
    with pytest.raises(KeyboardInterrupt), OutputFolder(tmp_path / "res") as folder:
        (folder.stage / "a.csv").write_text("x")
        raise KeyboardInterrupt
    assert not (tmp_path / "res").exists()
    with OutputFolder(tmp_path / "res") as folder:
        (folder.stage / "a.csv").write_text("x")
    assert contents(tmp_path / "res") == {"a.csv": "x"}


def test_a_second_writer_is_refused_while_the_first_holds_the_place(tmp_path):
    first = OutputFolder(tmp_path / "res")
    first.open()
    with pytest.raises(ScenarioError, match=r"res: --out: another spiral command \(process \d+\)"):
        OutputFolder(tmp_path / "res").open()
    first.abort()
    OutputFolder(tmp_path / "res").open()  # free again


@pytest.mark.slow
def test_a_writer_in_another_process_holds_the_lock_until_it_ends(tmp_path):
    code = (
        "import sys; from pathlib import Path; from spiral.io.atomic_output import OutputLock;"
        "lock = OutputLock(Path(sys.argv[1]), '--out'); lock.acquire(); print('held', flush=True);"
        "sys.stdin.readline()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "res")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ScenarioError, match=f"process {holder.pid}"):
            OutputLock(tmp_path / "res", "--out").acquire()
    finally:
        holder.kill()  # a killed holder's lock is released by the system
        holder.wait()
    lock = OutputLock(tmp_path / "res", "--out")
    lock.acquire()
    lock.release()


def test_a_folder_holding_files_spiral_did_not_write_is_refused_not_replaced(tmp_path):
    mine = tmp_path / "res"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's own notes")
    folder = OutputFolder(mine, known=lambda name: name.endswith(".csv"))
    with pytest.raises(ScenarioError, match=r"holds files spiral did not write \(notes.txt\)"):
        folder.open()
    assert (mine / "notes.txt").read_text() == "the user's own notes"
    OutputFolder(mine).open()  # the refusal freed the lock


def test_a_file_where_a_folder_is_due_and_a_path_under_a_file_are_refused(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ScenarioError, match="is a file; expected a folder"):
        OutputFolder(tmp_path / "a_file").open()
    with pytest.raises(ScenarioError, match="cannot create the folder"):
        OutputFolder(tmp_path / "a_file" / "res").open()
    with pytest.raises(ScenarioError, match="is a folder; expected a file name"):
        OutputFile(tmp_path).open()


def test_a_read_only_place_is_refused_before_any_work(tmp_path):
    if os.geteuid() == 0:  # root writes anywhere in a normal folder, not in /proc
        place = Path("/proc") / "spiral-results"
        if not Path("/proc").is_dir():
            pytest.skip("no read-only place for root here")
    else:
        locked = tmp_path / "ro"
        locked.mkdir()
        locked.chmod(0o500)
        place = locked / "res"
    with pytest.raises(ScenarioError, match="cannot be written"):
        OutputFolder(place).open()


def test_pictures_added_to_a_folder_keep_the_files_already_there(tmp_path):
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "journey_map.png").write_text("from the run")
    with OutputFolder(plots, "--plot", whole=False) as folder:
        (folder.stage / "compare_bars.png").write_text("from compare")
    assert contents(plots) == {
        "compare_bars.png": "from compare",
        "journey_map.png": "from the run",
    }


def test_a_file_output_is_renamed_over_the_old_file_only_when_complete(tmp_path):
    page = tmp_path / "report.html"
    page.write_text("old report")
    out = OutputFile(page)
    out.open()
    out.stage.write_text("new report")
    assert page.read_text() == "old report"
    assert out.stage.suffix == ".html"  # writers that pick a format by suffix still can
    out.commit()
    assert page.read_text() == "new report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_staging_left_by_a_killed_writer_is_cleared_by_the_next(tmp_path):
    (tmp_path / ".res.spiral-999999.tmp").mkdir()
    (tmp_path / ".res.spiral-999999.tmp" / "half.csv").write_text("x")
    with OutputFolder(tmp_path / "res") as folder:
        (folder.stage / "a.csv").write_text("y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_a_folder_moved_aside_by_an_interrupted_swap_is_put_back(tmp_path):
    aside = tmp_path / ".res.spiral-999999.old"
    aside.mkdir()
    (aside / "a.csv").write_text("the previous results")
    folder = OutputFolder(tmp_path / "res")
    folder.open()
    folder.abort()
    assert contents(tmp_path / "res") == {"a.csv": "the previous results"}


def test_only_this_places_own_staging_is_cleared_never_a_users_files(tmp_path):
    """.notes.old is the user's; .res.v2.spiral-1.tmp is another place's live staging."""
    keep = {
        ".res.old": "a user's backup",
        ".res.draft.tmp": "a user's draft",
        ".res.v2.spiral-1.tmp": "another command's staging",
        ".res.spiral-x.tmp": "not a process number",
    }
    for name, text in keep.items():
        (tmp_path / name).write_text(text)
    with OutputFolder(tmp_path / "res") as folder:
        (folder.stage / "a.csv").write_text("y")
    for name, text in keep.items():
        assert (tmp_path / name).read_text() == text, name
    star = OutputFolder(tmp_path / "*")  # glob characters in a name match nothing else
    star.open()
    star.abort()
    assert all((tmp_path / name).exists() for name in keep)


def test_a_link_to_a_folder_is_written_through_and_a_dangling_link_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with OutputFolder(tmp_path / "link") as folder:
        (folder.stage / "a.csv").write_text("through the link")
    assert (tmp_path / "link").is_symlink()
    assert contents(real) == {"a.csv": "through the link"}
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ScenarioError, match="dangling: --out: is a link to .*nowhere, which does"):
        OutputFolder(tmp_path / "dangling").open()


def test_pictures_whose_names_are_folders_there_are_refused_before_any_work(tmp_path):
    (tmp_path / "pics" / "timeseries.png").mkdir(parents=True)
    pictures = OutputFolder(
        tmp_path / "pics", "--plot", whole=False, names=frozenset({"timeseries.png"})
    )
    with pytest.raises(ScenarioError, match="timeseries.png is a folder there"):
        pictures.open()


def test_a_file_placed_in_a_subfolder_of_the_output_gets_the_subfolder(tmp_path):
    with OutputFolder(tmp_path / "res") as folder:
        staged = folder.place(tmp_path / "res" / "logs" / "log.csv")
        staged.write_text("log")
    assert (tmp_path / "res" / "logs" / "log.csv").read_text() == "log"


def test_the_manifest_check_finds_missing_extra_and_changed_files(tmp_path):
    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    listed = file_records(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"files": listed}))
    assert manifest_problems(tmp_path) == []
    (tmp_path / "a.csv").write_text("changed")
    (tmp_path / "b.csv").unlink()
    (tmp_path / "c.csv").write_text("c")
    assert sorted(manifest_problems(tmp_path)) == [
        "a.csv: differs from the manifest",
        "b.csv: missing",
        "c.csv: not in the manifest",
    ]


# --- whole commands under faults ----------------------------------------------------------


def spiral_process(*args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "spiral", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def seed_of(folder) -> int:
    """Return the seed of a results folder, checking that every file agrees with it."""
    import pyarrow.parquet as pq

    assert manifest_problems(folder) == [], manifest_problems(folder)
    seed = json.loads((folder / "manifest.json").read_text())["seed"]
    assert json.loads((folder / "summary.json").read_text())["seed"] == seed
    for name in ("customers.parquet", "timeseries.parquet"):
        assert json.loads(pq.read_schema(folder / name).metadata[b"spiral"])["seed"] == seed
    return seed


@pytest.mark.slow
def test_a_run_killed_at_any_moment_leaves_a_folder_its_manifest_describes(tiny_file, tmp_path):
    """SIGKILL at random moments of a run overwriting another: old results or new, whole."""
    import random
    import time

    res = tmp_path / "res"
    run = ("run", tiny_file, "--customers", "4000", "--out", res, "--events")
    first = spiral_process(*run, "--seed", "1")
    assert first.wait() == 0, first.stderr.read()
    assert seed_of(res) == 1
    started = time.monotonic()
    whole = spiral_process(*run, "--seed", "9")
    assert whole.wait() == 0
    length = time.monotonic() - started  # how long one overwrite takes here
    assert seed_of(res) == 9
    luck = random.Random(7)
    seen = set()
    for attempt in range(10):
        seed = 2 + attempt
        writer = spiral_process(*run, "--seed", seed)
        time.sleep(luck.uniform(0.0, length))
        writer.kill()
        writer.wait()
        found = seed_of(res)  # whatever the moment, the folder is whole and says what it is
        assert found in (seed, *seen, 9)
        seen.add(found)


@pytest.mark.slow
def test_two_runs_writing_one_folder_never_mix_their_files(tiny_file, tmp_path):
    res = tmp_path / "res"
    writers = [
        spiral_process("run", tiny_file, "--customers", "3000", "--seed", seed, "--out", res)
        for seed in (1, 2)
    ]
    codes = [w.wait() for w in writers]
    errors = [w.stderr.read() for w in writers]
    assert 0 in codes
    for code, err in zip(codes, errors, strict=True):
        if code:  # refused at once, in one line
            assert code == 2
            [line] = err.strip().splitlines()
            assert "--out: another spiral command" in line
    assert seed_of(res) in {seed for seed, code in zip((1, 2), codes, strict=True) if code == 0}


def test_a_full_disk_while_writing_is_one_line_and_keeps_the_old_results(
    tiny_file, tmp_path, monkeypatch, capsys
):
    from test_cli import call_main

    import spiral.io.result_files

    res = tmp_path / "res"
    code, _, err = call_main(
        monkeypatch, capsys, "run", tiny_file, "--customers", "200", "--out", res
    )
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in res.iterdir()}

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spiral.io.result_files, "write_parquet", full)
    code, _, err = call_main(
        monkeypatch, capsys, "run", tiny_file, "--customers", "200", "--seed", "5", "--out", res
    )
    assert code == 2
    [line] = err.strip().splitlines()
    assert line == f"{res}: --out: cannot write results (No space left on device)"
    assert {p.name: p.read_bytes() for p in res.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["simulating", "writing"])
def test_a_run_killed_while_simulating_or_writing_leaves_the_old_results(
    moment, tiny_file, tmp_path
):
    """Killed at a known moment (its staging made; files in it): the old folder is whole."""
    import time

    res = tmp_path / "res"
    run = ("run", tiny_file, "--customers", "20000", "--out", res, "--events")
    first = spiral_process(*run, "--seed", "1")
    assert first.wait() == 0, first.stderr.read()
    writer = spiral_process(*run, "--seed", "2")
    stage = tmp_path / f".res.spiral-{writer.pid}.tmp"

    def reached() -> bool:
        if moment == "simulating":
            return stage.is_dir()
        return stage.is_dir() and any(stage.iterdir())

    while not reached():  # a state, not a time: pytest-timeout guards against a hang
        assert writer.poll() is None, "the run ended before the moment came"
        time.sleep(0.01)
    writer.kill()
    writer.wait()
    assert seed_of(res) == 1
