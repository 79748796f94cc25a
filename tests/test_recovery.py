"""Recovery that depends on speed: a quick first recovery is as good as no failure, not a second."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from spiral.analysis.results import run
from spiral.engines import rules
from spiral.engines.analytic import NoClosedForm, theory
from spiral.model.loading import load_scenario, parse_scenario, with_length

SCENARIO = Path(__file__).parent / "scenarios" / "recovery_speed.yaml"
Z = 3.29  # 99.9% two-sided, several checks per test with fixed seeds

# By hand, from the loyalty defaults (base 0.05, max 0.9, scale 4, recovery effect 0.85):
BASE = 0.05
ONE = 0.9 - 0.85 * math.exp(-1 / 4)  # severity 1: one failure, nothing else
TWO = 0.9 - 0.85 * math.exp(-2 / 4)  # severity 2: a second failure (amplification 2)
SLOW_SPEED = math.exp(-5)  # a letter answered in five days, recovery_time one day
SLOW = ONE * 0.85 + (BASE - ONE * 0.85) * SLOW_SPEED
QUICK = BASE  # the chat puts it right at once: speed 1
# shares: no failure 0.6 × 0.8; silent at delivery only 0.6 × 0.2; chat or letter 0.2 each,
# then 0.8 once-recovered and 0.2 with a second (silent) failure
CHURN = 0.48 * BASE + 0.12 * ONE + 0.2 * (0.8 * QUICK + 0.2 * TWO) + 0.2 * (0.8 * SLOW + 0.2 * TWO)


def _margin(p: float, n: int) -> float:
    return Z * math.sqrt(p * (1 - p) / n)


def test_the_speed_of_a_recovery_decays_with_its_time_constant():
    assert rules.recovery_speed(0.0, 1440.0) == 1.0
    assert rules.recovery_speed(1440.0, 1440.0) == pytest.approx(math.exp(-1))
    assert rules.recovery_speed(1440.0, None) == 0.0  # speed not modelled: the old rule


def test_the_analytic_engine_gives_the_hand_computed_churn():
    assert theory(load_scenario(SCENARIO), tolerance=1e-12).churn_rate == pytest.approx(
        CHURN, rel=1e-9
    )


@pytest.mark.parametrize("engine", ["des", "vectorised"])
def test_a_quick_first_recovery_is_as_loyal_as_no_failure_a_slow_one_and_a_second_failure_are_not(
    engine,
):
    scenario = load_scenario(SCENARIO)
    if engine == "des":
        scenario = with_length(scenario, customers=20_000)
    done = run(scenario, engine=engine).customers
    churned = done["outcome"] == "churned"
    days = (done["end"] - done["arrival"]) / 1440
    once = (done["failures"] == 1) & (done["recovered"] == 1)
    groups = {
        "no failure": (done["failures"] == 0, BASE),
        "quick": (once & (days < 1), QUICK),
        "slow": (once & (days >= 5), SLOW),
        "second failure": ((done["failures"] == 2) & (done["recovered"] == 1), TWO),
    }
    rate = {}
    for name, (who, expected) in groups.items():
        n = int(who.sum())
        rate[name] = churned[who].mean()
        assert n > 500, name
        assert abs(rate[name] - expected) <= _margin(expected, n), (name, rate[name], expected)
    # the paradox on repurchase: equal, not better (de Matos et al. 2007)
    assert (
        abs(rate["quick"] - rate["no failure"]) <= _margin(BASE, int(groups["quick"][0].sum())) * 2
    )
    assert rate["slow"] > 3 * rate["quick"]
    assert rate["second failure"] > rate["slow"]


def test_the_analytic_engine_refuses_when_the_advocacy_cap_would_bend_the_speed_rule():
    # advocacy <= 1 - churn binds for some recovery speeds and not others: the answer
    # then needs the whole spread of recovery times, not their mean
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data["experience"]["loyalty"].update(base_churn=0.45, base_advocacy=0.6)
    with pytest.raises(NoClosedForm, match="experience.loyalty.base_advocacy"):
        theory(parse_scenario(data, "recovery_speed.yaml"))
