"""The validation report: the simulation against exact theory, case by case.

Each row is one quantity: its exact value, the simulated mean with its 99% interval and
whether the exact value lies inside. Journeys use replication means (independent by
construction); queue waits use batch means over one long run. Run with
``spiral validate --theory``; ``--markdown`` writes the table docs/validation.md holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from spiral.analysis.results import run
from spiral.engines.analytic import theory, unlimited, without_loops
from spiral.engines.queueing import erlang_a, erlang_c
from spiral.engines.segments import segment_views
from spiral.model.loading import builtin_scenarios, load_scenario, parse_scenario, with_length

LEVEL = 0.99


def interval(values: np.ndarray) -> tuple[float, float]:
    """Return the mean and the half-width of its 99% Student-t interval."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    n = len(values)
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean()), float(half)


def _entry(case: str, quantity: str, exact: float, mean: float, half: float) -> dict:
    return {
        "case": case,
        "quantity": quantity,
        "exact": exact,
        "simulated": mean,
        "low": mean - half,
        "high": mean + half,
        "inside": bool(abs(mean - exact) <= half + 1e-12 * max(1.0, abs(exact))),
    }


def _row(case: str, quantity: str, exact: float, values: np.ndarray) -> dict:
    return _entry(case, quantity, exact, *interval(values))


def _known_row(case: str, quantity: str, exact: float, variance: float, values: np.ndarray) -> dict:
    """Return a row whose interval uses the exact variance of one observation (a heavy tail).

    A rare, very large severity dominates the variance; samples that happen to miss it
    estimate the variance far too small and their interval too narrow, so the exact
    variance (from the exact distribution) sets the width instead.
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    half = stats.norm.ppf(0.5 + LEVEL / 2) * math.sqrt(variance / len(values))
    return _entry(case, quantity, exact, float(values.mean()), float(half))


RARE = 1e-3


def _moment(exact_severity: list[tuple[float, float]], power: int) -> float:
    return sum(v**power * p for v, p in exact_severity)


def journey_rows(
    name: str, replications: int, customers: int, data: dict | None = None
) -> Iterator[dict]:
    """Visits per node, outcome shares, failures, churn and severity of a built-in scenario.

    ``data``: a scenario given as a mapping instead (a case made for one mechanism).
    """
    base = load_scenario(name) if data is None else parse_scenario(data, name)
    scenario = without_loops(unlimited(base))
    scenario = scenario.model_copy(update={"warmup": 0.0, "drain": 3650 * 1440.0})
    exact = theory(scenario, tolerance=1e-8)
    views = segment_views(scenario)
    values_of = scenario.segment_values()
    per_rep: dict[str, list[float]] = {}
    severities = []
    for r in range(replications):
        result = run(with_length(scenario, customers=customers), seed=1000 + r)
        done = result.customers
        n = len(done)
        values = {
            f"visits {node}": v / n
            for node, v in zip(result.raw.journey.names, result.raw.node_visits, strict=True)
        }
        exits = done["exit_node"].astype(str).value_counts()
        values.update({f"P(ends at {o})": exits.get(o, 0) / n for o in scenario.outcomes})
        values["failures per customer"] = float(done["failures"].mean())
        values["failures suffered in silence per customer"] = float(done["silent"].mean())
        values["churn rate"] = float((done["outcome"] == "churned").mean())
        for k, view in enumerate(views if len(views) > 1 else []):
            mine = done["segment"] == k
            churned = (done["outcome"] == "churned") & mine
            values[f"churn rate, {view.name}"] = float(churned.sum() / max(mine.sum(), 1))
            values[f"social escalation, {view.name}"] = float(
                (done["social"] & mine).sum() / max(mine.sum(), 1)
            )
            values["revenue at risk per customer"] = (
                values.get("revenue at risk per customer", 0.0)
                + float(churned.sum()) * values_of[k] / n
            )
        severities.append(done["severity"].to_numpy())
        for key, value in values.items():
            per_rep.setdefault(key, []).append(value)
    truth = {f"visits {node}": v for node, v in exact.visits.items()}
    truth.update({f"P(ends at {o})": p for o, p in exact.outcomes.items()})
    truth["failures per customer"] = exact.failures_mean
    truth["failures suffered in silence per customer"] = exact.silent
    truth["churn rate"] = exact.churn_rate
    for k, view in enumerate(views if len(views) > 1 else []):
        part = theory(view.scenario, tolerance=1e-8)  # one chain per segment
        truth[f"churn rate, {view.name}"] = part.churn_rate
        truth[f"social escalation, {view.name}"] = part.social
        truth["revenue at risk per customer"] = (
            truth.get("revenue at risk per customer", 0.0)
            + view.share * values_of[k] * part.churned
        )
    case = f"{name} (unlimited staff)"
    for key, values in per_rep.items():
        if key.startswith("social escalation") and truth[key] < RARE:
            continue  # too rare to be seen in the sample: the interval would be 0 wide
        yield _row(case, key, truth[key], np.asarray(values))
    mean = exact.severity_mean
    variance = _moment(exact.severity, 2) - mean**2
    yield _known_row(case, "severity mean", mean, variance, np.concatenate(severities))


def _queue(rate: float, mean_service: float, staff: int, patience: float | None) -> dict:
    contact = {
        "silo": "desk",
        "handling": {"dist": "exponential", "mean": f"{mean_service} min"},
        "fcr": 1.0,
        "resolved": "close",
        "unresolved": "gone",
    }
    if patience is not None:
        contact.update(
            patience={"dist": "exponential", "mean": f"{patience} min"}, redial=0.0, give_up="gone"
        )
    return {
        "name": "queue",
        "customers": 1,
        "warmup": "1 day",
        "start": "desk",
        "arrivals": {"rate": f"{rate} per min"},
        "silos": {"desk": {"staff": staff}},
        "steps": {"close": {"silo": "desk", "self_service": True, "next": "done"}},
        "contacts": {"desk": contact},
        "outcomes": {"done": {}, "gone": {"kind": "churn"}},
    }


def _batches(values: np.ndarray, batches: int = 30) -> np.ndarray:
    """Return the means of consecutive equal batches (autocorrelation averages out)."""
    n = len(values) // batches * batches
    return values[:n].reshape(batches, -1).mean(axis=1)


def erlang_c_rows(points: list[tuple[float, float, int]], customers: int) -> Iterator[dict]:
    """Mean wait in queue of M/M/c against Erlang C, by batch means of one long run."""
    for rate, mean_service, staff in points:
        data = _queue(rate, mean_service, staff, None)
        data["customers"] = customers
        scenario = parse_scenario(data, "erlang_c")
        customers_frame = run(scenario, seed=7).customers
        measured = customers_frame[customers_frame["arrival"] >= scenario.warmup]
        _, wait = erlang_c(rate, 1 / mean_service, staff)
        load = rate * mean_service / staff
        case = f"M/M/{staff}, λ={rate:g}/min, mean service {mean_service:g} min ({load:.0%} busy)"
        yield _row(case, "mean wait (min)", wait, _batches(measured["wait"].to_numpy()))


def erlang_a_rows(
    rate: float, mean_service: float, staff: int, patience: float, customers: int
) -> Iterator[dict]:
    """Abandonment of M/M/c+M against Erlang A, by batch means of one long run."""
    data = _queue(rate, mean_service, staff, patience)
    data["customers"] = customers
    scenario = parse_scenario(data, "erlang_a")
    frame = run(scenario, seed=11).customers
    measured = frame[frame["arrival"] >= scenario.warmup].sort_values("arrival")
    exact = erlang_a(rate, 1 / mean_service, staff, 1 / patience)["p_abandon"]
    case = (
        f"M/M/{staff}+M, λ={rate:g}/min, mean service {mean_service:g} min, "
        f"mean patience {patience:g} min"
    )
    abandoned = (measured["abandons"] > 0).to_numpy(float)
    yield _row(case, "P(abandon)", exact, _batches(abandoned))


def severity_rows(name: str, customers: int) -> Iterator[dict]:
    """Severity's first two moments and escalation rates: exact against one run."""
    scenario = without_loops(unlimited(load_scenario(name)))
    scenario = scenario.model_copy(update={"warmup": 0.0, "drain": 3650 * 1440.0})
    exact = theory(scenario, tolerance=1e-9)
    done = run(with_length(scenario, customers=customers), seed=3).customers
    s = done["severity"].to_numpy()
    mean, second = exact.severity_mean, _moment(exact.severity, 2)
    case = f"{name} (unlimited staff): severity"
    yield _known_row(case, "E[severity]", mean, second - mean**2, s)
    yield _known_row(case, "E[severity²]", second, _moment(exact.severity, 4) - second**2, s * s)
    yield _row(case, "P(social escalation)", exact.social, done["social"].to_numpy(float))


SILENT_CASE = {
    "name": "silent_sufferers",
    "customers": 1,
    "arrivals": {"rate": "100 per day"},
    "start": "order",
    "silos": {"shop": {"staff": "unlimited"}, "care": {"staff": "unlimited", "baton": 0.5}},
    "steps": {
        "order": {
            "silo": "shop",
            "failure": 0.3,
            "complain": 0.4,
            "on_failure": "helpline",
            "silent": {"deliver": 0.8, "gone": 0.2},
            "next": "deliver",
        },
        "deliver": {
            "silo": "shop",
            "failure": 0.2,
            "loss": "small",
            "on_failure": "helpline",
            "next": "done",
        },
    },
    "contacts": {
        "helpline": {
            "silo": "care",
            "handling": {"dist": "exponential", "mean": "5 min"},
            "fcr": 0.6,
            "resolved": "deliver",
            "unresolved": {"helpline": 0.5, "gone": 0.5},
        }
    },
    "outcomes": {"done": {}, "gone": {"kind": "churn"}},
}
"""Complaining is a choice: failures voiced with probability 0.4 and (small loss) 0.03."""


RECOVERY_CASE = {
    "name": "recovery_speed",
    "customers": 1,
    "arrivals": {"rate": "100 per day"},
    "start": "order",
    "silos": {"shop": {"staff": "unlimited"}, "care": {"staff": "unlimited"}},
    "steps": {
        "order": {
            "silo": "shop",
            "service": {"dist": "exponential", "mean": "10 min"},
            "failure": 0.3,
            "on_failure": "helpline",
            "next": "done",
        }
    },
    "contacts": {
        "helpline": {
            "silo": "care",
            "handling": {"dist": "lognormal", "mean": "2 h", "cv": 0.8},
            "fcr": 0.5,
            "resolved": "done",
            "unresolved": {"helpline": 0.8, "gone": 0.2},
        }
    },
    "outcomes": {"done": {}, "gone": {"kind": "churn"}},
    "experience": {"loyalty": {"recovery_time": "4 h"}},
}
"""Recovery that depends on speed: repeated lognormal handling before a resolution."""


FADE_CASE = {
    "name": "fading",
    "customers": 1,
    "arrivals": {"rate": "1000 per day"},
    "start": "order",
    "silos": {"shop": {"staff": "unlimited"}, "care": {"staff": "unlimited"}},
    "steps": {
        "order": {
            "silo": "shop",
            "failure": 1.0,
            "complain": 0,
            "on_failure": "helpdesk",
            "next": "wait",
        },
        "wait": {
            "silo": "shop",
            "self_service": True,
            "service": {"dist": "exponential", "mean": "1 day"},
            "next": "done",
        },
    },
    "contacts": {
        "helpdesk": {
            "silo": "care",
            "handling": "10 min",
            "fcr": 1.0,
            "resolved": "done",
            "unresolved": "done",
        }
    },
    "outcomes": {"done": {}},
    "experience": {"severity_half_life": "1 day"},
}
"""Severity that fades: one failure, then an exponential wait (mean 1 day) to the end."""


SEGMENT_CASE = {
    **{key: value for key, value in RECOVERY_CASE.items() if key != "experience"},
    "name": "segments",
    "steps": {"order": {**RECOVERY_CASE["steps"]["order"], "complain": 0.4}},
    "segments": {
        "consumer": {"share": 0.8, "value": 100},
        "business": {"share": 0.2, "value": 2000, "tolerance": 0.25, "complain": 2.0},
    },
}
"""Two segments: businesses worth 20×, four times less tolerant, twice as ready to complain."""


def fade_rows(replications: int, customers: int) -> Iterator[dict]:
    """Yield final severity and churn when a complaint fades over an exponential wait.

    Severity 1 fades to 2^(-W/h) over a wait W ~ Exp(mean m): E[severity] is the wait's
    Laplace transform at ln 2 / h, and churn max − (max − base)·E[exp(−2^(−W/h)/scale)]
    a one-dimensional integral.
    """
    from scipy import integrate

    scenario = parse_scenario(FADE_CASE, "fading")
    exp = scenario.experience
    loyalty, half_life = exp.loyalty, exp.severity_half_life
    wait = scenario.steps["wait"].service
    mean_wait = wait.mean()
    severity = wait.laplace(math.log(2) / half_life)
    kept = integrate.quad(
        lambda w: (
            math.exp(-w / mean_wait)
            / mean_wait
            * math.exp(-(2.0 ** (-w / half_life)) / loyalty.severity_scale)
        ),
        0,
        math.inf,
    )[0]
    churn = loyalty.max_churn - (loyalty.max_churn - loyalty.base_churn) * kept
    per_rep: dict[str, list[float]] = {"severity mean": [], "churn rate": []}
    for r in range(replications):
        done = run(with_length(scenario, customers=customers), seed=3000 + r).customers
        per_rep["severity mean"].append(float(done["severity"].mean()))
        per_rep["churn rate"].append(float((done["outcome"] == "churned").mean()))
    case = "severity that fades (half-life 1 day, exponential wait)"
    yield _row(case, "severity mean", severity, np.asarray(per_rep["severity mean"]))
    yield _row(case, "churn rate", churn, np.asarray(per_rep["churn rate"]))


TIME_CASE = {
    "name": "time",
    "horizon": "10 days",
    "arrivals": {
        "rate": "500 per day",
        "timeline": [
            {"start": "2 days", "end": "5 days", "factor": 2},
            {"start": "7 days", "end": "8 days", "factor": 0.5},
        ],
        "events": [{"at": "6 days", "node": "serve", "customers": 300, "over": "6 h"}],
    },
    "start": "serve",
    "silos": {
        "desk": {
            "staff": 3,
            "cost_per_hour": 20,
            "roster": {"cycle": "day", "staff": [1] * 8 + [3] * 10 + [2] * 6},
            "changes": [{"start": "9 days", "add": 1}],
        }
    },
    "steps": {
        "serve": {
            "silo": "desk",
            "service": {"dist": "exponential", "mean": "1 min"},
            "next": "done",
        }
    },
    "outcomes": {"done": {}},
}
"""A demand timeline, a burst and a roster with a dated change: their exact counts."""


def time_rows(replications: int) -> Iterator[dict]:
    """Arrivals under a timeline and a burst against rate × factor × time; a roster's cost."""
    scenario = parse_scenario(TIME_CASE, "time")
    day = 1440.0
    windows = {  # (from, to) in days: exact expected arrivals
        "arrivals, days 2-5 (×2)": ((2, 5), 500 * 2 * 3),
        "arrivals, day 7-8 (×0.5)": ((7, 8), 500 * 0.5),
        "arrivals, the burst's 6 hours (300 + the rate)": ((6, 6.25), 300 + 500 / 4),
        "arrivals, days 0-2 and 8-10 (×1)": (None, 500 * 4),
    }
    # staff-hours a day on the roster: 8×1 + 10×3 + 6×2 = 50; from day 9 one more in each
    # hour: 74; paid from the start to the end of arrivals at £20 an hour
    paid = (9 * 50 + 74) * 20.0
    per_rep: dict[str, list[float]] = {}
    for r in range(replications):
        result = run(scenario, seed=2000 + r)
        arrival = result.customers["arrival"].to_numpy() / day
        for label, (span, _) in windows.items():
            if span is None:
                count = ((arrival < 2) | (arrival >= 8)).sum()
            else:
                count = ((arrival >= span[0]) & (arrival < span[1])).sum()
            per_rep.setdefault(label, []).append(float(count))
        per_rep.setdefault("staff cost (£, the roster's hours)", []).append(
            float(result.summary["staff_cost"])
        )
    exact = {label: value for label, (_, value) in windows.items()}
    exact["staff cost (£, the roster's hours)"] = paid
    for key, values in per_rep.items():
        yield _row("demand timeline, burst and roster", key, exact[key], np.asarray(values))


def validation_report(quick: bool = False, progress: Callable[[str], None] | None = None):  # noqa: ANN201
    """Return the validation table (DataFrame); ``quick`` uses fewer and smaller runs."""
    scale = 4 if quick else 1
    parts: list[Callable[[], Iterator[dict]]] = []
    names = ["tipping_point", "airline_disruption"] if quick else list(builtin_scenarios())
    for name in names:
        parts.append(lambda name=name: journey_rows(name, 10, 20_000 // scale))
    parts.append(lambda: journey_rows("silent sufferers", 10, 20_000 // scale, SILENT_CASE))
    parts.append(lambda: journey_rows("recovery by speed", 10, 20_000 // scale, RECOVERY_CASE))
    parts.append(lambda: fade_rows(10, 20_000 // scale))
    parts.append(lambda: journey_rows("customer segments", 10, 20_000 // scale, SEGMENT_CASE))
    points = [(0.05, 10.0, 1), (0.24, 10.0, 3), (0.475, 10.0, 5)]  # 50%, 80%, 95% busy
    parts.append(lambda: erlang_c_rows(points, 400_000 // scale))
    parts.append(lambda: erlang_a_rows(0.5, 10.0, 5, 10.0, 200_000 // scale))
    parts.append(lambda: severity_rows("airline_disruption", 200_000 // scale))
    parts.append(lambda: time_rows(20 // scale))
    rows = []
    for part in parts:
        for row in part():
            rows.append(row)
        if progress is not None:
            progress(rows[-1]["case"])
    return pd.DataFrame(rows)


def markdown(report: pd.DataFrame) -> str:
    """Return the report as the Markdown page docs/validation.md."""
    passed = int(report["inside"].sum())
    lines = [
        "# Validation: the simulation against exact theory",
        "",
        "Regenerate with `spiral validate --theory --markdown > docs/validation.md`.",
        "Journeys: 10 replications per built-in scenario, of a case where complaining is a",
        "choice (failures voiced with probability 0.4 and 0.03) and of one where recovery",
        "depends on speed (recovery_time 4 h, lognormal handling), and of two customer segments",
        "(one chain per segment, mixed by share), with unlimited staff and the loops off, each",
        "replication's mean one observation; severity that fades: 10",
        "replications against its exact mean and churn (integrals over the wait); queues:",
        "batch means (30 batches) of one long run after a one-day warm-up; time in scenarios:",
        "20 replications of a demand timeline, a burst and a roster (arrivals per stretch",
        "against rate × factor × time, the roster's staff cost exactly); intervals are 99%",
        "Student-t, except severity's moments, whose 99% normal intervals take the exact",
        "variance: severity has a heavy tail, and a sample that misses its rare large values",
        "underestimates its own spread. About 1 in 100 exact values is expected outside its",
        "interval by chance.",
        "",
        f"**{passed} of {len(report)} exact values lie inside their 99% interval.**",
        "",
        "| case | quantity | exact | simulated | 99% interval | |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in report.itertuples():
        verdict = "pass" if row.inside else "**outside**"
        lines.append(
            f"| {row.case} | {row.quantity} | {row.exact:.6g} | {row.simulated:.6g} | "
            f"{row.low:.6g} … {row.high:.6g} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
