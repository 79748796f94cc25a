"""The HTML report: self-contained, and it opens in a real headless Chromium cleanly."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest
import yaml
from test_cli import call_main
from test_execution import fast_scenario

import spiral
from spiral.analysis.results import run
from spiral.model.loading import load_scenario, with_length
from spiral.sweeps.execution import LocalPool, run_sweep
from spiral.sweeps.sensitivity import sweep_report
from spiral.sweeps.sweep_file import load_sweep
from spiral.views.report import run_report


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """Write a report with a run, two what-ifs and a small sweep; return the HTML file."""
    folder = tmp_path_factory.mktemp("report")
    scenario = with_length(load_scenario("online_retail"), horizon=4 * 1440.0)
    comparison = spiral.compare(scenario, ["warm_handoffs", "fix_delivery"], replications=2)
    (folder / "tiny.yaml").write_text(yaml.safe_dump(fast_scenario()), encoding="utf-8")
    spec = {
        "scenario": "tiny.yaml",
        "design": {"kind": "lhs", "samples": 8},
        "parameters": {
            "steps.order.failure": {"low": 0.0, "high": 0.3},
            "contacts.help.fcr": {"low": 0.4, "high": 0.9},
        },
    }
    (folder / "sweep.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    run_sweep(load_sweep(folder / "sweep.yaml"), folder / "sweep", LocalPool(2))
    result = run(scenario, seed=1, event_log=True)
    report = run_report(result, comparison, sweep_report(folder / "sweep"))
    path = folder / "report.html"
    path.write_text(report.html(), encoding="utf-8")
    return path


@pytest.mark.slow
def test_the_report_has_no_external_references(page):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?!data:|#)", text)
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text
    images = re.findall(r'<img src="data:image/png;base64,', text)
    assert len(images) == 3 + 2 + 2  # run: 3; what-ifs: 2; sweep: tornado and heat map


@pytest.mark.slow
def test_every_image_loads_in_headless_chromium_without_console_errors(page, chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as browser_driver:
        browser = browser_driver.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox"]
        )
        try:
            tab = browser.new_page()
            errors: list[str] = []
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("requestfailed", lambda r: errors.append(f"failed: {r.url[:60]}"))
            tab.goto(page.as_uri())
            tab.wait_for_load_state("load")
            images = tab.evaluate(
                "() => Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
            )
            headings = tab.evaluate(
                "() => Array.from(document.querySelectorAll('h2'), h => h.textContent)"
            )
            title = tab.title()
        finally:
            browser.close()
    assert errors == []
    assert len(images) == 7 and all(done and width > 300 for done, width in images)
    assert headings == ["The scenario", "What the run shows", "What-ifs", "Parameter sweep"]
    assert title == "online_retail: the customer-journey spiral"


@pytest.mark.slow
def test_the_report_command_writes_the_file_and_refuses_a_bad_folder(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r.html"
    code, text, _ = call_main(
        monkeypatch, capsys, "report", "online_retail", "--horizon", "4 days", "--out", out
    )
    assert code == 0 and text.startswith(f"wrote {out} (")
    assert out.read_text(encoding="utf-8").count("<img ") == 3
    code, _, err = call_main(monkeypatch, capsys, "report", tmp_path, "--out", out)
    assert code == 2
    assert err.strip() == (
        f"{tmp_path}: manifest.json: not found; expected a scenario or a sweep folder"
    )


def test_a_report_of_a_broken_sweep_folder_is_one_line_before_any_simulation(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "sweep"
    (folder / "parts").mkdir(parents=True)
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    code, _, err = call_main(monkeypatch, capsys, "report", folder, "--out", tmp_path / "r.html")
    assert code == 2
    assert err.strip() == f"{folder / 'manifest.json'}: file: unreadable; expected a sweep manifest"
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_the_report_gives_the_early_warning_and_the_day_failure_doubled():
    scenario = load_scenario("tipping_point")
    arrivals = scenario.arrivals.model_copy(update={"rate": 1100 / 1440})
    short = {"arrivals": arrivals, "horizon": 20 * 1440.0, "drain": 1440.0}
    result = run(scenario.model_copy(update=short), seed=1)
    page = run_report(result).html()
    warning = result.summary["early_warning"]
    assert warning and escape(f"Early warning: {warning}.") in page
    assert f"twice its base rate from day {result.summary['failure_doubled_day']:g}" in page
