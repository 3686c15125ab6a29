"""Database rows -> :class:`PlanningProblem`: the only bridge between ``db/`` and the solvers.

Which order lines belong to the day (``build_problem(date=D)``):

* status ``open``, or ``planned`` for ``D`` (re-planning a day sees the lines its published plan
  planned). A line another date's published plan serves is left alone, and so is every line that
  is ``packed``, ``out_for_delivery``, ``delivered``, ``cancelled`` or ``exception`` (except, when
  re-planning ``D``, its own ``packed`` / ``out_for_delivery`` lines: they are listed in
  ``progressed_line_ids`` and their published batches stay as they are). A line a published plan
  left unserved stays ``open`` and comes back on a later date as overdue;
* need-by before the local midnight that ends the planning horizon (``PlanSettings.planning_horizon_days``,
  default 1 = the end of ``D``), so **overdue lines from earlier days are included** (with a negative
  ``need_by_min``: they are late and the plan shows it);
* received before that same midnight (an order cannot be planned before it exists).

Times become integer minutes from local midnight of ``D`` in the configured pharmacy time zone
(wall-clock, so DST days keep windows and timestamps consistent). Facility windows are the rows of
``D``'s weekday. Settings come from the current constraint set.

Held out of the problem's orders (``PlanningProblem.held``, listed unserved by the plan):

* the **routine** lines of a facility with no delivery window on ``D``'s weekday ("no delivery
  window on Tuesday"); its urgent lines (STAT, new admission / first dose) still go, at any hour;
* **every** line of a facility closed on ``D`` (a ``facility_closure`` of that date or weekday).

Input that leaves nothing to plan with raises :class:`BadInput` with what to change: settings that
break the Constraints form's rules (``db/constraints.py``), no active vehicle, no packaging line
open that day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.constraints import check_stored_constraint_set
from ltc_scheduler.enums import (
    URGENT_CLASSES,
    ControlledSchedule,
    FacilityKind,
    OrderClass,
    OrderStatus,
    PackagingKind,
)
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem import model as p

PLANNABLE_STATUSES: tuple[OrderStatus, ...] = (OrderStatus.OPEN, OrderStatus.PLANNED)
#: re-planning: statuses whose lines are on the floor or the road (their batches stay as published)
PROGRESSED_STATUSES: tuple[OrderStatus, ...] = (OrderStatus.PACKED, OrderStatus.OUT_FOR_DELIVERY)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def minutes_from_local_midnight(ts: dt.datetime, date: dt.date, zone: ZoneInfo) -> int:
    """Wall-clock minutes of ``ts`` from local midnight of ``date`` (negative before, >1440 after)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    local = ts.astimezone(zone)
    return (local.date() - date).days * 1440 + local.hour * 60 + local.minute


def local_to_utc(date: dt.date, minute: int, tz: str) -> dt.datetime:
    """Inverse of :func:`minutes_from_local_midnight` (wall-clock minute of ``date`` -> UTC instant)."""
    day = date + dt.timedelta(days=minute // 1440)
    minute %= 1440
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC)


def vehicle_from_row(row: Any, vehicle_id: int) -> p.Vehicle:
    """A problem vehicle from a row with the vehicle columns: a ``vehicle`` row, or the copy a plan
    record keeps of one (``plan_vehicle``, whose own id is not the vehicle's)."""
    return p.Vehicle(
        id=vehicle_id,
        name=row.name,
        tote_capacity=row.tote_capacity,
        cold_capacity=row.cold_capacity,
        controlled_ok=row.controlled_ok,
        shift_start=row.shift_start_min,
        shift_end=row.shift_end_min,
        max_route_min=row.max_route_min,
        depot_id=row.depot_id,
        fixed_cost=row.fixed_cost,
        break_min=row.break_min,
        break_window=(
            p.TimeWindow(row.break_start_min, row.break_end_min)
            if row.break_start_min is not None and row.break_end_min is not None
            else None
        ),
        max_trips=row.max_trips,
    )


def build_problem(
    session: Session,
    *,
    date: dt.date,
    timezone: str,
    now_min: int | None = None,
    require_resources: bool = False,
) -> p.PlanningProblem:
    """Read the day's rows and return the immutable planning problem.

    ``timezone`` is the pharmacy's (the caller passes its setting, e.g. ``LTC_TIMEZONE``). Raises
    :class:`BadInput` when the database has no depot (run ``ltc-scheduler demo`` or import data)
    or a row cannot be part of a problem (the problem's own ``ValueError`` sentence), or the current
    constraint set's settings break the Constraints form's rules. With ``require_resources`` (when
    the problem is to be planned) also when no vehicle is active or no packaging line is open.
    """
    try:
        problem = _build_problem(session, date=date, timezone=timezone, now_min=now_min)
    except BadInput:
        raise
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    if require_resources:
        _check_resources(problem.lines, problem.vehicles, date=date)
    return problem


def _build_problem(
    session: Session, *, date: dt.date, timezone: str, now_min: int | None
) -> p.PlanningProblem:
    zone = ZoneInfo(timezone)

    depot_row = repo.get_depot(session)
    if depot_row is None or depot_row.id is None:
        raise BadInput(
            "the database has no pharmacy/depot yet: run `ltc-scheduler demo` or import data first"
        )
    depot = p.Depot(
        id=depot_row.id,
        name=depot_row.name,
        location=p.GeoPoint(depot_row.lat, depot_row.lon),
        address=depot_row.address,
        open_min=depot_row.open_min,
        close_min=depot_row.close_min,
    )

    cs_row = repo.current_constraint_set(session)
    check_stored_constraint_set(cs_row)
    settings = repo.to_plan_settings(cs_row)

    # ---- orders
    horizon = max(1, settings.planning_horizon_days)
    _, end_utc = repo.local_day_bounds_utc(date, timezone, days=horizon)
    stmt = (
        select(
            m.OrderLine.id,
            m.OrderLine.external_id,
            m.OrderLine.facility_id,
            m.OrderLine.resident_id,
            m.OrderLine.medication_id,
            m.OrderLine.order_class,
            m.OrderLine.cards,
            m.OrderLine.doses,
            m.OrderLine.received_at,
            m.OrderLine.need_by,
            m.Resident.unit,
            m.Medication.name,
            m.Medication.packaging_kind,
            m.Medication.schedule,
            m.Medication.refrigerated,
            m.OrderLine.status,
        )
        .join(m.Resident, col(m.Resident.id) == col(m.OrderLine.resident_id))
        .join(m.Medication, col(m.Medication.id) == col(m.OrderLine.medication_id))
        .join(m.Facility, col(m.Facility.id) == col(m.OrderLine.facility_id))
        .where(
            _plannable_on(date, replanning=now_min is not None),
            col(m.OrderLine.need_by) < end_utc,
            col(m.OrderLine.received_at) < end_utc,
            col(m.Facility.active).is_(True),
        )
        .order_by(col(m.OrderLine.id))
    )
    orders: list[p.OrderLine] = []
    statuses: list[OrderStatus] = []
    for r in session.exec(stmt):
        statuses.append(OrderStatus(r[15]))
        orders.append(
            p.OrderLine(
                id=r[0],
                external_id=r[1],
                facility_id=r[2],
                unit=r[10] or "",
                resident_id=r[3],
                medication_id=r[4],
                medication_name=r[11],
                packaging_kind=PackagingKind(r[12]),
                order_class=OrderClass(r[5]),
                cards=r[6],
                doses=r[7],
                controlled=ControlledSchedule(r[13]) != ControlledSchedule.NONE,
                cold=bool(r[14]),
                received_min=minutes_from_local_midnight(r[8], date, zone),
                need_by_min=minutes_from_local_midnight(r[9], date, zone),
            )
        )

    progressed = frozenset(o.id for o, st in zip(orders, statuses, strict=True) if st in PROGRESSED_STATUSES)

    # ---- facilities with the weekday's windows and their units
    weekday = date.weekday()
    windows: dict[int, list[p.TimeWindow]] = defaultdict(list)
    for w in session.exec(
        select(m.FacilityWindow)
        .where(m.FacilityWindow.weekday == weekday)
        .order_by(col(m.FacilityWindow.start_min))
    ):
        windows[w.facility_id].append(p.TimeWindow(w.start_min, w.end_min))
    units: dict[int, set[str]] = defaultdict(set)
    for fid, unit in session.exec(sa.select(m.Resident.facility_id, m.Resident.unit).distinct()):
        if unit:
            units[fid].add(unit)
    facilities = tuple(
        p.Facility(
            id=f.id,
            external_id=f.external_id,
            name=f.name,
            kind=FacilityKind(f.kind),
            location=p.GeoPoint(f.lat, f.lon),
            address=", ".join(x for x in (f.address, f.city) if x),
            beds=f.beds,
            windows=_merge_windows(windows.get(f.id, [])),
            service_fixed_min=f.service_fixed_min,
            service_per_tote_min=f.service_per_tote_min,
            has_fridge=f.has_fridge,
            units=tuple(sorted(units.get(f.id, ()))),
        )
        for f in repo.list_facilities(session)
        if f.id is not None
    )

    orders, held = _hold_out(orders, facilities, closed=repo.closures_on(session, date=date), date=date)

    # ---- resources
    lines = tuple(
        p.PackagingLine(
            id=row.id,
            name=row.name,
            kinds=row.kind_set(),
            cards_per_hour=row.cards_per_hour,
            changeover_kind_min=row.changeover_kind_min,
            changeover_facility_min=row.changeover_facility_min,
            available=(p.TimeWindow(row.available_start_min, row.available_end_min),),
            downtime=tuple(p.TimeWindow(int(a), int(b)) for a, b in (row.downtime or [])),
        )
        for row in repo.list_packaging_lines(session)
        if row.id is not None
    )
    verification = p.Verification(
        minutes_per_card=cs_row.minutes_per_card,
        shifts=tuple(
            p.PharmacistShift(s.name, s.start_min, s.end_min) for s in repo.list_pharmacist_shifts(session)
        ),
    )
    vehicles = tuple(vehicle_from_row(v, v.id) for v in repo.list_vehicles(session) if v.id is not None)

    snapshot = {
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "constraint_set_version": str(cs_row.version),
        "order_lines": str(len(orders)),
        "order_line_ids_max": str(max((o.id for o in orders), default=0)),
        "facilities": str(len(facilities)),
        "packaging_lines": ",".join(str(x.id) for x in lines),
        "vehicles": ",".join(str(x.id) for x in vehicles),
        "pharmacist_shifts": str(len(verification.shifts)),
        "timezone": timezone,
    }
    return p.PlanningProblem(
        date=date,
        timezone=timezone,
        depot=depot,
        facilities=facilities,
        orders=tuple(orders),
        lines=lines,
        verification=verification,
        vehicles=vehicles,
        settings=settings,
        now_min=now_min,
        snapshot=snapshot,
        held=held,
        progressed_line_ids=progressed,
    )


def _plannable_on(date: dt.date, *, replanning: bool) -> sa.ColumnElement[bool]:
    """``open``, or ``planned`` for ``date`` (``planned`` without a date: made before 0004); when
    re-planning also the lines of ``date`` already packed or on the road: the published plan's
    batches holding them stay as they are, and still need their lines to be routed."""
    planned_here = sa.and_(
        col(m.OrderLine.status) == OrderStatus.PLANNED.value,
        sa.or_(col(m.OrderLine.planned_for) == date, col(m.OrderLine.planned_for).is_(None)),
    )
    clauses = [col(m.OrderLine.status) == OrderStatus.OPEN.value, planned_here]
    if replanning:
        clauses.append(
            sa.and_(
                col(m.OrderLine.status).in_([s.value for s in PROGRESSED_STATUSES]),
                col(m.OrderLine.planned_for) == date,
            )
        )
    return sa.or_(*clauses)


def _hold_out(
    orders: list[p.OrderLine],
    facilities: tuple[p.Facility, ...],
    *,
    closed: dict[int, str],
    date: dt.date,
) -> tuple[list[p.OrderLine], tuple[p.HeldOrders, ...]]:
    """Split off the lines the day cannot serve (see the module docstring)."""
    by_id = {f.id: f for f in facilities}
    day = WEEKDAYS[date.weekday()]
    keep: list[p.OrderLine] = []
    held: dict[tuple[int, str], list[int]] = defaultdict(list)
    for o in orders:
        fac = by_id.get(o.facility_id)
        if fac is None:
            keep.append(o)
            continue
        if fac.id in closed:
            why = closed[fac.id]
            held[(fac.id, f"closed on {day} {date.isoformat()}" + (f": {why}" if why else ""))].append(o.id)
        elif not fac.windows and o.order_class not in URGENT_CLASSES:
            held[(fac.id, f"no delivery window on {day}")].append(o.id)
        else:
            keep.append(o)
    return keep, tuple(
        p.HeldOrders(facility_id=fid, order_line_ids=tuple(ids), reason=reason)
        for (fid, reason), ids in sorted(held.items())
    )


def _check_resources(
    lines: tuple[p.PackagingLine, ...], vehicles: tuple[p.Vehicle, ...], *, date: dt.date
) -> None:
    """Refuse a day with no active vehicle or no packaging line open (what to change)."""
    if not vehicles:
        raise BadInput(
            "No vehicle is active, so nothing can be delivered: mark at least one vehicle active on "
            "the Constraints page (Vehicles) or import vehicles, then plan again."
        )
    if not lines:
        raise BadInput(
            "No packaging line is active, so nothing can be packed: mark at least one packaging line "
            "active on the Constraints page (Packaging lines), then plan again."
        )
    if all(_open_minutes(ln) <= 0 for ln in lines):
        raise BadInput(
            f"No packaging line is open on {date.isoformat()}: every active line is down for its whole "
            "available time. Shorten a line's downtime or widen its hours on the Constraints page "
            "(Packaging lines), then plan again."
        )


def _open_minutes(line: p.PackagingLine) -> int:
    """Minutes of ``line``'s available time not covered by its downtime."""
    total = 0
    for w in line.available:
        free = [(w.start, w.end)]
        for d in line.downtime:
            free = [
                part
                for a, b in free
                for part in ((a, min(b, d.start)), (max(a, d.end), b))
                if part[1] > part[0]
            ]
        total += sum(b - a for a, b in free)
    return total


def _merge_windows(ws: list[p.TimeWindow]) -> tuple[p.TimeWindow, ...]:
    """Sort and merge overlapping windows (the problem requires them non-overlapping)."""
    out: list[p.TimeWindow] = []
    for w in sorted(ws, key=lambda w: (w.start, w.end)):
        if out and w.start <= out[-1].end:
            out[-1] = dataclasses.replace(out[-1], end=max(out[-1].end, w.end))
        else:
            out.append(w)
    return tuple(out)
