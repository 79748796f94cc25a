"""Pilot or go big: how long a pilot must run before its effect shows, and what waiting costs.

A pilot of a what-if for a share p of customers is read the way a trial is: churn among
the pilot's customers against churn among the others. The effect it must detect is the
full roll-out's effect on churn (baseline churn minus the full arm's, per customer, from
the same comparison). The customers the pilot needs follow the usual two-proportion
sample size with unequal groups (Fleiss, Levin & Paik 2003, *Statistical Methods for
Rates and Proportions*, 3rd ed., Wiley, ch. 4): with the control k = (1 − p)/p times as large,

    n_pilot = (z₁₋α/₂ + z₁₋β)² × (p₁q₁ + p₂q₂ / k) / δ²,

at 95% confidence (α = 0.05) and 80% power (β = 0.2; a convention, not evidence). Days
follow from the mean arrival rate over the daily profile. While the pilot runs, the
other 1 − p of customers go without the fix: the net value forgone is the full roll-out's
gain per measured day times those days times 1 − p.
"""

from __future__ import annotations

import math

import pandas as pd

from spiral.analysis.compare import Comparison
from spiral.model.limits import arrival_span, mean_rate
from spiral.model.scenario import Scenario
from spiral.model.what_if_arms import BASELINE

Z_CONFIDENCE = 1.959963984540054  # two-sided 95%
Z_POWER = 0.8416212335729143  # 80% power


def pilot_customers(churn_control: float, churn_pilot: float, share: float) -> float:
    """Return the pilot customers needed to tell two churn rates apart (95%, 80% power)."""
    effect = churn_control - churn_pilot
    if effect == 0 or not 0 < share < 1:
        return math.inf
    k = (1 - share) / share
    spread = churn_pilot * (1 - churn_pilot) + churn_control * (1 - churn_control) / k
    return (Z_CONFIDENCE + Z_POWER) ** 2 * spread / effect**2


def pilot_question(comparison: Comparison, scenario: Scenario) -> pd.DataFrame:
    """Return, per pilot arm with its full roll-out in the comparison, the days to detect it.

    Columns: pilot, share, churn_effect (points, the full roll-out's), customers (in the
    pilot, to detect it), days (at the mean arrival rate), full_days_to_half_effect (the
    full roll-out's time to effect, from ``effects``), value_forgone (net value the
    customers outside the pilot go without while it runs).
    """
    table = comparison.table.set_index(["arm", "metric"])
    effects = comparison.effects.set_index("arm") if len(comparison.effects) else None
    per_day = mean_rate(scenario) * 1440.0  # the daily profile's mean, as the runs see it
    measured_days = (arrival_span(scenario) - comparison.warmup) / 1440.0
    base_churn = table.loc[(BASELINE, "churn_rate"), "mean"]
    rows = []
    for arm in dict.fromkeys(comparison.table["arm"]):
        full, _, share_text = arm.partition("@")
        if not share_text or (full, "churn_rate") not in table.index:
            continue
        share = float(share_text.rstrip("%")) / 100
        full_churn = table.loc[(full, "churn_rate"), "mean"]
        customers = pilot_customers(base_churn, full_churn, share)
        days = customers / (share * per_day) if per_day > 0 else math.inf
        gain = table.loc[(full, "net_value"), "diff"]
        forgone = gain / measured_days * days * (1 - share) if measured_days > 0 else math.nan
        half = (
            effects.loc[full, "days_to_half_full_effect"]
            if effects is not None and full in effects.index
            else math.nan
        )
        rows.append(
            {
                "pilot": arm,
                "share": share,
                "churn_effect": 100 * (base_churn - full_churn),
                "customers": customers,
                "days": days,
                "full_days_to_half_effect": half,
                "value_forgone": forgone,
            }
        )
    columns = [
        "pilot",
        "share",
        "churn_effect",
        "customers",
        "days",
        "full_days_to_half_effect",
        "value_forgone",
    ]
    return pd.DataFrame(rows, columns=columns)
