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

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import sqlalchemy as sa

from ltc_scheduler.config import get_settings
from ltc_scheduler.db import plans
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import require_current_schema, session_scope
from ltc_scheduler.db.plans import DateBusy
from ltc_scheduler.enums import PlanStatus
from ltc_scheduler.errors import BadInput
from ltc_scheduler.plan import publishing
from ltc_scheduler.plan.kpis import plan_kpis
from ltc_scheduler.planning.order_life import with_order_life
from ltc_scheduler.planning.pipeline import PlanResult, plan_day
from ltc_scheduler.problem.builder import build_problem
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.travel import TravelProvider, provider_named

__all__ = [
    "MAX_TIME_LIMIT_S",
    "DatabaseBusy",
    "DateBusy",
    "InjectedFailure",
    "PlanOutcome",
    "check_time_limit",
    "has_plan",
    "plan_date",
    "publish_draft",
    "replan_decision",
    "departed_routes",
    "stat_orders",
    "summary_of",
]

T = TypeVar("T")


class InjectedFailure(RuntimeError):
    """Raised by ``plan_date(..., fail_before_commit=True)``: simulates a crash just before the commit."""


@dataclass
class PlanOutcome:
    """A finished run: its id, the plan and the ``--json`` summary, whether it was published and,
    if not, why (``note``), with the figures the publishing rule compared."""

    plan_run_id: int
    result: PlanResult
    summary: dict[str, Any]
    published: bool = True
    note: str | None = None
    #: the published plan of the date after this run (this run, or the one that stayed)
    published_run_id: int | None = None
    #: how this plan is worse than the published one ("17 stops unserved vs 0"); empty if it is not
    worse: tuple[str, ...] = ()
    figures: publishing.PublishFigures | None = None
    published_figures: publishing.PublishFigures | None = None


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


#: the largest ``--time-limit`` (seconds) a run may ask for; a settings value above it is cut to it
MAX_TIME_LIMIT_S = 600.0
#: how long a save waits, in all, for a database lock held by another program before giving up
LOCK_WAIT_S = 300.0


def check_time_limit(time_limit_s: float | None) -> None:
    """:class:`BadInput` unless ``time_limit_s`` is None or in (0, :data:`MAX_TIME_LIMIT_S`]."""
    if time_limit_s is None:
        return
    if not math.isfinite(time_limit_s) or time_limit_s <= 0:
        raise BadInput(f"--time-limit must be a positive number of seconds, got {time_limit_s}")
    if time_limit_s > MAX_TIME_LIMIT_S:
        raise BadInput(
            f"--time-limit: at most {MAX_TIME_LIMIT_S:g} seconds (10 minutes), got {time_limit_s:g}"
        )


class DatabaseBusy(DateBusy):
    """The database stayed locked by another program for longer than the save waits."""


@dataclass(frozen=True, slots=True)
class PublishDecision:
    """Whether a finished run is published, and why not."""

    publish: bool
    #: ``None`` when published normally; else a sentence: why it is a draft, or "published anyway"
    note: str | None
    #: the run that is the published plan of the date after this save
    published_run_id: int | None
    #: the comparison lines ("17 stops unserved vs 0"), empty when not compared or not worse
    worse: tuple[str, ...] = ()


def _figures(plan, violations, time_limit_s: Any) -> publishing.PublishFigures:
    limit = float(time_limit_s) if isinstance(time_limit_s, int | float) else None
    return publishing.figures_of(plan, broken_rules=sum(1 for v in violations if v.hard), time_limit_s=limit)


def plan_date(
    engine: sa.Engine,
    *,
    date: dt.date,
    started_by: str = "cli",
    replan: bool = False,
    now_min: int | None = None,
    from_scratch: bool = False,
    time_limit_s: float | None = None,
    publish_anyway: bool = False,
    fail_before_commit: bool = False,
    progress: Callable[[str, float], None] | None = None,
    lock_wait_s: float = LOCK_WAIT_S,
) -> PlanOutcome:
    """Plan ``date`` and save the plan as a PlanRun (one transaction); publish it if it is not
    worse than the published plan of the date (:mod:`ltc_scheduler.plan.publishing`) or when
    ``publish_anyway``, else keep it as a draft (``outcome.published`` is False, ``outcome.note``
    says why).

    One planner per date: the run is first recorded as ``running`` (who, when, host, process);
    while it is, another call for the date raises :class:`DateBusy`. At save time the published
    plan must still be the one the run started from, else the run is saved as a draft. Saving
    waits for, and retries on, a database locked by another program (up to ``lock_wait_s``).

    Re-planning (see :func:`replan_decision`): when ``date`` has a published plan and it is today
    by the clock, or ``now_min`` (``--now``) is given, or ``replan`` is asked for, the new plan keeps
    every route that departed and every batch that started before "now" exactly as published and
    inserts the rest. ``from_scratch`` plans the whole day again (the caller confirms first).
    Raises :class:`BadInput` for input the user must fix, :class:`PlanningError` when no plan can
    be made; no plan is saved then (the run is recorded as failed).
    """
    check_time_limit(time_limit_s)
    require_current_schema(engine)
    if from_scratch and replan:
        raise BadInput("--replan and --from-scratch contradict each other: choose one")
    if replan and not has_plan(engine, date=date):
        raise BadInput(f"--replan: there is no published plan for {date} to re-plan; run `plan` first")
    tz = get_settings().timezone
    t0 = time.perf_counter()

    def claim() -> tuple[int, int | None]:
        with session_scope(engine) as session:
            return plans.claim_date(session, date=date, started_by=started_by, tz=tz, wait_s=lock_wait_s)

    try:
        run_id, base_id = _retry_locked(claim, wait_s=lock_wait_s)
    except sa.exc.IntegrityError:  # the running-run index: another process claimed the date first
        with session_scope(engine) as session:
            other = plans.running_run(session, date=date)
            raise DateBusy(
                plans.busy_sentence(other, tz=tz) if other else f"{date} is already being planned"
            ) from None
    try:
        return _plan_claimed(
            engine,
            run_id=run_id,
            base_id=base_id,
            date=date,
            started_by=started_by,
            replan=replan,
            now_min=now_min,
            from_scratch=from_scratch,
            time_limit_s=time_limit_s,
            publish_anyway=publish_anyway,
            fail_before_commit=fail_before_commit,
            progress=progress,
            lock_wait_s=lock_wait_s,
            t0=t0,
        )
    except BaseException as exc:  # bad input, solver error, injected failure, Ctrl-C: no plan saved
        _record_failure(engine, run_id=run_id, date=date, started_by=started_by, error=_error_text(exc))
        raise
    finally:
        plans.release(run_id)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, BadInput | DateBusy):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _plan_claimed(
    engine: sa.Engine,
    *,
    run_id: int,
    base_id: int | None,
    date: dt.date,
    started_by: str,
    replan: bool,
    now_min: int | None,
    from_scratch: bool,
    time_limit_s: float | None,
    publish_anyway: bool,
    fail_before_commit: bool,
    progress: Callable[[str, float], None] | None,
    lock_wait_s: float,
    t0: float,
) -> PlanOutcome:
    previous = None
    base_figures: publishing.PublishFigures | None = None
    with session_scope(engine) as session:
        if base_id is not None:
            base_run = plans.get_plan_run(session, plan_run_id=base_id)
            base_plan = plans.load_plan(session, plan_run_id=base_id)
            assert base_run is not None
            base_figures = _figures(
                base_plan, plans.load_violations(base_run), (base_run.settings or {}).get("time_limit_s")
            )
        replan, now_min = replan_decision(
            date=date,
            published=base_id is not None,
            replan=replan,
            now_min=now_min,
            from_scratch=from_scratch,
            today=_local_today(),
        )
        if replan:
            previous = base_plan
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
    limit = time_limit_s if time_limit_s is not None else min(problem.settings.time_limit_s, MAX_TIME_LIMIT_S)
    if limit != problem.settings.time_limit_s:
        problem = replace(problem, settings=replace(problem.settings, time_limit_s=float(limit)))
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
    new_figures = _figures(result.plan, result.violations, problem.settings.time_limit_s)

    def save() -> PublishDecision:
        with session_scope(engine) as session:
            plans.lock_date(session, date=date, wait_s=lock_wait_s)
            decision = _decide(
                session,
                run_id=run_id,
                base_id=base_id,
                date=date,
                new=new_figures,
                base=base_figures,
                publish_anyway=publish_anyway,
            )
            plans.save_plan(
                session,
                plan=result.plan,
                problem=problem,
                started_by=started_by,
                valid=result.valid,
                violations=result.violations,
                stats=stats,
                publish=decision.publish,
                run_id=run_id,
                publish_note=decision.note,
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
                    "published": decision.publish,
                    "note": decision.note,
                },
            )
            if fail_before_commit:
                raise InjectedFailure("injected failure after the solve, before the commit")
            return decision

    decision = _retry_locked(save, wait_s=lock_wait_s)
    result.stage_seconds["save"] = round(time.perf_counter() - t, 3)
    summary = summary_of(problem, result, run_id)
    summary.update(
        {
            "published": decision.publish,
            "status": "published" if decision.publish else "draft",
            "reason": decision.note if not decision.publish else None,
            "published_plan_run_id": decision.published_run_id,
        }
    )
    return PlanOutcome(
        run_id,
        result,
        summary,
        published=decision.publish,
        note=decision.note,
        published_run_id=decision.published_run_id,
        worse=decision.worse,
        figures=new_figures,
        published_figures=base_figures,
    )


def _decide(
    session,
    *,
    run_id: int,
    base_id: int | None,
    date: dt.date,
    new: publishing.PublishFigures,
    base: publishing.PublishFigures | None,
    publish_anyway: bool,
) -> PublishDecision:
    """Under the date's lock: publish, or save as a draft and say why."""
    own = plans.get_plan_run(session, plan_run_id=run_id)
    current = plans.latest_plan_run(session, date=date, published_only=True)
    current_id = current.id if current is not None else None
    if own is None or own.status != PlanStatus.RUNNING:
        return PublishDecision(
            False,
            f"saved as draft #{run_id}, not published: this run was marked stopped while it was "
            "planning (it took too long), so another run may have started",
            current_id,
        )
    if current_id != base_id:
        started = f"plan #{base_id}" if base_id is not None else "no published plan"
        return PublishDecision(
            False,
            f"saved as draft #{run_id}, not published: plan #{current_id} was published while this "
            f"one was being made (it started from {started}); compare them before publishing",
            current_id,
        )
    if base is None:
        return PublishDecision(True, None, run_id)
    worse = publishing.why_worse(new, base)
    if not worse:
        return PublishDecision(True, None, run_id)
    if publish_anyway:
        note = f"published anyway, although worse than plan #{base_id}: " + "; ".join(worse)
        return PublishDecision(True, note, run_id, tuple(worse))
    note = f"saved as draft #{run_id}, not published: " + "; ".join(
        f"{w} in published plan #{base_id}" for w in worse
    )
    return PublishDecision(False, note, base_id, tuple(worse))


def _is_lock_error(exc: BaseException) -> bool:
    """A lock held by someone else (worth waiting for), not a real error."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate in ("55P03", "40P01", "40001"):  # lock_not_available, deadlock, serialization
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def _retry_locked(fn: Callable[[], T], *, wait_s: float) -> T:
    """``fn()`` (one transaction), again after a pause while the database is locked by another
    program, for up to ``wait_s`` seconds in all; then :class:`DatabaseBusy`."""
    deadline = time.monotonic() + wait_s
    pause = 0.2
    while True:
        try:
            return fn()
        except sa.exc.OperationalError as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise DatabaseBusy(
                    f"the database stayed locked by another program for {wait_s:g} s, so nothing was "
                    "saved; try again when it is free"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def publish_draft(engine: sa.Engine, *, plan_run_id: int, who: str, expected_published: int | None) -> int:
    """Publish draft ``plan_run_id`` (the dashboard's "Publish anyway"), under the date's lock.
    ``expected_published``: the published run the user compared with; if another was published
    since, nothing changes (:class:`BadInput` saying so). Returns the run id."""
    require_current_schema(engine)

    def go() -> int:
        with session_scope(engine) as session:
            run = plans.get_plan_run(session, plan_run_id=plan_run_id)
            if run is None:
                raise BadInput(f"there is no plan run {plan_run_id}")
            plans.lock_date(session, date=run.date)
            current = plans.latest_plan_run(session, date=run.date, published_only=True)
            current_id = current.id if current is not None else None
            if current_id == plan_run_id:
                return plan_run_id
            if current_id != expected_published:
                raise BadInput(
                    f"plan #{current_id} was published since you compared; nothing changed. "
                    "Look at the comparison again."
                )
            published = plans.publish_plan_run(session, plan_run_id=plan_run_id)
            published.publish_note = f"published anyway by {who}, replacing plan #{current_id}"
            session.add(published)
            repo.add_audit_event(
                session,
                who=who,
                what="publish",
                details={"date": run.date.isoformat(), "plan_run_id": plan_run_id, "replaced": current_id},
            )
            return plan_run_id

    return _retry_locked(go, wait_s=LOCK_WAIT_S)


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


def _record_failure(
    engine: sa.Engine, *, run_id: int | None, date: dt.date, started_by: str, error: str
) -> None:
    """Mark the run failed (or add a failed run); a few quick tries, never hiding the original error
    (a run left ``running`` is expired later by :func:`plans.expire_stale_runs`)."""

    def go() -> None:
        with session_scope(engine) as session:
            plans.record_failed_run(
                session, date=date, started_by=started_by, error=error[:2000], run_id=run_id
            )

    with contextlib.suppress(Exception):  # recording the failure must never hide the original error
        _retry_locked(go, wait_s=5.0)


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
