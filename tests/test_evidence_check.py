"""The evidence check: benchmarks measured as defined, verdicts as the notes say, the page true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from spiral.analysis.evidence_check import BENCHMARKS, evidence_table, markdown
from spiral.analysis.results import run
from spiral.model.loading import builtin_scenarios, load_scenario, parse_scenario

SILENT = Path(__file__).parent / "scenarios" / "silent_sufferers.yaml"
PAGE = Path(__file__).parent.parent / "docs" / "evidence_check.md"


def measured(result) -> dict:  # noqa: ANN001 - a RunResult
    return {b.key: b.measure(result) for b in BENCHMARKS}


def test_each_benchmark_is_measured_as_it_is_defined():
    result = run(load_scenario(SILENT))
    done, summary = result.customers, result.summary
    values = measured(result)
    voiced = done[done["complaints"] > 0]
    assert values["failure_demand_share"] == summary["failure_demand_share"] == 1.0
    assert values["fcr"] == 1.0  # the only contact resolves every time
    assert values["contacts_per_issue"] == pytest.approx(voiced["complaints"].mean())
    assert values["social_share"] == pytest.approx(voiced["social"].mean())
    silent = summary["silent_sufferers"] / summary["customers_with_failure"]
    assert values["silent_share"] == pytest.approx(silent)
    assert 0.8 < values["silent_share"] < 0.9  # 0.2 × 0.97 + 0.05 × 0.5 of 0.25 failed
    assert values["unresolved_churn_ratio"] is None  # every complainant was put right


def test_a_value_outside_its_range_is_explained_only_by_the_scenarios_note(monkeypatch):
    data = yaml.safe_load(SILENT.read_text(encoding="utf-8"))
    data["evidence_notes"] = {"failure_demand_share": "no value-demand contacts modelled"}
    noted = parse_scenario(data, "noted.yaml")
    monkeypatch.setattr("spiral.analysis.evidence_check.load_scenario", lambda name: noted)
    table = evidence_table(["noted"]).set_index("benchmark")
    assert table.loc["failure_demand_share", "verdict"] == "explained"  # 100% > 80%
    assert table.loc["silent_share", "verdict"] == "inside"
    assert table.loc["social_share", "verdict"] == "outside"  # no note: not explained
    assert table.loc["unresolved_churn_ratio", "verdict"] == "n/a"
    page = markdown(table.reset_index())
    assert "| explained: no value-demand contacts modelled |" in page


def test_an_unknown_benchmark_in_the_notes_is_refused_by_name():
    data = yaml.safe_load(SILENT.read_text(encoding="utf-8"))
    data["evidence_notes"] = {"happiness": "we are happy"}
    with pytest.raises(ValueError, match=r"evidence_notes\.happiness"):
        parse_scenario(data, "bad.yaml")


@pytest.mark.slow
def test_the_committed_page_is_what_the_check_prints_today():
    page = PAGE.read_text(encoding="utf-8")
    assert page == markdown(evidence_table())
    for name in builtin_scenarios():
        assert f"| {name} | failure demand, share of contacts |" in page
    counts = re.search(r"\*\*(\d+) inside, (\d+) explained, (\d+) outside, (\d+) n/a", page)
    assert sum(int(n) for n in counts.groups()) == len(BENCHMARKS) * len(builtin_scenarios())
    # every built-in is inside each published range or says why not
    assert counts.group(3) == "0", "a built-in lies outside a range without an evidence note"
