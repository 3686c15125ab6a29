"""Local times that daylight-saving time makes impossible or ambiguous are import errors, not guesses."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session
from test_import import ORDER_HEADER, TZ, _load_examples, _snapshot

from ltc_scheduler.errors import BadInput
from ltc_scheduler.importers import CsvText, import_orders
from ltc_scheduler.problem.clock import wall_to_utc

ROW = "N-{n},EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,7,1,{received},{need_by}\n"


def test_wall_to_utc_refuses_the_missing_and_the_repeated_hour() -> None:
    with pytest.raises(ValueError, match="2026-03-08 02:30 does not exist in America/Chicago"):
        wall_to_utc(dt.datetime(2026, 3, 8, 2, 30), TZ)
    with pytest.raises(ValueError, match=r"2026-11-01 01:30 happens twice .* 2026-11-01 01:30-05:00"):
        wall_to_utc(dt.datetime(2026, 11, 1, 1, 30), TZ)
    # the hours around the changes are plain
    assert wall_to_utc(dt.datetime(2026, 3, 8, 3, 30), TZ) == dt.datetime(2026, 3, 8, 8, 30, tzinfo=dt.UTC)
    assert wall_to_utc(dt.datetime(2026, 11, 1, 2, 30), TZ) == dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)


def test_import_names_row_and_column_of_a_dst_trap_and_imports_nothing(session: Session) -> None:
    _load_examples(session)
    before = _snapshot(session)
    text = (
        ORDER_HEADER
        + "\n"
        + ROW.format(n=1, received="2026-03-08 02:30", need_by="2026-03-09 12:00")
        + ROW.format(n=2, received="2026-10-31 09:00", need_by="2026-11-01 01:30")
        + ROW.format(n=3, received="2026-10-31 09:00", need_by="2026-11-01 01:30-06:00")  # offset: fine
    )
    with pytest.raises(BadInput) as info:
        import_orders(session, CsvText("orders.csv", text), tz=TZ)
    session.rollback()
    errors = info.value.errors
    assert [(e.row, e.column) for e in errors] == [(2, "received_at"), (3, "need_by")]
    assert "does not exist in America/Chicago" in errors[0].message
    assert "happens twice in America/Chicago" in errors[1].message
    assert _snapshot(session) == before
