"""Animation clips: size and drawing time of a 60-second GIF of every built-in scenario.

The goal: a 60 s clip under 10 MB. Each scenario runs for 4 days (2 past a longer
warm-up) with the event log, then 600 frames (10 per second) are drawn and written.

    python benchmarks/bench_animation.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from spiral.analysis.results import run
from spiral.model.loading import builtin_scenarios, load_scenario, with_length
from spiral.views.animation import animate


def main() -> None:
    """Print clip size and time per built-in scenario."""
    print(
        "# 60-second GIF (600 frames at 10 per second), 4 simulated days (or 2 past the warm-up)\n"
    )
    print("| scenario | customers | frames | size | drawing time |")
    print("|---|---:|---:|---:|---:|")
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        horizon = max(4 * 1440.0, scenario.warmup + 2 * 1440.0)  # past any warm-up
        result = run(with_length(scenario, horizon=horizon), seed=1, event_log=True)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "run.gif"
            started = time.perf_counter()
            animate(result, out, seconds=60, fps=10)
            seconds = time.perf_counter() - started
            size = out.stat().st_size / 2**20
        print(f"| {name} | {len(result.customers):,} | 600 | {size:.1f} MB | {seconds:.0f} s |")


if __name__ == "__main__":
    main()
