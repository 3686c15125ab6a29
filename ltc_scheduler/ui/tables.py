"""The dashboard's tables as pandas DataFrames (no Streamlit here)."""

from __future__ import annotations

import pandas as pd

from ltc_scheduler.exports.common import (
    LABEL_SEP,
    facility_name,
    route_label,
    route_order,
    stop_rows,
    vehicle_name,
)
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.ui.kpis import plan_kpis
from ltc_scheduler.viz._common import class_label


def _line_name(problem: PlanningProblem, line_id: int | None) -> str:
    if line_id is None:
        return "-"
    return next((p.name for p in problem.lines if p.id == line_id), f"Line {line_id}")


def stop_label(plan: Plan, problem: PlanningProblem, route_no: int, seq: int) -> str:
    """``"Van 03 · trip 1 · stop 4"``: a stop by its route's vehicle and trip and its place."""
    return f"{route_label(plan, problem, route_no)}{LABEL_SEP}stop {seq}"


#: what a batch's "Totes" cell says when it rides in a tote with the facility's other batches
SHARED_TOTE = "shared"


def batches_frame(plan: Plan, problem: PlanningProblem) -> pd.DataFrame:
    """One row per batch, in packing order (start, then key). "Totes" is text: a batch packed into a
    tote it shares with other batches of its facility reads ``shared``, not 0. "Flags" lists cold,
    controlled and STAT."""
    route_of = {}
    for no, r in enumerate(plan.routes, start=1):
        for s in r.stops:
            for k in s.batch_keys:
                route_of[k] = stop_label(plan, problem, no, s.seq)
    unserved = {k for u in plan.unserved for k in u.batch_keys}
    rows = []
    for b in sorted(plan.batches, key=lambda b: (b.start_min is None, b.start_min or 0, b.key)):
        flags = [f for f, on in (("cold", b.cold), ("controlled", b.controlled), ("STAT", b.stat)) if on]
        rows.append(
            {
                "Batch": b.key,
                "Line": _line_name(problem, b.line_id),
                "Facility": facility_name(problem, b.facility_id) + (f" / {b.unit}" if b.unit else ""),
                "Kind": b.kind.value.replace("_", " "),
                "Class": class_label(b.order_class.value),
                "Cards": b.cards,
                "Totes": str(b.totes) if b.totes else SHARED_TOTE,
                "Packed": f"{clock(b.start_min)}-{clock(b.end_min)}" if b.start_min is not None else "-",
                "Ready": clock(b.ready_min),
                "Deadline": clock(b.deadline_min),
                "Slack (min)": (b.deadline_min - b.ready_min) if b.ready_min is not None else None,
                "Flags": ", ".join(flags),
                "Delivery": "unserved" if b.key in unserved else route_of.get(b.key, ""),
            }
        )
    return pd.DataFrame(rows)


def attention_frame(plan: Plan, problem: PlanningProblem) -> pd.DataFrame:
    """The day's unserved and late stops with their reasons, unserved first: "Stop" is the stop's
    label (``Van 03 · trip 1 · stop 4``) or ``not delivered``."""
    rows: list[dict[str, object]] = []
    for u in plan.unserved:
        rows.append(
            {
                "Stop": "not delivered",
                "Facility": facility_name(problem, u.facility_id),
                "Problem": "unserved",
                "Why": u.reason,
                "Batches": ", ".join(u.batch_keys),
            }
        )
    reasons = {x.facility_id: x.reason for x in plan.late}
    for no in route_order(plan, problem):
        for s in sorted(plan.routes[no - 1].stops, key=lambda s: s.seq):
            if s.late_min <= 0:
                continue
            rows.append(
                {
                    "Stop": stop_label(plan, problem, no, s.seq),
                    "Facility": facility_name(problem, s.facility_id),
                    "Problem": f"{s.late_min} min late" + (" (STAT)" if s.stat else ""),
                    "Why": reasons.get(s.facility_id)
                    or f"arrives {clock(s.start_min)}, window ends {clock(s.window_end_min)}",
                    "Batches": ", ".join(s.batch_keys),
                }
            )
    return pd.DataFrame(rows, columns=["Stop", "Facility", "Problem", "Why", "Batches"])


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
    """The stops of one route, in order; "Stop" is its label (``Van 03 · trip 1 · stop 4``) and
    "Note" says why a late stop is late."""
    late = {x.facility_id: x.reason for x in plan.late}
    return pd.DataFrame(
        [
            {
                "#": r.sequence,
                "Stop": stop_label(plan, problem, route_no, r.sequence),
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
                "Note": (late.get(r.facility_id) or "late") if r.late_min else "",
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
