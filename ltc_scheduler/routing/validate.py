"""Independent checker of a :class:`RoutingSolution` against its :class:`RoutingProblem`.

It recomputes every trip from the problem's matrices and rules and never calls a solver, so a
test (or the Solomon benchmark) can trust a solution because this module says it is right.

Rule codes (``Violation.rule``), all hard unless said otherwise:

==================  ===========================================================================
``unknown_vehicle`` a trip names a vehicle that is not in the problem
``unknown_stop``    a visit or an unserved entry names a stop that is not in the problem
``duplicate``       a stop is served more than once, or served and also listed as unserved
``missing``         a stop is neither served nor listed as unserved (silently dropped)
``unserved_reason`` an unserved stop has an empty reason
``travel``          an arrival is earlier than the previous departure plus the travel time
                    (also the return to the depot)
``service``         service starts before arrival, or the departure is before start + service
``window``          service starts outside every window (too early, between windows, or after
                    the last window of a hard-window stop)
``max_late``        a soft-window stop is later than its ``max_late`` allows
``late``            (soft, ``hard=False``) a soft-window stop served late within ``max_late``;
                    the message gives the lateness
``late_reported``   the ``Visit.late`` the solution reports differs from the recomputed lateness
``deadline``        service starts after the stop's hard deadline (STAT promise)
``capacity``        a trip carries more totes than the vehicle holds
``cold_capacity``   a trip carries more cold totes than the vehicle's cooler holds
``controlled``      a controlled-substance stop on a vehicle whose driver is not authorised
``shift``           a trip leaves before the shift starts or returns after it ends
``depot_hours``     a trip leaves before the depot opens or returns after it closes
``max_duration``    a trip is longer (depart to return) than the vehicle's ``max_duration``
``release``         a trip leaves the depot before a stop on it is released (packed, verified)
``trip_overlap``    a trip leaves before the previous trip of the vehicle returned plus reload
``trip_numbering``  trip numbers of a vehicle are not unique
``max_trips``       a vehicle makes more (non-empty) trips than ``max_trips``
``break``           a reported break starts outside the break window, overlaps service or
                    another trip, or does not fit in the leg where it is taken
``break_missing``   a vehicle with a break reports none and has no idle gap for it in the window
``distance``        the trip's reported distance differs from the matrix sum along its route
``repeat_visit``    a trip visits the same place twice in a row (two stops at one facility that
                    should be one visit: one arrival, one service for all its totes)
==================  ===========================================================================
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from ltc_scheduler.plan.model import Violation
from ltc_scheduler.problem.clock import clock_seconds
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution, RoutingStop, RoutingVehicle, Trip

__all__ = ["validate_routing", "hard_violations", "fmt_time"]


def fmt_time(t: int, unit: str = "s") -> str:
    """``t`` as a dispatcher reads it: ``"07:05:30"`` for seconds from midnight, else the number."""
    return clock_seconds(t, precise=True, up=False) if unit == "s" else str(t)


def hard_violations(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.hard]


def validate_routing(problem: RoutingProblem, solution: RoutingSolution) -> list[Violation]:
    """Every broken rule of ``solution`` (empty list = feasible and consistent)."""
    out: list[Violation] = []
    stops = {s.key: s for s in problem.stops}
    vehicles = {v.key: v for v in problem.vehicles}
    unit = problem.time_unit

    def t(x: int) -> str:
        return fmt_time(x, unit)

    # ---------------------------------------------------------------- coverage
    served: Counter[str] = Counter()
    for trip in solution.trips:
        if trip.vehicle_key not in vehicles:
            continue  # reported as unknown_vehicle below; its visits do not count as served
        for visit in trip.visits:
            served[visit.stop_key] += 1
    unserved_keys: Counter[str] = Counter(u.key for u in solution.unserved)
    for key in sorted(set(served) | set(unserved_keys)):
        if key not in stops:
            out.append(Violation("unknown_stop", f"stop {key}", "not a stop of this problem"))
            continue
        n = served[key] + unserved_keys[key]
        if n > 1:
            out.append(
                Violation(
                    "duplicate",
                    f"stop {key}",
                    f"served {served[key]} time(s) and listed unserved {unserved_keys[key]} time(s)",
                )
            )
    for key in stops:
        if served[key] == 0 and unserved_keys[key] == 0:
            out.append(Violation("missing", f"stop {key}", "neither served nor listed as unserved"))
    for u in solution.unserved:
        if not u.reason.strip():
            out.append(Violation("unserved_reason", f"stop {u.key}", "unserved without a reason"))

    # ---------------------------------------------------------------- per trip
    by_vehicle: dict[str, list[Trip]] = defaultdict(list)
    for trip in solution.trips:
        veh = vehicles.get(trip.vehicle_key)
        if veh is None:
            out.append(
                Violation("unknown_vehicle", f"vehicle {trip.vehicle_key}", "not a vehicle of this problem")
            )
            continue
        by_vehicle[veh.key].append(trip)
        out.extend(_check_trip(problem, stops, veh, trip, t))

    # ---------------------------------------------------------------- per vehicle
    for vkey, trips in by_vehicle.items():
        veh = vehicles[vkey]
        out.extend(_check_vehicle_day(problem, veh, trips, t))
    return out


def _trip_name(trip: Trip) -> str:
    return f"vehicle {trip.vehicle_key} trip {trip.trip_no}"


def _check_trip(
    problem: RoutingProblem,
    stops: dict[str, RoutingStop],
    veh: RoutingVehicle,
    trip: Trip,
    t: Callable[[int], str],
) -> list[Violation]:
    out: list[Violation] = []
    name = _trip_name(trip)
    dur = problem.duration
    dist = problem.distance
    visits = [v for v in trip.visits if v.stop_key in stops]
    if not trip.visits:
        return out

    # shift, depot hours, max duration
    if trip.depart < veh.start or trip.return_ > veh.end:
        out.append(
            Violation(
                "shift",
                name,
                f"works {t(trip.depart)}-{t(trip.return_)} outside the shift {t(veh.start)}-{t(veh.end)}",
            )
        )
    d0, d1 = problem.depot_window
    if trip.depart < d0 or trip.return_ > d1:
        out.append(
            Violation(
                "depot_hours",
                name,
                f"works {t(trip.depart)}-{t(trip.return_)} outside depot hours {t(d0)}-{t(d1)}",
            )
        )
    if veh.max_duration is not None and trip.return_ - trip.depart > veh.max_duration:
        out.append(
            Violation(
                "max_duration",
                name,
                f"lasts {trip.return_ - trip.depart}, more than the maximum {veh.max_duration}",
            )
        )

    # loads and authorisation
    totes = sum(stops[v.stop_key].totes for v in visits)
    cold = sum(stops[v.stop_key].cold_totes for v in visits)
    if totes > veh.capacity:
        out.append(Violation("capacity", name, f"carries {totes} totes, vehicle holds {veh.capacity}"))
    if cold > veh.cold_capacity:
        out.append(
            Violation("cold_capacity", name, f"carries {cold} cold totes, cooler holds {veh.cold_capacity}")
        )
    if not veh.controlled_ok:
        for v in visits:
            if stops[v.stop_key].controlled:
                out.append(
                    Violation(
                        "controlled",
                        f"stop {v.stop_key}",
                        f"controlled items on {name}, whose driver is not authorised",
                    )
                )

    # release
    for v in visits:
        s = stops[v.stop_key]
        if trip.depart < s.release:
            out.append(
                Violation(
                    "release",
                    f"stop {v.stop_key}",
                    f"{name} leaves at {t(trip.depart)} before the stop is ready at {t(s.release)}",
                )
            )

    # timing along the route
    brk = (trip.break_start, trip.break_start + veh.break_duration) if trip.break_start is not None else None
    break_placed = brk is None
    prev_node, prev_dep = 0, trip.depart
    nodes = [0]
    for v in visits:
        s = stops[v.stop_key]
        nodes.append(s.node)
        travel = int(dur[prev_node, s.node])
        if v.arrival < prev_dep + travel:
            out.append(
                Violation(
                    "travel",
                    f"stop {v.stop_key}",
                    f"arrives {t(v.arrival)}, but cannot arrive before {t(prev_dep + travel)} "
                    f"(leaves previous at {t(prev_dep)}, travel {travel})",
                )
            )
        if brk is not None and not break_placed and prev_dep <= brk[0] and brk[1] <= v.start:
            break_placed = True
            if v.start - prev_dep < travel + veh.break_duration:
                out.append(
                    Violation(
                        "break",
                        name,
                        f"break at {t(brk[0])} does not fit between {t(prev_dep)} and service at "
                        f"stop {v.stop_key} at {t(v.start)} with travel {travel}",
                    )
                )
            elif brk[0] < v.arrival < prev_dep + travel + veh.break_duration:
                out.append(
                    Violation(
                        "break",
                        f"stop {v.stop_key}",
                        f"arrives {t(v.arrival)}, but a break taken on the way from {t(brk[0])} means "
                        f"not before {t(prev_dep + travel + veh.break_duration)}",
                    )
                )
        if v.start < v.arrival:
            out.append(
                Violation(
                    "service", f"stop {v.stop_key}", f"starts {t(v.start)} before arrival {t(v.arrival)}"
                )
            )
        if v.departure < v.start + s.service:
            out.append(
                Violation(
                    "service",
                    f"stop {v.stop_key}",
                    f"leaves {t(v.departure)}, before start {t(v.start)} + service {s.service}",
                )
            )
        out.extend(_check_windows(s, v.start, v.late, t))
        prev_node, prev_dep = s.node, v.departure
    travel = int(dur[prev_node, 0])
    nodes.append(0)
    if trip.return_ < prev_dep + travel:
        out.append(
            Violation(
                "travel",
                name,
                f"returns {t(trip.return_)}, but cannot be back before {t(prev_dep + travel)}",
            )
        )
    if brk is not None and not break_placed and prev_dep <= brk[0] and brk[1] <= trip.return_:
        break_placed = True
        if trip.return_ - prev_dep < travel + veh.break_duration:
            out.append(
                Violation(
                    "break",
                    name,
                    f"break at {t(brk[0])} does not fit between {t(prev_dep)} "
                    f"and the return {t(trip.return_)}",
                )
            )
    if brk is not None:
        bw = veh.break_window
        if bw is None or veh.break_duration <= 0:
            out.append(Violation("break", name, "reports a break, but the vehicle has none"))
        elif not bw[0] <= brk[0] <= bw[1]:
            out.append(
                Violation("break", name, f"break starts {t(brk[0])} outside its window {t(bw[0])}-{t(bw[1])}")
            )
        inside_trip = brk[0] < trip.return_ and brk[1] > trip.depart
        if inside_trip and not break_placed:
            out.append(
                Violation("break", name, f"break at {t(brk[0])}-{t(brk[1])} overlaps service at a stop")
            )

    out.extend(_check_repeat_visits(stops, trip, name))

    # distance
    expected = int(sum(int(dist[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)))
    if trip.distance != expected:
        out.append(
            Violation("distance", name, f"reports distance {trip.distance}, the matrix gives {expected}")
        )
    return out


def _check_repeat_visits(stops: dict[str, RoutingStop], trip: Trip, name: str) -> list[Violation]:
    """Two consecutive visits of ``trip`` at the same node: one place, two arrivals."""
    out: list[Violation] = []
    visits = [v for v in trip.visits if v.stop_key in stops]
    for prev, v in zip(visits, visits[1:], strict=False):
        if stops[prev.stop_key].node == stops[v.stop_key].node:
            out.append(
                Violation(
                    "repeat_visit",
                    f"stop {v.stop_key}",
                    f"{name} visits the place of stop {prev.stop_key} again right after it; "
                    "deliveries to one place on one trip are one visit",
                    # soft: the pipeline merges every pair it can, so a pair left is two deliveries
                    # that one arrival could not make (a STAT promise before the routine window)
                    hard=False,
                )
            )
    return out


def _check_windows(
    s: RoutingStop, start: int, reported_late: int, t: Callable[[int], str]
) -> list[Violation]:
    out: list[Violation] = []
    subject = f"stop {s.key}"
    late = 0
    if s.windows:
        inside = any(a <= start <= b for a, b in s.windows)
        last_end = s.windows[-1][1]
        wtext = ", ".join(f"{t(a)}-{t(b)}" for a, b in s.windows)
        if not inside:
            if start > last_end and s.late_penalty > 0:
                late = start - last_end
                if late > s.max_late:
                    out.append(
                        Violation(
                            "max_late",
                            subject,
                            f"starts {t(start)}, {late} late after {t(last_end)}; "
                            f"at most {s.max_late} allowed",
                        )
                    )
                else:
                    out.append(
                        Violation(
                            "late",
                            subject,
                            f"starts {t(start)}, {late} late after the window {wtext}",
                            hard=False,
                        )
                    )
            else:
                out.append(Violation("window", subject, f"starts {t(start)} outside its windows {wtext}"))
        late = max(0, start - last_end)
    if reported_late != late:
        out.append(Violation("late_reported", subject, f"reports {reported_late} late, recomputed {late}"))
    if s.deadline is not None and start > s.deadline:
        out.append(
            Violation(
                "deadline",
                subject,
                f"starts {t(start)}, after its promise {t(s.deadline)} ({start - s.deadline} late)",
            )
        )
    return out


def _check_vehicle_day(
    problem: RoutingProblem, veh: RoutingVehicle, trips: list[Trip], t: Callable[[int], str]
) -> list[Violation]:
    out: list[Violation] = []
    nums = Counter(tr.trip_no for tr in trips)
    for no, n in nums.items():
        if n > 1:
            out.append(Violation("trip_numbering", f"vehicle {veh.key}", f"trip number {no} used {n} times"))
    used = sorted((tr for tr in trips if tr.visits), key=lambda tr: (tr.depart, tr.trip_no))
    if len(used) > veh.max_trips:
        out.append(
            Violation("max_trips", f"vehicle {veh.key}", f"makes {len(used)} trips, at most {veh.max_trips}")
        )
    for a, b in zip(used, used[1:], strict=False):
        if b.depart < a.return_ + problem.reload_time:
            out.append(
                Violation(
                    "trip_overlap",
                    _trip_name(b),
                    f"leaves {t(b.depart)} before trip {a.trip_no} is back and reloaded "
                    f"({t(a.return_)} + {problem.reload_time})",
                )
            )
    # breaks taken at the depot (outside every trip) must not overlap a trip
    if veh.break_window is not None and veh.break_duration > 0 and used:
        starts = [tr.break_start for tr in used if tr.break_start is not None]
        for bs in starts:
            be = bs + veh.break_duration
            owner = [tr for tr in used if tr.break_start == bs]
            for tr in used:
                if tr in owner:
                    continue
                if bs < tr.return_ and be > tr.depart:
                    out.append(
                        Violation(
                            "break", f"vehicle {veh.key}", f"break at {t(bs)} overlaps {_trip_name(tr)}"
                        )
                    )
        if not starts and not _idle_gap_for_break(veh, used):
            bw = veh.break_window
            out.append(
                Violation(
                    "break_missing",
                    f"vehicle {veh.key}",
                    f"no break of {veh.break_duration} starting in {t(bw[0])}-{t(bw[1])}",
                )
            )
    return out


def _idle_gap_for_break(veh: RoutingVehicle, used: list[Trip]) -> bool:
    """Could the driver take the break at the depot (or off duty) between/around the trips?"""
    assert veh.break_window is not None
    lo, hi = veh.break_window
    candidates = {lo} | {tr.return_ for tr in used if lo <= tr.return_ <= hi}
    for s in sorted(candidates):
        e = s + veh.break_duration
        if all(e <= tr.depart or s >= tr.return_ for tr in used):
            return True
    return False
