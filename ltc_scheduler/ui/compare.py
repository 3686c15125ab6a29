"""What changed between two plans of a day (the Compare page), as DataFrames.

Each plan is read with the problem of its own record (its vehicles' and facilities' names as they
were). Routes are paired by vehicle and trip (``"Van 03 · trip 1"``), never by their place in the
list; stops by facility and delivery: a facility's routine delivery, its first STAT wave, its
second, ... -- so a facility with a routine and a STAT stop is two deliveries, each compared with
its own counterpart (one stop carrying both counts for both).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from ltc_scheduler.enums import URGENT_CLASSES
from ltc_scheduler.exports.common import facility_name, find_facility, route_label
from ltc_scheduler.plan.model import Plan, PlanStop
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem

#: a delivery: (facility id, "routine" | "urgent", 1 for the first of that kind, 2, ...)
Delivery = tuple[int, str, int]


@dataclass(frozen=True, slots=True)
class _Where:
    route: str  # the route's label in its own plan
    trip: tuple[int, int]  # (vehicle id, trip number)
    seq: int
    arrival_min: int


def _kinds(plan: Plan, keys: tuple[str, ...], stat: bool) -> list[str]:
    """Which deliveries the batches ``keys`` make: routine, urgent or both (by the stop's STAT flag
    when it names no batch of the plan)."""
    classes = {b.order_class for b in plan.batches if b.key in set(keys)}
    if not classes:
        return ["urgent" if stat else "routine"]
    kinds = []
    if any(c not in URGENT_CLASSES for c in classes):
        kinds.append("routine")
    if any(c in URGENT_CLASSES for c in classes):
        kinds.append("urgent")
    return kinds


def _deliveries(plan: Plan, problem: PlanningProblem) -> dict[Delivery, _Where]:
    """Every delivery of ``plan`` with where it is made; a facility's deliveries of one kind are
    numbered in order of arrival."""
    stops: list[tuple[int, str, PlanStop, tuple[int, int]]] = []
    for no, r in enumerate(plan.routes, start=1):
        label = route_label(plan, problem, no)
        stops += [(s.arrival_min, label, s, (r.vehicle_id, r.trip_no)) for s in r.stops]
    count: dict[tuple[int, str], int] = defaultdict(int)
    out: dict[Delivery, _Where] = {}
    for arrival, label, s, trip in sorted(stops, key=lambda x: (x[0], x[3], x[2].seq)):
        for kind in _kinds(plan, s.batch_keys, s.stat):
            count[(s.facility_id, kind)] += 1
            out[(s.facility_id, kind, count[(s.facility_id, kind)])] = _Where(label, trip, s.seq, arrival)
    return out


def _unserved(plan: Plan) -> set[Delivery]:
    count: dict[tuple[int, str], int] = defaultdict(int)
    out = set()
    for u in plan.unserved:
        for kind in _kinds(plan, u.batch_keys, False):
            count[(u.facility_id, kind)] += 1
            out.add((u.facility_id, kind, count[(u.facility_id, kind)]))
    return out


def _name(fid: int, b: PlanningProblem, a: PlanningProblem) -> str:
    """The facility's name in plan B's record, else in plan A's."""
    return facility_name(b if find_facility(b, fid) is not None else a, fid)


def _where_text(w: _Where | None, unserved: bool) -> str:
    if w is not None:
        return f"{w.route} stop {w.seq} at {clock(w.arrival_min)}"
    return "unserved" if unserved else "not in the plan"


def _delivery_text(kind: str, n: int) -> str:
    if kind == "routine":
        return "routine" if n == 1 else f"routine {n}"
    return "STAT" if n == 1 else f"STAT {n}"


def routes_changed(a: Plan, b: Plan, problem_a: PlanningProblem, problem_b: PlanningProblem) -> pd.DataFrame:
    """Per route (vehicle and trip): the stops of A and of B and whether the route changed."""

    def trips(plan: Plan, problem: PlanningProblem) -> dict[tuple[int, int], tuple[str, list[int]]]:
        return {
            (r.vehicle_id, r.trip_no): (route_label(plan, problem, no), [s.facility_id for s in r.stops])
            for no, r in enumerate(plan.routes, start=1)
        }

    ta, tb = trips(a, problem_a), trips(b, problem_b)
    rows = []
    for key in sorted(set(ta) | set(tb)):
        sa = ta[key][1] if key in ta else None
        sb = tb[key][1] if key in tb else None
        if sa == sb:
            change = "same"
        elif sa is None:
            change = "new route"
        elif sb is None:
            change = "route dropped"
        elif set(sa) == set(sb):
            change = "same stops, new order"
        else:
            change = f"{len(set(sb) - set(sa))} stop(s) added, {len(set(sa) - set(sb))} removed"
        rows.append(
            {
                "Route": (tb.get(key) or ta[key])[0],
                "Stops A": len(sa or []),
                "Stops B": len(sb or []),
                "Change": change,
            }
        )
    return pd.DataFrame(rows, columns=["Route", "Stops A", "Stops B", "Change"])


def stops_moved(
    a: Plan,
    b: Plan,
    problem_a: PlanningProblem,
    problem_b: PlanningProblem,
    *,
    eta_threshold_min: int = 10,
) -> pd.DataFrame:
    """Deliveries (facility and routine/STAT wave) whose route, stop number or ETA (by
    ``eta_threshold_min`` or more) differ, or that became served/unserved."""
    pa, pb = _deliveries(a, problem_a), _deliveries(b, problem_b)
    ua, ub = _unserved(a), _unserved(b)
    rows = []
    keys = sorted(set(pa) | set(pb) | ua | ub, key=lambda d: (_name(d[0], problem_b, problem_a), d[1], d[2]))
    for key in keys:
        x, y = pa.get(key), pb.get(key)
        if x and y:
            changes = []
            if x.trip != y.trip:
                changes.append(f"{x.route} -> {y.route}")
            elif x.seq != y.seq:
                changes.append(f"stop {x.seq} -> {y.seq}")
            if abs(y.arrival_min - x.arrival_min) >= eta_threshold_min:
                changes.append(f"ETA {y.arrival_min - x.arrival_min:+d} min")
            if not changes:
                continue
            change = ", ".join(changes)
        elif x and not y:
            change = "now unserved" if key in ub else "no longer in the plan"
        elif y and not x:
            change = "now served" if key in ua else "new in the plan"
        else:
            continue
        rows.append(
            {
                "Facility": _name(key[0], problem_b, problem_a),
                "Delivery": _delivery_text(key[1], key[2]),
                "A": _where_text(x, key in ua),
                "B": _where_text(y, key in ub),
                "Change": change,
            }
        )
    return pd.DataFrame(rows, columns=["Facility", "Delivery", "A", "B", "Change"])
