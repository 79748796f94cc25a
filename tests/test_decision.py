"""What a comparison decides: regimes, the ranking by net value, and one sentence."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from test_cli import call_main

from spiral.analysis.compare import MORE_METRICS, Comparison, _table, _with_roi
from spiral.analysis.decision import (
    arm_regimes,
    money,
    ranking,
    recommendation,
    regime_warnings,
)
from spiral.model.loading import builtin_scenarios
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
    said = recommendation(decided, "GBP")
    assert said.endswith("(see the regime warning above).")
    # every what-if is stable or stressed while the baseline runs away: each stops it
    assert said.startswith(
        "The baseline runs away; a (stable), b (stressed), c (stable) stop it: decide on that "
        "first, the other arms' gains are measured on a collapse and grow with the horizon. "
        "Over this horizon: a first:"
    )


def test_a_runaway_nothing_stops_says_add_capacity_first():
    runaway = ["runaway"] * 3
    decided = comparison({arm: runaway for arm in NET})
    assert recommendation(decided, "GBP").startswith(
        "The baseline runs away and no what-if stops it: every gain below is measured on a "
        "collapse and grows with the horizon; add capacity first. Over this horizon: a first:"
    )


def test_money_in_a_sentence_is_rounded_to_three_figures():
    assert money(69_420, "GBP") == "+69.4k GBP"
    assert money(-1_234_567, "EUR") == "-1.23M EUR"
    assert money(850, "") == "+850"
    assert money(3_160, "GBP", signed=False) == "3.16k GBP"


@pytest.mark.slow
def test_the_consultants_replay_reads_as_a_decision_with_its_uncertainty(
    tmp_path, monkeypatch, capsys
):
    """Issue 20's consultant: an edited scenario that runs away, what-ifs, a pilot, a workbook."""
    data = yaml.safe_load(builtin_scenarios()["online_retail"].read_text(encoding="utf-8"))
    data["silos"]["warehouse"]["staff"] = 3  # cut to save money: the warehouse falls behind
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    short = ("--horizon", "10 days")
    code, text, _ = call_main(monkeypatch, capsys, "run", edited, *short)
    assert code == 0 and "regime: runaway" in text
    back = "{name: warehouse_back, changes: [{change: add_staff, silo: warehouse, count: 3}]}"
    workbook, out = tmp_path / "decision.xlsx", tmp_path / "compared"
    args = ["--what-if", "fix_delivery", "--what-if", back, "--pilot", "10%"]
    args += ["--replications", "5", *short, "--xlsx", workbook, "--out", out]
    code, text, err = call_main(monkeypatch, capsys, "compare", edited, *args)
    assert code == 0, err
    flat = " ".join((err + text).split())
    assert "WARNING: the baseline is runaway in 5 of 5 replications" in flat
    assert "Recommendation: The baseline runs away; warehouse_back (stable) stops it" in flat
    said = flat[flat.index("Recommendation:") :]
    assert re.search(r"Over this horizon: \w+ first: [+-][\d.,]+k? GBP net value, 95% CI", said)
    sheets = pd.read_excel(workbook, sheet_name=None)
    assert {"decision", "ranking", "regimes", "pilot or go big"} <= set(sheets)
    decision = sheets["decision"]["what the comparison says"].tolist()
    assert decision[0].startswith("WARNING: the baseline is runaway")
    assert decision[-1].startswith("Recommendation: The baseline runs away;")
    regimes = sheets["regimes"].set_index("arm")["regime"]
    assert regimes[BASELINE] == "runaway" and regimes["warehouse_back"] != "runaway"
    pilot = sheets["pilot or go big"].set_index("pilot").loc["fix_delivery@10%"]
    assert 0 < pilot["days"] < 1000 and pilot["pilot customers"] > 0  # answered in days
    assert pilot["value_forgone (GBP)"] > 0
    runs = pd.read_csv(out / "runs.csv")  # the workbook holds the same replications
    sheet = sheets["replications"]
    assert sheet["net_value (GBP)"].to_numpy() == pytest.approx(runs["net_value_GBP"].to_numpy())
