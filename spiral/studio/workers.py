"""The studio's worker threads: one simulation job at a time per page, all stopped together.

Simulations run outside the server's event loop. A job ends at its next check when the
page's settings move on (its ``cancel``) or when the server stops (``STOPPING``); the
server waits for every worker before the process exits, so no thread is left inside a
native library at interpreter shutdown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

STOPPING = threading.Event()
"""Set when the server stops: every job ends at its next check, so the process exits
with no simulation thread still inside a native library."""

WORKERS: set[threading.Thread] = set()
_WORKERS_LOCK = threading.Lock()


def background(work: Callable[[], None], name: str) -> None:
    """Run ``work`` in a worker thread that the server waits for when it stops."""

    def run() -> None:
        try:
            work()
        finally:
            with _WORKERS_LOCK:
                WORKERS.discard(threading.current_thread())

    thread = threading.Thread(target=run, daemon=True, name=name)
    with _WORKERS_LOCK:
        WORKERS.add(thread)
    thread.start()


def stop_workers(timeout: float = 30.0) -> None:
    """Cancel every job and wait (at most ``timeout`` seconds in all) for the workers."""
    STOPPING.set()
    with _WORKERS_LOCK:
        running = list(WORKERS)
    deadline = time.monotonic() + timeout
    for thread in running:
        thread.join(max(deadline - time.monotonic(), 0.0))


def stopping(job: Job) -> bool:
    """Return whether a job should end now: its settings moved on, or the server stops."""
    return job.cancel.is_set() or STOPPING.is_set()


@dataclass
class Job:
    """A simulation job of one session: cancelled when the settings move on."""

    cancel: threading.Event
