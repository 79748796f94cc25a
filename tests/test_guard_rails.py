"""Guard rails: a sweep too small for its indices says so, and names the size that would do."""

from __future__ import annotations

import pandas as pd

from spiral.sweeps.guard_rails import guard_rails, replication_warnings, sobol_warnings
from spiral.sweeps.sweep_file import SweepFile


def spec(kind: str = "sobol", samples: int = 8, replications: int = 1) -> SweepFile:
    return SweepFile.model_validate(
        {
            "name": "s",
            "scenario": "online_retail",
            "design": {"kind": kind, "samples": samples},
            "parameters": {
                "steps.deliver.failure": {"low": 0.03, "high": 0.2},
                "arrivals.rate": {"low": "350 per day", "high": "550 per day"},
            },
            "replications": replications,
            "metrics": ["churn_rate"],
        }
    )


def sobol(rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    """Return indices: parameter -> (S1, S1 conf, ST, ST conf)."""
    out = []
    for name, (s1, c1, st, ct) in rows.items():
        out.append(
            {"metric": "churn_rate", "parameter": name, "index": "S1", "value": s1, "conf": c1}
        )
        out.append(
            {"metric": "churn_rate", "parameter": name, "index": "ST", "value": st, "conf": ct}
        )
    return pd.DataFrame(out)


def test_a_small_sobol_sample_is_flagged_with_the_size_that_would_do():
    found = sobol(
        {
            "steps.deliver.failure": (0.62, 0.48, 0.35, 0.40),  # S1 > ST, interval > ST
            "arrivals.rate": (-0.20, 0.30, 0.10, 0.12),  # negative
        }
    )
    (line,) = sobol_warnings(spec(samples=8), found)
    # widest interval 0.48: N × (0.48 / 0.1)² = 8 × 23.04 = 184.3 -> the next power of two
    assert line == (
        "churn_rate: Sobol with N = 8 is too small (S1 > ST for steps.deliver.failure; "
        "negative indices for arrivals.rate; ST intervals wider than ST for "
        "steps.deliver.failure, arrivals.rate; widest interval ±0.48); expected "
        "design.samples: 256 or more"
    )


def test_a_sobol_sample_whose_indices_are_consistent_and_tight_passes():
    found = sobol(
        {
            "steps.deliver.failure": (0.55, 0.06, 0.60, 0.07),
            "arrivals.rate": (0.31, 0.05, 0.36, 0.06),
        }
    )
    assert sobol_warnings(spec(samples=64), found) == []


def test_noise_below_the_slack_is_not_a_problem():
    found = sobol(
        {
            "steps.deliver.failure": (0.64, 0.05, 0.60, 0.05),
            "arrivals.rate": (-0.03, 0.02, 0.01, 0.02),
        }
    )
    assert sobol_warnings(spec(samples=64), found) == []


def test_intervals_wider_than_the_means_at_most_points_ask_for_replications():
    points = pd.DataFrame({"churn_rate": [0.10, 0.12, 0.11], "churn_rate_ci95": [0.2, 0.15, 0.05]})
    (line,) = replication_warnings(spec(replications=2), points)
    assert line.startswith(
        "churn_rate: with 2 replications per point, the 95% interval is wider than the mean "
        "at 2 of 3 points; expected more replications"
    )
    tight = points.assign(churn_rate_ci95=[0.01, 0.01, 0.2])
    assert replication_warnings(spec(replications=2), tight) == []


def test_the_guard_rails_gather_the_design_and_the_replications():
    found = sobol(
        {"steps.deliver.failure": (0.9, 0.5, 0.4, 0.5), "arrivals.rate": (0.1, 0.1, 0.2, 0.1)}
    )
    points = pd.DataFrame({"churn_rate": [0.1], "churn_rate_ci95": [float("nan")]})
    assert len(guard_rails(spec(), found, points)) == 1
    assert guard_rails(spec("lhs"), found, points) == []


def test_an_index_above_one_is_flagged():
    found = sobol(
        {
            "steps.deliver.failure": (0.9, 0.05, 1.39, 0.08),
            "arrivals.rate": (0.1, 0.05, 0.1, 0.05),
        }
    )
    (line,) = sobol_warnings(spec(samples=8), found)
    assert "indices above 1 for steps.deliver.failure" in line
