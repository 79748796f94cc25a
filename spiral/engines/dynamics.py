"""The organisation's feedback loops: work pressure, quality erosion, reputation, learning.

A ``Dynamics`` object lives inside one engine run. Every ``loops.tick`` it measures each
silo's work pressure (the work arriving, and the work waiting, per member of staff on
duty), lets eroded standards drift, decays reputation and records a sample; the engine
calls it back on social escalations, advocates and recoveries, and reports the work each
staffed visit brings. Exact equations: docs/model.md, section "System loops".
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
import simpy

from spiral.engines.journey import STEP, Journey
from spiral.engines.streams import uniforms
from spiral.model.loops import Learning
from spiral.model.scenario import Scenario

WEEK = 10080.0
SETTLED = 1.0 - math.exp(-1.0)  # the standard erodes once pressure is known over a window


def smoothing(dt: float, window: float) -> float:
    """Return the weight of a new observation in an exponential average over ``window``."""
    return 1.0 - math.exp(-dt / window)


def smoothed(values: np.ndarray, weight: float) -> np.ndarray:
    """Return the exponential average of each column, starting from 0 (as the loops do)."""
    out = np.empty_like(values, dtype=float)
    level = np.zeros(values.shape[1:])
    for k, row in enumerate(values):
        level = level + (row - level) * weight
        out[k] = level
    return out


def eroded(p: float, corners: float, sensitivity: float) -> float:
    """Return failure probability ``p`` with its odds raised by corners cut."""
    if p <= 0.0 or p >= 1.0 or corners <= 0.0:
        return p
    odds = p / (1.0 - p) * (1.0 + sensitivity * corners)
    return odds / (1.0 + odds)


def failure_when_cut(p: float, cut: float, sensitivity: float) -> float:
    """Return failure probability ``p`` when a share ``cut`` of the needed time is not spent.

    That share × sensitivity of the jobs that would have succeeded fail (Oliva & Sterman's
    quality falls with the time per job; the sensitivity is a guess).
    """
    if cut <= 0.0:
        return p
    return 1.0 - (1.0 - p) * (1.0 - min(1.0, sensitivity * cut))


def time_spent(standard: float, pressure: float, threshold: float, elasticity: float) -> float:
    """Return the share of a job's needed time spent: standard × (pressure/threshold)^-e.

    Above the threshold staff work faster than their standard (Oliva & Sterman 2001:
    time per order = standard × pressure^-0.64); at or below it they give each job the
    standard, eroded or not (the slack does not bring back the time that was cut).
    """
    if pressure <= threshold:
        return standard
    return standard * (pressure / threshold) ** -elasticity


def slack_time(standard: float, pressure: float, threshold: float, elasticity: float) -> float:
    """Return what a recovering standard drifts toward with slack: standard × (θ/P)^e, ≤ 1."""
    if pressure <= 0:
        return 1.0
    return min(1.0, standard * (threshold / pressure) ** elasticity)


def corner_target(pressure: float, threshold: float, elasticity: float) -> float:
    """Return the share of work skipped at a pressure: 1 - (pressure/threshold)^-elasticity."""
    if pressure <= threshold:
        return 0.0
    return 1.0 - (pressure / threshold) ** -elasticity


FOLD_AT = 16_384
"""Samples held one by one (≈ 1.9 years of hourly ticks) before whole periods are folded."""


@dataclass
class Samples:
    """One flat row per tick of the loops' state; whole periods folded once there are many.

    A row is: time, reputation, then per silo the queue, the customers present (queue
    plus in service) and the servers (interleaved), then per silo the cumulative wait,
    the cumulative services, the work pressure, the standard time per job (a share of
    the scenario's) and the cumulative staff-minutes on duty, then per step the failure
    probability.

    Once ``FOLD_AT`` rows are held, every period before the current one is folded into
    one row (``folded``, with its number of ticks in ``weights``): the sums of the values
    the time series averages, and the last tick's time and cumulative totals. Memory then
    grows with periods, not ticks; ``columns`` gives the ticks not yet folded.
    """

    silos: int
    steps: int
    period: float = 1440.0
    rows: array = field(default_factory=lambda: array("d"))  # 8 bytes a value, no objects
    folded: array = field(default_factory=lambda: array("d"))
    weights: array = field(default_factory=lambda: array("d"))

    @property
    def width(self) -> int:
        """Return the values in a row."""
        return 2 + 8 * self.silos + self.steps

    def add(self, row: list[float]) -> None:
        """Record one tick (folding whole periods once ``FOLD_AT`` ticks are held)."""
        self.rows.extend(row)
        if len(self.rows) >= FOLD_AT * self.width:
            self.fold()

    def _last_columns(self) -> np.ndarray:
        """Return which columns keep their last value (time, cumulative totals), not a sum."""
        n = self.silos
        last = np.zeros(self.width, bool)
        last[0] = True
        for j in (3, 4, 7):  # waited, served, on duty
            last[2 + j * n : 2 + (j + 1) * n] = True
        return last

    def fold(self) -> None:
        """Fold every whole period held into one row each (the current one stays as ticks)."""
        data = np.frombuffer(self.rows, dtype=np.float64).reshape(-1, self.width)
        k = ((data[:, 0] - 1e-9) // self.period).astype(np.int64)
        old = k < k[-1]
        if not old.any():
            return
        block, kk = data[old], k[old]
        starts = np.flatnonzero(np.r_[True, kk[1:] != kk[:-1]])
        ends = np.r_[starts[1:], len(kk)] - 1
        row = np.where(self._last_columns(), block[ends], np.add.reduceat(block, starts, axis=0))
        self.folded.frombytes(np.ascontiguousarray(row, dtype=np.float64).tobytes())
        self.weights.frombytes(np.diff(np.r_[starts, len(kk)]).astype(np.float64).tobytes())
        held = array("d")
        held.frombytes(data[~old].tobytes())
        self.rows = held

    def columns(self, with_folded: bool = False) -> dict[str, np.ndarray]:
        """Return the rows as named arrays (2-D for per-silo and per-step values).

        ``with_folded``: folded periods first (then ``weight`` says how many ticks each row
        stands for, and averaged columns hold sums); by default only the ticks held.
        """
        n = self.silos
        data = np.frombuffer(self.rows, dtype=np.float64).reshape(-1, self.width)
        weight = np.ones(len(data))
        if with_folded and len(self.folded):
            folded = np.frombuffer(self.folded, dtype=np.float64).reshape(-1, self.width)
            data = np.concatenate([folded, data])
            weight = np.concatenate([np.frombuffer(self.weights, dtype=np.float64), weight])
        out = {"time": data[:, 0], "reputation": data[:, 1], "weight": weight}
        for j, name in enumerate(("queue", "present", "staff")):  # interleaved per silo
            out[name] = data[:, 2 + j : 2 + 3 * n : 3]
        for j, name in enumerate(("waited", "served", "pressure", "standard", "on_duty")):
            out[name] = data[:, 2 + (3 + j) * n : 2 + (4 + j) * n]
        out["failure"] = data[:, 2 + 8 * n :]
        return out


@dataclass
class FailureTables:
    """The failure probabilities the loops move, shared with the engine that reads them.

    ``failure_now``: per node, for customers under no what-if; ``variants``: per what-if
    variant, its ratio to the base failure and the list the engine reads (kept in step);
    ``learns``: whether any variant learns from complaints.
    """

    failure_now: list[float]
    variants: list[tuple[list[float], list[float]]] = field(default_factory=list)
    learns: bool = False


class Staff(Protocol):
    """A silo's servers, as the loops see them: who is served, who waits, how many serve."""

    users: list
    queue: list

    @property
    def capacity(self) -> int:
        """Return the number of servers now."""
        ...

    def set_staff(self, staff: int) -> int:
        """Change the number of servers; return the change."""
        ...

    def staff_minutes(self, now: float) -> float:
        """Return the staff-minutes on duty from time 0 to ``now``."""
        ...


class LoopHost(Protocol):
    """What the loops read from the engine that runs them: its clock, staff and counters."""

    env: simpy.Environment
    silos: list[Staff | None]  # None where staff are unlimited
    silo_wait: list[float]
    silo_served: list[int]

    def shown_failure(self) -> list[float]:
        """Return the failure probabilities of the variant every customer is under now."""
        ...


class Dynamics:
    """State and updates of the system loops for one run."""

    def __init__(self, scenario: Scenario, journey: Journey, seed: int, tables: FailureTables):
        self.loops = scenario.loops
        self.journey = journey
        self.tables = tables
        self.failure_now = tables.failure_now
        self.base_failure = list(journey.failure)
        n = len(journey.silo_names)
        erosion = self.loops.erosion
        self.legacy = erosion.enabled and erosion.model == "corners"
        self.erodes = erosion.enabled and erosion.model == "standard"
        self.pressure = [0.0] * n
        self.corners = [0.0] * n  # the "corners" model's state
        self.standard = [1.0] * n  # share of the scenario's time per job that is the norm
        self.pace = [1.0] * n  # time spent / standard: what a job's standard draw is × by
        self.work_in = [0.0] * n  # standard minutes of work arrived since the last tick
        self.jobs_in = [0] * n
        self.work_rate = [0.0] * n  # smoothed work arriving per minute (servers' worth)
        self.on_duty = [0.0] * n  # smoothed staff on duty (a roster's shifts averaged)
        self.job_time = [0.0] * n  # mean standard minutes of a job, to weigh the queue
        self.job_seen = [0.0] * n
        self.seen = 0.0  # weight of the observations so far in the smoothed averages
        self.staff = [float(s) if s else 0.0 for s in journey.staff]
        self.reputation = 1.0
        self.fixes = 0
        self.steps = [i for i, k in enumerate(journey.kind) if k == STEP]
        self.learn_draw = uniforms(seed, "decisions", "__learning__")
        self.smooth = smoothing(self.loops.tick, self.loops.pressure_window)
        self.samples = Samples(n, len(self.steps), scenario.period)
        loops = self.loops
        self.live = erosion.enabled or loops.reputation.enabled or tables.learns
        self.host: LoopHost | None = None

    @property
    def active(self) -> list[str]:
        """Return the names of the loops that are switched on."""
        loops = self.loops
        names = ["failure_demand"] if loops.failure_demand else []
        for name in ("erosion", "reputation", "learning"):
            if getattr(loops, name).enabled:
                names.append(name)
        return names

    def process(self, host: LoopHost):  # noqa: ANN201 - a SimPy process
        """Measure, update and sample every tick in ``host``'s simulation, forever."""
        self.host = host
        env = host.env
        tick = self.loops.tick
        live, measure, update, sample = self.live, self.measure, self.update, self.sample
        timeout = env.timeout
        while True:
            yield timeout(tick)
            measure(tick)
            if live:
                update(tick)
            sample(env.now)

    def measure(self, dt: float) -> None:
        """Measure each staffed silo's work pressure over the last ``dt`` minutes.

        Pressure = (work arriving per minute, smoothed over ``pressure_window``, plus the
        work waiting in the queue spread over that window) / staff on duty, smoothed over
        the same window: the capacity required over the capacity available, in the current
        standard's minutes (Oliva & Sterman 2001). A stable queue at utilisation ρ has
        pressure about ρ; a roster's night shift counts at its share of the window.
        The ``corners`` model keeps its own measure: customers present per server.
        """
        loops = self.loops
        smooth = self.smooth if dt == loops.tick else smoothing(dt, loops.pressure_window)
        silos = self.host.silos if self.host is not None else []
        window = loops.pressure_window
        self.seen += (1.0 - self.seen) * smooth
        for s, silo in enumerate(silos):
            if silo is None:
                continue
            staff = silo.capacity
            if self.legacy:
                load = (len(silo.users) + len(silo.queue)) / max(staff, 1)
                self.pressure[s] += (load - self.pressure[s]) * smooth
                continue
            work, jobs = self.work_in[s], self.jobs_in[s]
            self.work_in[s], self.jobs_in[s] = 0.0, 0
            if jobs:
                self.job_time[s] += (work / jobs - self.job_time[s]) * smooth
                self.job_seen[s] += (1.0 - self.job_seen[s]) * smooth
            self.work_rate[s] += (work / dt - self.work_rate[s]) * smooth
            self.on_duty[s] += (staff - self.on_duty[s]) * smooth
            if self.on_duty[s] > 0:  # no one on duty yet: no pressure to measure
                # both averages over what has been seen so far (not biased toward 0 early)
                job_time = self.job_time[s] / self.job_seen[s] if self.job_seen[s] else 0.0
                queued = len(silo.queue) * job_time / window
                self.pressure[s] = (self.work_rate[s] / self.seen + queued) / (
                    self.on_duty[s] / self.seen
                )

    def update(self, dt: float) -> None:
        """Advance erosion, attrition and reputation by ``dt`` minutes."""
        loops = self.loops
        erosion = loops.erosion
        silos = self.host.silos if self.host is not None else []
        settled = self.seen >= SETTLED  # pressure measured over most of a window
        for s, silo in enumerate(silos):
            if silo is None or not erosion.enabled:
                continue
            if self.erodes:
                if not settled:
                    continue
                self._erode(s, dt)
            else:
                target = corner_target(self.pressure[s], erosion.threshold, erosion.elasticity)
                tau = erosion.erode_time if target > self.corners[s] else erosion.recover_time
                self.corners[s] += (target - self.corners[s]) * (1.0 - math.exp(-dt / tau))
            if erosion.attrition and self.pressure[s] > erosion.threshold:
                self.staff[s] *= 1.0 - erosion.attrition * dt / WEEK
                silo.set_staff(max(1, round(self.staff[s])))
        if erosion.enabled:
            for i in self.steps:
                self._refresh(i)
        reputation = loops.reputation
        if reputation.enabled:
            self.reputation = 1.0 + (self.reputation - 1.0) * math.exp(-dt / reputation.memory)

    def _erode(self, s: int, dt: float) -> None:
        """Let silo ``s``'s standard drift toward the time spent (Oliva & Sterman 2001)."""
        erosion = self.loops.erosion
        standard, pressure = self.standard[s], self.pressure[s]
        threshold, elasticity = erosion.threshold, erosion.elasticity
        spent = time_spent(standard, pressure, threshold, elasticity)
        if spent < standard:
            target, tau = spent, erosion.erode_time
        elif erosion.recovers() and pressure < threshold:  # slack: a guess; the paper: never
            target = slack_time(standard, pressure, threshold, elasticity)
            tau = erosion.recover_time  # type: ignore[assignment] - a duration here
        else:
            target, tau = standard, math.inf
        if target != standard:
            self.standard[s] += (target - standard) * (1.0 - math.exp(-dt / tau))
        # the time a job gets now, per minute of its standard: faster under pressure
        self.pace[s] = time_spent(1.0, pressure, threshold, elasticity)

    def cut(self, s: int) -> float:
        """Return the share of a job's needed time not spent in silo ``s`` now."""
        return max(0.0, 1.0 - self.standard[s] * self.pace[s])

    def _failure(self, p: float, silo: int) -> float:
        """Return a step's failure probability ``p`` as the silo's erosion makes it."""
        sensitivity = self.loops.erosion.sensitivity
        if self.erodes:
            return failure_when_cut(p, self.cut(silo), sensitivity)
        return eroded(p, self.corners[silo], sensitivity)

    def _refresh(self, step: int) -> None:
        silo = self.journey.silo[step]
        self.failure_now[step] = self._failure(self.base_failure[step], silo)
        for ratio, failures in self.tables.variants:
            failures[step] = self._failure(min(1.0, self.base_failure[step] * ratio[step]), silo)

    def on_social(self, reach: float) -> None:
        """Lower reputation by a post's reach."""
        r = self.loops.reputation
        if r.enabled:
            self.reputation = max(
                r.floor, self.reputation - r.harm_per_thousand_reached * reach / 1000
            )

    def on_advocate(self) -> None:
        """Raise reputation by one advocate's referrals."""
        r = self.loops.reputation
        if r.enabled:
            self.reputation = min(r.ceiling, self.reputation + r.lift_per_advocate)

    def on_recovery(self, step: int, learning: Learning) -> None:
        """Maybe turn a resolved complaint born at ``step`` into a root-cause fix."""
        if step < 0 or self.seen < SETTLED:  # pressure not yet known: no time to judge slack
            return
        if self.pressure[self.journey.silo[step]] >= learning.slack_below:
            return  # firefighting: no time to fix causes
        if self.learn_draw() < learning.fix_share:
            self.base_failure[step] *= 1.0 - learning.fix_effect
            self.fixes += 1
            self._refresh(step)

    def sample(self, now: float) -> None:
        """Record the state at ``now`` as one flat row."""
        host = self.host
        assert host is not None, "sample() runs inside process()"
        silos = host.silos
        failure = host.shown_failure()
        row = [now, self.reputation]
        for s in silos:
            if s is None:
                row += (0, 0, 0)
            else:
                queued = len(s.queue)
                row += (queued, queued + len(s.users), s.capacity)
        row += host.silo_wait
        row += host.silo_served
        row += self.pressure
        row += self.standard
        row += [0.0 if s is None else s.staff_minutes(now) for s in silos]
        row += [failure[i] for i in self.steps]
        self.samples.add(row)


def _at_period_ends(values: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Return a cumulative series at each period's last sample (carried over empty periods)."""
    at = np.where(last >= 0, values[np.maximum(last, 0)], np.nan)
    return pd.Series(at).ffill().fillna(0).to_numpy()


def samples_by_period(
    samples: Samples, journey: Journey, period: float, periods: int, eroding: bool = False
) -> pd.DataFrame:
    """Return per-period means of the sampled state.

    Backlog, pressure, staff on duty, utilisation, waits and failures; and the standard
    time per job (a share of the scenario's) while it erodes.
    """
    data: dict[str, np.ndarray] = {}
    if not samples.rows and not samples.folded:
        return pd.DataFrame(index=range(periods))
    columns = samples.columns(with_folded=True)
    index = np.minimum((columns["time"] - 1e-9) // period, periods - 1).astype(int)
    counts = np.bincount(index, weights=columns["weight"], minlength=periods)

    def mean(values: np.ndarray) -> np.ndarray:
        sums = np.bincount(index, weights=values, minlength=periods)
        return np.divide(sums, counts, out=np.full(periods, np.nan), where=counts > 0)

    data["reputation"] = mean(columns["reputation"])
    queue, present = columns["queue"], columns["present"]
    waited, served = columns["waited"], columns["served"]
    last = np.full(periods, -1)
    last[index] = np.arange(len(index))  # the last sample of each period
    times = _at_period_ends(columns["time"], last)
    for s, name in enumerate(journey.silo_names):
        if journey.staff[s] is None:
            continue
        data[f"backlog_{name}"] = mean(queue[:, s])
        data[f"pressure_{name}"] = mean(columns["pressure"][:, s])
        # exact: staff-minutes on duty between the periods' last samples, over that time
        minutes = _at_period_ends(columns["on_duty"][:, s], last)
        spans = np.diff(times, prepend=0.0)
        data[f"staff_{name}"] = on_duty = np.divide(
            np.diff(minutes, prepend=0.0), spans, out=np.full(periods, np.nan), where=spans > 0
        )
        busy = mean(present[:, s] - queue[:, s])
        data[f"utilisation_{name}"] = np.divide(
            busy, on_duty, out=np.full(periods, np.nan), where=on_duty > 0
        )
        if eroding:
            data[f"standard_{name}"] = mean(columns["standard"][:, s])
        # mean wait of services started in the period, from cumulative totals at period ends
        w, n = _at_period_ends(waited[:, s], last), _at_period_ends(served[:, s], last)
        dw, dn = np.diff(w, prepend=0.0), np.diff(n, prepend=0.0)
        data[f"wait_{name}"] = np.divide(dw, dn, out=np.zeros(periods), where=dn > 0)
    failure = columns["failure"]
    steps = [i for i, k in enumerate(journey.kind) if k == STEP]
    for j, i in enumerate(steps):
        data[f"failure_{journey.names[i]}"] = mean(failure[:, j])
    return pd.DataFrame(data)
