"""The one clock module: every screen, export and message formats and parses times the same way."""

from __future__ import annotations

import datetime as dt

import pytest

from ltc_scheduler.problem.clock import (
    clock,
    clock_seconds,
    fmt_min,
    hhmm,
    local_time,
    parse_hhmm,
    try_parse_hhmm,
)


def test_clock_marks_other_days() -> None:
    assert clock(450) == "07:30"
    assert clock(0) == "00:00"
    assert clock(1470) == "00:30 +1d"
    assert clock(-30) == "23:30 -1d"
    assert clock(None) == "" and clock(None, empty="-") == "-"
    assert fmt_min(None) == "--:--" and fmt_min(605) == "10:05"


def test_clock_seconds_rounds_and_shows_seconds_when_asked() -> None:
    assert clock_seconds(7 * 3600 + 1) == "07:01"  # rounded up by default
    assert clock_seconds(7 * 3600 + 59, up=False) == "07:00"
    assert clock_seconds(7 * 3600 + 330, precise=True, up=False) == "07:05:30"
    assert clock_seconds(7 * 3600 + 300, precise=True) == "07:05"


@pytest.mark.parametrize(("text", "value"), [("07:30", 450), ("7:05", 425), (" 24:00 ", 1440), ("00:00", 0)])
def test_parse_within_the_day(text: str, value: int) -> None:
    assert parse_hhmm(text) == value
    assert hhmm(value) == text.strip().zfill(5)


@pytest.mark.parametrize("text", ["24:01", "25:00", "7.30", "07:60", "", "noon", "123:00"])
def test_parse_refuses_what_is_not_a_time_of_day(text: str) -> None:
    assert try_parse_hhmm(text) is None
    with pytest.raises(ValueError, match="use HH:MM from 00:00 to 24:00"):
        parse_hhmm(text)


def test_overnight_fields_accept_the_next_morning_only_when_they_say_so() -> None:
    assert parse_hhmm("25:30", overnight=True) == 1530
    assert hhmm(1530) == "25:30"
    assert try_parse_hhmm("48:00", overnight=True) is None
    assert try_parse_hhmm(7, overnight=True) is None


def test_local_time_reads_utc_in_the_pharmacy_zone() -> None:
    ts = dt.datetime(2026, 12, 1, 14, 5, tzinfo=dt.UTC)
    assert local_time(ts, "America/Chicago", "%H:%M") == "08:05"
    assert local_time(ts.replace(tzinfo=None), "America/Chicago", "%H:%M") == "08:05"
    assert local_time(None, "America/Chicago") == ""
