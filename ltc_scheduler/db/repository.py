"""Keyword-only reads and writes of the master data on a session (depot, facilities, vehicles, lines,
orders, constraint sets, audit events). Nothing here commits: the caller owns the transaction
(``with session_scope(engine) as session: ...``). Nothing here reads the configuration: the
pharmacy time zone is a parameter.

Plan records (saving, loading, publishing runs) live in :mod:`ltc_scheduler.db.plans`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from ltc_scheduler.db.models import (
    ALL_TABLES,
    AuditEvent,
    ConstraintSet,
    Depot,
    Facility,
    FacilityClosure,
    FacilityWindow,
    Medication,
    OrderLine,
    PackagingLine,
    PharmacistShift,
    Resident,
    Vehicle,
)
from ltc_scheduler.enums import OrderStatus, status_change_problem
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem.model import PlanSettings

# --------------------------------------------------------------------------- master data


def get_depot(session: Session) -> Depot | None:
    """The pharmacy (the first depot row), or ``None`` in an empty database."""
    return session.exec(select(Depot).order_by(col(Depot.id))).first()


def list_facilities(session: Session, *, active_only: bool = True) -> list[Facility]:
    stmt = select(Facility).order_by(col(Facility.id))
    if active_only:
        stmt = stmt.where(col(Facility.active).is_(True))
    return list(session.exec(stmt))


def get_facility(session: Session, *, facility_id: int) -> Facility | None:
    return session.get(Facility, facility_id)


def facility_windows(session: Session, *, facility_id: int | None = None) -> list[FacilityWindow]:
    stmt = select(FacilityWindow).order_by(
        col(FacilityWindow.facility_id), col(FacilityWindow.weekday), col(FacilityWindow.start_min)
    )
    if facility_id is not None:
        stmt = stmt.where(FacilityWindow.facility_id == facility_id)
    return list(session.exec(stmt))


def closures_on(session: Session, *, date: dt.date) -> dict[int, str]:
    """``{facility_id: reason}`` for the facilities closed on ``date`` (a closure of that date or
    of its weekday); the reason is "" when none was given."""
    out: dict[int, str] = {}
    stmt = select(FacilityClosure).where(
        sa.or_(col(FacilityClosure.date) == date, col(FacilityClosure.weekday) == date.weekday())
    )
    for c in session.exec(stmt.order_by(col(FacilityClosure.id))):
        out.setdefault(c.facility_id, c.reason)
    return out


def list_closures(session: Session) -> list[FacilityClosure]:
    """Every closure: per facility, dated ones first (by date), then weekdays (Monday first)."""
    rows = list(session.exec(select(FacilityClosure)))
    return sorted(rows, key=lambda c: (c.facility_id, c.date is None, c.date or dt.date.min, c.weekday or 0))


def list_vehicles(session: Session, *, active_only: bool = True) -> list[Vehicle]:
    stmt = select(Vehicle).order_by(col(Vehicle.id))
    if active_only:
        stmt = stmt.where(col(Vehicle.active).is_(True))
    return list(session.exec(stmt))


def list_packaging_lines(session: Session, *, active_only: bool = True) -> list[PackagingLine]:
    stmt = select(PackagingLine).order_by(col(PackagingLine.id))
    if active_only:
        stmt = stmt.where(col(PackagingLine.active).is_(True))
    return list(session.exec(stmt))


def list_pharmacist_shifts(session: Session, *, active_only: bool = True) -> list[PharmacistShift]:
    stmt = select(PharmacistShift).order_by(col(PharmacistShift.start_min), col(PharmacistShift.id))
    if active_only:
        stmt = stmt.where(col(PharmacistShift.active).is_(True))
    return list(session.exec(stmt))


def list_medications(session: Session) -> list[Medication]:
    return list(session.exec(select(Medication).order_by(col(Medication.id))))


def local_day_bounds_utc(date: dt.date, tz: str, *, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    """``[local midnight of date, local midnight of date + days)`` as UTC instants."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    start = dt.datetime.combine(date, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(date + dt.timedelta(days=days), dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    return start, end


def list_order_lines(
    session: Session,
    *,
    date: dt.date,
    tz: str,
    statuses: tuple[OrderStatus, ...] | None = None,
) -> list[OrderLine]:
    """Order lines whose need-by falls on ``date`` (local day in the pharmacy time zone).

    ``tz`` is the pharmacy time zone; ``statuses`` filters by status (default: all). For the planning
    selection (open/planned, overdue included) see ``problem/builder.py``.
    """
    start, end = local_day_bounds_utc(date, tz)
    stmt = (
        select(OrderLine)
        .where(col(OrderLine.need_by) >= start, col(OrderLine.need_by) < end)
        .order_by(col(OrderLine.id))
    )
    if statuses:
        stmt = stmt.where(col(OrderLine.status).in_([s.value for s in statuses]))
    return list(session.exec(stmt))


def order_line_details(session: Session, *, date: dt.date, tz: str) -> list[Any]:
    """Order lines due on ``date`` (local day) joined with their facility, resident and medication.

    Rows of (external id, facility, unit, room, medication, kind, schedule, refrigerated, class,
    cards, doses, received at, need by, status), ordered by need-by.
    """
    start, end = local_day_bounds_utc(date, tz)
    stmt = (
        select(
            OrderLine.external_id,
            Facility.name,
            Resident.unit,
            Resident.room,
            Medication.name,
            Medication.packaging_kind,
            Medication.schedule,
            Medication.refrigerated,
            OrderLine.order_class,
            OrderLine.cards,
            OrderLine.doses,
            OrderLine.received_at,
            OrderLine.need_by,
            OrderLine.status,
        )
        .join(Facility, col(Facility.id) == col(OrderLine.facility_id))
        .join(Resident, col(Resident.id) == col(OrderLine.resident_id))
        .join(Medication, col(Medication.id) == col(OrderLine.medication_id))
        .where(col(OrderLine.need_by) >= start, col(OrderLine.need_by) < end)
        .order_by(col(OrderLine.need_by), col(OrderLine.id))
    )
    return list(session.exec(stmt))


def set_order_status(
    session: Session, *, external_ids: list[str], status: OrderStatus, who: str
) -> dict[str, int]:
    """Move order lines (by the pharmacy system's id) to ``status``, all or nothing.

    Each change must be allowed by :func:`~ltc_scheduler.enums.status_change_problem`; otherwise
    :class:`BadInput` lists every line that cannot change and nothing is written. A line set back
    to ``open`` is no longer planned for any date. Records an audit event. Returns
    ``{"changed": n, "unchanged": m}``.
    """
    wanted = list(dict.fromkeys(e.strip() for e in external_ids if e and e.strip()))
    if not wanted:
        raise BadInput("name at least one order line (its external id, e.g. ORD-000123)")
    found: dict[str, OrderLine] = {}
    for start in range(0, len(wanted), 5000):
        for row in session.exec(
            select(OrderLine).where(col(OrderLine.external_id).in_(wanted[start : start + 5000]))
        ):
            found[row.external_id] = row
    problems = [f"  order line {e!r}: there is no such order line" for e in wanted if e not in found]
    for e in wanted:
        row = found.get(e)
        why = status_change_problem(OrderStatus(row.status), status) if row is not None else None
        if why is not None:
            problems.append(f"  order line {e!r}: cannot set {status.value}: {why}")
    if problems:
        raise BadInput("Nothing was changed:\n" + "\n".join(problems))
    now = dt.datetime.now(dt.UTC)
    changed: dict[str, list[str]] = {}
    for e in wanted:
        row = found[e]
        if row.status == status:
            continue
        changed[e] = [str(OrderStatus(row.status).value), status.value]
        row.status = status
        if status == OrderStatus.OPEN:
            row.planned_for = None
        row.updated_at = now
        session.add(row)
    session.flush()
    if changed:
        add_audit_event(
            session, who=who, what="orders.set_status", details={"status": status.value, "changed": changed}
        )
    return {"changed": len(changed), "unchanged": len(wanted) - len(changed)}


def add_facility_closure(
    session: Session,
    *,
    facility_external_id: str,
    date: dt.date | None = None,
    weekday: int | None = None,
    reason: str = "",
    who: str,
) -> FacilityClosure:
    """Mark a facility closed (no delivery at all, not even STAT) on ``date`` or every ``weekday``."""
    if (date is None) == (weekday is None):
        raise BadInput("give either a date or a weekday on which the facility is closed (not both)")
    if weekday is not None and not 0 <= weekday <= 6:
        raise BadInput(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
    fac = session.exec(select(Facility).where(Facility.external_id == facility_external_id)).first()
    if fac is None or fac.id is None:
        raise BadInput(f"there is no facility with external id {facility_external_id!r}")
    row = FacilityClosure(facility_id=fac.id, date=date, weekday=weekday, reason=reason.strip()[:200])
    session.add(row)
    session.flush()
    add_audit_event(
        session,
        who=who,
        what="facility.closed",
        details={"facility": fac.name, "date": date, "weekday": weekday, "reason": row.reason},
    )
    return row


def remove_facility_closure(
    session: Session,
    *,
    facility_external_id: str,
    date: dt.date | None = None,
    weekday: int | None = None,
    who: str,
) -> int:
    """Remove the closures of a facility on ``date`` / ``weekday``; returns how many were removed."""
    fac = session.exec(select(Facility).where(Facility.external_id == facility_external_id)).first()
    if fac is None:
        raise BadInput(f"there is no facility with external id {facility_external_id!r}")
    n = 0
    for c in session.exec(select(FacilityClosure).where(FacilityClosure.facility_id == fac.id)):
        if (date is not None and c.date == date) or (weekday is not None and c.weekday == weekday):
            session.delete(c)
            n += 1
    session.flush()
    if n:
        add_audit_event(
            session,
            who=who,
            what="facility.reopened",
            details={"facility": fac.name, "date": date, "weekday": weekday},
        )
    return n


def count_rows(session: Session) -> dict[str, int]:
    """Rows per table, e.g. ``{"facility": 15, "order_line": 1480, ...}``."""
    out: dict[str, int] = {}
    for table in ALL_TABLES:
        name = table.__tablename__  # type: ignore[attr-defined]
        out[str(name)] = int(session.exec(select(func.count()).select_from(table)).one())
    return out


def add_audit_event(
    session: Session, *, who: str, what: str, details: dict[str, Any] | None = None
) -> AuditEvent:
    ev = AuditEvent(who=who, what=what, details=jsonable(details or {}))
    session.add(ev)
    session.flush()
    return ev


def list_audit_events(session: Session, *, limit: int = 100) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)))


def clear_all(session: Session) -> None:
    """Delete every row of every table (children first). Used by ``demo --replace``."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name in {t.__tablename__ for t in ALL_TABLES}:  # type: ignore[attr-defined]
            session.execute(table.delete())


# --------------------------------------------------------------------------- constraint sets

_SETTINGS_FIELDS = {f.name for f in dataclasses.fields(PlanSettings)}


def settings_from_json(values: dict[str, Any] | None, *, version: int) -> PlanSettings:
    """The PlanSettings stored as JSON (unknown keys are ignored, missing ones take the defaults)."""
    known = {k: v for k, v in (values or {}).items() if k in _SETTINGS_FIELDS}
    known["version"] = version
    return PlanSettings(**known)


def to_plan_settings(row: ConstraintSet) -> PlanSettings:
    """The PlanSettings a constraint-set row stands for (unknown JSON keys are ignored)."""
    return settings_from_json(row.settings, version=row.version)


def current_constraint_set(session: Session) -> ConstraintSet:
    """The current constraint set; creates version 1 from ``PlanSettings()`` defaults if none exists."""
    row = session.exec(
        select(ConstraintSet)
        .where(col(ConstraintSet.is_current).is_(True))
        .order_by(col(ConstraintSet.version).desc())
    ).first()
    if row is not None:
        return row
    row = session.exec(select(ConstraintSet).order_by(col(ConstraintSet.version).desc())).first()
    if row is not None:
        row.is_current = True
        session.add(row)
        session.flush()
        return row
    row = ConstraintSet(
        version=1,
        created_by="system",
        settings=dataclasses.asdict(PlanSettings(version=1)),
        is_current=True,
    )
    session.add(row)
    session.flush()
    return row


def save_constraint_set(
    session: Session, *, settings: PlanSettings, created_by: str, minutes_per_card: float | None = None
) -> ConstraintSet:
    """Store ``settings`` as a new version (max + 1) and make it current.

    ``minutes_per_card`` (pharmacist verification) is kept from the current set unless given.
    """
    previous = current_constraint_set(session)
    max_version = session.exec(select(func.max(ConstraintSet.version))).one() or 0
    version = int(max_version) + 1
    session.execute(sa.update(ConstraintSet).values(is_current=False))
    values = dataclasses.asdict(settings)
    values["version"] = version
    row = ConstraintSet(
        version=version,
        created_by=created_by,
        settings=values,
        minutes_per_card=minutes_per_card if minutes_per_card is not None else previous.minutes_per_card,
        is_current=True,
    )
    session.add(row)
    session.flush()
    session.expire_all()
    return row


def list_constraint_sets(session: Session) -> list[ConstraintSet]:
    return list(session.exec(select(ConstraintSet).order_by(col(ConstraintSet.version))))


# --------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """Make ``value`` JSON-safe (dates, enums, tuples, numpy scalars)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no inf/NaN (PostgreSQL refuses them)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    return str(value)


__all__ = [
    "Resident",
    "add_audit_event",
    "clear_all",
    "count_rows",
    "current_constraint_set",
    "get_depot",
    "jsonable",
    "list_facilities",
    "list_order_lines",
    "list_packaging_lines",
    "list_pharmacist_shifts",
    "list_vehicles",
    "save_constraint_set",
    "settings_from_json",
    "to_plan_settings",
]
