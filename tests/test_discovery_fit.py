"""`spiral from-log` on logs as organisations keep them: their own columns, implicit ends."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_cli import call_main

from spiral.analysis.results import run
from spiral.io.discovery.trace_length import expected_visits
from spiral.io.from_log import ENDED, LogColumns, fit_log, fitted_yaml, read_log
from spiral.model.loading import parse_scenario

HELPDESK = Path(__file__).parent.parent.parent / "shared" / "data" / "helpdesk.csv"
COLUMNS = LogColumns("CaseID", "Act", "Done")
Z = 3.29  # 99.9% two-sided


def ticket_log(cases: int = 400, seed: int = 3) -> pd.DataFrame:
    """Return a log with its own column names: A, then B; after B 30% go on to C.

    Cases end after B (70%, no closing event) or after C (always). B takes a lognormal
    time (mean 30 min, cv 0.5) from its start; the log gives start and end of each row.
    """
    rng = np.random.default_rng(seed)
    rows = []
    t0 = pd.Timestamp("2026-01-05 08:00:00")
    for case in range(cases):
        at = t0 + pd.Timedelta(minutes=float(rng.exponential(60.0)) + 60.0 * case)
        sigma = math.sqrt(math.log1p(0.5**2))
        acts = ["A", "B"] + (["C"] if rng.random() < 0.3 else [])
        for act in acts:
            minutes = rng.lognormal(math.log(30.0) - sigma**2 / 2, sigma) if act == "B" else 5.0
            end = at + pd.Timedelta(minutes=float(minutes))
            rows.append({"CaseID": f"T{case}", "Act": act, "Start": at, "Done": end})
            at = end + pd.Timedelta(minutes=float(rng.exponential(10.0)))
    frame = pd.DataFrame(rows)
    for column in ("Start", "Done"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def test_a_log_with_its_own_columns_and_implicit_ends_is_fitted(tmp_path):
    log = ticket_log()
    path = tmp_path / "tickets.csv"
    log.drop(columns=["Start"]).to_csv(path, index=False)
    fit = fit_log(read_log(path, COLUMNS), "tickets", str(path))
    data = fit.data
    # C only ever closes cases: an outcome; B sometimes does: a step with an implicit end
    assert set(data["outcomes"]) == {"C", ENDED}
    on = (log.groupby("CaseID")["Act"].count() == 3).mean()
    assert data["steps"]["B"]["next"] == {
        ENDED: pytest.approx(1 - on, abs=1e-4),
        "C": pytest.approx(on, abs=1e-4),
    }
    assert abs(on - 0.3) <= Z * math.sqrt(0.3 * 0.7 / 400)
    scenario = parse_scenario(data, "tickets.yaml")
    assert not any(step.self_service for step in scenario.steps.values())
    assert scenario.silos["work"].staff == "unlimited"
    # a first-order fit with its ends keeps the log's visits per case (shares to 4 places)
    assert fit.checks["fitted_visits"] == pytest.approx(fit.checks["observed_visits"], rel=1e-3)
    assert not fit.warnings


def test_a_start_time_column_gives_each_activity_its_duration(tmp_path):
    log = ticket_log(cases=1500)
    path = tmp_path / "tickets.csv"
    log.to_csv(path, index=False)
    columns = LogColumns("CaseID", "Act", "Done", start_timestamp="Start")
    scenario = parse_scenario(fit_log(read_log(path, columns), "t", str(path)).data, "t.yaml")
    service = scenario.steps["B"].service
    observed = (pd.to_datetime(log["Done"]) - pd.to_datetime(log["Start"]))[log["Act"] == "B"]
    minutes = observed.dt.total_seconds().to_numpy() / 60
    # the fitted family keeps the mean within its standard error (30 min, cv 0.5)
    assert abs(service.mean() - minutes.mean()) <= Z * minutes.std() / math.sqrt(len(minutes))
    assert service.dist in ("lognormal", "gamma", "empirical")
    assert scenario.steps["A"].service.mean() == pytest.approx(5.0, rel=1e-6)


def test_csv_and_parquet_of_one_log_fit_the_same_scenario(tmp_path):
    log = ticket_log()
    log.to_csv(tmp_path / "t.csv", index=False)
    log.to_parquet(tmp_path / "t.parquet")
    from_csv = fit_log(read_log(tmp_path / "t.csv", COLUMNS), "t").data
    from_parquet = fit_log(read_log(tmp_path / "t.parquet", COLUMNS), "t").data
    assert from_csv == from_parquet


def test_resources_make_silos_staffed_by_what_was_in_progress_at_once(tmp_path):
    log = ticket_log().drop(columns=["Start"])
    log["Who"] = np.where(log["Act"] == "C", "carol", np.where(log.index % 2, "ann", "bob"))
    path = tmp_path / "t.csv"
    log.to_csv(path, index=False)
    columns = LogColumns("CaseID", "Act", "Done", resource="Who")
    data = fit_log(read_log(path, columns), "t").data
    # A and B share their people (ann, bob); C is closing, an outcome: no silo for it
    assert data["steps"]["A"]["silo"] == data["steps"]["B"]["silo"] == "team of A"
    assert data["silos"]["team of A"]["staff"] >= 1
    assert "self_service" not in data["steps"]["A"]


def test_the_fitted_file_names_its_assumptions_and_the_counts_behind_each_share(tmp_path):
    log = ticket_log()
    path = tmp_path / "t.csv"
    log.to_csv(path, index=False)
    fit = fit_log(read_log(path, COLUMNS), "t", str(path))
    text = fitted_yaml(fit, str(path))
    assert "# ASSUMPTIONS: an event log cannot know these" in text
    b_visits = int((log["Act"] == "B").sum())
    assert f"# next: of {b_visits:,}: " in text
    assert yaml.safe_load(text) == fit.data  # the comments change nothing


def test_cases_that_rarely_end_are_fitted_as_long_as_they_are_not_thousands_of_visits(tmp_path):
    # an incident bounced between two teams: after B it ends only 1 time in 20
    rng = np.random.default_rng(5)
    rows, t = [], pd.Timestamp("2026-01-05")
    for case in range(300):
        acts = ["A"]
        while True:
            acts.append("B")
            if rng.random() < 0.05:
                break
            acts.append("A")
        for act in acts:
            t += pd.Timedelta(minutes=7)
            rows.append({"CaseID": case, "Act": act, "Done": t.isoformat()})
    path = tmp_path / "incidents.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    fit = fit_log(read_log(path, COLUMNS), "incidents", str(path))
    observed = len(rows) / 300  # about 40 visits a case
    assert fit.checks["observed_visits"] == pytest.approx(observed)
    assert fit.checks["fitted_visits"] == pytest.approx(observed, rel=1e-3)
    scenario = parse_scenario(fit.data, "incidents.yaml")
    done = run(scenario, engine="vectorised").customers
    visits = done["visits"] - 1  # the outcome is a visit too
    assert abs(visits.mean() - observed) <= Z * visits.std() / math.sqrt(len(done))


def test_a_bad_timestamp_in_a_named_column_is_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "t.csv"
    path.write_text("CaseID,Act,Done\n1,A,2026-01-05 09:00\n1,B,soon\n", encoding="utf-8")
    code, _, err = call_main(
        monkeypatch, capsys, "from-log", path, "--out", tmp_path / "s.yaml",
        "--case", "CaseID", "--activity", "Act", "--timestamp", "Done",
    )  # fmt: skip
    assert code == 2
    assert err.strip() == (
        f"{path}: Done: row 2: expected a date and time such as 2026-01-05 09:30:00, got 'soon'"
    )


@pytest.mark.skipif(not HELPDESK.exists(), reason="../shared/data/helpdesk.csv is not here")
def test_the_real_help_desk_log_fits_and_runs_its_cases_as_long_as_the_log(tmp_path):
    out = tmp_path / "helpdesk.yaml"
    flags = ["--case", "CaseID", "--activity", "ActivityID", "--timestamp", "CompleteTimestamp"]
    code = call_main_plain("from-log", HELPDESK, "--out", out, *flags)
    assert code == 0
    scenario = parse_scenario(yaml.safe_load(out.read_text(encoding="utf-8")), "helpdesk.yaml")
    log = pd.read_csv(HELPDESK)
    per_case = log.groupby("CaseID")["ActivityID"].count().mean()
    assert expected_visits(scenario) == pytest.approx(per_case, rel=1e-3)
    result = run(scenario, engine="vectorised")
    done = result.customers
    simulated = ((done["end"] - done["arrival"]) / 1440).mean()
    times = pd.to_datetime(log["CompleteTimestamp"])
    lasted = (times.groupby(log["CaseID"]).max() - times.groupby(log["CaseID"]).min()).mean()
    assert simulated == pytest.approx(lasted.total_seconds() / 86400, rel=0.25)


def call_main_plain(*args: object) -> int:
    """Run spiral's CLI in this process and return its exit code."""
    from typer.testing import CliRunner

    from spiral.cli import app

    return CliRunner().invoke(app, [str(a) for a in args]).exit_code
