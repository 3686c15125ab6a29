"""The one place that formats and parses times of day (minutes from local midnight)."""

from __future__ import annotations


def fmt_min(t: int | None) -> str:
    """``HH:MM`` for minutes from local midnight; past midnight reads 24:10, 25:30; None reads --:--."""
    if t is None:
        return "--:--"
    sign = "-" if t < 0 else ""
    h, m = divmod(abs(int(t)), 60)
    return f"{sign}{h:02d}:{m:02d}"
