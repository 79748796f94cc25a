"""The regime verdict: its rules on hand-made series, and a scenario on either side of its line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spiral.analysis.regime import RUNAWAY, STABLE, STRESSED, backlog_trend, verdict
from spiral.analysis.results import run
from spiral.analysis.tipping_point import tipping_points
from spiral.model.loading import load_scenario

CALM = {"in_progress": 0, "customers": 1000, "contacts": 100, "abandons": 2}


def series(backlog, pressure=0.5, reputation=1.0, failure=0.1) -> pd.DataFrame:
    n = len(backlog)
    return pd.DataFrame(
        {
            "backlog_team": backlog,
            "pressure_team": np.full(n, pressure),
            "reputation": np.full(n, reputation),
            "failure_handle": np.full(n, failure),
        }
    )


def test_a_flat_backlog_at_low_pressure_is_stable():
    flat = series(np.full(20, 3.0) + np.tile([0.5, -0.5], 10))
    assert verdict(flat, CALM, 10, {"handle": 0.1}) == (STABLE, [])


def test_a_backlog_growing_past_the_staff_is_a_runaway():
    growing = series(np.linspace(2, 40, 20))
    regime, reasons = verdict(growing, CALM, 10, {"handle": 0.1})
    assert regime == RUNAWAY and "backlog grows by 2.0 customers per period" in reasons[0]


def test_a_growing_backlog_still_below_the_staff_is_not_a_runaway():
    assert verdict(series(np.linspace(1, 5, 20)), CALM, 10, {"handle": 0.1})[0] == STABLE


@pytest.mark.parametrize(
    ("frame", "summary", "regime", "reason"),
    [
        (series(np.ones(10), pressure=0.9), CALM, STRESSED, "team works at pressure 0.90"),
        (series(np.ones(10)), {**CALM, "abandons": 20}, STRESSED, "20% of contacts abandoned"),
        (series(np.ones(10), failure=0.13), CALM, STRESSED, "handle fails with p=0.130"),
        (series(np.ones(10), reputation=0.8), CALM, STRESSED, "reputation down to 0.80"),
        (series(np.ones(10), reputation=0.4), CALM, RUNAWAY, "reputation collapsed to 0.40"),
        (series(np.ones(10), failure=0.25), CALM, STRESSED, "handle fails with p=0.250, up"),
        (
            series(np.ones(10), failure=np.linspace(0.1, 0.25, 10)),
            CALM,
            RUNAWAY,
            "handle fails with p=0.250, 2.5× its base 0.100, and rising",
        ),
        (
            series(np.ones(10), failure=0.25, pressure=1.2),
            CALM,
            RUNAWAY,
            "handle fails with p=0.250, 2.5× its base 0.100, with more work than staff",
        ),
        (series(np.ones(10)), {**CALM, "abandons": 60}, RUNAWAY, "60% of contacts abandoned"),
        (series(np.ones(10)), {**CALM, "in_progress": 50}, RUNAWAY, "50 customers never"),
    ],
)
def test_each_rule_gives_its_regime_and_says_why(frame, summary, regime, reason):
    got, reasons = verdict(frame, summary, 10, {"handle": 0.1})
    assert got == regime
    assert any(r.startswith(reason) for r in reasons), reasons


def test_backlog_trend_is_the_least_squares_slope():
    slope, lower = backlog_trend(np.array([1.0, 3.0, 5.0, 7.5]))
    assert slope == pytest.approx(2.15) and lower < slope


def regime_at(rate_per_day: float) -> str:
    scenario = load_scenario("tipping_point")
    arrivals = scenario.arrivals.model_copy(update={"rate": rate_per_day / 1440})
    short = {"arrivals": arrivals, "horizon": 45 * 1440.0, "drain": 1440.0}
    return run(scenario.model_copy(update=short), seed=1).summary["regime"]


@pytest.mark.slow
def test_tipping_point_scenario_is_runaway_above_its_line_and_not_below():
    line = tipping_points(load_scenario("tipping_point"))[0].rate  # 1,066.8 a day
    # 0.9 and 1.1 × the line, seeds 1 to 3, are checked by the bisection in test_tipping_point
    for above in (1.03, 1.25):
        assert regime_at(line * above) == RUNAWAY, line * above
    assert regime_at(line * 0.8) != RUNAWAY, line * 0.8


def test_the_trend_bounds_agree_with_scipy_stats_on_noisy_series_with_ties():
    from scipy import stats

    from spiral.analysis.regime import TREND_CONFIDENCE, rising_bound

    rng = np.random.default_rng(0)
    for n in (3, 4, 7, 30, 100):
        for _ in range(20):
            y = rng.normal(size=n).round(1) * rng.integers(1, 5) + np.arange(n) * rng.normal()
            if np.allclose(y, y[0]):
                continue
            fit = stats.linregress(np.arange(n), y)
            t = stats.t.ppf(TREND_CONFIDENCE, n - 2)
            slope, lower = backlog_trend(y)
            assert slope == pytest.approx(fit.slope, abs=1e-12)
            assert lower == pytest.approx(fit.slope - t * fit.stderr, abs=1e-12)
            sen = stats.theilslopes(y, np.arange(n), alpha=2 * TREND_CONFIDENCE - 1)
            assert rising_bound(y) == pytest.approx(sen.low_slope, abs=1e-12)
