"""Metrics: a run's records turned into a summary and the tables strategists read first.

Every metric is read from the run's customer tally (``spiral.engines.customer_tally``):
counts and sums per group of customers, exact; severity quantiles from the severities
kept. None needs the customer table, so a run's memory does not grow with its customers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spiral.analysis.early_warning import early_warning, failure_doubled_day
from spiral.analysis.regime import verdict
from spiral.engines.customer_tally import CustomerTally, quantile_with_zeros
from spiral.engines.dynamics import samples_by_period
from spiral.engines.records import ADVOCATE, CHURNED, IN_PROGRESS, RETAINED
from spiral.engines.runs import RawRun
from spiral.model.scenario import Scenario

SPIRAL_BINS = (0, 1, 2, 3)  # the last bin is "3+"
OUTCOMES = ("retained", "advocate", "churned")
SPIRAL_COLUMNS = (
    "customers",
    "share",
    "severity_mean",
    "severity_p95",
    "churn_rate",
    "advocacy_rate",
    "social_rate",
    "ceo_rate",
    "effort_mean",
)


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole else 0.0


def _n(frame: pd.DataFrame) -> int:
    return int(frame["count"].sum())


def customer_value(customers: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Return each row's value of a retained customer: its segment's (the scenario's if none)."""
    values = np.asarray(scenario.segment_values())
    return values[customers["segment"].to_numpy()]


def finished_measured(cube: pd.DataFrame) -> pd.DataFrame:
    """Return the cube's rows of measured customers who finished their journey."""
    return cube[cube["measured"] & (cube["outcome"] != IN_PROGRESS)]


def bucket_of(failures_key: pd.Series, top: int = SPIRAL_BINS[-1]) -> pd.Series:
    """Return '0', '1', … or 'top+' for each (capped) failure count."""
    return failures_key.clip(upper=top).map(lambda k: f"{top}+" if k >= top else str(k))


def _quantile(tally: CustomerTally, rows: pd.DataFrame, bucket: int | None, q: float) -> float:
    """Return the q-quantile of severity over ``rows`` (finished, measured; one bucket or all)."""
    positives = tally.severities(bucket)
    return quantile_with_zeros(_n(rows) - len(positives), positives, q)


def spiral_table(tally: CustomerTally) -> pd.DataFrame:
    """Return severity, churn and escalation by number of failures suffered: the spiral."""
    done = finished_measured(tally.cube())
    top = SPIRAL_BINS[-1]
    bucket = bucket_of(done["failures_key"])
    rows = {}
    for label in [str(k) for k in SPIRAL_BINS[:-1]] + [f"{top}+"]:
        mine = done[bucket == label]
        n = _n(mine)
        if not n:
            continue
        k = int(label.rstrip("+"))
        rows[label] = {
            "customers": n,
            "share": n / max(_n(done), 1),
            "severity_mean": mine["severity"].sum() / n,
            "severity_p95": _quantile(tally, mine, k, 0.95),
            "churn_rate": _n(mine[mine["outcome"] == CHURNED]) / n,
            "advocacy_rate": _n(mine[mine["outcome"] == ADVOCATE]) / n,
            "social_rate": mine["social"].sum() / n,
            "ceo_rate": mine["ceo"].sum() / n,
            "effort_mean": mine["effort"].sum() / n,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if not len(table):
        table = pd.DataFrame(columns=SPIRAL_COLUMNS, dtype=float)
    table["customers"] = table["customers"].astype(np.int64)
    table.index.name = "failures"
    return table


def by_failure_step(
    tally: CustomerTally, scenario: Scenario, node_names: tuple[str, ...]
) -> pd.DataFrame:
    """Return churn and revenue at risk by the step where each customer's first failure was born."""
    done = finished_measured(tally.cube())
    failed = done[done["failures_key"] > 0]
    churned_total = _n(done[done["outcome"] == CHURNED])
    columns = [
        "customers",
        "share_of_failing",
        "severity_mean",
        "churned",
        "churn_rate",
        "share_of_all_churn",
        "revenue_at_risk",
        "escalations",
    ]
    if not len(failed):  # nobody failed: an empty table, not an error
        empty = pd.DataFrame(columns=columns, dtype=float)
        empty.index.name = "first_failure_step"
        return empty
    churned = failed["outcome"] == CHURNED
    lost = failed.assign(
        churned=np.where(churned, failed["count"], 0),
        lost=np.where(churned, failed["count"] * customer_value(failed, scenario), 0.0),
        escalations=failed["social"] + failed["ceo"],
    )
    grouped = lost.groupby("first_failure").sum(numeric_only=True).sort_index()
    size = grouped["count"]
    table = pd.DataFrame(
        {
            "customers": size.astype(np.int64),
            "share_of_failing": size / max(_n(failed), 1),
            "severity_mean": grouped["severity"] / size,
            "churned": grouped["churned"].astype(np.int64),
            "churn_rate": grouped["churned"] / size,
            "share_of_all_churn": grouped["churned"] / max(churned_total, 1),
            "revenue_at_risk": grouped["lost"],
            "escalations": grouped["escalations"].astype(np.int64),
        }
    )
    table.index = pd.CategoricalIndex(
        [node_names[k] for k in table.index], categories=list(node_names)
    )
    table.index.name = "first_failure_step"
    return table.sort_values("revenue_at_risk", ascending=False)


def silo_table(raw: RawRun, scenario: Scenario) -> pd.DataFrame:
    """Return staff, utilisation, mean wait, work done and staff cost per silo."""
    window = max(raw.end - scenario.warmup, 1e-9)
    paid_window = max(raw.arrivals_end - scenario.warmup, 0.0)
    rows = []
    for i, name in enumerate(raw.journey.silo_names):
        silo = scenario.silos[name]
        staff = raw.journey.staff[i]
        rate = (
            silo.cost_per_hour
            if silo.cost_per_hour is not None
            else (scenario.money.cost_per_staff_hour)
        )
        busy = raw.silo_busy[i]
        staff_minutes = staff * window if staff else 0.0
        # staff are paid from the warm-up to the end of arrivals: a fixed window, so cost
        # does not hang on when the last straggler happens to finish (noise in comparisons)
        paid_minutes = staff * paid_window if staff else 0.0
        for at, s, delta in raw.staff_log:  # what-ifs that add or move staff
            if s == i:
                staff_minutes += delta * max(raw.end - max(at, scenario.warmup), 0.0)
                paid_minutes += delta * max(raw.arrivals_end - max(at, scenario.warmup), 0.0)
        hours_paid = paid_minutes / 60 if staff else busy / 60
        rows.append(
            {
                "silo": name,
                "staff": staff if staff else "unlimited",
                "utilisation": busy / staff_minutes if staff and staff_minutes > 0 else math.nan,
                "busy_staff_mean": busy / window,
                "served": raw.silo_served[i],
                "mean_wait_min": _share(raw.silo_wait[i], raw.silo_served[i]),
                "staff_cost": hours_paid * rate,
            }
        )
    return pd.DataFrame(rows).set_index("silo")


def timeseries(raw: RawRun, scenario: Scenario) -> pd.DataFrame:
    """Return one row per period: arrivals, completions, events, outcomes, revenue, backlog."""
    tally = raw.customers.folded()
    period = scenario.period
    n = max(int(np.ceil(raw.end / period)), 1)
    data = {"period": np.arange(n), "start": np.arange(n) * period}
    data["warmup"] = data["start"] < scenario.warmup

    def fit(counts: np.ndarray) -> np.ndarray:
        """Return per-period counts over n periods (anything later counted in the last)."""
        out = np.zeros(n)
        m = min(n, len(counts))
        out[:m] = counts[:m]
        out[n - 1] += counts[n:].sum()
        return out

    data["arrivals"] = fit(tally.arrivals)
    data["completions"] = fit(tally.completions)
    data.update(raw.counters.to_arrays(n))
    bonus = scenario.money.advocate_bonus
    values = np.asarray(scenario.segment_values())
    worth = {}
    for code, column in ((RETAINED, "retained"), (ADVOCATE, "advocates"), (CHURNED, "churned")):
        by_segment = tally.outcomes[code]  # segment × period
        data[column] = fit(by_segment.sum(axis=0))
        worth[column] = fit(values[: len(by_segment)] @ by_segment)
    data["revenue"] = worth["retained"] + (1 + bonus) * worth["advocates"]
    data["revenue_at_risk"] = worth["churned"]
    frame = pd.DataFrame(data)
    frame["in_journey"] = frame["arrivals"].cumsum() - frame["completions"].cumsum()
    contacts = frame["contacts"].to_numpy()
    frame["failure_demand_share"] = np.divide(
        frame["failure_demand"].to_numpy(), contacts, out=np.zeros(n), where=contacts > 0
    )
    state = samples_by_period(
        raw.dynamics.samples, raw.journey, period, n, eroding=raw.dynamics.erodes
    )
    return pd.concat([frame, state], axis=1)


def regime_window(series: pd.DataFrame, raw: RawRun, scenario: Scenario) -> pd.DataFrame:
    """Return the whole periods after the warm-up that end before arrivals stopped."""
    period = scenario.period
    inside = (series["start"] >= scenario.warmup) & (series["start"] + period <= raw.arrivals_end)
    return series[inside]


def summarise(
    raw: RawRun,
    scenario: Scenario,
    seed: int,
    series: pd.DataFrame,
    intervention_cost: float = 0.0,
) -> dict:
    """Return the run's headline metrics as a JSON-ready dict."""
    tally = raw.customers.folded()
    cube = tally.cube()
    customers = cube[cube["measured"]]
    done = finished_measured(cube)
    n, completed = _n(customers), _n(done)
    outcome = done["outcome"]
    churned = _n(done[outcome == CHURNED])
    advocates = _n(done[outcome == ADVOCATE])
    retained = _n(done[outcome == RETAINED])
    money = scenario.money
    value = done["count"].to_numpy() * customer_value(done, scenario)
    worth = {
        label: float(value[(outcome == code).to_numpy()].sum())
        for label, code in zip(OUTCOMES, (RETAINED, ADVOCATE, CHURNED), strict=True)
    }
    revenue = worth["retained"] + worth["advocate"] * (1 + money.advocate_bonus)
    social, ceo = int(customers["social"].sum()), int(customers["ceo"].sum())
    silos = silo_table(raw, scenario)
    cost = (
        float(silos["staff_cost"].sum())
        + social * money.cost_per_social_escalation
        + (ceo * money.cost_per_ceo_escalation)
    )
    contacts = int(customers["contacts"].sum())
    failed = done["failures_key"] > 0
    voiced = done["voiced"]  # got in touch about a problem at least once
    complainants = _n(done[voiced])
    silent = failed & ~voiced
    buckets = done.groupby(bucket_of(done["failures_key"]))["count"].sum()
    positives = tally.severities()

    def mean(column: str) -> float:
        return float(done[column].sum() / completed) if completed else 0.0

    def churn_among(who: pd.Series) -> float:
        return _share(_n(done[who & (outcome == CHURNED)]), _n(done[who]))

    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "engine": raw.engine,
        "end_time_min": float(raw.end),
        "warmup_min": float(scenario.warmup),
        "arrivals": tally.total,
        "customers": n,
        "completed": completed,
        "in_progress": n - completed,
        "failures_per_customer": mean("failures"),
        "failures_distribution": {
            k: _share(int(buckets.get(k, 0)), completed) for k in ("0", "1", "2", "3+")
        },
        "customers_with_failure": _n(done[failed]),
        "complainants": complainants,
        "silent_sufferers": _n(done[silent]),
        "silent_failures": int(done["silent"].sum()),
        "churn_by_voice": {
            group: churn_among(who)
            for group, who in (("no failure", ~failed), ("complained", voiced), ("silent", silent))
        },
        "contacts": contacts,
        "contacts_per_customer": _share(contacts, n),
        "failure_demand_share": _share(int(customers["failure_demand"].sum()), contacts),
        "repeat_contacts": int(customers["repeat_contacts"].sum()),
        "abandons": int(customers["abandons"].sum()),
        "severity_mean": mean("severity"),
        "severity_p95": _quantile(tally, done, None, 0.95) if completed else 0.0,
        "severity_max": float(positives.max()) if len(positives) else 0.0,
        "escalations_social": social,
        "escalations_ceo": ceo,
        "social_reach": float(customers["reach"].sum()),
        "churned": churned,
        "advocates": advocates,
        "retained": retained,
        "churn_rate": _share(churned, completed),
        "retention_rate": _share(retained + advocates, completed),
        "advocacy_rate": _share(advocates, completed),
        "revenue": revenue,
        "revenue_at_risk": worth["churned"],
        "cost_to_serve": cost,
        "cost_per_customer": _share(cost, n),
        "staff_cost": float(silos["staff_cost"].sum()),
        "intervention_cost": intervention_cost,
        "net_value": revenue - cost - intervention_cost,
        "effort_mean": mean("effort"),
        "time_in_journey_mean_h": mean("duration") / 60,
        "wait_mean_min": mean("wait"),
        "handoffs_warm": int(customers["handoffs_warm"].sum()),
        "handoffs_cold": int(customers["handoffs_cold"].sum()),
        "ping_pongs": int(customers["ping_pongs"].sum()),
        "praise_to_complaint": _share(advocates, complainants) if complainants else None,
        "silos": {
            name: {
                "staff": row["staff"],
                "utilisation": None if pd.isna(row["utilisation"]) else float(row["utilisation"]),
                "mean_wait_min": float(row["mean_wait_min"]),
                "served": int(row["served"]),
            }
            for name, row in silos.iterrows()
        },
        "visits_per_customer": {
            name: _share(visits, tally.total)
            for name, visits in zip(raw.journey.names, raw.node_visits, strict=True)
        },
    }
    if scenario.segments:
        summary["segments"] = by_segment(tally, scenario).to_dict(orient="index")
    dynamics = raw.dynamics
    summary["loops_active"] = dynamics.active
    summary["reputation_end"] = dynamics.reputation
    summary["root_cause_fixes"] = dynamics.fixes
    staff = sum(s for s in raw.journey.staff if s)
    base = {name: step.failure for name, step in scenario.steps.items()}
    regime, reasons = verdict(regime_window(series, raw, scenario), summary, staff, base)
    summary["regime"] = regime
    summary["regime_reasons"] = reasons
    arriving = series[series["start"] + scenario.period <= raw.arrivals_end]
    warning = early_warning(arriving, scenario)
    summary["early_warning_day"] = warning.day if warning else None
    summary["early_warning"] = warning.reason() if warning else None
    summary["failure_doubled_day"] = failure_doubled_day(arriving, base)
    return summary


def by_segment(tally: CustomerTally, scenario: Scenario) -> pd.DataFrame:
    """Return, per customer segment, who they are, how they fail and speak, and what is lost."""
    done = finished_measured(tally.cube())
    names = list(scenario.segments) or ["all"]
    values = scenario.segment_values()
    rows = []
    for k, name in enumerate(names):
        mine = done[done["segment"] == k]
        n = _n(mine)
        churned = mine["outcome"] == CHURNED
        failed = mine["failures_key"] > 0
        voiced = mine["voiced"]
        lost = _n(mine[churned])
        rows.append(
            {
                "segment": name,
                "customers": n,
                "share": _share(n, _n(done)),
                "failed_share": _share(_n(mine[failed]), n),
                "complainants": _n(mine[voiced]),
                "silent_sufferers": _n(mine[failed & ~voiced]),
                "churned": lost,
                "churn_rate": _share(lost, n),
                "silent_share_of_churn": _share(_n(mine[churned & failed & ~voiced]), lost),
                "social": int(mine["social"].sum()),
                "revenue_at_risk": float(lost * values[k]),
            }
        )
    return pd.DataFrame(rows).set_index("segment")
