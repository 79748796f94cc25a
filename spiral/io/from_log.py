"""A starting scenario from an organisation's own event log (CSV, parquet or XES).

Each activity becomes a step (its silo: the resource that handled it most often) and each
activity that never has a successor an outcome. From the completed visits, in order per
case: where cases start, the share of visits that failed (`spiral:failure`, when the
log has it), where customers went next after a good and after a failed visit, and the
mean service time (start to complete, when the log has both). Arrivals: the cases over
the span of their first events. Staff are unlimited and compounding is off (a
first-order fit); the file is a start, to edit.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from spiral.io.discovery.arrivals import fit_arrivals
from spiral.io.discovery.durations import fit_duration
from spiral.io.discovery.reading import LogColumns, read_groups, read_log
from spiral.io.discovery.trace_length import expected_duration, expected_visits
from spiral.io.event_log import ACTIVITY, CASE, FAILURE, LIFECYCLE, MISROUTED, RESOURCE, TIME
from spiral.model.errors import problem, safe_text
from spiral.model.loading import parse_scenario
from spiral.model.units import format_duration

__all__ = [
    "FittedLog",
    "LogColumns",
    "read_groups",
    "fit_log",
    "fitted_yaml",
    "read_log",
    "scenario_from_log",
    "service_note",
]


def _true(values: pd.Series) -> pd.Series:
    """Return a flag column as booleans, however the file wrote them (True, true, 1)."""
    return values.astype(str).str.lower().isin(["true", "1", "1.0"])


def _visits(log: pd.DataFrame) -> pd.DataFrame:
    """Return the completed visits in order per case, with service minutes where known."""
    log = log.sort_values([CASE, TIME], kind="stable").reset_index(drop=True)
    life = log[LIFECYCLE].astype(str).str.lower() if LIFECYCLE in log else None
    if life is not None and not (life == "start").any():
        life = None  # complete events only: as if the column were not there
        log = log[log[LIFECYCLE].astype(str).str.lower().isin(["complete", "withdraw"])]
        log = log.reset_index(drop=True)
    if life is None:
        visits = log.assign(minutes=_estimated_minutes(log))
    else:
        ends = life.isin(["complete", "withdraw"])
        visits = log[ends].copy()
        # pair each complete with the start of the same activity just before it in its case
        began: dict[tuple[str, str], object] = {}
        minutes = {}
        rows = zip(log.index, log[CASE], log[ACTIVITY], log[TIME], life, strict=True)
        for index, case, activity, time, kind in rows:
            if kind == "start":
                began[(case, activity)] = time
            elif kind in ("complete", "withdraw"):
                first = began.pop((case, activity), None)
                if kind == "complete" and first is not None and first <= time:
                    minutes[index] = (time - first).total_seconds() / 60
        visits["minutes"] = [minutes.get(i, math.nan) for i in visits.index]
    failed = visits[FAILURE] if FAILURE in visits else pd.Series(False, index=visits.index)
    visits["failed"] = _true(failed)
    if life is not None:  # a customer who gave up did not get the activity's job done
        visits.loc[life[visits.index] == "withdraw", "failed"] = True
    visits = visits.reset_index(drop=True)
    if MISROUTED in visits:
        # a misrouted visit (the wrong place, before the customer is sent on to the visit
        # meant) is a detour, not routing: drop it, so the visit before leads on to the
        # one meant
        wrong = _true(visits[MISROUTED]).to_numpy()
        visits = visits[~wrong].reset_index(drop=True)
    return visits


def _estimated_minutes(log: pd.DataFrame) -> pd.Series:
    """Return each completed visit's minutes where the log has no start events.

    As Simod does (Camargo et al. 2020): an activity starts when both its case and its
    resource are free — the later of the case's previous completion and the resource's —
    and takes until it completes. A case's first activity takes no time: the case arrives
    when it completes (arrivals are fitted to those times), so durations add up to the
    case's time in the log.
    """
    ready = log.groupby(CASE, sort=False)[TIME].shift(1)
    first = ready.isna()
    if RESOURCE in log and log[RESOURCE].notna().any():
        by_time = log.sort_values(TIME, kind="stable")
        free = by_time.groupby(RESOURCE, sort=False)[TIME].shift(1).reindex(log.index)
        ready = ready.where(free.isna() | (ready >= free), free).where(~first)
    return ((log[TIME] - ready).dt.total_seconds() / 60).where(~first, 0.0)


def _shares(counts: Counter) -> dict[str, float]:
    """Return the counts as shares rounded to 4 decimals, most common first, summing to 1."""
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    shares = {target: round(n / total, SHARE_DIGITS) for target, n in ordered}
    top = ordered[0][0]
    shares[top] = round(1.0 - sum(v for k, v in shares.items() if k != top), SHARE_DIGITS)
    return {target: p for target, p in shares.items() if p > 0}


SHARE_DIGITS = 4  # routing shares in the file: their counts are in the comments
ENDED = "ended"
"""The outcome of a case that ends after an activity with no closing event (implicit end)."""
TOO_LONG = 10.0  # fitted cases this many times the log's length: refused
OFF = 0.25  # fitted length or duration this far from the log's: a warning
POOL_SHARE = 0.05  # a resource doing less of an activity than this is not in its pool
ASSUMPTIONS = (
    "ASSUMPTIONS: an event log cannot know these, so they are neutral (edit them):",
    "money (revenue 0, staff and escalation costs 0), churn and advocacy (0: loyalty",
    "decides nothing), escalation (never), handoffs (warm: no severity), compounding (off),",
    "failures (0 unless the log flags them with spiral:failure). Customers who end after",
    f"an activity without a closing event reach the outcome {ENDED!r} (kind complete).",
)


@dataclass
class FittedLog:
    """A scenario fitted to a log, the comments that say where each number came from, and checks."""

    data: dict
    notes: dict[str, list[str]] = field(default_factory=dict)  # section/step -> comment lines
    activity_of: dict[str, str] = field(default_factory=dict)  # step or outcome -> activity
    warnings: list[str] = field(default_factory=list)
    checks: dict[str, float] = field(default_factory=dict)


def scenario_from_log(log: pd.DataFrame, name: str, source: str = "<log>") -> dict:
    """Return scenario data (as a YAML file would hold it) fitted to an event log."""
    return fit_log(log, name, source).data


def fit_log(
    log: pd.DataFrame,
    name: str,
    source: str = "<log>",
    memory: int | str = "auto",
    groups: dict[str, str] | None = None,
) -> FittedLog:
    """Fit a scenario to an event log: routing with case ends, durations, arrivals, silos.

    ``memory``: 1 routes on the current activity (first order), 2 on it and the one
    before (second order: each activity becomes one step per previous activity), "auto"
    the one that predicts the log's later cases better (held-out log-likelihood).
    ``groups`` maps resources to their teams: the teams become the silos.
    """
    visits = _visits(log)
    if groups and RESOURCE in visits:
        visits[RESOURCE] = visits[RESOURCE].map(
            lambda r: groups.get(r, r) if isinstance(r, str) else r
        )
    if not len(visits):
        raise problem(
            source, LIFECYCLE, "no completed visits; expected 'complete' events (or no column)"
        )
    traces = [
        (acts, fails)
        for acts, fails in zip(
            visits.groupby(CASE, sort=False)[ACTIVITY].agg(list),
            visits.groupby(CASE, sort=False)["failed"].agg(list),
            strict=True,
        )
    ]
    ends_only: dict[str, set] = defaultdict(set)
    for acts, _ in traces:
        for here, there in zip(acts, [*acts[1:], None], strict=True):
            ends_only[here].add(there or ENDED)
    activities = list(dict.fromkeys(visits[ACTIVITY]))
    # an instant activity that only ever closes cases is an outcome (spiral's own logs end
    # so); one that takes time, or sometimes does not close the case, is a step with a
    # share of its cases ending after it (the implicit end)
    took = visits.groupby(ACTIVITY)["minutes"].max().fillna(0.0)
    outcomes = [a for a in activities if ends_only[a] == {ENDED} and took.get(a, 0.0) <= 0.0]
    if len(outcomes) == len(activities):
        raise problem(
            source,
            ACTIVITY,
            f"no case goes on from one activity to another ({len(visits)} completed "
            "visits); expected cases of at least two activities, a step and then an outcome",
        )
    fit = FittedLog({})
    memory, why = _memory(memory, [acts for acts, _ in traces], outcomes, fit)
    starts: Counter = Counter()
    after_good: dict[str, Counter] = defaultdict(Counter)
    after_bad: dict[str, Counter] = defaultdict(Counter)
    done: Counter = Counter()
    bad: Counter = Counter()
    for acts, fails in traces:
        states = _states(acts, memory, outcomes)
        starts[states[0]] += 1
        for here, there, failed in zip(states, [*states[1:], None], fails, strict=True):
            done[here] += 1
            bad[here] += failed
            (after_bad if failed else after_good)[here][there or ENDED] += 1
            fit.activity_of[here] = _activity(here) if memory > 1 else here
    implicit = any(
        ENDED in after_good[state] or ENDED in after_bad[state]
        for state in done
        if fit.activity_of[state] not in outcomes
    )
    silo_of, silos, self_served = _silos(visits, [a for a in activities if a not in outcomes])
    durations = {
        a: fit_duration(visits.loc[visits[ACTIVITY] == a, "minutes"].to_numpy())
        for a in activities
        if a not in outcomes
    }
    steps = {}
    for state in done:
        activity = fit.activity_of[state]
        if activity in outcomes:
            continue
        failure = bad[state] / done[state] if done[state] else 0.0
        good, worse = after_good[state], after_bad[state]
        step = {"silo": silo_of[activity]}
        if activity in self_served:
            step["self_service"] = True
        step.update(
            {
                "service": durations[activity].spec,
                "failure": round(failure, 6),
                "next": _shares(good or worse),
            }
        )
        if worse and failure > 0:
            step["on_failure"] = _shares(worse)
        steps[state] = step
        fit.notes[f"steps.{state}"] = [
            f"{done[state]:,} visits; service of {activity}: {durations[activity].comment()}",
            "next: " + _support(good or worse),
        ]
    arrivals = fit_arrivals(log.groupby(CASE, sort=False)[TIME].min())
    outcome_names = outcomes + ([ENDED] if implicit else [])
    fit.data = {
        "name": name,
        "description": f"Fitted to an event log: {arrivals.cases} cases, "
        f"{len(activities)} activities.",
        "start_date": arrivals.start_date.isoformat(),
        "horizon": f"{arrivals.horizon_days:.6g} days",
        "arrivals": arrivals.arrivals(),
        "start": _shares(starts),
        "silos": silos,
        "steps": steps,
        "outcomes": {outcome: {} for outcome in outcome_names},
        "experience": NEUTRAL_EXPERIENCE,
        "money": NEUTRAL_MONEY,
    }
    fit.notes["arrivals"] = arrivals.comment().splitlines()
    fit.notes["start"] = [why, _support(starts)]
    fit.notes["experience"] = list(ASSUMPTIONS)
    for outcome in outcome_names:
        fit.activity_of.setdefault(outcome, outcome)
    scenario = parse_scenario(fit.data, source)  # a log that fits no scenario is refused
    _check_length(fit, scenario, visits, outcomes, source)
    return fit


AFTER = " after "
SMOOTHING = 0.05  # added to each next step's count when scoring routing on unseen cases
VALIDATION = 0.2  # share of the (latest) cases "auto" scores the routing on
MAX_MEMORY = 3  # activities a step may remember (the current one included)
NATS = 0.002  # more memory must predict each move this much better (log-likelihood) to be kept


def _states(acts: list[str], memory: int, outcomes: list[str]) -> list[str]:
    """Return the steps a case visits: its activities, each after the ``memory - 1`` before.

    "B after A" (second order), "C after B after A" (third: the latest first); a case's
    first activity and the outcomes keep their own names.
    """
    if memory == 1:
        return list(acts)
    return [
        act
        if i == 0 or act in outcomes
        else AFTER.join([act, *reversed(acts[max(0, i - memory + 1) : i])])
        for i, act in enumerate(acts)
    ]


def _activity(state: str) -> str:
    return state.split(AFTER, 1)[0]


def _memory(memory: int | str, cases: list[list[str]], outcomes: list[str], fit) -> tuple[int, str]:  # noqa: ANN001
    """Return the routing memory to fit (1 to MAX_MEMORY) and a comment saying why."""

    def names_fit(order: int) -> bool:
        return all(
            len(state) <= 100 and AFTER not in act
            for acts in cases
            for act, state in zip(acts, _states(acts, order, outcomes), strict=True)
        )

    if isinstance(memory, int):
        if memory > 1 and not names_fit(memory):
            fit.warnings.append(
                f"routing with memory {memory} needs step names 'X after Y' of at most 100 "
                "characters (and activities without ' after '): fitted first order instead"
            )
            return 1, "routing: first order (activity names too long for more memory)"
        return memory, f"routing: memory {memory} (activities), as asked"
    if len(cases) < 10:
        return 1, "routing: first order (too few cases to choose)"
    cut = len(cases) - max(1, round(VALIDATION * len(cases)))
    scores = {
        order: _log_likelihood(cases[:cut], cases[cut:], order)
        for order in range(1, MAX_MEMORY + 1)
        if order == 1 or names_fit(order)
    }
    best = max(scores.values())
    chosen = min(order for order, score in scores.items() if score >= best - NATS)
    shown = ", ".join(f"{scores[o]:.4f} (memory {o})" for o in scores)
    return chosen, (
        f"routing: memory {chosen}: held-out log-likelihood per move {shown}, fitted on the "
        f"earlier {cut:,} cases, scored on the last {len(cases) - cut:,}"
    )


def _log_likelihood(train: list[list[str]], test: list[list[str]], memory: int) -> float:
    """Return the mean log-probability of each move of ``test`` under routing fitted to ``train``.

    The longest history seen in ``train`` decides (a history never seen backs off to a
    shorter one); its counts get SMOOTHING added for every possible next step, so a move
    never seen is unlikely, not impossible.
    """
    counts: dict[tuple, Counter] = defaultdict(Counter)
    for acts in train:
        for i, there in enumerate([*acts[1:], ENDED]):
            for k in range(1, memory + 1):
                counts[tuple(acts[max(0, i - k + 1) : i + 1])][there] += 1
    targets = len({a for acts in train + test for a in acts}) + 1
    total, moves = 0.0, 0
    for acts in test:
        for i, there in enumerate([*acts[1:], ENDED]):
            seen: Counter = Counter()
            for k in range(memory, 0, -1):
                seen = counts.get(tuple(acts[max(0, i - k + 1) : i + 1]), Counter())
                if seen:
                    break
            chance = (seen[there] + SMOOTHING) / (sum(seen.values()) + SMOOTHING * targets)
            total += math.log(chance)
            moves += 1
    return total / max(moves, 1)


NEUTRAL_EXPERIENCE = {
    "compounding": 1.0,
    "baton": 1.0,
    "ping_pong": 0.0,
    "escalation": {
        "social": {"threshold": 1e6, "probability": 0.0},
        "ceo": {"threshold": 1e6, "probability": 0.0},
    },
    "loyalty": {"base_churn": 0.0, "max_churn": 0.0, "base_advocacy": 0.0},
}
NEUTRAL_MONEY = {
    "revenue_per_retained": 0.0,
    "cost_per_staff_hour": 0.0,
    "cost_per_social_escalation": 0.0,
    "cost_per_ceo_escalation": 0.0,
}


def _support(counts: Counter) -> str:
    """Return the counts behind a routing's shares, most common first."""
    total = sum(counts.values())
    shown = [f"{target} {n:,}" for target, n in counts.most_common(8)]
    more = f", {len(counts) - 8} more" if len(counts) > 8 else ""
    return f"of {total:,}: " + ", ".join(shown) + more


def _silos(
    visits: pd.DataFrame, activities: list[str]
) -> tuple[dict[str, str], dict[str, dict], set[str]]:
    """Return each activity's silo, the silos with their staff, and the self-served activities.

    Without resources: one silo, unlimited staff. With them: activities whose performers
    overlap (Jaccard >= 0.5) share a pool (named after its resource if it has one, as
    spiral's own logs name silos), staffed by the most of its visits ever in progress at
    once; an activity no resource ever did is self-served (the log says so).
    """
    if RESOURCE not in visits or visits[RESOURCE].isna().all():
        return {a: "work" for a in activities}, {"work": {"staff": "unlimited"}}, set()
    people: dict[str, set[str]] = {}
    for activity in activities:
        done_by = visits.loc[visits[ACTIVITY] == activity, RESOURCE].dropna().value_counts()
        people[activity] = set(done_by[done_by >= POOL_SHARE * done_by.sum()].index)
    pools: list[tuple[set[str], list[str]]] = []
    for activity in activities:
        mine = people[activity]
        for staff, members in pools:
            if mine and len(staff & mine) >= 0.5 * len(staff | mine):
                staff |= mine
                members.append(activity)
                break
        else:
            pools.append((set(mine), [activity]))
    silo_of, silos, self_served = {}, {}, set()
    for staff, members in pools:
        if not staff:
            self_served.update(members)
            name = "self service"
            silos.setdefault(name, {"staff": "unlimited"})
        else:
            name = next(iter(staff)) if len(staff) == 1 else f"team of {members[0]}"
            busy = _concurrency(visits[visits[ACTIVITY].isin(members)])
            silos[name] = {"staff": max(1, busy)}
        for activity in members:
            silo_of[activity] = name
    return silo_of, silos, self_served


def _concurrency(visits: pd.DataFrame) -> int:
    """Return the most visits ever in progress at once (from their start and end times)."""
    timed = visits[visits["minutes"].notna()]
    if not len(timed):
        return 1
    ends = timed[TIME].astype("int64").to_numpy()
    starts = ends - (timed["minutes"].to_numpy() * 60e9).astype("int64")
    # +1 at each start, -1 at each end; an end before a start at the same moment
    moments = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts), int), -np.ones(len(ends), int)])
    order = np.lexsort((steps, moments))
    return int(np.cumsum(steps[order]).max())


def _check_length(
    fit: FittedLog,
    scenario,
    visits: pd.DataFrame,
    outcomes: list[str],
    source: str,  # noqa: ANN001
) -> None:
    """Refuse a fit whose cases run far longer than the log's; warn when they are off."""
    steps = visits[~visits[ACTIVITY].isin(outcomes)]
    observed = len(steps) / max(visits[CASE].nunique(), 1)
    expected = expected_visits(scenario)
    fit.checks.update(observed_visits=observed, fitted_visits=expected)
    ratio = expected / observed if observed else float("inf")
    if ratio > TOO_LONG:
        raise problem(
            source,
            ACTIVITY,
            f"the fitted cases would take {expected:,.1f} visits on average, {ratio:,.0f} times "
            f"the log's {observed:.2f}; expected a log whose activities end cases more often",
        )
    if abs(ratio - 1) > OFF:
        fit.warnings.append(
            f"the fitted cases take {expected:.2f} visits on average, the log's {observed:.2f} "
            f"({ratio - 1:+.0%}): a first-order fit misses some of the log's memory"
        )
    span = visits.groupby(CASE, sort=False)[TIME].agg(["min", "max"])
    lasted = float((span["max"] - span["min"]).dt.total_seconds().mean() / 60)
    fitted = expected_duration(scenario)
    fit.checks.update(observed_minutes=lasted, fitted_minutes=fitted)
    if lasted > 0 and abs(fitted / lasted - 1) > OFF:
        fit.warnings.append(
            f"a fitted case lasts {format_duration(fitted)} on average with unlimited staff, "
            f"the log's {format_duration(lasted)} ({fitted / lasted - 1:+.0%}): waits for staff "
            "or times the log does not show"
        )


_PLAIN = frozenset(
    """name description start_date horizon arrivals rate schedule cycle week multipliers
    start silos staff unlimited steps silo self_service service dist exponential lognormal
    gamma empirical fixed mean cv value values failure next on_failure outcomes experience
    compounding baton ping_pong escalation social ceo threshold probability loyalty
    base_churn max_churn base_advocacy money revenue_per_retained cost_per_staff_hour
    cost_per_social_escalation cost_per_ceo_escalation""".split()
)
"""The field names and keywords a fitted scenario holds: written plain, all else quoted."""


class _FittedDumper(yaml.SafeDumper):
    """Writes every string a log supplied (names, times, text) double-quoted."""


def _quoted(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if value in _PLAIN else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FittedDumper.add_representer(str, _quoted)


def fitted_yaml(fit: FittedLog | dict, log_file: str) -> str:
    """Return the YAML text of a fitted scenario, commented with where its numbers came from.

    The log's name is escaped into the comments and every string the log supplied is a
    double-quoted YAML string, so no file or activity name can add a key.
    """
    data, notes, warnings = (
        (fit.data, fit.notes, fit.warnings) if isinstance(fit, FittedLog) else (fit, {}, [])
    )
    lines = [f"# Fitted by `spiral from-log {safe_text(str(log_file))}`: a starting point to edit."]
    lines += [f"# warning: {safe_text(w)}" for w in warnings]
    for key, value in data.items():
        lines += [f"# {safe_text(note)}" for note in notes.get(key, [])]
        if key != "steps":
            lines.append(_dumped({key: value}))
            continue
        lines.append("steps:")
        for step, spec in value.items():
            lines += [f"  # {safe_text(note)}" for note in notes.get(f"steps.{step}", [])]
            lines.append(textwrap.indent(_dumped({step: spec}), "  "))
    return "\n".join(lines) + "\n"


def _dumped(data: dict) -> str:
    text = yaml.dump(
        data,
        Dumper=_FittedDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,  # lists and routings of numbers on one line
    )
    return text.rstrip("\n")


def service_note(log: pd.DataFrame) -> str | None:
    """Return a note when the log cannot give service times directly (no start events)."""
    if LIFECYCLE in log and (log[LIFECYCLE].astype(str).str.lower() == "start").any():
        return None
    return (
        "the log has no start events: each activity's time is estimated from the previous "
        "completion in its case (and its resource's, when known), as Simod does; a case's "
        "first activity takes no time (the case arrives when it completes)"
    )
