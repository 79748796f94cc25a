"""Take the screenshots of `spiral studio` shown in docs/studio.md and the README.

Starts the studio on the default built-in (online_retail), drives it in headless
Chromium and writes docs/images/studio_*.png:

    python docs/make_studio_screenshots.py      # needs Chromium: apt-get install chromium
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from studio_browser import browser, studio  # noqa: E402 - the tests' driver

CHROMIUM = Path("/usr/bin/chromium")
WAIT = 300_000


def main() -> None:
    """Write the four screenshots into docs/images."""
    out = HERE / "images"
    out.mkdir(exist_ok=True)
    with studio("online_retail") as (url, _), browser(CHROMIUM) as launched:
        page = launched.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        page.wait_for_selector("text=95% interval (3 runs)", timeout=WAIT)
        page.wait_for_selector("text=Ran the", timeout=WAIT)
        page.screenshot(path=out / "studio_numbers.png")
        page.locator("input[type=checkbox]").nth(0).uncheck()  # fix_delivery off
        page.locator("input[type=checkbox]").nth(1).check()  # warm_handoffs on
        page.get_by_text("Side by side", exact=True).click()
        page.wait_for_selector("th.runs:has-text('paired, 3 runs')", timeout=WAIT)
        page.wait_for_selector("text=Ran the", timeout=WAIT)
        page.screenshot(path=out / "studio_side_by_side.png")
        page.get_by_text("Go", exact=True).click()
        page.locator("select").nth(1).select_option("1 day")
        page.get_by_role("button", name="▶ Go").click()
        clock = page.locator("div.clock").first
        while int(clock.get_attribute("data-minutes") or 0) < 20 * 1440:
            page.wait_for_timeout(250)
        page.get_by_role("button", name="Pause").click()
        page.wait_for_timeout(800)
        page.screenshot(path=out / "studio_go.png")
        page.get_by_text("One customer", exact=True).click()
        page.get_by_role("button", name="Tell two customers' stories").click()
        page.wait_for_selector("text=A customer who spiralled", timeout=WAIT)
        page.screenshot(path=out / "studio_one_customer.png")
    for name in sorted(out.glob("studio_*.png")):
        print(name.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
