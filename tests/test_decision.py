"""What a comparison decides: regimes, the ranking by net value, and one sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spiral.analysis.compare import MORE_METRICS, Comparison, _table, _with_roi
from spiral.analysis.decision import (
    arm_regimes,
    money,
    ranking,
    recommendation,
    regime_warnings,
)
from spiral.model.what_if_arms import BASELINE, Arm

NET = {  # net value per replication; the baseline's is 1,000 in every replication
    BASELINE: [1000, 1000, 1000],
    "a": [1100, 1110, 1120],  # +110 ± 24.8: fund first
    "b": [1050, 1060, 1040],  # +50 ± 24.8: next, and below a (paired: 60 ± 43.0)
    "c": [995, 1005, 1000],  # 0 ± 12.4: not distinguishable
}


def comparison(regimes: dict[str, list[str]] | None = None, net: dict | None = None) -> Comparison:
    rows = []
    for arm, values in (net or NET).items():
        for r, value in enumerate(values):
            row = {"arm": arm, "replication": r, "seed": r, "net_value": float(value)}
            for metric in ("churn_rate", "complaints", "escalations", "severity_p95", "cost"):
                row[metric] = 0.0
            row["revenue"] = float(value)
            row.update(dict.fromkeys(MORE_METRICS, 0.0))
            row["intervention_cost"] = 0.0 if arm == BASELINE else 10.0
            row["regime"] = (regimes or {}).get(arm, ["stable"] * 3)[r]
            rows.append(row)
    runs = _with_roi(pd.DataFrame(rows))
    arms = [Arm(BASELINE)] + [Arm(a) for a in (net or NET) if a != BASELINE]
    return Comparison(_table(runs, arms, True), runs, pd.DataFrame(), 3, 0.0, True)


def test_the_arms_are_ranked_by_net_value_gained_with_cost_and_roi():
    ranked = ranking(comparison())
    assert list(ranked["arm"]) == ["a", "b", "c"] and list(ranked["rank"]) == [1, 2, 3]
    first = ranked.iloc[0]
    half = 4.302652729911275 * 10 / np.sqrt(3)  # t(0.975, 2) × sd / √n, by hand
    assert first["gain"] == pytest.approx(110)
    assert (first["gain_low"], first["gain_high"]) == pytest.approx((110 - half, 110 + half))
    assert first["cost"] == 10 and first["roi"] == pytest.approx(11)
    assert list(ranked["significant"]) == [True, True, False]


def test_the_recommendation_states_the_first_the_next_and_the_undecided():
    assert recommendation(comparison(), "GBP") == (
        "a first: +110 GBP net value, 95% CI +85.2 GBP..+135 GBP; next b (+50 GBP); "
        "c is not distinguishable from zero."
    )


def test_a_next_arm_that_cannot_be_told_from_the_first_is_said_so():
    net = {**NET, "b": [1090, 1125, 1100]}  # +105: paired a - b = 10, -15, 20
    text = recommendation(comparison(net=net), "GBP")
    assert "next b (+105 GBP; not distinguishable from a)" in text


def test_when_nothing_helps_the_recommendation_says_none_and_names_what_loses():
    net = {BASELINE: [1000, 1000, 1000], "c": [995, 1005, 1000], "d": [900, 910, 905]}
    assert recommendation(comparison(net=net), "GBP") == (
        "no what-if adds net value distinguishable from zero (95%); d loses net value."
    )


def test_a_runaway_baseline_is_warned_about_before_anything_is_ranked():
    regimes = {BASELINE: ["stable", "runaway", "runaway"], "b": ["stressed", "stable", "stable"]}
    decided = comparison(regimes)
    table = arm_regimes(decided).set_index("arm")
    assert table.loc[BASELINE, "regime"] == "runaway" and table.loc[BASELINE, "runaway"] == 2
    assert regime_warnings(decided) == [
        "WARNING: the baseline is runaway in 2 of 3 replications: its numbers describe a "
        "system under strain, not a steady state",
        "WARNING: b is stressed in 1 of 3 replications: its numbers describe a system under strain",
    ]
    assert recommendation(decided, "GBP").endswith("(see the regime warning above).")


def test_money_in_a_sentence_is_rounded_to_three_figures():
    assert money(69_420, "GBP") == "+69.4k GBP"
    assert money(-1_234_567, "EUR") == "-1.23M EUR"
    assert money(850, "") == "+850"
    assert money(3_160, "GBP", signed=False) == "3.16k GBP"
