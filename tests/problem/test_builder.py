"""DB rows -> PlanningProblem: selection of the day's lines, minutes, windows, resources, settings."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.enums import OrderClass, PackagingKind
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem import model as p
from ltc_scheduler.problem.builder import build_problem, local_to_utc, minutes_from_local_midnight

DAY = dt.date(2026, 12, 1)  # a Tuesday
TZ = "America/Chicago"


def test_selects_open_lines_due_today_or_overdue(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone=TZ)
    # O4 is due tomorrow, O5 is delivered: both left out; O3 (overdue from yesterday) is in
    assert [o.external_id for o in problem.orders] == ["O1", "O2", "O3"]


def test_order_line_fields_and_minutes(session: Session, tiny: dict[str, int]) -> None:
    o1, o2, o3 = build_problem(session, date=DAY, timezone=TZ, now_min=600).orders
    assert (o1.need_by_min, o1.received_min) == (12 * 60, -3 * 1440 + 10 * 60)
    assert (o1.unit, o1.cards, o1.doses, o1.packaging_kind) == (
        "1 North",
        2,
        14,
        PackagingKind.MULTI_DOSE_BLISTER,
    )
    assert (o1.controlled, o1.cold, o1.order_class) == (False, False, OrderClass.CYCLE_FILL)
    assert (o2.received_min, o2.need_by_min, o2.controlled, o2.order_class) == (
        555,
        795,
        True,
        OrderClass.STAT,
    )
    assert (o3.need_by_min, o3.cold, o3.facility_id) == (-1440 + 19 * 60 + 30, True, tiny["fb"])
    assert o2.medication_name == "Oxycodone 5 mg tablet"


def test_planning_horizon_of_two_days_takes_tomorrows_lines(session: Session, tiny: dict[str, int]) -> None:
    repo.save_constraint_set(session, settings=p.PlanSettings(planning_horizon_days=2), created_by="t")
    problem = build_problem(session, date=DAY, timezone=TZ)
    assert [o.external_id for o in problem.orders] == ["O1", "O2", "O3", "O4"]
    assert problem.orders[-1].need_by_min == 1440 + 12 * 60


def test_facilities_windows_units_and_resources(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone=TZ, now_min=600)
    fa, fb = problem.facilities
    assert fa.windows == (p.TimeWindow(570, 720),)
    assert fb.windows == (p.TimeWindow(780, 990), p.TimeWindow(1080, 1170))  # sorted
    assert fa.units == ("1 North", "1 South") and fb.units == ("Main",)
    assert (fb.has_fridge, fb.kind.value, fa.beds) == (False, "assisted_living", 150)
    (line,) = problem.lines
    assert line.kinds == frozenset({PackagingKind.MULTI_DOSE_BLISTER, PackagingKind.UNIT_DOSE_CARD})
    assert line.available == (p.TimeWindow(300, 1260),) and line.downtime == (p.TimeWindow(780, 810),)
    assert problem.verification == p.Verification(0.05, (p.PharmacistShift("PharmD 1", 330, 810),))
    v1, v2 = problem.vehicles
    assert (v1.tote_capacity, v1.cold_capacity, v1.controlled_ok, v1.shift_start, v1.shift_end) == (
        40,
        2,
        True,
        480,
        990,
    )
    assert v1.break_window == p.TimeWindow(690, 810) and v2.break_window is None
    assert problem.depot.name == "Test Pharmacy" and problem.now_min == 600
    assert problem.settings == p.PlanSettings(version=1, time_limit_s=2.0)
    assert problem.snapshot["constraint_set_version"] == "1" and problem.snapshot["order_lines"] == "3"
    assert problem.timezone == TZ and problem.date == DAY


def test_windows_follow_the_weekday(session: Session, tiny: dict[str, int]) -> None:
    session.execute(sa.delete(m.FacilityWindow).where(m.FacilityWindow.weekday == 6))  # no Sunday deliveries
    session.commit()
    sunday = dt.date(2026, 12, 6)
    fa, fb = build_problem(session, date=sunday, timezone=TZ).facilities
    assert fa.windows == () and fb.windows == ()
    assert build_problem(session, date=DAY, timezone=TZ).facilities[0].windows != ()


def test_inactive_facility_and_vehicle_are_left_out(session: Session, tiny: dict[str, int]) -> None:
    session.execute(sa.update(m.Facility).where(m.Facility.id == tiny["fb"]).values(active=False))
    session.execute(sa.update(m.Vehicle).where(m.Vehicle.id == tiny["v2"]).values(active=False))
    session.commit()
    problem = build_problem(session, date=DAY, timezone=TZ)
    assert [f.id for f in problem.facilities] == [tiny["fa"]]
    assert [o.external_id for o in problem.orders] == ["O1", "O2"]
    assert [v.id for v in problem.vehicles] == [tiny["v1"]]


def test_empty_database_is_bad_input(session: Session) -> None:
    with pytest.raises(BadInput, match="no pharmacy"):
        build_problem(session, date=DAY, timezone=TZ)


@pytest.mark.parametrize(
    ("local", "minutes"),
    [
        ((2026, 12, 1, 0, 0), 0),
        ((2026, 12, 1, 13, 5), 785),
        ((2026, 11, 30, 23, 0), -60),
        ((2026, 12, 2, 1, 0), 1500),
    ],
)
def test_minutes_round_trip(local: tuple[int, ...], minutes: int) -> None:
    from zoneinfo import ZoneInfo

    ts = dt.datetime(*local, tzinfo=ZoneInfo(TZ))
    assert minutes_from_local_midnight(ts, DAY, ZoneInfo(TZ)) == minutes
    assert local_to_utc(DAY, minutes, TZ) == ts.astimezone(dt.UTC)


def test_dst_day_uses_wall_clock_minutes() -> None:
    from zoneinfo import ZoneInfo

    dst_day = dt.date(2026, 3, 8)  # clocks jump 02:00 -> 03:00 in Chicago
    ts = dt.datetime(2026, 3, 8, 10, 0, tzinfo=ZoneInfo(TZ))
    assert minutes_from_local_midnight(ts, dst_day, ZoneInfo(TZ)) == 600


def test_demo_day_builds(demo_engine_small: sa.Engine) -> None:
    with Session(demo_engine_small) as s:
        problem = build_problem(s, date=DAY, timezone=TZ)
        n_open = len(repo.list_order_lines(s, date=DAY, tz=TZ))
    assert len(problem.orders) == n_open
    assert 1000 <= len(problem.orders) <= 2000
    assert len(problem.facilities) == 15 and len(problem.lines) == 3 and len(problem.vehicles) == 6
    fac_ids = {f.id for f in problem.facilities}
    assert all(o.facility_id in fac_ids for o in problem.orders)
    assert all(f.windows for f in problem.facilities)
    stat = [o for o in problem.orders if o.order_class == OrderClass.STAT]
    assert stat and all(o.need_by_min - o.received_min == 240 for o in stat)
