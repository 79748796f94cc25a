"""Held-out validation of a fitted scenario: the later cases of a log against a simulation.

The log's cases are split by when they started: the earlier ones are fitted, the later
ones held out (or, to see a model without the drift between periods, at random). The
fitted scenario is simulated for five times as many cases as were held out, and
both sets of traces are compared on what process-mining practice compares (Camargo et
al. 2020; the measures of conformance of simulated logs): activity frequencies, trace
lengths, the most frequent variants, directly-follows frequencies, rework, case duration
and arrivals. Each distance comes with its *noise floor*: the 99th percentile of the
same distance between two bootstrap samples of the held-out cases, one as large as the
held-out set and one as large as the simulation — what a perfect model would show with
this many cases. A simulation within the floor cannot be told from the held-out cases.
Beside it, the distance *between periods* (the fitted cases against the held-out ones)
shows how much the log itself changed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spiral.io.event_log import ACTIVITY, CASE, TIME, process_log
from spiral.io.from_log import ENDED, _visits, fit_log
from spiral.model.errors import problem
from spiral.model.loading import parse_scenario, with_length

SIMULATED = 5  # simulated cases per held-out case
RESAMPLES = 100  # bootstrap draws behind each noise floor
FLOOR_LEVEL = 0.99
SPLITS = ("time", "random")
TOP_VARIANTS = 10
LONGEST = 20  # trace lengths above this are one bin
CONTROL_FLOW = ("activity frequencies", "trace lengths", "top variants", "directly-follows")


@dataclass(frozen=True)
class Traces:
    """A set of cases: each one's activities in order, its duration and when it began."""

    sequences: list[tuple[str, ...]]
    minutes: np.ndarray
    starts: pd.Series

    def resampled(self, rng: np.random.Generator, n: int) -> Traces:
        """Return ``n`` cases drawn with replacement (the bootstrap)."""
        pick = rng.integers(0, len(self.sequences), n)
        starts = self.starts.iloc[pick].reset_index(drop=True)
        return Traces([self.sequences[i] for i in pick], self.minutes[pick], starts)

    @classmethod
    def of_log(cls, log: pd.DataFrame, activity_of: dict[str, str] | None = None) -> Traces:
        """Return the traces of a log's completed visits (the `ended` outcome left out).

        ``activity_of`` names a simulated log's steps by their activities ("B after A": B).
        """
        visits = _visits(log)
        visits = visits[visits[ACTIVITY] != ENDED]
        if activity_of:
            visits = visits.assign(**{ACTIVITY: visits[ACTIVITY].map(activity_of)})
        grouped = visits.groupby(CASE, sort=False)
        sequences = [tuple(acts) for acts in grouped[ACTIVITY].agg(list)]
        span = log.groupby(CASE, sort=False)[TIME].agg(["min", "max"])
        minutes = ((span["max"] - span["min"]).dt.total_seconds() / 60).to_numpy()
        return cls(sequences, minutes, span["min"])


@dataclass(frozen=True)
class HoldoutReport:
    """The comparison table and the sizes behind it."""

    table: pd.DataFrame  # measure, simulated, noise_floor, within
    fitted_cases: int
    held_cases: int

    def control_flow_within(self) -> bool:
        """Return whether every control-flow distance is within its noise floor."""
        rows = self.table.set_index("measure").loc[list(CONTROL_FLOW)]
        return bool(rows["within"].all())


def split_cases(
    log: pd.DataFrame, share: float, by: str = "time", seed: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (fitted cases, held-out cases): the last ``share`` by start time, or at random."""
    firsts = log.groupby(CASE, sort=False)[TIME].min().sort_values(kind="stable")
    n = max(1, round(share * len(firsts)))
    if by == "time":
        held = set(firsts.index[len(firsts) - n :])
    else:
        held = set(np.random.default_rng(seed).choice(firsts.index.to_numpy(), n, replace=False))
    later = log[CASE].isin(held)
    return log[~later], log[later]


def holdout_report(
    log: pd.DataFrame,
    share: float,
    name: str,
    source: str,
    by: str = "time",
    seed: int = 1,
    memory: int | str = "auto",
    groups: dict[str, str] | None = None,
) -> HoldoutReport:
    """Fit the earlier (or a random) part of the cases, simulate, and compare with the rest.

    The simulation has ``SIMULATED`` times as many cases as were held out, so its own
    sampling noise adds little to the distance.
    """
    from spiral.analysis.results import run

    fitted_part, held_part = split_cases(log, share, by, seed)
    if fitted_part[CASE].nunique() < 2 or held_part[CASE].nunique() < 2:
        raise problem(source, "--holdout", "expected at least two cases to fit and two to hold out")
    fit = fit_log(fitted_part, name, source, memory, groups)
    scenario = parse_scenario(fit.data, source)
    held = Traces.of_log(held_part)
    # every simulated case runs to its end: a case cut off by the drain would be short
    longest = float(max(held.minutes.max(), Traces.of_log(fitted_part).minutes.max()))
    sim_scenario = with_length(scenario, customers=SIMULATED * len(held.sequences))
    sim_scenario = sim_scenario.model_copy(update={"drain": max(scenario.drain, 10 * longest)})
    simulated_log = process_log(run(sim_scenario, seed=seed, event_log=True))
    simulated = Traces.of_log(simulated_log, fit.activity_of)
    fitted = Traces.of_log(fitted_part)
    rng = np.random.default_rng(seed)
    draws = [
        (held.resampled(rng, len(held.sequences)), held.resampled(rng, len(simulated.sequences)))
        for _ in range(RESAMPLES)
    ]
    rows = []
    for measure, distance in MEASURES.items():
        floor = float(np.quantile([distance(sim, real) for real, sim in draws], FLOOR_LEVEL))
        rows.append((measure, distance(simulated, held), floor, distance(fitted, held)))
    # a rate is not a distribution: its floor is Poisson noise, and a random split thins
    # both parts, so each rate is scaled back to the whole log's before comparing
    thin = (1.0 - share) / share if by == "random" else 1.0
    rate_fit, rate_held = _per_day(simulated), _per_day(held) * thin
    poisson = 2.576 * math.sqrt(1 / len(held.sequences) + 1 / len(simulated.sequences))
    rows.append(
        (
            "arrivals per day",
            _relative(rate_fit, rate_held),
            poisson,
            _relative(_per_day(fitted), rate_held),
        )
    )
    table = pd.DataFrame(rows, columns=["measure", "simulated", "noise_floor", "between_periods"])
    table["within"] = table["simulated"] <= table["noise_floor"]
    return HoldoutReport(table, len(fitted.sequences), len(held.sequences))


def total_variation(a: Counter, b: Counter) -> float:
    """Return the total variation distance between two count distributions (0 to 1)."""
    na, nb = sum(a.values()), sum(b.values())
    if not na or not nb:
        return 1.0
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a[k] / na - b[k] / nb) for k in keys)


def _activities(t: Traces) -> Counter:
    return Counter(act for seq in t.sequences for act in seq)


def _lengths(t: Traces) -> Counter:
    return Counter(min(len(seq), LONGEST) for seq in t.sequences)


def _follows(t: Traces) -> Counter:
    return Counter(
        pair for seq in t.sequences for pair in zip(("▶", *seq), (*seq, "■"), strict=True)
    )


def _variants(t: Traces, top: set[tuple[str, ...]]) -> Counter:
    return Counter(seq if seq in top else ("other",) for seq in t.sequences)


def _variant_distance(a: Traces, held: Traces) -> float:
    top = {seq for seq, _ in Counter(held.sequences).most_common(TOP_VARIANTS)}
    return total_variation(_variants(a, top), _variants(held, top))


def _rework(t: Traces) -> float:
    return float(np.mean([len(set(seq)) < len(seq) for seq in t.sequences]))


def _relative(value: float, reference: float) -> float:
    return abs(value / reference - 1.0) if reference else float(value != reference)


def _per_day(t: Traces) -> float:
    days = (t.starts.max() - t.starts.min()).total_seconds() / 86400
    return len(t.starts) / max(days, 1 / 24)


MEASURES = {
    "activity frequencies": lambda a, b: total_variation(_activities(a), _activities(b)),
    "trace lengths": lambda a, b: total_variation(_lengths(a), _lengths(b)),
    "top variants": _variant_distance,
    "directly-follows": lambda a, b: total_variation(_follows(a), _follows(b)),
    "rework rate": lambda a, b: abs(_rework(a) - _rework(b)),
    "case duration median": lambda a, b: _relative(np.median(a.minutes), np.median(b.minutes)),
    "case duration p90": lambda a, b: _relative(
        np.quantile(a.minutes, 0.9), np.quantile(b.minutes, 0.9)
    ),
}
"""Each measure's distance between two sets of traces (0: the same)."""
