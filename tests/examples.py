"""Small scenarios shared by the tests, as plain data."""

from __future__ import annotations

TINY = {
    "name": "tiny",
    "horizon": "5 days",
    "arrivals": {"rate": "200 per day"},
    "start": "order",
    "silos": {"web": {"staff": "unlimited"}, "ops": {"staff": 3}, "support": {"staff": 2}},
    "steps": {
        "order": {
            "silo": "web",
            "self_service": True,
            "service": "5 min",
            "failure": 0.1,
            "on_failure": "help",
            "next": "ship",
        },
        "ship": {
            "silo": "ops",
            "service": {"dist": "exponential", "mean": "10 min"},
            "failure": 0.2,
            "on_failure": "help",
            "next": "done",
        },
    },
    "contacts": {
        "help": {
            "silo": "support",
            "handling": {"dist": "lognormal", "mean": "8 min", "cv": 0.5},
            "fcr": 0.6,
            "resolved": "ship",
            "unresolved": {"help": 0.8, "gone": 0.2},
            "patience": {"dist": "exponential", "mean": "5 min"},
            "give_up": "gone",
        },
    },
    "outcomes": {"done": {}, "gone": {"kind": "churn"}},
}

RUN_FILES = {
    "summary.json",
    "customers.parquet",
    "timeseries.parquet",
    "timeseries.csv",
    "spiral.csv",
    "by_failure_step.csv",
    "silos.csv",
    "manifest.json",
}
"""What ``--out`` / ``write_run`` writes without the event log."""

QUIET = {
    "social": {"threshold": 1e6, "probability": 0},
    "ceo": {"threshold": 1e6, "probability": 0},
}
"""Escalation that never happens: for tests that count severity without escalating."""


def run_on(path, engine: str, customers: int = 20_000):  # noqa: ANN001, ANN201 - a RunResult
    """Run a test scenario file with an engine; the SimPy engine on ``customers`` only."""
    from spiral.analysis.results import run
    from spiral.model.loading import load_scenario, with_length

    scenario = load_scenario(path)
    if engine == "des":
        scenario = with_length(scenario, customers=customers)
    return run(scenario, engine=engine)
