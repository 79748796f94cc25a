"""The validation report: intervals, the quick report, and the Markdown page."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from spiral.analysis.theory_check import interval, markdown, validation_report
from spiral.model.loading import builtin_scenarios

DOC = Path(__file__).resolve().parent.parent / "docs" / "validation.md"


def test_interval_is_the_99_percent_student_t_interval():
    values = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    low, high = stats.t.interval(0.99, 5, loc=values.mean(), scale=stats.sem(values))
    mean, half = interval(values)
    assert (mean - half, mean + half) == pytest.approx((low, high))


@pytest.fixture(scope="module")
def quick_report():
    return validation_report(quick=True)


@pytest.mark.slow
def test_the_quick_report_puts_every_exact_value_inside_its_interval(quick_report):
    assert len(quick_report) >= 30
    assert quick_report["inside"].all(), quick_report[~quick_report["inside"]]
    cases = set(quick_report["case"])
    assert sum(case.startswith("M/M/") and "+M" not in case for case in cases) == 3
    assert any("95% busy" in case for case in cases)
    assert any("+M" in case for case in cases)
    assert {"E[severity]", "E[severity²]"} <= set(quick_report["quantity"])


@pytest.mark.slow
def test_the_markdown_page_has_one_row_per_quantity(quick_report):
    page = markdown(quick_report)
    rows = [line for line in page.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(quick_report) + 1  # and the header
    assert f"**{len(quick_report)} of {len(quick_report)} exact values" in page


def test_the_committed_validation_page_covers_every_builtin_and_mostly_passes():
    page = DOC.read_text(encoding="utf-8")
    for name in builtin_scenarios():
        assert f"| {name} (unlimited staff) |" in page, name
    found = re.search(r"\*\*(\d+) of (\d+) exact values", page)
    inside, total = int(found[1]), int(found[2])
    assert total >= 60 and inside / total >= 0.97
