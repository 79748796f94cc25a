"""The README's commands and examples run as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from studio_browser import studio

from spiral.model.loading import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    """Return the README's fenced code blocks of one language."""
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


def section(title: str) -> str:
    """Return the text of a level-2 section."""
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", README, flags=re.MULTILINE | re.DOTALL)
    assert match, title
    return match.group(1)


def test_quickstart_has_exactly_an_install_and_run_and_an_install_and_test_command():
    block = re.search(r"```bash\n(.*?)```", section("Quickstart"), flags=re.DOTALL).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == [
        "pip install . && spiral run",
        "pip install '.[test]' 'pm4py>=2.7' && pytest",
    ]


def test_ci_runs_the_quickstart_test_command_in_a_fresh_virtualenv():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in script
    assert "-m venv" in script
    extract = re.search(r'test_command="\$\((.*)\)"', script).group(1)
    found = subprocess.run(["bash", "-c", extract], cwd=ROOT, capture_output=True, text=True)
    assert found.stdout.strip() == "pip install '.[test]' 'pm4py>=2.7' && pytest"


def test_the_example_scenario_in_the_readme_is_valid():
    example = next(b for b in code_blocks("yaml") if b.startswith("name: tiny"))
    scenario = parse_scenario(yaml.safe_load(example), "README.md")
    assert scenario.warmup == 1440 and scenario.experience.baton == 0.3


def spiral_commands() -> list[str]:
    """Return the README's `spiral ...` command lines without comments."""
    lines = []
    for block in code_blocks("bash"):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("spiral "):
                lines.append(command)
    return lines


def quick_sweeps(folder: Path) -> None:
    """Copy the example sweep files, each shortened (4 days, fewer samples) to stay fast."""
    (folder / "sweeps").mkdir()
    for path in (ROOT / "sweeps").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["horizon"] = "4 days"
        data["design"]["samples"] = min(data["design"].get("samples", 4), 4)
        (folder / "sweeps" / path.name).write_text(yaml.safe_dump(data), encoding="utf-8")


def run_readme_command(args: list[str], folder: Path) -> subprocess.CompletedProcess:
    """Run ``spiral ARGS`` in a folder as a new process."""
    return subprocess.run(
        [sys.executable, "-m", "spiral", *args[1:]],
        cwd=folder,
        capture_output=True,
        text=True,
    )


def prepare(args: list[str], folder: Path) -> None:
    """Run first the README commands that write the files or folders a command reads."""
    outputs = {"--out", "--event-log", "--plot"}
    for before, arg in zip(args[1:], args[2:], strict=False):
        if arg.startswith("-") or before in outputs or (folder / arg).exists():
            continue
        makers = [
            c
            for c in spiral_commands()
            if ("--out " + arg in c or "--event-log " + arg in c) and "--dry-run" not in c
        ]
        if makers:
            maker = shlex.split(makers[0])
            prepare(maker, folder)
            assert run_readme_command(maker, folder).returncode == 0, maker


COVERED_ELSEWHERE = {
    "spiral run tipping_point": "test_the_tipping_point_verdict_in_the_readme_is_what_…",
    "spiral validate --theory --quick": "the --markdown line runs the same report (--quick)",
    "spiral validate --evidence": "the --markdown line runs the same check and prints it",
}
"""README commands that another test here runs exactly (the suite has a 15-minute budget)."""


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in spiral_commands() if c not in COVERED_ELSEWHERE])
def test_every_spiral_command_in_the_readme_runs(command, tmp_path):
    example = next(b for b in code_blocks("yaml") if b.startswith("name: tiny"))
    (tmp_path / "my_scenario.yaml").write_text(example)
    quick_sweeps(tmp_path)
    shutil.copytree(ROOT / "tests" / "scenarios", tmp_path / "tests" / "scenarios")
    args = shlex.split(command.split(">")[0])
    prepare(args, tmp_path)
    if "--customers" in args:  # keep the suite fast: same command, fewer customers
        args[args.index("--customers") + 1] = "2000"
    if "--horizon" in args:
        args[args.index("--horizon") + 1] = "4 days"  # past the warm-up of the scenario used
    if "--theory" in args and "--quick" not in args:  # the full report takes minutes
        args.append("--quick")
    if args[1] == "studio":  # a server: it must start and listen (its own port, stopped after)
        if "--port" in args:
            del args[args.index("--port") : args.index("--port") + 2]
        with studio(*args[2:], cwd=tmp_path) as (url, _):
            assert url.startswith("http://127.0.0.1:")
        return
    done = run_readme_command(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_sample_output_in_the_readme_is_what_spiral_run_prints_today():
    block = re.search(
        r"For the default scenario \(abridged\):\n\n```text\n(.*?)```", README, flags=re.DOTALL
    ).group(1)
    done = subprocess.run([sys.executable, "-m", "spiral", "run"], capture_output=True, text=True)
    printed = {line.rstrip() for line in done.stdout.splitlines()}
    shown = [line.rstrip() for line in block.splitlines()]
    assert len(shown) > 10
    assert [line for line in shown if line not in printed] == []


@pytest.mark.slow
def test_the_tipping_point_verdict_in_the_readme_is_what_spiral_prints():
    assert "spiral run tipping_point" in spiral_commands()  # this test runs it as written
    shown = re.search(r"^(regime: .*)$", README, flags=re.MULTILINE).group(1)
    done = subprocess.run(
        [sys.executable, "-m", "spiral", "run", "tipping_point"],
        capture_output=True,
        text=True,
    )
    assert shown in [line.rstrip() for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_the_python_example_in_the_readme_runs(tmp_path, monkeypatch):
    example = next(b for b in code_blocks("python") if "spiral.load_scenario" in b)
    quick_sweeps(tmp_path)
    monkeypatch.chdir(tmp_path)  # it writes report.html and sweep_out/ where it runs
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert 0.0 <= namespace["result"].summary["churn_rate"] <= 1.0
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
