"""Sweep reports: means with intervals per point, and the parameter that dominates first."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from test_cli import call_main
from test_execution import fast_scenario, write_sweep

from spiral.sweeps.execution import LocalPool, run_sweep
from spiral.sweeps.sensitivity import _src, heatmap_table, point_means, ranking, sweep_report
from spiral.sweeps.sweep_file import load_sweep

# the order step's failure spans 0–0.5; the other two barely move
DOMINANT = {
    "steps.order.failure": {"low": 0.0, "high": 0.5},
    "steps.ship.failure": {"low": 0.10, "high": 0.12},
    "contacts.help.fcr": {"low": 0.55, "high": 0.60},
}


def dominated_sweep(folder, kind: str, samples: int):
    """Write and run a sweep where one step's failure probability dominates; return its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = fast_scenario(customers=2000)
    scenario["silos"] = {name: {"staff": "unlimited"} for name in scenario["silos"]}
    (folder / "tiny.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    spec = {
        "scenario": "tiny.yaml",
        "design": {"kind": kind, "samples": samples},
        "parameters": DOMINANT,
        "metrics": ["complaints", "churn_rate"],
        "seed": 4,
    }
    (folder / "sweep.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = folder / "out"
    run_sweep(load_sweep(folder / "sweep.yaml"), out, LocalPool(2), batch=50)
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "samples"), [("sobol", 32), ("morris", 10), ("lhs", 40)])
def test_the_dominant_step_failure_ranks_first(tmp_path, kind, samples):
    report = sweep_report(dominated_sweep(tmp_path, kind, samples))
    assert not report.notes
    for metric in ("complaints", "churn_rate"):
        ranked = ranking(report, metric)
        assert ranked.index[0] == "steps.order.failure", (metric, ranked)
        assert ranked.iloc[0] > 3 * ranked.iloc[1]
    if kind == "sobol":
        total = report.indices.query("index == 'ST' and metric == 'complaints'")
        top = total.set_index("parameter")["value"]
        assert top["steps.order.failure"] > 0.8  # nearly all the variance


def test_point_means_are_the_replication_means_with_t_intervals():
    runs = pd.DataFrame(
        {
            "point": [0, 0, 0, 1, 1],
            "a": [1.0, 1.0, 1.0, 2.0, 2.0],
            "m": [1.0, 2.0, 6.0, 5.0, np.nan],
            "status": ["ok", "ok", "ok", "ok", "failed"],
        }
    )
    points = point_means(runs, ["a"], ["m"])
    assert points["m"].tolist() == [3.0, 5.0]
    half = stats.t.ppf(0.975, 2) * np.std([1.0, 2.0, 6.0], ddof=1) / np.sqrt(3)
    assert points.loc[0, "m_ci95"] == pytest.approx(half)
    assert np.isnan(points.loc[1, "m_ci95"])  # one successful run: no interval
    assert points["runs_failed"].tolist() == [0, 1]


def test_standardized_regression_coefficients_recover_a_linear_response():
    rng = np.random.default_rng(1)
    x = rng.random((400, 2))
    y = 3.0 * x[:, 0] - 1.0 * x[:, 1]
    points = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "m": y})
    src = {r["parameter"]: r["value"] for r in _src(points, ["a", "b"], "m")}
    # SRC_i = β_i σ_i / σ_y
    assert src["a"] == pytest.approx(3.0 * x[:, 0].std() / y.std(), rel=1e-9)
    assert src["b"] == pytest.approx(-1.0 * x[:, 1].std() / y.std(), rel=1e-9)


@pytest.mark.slow
def test_sweep_report_writes_points_indices_and_a_tornado_chart(tmp_path, monkeypatch, capsys):
    out = dominated_sweep(tmp_path, "lhs", 12)
    code, text, _ = call_main(monkeypatch, capsys, "sweep-report", out)
    assert code == 0
    assert "12 runs, 12 design points (lhs), 1 replication(s) each" in text
    assert "sensitivity: SRC per metric" in text
    points = pd.read_csv(out / "report" / "points.csv")
    assert len(points) == 12 and {"complaints", "complaints_ci95", "runs_ok"} <= set(points)
    runs = pd.read_parquet(out / "results.parquet")
    assert points["complaints"].tolist() == pytest.approx(runs["complaints"].tolist())
    found = pd.read_csv(out / "report" / "indices.csv")
    assert set(found["parameter"]) == set(DOMINANT) and set(found["index"]) == {"SRC"}
    png = (out / "report" / "tornado.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    code, text, _ = call_main(monkeypatch, capsys, "sweep-report", out, "--json")
    payload = json.loads(text)
    assert payload["points"] == 12 and len(payload["indices"]) == 2 * 3


def test_sweep_report_refuses_a_folder_that_is_not_a_sweep(tmp_path, monkeypatch, capsys):
    code, _, err = call_main(monkeypatch, capsys, "sweep-report", tmp_path)
    assert code == 2
    assert err.strip() == (
        f"{tmp_path}: manifest.json: not found; expected a folder written by spiral sweep"
    )


@pytest.mark.slow
def test_a_grid_heat_map_is_the_pivot_of_the_point_means(tmp_path):
    folder = tmp_path / "grid"
    folder.mkdir()
    scenario = fast_scenario(customers=500)
    (folder / "tiny.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    spec = {
        "scenario": "tiny.yaml",
        "design": {"kind": "grid", "levels": 3},
        "parameters": {
            "steps.order.failure": {"low": 0.0, "high": 0.4},
            "contacts.help.fcr": [0.5, 0.9],
            "steps.ship.failure": [0.1, 0.2],
        },
        "replications": 2,
        "metrics": ["complaints"],
    }
    (folder / "sweep.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = folder / "out"
    run_sweep(load_sweep(folder / "sweep.yaml"), out, LocalPool(2))
    report = sweep_report(out)
    table = heatmap_table(report, "steps.order.failure", "contacts.help.fcr", "complaints")
    assert table.shape == (2, 3)
    points = report.points
    for fcr in (0.5, 0.9):
        for failure in (0.0, 0.2, 0.4):
            cell = points[
                (points["contacts.help.fcr"] == fcr) & (points["steps.order.failure"] == failure)
            ]
            assert table.loc[fcr, failure] == pytest.approx(cell["complaints"].mean())
    assert table.index.tolist() == [0.9, 0.5]  # the larger value on top


@pytest.mark.slow
def test_sweep_report_draws_the_heat_map_asked_for_and_refuses_an_unknown_one(
    tmp_path, monkeypatch, capsys
):
    out = dominated_sweep(tmp_path, "lhs", 12)
    code, text, _ = call_main(
        monkeypatch,
        capsys,
        "sweep-report",
        out,
        "--x",
        "contacts.help.fcr",
        "--y",
        "steps.ship.failure",
    )
    assert code == 0
    svg = (out / "report" / "heatmap.svg").read_text(encoding="utf-8")
    assert "contacts.help.fcr" in svg and "steps.ship.failure" in svg
    code, _, err = call_main(monkeypatch, capsys, "sweep-report", out, "--x", "nope", "--y", "a")
    assert code == 2
    assert err.strip() == (
        "spiral sweep-report: --x: expected one of contacts.help.fcr, steps.order.failure, "
        "steps.ship.failure, got 'nope'"
    )


def test_a_report_of_a_folder_without_rows_or_with_every_run_failed_is_clear(
    tmp_path, monkeypatch, capsys
):
    path = write_sweep(
        tmp_path / "in",
        customers=None,
        design={"kind": "grid"},
        parameters={"warmup": ["4 days"], "horizon": ["1 day", "2 days"]},
        replications=1,
    )
    out = tmp_path / "out"
    code, _, _ = call_main(monkeypatch, capsys, "sweep", path, "--out", out, "--workers", "1")
    assert code == 1  # every run failed: a warm-up longer than the horizon
    code, text, _ = call_main(monkeypatch, capsys, "sweep-report", out)
    assert code == 0
    assert "fewer than two design points have a successful run" in text
    points = pd.read_csv(out / "report" / "points.csv")
    assert points["runs_failed"].tolist() == [1, 1]
    empty = tmp_path / "empty"
    (empty / "parts").mkdir(parents=True)
    (empty / "manifest.json").write_text((out / "manifest.json").read_text())
    code, _, err = call_main(monkeypatch, capsys, "sweep-report", empty)
    assert code == 2
    assert err.strip() == f"{empty}: results: no runs saved yet; expected a sweep that has run"
    (empty / "manifest.json").write_text("{not json")
    code, _, err = call_main(monkeypatch, capsys, "sweep-report", empty)
    assert code == 2 and err.strip().endswith("unreadable; expected a sweep manifest")


@pytest.mark.slow
def test_the_researchers_small_sobol_sweep_is_warned_about_and_a_large_one_is_not(
    tmp_path, monkeypatch, capsys
):
    small = dominated_sweep(tmp_path / "n8", "sobol", 8)
    workbook = tmp_path / "n8.xlsx"
    code, text, _ = call_main(monkeypatch, capsys, "sweep-report", small, "--xlsx", workbook)
    assert code == 0
    flat = " ".join(text.split())
    assert "complaints: Sobol with N = 8 is too small" in flat
    assert "expected design.samples: 1024 or more" in flat
    sheets = pd.read_excel(workbook, sheet_name=None)
    assert set(sheets) == {"points", "indices", "warnings and notes"}
    said = sheets["warnings and notes"]["what the report says"].tolist()
    assert any(s.startswith("warning: churn_rate: Sobol with N = 8") for s in said)
    points = sheets["points"]
    assert {"churn_rate (share 0-1)", "churn_rate_ci95 (share 0-1)", "complaints"} <= set(points)
    assert len(points) == 8 * (len(DOMINANT) + 2)
    large = dominated_sweep(tmp_path / "n64", "sobol", 64)
    code, text, _ = call_main(monkeypatch, capsys, "sweep-report", large)
    assert code == 0 and "too small" not in text
