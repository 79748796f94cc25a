"""The unit of a result column, by its name: money, shares, minutes, hours, days, multiples.

One rule for every file a client opens: spreadsheets name it in brackets
(``revenue_at_risk (GBP)``), CSVs as a suffix a script can still type
(``revenue_at_risk_GBP``, ``start_min``). Counts and labels have none; shares (``_rate``,
``_share``) and days already say what they are in their names, so CSVs leave them as they are.
"""

from __future__ import annotations

import re

import pandas as pd

MONEY = re.compile(
    r"^(revenue|revenue_at_risk|cost|cost_to_serve|staff_cost|intervention_cost|net_value|"
    r"gain|gain_low|gain_high|lost|value|cost_per_customer|money)$"
)
SPREAD = re.compile(r"_(ci95|low|high|sd)$")
"""Suffixes of an interval or spread: the same unit as the value they go with."""

MINUTES_PREFIXES = ("wait_",)
"""Time-series columns per silo that are minutes (``wait_<silo>``)."""

CSV_SUFFIX = {"minutes": "min", "hours": "h"}
"""A unit as a CSV name's suffix; money takes the currency; the others stay as named."""


def unit_of(column: str, currency: str) -> str | None:
    """Return the unit of a column by its name, or None when it is a count or a label."""
    name = SPREAD.sub("", column.split("[")[0])
    if MONEY.match(name) or name.startswith("revenue") or name.endswith(("_cost", "_forgone")):
        return currency
    if name.endswith(("_rate", "_share")) or name in ("churn", "born_share"):
        return "share 0-1"
    if name.endswith("_min") or name == "start" or name.startswith(MINUTES_PREFIXES):
        return "minutes"
    if name.endswith("_h"):
        return "hours"
    if name in ("day", "start_day", "days_to_half_full_effect", "full_days_to_half_effect"):
        return "days"
    if name == "roi":
        return "× cost"
    return None


def with_units(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Return the frame with each column that has a unit named 'column (unit)'."""
    renamed = {}
    for column in frame.columns:
        unit = unit_of(str(column), currency)
        if unit is not None:
            renamed[column] = f"{column} ({unit})"
    return frame.rename(columns=renamed)


def csv_name(column: str, currency: str) -> str:
    """Return a column's CSV name: money and times carry their unit as a suffix, once."""
    unit = unit_of(column, currency)
    suffix = currency if unit == currency else CSV_SUFFIX.get(unit or "")
    if not suffix:
        return column
    name, bracket, segment = column.partition("[")
    if name.endswith(f"_{suffix}") or f"_{suffix}_" in name:
        return column
    return f"{name}_{suffix}{bracket}{segment}"


def with_csv_units(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Return the frame with money and time columns named with their unit (see ``csv_name``)."""
    return frame.rename(columns={c: csv_name(str(c), currency) for c in frame.columns})
