"""The tipping point of a team that erodes under pressure: the arrival rate it can carry.

A staffed silo's work pressure at its standard S is λ·S·W/c: customers arriving per
minute, times the standard minutes of the silo's work each customer brings W (from the
journey's chain: visits to each of its steps and contacts × their mean times, failure
demand included), over the staff on duty. Below the erosion threshold θ nothing erodes,
so erosion starts where the pressure at the scenario's standard reaches the threshold:

    λ* = θ · c / W

Above it the standard falls while the pressure stays above θ, so an eroded team settles
where λ·h(S)/c = θ with h(S) = S · W(cut = 1 − S): the standard shortens every job, and
the corners cut (1 − S of each job's needed time) make jobs fail more often, which brings
failure demand back. The loop gain G = S·W'(cut)/W says which wins: below 1 eroding gives
time back and the team settles with lasting damage (Oliva & Sterman's case); above 1
each minute cut brings back more work than it saves and the team runs away. So the team
runs away above

    λ** = θ · c / min h(S)   (the first minimum of h going down from S = 1)

which is λ* itself when the gain at the scenario's standard is above 1. The closed form
λ* = (1 − p₀)²cμ/(4β) in docs/evidence.md assumes repeat contacts rise linearly with load
(p = p₀ + βρ); spiral's rise only past a threshold, which is what these forms say.
docs/model.md, section "The tipping point", derives them and says where they are
approximate (the queue's share of the pressure, noise, one silo eroding at a time).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spiral.engines.analytic import NoClosedForm, theory, unlimited, without_loops
from spiral.engines.dynamics import failure_when_cut
from spiral.model.errors import ScenarioError
from spiral.model.limits import mean_rate
from spiral.model.scenario import Scenario

DAY = 1440.0
WORK_TOLERANCE = 1e-7  # truncated probability mass of the chain: W to ~7 digits
GAIN_STEP = 0.005  # share of the standard cut for the loop gain's central difference
GRID = 40  # standards tried between 1 and 0 looking for the first minimum of h(S)
REFINE = 12  # golden-section steps around it


@dataclass(frozen=True)
class TippingPoint:
    """Where one staffed silo tips: its staff, its work per customer and the rates it carries.

    ``rate`` (λ*) is where its pressure at the scenario's standard reaches the threshold:
    erosion (or, without erosion, the queue's overload) starts. ``runaway`` (λ**) is
    where eroding can no longer bring the pressure back to the threshold (inf: it always
    can, quality pays instead). ``gain`` is the loop gain at the scenario's standard
    (None where the silo does not erode).
    """

    silo: str
    staff: float  # on duty, on average over the roster
    work: float  # standard minutes of this silo's work per customer, at base quality
    threshold: float
    rate: float  # λ*, customers per day
    runaway: float  # λ**, customers per day
    gain: float | None
    now: float  # the scenario's mean arrival rate, customers per day (without the timeline)
    peak: float  # the same, at the timeline's highest factor

    @property
    def headroom(self) -> float:
        """Return how much more demand the silo carries before it tips (0.1: 10% more)."""
        return self.rate / self.now - 1 if self.now > 0 else math.inf

    def as_dict(self) -> dict[str, float | str | None]:
        """Return the numbers as a JSON-ready dict (inf as None)."""
        out: dict[str, float | str | None] = {"silo": self.silo}
        for name in ("staff", "work", "threshold", "rate", "runaway", "gain", "now", "peak"):
            value = getattr(self, name)
            out[name] = None if value is None or not math.isfinite(value) else value
        out["headroom"] = self.headroom if math.isfinite(self.headroom) else None
        return out


def mean_staff(scenario: Scenario, silo: str) -> float:
    """Return a silo's staff on duty averaged over its roster (its head count without one)."""
    model = scenario.silos[silo]
    if model.roster is not None:
        return float(np.mean(model.roster.staff))
    return float(model.staff)


def _with_failures(scenario: Scenario, failure: dict[str, float]) -> Scenario:
    steps = {
        name: step.model_copy(update={"failure": failure[name]}) if name in failure else step
        for name, step in scenario.steps.items()
    }
    return scenario.model_copy(update={"steps": steps})


def work_per_customer(scenario: Scenario, tolerance: float = WORK_TOLERANCE) -> dict[str, float]:
    """Return each staffed silo's standard minutes of work per customer (inf: never drains)."""
    try:
        exact = theory(without_loops(unlimited(scenario)), tolerance=tolerance)
    except (NoClosedForm, ScenarioError):  # failures so frequent customers never leave
        return {
            silo: math.inf for silo, model in scenario.silos.items() if model.staff != "unlimited"
        }
    work: dict[str, float] = {}
    for name, step in scenario.steps.items():
        if not step.self_service:
            work[step.silo] = work.get(step.silo, 0.0) + exact.visits[name] * step.service.mean()
    if scenario.loops.failure_demand:  # without the loop, a separate team takes complaints
        for name, contact in scenario.contacts.items():
            added = exact.visits[name] * contact.handling.mean()
            work[contact.silo] = work.get(contact.silo, 0.0) + added
    return {
        silo: minutes for silo, minutes in work.items() if scenario.silos[silo].staff != "unlimited"
    }


def work_when_cut(scenario: Scenario, silo: str) -> Callable[[float], float]:
    """Return W(cut): the silo's work per customer when its steps fail as a cut makes them.

    The cut is the share of each job's needed time not spent; the silo's steps fail as
    the loops make them (``failure_when_cut``), other silos at their base. A negative cut
    extends the same straight line below the base (for a central difference only).
    """
    sensitivity = scenario.loops.erosion.sensitivity
    steps = {name: s.failure for name, s in scenario.steps.items() if s.silo == silo}

    def work(cut: float) -> float:
        if cut >= 0:
            failure = {n: failure_when_cut(p, cut, sensitivity) for n, p in steps.items()}
        else:
            failure = {n: max(0.0, p + sensitivity * cut * (1 - p)) for n, p in steps.items()}
        return work_per_customer(_with_failures(scenario, failure)).get(silo, math.inf)

    return work


def loop_gain(work: Callable[[float], float], standard: float = 1.0) -> float:
    """Return S·W'(1 − S)/W(1 − S): the work a cut brings back per unit of work it saves."""
    cut = 1.0 - standard
    step = GAIN_STEP
    low, high = work(cut - step), work(cut + step)
    middle = work(cut)
    if not math.isfinite(high) or not math.isfinite(middle) or middle <= 0:
        return math.inf
    return standard * (high - low) / (2 * step) / middle


def lowest_load(work: Callable[[float], float]) -> float:
    """Return the first minimum of h(S) = S·W(1 − S) going down from S = 1."""
    grid = np.linspace(1.0, 0.0, GRID + 1)[:-1]
    loads = []
    for s in grid:
        loads.append(s * work(1.0 - s))
        if len(loads) >= 2 and not loads[-1] <= loads[-2]:  # rising again (or inf)
            break
    k = int(np.argmin(loads))
    if k == len(grid) - 1:  # still falling at the last standard tried: eroding always helps
        return 0.0
    lo, hi = float(grid[min(k + 1, len(grid) - 1)]), float(grid[max(k - 1, 0)])
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(REFINE):  # golden section on [lo, hi]
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if a * work(1 - a) <= b * work(1 - b):
            hi = b
        else:
            lo = a
    middle = (lo + hi) / 2
    return min(loads[k], middle * work(1 - middle))


def tipping_points(scenario: Scenario) -> list[TippingPoint]:
    """Return each staffed silo's tipping point, the one that tips first first."""
    erosion = scenario.loops.erosion
    eroding = erosion.enabled and erosion.model == "standard"
    threshold = erosion.threshold if eroding else 1.0
    now = mean_rate(scenario) * DAY
    peak = now * scenario.arrivals.peak_factor()
    found = []
    for silo, work in work_per_customer(scenario).items():
        staff = mean_staff(scenario, silo)
        rate = threshold * staff / work * DAY if work > 0 else math.inf
        gain, runaway = None, rate
        cuts = any(s.silo == silo and s.failure > 0 for s in scenario.steps.values())
        if eroding and not cuts:  # no step of its own fails more when it cuts corners
            gain, runaway = 0.0, math.inf
        elif eroding and math.isfinite(rate):
            curve = work_when_cut(scenario, silo)
            gain = loop_gain(curve)
            if gain < 1:
                lowest = lowest_load(curve)
                runaway = threshold * staff / lowest * DAY if lowest > 0 else math.inf
        found.append(TippingPoint(silo, staff, work, threshold, rate, runaway, gain, now, peak))
    return sorted(found, key=lambda point: (point.runaway, point.rate))
