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
