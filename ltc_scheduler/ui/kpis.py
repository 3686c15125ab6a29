"""The numbers and alerts of the Today page, computed from a plan (no Streamlit here).

The numbers are :func:`ltc_scheduler.plan.kpis.plan_kpis` (every figure defined once there); this
module adds the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ltc_scheduler.exports.common import facility_name, route_label
from ltc_scheduler.plan.kpis import PlanKpis, plan_kpis
from ltc_scheduler.plan.model import Plan, Violation
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem

__all__ = ["Alert", "PlanKpis", "plan_alerts", "plan_kpis"]

#: a STAT batch verified less than this many minutes before its deadline is "at risk"
STAT_TIGHT_MIN = 30


@dataclass(frozen=True, slots=True)
class Alert:
    level: str  # "error" | "warning" | "info"
    title: str
    detail: str = ""
    #: "unserved" | "late" | "stat" | "check" (the Today page groups alerts by it)
    category: str = "check"


def _route_of(plan: Plan, problem: PlanningProblem) -> dict[int, tuple[str, int]]:
    """facility id -> (route label, stop seq)."""
    out = {}
    for no, r in enumerate(plan.routes, start=1):
        for s in r.stops:
            out[s.facility_id] = (route_label(plan, problem, no), s.seq)
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
                        f"{route_label(plan, problem, no)} stop {s.seq}, {s.late_min} min late",
                        reason or f"arrives {clock(s.start_min)}, window ends {clock(s.window_end_min)}",
                        "late",
                    )
                )
    unserved_keys = {k for u in plan.unserved for k in u.batch_keys}
    where = _route_of(plan, problem)
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
                    + (f", {route[0]} stop {route[1]}" if route else ""),
                    "stat",
                )
            )
    for v in violations:
        alerts.append(Alert("error" if v.hard else "info", f"{v.rule} ({v.subject})", v.message))
    return alerts
