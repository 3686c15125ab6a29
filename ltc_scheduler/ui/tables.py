"""The dashboard's tables as pandas DataFrames (no Streamlit here)."""

from __future__ import annotations

import pandas as pd

from ltc_scheduler.exports.common import facility_name, route_label, route_order, stop_rows, vehicle_name
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.ui.kpis import plan_kpis
from ltc_scheduler.viz._common import class_label


def _line_name(problem: PlanningProblem, line_id: int | None) -> str:
    if line_id is None:
        return "-"
    return next((p.name for p in problem.lines if p.id == line_id), f"Line {line_id}")


def batches_frame(plan: Plan, problem: PlanningProblem) -> pd.DataFrame:
    """One row per batch, in packing order (line, start)."""
    route_of = {}
    for no, r in enumerate(plan.routes, start=1):
        label = route_label(plan, problem, no)
        for s in r.stops:
            for k in s.batch_keys:
                route_of[k] = f"{label} stop {s.seq}"
    unserved = {k for u in plan.unserved for k in u.batch_keys}
    rows = []
    for b in sorted(plan.batches, key=lambda b: (b.start_min is None, b.start_min or 0, b.key)):
        rows.append(
            {
                "Batch": b.key,
                "Line": _line_name(problem, b.line_id),
                "Facility": facility_name(problem, b.facility_id) + (f" / {b.unit}" if b.unit else ""),
                "Kind": b.kind.value.replace("_", " "),
                "Class": class_label(b.order_class.value),
                "Cards": b.cards,
                "Totes": b.totes,
                "Start": clock(b.start_min),
                "End": clock(b.end_min),
                "Ready": clock(b.ready_min),
                "Deadline": clock(b.deadline_min),
                "Slack (min)": (b.deadline_min - b.ready_min) if b.ready_min is not None else None,
                "Cold": b.cold,
                "Controlled": b.controlled,
                "Route / stop": "unserved" if b.key in unserved else route_of.get(b.key, ""),
            }
        )
    return pd.DataFrame(rows)


def routes_frame(plan: Plan, problem: PlanningProblem) -> pd.DataFrame:
    """One row per route (by vehicle and trip): vehicle, times, stops, totes, distance."""
    rows = []
    for no in route_order(plan, problem):
        r = plan.routes[no - 1]
        rows.append(
            {
                "Route": route_label(plan, problem, no),
                "Vehicle": vehicle_name(problem, r.vehicle_id),
                "Departs": clock(r.depart_min),
                "Back": clock(r.return_min),
                "Stops": len(r.stops),
                "Totes": sum(s.totes for s in r.stops),
                "Cold": sum(s.cold_totes for s in r.stops),
                "Controlled": sum(s.controlled_totes for s in r.stops),
                "km": round(r.distance_m / 1000, 1),
                "Driving (h)": round(r.drive_s / 3600, 2),
                "Late stops": sum(1 for s in r.stops if s.late_min > 0),
            }
        )
    return pd.DataFrame(rows)


def stops_frame(plan: Plan, problem: PlanningProblem, route_no: int) -> pd.DataFrame:
    """The stops of one route, in order."""
    return pd.DataFrame(
        [
            {
                "#": r.sequence,
                "Facility": r.facility,
                "Address": r.address,
                "ETA": r.eta,
                "Window": r.window or "any",
                "Totes": r.totes,
                "Cold": r.cold,
                "Controlled": r.controlled,
                "Service (min)": r.service_min,
                "Late (min)": r.late_min,
                "STAT": r.stat,
            }
            for r in stop_rows(plan, problem, route_no)
        ]
    )


def kpi_frame(plans: dict[str, Plan]) -> pd.DataFrame:
    """KPIs of several plans side by side (rows = metrics, columns = plan labels), each figure as
    :func:`~ltc_scheduler.plan.kpis.plan_kpis` defines it."""
    data: dict[str, list[object]] = {}
    metrics = [
        ("Orders", lambda k: k.orders),
        ("Batches", lambda k: k.batches),
        ("Routes", lambda k: k.routes),
        ("Stops", lambda k: k.stops),
        ("Unserved stops", lambda k: k.unserved),
        ("Late stops", lambda k: k.late_stops),
        ("On time %", lambda k: k.on_time_pct),
        ("Driving km", lambda k: k.driving_km),
        ("Driving hours", lambda k: k.driving_hours),
        ("Packaging makespan (min)", lambda k: k.makespan_min),
        ("Solve time (s)", lambda k: k.solve_s),
    ]
    for label, plan in plans.items():
        k = plan_kpis(plan)
        data[label] = [f(k) for _, f in metrics]
    return pd.DataFrame(data, index=[m for m, _ in metrics], dtype=object)
