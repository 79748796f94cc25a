"""Customer segments: shares, value, tolerance and voice, in every engine and in what-ifs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from examples import run_on

from spiral.analysis.results import run
from spiral.engines.analytic import theory
from spiral.engines.segments import segment_of, segment_views
from spiral.model.errors import ScenarioError
from spiral.model.loading import load_scenario, parse_scenario, scenario_hash, with_length

SCENARIO = Path(__file__).parent / "scenarios" / "segments.yaml"
Z = 3.29  # 99.9% two-sided: several checks per test, each must hold with fixed seeds

# By hand (tests/scenarios/segments.yaml): deliver fails 0.2; a failed customer has severity
# 1; churn at severity s is 0.9 - 0.85·exp(-s / scale), × 0.85 when recovered (complained:
# the helpline always resolves); never failed: 0.05.
SHARE = {"everyday": 0.7, "premium": 0.3}
VALUE = {"everyday": 100.0, "premium": 1000.0}
VOICE = {"everyday": 0.3, "premium": 0.6}
SCALE = {"everyday": 4.0, "premium": 0.8}


def churn_of(segment: str, failure: float = 0.2) -> float:
    """Return P(churn) of a customer of ``segment`` when delivery fails with ``failure``."""
    c = 0.9 - 0.85 * math.exp(-1 / SCALE[segment])
    voiced = VOICE[segment]
    return (1 - failure) * 0.05 + failure * ((1 - voiced) * c + voiced * 0.85 * c)


CHURN = sum(SHARE[k] * churn_of(k) for k in SHARE)
AT_RISK = sum(SHARE[k] * VALUE[k] * churn_of(k) for k in SHARE)  # per customer
SOCIAL = SHARE["premium"] * 0.2 * 0.25  # premium failures cross the 0.8 threshold at birth


def within(value: float, expected: float, n: int) -> bool:
    """Return whether a sample share lies within Z binomial standard errors of ``expected``."""
    return abs(value - expected) <= Z * math.sqrt(expected * (1 - expected) / n)


def test_a_segment_is_drawn_by_cumulative_share():
    import numpy as np

    u = np.array([0.0, 0.69, 0.7, 0.99])
    assert segment_of(u, [0.7, 0.3]).tolist() == [0, 0, 1, 1]
    assert segment_of(0.5, [0.7, 0.3]) == 0


def test_each_segment_lives_the_scenario_with_its_own_voice_tolerance_and_value():
    views = {view.name: view for view in segment_views(load_scenario(SCENARIO))}
    premium = views["premium"].scenario
    assert premium.steps["deliver"].complaint_probability() == pytest.approx(0.6)
    assert premium.experience.escalation.social.threshold == pytest.approx(0.8)
    assert premium.experience.loyalty.severity_scale == pytest.approx(0.8)
    assert premium.money.revenue_per_retained == 1000
    assert views["everyday"].scenario.steps["deliver"].complaint_probability() == 0.3


def test_the_analytic_engine_mixes_one_chain_per_segment_exactly():
    exact = theory(load_scenario(SCENARIO), tolerance=1e-12)
    assert exact.churn_rate == pytest.approx(CHURN, rel=1e-9)
    assert exact.social == pytest.approx(SOCIAL, rel=1e-9)
    silent = 0.2 * sum(SHARE[k] * (1 - VOICE[k]) for k in SHARE)
    assert exact.silent == pytest.approx(silent, rel=1e-9)
    assert sum(exact.failures_distribution.values()) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("engine", ["des", "vectorised"])
def test_churn_escalation_and_revenue_at_risk_are_reported_by_segment(engine):
    result = run_on(SCENARIO, engine)
    table, summary = result.by_segment, result.summary
    n = summary["completed"]
    assert list(table.index) == ["everyday", "premium"]
    for name in SHARE:
        row = table.loc[name]
        assert within(row["share"], SHARE[name], n)
        assert within(row["churn_rate"], churn_of(name), int(row["customers"]))
        value = (result.customers["segment"] == list(SHARE).index(name)) & (
            result.customers["outcome"] == "churned"
        )
        assert row["revenue_at_risk"] == pytest.approx(VALUE[name] * value.sum())
    assert table.loc["everyday", "social"] == 0  # severity 1 is below 4: no post
    assert within(summary["escalations_social"] / n, SOCIAL, n)
    assert summary["revenue_at_risk"] == pytest.approx(table["revenue_at_risk"].sum())
    # revenue at risk per customer: premium customers are 30% of arrivals, most of the loss
    sd = math.sqrt(sum(SHARE[k] * VALUE[k] ** 2 * churn_of(k) for k in SHARE) - AT_RISK**2)
    assert abs(summary["revenue_at_risk"] / n - AT_RISK) <= Z * sd / math.sqrt(n)
    assert table.loc["premium", "revenue_at_risk"] > 5 * table.loc["everyday", "revenue_at_risk"]
    assert summary["segments"]["premium"]["churned"] == table.loc["premium", "churned"]


def test_a_what_if_for_one_segment_leaves_the_others_untouched():
    scenario = with_length(load_scenario(SCENARIO), customers=20_000)
    before = run(scenario)
    after = run(scenario, what_if="premium_delivery")
    everyday = before.customers["segment"] == 0
    # the same customers, the same failure draws: everyday deliveries fail exactly as before
    assert after.customers["segment"].equals(before.customers["segment"])
    assert after.customers.loc[everyday, "failures"].equals(
        before.customers.loc[everyday, "failures"]
    )
    assert (
        after.customers.loc[~everyday, "failures"].sum()
        < 0.6 * before.customers.loc[~everyday, "failures"].sum()
    )
    for result, failure in ((before, 0.2), (after, 0.1)):
        table = result.by_segment
        for name, p in (("everyday", 0.2), ("premium", failure)):
            row = table.loc[name]
            assert within(row["churn_rate"], churn_of(name, p), int(row["customers"]))
    assert (
        after.by_segment.loc["premium", "churn_rate"]
        < before.by_segment.loc["premium", "churn_rate"]
    )


def test_segments_that_do_not_add_up_are_refused_at_their_field(tiny_data):
    tiny_data["segments"] = {"a": {"share": 0.5}, "b": {"share": 0.4}}
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "tiny.yaml")
    assert caught.value.lines() == [
        "tiny.yaml: segments: expected segment shares summing to 1, got 0.9"
    ]


def test_a_what_if_for_an_unknown_segment_names_the_ones_there_are(tiny_data):
    tiny_data["segments"] = {"a": {"share": 0.5}, "b": {"share": 0.5}}
    tiny_data["what_ifs"] = {
        "w": {"scope": {"segments": ["c"]}, "changes": [{"change": "warm_handoffs", "baton": 1}]}
    }
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "tiny.yaml")
    assert any(
        "what_ifs.w.scope.segments: unknown segment 'c' (expected one of: a, b)" in line
        for line in caught.value.lines()
    )


def test_a_single_segment_of_everyone_changes_nothing_but_the_hash(tiny_data):
    plain = parse_scenario(tiny_data, "tiny.yaml")
    tiny_data["segments"] = {"everyone": {"share": 1.0}}
    one = parse_scenario(tiny_data, "tiny.yaml")
    # the same chain, solved the same way: the same number to the last digit
    assert theory(one, approximate=True, tolerance=1e-6).churn_rate == pytest.approx(
        theory(plain, approximate=True, tolerance=1e-6).churn_rate, rel=1e-12
    )
    assert scenario_hash(one) != scenario_hash(plain)


def test_a_what_if_for_one_segment_pays_its_share_of_the_running_cost():
    from spiral.model.what_if_arms import intervention_cost

    scenario = load_scenario(SCENARIO)
    what_if = scenario.what_ifs["premium_delivery"]
    what_if = what_if.model_copy(update={"cost": what_if.cost.model_validate({"per_period": 10})})
    # 20 days of arrivals, premium is 30% of customers: 20 × 10 × 0.3
    assert intervention_cost([what_if], scenario, 20 * 1440.0) == pytest.approx(60.0)


def test_a_customers_story_names_their_segment():
    from spiral.views.trace import story

    scenario = with_length(load_scenario(SCENARIO), customers=50)
    result = run(scenario, event_log=True)
    segments = result.customers.set_index("customer")["segment"]
    for customer in (0, 1, 2):
        name = list(SHARE)[segments.loc[customer]]
        assert f"(seed 11, segment {name}): " in story(result, customer)[0]


def test_a_comparison_reports_each_segments_churn_and_revenue_at_risk():
    from spiral.analysis.compare import compare

    scenario = with_length(load_scenario(SCENARIO), customers=10_000)
    table = compare(scenario, ["premium_delivery"], replications=3).table
    row = table.set_index(["metric", "arm"])
    premium = row.loc[("churn_rate[premium]", "premium_delivery")]
    expected = churn_of("premium", 0.1) - churn_of("premium")
    assert premium["significant"] and premium["diff_low"] < expected < premium["diff_high"]
    assert ("revenue_at_risk[everyday]", "baseline") in row.index
    # everyday deliveries fail exactly as before: their churn moves only by luck
    everyday = row.loc[("churn_rate[everyday]", "premium_delivery")]
    assert not everyday["significant"]
