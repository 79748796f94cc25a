"""How fast `spiral studio` answers: time to the first page, and slider to picture.

A real `spiral studio` is started (one process) and driven by Playwright in headless
Chromium, as the browser tests do. For each built-in, as shipped (queues and loops: the
SimPy engine, with a progress bar) and queue-free (every silo unlimited, loops off: the
vectorised engine applies), the first step's failure slider is moved up by 0.025 and two
times are taken from the key press: until the pictures change (the first replication
drawn) and until all three replications are in (the intervals). Target (issue 19): the
first picture within 1 s where the fast engines apply. Time to first page: from starting
the command to the first numbers in the browser.

    python benchmarks/bench_studio.py            # needs Chromium: apt-get install chromium
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from studio_browser import browser, slider_handle, studio  # noqa: E402 - the tests' driver

from spiral.model.loading import builtin_scenarios, read_yaml  # noqa: E402

TARGET_FAST = 1.0  # seconds, slider to picture where the vectorised engine applies
CHROMIUM = Path("/usr/bin/chromium")
PICTURES = """() => {
  const found = [];
  const walk = (root) => root.querySelectorAll('*').forEach(e => {
    if (e.tagName === 'IMG') found.push((e.getAttribute('src') || '').length + ':' +
      (e.getAttribute('src') || '').slice(-40));
    if (e.shadowRoot) walk(e.shadowRoot);
  });
  walk(document);
  return found.join('|');
}"""


def queue_free(data: dict) -> dict:
    """Return scenario data with every silo unlimited and the loops off."""
    data = yaml.safe_load(yaml.safe_dump(data))
    data["name"] = f"{data['name']}_queue_free"
    for silo in data["silos"].values():
        silo["staff"] = "unlimited"
        silo.pop("roster", None)
        silo.pop("changes", None)
    for loop in (data.get("loops") or {}).values():
        if isinstance(loop, dict):
            loop["enabled"] = False
    data["what_ifs"] = {}  # what-ifs may add staff to silos that have none now
    return data


def wait_for_pictures_to_change(page, before: str) -> None:  # noqa: ANN001
    page.wait_for_function(
        f"(before) => ({PICTURES})() !== before", arg=before, polling="raf", timeout=300_000
    )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_studio_"))
    files = []
    for name, path in builtin_scenarios().items():
        files.append(str(path))
        free = folder / f"{name}_queue_free.yaml"
        free.write_text(yaml.safe_dump(queue_free(read_yaml(path)), sort_keys=False))
        files.append(str(free))
    started = time.perf_counter()
    with studio(*files) as (url, listening), browser(CHROMIUM) as launched:
        page = launched.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        page.wait_for_selector("td.value[data-metric='churn_rate']", timeout=300_000)
        first_page = time.perf_counter() - started
        print(f"time to first page: {first_page:.2f} s (server listening after {listening:.2f} s)")
        print(f"{'scenario':<32} {'engine':<10} {'picture':>8} {'3 runs':>8} {'target':>7} ratio")
        for path in files:
            data = read_yaml(Path(path))
            page.locator("select").first.select_option(label=path)
            done = f"th:has-text('{data['name']}') ~ th:has-text('(3 runs)')"
            page.wait_for_selector(done, timeout=300_000)
            page.wait_for_selector("text=Ran the", timeout=300_000)
            before = page.evaluate(PICTURES)
            status = page.locator("text=Ran the").first.inner_text()
            engine = "vectorised" if "vectorised" in status else "SimPy"
            handle = slider_handle(page, f"failure: {next(iter(data['steps']))}")
            handle.focus()
            pressed = time.perf_counter()
            page.keyboard.press("PageUp")  # five steps of 0.005: +0.025
            wait_for_pictures_to_change(page, before)
            picture = time.perf_counter() - pressed
            page.wait_for_selector("text=Ran the", timeout=300_000)
            all_runs = time.perf_counter() - pressed
            name = Path(path).stem
            if engine == "vectorised":
                verdict = f"{TARGET_FAST:>6.1f}s {picture / TARGET_FAST:.2f}"
            else:
                verdict = f"{'-':>7} (SimPy engine: progress bar shown)"
            print(f"{name:<32} {engine:<10} {picture:>7.2f}s {all_runs:>7.2f}s {verdict}")


if __name__ == "__main__":
    main()
