"""Durations and rates with units: every unit form, errors that say what was expected."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from spiral.model.units import (
    MAX_DURATION,
    MINUTES_PER,
    format_duration,
    parse_duration,
    parse_rate,
)

UNITS = "s, min, h, day(s), week(s)"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("30 s", 0.5),
        ("90 sec", 1.5),
        ("45 seconds", 0.75),
        ("8 min", 8.0),
        ("1 minute", 1.0),
        ("2 h", 120.0),
        ("2 hr", 120.0),
        ("2.5 hours", 150.0),
        ("1 day", 1440.0),
        ("3 days", 4320.0),
        ("2 d", 2880.0),
        ("1 week", 10080.0),
        ("2 weeks", 20160.0),
        ("1 w", 10080.0),
        ("1.5e1 min", 15.0),
        (".5 h", 30.0),
        ("8min", 8.0),
        ("  8   MIN  ", 8.0),
        ("0 min", 0.0),
        (0, 0.0),
        (0.0, 0.0),
    ],
)
def test_every_unit_form_is_read_in_minutes(text, minutes):
    assert parse_duration(text) == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, f"expected a duration with a unit like '8 min' ({UNITS}), got bare number 5"),
        (2.5, f"expected a duration with a unit like '8 min' ({UNITS}), got bare number 2.5"),
        ("5 parsecs", f"expected a duration like '8 min' ({UNITS}), got '5 parsecs'"),
        ("min", f"expected a duration like '8 min' ({UNITS}), got 'min'"),
        ("5", f"expected a duration like '8 min' ({UNITS}), got '5'"),
        ("", f"expected a duration like '8 min' ({UNITS}), got ''"),
        ("-2 min", "expected a non-negative duration, got '-2 min'"),
        (True, "expected a duration like '8 min', got True"),
        (None, "expected a duration like '8 min', got None"),
        (["8 min"], "expected a duration like '8 min', got ['8 min']"),
    ],
)
def test_bad_durations_are_refused_with_what_was_expected(value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_duration, "1e400 min"),
        (parse_rate, "1e400 per day"),
    ],
)
def test_a_quantity_that_overflows_to_infinity_is_refused(parse, text):
    with pytest.raises(ValueError, match="expected"):
        parse(text)


@given(
    amount=st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(sorted(MINUTES_PER)),
)
def test_any_amount_in_any_unit_is_that_many_unit_lengths(amount, unit):
    assume(amount * MINUTES_PER[unit] <= MAX_DURATION)  # longer is refused: see below
    assert parse_duration(f"{amount!r} {unit}") == pytest.approx(amount * MINUTES_PER[unit])


@pytest.mark.parametrize("text", ["36526 days", "1e6 days", "5300 weeks", "1e300 s"])
def test_a_duration_over_100_years_is_refused_naming_the_limit(text):
    """A duration longer than 100 years is refused with the limit in the message."""
    message = f"expected a duration of at most 100 years (36,525 days), got {text!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_duration(text)


def test_a_duration_of_exactly_100_years_is_accepted():
    """The limit itself is a valid duration."""
    assert parse_duration("36525 days") == MAX_DURATION


@pytest.mark.parametrize(
    ("text", "per_minute"),
    [
        ("120 per day", 120 / 1440),
        ("5/h", 5 / 60),
        ("5 / h", 5 / 60),
        ("5 per h", 5 / 60),
        ("5 per hour", 5 / 60),
        ("30 per min", 30.0),
        ("2 per s", 120.0),
        ("700 per week", 700 / 10080),
        ("10 per 2 h", 10 / 120),
        ("10 per 2h", 10 / 120),
        ("1.5e3 per day", 1500 / 1440),
        ("0 per day", 0.0),
        ("  120 per DAY ", 120 / 1440),
    ],
)
def test_rates_in_every_form_are_read_per_minute(text, per_minute):
    assert parse_rate(text) == pytest.approx(per_minute)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("120", f"expected a rate like '120 per day' ({UNITS}), got '120'"),
        (120, "expected a rate like '120 per day', got 120"),
        (
            "120 per fortnight",
            f"expected a rate like '120 per day' ({UNITS}), got '120 per fortnight'",
        ),
        ("lots", f"expected a rate like '120 per day' ({UNITS}), got 'lots'"),
        ("-3 per day", "expected a non-negative rate, got '-3 per day'"),
        ("5 per 0 h", "expected a non-negative rate, got '5 per 0 h'"),
    ],
)
def test_bad_rates_are_refused_with_what_was_expected(value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_rate(value)


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0.0, "0 s"),
        (0.5, "30 s"),
        (8.0, "8 min"),
        (90.0, "1.5 h"),
        (150.0, "2.5 h"),
        (1440.0, "1 days"),
        (4320.0, "3 days"),
    ],
)
def test_durations_are_formatted_in_the_largest_fitting_unit(minutes, text):
    assert format_duration(minutes) == text


@pytest.mark.parametrize("minutes", [0.0, 0.5, 8.0, 59.5, 150.0, 1439.0, 4320.0, 20160.0])
def test_formatted_durations_read_back_to_the_same_minutes(minutes):
    # three significant digits: at most half a unit in the third digit, 0.5 % relative
    assert parse_duration(format_duration(minutes)) == pytest.approx(minutes, rel=5e-3)


@given(st.floats(min_value=1e-4, max_value=5e7, allow_nan=False, allow_infinity=False))
def test_format_then_parse_is_within_three_significant_digits(minutes):
    assert parse_duration(format_duration(minutes)) == pytest.approx(minutes, rel=5e-3)


def test_per_is_read_in_any_case():
    assert parse_rate("10 PER day") == parse_rate("10 per day") == pytest.approx(10 / 1440)
