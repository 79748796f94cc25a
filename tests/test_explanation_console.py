"""What `spiral explain` prints: the ranking's money columns, and a command clear of pandas."""

from __future__ import annotations

import subprocess
import sys

from rich.console import Console

from spiral.engines.analytic import explain_with_fixes
from spiral.views.explanation_console import print_theory, print_what_if_values


def test_the_fix_ranking_gives_revenue_kept_per_thousand_and_per_failure_point(tiny_scenario):
    exact, ranking, _ = explain_with_fixes(tiny_scenario, {}, factor=0.5, approximate=True)
    console = Console(record=True, width=400)
    print_theory(exact, ranking, 0.5, [], console, customer_value=120.0, currency="GBP")
    text = console.export_text()
    assert "revenue kept /1,000 (GBP)" in text and "per 1,000 customers" in text
    for row in ranking:
        kept = round(1000 * row["churn_cut"] * 120.0)
        per_point = round(1000 * row["churn_cut"] * 120.0 / (100 * row["failure"] * 0.5))
        line = [x for x in text.splitlines() if x.startswith(f"│ {row['step']} ")][-1]
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert cells[-2:] == [f"{kept:,}", f"{per_point:,}"], line
        assert f"{100 * row['churn_cut']:.2f}" in cells  # churn cut in points
        assert f"{1000 * row['contacts_cut']:,.2f}" in cells  # complaints per 1,000


def test_the_ranking_rows_are_the_largest_churn_cut_first(tiny_scenario):
    _, ranking, _ = explain_with_fixes(tiny_scenario, {}, factor=0.5, approximate=True)
    cuts = [(row["churn_cut"], row["severity_cut"]) for row in ranking]
    assert len(cuts) >= 2 and cuts == sorted(cuts, reverse=True)


def test_a_free_step_fix_shows_free_for_its_roi():
    console = Console(record=True, width=300)
    row = {
        "what_if": "fix_it",
        "churn_cut": 0.0123,
        "contacts_cut": 0.05,
        "customers": 1000.0,
        "revenue_kept": 1476.0,
        "cost": 0.0,
        "net_value": 1476.0,
        "roi": float("nan"),
    }
    print_what_if_values([row], {"staff_up": "changes more"}, "GBP", console)
    text = console.export_text()
    line = next(x for x in text.splitlines() if x.startswith("│ fix_it "))
    cells = [c.strip() for c in line.strip("│").split("│")]
    assert cells[1:] == ["1.23", "50.0", "1,000", "1,476", "0", "1,476", "free"]
    assert "staff_up: changes more; spiral compare estimates it by simulation" in text


def test_the_explain_command_loads_neither_pandas_nor_networkx():
    """Start-up is most of the command's second: the explain path stays clear of both."""
    code = (
        "import sys; from spiral.cli import main; sys.argv = ['spiral', 'explain', "
        "'online_retail', '--unlimited']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'networkx', "
        "'matplotlib', 'pyarrow'}), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Where to start" in out.stdout
    assert out.stderr.strip().splitlines()[-1] == "[]"
