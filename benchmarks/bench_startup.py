"""How long spiral takes before it does anything: `spiral --help` and `import spiral`.

Each is a fresh process, best of 7 (the machine is shared: the best is the cost, the rest
is noise). Target: `spiral --help` under 0.5 s; `import spiral` loads no heavy library.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time


def best(command: list[str], times: int = 7) -> float:
    """Return the shortest wall time of a command over ``times`` runs."""
    found = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        found.append(time.perf_counter() - started)
    return min(found)


def main() -> None:
    """Print each target, its measured value and the ratio."""
    spiral = shutil.which("spiral") or sys.exit("spiral is not installed (pip install .)")
    python = best([sys.executable, "-c", "pass"])
    help_time = best([spiral, "--help"])
    import_time = best([sys.executable, "-c", "import spiral"])
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, spiral; print(sum(m.split('.')[0] in ('pandas', 'scipy', 'matplotlib', "
            "'pyarrow', 'simpy', 'typer') for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print("| target | measured | ratio |")
    print("|---|---:|---:|")
    print(f"| `spiral --help` < 0.5 s | {help_time:.2f} s | {help_time / 0.5:.2f} |")
    print(
        f"| `import spiral` (python alone: {python:.2f} s) | {import_time:.2f} s | "
        f"{import_time / max(python, 1e-9):.2f}× python |"
    )
    print(f"| heavy modules loaded by `import spiral` = 0 | {heavy} | |")


if __name__ == "__main__":
    main()
