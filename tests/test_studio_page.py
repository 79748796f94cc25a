"""`spiral studio` in a real browser: Playwright drives headless Chromium against the server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from studio_browser import browser, headline, picture_sources, slider_handle, studio

from spiral.model.loading import load_scenario

CLASSROOM = Path(__file__).parent / "scenarios" / "studio_classroom.yaml"
WAIT = 90_000  # ms: a hang guard for a loaded CI machine, not a speed check

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    with studio(str(CLASSROOM)) as (url, _):
        yield url


@pytest.fixture
def page(server, chromium):
    with browser(chromium) as launched:
        tab = launched.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
        tab.messages = []  # console errors, page errors and requests that left this machine
        tab.on("console", lambda m: tab.messages.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: tab.messages.append(str(e)))
        tab.on(
            "request",
            lambda r: (
                None
                if r.url.startswith((server, f"blob:{server}", "data:"))
                else tab.messages.append(f"left: {r.url}")
            ),
        )
        tab.goto(server)
        tab.wait_for_selector("td.value[data-metric='churn_rate']", timeout=WAIT)
        yield tab


def wait_for_change(page, read, before, what: str) -> str:  # noqa: ANN001
    """Return ``read()`` once it differs from ``before`` (a hang guard, not a timer)."""
    for _ in range(WAIT // 250):
        now = read()
        if now != before:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"{what} did not change from {before!r}")


def test_the_page_loads_everything_from_this_machine_with_no_console_errors(page):
    page.wait_for_timeout(1000)
    assert page.messages == []
    assert page.locator("th", has_text="studio_classroom").first.is_visible()
    assert len([s for s in picture_sources(page) if s.startswith("data:image/png")]) == 2
    assert re.fullmatch(r"\d+\.\d%", headline(page, "churn_rate"))


def test_moving_a_slider_changes_the_numbers_and_the_pictures(page):
    page.wait_for_selector("text=95% interval (3 runs)", timeout=WAIT)
    churn, pictures = headline(page, "churn_rate"), picture_sources(page)
    handle = slider_handle(page, "failure: ship")
    handle.focus()
    page.keyboard.press("End")  # every shipment fails
    after = wait_for_change(page, lambda: headline(page, "churn_rate"), churn, "churn")
    assert float(after.rstrip("%")) > float(churn.rstrip("%")) + 10
    assert wait_for_change(page, lambda: picture_sources(page), pictures, "the pictures")
    assert page.messages == []


def test_the_side_by_side_view_shows_what_warm_handoffs_do(page):
    page.get_by_text("Side by side", exact=True).click()
    cell = page.locator("td.diff[data-metric='churn_rate']").first
    cell.wait_for(timeout=WAIT)
    page.wait_for_selector("th.runs:has-text('paired, 3 runs')", timeout=WAIT)
    text = cell.inner_text()
    assert text.startswith("-") and "points ±" in text  # churn falls, in points
    assert cell.get_attribute("class").split() == ["diff", "better"]  # excludes zero
    assert page.messages == []


def test_go_advances_the_clock_and_pause_stops_it(page):
    page.get_by_text("Go", exact=True).click()
    clock = page.locator("div.clock").first
    assert clock.get_attribute("data-minutes") == "0"
    page.get_by_role("button", name="▶ Go").click()
    minutes = wait_for_change(page, lambda: clock.get_attribute("data-minutes"), "0", "the clock")
    page.get_by_role("button", name="Pause").click()
    readings = [clock.get_attribute("data-minutes")]
    for _ in range(WAIT // 1000):  # a tick already under way may still land, then no more
        page.wait_for_timeout(1000)
        readings.append(clock.get_attribute("data-minutes"))
        if len(readings) >= 3 and len(set(readings[-3:])) == 1:
            break
    assert len(readings) >= 3 and len(set(readings[-3:])) == 1, readings  # stopped for 2 s
    assert int(readings[-1]) >= int(minutes) > 0
    assert "arrived" in clock.inner_text()


def test_a_bad_upload_shows_its_one_line_errors_and_no_traceback(page):
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "bad.yaml",
                "mimeType": "application/x-yaml",
                "buffer": b"name: bad\nhorizon: 5 days\nsteps: {a: {failure: 2}}\n",
            }
        ]
    )
    alert = page.locator(".problems", has_text="bad.yaml").first
    alert.wait_for(timeout=WAIT)
    text = alert.inner_text()
    assert text.startswith("bad.yaml: ")
    assert "Traceback" not in text and "expected" in text
    assert page.locator("select").first.input_value() != "upload: bad.yaml"


def test_the_saved_settings_validate_and_hold_the_moved_knob(page, tmp_path):
    churn = headline(page, "churn_rate")
    handle = slider_handle(page, "staff: service")
    handle.focus()
    page.keyboard.press("Home")  # one agent
    wait_for_change(page, lambda: headline(page, "churn_rate"), churn, "churn")
    page.get_by_text("Save", exact=True).click()
    command = page.locator("textarea").first.input_value()
    assert "changed: silos.service.staff" in command
    assert "spiral run studio_classroom_studio.yaml" in command
    with page.expect_download(timeout=WAIT) as download:
        page.get_by_text("Save these settings").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    scenario = load_scenario(saved)  # what `spiral validate` does
    assert scenario.silos["service"].staff == 1
    assert scenario.what_ifs.keys() == load_scenario(CLASSROOM).what_ifs.keys()
