"""Progress for the command line: a bar in a terminal, a periodic plain line otherwise.

A command names its phases (``simulating``, ``writing results``) and, where it can, how
far a phase has got (a fraction). In a terminal a transient rich bar shows both; when
output goes to a file or a pipe (CI, ``nohup``, a cluster job) a line such as
``spiral run: simulating 42% (1 min 5 s)`` is printed every ``every`` seconds, after
the first ``quiet`` seconds, so short commands print nothing extra.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


class Feedback:
    """What a command is doing now, shown as it goes."""

    def __init__(self, console: Console, command: str, every: float = 10.0, quiet: float = 5.0):
        self.console = console
        self.command = command
        self.every = every
        self.quiet = quiet
        self.phase = "starting"
        self.fraction: float | None = None
        self.started = time.monotonic()
        self._bar = None
        self._task = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Feedback:
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.phase, total=None)
        else:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._bar is not None:
            self._bar.stop()
        if self._thread is not None:
            self._thread.join(1)

    def step(self, phase: str, fraction: float | None = None) -> None:
        """Enter a phase (with how far it has got, if known)."""
        self.phase = phase
        self.update(fraction)

    def update(self, fraction: float | None) -> None:
        """Say how far the current phase has got (0 to 1), or None when unknown."""
        self.fraction = None if fraction is None else min(max(fraction, 0.0), 1.0)
        if self._bar is not None:
            total = None if self.fraction is None else 1.0
            self._bar.update(
                self._task, description=self.phase, total=total, completed=self.fraction or 0.0
            )

    def line(self) -> str:
        """Return the plain progress line for now."""
        done = "" if self.fraction is None else f" {self.fraction:.0%}"
        return f"{self.command}: {self.phase}{done} ({_clock(time.monotonic() - self.started)})"

    def _tick(self) -> None:
        if self._stop.wait(self.quiet):
            return
        while True:
            self.console.print(self.line(), highlight=False, markup=False, soft_wrap=True)
            if self._stop.wait(self.every):
                return


@contextmanager
def feedback(console: Console, command: str, enabled: bool = True) -> Iterator[Feedback]:
    """Show a command's progress on ``console`` (nothing at all when not ``enabled``)."""
    if not enabled:
        yield Feedback(Console(quiet=True), command)
        return
    with Feedback(console, command) as shown:
        yield shown
