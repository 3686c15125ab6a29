"""Shared pieces of every dispatch export: clock formatting, route labels and the stop rows.

Exports work on plain objects only: a :class:`~ltc_scheduler.plan.model.Plan` plus the
:class:`~ltc_scheduler.problem.model.PlanningProblem` it was planned from (which carries the
pharmacy, the facilities with their addresses, the vehicles and the order lines). Nothing here
touches the database.

A route is its vehicle and trip: :func:`route_label` gives ``"Van 03 · trip 1"``, the same in
every plan of the day whatever else changed, and :func:`route_slug` its file-name form
``"van03-1"``; :func:`find_route` reads either (or ``"Van 03 trip 1"``) back. Functions that take a
``route_no`` mean the route's place in ``plan.routes`` (1-based, ordered by vehicle and trip):
a handle for code, never shown to anyone. :class:`RunTag` names the plan run an export belongs to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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
    """Route ``route_no`` (1-based place in ``plan.routes``); ``ValueError`` otherwise."""
    if not 1 <= route_no <= len(plan.routes):
        raise ValueError(
            f"route {route_no} does not exist: the plan for {plan.date} has {len(plan.routes)} route(s)"
            if plan.routes
            else f"the plan for {plan.date} has no routes"
        )
    return plan.routes[route_no - 1]


#: between the vehicle and the trip in a route label
LABEL_SEP = " · "


def route_label(plan: Plan, problem: PlanningProblem, route_no: int) -> str:
    """``"Van 03 · trip 1"``: the route's vehicle and trip, stable across re-plans."""
    route = get_route(plan, route_no)
    return f"{vehicle_name(problem, route.vehicle_id)}{LABEL_SEP}trip {route.trip_no}"


def route_order(plan: Plan, problem: PlanningProblem) -> list[int]:
    """The route numbers in the order every list shows them: by vehicle name, then trip -- the
    same order in every plan of the day, whichever routes it has."""
    return sorted(
        range(1, len(plan.routes) + 1),
        key=lambda no: (
            vehicle_name(problem, plan.routes[no - 1].vehicle_id),
            plan.routes[no - 1].vehicle_id,
            plan.routes[no - 1].trip_no,
        ),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def route_slug(plan: Plan, problem: PlanningProblem, route_no: int) -> str:
    """The label as a file name: ``"van03-1"`` (letters and digits of the vehicle name, the trip);
    when two vehicles of the plan read the same that way, the vehicle id is added (``"van03v7-1"``)."""
    route = get_route(plan, route_no)
    base = _slug(vehicle_name(problem, route.vehicle_id)) or "vehicle"
    clash = any(
        r.vehicle_id != route.vehicle_id and _slug(vehicle_name(problem, r.vehicle_id)) == base
        for r in plan.routes
    )
    if clash or base == "vehicle":
        base += f"v{route.vehicle_id}"
    return f"{base}-{route.trip_no}"


def _route_key(text: str) -> str:
    """What is left of a route name to compare: letters and digits, without the word "trip"."""
    return _slug(text.lower().replace("trip", " "))


def find_route(plan: Plan, problem: PlanningProblem, text: str) -> int:
    """The ``route_no`` of the route named ``text``: its label (``"Van 03 · trip 1"``), its file
    name (``"van03-1"``) or the vehicle name and trip (``"Van 03 trip 1"``, ``"van 03 1"``); a
    vehicle's name alone when it makes one trip. ``ValueError`` naming the routes otherwise."""
    names = [route_label(plan, problem, no) for no in range(1, len(plan.routes) + 1)]
    if not names:
        raise ValueError(f"the plan for {plan.date} has no routes")
    want = _route_key(text)
    found: list[int] = []
    for no, route in enumerate(plan.routes, start=1):
        vehicle = vehicle_name(problem, route.vehicle_id)
        keys = {
            _route_key(f"{vehicle} {route.trip_no}"),
            _route_key(route_slug(plan, problem, no)),
        }
        if sum(1 for r in plan.routes if r.vehicle_id == route.vehicle_id) == 1:
            keys.add(_route_key(vehicle))
        if want and want in keys:
            found.append(no)
    if len(found) == 1:
        return found[0]
    listed = ", ".join(f'"{n}"' for n in names)
    if found:
        raise ValueError(f"route {text!r} could mean {len(found)} routes; give one of {listed}")
    hint = " (routes are named by vehicle and trip, not by number)" if text.strip().isdigit() else ""
    raise ValueError(f"there is no route {text!r} in the plan for {plan.date}{hint}; the routes are {listed}")


@dataclass(frozen=True, slots=True)
class RunTag:
    """The plan run an export belongs to: its number and when it was made (pharmacy time)."""

    run_id: int
    made_at: dt.datetime  # local wall time of the pharmacy

    @classmethod
    def of(cls, run_id: int, created_at: dt.datetime, tz: str) -> RunTag:
        """From a stored run: ``created_at`` is UTC (naive values read as UTC), ``tz`` the pharmacy's."""
        ts = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=dt.UTC)
        return cls(run_id, ts.astimezone(ZoneInfo(tz)).replace(tzinfo=None))

    def text(self) -> str:
        """``"plan run #12, made 2026-12-01 06:15"``."""
        return f"plan run #{self.run_id}, made {self.made_at:%Y-%m-%d %H:%M}"

    def stem(self) -> str:
        """``"run12_0615"``: the run in a file or folder name."""
        return f"run{self.run_id}_{self.made_at:%H%M}"


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
    route: str  # the route's label, "Van 03 · trip 1"
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
    label = route_label(plan, problem, route_no)
    rows = []
    for stop in sorted(route.stops, key=lambda s: s.seq):
        facility = find_facility(problem, stop.facility_id)
        rows.append(
            StopRow(
                route_no=route_no,
                route=label,
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
