"""What the plan says about order lines beyond packing and routing them.

* **Held lines** (``problem.held``: a facility with no delivery window that weekday, or closed)
  are listed unserved with their reason, one entry per facility and reason, so the alert names the
  facility ("no delivery window on Tuesday"); they stay ``open`` and come back on a later date.
* **Overdue lines** (need-by before the plan date began: a published plan left them unserved, or
  they were never planned) are late however early today's stop is: each stop carrying them is
  reported late by how long after the earliest need-by it starts. Their batches already get the
  earliest possible ready-by deadline (``packing/batching.py``), so they are packed first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ltc_scheduler.plan.kpis import plan_kpis
from ltc_scheduler.plan.model import LateStop, Plan, UnservedStop
from ltc_scheduler.problem.clock import MINUTES_PER_DAY, clock
from ltc_scheduler.problem.model import PlanningProblem

__all__ = ["with_order_life", "held_unserved", "overdue_late", "how_long"]


def held_unserved(problem: PlanningProblem) -> tuple[UnservedStop, ...]:
    """The held lines as unserved entries (no batch keys: they were never batched)."""
    out = []
    for h in problem.held:
        n = len(h.order_line_ids)
        out.append(
            UnservedStop(facility_id=h.facility_id, reason=f"{h.reason} ({n} order line{'s' * (n != 1)})")
        )
    return tuple(out)


def how_long(minutes: int) -> str:
    """``"2 d 3 h 5 min"``, ``"45 min"``: a duration for messages."""
    days, rest = divmod(max(0, int(minutes)), MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{mins} min" if mins or not rest else "",
    ]
    return " ".join(p for p in parts if p) or "0 min"


def _due_text(date: dt.date, minute: int) -> str:
    day, rest = divmod(minute, MINUTES_PER_DAY)
    return f"{(date + dt.timedelta(days=day)).isoformat()} {clock(rest)}"


def overdue_late(problem: PlanningProblem, plan: Plan) -> tuple[LateStop, ...]:
    """One late entry per route stop that delivers overdue lines (see the module docstring)."""
    need_by = {o.id: o.need_by_min for o in problem.orders}
    lines_of = {b.key: b.order_line_ids for b in plan.batches}
    out = []
    for route in plan.routes:
        for stop in route.stops:
            due = [need_by[i] for k in stop.batch_keys for i in lines_of.get(k, ()) if need_by.get(i, 0) < 0]
            if not due:
                continue
            first = min(due)
            late = stop.start_min - first
            out.append(
                LateStop(
                    facility_id=stop.facility_id,
                    minutes=late,
                    reason=(
                        f"overdue: {len(due)} order line{'s' * (len(due) != 1)} due "
                        f"{_due_text(problem.date, first)}, delivered {clock(stop.start_min)} "
                        f"({how_long(late)} late)"
                    ),
                )
            )
    return tuple(out)


def with_order_life(problem: PlanningProblem, plan: Plan) -> Plan:
    """``plan`` with the held lines unserved and the overdue stops late (figures recomputed)."""
    held = held_unserved(problem)
    overdue = overdue_late(problem, plan)
    if not held and not overdue:
        return plan
    # re-planning keeps the published plan's late entries of departed stops: the same overdue entry
    # computed again is listed once
    late = tuple(dict.fromkeys(tuple(plan.late) + overdue))
    plan = replace(plan, unserved=tuple(plan.unserved) + held, late=late)
    return replace(plan, kpis=plan_kpis(plan).as_dict())
