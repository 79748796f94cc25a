"""Published figures against each built-in scenario: does spiral behave as the evidence does.

Each benchmark is a quantity the literature reports (failure demand, first-contact
resolution, contacts per issue, social posting, silent sufferers, churn after an
unresolved complaint), its published range with the source, and how to measure it on a
run. ``evidence_table`` runs every built-in once (seed 1) and says, per benchmark, whether
spiral's value lies inside the range, or why not when the scenario's ``evidence_notes``
say so. ``spiral validate --evidence --markdown`` writes docs/evidence_check.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spiral.analysis.results import RunResult, run
from spiral.engines.journey import CONTACT
from spiral.engines.records import CHURNED
from spiral.model.loading import builtin_scenarios, load_scenario
from spiral.model.scenario import EVIDENCE_KEYS


def _failure_demand(result: RunResult) -> float | None:
    s = result.summary
    return s["failure_demand_share"] if s["contacts"] else None


def _fcr(result: RunResult) -> float | None:
    """First-contact resolution: the contacts' fcr weighted by how often each is used."""
    j = result.raw.journey
    visits = [(v, j.fcr[i]) for i, v in enumerate(result.raw.node_visits) if j.kind[i] == CONTACT]
    total = sum(v for v, _ in visits)
    return sum(v * f for v, f in visits) / total if total else None


def _voiced(result: RunResult) -> pd.DataFrame:
    """Return the cube's rows of customers who complained at least once (every customer)."""
    cube = result.raw.customers.folded().cube()
    return cube[cube["voiced"]]


def _contacts_per_issue(result: RunResult) -> float | None:
    voiced = _voiced(result)
    n = voiced["count"].sum()
    return float(voiced["complaints"].sum() / n) if n else None


def _social_share(result: RunResult) -> float | None:
    voiced = _voiced(result)
    n = voiced["count"].sum()
    return float(voiced["social"].sum() / n) if n else None


def _silent_share(result: RunResult) -> float | None:
    s = result.summary
    failed = s["customers_with_failure"]
    return s["silent_sufferers"] / failed if failed else None


def _unresolved_churn_ratio(result: RunResult) -> float | None:
    """Churn of complainants never put right over churn of complainants put right."""
    voiced = _voiced(result)
    churned = voiced[voiced["outcome"] == CHURNED]
    fixed = voiced[voiced["recovered"]]["count"].sum()
    unfixed = voiced[~voiced["recovered"]]["count"].sum()
    fixed_churned = churned[churned["recovered"]]["count"].sum()
    if fixed < 30 or unfixed < 30 or not fixed_churned:
        return None
    unfixed_churned = churned[~churned["recovered"]]["count"].sum()
    return float((unfixed_churned / unfixed) / (fixed_churned / fixed))


@dataclass(frozen=True)
class Benchmark:
    """A published figure: its range, its source and how to measure it on a run."""

    key: str
    label: str
    low: float
    high: float
    source: str
    measure: Callable[[RunResult], float | None]
    percent: bool = True


BENCHMARKS = (
    Benchmark(
        "failure_demand_share",
        "failure demand, share of contacts",
        0.40,
        0.80,
        "Seddon / Vanguard: routinely 40-60% of contacts in service centres, up to 80% [V2]",
        _failure_demand,
    ),
    Benchmark(
        "fcr",
        "first-contact resolution",
        0.60,
        0.85,
        "SQM Group: average 67%, world class 80%+ [V]",
        _fcr,
    ),
    Benchmark(
        "contacts_per_issue",
        "contacts per complaining customer",
        1.2,
        2.0,
        "SQM Group: 1.5 contacts per issue at the average FCR [V]",
        _contacts_per_issue,
        percent=False,
    ),
    Benchmark(
        "social_share",
        "complainants who post on social media",
        0.25,
        0.40,
        "National Customer Rage Study 2023: 32% of complainants posted [V]",
        _social_share,
    ),
    Benchmark(
        "silent_share",
        "customers with a problem who never complain",
        0.50,
        0.97,
        "Goodman & Newman 2003: most never complain; for small problems ~97% [V]",
        _silent_share,
    ),
    Benchmark(
        "unresolved_churn_ratio",
        "churn, unresolved over resolved complainants",
        1.5,
        2.5,
        "TARP via Goodman & Newman 2003: no repurchase 54% vs 30% (small loss), 81% vs 46% "
        "(large) [V2]",
        _unresolved_churn_ratio,
        percent=False,
    ),
)
"""The published figures spiral's built-ins are checked against."""

assert {b.key for b in BENCHMARKS} == set(EVIDENCE_KEYS)


def evidence_table(names: list[str] | None = None, seed: int = 1) -> pd.DataFrame:
    """Return one row per built-in and benchmark: range, spiral's value, verdict, note."""
    rows = []
    for name in names or sorted(builtin_scenarios()):
        scenario = load_scenario(name)
        result = run(scenario, seed=seed, customers=False)
        for bench in BENCHMARKS:
            value = bench.measure(result)
            inside = value is not None and bench.low <= value <= bench.high
            note = scenario.evidence_notes.get(bench.key, "")
            if value is None:
                verdict = "n/a"
            elif inside:
                verdict = "inside"
            else:
                verdict = "explained" if note else "outside"
            rows.append(
                {
                    "scenario": name,
                    "benchmark": bench.key,
                    "label": bench.label,
                    "low": bench.low,
                    "high": bench.high,
                    "spiral": np.nan if value is None else float(value),
                    "verdict": verdict,
                    "note": note,
                }
            )
    return pd.DataFrame(rows)


def _shown(value: float, percent: bool) -> str:
    if np.isnan(value):
        return "—"
    return f"{value:.1%}" if percent else f"{value:.2f}"


def markdown(table: pd.DataFrame) -> str:
    """Return the table as the Markdown page docs/evidence_check.md."""
    kinds = {b.key: b for b in BENCHMARKS}
    counts = table["verdict"].value_counts()
    lines = [
        "# Evidence check: the built-in scenarios against published figures",
        "",
        "Regenerate with `spiral validate --evidence --markdown > docs/evidence_check.md`.",
        "Each built-in runs once (seed 1); each row compares one quantity with its published",
        "range. *explained*: outside the range for the reason the scenario file gives",
        "(`evidence_notes`); *outside*: not yet explained; *n/a*: the run has nothing to",
        "measure (no contacts, or too few customers in a group). Full references:",
        "[evidence.md](evidence.md).",
        "",
        f"**{counts.get('inside', 0)} inside, {counts.get('explained', 0)} explained, "
        f"{counts.get('outside', 0)} outside, {counts.get('n/a', 0)} n/a.**",
        "",
        "| benchmark | published | source |",
        "|---|---|---|",
    ]
    for bench in BENCHMARKS:
        published = f"{_shown(bench.low, bench.percent)} – {_shown(bench.high, bench.percent)}"
        lines.append(f"| {bench.label} | {published} | {bench.source} |")
    lines += [
        "",
        "| scenario | benchmark | published | spiral | verdict |",
        "|---|---|---|---:|---|",
    ]
    for row in table.itertuples():
        bench = kinds[row.benchmark]
        published = f"{_shown(row.low, bench.percent)} – {_shown(row.high, bench.percent)}"
        verdict = row.verdict if not row.note else f"{row.verdict}: {row.note}"
        lines.append(
            f"| {row.scenario} | {row.label} | {published} | "
            f"{_shown(row.spiral, bench.percent)} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
