"""What changed between two plans of a day (the Compare page), as DataFrames."""

from __future__ import annotations

import pandas as pd

from ltc_scheduler.exports.common import facility_name, vehicle_name
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem


def _positions(plan: Plan) -> dict[int, tuple[int, int, int, int]]:
    """facility id -> (route number, vehicle id, seq, arrival)."""
    out = {}
    for no, r in enumerate(plan.routes, start=1):
        for s in r.stops:
            out[s.facility_id] = (no, r.vehicle_id, s.seq, s.arrival_min)
    return out


def routes_changed(a: Plan, b: Plan, problem: PlanningProblem) -> pd.DataFrame:
    """Per vehicle trip: the stops of A and of B and whether the route changed."""

    def trips(plan: Plan) -> dict[tuple[int, int], list[int]]:
        return {(r.vehicle_id, r.trip_no): [s.facility_id for s in r.stops] for r in plan.routes}

    ta, tb = trips(a), trips(b)
    rows = []
    for key in sorted(set(ta) | set(tb)):
        sa, sb = ta.get(key), tb.get(key)
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
                "Vehicle": vehicle_name(problem, key[0]) + (f" trip {key[1]}" if key[1] > 1 else ""),
                "Stops A": len(sa or []),
                "Stops B": len(sb or []),
                "Change": change,
            }
        )
    return pd.DataFrame(rows, columns=["Vehicle", "Stops A", "Stops B", "Change"])


def stops_moved(a: Plan, b: Plan, problem: PlanningProblem, *, eta_threshold_min: int = 10) -> pd.DataFrame:
    """Facilities whose vehicle, position or ETA (by ``eta_threshold_min`` or more) differ, or that
    became served/unserved."""
    pa, pb = _positions(a), _positions(b)
    ua = {u.facility_id for u in a.unserved}
    ub = {u.facility_id for u in b.unserved}
    rows = []
    for fid in sorted(set(pa) | set(pb) | ua | ub, key=lambda f: facility_name(problem, f)):
        x, y = pa.get(fid), pb.get(fid)
        if x and y:
            changes = []
            if x[1] != y[1]:
                changes.append(f"{vehicle_name(problem, x[1])} -> {vehicle_name(problem, y[1])}")
            elif x[2] != y[2]:
                changes.append(f"stop {x[2]} -> {y[2]}")
            if abs(y[3] - x[3]) >= eta_threshold_min:
                changes.append(f"ETA {y[3] - x[3]:+d} min")
            if not changes:
                continue
            change = ", ".join(changes)
        elif x and not y:
            change = "now unserved" if fid in ub else "no longer in the plan"
        elif y and not x:
            change = "now served" if fid in ua else "new in the plan"
        else:
            continue
        rows.append(
            {
                "Facility": facility_name(problem, fid),
                "A": f"route {x[0]} stop {x[2]} at {clock(x[3])}" if x else "unserved",
                "B": f"route {y[0]} stop {y[2]} at {clock(y[3])}" if y else "unserved",
                "Change": change,
            }
        )
    return pd.DataFrame(rows, columns=["Facility", "A", "B", "Change"])
