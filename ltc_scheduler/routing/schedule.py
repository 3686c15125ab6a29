"""Exact times of the routes: from the solver's service starts, or for given routes.

The solver's cumuls give a feasible trip; the answer is recomputed from them. Every departure
between the solver's and the latest one that keeps the trip feasible (windows, no more lateness
than the solver's, the break where it is, back in time for the next trip/shift end) is feasible,
and the latest gives the shortest trip. The engine reports the *earliest* departure with that
shortest duration, then recomputes forwards: ``start`` = earliest time inside a window at or after
the arrival (a soft-window stop past its last window starts on arrival; ``late`` = start - last
close). So there is no waiting before the first stop unless a later window forces it.

:func:`schedule_routes` does the same for routes given from outside (published best-known
solutions), so the validator can check them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ltc_scheduler.routing.problem import (
    RoutingProblem,
    RoutingSolution,
    RoutingStop,
    RoutingVehicle,
    Trip,
    Unserved,
    Visit,
)

__all__ = ["schedule_routes", "schedule_trip"]


def _earliest_start(s: RoutingStop, ready: int) -> int:
    """Earliest start of service at or after ``ready`` inside a window (or late, for soft windows)."""
    for a, b in s.windows:
        if ready <= b:
            return max(ready, a)
    return ready


def schedule_trip(
    problem: RoutingProblem,
    v: RoutingVehicle,
    route: list[RoutingStop],
    starts: list[int],
    dep0: int,
    ret: int,
    brk: tuple[int, int] | None,
    ret_cap: int | None = None,
) -> Trip:
    """Exact times of one trip from the solver's service starts (see the module docstring).

    ``dep0`` is the solver's departure, ``ret`` its return (or the latest return the next loading
    allows), ``ret_cap`` the latest return allowed (shift end, next trip), default ``ret``.
    """
    dur = problem.duration
    nodes = [0] + [s.node for s in route] + [0]
    travel = [int(dur[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)]
    n = len(route)
    # leg j goes from nodes[j] to nodes[j+1]; which leg holds the break (by the solver's times)?
    leg_break = -1
    if brk is not None:
        deps = [dep0] + [starts[i] + route[i].service for i in range(n)]
        ends = starts + [ret]
        for j in range(n + 1):
            if deps[j] <= brk[0] and brk[1] <= ends[j]:
                leg_break = j
                break
    bd = (brk[1] - brk[0]) if brk is not None else 0

    def leg_time(j: int) -> int:
        return travel[j] + (bd if j == leg_break else 0)

    # backward: the latest service starts that keep the trip feasible (inside the windows, no
    # more lateness than the solver's, the break where it is, back by ``ret_cap``), then the
    # latest departure: leaving later can only shorten the waiting
    cap = ret if ret_cap is None else ret_cap
    if brk is not None and leg_break < 0 and brk[0] >= ret:
        cap = min(cap, brk[0])  # the break is taken at the depot after this trip
    bound = cap - leg_time(n)
    for i in range(n - 1, -1, -1):
        s = route[i]
        b = bound - s.service
        if brk is not None and leg_break > i:
            b = min(b, brk[0] - s.service)
        b = max(_latest_start(s, b, starts[i]), starts[i])
        bound = b - leg_time(i)
    latest_depart = max(dep0, bound) if n else dep0
    if leg_break == 0:
        latest_depart = min(latest_depart, brk[0])  # type: ignore[index]

    def forward(depart: int) -> tuple[list[Visit], int]:
        visits: list[Visit] = []
        prev_dep = depart
        for i, s in enumerate(route):
            arrival, ready = _arrive(prev_dep, travel[i], brk if leg_break == i else None)
            start = _earliest_start(s, ready)
            last_end = s.windows[-1][1] if s.windows else None
            late = max(0, start - last_end) if last_end is not None else 0
            visits.append(Visit(s.key, arrival, start, start + s.service, late))
            prev_dep = start + s.service
        return visits, _arrive(prev_dep, travel[n], brk if leg_break == n else None)[0]

    # every departure in [dep0, latest_depart] is feasible; the latest has the shortest trip;
    # take the earliest departure with that same duration (services as early as possible)
    visits, back = forward(latest_depart)
    shortest = back - latest_depart
    lo, hi = dep0, latest_depart
    while lo < hi:
        mid = (lo + hi) // 2
        v_mid, b_mid = forward(mid)
        if b_mid - mid <= shortest:
            hi = mid
        else:
            lo = mid + 1
    depart = hi
    visits, back = forward(depart)
    distance = int(sum(int(problem.distance[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)))
    return Trip(
        vehicle_key=v.key,
        trip_no=0,
        depart=int(depart),
        return_=int(back),
        visits=tuple(visits),
        distance=distance,
        duration=int(back - depart),
    )


def _latest_start(s: RoutingStop, bound: int, solver_start: int) -> int:
    """The latest start <= ``bound`` inside a window of ``s``, no later than its deadline and
    no later past the last window than the solver's own start (``solver_start`` if nothing fits)."""
    if s.deadline is not None:
        bound = min(bound, s.deadline)
    if not s.windows:
        return bound
    last_end = s.windows[-1][1]
    if s.late_penalty > 0 and bound > last_end:
        return max(min(bound, solver_start), last_end)
    for a, b in reversed(s.windows):
        if a <= bound:
            return min(bound, b)
    return solver_start


def _arrive(dep: int, travel: int, brk: tuple[int, int] | None) -> tuple[int, int]:
    """(arrival, earliest service start) after leaving at ``dep``, with a break on this leg or not."""
    if brk is None:
        return dep + travel, dep + travel
    b0, b1 = brk
    if b0 >= dep + travel:  # arrives first, takes the break while waiting
        return dep + travel, max(dep + travel + (b1 - b0), b1)
    arrival = dep + travel + (b1 - b0)
    return arrival, max(arrival, b1)


def schedule_routes(
    problem: RoutingProblem, routes: Sequence[tuple[str, Sequence[str]]], objective: int = 0
) -> RoutingSolution:
    """Times for given routes (``[(vehicle key, [stop keys...]), ...]``, trips in order per vehicle).

    Earliest feasible service starts (leaving at the shift start, the depot opening, the trip's
    releases and the previous trip's return plus reload), then the departure pushed late as in
    :func:`ltc_scheduler.routing.search.solve_routing`. No break is placed. Stops on no route are
    reported unserved. Used to re-check published routes (Solomon best-known solutions) with the validator.
    """
    stops = {s.key: s for s in problem.stops}
    vehicles = {v.key: v for v in problem.vehicles}
    dur = problem.duration
    trips: list[Trip] = []
    last_return: dict[str, int] = {}
    served: set[str] = set()
    for vkey, keys in routes:
        if not keys:
            continue
        v = vehicles[vkey]
        route = [stops[k] for k in keys]
        served.update(keys)
        dep = max(v.start, problem.depot_window[0], *(s.release for s in route))
        if vkey in last_return:
            dep = max(dep, last_return[vkey] + problem.reload_time)
        starts, t, node = [], dep, 0
        for s in route:
            t = _earliest_start(s, t + int(dur[node, s.node]))
            starts.append(t)
            t += s.service
            node = s.node
        trip = schedule_trip(problem, v, route, starts, dep, t + int(dur[node, 0]), None)
        no = sum(1 for tr in trips if tr.vehicle_key == vkey) + 1
        trips.append(replace(trip, trip_no=no))
        last_return[vkey] = trip.return_
    unserved = tuple(Unserved(s.key, "not on any route") for s in problem.stops if s.key not in served)
    return RoutingSolution(trips=tuple(trips), unserved=unserved, objective=objective, status="GIVEN")
