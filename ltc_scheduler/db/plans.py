"""Plan records: saving, loading and publishing plan runs.

A completed :class:`PlanRun` is a record. Next to its batches, routes, stops and unassigned rows it
keeps, in its own rows, everything a reader of the plan needs: the pharmacy (``plan_depot``), the
facilities with their names, addresses, coordinates and the plan date's windows
(``plan_facility``), the vehicles and drivers' shifts (``plan_vehicle``), the packaging lines
(``plan_line``), the pharmacist shifts (``plan_pharmacist_shift``), the time zone, minutes per card
and the settings (on ``plan_run``). :func:`save_plan` writes all of it in the caller's transaction.

:func:`load_plan_record` rebuilds the :class:`Plan` and the :class:`PlanningProblem` it was planned
against from those rows only, never from today's master data (it does not call ``build_problem``),
so renaming a facility, moving its window or renaming a vehicle after publishing leaves old plans
as they were. The one thing read from the master tables are the order lines the batches name by
id (with their resident's unit and medication).

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ltc_scheduler.db.models import (
    ConstraintSet,
    Medication,
    OrderLine,
    PlanBatch,
    PlanDepot,
    PlanFacility,
    PlanLine,
    PlanPharmacistShift,
    PlanRoute,
    PlanRun,
    PlanStop,
    PlanUnassigned,
    PlanVehicle,
    Resident,
)
from ltc_scheduler.db.repository import jsonable, settings_from_json
from ltc_scheduler.enums import (
    ControlledSchedule,
    FacilityKind,
    OrderClass,
    OrderStatus,
    PackagingKind,
    PlanStatus,
)
from ltc_scheduler.errors import BadInput
from ltc_scheduler.plan import model as pm
from ltc_scheduler.problem import model as p
from ltc_scheduler.problem.builder import minutes_from_local_midnight, vehicle_from_row

#: ids per ``IN (...)`` (SQLite allows 32,766 parameters; PostgreSQL 65,535)
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """A saved plan as it was made: the run row, the plan, the problem it was planned against and
    the validator's findings."""

    run: PlanRun
    plan: pm.Plan
    problem: p.PlanningProblem
    violations: tuple[pm.Violation, ...]


# --------------------------------------------------------------------------- saving


def _save_context(session: Session, *, run_id: int, problem: p.PlanningProblem) -> None:
    """The copy of what ``problem`` was planned against, as rows of run ``run_id``."""
    d = problem.depot
    session.add(
        PlanDepot(
            plan_run_id=run_id,
            depot_id=d.id,
            name=d.name,
            address=d.address,
            lat=d.location.lat,
            lon=d.location.lon,
            open_min=d.open_min,
            close_min=d.close_min,
        )
    )
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (
            PlanFacility,
            [
                {
                    "plan_run_id": run_id,
                    "seq": i,
                    "facility_id": f.id,
                    "external_id": f.external_id,
                    "name": f.name,
                    "kind": FacilityKind(f.kind),
                    "address": f.address,
                    "lat": f.location.lat,
                    "lon": f.location.lon,
                    "beds": f.beds,
                    "windows": [[w.start, w.end] for w in f.windows],
                    "service_fixed_min": f.service_fixed_min,
                    "service_per_tote_min": f.service_per_tote_min,
                    "has_fridge": f.has_fridge,
                    "units": list(f.units),
                }
                for i, f in enumerate(problem.facilities)
            ],
        ),
        (
            PlanVehicle,
            [
                {
                    "plan_run_id": run_id,
                    "seq": i,
                    "vehicle_id": v.id,
                    "name": v.name,
                    "depot_id": v.depot_id,
                    "tote_capacity": v.tote_capacity,
                    "cold_capacity": v.cold_capacity,
                    "controlled_ok": v.controlled_ok,
                    "shift_start_min": v.shift_start,
                    "shift_end_min": v.shift_end,
                    "max_route_min": v.max_route_min,
                    "fixed_cost": v.fixed_cost,
                    "break_min": v.break_min,
                    "break_start_min": v.break_window.start if v.break_window else None,
                    "break_end_min": v.break_window.end if v.break_window else None,
                    "max_trips": v.max_trips,
                }
                for i, v in enumerate(problem.vehicles)
            ],
        ),
        (
            PlanLine,
            [
                {
                    "plan_run_id": run_id,
                    "seq": i,
                    "line_id": x.id,
                    "name": x.name,
                    "kinds": ",".join(sorted(k.value for k in x.kinds)),
                    "cards_per_hour": x.cards_per_hour,
                    "changeover_kind_min": x.changeover_kind_min,
                    "changeover_facility_min": x.changeover_facility_min,
                    "available": [[w.start, w.end] for w in x.available],
                    "downtime": [[w.start, w.end] for w in x.downtime],
                }
                for i, x in enumerate(problem.lines)
            ],
        ),
        (
            PlanPharmacistShift,
            [
                {"plan_run_id": run_id, "seq": i, "name": s.name, "start_min": s.start, "end_min": s.end}
                for i, s in enumerate(problem.verification.shifts)
            ],
        ),
    ]
    session.flush()
    for table, values in rows:
        if values:
            session.execute(sa.insert(table), values)


def save_plan(
    session: Session,
    *,
    plan: pm.Plan,
    problem: p.PlanningProblem,
    started_by: str,
    valid: bool,
    violations: list[pm.Violation],
    stats: dict[str, Any],
    publish: bool = True,
    run_id: int | None = None,
    publish_note: str | None = None,
) -> int:
    """Insert a completed PlanRun with its batches, routes, stops and unassigned rows, and the copy
    of what it was planned against (pharmacy, facilities with the day's windows, vehicles, lines,
    pharmacist shifts, time zone, settings), all in the caller's transaction.

    When ``publish``, the previously published run of the same date is un-published and order
    statuses follow the new plan: lines of batches placed on a packaging line and not left
    unserved become ``planned`` (from ``open``); lines the previous published plan had placed but
    this one does not go back to ``open``. A draft (``publish=False``) changes no order status.
    ``run_id``: complete this ``running`` run (made by :func:`claim_date`) instead of inserting a
    new one. Returns the plan_run id.

    Publishing relies on the caller holding the date's lock (:func:`lock_date`); the partial unique
    index ``uq_plan_run_published_date`` makes a second published run of a date impossible anyway.
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
    values: dict[str, Any] = dict(
        date=plan.date,
        status=PlanStatus.COMPLETED,
        published=publish,
        constraint_set_version=cs_version,
        settings=jsonable(dataclasses.asdict(problem.settings)),
        stats=jsonable(stats),
        kpis=jsonable(dict(plan.kpis)),
        plan_extra=jsonable(
            {
                "settings_version": plan.settings_version,
                "stats": [dataclasses.asdict(s) for s in plan.stats],
                "late": [dataclasses.asdict(x) for x in plan.late],
            }
        ),
        snapshot=jsonable(dict(problem.snapshot)),
        valid=valid,
        violations=[dataclasses.asdict(v) for v in violations],
        started_by=started_by,
        timezone=problem.timezone,
        minutes_per_card=problem.verification.minutes_per_card,
        finished_at=dt.datetime.now(dt.UTC),
        publish_note=publish_note,
        error=None,
    )
    if run_id is None:
        run = PlanRun(**values)
    else:
        found = session.get(PlanRun, run_id)
        if found is None:
            raise KeyError(f"no plan run with id {run_id}")
        run = found
        for key, value in values.items():
            setattr(run, key, value)
    session.add(run)
    session.flush()
    assert run.id is not None
    run_id = run.id
    _save_context(session, run_id=run_id, problem=problem)

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


def _sync_order_statuses(session: Session, *, run_id: int, previous: list[int]) -> None:
    """Order statuses follow the run just published for its date.

    Lines it placed (on a packaging line, not left unserved) become ``planned`` for the run's
    date, from ``open`` or from ``planned`` for that same date; a line another date's published
    plan serves is left alone. Lines the date's previous published plans had placed and this one
    does not go back to ``open`` (only while still ``planned`` for this date: a line that moved on
    to ``packed`` or beyond, or was cancelled, keeps its status).
    """
    run = session.get(PlanRun, run_id)
    assert run is not None
    date = run.date
    placed = placed_order_line_ids(session, plan_run_id=run_id)
    before: set[int] = set()
    for old_id in previous:
        if old_id != run_id:
            before |= placed_order_line_ids(session, plan_run_id=old_id)
    now = dt.datetime.now(dt.UTC)
    planned = OrderStatus.PLANNED.value
    mine = sa.or_(col(OrderLine.planned_for) == date, col(OrderLine.planned_for).is_(None))
    for chunk in _chunks(before - placed):
        session.execute(
            sa.update(OrderLine)
            .where(col(OrderLine.id).in_(chunk), col(OrderLine.status) == planned, mine)
            .values(status=OrderStatus.OPEN, planned_for=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    for chunk in _chunks(placed):
        session.execute(
            sa.update(OrderLine)
            .where(
                col(OrderLine.id).in_(chunk),
                sa.or_(
                    col(OrderLine.status) == OrderStatus.OPEN.value,
                    sa.and_(col(OrderLine.status) == planned, mine),
                ),
            )
            .values(status=OrderStatus.PLANNED, planned_for=date, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _chunks(ids: set[int], size: int = 5000) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def record_failed_run(
    session: Session, *, date: dt.date, started_by: str, error: str, run_id: int | None = None
) -> int:
    """A PlanRun with status ``failed`` and the error text (nothing else is saved). Returns its id.

    ``run_id``: mark this ``running`` run failed instead of inserting a new row (a run that has
    meanwhile completed is left alone)."""
    if run_id is not None:
        found = session.get(PlanRun, run_id)
        if found is not None:
            if found.status == PlanStatus.RUNNING:
                found.status = PlanStatus.FAILED
                found.error = error
                found.finished_at = dt.datetime.now(dt.UTC)
                session.add(found)
                session.flush()
            return run_id
    run = PlanRun(
        date=date,
        status=PlanStatus.FAILED,
        published=False,
        started_by=started_by,
        error=error,
        valid=False,
        finished_at=dt.datetime.now(dt.UTC),
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
        raise BadInput(f"no plan run with id {plan_run_id}")
    if run.status != PlanStatus.COMPLETED:
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
        .where(col(PlanRun.date) == run.date, col(PlanRun.id) != run.id, col(PlanRun.published).is_(True))
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


# --------------------------------------------------------------------------- one planner per date

#: first half of the PostgreSQL advisory-lock key of a plan date ("LTC" + 0x00): the pharmacy id is
#: added to it when there is more than one pharmacy; the second half is the date's ordinal
LOCK_NAMESPACE = 0x4C544300
#: a ``running`` run older than this is stale whatever its process (``--time-limit`` is capped at
#: 10 minutes, so a live run is never this old)
STALE_AFTER = dt.timedelta(minutes=30)


class DateBusy(RuntimeError):
    """Another planning run of the same date is in progress (nothing was saved). The message is a
    sentence for the user: who started it and when."""

    def __init__(self, message: str, *, run_id: int | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


def lock_key(date: dt.date, *, pharmacy_id: int = 0) -> tuple[int, int]:
    """The advisory-lock key (two int4) of one plan date of one pharmacy."""
    return LOCK_NAMESPACE + pharmacy_id, date.toordinal()


def lock_date(session: Session, *, date: dt.date, pharmacy_id: int = 0, wait_s: float | None = None) -> None:
    """Serialise the writers of a plan date for the rest of the session's transaction.

    PostgreSQL: ``pg_advisory_xact_lock`` on :func:`lock_key` (released at commit or rollback; with
    ``wait_s``, waiting longer raises ``lock_not_available``, which callers retry). SQLite: ``BEGIN
    IMMEDIATE``, the database's write lock, taken before anything is read (so this must be the
    session's first statement; another writer makes it wait up to the busy timeout).
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        if wait_s is not None:
            conn.execute(sa.text(f"SET LOCAL lock_timeout = '{max(1, int(wait_s * 1000))}ms'"))
        a, b = lock_key(date, pharmacy_id=pharmacy_id)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": a, "b": b})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def this_process() -> tuple[str, int]:
    """(host name, process id) of the running program, as written on a ``running`` run."""
    return socket.gethostname()[:255], os.getpid()


#: ids of the runs this process is working on (claimed and not yet finished or failed)
_ACTIVE: set[int] = set()


def release(run_id: int) -> None:
    """This process has stopped working on ``run_id`` (finished, failed, or gave up)."""
    _ACTIVE.discard(run_id)


def _process_gone(host: str | None, pid: int | None, run_id: int | None) -> str | None:
    """Why the process that started a run can no longer finish it (``None``: it may still). Only
    answerable on the same host: the process ended, or it is this process and it no longer works
    on the run (e.g. a dashboard thread that died without recording its failure)."""
    if host is None or pid is None or host != this_process()[0]:
        return None
    if pid == os.getpid():
        return None if run_id in _ACTIVE else "this program stopped working on it"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "its process ended"
    except OSError:  # PermissionError: someone else's live process
        return None
    return None


def expire_stale_runs(session: Session, *, date: dt.date, now: dt.datetime | None = None) -> list[int]:
    """Mark ``failed`` the ``running`` runs of ``date`` that can no longer finish: their process on
    this host is gone (killed, crashed) or, when it is this process, no longer works on them, or
    they started more than :data:`STALE_AFTER` ago. Returns their ids."""
    now = now or dt.datetime.now(dt.UTC)
    expired: list[int] = []
    for run in session.exec(
        select(PlanRun).where(col(PlanRun.date) == date, col(PlanRun.status) == PlanStatus.RUNNING.value)
    ):
        gone = _process_gone(run.host, run.pid, run.id)
        old = run.created_at is not None and now - run.created_at > STALE_AFTER
        if gone or old:
            why = gone or f"it started more than {STALE_AFTER} ago"
            run.status = PlanStatus.FAILED
            run.error = f"stopped before it finished ({why}); marked failed by a later run"
            run.finished_at = now
            session.add(run)
            assert run.id is not None
            expired.append(run.id)
    session.flush()
    return expired


def running_run(session: Session, *, date: dt.date) -> PlanRun | None:
    """The run of ``date`` in progress, if any."""
    return session.exec(
        select(PlanRun).where(col(PlanRun.date) == date, col(PlanRun.status) == PlanStatus.RUNNING.value)
    ).first()


def busy_sentence(run: PlanRun, *, tz: str | None = None) -> str:
    """``2026-12-01 is already being planned (run #7, started by coordinator at 14:02 on host x)``."""
    when = "?"
    if run.created_at is not None:
        stamp = run.created_at.astimezone(ZoneInfo(tz)) if tz else run.created_at
        when = stamp.strftime("%H:%M") + ("" if tz else " UTC")
    where = f" on {run.host}" if run.host else ""
    return (
        f"{run.date} is already being planned (run #{run.id}, started by {run.started_by or 'unknown'} "
        f"at {when}{where}); wait for it to finish, then look at its result"
    )


def claim_date(
    session: Session, *, date: dt.date, started_by: str, tz: str | None = None, wait_s: float | None = None
) -> tuple[int, int | None]:
    """Start a planning run of ``date``: under the date's lock, expire stale runs, refuse with
    :class:`DateBusy` when another run is in progress, and insert a ``running`` run (who, when,
    host, process, and the published run it starts from). Returns (run id, base run id)."""
    lock_date(session, date=date, wait_s=wait_s)
    expire_stale_runs(session, date=date)
    other = running_run(session, date=date)
    if other is not None:
        raise DateBusy(busy_sentence(other, tz=tz), run_id=other.id)
    base = latest_plan_run(session, date=date, published_only=True)
    host, pid = this_process()
    run = PlanRun(
        date=date,
        status=PlanStatus.RUNNING,
        published=False,
        started_by=started_by,
        host=host,
        pid=pid,
        base_run_id=base.id if base is not None else None,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    _ACTIVE.add(run.id)
    return run.id, run.base_run_id


# --------------------------------------------------------------------------- loading


def _windows(pairs: list[list[int]] | None) -> tuple[p.TimeWindow, ...]:
    return tuple(p.TimeWindow(int(a), int(b)) for a, b in (pairs or []))


def _order_lines(session: Session, ids: list[int], *, date: dt.date, tz: str) -> tuple[p.OrderLine, ...]:
    """The order lines ``ids`` (with resident unit and medication), times counted from ``date``."""
    zone = ZoneInfo(tz)
    out: list[p.OrderLine] = []
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        stmt = (
            select(
                OrderLine.id,
                OrderLine.external_id,
                OrderLine.facility_id,
                OrderLine.resident_id,
                OrderLine.medication_id,
                OrderLine.order_class,
                OrderLine.cards,
                OrderLine.doses,
                OrderLine.received_at,
                OrderLine.need_by,
                Resident.unit,
                Medication.name,
                Medication.packaging_kind,
                Medication.schedule,
                Medication.refrigerated,
            )
            .join(Resident, col(Resident.id) == col(OrderLine.resident_id))
            .join(Medication, col(Medication.id) == col(OrderLine.medication_id))
            .where(col(OrderLine.id).in_(ordered[start : start + _CHUNK]))
            .order_by(col(OrderLine.id))
        )
        for (
            oid,
            ext,
            fid,
            rid,
            mid,
            cls,
            cards,
            doses,
            received,
            need_by,
            unit,
            med,
            kind,
            sched,
            cold,
        ) in session.exec(stmt):
            out.append(
                p.OrderLine(
                    id=oid,
                    external_id=ext,
                    facility_id=fid,
                    unit=unit or "",
                    resident_id=rid,
                    medication_id=mid,
                    medication_name=med,
                    packaging_kind=PackagingKind(kind),
                    order_class=OrderClass(cls),
                    cards=cards,
                    doses=doses,
                    controlled=ControlledSchedule(sched) != ControlledSchedule.NONE,
                    cold=bool(cold),
                    received_min=minutes_from_local_midnight(received, date, zone),
                    need_by_min=minutes_from_local_midnight(need_by, date, zone),
                )
            )
    return tuple(out)


def _rows(session: Session, table: Any, run_id: int) -> list[Any]:
    return list(session.exec(select(table).where(table.plan_run_id == run_id).order_by(col(table.seq))))


def load_problem(session: Session, *, run: PlanRun, plan: pm.Plan) -> p.PlanningProblem:
    """The :class:`PlanningProblem` run ``run`` was planned against, from the run's own rows (and
    the order lines its batches name). Raises :class:`BadInput` if the run kept no copy."""
    assert run.id is not None
    depot = session.get(PlanDepot, run.id)
    if depot is None or run.timezone is None:
        raise BadInput(
            f"plan run {run.id} ({run.date}) has no record of what it was planned against; plan the day again"
        )
    facilities = tuple(
        p.Facility(
            id=f.facility_id,
            external_id=f.external_id,
            name=f.name,
            kind=FacilityKind(f.kind),
            location=p.GeoPoint(f.lat, f.lon),
            address=f.address,
            beds=f.beds,
            windows=_windows(f.windows),
            service_fixed_min=f.service_fixed_min,
            service_per_tote_min=f.service_per_tote_min,
            has_fridge=f.has_fridge,
            units=tuple(f.units or ()),
        )
        for f in _rows(session, PlanFacility, run.id)
    )
    vehicles = tuple(vehicle_from_row(v, v.vehicle_id) for v in _rows(session, PlanVehicle, run.id))
    lines = tuple(
        p.PackagingLine(
            id=x.line_id,
            name=x.name,
            kinds=frozenset(PackagingKind(k) for k in x.kinds.split(",") if k),
            cards_per_hour=x.cards_per_hour,
            changeover_kind_min=x.changeover_kind_min,
            changeover_facility_min=x.changeover_facility_min,
            available=_windows(x.available),
            downtime=_windows(x.downtime),
        )
        for x in _rows(session, PlanLine, run.id)
    )
    verification = p.Verification(
        minutes_per_card=float(run.minutes_per_card if run.minutes_per_card is not None else 0.08),
        shifts=tuple(
            p.PharmacistShift(s.name, s.start_min, s.end_min)
            for s in _rows(session, PlanPharmacistShift, run.id)
        ),
    )
    order_ids = [i for b in plan.batches for i in b.order_line_ids]
    now_min = (run.stats or {}).get("now_min")
    return p.PlanningProblem(
        date=run.date,
        timezone=run.timezone,
        depot=p.Depot(
            id=depot.depot_id,
            name=depot.name,
            location=p.GeoPoint(depot.lat, depot.lon),
            address=depot.address,
            open_min=depot.open_min,
            close_min=depot.close_min,
        ),
        facilities=facilities,
        orders=_order_lines(session, order_ids, date=run.date, tz=run.timezone),
        lines=lines,
        verification=verification,
        vehicles=vehicles,
        settings=settings_from_json(run.settings, version=plan.settings_version),
        now_min=int(now_min) if now_min is not None else None,
        snapshot={str(k): str(v) for k, v in (run.snapshot or {}).items()},
    )


def load_plan_record(session: Session, *, plan_run_id: int) -> PlanRecord:
    """The completed run ``plan_run_id`` as it was made. :class:`BadInput` (a plain sentence) when
    there is no such run or it did not complete."""
    run = session.get(PlanRun, plan_run_id)
    if run is None:
        raise BadInput(f"there is no plan run {plan_run_id}")
    if run.status != PlanStatus.COMPLETED:
        raise BadInput(
            f"plan run {plan_run_id} did not complete (status {run.status}); it has no plan to show"
        )
    plan = load_plan(session, plan_run_id=plan_run_id)
    return PlanRecord(
        run=run,
        plan=plan,
        problem=load_problem(session, run=run, plan=plan),
        violations=tuple(load_violations(run)),
    )


def newest_published_run(session: Session) -> PlanRun | None:
    """The most recently created published plan run of any date."""
    return session.exec(
        select(PlanRun).where(col(PlanRun.published).is_(True)).order_by(col(PlanRun.id).desc())
    ).first()


__all__ = [
    "DateBusy",
    "PlanRecord",
    "busy_sentence",
    "claim_date",
    "expire_stale_runs",
    "lock_date",
    "lock_key",
    "running_run",
    "get_plan_run",
    "latest_plan_run",
    "list_plan_runs",
    "load_plan",
    "load_plan_record",
    "load_problem",
    "load_violations",
    "newest_published_run",
    "placed_order_line_ids",
    "release",
    "publish_plan_run",
    "record_failed_run",
    "save_plan",
]
