"""What a comparison decides: each arm's regime, the arms ranked by net value, one sentence.

The ranking is by the paired difference in net value to the baseline (what the arm adds,
after its own cost), with its 95% interval; ROI is that gain over the arm's cost (the
what-if's cost plus any staff it adds), as a multiple ("× cost"). The recommendation
states its uncertainty: the first arm to fund is the one whose gain is largest among those
whose interval lies above zero, the others follow, each said to be distinguishable from the
one before it or not,
and arms whose interval contains zero are said to be indistinguishable from doing nothing.
A stressed or runaway arm (the baseline included) is warned about first: differences
measured on a system that runs away describe a collapse, not a steady state.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spiral.analysis.compare import Comparison, t_half_width, welch_half_width
from spiral.model.what_if_arms import BASELINE

REGIMES = ("stable", "stressed", "runaway")


def arm_regimes(comparison: Comparison) -> pd.DataFrame:
    """Return per arm the worst regime over its replications and how many had each regime."""
    runs = comparison.runs
    rows = []
    for arm, mine in runs.groupby("arm", sort=False):
        counts = mine["regime"].value_counts()
        worst = max(mine["regime"], key=REGIMES.index)
        row = {"arm": arm, "regime": worst, "replications": len(mine)}
        row.update({name: int(counts.get(name, 0)) for name in REGIMES})
        rows.append(row)
    return pd.DataFrame(rows)


def regime_warnings(comparison: Comparison) -> list[str]:
    """Return one line per arm that is stressed or runaway in any replication."""
    lines = []
    for row in arm_regimes(comparison).itertuples(index=False):
        if row.regime == "stable":
            continue
        who = "the baseline" if row.arm == BASELINE else row.arm
        lines.append(
            f"WARNING: {who} is {row.regime} in {getattr(row, row.regime)} of "
            f"{row.replications} replications: its numbers describe a system under strain"
            + (", not a steady state" if row.regime == "runaway" else "")
        )
    return lines


def _paired(comparison: Comparison, a: str, b: str, metric: str) -> tuple[float, float]:
    """Return mean(b - a) and its 95% half-width over the replications (paired under CRN)."""
    runs = comparison.runs
    x = runs[runs["arm"] == a].sort_values("replication")[metric].to_numpy(float)
    y = runs[runs["arm"] == b].sort_values("replication")[metric].to_numpy(float)
    if comparison.crn:
        return float((y - x).mean()), t_half_width(y - x)
    return float(y.mean() - x.mean()), welch_half_width(y, x)


def ranking(comparison: Comparison) -> pd.DataFrame:
    """Return the what-ifs ranked by net value gained over the baseline, best first.

    Columns: rank, arm, gain (net value over the baseline) with its 95% interval
    (gain_low, gain_high), whether the interval excludes zero, cost (what-if cost plus added
    staff), ROI (gain ÷ cost, a multiple) with its interval, and the arm's regime.
    """
    table = comparison.table.set_index(["arm", "metric"])
    regimes = arm_regimes(comparison).set_index("arm")["regime"]
    runs = comparison.runs
    base = runs[runs["arm"] == BASELINE].set_index("replication")
    rows = []
    for arm in dict.fromkeys(comparison.table["arm"]):
        if arm == BASELINE:
            continue
        net = table.loc[(arm, "net_value")]
        mine = runs[runs["arm"] == arm].set_index("replication")
        extra_staff = (mine["staff_cost"] - base["staff_cost"]).clip(lower=0)
        cost = float((mine["intervention_cost"] + extra_staff).mean())
        roi = table.loc[(arm, "roi")]
        rows.append(
            {
                "arm": arm,
                "gain": net["diff"],
                "gain_low": net["diff_low"],
                "gain_high": net["diff_high"],
                "significant": bool(net["significant"]),
                "cost": cost,
                "roi": roi["mean"],
                "roi_low": roi["ci_low"],
                "roi_high": roi["ci_high"],
                "regime": regimes[arm],
            }
        )
    frame = pd.DataFrame(rows)
    if not len(frame):
        return frame
    frame = frame.sort_values("gain", ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def money(value: float, currency: str, signed: bool = True) -> str:
    """Return an amount rounded for a sentence: +69k GBP, -1.2M GBP, +850 GBP."""
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    size = abs(value)
    if size >= 1e6:
        text = f"{size / 1e6:.3g}M"
    elif size >= 1e3:
        text = f"{size / 1e3:.3g}k"
    else:
        text = f"{size:.3g}"
    return f"{sign}{text} {currency}".strip()


def recommendation(comparison: Comparison, currency: str) -> str:
    """Return the one-line recommendation, with its uncertainty and the regimes' warning."""
    ranked = ranking(comparison)
    if not len(ranked):
        return "No what-if to rank."
    good = ranked[ranked["significant"] & (ranked["gain"] > 0)]
    bad = ranked[ranked["significant"] & (ranked["gain"] < 0)]
    unclear = ranked[~ranked["significant"]]
    parts = []
    if len(good):
        first = good.iloc[0]
        parts.append(
            f"{first['arm']} first: {money(first['gain'], currency)} net value, 95% CI "
            f"{money(first['gain_low'], currency)}..{money(first['gain_high'], currency)}"
        )
        for k in range(1, len(good)):
            other, before = good.iloc[k], good.iloc[k - 1]
            diff, half = _paired(comparison, other["arm"], before["arm"], "net_value")
            apart = not math.isnan(half) and diff - half > 0
            parts.append(
                f"{'next' if k == 1 else 'then'} {other['arm']} ({money(other['gain'], currency)}"
                + ("" if apart else f"; not distinguishable from {before['arm']}")
                + ")"
            )
    else:
        parts.append("no what-if adds net value distinguishable from zero (95%)")
    if len(bad):
        parts.append(f"{', '.join(bad['arm'])} lose{'s' if len(bad) == 1 else ''} net value")
    if len(unclear) and len(good):
        names = ", ".join(unclear["arm"])
        parts.append(
            f"{names} {'is' if len(unclear) == 1 else 'are'} not distinguishable from zero"
        )
    warnings = regime_warnings(comparison)
    caution = " (see the regime warning above)" if warnings else ""
    clause = runaway_clause(comparison)
    return clause + ("Over this horizon: " if clause else "") + "; ".join(parts) + caution + "."


def runaway_clause(comparison: Comparison) -> str:
    """Return what a runaway baseline means for the decision ('' when it does not run away).

    Gains measured against a system that runs away depend on how long it is left to run;
    the decision that matters first is which arm stops the runaway.
    """
    regimes = arm_regimes(comparison).set_index("arm")["regime"]
    if regimes.get(BASELINE) != "runaway":
        return ""
    calmer = [f"{arm} ({regime})" for arm, regime in regimes.items() if regime != "runaway"]
    if not calmer:
        return (
            "The baseline runs away and no what-if stops it: every gain below is measured on "
            "a collapse and grows with the horizon; add capacity first. "
        )
    verb = "stops" if len(calmer) == 1 else "stop"
    return (
        f"The baseline runs away; {', '.join(calmer)} {verb} it: decide on that first, the "
        "other arms' gains are measured on a collapse and grow with the horizon. "
    )
