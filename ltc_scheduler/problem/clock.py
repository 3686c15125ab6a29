"""The one place that formats and parses times of day.

Times in the product are whole **minutes from local midnight** of the plan date (the routing model
works in seconds, the same origin). A time past midnight belongs to the next day: 1,470 is 00:30
the next morning and reads ``"00:30 +1d"``.

Parsing has one rule with one switch: ``HH:MM`` from ``00:00`` to ``24:00``; a field that
documents overnight times (a shift that ends after midnight) passes ``overnight=True`` and accepts
up to ``47:59``.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

__all__ = [
    "MINUTES_PER_DAY",
    "clock",
    "clock_seconds",
    "fmt_min",
    "hhmm",
    "local_time",
    "wall_to_utc",
    "parse_hhmm",
    "try_parse_hhmm",
]

MINUTES_PER_DAY = 24 * 60
_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def clock(minute: int | None, *, empty: str = "") -> str:
    """``"HH:MM"`` for minutes from local midnight; ``" +1d"`` / ``" -1d"`` mark another day."""
    if minute is None:
        return empty
    day, rest = divmod(int(minute), MINUTES_PER_DAY)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    if day > 0:
        text += f" +{day}d"
    elif day < 0:
        text += f" {day}d"
    return text


def fmt_min(t: int | None) -> str:
    """:func:`clock` for messages: ``"--:--"`` when there is no time."""
    return clock(t, empty="--:--")


def clock_seconds(t: int, *, up: bool = True, precise: bool = False) -> str:
    """Seconds from local midnight as a clock: rounded up to the minute (down with ``up=False``),
    or ``"HH:MM:SS"`` when ``precise`` and the seconds are not zero (the validator's messages)."""
    t = int(t)
    if precise and t % 60:
        minute, sec = divmod(t, 60)
        day, rest = divmod(minute, MINUTES_PER_DAY)
        base = clock(rest)
        text = f"{base}:{sec:02d}"
        return text + (f" +{day}d" if day > 0 else f" {day}d" if day < 0 else "")
    return clock(-(-t // 60) if up else t // 60)


def try_parse_hhmm(text: object, *, overnight: bool = False) -> int | None:
    """``"07:30"`` -> 450; ``None`` if ``text`` is not a time of day (see :func:`parse_hhmm`)."""
    if not isinstance(text, str):
        return None
    m = _HHMM.match(text)
    if not m:
        return None
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59:
        return None
    value = hours * 60 + minutes
    top = 2 * MINUTES_PER_DAY - 1 if overnight else MINUTES_PER_DAY
    return value if value <= top else None


def parse_hhmm(text: object, *, overnight: bool = False) -> int:
    """``"HH:MM"`` -> minutes from local midnight, ``00:00``-``24:00`` (``47:59`` with ``overnight``).

    Raises ``ValueError`` with a sentence a user can act on.
    """
    value = try_parse_hhmm(text, overnight=overnight)
    if value is None:
        top = "47:59 for a time after midnight" if overnight else "24:00"
        raise ValueError(f"{text!r} is not a time of day: use HH:MM from 00:00 to {top}, e.g. 07:30")
    return value


def hhmm(minute: int | None) -> str:
    """``"HH:MM"`` with no day marker (``1500`` -> ``"25:00"``): the inverse of :func:`parse_hhmm`,
    for form fields that are edited and read back."""
    if minute is None:
        return ""
    return f"{int(minute) // 60:02d}:{int(minute) % 60:02d}"


def local_time(ts: dt.datetime | None, tz: str, fmt: str = "%b %d %H:%M") -> str:
    """A stored UTC instant shown in the pharmacy's time zone (naive values are read as UTC)."""
    if ts is None:
        return ""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(ZoneInfo(tz)).strftime(fmt)


def wall_to_utc(wall: dt.datetime, tz: str) -> dt.datetime:
    """A local wall-clock time (naive) in zone ``tz`` -> the UTC instant, refusing the two DST traps.

    Raises ``ValueError`` with what to write instead when the time does not exist (spring forward:
    ``2026-03-08 02:30`` in Chicago) or happens twice (fall back: ``2026-11-01 01:30``). A time with
    its UTC offset (``2026-11-01 01:30-05:00``) is never ambiguous and is not checked here.
    """
    zone = ZoneInfo(tz)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    text = wall.strftime("%Y-%m-%d %H:%M")
    back = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if back != wall:
        raise ValueError(
            f"{text} does not exist in {tz}: the clocks jump forward an hour that night; "
            f"give the time after the change (e.g. {(wall + dt.timedelta(hours=1)).strftime('%H:%M')}) "
            "or add the UTC offset"
        )
    if first.utcoffset() != second.utcoffset():
        early = _offset_text(first.utcoffset())
        late = _offset_text(second.utcoffset())
        raise ValueError(
            f"{text} happens twice in {tz}: the clocks go back an hour that night; add the UTC "
            f"offset, {text}{early} for the first or {text}{late} for the second"
        )
    return first.astimezone(dt.UTC)


def _offset_text(offset: dt.timedelta | None) -> str:
    minutes = int((offset or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}"
