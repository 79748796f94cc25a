"""Closed forms of the queues a silo makes: Erlang C (patient callers) and Erlang A.

Used by `spiral validate --theory` to check the SimPy engine's waits and abandonment.
"""

from __future__ import annotations

import numpy as np


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> tuple[float, float]:
    """Return (P(wait), mean wait in queue) of an M/M/c queue (Erlang C); rates per minute."""
    a = arrival_rate / service_rate
    if servers < 1 or a >= servers:
        raise ValueError(f"unstable or empty queue: offered load {a:g} with {servers} servers")
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= a / k
        total += term
    top = term * a / servers * servers / (servers - a)
    p_wait = top / (total + top)
    return p_wait, p_wait / (servers * service_rate - arrival_rate)


def erlang_a(
    arrival_rate: float, service_rate: float, servers: int, patience_rate: float
) -> dict[str, float]:
    """Return P(abandon), P(wait), mean queue wait and mean queue length of an M/M/c+M queue.

    Exact stationary distribution of the birth-death chain (births λ, deaths
    min(n, c)·μ + max(n − c, 0)·θ), summed until the tail is negligible.
    """
    if servers < 1 or service_rate <= 0 or patience_rate <= 0:
        raise ValueError("expected servers >= 1 and positive service and patience rates")
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, servers) * service_rate + max(n - servers, 0) * patience_rate
        weights.append(weights[-1] * arrival_rate / death)
        if n > servers and weights[-1] < 1e-16 * sum(weights):
            break
    p = np.asarray(weights) / sum(weights)
    states = np.arange(len(p))
    queue = np.maximum(states - servers, 0)
    mean_queue = float((queue * p).sum())
    abandon_rate = patience_rate * mean_queue
    return {
        "p_abandon": abandon_rate / arrival_rate,
        "p_wait": float(p[servers:].sum()),
        "mean_wait": mean_queue / arrival_rate,  # Little: over all arrivals
        "mean_queue": mean_queue,
    }
