"""Driving a real `spiral studio` in headless Chromium (the browser tests and the benchmark)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
"""Headless Chromium on a machine with no outside network (see the machine's notes)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def studio(
    *args: str, timeout: float = 120.0, cwd: Path | None = None
) -> Iterator[tuple[str, float]]:
    """Start `spiral studio ARGS` on a free port; yield its URL and seconds to listen; stop it."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "spiral", "studio", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=cwd,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    seen: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=max(timeout - (time.perf_counter() - started), 0.1))
            except queue.Empty:
                raise RuntimeError("spiral studio did not start: " + "".join(seen)) from None
            seen.append(line)
            if line.startswith("spiral studio: http"):
                url = line.split()[2]
                break
            if process.poll() is not None:
                raise RuntimeError("spiral studio exited: " + "".join(seen))
        yield url, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def browser(chromium: Path) -> Iterator[object]:
    """Yield a Playwright browser: Chromium at ``chromium``, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def slider_handle(page, label: str):  # noqa: ANN001, ANN201 - Playwright Page and Locator
    """Return the handle of the slider whose title starts with ``label``."""
    group = page.locator(".bk-input-group", has=page.locator(".bk-slider-title", has_text=label))
    return group.locator(".noUi-handle").first


def headline(page, metric: str) -> str:  # noqa: ANN001 - a Playwright Page
    """Return the text of a headline value on the numbers tab."""
    return page.locator(f"td.value[data-metric='{metric}']").first.inner_text()


def picture_sources(page) -> list[str]:  # noqa: ANN001 - a Playwright Page
    """Return the src of every picture on the page (PNG data URIs from the panes)."""
    return page.evaluate(
        """() => {
          const found = [];
          const walk = (root) => root.querySelectorAll('*').forEach(e => {
            if (e.tagName === 'IMG') found.push(e.getAttribute('src') || '');
            if (e.shadowRoot) walk(e.shadowRoot);
          });
          walk(document);
          return found;
        }"""
    )
