"""The analytic engine against hand-computed chains, the simulation and Erlang's formulas."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from examples import QUIET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from spiral.analysis.results import run
from spiral.engines.analytic import NoClosedForm, explain, fix_ranking, theory
from spiral.engines.queueing import erlang_a, erlang_c
from spiral.model.loading import parse_scenario, with_length


def loop_scenario(**experience) -> dict:
    """Return A → done, or fails (1/4) → C; C resolves (1/2) → A, else → gone (one silo)."""
    return {
        "name": "loop",
        "customers": 1000,
        "start": "A",
        "arrivals": {"rate": "100 per day"},
        "silos": {"s": {"staff": "unlimited"}},
        "steps": {
            "A": {"silo": "s", "failure": 0.25, "on_failure": "C", "next": "done"},
        },
        "contacts": {
            "C": {
                "silo": "s",
                "handling": "1 min",
                "fcr": 0.5,
                "resolved": "A",
                "unresolved": "gone",
            }
        },
        "outcomes": {"done": {}, "gone": {"kind": "churn"}},
        "experience": {"compounding": 1.0, "escalation": QUIET, **experience},
    }


def exact_loop(kmax: int = 200) -> dict[int, Fraction]:
    """P(F = k) for the loop: each round fails (1/4), is resolved (1/2) and tries again."""
    q = Fraction(1, 8)  # fail then resolved: back to A
    dist = {0: Fraction(3, 4)}
    for k in range(1, kmax):
        # k failures: k-1 full rounds, then either the k-th failure goes unresolved (gone)
        # or k rounds and success
        dist[k] = q ** (k - 1) * Fraction(1, 8) + q**k * Fraction(3, 4)
    return dist


def test_visits_outcomes_and_failures_equal_the_hand_computed_chain():
    exact = theory(parse_scenario(loop_scenario(), "loop.yaml"))
    assert exact.visits["A"] == pytest.approx(float(Fraction(8, 7)), rel=1e-10)
    assert exact.visits["C"] == pytest.approx(float(Fraction(2, 7)), rel=1e-10)
    assert exact.outcomes == pytest.approx({"done": 6 / 7, "gone": 1 / 7}, rel=1e-10)
    assert exact.failures_mean == pytest.approx(2 / 7, rel=1e-10)
    hand = exact_loop()
    for k in range(6):
        assert exact.failures_distribution[k] == pytest.approx(float(hand[k]), rel=1e-10)
    assert exact.born == pytest.approx({"A": 1 / 4})
    assert exact.contacts == pytest.approx(2 / 7) and exact.repeat_contacts == 0


def test_severity_mean_and_quantiles_equal_amplification_to_failures_minus_one():
    exact = theory(parse_scenario(loop_scenario(amplification=3.0), "loop.yaml"))
    hand = exact_loop()
    cap = 1000  # experience.severity_cap
    mean = sum(p * (min(3 ** (k - 1), cap) if k else 0) for k, p in hand.items())
    assert exact.severity_mean == pytest.approx(float(mean), rel=1e-8)  # 1e-12 of mass left
    dist = dict(exact.severity)
    assert dist[0.0] == pytest.approx(0.75) and dist[1.0] == pytest.approx(float(hand[1]))
    assert dist[9.0] == pytest.approx(float(hand[3]))
    assert exact.severity_quantile(0.75) == 0.0 and exact.severity_quantile(0.9) == 1.0


def test_escalation_happens_once_per_customer_with_a_fresh_chance_each_bad_event():
    social = {"threshold": 2.0, "probability": 0.5}
    escalation = {**QUIET, "social": social}
    exact = theory(parse_scenario(loop_scenario(escalation=escalation), "loop.yaml"))
    # severity reaches 2 at the 2nd failure; every failure from then on is a 1/2 chance
    hand = exact_loop()
    p = sum(prob * (1 - Fraction(1, 2) ** max(k - 1, 0)) for k, prob in hand.items())
    assert exact.social == pytest.approx(float(p), rel=1e-9)


def test_churn_follows_the_loyalty_curve_and_the_recovery_effect():
    data = loop_scenario()
    data["experience"]["loyalty"] = {
        "base_churn": 0.1,
        "max_churn": 0.9,
        "severity_scale": 4.0,
        "recovery_effect": 0.5,
        "base_advocacy": 0.0,
    }
    exact = theory(parse_scenario(data, "loop.yaml"))
    # done with k failures: all were resolved; k = 1 is a recovered single failure
    churn = Fraction(1, 7) + Fraction(3, 4) * Fraction(1, 10)  # gone, and calm customers
    for k in range(1, 60):
        done = Fraction(1, 8) ** k * Fraction(3, 4)
        c = 0.9 - 0.8 * math.exp(-(2 ** (k - 1)) / 4)
        churn += done * Fraction(c * (0.5 if k == 1 else 1.0))
    assert exact.churned == pytest.approx(float(churn), rel=1e-9)


def handoff_scenario(baton: float, ping_pong: float) -> dict:
    return {
        "name": "handoff",
        "customers": 1000,
        "start": "A",
        "arrivals": {"rate": "100 per day"},
        "silos": {"x": {"staff": "unlimited"}, "y": {"staff": "unlimited"}},
        "steps": {
            "A": {"silo": "x", "next": "B"},
            "B": {"silo": "y", "next": "done"},
        },
        "outcomes": {"done": {}},
        "experience": {"baton": baton, "ping_pong": ping_pong, "escalation": QUIET},
    }


def test_a_misrouted_handoff_goes_to_the_wrong_place_first_and_nothing_is_redone():
    data = handoff_scenario(0.3, 0.4)
    data["steps"]["B"]["customer_facing"] = True  # the customer takes part in B
    data["steps"]["A"].update(failure=1.0, on_failure="B")  # and has an issue to explain
    exact = theory(parse_scenario(data, "h.yaml"))
    assert exact.visits["A"] == pytest.approx(1.0)  # A's outcome is never drawn again
    assert exact.visits["B"] == pytest.approx(1.0)  # the wrong place's service is no visit
    assert exact.handoffs_warm == pytest.approx(0.3)
    assert exact.handoffs_cold == pytest.approx(0.7)
    assert exact.ping_pongs == pytest.approx(0.7 * 0.4)


def test_a_back_office_handoff_is_never_misrouted():
    exact = theory(parse_scenario(handoff_scenario(0.3, 0.4), "h.yaml"))
    assert exact.handoffs_cold == pytest.approx(0.7)
    assert exact.ping_pongs == 0.0
    assert exact.visits["A"] == pytest.approx(1.0)


def test_compounding_raises_the_odds_per_failure_suffered():
    data = loop_scenario()
    data["experience"]["compounding"] = 2.0
    exact = theory(parse_scenario(data, "loop.yaml"))
    # after k failures the odds are (1/3)·2^k; P(back to A after a failure) = 1/2
    p_reach, mean = 1.0, 0.0
    for k in range(200):
        odds = (1 / 3) * 2**k
        fail = odds / (1 + odds)
        mean += p_reach * fail
        p_reach *= fail * 0.5
    assert exact.failures_mean == pytest.approx(mean, rel=1e-9)


@pytest.mark.slow
def test_queues_and_loops_are_refused_by_name_unless_approximated(tiny_data):
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    with pytest.raises(NoClosedForm) as caught:
        theory(scenario)
    assert [field for field, _ in caught.value.reasons] == [
        "silos.ops.staff",
        "silos.support.staff",
    ]
    assert "expected unlimited staff" in str(caught.value)
    assert theory(scenario, approximate=True, tolerance=1e-6).outcomes["done"] > 0.5
    tiny_data["loops"] = {"erosion": {"enabled": True}}
    looped = parse_scenario(tiny_data, "tiny.yaml")
    with pytest.raises(NoClosedForm, match="loops.erosion.enabled"):
        theory(looped, approximate=True)
    assert theory(looped, approximate=True, loops_off=True, tolerance=1e-6).failures_mean > 0


def per_customer(result) -> dict[str, np.ndarray]:
    c = result.customers
    c = c[c["outcome"] != "in_progress"]
    return {
        "failures": c["failures"].to_numpy(float),
        "contacts": c["contacts"].to_numpy(float),
        "handoffs_cold": c["handoffs_cold"].to_numpy(float),
        "social": c["social"].to_numpy(float),
        "churned": (c["outcome"] == "churned").to_numpy(float),
        "severity": c["severity"].to_numpy(float),
    }


def expected(exact) -> dict[str, float]:
    return {
        "failures": exact.failures_mean,
        "contacts": exact.contacts,
        "handoffs_cold": exact.handoffs_cold,
        "social": exact.social,
        "churned": exact.churned,
        "severity": exact.severity_mean,
    }


def assert_within_99(sim: dict[str, np.ndarray], exact: dict[str, float]) -> None:
    for name, values in sim.items():
        n = len(values)
        half = stats.t.ppf(0.995, n - 1) * values.std(ddof=1) / math.sqrt(n)
        half = max(half, -math.log(0.01) / n)  # no event in n: P <= 4.6/n with 99% confidence
        assert abs(values.mean() - exact[name]) <= half + 1e-12, (name, values.mean(), exact[name])


@pytest.mark.slow
def test_the_simulation_agrees_with_the_analytic_engine_on_a_builtin(tiny_data):
    from spiral.engines.analytic import unlimited
    from spiral.model.loading import load_scenario

    scenario = with_length(unlimited(load_scenario("airline_disruption")), customers=30_000)
    exact = theory(scenario, tolerance=1e-7)
    assert_within_99(per_customer(run(scenario, seed=21)), expected(exact))


@st.composite
def journeys(draw) -> dict:
    """Small random valid journeys: 2-3 steps in a line, each failing into a contact."""
    n = draw(st.integers(2, 3))
    silos = ["a", "b"]
    steps, contacts = {}, {}
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "done"
        steps[f"s{i}"] = {
            "silo": silos[i % 2],
            "failure": draw(st.sampled_from([0.05, 0.1, 0.2, 0.3])),
            "on_failure": "help",
            "next": nxt,
        }
    contacts["help"] = {
        "silo": "b",
        "handling": "5 min",
        "fcr": draw(st.sampled_from([0.4, 0.6, 0.8])),
        "resolved": "done",
        "unresolved": {"help": 0.5, "gone": 0.5},
    }
    return {
        "name": "random",
        "customers": 8000,
        "start": "s0",
        "arrivals": {"rate": "2000 per day"},
        "silos": {"a": {"staff": "unlimited"}, "b": {"staff": "unlimited"}},
        "steps": steps,
        "contacts": contacts,
        "outcomes": {"done": {}, "gone": {"kind": "churn"}},
        "experience": {
            "baton": draw(st.sampled_from([0.0, 0.5, 0.9])),
            "ping_pong": draw(st.sampled_from([0.0, 0.2])),
            "compounding": draw(st.sampled_from([1.0, 1.5])),
        },
    }


@settings(
    max_examples=6, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@pytest.mark.slow
@given(data=journeys())
def test_random_journeys_simulate_to_their_exact_expectations(data):
    scenario = parse_scenario(data, "random.yaml")
    assert_within_99(per_customer(run(scenario, seed=5)), expected(theory(scenario)))


@pytest.mark.slow
def test_the_fix_ranking_equals_recomputing_each_fix_by_hand(tiny_data):
    tiny_data["experience"] = {"compounding": 1.0}  # fewer states: a quick exact chain
    tiny_data["contacts"]["help"]["unresolved"] = {"help": 0.5, "gone": 0.5}
    tiny_data["steps"]["ship"]["next"] = "invoice"
    tiny_data["steps"]["invoice"] = {
        "silo": "support",
        "failure": 0.15,
        "on_failure": "help",
        "next": "done",
    }
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    ranking = fix_ranking(scenario, approximate=True, tolerance=1e-11)
    base = theory(scenario, approximate=True, tolerance=1e-11)
    cuts = {}
    for name, step in scenario.steps.items():
        steps = {**scenario.steps, name: step.model_copy(update={"failure": step.failure / 2})}
        changed = scenario.model_copy(update={"steps": steps})
        fixed = theory(changed, approximate=True, tolerance=1e-11)
        cuts[name] = base.churn_rate - fixed.churn_rate
    assert list(ranking.index) == sorted(cuts, key=cuts.get, reverse=True)
    for name, cut in cuts.items():
        assert ranking.loc[name, "churn_cut"] == pytest.approx(cut, abs=1e-9)
    assert len(set(cuts.values())) == 3
    together = explain(scenario, approximate=True, tolerance=1e-11)[0]  # one solve for all
    assert together.churn_rate == pytest.approx(base.churn_rate, abs=1e-9)
    assert together.severity_mean == pytest.approx(base.severity_mean, abs=1e-9)


def test_erlang_c_matches_the_textbook_case():
    p_wait, wait = erlang_c(2.0, 1.0, 3)  # a = 2 erlangs on 3 servers: C = 4/9
    assert p_wait == pytest.approx(4 / 9) and wait == pytest.approx(4 / 9)
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(3.0, 1.0, 3)


def test_erlang_a_tends_to_erlang_c_without_abandonment_and_is_poisson_when_patience_is_service():
    p_wait, wait = erlang_c(2.7, 1.0, 3)  # 90% busy
    slow = erlang_a(2.7, 1.0, 3, 1e-7)
    assert slow["p_wait"] == pytest.approx(p_wait, rel=1e-4)
    assert slow["mean_wait"] == pytest.approx(wait, rel=1e-3)
    # θ = μ: every customer leaves at rate μ whether served or waiting: M/M/∞, n ~ Poisson(a)
    same = erlang_a(2.0, 1.0, 2, 1.0)
    n = np.arange(60)
    queue = (np.maximum(n - 2, 0) * stats.poisson.pmf(n, 2.0)).sum()
    assert same["mean_queue"] == pytest.approx(queue)
    assert same["p_abandon"] == pytest.approx(queue / 2.0)
    assert same["p_wait"] == pytest.approx(stats.poisson.sf(1, 2.0))
