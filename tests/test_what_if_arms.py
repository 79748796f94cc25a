"""Interventions: applying what-ifs, their start times, pilots, staff, empowerment and cost."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spiral.analysis.results import run
from spiral.model.errors import ScenarioError
from spiral.model.loading import builtin_scenarios, load_scenario, parse_scenario
from spiral.model.what_if import WhatIf
from spiral.model.what_if_arms import (
    apply,
    intervention_cost,
    parse_arm,
    staff_changes,
    with_demand,
    with_what_ifs,
)

FIX_SHIP = {"changes": [{"change": "fix_step", "step": "ship", "to": 0.0}]}


def with_what_if(data: dict, **what_ifs: dict):
    data["what_ifs"] = what_ifs
    return parse_scenario(data, "tiny.yaml")


def test_applying_a_what_if_never_mutates_the_base_scenario(tiny_data):
    scenario = with_what_if(
        tiny_data,
        everything={
            "changes": [
                {"change": "fix_step", "step": "ship", "factor": 0.5},
                {"change": "add_staff", "silo": "ops", "count": 2},
                {"change": "recovery_training", "fcr_gain": 0.3, "recovery_effect": 0.5},
                {"change": "warm_handoffs", "baton": 0.9, "ping_pong": 0.01},
                {"change": "back_office_support", "silo": "ops", "time_factor": 0.5},
                {"change": "feedback_loop", "fix_share": 0.2},
                {"change": "empowerment", "limit": 50, "mean_cost": 20},
            ]
        },
    )
    before = scenario.model_dump()
    changed = apply(scenario, [scenario.what_ifs["everything"]])
    assert scenario.model_dump() == before
    assert changed.steps["ship"].failure == pytest.approx(0.1)  # 0.2 × 0.5
    assert changed.silos["ops"].staff == 5
    assert changed.contacts["help"].fcr == pytest.approx(0.9)
    assert changed.experience.loyalty.recovery_effect == 0.5
    assert (changed.experience.baton, changed.experience.ping_pong) == (0.9, 0.01)
    assert changed.steps["ship"].service.mean() == pytest.approx(5.0)
    assert changed.loops.learning.enabled and changed.loops.learning.fix_share == 0.2
    assert changed.contacts["help"].empowerment.limit == 50


def test_a_silo_scope_limits_changes_to_that_silo(tiny_data):
    scenario = with_what_if(
        tiny_data,
        ops_only={
            "scope": {"silos": ["ops"]},
            "changes": [
                {"change": "fix_step", "step": "order", "factor": 0.5},  # web: out of scope
                {"change": "fix_step", "step": "ship", "factor": 0.5},
                {"change": "warm_handoffs", "baton": 1.0},
            ],
        },
    )
    changed = apply(scenario, [scenario.what_ifs["ops_only"]])
    assert changed.steps["order"].failure == 0.1 and changed.steps["ship"].failure == 0.1
    assert changed.silos["ops"].baton == 1.0 and changed.silos["web"].baton is None
    assert changed.experience.baton == scenario.experience.baton


def test_a_zero_percent_pilot_gives_the_baseline_exactly(tiny_data):
    scenario = with_what_if(tiny_data, fix=FIX_SHIP)
    base = run(scenario, seed=3)
    pilot = run(scenario, seed=3, what_if="fix@0%")
    assert pilot.customers.equals(base.customers)
    assert pilot.summary["intervention_cost"] == 0.0


def test_a_full_fix_to_zero_leaves_no_failures_at_that_step(tiny_data):
    scenario = with_what_if(tiny_data, fix=FIX_SHIP)
    fixed = run(scenario, seed=3, what_if="fix", event_log=True)
    events = fixed.events
    assert not ((events["event"] == "failure") & (events["node"] == "ship")).any()
    base = run(scenario, seed=3, event_log=True).events
    assert ((base["event"] == "failure") & (base["node"] == "ship")).sum() > 50


def test_a_what_if_starts_at_its_start_time(tiny_data):
    later = {**FIX_SHIP, "start": "2 days"}
    scenario = with_what_if(tiny_data, later=later)
    events = run(scenario, seed=3, what_if="later", event_log=True).events
    ship_failures = events[(events["event"] == "failure") & (events["node"] == "ship")]
    assert len(ship_failures) > 10
    assert ship_failures["time"].max() < 2 * 1440


def test_a_pilot_reaches_its_share_of_customers_and_only_them(tiny_data):
    tiny_data["horizon"] = "20 days"
    scenario = with_what_if(tiny_data, fix=FIX_SHIP)
    result = run(scenario, seed=5, what_if="fix@30%", event_log=True)
    customers, events = result.customers, result.events
    in_pilot = customers["what_if_mask"] == 1
    n = len(customers)
    assert abs(in_pilot.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)  # binomial, 4 s.e.
    failed_at_ship = set(
        events.loc[(events["event"] == "failure") & (events["node"] == "ship"), "customer"]
    )
    pilots = set(customers.loc[in_pilot, "customer"])
    assert failed_at_ship and not failed_at_ship & pilots
    # outside the pilot the step fails as before: 20% of first visits (99% binomial CI)
    outside = customers[~in_pilot & customers["outcome"].ne("in_progress")]
    reached_ship = events[(events["event"] == "complete") & (events["node"] == "ship")]
    first = reached_ship.drop_duplicates("customer")
    first = first[first["customer"].isin(outside["customer"])]
    share = first["customer"].isin(failed_at_ship).mean()
    assert abs(share - 0.2) < 0.1


def test_added_staff_join_at_the_start_and_are_paid_from_then(tiny_data):
    tiny_data["warmup"] = "0 min"
    add = {"start": "1 day", "changes": [{"change": "add_staff", "silo": "ops", "count": 2}]}
    scenario = with_what_if(tiny_data, add=add)
    base, more = run(scenario, seed=2), run(scenario, seed=2, what_if="add")
    assert more.raw.staff_log == [(1440.0, 1, 2)]
    rate = scenario.money.cost_per_staff_hour
    horizon = 5 * 1440.0  # staff are paid while customers arrive
    expected = (3 * horizon + 2 * (horizon - 1440.0)) / 60 * rate
    assert more.silos.loc["ops", "staff_cost"] == pytest.approx(expected)
    assert base.silos.loc["ops", "staff_cost"] == pytest.approx(3 * horizon / 60 * rate)
    series = more.timeseries  # staff on duty per day: exact, from the staff-minutes
    assert series.loc[0, "staff_ops"] == 3 and series.loc[1, "staff_ops"] == 5


def test_empowerment_within_the_limit_resolves_every_open_issue_at_first_contact(tiny_data):
    rich = {"changes": [{"change": "empowerment", "limit": 1e9, "mean_cost": 25}]}
    poor = {"changes": [{"change": "empowerment", "limit": 0, "mean_cost": 25}]}
    # no bounce (a bounced, resolved customer is no case) and no compounding (else a customer
    # always put right but failing ever more at ship would loop until the drain ends)
    tiny_data["experience"] = {"ping_pong": 0.0, "compounding": 1.0}
    scenario = with_what_if(tiny_data, rich=rich, poor=poor)
    base = run(scenario, seed=4)
    empowered = run(scenario, seed=4, what_if="rich", event_log=True)
    # every contact at help is about an open issue: none stays unresolved
    assert not (empowered.events["event"] == "unresolved").any()
    assert (run(scenario, seed=4, event_log=True).events["event"] == "unresolved").any()
    spent = empowered.events.loc[empowered.events["event"] == "empowered", "detail"].astype(float)
    assert empowered.raw.empowerment_spend == pytest.approx(spent.sum(), rel=1e-3)
    # exponential costs: the mean spend per case is the mean cost (99% CI of the mean)
    assert abs(spent.mean() - 25) < 2.58 * 25 / math.sqrt(len(spent))
    poor_run = run(scenario, seed=4, what_if="poor").customers
    assert poor_run.drop(columns="what_if_mask").equals(base.customers.drop(columns="what_if_mask"))


def test_intervention_cost_is_one_off_plus_per_period_while_on(tiny_data):
    tiny_data["warmup"] = "1 day"
    what_if = WhatIf.model_validate(
        {"start": "2 days", "cost": {"one_off": 1000, "per_period": 10}, **FIX_SHIP}
    )
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    # periods of a day from day 2 to day 5: 3 × 10, plus the one-off and the spend
    assert intervention_cost([what_if], scenario, 5 * 1440.0, 7.5) == pytest.approx(1037.5)
    pilot = what_if.model_copy(
        update={"scope": what_if.scope.model_copy(update={"customers": 0.1})}
    )
    assert intervention_cost([pilot], scenario, 5 * 1440.0) == pytest.approx(1003.0)
    assert intervention_cost([what_if], scenario, 1440.0) == 0.0  # never started


def test_an_unknown_what_if_name_is_refused_with_the_known_ones(tiny_data):
    scenario = with_what_if(tiny_data, fix=FIX_SHIP)
    with pytest.raises(ScenarioError) as caught:
        parse_arm("fixx", scenario)
    assert caught.value.lines() == ["--what-if: fixx: unknown what-if (expected one of: fix)"]


@pytest.mark.parametrize(
    ("arm", "expected"),
    [
        ("fix@150%", "expected a pilot share between 0% and 100%"),
        ("fix@ten%", "expected a what-if name, 'a\\+b' or 'name@10%'"),
        ("add@10%", "staff changes reach every customer; expected no pilot share"),
    ],
)
def test_a_bad_pilot_share_is_refused(tiny_data, arm, expected):
    add = {"changes": [{"change": "add_staff", "silo": "ops", "count": 1}]}
    scenario = with_what_if(tiny_data, fix=FIX_SHIP, add=add)
    with pytest.raises(ScenarioError, match=expected):
        parse_arm(arm, scenario)


@pytest.mark.parametrize(
    ("what_if", "line"),
    [
        (
            {"scope": {"customers": 1.5}, **FIX_SHIP},
            "what_ifs.w.scope.customers: expected a probability in [0, 1], got 1.5",
        ),
        (
            {"scope": {"silos": ["nowhere"]}, **FIX_SHIP},
            "what_ifs.w.scope.silos: unknown silo 'nowhere' (expected one of: web, ops, support)",
        ),
        (
            {"changes": [{"change": "fix_step", "step": "shipp", "factor": 0.5}]},
            "what_ifs.w.changes[0].step: unknown step 'shipp' (expected one of: order, ship)",
        ),
        (
            {"changes": [{"change": "fix_step", "step": "ship"}]},
            "what_ifs.w.changes[0]: expected exactly one of factor (0 < f <= 1) or to "
            "(a probability)",
        ),
        (
            {"changes": [{"change": "add_staff", "silo": "web", "count": 1}]},
            "what_ifs.w.changes[0].silo: silo 'web' has unlimited staff; "
            "expected a silo with a staff count",
        ),
        (
            {"changes": [{"change": "move_staff", "from": "ops", "to": "support", "count": 3}]},
            "what_ifs.w.changes: leaves silo 'ops' with 0 staff; expected at least 1",
        ),
        (
            {
                "scope": {"customers": 0.5},
                "changes": [{"change": "add_staff", "silo": "ops", "count": 1}],
            },
            "what_ifs.w: expected scope.customers = 1 for staff and demand changes",
        ),
    ],
)
def test_a_bad_what_if_in_a_file_is_one_line_at_its_field(tiny_data, what_if, line):
    tiny_data["what_ifs"] = {"w": what_if}
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tiny_data, "tiny.yaml")
    assert any(text.startswith(f"tiny.yaml: {line}") for text in caught.value.lines()), (
        caught.value.lines()
    )


def test_command_line_what_ifs_cannot_reuse_a_name(tiny_data):
    scenario = with_what_if(tiny_data, fix=FIX_SHIP)
    with pytest.raises(ScenarioError, match="already defined in the scenario"):
        with_what_ifs(scenario, {"fix": scenario.what_ifs["fix"]})


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_scenario_ships_at_least_two_what_ifs_that_change_it(name):
    scenario = load_scenario(name)
    assert len(scenario.what_ifs) >= 2
    for key, what_if in scenario.what_ifs.items():
        assert what_if.description, key
        # a change to the journey, to the staff, or to the world the arm runs in
        changed = (
            apply(scenario, [what_if]).model_dump() != scenario.model_dump()
            or with_demand(scenario, [what_if]).model_dump() != scenario.model_dump()
            or bool(staff_changes(what_if, scenario))
            or any(change.change == "extra_shift" for change in what_if.changes)
        )
        assert changed, key


def test_warm_handoffs_only_change_the_handoff_draws_outcome(tiny_data):
    tiny_data["silos"]["support"]["baton"] = 1.0
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    customers = run(scenario, seed=1).customers
    # every handoff out of support is warm; web→ops handoffs stay at the default 0.3
    assert customers["handoffs_warm"].sum() > 0
    warm_share = customers["handoffs_warm"].sum() / (
        customers["handoffs_warm"].sum() + customers["handoffs_cold"].sum()
    )
    assert 0.3 < warm_share < 1.0
    assert np.isfinite(warm_share)


@pytest.mark.parametrize(
    ("arm", "expected"),
    [
        ("fix@1.2.3%", "expected a what-if name, 'a\\+b' or 'name@10%'"),
        ("fix@.%", "expected a what-if name, 'a\\+b' or 'name@10%'"),
        ("fix+fix", "a what-if named twice; expected each once"),
    ],
)
def test_malformed_arms_are_refused_with_a_line(tiny_data, arm, expected):
    scenario = with_what_if(tiny_data, fix=FIX_SHIP)
    with pytest.raises(ScenarioError, match=expected):
        parse_arm(arm, scenario)


def test_arm_labels_are_canonical(tiny_data):
    scenario = with_what_if(tiny_data, fix=FIX_SHIP, other=FIX_SHIP)
    assert parse_arm(" fix + other@10% ", scenario).label == "fix+other@10%"


@pytest.mark.parametrize("name", ["baseline", "a b", "x@y"])
def test_a_what_if_name_must_be_a_plain_word_other_than_baseline(tiny_data, name):
    tiny_data["what_ifs"] = {name: FIX_SHIP}
    with pytest.raises(ScenarioError, match="other than 'baseline'"):
        parse_scenario(tiny_data, "tiny.yaml")


def test_money_must_be_finite(tiny_data):
    tiny_data["what_ifs"] = {"w": {**FIX_SHIP, "cost": {"one_off": float("inf")}}}
    with pytest.raises(ScenarioError, match="what_ifs.w.cost.one_off: input should be a finite"):
        parse_scenario(tiny_data, "tiny.yaml")


def test_global_warm_handoffs_also_replace_a_silos_own_baton(tiny_data):
    tiny_data["silos"]["web"]["baton"] = 0.1
    scenario = with_what_if(
        tiny_data, warm={"changes": [{"change": "warm_handoffs", "baton": 0.9}]}
    )
    changed = apply(scenario, [scenario.what_ifs["warm"]])
    assert changed.silos["web"].baton == 0.9 and changed.experience.baton == 0.9
    assert changed.silos["ops"].baton is None


def test_a_pilot_fix_to_zero_keeps_everyone_elses_luck(tiny_data):
    """The step's failure draw is taken even where p is 0, so streams stay aligned."""
    tiny_data["horizon"] = "10 days"
    zero = {"changes": [{"change": "fix_step", "step": "order", "to": 0.0}]}
    tiny = {"changes": [{"change": "fix_step", "step": "order", "to": 1e-15}]}
    # the same name: pilot membership has a stream per what-if name
    a = run(with_what_if(dict(tiny_data), fix=zero), seed=6, what_if="fix@50%").customers
    b = run(with_what_if(dict(tiny_data), fix=tiny), seed=6, what_if="fix@50%").customers
    pd.testing.assert_frame_equal(a, b)
