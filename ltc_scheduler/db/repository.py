"""Keyword-only reads and writes on a session. Nothing here commits: the caller owns the transaction
(``with session_scope(engine) as session: ...``).

Plans are stored as a :class:`PlanRun` row with its batches, routes, stops and unassigned rows;
:func:`load_plan` rebuilds exactly the :class:`~ltc_scheduler.plan.model.Plan` that
:func:`save_plan` was given.
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
    FacilityWindow,
    Medication,
    OrderLine,
    PackagingLine,
    PharmacistShift,
    PlanBatch,
    PlanRoute,
    PlanRun,
    PlanStop,
    PlanUnassigned,
    Resident,
    Vehicle,
)
from ltc_scheduler.enums import OrderClass, OrderStatus, PackagingKind, PlanStatus
from ltc_scheduler.plan import model as pm
from ltc_scheduler.problem.model import PlanningProblem, PlanSettings

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
    statuses: tuple[OrderStatus, ...] | None = None,
    tz: str | None = None,
) -> list[OrderLine]:
    """Order lines whose need-by falls on ``date`` (local day in the pharmacy time zone).

    ``statuses`` filters by status (default: all). For the planning selection (open/planned,
    overdue included) see ``problem/builder.py``.
    """
    if tz is None:
        from ltc_scheduler.config import get_settings

        tz = get_settings().timezone
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


def newest_published_run(session: Session) -> PlanRun | None:
    """The most recently created published plan run of any date."""
    return session.exec(
        select(PlanRun).where(col(PlanRun.published).is_(True)).order_by(col(PlanRun.id).desc())
    ).first()


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
    ev = AuditEvent(who=who, what=what, details=_jsonable(details or {}))
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


def to_plan_settings(row: ConstraintSet) -> PlanSettings:
    """The PlanSettings a constraint-set row stands for (unknown JSON keys are ignored)."""
    values = {k: v for k, v in (row.settings or {}).items() if k in _SETTINGS_FIELDS}
    values["version"] = row.version
    return PlanSettings(**values)


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


# --------------------------------------------------------------------------- plans


def _jsonable(value: Any) -> Any:
    """Make ``value`` JSON-safe (dates, enums, tuples, numpy scalars)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no inf/NaN (PostgreSQL refuses them)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return str(value)


def save_plan(
    session: Session,
    *,
    plan: pm.Plan,
    problem: PlanningProblem,
    started_by: str,
    valid: bool,
    violations: list[pm.Violation],
    stats: dict[str, Any],
    publish: bool = True,
) -> int:
    """Insert a completed PlanRun with its batches, routes, stops and unassigned rows.

    When ``publish``, the previously published run of the same date is un-published and order
    statuses follow the new plan: lines of batches placed on a packaging line and not left
    unserved become ``planned`` (from ``open``); lines the previous published plan had placed but
    this one does not go back to ``open``. A draft (``publish=False``) changes no order status.
    Returns the new plan_run id.
    """
    cs_version = plan.settings_version
    if session.exec(select(ConstraintSet.id).where(ConstraintSet.version == cs_version)).first() is None:
        cs_version = None  # the plan came from settings never stored (tests, ad-hoc runs)
    previous_published: list[int] = []
    if publish:
        previous_published = [
            int(i)
            for i in session.exec(
                select(PlanRun.id).where(PlanRun.date == plan.date, col(PlanRun.published).is_(True))
            )
        ]
        session.execute(
            sa.update(PlanRun)
            .where(col(PlanRun.date) == plan.date, col(PlanRun.published).is_(True))
            .values(published=False)
        )
    run = PlanRun(
        date=plan.date,
        status=PlanStatus.COMPLETED,
        published=publish,
        constraint_set_version=cs_version,
        settings=_jsonable(dataclasses.asdict(problem.settings)),
        stats=_jsonable(stats),
        kpis=_jsonable(dict(plan.kpis)),
        plan_extra=_jsonable(
            {
                "settings_version": plan.settings_version,
                "stats": [dataclasses.asdict(s) for s in plan.stats],
                "late": [dataclasses.asdict(x) for x in plan.late],
            }
        ),
        snapshot=_jsonable(dict(problem.snapshot)),
        valid=valid,
        violations=[dataclasses.asdict(v) for v in violations],
        started_by=started_by,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    run_id = run.id

    if plan.batches:
        session.execute(
            sa.insert(PlanBatch),
            [
                {
                    "plan_run_id": run_id,
                    "seq": i,
                    "key": b.key,
                    "facility_id": b.facility_id,
                    "unit": b.unit,
                    "kind": PackagingKind(b.kind),
                    "order_line_ids": list(b.order_line_ids),
                    "cards": b.cards,
                    "totes": b.totes,
                    "cold": b.cold,
                    "controlled": b.controlled,
                    "order_class": OrderClass(b.order_class),
                    "deadline_min": b.deadline_min,
                    "line_id": b.line_id,
                    "start_min": b.start_min,
                    "end_min": b.end_min,
                    "verify_start_min": b.verify_start_min,
                    "verify_end_min": b.verify_end_min,
                }
                for i, b in enumerate(plan.batches)
            ],
        )
    for r_seq, route in enumerate(plan.routes):
        route_row = PlanRoute(
            plan_run_id=run_id,
            seq=r_seq,
            vehicle_id=route.vehicle_id,
            trip_no=route.trip_no,
            depart_min=route.depart_min,
            return_min=route.return_min,
            distance_m=route.distance_m,
            drive_s=route.drive_s,
            break_start_min=route.break_start_min,
        )
        session.add(route_row)
        session.flush()
        if route.stops:
            session.execute(
                sa.insert(PlanStop),
                [
                    {
                        "route_id": route_row.id,
                        "plan_run_id": run_id,
                        "seq": s.seq,
                        "facility_id": s.facility_id,
                        "arrival_min": s.arrival_min,
                        "start_min": s.start_min,
                        "departure_min": s.departure_min,
                        "totes": s.totes,
                        "cold_totes": s.cold_totes,
                        "controlled_totes": s.controlled_totes,
                        "batch_keys": list(s.batch_keys),
                        "window_start_min": s.window_start_min,
                        "window_end_min": s.window_end_min,
                        "late_min": s.late_min,
                        "stat": s.stat,
                    }
                    for s in route.stops
                ],
            )
    if plan.unserved:
        session.execute(
            sa.insert(PlanUnassigned),
            [
                {
                    "plan_run_id": run_id,
                    "seq": i,
                    "facility_id": u.facility_id,
                    "reason": u.reason,
                    "batch_keys": list(u.batch_keys),
                }
                for i, u in enumerate(plan.unserved)
            ],
        )
    if publish:
        _sync_order_statuses(session, run_id=run_id, previous=previous_published)
    session.flush()
    return run_id


def placed_order_line_ids(session: Session, *, plan_run_id: int) -> set[int]:
    """Order lines of the run's batches that are on a packaging line and not left unserved."""
    unserved: set[str] = set()
    for keys in session.exec(
        select(PlanUnassigned.batch_keys).where(PlanUnassigned.plan_run_id == plan_run_id)
    ):
        unserved.update(keys or [])
    ids: set[int] = set()
    for key, line_id, line_ids in session.exec(
        select(PlanBatch.key, PlanBatch.line_id, PlanBatch.order_line_ids).where(
            PlanBatch.plan_run_id == plan_run_id
        )
    ):
        if line_id is not None and key not in unserved:
            ids.update(int(i) for i in line_ids or [])
    return ids


def _set_status(session: Session, ids: set[int], *, old: OrderStatus, new: OrderStatus) -> None:
    ordered = sorted(ids)
    now = dt.datetime.now(dt.UTC)
    for start in range(0, len(ordered), 5000):
        session.execute(
            sa.update(OrderLine)
            .where(col(OrderLine.id).in_(ordered[start : start + 5000]), col(OrderLine.status) == old.value)
            .values(status=new, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _sync_order_statuses(session: Session, *, run_id: int, previous: list[int]) -> None:
    placed = placed_order_line_ids(session, plan_run_id=run_id)
    before: set[int] = set()
    for old_id in previous:
        if old_id != run_id:
            before |= placed_order_line_ids(session, plan_run_id=old_id)
    _set_status(session, before - placed, old=OrderStatus.PLANNED, new=OrderStatus.OPEN)
    _set_status(session, placed, old=OrderStatus.OPEN, new=OrderStatus.PLANNED)


def record_failed_run(session: Session, *, date: dt.date, started_by: str, error: str) -> int:
    """A PlanRun with status ``failed`` and the error text (nothing else is saved). Returns its id."""
    run = PlanRun(
        date=date,
        status=PlanStatus.FAILED,
        published=False,
        started_by=started_by,
        error=error,
        valid=False,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def get_plan_run(session: Session, *, plan_run_id: int) -> PlanRun | None:
    return session.get(PlanRun, plan_run_id)


def latest_plan_run(session: Session, *, date: dt.date, published_only: bool = True) -> PlanRun | None:
    """The newest run for ``date`` (the published one when ``published_only``)."""
    stmt = select(PlanRun).where(col(PlanRun.date) == date)
    if published_only:
        stmt = stmt.where(col(PlanRun.published).is_(True))
    return session.exec(stmt.order_by(col(PlanRun.id).desc())).first()


def list_plan_runs(session: Session, *, date: dt.date | None = None) -> list[PlanRun]:
    """Runs, newest first (all dates, or one)."""
    stmt = select(PlanRun)
    if date is not None:
        stmt = stmt.where(col(PlanRun.date) == date)
    return list(session.exec(stmt.order_by(col(PlanRun.id).desc())))


def publish_plan_run(session: Session, *, plan_run_id: int) -> PlanRun:
    """Make this run the published plan of its date (un-publishes the others of that date; order
    statuses follow it as in :func:`save_plan`)."""
    run = session.get(PlanRun, plan_run_id)
    if run is None:
        from ltc_scheduler.errors import BadInput

        raise BadInput(f"no plan run with id {plan_run_id}")
    if run.status != PlanStatus.COMPLETED:
        from ltc_scheduler.errors import BadInput

        raise BadInput(
            f"plan run {plan_run_id} has status {run.status}; only completed runs can be published"
        )
    previous = [
        int(i)
        for i in session.exec(
            select(PlanRun.id).where(
                PlanRun.date == run.date, col(PlanRun.published).is_(True), col(PlanRun.id) != run.id
            )
        )
    ]
    session.execute(
        sa.update(PlanRun)
        .where(col(PlanRun.date) == run.date, col(PlanRun.id) != run.id)
        .values(published=False)
    )
    _sync_order_statuses(session, run_id=run.id, previous=previous)
    run.published = True
    session.add(run)
    session.flush()
    return run


def load_plan(session: Session, *, plan_run_id: int) -> pm.Plan:
    """Rebuild the :class:`Plan` saved under ``plan_run_id`` (equal to what was saved)."""
    run = session.get(PlanRun, plan_run_id)
    if run is None:
        raise KeyError(f"no plan run with id {plan_run_id}")
    batches = tuple(
        pm.Batch(
            key=b.key,
            facility_id=b.facility_id,
            unit=b.unit,
            kind=PackagingKind(b.kind),
            order_line_ids=tuple(int(i) for i in b.order_line_ids),
            cards=b.cards,
            totes=b.totes,
            cold=b.cold,
            controlled=b.controlled,
            order_class=OrderClass(b.order_class),
            deadline_min=b.deadline_min,
            line_id=b.line_id,
            start_min=b.start_min,
            end_min=b.end_min,
            verify_start_min=b.verify_start_min,
            verify_end_min=b.verify_end_min,
        )
        for b in session.exec(
            select(PlanBatch).where(PlanBatch.plan_run_id == plan_run_id).order_by(col(PlanBatch.seq))
        )
    )
    route_rows = list(
        session.exec(
            select(PlanRoute).where(PlanRoute.plan_run_id == plan_run_id).order_by(col(PlanRoute.seq))
        )
    )
    stops_by_route: dict[int, list[PlanStop]] = {}
    for s in session.exec(
        select(PlanStop)
        .where(PlanStop.plan_run_id == plan_run_id)
        .order_by(col(PlanStop.route_id), col(PlanStop.seq))
    ):
        stops_by_route.setdefault(s.route_id, []).append(s)
    routes = tuple(
        pm.PlanRoute(
            vehicle_id=r.vehicle_id,
            trip_no=r.trip_no,
            depart_min=r.depart_min,
            return_min=r.return_min,
            stops=tuple(
                pm.PlanStop(
                    seq=s.seq,
                    facility_id=s.facility_id,
                    arrival_min=s.arrival_min,
                    start_min=s.start_min,
                    departure_min=s.departure_min,
                    totes=s.totes,
                    cold_totes=s.cold_totes,
                    controlled_totes=s.controlled_totes,
                    batch_keys=tuple(s.batch_keys),
                    window_start_min=s.window_start_min,
                    window_end_min=s.window_end_min,
                    late_min=s.late_min,
                    stat=s.stat,
                )
                for s in stops_by_route.get(r.id or -1, [])
            ),
            distance_m=r.distance_m,
            drive_s=r.drive_s,
            break_start_min=r.break_start_min,
        )
        for r in route_rows
    )
    unserved = tuple(
        pm.UnservedStop(facility_id=u.facility_id, reason=u.reason, batch_keys=tuple(u.batch_keys))
        for u in session.exec(
            select(PlanUnassigned)
            .where(PlanUnassigned.plan_run_id == plan_run_id)
            .order_by(col(PlanUnassigned.seq))
        )
    )
    extra = run.plan_extra or {}
    late = tuple(pm.LateStop(**x) for x in extra.get("late", []))
    stats = tuple(pm.SolveStats(**x) for x in extra.get("stats", []))
    settings_version = int(extra.get("settings_version", run.constraint_set_version or 1))
    return pm.Plan(
        date=run.date,
        batches=batches,
        routes=routes,
        unserved=unserved,
        late=late,
        stats=stats,
        settings_version=settings_version,
        kpis=dict(run.kpis or {}),
    )


def load_violations(run: PlanRun) -> list[pm.Violation]:
    """The validator's findings stored with a run."""
    return [pm.Violation(**v) for v in (run.violations or [])]


__all__ = [
    "Resident",
    "add_audit_event",
    "clear_all",
    "count_rows",
    "current_constraint_set",
    "get_depot",
    "get_plan_run",
    "latest_plan_run",
    "list_facilities",
    "list_order_lines",
    "list_packaging_lines",
    "list_pharmacist_shifts",
    "list_plan_runs",
    "list_vehicles",
    "load_plan",
    "publish_plan_run",
    "record_failed_run",
    "save_constraint_set",
    "save_plan",
    "to_plan_settings",
]
