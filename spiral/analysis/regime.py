"""The regime verdict of a run: stable, stressed or runaway, with the reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

STABLE, STRESSED, RUNAWAY = "stable", "stressed", "runaway"
UNFINISHED_SHARE = 0.01  # more measured customers than this still in the journey: runaway
PRESSURE_STRESSED = 0.85
ABANDON_STRESSED = 0.10
FAILURE_RISE_STRESSED = 1.25
REPUTATION_COLLAPSED = 0.5
FAILURE_COLLAPSED = 2.0  # a step failing at twice its base rate: the standard has collapsed
ABANDON_COLLAPSED = 0.5  # most contacts abandoned: the queue has outgrown customers' patience
REPUTATION_STRESSED = 0.9
TREND_CONFIDENCE = 0.99
RISE_MATERIAL = 0.1  # a rise in failure over the last quarter, as a share of where it ends


def backlog_trend(backlog: np.ndarray) -> tuple[float, float]:
    """Return the OLS slope of a series (per period) and its one-sided 99% lower bound.

    The slope and its standard error as ``scipy.stats.linregress`` gives them (a test
    checks the two agree); the t quantile from ``scipy.special``: a run need not load
    ``scipy.stats`` (≈ 50 MB and most of a second) for one regression.
    """
    if len(backlog) < 3 or np.allclose(backlog, backlog[0]):
        return 0.0, 0.0
    from scipy.special import stdtrit

    y = np.asarray(backlog, dtype=float)
    x = np.arange(len(y), dtype=float)
    dx, dy = x - x.mean(), y - y.mean()
    sxx = float(dx @ dx)
    slope = float(dx @ dy) / sxx
    residual = float(((dy - slope * dx) ** 2).sum())
    stderr = np.sqrt(residual / (len(y) - 2) / sxx)
    t = float(stdtrit(len(y) - 2, TREND_CONFIDENCE))
    return slope, float(slope - t * stderr)


def rising_bound(values: np.ndarray) -> float:
    """Return the one-sided 99% lower bound of a series' Theil-Sen slope (robust to a spike).

    Sen's (1968) interval on the sorted pairwise slopes, with the tie correction, as
    ``scipy.stats.theilslopes`` computes it (a test checks the two agree).
    """
    if len(values) < 3 or np.allclose(values, values[0]):
        return 0.0
    from scipy.special import ndtri

    y = np.asarray(values, dtype=float)
    n = len(y)
    x = np.arange(n, dtype=float)
    dx, dy = x[:, None] - x, y[:, None] - y
    slopes = np.sort(dy[dx > 0] / dx[dx > 0])
    z = float(ndtri((1 - (2 * TREND_CONFIDENCE - 1)) / 2))
    _, counts = np.unique(y, return_counts=True)
    ties = counts[counts > 1]
    variance = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18
    low = max(int(np.round((len(slopes) + z * np.sqrt(variance)) / 2)) - 1, 0)
    return float(slopes[low])


def verdict(
    series: pd.DataFrame, summary: dict, staff: int, base_failure: dict[str, float]
) -> tuple[str, list[str]]:
    """Return the regime and the reasons, from the measured periods of the time series.

    ``series`` holds the periods after the warm-up and before arrivals stopped; ``staff``
    is the total staff of the staffed silos; ``base_failure`` the scenario's probabilities.
    """
    reasons: list[str] = []
    runaway = False
    unfinished = summary["in_progress"]
    if unfinished > UNFINISHED_SHARE * max(summary["customers"], 1):
        runaway = True
        reasons.append(f"{unfinished:,} customers never finished their journey")
    backlog = series.filter(like="backlog_").sum(axis=1).to_numpy()
    if len(backlog):
        slope, lower = backlog_trend(backlog)
        if lower > 0 and backlog[-1] > staff:
            runaway = True
            reasons.append(
                f"backlog grows by {slope:.1f} customers per period (99% sure it "
                f"grows) and ends above total staff ({backlog[-1]:.0f} > {staff})"
            )
    reputation = series["reputation"].to_numpy() if "reputation" in series else np.array([1.0])
    if len(reputation) and reputation[-1] < REPUTATION_COLLAPSED:
        runaway = True
        reasons.append(f"reputation collapsed to {reputation[-1]:.2f}")
    contacts = summary["contacts"]
    abandoned = summary["abandons"] / contacts if contacts else 0.0
    if abandoned > ABANDON_COLLAPSED:
        runaway = True
        reasons.append(f"{abandoned:.0%} of contacts abandoned")
    pressures = series.filter(like="pressure_")
    overloaded = bool(len(pressures)) and float(pressures.iloc[-1].max()) > 1.0
    for step, p0 in base_failure.items():
        column = f"failure_{step}"
        if p0 > 0 and column in series and len(series):
            failure = series[column].to_numpy()
            end = float(failure[-1])
            # collapsing: at twice its base and still rising, or with more work than staff
            # (an eroded standard that has settled with slack is lasting damage: stressed;
            # a robust slope, so one busy period at the end does not make it "rising")
            # and by enough to matter (a tenth of where it ends, over that stretch; slower
            # is the ratchet of an eroded standard, not a collapse)
            recent = failure[-max(len(failure) // 4, 3) :]
            rising = rising_bound(recent) * (len(recent) - 1) - RISE_MATERIAL * end
            if end >= FAILURE_COLLAPSED * p0 and (rising > 0 or overloaded):
                runaway = True
                how = "and rising" if rising > 0 else "with more work than staff"
                reasons.append(
                    f"{step} fails with p={end:.3f}, {end / p0:.1f}× its base {p0:.3f}, {how}"
                )
    if runaway:
        return RUNAWAY, reasons
    for column in series.filter(like="pressure_"):
        mean = float(series[column].mean())
        if mean > PRESSURE_STRESSED:
            reasons.append(f"{column.removeprefix('pressure_')} works at pressure {mean:.2f}")
    if abandoned > ABANDON_STRESSED:
        reasons.append(f"{abandoned:.0%} of contacts abandoned")
    for step, p0 in base_failure.items():
        column = f"failure_{step}"
        if p0 > 0 and column in series and len(series):
            end = float(series[column].iloc[-1])
            if end > FAILURE_RISE_STRESSED * p0:
                reasons.append(f"{step} fails with p={end:.3f}, up from {p0:.3f}")
    if len(reputation) and reputation[-1] < REPUTATION_STRESSED:
        reasons.append(f"reputation down to {reputation[-1]:.2f}")
    return (STRESSED, reasons) if reasons else (STABLE, [])
