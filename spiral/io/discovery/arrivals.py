"""Fit the arrival process from the times cases started: a daily rate and a weekly profile.

As process-mining simulators do (Simod fits an arrival calendar and an inter-arrival
distribution: Camargo, Dumas & González-Rojas, Decision Support Systems 134, 2020), but in
spiral's own terms: a rate per day and 168 hourly multipliers over a week, Monday 00:00 first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spiral.model.arrivals import MAX_MULTIPLIER

SLOTS = 168  # one an hour over a week
MIN_CASES = 200  # fewer than this: a flat profile (about one case per slot is noise)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ArrivalFit:
    """The arrival process fitted to case start times."""

    rate_per_day: float
    multipliers: list[float]
    start_date: pd.Timestamp
    horizon_days: float
    cases: int
    weeks: float
    interarrival_cv: float

    @property
    def flat(self) -> bool:
        """Return whether too few cases left the profile flat."""
        return self.cases < MIN_CASES

    def arrivals(self) -> dict:
        """Return the scenario's `arrivals` mapping: rate, and the weekly schedule."""
        return {
            "rate": f"{self.rate_per_day:.6g} per day",
            "schedule": {"cycle": "week", "multipliers": list(self.multipliers)},
        }

    def comment(self) -> str:
        """One or two lines for the YAML: cases, profile, inter-arrival CV and what it means."""
        head = f"arrivals fitted from {self.cases:,} cases over {self.weeks:.3g} weeks"
        if self.flat:
            head += f"; too few cases (< {MIN_CASES}) for a weekly profile, so it is flat"
        else:
            peak = int(np.argmax(self.multipliers))
            weekend = sum(self.multipliers[120:]) / SLOTS
            head += (
                f"; busiest hour {DAYS[peak // 24]} {peak % 24:02d}:00 "
                f"(x{self.multipliers[peak]:.3g}), weekend share {weekend:.0%}"
            )
        cv = self.interarrival_cv
        if math.isnan(cv):
            tail = "inter-arrival CV: too few cases to tell"
        elif cv > 1.2:
            tail = (
                f"inter-arrival CV {cv:.2f} (Poisson: 1): bursty; a strong weekly profile "
                "accounts for some of this, and Poisson arrivals understate the rest"
            )
        elif cv < 0.8:
            tail = f"inter-arrival CV {cv:.2f} (Poisson: 1): more regular than Poisson (booked?)"
        else:
            tail = f"inter-arrival CV {cv:.2f} (Poisson: 1): consistent with Poisson arrivals"
        return f"{head}\n{tail}"


def _cv(times: pd.Series) -> float:
    """Return the coefficient of variation of the gaps between sorted times (NaN if < 3)."""
    if len(times) < 3:
        return math.nan
    gaps = np.diff(times.to_numpy(dtype="datetime64[ns]").astype(np.int64)) / 1e9
    mean = gaps.mean()
    return float(gaps.std(ddof=1) / mean) if mean > 0 else math.nan


def fit_arrivals(starts: pd.Series) -> ArrivalFit:
    """Fit the rate and the weekday × hour profile of case arrivals."""
    times = pd.Series(pd.to_datetime(starts, utc=True)).dropna().sort_values(ignore_index=True)
    if times.empty:
        raise ValueError("expected at least one case start time, got none")
    first, last = times.iloc[0], times.iloc[-1]
    start_date = first.normalize() - pd.Timedelta(days=first.day_of_week)
    span = max(last - first, pd.Timedelta(hours=1))
    span_days = span / pd.Timedelta(days=1)
    minutes = (last - start_date) / pd.Timedelta(minutes=1)
    horizon_days = (math.floor(minutes) + 1) / 1440
    cases = len(times)

    multipliers = [1.0] * SLOTS
    if cases >= MIN_CASES:
        slot = (times.dt.day_of_week * 24 + times.dt.hour).to_numpy()
        counts = np.bincount(slot, minlength=SLOTS)
        # Exposure: the hours observed, from the first case's hour to the last case's hour.
        hours = pd.date_range(first.floor("h"), last.floor("h"), freq="h")
        exposure = np.bincount(hours.day_of_week * 24 + hours.hour, minlength=SLOTS)
        overall = cases / exposure.sum()
        per_hour = np.where(exposure > 0, counts / np.maximum(exposure, 1), overall)
        relative = per_hour / per_hour.mean()  # mean 1 over the week, each hour weighted equally
        multipliers = [float(m) for m in np.round(np.clip(relative, 0, MAX_MULTIPLIER), 4)]

    return ArrivalFit(
        rate_per_day=cases / span_days,
        multipliers=multipliers,
        start_date=start_date,
        horizon_days=horizon_days,
        cases=cases,
        weeks=span_days / 7,
        interarrival_cv=_cv(times),
    )
