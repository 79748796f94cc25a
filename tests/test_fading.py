"""Severity fades: halved every half-life without a bad event; a new one builds on what is left."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from spiral.analysis.results import run
from spiral.engines import rules
from spiral.engines.analytic import NoClosedForm, theory
from spiral.model.loading import load_scenario, parse_scenario

SCENARIO = Path(__file__).parent / "scenarios" / "fading.yaml"


def test_severity_halves_every_half_life_and_never_fades_without_one():
    assert rules.faded(8.0, 2880.0, 1440.0) == 2.0
    assert rules.faded(8.0, 2880.0, None) == 8.0


@pytest.mark.parametrize("engine", ["des", "vectorised"])
def test_a_complaint_fades_and_a_second_failure_builds_on_what_is_left(engine):
    done = run(load_scenario(SCENARIO), engine=engine).customers
    once, twice = done[done["failures"] == 1], done[done["failures"] == 2]
    assert len(once) > 9000 and len(twice) > 9000
    assert once["severity"].to_numpy() == pytest.approx(0.25)  # 1 × 2^(-2 days / 1 day)
    assert twice["severity"].to_numpy() == pytest.approx(0.5)  # 0.25 × amplification 2
    churn = 0.9 - 0.85 * math.exp(-0.25 / 4)  # the loyalty curve at the faded severity
    n = len(once)
    rate = (once["outcome"] == "churned").mean()
    assert abs(rate - churn) <= 3.29 * math.sqrt(churn * (1 - churn) / n)


def test_the_analytic_engine_says_it_cannot_follow_fading():
    with pytest.raises(NoClosedForm, match="experience.severity_half_life"):
        theory(load_scenario(SCENARIO))


@pytest.mark.parametrize("engine", ["des", "vectorised"])
def test_severity_fades_up_to_the_end_whichever_outcome_ends_the_journey(engine):
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data["steps"]["again"]["next"] = {"done": 0.5, "lost": 0.5}
    data["outcomes"]["lost"] = {"kind": "churn"}
    done = run(parse_scenario(data, "fading.yaml"), engine=engine).customers
    once = done[done["failures"] == 1]
    lost = once[once["outcome"] == "churned"]
    assert len(lost) > 1000
    assert once["severity"].to_numpy() == pytest.approx(0.25)  # at a churn outcome too
