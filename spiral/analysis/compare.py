"""Comparisons: the baseline and what-ifs over replications, with 95% confidence intervals.

Replication r of every arm runs under the same seed (common random numbers), so the
paired difference to the baseline cancels most of the noise; ``crn=False`` gives each
arm its own seeds and a Welch interval instead (for teaching, and for the tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spiral.analysis.parallel import (
    finished,
    process_pool,
    signals_deferred,
    stop_pool,
    submit_failed,
)
from spiral.analysis.results import run
from spiral.analysis.warmup import detect_warmup
from spiral.engines.customer_tally import CustomerTally
from spiral.model.scenario import Scenario
from spiral.model.what_if_arms import BASELINE, Arm, parse_arm

KEY_METRICS: tuple[str, ...] = (
    "churn_rate",
    "complaints",
    "escalations",
    "severity_p95",
    "cost",
    "revenue",
    "net_value",
    "roi",
)
"""The metrics ``spiral compare`` prints; the tidy table has these and MORE_METRICS."""

MORE_METRICS: tuple[str, ...] = (
    "severity_mean",
    "handoffs_cold",
    "ping_pongs",
    "contacts",
    "abandons",
    "failures_per_customer",
    "cost_to_serve",
    "staff_cost",
    "intervention_cost",
)

SEGMENT_METRICS: tuple[str, ...] = ("churn_rate", "revenue_at_risk")
"""Per-segment metrics, named ``metric[segment]``, when the scenario declares segments."""

AUTO_START = 5  # replications before the first check of --replications auto
AUTO_MAX = 50


def metrics_of(summary: dict) -> dict[str, float]:
    """Return one replication's comparison metrics from a run summary."""
    out = {
        "churn_rate": summary["churn_rate"],
        "complaints": summary["complainants"],
        "escalations": summary["escalations_social"] + summary["escalations_ceo"],
        "severity_p95": summary["severity_p95"],
        "cost": summary["cost_to_serve"] + summary["intervention_cost"],
        "revenue": summary["revenue"],
        "net_value": summary["net_value"],
    }
    for name in MORE_METRICS:
        out[name] = summary[name]
    for segment, row in summary.get("segments", {}).items():
        for name in SEGMENT_METRICS:
            out[f"{name}[{segment}]"] = row[name]
    return {k: float(v) for k, v in out.items()}


def segment_metrics(columns: list[str] | pd.Index) -> list[str]:
    """Return the per-segment metrics among a runs table's columns, in their order."""
    return [c for c in columns if "[" in c and c.split("[")[0] in SEGMENT_METRICS]


def t_half_width(values: np.ndarray) -> float:
    """Return the half-width of the 95% t-interval of the mean (nan below two values)."""
    from scipy import stats

    values = values[~np.isnan(values)]
    n = len(values)
    if n < 2:
        return math.nan
    return float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))


def welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    """Return the half-width of the 95% Welch interval of mean(a) - mean(b)."""
    from scipy import stats

    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return 0.0
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(stats.t.ppf(0.975, dof) * math.sqrt(va + vb))


def seed_for(root: int, replication: int, arm: int, crn: bool) -> int:
    """Return the seed of one replication of one arm (the same for every arm under CRN)."""
    if crn:
        return root + replication
    return int(np.random.SeedSequence((root, arm, replication)).generate_state(1)[0])


@dataclass
class Comparison:
    """What ``compare`` found: the tidy table, every replication, and how it was chosen."""

    table: pd.DataFrame
    runs: pd.DataFrame
    effects: pd.DataFrame
    replications: int
    warmup: float
    crn: bool
    notes: list[str] = field(default_factory=list)


def _table(runs: pd.DataFrame, arms: list[Arm], crn: bool) -> pd.DataFrame:
    rows = []
    base = runs[runs["arm"] == BASELINE].sort_values("replication")
    for arm in arms:
        mine = runs[runs["arm"] == arm.label].sort_values("replication")
        for metric in (*KEY_METRICS, *MORE_METRICS, *segment_metrics(runs.columns)):
            values = mine[metric].to_numpy(dtype=float)
            mean = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
            hw = t_half_width(values)
            row = {"arm": arm.label, "metric": metric, "mean": mean, "half_width": hw}
            row["ci_low"], row["ci_high"] = mean - hw, mean + hw
            if arm.label != BASELINE and metric != "roi":
                theirs = base[metric].to_numpy(dtype=float)
                diff = float(values.mean() - theirs.mean())
                dhw = t_half_width(values - theirs) if crn else welch_half_width(values, theirs)
            else:
                diff, dhw = math.nan, math.nan
            row.update(diff=diff, diff_low=diff - dhw, diff_high=diff + dhw)
            row["significant"] = bool(
                not math.isnan(dhw) and (row["diff_low"] > 0 or row["diff_high"] < 0)
            )
            row["replications"] = len(values)
            rows.append(row)
    return pd.DataFrame(rows)


def _with_roi(runs: pd.DataFrame) -> pd.DataFrame:
    """Add ROI per replication: (net value gained over the baseline) / intervention cost."""
    base = runs[runs["arm"] == BASELINE].set_index("replication")
    gained = runs["net_value"] - runs["replication"].map(base["net_value"])
    extra_staff = runs["staff_cost"] - runs["replication"].map(base["staff_cost"])
    cost = runs["intervention_cost"] + extra_staff.clip(lower=0)
    runs["roi"] = np.where(
        (runs["arm"] != BASELINE) & (cost > 0), gained / cost.where(cost > 0, 1.0), np.nan
    )
    return runs


def _effects(series: dict[tuple[str, int], pd.DataFrame], arms: list[Arm], period: float):
    """Complaints avoided per day after each arm starts, and the days until it shows."""
    rows = []
    per_day = 1440.0 / period
    mean_of = {}
    for arm in arms:
        reps = [s for (label, _), s in series.items() if label == arm.label]
        length = min(len(s) for s in reps)
        mean_of[arm.label] = np.mean([s["failures"].to_numpy()[:length] for s in reps], axis=0)
    base = mean_of[BASELINE]
    avoided_of, effect_of = {}, {}
    for arm in arms[1:]:
        start = min(w.acts_from() for _, w in arm.what_ifs)
        first = int(start // period)
        last = max(first + 1, int(_arrivals_end(series, arm) // period))
        n = min(len(base), len(mean_of[arm.label]))
        avoided = base[:n] - mean_of[arm.label][:n]
        window = avoided[first:last]
        effect_of[arm.label] = float(window[len(window) // 2 :].mean()) if len(window) else 0.0
        avoided_of[arm.label] = (avoided, first, last, start)
    for arm in arms[1:]:
        avoided, first, last, start = avoided_of[arm.label]
        names = "+".join(name for name, _ in arm.what_ifs)
        full = [
            effect_of[a.label]
            for a in arms[1:]
            if "+".join(n for n, _ in a.what_ifs) == names
            and all(w.scope.customers >= 1 for _, w in a.what_ifs)
        ]
        reference = max(full) if full else math.nan  # no full roll-out in this comparison
        smooth = pd.Series(avoided).rolling(7, min_periods=1).mean().to_numpy()
        reached = [t for t in range(first, last) if reference > 0 and smooth[t] >= 0.5 * reference]
        rows.append(
            {
                "arm": arm.label,
                "start_day": start / 1440.0,
                "complaints_avoided_per_day": effect_of[arm.label] * per_day,
                "days_to_half_full_effect": (
                    ((reached[0] + 1) * period - start) / 1440.0 if reached else math.nan
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=["arm", "start_day", "complaints_avoided_per_day", "days_to_half_full_effect"]
    )


def _arrivals_end(series: dict, arm: Arm) -> float:
    """Return when arrivals ended in the arm's runs (the end of the effect window)."""
    return min(s.attrs["arrivals_end"] for (label, _), s in series.items() if label == arm.label)


@dataclass(frozen=True)
class _Task:
    """One replication of one arm: what a worker process needs."""

    scenario: Scenario
    arm: Arm
    replication: int
    seed: int
    warmup_only: bool = False  # a pilot run for warm-up detection: its tally only


def _replicate(task: _Task) -> tuple[dict, pd.DataFrame | tuple[CustomerTally, float]]:
    """Run one replication; return its metrics row and its per-period failures.

    A warm-up pilot returns no row but its customer tally and when its arrivals ended.
    """
    result = run(task.scenario, seed=task.seed, what_if=task.arm, customers=False)
    if task.warmup_only:
        return {}, (result.raw.customers.folded(), result.raw.arrivals_end)
    frame = result.timeseries[["period", "failures"]].copy()
    frame.attrs["arrivals_end"] = result.raw.arrivals_end
    row = {"arm": task.arm.label, "replication": task.replication, "seed": result.seed}
    row.update(metrics_of(result.summary))
    row["regime"] = result.summary["regime"]
    return row, frame


def _result(future: Future) -> tuple[dict, pd.DataFrame]:
    """Return a worker's result, waiting in slices so that Ctrl-C and SIGTERM get through."""
    with signals_deferred():
        finished([future])
    return future.result()


def compare(
    scenario: Scenario | str | Path,
    what_ifs: Sequence[str | Arm] | None = None,
    replications: int | str = 10,
    seed: int | None = None,
    crn: bool = True,
    target: float = 0.05,
    max_replications: int = AUTO_MAX,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> Comparison:
    """Run the baseline and each what-if over replications and compare them.

    ``what_ifs``: names, ``'a+b'`` or ``'name@10%'`` (default: all the scenario's what-ifs).
    ``replications``: a count, or ``'auto'`` to add replications until every key metric's
    95% half-width is within ``target`` × its mean (at most ``max_replications``), with
    the warm-up detected by MSER-5 when the scenario sets none. ``jobs`` > 1 runs
    replications in that many processes (same results). Returns a ``Comparison`` whose
    ``table`` is tidy: one row per arm and metric.
    """
    if not isinstance(scenario, Scenario):
        from spiral.model.loading import load_scenario

        scenario = load_scenario(scenario)  # a file or a built-in name
    root = scenario.seed if seed is None else seed
    if root < 0:
        raise ValueError(f"seed must be a non-negative integer, got {root}")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    chosen = list(scenario.what_ifs) if what_ifs is None else list(what_ifs)
    arms = [Arm(BASELINE)] + [a if isinstance(a, Arm) else parse_arm(a, scenario) for a in chosen]
    labels = [a.label for a in arms]
    if len(set(labels)) != len(labels):
        raise ValueError(f"each what-if once, got {', '.join(labels[1:])}")
    auto = replications == "auto"
    if not auto and (not isinstance(replications, int) or replications < 2):
        raise ValueError(f"replications must be 'auto' or an integer >= 2, got {replications!r}")
    notes: list[str] = []
    runs: list[dict] = []
    series: dict[tuple[str, int], pd.DataFrame] = {}
    if auto and max_replications < 2:
        raise ValueError(f"max_replications must be at least 2, got {max_replications}")
    n = min(AUTO_START, max_replications) if auto else int(replications)
    detect = auto and scenario.warmup == 0
    planned = [n * len(arms) + (AUTO_START if detect else 0)]
    done = [0]
    # never more processes than the runs of the first round (later rounds reuse them)
    workers = min(jobs, n * len(arms))
    pool = process_pool(workers) if workers > 1 else None

    def execute(tasks: list[_Task]) -> list[tuple[dict, pd.DataFrame]]:
        outputs = []
        if pool is None:
            results: Iterable = map(_replicate, tasks)
        else:
            with signals_deferred():  # see signals_deferred: a pool's locks
                try:
                    futures = [pool.submit(_replicate, task) for task in tasks]
                except OSError as error:  # the system refused a new process
                    raise submit_failed(error) from None
            results = (_result(future) for future in futures)
        for output in results:
            outputs.append(output)
            done[0] += 1
            if progress is not None:
                progress(done[0], planned[0])
        return outputs

    def add(first: int, last: int) -> None:
        tasks = [
            _Task(scenario, arm, r, seed_for(root, r, k, crn))
            for r in range(first, last)
            for k, arm in enumerate(arms)
        ]
        for row, frame in execute(tasks):
            runs.append(row)
            series[(row["arm"], row["replication"])] = frame

    try:
        if detect:
            pilots = execute(
                [
                    _Task(scenario, arms[0], r, seed_for(root, r, 0, crn), warmup_only=True)
                    for r in range(AUTO_START)
                ]
            )
            tallies = [tally for _, (tally, _) in pilots]
            warmup = detect_warmup(tallies, pilots[0][1][1])
            scenario = scenario.model_copy(update={"warmup": warmup})
            notes.append(
                f"warm-up: {warmup / 1440:.3g} days by MSER-5 on work in progress "
                f"({AUTO_START} baseline replications; the scenario sets none)"
            )
        add(0, n)
        while auto:
            frame = _with_roi(pd.DataFrame(runs))
            needed, worst = _needed(frame, arms, target)
            if needed <= n:
                notes.append(
                    f"replications: {n} (auto: every key metric's 95% half-width within "
                    f"{target:.0%} of its mean; widest {worst})"
                )
                break
            if n >= max_replications:
                notes.append(
                    f"replications: {n} (auto: stopped at the maximum {max_replications}; "
                    f"widest {worst})"
                )
                break
            more = min(max(needed, n + 1), 2 * n, max_replications)
            planned[0] += (more - n) * len(arms)
            add(n, more)
            n = more
    except BaseException:
        if pool is not None:
            stop_pool(pool)  # Ctrl-C, SIGTERM or an error: no worker runs on alone
        raise
    if pool is not None:
        pool.shutdown()
    frame = _with_roi(pd.DataFrame(runs))
    return Comparison(
        table=_table(frame, arms, crn),
        runs=frame,
        effects=_effects(series, arms, scenario.period),
        replications=n,
        warmup=scenario.warmup,
        crn=crn,
        notes=notes,
    )


def _needed(runs: pd.DataFrame, arms: list[Arm], target: float) -> tuple[int, str]:
    """Return the replications the widest key metric needs, and a note on that metric."""
    from scipy import stats

    needed, worst, worst_ratio = 0, "", -1.0
    for arm in arms:
        mine = runs[runs["arm"] == arm.label]
        n = len(mine)
        for metric in KEY_METRICS:
            if metric == "roi":
                continue  # a ratio of differences: its interval is reported, not targeted
            values = mine[metric].to_numpy(dtype=float)
            mean, sd = abs(values.mean()), values.std(ddof=1)
            if sd == 0:
                continue
            ratio = t_half_width(values) / mean if mean > 0 else math.inf
            if ratio > worst_ratio:
                worst_ratio = ratio
                worst = (
                    f"{metric} of {arm.label} at {ratio:.1%}"
                    if mean > 0
                    else (f"{metric} of {arm.label} (mean 0)")
                )
            if mean == 0:
                needed = max(needed, 10**9)
                continue
            t = stats.t.ppf(0.975, n - 1)
            needed = max(needed, math.ceil((t * sd / (target * mean)) ** 2))
    return needed, worst
