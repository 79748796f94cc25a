"""`spiral trace`: one customer's story, stable for a seed, true to the run's records."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_cli import call_main

from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.views.trace import (
    OUTCOMES,
    SHORT,
    SPIRAL_FAILURES,
    NoSuchCustomer,
    clock,
    pick_customer,
    story,
)


@pytest.fixture(scope="module")
def result():
    scenario = with_length(load_scenario("online_retail"), horizon=5 * 1440.0)
    return run(scenario, seed=1, event_log=True)


@pytest.mark.slow
def test_the_story_follows_the_customer_record(result):
    chosen = pick_customer(result, spiral=True)
    row = result.customers.set_index("customer").loc[chosen]
    lines = story(result, chosen, full=True)
    assert row["failures"] >= SPIRAL_FAILURES
    assert row["outcome"] == "churned" or row["social"] or row["ceo"]  # a spiral that cost us
    assert sum("FAILED" in line for line in lines) == row["failures"]
    assert f": {row['failures']} failure(s), " in lines[0]
    assert sum("handed over COLD" in line for line in lines) <= row["handoffs_cold"]
    assert sum("(ping-pong)" in line for line in lines) == row["ping_pongs"]
    assert sum("contacts " in line for line in lines) == row["contacts"]  # each told once
    assert sum(" AGAIN " in line for line in lines) == row["repeat_contacts"]
    assert lines[-1].endswith(f": {OUTCOMES[row['outcome']]}")
    assert lines[0].startswith(f"Customer {chosen} of online_retail (seed 1): ")
    escalations = sum("⚠ escalates" in line for line in lines)
    assert escalations == int(row["social"]) + int(row["ceo"])


@pytest.mark.slow
def test_a_story_fits_on_a_screen_and_says_what_it_leaves_out(result):
    worst = pick_customer(result, worst=True)
    full, short = story(result, worst, full=True), story(result, worst)
    assert len(full) > SHORT and len(short) <= SHORT
    assert short[0] == full[0] and short[-1] == full[-1]
    note = next(line for line in short if line.startswith("… "))
    hidden = int(note.split()[1])
    failures_hidden = sum("FAILED" in line for line in full) - sum(
        "FAILED" in line for line in short
    )
    assert (f"{failures_hidden} of them failures" in note) == (failures_hidden > 0)
    routine = int(note.split("; ")[1].split()[0])
    assert hidden + routine == len(full) - (len(short) - 1)  # every line left out is counted
    row = result.customers.set_index("customer").loc[worst]
    if row["severity"] >= result.scenario.experience.severity_cap:
        assert "severity at its cap" in short[0]


def test_worst_picks_the_highest_final_severity(result):
    done = result.customers[result.customers["outcome"] != "in_progress"]
    worst = pick_customer(result, worst=True)
    assert done.set_index("customer").loc[worst, "severity"] == done["severity"].max()


def test_an_unknown_customer_and_a_run_without_a_spiral_are_refused(result):
    with pytest.raises(
        NoSuchCustomer, match="no finished customer 10000000; expected one of 0 to "
    ):
        pick_customer(result, customer=10_000_000)
    calm = result.customers.assign(failures=0)
    fake = type("R", (), {"customers": calm})()
    with pytest.raises(
        NoSuchCustomer, match="no customer churned or escalated after 3\\+ failures"
    ):
        pick_customer(fake, spiral=True)


def test_clock_reads_days_hours_and_minutes():
    assert clock(0) == "day 0 00:00"
    assert clock(1440 + 61.9) == "day 1 01:01"


@pytest.mark.slow
def test_the_trace_of_a_fixed_seed_is_the_same_text_every_time():
    command = [sys.executable, "-m", "spiral", "trace", "online_retail", "--spiral"]
    command += ["--horizon", "4 days", "--seed", "3"]
    first = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    second = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert first == second and "FAILED" in first
    assert "\x1b[" not in first  # plain text when not a terminal


def test_more_than_one_choice_is_one_line_and_exit_code_2(monkeypatch, capsys):
    code, _, err = call_main(monkeypatch, capsys, "trace", "--worst", "--spiral")
    assert code == 2
    assert err.strip() == "spiral trace: --customer/--worst/--spiral: expected at most one of them"


def test_a_story_can_be_told_with_a_what_if_on(tmp_path, monkeypatch, capsys):
    from test_cli import call_main

    args = ["trace", "online_retail", "--horizon", "4 days", "--customer", "3"]
    code, printed, _ = call_main(monkeypatch, capsys, *args, "--what-if", "warm_handoffs")
    assert code == 0
    assert printed.splitlines()[0].startswith(
        "Customer 3 of online_retail (seed 1, what-if warm_handoffs): "
    )
    code, _, err = call_main(monkeypatch, capsys, *args, "--what-if", "nosuch")
    assert code == 2
    assert err.strip().startswith("--what-if: nosuch: unknown what-if (expected one of: ")


def test_an_animation_with_an_unknown_what_if_is_one_line(tmp_path, monkeypatch, capsys):
    from test_cli import call_main

    out = tmp_path / "run.gif"
    code, _, err = call_main(
        monkeypatch, capsys, "animate", "online_retail", "--out", out, "--what-if", "nosuch"
    )
    assert code == 2 and not out.exists()
    assert err.strip().startswith("--what-if: nosuch: unknown what-if (expected one of: ")
