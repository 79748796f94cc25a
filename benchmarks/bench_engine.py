"""Engine speed and memory: spiral's SimPy engine against a plain-SimPy floor.

Prints, for every built-in scenario, customers and node visits simulated per second by
spiral's engine and by a plain SimPy implementation of the same journey (one
``simpy.Resource`` per silo, one process per customer, ``with res.request()``, no
severity, handoffs, escalation, patience or records; the same demand: Poisson arrivals
thinned by the scenario's schedule), the ratio of the two measured in the same run, and
peak memory for 100k and 1M customers without the event log. Node visits are served
visits, outcomes included; for spiral they include misrouted (ping-pong) visits, which
take a server and time like any other.

    python benchmarks/bench_engine.py                 # full table (a few minutes)
    python benchmarks/bench_engine.py --quick         # smaller runs, no 1M memory row
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from bisect import bisect_right

import simpy

from spiral.analysis.results import run
from spiral.engines.journey import CONTACT, OUTCOME, compile_journey
from spiral.engines.streams import draws, generator, uniforms
from spiral.model.loading import builtin_scenarios, load_scenario, with_length


def plain_simpy(scenario, customers: int, seed: int) -> tuple[float, int]:
    """Simulate the journey the textbook way; return (seconds, node visits)."""
    journey = compile_journey(scenario)
    env = simpy.Environment()
    silos = [simpy.Resource(env, staff) if staff else None for staff in journey.staff]
    # the same block-drawn numpy streams as the engine, so only the engines differ
    uniform = uniforms(seed, "decisions")
    nodes = {**scenario.steps, **scenario.contacts}
    samples = {}
    for i, name in enumerate(journey.names):
        if name in nodes:
            dist = nodes[name].service if name in scenario.steps else nodes[name].handling
            samples[i] = draws(generator(seed, "service", name), dist.sample)
    # the same demand as the scenario: Poisson arrivals, thinned by its schedule if it has one
    schedule = scenario.arrivals.schedule
    peak = max(schedule.multipliers) if schedule else 1.0
    cycle = 1440.0 if schedule is None or schedule.cycle == "day" else 10080.0
    slot = cycle / len(schedule.multipliers) if schedule else cycle
    top_rate = scenario.arrivals.rate * peak
    gap = draws(generator(seed, "arrivals"), lambda rng, n: rng.exponential(1 / top_rate, n))
    accept = uniforms(seed, "arrivals", "thinning")
    visits = [0]

    def pick(route):
        return route.targets[min(bisect_right(route.cumulative, uniform()), len(route.targets) - 1)]

    def customer():
        node = pick(journey.start)
        while journey.kind[node] != OUTCOME:
            duration = samples[node]()
            silo = silos[journey.silo[node]]
            if journey.staffed[node] and silo is not None:
                with silo.request() as req:
                    yield req
                    yield env.timeout(duration)
            elif duration > 0:
                yield env.timeout(duration)
            visits[0] += 1
            if journey.kind[node] == CONTACT:
                ok = uniform() < journey.fcr[node]
            else:
                ok = uniform() >= journey.failure[node]
            node = pick(journey.success[node] if ok else journey.failed[node])
        visits[0] += 1

    def arrivals():
        at = 0.0
        for _ in range(customers):
            at += gap()
            while schedule and accept() * peak >= schedule.multipliers[int(at % cycle / slot)]:
                at += gap()
            yield env.timeout(at - env.now)
            env.process(customer())

    env.process(arrivals())
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start, visits[0]


def spiral_engine(scenario, customers: int, seed: int) -> tuple[float, int]:
    """Simulate with spiral's engine; return (seconds, node visits)."""
    model = with_length(scenario, customers=customers)
    start = time.perf_counter()
    result = run(model, seed=seed, customers=False)
    seconds = time.perf_counter() - start
    # a misrouted (ping-pong) visit is served like any other, though it decides nothing
    misrouted = int(result.raw.customers.folded().cube()["ping_pongs"].sum())  # all, warm-up too
    return seconds, sum(result.raw.node_visits) + misrouted


PEAK_RSS = """
import json, resource, sys
from spiral.engines.simpy_engine import simulate_des as simulate
from spiral.model.loading import load_scenario, with_length

def peak() -> int:
    # VmHWM is this process's own high-water mark; Linux carries ru_maxrss over from the
    # parent across exec, which would report the benchmark's own peak instead
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

scenario = with_length(load_scenario(sys.argv[1]), customers=int(sys.argv[2]))
raw = simulate(scenario, 1, customers=False)
print(json.dumps([peak(), raw.customers.nbytes(), len(raw.customers)]))
"""


def peak_memory(name: str, customers: int) -> list[int]:
    """Return [peak RSS bytes, table bytes, customers] of a fresh process simulating them."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, name, str(customers)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def vectorised_table(big: int, small: int, repeats: int) -> None:
    """Print the vectorised engine's speed against the SimPy engine on the same journeys.

    Every built-in with unlimited staff and the loops off (what the vectorised engine
    runs); the SimPy engine runs ``small`` customers, the vectorised one ``big``.
    """
    from spiral.engines.analytic import unlimited, without_loops
    from spiral.engines.vectorised import simulate_vectorised

    print(
        f"\n# vectorised engine, unlimited staff and loops off: {big:,} customers "
        f"(SimPy engine: {small:,}), best of {repeats}\n"
    )
    print("| scenario | vectorised customers/s | SimPy engine customers/s | vectorised / SimPy |")
    print("|---|---:|---:|---:|")
    for name in builtin_scenarios():
        base = without_loops(unlimited(load_scenario(name)))
        fast = with_length(base, customers=big)
        slow = with_length(base, customers=small)
        best_fast = best_slow = float("inf")
        for seed in range(1, repeats + 1):
            started = time.perf_counter()
            simulate_vectorised(fast, seed, customers=False).customers.folded()
            best_fast = min(best_fast, time.perf_counter() - started)
            started = time.perf_counter()
            run(slow, seed=seed, customers=False).raw.customers.folded()
            best_slow = min(best_slow, time.perf_counter() - started)
        ours, theirs = big / best_fast, small / best_slow
        print(f"| {name} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.1f} |")


def main() -> None:
    """Print the speed table and the memory table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    customers = 5_000 if args.quick else args.customers
    repeats = 1 if args.quick else args.repeats
    print(f"# engine speed, {customers:,} customers per run, best of {repeats}, one core\n")
    print(
        "| scenario | spiral customers/s | spiral visits/s | plain SimPy customers/s "
        "| plain SimPy visits/s | spiral / plain (customers/s) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        ours = min(
            (spiral_engine(scenario, customers, seed) for seed in range(1, repeats + 1)),
            key=lambda r: r[0],
        )
        floor = min(
            (plain_simpy(scenario, customers, seed) for seed in range(1, repeats + 1)),
            key=lambda r: r[0],
        )
        print(
            f"| {name} | {customers / ours[0]:,.0f} | {ours[1] / ours[0]:,.0f} "
            f"| {customers / floor[0]:,.0f} | {floor[1] / floor[0]:,.0f} "
            f"| {floor[0] / ours[0]:.2f} |"
        )
    vectorised_table(20_000 if args.quick else 1_000_000, customers, repeats)
    sizes = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    print("\n# peak memory without the event log (fresh process each)\n")
    print("| scenario | customers | peak RSS | customer records in memory | bytes/customer |")
    print("|---|---:|---:|---:|---:|")
    first = next(iter(builtin_scenarios()))
    rows = []
    for n in sizes:
        rss, table, count = peak_memory(first, n)
        rows.append((n, rss))
        print(
            f"| {first} | {n:,} | {rss / 2**20:,.0f} MiB | {table / 2**20:,.1f} MiB "
            f"| {table / count:.0f} |"
        )
    (n0, r0), (n1, r1) = rows
    print(
        f"\nRSS growth per extra customer: {(r1 - r0) / (n1 - n0):.0f} bytes "
        f"({n0:,} -> {n1:,} customers)"
    )
    print(
        "max RSS of this process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
