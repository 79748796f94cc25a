"""spiral.analysis.explanation: the journey solved, its steps ranked, its step fixes priced."""

from __future__ import annotations

import pytest

from spiral.analysis.explanation import explain, step_fixes
from spiral.engines.analytic import theory
from spiral.model.loading import parse_scenario
from spiral.model.what_if_arms import apply


def _with_what_ifs(data: dict) -> dict:
    data["experience"] = {"compounding": 1.0}  # fewer states: a quick exact chain
    data["warmup"] = "1 day"
    data["money"] = {"revenue_per_retained": 90.0}
    data["what_ifs"] = {
        "fix_ship": {
            "start": "2 days",
            "cost": {"one_off": 1000, "per_period": 10},
            "scope": {"customers": 0.2},  # a pilot: priced at full roll-out
            "changes": [{"change": "fix_step", "step": "ship", "factor": 0.5}],
        },
        "fix_both": {
            "changes": [
                {"change": "fix_step", "step": "ship", "to": 0.05},
                {"change": "fix_step", "step": "order", "factor": 0.1},
            ],
        },
        "warm": {"changes": [{"change": "warm_handoffs", "baton": 0.9}]},
    }
    return data


def test_step_fixes_are_solved_and_the_other_what_ifs_are_left_to_compare_with_the_reason(
    tiny_data,
):
    scenario = parse_scenario(_with_what_ifs(tiny_data), "tiny.yaml")
    fixes, unsolved = step_fixes(scenario)
    assert {name: changed for name, (_, changed) in fixes.items()} == {
        "fix_ship": {"ship": pytest.approx(0.1)},
        "fix_both": {"ship": pytest.approx(0.05), "order": pytest.approx(0.01)},
    }
    assert fixes["fix_ship"][0].scope.customers == 1.0  # the full roll-out
    assert unsolved == {"warm": "changes more than a step's failure (warm_handoffs)"}


def test_a_step_fix_is_priced_from_its_own_exact_journey_over_the_customers_it_reaches(
    tiny_data,
):
    scenario = parse_scenario(_with_what_ifs(tiny_data), "tiny.yaml")
    explained = explain(scenario, unlimited=True, tolerance=1e-10)
    values = explained.what_ifs
    assert set(values.index) == {"fix_ship", "fix_both"}
    assert list(values["net_value"]) == sorted(values["net_value"], reverse=True)
    base = theory(scenario, approximate=True, tolerance=1e-10)
    full = scenario.what_ifs["fix_ship"].model_copy(
        update={"scope": scenario.what_ifs["fix_ship"].scope.model_copy(update={"customers": 1})}
    )
    fixed = theory(apply(scenario, [full]), approximate=True, tolerance=1e-10)
    row = values.loc["fix_ship"]
    assert row["churn_cut"] == pytest.approx(base.churn_rate - fixed.churn_rate, abs=1e-8)
    assert row["contacts_cut"] == pytest.approx(base.contacts - fixed.contacts, abs=1e-8)
    # by hand: 200 a day from day 2 (after the 1-day warm-up) to day 5, 90 each kept
    assert row["customers"] == pytest.approx(600)
    assert row["revenue_kept"] == pytest.approx(row["churn_cut"] * 90 * 600)
    assert row["cost"] == pytest.approx(1000 + 10 * 3)  # period: 1 day, on for 3 days, all
    assert row["roi"] == pytest.approx((row["revenue_kept"] - 1030) / 1030)
    free = values.loc["fix_both"]
    assert free["cost"] == 0 and free["roi"] != free["roi"]  # no cost: no ROI (NaN)
    assert free["customers"] == pytest.approx(800)


def test_a_step_fix_for_some_segments_is_left_to_compare(tiny_data):
    data = _with_what_ifs(tiny_data)
    data["segments"] = {"a": {"share": 0.5}, "b": {"share": 0.5}}
    data["what_ifs"]["fix_ship"]["scope"] = {"segments": ["a"]}
    _, unsolved = step_fixes(parse_scenario(data, "tiny.yaml"))
    assert unsolved["fix_ship"] == "reaches only some segments"
