"""Google Maps directions links for a route, split into legs the link format supports.

A Google Maps URL (``maps/dir/?api=1``) takes an origin, a destination and at most 9 waypoints
(mobile apps honour no more), so a route with more stops becomes several links: each link ends
where the next one starts.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ltc_scheduler.exports.common import stop_rows
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.model import PlanningProblem

#: waypoints between origin and destination that one link may carry
MAX_WAYPOINTS = 9


def _point(lat: float, lon: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


def directions_url(points: list[tuple[float, float]]) -> str:
    """One directions link through ``points`` (origin, waypoints..., destination)."""
    if len(points) < 2:
        raise ValueError("a directions link needs at least an origin and a destination")
    if len(points) - 2 > MAX_WAYPOINTS:
        raise ValueError(f"a directions link supports at most {MAX_WAYPOINTS} waypoints")
    params = {
        "api": "1",
        "origin": _point(*points[0]),
        "destination": _point(*points[-1]),
        "travelmode": "driving",
    }
    if len(points) > 2:
        params["waypoints"] = "|".join(_point(*p) for p in points[1:-1])
    return "https://www.google.com/maps/dir/?" + urlencode(params, safe=",|")


def maps_links(
    plan: Plan, problem: PlanningProblem, route_no: int, *, max_waypoints: int = MAX_WAYPOINTS
) -> list[str]:
    """Links covering pharmacy -> stops in order -> pharmacy; consecutive links share an end point."""
    if max_waypoints < 0 or max_waypoints > MAX_WAYPOINTS:
        raise ValueError(f"max_waypoints must be between 0 and {MAX_WAYPOINTS}")
    depot = (problem.depot.location.lat, problem.depot.location.lon)
    points = [depot]
    points += [(r.lat, r.lon) for r in stop_rows(plan, problem, route_no) if r.lat is not None]
    points.append(depot)
    step = max_waypoints + 1  # points a link advances by
    links = []
    for first in range(0, len(points) - 1, step):
        links.append(directions_url(points[first : first + step + 1]))
    return links
