"""Metrics: a run's records turned into a summary and the tables strategists read first."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spiral.analysis.early_warning import early_warning, failure_doubled_day
from spiral.analysis.regime import verdict
from spiral.engines.dynamics import samples_by_period
from spiral.engines.runs import RawRun
from spiral.model.scenario import Scenario

SPIRAL_BINS = (0, 1, 2, 3)  # the last bin is "3+"
OUTCOMES = ("retained", "advocate", "churned")


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole else 0.0


def measured(customers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Return the customers who arrived after the warm-up."""
    return customers[customers["arrival"] >= scenario.warmup]


def customer_value(customers: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Return each customer's value if retained: their segment's (the scenario's if none)."""
    values = np.asarray(scenario.segment_values())
    if "segment" not in customers:  # a table from before segments: one kind of customer
        return np.full(len(customers), values[0])
    return values[customers["segment"].to_numpy()]


def failure_bucket(failures: pd.Series) -> pd.Series:
    """Return '0', '1', '2' or '3+' for each failure count."""
    top = SPIRAL_BINS[-1]
    return failures.clip(upper=top).map(lambda k: f"{top}+" if k >= top else str(k))


def spiral_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Return severity, churn and escalation by number of failures suffered: the spiral."""
    done = customers[customers["outcome"] != "in_progress"]
    bucket = failure_bucket(done["failures"])
    grouped = done.groupby(bucket, observed=True)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "share": grouped.size() / max(len(done), 1),
            "severity_mean": grouped["severity"].mean(),
            "severity_p95": grouped["severity"].quantile(0.95),
            "churn_rate": grouped["outcome"].apply(lambda s: float((s == "churned").mean())),
            "advocacy_rate": grouped["outcome"].apply(lambda s: float((s == "advocate").mean())),
            "social_rate": grouped["social"].mean(),
            "ceo_rate": grouped["ceo"].mean(),
            "effort_mean": grouped["effort"].mean(),
        }
    )
    table.index.name = "failures"
    order = [str(k) for k in SPIRAL_BINS[:-1]] + [f"{SPIRAL_BINS[-1]}+"]
    return table.reindex([k for k in order if k in table.index])


def by_failure_step(customers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Return churn and revenue at risk by the step where each customer's first failure was born."""
    done = customers[customers["outcome"] != "in_progress"]
    failed = done[done["failures"] > 0]
    churned_total = int((done["outcome"] == "churned").sum())
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
    lost = failed.assign(lost=(failed["outcome"] == "churned") * customer_value(failed, scenario))
    grouped = lost.groupby("first_failure", observed=True)
    churned = grouped["outcome"].apply(lambda s: int((s == "churned").sum()))
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "share_of_failing": grouped.size() / max(len(failed), 1),
            "severity_mean": grouped["severity"].mean(),
            "churned": churned,
            "churn_rate": churned / grouped.size(),
            "share_of_all_churn": churned / max(churned_total, 1),
            "revenue_at_risk": grouped["lost"].sum(),
            "escalations": grouped["social"].sum() + grouped["ceo"].sum(),
        }
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


def timeseries(raw: RawRun, customers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Return one row per period: arrivals, completions, events, outcomes, revenue, backlog."""
    period = scenario.period
    n = max(int(np.ceil(raw.end / period)), 1)
    data = {"period": np.arange(n), "start": np.arange(n) * period}
    data["warmup"] = data["start"] < scenario.warmup

    def count(times: pd.Series, weights: np.ndarray | None = None) -> np.ndarray:
        index = np.minimum((times.to_numpy() // period).astype(np.int64), n - 1)
        return np.bincount(index, weights=weights, minlength=n).astype(float)

    data["arrivals"] = count(customers["arrival"])
    done = customers[customers["outcome"] != "in_progress"]
    data["completions"] = count(done["end"])
    data.update(raw.counters.to_arrays(n))
    bonus = scenario.money.advocate_bonus
    value = customer_value(done, scenario)
    worth = {}
    for label, column in (
        ("retained", "retained"),
        ("advocate", "advocates"),
        ("churned", "churned"),
    ):
        who = (done["outcome"] == label).to_numpy()
        data[column] = count(done.loc[who, "end"])
        worth[column] = count(done.loc[who, "end"], value[who])
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
    customers: pd.DataFrame,
    scenario: Scenario,
    seed: int,
    series: pd.DataFrame,
    intervention_cost: float = 0.0,
) -> dict:
    """Return the run's headline metrics as a JSON-ready dict."""
    all_customers = customers
    customers = measured(customers, scenario)
    done = customers[customers["outcome"] != "in_progress"]
    n, completed = len(customers), len(done)
    outcome = done["outcome"]
    churned = int((outcome == "churned").sum())
    advocates = int((outcome == "advocate").sum())
    retained = int((outcome == "retained").sum())
    money = scenario.money
    value = customer_value(done, scenario)
    worth = {label: float(value[(outcome == label).to_numpy()].sum()) for label in OUTCOMES}
    revenue = worth["retained"] + worth["advocate"] * (1 + money.advocate_bonus)
    social, ceo = int(customers["social"].sum()), int(customers["ceo"].sum())
    silos = silo_table(raw, scenario)
    cost = (
        float(silos["staff_cost"].sum())
        + social * money.cost_per_social_escalation
        + (ceo * money.cost_per_ceo_escalation)
    )
    contacts = int(customers["contacts"].sum())
    failed = done["failures"] > 0
    voiced = done["complaints"] > 0  # got in touch about a problem at least once
    complainants = int(voiced.sum())
    silent = failed & ~voiced
    severity = done["severity"].to_numpy()
    buckets = failure_bucket(done["failures"]).value_counts()
    journey_hours = (done["end"] - done["arrival"]) / 60
    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "engine": raw.engine,
        "end_time_min": float(raw.end),
        "warmup_min": float(scenario.warmup),
        "arrivals": len(all_customers),
        "customers": n,
        "completed": completed,
        "in_progress": n - completed,
        "failures_per_customer": float(done["failures"].mean()) if completed else 0.0,
        "failures_distribution": {
            k: _share(int(buckets.get(k, 0)), completed) for k in ("0", "1", "2", "3+")
        },
        "customers_with_failure": int(failed.sum()),
        "complainants": complainants,
        "silent_sufferers": int(silent.sum()),
        "silent_failures": int(done["silent"].sum()),
        "churn_by_voice": {
            group: _share(int((outcome[who] == "churned").sum()), int(who.sum()))
            for group, who in (("no failure", ~failed), ("complained", voiced), ("silent", silent))
        },
        "contacts": contacts,
        "contacts_per_customer": _share(contacts, n),
        "failure_demand_share": _share(int(customers["failure_demand"].sum()), contacts),
        "repeat_contacts": int(customers["repeat_contacts"].sum()),
        "abandons": int(customers["abandons"].sum()),
        "severity_mean": float(severity.mean()) if completed else 0.0,
        "severity_p95": float(np.quantile(severity, 0.95)) if completed else 0.0,
        "severity_max": float(severity.max()) if completed else 0.0,
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
        "effort_mean": float(done["effort"].mean()) if completed else 0.0,
        "time_in_journey_mean_h": float(journey_hours.mean()) if completed else 0.0,
        "wait_mean_min": float(done["wait"].mean()) if completed else 0.0,
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
            name: _share(visits, len(all_customers))
            for name, visits in zip(raw.journey.names, raw.node_visits, strict=True)
        },
    }
    if scenario.segments:
        summary["segments"] = by_segment(done, scenario).to_dict(orient="index")
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


def by_segment(customers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Return, per customer segment, who they are, how they fail and speak, and what is lost."""
    done = customers[customers["outcome"] != "in_progress"]
    names = list(scenario.segments) or ["all"]
    rows = []
    for k, name in enumerate(names):
        mine = done[done["segment"] == k]
        n = len(mine)
        churned = (mine["outcome"] == "churned").to_numpy()
        failed = mine["failures"].to_numpy() > 0
        voiced = mine["complaints"].to_numpy() > 0
        rows.append(
            {
                "segment": name,
                "customers": n,
                "share": _share(n, len(done)),
                "failed_share": _share(int(failed.sum()), n),
                "complainants": int(voiced.sum()),
                "silent_sufferers": int((failed & ~voiced).sum()),
                "churned": int(churned.sum()),
                "churn_rate": _share(int(churned.sum()), n),
                "silent_share_of_churn": _share(
                    int((churned & failed & ~voiced).sum()), int(churned.sum())
                ),
                "social": int(mine["social"].sum()),
                "revenue_at_risk": float(customer_value(mine, scenario)[churned].sum()),
            }
        )
    return pd.DataFrame(rows).set_index("segment")
