"""CSV of the stops per route: what a dispatcher loads into a spreadsheet or a telematics tool."""

from __future__ import annotations

import io

from ltc_scheduler.exports.common import stop_rows
from ltc_scheduler.exports.safe import SafeCsvWriter
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.model import PlanningProblem

#: Column order of the stops CSV (``cold``/``controlled`` are tote counts, ``eta`` is the arrival time).
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
)


def stops_csv(plan: Plan, problem: PlanningProblem, route_no: int | None = None) -> str:
    """The stops of route ``route_no`` (1-based), or of every route when ``None``, as CSV text."""
    numbers = [route_no] if route_no is not None else list(range(1, len(plan.routes) + 1))
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(STOP_COLUMNS)
    for no in numbers:
        for row in stop_rows(plan, problem, no):
            writer.writerow(
                [
                    row.route_no,
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
                ]
            )
    return out.getvalue()
