"""The peer benchmark's network, its Jackson theory, and each implementation of it.

Imported by ``benchmarks/bench_peers.py`` (the theory) and by its child processes (one
implementation per process). Every implementation has ``simulate(customers, seed)``,
timed, returning what it kept, and ``summarise(kept)``, not timed, returning per-customer
arrays in arrival order: arrival time, time in system and visits (outcomes not counted),
finished customers only. Time unit: one minute.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from array import array
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
NAMES = ("order", "payment", "fulfilment", "delivery", "support", "billing")
SERVERS = (4, 2, 3, 5, 3, 2)
RATES = (2.0, 4.0, 1.5, 1.0, 1.2, 3.0)  # service rate μ per minute
ARRIVAL_RATE = 1.0  # λ per minute, all into order
EXIT = len(NAMES)
WARMUP = 60.0  # minutes; customers arriving before it are not measured
CHUNK = 200_000  # customers per numpy chunk (the vectorised engine's chunk too)


def routing() -> np.ndarray:
    """Return the 6 × 7 routing matrix: row = from, columns = the six nodes, then exit."""
    order, payment, fulfilment, delivery, support, billing = range(6)
    p = np.zeros((6, 7))
    for node in (order, payment, fulfilment, delivery, billing):
        p[node, support] = 0.1
    p[order, payment] = p[payment, fulfilment] = p[fulfilment, delivery] = 0.9
    p[delivery, billing], p[delivery, EXIT] = 0.5, 0.4
    p[billing, EXIT] = 0.9
    p[support, EXIT], p[support, support], p[support, fulfilment] = 0.6, 0.2, 0.2
    return p


def jackson() -> dict[str, Any]:
    """Return the traffic equations' visits per node and the Jackson mean times in system."""
    from spiral.engines.queueing import erlang_c  # here: the peers' children never load spiral

    p = routing()[:, :6]
    entry = np.zeros(6)
    entry[0] = ARRIVAL_RATE
    flow = np.linalg.solve(np.eye(6) - p.T, entry)  # λ_i = γ_i + Σ_j λ_j p_ji
    mu, servers = np.array(RATES), np.array(SERVERS)
    in_node = [  # L_i = λ_i W_i, W_i = Erlang C's mean wait + the service
        lam * (erlang_c(lam, rate, int(c))[1] + 1 / rate)
        for lam, rate, c in zip(flow, mu, servers, strict=True)
    ]
    return {
        "visits": flow / ARRIVAL_RATE,
        "utilisation": flow / (mu * servers),
        "time_in_system": float(sum(in_node)) / ARRIVAL_RATE,
        "time_in_system_free": float((flow / mu).sum()) / ARRIVAL_RATE,
    }


def _routes() -> list[tuple[list[float], list[int]]]:
    """Return per node the cumulative probabilities and targets (EXIT for leaving)."""
    out = []
    for row in routing():
        targets = [j for j in range(7) if row[j] > 0]
        out.append((list(np.cumsum(row[targets])), targets))
    return out


def _pick(route: tuple[list[float], list[int]], u: float) -> int:
    """Return the target a uniform draw falls on."""
    cumulative, targets = route
    for edge, target in zip(cumulative, targets, strict=True):
        if u < edge:
            return target
    return targets[-1]


Kept = tuple[array, array, array]  # arrival, end, visits, one entry per finished customer


def _arrays(kept: Kept) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (arrival, time in system, visits) sorted by arrival."""
    arrival = np.frombuffer(kept[0], np.float64)
    end = np.frombuffer(kept[1], np.float64)
    visits = np.frombuffer(kept[2], np.int32)
    order = np.argsort(arrival, kind="stable")
    return arrival[order], (end - arrival)[order], visits[order]


# --- plain SimPy ---------------------------------------------------------------------


def simpy_simulate(customers: int, seed: int) -> tuple[float, Kept]:
    """Simulate with one simpy.Resource per node and one process per customer."""
    import simpy

    rng = random.Random(seed)
    expo, uniform = rng.expovariate, rng.random
    env = simpy.Environment()
    nodes = [simpy.Resource(env, c) for c in SERVERS]
    routes = _routes()
    kept: Kept = (array("d"), array("d"), array("i"))

    def customer(arrived: float):  # noqa: ANN202 - a SimPy process
        node, visits = 0, 0
        while node != EXIT:
            with nodes[node].request() as req:
                yield req
                yield env.timeout(expo(RATES[node]))
            visits += 1
            node = _pick(routes[node], uniform())
        kept[0].append(arrived)
        kept[1].append(env.now)
        kept[2].append(visits)

    def arrivals():  # noqa: ANN202 - a SimPy process
        for _ in range(customers):
            yield env.timeout(expo(ARRIVAL_RATE))
            env.process(customer(env.now))

    start = time.perf_counter()
    env.process(arrivals())
    env.run()
    return time.perf_counter() - start, kept


# --- a pure-Python heapq event loop --------------------------------------------------


def heapq_simulate(customers: int, seed: int) -> tuple[float, Kept]:
    """Simulate with a binary-heap event list of service completions (the floor)."""
    rng = random.Random(seed)
    expo, uniform = rng.expovariate, rng.random
    routes = _routes()
    start = time.perf_counter()
    busy = [0] * len(NAMES)
    queues: list[deque[int]] = [deque() for _ in NAMES]
    where: list[int] = []  # node of each customer
    arrived = array("d")
    visits = array("i")
    kept: Kept = (array("d"), array("d"), array("i"))
    events: list[tuple[float, int]] = []  # (completion time, customer)
    push, pop = heapq.heappush, heapq.heappop
    next_arrival = expo(ARRIVAL_RATE)
    admitted = 0
    inf = math.inf

    def join(now: float, cid: int, node: int) -> None:
        where[cid] = node
        if busy[node] < SERVERS[node]:
            busy[node] += 1
            push(events, (now + expo(RATES[node]), cid))
        else:
            queues[node].append(cid)

    while events or admitted < customers:
        if next_arrival < (events[0][0] if events else inf):
            now, cid = next_arrival, admitted
            where.append(0)
            arrived.append(now)
            visits.append(0)
            admitted += 1
            next_arrival = now + expo(ARRIVAL_RATE) if admitted < customers else inf
            join(now, cid, 0)
            continue
        now, cid = pop(events)
        node = where[cid]
        visits[cid] += 1
        if queues[node]:
            push(events, (now + expo(RATES[node]), queues[node].popleft()))
        else:
            busy[node] -= 1
        target = _pick(routes[node], uniform())
        if target == EXIT:
            kept[0].append(arrived[cid])
            kept[1].append(now)
            kept[2].append(visits[cid])
        else:
            join(now, cid, target)
    return time.perf_counter() - start, kept


# --- Ciw -----------------------------------------------------------------------------


def ciw_simulate(customers: int, seed: int) -> tuple[float, Any]:
    """Simulate with Ciw until ``customers`` have left the network; return its records."""
    import ciw

    start = time.perf_counter()
    # Ciw's matrix: row i gives P(i -> j) for the nodes only; 1 - the row's sum leaves
    matrix = [[float(x) for x in row[:6]] for row in routing()]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ARRIVAL_RATE)] + [None] * 5,
        service_distributions=[ciw.dists.Exponential(rate=rate) for rate in RATES],
        number_of_servers=list(SERVERS),
        routing=matrix,
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(customers, method="Finish")
    return time.perf_counter() - start, sim


def ciw_summarise(sim: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per finished customer (arrival, time in system, visits) from Ciw's records."""
    records = sim.get_all_records()
    ids = np.array([r.id_number for r in records])
    arrival = np.array([r.arrival_date for r in records])
    leave = np.array([r.exit_date if r.destination == -1 else -1.0 for r in records])
    order = np.argsort(ids, kind="stable")
    ids, arrival, leave = ids[order], arrival[order], leave[order]
    first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    visits = np.diff(np.r_[first, len(ids)])
    came = np.minimum.reduceat(arrival, first)
    end = np.maximum.reduceat(leave, first)
    done = end >= 0
    by_arrival = np.argsort(came[done], kind="stable")
    return came[done][by_arrival], (end - came)[done][by_arrival], visits[done][by_arrival]


# --- numpy, capacity-free ------------------------------------------------------------


def numpy_free_simulate(customers: int, seed: int) -> tuple[float, list]:
    """Simulate the network with unlimited servers, vectorised over chunks of customers."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    p = routing()
    # node n's row shifted by n, flattened: one searchsorted routes customers at any node
    edges = (np.cumsum(p, axis=1) + np.arange(6)[:, None]).ravel()
    scale = 1 / np.array(RATES)
    clock = 0.0
    kept = []
    for first in range(0, customers, CHUNK):
        n = min(CHUNK, customers - first)
        arrival = clock + np.cumsum(rng.exponential(1 / ARRIVAL_RATE, n))
        clock = float(arrival[-1])
        spent = np.zeros(n)
        visits = np.zeros(n, np.int32)
        who = np.arange(n)
        node = np.zeros(n, np.int64)
        while who.size:
            spent[who] += rng.standard_exponential(who.size) * scale[node]
            visits[who] += 1
            node = np.searchsorted(edges, rng.random(who.size) + node, side="right") - 7 * node
            node = np.minimum(node, EXIT)
            stay = node < EXIT
            who, node = who[stay], node[stay]
        kept.append((arrival, spent, visits))
    return time.perf_counter() - start, kept


def numpy_free_summarise(kept: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (arrival, time in system, visits) over the chunks."""
    return tuple(np.concatenate([chunk[k] for chunk in kept]) for k in range(3))  # type: ignore[return-value]


# --- spiral --------------------------------------------------------------------------

KEEP = {"customers": False}  # run(customers=...): keep the customer table (the child sets it)


def _spiral(file: str, engine: str) -> Callable[[int, int], tuple[float, Any]]:
    """Return a simulate() running a scenario file of benchmarks/peers on an engine."""

    def simulate(customers: int, seed: int) -> tuple[float, Any]:
        from spiral.analysis.results import run
        from spiral.model.loading import load_scenario, with_length

        scenario = with_length(load_scenario(HERE / file), customers=customers)
        start = time.perf_counter()
        result = run(scenario, seed=seed, engine=engine, customers=KEEP["customers"])
        seconds = time.perf_counter() - start
        if result.raw.engine != engine:
            raise RuntimeError(f"asked for the {engine} engine, ran {result.raw.engine}")
        return seconds, result

    return simulate


def spiral_summarise(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | dict:
    """Return per-customer arrays if the run kept its customer table, else the run's means.

    Without the table: the exact mean time in system of the measured, finished customers
    and the node visits per customer, from the run's summary (its tally of every row).
    """
    if not KEEP["customers"]:
        summary = result.summary
        nodes = {*result.scenario.steps, *result.scenario.contacts}
        return {
            "mean": summary["time_in_journey_mean_h"] * 60,
            "visits": sum(v for k, v in summary["visits_per_customer"].items() if k in nodes),
            "measured": summary["completed"],
        }
    frame = result.customers
    frame = frame[frame["outcome"] != "in_progress"].sort_values("arrival")
    arrival = frame["arrival"].to_numpy()
    # the customer table counts the outcome as a visit; the network's visits do not
    return arrival, frame["end"].to_numpy() - arrival, frame["visits"].to_numpy() - 1


def table_bytes(result: Any) -> int:
    """Return the bytes a spiral run holds for its customers in memory (0 for the others)."""
    return int(result.raw.customers.nbytes()) if hasattr(result, "raw") else 0


IMPLEMENTATIONS: dict[str, tuple[Callable[[int, int], tuple[float, Any]], Callable]] = {
    "spiral-textbook": (_spiral("jackson_textbook.yaml", "des"), spiral_summarise),
    "spiral-full": (_spiral("jackson_full.yaml", "des"), spiral_summarise),
    "simpy": (simpy_simulate, _arrays),
    "ciw": (ciw_simulate, ciw_summarise),
    "heapq": (heapq_simulate, _arrays),
    "numpy-free": (numpy_free_simulate, numpy_free_summarise),
    "spiral-vectorised-free": (_spiral("jackson_free.yaml", "vectorised"), spiral_summarise),
}
