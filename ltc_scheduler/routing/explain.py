"""Why a stop was left unserved or served late, in words a dispatcher understands.

The explanation does not ask the solver: it checks the obvious causes on the problem itself, in
this order, and the first that holds is the reason:

1. **window unreachable**: even a direct trip leaving the pharmacy as soon as the stop is
   released (packed and verified) arrives after the last window closes (plus the allowed
   lateness of a soft window);
2. **STAT promise unreachable**: the same direct trip arrives after the promised time;
3. **too many totes**: more totes (or cold totes) than any vehicle (or cooler) holds;
4. **no authorised driver**: controlled items and no vehicle that holds the totes has an
   authorised driver;
5. **shifts**: no vehicle that may carry it can do the direct trip (leave, serve, return) inside
   its shift, the depot hours and its maximum trip duration: *every shift ends too early* (or
   *starts too late* to reach the window / keep the promise, or is *too short*);
6. otherwise **no capacity left in the fleet at that time**, with the cheapest fix: a later window
   (when a suitable vehicle is free later in its shift), else one more vehicle with the shift it
   would need.

Times are printed ``HH:MM`` when ``time_unit == "s"`` (seconds from local midnight); arrivals and
returns are rounded *up* to the minute, departures and window ends *down*. This module needs no
solver; the routing engine calls :func:`explain_unserved` on its answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ltc_scheduler.problem.clock import clock_seconds
from ltc_scheduler.routing.problem import (
    RoutingProblem,
    RoutingSolution,
    RoutingStop,
    RoutingVehicle,
    Trip,
    Unserved,
)

__all__ = ["NO_CAPACITY", "explain_late", "explain_stop", "explain_unserved"]

NO_CAPACITY = "no capacity left in the fleet at that time"


# --------------------------------------------------------------------------- wording helpers


def _clock(t: int, unit: str, up: bool = True) -> str:
    """A clock for seconds from midnight (rounded up, or down with ``up=False``); other units: the number."""
    return clock_seconds(t, up=up) if unit == "s" else str(int(t))


def _dur(t: int, unit: str) -> str:
    if unit != "s":
        return str(int(t))
    minutes = -(-int(t) // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def _windows_text(s: RoutingStop, unit: str) -> str:
    return ", ".join(f"{_clock(a, unit, up=False)}-{_clock(b, unit, up=False)}" for a, b in s.windows)


def _name(v: RoutingVehicle) -> str:
    return v.label or f"vehicle {v.key}"


# --------------------------------------------------------------------------- direct trips


def _latest_start(s: RoutingStop) -> int | None:
    """Latest allowed start by the windows (soft lateness included), ignoring the deadline."""
    if not s.windows:
        return None
    end = s.windows[-1][1]
    if s.late_penalty > 0:
        end += max(0, s.max_late)
    return end


def _start_at_or_after(s: RoutingStop, t: int) -> int | None:
    """Earliest start of service at or after ``t`` the windows allow (None: none left)."""
    if not s.windows:
        return t
    for a, b in s.windows:
        if t <= b:
            return max(a, t)
    latest = _latest_start(s)
    return t if latest is not None and t <= latest else None


def _ready(problem: RoutingProblem, s: RoutingStop) -> int:
    """Earliest moment the stop can leave the pharmacy (released and the pharmacy open)."""
    return max(s.release, problem.depot_window[0])


def _ready_text(problem: RoutingProblem, s: RoutingStop) -> str:
    u = problem.time_unit
    if s.release >= problem.depot_window[0]:
        return f"ready at {_clock(s.release, u)}"
    return f"the pharmacy opens at {_clock(problem.depot_window[0], u, up=False)}"


@dataclass(frozen=True, slots=True)
class _Direct:
    """A direct trip pharmacy -> stop -> pharmacy of one vehicle, as early as it can be."""

    vehicle: RoutingVehicle
    depart: int  # delayed so that it does not wait for the window
    arrival: int  # earliest arrival (leaving as soon as possible)
    start: int | None  # start of service, None when no window can be reached
    back: int | None

    @property
    def drive(self) -> int:
        return (self.back or 0) - self.depart


def _direct(problem: RoutingProblem, s: RoutingStop, v: RoutingVehicle, leave: int | None = None) -> _Direct:
    out_t = int(problem.duration[0, s.node])
    back_t = int(problem.duration[s.node, 0])
    leave = max(_ready(problem, s), v.start) if leave is None else leave
    start = _start_at_or_after(s, leave + out_t)
    if start is None:
        return _Direct(v, leave, leave + out_t, None, None)
    return _Direct(v, start - out_t, leave + out_t, start, start + s.service + back_t)


_STARTS_LATE = "every shift starts too late"
_ENDS_EARLY = "every shift ends too early"
_TOO_SHORT = "every shift is too short"


def _shift_miss(problem: RoutingProblem, s: RoutingStop, d: _Direct) -> tuple[int, str, str] | None:
    """(by how much, which kind, in words) a direct trip breaks the vehicle's day; None when it fits."""
    u = problem.time_unit
    v = d.vehicle
    if d.start is None or d.back is None:
        latest = _latest_start(s)
        return (
            d.arrival - (latest or 0),
            _STARTS_LATE,
            f"{_name(v)} starts at {_clock(v.start, u, up=False)} and arrives at {_clock(d.arrival, u)}, "
            f"after the window {_windows_text(s, u)}",
        )
    if s.deadline is not None and d.start > s.deadline:
        return (
            d.start - s.deadline,
            _STARTS_LATE,
            f"{_name(v)} starts at {_clock(v.start, u, up=False)} and arrives at {_clock(d.start, u)}, "
            f"after the STAT promise {_clock(s.deadline, u, up=False)}",
        )
    end = min(v.end, problem.depot_window[1])
    misses = []
    if d.back > end:
        misses.append(
            (
                d.back - end,
                _ENDS_EARLY,
                f"a direct trip with {_name(v)} leaving {_clock(d.depart, u, up=False)} returns at "
                f"{_clock(d.back, u)}, after its shift ends at {_clock(end, u, up=False)}",
            )
        )
    if v.max_duration is not None and d.drive > v.max_duration:
        misses.append(
            (
                d.drive - v.max_duration,
                _TOO_SHORT,
                f"a direct trip takes {_dur(d.drive, u)}, {_name(v)} may drive at most "
                f"{_dur(v.max_duration, u)} per trip",
            )
        )
    return max(misses) if misses else None


def _suitable(problem: RoutingProblem, s: RoutingStop) -> list[RoutingVehicle]:
    return [
        v
        for v in problem.vehicles
        if s.totes <= v.capacity and s.cold_totes <= v.cold_capacity and (v.controlled_ok or not s.controlled)
    ]


# --------------------------------------------------------------------------- unserved


def explain_stop(problem: RoutingProblem, s: RoutingStop, solution: RoutingSolution | None = None) -> str:
    """Why ``s`` could not be served: the first obvious cause, else the fleet was full."""
    u = problem.time_unit
    out_t = int(problem.duration[0, s.node])
    leave = _ready(problem, s)
    arrive = leave + out_t

    # 1. window unreachable on a direct trip after release
    latest = _latest_start(s)
    if latest is not None and arrive > latest:
        extra = f" (+{_dur(s.max_late, u)} allowed late)" if s.late_penalty > 0 and s.max_late > 0 else ""
        return (
            f"window unreachable: {_ready_text(problem, s)}, a direct trip ({_dur(out_t, u)}) arrives at "
            f"{_clock(arrive, u)} at the earliest, after the window {_windows_text(s, u)}{extra} closes"
        )
    # 2. STAT promise unreachable on a direct trip after release
    first = _start_at_or_after(s, arrive)
    if s.deadline is not None and (first is None or first > s.deadline):
        promise = _clock(s.deadline, u, up=False)
        if first is not None and first > arrive and arrive <= s.deadline:
            return (
                f"STAT promise unreachable: the promise {promise} is before the facility's window "
                f"{_windows_text(s, u)} opens"
            )
        return (
            f"STAT promise unreachable: {_ready_text(problem, s)}, the earliest possible arrival is "
            f"{_clock(arrive, u)}, after the promise {promise}"
        )
    vehicles = problem.vehicles
    if not vehicles:
        return "no vehicles are available on this day"

    # 3. totes exceed every vehicle
    if all(s.totes > v.capacity for v in vehicles):
        return (
            f"too many totes: {s.totes} totes exceed every vehicle "
            f"(the largest holds {max(v.capacity for v in vehicles)})"
        )
    if all(s.cold_totes > v.cold_capacity for v in vehicles):
        return (
            f"too many cold totes: {s.cold_totes} cold totes exceed every vehicle's cooler "
            f"(the largest holds {max(v.cold_capacity for v in vehicles)})"
        )
    holding = [v for v in vehicles if s.totes <= v.capacity and s.cold_totes <= v.cold_capacity]
    if not holding:
        return f"too many totes: no single vehicle holds both {s.totes} totes and {s.cold_totes} cold totes"

    # 4. controlled items need an authorised driver
    if s.controlled and not any(v.controlled_ok for v in holding):
        if any(v.controlled_ok for v in vehicles):
            return (
                "controlled items: no authorised driver on a vehicle large enough for "
                f"{s.totes} totes ({s.cold_totes} cold)"
            )
        return "controlled items: no authorised driver (no vehicle may carry controlled substances)"

    # 5. shifts: no suitable vehicle can do the direct trip in its day
    suitable = _suitable(problem, s)
    directs = [_direct(problem, s, v) for v in suitable]
    fitting = [d for d in directs if _shift_miss(problem, s, d) is None]
    if not fitting:
        misses = [m for d in directs if (m := _shift_miss(problem, s, d)) is not None]
        _, kind, words = min(misses)  # the vehicle that misses by the least
        return f"{kind}: {words}"

    # 6. the fleet was full: suggest the cheapest fix
    return f"{NO_CAPACITY}; {_cheapest_fix(problem, s, solution, fitting)}"


def _cheapest_fix(
    problem: RoutingProblem, s: RoutingStop, solution: RoutingSolution | None, fitting: list[_Direct]
) -> str:
    """A later window if a suitable vehicle is free after the window, then one more vehicle."""
    u = problem.time_unit
    best = min(fitting, key=lambda d: (d.drive, d.depart))
    more = (
        f"one more vehicle (at least {s.totes} totes"
        + (f", {s.cold_totes} cold" if s.cold_totes else "")
        + (", authorised driver" if s.controlled else "")
        + f") working {_clock(best.depart, u, up=False)}-{_clock(best.back or best.depart, u)}"
    )
    later = _later_window(problem, s, solution, fitting)
    if later is not None:
        arrival, v = later
        return f"cheapest fix: a later window, from {_clock(arrival, u)} ({_name(v)} is free then), or {more}"
    return f"cheapest fix: {more}"


def _later_window(
    problem: RoutingProblem, s: RoutingStop, solution: RoutingSolution | None, fitting: list[_Direct]
) -> tuple[int, RoutingVehicle] | None:
    """Earliest arrival of a suitable vehicle on a direct trip once its planned trips are done."""
    if solution is None:
        return None
    out_t = int(problem.duration[0, s.node])
    back_t = int(problem.duration[s.node, 0])
    trips: dict[str, list[Trip]] = {}
    for t in solution.trips:
        if t.visits:
            trips.setdefault(t.vehicle_key, []).append(t)
    best: tuple[int, RoutingVehicle] | None = None
    for d in fitting:
        v = d.vehicle
        mine = trips.get(v.key, [])
        if len(mine) >= v.max_trips:
            continue
        free = max([_ready(problem, s), v.start] + [t.return_ + problem.reload_time for t in mine])
        back = free + out_t + s.service + back_t
        if back > min(v.end, problem.depot_window[1]):
            continue
        if v.max_duration is not None and back - free > v.max_duration:
            continue
        if best is None or free + out_t < best[0]:
            best = (free + out_t, v)
    latest = _latest_start(s)
    if best is None or (latest is not None and best[0] <= latest):
        return None  # no vehicle is free later, or it is free in time (a later window would not help)
    return best


def explain_unserved(problem: RoutingProblem, solution: RoutingSolution) -> RoutingSolution:
    """``solution`` with the reason of every unserved stop worded for a dispatcher."""
    if not solution.unserved:
        return solution
    stops = {s.key: s for s in problem.stops}
    out = []
    for u in solution.unserved:
        s = stops.get(u.key)
        reason = (
            explain_stop(problem, s, solution) if s is not None else (u.reason or "not a stop of this day")
        )
        out.append(Unserved(u.key, reason))
    return replace(solution, unserved=tuple(out))


# --------------------------------------------------------------------------- late


def explain_late(problem: RoutingProblem, solution: RoutingSolution) -> dict[str, str]:
    """For every visit that starts after its last window closes: why, keyed by stop key."""
    stops = {s.key: s for s in problem.stops}
    out: dict[str, str] = {}
    for trip in solution.trips:
        for visit in trip.visits:
            s = stops.get(visit.stop_key)
            if s is None or not s.windows or visit.start <= s.windows[-1][1]:
                continue
            out[s.key] = _late_reason(problem, s, visit.start, solution)
    return out


def _late_reason(problem: RoutingProblem, s: RoutingStop, start: int, solution: RoutingSolution) -> str:
    u = problem.time_unit
    end = s.windows[-1][1]
    head = f"{_dur(start - end, u)} late (window {_windows_text(s, u)})"
    out_t = int(problem.duration[0, s.node])
    arrive = _ready(problem, s) + out_t
    if arrive > end:
        return (
            f"{head}: window unreachable, {_ready_text(problem, s)} and a direct trip arrives at "
            f"{_clock(arrive, u)} at the earliest"
        )
    suitable = _suitable(problem, s)
    directs = [_direct(problem, s, v) for v in suitable]
    if directs and all(d.arrival > end for d in directs):
        d = min(directs, key=lambda d: d.arrival)
        return (
            f"{head}: every shift starts too late, {_name(d.vehicle)} starts at "
            f"{_clock(d.vehicle.start, u, up=False)} and arrives at {_clock(d.arrival, u)} at the earliest"
        )
    fitting = [
        d for d in directs if d.start is not None and d.start <= end and _shift_miss(problem, s, d) is None
    ]
    if not fitting:
        return f"{head}: no suitable vehicle can reach it in time within its shift"
    fix = _cheapest_fix_late(problem, s, start, fitting)
    return f"{head}: {NO_CAPACITY} (the vehicles were busy with other stops); {fix}"


def _cheapest_fix_late(problem: RoutingProblem, s: RoutingStop, start: int, fitting: list[_Direct]) -> str:
    u = problem.time_unit
    best = min(fitting, key=lambda d: (d.drive, d.depart))
    return (
        f"cheapest fix: a later window (open until at least {_clock(start, u)}), or one more vehicle "
        f"working {_clock(best.depart, u, up=False)}-{_clock(best.back or best.depart, u)}"
    )
