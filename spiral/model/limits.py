"""Size guards: how much work and memory a command would take, refused before it starts.

A run is sized up front from its scenario: the customers it will simulate, the visits
each makes on average (from the journey's Markov chain), the ticks of the system loops
and the periods of the time series, and from those the memory it needs. Each has a
limit; a run past one is refused with one line naming the field, the figure and the
limit, and ``--limit NAME=VALUE`` raises it deliberately. The defaults are guesses sized
for a laptop (a run of ten million customers takes minutes and a few GB); the memory
limit is most of the memory this machine has free.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, fields, replace

import numpy as np

from spiral.model.scenario import Scenario

DAY = 1440.0


@dataclass(frozen=True)
class Limits:
    """The largest run, sweep and event log a command takes without being asked."""

    customers: float = 10_000_000
    """Customers one run simulates (arrivals over the horizon, or ``customers``)."""
    visits: float = 1_000
    """Mean visits per customer (expected from the journey's chain)."""
    work: float = 300_000_000
    """Visits in one run: customers × visits per customer."""
    ticks: float = 2_000_000
    """Updates of the system loops in one run: (horizon + drain) / loops.tick."""
    periods: float = 1_000_000
    """Rows of the time series: (horizon + drain) / period."""
    runs: float = 100_000
    """Runs in one sweep (design points × replications)."""
    log_events: float = 5_000_000
    """Events in an event log read by ``spiral from-log``."""
    memory: float = 0.0
    """Bytes a run may need; 0 means 80% of the memory available here."""

    def with_overrides(self, texts: list[str] | None) -> Limits:
        """Return these limits with ``NAME=VALUE`` overrides applied (ValueError if bad)."""
        if not texts:
            return self
        update = {}
        names = [f.name for f in fields(self)]
        for text in texts:
            name, _, value = text.partition("=")
            name = name.strip().replace("-", "_")
            if name not in names or not value.strip():
                raise ValueError(
                    f"expected NAME=VALUE with NAME one of {', '.join(names)}, got {text!r}"
                )
            update[name] = parse_amount(value, memory=name == "memory")
        return replace(self, **update)

    def memory_bytes(self) -> float:
        """Return the memory limit in bytes (80% of what is available when not set)."""
        return self.memory if self.memory > 0 else 0.8 * available_memory()


_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+]?[0-9]+)?)\s*([kKMGT]?)(i?B)?\s*$")
_SCALE = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_BINARY = {"": 1.0, "k": 2**10, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_amount(text: str, memory: bool = False) -> float:
    """Read ``'2e7'``, ``'20M'``, ``'inf'``, or for memory ``'8 GB'`` / ``'512 MiB'``.

    A value that is not a positive number is a ValueError.
    """
    if text.strip().lower() in ("inf", "none", "unlimited"):
        return math.inf
    match = _AMOUNT.match(text)
    if not match:
        unit = " (memory: '8 GB', '512 MB')" if memory else ""
        raise ValueError(f"expected a positive number like 2e7 or 20M{unit}, got {text!r}")
    number, prefix, byte_unit = match.groups()
    scale = _BINARY[prefix] if byte_unit == "iB" else _SCALE[prefix]
    value = float(number) * scale
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"expected a positive finite number, got {text!r}")
    return value


def available_memory() -> float:
    """Return the bytes of memory available to a new process here (best effort)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not on this platform
        return 8 * 2**30


def figure(value: float) -> str:
    """Return a count for a message: ``12,345`` or ``1.2e+12``."""
    if not math.isfinite(value):
        return "unbounded"
    return f"{value:,.0f}" if value < 1e9 else f"{value:.3g}".replace("+", "")


def suggest(value: float) -> str:
    """Return a round number at or above ``value`` to type: ``3e5``, ``1.2e12``, ``5000``."""
    if value < 10:
        return f"{math.ceil(value)}"
    exponent = math.floor(math.log10(value)) - 1
    rounded = math.ceil(value / 10**exponent)  # two significant digits, rounded up
    if rounded % 10 == 0:
        rounded, exponent = rounded // 10, exponent + 1
    if value < 1e6:
        return f"{rounded * 10**exponent}"
    return f"{rounded / 10:g}e{exponent + 1}" if rounded >= 10 else f"{rounded}e{exponent}"


def size(nbytes: float) -> str:
    """Return bytes for a message: ``512 MB``, ``3.2 GB``."""
    if nbytes >= 2**30:
        return f"{nbytes / 2**30:.1f} GB"
    return f"{nbytes / 2**20:.0f} MB"


# --- what a run takes -------------------------------------------------------------------


def mean_rate(scenario: Scenario) -> float:
    """Return the mean arrival rate (per minute) over the repeating profile."""
    rate = scenario.arrivals.rate
    schedule = scenario.arrivals.schedule
    if schedule is not None:
        rate *= float(np.mean(schedule.multipliers))
    return rate


def arrival_span(scenario: Scenario) -> float:
    """Return the minutes during which customers arrive (the horizon, or the expected time)."""
    if scenario.horizon is not None:
        return scenario.horizon
    rate = mean_rate(scenario)
    return expected_customers(scenario) / rate if rate > 0 else math.inf


def expected_customers(scenario: Scenario) -> float:
    """Return the customers a run is expected to simulate."""
    if scenario.customers is not None:
        return float(min(scenario.customers, 10**300))
    return mean_rate(scenario) * scenario.horizon


def candidate_arrivals(scenario: Scenario) -> float:
    """Return the arrival candidates a run draws: at the top rate, then thinned.

    Arrivals are drawn at rate × the profile's highest multiplier × the reputation
    ceiling (when reputation moves arrivals) and each kept with the right probability.
    """
    rate = scenario.arrivals.rate
    schedule = scenario.arrivals.schedule
    peak = max(schedule.multipliers) if schedule is not None else 1.0
    reputation = scenario.loops.reputation
    lift = reputation.ceiling if reputation.enabled else 1.0
    return rate * peak * lift * arrival_span(scenario)


def _chain(scenario: Scenario, worst: bool) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Return the nodes that are not outcomes, their transition matrix, and the start vector.

    ``worst``: the chain of a customer who has failed so often that compounding makes
    every step that can fail fail (with compounding > 1 its odds grow without bound).
    """
    names = [*scenario.steps, *scenario.contacts]
    index = {name: i for i, name in enumerate(names)}
    q = np.zeros((len(names), len(names)))

    def add(row: int, weight: float, routing: dict[str, float] | None) -> None:
        if not routing or weight <= 0:
            return
        total = sum(routing.values()) or 1.0
        for target, p in routing.items():
            if target in index:
                q[row, index[target]] += weight * p / total

    for name, step in scenario.steps.items():
        p = step.failure
        if worst and p > 0:
            p = 1.0
        if step.on_failure is None:  # validated: a step that can fail says where to go
            p = 0.0
        add(index[name], 1.0 - p, step.next)
        voiced = step.complaint_probability()
        add(index[name], p * voiced, step.on_failure)
        add(index[name], p * (1.0 - voiced), step.silent_route())
    for name, contact in scenario.contacts.items():
        add(index[name], contact.fcr, contact.resolved)
        add(index[name], 1.0 - contact.fcr, contact.unresolved)
    start = np.zeros(len(names))
    total = sum(scenario.start.values()) or 1.0
    for target, p in scenario.start.items():
        if target in index:
            start[index[target]] += p / total
    return names, q, start


def expected_visits(scenario: Scenario, worst: bool = False) -> dict[str, float]:
    """Return the mean visits per customer to each node, with unlimited staff.

    The journey's absorbing chain with base failure probabilities (no compounding, no
    queues): visits = start · (I − Q)⁻¹. Nodes a customer can reach but never leave
    (no route from them leads to an outcome) get inf.
    """
    names, q, start = _chain(scenario, worst)
    if not names:
        return {}
    trapped = set(trapped_nodes(scenario, worst))
    out = dict.fromkeys(names, 0.0)
    if trapped:
        for name in trapped:
            out[name] = math.inf
        return out
    with np.errstate(all="ignore"):
        visits = np.linalg.solve((np.eye(len(names)) - q).T, start)
    for name, value in zip(names, visits.tolist(), strict=True):
        out[name] = max(value, 0.0) if math.isfinite(value) else math.inf
    return out


def trapped_nodes(scenario: Scenario, worst: bool = False) -> list[str]:
    """Return the nodes a customer can reach from the start but never leave the journey from."""
    names, q, start = _chain(scenario, worst)
    reach = start > 0
    frontier = reach.copy()
    while frontier.any():
        new = (q[frontier].sum(axis=0) > 0) & ~reach
        reach |= new
        frontier = new
    out = 1.0 - q.sum(axis=1) > 1e-12  # some mass goes straight to an outcome
    frontier = out.copy()
    while frontier.any():
        new = (q[:, frontier].sum(axis=1) > 0) & ~out
        out |= new
        frontier = new
    return [name for name, r, o in zip(names, reach, out, strict=True) if r and not o]


@dataclass(frozen=True)
class RunSize:
    """What one run of a scenario is expected to take."""

    customers: float
    visits: float  # per customer, mean
    busiest: str  # the node visited most
    worst_visits: float  # per customer who keeps failing (compounding), mean
    worst_busiest: str
    ticks: float
    periods: float
    memory: float  # bytes, estimated peak

    @property
    def total_visits(self) -> float:
        """Return the visits of the whole run."""
        return self.customers * self.visits


# Calibrated on the built-ins (benchmarks/bench_memory.py, benchmarks/bench_peers.py): a
# run's resident memory is a base for the interpreter and libraries plus, per customer,
# the severities kept for exact quantiles and allocator slack (measured 5-25 bytes: 40
# keeps the estimate above every run); loops sample one row per tick until
# spiral.engines.dynamics.FOLD_AT (16,384) are held, then one row per period.
BASE_MEMORY = 300 * 2**20
BYTES_PER_CUSTOMER = 40
BYTES_PER_TICK_VALUE = 8 * 3
TICKS_HELD = 2 * 16_384  # folding keeps at most this many ticks (and a copy while it folds)


def run_size(scenario: Scenario) -> RunSize:
    """Return the expected size of one run of a scenario."""
    customers = expected_customers(scenario)
    span = arrival_span(scenario) + scenario.drain
    visits = expected_visits(scenario)
    busiest = max(visits, key=visits.get) if visits else ""
    compounding = scenario.experience.compounding > 1 and any(
        s.failure > 0 and s.on_failure for s in scenario.steps.values()
    )
    worst = expected_visits(scenario, worst=True) if compounding else visits
    worst_busiest = max(worst, key=worst.get) if worst else ""
    ticks = span / scenario.loops.tick
    periods = span / scenario.period
    n_silos, n_steps = len(scenario.silos), len(scenario.steps)
    per_tick = (2 + 5 * n_silos + n_steps) * BYTES_PER_TICK_VALUE
    held = min(ticks, TICKS_HELD) + periods  # ticks not yet folded, one row per period
    memory = BASE_MEMORY + customers * BYTES_PER_CUSTOMER + held * per_tick + periods * 2_000
    return RunSize(
        customers=customers,
        visits=sum(visits.values()),
        busiest=busiest,
        worst_visits=sum(worst.values()),
        worst_busiest=worst_busiest,
        ticks=ticks,
        periods=periods,
        memory=memory if math.isfinite(memory) else math.inf,
    )


def _field_of(scenario: Scenario, node: str) -> str:
    return f"contacts.{node}" if node in scenario.contacts else f"steps.{node}"


def journey_problems(
    scenario: Scenario, limits: Limits, sized: RunSize | None = None
) -> list[tuple[str, str]]:
    """Return (field, problem) when customers can (almost) never leave the journey."""
    found: list[tuple[str, str]] = []
    sized = sized or run_size(scenario)
    if math.isinf(sized.visits):
        found.append(
            (
                _field_of(scenario, sized.busiest),
                f"customers who reach {sized.busiest} can never leave the journey (no route "
                "from it leads to an outcome); expected routing that leads to an outcome",
            )
        )
    elif sized.visits > limits.visits:
        found.append(
            (
                _field_of(scenario, sized.busiest),
                f"a customer makes {figure(sized.visits)} visits on average, most at "
                f"{sized.busiest} (above the limit of {figure(limits.visits)} per customer): "
                "customers can hardly leave the journey; expected routing that leads to an "
                "outcome, " + _raise_with("visits", sized.visits),
            )
        )
    elif sized.worst_visits > limits.visits:
        compounding = scenario.experience.compounding
        node = sized.worst_busiest
        how = (
            f"can never leave the journey once at {node}"
            if math.isinf(sized.worst_visits)
            else f"makes {figure(sized.worst_visits)} visits on average, most at {node} (the "
            f"limit is {figure(limits.visits)} per customer)"
        )
        found.append(
            (
                _field_of(scenario, node),
                f"with compounding {compounding:g} failures grow ever likelier, and a customer "
                f"who keeps failing {how}: no route after a failure leads to an outcome; "
                "expected a way out (say, an unresolved contact that can end the journey), "
                + _raise_with("visits", sized.worst_visits),
            )
        )
    return found


def _raise_with(name: str, value: float) -> str:
    """Return the advice to raise a limit to ``value`` on purpose."""
    if math.isinf(value):
        return f"or raise the limit with --limit {name}=inf (the run ends at the drain)"
    shown = size(value * 1.1).replace(" ", "") if name == "memory" else suggest(value)
    return f"or raise the limit with --limit {name}={shown}"


def run_problems(scenario: Scenario, limits: Limits, parallel: int = 1) -> list[tuple[str, str]]:
    """Return (field, problem) for each limit one run of the scenario would pass.

    ``parallel``: runs at the same time (worker processes), for the memory estimate.
    """
    found = []
    sized = run_size(scenario)
    length = "customers" if scenario.customers is not None else "horizon"

    if sized.customers > limits.customers:
        found.append(
            (
                length,
                f"about {figure(sized.customers)} customers, above the limit of "
                f"{figure(limits.customers)}; expected a shorter run, "
                + _raise_with("customers", sized.customers),
            )
        )
    found += journey_problems(scenario, limits, sized)
    if sized.total_visits > limits.work and not found and sized.customers <= limits.customers:
        found.append(
            (
                length,
                f"about {figure(sized.total_visits)} visits in all ({figure(sized.customers)} "
                f"customers × {sized.visits:.3g} visits each), above the limit of "
                f"{figure(limits.work)}; expected a shorter run, "
                + _raise_with("work", sized.total_visits),
            )
        )
    candidates = candidate_arrivals(scenario)
    if not found and candidates > limits.work:
        field = (
            "loops.reputation.ceiling" if scenario.loops.reputation.enabled else "arrivals.schedule"
        )
        found.append(
            (
                field,
                f"arrivals are drawn at the top rate (rate × the highest multiplier × the "
                f"reputation ceiling) and thinned: about {figure(candidates)} candidates over the "
                f"run for {figure(sized.customers)} customers, above the limit of "
                f"{figure(limits.work)}; expected a flatter profile or a lower ceiling, "
                + _raise_with("work", candidates),
            )
        )
    if found and length == "customers":
        return found  # the run's length follows from its customers: ticks and periods too
    if sized.ticks > limits.ticks:
        found.append(
            (
                "loops.tick",
                f"{figure(sized.ticks)} updates of the system loops over the run (its length "
                f"/ tick), above the limit of {figure(limits.ticks)}; expected a longer tick, "
                + _raise_with("ticks", sized.ticks),
            )
        )
    if sized.periods > limits.periods:
        found.append(
            (
                "period",
                f"{figure(sized.periods)} periods in the time series (run length / period), "
                f"above the limit of {figure(limits.periods)}; expected a longer period, "
                + _raise_with("periods", sized.periods),
            )
        )
    memory = sized.memory * parallel
    if not found and memory > limits.memory_bytes():
        found.append(
            (
                length,
                f"needs about {size(memory)} of memory"
                + (f" ({parallel} runs at once)" if parallel > 1 else "")
                + f", above the limit of {size(limits.memory_bytes())}; expected a smaller run, "
                + _raise_with("memory", memory),
            )
        )
    return found


def log_events(path: os.PathLike | str) -> int:
    """Return about how many events an event log holds, without parsing it.

    CSV: its lines after the header; XES: its ``<event`` elements. A quoted field with a
    line break counts twice: this is an upper bound, for a guard.
    """
    marker = b"<event" if str(path).lower().endswith(".xes") else b"\n"
    count = 0
    tail = b""
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            data = tail + block
            count += data.count(marker)
            tail = data[-(len(marker) - 1) :] if len(marker) > 1 else b""
            count -= tail.count(marker)  # counted again with the next block
    if marker == b"\n":
        count = max(count - 1, 0)  # the header
    return count
