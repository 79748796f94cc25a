"""Spreadsheets a client opens: one sheet per table, units in the headers, read back."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from test_cli import call_main
from test_decision import comparison

from spiral.analysis.decision import recommendation
from spiral.analysis.results import run
from spiral.io.spreadsheet import comparison_sheets, run_sheets, unit_of, write_xlsx


def read_back(path) -> dict[str, pd.DataFrame]:  # noqa: ANN001
    return pd.read_excel(path, sheet_name=None, engine="openpyxl")


def test_a_run_workbook_has_a_sheet_per_table_with_units_and_the_same_numbers(
    tiny_scenario, tmp_path
):
    result = run(tiny_scenario, seed=1)
    path = write_xlsx(run_sheets(result), tmp_path / "run.xlsx")
    sheets = read_back(path)
    assert list(sheets) == ["summary", "spiral", "by failure step", "silos", "time series (days)"]
    summary = sheets["summary"].set_index("metric")
    assert summary.loc["churn_rate", "value"] == pytest.approx(result.summary["churn_rate"])
    assert summary.loc["churn_rate", "unit"] == "share 0-1"
    assert summary.loc["revenue_at_risk", "unit"] == "GBP"
    steps = sheets["by failure step"]
    assert "revenue_at_risk (GBP)" in steps.columns
    assert steps["customers"].sum() == result.by_failure_step["customers"].sum()
    series = sheets["time series (days)"]
    assert "start (minutes)" in series.columns and len(series) == len(result.timeseries)
    workbook = openpyxl.load_workbook(path)
    assert workbook["spiral"].freeze_panes == "A2"


def test_a_comparison_workbook_leads_with_the_decision(tmp_path, tiny_scenario):
    decided = comparison()
    path = write_xlsx(comparison_sheets(decided, tiny_scenario), tmp_path / "compare.xlsx")
    sheets = read_back(path)
    assert list(sheets)[:3] == ["decision", "ranking", "regimes"]
    said = sheets["decision"]["what the comparison says"].tolist()
    assert said == ["Recommendation: " + recommendation(decided, "GBP")]
    assert list(sheets["ranking"]["arm"]) == ["a", "b", "c"]
    assert "gain (GBP)" in sheets["ranking"].columns and "roi (× cost)" in sheets["ranking"]


def test_units_are_read_from_column_names():
    assert unit_of("net_value", "EUR") == "EUR" and unit_of("wait_mean_min", "") == "minutes"
    assert unit_of("churn_rate[premium]", "GBP") == "share 0-1"
    assert unit_of("customers", "GBP") is None


def test_a_spreadsheet_name_without_xlsx_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    code, out, err = call_main(monkeypatch, capsys, "run", "--xlsx", tmp_path / "r.csv")
    assert code == 2 and out == ""
    assert err.strip() == "spiral run: --xlsx: expected a file ending in .xlsx, got 'r.csv'"
