"""Peak memory and time of large `spiral run --out` commands, against the size guard's estimate.

Each run is a fresh process running the real command line (``spiral run online_retail
--customers N --out DIR``, the default outputs); its peak resident memory is read from
the kernel (``ru_maxrss``). Targets: a five-million-customer run with the default outputs
(``customers.parquet`` streamed) peaks under 500 MB, memory grows by less than 100 MB from
the smallest run to the largest, and the guard's estimate (``spiral.model.limits.run_size``)
is never below what a run really takes (the guard must not let through a run that will
not fit).

    python benchmarks/bench_memory.py                 # 100k, 1M and 5M customers (~8 min)
    python benchmarks/bench_memory.py --customers 200000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import resource, sys
from spiral.cli import main
sys.argv = ["spiral", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print("peak_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, code, file=sys.stderr)
"""


def measure(customers: int, scenario: str) -> tuple[float, float, int]:
    """Return (peak bytes, seconds, exit code) of one run in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, "run", scenario, "--customers", str(customers)]
            + ["--out", str(Path(folder) / "out"), "--limit", f"customers={customers}"],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    line = [x for x in done.stderr.splitlines() if x.startswith("peak_kib")][-1]
    _, kib, code = line.split()
    return float(kib) * 1024, seconds, int(code)


def main() -> None:
    """Print each target, its measured value and the ratio."""
    from spiral.model.limits import available_memory, run_size, size
    from spiral.model.loading import load_scenario, with_length

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="*", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--scenario", default="online_retail")
    args = parser.parse_args()
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(
        f"machine: {os.cpu_count()} cores, {size(machine)} of memory, "
        f"{size(available_memory())} available now"
    )
    print()
    print("| customers | wall | peak RSS | guard's estimate | estimate / peak | peak / machine |")
    print("|---:|---:|---:|---:|---:|---:|")
    rows = []
    for n in args.customers:
        peak, seconds, code = measure(n, args.scenario)
        if code != 0:
            raise SystemExit(f"spiral run --customers {n} exited {code}")
        estimate = run_size(with_length(load_scenario(args.scenario), customers=n)).memory
        rows.append((n, peak, estimate))
        print(
            f"| {n:,} | {seconds:.0f} s | {size(peak)} | {size(estimate)} | "
            f"{estimate / peak:.2f} | {peak / machine:.1%} |",
            flush=True,
        )
    print()
    largest, peak, estimate = rows[-1]
    print("| target | measured | ratio |")
    print("|---|---:|---:|")
    print(
        f"| {largest:,} customers fit in 80% of this machine's memory "
        f"(≤ {size(0.8 * machine)}) | {size(peak)} | {peak / (0.8 * machine):.2f} |"
    )
    if largest >= 5_000_000:
        print(
            f"| {largest:,} customers with the default outputs < 500 MB | {size(peak)} "
            f"| {peak / (500 * 2**20):.2f} |"
        )
    if len(rows) >= 2:
        (n0, p0, _), (n1, p1, _) = rows[0], rows[-1]
        print(
            f"| growth from {n0:,} to {n1:,} customers < 100 MB | {size(p1 - p0)} "
            f"| {(p1 - p0) / (100 * 2**20):.2f} |"
        )
    worst = min(estimate / peak for _, peak, estimate in rows)
    print(
        f"| the guard's estimate ≥ the peak, every size | lowest estimate / peak {worst:.2f} "
        f"| {worst:.2f} |"
    )
    if len(rows) >= 2:
        (n0, p0, _), (n1, p1, _) = rows[-2], rows[-1]
        print()
        print(
            f"memory per extra customer: {(p1 - p0) / (n1 - n0):.0f} bytes "
            f"({n0:,} -> {n1:,} customers)"
        )


if __name__ == "__main__":
    main()
