"""Peer benchmark: one open Jackson network in spiral and in six other implementations.

The network (time unit one minute): Poisson arrivals, 1 a minute, into ``order``; six
M/M/c nodes (servers, service rate per minute) order (4, 2.0), payment (2, 4.0),
fulfilment (3, 1.5), delivery (5, 1.0), support (3, 1.2), billing (2, 3.0); order, payment,
fulfilment, delivery and billing send 10% to support, else order -> payment -> fulfilment
-> delivery; delivery -> billing 0.5 / exit 0.4; billing -> exit 0.9; support -> exit
0.6 / support 0.2 / fulfilment 0.2. Jackson theory (computed here: traffic equations,
Erlang C per node, W = Σ L_i / λ): 4.546 visits and 2.72196 min in system per customer;
with unlimited servers (the capacity-free variant) W = Σ visits_i / μ_i = 2.70985 min.

Implementations (benchmarks/peers/implementations.py, scenario files beside it):

- spiral-textbook: ``jackson_textbook.yaml`` on spiral's SimPy engine, every
  customer-experience mechanism neutral (only routing and timing);
- spiral-full: ``jackson_full.yaml``, the same network with severity, the baton, cold
  handoffs, escalation, loyalty and churn on (compounding 1 and ping_pong 0, because those
  two change routing and timing; the file's header says why);
- simpy: plain SimPy, one ``simpy.Resource`` per node, one process per customer;
- ciw: Ciw 3.2 (``pip install 'ciw>=3.2'``, the ``bench`` extra), ``create_network`` with
  the routing matrix (what a row does not route leaves), run until N customers finish;
- heapq: a pure-Python event loop on a binary heap (the floor for event-by-event);
- numpy-free: the capacity-free network vectorised over chunks of 200,000 customers;
- spiral-vectorised-free: ``jackson_free.yaml`` (``staff: unlimited``) on spiral's
  vectorised engine.

Each run is a fresh process (``python -c CHILD``); runs go round-robin over the
implementations (the order rotated every round), R rounds, seed = round + 1. Measured per
run: customers/s (customers ÷ the simulation's wall time, not imports or scenario
loading), peak memory (``ru_maxrss`` read in the child just after the simulation, before
its results are summarised; MB = 10⁶ bytes), and per finished customer arriving after a
60-minute warm-up its time in system and visits. The mean time in system has a 95%
Student-t interval from batch means (20 per run, in arrival order, pooled over rounds).
spiral runs as ``run(scenario, seed, engine, customers=False)``: no customer table (the
default of ``spiral run`` without ``--out``), so its mean time in system and visits are
the run's exact means from its summary, and the interval is over the rounds' run means
(few observations: a rough interval); ``--keep-customers`` keeps the table
(``customers=True``, spooled to disk, which slows spiral) and gives batch means like the
others. spiral's memory is also measured at two sizes (the full model, SimPy engine,
customer table off) for the growth target.

    python benchmarks/bench_peers.py            # ~4 minutes on 2 busy cores
    python benchmarks/bench_peers.py --quick    # ~1 minute
    python benchmarks/bench_peers.py --only simpy ciw --repeats 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PEERS = Path(__file__).resolve().parent / "peers"
sys.path.insert(0, str(PEERS))

from implementations import IMPLEMENTATIONS, NAMES, RATES, SERVERS, jackson  # noqa: E402

BATCHES = 20
FREE = {"numpy-free", "spiral-vectorised-free"}  # capacity-free: unlimited servers
LABELS = {
    "spiral-textbook": "spiral SimPy engine, textbook settings",
    "spiral-full": "spiral SimPy engine, full model",
    "simpy": "plain SimPy",
    "ciw": "Ciw",
    "heapq": "pure-Python heapq event loop",
    "numpy-free": "numpy floor (capacity-free)",
    "spiral-vectorised-free": "spiral vectorised engine (capacity-free)",
}

CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import implementations
from implementations import IMPLEMENTATIONS, WARMUP, table_bytes
name, customers, seed, batches = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
implementations.KEEP["customers"] = sys.argv[6] == "1"
simulate, summarise = IMPLEMENTATIONS[name]
seconds, kept = simulate(customers, seed)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) * 1024
out = {"seconds": seconds, "peak": peak, "hwm": hwm, "table": table_bytes(kept)}
got = summarise(kept)
if isinstance(got, dict):  # a spiral run without its customer table: the run's exact means
    out.update(run_mean=got["mean"], measured=got["measured"],
               visits=got["visits"] * got["measured"])
else:
    arrival, spent, visits = got
    measured = arrival >= WARMUP
    spent, visits = spent[measured], visits[measured]
    out.update(run_mean=float(spent.mean()), measured=int(measured.sum()),
               visits=float(visits.sum()),
               batch_means=[float(b.mean()) for b in np.array_split(spent, batches)])
print(json.dumps(out))
"""


def measure(name: str, customers: int, seed: int, keep: bool = False) -> dict:
    """Run one implementation in a fresh process; return its measurements."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(PEERS), name, str(customers), str(seed), str(BATCHES)]
        + ["1" if keep else "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} ({customers:,} customers) failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def interval(runs: list[dict]) -> tuple[float, float, str]:
    """Return a mean time in system, the half-width of its 95% Student-t interval, and how.

    From the batch means of every run when the runs kept per-customer times, else from
    the runs' own means (one observation a run; no interval from a single run).
    """
    import numpy as np  # imported late: the parent stays small while children run

    from spiral.analysis.compare import t_half_width

    if all("batch_means" in x for x in runs):
        means, how = [m for x in runs for m in x["batch_means"]], f"{BATCHES} batch means a run"
    else:
        means, how = [x["run_mean"] for x in runs], "run means"
    return statistics.fmean(means), t_half_width(np.array(means)), how


def mb(n: float) -> str:
    """Format bytes as MB (10⁶ bytes)."""
    return f"{n / 1e6:,.0f} MB"


def main() -> None:
    """Run every implementation round-robin; print the table and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="event-by-event runs")
    parser.add_argument("--free-customers", type=int, default=2_000_000, help="capacity-free")
    parser.add_argument("--repeats", type=int, default=5, help="rounds over the implementations")
    parser.add_argument("--memory", type=int, nargs=2, default=[100_000, 1_000_000])
    parser.add_argument("--only", nargs="*", choices=list(IMPLEMENTATIONS), default=None)
    parser.add_argument(
        "--keep-customers",
        action="store_true",
        help="spiral keeps its customer table (run(customers=True)): batch-means intervals",
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs (~1 minute)")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.free_customers = 10_000, 500_000
        args.memory = [100_000, 300_000]
    names = args.only or list(IMPLEMENTATIONS)
    if "ciw" in names and importlib.util.find_spec("ciw") is None:  # a benchmark-only peer
        print(
            "bench_peers.py: ciw is not installed (pip install '.[bench]'): left out",
            file=sys.stderr,
        )
        names.remove("ciw")
    theory = jackson()
    sizes = {n: args.free_customers if n in FREE else args.customers for n in names}
    runs: dict[str, list[dict]] = {n: [] for n in names}
    started = time.perf_counter()
    for r in range(args.repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            runs[name].append(measure(name, sizes[name], r + 1, args.keep_customers))
            last = runs[name][-1]
            print(
                f"round {r + 1}/{args.repeats} {name}: {sizes[name] / last['seconds']:,.0f} "
                f"customers/s, {mb(last['peak'])}",
                file=sys.stderr,
                flush=True,
            )
    memory = []
    for n in args.memory:
        memory.append((n, measure("spiral-full", n, seed=1, keep=False)))
        print(f"memory {n:,}: {mb(memory[-1][1]['peak'])}", file=sys.stderr, flush=True)
    wall = time.perf_counter() - started

    print(
        f"# peer benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{args.repeats} rounds, {wall / 60:.1f} min in all; spiral's customer table "
        f"{'kept' if args.keep_customers else 'off'}\n"
    )
    print(
        "Jackson theory (numpy): visits per customer "
        f"{theory['visits'].sum():.4f}, mean time in system {theory['time_in_system']:.5f} min "
        f"(capacity-free {theory['time_in_system_free']:.5f} min); utilisation "
        + ", ".join(f"{n} {u:.3f}" for n, u in zip(NAMES, theory["utilisation"], strict=True))
        + f"; servers {SERVERS}, μ {RATES}\n"
    )
    speed = {n: [sizes[n] / x["seconds"] for x in runs[n]] for n in names}
    median = {n: statistics.median(speed[n]) for n in names}
    print(
        "| implementation | customers a run | customers/s (median) | min–max | × plain SimPy "
        "| peak memory | visits/customer | mean time in system (95% CI) | CI from | theory "
        "| theory in CI |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|:---:|")
    for n in names:
        mean, half, how = interval(runs[n])
        exact = theory["time_in_system_free" if n in FREE else "time_in_system"]
        visits = sum(x["visits"] for x in runs[n]) / sum(x["measured"] for x in runs[n])
        versus = f"{median[n] / median['simpy']:.2f}" if "simpy" in median else "–"
        print(
            f"| {LABELS[n]} | {sizes[n]:,} | {median[n]:,.0f} | "
            f"{min(speed[n]):,.0f}–{max(speed[n]):,.0f} | {versus} | "
            f"{mb(statistics.median(x['peak'] for x in runs[n]))} | {visits:.4f} | "
            f"{mean:.5f} ± {half:.5f} | {how} | {exact:.5f} | "
            f"{'n/a' if math.isnan(half) else 'yes' if abs(mean - exact) <= half else 'no'} |"
        )
    (n0, small), (n1, big) = memory
    growth = big["peak"] - small["peak"]
    table_growth = big["table"] - small["table"]
    print("\n# spiral SimPy engine memory (full model, customer table off, fresh process each)\n")
    print("| customers | peak memory (ru_maxrss) | VmHWM | spiral's customer records | wall |")
    print("|---:|---:|---:|---:|---:|")
    for n, x in memory:
        print(
            f"| {n:,} | {mb(x['peak'])} | {mb(x['hwm'])} | {mb(x['table'])} "
            f"| {x['seconds']:.1f} s |"
        )

    print("\n# TARGETS\n")
    print("| target | measured | ratio |")
    print("|---|---:|---:|")

    def row(text: str, value: str, ratio: float | None) -> None:
        print(f"| {text} | {value} | {'–' if ratio is None else f'{ratio:.2f}'} |")

    if {"spiral-full", "simpy"} <= set(names):
        paired = [a / b for a, b in zip(speed["spiral-full"], speed["simpy"], strict=True)]
        ratio = median["spiral-full"] / median["simpy"]
        row(
            "spiral SimPy engine (full model) ÷ plain SimPy customers/s ≥ 1.2",
            f"{ratio:.2f} (per round {min(paired):.2f}–{max(paired):.2f})",
            ratio / 1.2,
        )
    if "spiral-vectorised-free" in names:
        value = median["spiral-vectorised-free"]
        row(
            "spiral vectorised (capacity-free) customers/s ≥ 1,000,000",
            f"{value:,.0f}",
            value / 1e6,
        )
    if {"spiral-vectorised-free", "numpy-free"} <= set(names):
        ratio = median["spiral-vectorised-free"] / median["numpy-free"]
        row("spiral vectorised ÷ numpy floor (capacity-free) ≥ 0.5", f"{ratio:.2f}", ratio / 0.5)
    row(
        f"memory growth of spiral run {n0:,} → {n1:,} customers (customer table off) < 100 MB",
        mb(growth),
        growth / 100e6,
    )
    print(
        f"\nmemory per extra customer: {growth / (n1 - n0):.0f} bytes (customer table off; "
        f"spiral's records of its customers grew {table_growth / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
