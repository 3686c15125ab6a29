"""The numbers and alerts of the Today page, computed from a plan (no Streamlit here)."""

from __future__ import annotations

from dataclasses import dataclass

from ltc_scheduler.exports.common import facility_name
from ltc_scheduler.plan.model import Plan, Violation
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem

#: a STAT batch verified less than this many minutes before its deadline is "at risk"
STAT_TIGHT_MIN = 30


@dataclass(frozen=True, slots=True)
class Kpis:
    orders: int
    cards: int
    batches: int
    routes: int
    vehicles: int
    stops: int
    late_stops: int
    on_time_pct: float | None
    unserved: int
    driving_km: float
    driving_h: float
    makespan_min: int | None
    packaging_start: int | None
    packaging_end: int | None
    solve_s: float
    gap: float | None
    status: str


def plan_kpis(plan: Plan) -> Kpis:
    """The day's headline numbers (what the KPI tiles show)."""
    stops = [s for r in plan.routes for s in r.stops]
    late = sum(1 for s in stops if s.late_min > 0)
    starts = [b.start_min for b in plan.batches if b.start_min is not None]
    ends = [
        b.verify_end_min or b.end_min for b in plan.batches if (b.verify_end_min or b.end_min) is not None
    ]
    gaps = [g for g in (s.gap for s in plan.stats) if g is not None]
    return Kpis(
        orders=sum(len(b.order_line_ids) for b in plan.batches),
        cards=sum(b.cards for b in plan.batches),
        batches=len(plan.batches),
        routes=sum(1 for r in plan.routes if r.stops),
        vehicles=len({r.vehicle_id for r in plan.routes if r.stops}),
        stops=len(stops),
        late_stops=late,
        on_time_pct=100.0 * (len(stops) - late) / len(stops) if stops else None,
        unserved=len(plan.unserved),
        driving_km=sum(r.distance_m for r in plan.routes) / 1000,
        driving_h=sum(r.drive_s for r in plan.routes) / 3600,
        makespan_min=(max(ends) - min(starts)) if starts and ends else None,  # type: ignore[operator]
        packaging_start=min(starts) if starts else None,
        packaging_end=max(ends) if ends else None,  # type: ignore[type-var]
        solve_s=sum(s.wall_s for s in plan.stats),
        gap=max(gaps) if gaps else None,
        status=", ".join(f"{s.stage} {s.status.lower()}" for s in plan.stats),
    )


@dataclass(frozen=True, slots=True)
class Alert:
    level: str  # "error" | "warning" | "info"
    title: str
    detail: str = ""
    #: "unserved" | "late" | "stat" | "check" (the Today page groups alerts by it)
    category: str = "check"


def _route_of(plan: Plan) -> dict[int, tuple[int, int]]:
    """facility id -> (route number, stop seq)."""
    out = {}
    for no, r in enumerate(plan.routes, start=1):
        for s in r.stops:
            out[s.facility_id] = (no, s.seq)
    return out


def plan_alerts(
    plan: Plan, problem: PlanningProblem, *, violations: tuple[Violation, ...] = ()
) -> list[Alert]:
    """What needs attention, most urgent first: unserved stops, late stops, STAT at risk, rule breaks."""
    alerts: list[Alert] = []
    late_reason = {x.facility_id: x.reason for x in plan.late}
    for u in plan.unserved:
        stat = any(plan.batch(k).stat for k in u.batch_keys if any(b.key == k for b in plan.batches))
        alerts.append(
            Alert(
                "error",
                f"{facility_name(problem, u.facility_id)}{' (STAT)' if stat else ''}",
                f"{u.reason}" + (f" ({len(u.batch_keys)} batch(es) not delivered)" if u.batch_keys else ""),
                "unserved",
            )
        )
    for no, r in enumerate(plan.routes, start=1):
        for s in r.stops:
            if s.late_min > 0:
                reason = late_reason.get(s.facility_id, "")
                alerts.append(
                    Alert(
                        "warning",
                        f"{facility_name(problem, s.facility_id)}{' (STAT)' if s.stat else ''}: "
                        f"route {no} stop {s.seq}, {s.late_min} min late",
                        reason or f"arrives {clock(s.start_min)}, window ends {clock(s.window_end_min)}",
                        "late",
                    )
                )
    unserved_keys = {k for u in plan.unserved for k in u.batch_keys}
    where = _route_of(plan)
    for b in plan.batches:
        if not b.stat or b.key in unserved_keys:
            continue
        name = facility_name(problem, b.facility_id)
        if b.ready_min is None:
            alerts.append(
                Alert(
                    "error",
                    f"STAT batch {b.key} for {name} is not scheduled",
                    "it was left off the lines",
                    "stat",
                )
            )
        elif b.ready_min > b.deadline_min:
            alerts.append(
                Alert(
                    "error",
                    f"STAT batch {b.key} for {name} is ready after its deadline",
                    f"verified {clock(b.ready_min)}, needed by {clock(b.deadline_min)}",
                    "stat",
                )
            )
        elif b.deadline_min - b.ready_min < STAT_TIGHT_MIN:
            route = where.get(b.facility_id)
            alerts.append(
                Alert(
                    "warning",
                    f"{name}: STAT batch {b.key} has only {b.deadline_min - b.ready_min} min to spare",
                    f"verified {clock(b.ready_min)}, deadline {clock(b.deadline_min)}"
                    + (f", route {route[0]} stop {route[1]}" if route else ""),
                    "stat",
                )
            )
    for v in violations:
        alerts.append(Alert("error" if v.hard else "info", f"{v.rule} ({v.subject})", v.message))
    return alerts
