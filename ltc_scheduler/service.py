"""Use cases that touch both the database and the solvers: load -> plan -> validate -> save.

This is the only module that imports both ``db/`` and the pipeline. Each use case opens short
sessions: one to read the day's rows into a :class:`PlanningProblem`, none while the solvers run,
and one transaction that saves the whole plan (PlanRun + batches + routes + stops + unassigned)
at once. If anything fails before that transaction commits (a solver error, a validation crash, an
interruption, or the test hook ``fail_before_commit``), the database is exactly as it was: the
previously published plan stays published and loadable. A failed run is then recorded, in a
separate transaction, as a PlanRun with status ``failed`` and the error text.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from ltc_scheduler.config import get_settings
from ltc_scheduler.db import plans
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.errors import BadInput
from ltc_scheduler.plan.kpis import plan_kpis
from ltc_scheduler.planning.order_life import with_order_life
from ltc_scheduler.planning.pipeline import PlanResult, plan_day
from ltc_scheduler.problem.builder import build_problem
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.travel import TravelProvider, provider_named

__all__ = [
    "PlanOutcome",
    "plan_date",
    "has_plan",
    "summary_of",
    "stat_orders",
    "InjectedFailure",
    "replan_decision",
    "departed_routes",
]


class InjectedFailure(RuntimeError):
    """Raised by ``plan_date(..., fail_before_commit=True)``: simulates a crash just before the commit."""


@dataclass
class PlanOutcome:
    plan_run_id: int
    result: PlanResult
    summary: dict[str, Any]


def _facility_names(problem) -> dict[int, str]:
    return {f.id: f.name for f in problem.facilities}


def _solver_rows(stats, *, ndigits: int | None = None) -> list[dict[str, Any]]:
    """Each solver stage's statistics as JSON rows (``wall_s`` rounded when ``ndigits`` is given)."""
    return [
        {
            "stage": s.stage,
            "status": s.status,
            "objective": s.objective,
            "bound": s.bound,
            "gap": s.gap,
            "wall_s": s.wall_s if ndigits is None else round(s.wall_s, ndigits),
        }
        for s in stats
    ]


def _coupling(result: PlanResult) -> dict[str, Any]:
    """What the coupling loop did: rounds, first-pass and final scores."""
    return {"iterations": result.iterations, "single_pass": result.single_pass, "final": result.final}


def _route_details(plan, problem) -> list[dict[str, Any]]:
    """``route_details`` of ``plan --json``: each route by its stable label (vehicle and trip),
    local ``HH:MM`` times, and its stops with whether they carry routine and urgent batches."""
    from ltc_scheduler.enums import URGENT_CLASSES
    from ltc_scheduler.exports.common import find_facility, route_label, vehicle_name
    from ltc_scheduler.problem.clock import clock

    classes = {b.key: b.order_class for b in plan.batches}
    out = []
    for no, r in enumerate(plan.routes, start=1):
        stops = []
        for st in sorted(r.stops, key=lambda x: x.seq):
            fac = find_facility(problem, st.facility_id)
            carried = [classes[k] for k in st.batch_keys if k in classes]
            stops.append(
                {
                    "facility": fac.name if fac else str(st.facility_id),
                    "facility_external_id": fac.external_id if fac else None,
                    "arrival": clock(st.arrival_min),
                    "totes": st.totes,
                    "cold_totes": st.cold_totes,
                    "controlled_totes": st.controlled_totes,
                    "routine": any(c not in URGENT_CLASSES for c in carried) if carried else not st.stat,
                    "urgent": any(c in URGENT_CLASSES for c in carried) if carried else st.stat,
                }
            )
        out.append(
            {
                "route": route_label(plan, problem, no),
                "vehicle": vehicle_name(problem, r.vehicle_id),
                "trip": r.trip_no,
                "depart": clock(r.depart_min),
                "return": clock(r.return_min),
                "stops": stops,
            }
        )
    return out


def _local_iso(date: dt.date, minute: int | None, timezone: str) -> str | None:
    """Minutes from local midnight of ``date`` as an ISO 8601 local time with its UTC offset."""
    if minute is None:
        return None
    from zoneinfo import ZoneInfo

    wall = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=int(minute))
    return wall.replace(tzinfo=ZoneInfo(timezone)).isoformat()


def stat_orders(problem, plan) -> list[dict[str, Any]]:
    """One entry per STAT / first-dose (new admission) order line: when it was received, promised,
    ready (verified) and delivered (start of service at the facility), whether the promise was
    kept and, when not, why in words (the unserved stop's reason, or how late it arrived)."""
    from ltc_scheduler.enums import URGENT_CLASSES
    from ltc_scheduler.problem.clock import clock

    facilities = {f.id: f for f in problem.facilities}
    batch_of = {lid: b for b in plan.batches for lid in b.order_line_ids}
    stop_of = {k: st for r in plan.routes for st in r.stops for k in st.batch_keys}
    why_unserved = {k: u.reason for u in plan.unserved for k in u.batch_keys}
    out: list[dict[str, Any]] = []
    for ln in sorted(problem.orders, key=lambda ln: (ln.need_by_min, ln.external_id)):
        if ln.order_class not in URGENT_CLASSES:
            continue
        b = batch_of.get(ln.id)
        st = stop_of.get(b.key) if b is not None else None
        arrival = st.start_min if st is not None else None
        on_time = arrival is not None and arrival <= ln.need_by_min
        reason = None
        if not on_time:
            if b is None:
                reason = "not in today's plan"
            elif st is None:
                reason = why_unserved.get(b.key, "not delivered")
            else:
                reason = (
                    f"delivered at {clock(arrival)}, {arrival - ln.need_by_min} min after the promise "
                    f"{clock(ln.need_by_min)}"
                )
        fac = facilities.get(ln.facility_id)
        out.append(
            {
                "order": ln.external_id,
                "facility_external_id": fac.external_id if fac is not None else str(ln.facility_id),
                "received": _local_iso(problem.date, ln.received_min, problem.timezone),
                "promise": _local_iso(problem.date, ln.need_by_min, problem.timezone),
                "ready": _local_iso(problem.date, b.ready_min if b is not None else None, problem.timezone),
                "arrival": _local_iso(problem.date, arrival, problem.timezone),
                "on_time": on_time,
                "reason": reason,
            }
        )
    return out


def summary_of(problem, result: PlanResult, plan_run_id: int | None) -> dict[str, Any]:
    """The ``plan --json`` object (JSON-able); every figure is :func:`plan_kpis` of the plan."""
    plan = result.plan
    k = plan_kpis(plan)
    names = _facility_names(problem)
    return {
        "plan_run_id": plan_run_id,
        "date": plan.date.isoformat(),
        "orders": k.orders,
        "batches": k.batches,
        "lines_used": k.lines_used,
        "routes": k.routes,
        "route_details": _route_details(plan, problem),
        "stops": k.stops,
        "unserved": [
            {"facility": names.get(u.facility_id, str(u.facility_id)), "reason": u.reason}
            for u in plan.unserved
        ],
        "late": [
            {
                "facility": names.get(x.facility_id, str(x.facility_id)),
                "minutes": x.minutes,
                "reason": x.reason,
            }
            for x in plan.late
        ],
        "stat_orders": stat_orders(problem, plan),
        "late_stops": k.late_stops,
        "late_min": k.late_min,
        "unserved_stops": k.unserved,
        "driving_km": k.driving_km,
        "driving_hours": k.driving_hours,
        "on_time_pct": k.on_time_pct,
        "packaging_makespan_min": k.makespan_min or 0,
        "gap": k.gap,
        "stage_seconds": dict(result.stage_seconds),
        "solver": _solver_rows(plan.stats, ndigits=3),
        "coupling": _coupling(result),
        "valid": result.valid,
        #: re-planned from this clock time (routes that left before it kept as published), else None
        "replanned_from": clock(problem.now_min) if problem.now_min is not None else None,
        "violations": [
            {"rule": v.rule, "subject": v.subject, "message": v.message, "hard": v.hard}
            for v in result.violations
        ],
    }


def has_plan(engine: sa.Engine, *, date: dt.date) -> bool:
    """Is there a published plan for ``date``?"""
    with session_scope(engine) as session:
        return plans.latest_plan_run(session, date=date, published_only=True) is not None


def plan_date(
    engine: sa.Engine,
    *,
    date: dt.date,
    started_by: str = "cli",
    replan: bool = False,
    now_min: int | None = None,
    from_scratch: bool = False,
    time_limit_s: float | None = None,
    fail_before_commit: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> PlanOutcome:
    """Plan ``date`` and save the plan as a new published PlanRun (one transaction).

    Re-planning (see :func:`replan_decision`): when ``date`` has a published plan and it is today
    by the clock, or ``now_min`` (``--now``) is given, or ``replan`` is asked for, the new plan keeps
    every route that departed and every batch that started before "now" exactly as published and
    inserts the rest. ``from_scratch`` plans the whole day again (the caller confirms first).
    Raises :class:`BadInput` for input the user must fix, :class:`PlanningError` when no plan can
    be made; nothing is saved then.
    """
    t0 = time.perf_counter()
    previous = None
    with session_scope(engine) as session:
        prev_run = plans.latest_plan_run(session, date=date, published_only=True)
        replan, now_min = replan_decision(
            date=date,
            published=prev_run is not None,
            replan=replan,
            now_min=now_min,
            from_scratch=from_scratch,
            today=_local_today(),
        )
        if replan:
            assert prev_run is not None and prev_run.id is not None
            previous = plans.load_plan(session, plan_run_id=prev_run.id)
            if now_min is None:
                now_min = _now_local_min(date)
        problem = build_problem(
            session,
            date=date,
            now_min=now_min if replan else None,
            timezone=get_settings().timezone,
            require_resources=True,
        )
    load_s = time.perf_counter() - t0
    if time_limit_s is not None:
        if time_limit_s <= 0:
            raise BadInput(f"--time-limit must be positive, got {time_limit_s}")
        problem = replace(problem, settings=replace(problem.settings, time_limit_s=float(time_limit_s)))
    try:
        result = _solve(problem, progress=progress, previous=previous)
        result.stage_seconds = {"load": round(load_s, 3), **result.stage_seconds}
        t = time.perf_counter()
        stats = {
            "stage_seconds": result.stage_seconds,
            "solver": _solver_rows(result.plan.stats),
            "coupling": _coupling(result),
            "replan": bool(replan),
            "now_min": now_min if replan else None,
        }
        with session_scope(engine) as session:
            run_id = plans.save_plan(
                session,
                plan=result.plan,
                problem=problem,
                started_by=started_by,
                valid=result.valid,
                violations=result.violations,
                stats=stats,
            )
            repo.add_audit_event(
                session,
                who=started_by,
                what="plan",
                details={
                    "date": date.isoformat(),
                    "plan_run_id": run_id,
                    "replan": replan,
                    "valid": result.valid,
                },
            )
            if fail_before_commit:
                raise InjectedFailure("injected failure after the solve, before the commit")
        result.stage_seconds["save"] = round(time.perf_counter() - t, 3)
    except BaseException as exc:  # solver error, injected failure, Ctrl-C: nothing was committed
        _record_failure(engine, date=date, started_by=started_by, error=f"{type(exc).__name__}: {exc}")
        raise
    return PlanOutcome(run_id, result, summary_of(problem, result, run_id))


def replan_decision(
    *,
    date: dt.date,
    published: bool,
    replan: bool,
    now_min: int | None,
    from_scratch: bool,
    today: dt.date,
) -> tuple[bool, int | None]:
    """Whether ``plan`` re-plans (keeps what departed or started) and the "now" it freezes at.

    * ``from_scratch``: never (the whole day again, departed routes replaced);
    * no published plan for ``date``: never; the first plan of a date plans the whole day (a
      ``--now`` is then ignored; ``--replan`` is an error: there is nothing to keep);
    * otherwise: when ``replan`` is asked for, ``now_min`` is given, or ``date`` is today by the
      clock (``now_min`` ``None`` means the current local time).
    """
    if from_scratch:
        if replan:
            raise BadInput("--replan and --from-scratch contradict each other: choose one")
        return False, None
    if not published:
        if replan:
            raise BadInput(f"--replan: there is no published plan for {date} to re-plan; run `plan` first")
        return False, None
    if replan or now_min is not None or date == today:
        return True, now_min
    return False, None


def departed_routes(engine: sa.Engine, *, date: dt.date, now_min: int | None = None) -> int:
    """Routes of ``date``'s published plan that left before ``now_min`` (default: the clock)."""
    with session_scope(engine) as session:
        run = plans.latest_plan_run(session, date=date, published_only=True)
        if run is None or run.id is None:
            return 0
        plan = plans.load_plan(session, plan_run_id=run.id)
    now = _now_local_min(date) if now_min is None else now_min
    return sum(1 for r in plan.routes if r.stops and r.depart_min <= now)


def _solve(problem, *, progress, previous) -> PlanResult:
    """:func:`plan_day` with the configured travel provider; the solvers' ``ValueError`` (a plain
    sentence about the input) becomes :class:`BadInput` here, at the boundary. Held and overdue
    order lines are added to the plan (``planning/order_life.py``)."""
    if not problem.orders and previous is None:
        names = _facility_names(problem)
        if problem.held:
            reasons = "; ".join(
                f"{names.get(h.facility_id, h.facility_id)}: {h.reason}" for h in problem.held
            )
            raise BadInput(f"nothing to plan for {problem.date}: every order line is held ({reasons})")
        raise BadInput(
            f"nothing to plan for {problem.date}: no open order line is due by then. Lines that another "
            "date's published plan serves are not planned again; import the day's orders first."
        )
    try:
        result = plan_day(problem, travel_provider=_travel_provider(), progress=progress, previous=previous)
    except BadInput:
        raise
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    result.plan = with_order_life(problem, result.plan)
    return result


def _travel_provider() -> TravelProvider:
    """The travel provider the configuration names (``LTC_TRAVEL_PROVIDER``, ``LTC_OSRM_URL``)."""
    settings = get_settings()
    return provider_named(
        settings.travel_provider, osrm_url=settings.osrm_url, timeout_s=settings.osrm_timeout_s
    )


def _record_failure(engine: sa.Engine, *, date: dt.date, started_by: str, error: str) -> None:
    try:
        with session_scope(engine) as session:
            plans.record_failed_run(session, date=date, started_by=started_by, error=error[:2000])
    except Exception:  # noqa: BLE001 - recording the failure must never hide the original error
        pass


def _local_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(get_settings().timezone)).date()


def _now_local_min(date: dt.date) -> int:
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo(get_settings().timezone))
    return (now.date() - date).days * 1440 + now.hour * 60 + now.minute


def plan_changes(engine: sa.Engine, *, plan_run_id: int):
    """What changed in a plan's order lines since it was made (``db/stale.py``): stale or not."""
    from ltc_scheduler.db.stale import plan_changes as _changes

    with session_scope(engine) as session:
        return _changes(session, plan_run_id=plan_run_id)
