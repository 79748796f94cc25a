"""Spreadsheets a client opens: one sheet per table, units in the headers (openpyxl).

Numbers keep their full precision in the cells (a spreadsheet rounds for display); each
sheet's header names the unit of every column that has one: money in the scenario's
currency, shares as "share 0-1", times in minutes, hours or days.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from spiral.analysis.compare import Comparison
from spiral.analysis.decision import arm_regimes, ranking, recommendation, regime_warnings
from spiral.analysis.pilot import pilot_question
from spiral.analysis.results import RunResult
from spiral.io.column_units import unit_of, with_units
from spiral.model.scenario import Scenario

SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def summary_sheet(summary: dict, currency: str) -> pd.DataFrame:
    """Return a run's headline numbers as rows of metric, value, unit (nested ones left out)."""
    rows = [
        {"metric": key, "value": value, "unit": unit_of(key, currency) or ""}
        for key, value in summary.items()
        if not isinstance(value, dict | list)
    ]
    return pd.DataFrame(rows)


def run_sheets(result: RunResult) -> dict[str, pd.DataFrame]:
    """Return a run's tables, one sheet each."""
    currency = result.scenario.money.currency
    sheets = {
        "summary": summary_sheet(result.summary, currency),
        "spiral": with_units(result.spiral.reset_index(), currency),
        "by failure step": with_units(result.by_failure_step.reset_index(), currency),
        "silos": with_units(result.silos.reset_index(), currency),
        "time series (days)": with_units(result.timeseries, currency),
    }
    if result.scenario.segments:
        sheets["by segment"] = with_units(result.by_segment.reset_index(), currency)
    return sheets


def comparison_sheets(comparison: Comparison, scenario: Scenario) -> dict[str, pd.DataFrame]:
    """Return a comparison's decision and tables, one sheet each (pilots when there are)."""
    currency = scenario.money.currency
    said = [*regime_warnings(comparison), "Recommendation: " + recommendation(comparison, currency)]
    pilots = pilot_question(comparison, scenario).rename(
        columns={"churn_effect": "churn_effect (points)", "customers": "pilot customers"}
    )
    sheets = {
        "decision": pd.DataFrame({"what the comparison says": said}),
        "ranking": with_units(ranking(comparison), currency),
        "regimes": arm_regimes(comparison),
        "compare": comparison.table,
        "replications": with_units(comparison.runs, currency),
        "time to effect": with_units(comparison.effects, currency),
    }
    if len(pilots):
        sheets["pilot or go big"] = with_units(pilots, currency)
    return sheets


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write the sheets to an .xlsx workbook at ``path`` (names cut to Excel's 31 characters)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            title = SHEET_NAME.sub(" ", name)[:31]
            frame.to_excel(writer, sheet_name=title, index=False)
            sheet = writer.sheets[title]
            for k, column in enumerate(frame.columns, start=1):  # readable header widths
                width = min(max(len(str(column)), 10) + 2, 60)
                sheet.column_dimensions[sheet.cell(row=1, column=k).column_letter].width = width
            sheet.freeze_panes = "A2"
    return path
