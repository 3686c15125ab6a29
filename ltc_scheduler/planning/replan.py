"""Re-planning during the day (``problem.now_min`` and the published plan given): what stays.

* routes of the previous plan that left the pharmacy (``depart_min <= now``) stay exactly as they
  were, with their batches;
* batches that started packaging before ``now``, or hold an order line already ``packed`` or
  ``out_for_delivery`` (``problem.progressed_line_ids``), keep their line and times;
* the previous plan's other batches keep their composition (unless an order line of theirs is
  gone) and their previous line is the preferred one; order lines that are new get new batches
  with keys after the previous plan's last key;
* nothing new starts packaging before ``now``; vehicles leave no earlier than ``now`` and, when
  on the road, after they return; their remaining trips are ``max_trips`` minus the trips made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ltc_scheduler.packing.batching import form_batches
from ltc_scheduler.plan.model import Batch, LateStop, Plan, PlanRoute
from ltc_scheduler.problem.model import PlanningProblem

__all__ = ["ReplanStart", "replan_start", "vehicles_left", "keep_departed"]


@dataclass(frozen=True)
class ReplanStart:
    """The previous plan split at ``now``: what stays, and the batches to plan again.

    ``departed``: routes that left; ``frozen``: batches on them or whose packaging started (they
    keep their line and times); ``movable``: the other previous batches (unscheduled again) and the
    new order lines' batches; ``hint_lines``: the previous line of each kept batch.
    """

    departed: tuple[PlanRoute, ...]
    frozen: tuple[Batch, ...]
    movable: tuple[Batch, ...]
    hint_lines: dict[str, int]

    @property
    def departed_keys(self) -> set[str]:
        """Batches on the departed routes."""
        return {k for r in self.departed for s in r.stops for k in s.batch_keys}


def _unscheduled(b: Batch) -> Batch:
    return replace(b, line_id=None, start_min=None, end_min=None, verify_start_min=None, verify_end_min=None)


def replan_start(
    problem: PlanningProblem, previous: Plan, now: int, *, travel_minutes: dict[int, int]
) -> ReplanStart:
    """Split ``previous`` at ``now`` and batch the order lines that none of its batches covers."""
    departed = tuple(r for r in previous.routes if r.depart_min <= now)
    on_departed = {k for r in departed for s in r.stops for k in s.batch_keys}
    order_ids = {o.id for o in problem.orders}
    frozen: list[Batch] = []
    kept: list[Batch] = []
    progressed = problem.progressed_line_ids
    for b in previous.batches:
        started = b.start_min is not None and b.start_min < now
        on_floor = b.line_id is not None and any(i in progressed for i in b.order_line_ids)
        if b.key in on_departed or started or on_floor:
            frozen.append(b)
        elif all(i in order_ids for i in b.order_line_ids):
            kept.append(b)
    # frozen / delivered lines may no longer be "open" in the database: keep them in the problem view
    covered = {i for b in frozen + kept for i in b.order_line_ids}
    new_lines = [o for o in problem.orders if o.id not in covered and o.id not in progressed]
    last = max((int(b.key[1:]) for b in previous.batches if b.key[1:].isdigit()), default=0)
    fresh = form_batches(problem, travel_minutes=travel_minutes, orders=new_lines, key_start=last + 1)
    return ReplanStart(
        departed=departed,
        frozen=tuple(frozen),
        movable=tuple(_unscheduled(b) for b in kept) + tuple(fresh),
        hint_lines={b.key: b.line_id for b in kept if b.line_id is not None},
    )


def vehicles_left(problem: PlanningProblem, departed: tuple[PlanRoute, ...], now: int) -> PlanningProblem:
    """``problem`` with each vehicle's shift starting at ``now`` (or its return) and its trips left."""
    vehicles = []
    for v in problem.vehicles:
        trips = [r for r in departed if r.vehicle_id == v.id]
        start = max(v.shift_start, now, max((r.return_min for r in trips), default=-(10**6)))
        left = v.max_trips - len(trips)
        if left <= 0 or start >= v.shift_end:
            continue
        vehicles.append(replace(v, shift_start=start, max_trips=left))
    return replace(problem, vehicles=tuple(vehicles))


def keep_departed(
    start: ReplanStart,
    previous: Plan,
    routes: tuple[PlanRoute, ...],
    batches: tuple[Batch, ...],
    late: tuple[LateStop, ...],
) -> tuple[tuple[PlanRoute, ...], tuple[Batch, ...], tuple[LateStop, ...]]:
    """The new plan's routes, batches and late stops with the departed routes exactly as they were.

    New trips are numbered after the trips a vehicle already made; batches on departed routes keep
    what the published plan said; the published plan's late stops on departed routes stay late
    stops (with their reasons), so the late list matches the stops' own lateness.
    """
    made: dict[int, int] = {}
    for r in start.departed:
        made[r.vehicle_id] = max(made.get(r.vehicle_id, 0), r.trip_no)
    all_routes = tuple(start.departed) + tuple(
        replace(r, trip_no=r.trip_no + made.get(r.vehicle_id, 0)) for r in routes
    )
    prev_b = {b.key: b for b in previous.batches}
    on_departed = start.departed_keys
    all_batches = tuple(prev_b[b.key] if b.key in on_departed and b.key in prev_b else b for b in batches)
    late_there = {s.facility_id for r in start.departed for s in r.stops if s.late_min > 0}
    kept_late = tuple(x for x in previous.late if x.facility_id in late_there)
    return all_routes, all_batches, kept_late + tuple(late)
