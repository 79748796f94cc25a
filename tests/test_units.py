"""Durations and rates with units."""

from __future__ import annotations

import pytest

from spiral.units import format_duration, parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("30 s", 0.5),
        ("8 min", 8.0),
        ("2 h", 120.0),
        ("2.5 hours", 150.0),
        ("3 days", 4320.0),
        ("1 day", 1440.0),
        ("1 week", 10080.0),
        ("1.5e1 min", 15.0),
        (0, 0.0),
    ],
)
def test_durations_are_read_in_minutes(text, minutes):
    assert parse_duration(text) == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "got bare number 5"),
        ("5 parsecs", "expected a duration like '8 min'"),
        ("-2 min", "expected a non-negative duration"),
        (True, "got True"),
        ("min", "expected a duration like '8 min'"),
    ],
)
def test_bad_durations_say_what_was_expected(value, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(value)


@pytest.mark.parametrize(
    ("text", "per_minute"),
    [
        ("120 per day", 120 / 1440),
        ("5/h", 5 / 60),
        ("5 per h", 5 / 60),
        ("10 per 2 h", 10 / 120),
        ("0 per day", 0.0),
    ],
)
def test_rates_are_read_per_minute(text, per_minute):
    assert parse_rate(text) == pytest.approx(per_minute)


@pytest.mark.parametrize("value", ["120", 120, "120 per fortnight", "-3 per day"])
def test_bad_rates_say_what_was_expected(value):
    with pytest.raises(ValueError, match="expected a (non-negative )?rate"):
        parse_rate(value)


@pytest.mark.parametrize("minutes", [0.5, 8.0, 150.0, 4320.0])
def test_formatted_durations_read_back(minutes):
    assert parse_duration(format_duration(minutes)) == pytest.approx(minutes, rel=1e-2)
