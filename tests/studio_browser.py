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


class Running:
    """A `spiral studio` process started by a test: its lines so far and its address."""

    def __init__(self, args: list[str], cwd: Path | None = None) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spiral", "studio", *args, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=cwd,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(
            target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True
        )
        self.reader.start()
        self.seen: list[str] = []

    def url(self, timeout: float = 120.0) -> str:
        """Return the address the studio prints once it listens (a hang guard: timeout)."""
        deadline = time.perf_counter() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.perf_counter(), 0.1))
            except queue.Empty:
                raise RuntimeError("spiral studio did not start: " + "".join(self.seen)) from None
            self.seen.append(line)
            if line.startswith("spiral studio: http"):
                return line.split()[2]
            if self.process.poll() is not None:
                raise RuntimeError("spiral studio exited: " + "".join(self.seen))

    def rest(self) -> list[str]:
        """Return every line printed so far (after the process ended: all of them)."""
        if self.process.poll() is not None:
            self.reader.join(timeout=15)  # the pipe is closed: the reader ends with its last line
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def stop(self) -> None:
        """End the process: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def studio(
    *args: str, timeout: float = 120.0, cwd: Path | None = None
) -> Iterator[tuple[str, float]]:
    """Start `spiral studio ARGS` on a free port; yield its URL and seconds to listen; stop it."""
    started = time.perf_counter()
    running = Running(list(args), cwd)
    try:
        url = running.url(timeout)
        yield url, time.perf_counter() - started
    finally:
        running.stop()


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
