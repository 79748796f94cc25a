"""Quantities with units: durations (`8 min`) and rates (`120 per day`).

Internally every time is a float number of **minutes** and every rate is
events per minute.
"""

from __future__ import annotations

import math
import re

MINUTES_PER: dict[str, float] = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "secs": 1 / 60,
    "second": 1 / 60,
    "seconds": 1 / 60,
    "min": 1.0,
    "mins": 1.0,
    "minute": 1.0,
    "minutes": 1.0,
    "h": 60.0,
    "hr": 60.0,
    "hrs": 60.0,
    "hour": 60.0,
    "hours": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
    "w": 10080.0,
    "week": 10080.0,
    "weeks": 10080.0,
}

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_DURATION = re.compile(rf"^\s*({_NUMBER})\s*([a-zA-Z]+)\s*$")
_RATE = re.compile(rf"^\s*({_NUMBER})\s*(?:per|/)\s*({_NUMBER}\s*)?([a-zA-Z]+)\s*$", re.IGNORECASE)

UNIT_NAMES = "s, min, h, day(s), week(s)"

MAX_YEARS = 100
MAX_DURATION = MAX_YEARS * 365.25 * 1440.0
"""The longest duration a file may give, in minutes: 100 years (36,525 days)."""


def parse_duration(value: object) -> float:
    """Return a duration such as ``'8 min'`` or ``'3 days'`` in minutes."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '8 min', got {value!r}")
    if isinstance(value, int | float):
        if value == 0:
            return 0.0
        raise ValueError(
            f"expected a duration with a unit like '8 min' ({UNIT_NAMES}), "
            f"got bare number {value!r}"
        )
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like '8 min', got {value!r}")
    match = _DURATION.match(value)
    if not match or match.group(2).lower() not in MINUTES_PER:
        raise ValueError(f"expected a duration like '8 min' ({UNIT_NAMES}), got {value!r}")
    minutes = float(match.group(1)) * MINUTES_PER[match.group(2).lower()]
    if not math.isfinite(minutes):
        raise ValueError(f"expected a finite duration, got {value!r}")
    if minutes < 0:
        raise ValueError(f"expected a non-negative duration, got {value!r}")
    if minutes > MAX_DURATION:
        raise ValueError(
            f"expected a duration of at most {MAX_YEARS} years "
            f"({MAX_DURATION / 1440:,.0f} days), got {value!r}"
        )
    return minutes


def parse_rate(value: object) -> float:
    """Return a rate such as ``'120 per day'`` or ``'5/h'`` in events per minute."""
    if not isinstance(value, str):
        raise ValueError(f"expected a rate like '120 per day', got {value!r}")
    match = _RATE.match(value)
    if not match or match.group(3).lower() not in MINUTES_PER:
        raise ValueError(f"expected a rate like '120 per day' ({UNIT_NAMES}), got {value!r}")
    count = float(match.group(1))
    per = float(match.group(2)) if match.group(2) else 1.0
    if count < 0 or per <= 0:
        raise ValueError(f"expected a non-negative rate, got {value!r}")
    rate = count / (per * MINUTES_PER[match.group(3).lower()])
    if not math.isfinite(count) or not math.isfinite(rate):
        raise ValueError(f"expected a finite rate, got {value!r}")
    return rate


def format_duration(minutes: float) -> str:
    """Return minutes as a short human string in the largest fitting unit."""
    for unit, size in (("days", 1440.0), ("h", 60.0), ("min", 1.0)):
        if abs(minutes) >= size:
            return f"{minutes / size:.3g} {unit}"
    return f"{minutes * 60:.3g} s"
