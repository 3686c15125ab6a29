"""Model constraints hold in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler.db import models as m
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import FacilityKind, OrderClass, OrderStatus, PlanStatus


def _plan_run(session: Session) -> m.PlanRun:
    run = m.PlanRun(date=dt.date(2026, 12, 1), status=PlanStatus.COMPLETED)
    session.add(run)
    session.flush()
    return run


def test_stop_for_missing_facility_is_rejected(session: Session, tiny: dict[str, int]) -> None:
    run = _plan_run(session)
    route = m.PlanRoute(
        plan_run_id=run.id, seq=0, vehicle_id=tiny["v1"], trip_no=1, depart_min=480, return_min=600
    )
    session.add(route)
    session.flush()
    session.add(
        m.PlanStop(
            route_id=route.id,
            plan_run_id=run.id,
            seq=1,
            facility_id=999_999,
            arrival_min=500,
            start_min=500,
            departure_min=510,
            totes=1,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_route_for_missing_vehicle_is_rejected(session: Session, tiny: dict[str, int]) -> None:
    run = _plan_run(session)
    session.add(
        m.PlanRoute(plan_run_id=run.id, seq=0, vehicle_id=424242, trip_no=1, depart_min=1, return_min=2)
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_duplicate_facility_external_id_is_rejected(session: Session, tiny: dict[str, int]) -> None:
    session.add(
        m.Facility(external_id="140001", name="Copy", kind=FacilityKind.SKILLED_NURSING, lat=41, lon=-87)
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    ("start", "end", "weekday"),
    [(720, 600, 0), (600, 600, 0), (600, 720, 7), (-5, 60, 0)],
    ids=["ends-before-start", "empty", "weekday-7", "negative"],
)
def test_bad_facility_window_is_rejected(
    session: Session, tiny: dict[str, int], start: int, end: int, weekday: int
) -> None:
    session.add(m.FacilityWindow(facility_id=tiny["fa"], weekday=weekday, start_min=start, end_min=end))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_cycle_length_must_be_7_14_or_28(session: Session, tiny: dict[str, int]) -> None:
    session.add(
        m.Facility(
            external_id="X1",
            name="X",
            kind=FacilityKind.SKILLED_NURSING,
            lat=41,
            lon=-87,
            cycle_length_days=10,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_order_line_needs_positive_cards_and_need_by_after_received(
    session: Session, tiny: dict[str, int]
) -> None:
    now = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
    base = dict(
        resident_id=tiny["r1"],
        facility_id=tiny["fa"],
        medication_id=tiny["med1"],
        order_class=OrderClass.REFILL,
        doses=1,
        received_at=now,
        need_by=now,
    )
    session.add(m.OrderLine(external_id="BAD-CARDS", cards=0, **base))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()
    base["need_by"] = now - dt.timedelta(hours=1)
    session.add(m.OrderLine(external_id="BAD-TIME", cards=1, **base))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_order_line_for_missing_resident_is_rejected(session: Session, tiny: dict[str, int]) -> None:
    now = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
    session.add(
        m.OrderLine(
            external_id="ORPHAN",
            resident_id=777_777,
            facility_id=tiny["fa"],
            medication_id=tiny["med1"],
            order_class=OrderClass.REFILL,
            received_at=now,
            need_by=now,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_enum_values_are_checked_in_the_database(session: Session, tiny: dict[str, int]) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(sa.text("UPDATE order_line SET status = 'lost' WHERE external_id = 'O1'"))
        session.flush()
    session.rollback()


def test_timestamps_come_back_utc_aware(session: Session, tiny: dict[str, int]) -> None:
    row = session.exec(select(m.OrderLine).where(m.OrderLine.external_id == "O2")).one()
    session.expire_all()
    row = session.exec(select(m.OrderLine).where(m.OrderLine.external_id == "O2")).one()
    assert row.need_by.tzinfo is not None
    assert row.need_by == dt.datetime(2026, 12, 1, 19, 15, tzinfo=dt.UTC)
    assert row.status == OrderStatus.OPEN
    assert row.created_at.utcoffset() == dt.timedelta(0)


def test_naive_timestamp_is_refused(session: Session, tiny: dict[str, int]) -> None:
    naive = dt.datetime(2026, 12, 1, 9)
    session.add(
        m.OrderLine(
            external_id="NAIVE",
            resident_id=tiny["r1"],
            facility_id=tiny["fa"],
            medication_id=tiny["med1"],
            order_class=OrderClass.REFILL,
            received_at=naive,
            need_by=naive,
        )
    )
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        session.flush()
    session.rollback()


def test_session_scope_rolls_back_on_error(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        s.add(m.Depot(name="Never saved", lat=1, lon=2))
        s.flush()
        raise RuntimeError("boom")
    with session_scope(engine) as s:
        assert s.exec(select(m.Depot)).all() == []
        s.add(m.Depot(name="Saved", lat=1, lon=2))
    with session_scope(engine) as s:
        assert [d.name for d in s.exec(select(m.Depot))] == ["Saved"]


def test_sqlite_engine_uses_wal_and_foreign_keys(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
