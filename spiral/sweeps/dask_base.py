"""A sweep's base scenario on every Dask worker, sent once: each run's message stays small.

A run's task names its base by a worker plugin's name instead of carrying the scenario.
Dask hands registered worker plugins to workers that join later, so runs go on while
workers come and go. Why it matters: the scheduler keeps its recent messages to each worker
(distributed's ``admin.low-level-log-length``, 1,000 by default); with the scenario in
every run's message that log held about 40 KB a run, up to 40 MB per worker.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

if TYPE_CHECKING:
    from spiral.sweeps.execution import RunTask


class SweepBase(WorkerPlugin):
    """A worker plugin that only holds a sweep's base scenario (its validated dict)."""

    def __init__(self, name: str, base: dict) -> None:
        self.name = name
        self.base = base


def with_base(runner: Callable[[RunTask], dict], task: RunTask, name: str) -> dict:
    """Run a task that travelled without its base, on a worker holding the plugin ``name``.

    Each run gets its own copy: the worker's runs share the plugin's.
    """
    from distributed import get_worker

    plugin: Any = get_worker().plugins.get(name)
    if plugin is None:
        raise RuntimeError(f"this worker was not given the sweep's base scenario ({name})")
    return runner(replace(task, base=copy.deepcopy(plugin.base)))
