"""CSV of the stops per route: what a dispatcher loads into a spreadsheet or a telematics tool."""

from __future__ import annotations

import io

from ltc_scheduler.exports.common import RunTag, route_order, stop_rows
from ltc_scheduler.exports.safe import SafeCsvWriter
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.model import PlanningProblem

#: Column order of the stops CSV (``cold``/``controlled`` are tote counts, ``eta`` is the arrival time;
#: ``route`` is the route's label, "Van 03 · trip 1"; ``plan_run`` / ``planned_at`` name the plan run).
STOP_COLUMNS: tuple[str, ...] = (
    "route",
    "vehicle",
    "sequence",
    "facility",
    "address",
    "eta",
    "window",
    "totes",
    "cold",
    "controlled",
    "service_start",
    "departure",
    "service_min",
    "late_min",
    "stat",
    "facility_id",
    "lat",
    "lon",
    "plan_run",
    "planned_at",
)


def stops_csv(
    plan: Plan, problem: PlanningProblem, route_no: int | None = None, *, run: RunTag | None = None
) -> str:
    """The stops of route ``route_no`` (1-based place in ``plan.routes``), or of every route when
    ``None`` (by vehicle and trip), as CSV text; ``run`` fills the ``plan_run`` and ``planned_at`` columns."""
    run_cells = [run.run_id, f"{run.made_at:%Y-%m-%d %H:%M}"] if run is not None else ["", ""]
    numbers = [route_no] if route_no is not None else route_order(plan, problem)
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(STOP_COLUMNS)
    for no in numbers:
        for row in stop_rows(plan, problem, no):
            writer.writerow(
                [
                    row.route,
                    row.vehicle,
                    row.sequence,
                    row.facility,
                    row.address,
                    row.eta,
                    row.window,
                    row.totes,
                    row.cold,
                    row.controlled,
                    row.service_start,
                    row.departure,
                    row.service_min,
                    row.late_min,
                    "yes" if row.stat else "no",
                    row.facility_id,
                    "" if row.lat is None else f"{row.lat:.6f}",
                    "" if row.lon is None else f"{row.lon:.6f}",
                    *run_cells,
                ]
            )
    return out.getvalue()
