"""How long `spiral explain` takes: exact numbers and the fix ranking, every built-in.

One solve carries the journey as it is and the journey with each step fixed (failure ×
0.5) together, at the tolerance ``spiral explain`` uses. For comparison, the same answers
solved one journey at a time (the numbers, then one solve per fixed step).

    python benchmarks/bench_explain.py
"""

from __future__ import annotations

import time

from spiral.engines.analytic import EXPLAIN_TOLERANCE, explain, theory
from spiral.model.loading import builtin_scenarios, load_scenario
from spiral.model.what_if import WhatIf
from spiral.model.what_if_arms import apply


def one_at_a_time(scenario) -> None:
    """Solve the journey, then once per fixed step, as explain did before."""
    options = {"approximate": True, "loops_off": True, "tolerance": EXPLAIN_TOLERANCE}
    theory(scenario, **options)
    for name, step in scenario.steps.items():
        if step.failure > 0:
            fix = WhatIf(changes=[{"change": "fix_step", "step": name, "factor": 0.5}])
            theory(apply(scenario, [fix]), **options)


def main() -> None:
    """Print seconds per built-in for the joint solve and for one journey at a time."""
    print(f"# spiral explain (unlimited staff, loops off), tolerance {EXPLAIN_TOLERANCE:g}\n")
    print("| scenario | steps ranked | explain (one solve) | one journey at a time | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        started = time.perf_counter()
        _, ranking = explain(scenario, 0.5, True, True, EXPLAIN_TOLERANCE)
        joint = time.perf_counter() - started
        started = time.perf_counter()
        one_at_a_time(scenario)
        separate = time.perf_counter() - started
        print(
            f"| {name} | {len(ranking)} | {joint:.2f} s | {separate:.2f} s "
            f"| {separate / joint:.1f}× |"
        )


if __name__ == "__main__":
    main()
