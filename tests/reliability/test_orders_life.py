"""Order life (issue 10, finding 3): a line a published plan serves is not planned again on another
date; lines left unserved stay open and come back overdue, reported late; done lines stay out.

Runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, PostgreSQL (the ``engine``/``tiny`` fixtures).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import OrderStatus, status_change_problem
from ltc_scheduler.errors import BadInput
from ltc_scheduler.planning.order_life import how_long, overdue_late
from ltc_scheduler.problem.builder import build_problem

#: solver seconds per plan: enough for the tiny day even on a loaded machine
LIMIT = 3
DAY = dt.date(2026, 12, 1)  # the tiny day (a Tuesday)
TZ = "America/Chicago"


@pytest.fixture(autouse=True)
def _clock_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests choose re-planning explicitly: "today" by the clock is a date none of them plans."""
    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))


def _statuses(engine: sa.Engine) -> dict[str, tuple[str, dt.date | None]]:
    with session_scope(engine) as s:
        return {
            o.external_id: (OrderStatus(o.status).value, o.planned_for) for o in s.exec(select(m.OrderLine))
        }


def _ids(problem) -> list[str]:
    return [o.external_id for o in problem.orders]


def _vial_line(engine: sa.Engine) -> None:
    """The tiny day's cold vial (O3) needs a line that makes vials."""
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))


def test_lines_a_published_plan_serves_are_not_planned_on_later_dates(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    _vial_line(engine)
    # Beta AL takes no delivery on Tuesdays: O3 (its overdue refill) is left unserved on 12-01
    with session_scope(engine) as s:
        s.execute(
            sa.delete(m.FacilityWindow).where(
                m.FacilityWindow.weekday == DAY.weekday(), m.FacilityWindow.facility_id == tiny["fb"]
            )
        )
    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    assert [u["facility"] for u in out.summary["unserved"]] == ["Beta AL (synthetic)"]
    st = _statuses(engine)
    assert st["O1"] == ("planned", DAY) and st["O2"] == ("planned", DAY)
    assert st["O3"] == ("open", None)  # left unserved: stays open

    with Session(engine) as s:
        assert _ids(build_problem(s, date=DAY, timezone=TZ)) == ["O1", "O2"]  # re-planning the day
        tomorrow = build_problem(s, date=DAY + dt.timedelta(days=1), timezone=TZ)
        next_year = build_problem(s, date=dt.date(2027, 12, 1), timezone=TZ)
    assert _ids(tomorrow) == ["O3", "O4"]  # O3 again, overdue; O1/O2 belong to the 12-01 plan
    assert next(o for o in tomorrow.orders if o.external_id == "O3").need_by_min == -2 * 1440 + 19 * 60 + 30
    assert _ids(next_year) == ["O3", "O4"]


def test_publishing_another_date_leaves_this_dates_lines_alone(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    _vial_line(engine)
    service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    service.plan_date(engine, date=DAY + dt.timedelta(days=1), started_by="test", time_limit_s=LIMIT)
    st = _statuses(engine)
    assert st["O1"] == ("planned", DAY) and st["O2"] == ("planned", DAY) and st["O3"] == ("planned", DAY)
    assert st["O4"] == ("planned", DAY + dt.timedelta(days=1))
    # every line is served by a published plan: a later date has nothing to plan (exit 2, a sentence)
    with pytest.raises(BadInput, match="nothing to plan for 2026-12-03: no open order line is due by then"):
        service.plan_date(engine, date=DAY + dt.timedelta(days=2), started_by="test", time_limit_s=LIMIT)
    # re-publishing 12-01 without O1 (cancelled meanwhile) puts nothing of 12-02 back to open
    with session_scope(engine) as s:
        s.execute(sa.update(m.OrderLine).where(m.OrderLine.external_id == "O1").values(status="cancelled"))
    service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    st = _statuses(engine)
    assert st["O1"] == ("cancelled", DAY) and st["O2"] == ("planned", DAY)
    assert st["O4"] == ("planned", DAY + dt.timedelta(days=1))


@pytest.mark.parametrize("status", ["packed", "out_for_delivery", "delivered", "cancelled", "exception"])
def test_the_planner_never_takes_a_line_packed_or_beyond_cancelled_or_held(
    session: Session, tiny: dict[str, int], status: str
) -> None:
    session.execute(sa.update(m.OrderLine).where(m.OrderLine.external_id == "O1").values(status=status))
    session.commit()
    assert _ids(build_problem(session, date=DAY, timezone=TZ)) == ["O2", "O3"]


def test_overdue_lines_are_delivered_and_reported_late_with_how_late(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    _vial_line(engine)
    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    plan = out.result.plan
    o3 = tiny["O3"]
    key = next(b.key for b in plan.batches if o3 in b.order_line_ids)
    stop = next(s for r in plan.routes for s in r.stops if key in s.batch_keys)
    due = -1440 + 19 * 60 + 30  # 2026-11-30 19:30
    overdue = [x for x in plan.late if x.reason.startswith("overdue")]
    assert [(x.facility_id, x.minutes) for x in overdue] == [(tiny["fb"], stop.start_min - due)]
    assert "due 2026-11-30 19:30" in overdue[0].reason and how_long(stop.start_min - due) in overdue[0].reason
    # the CLI / JSON summary names the facility
    assert any(
        x["facility"] == "Beta AL (synthetic)" and x["reason"].startswith("overdue")
        for x in out.summary["late"]
    )
    # ... and the saved record keeps it
    with session_scope(engine) as s:
        assert plans.load_plan(s, plan_run_id=out.plan_run_id).late == plan.late
    # the overdue batch gets the earliest ready-by of the day's routine batches: packed first
    routine = [b for b in plan.batches if not b.stat]
    assert min(routine, key=lambda b: b.deadline_min).key == key


def test_overdue_late_counts_only_lines_due_before_the_day(tiny: dict[str, int], session: Session) -> None:
    from dataclasses import replace

    from ltc_scheduler.plan.model import Batch, Plan, PlanRoute, PlanStop

    problem = build_problem(session, date=DAY, timezone=TZ)
    o1, _, o3 = problem.orders
    b1 = Batch(
        "B0001", o1.facility_id, "", o1.packaging_kind, (o1.id,), 2, 1, False, False, o1.order_class, 0
    )
    b3 = replace(b1, key="B0002", facility_id=o3.facility_id, order_line_ids=(o3.id,))
    stops = (
        PlanStop(1, o1.facility_id, 600, 600, 610, 1, 0, 0, ("B0001",)),
        PlanStop(2, o3.facility_id, 800, 800, 810, 1, 0, 0, ("B0002",)),
    )
    plan = Plan(date=DAY, batches=(b1, b3), routes=(PlanRoute(1, 1, 500, 900, stops),))
    (late,) = overdue_late(problem, plan)
    assert (late.facility_id, late.minutes) == (o3.facility_id, 800 - o3.need_by_min)
    assert late.minutes == 1440 - 1170 + 800 and how_long(late.minutes) == "17 h 50 min"


def test_status_changes_move_forward_only() -> None:
    S = OrderStatus
    assert status_change_problem(S.OPEN, S.PACKED) is None
    assert status_change_problem(S.PLANNED, S.OUT_FOR_DELIVERY) is None
    assert status_change_problem(S.PACKED, S.DELIVERED) is None
    assert status_change_problem(S.EXCEPTION, S.OPEN) is None
    assert status_change_problem(S.CANCELLED, S.OPEN) is None
    assert status_change_problem(S.DELIVERED, S.DELIVERED) is None
    assert "delivered already" in status_change_problem(S.DELIVERED, S.PACKED)
    assert "delivered already" in status_change_problem(S.DELIVERED, S.CANCELLED)
    assert "only move forward" in status_change_problem(S.OUT_FOR_DELIVERY, S.PACKED)
    assert "published" in status_change_problem(S.OPEN, S.PLANNED)
    assert "set it to open first" in status_change_problem(S.CANCELLED, S.PACKED)
    assert "goes back to open" in status_change_problem(S.PACKED, S.OPEN)


def test_re_planning_lists_an_overdue_stop_once(engine: sa.Engine, tiny: dict[str, int]) -> None:
    _vial_line(engine)
    first = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT).result.plan
    overdue = [x for x in first.late if x.reason.startswith("overdue")]
    assert len(overdue) == 1
    now = max(r.depart_min for r in first.routes if r.stops) + 1  # every route has left
    again = service.plan_date(
        engine, date=DAY, started_by="test", now_min=now, time_limit_s=LIMIT
    ).result.plan
    assert [x for x in again.late if x.reason.startswith("overdue")] == overdue
