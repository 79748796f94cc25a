"""Worker processes that never outlive their command, and SIGTERM treated like Ctrl-C.

Pools are sized to the work (never more processes than runs). Each worker ignores
Ctrl-C (the command decides what to do about it), and on Linux asks the kernel to end it
when the command's process dies, even by ``kill -9``. When the command is interrupted —
Ctrl-C, or SIGTERM as sent by ``timeout``, CI and systemd — its pools are ended at once,
not left to finish the runs they hold.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    wait,
)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM reached the command: it stops, cleaning up first.

    A BaseException of its own (not KeyboardInterrupt) so that no layer in between turns
    it into an exit code before the command has said what it kept.
    """

    def __init__(self, signum: int | str) -> None:
        # SimPy re-raises an exception from a process as type(e)(*e.args): the name comes back
        number = signal.Signals[signum] if isinstance(signum, str) else signal.Signals(signum)
        super().__init__(number.name)
        self.signum = int(number)

    @property
    def exit_code(self) -> int:
        """Return the shell's code for a process ended by this signal (130, 143)."""
        return 128 + self.signum


class WorkersFailed(RuntimeError):
    """Worker processes could not be started (the system refused a new process)."""


def cores() -> int:
    """Return the cores this process may use (portable: not every system has affinity)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def worker_init() -> None:
    """Set a worker process up: ignore Ctrl-C, die with the command that started it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the command's
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the command died before the request took effect
            os._exit(1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Return a pool of ``workers`` processes set up by ``worker_init``."""
    return ProcessPoolExecutor(max_workers=max(1, workers), initializer=worker_init)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End a pool now: cancel what waits, end the processes running work, reap them."""
    with signals_deferred():  # a second Ctrl-C must not leave a lock of the pool held
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(OSError, AttributeError):
                process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, AttributeError, ValueError):
                process.join(5)
                if process.is_alive():
                    process.kill()
                    process.join(1)


def finished(futures: Iterable[Future], any_one: bool = False) -> set[Future]:
    """Wait (in slices, looking for a deferred signal) until all futures, or any one, finish."""
    waiting = list(futures)
    while True:
        done, _ = wait(
            waiting, timeout=WAIT, return_when=FIRST_COMPLETED if any_one else ALL_COMPLETED
        )
        check_interrupt()
        if done and (any_one or len(done) == len(waiting)):
            return done


def submit_failed(error: OSError) -> WorkersFailed:
    """Return the one-line error for a pool that could not start its processes."""
    return WorkersFailed(
        f"cannot start worker processes ({error.strerror or error}); expected the system to "
        "allow new processes (try fewer --jobs/--workers, or 1)"
    )


WAIT = 0.25
"""Seconds a command waits on its workers before it looks for a deferred signal again."""

_deferred = {"depth": 0, "signum": None}


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Within the block, Ctrl-C and SIGTERM are noted, not raised: ``check_interrupt`` raises.

    A pool's bookkeeping holds locks that its manager thread also takes; an exception
    raised by a signal handler between a lock's acquire and its ``with`` block leaves the
    lock held, and the command hangs at exit. Code that drives a pool therefore waits in
    short slices (``WAIT``) and calls ``check_interrupt`` between them.
    """
    _deferred["depth"] += 1
    try:
        yield
    finally:
        _deferred["depth"] -= 1
    if not _deferred["depth"]:
        check_interrupt()


def check_interrupt() -> None:
    """Raise ``Interrupted`` for a signal noted while signals were deferred."""
    signum = _deferred["signum"]
    if signum is not None:
        _deferred["signum"] = None
        raise Interrupted(signum)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, Ctrl-C (SIGINT) and SIGTERM raise ``Interrupted`` in this thread.

    Inside ``signals_deferred`` they are only noted, to be raised at a safe point.
    """

    def handler(signum: int, frame: object) -> None:
        if _deferred["depth"]:
            _deferred["signum"] = signum
            return
        raise Interrupted(signum)

    previous = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
