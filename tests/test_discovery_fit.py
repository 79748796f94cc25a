"""`spiral from-log` on logs as organisations keep them: their own columns, implicit ends."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_cli import call_main

from spiral.analysis.results import run
from spiral.io.discovery.holdout import CONTROL_FLOW
from spiral.io.discovery.trace_length import expected_visits
from spiral.io.from_log import ENDED, LogColumns, fit_log, fitted_yaml, read_log
from spiral.model.loading import parse_scenario

# The real help-desk log of Tax, Verenich, La Rosa & Dumas (CAiSE 2017; public in the
# repository verenich/ProcessSequencePrediction, data/helpdesk.csv): give its path in
# SPIRAL_HELPDESK_LOG to run the tests on it; without it they skip.
HELPDESK = Path(os.environ.get("SPIRAL_HELPDESK_LOG", "helpdesk.csv-not-given"))
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
    # B sometimes closes cases, C always: both take time, so both are steps with ends
    assert set(data["outcomes"]) == {ENDED}
    assert data["steps"]["C"]["next"] == {ENDED: 1.0}
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
    # A and B share their people (ann, bob); carol alone does C: a silo named after her
    assert data["steps"]["A"]["silo"] == data["steps"]["B"]["silo"] == "team of A"
    assert data["steps"]["C"]["silo"] == "carol"
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


@pytest.mark.skipif(not HELPDESK.exists(), reason="SPIRAL_HELPDESK_LOG names no log")
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


def holdout_of(log: pd.DataFrame, tmp_path: Path, by: str):  # noqa: ANN201 - a HoldoutReport
    from spiral.io.discovery.holdout import holdout_report

    path = tmp_path / "t.csv"
    log.drop(columns=["Start"]).to_csv(path, index=False)
    return holdout_report(read_log(path, COLUMNS), 0.3, "t", str(path), by=by)


def test_a_first_order_log_held_out_at_random_is_within_every_noise_floor(tmp_path):
    report = holdout_of(ticket_log(cases=1500), tmp_path, "random")
    table = report.table.set_index("measure")
    assert report.held_cases == 450 and report.fitted_cases == 1050
    assert report.control_flow_within()
    assert table["within"].all(), table
    assert table.loc["case duration median", "simulated"] < 0.25


def test_a_log_that_changed_over_time_is_beyond_the_floor_held_out_by_time(tmp_path):
    log = ticket_log(cases=1500)
    later = log["CaseID"].str[1:].astype(int) >= 1050
    # the later cases all go on to C: the process changed
    extra = log[later & (log["Act"] == "B")].assign(Act="C")
    changed = pd.concat([log[~(later & (log["Act"] == "C"))], extra]).sort_values(
        ["CaseID", "Done"], kind="stable"
    )
    report = holdout_of(changed, tmp_path, "time")
    row = report.table.set_index("measure").loc["activity frequencies"]
    assert not row["within"] and row["between_periods"] > 3 * row["noise_floor"]
    assert not report.control_flow_within()


def test_holdout_writes_its_table_and_picture_beside_the_scenario(tmp_path, monkeypatch, capsys):
    path = tmp_path / "t.csv"
    ticket_log().drop(columns=["Start"]).to_csv(path, index=False)
    flags = ["--case", "CaseID", "--activity", "Act", "--timestamp", "Done"]
    out = tmp_path / "t.yaml"
    code, printed, _ = call_main(
        monkeypatch, capsys, "from-log", path, "--out", out, *flags, "--holdout", "30%"
    )
    assert code == 0
    table = pd.read_csv(tmp_path / "t.holdout.csv")
    assert len(table) == 8 and set(table.columns) >= {"measure", "simulated", "noise_floor"}
    assert (tmp_path / "t.holdout.png").read_bytes()[:4] == b"\x89PNG"
    assert "Held out: 120 cases" in printed
    code, _, err = call_main(
        monkeypatch, capsys, "from-log", path, "--out", out, *flags, "--holdout", "1.5"
    )
    assert code == 2
    assert err.strip() == (
        "spiral from-log: --holdout: expected a share like '10%' (0% to 100%), got '1.5'"
    )


@pytest.mark.slow
@pytest.mark.skipif(not HELPDESK.exists(), reason="SPIRAL_HELPDESK_LOG names no log")
def test_the_help_desk_held_out_at_random_keeps_its_flow_and_its_median_case():
    from spiral.io.discovery.holdout import holdout_report

    columns = LogColumns("CaseID", "ActivityID", "CompleteTimestamp")
    log = read_log(HELPDESK, columns)
    report = holdout_report(log, 0.3, "h", str(HELPDESK), by="random", memory=3)
    table = report.table.set_index("measure")
    # with the two activities before, every control-flow measure is within its floor
    assert report.control_flow_within(), table
    assert table.loc["case duration median", "simulated"] < 0.25


def remembering_log(cases: int = 1200, seed: int = 9) -> pd.DataFrame:
    """Return a log where B's next step depends on what came before it.

    Half the cases are A B C, half D B E: after B, a first-order fit sends half to C and
    half to E whatever came first; the log never does.
    """
    rng = np.random.default_rng(seed)
    rows, t = [], pd.Timestamp("2026-01-05")
    for case in range(cases):
        t += pd.Timedelta(minutes=float(rng.exponential(30.0)))
        acts = ["A", "B", "C"] if rng.random() < 0.5 else ["D", "B", "E"]
        at = t
        for act in acts:
            at += pd.Timedelta(minutes=float(rng.exponential(20.0)))
            rows.append({"CaseID": case, "Act": act, "Done": at.isoformat()})
    return pd.DataFrame(rows)


def test_second_order_routing_remembers_where_a_case_came_from(tmp_path):
    path = tmp_path / "memory.csv"
    remembering_log().to_csv(path, index=False)
    log = read_log(path, COLUMNS)
    fit = fit_log(log, "memory", str(path))  # auto: the held-out cases choose
    steps = fit.data["steps"]
    assert fit.notes["start"][0].startswith("routing: memory 2: held-out log-likelihood")
    assert steps["B after A"]["next"] == {"C after B": 1.0}
    assert steps["B after D"]["next"] == {"E after B": 1.0}
    assert fit.activity_of["B after A"] == "B"
    first = fit_log(log, "memory", str(path), memory=1).data["steps"]
    assert set(first["B"]["next"]) == {"C", "E"}


def test_the_holdout_sees_what_first_order_routing_loses(tmp_path):
    from spiral.io.discovery.holdout import holdout_report

    path = tmp_path / "memory.csv"
    remembering_log().to_csv(path, index=False)
    log = read_log(path, COLUMNS)
    tables = {
        memory: holdout_report(log, 0.3, "m", str(path), "random", memory=memory).table
        for memory in (1, 2)
    }
    first, second = (tables[m].set_index("measure") for m in (1, 2))
    # first order makes A B E and D B C, which never happen: half the variants are wrong
    assert first.loc["top variants", "simulated"] > 0.4
    assert not first.loc["top variants", "within"]
    assert second.loc[list(CONTROL_FLOW), "within"].all()


def test_a_resource_to_group_table_makes_the_teams_the_silos(tmp_path, monkeypatch, capsys):
    log = ticket_log().drop(columns=["Start"])
    log["Who"] = np.where(log["Act"] == "C", "carol", np.where(log.index % 2, "ann", "bob"))
    path, groups = tmp_path / "t.csv", tmp_path / "teams.csv"
    log.to_csv(path, index=False)
    groups.write_text("person,team\nann,front desk\nbob,front desk\ncarol,back office\n")
    out = tmp_path / "t.yaml"
    flags = ["--case", "CaseID", "--activity", "Act", "--timestamp", "Done", "--resource", "Who"]
    code, _, _ = call_main(
        monkeypatch, capsys, "from-log", path, "--out", out, *flags, "--resource-groups", groups
    )
    assert code == 0
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert {s["silo"] for s in data["steps"].values()} == {"front desk", "back office"}
    assert {s["silo"] for n, s in data["steps"].items() if n.startswith("C")} == {"back office"}
    groups.write_text("person\nann\n")
    code, _, err = call_main(
        monkeypatch, capsys, "from-log", path, "--out", out, *flags, "--resource-groups", groups
    )
    assert code == 2
    assert err.strip() == (
        f"{groups}: columns: expected two columns, a resource and its group, and a row each"
    )
