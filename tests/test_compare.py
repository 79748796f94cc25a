"""Comparisons: significance, common random numbers, auto replications, the tidy table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spiral.analysis.compare import KEY_METRICS, compare, t_half_width, welch_half_width
from spiral.model.loading import load_scenario, parse_scenario, with_length


@pytest.fixture(scope="module")
def retail():
    """online_retail over 12 days of arrivals (3 days warm-up), for speed."""
    return with_length(load_scenario("online_retail"), horizon=12 * 1440.0)


@pytest.fixture(scope="module")
def retail_comparison(retail):
    return compare(retail, ["fix_delivery", "warm_handoffs"], replications=6, seed=11)


def row(comparison, arm, metric):
    table = comparison.table
    return table[(table["arm"] == arm) & (table["metric"] == metric)].iloc[0]


@pytest.mark.slow
def test_fixing_the_step_where_most_failures_are_born_lowers_complaints_significantly(
    retail, retail_comparison
):
    from spiral.analysis.results import run

    born = run(retail, seed=11).by_failure_step["customers"]
    assert born.idxmax() == "deliver"  # the fix_delivery what-if targets it
    complaints = row(retail_comparison, "fix_delivery", "complaints")
    assert complaints["significant"] and complaints["diff_high"] < 0


@pytest.mark.slow
def test_warm_handoffs_lower_cold_handoffs_and_severity(retail_comparison):
    for metric in ("handoffs_cold", "severity_mean", "severity_p95"):
        found = row(retail_comparison, "warm_handoffs", metric)
        assert found["significant"] and found["diff_high"] < 0, metric


@pytest.mark.slow
def test_the_table_is_tidy_with_every_arm_and_metric(retail_comparison):
    table = retail_comparison.table
    assert set(table["arm"]) == {"baseline", "fix_delivery", "warm_handoffs"}
    assert set(KEY_METRICS) <= set(table["metric"])
    assert not table.duplicated(["arm", "metric"]).any()
    assert (table["replications"] == 6).all()
    base = table[table["arm"] == "baseline"]
    assert base["diff"].isna().all() and not base["significant"].any()


@pytest.mark.slow
def test_intervals_are_student_t_intervals_of_the_replications(retail_comparison):
    runs = retail_comparison.runs
    base = runs[runs["arm"] == "baseline"].sort_values("replication")["complaints"].to_numpy()
    fix = runs[runs["arm"] == "fix_delivery"].sort_values("replication")["complaints"].to_numpy()
    low, high = stats.t.interval(0.95, len(base) - 1, loc=base.mean(), scale=stats.sem(base))
    found = row(retail_comparison, "baseline", "complaints")
    assert (found["ci_low"], found["ci_high"]) == pytest.approx((low, high))
    d = fix - base
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    found = row(retail_comparison, "fix_delivery", "complaints")
    assert (found["diff_low"], found["diff_high"]) == pytest.approx((low, high))


@pytest.mark.slow
def test_roi_is_net_value_gained_over_the_what_ifs_cost(retail_comparison):
    runs = retail_comparison.runs.set_index(["arm", "replication"])
    for r in range(6):
        fix, base = runs.loc[("fix_delivery", r)], runs.loc[("baseline", r)]
        expected = (fix["net_value"] - base["net_value"]) / fix["intervention_cost"]
        assert fix["roi"] == pytest.approx(expected)
    assert runs.loc["baseline", "roi"].isna().all()


@pytest.mark.slow
def test_common_random_numbers_narrow_the_paired_interval(retail):
    paired = compare(retail, ["fix_delivery"], replications=10, seed=3)
    independent = compare(retail, ["fix_delivery"], replications=10, seed=3, crn=False)
    assert paired.runs.groupby("replication")["seed"].nunique().eq(1).all()
    assert independent.runs.groupby("replication")["seed"].nunique().eq(2).all()
    # measured at 10 replications: complaints 0.5, revenue 0.2, cold handoffs 0.15 of the
    # independent width; the bounds leave room for the spread of a ratio of two variances
    for metric, bound in (("complaints", 0.8), ("revenue", 0.5), ("handoffs_cold", 0.5)):
        crn = row(paired, "fix_delivery", metric)
        ind = row(independent, "fix_delivery", metric)
        crn_width = crn["diff_high"] - crn["diff_low"]
        ind_width = ind["diff_high"] - ind["diff_low"]
        assert crn_width < bound * ind_width, (metric, crn_width, ind_width)


@pytest.mark.slow
def test_auto_replications_stop_when_every_key_metric_is_within_the_target(retail):
    found = compare(retail, ["fix_delivery"], replications="auto", seed=2, target=0.1)
    assert found.replications >= 5
    assert any("replications:" in note and "within 10%" in note for note in found.notes)
    table = found.table
    for metric in KEY_METRICS:
        if metric == "roi":
            continue
        for _, r in table[table["metric"] == metric].iterrows():
            if r["half_width"] > 0:
                assert r["half_width"] <= 0.1 * abs(r["mean"]) + 1e-9, (metric, r["arm"])


@pytest.mark.slow
def test_auto_replications_stop_at_the_maximum_and_say_so(retail):
    found = compare(
        retail, ["fix_delivery"], replications="auto", seed=2, target=0.0001, max_replications=6
    )
    assert found.replications == 6
    assert any("stopped at the maximum 6" in note for note in found.notes)


@pytest.mark.slow
def test_auto_replications_detect_the_warmup_when_the_scenario_sets_none(retail):
    cold = retail.model_copy(update={"warmup": 0.0})
    found = compare(cold, ["fix_delivery"], replications="auto", seed=2, target=0.2)
    assert found.warmup > 0
    assert any("MSER-5" in note for note in found.notes)


@pytest.mark.slow
def test_a_pilot_has_a_smaller_effect_than_the_full_rollout_and_takes_longer(retail):
    found = compare(retail, ["fix_delivery", "fix_delivery@10%"], replications=5, seed=4)
    full = row(found, "fix_delivery", "complaints")["diff"]
    pilot = row(found, "fix_delivery@10%", "complaints")["diff"]
    assert full < pilot < 0
    # the pilot's effect is about 10% of the full one (customers are reached at random)
    assert 0.02 < pilot / full < 0.25
    effects = found.effects.set_index("arm")
    assert effects.loc["fix_delivery", "days_to_half_full_effect"] < 12
    assert math.isnan(effects.loc["fix_delivery@10%", "days_to_half_full_effect"])


def test_half_widths_match_scipy():
    values = np.array([3.0, 5.0, 4.0, 6.0, 2.0])
    low, high = stats.t.interval(0.95, 4, loc=values.mean(), scale=stats.sem(values))
    assert t_half_width(values) == pytest.approx((high - low) / 2)
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 9.0, 1.0])
    result = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert welch_half_width(a, b) == pytest.approx((result.high - result.low) / 2)


def test_bad_replications_and_duplicate_arms_are_refused(retail):
    with pytest.raises(ValueError, match="replications must be 'auto' or an integer >= 2"):
        compare(retail, ["fix_delivery"], replications=1)
    with pytest.raises(ValueError, match="each what-if once"):
        compare(retail, ["fix_delivery", "fix_delivery"], replications=2)


@pytest.mark.slow
def test_parallel_replications_give_the_same_numbers(retail):
    one = compare(retail, ["warm_handoffs"], replications=2, seed=8)
    two = compare(retail, ["warm_handoffs"], replications=2, seed=8, jobs=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.runs, two.runs)


def test_a_demand_change_starts_to_act_on_its_own_date(tiny_data):
    tiny_data["what_ifs"] = {
        "rush": {
            "changes": [{"change": "demand", "factor": 1.5, "from": "2 days", "to": "4 days"}]
        },
        "more_staff": {
            "start": "1 day",
            "changes": [{"change": "add_staff", "silo": "ops", "count": 1}],
        },
    }
    scenario = parse_scenario(tiny_data, "tiny.yaml")
    found = compare(scenario, ["rush", "more_staff"], replications=2, seed=3)
    starts = found.effects.set_index("arm")["start_day"]
    assert starts["rush"] == 2.0  # the demand change's from, not the what-if's start (0)
    assert starts["more_staff"] == 1.0
