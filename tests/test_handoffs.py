"""Handoffs the customer sees: only those cost effort and can be misrouted; a bounce is sent on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from spiral.analysis.results import run
from spiral.engines.analytic import theory
from spiral.model.loading import load_scenario

SCENARIO = Path(__file__).parent / "scenarios" / "handoffs_seen.yaml"
Z = 3.29

# By hand: ship fails 0.2 on each try and a failure is put right by phone, so ship is
# tried 1 / 0.8 = 1.25 times and the phone reached 0.25 times per customer; every handoff
# into the phone is cold (baton 0) and half of those misrouted: 0.125 calls to the wrong
# place, each a contact and failure demand, and nothing done again.
SHIP, PHONE, WRONG = 1.25, 0.25, 0.125


def test_the_analytic_engine_counts_seen_handoffs_and_bounces_by_hand():
    exact = theory(load_scenario(SCENARIO), tolerance=1e-12)
    assert exact.visits["ship"] == pytest.approx(SHIP)
    assert exact.visits["pick"] == pytest.approx(1.0)  # never misrouted: back office
    assert exact.ping_pongs == pytest.approx(WRONG)
    assert exact.contacts == pytest.approx(PHONE + WRONG)
    assert exact.failure_demand == pytest.approx(PHONE + WRONG)  # a bounce is failure demand


@pytest.mark.parametrize("engine", ["des", "vectorised"])
def test_a_flawless_journey_has_no_bounce_and_no_effort_however_cold_the_back_office(engine):
    result = run(load_scenario(SCENARIO), engine=engine)
    done = result.customers
    flawless = done[done["failures"] == 0]
    assert len(flawless) > 0.7 * len(done)
    assert (flawless["handoffs_cold"] >= 2).all()  # web -> warehouse -> courier, all cold
    assert flawless["ping_pongs"].sum() == 0
    assert flawless["effort"].sum() == 0
    n = len(done)
    assert abs(done["ping_pongs"].mean() - WRONG) <= Z * math.sqrt(WRONG / n)
    assert abs(done["contacts"].mean() - (PHONE + WRONG)) <= Z * math.sqrt(0.5 / n)
    # effort: each contact, each seen cold handoff (into the phone) and each misrouting
    effort = (PHONE + WRONG) + PHONE + WRONG
    assert abs(done["effort"].mean() - effort) <= Z * math.sqrt(2.0 / n)
    assert result.summary["failure_demand_share"] == 1.0
