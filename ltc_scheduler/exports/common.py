"""Shared pieces of every dispatch export: clock formatting, route labels and the stop rows.

Exports work on plain objects only: a :class:`~ltc_scheduler.plan.model.Plan` plus the
:class:`~ltc_scheduler.problem.model.PlanningProblem` it was planned from (which carries the
pharmacy, the facilities with their addresses, the vehicles and the order lines). Nothing here
touches the database.

Routes are numbered from 1 in the order of ``plan.routes`` (the order the dashboard shows them).
"""

from __future__ import annotations

from dataclasses import dataclass

from ltc_scheduler.plan.model import Batch, Plan, PlanRoute, PlanStop
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import Facility, OrderLine, PlanningProblem, Vehicle


def window_text(start: int | None, end: int | None) -> str:
    """``"08:00-11:00"``; ``"by 11:00"`` / ``"from 08:00"`` when one end is open; empty when none."""
    if start is None and end is None:
        return ""
    if start is None:
        return f"by {clock(end)}"
    if end is None:
        return f"from {clock(start)}"
    return f"{clock(start)}-{clock(end)}"


def duration_text(minutes: float | int | None, *, short: bool = False) -> str:
    """``"2 h 05 min"`` / ``"45 min"`` (``short``: ``"2h 05"`` / ``"45 min"``)."""
    if minutes is None:
        return ""
    m = int(round(minutes))
    if m < 60:
        return f"{m} min"
    if short:
        return f"{m // 60}h {m % 60:02d}"
    return f"{m // 60} h {m % 60:02d} min"


def vehicle_name(problem: PlanningProblem, vehicle_id: int) -> str:
    vehicle = find_vehicle(problem, vehicle_id)
    return vehicle.name if vehicle else f"Vehicle {vehicle_id}"


def find_vehicle(problem: PlanningProblem, vehicle_id: int) -> Vehicle | None:
    return next((v for v in problem.vehicles if v.id == vehicle_id), None)


def find_facility(problem: PlanningProblem, facility_id: int) -> Facility | None:
    return next((f for f in problem.facilities if f.id == facility_id), None)


def facility_name(problem: PlanningProblem, facility_id: int) -> str:
    facility = find_facility(problem, facility_id)
    return facility.name if facility else f"Facility {facility_id}"


def get_route(plan: Plan, route_no: int) -> PlanRoute:
    """Route ``route_no`` (1-based); ``ValueError`` naming the valid range otherwise."""
    if not 1 <= route_no <= len(plan.routes):
        raise ValueError(
            f"route {route_no} does not exist: the plan for {plan.date} has routes 1..{len(plan.routes)}"
            if plan.routes
            else f"the plan for {plan.date} has no routes"
        )
    return plan.routes[route_no - 1]


def route_label(plan: Plan, problem: PlanningProblem, route_no: int) -> str:
    """``"Route 2 - Van B (trip 1)"``."""
    route = get_route(plan, route_no)
    label = f"Route {route_no} - {vehicle_name(problem, route.vehicle_id)}"
    trips = sum(1 for r in plan.routes if r.vehicle_id == route.vehicle_id)
    if trips > 1 or route.trip_no > 1:
        label += f" (trip {route.trip_no})"
    return label


def orders_by_id(problem: PlanningProblem) -> dict[int, OrderLine]:
    return {o.id: o for o in problem.orders}


def stop_batches(plan: Plan, stop: PlanStop) -> list[Batch]:
    keys = set(stop.batch_keys)
    return [b for b in plan.batches if b.key in keys]


def stop_order_lines(plan: Plan, problem: PlanningProblem, stop: PlanStop) -> list[OrderLine]:
    """The order lines delivered at ``stop`` (via its batches), in batch order."""
    by_id = orders_by_id(problem)
    lines: list[OrderLine] = []
    for batch in stop_batches(plan, stop):
        lines.extend(by_id[i] for i in batch.order_line_ids if i in by_id)
    return lines


@dataclass(frozen=True, slots=True)
class StopRow:
    """One stop as the dispatcher sees it (CSV row, PDF row, dashboard table row)."""

    route_no: int
    vehicle: str
    sequence: int
    facility_id: int
    facility: str
    address: str
    lat: float | None
    lon: float | None
    eta: str
    service_start: str
    departure: str
    window: str
    totes: int
    cold: int
    controlled: int
    service_min: int
    late_min: int
    stat: bool

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def stop_rows(plan: Plan, problem: PlanningProblem, route_no: int) -> list[StopRow]:
    """The stops of route ``route_no`` in driving order."""
    route = get_route(plan, route_no)
    vehicle = vehicle_name(problem, route.vehicle_id)
    rows = []
    for stop in sorted(route.stops, key=lambda s: s.seq):
        facility = find_facility(problem, stop.facility_id)
        rows.append(
            StopRow(
                route_no=route_no,
                vehicle=vehicle,
                sequence=stop.seq,
                facility_id=stop.facility_id,
                facility=facility.name if facility else f"Facility {stop.facility_id}",
                address=facility.address if facility else "",
                lat=facility.location.lat if facility else None,
                lon=facility.location.lon if facility else None,
                eta=clock(stop.arrival_min),
                service_start=clock(stop.start_min),
                departure=clock(stop.departure_min),
                window=window_text(stop.window_start_min, stop.window_end_min),
                totes=stop.totes,
                cold=stop.cold_totes,
                controlled=stop.controlled_totes,
                service_min=stop.departure_min - stop.start_min,
                late_min=stop.late_min,
                stat=stop.stat,
            )
        )
    return rows


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text``."""
    keep = [c if c.isalnum() or c in "-_" else "_" for c in text.strip()]
    return "".join(keep).strip("_") or "x"
