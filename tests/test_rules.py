"""The customer rules, exactly: hand-computed values, scalars and arrays alike, the edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spiral.engines import rules
from spiral.model.experience import Loyalty


def test_failure_odds_are_multiplied_by_compounding_per_failure_suffered():
    """P = 0.2 (odds 1/4), compounding 2, two failures: odds 1, p = 1/2."""
    assert rules.failure_probability(0.2, 2, 2.0) == pytest.approx(0.5)
    assert rules.failure_probability(0.2, 0, 2.0) == 0.2  # nobody who has not failed
    assert rules.failure_probability(0.2, 5, 1.0) == 0.2  # compounding 1: none
    assert rules.failure_probability(0.0, 5, 2.0) == 0.0  # a step that never fails
    assert rules.failure_probability(1.0, 5, 2.0) == 1.0  # or always does


def test_failure_odds_saturate_without_overflow():
    """10,000 failures at compounding 1.5: the odds stop at e^600, p is 1 to the last digit."""
    assert rules.failure_probability(0.1, 10_000, 1.5) == 1.0
    many = rules.failure_probability(np.full(3, 0.1), np.array([0, 10_000, 1]), 1.5)
    assert many.tolist() == [0.1, 1.0, pytest.approx(0.1 / 0.9 * 1.5 / (1 + 0.1 / 0.9 * 1.5))]
    assert rules.power_cap(1.5) == int(600 / math.log(1.5))
    assert rules.power_cap(1.0) == 1 << 30


def test_scalar_and_array_give_the_same_failure_probabilities():
    p = np.array([0.0, 0.05, 0.3, 0.9, 1.0])
    k = np.array([3, 1, 2, 4, 0])
    as_array = rules.failure_probability(p, k, 1.7)
    one_by_one = [
        rules.failure_probability(float(a), int(b), 1.7) for a, b in zip(p, k, strict=True)
    ]
    assert as_array.tolist() == one_by_one
    # many probabilities, one count (the analytic engine's variants)
    assert rules.failure_probability(p, 2, 1.7).tolist() == [
        rules.failure_probability(float(a), 2, 1.7) for a in p
    ]


def test_severity_is_born_at_one_then_multiplied_and_capped():
    assert rules.after_failure(0.0, 2.0, 1000.0) == 1.0
    assert rules.after_failure(3.0, 2.0, 1000.0) == 6.0
    assert rules.after_failure(800.0, 2.0, 1000.0) == 1000.0
    assert rules.worsened(4.0, 1.25, 1000.0) == 5.0
    assert rules.worsened(0.0, 1.25, 1000.0) == 0.0  # no complaint yet: nothing to worsen
    assert rules.worsened(999.0, 1.25, 1000.0) == 1000.0
    s = np.array([0.0, 4.0, 999.0])
    assert rules.worsened(s, 1.25, 1000.0).tolist() == [0.0, 5.0, 1000.0]
    assert rules.after_failure(s, 2.0, 1000.0).tolist() == [1.0, 8.0, 1000.0]


def test_k_failures_alone_give_amplification_to_k_minus_one():
    assert rules.amplified(1, 2.0) == 1.0
    assert rules.amplified(4, 2.0) == 8.0
    assert rules.amplified(np.array([1, 2, 5]), 3.0).tolist() == [1.0, 3.0, 81.0]
    assert math.isfinite(rules.amplified(10**6, 2.0))  # capped exponent: no overflow


def test_escalation_is_due_at_the_threshold_once():
    assert rules.escalation_due(4.0, False, 4.0)
    assert not rules.escalation_due(3.99, False, 4.0)
    assert not rules.escalation_due(9.0, True, 4.0)  # already escalated
    due = rules.escalation_due(np.array([4.0, 3.0, 9.0]), np.array([False, False, True]), 4.0)
    assert due.tolist() == [True, False, False]


def test_loyalty_follows_the_curve_the_recovery_effect_and_the_advocacy_cap():
    loyalty = Loyalty(
        base_churn=0.1, max_churn=0.9, severity_scale=4.0, recovery_effect=0.5, base_advocacy=0.2
    )
    assert rules.loyalty_odds(0.0, False, loyalty) == (0.1, 0.2)
    churn, advocacy = rules.loyalty_odds(4.0, False, loyalty)
    assert churn == pytest.approx(0.9 - 0.8 * math.exp(-1))
    assert advocacy == pytest.approx(0.2 * math.exp(-4.0))
    recovered, _ = rules.loyalty_odds(4.0, True, loyalty)
    assert recovered == pytest.approx(churn * 0.5)
    high = Loyalty(base_churn=0.6, max_churn=0.9, base_advocacy=0.8)
    assert rules.loyalty_odds(0.0, False, high) == (0.6, pytest.approx(0.4))  # at most 1 - churn
    s = np.array([0.0, 4.0, 4.0])
    once = np.array([False, False, True])
    churns, advocacies = rules.loyalty_odds(s, once, loyalty)
    pairs = [rules.loyalty_odds(float(a), bool(b), loyalty) for a, b in zip(s, once, strict=True)]
    assert churns.tolist() == pytest.approx([c for c, _ in pairs])
    assert advocacies.tolist() == pytest.approx([a for _, a in pairs])


def test_a_handoff_is_warm_below_the_baton_and_misrouted_among_the_cold():
    assert rules.handoff(0.2, 0.01, 0.3, 0.15) == (True, False)  # warm: never misrouted
    assert rules.handoff(0.5, 0.1, 0.3, 0.15) == (False, True)
    assert rules.handoff(0.5, 0.2, 0.3, 0.15) == (False, False)
    warm, misrouted = rules.handoff(
        np.array([0.2, 0.5, 0.5]), np.array([0.01, 0.1, 0.2]), 0.3, 0.15
    )
    assert warm.tolist() == [True, False, False] and misrouted.tolist() == [False, True, False]


def test_one_draw_split_gives_a_uniform_for_misrouting_among_the_cold():
    """Given u >= baton, (u - baton) / (1 - baton) is uniform: the shares come out right."""
    u = np.random.default_rng(7).random(200_000)
    warm, misrouted = rules.handoff(u, rules.split_draw(u, 0.3), 0.3, 0.15)
    share = misrouted.mean()
    half_width = 3.29 * math.sqrt(0.7 * 0.15 * (1 - 0.7 * 0.15) / len(u))  # 99.9%
    assert abs(share - 0.7 * 0.15) < half_width
    assert rules.split_draw(np.array([0.5]), 1.0).tolist() == [1.0]  # baton 1: never misrouted


def test_empowerment_cost_is_exponential_and_resolution_adds_the_empowered():
    assert rules.empowerment_cost(0.0, 50.0) == 0.0
    assert rules.empowerment_cost(1 - math.exp(-1), 50.0) == pytest.approx(50.0)
    costs = rules.empowerment_cost(np.random.default_rng(3).random(100_000), 50.0)
    assert costs.mean() == pytest.approx(50.0, rel=0.02)  # 99% interval ≈ ±0.8%
    assert rules.empowered_probability(50.0, 50.0) == pytest.approx(1 - math.exp(-1))
    assert rules.resolution_probability(0.6, None) == 0.6
    assert rules.resolution_probability(0.6, (50.0, 50.0)) == pytest.approx(
        0.6 + 0.4 * (1 - math.exp(-1))
    )


def test_effort_counts_contacts_cold_handoffs_misroutings_and_abandons():
    assert rules.effort(2, 1, 1, 3) == 7
    assert rules.effort(np.array([0, 2]), np.array([1, 0]), 0, 1).tolist() == [2, 3]


def test_thinning_keeps_a_candidate_with_probability_multiplier_over_peak():
    assert rules.accepted_arrival(0.49, 2.0, 1.0)
    assert not rules.accepted_arrival(0.5, 2.0, 1.0)
    kept = rules.accepted_arrival(np.random.default_rng(5).random(100_000), 4.0, 1.0)
    assert kept.mean() == pytest.approx(0.25, abs=3.29 * math.sqrt(0.25 * 0.75 / 100_000))


def test_handoffs_worsen_severity_never_when_warm_once_cold_twice_misrouted():
    assert [rules.cold_events(w, m) for w, m in [(True, False), (False, False), (False, True)]] == [
        0,
        1,
        2,
    ]
    both = rules.cold_events(np.array([True, False, False]), np.array([False, False, True]))
    assert both.tolist() == [0, 1, 2]
    assert rules.handoff_shares(0.3, 0.15) == (0.3, 0.7, 0.15)


def test_severity_after_failures_and_bad_events_is_the_product_capped():
    """Two failures (×2), one cold handoff (×1.25), two repeats (×1.15²): 2 · 1.25 · 1.3225."""
    value = rules.severity_of(2, 1, 2, 2.0, 1.25, 1.15, 1000.0)
    assert value == pytest.approx(2 * 1.25 * 1.15**2)
    grid = rules.severity_of(3, np.arange(3)[:, None], np.arange(2)[None, :], 2.0, 10.0, 1.0, 100)
    assert grid.tolist() == [[4.0, 4.0], [40.0, 40.0], [100.0, 100.0]]  # 400 capped at 100


def test_empowerment_and_the_recovery_case_and_reach():
    assert rules.empowered(49.9, 50.0) and rules.empowered(50.0, 50.0)
    assert not rules.empowered(50.1, 50.0)
    assert rules.empowered(np.array([10.0, 60.0]), 50.0).tolist() == [True, False]
    assert rules.recovered_once(True, 1) and not rules.recovered_once(True, 2)
    assert not rules.recovered_once(False, 1)
    once = rules.recovered_once(np.array([True, True, False]), np.array([1, 2, 1]))
    assert once.tolist() == [True, False, False]
    mu, sigma = rules.reach_lognormal(150.0, 1.5)
    assert mu == pytest.approx(math.log(150.0)) and sigma == 1.5
    assert rules.reach_lognormal(0.0, 1.0)[0] == pytest.approx(math.log(1e-12))  # no log(0)
    assert rules.mean_reach(150.0, 1.5) == pytest.approx(150.0 * math.exp(1.125))


def test_neutral_loyalty_gives_no_churn_and_no_advocacy_whatever_happened():
    """The vectorised engine retains everyone without the odds when loyalty is neutral."""
    rng = np.random.default_rng(5)
    severity = np.concatenate([np.zeros(50), rng.uniform(0.5, 40.0, 950)])
    once = rng.random(1000) < 0.3
    speed = rng.random(1000)
    neutral = Loyalty(base_churn=0.0, max_churn=0.0, base_advocacy=0.0, recovery_effect=0.4)
    assert rules.loyalty_neutral(neutral)
    churn, advocacy = rules.loyalty_odds(severity, once, neutral, speed)
    assert not churn.any() and not advocacy.any()
    for changed in ({"max_churn": 0.1}, {"base_advocacy": 0.2}, {"base_churn": 0.05}):
        live = neutral.model_copy(update={**changed, "max_churn": 0.1})
        assert not rules.loyalty_neutral(live)
        churn, advocacy = rules.loyalty_odds(severity, once, live, speed)
        assert churn.any() or advocacy.any()
