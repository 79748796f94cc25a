"""How long `spiral explain --unlimited` takes, every built-in, against a 1 s target.

Times what the command computes (``spiral.analysis.explanation.explain``): the journey, the
journey with each step fixed (failure × 0.5) and the scenario's own step-fix what-ifs, in
one solve at the tolerance ``spiral explain`` uses. A built-in whose loops are on is timed
as ``--unlimited --without-loops`` (the only way the command solves it). Imports and the
first call's set-up (pandas) are paid before timing. The whole command as a user types it
(``spiral explain NAME --unlimited``: a fresh process, start-up included) is timed too,
and it is the command that the target is for. Each is timed ``--repeat`` times and the
best is kept: the machine may be shared. Ratio is time ÷ target (below 1: within it). The
``spiral`` timed is the one in this checkout, whatever is installed.

    python benchmarks/bench_explain.py [--repeat 3] [--target 1.0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's spiral
from spiral.analysis.explanation import explain  # noqa: E402
from spiral.engines.analytic import EXPLAIN_TOLERANCE, NoClosedForm  # noqa: E402
from spiral.model.loading import builtin_scenarios, load_scenario  # noqa: E402

TARGET = 1.0  # seconds per built-in


def solve(name: str) -> tuple[float, bool, int]:
    """Return seconds for one explain of a built-in, whether loops were off, steps ranked."""
    scenario = load_scenario(name)
    try:
        started = time.perf_counter()
        explained = explain(scenario, unlimited=True, tolerance=EXPLAIN_TOLERANCE)
        loops_off = False
    except NoClosedForm:  # loops on: the command needs --without-loops
        started = time.perf_counter()
        explained = explain(
            scenario, unlimited=True, without_loops=True, tolerance=EXPLAIN_TOLERANCE
        )
        loops_off = True
    return time.perf_counter() - started, loops_off, len(explained.ranking)


ROOT = Path(__file__).resolve().parent.parent


def command(name: str, flags: str) -> float:
    """Return the wall seconds of ``spiral explain NAME FLAGS`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "spiral", "explain", name, *flags.split()],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def main() -> None:
    """Print each built-in's best time against the target, and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timings per scenario (best kept)")
    parser.add_argument("--target", type=float, default=TARGET, help="seconds per scenario")
    args = parser.parse_args()
    solve("tipping_point")  # warm-up: pandas and the first call's imports
    print(f"# spiral explain --unlimited, tolerance {EXPLAIN_TOLERANCE:g}, best of {args.repeat}\n")
    print(
        "| scenario | flags | steps ranked | solve | command (fresh process) | target "
        "| ratio | within |"
    )
    print("|---|---|---:|---:|---:|---:|---:|:---:|")
    for name in builtin_scenarios():
        runs = [solve(name) for _ in range(max(args.repeat, 1))]
        seconds = min(run[0] for run in runs)
        _, loops_off, ranked = runs[0]
        flags = "--unlimited --without-loops" if loops_off else "--unlimited"
        whole = min(command(name, flags) for _ in range(max(args.repeat, 1)))
        ratio = whole / args.target
        print(
            f"| {name} | {flags} | {ranked} | {seconds:.3f} s | {whole:.2f} s "
            f"| {args.target:g} s | {ratio:.2f} | {'yes' if ratio < 1 else 'NO'} |"
        )


if __name__ == "__main__":
    main()
