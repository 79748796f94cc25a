"""Fitting the arrival process from case start times: rate, weekly profile, burstiness."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from examples import TINY

from spiral.io.discovery.arrivals import fit_arrivals
from spiral.model.loading import parse_scenario

MONDAY = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday 00:00 UTC
WEEKS = 8


def busy(slot: int) -> bool:
    """Return whether an hour of the week (Monday 00:00 = 0) is weekday office hours."""
    return slot < 120 and 9 <= slot % 24 < 17


def profiled(seed: int = 1, weeks: int = WEEKS, offset: str = "0h") -> pd.Series:
    """Poisson arrivals: 10 an hour on weekdays 9-17, 1 an hour otherwise, for some weeks."""
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * 168)
    lam = np.where([busy(h % 168) for h in hours], 10.0, 1.0)
    counts = rng.poisson(lam)
    at = np.repeat(hours, counts) + rng.random(counts.sum())  # uniform within each hour
    return pd.Series(MONDAY + pd.Timedelta(offset) + pd.to_timedelta(at, unit="h"))


def poisson(n: int, per_day: float, seed: int) -> pd.Series:
    """Return a flat Poisson stream of n arrivals at a rate per day, from a Wednesday afternoon."""
    gaps = np.random.default_rng(seed).exponential(1 / per_day, n)
    return pd.Series(MONDAY + pd.Timedelta("2 days 15:20:00") + pd.to_timedelta(gaps.cumsum(), "D"))


@pytest.fixture(scope="module")
def fit():  # noqa: ANN201 - an ArrivalFit
    """Return the fit to eight weeks of profiled arrivals."""
    return fit_arrivals(profiled())


def test_weekly_profile_is_recovered_within_poisson_error(fit):
    m = np.asarray(fit.multipliers)
    assert len(m) == 168
    assert m.mean() == pytest.approx(1.0, abs=1e-3)  # rounding to 4 decimals only
    mean_per_hour = (40 * 10 + 128 * 1) / 168
    expected = 10 / mean_per_hour
    busy_slots = [s for s in range(168) if busy(s)]
    # Each busy slot holds about 80 cases over 8 weeks: relative SE 1/sqrt(80).
    se_one = expected / math.sqrt(10 * WEEKS)
    assert np.all(np.abs(m[busy_slots] - expected) < 5 * se_one)
    se_all = expected / math.sqrt(10 * WEEKS * len(busy_slots))
    assert abs(m[busy_slots].mean() - expected) < 5 * se_all + 0.03  # + the normaliser's error
    nights = [d * 24 + h for d in (5, 6) for h in range(6)]
    assert m[nights].mean() < 0.5  # expected 1 / 3.14 = 0.32, 14 slots x 8 cases
    assert m.argmax() in busy_slots


def test_rate_is_cases_per_day_over_the_span(fit):
    starts = profiled()
    span = (starts.max() - starts.min()) / pd.Timedelta(days=1)
    assert fit.cases == len(starts)
    assert fit.rate_per_day == pytest.approx(len(starts) / span)
    assert fit.rate_per_day == pytest.approx(528 * 24 / 168, rel=4 / math.sqrt(len(starts)))
    assert fit.weeks == pytest.approx(WEEKS, abs=0.01)


def test_start_date_is_the_monday_before_and_horizon_covers_the_last_case():
    starts = profiled(weeks=3, offset="3 days 07:41:00")  # first case on a Thursday
    fit = fit_arrivals(starts.sample(frac=1, random_state=3))  # order does not matter
    assert fit.start_date.tz is not None and fit.start_date.utcoffset() == pd.Timedelta(0)
    assert fit.start_date.day_of_week == 0 and fit.start_date == fit.start_date.normalize()
    assert fit.start_date <= starts.min() < fit.start_date + pd.Timedelta(days=7)
    end = fit.start_date + pd.Timedelta(days=fit.horizon_days)
    assert starts.max() < end <= starts.max() + pd.Timedelta(minutes=1)


def test_partial_weeks_at_either_end_count_only_the_hours_observed():
    starts = profiled(weeks=4)
    cut = (starts >= MONDAY + pd.Timedelta("3 days 07:41:00")) & (
        starts < MONDAY + pd.Timedelta("22 days 13:00:00")
    )  # from a Thursday morning to a Tuesday afternoon
    fit = fit_arrivals(starts[cut])
    m = np.asarray(fit.multipliers)
    expected = 10 / (528 / 168)
    wednesday = [s for s in range(48, 72) if busy(s)]
    thursday = [s for s in range(72, 96) if busy(s)]
    # Wednesdays seen twice, Thursdays three times (counting from the Monday would wrongly
    # count three Wednesdays): each group of 8 slots holds 160-240 cases.
    assert m[wednesday].mean() == pytest.approx(expected, rel=4 / math.sqrt(160))
    assert m[thursday].mean() == pytest.approx(expected, rel=4 / math.sqrt(240))


def test_flat_poisson_has_cv_one_and_clusters_have_cv_above_one_and_a_half():
    n = 3000
    flat = fit_arrivals(poisson(n, 100.0, seed=7))
    assert flat.interarrival_cv == pytest.approx(1.0, abs=4 / math.sqrt(n))
    assert flat.rate_per_day == pytest.approx(100.0, rel=4 / math.sqrt(n))
    assert "consistent with Poisson" in flat.comment()
    rng = np.random.default_rng(11)
    centres = poisson(300, 10.0, seed=12)
    sizes = rng.geometric(0.1, len(centres))  # about 10 cases a cluster, within minutes
    jitter = pd.to_timedelta(rng.exponential(2.0, sizes.sum()), unit="min")
    clustered = pd.DatetimeIndex(np.repeat(centres.to_numpy(), sizes)) + jitter
    bursty = fit_arrivals(pd.Series(clustered))
    assert bursty.interarrival_cv > 1.5
    assert "bursty" in bursty.comment() and "understate" in bursty.comment()


def test_too_few_cases_leave_the_profile_flat_and_say_why():
    fit = fit_arrivals(poisson(150, 20.0, seed=5))
    assert fit.multipliers == [1.0] * 168
    assert fit.cases == 150
    assert "too few cases" in fit.comment() and "flat" in fit.comment()
    assert len(fit.comment().splitlines()) <= 2


def test_cv_needs_three_cases_and_ties_are_allowed():
    t = pd.Timestamp("2025-03-05 10:00", tz="UTC")
    assert math.isnan(fit_arrivals(pd.Series([t, t + pd.Timedelta("1h")])).interarrival_cv)
    tied = fit_arrivals(pd.Series([t, t, t + pd.Timedelta("1h"), t + pd.Timedelta("3h")]))
    assert math.isfinite(tied.interarrival_cv)
    assert tied.rate_per_day == pytest.approx(4 / (3 / 24))
    one = fit_arrivals(pd.Series([t]))
    assert one.rate_per_day == pytest.approx(24.0)  # a span of at least one hour
    assert "too few cases to tell" in one.comment()
    with pytest.raises(ValueError, match="at least one"):
        fit_arrivals(pd.Series([], dtype="datetime64[ns, UTC]"))


def test_the_fit_parses_inside_a_scenario(fit):
    data = copy.deepcopy(TINY)
    data["arrivals"] = fit.arrivals()
    data["start_date"] = fit.start_date.isoformat()
    data["horizon"] = f"{fit.horizon_days} days"
    scenario = parse_scenario(data)
    assert scenario.start_date == fit.start_date.to_pydatetime()
    assert scenario.horizon == pytest.approx(fit.horizon_days * 1440)
    assert scenario.arrivals.rate * 1440 == pytest.approx(fit.rate_per_day, rel=1e-5)
    schedule = scenario.arrivals.schedule
    assert schedule is not None and schedule.cycle == "week"
    assert schedule.multipliers == fit.multipliers
    assert scenario.arrivals.peak_factor() == 1.0
    assert "busiest hour" in fit.comment() and "weekend share" in fit.comment()
