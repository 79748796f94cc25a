"""Progress: a bar in a terminal, a plain periodic line when output is not a terminal."""

from __future__ import annotations

import io
import re
import threading

import pytest
from rich.console import Console

from spiral.analysis.results import run
from spiral.cli.feedback import Feedback, feedback
from spiral.model.loading import load_scenario, with_length


def test_the_plain_line_names_the_command_phase_share_and_time():
    shown = Feedback(Console(file=io.StringIO()), "spiral run")
    shown.step("simulating", 0.4217)
    assert re.fullmatch(r"spiral run: simulating 42% \(\d+ s\)", shown.line())
    shown.step("writing results")
    assert re.fullmatch(r"spiral run: writing results \(\d+ s\)", shown.line())


def test_off_a_terminal_lines_come_periodically_and_stop_with_the_command():
    """The ticker prints after ``quiet`` seconds, then every ``every``, and stops on exit."""
    text = io.StringIO()
    printed = threading.Event()
    console = Console(file=text, force_terminal=False)
    original = console.print

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003
        original(*args, **kwargs)
        printed.set()

    console.print = spy
    with Feedback(console, "spiral run", every=0.01, quiet=0.0) as shown:
        shown.step("simulating", 0.5)
        printed.clear()
        assert printed.wait(60)  # a hang guard
    after = text.getvalue()
    assert after.splitlines()[-1].startswith("spiral run: simulating 50%")
    assert text.getvalue() == after  # nothing once the command is done


def test_feedback_can_be_switched_off_for_json_output():
    with feedback(Console(file=io.StringIO()), "spiral run", enabled=False) as shown:
        shown.step("simulating", 0.5)  # accepted, shown nowhere


@pytest.mark.slow
def test_runs_report_their_progress_up_to_the_whole_run(tiny_scenario):
    """Both engines call back with a growing share of the run, ending at (or near) one."""
    seen: list[float] = []
    run(with_length(tiny_scenario, customers=5000), seed=1, progress=seen.append)
    assert seen == sorted(seen) and 0 < seen[0] and seen[-1] == 5000 // 1024 * 1024 / 5000
    quick = load_scenario("online_retail")
    unlimited = {n: s.model_copy(update={"staff": "unlimited"}) for n, s in quick.silos.items()}
    quick = with_length(quick.model_copy(update={"silos": unlimited}), customers=450_000)
    seen.clear()
    run(quick, seed=1, engine="vectorised", progress=seen.append)
    assert seen == [200_000 / 450_000, 400_000 / 450_000, 1.0]
