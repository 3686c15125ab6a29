"""GPX of a route for navigation apps: the stops as waypoints in driving order, plus a route element."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import gpxpy.gpx

from ltc_scheduler.exports.common import RunTag, get_route, route_label, stop_rows
from ltc_scheduler.exports.safe import xml_text
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem


def _at(problem: PlanningProblem, minute: int) -> dt.datetime:
    midnight = dt.datetime.combine(problem.date, dt.time(0), tzinfo=ZoneInfo(problem.timezone))
    return (midnight + dt.timedelta(minutes=minute)).astimezone(dt.UTC)


def route_gpx(plan: Plan, problem: PlanningProblem, route_no: int, *, run: RunTag | None = None) -> str:
    """GPX 1.1 text: waypoints ``01 Facility``... in stop order, a ``<rte>`` pharmacy -> stops -> pharmacy;
    the description names the plan run (``run``)."""
    route = get_route(plan, route_no)
    label = route_label(plan, problem, route_no)
    gpx = gpxpy.gpx.GPX()
    gpx.name = xml_text(f"{problem.depot.name} {plan.date.isoformat()} {label}")
    if run is not None:
        gpx.description = xml_text(f"{label}, {run.text()}")
    gpx.creator = "LTC Scheduler"
    depot = problem.depot
    rte = gpxpy.gpx.GPXRoute(name=xml_text(label))
    rte.points.append(
        gpxpy.gpx.GPXRoutePoint(depot.location.lat, depot.location.lon, name=xml_text(f"Start: {depot.name}"))
    )
    stops = {s.seq: s for s in route.stops}
    for row in stop_rows(plan, problem, route_no):
        if row.lat is None or row.lon is None:
            continue
        flags = []
        if row.cold:
            flags.append(f"{row.cold} cold")
        if row.controlled:
            flags.append(f"{row.controlled} controlled")
        desc = f"ETA {row.eta}, window {row.window or 'any'}, {row.totes} totes" + (
            f" ({', '.join(flags)})" if flags else ""
        )
        name = xml_text(f"{row.sequence:02d} {row.facility}")
        address = xml_text(row.address or "")
        wpt = gpxpy.gpx.GPXWaypoint(
            row.lat,
            row.lon,
            name=name,
            description=xml_text(desc),
            comment=address,
            time=_at(problem, stops[row.sequence].arrival_min),
            symbol="Flag, Blue",
        )
        gpx.waypoints.append(wpt)
        rte.points.append(gpxpy.gpx.GPXRoutePoint(row.lat, row.lon, name=name, comment=address))
    rte.points.append(
        gpxpy.gpx.GPXRoutePoint(
            depot.location.lat, depot.location.lon, name=xml_text(f"Return: {depot.name}")
        )
    )
    rte.description = f"Departs {clock(route.depart_min)}, back {clock(route.return_min)}"
    gpx.routes.append(rte)
    return gpx.to_xml(version="1.1")
