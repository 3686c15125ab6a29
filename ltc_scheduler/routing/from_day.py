"""The bridge between the day's :class:`PlanningProblem` and the routing engine.

:func:`build_routing_problem` turns the packed batches into a :class:`RoutingProblem` in
**seconds from local midnight**; :func:`to_plan_routes` turns the engine's answer back into plan
routes in **minutes**.

Node numbering
--------------
The travel matrix is built over :func:`day_points`: ``[depot] + [facility for facility in
problem.facilities]`` in that order, so node ``0`` is the pharmacy and facility
``problem.facilities[i]`` is node ``i + 1`` -- every facility of the day, with or without
deliveries, so one matrix serves the whole day (and re-planning).

Stops
-----
* One stop per facility that has batches; all its routine batches travel together, key
  ``str(facility.id)``.
* **STAT waves.** A facility's urgent (STAT / new admission) batches are grouped in waves by
  ready-by deadline: a batch more than ``params.stat_wave_min`` minutes after the wave's first one
  starts a new wave (a STAT received at 07:00 and one received at 13:00 are two runs; one stop
  would wait for the later order and break the earlier promise). The first wave's stop is
  ``"<id>-stat"``, later ones ``"<id>-stat-<first batch key>"`` (a facility with urgent batches
  only: the first wave is ``"<id>"``).
* **Split rule.** The first STAT wave rides with the routine batches in one stop unless their
  ready times differ by more than ``params.split_gap_min`` minutes, or one direct delivery could not
  both keep the STAT promise and start on time inside a routine window (inside the allowed
  lateness if the routine batches would be late anyway); merged, the stop has the STAT deadline,
  which saves a second visit.
* ``totes`` counts every tote (cold ones included: the cooler rides in the cargo space);
  ``cold_totes`` is the cold subset; ``controlled`` if any batch is controlled.
* ``service = facility.service_minutes(totes)`` in seconds.
* ``release`` = the latest ready time of its batches (``ready[batch.key]`` if given, else
  ``batch.verify_end_min``, else -- not packed yet -- its ready-by ``deadline_min``), never before
  ``problem.now_min`` when re-planning.
* **Routine stops**: the facility's windows as *soft* windows: ``late_penalty =
  settings.late_penalty_per_min / 60`` per second (at least 1), ``max_late = settings.max_late_min``,
  ``drop_penalty = settings.unserved_penalty``. A facility without windows accepts any time.
* **STAT stops**: hard ``deadline`` = the earliest ``need_by_min`` of their order lines; an
  urgent-only stop has **no window** (nursing homes accept first doses at any hour) and cannot be
  dropped except when impossible (``drop_penalty=None``); a merged stop keeps the routine windows
  (soft) and the hard deadline.

Vehicles
--------
One :class:`RoutingVehicle` per vehicle, key ``str(vehicle.id)``: tote and cooler capacity,
authorisation, shift (not before ``now_min``), ``max_duration = max_route_min``, ``fixed_cost =
vehicle.fixed_cost`` or ``settings.vehicle_cost`` when the vehicle has none, ``max_trips``, and its
break (``break_min`` inside ``break_window``) when the shift is longer than
``settings.break_after_shift_min``. The depot window is the pharmacy's opening hours; reloading
between two trips takes ``params.reload_min`` minutes. ``params`` is a
:class:`~ltc_scheduler.routing.params.DayRoutingParams` (defaults: 10, 60 and 90 minutes).
``arc_cost="duration"``.

One visit per facility per trip
-------------------------------
A facility's routine stop and an urgent stop are two stops of the problem (so they can ride on
different trips); when the engine puts them back to back on one trip, :func:`merge_repeat_visits`
makes them one stop -- key ``"<key>+<key>"``, one arrival, one service
``facility.service_minutes(all its totes)``, the routine windows and the STAT deadline -- and
re-times the trip forwards from its departure (the break stays in its leg, never earlier). A
merge that would break the STAT promise or a window, push the trip past the shift, its maximum
length, the next trip or the break window is not made; the validator's ``repeat_visit`` rule then names it.
:func:`to_plan_routes` merges before converting, so every export shows one stop.

Back to minutes
---------------
ETAs are never optimistic: arrival, start of service, departure from a stop, return and break
start are rounded **up** to the minute; the departure from the pharmacy is rounded **down** (still
after the release, which is a whole minute). ``late_min = start_min - window_end_min``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ltc_scheduler.enums import URGENT_CLASSES
from ltc_scheduler.plan.model import Batch, LateStop, PlanRoute, PlanStop, UnservedStop
from ltc_scheduler.problem.model import Facility, GeoPoint, OrderLine, PlanningProblem, Vehicle
from ltc_scheduler.problem.travel import TravelMatrix
from ltc_scheduler.routing.explain import explain_late
from ltc_scheduler.routing.params import DayRoutingParams
from ltc_scheduler.routing.problem import (
    RoutingProblem,
    RoutingSolution,
    RoutingStop,
    RoutingVehicle,
    Trip,
    Visit,
)

__all__ = [
    "STAT_SUFFIX",
    "build_routing_problem",
    "day_points",
    "facility_nodes",
    "merge_repeat_visits",
    "stop_batches",
    "to_plan_routes",
]

#: key suffix of the urgent stop of a split facility
STAT_SUFFIX = "-stat"
#: joins the keys of the stops merged into one visit (:func:`merge_repeat_visits`)
MERGE_SEP = "+"


def day_points(problem: PlanningProblem) -> list[GeoPoint]:
    """Points of the day's travel matrix: node 0 = the pharmacy, node i+1 = ``problem.facilities[i]``."""
    return [problem.depot.location] + [f.location for f in problem.facilities]


def facility_nodes(problem: PlanningProblem) -> dict[int, int]:
    """Facility id -> node of the travel matrix built over :func:`day_points`."""
    return {f.id: i + 1 for i, f in enumerate(problem.facilities)}


@dataclass(frozen=True, slots=True)
class _Group:
    key: str
    facility: Facility
    batches: tuple[Batch, ...]
    urgent: bool  # holds urgent batches
    routine: bool  # holds routine batches


def _is_urgent(b: Batch) -> bool:
    return b.order_class in URGENT_CLASSES


def _ready_min(b: Batch, ready: Mapping[str, int] | None, now_min: int | None) -> int:
    if ready is not None and b.key in ready:
        t = int(ready[b.key])
    elif b.verify_end_min is not None:
        t = b.verify_end_min
    else:
        t = b.deadline_min
    return max(t, now_min) if now_min is not None else t


def _order_lines(problem: PlanningProblem) -> dict[int, OrderLine]:
    return {ln.id: ln for ln in problem.orders}


def _stat_deadline_min(lines: Mapping[int, OrderLine], batches: Sequence[Batch]) -> int | None:
    """Earliest promise (need-by) of the urgent order lines in ``batches``."""
    best: int | None = None
    for b in batches:
        if not _is_urgent(b):
            continue
        own = []
        for lid in b.order_line_ids:
            ln = lines.get(lid)
            if ln is None:
                raise ValueError(
                    f"batch {b.key}, order_line_ids: order line {lid} is not in the day's orders"
                )
            own.append(ln)
        urgent = [ln for ln in own if ln.order_class in URGENT_CLASSES] or own
        for ln in urgent:
            best = ln.need_by_min if best is None else min(best, ln.need_by_min)
    return best


def _merge_ok(
    problem: PlanningProblem,
    fac: Facility,
    urgent: Sequence[Batch],
    routine: Sequence[Batch],
    ready: Mapping[str, int] | None,
    travel_min: int,
    lines: Mapping[int, OrderLine],
    split_gap_min: int,
) -> bool:
    """Can one delivery carry both the urgent and the routine batches of ``fac``?

    Yes when they are ready within ``split_gap_min`` of each other and a direct trip leaving
    when both are ready keeps the STAT promise and starts inside a routine window -- or, when the
    routine batches alone would already be late, inside the allowed lateness.
    """
    r_urgent = max(_ready_min(b, ready, problem.now_min) for b in urgent)
    r_routine = max(_ready_min(b, ready, problem.now_min) for b in routine)
    if abs(r_urgent - r_routine) > split_gap_min:
        return False
    deadline = _stat_deadline_min(lines, urgent)
    arrive = max(r_urgent, r_routine, problem.depot.open_min) + travel_min
    if deadline is not None and arrive > deadline:
        return False
    if not fac.windows:
        return True
    alone_late = max(r_routine, problem.depot.open_min) + travel_min > fac.windows[-1].end
    grace = problem.settings.max_late_min if alone_late else 0
    last = len(fac.windows) - 1
    for i, w in enumerate(fac.windows):
        start = max(arrive, w.start)
        latest = w.end + (grace if i == last else 0)
        if start <= latest and (deadline is None or start <= deadline):
            return True
    return False


def _groups(
    problem: PlanningProblem,
    batches: Sequence[Batch],
    ready: Mapping[str, int] | None,
    travel: TravelMatrix | None,
    params: DayRoutingParams,
) -> list[_Group]:
    facilities = {f.id: f for f in problem.facilities}
    nodes = facility_nodes(problem)
    lines = _order_lines(problem)
    by_fac: dict[int, list[Batch]] = defaultdict(list)
    for b in batches:
        if b.facility_id not in facilities:
            raise ValueError(f"batch {b.key}, facility_id: {b.facility_id} is not a facility of this day")
        by_fac[b.facility_id].append(b)
    out: list[_Group] = []
    for fac in problem.facilities:  # the day's order, deterministic
        bs = sorted(by_fac.get(fac.id, []), key=lambda b: b.key)
        if not bs:
            continue
        routine = [b for b in bs if not _is_urgent(b)]
        waves = _urgent_waves([b for b in bs if _is_urgent(b)], params.stat_wave_min)
        first = waves[0] if waves else []
        merged = False
        if first and routine:
            travel_min = travel.minutes(0, nodes[fac.id]) if travel is not None else 0
            merged = _merge_ok(problem, fac, first, routine, ready, travel_min, lines, params.split_gap_min)
        if routine:
            both = routine + first if merged else routine
            out.append(_Group(str(fac.id), fac, tuple(sorted(both, key=lambda b: b.key)), bool(merged), True))
        for i, wave in enumerate(waves):
            if i == 0 and merged:
                continue
            key = str(fac.id) if i == 0 and not routine else f"{fac.id}{STAT_SUFFIX}"
            if i > 0:
                key = f"{fac.id}{STAT_SUFFIX}-{wave[0].key}"
            out.append(_Group(key, fac, tuple(sorted(wave, key=lambda b: b.key)), urgent=True, routine=False))
    return out


def _urgent_waves(urgent: Sequence[Batch], stat_wave_min: int) -> list[list[Batch]]:
    """A facility's urgent batches in delivery waves: by ready-by deadline (then key), a new wave
    whenever a deadline is more than ``stat_wave_min`` after the wave's first one. A STAT
    received at 07:00 and one received at 13:00 are two STAT runs, not one run that waits for
    the later order and misses the earlier promise."""
    waves: list[list[Batch]] = []
    for b in sorted(urgent, key=lambda b: (b.deadline_min, b.key)):
        if waves and b.deadline_min - waves[-1][0].deadline_min <= stat_wave_min:
            waves[-1].append(b)
        else:
            waves.append([b])
    return waves


def _routing_vehicle(problem: PlanningProblem, v: Vehicle) -> RoutingVehicle:
    s = problem.settings
    start = v.shift_start if problem.now_min is None else max(v.shift_start, problem.now_min)
    brk_dur, brk_win = 0, None
    if (
        v.break_window is not None
        and v.break_min > 0
        and v.shift_end - v.shift_start > s.break_after_shift_min
    ):
        brk_dur, brk_win = v.break_min * 60, (v.break_window.start * 60, v.break_window.end * 60)
    return RoutingVehicle(
        key=str(v.id),
        capacity=v.tote_capacity,
        start=start * 60,
        end=v.shift_end * 60,
        cold_capacity=v.cold_capacity,
        controlled_ok=v.controlled_ok,
        max_duration=v.max_route_min * 60 if v.max_route_min > 0 else None,
        fixed_cost=v.fixed_cost if v.fixed_cost > 0 else s.vehicle_cost,
        break_duration=brk_dur,
        break_window=brk_win,
        max_trips=v.max_trips,
        label=v.name,
    )


def build_routing_problem(
    problem: PlanningProblem,
    batches: Sequence[Batch],
    travel: TravelMatrix,
    *,
    ready: Mapping[str, int] | None = None,
    params: DayRoutingParams | None = None,
) -> RoutingProblem:
    """The day's deliveries as a routing problem in seconds (see the module docstring).

    Raises :class:`ValueError` with a plain sentence when the travel matrix or a batch does not
    belong to the day.
    """
    params = params or DayRoutingParams()
    n = len(problem.facilities) + 1
    if travel.size != n:
        raise ValueError(
            f"travel matrix has {travel.size} points, the day has {n} (pharmacy + {n - 1} facilities); "
            "build it over day_points(problem)"
        )
    s = problem.settings
    nodes = facility_nodes(problem)
    late_penalty = max(1, round(s.late_penalty_per_min / 60))
    stops: list[RoutingStop] = []
    lines = _order_lines(problem)
    for g in _groups(problem, batches, ready, travel, params):
        fac = g.facility
        totes = sum(b.totes for b in g.batches)
        cold = sum(b.totes for b in g.batches if b.cold)
        release = max(_ready_min(b, ready, problem.now_min) for b in g.batches)
        deadline = _stat_deadline_min(lines, g.batches) if g.urgent else None
        windows = tuple((w.start * 60, w.end * 60) for w in fac.windows) if g.routine else ()
        stops.append(
            RoutingStop(
                key=g.key,
                node=nodes[fac.id],
                totes=totes,
                service=fac.service_minutes(totes) * 60,
                windows=windows,
                cold_totes=cold,
                controlled=any(b.controlled for b in g.batches),
                release=release * 60,
                deadline=deadline * 60 if deadline is not None else None,
                late_penalty=late_penalty if g.routine else 0,
                max_late=s.max_late_min * 60 if g.routine else 0,
                drop_penalty=None if g.urgent else s.unserved_penalty,
                priority=g.urgent,
                label=fac.name + (" (STAT)" if g.urgent and not g.routine else ""),
            )
        )
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=tuple(_routing_vehicle(problem, v) for v in problem.vehicles),
        duration=travel.seconds,
        distance=travel.metres,
        depot_window=(problem.depot.open_min * 60, problem.depot.close_min * 60),
        reload_time=params.reload_min * 60,
        arc_cost="duration",
        time_unit="s",
        labels={st.key: st.label for st in stops},
    )


def stop_batches(rp: RoutingProblem, batches: Sequence[Batch]) -> dict[str, tuple[Batch, ...]]:
    """Stop key -> the batches it carries (the inverse of the grouping of :func:`build_routing_problem`).

    The urgent batches of a facility are walked in the same order as :func:`_urgent_waves`; a
    later wave's stop is keyed ``"<id>-stat-<its first batch>"``, so the waves are found again
    from the keys (``batches`` must be those the problem was built from).
    """
    merged_into = {part: st.key for st in rp.stops if MERGE_SEP in st.key for part in st.key.split(MERGE_SEP)}
    keys = {st.key for st in rp.stops if MERGE_SEP not in st.key} | set(merged_into)
    out: dict[str, list[Batch]] = defaultdict(list)
    urgent: dict[int, list[Batch]] = defaultdict(list)
    for b in batches:
        if _is_urgent(b):
            urgent[b.facility_id].append(b)
        else:
            out[str(b.facility_id)].append(b)
    for fid, bs in urgent.items():
        plain = str(fid)
        key = f"{plain}{STAT_SUFFIX}" if f"{plain}{STAT_SUFFIX}" in keys else plain
        for b in sorted(bs, key=lambda b: (b.deadline_min, b.key)):
            later = f"{plain}{STAT_SUFFIX}-{b.key}"
            if later in keys:
                key = later
            out[key].append(b)
    for part, key in merged_into.items():
        out[key].extend(out.pop(part, []))
    return {k: tuple(sorted(v, key=lambda b: b.key)) for k, v in sorted(out.items())}


def _facility_id(key: str) -> int:
    return int(key.split(MERGE_SEP, 1)[0].split("-", 1)[0])


def _earliest_start(st: RoutingStop, ready: int) -> int:
    """Earliest start of service at or after ``ready`` inside a window (late for a soft window)."""
    for a, b in st.windows:
        if ready <= b:
            return max(ready, a)
    return ready


def _merged_stop(problem: PlanningProblem, parts: Sequence[RoutingStop]) -> RoutingStop:
    """One stop for ``parts`` (stops at one facility): totes added up, one service by the
    facility's rule, the routine windows, the earliest STAT deadline, the latest release."""
    first = parts[0]
    fac = problem.facilities[first.node - 1] if 0 < first.node <= len(problem.facilities) else None
    totes = sum(p.totes for p in parts)
    windowed = [p for p in parts if p.windows]
    deadlines = [p.deadline for p in parts if p.deadline is not None]
    return RoutingStop(
        key=MERGE_SEP.join(p.key for p in parts),
        node=first.node,
        totes=totes,
        service=fac.service_minutes(totes) * 60 if fac is not None else sum(p.service for p in parts),
        windows=windowed[0].windows if windowed else (),
        cold_totes=sum(p.cold_totes for p in parts),
        controlled=any(p.controlled for p in parts),
        release=max(p.release for p in parts),
        deadline=min(deadlines) if deadlines else None,
        late_penalty=max(p.late_penalty for p in parts),
        max_late=max((p.max_late for p in windowed), default=0),
        drop_penalty=None
        if any(p.drop_penalty is None for p in parts)
        else sum(int(p.drop_penalty or 0) for p in parts),
        priority=any(p.priority for p in parts),
        label=fac.name if fac is not None else first.label,
    )


def _break_leg(trip: Trip, break_duration: int) -> int | None:
    """Which leg of ``trip`` holds its break (leg ``i`` ends at visit ``i``, leg ``len(visits)``
    at the return), as the validator places it; ``None`` when it is outside the trip."""
    if trip.break_start is None:
        return None
    b0, b1 = trip.break_start, trip.break_start + break_duration
    prev_dep = trip.depart
    ends = [v.start for v in trip.visits] + [trip.return_]
    for i, end in enumerate(ends):
        if prev_dep <= b0 and b1 <= end:
            return i
        if i < len(trip.visits):
            prev_dep = trip.visits[i].departure
    return None


def _retime(
    rp: RoutingProblem,
    veh: RoutingVehicle,
    groups: list[list[RoutingStop]],
    trip: Trip,
    merged: dict[int, RoutingStop],
) -> Trip | None:
    """``trip`` with the groups in ``merged`` (group index -> merged stop) as one visit each,
    re-timed forwards from its departure (a break stays in its leg, never earlier; one taken at
    the facility between two deliveries that become one is taken there on arrival); ``None`` when
    a visit would then start after its STAT deadline or later than its window allows, or the
    break would leave its window."""
    bd = veh.break_duration
    leg = _break_leg(trip, bd)
    if (
        trip.break_start is not None
        and leg is None
        and trip.break_start < trip.return_
        and trip.break_start + bd > trip.depart
    ):
        return None  # a break the validator does not find in the trip: leave the trip alone
    first_of = []  # old visit index each group starts at
    k = 0
    for group in groups:
        first_of.append(k)
        k += len(group)
    break_group: int | None = None  # the group whose leg holds the break
    at_stop = False  # taken at the facility, between two deliveries that become one
    if leg is not None and leg < len(trip.visits):
        break_group = max(g for g, f in enumerate(first_of) if f <= leg)
        at_stop = leg != first_of[break_group]
    brk = trip.break_start
    visits: list[Visit] = []
    prev_node, prev_dep = 0, trip.depart
    for gi, group in enumerate(groups):
        st = merged.get(gi, group[0])
        travel = int(rp.duration[prev_node, st.node])
        arrival = prev_dep + travel
        ready = arrival
        if gi == break_group and brk is not None:
            if at_stop:  # on arrival, waiting for the window
                brk = max(brk, arrival)
            else:  # on the way
                brk = max(brk, prev_dep)
                arrival = brk + bd + travel
            ready = brk + bd
        start = _earliest_start(st, max(arrival, ready))
        late = max(0, start - st.windows[-1][1]) if st.windows else 0
        allowed_late = st.max_late if st.late_penalty else 0
        if (st.deadline is not None and start > st.deadline) or late > allowed_late:
            return None
        visits.append(Visit(st.key, arrival, start, start + st.service, late))
        prev_node, prev_dep = st.node, start + st.service
    back = prev_dep + int(rp.duration[prev_node, 0])
    if leg == len(trip.visits) and brk is not None:  # the break on the way back
        brk = max(brk, prev_dep)
        back = brk + bd + int(rp.duration[prev_node, 0])
    if brk is not None:
        if leg is None and brk >= trip.return_ and back > brk:
            return None  # the break after the trip would now overlap it
        if veh.break_window is not None and brk > veh.break_window[1]:
            return None
    new = replace(trip, visits=tuple(visits), return_=back, duration=back - trip.depart, break_start=brk)
    if leg is not None:
        want = break_group if break_group is not None else len(visits)
        if _break_leg(new, bd) != want:
            return None  # the validator would find the break in another leg
    return new


def merge_repeat_visits(
    problem: PlanningProblem, rp: RoutingProblem, solution: RoutingSolution
) -> tuple[RoutingProblem, RoutingSolution]:
    """One visit per facility per trip (see the module docstring): back-to-back stops at one
    facility become one stop of the returned problem and one visit of the returned solution.
    Returns ``rp`` and ``solution`` themselves when nothing is merged."""
    stops = {st.key: st for st in rp.stops}
    vehicles = {v.key: v for v in rp.vehicles}
    new_stops: dict[str, RoutingStop] = {}
    parts_of: dict[str, str] = {}
    trips: list[Trip] = []
    for trip in solution.trips:
        groups: list[list[RoutingStop]] = []
        for v in trip.visits:
            st = stops.get(v.stop_key)
            if st is None:  # not a stop of the problem: leave the trip to the validator
                groups = []
                break
            if groups and groups[-1][0].node == st.node:
                groups[-1].append(st)
            else:
                groups.append([st])
        veh = vehicles.get(trip.vehicle_key)
        best = _merge_what_fits(problem, rp, veh, groups, trip, solution) if veh is not None else None
        if best is None:
            trips.append(trip)
            continue
        new, kept_groups, merged = best
        trips.append(new)
        for gi, st in merged.items():
            new_stops[st.key] = st
            for part in kept_groups[gi]:
                parts_of[part.key] = st.key
    if not new_stops:
        return rp, solution
    out_stops: list[RoutingStop] = []
    for st in rp.stops:
        if st.key not in parts_of:
            out_stops.append(st)
        elif parts_of[st.key].split(MERGE_SEP, 1)[0] == st.key:
            out_stops.append(new_stops[parts_of[st.key]])
    labels = {k: v for k, v in rp.labels.items() if k not in parts_of}
    labels.update({st.key: st.label for st in new_stops.values()})
    return replace(rp, stops=tuple(out_stops), labels=labels), replace(solution, trips=tuple(trips))


def _merge_what_fits(
    problem: PlanningProblem,
    rp: RoutingProblem,
    veh: RoutingVehicle,
    groups: list[list[RoutingStop]],
    trip: Trip,
    solution: RoutingSolution,
) -> tuple[Trip, list[list[RoutingStop]], dict[int, RoutingStop]] | None:
    """Merge the back-to-back groups of ``trip`` one at a time, keeping each merge that still lets
    the whole trip keep its windows, promises, shift and next trip; a group that cannot be merged
    stays as separate visits (the validator then warns about it). ``None`` when nothing merges."""
    candidates = [gi for gi, g in enumerate(groups) if len(g) > 1]
    accepted: list[int] = []
    best = None
    for gi in candidates:
        trial = {*accepted, gi}
        layout: list[list[RoutingStop]] = []
        merged: dict[int, RoutingStop] = {}
        for gj, g in enumerate(groups):
            if gj in trial:
                merged[len(layout)] = _merged_stop(problem, g)
                layout.append(g)
            else:
                layout.extend([st] for st in g)
        new = _retime(rp, veh, layout, trip, merged)
        if new is None or not _trip_still_fits(new, trip, veh, solution, rp.reload_time):
            continue
        accepted.append(gi)
        best = (new, layout, merged)
    return best


def _trip_still_fits(
    new: Trip, old: Trip, veh: RoutingVehicle, solution: RoutingSolution, reload: int
) -> bool:
    """A re-timed trip that got longer still ends inside the shift, its maximum length and before
    the vehicle's next trip."""
    if new.return_ <= old.return_:
        return True
    if new.return_ > veh.end or (veh.max_duration is not None and new.duration > veh.max_duration):
        return False
    nxt = [t.depart for t in solution.trips if t.vehicle_key == old.vehicle_key and t.trip_no > old.trip_no]
    return not nxt or new.return_ + reload <= min(nxt)


def _up(t: int) -> int:
    return -(-int(t) // 60)


def to_plan_routes(
    problem: PlanningProblem,
    rp: RoutingProblem,
    solution: RoutingSolution,
    batches: Sequence[Batch],
) -> tuple[tuple[PlanRoute, ...], tuple[UnservedStop, ...], tuple[LateStop, ...]]:
    """The engine's answer in plan minutes: routes with stops, unserved stops, late stops.

    Back-to-back stops at one facility are first merged into one (:func:`merge_repeat_visits`)."""
    rp, solution = merge_repeat_visits(problem, rp, solution)
    stops = {st.key: st for st in rp.stops}
    carried = stop_batches(rp, batches)
    late_reasons = explain_late(rp, solution)
    routes: list[PlanRoute] = []
    late: list[LateStop] = []
    for trip in sorted(solution.trips, key=lambda t: (int(t.vehicle_key), t.trip_no)):
        if not trip.visits:
            continue
        plan_stops: list[PlanStop] = []
        drive = 0
        prev = 0
        for seq, v in enumerate(trip.visits, start=1):
            st = stops.get(v.stop_key)
            if st is None:
                raise ValueError(f"the routing answer visits {v.stop_key!r}, not a stop of the problem")
            drive += int(rp.duration[prev, st.node])
            prev = st.node
            bs = carried.get(st.key, ())
            start_min = _up(v.start)
            w_start, w_end = _window_of(st, v.start)
            late_min = max(0, start_min - w_end) if w_end is not None and st.windows else 0
            plan_stops.append(
                PlanStop(
                    seq=seq,
                    facility_id=_facility_id(st.key),
                    arrival_min=_up(v.arrival),
                    start_min=start_min,
                    departure_min=_up(v.departure),
                    totes=st.totes,
                    cold_totes=st.cold_totes,
                    controlled_totes=sum(b.totes for b in bs if b.controlled),
                    batch_keys=tuple(b.key for b in bs),
                    window_start_min=w_start,
                    window_end_min=w_end,
                    late_min=late_min,
                    stat=st.priority,
                )
            )
            if late_min > 0:
                late.append(
                    LateStop(
                        facility_id=_facility_id(st.key),
                        minutes=late_min,
                        reason=late_reasons.get(st.key, f"{late_min} min late"),
                    )
                )
        drive += int(rp.duration[prev, 0])
        routes.append(
            PlanRoute(
                vehicle_id=int(trip.vehicle_key),
                trip_no=trip.trip_no,
                depart_min=int(trip.depart) // 60,
                return_min=_up(trip.return_),
                stops=tuple(plan_stops),
                distance_m=int(trip.distance),
                drive_s=drive,
                break_start_min=_up(trip.break_start) if trip.break_start is not None else None,
            )
        )
    unserved = tuple(
        UnservedStop(
            facility_id=_facility_id(u.key),
            reason=u.reason,
            batch_keys=tuple(b.key for b in carried.get(u.key, ())),
        )
        for u in solution.unserved
    )
    return tuple(routes), unserved, tuple(late)


def _window_of(st: RoutingStop, start: int) -> tuple[int | None, int | None]:
    """The window (in minutes) a service start belongs to: the one containing it, else the last
    one that closed before it (late), else the next one; STAT-only stops show their promise."""
    if not st.windows:
        return None, (st.deadline // 60 if st.deadline is not None else None)
    chosen = st.windows[0]
    for a, b in st.windows:
        if a <= start <= b:
            chosen = (a, b)
            break
        if b < start:
            chosen = (a, b)
    return chosen[0] // 60, chosen[1] // 60
