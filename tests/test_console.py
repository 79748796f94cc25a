"""Terminal rendering: the tables and the warning about unfinished journeys."""

from __future__ import annotations

from rich.console import Console

from spiral.analysis.results import run
from spiral.model.loading import parse_scenario
from spiral.views.console import print_run


def rendered(result) -> str:
    console = Console(record=True, width=140)
    print_run(result, console)
    return console.export_text()


def test_the_run_shows_headline_spiral_birthplaces_and_silos(tiny_scenario):
    text = rendered(run(tiny_scenario, seed=1))
    for title in (
        "spiral run: tiny (seed 1",
        "The spiral: by failures suffered",
        "Where complaints are born",
        "Silos",
        "failure-demand share",
    ):
        assert title in text
    assert "warning" not in text


def test_unfinished_journeys_are_warned_about(tiny_data):
    tiny_data["silos"]["ops"]["staff"] = 1  # 200 a day × 10 min on one server: overloaded
    tiny_data["drain"] = "1 h"
    result = run(parse_scenario(tiny_data, "tiny.yaml"), seed=1)
    assert result.summary["in_progress"] > 0
    text = rendered(result)
    assert f"warning: {result.summary['in_progress']:,} measured customers were still" in text


def test_the_fix_ranking_gives_revenue_kept_per_thousand_and_per_failure_point(tiny_scenario):
    from rich.console import Console

    from spiral.engines.analytic import explain
    from spiral.views.console import print_theory

    exact, ranking = explain(tiny_scenario, factor=0.5, approximate=True)
    console = Console(record=True, width=400)
    print_theory(exact, ranking, 0.5, [], console, customer_value=120.0, currency="GBP")
    text = console.export_text()
    assert "revenue kept /1,000 (GBP)" in text and "per 1,000 customers" in text
    for step, row in ranking.iterrows():
        kept = round(1000 * row["churn_cut"] * 120.0)
        per_point = round(1000 * row["churn_cut"] * 120.0 / (100 * row["failure"] * 0.5))
        line = [x for x in text.splitlines() if x.startswith(f"│ {step} ")][-1]  # the ranking
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert cells[-2:] == [f"{kept:,}", f"{per_point:,}"], line
        assert f"{100 * row['churn_cut']:.2f}" in cells  # churn cut in points
        assert f"{1000 * row['contacts_cut']:,.2f}" in cells  # complaints per 1,000
