"""What the dashboard reads from the database: one short session per call, plain objects out.

No Streamlit here, so the pages' data access is testable on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans as plan_records
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.plan.model import Plan, Violation
from ltc_scheduler.problem.clock import hhmm, local_time
from ltc_scheduler.problem.model import PlanningProblem


def local_today(tz: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def now_min(date: dt.date, tz: str) -> int:
    """The current local time as minutes from midnight of ``date`` (negative before that day)."""
    now = dt.datetime.now(ZoneInfo(tz))
    return (now.date() - date).days * 1440 + now.hour * 60 + now.minute


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A plan run's header (what the sidebar and the Compare page list)."""

    id: int
    date: dt.date
    status: str
    published: bool
    created_at: dt.datetime | None
    started_by: str
    valid: bool
    constraint_set_version: int | None
    error: str | None
    violations: tuple[Violation, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    def label(self, tz: str) -> str:
        flag = " (published)" if self.published else ""
        who = self.started_by or "?"
        when = local_time(self.created_at, tz)
        return f"#{self.id} {when} by {who}, constraints v{self.constraint_set_version}{flag}"


def _info(run: m.PlanRun) -> RunInfo:
    assert run.id is not None
    return RunInfo(
        id=run.id,
        date=run.date,
        status=str(run.status.value if hasattr(run.status, "value") else run.status),
        published=run.published,
        created_at=run.created_at,
        started_by=run.started_by,
        valid=run.valid,
        constraint_set_version=run.constraint_set_version,
        error=run.error,
        violations=tuple(plan_records.load_violations(run)),
        stats=dict(run.stats or {}),
    )


@dataclass(frozen=True, slots=True)
class DayPlan:
    """A saved plan with the problem it was planned against (facilities, vehicles, lines, orders),
    both read from the plan's own record, so the page shows the plan as it was made."""

    run: RunInfo
    plan: Plan
    problem: PlanningProblem


def pharmacy_name(engine: sa.Engine) -> str | None:
    with session_scope(engine) as s:
        depot = repo.get_depot(s)
        return depot.name if depot else None


def run_info(engine: sa.Engine, *, date: dt.date) -> RunInfo | None:
    """The published run of ``date`` or, failing that, the newest run of any status."""
    with session_scope(engine) as s:
        run = plan_records.latest_plan_run(s, date=date) or plan_records.latest_plan_run(
            s, date=date, published_only=False
        )
        return _info(run) if run else None


def list_runs(
    engine: sa.Engine, *, date: dt.date | None = None, completed_only: bool = True
) -> list[RunInfo]:
    with session_scope(engine) as s:
        runs = plan_records.list_plan_runs(s, date=date)
        return [_info(r) for r in runs if not completed_only or r.status == "completed"]


def latest_plan_date(engine: sa.Engine) -> dt.date | None:
    """The date of the newest published plan (the dashboard opens there when today has none)."""
    with session_scope(engine) as s:
        run = plan_records.newest_published_run(s)
        return run.date if run else None


def load_day_plan(
    engine: sa.Engine, *, date: dt.date, plan_run_id: int | None = None, tz: str | None = None
) -> DayPlan | None:
    """The published (or given) completed plan of ``date`` with its problem context; None if none.

    ``tz``: the pharmacy's time zone (default: the configured one, ``LTC_TIMEZONE``)."""
    if tz is None:
        from ltc_scheduler.config import get_settings

        tz = get_settings().timezone
    with session_scope(engine) as s:
        if plan_run_id is None:
            run = plan_records.latest_plan_run(s, date=date)
        else:
            run = plan_records.get_plan_run(s, plan_run_id=plan_run_id)
        if run is None or run.id is None or run.status != "completed":
            return None
        record = plan_records.load_plan_record(s, plan_run_id=run.id)
        return DayPlan(run=_info(run), plan=record.plan, problem=record.problem)


def order_rows(engine: sa.Engine, *, date: dt.date, tz: str) -> list[dict[str, Any]]:
    """The order lines due on ``date`` (local day) with facility, unit, room and medication."""
    with session_scope(engine) as s:
        rows = []
        for r in repo.order_line_details(s, date=date, tz=tz):
            rows.append(
                {
                    "Order": r[0],
                    "Facility": r[1],
                    "Unit": r[2],
                    "Room": r[3],
                    "Medication": r[4],
                    "Kind": str(getattr(r[5], "value", r[5])).replace("_", " "),
                    "Controlled": str(getattr(r[6], "value", r[6])) != "none",
                    "Cold": bool(r[7]),
                    "Class": str(getattr(r[8], "value", r[8])).replace("_", " "),
                    "Cards": r[9],
                    "Doses": r[10],
                    "Received": local_time(r[11], tz),
                    "Need by": local_time(r[12], tz),
                    "Status": str(getattr(r[13], "value", r[13])),
                }
            )
        return rows


@dataclass(frozen=True, slots=True)
class ConstraintTables:
    """Everything the Constraints page edits, as plain rows (clock times as HH:MM text)."""

    version: int
    created_by: str
    created_at: dt.datetime | None
    settings: dict[str, Any]
    minutes_per_card: float
    vehicles: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    shifts: list[dict[str, Any]]
    facilities: list[dict[str, Any]]
    history: list[dict[str, Any]]


def constraint_tables(engine: sa.Engine, *, weekday: int, tz: str) -> ConstraintTables:
    from ltc_scheduler.db.constraints import facility_windows_text

    with session_scope(engine) as s:
        cs = repo.current_constraint_set(s)
        settings = repo.to_plan_settings(cs)
        windows = facility_windows_text(s, weekday=weekday)
        vehicles = [
            {
                "id": v.id,
                "name": v.name,
                "tote_capacity": v.tote_capacity,
                "cold_capacity": v.cold_capacity,
                "controlled_ok": v.controlled_ok,
                "shift_start": hhmm(v.shift_start_min),
                "shift_end": hhmm(v.shift_end_min),
                "max_route_min": v.max_route_min,
                "max_trips": v.max_trips,
                "active": v.active,
            }
            for v in repo.list_vehicles(s, active_only=False)
        ]
        lines = [
            {
                "id": p.id,
                "name": p.name,
                "kinds": p.kinds.replace("_", " ").replace(",", ", "),
                "cards_per_hour": p.cards_per_hour,
                "changeover_kind_min": p.changeover_kind_min,
                "changeover_facility_min": p.changeover_facility_min,
                "available_start": hhmm(p.available_start_min),
                "available_end": hhmm(p.available_end_min),
                "active": p.active,
            }
            for p in repo.list_packaging_lines(s, active_only=False)
        ]
        shifts = [
            {
                "id": p.id,
                "name": p.name,
                "start": hhmm(p.start_min),
                "end": hhmm(p.end_min),
                "active": p.active,
            }
            for p in repo.list_pharmacist_shifts(s, active_only=False)
        ]
        facilities = [
            {
                "id": f.id,
                "name": f.name,
                "windows": windows.get(f.id or -1, ""),
                "service_fixed_min": f.service_fixed_min,
                "service_per_tote_min": f.service_per_tote_min,
            }
            for f in repo.list_facilities(s)
        ]
        history = [
            {
                "Version": c.version,
                "Saved": local_time(c.created_at, tz),
                "By": c.created_by,
                "Current": c.is_current,
            }
            for c in reversed(repo.list_constraint_sets(s))
        ][:20]
        return ConstraintTables(
            version=cs.version,
            created_by=cs.created_by,
            created_at=cs.created_at,
            settings={k: getattr(settings, k) for k in settings.__dataclass_fields__},
            minutes_per_card=cs.minutes_per_card,
            vehicles=vehicles,
            lines=lines,
            shifts=shifts,
            facilities=facilities,
            history=history,
        )
