"""Complaining is a choice: failures voiced with the step's probability, the rest silent."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from examples import run_on

from spiral.analysis.results import run
from spiral.engines.analytic import theory
from spiral.model.loading import load_scenario, with_length
from spiral.model.scenario import COMPLAINT_BY_LOSS
from spiral.views.trace import story

SCENARIO = Path(__file__).parent / "scenarios" / "silent_sufferers.yaml"
Z = 3.29  # 99.9% two-sided: several checks per test, each must hold with fixed seeds

# By hand: deliver fails 0.2 and 3% of those complain (small loss); every customer who does
# not complain about deliver goes on to inspect (0.8 + 0.2 × 0.97 = 0.994), which fails
# 0.05 and half complain (large loss). Complaints are resolved and end the journey.
REACH_INSPECT = 0.8 + 0.2 * 0.97
SILENT = 0.2 * 0.97 + REACH_INSPECT * 0.05 * 0.5
CONTACTS = 0.2 * 0.03 + REACH_INSPECT * 0.05 * 0.5
SILENT_CHURN = 0.9 - (0.9 - 0.05) * math.exp(-1 / 4)  # loyalty at severity 1, defaults


def test_small_problems_are_voiced_by_three_in_a_hundred_large_by_half():
    assert COMPLAINT_BY_LOSS == {"small": 0.03, "large": 0.5}
    steps = load_scenario(SCENARIO).steps
    assert steps["deliver"].complaint_probability() == 0.03
    assert steps["inspect"].complaint_probability() == 0.5


def test_the_analytic_engine_counts_silent_failures_and_contacts_exactly():
    exact = theory(load_scenario(SCENARIO), tolerance=1e-12)
    assert exact.silent == pytest.approx(SILENT, rel=1e-9)
    assert exact.contacts == pytest.approx(CONTACTS, rel=1e-9)
    assert exact.visits["inspect"] == pytest.approx(REACH_INSPECT, rel=1e-9)


@pytest.mark.parametrize("engine", ["des", "vectorised"])
def test_silent_sufferers_exist_and_churn_as_their_unresolved_problem_says(engine):
    result = run_on(SCENARIO, engine)
    done, summary = result.customers, result.summary
    n = len(done)
    silent = done["silent"].mean()
    assert abs(silent - SILENT) <= Z * math.sqrt(SILENT * (1 - SILENT) / n)
    assert abs(done["contacts"].mean() - CONTACTS) <= Z * math.sqrt(CONTACTS / n)
    # silent sufferers: failed, never got in touch; most of the customers who failed
    assert summary["silent_sufferers"] > 5 * summary["complainants"] > 0
    assert (
        summary["customers_with_failure"] == summary["silent_sufferers"] + summary["complainants"]
    )
    churn = summary["churn_by_voice"]
    k = summary["silent_sufferers"]
    assert abs(churn["silent"] - SILENT_CHURN) <= Z * math.sqrt(
        SILENT_CHURN * (1 - SILENT_CHURN) / k
    )
    assert churn["silent"] > 3 * churn["no failure"]
    assert summary["failure_demand_share"] == 1.0  # the silent ones make no failure demand


def test_the_event_log_and_the_story_show_the_silence():
    result = run(with_length(load_scenario(SCENARIO), customers=2_000), event_log=True)
    events = result.events
    assert (events["event"] == "silent").sum() == result.customers["silent"].sum()
    quiet = int(events.loc[events["event"] == "silent", "customer"].iloc[0])
    told = "\n".join(story(result, quiet))
    assert "suffers in silence" in told


QUIET = {
    "name": "quiet",
    "customers": 2000,
    "arrivals": {"rate": "100 per day"},
    "start": "order",
    "silos": {
        "shop": {"staff": "unlimited"},
        "courier": {"staff": "unlimited"},
    },
    "steps": {
        "order": {
            "silo": "shop",
            "failure": 1.0,
            "complain": 0.0,
            "on_failure": "question",
            "next": "deliver",
        },
        "deliver": {"silo": "courier", "customer_facing": True, "next": "question"},
    },
    "contacts": {
        "question": {
            "silo": "courier",
            "handling": "5 min",
            "fcr": 1.0,
            "resolved": "done",
            "unresolved": "done",
        },
    },
    "outcomes": {"done": {}},
    # every handoff the customer sees would be cold and misrouted (the question is asked
    # of the courier: no handoff into it)
    "experience": {"baton": 0.0, "ping_pong": 1.0, "compounding": 1.0},
}


@pytest.mark.parametrize("engine", ["des", "vectorised", "analytic"])
def test_a_failure_suffered_in_silence_opens_no_case(engine):
    from spiral.model.loading import parse_scenario

    scenario = parse_scenario(QUIET, "quiet.yaml")
    if engine == "analytic":
        exact = theory(scenario)
        assert exact.silent == 1.0 and exact.failure_demand == 0.0
        assert exact.ping_pongs == 0.0 and exact.severity == [(1.0, pytest.approx(1.0))]
        return
    done = run(scenario, engine=engine).customers
    # the handoff to the courier is not seen (nothing is being pursued), so nothing is
    # misrouted; the question later is value demand; severity stays where the failure left it
    assert (done["silent"] == 1).all() and (done["complaints"] == 0).all()
    assert done["ping_pongs"].sum() == 0 and done["failure_demand"].sum() == 0
    assert (done["contacts"] == 1).all() and (done["severity"] == 1.0).all()
    assert (done["effort"] == 1).all()  # the contact only


def test_inviting_complaints_turns_silent_sufferers_into_complainants():
    from spiral.model.what_if_arms import apply

    scenario = load_scenario(SCENARIO)
    invited = apply(scenario, [scenario.what_ifs["ask_after_delivery"]])
    assert invited.steps["deliver"].complaint_probability() == pytest.approx(0.15)
    reach = 0.8 + 0.2 * 0.85
    silent = 0.2 * 0.85 + reach * 0.05 * 0.5
    contacts = 0.2 * 0.15 + reach * 0.05 * 0.5
    exact = theory(invited, tolerance=1e-12)
    assert exact.silent == pytest.approx(silent, rel=1e-9)
    assert exact.contacts == pytest.approx(contacts, rel=1e-9)
    result = run(with_length(scenario, customers=20_000), what_if="ask_after_delivery")
    done = result.customers
    n = len(done)
    assert abs(done["silent"].mean() - silent) <= Z * math.sqrt(silent * (1 - silent) / n)
    assert abs(done["contacts"].mean() - contacts) <= Z * math.sqrt(contacts / n)
