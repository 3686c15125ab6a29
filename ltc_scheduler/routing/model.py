"""The OR-Tools routing model of a :class:`RoutingProblem`: one small function per rule.

Together with :mod:`ltc_scheduler.routing.search` this is the only place that imports the routing
API (``pywrapcp``). :func:`build_model` reads like the list below; each rule is one function.

How each product rule is modelled
---------------------------------
* **Vehicles.** One routing vehicle per physical vehicle (:func:`_fixed_cost`:
  ``SetFixedCostOfVehicle``, paid once however many trips it makes).
* **Trips, releases, loads** (:func:`_loading`, :func:`_totes`, :func:`_cold_totes`,
  :func:`_several_trips`). When a vehicle may do several trips or a stop has a release time,
  every stop ``i`` gets a *loading* node at the depot paired with it (``AddPickupAndDelivery``,
  same vehicle, loading first). Visiting a loading node after a stop means driving back to the
  depot: that ends a trip, and the arc into it costs ``reload_time``. The loading node's time
  window opens at the stop's ``release``, so the trip that carries the stop leaves no earlier.
  Totes (and cold totes) are +picked up at the loading node and -dropped at the stop, so the load
  dimension resets between trips; a ``returns`` dimension counts back-to-depot arcs, at most
  ``max_trips - 1``. Without trips or releases (Solomon), stops just add their totes.
* **Time** (:func:`_time`, :func:`_windows`). One ``time`` dimension; transit ``i -> j`` =
  service at ``i`` + travel time, slack = waiting. Windows: ``CumulVar.SetRange(first open, last
  close)`` plus ``RemoveInterval`` for the gaps between windows. A soft window (``late_penalty >
  0``) extends the range by ``max_late`` and costs ``late_penalty`` per unit past the last close
  (``SetCumulVarSoftUpperBound``). A STAT ``deadline`` caps the range (hard).
* **Shifts** (:func:`_shift`). The route starts (first departure) and ends (last return) inside
  the shift and the depot hours.
* **Trip duration** (:func:`_single_trip_duration`, :func:`_trip_length`,
  :func:`_trip_length_at_stop`). Single-trip model: ``SetSpanUpperBoundForVehicle``. Loading
  model: a ``trip`` dimension counts driving + service since the last loading (reset by a
  negative transit out of the loading nodes that their slack absorbs), capped at
  ``max_duration`` minus the break (the break may fall in any trip). Waiting inside a trip is not
  counted there; the reported schedule is checked and, if waiting still makes a trip too long,
  its last stops are reported unserved (never silently dropped, never an invalid trip).
* **Break** (:func:`_breaks`). One fixed-duration interval per vehicle starting in
  ``break_window`` (``SetBreakIntervalsOfVehicle``): it may interrupt a drive or a wait (also at
  the depot between trips), never a service.
* **Controlled substances** (:func:`_authorisation`). The stop's (and its loading's)
  ``VehicleVar`` excludes vehicles whose driver is not authorised.
* **Unserved** (:func:`_servable`, :func:`_drop`). Every stop is in a disjunction:
  ``drop_penalty`` or, when ``None``, a penalty larger than any possible route cost. Stops no
  vehicle could ever carry (too many totes, no authorised driver, an empty window) are left out
  of the model and reported unserved; :mod:`ltc_scheduler.routing.explain` words the reasons.
* **Objective** (:func:`_arc_cost`). Arc cost = distance or driving time (``problem.arc_cost``) +
  fixed vehicle cost + lateness penalties + drop penalties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp

from ltc_scheduler.routing.problem import RoutingProblem, RoutingStop, RoutingVehicle, Unserved

__all__ = ["build_model", "check_problem"]

_MAX_BIG = 10**12


# --------------------------------------------------------------------------- checks


def check_problem(problem: RoutingProblem) -> None:
    """Raise :class:`ValueError` with a plain sentence when ``problem`` cannot be a routing problem."""
    n = problem.n_nodes
    if problem.duration.shape != (n, n) or problem.distance.shape != (n, n):
        raise ValueError(
            f"routing matrices must be square and equal in size, got {problem.duration.shape} "
            f"and {problem.distance.shape}"
        )
    if problem.arc_cost not in ("distance", "duration"):
        raise ValueError(f"arc_cost must be 'distance' or 'duration', got {problem.arc_cost!r}")
    keys: set[str] = set()
    for s in problem.stops:
        if s.key in keys:
            raise ValueError(f"stop {s.key}: key used twice")
        keys.add(s.key)
        if not 1 <= s.node < n:
            raise ValueError(f"stop {s.key}, node: {s.node} is not a row of the {n}x{n} matrix (0 = depot)")
        if s.totes < 0 or s.cold_totes < 0 or s.service < 0:
            raise ValueError(f"stop {s.key}: totes, cold_totes and service must be >= 0")
        for a, b in s.windows:
            if b < a:
                raise ValueError(f"stop {s.key}, windows: window {a}-{b} ends before it starts")
    vkeys: set[str] = set()
    for v in problem.vehicles:
        if v.key in vkeys:
            raise ValueError(f"vehicle {v.key}: key used twice")
        vkeys.add(v.key)
        if v.max_trips < 1:
            raise ValueError(f"vehicle {v.key}, max_trips: must be >= 1, got {v.max_trips}")
        if v.capacity < 0 or v.cold_capacity < 0:
            raise ValueError(f"vehicle {v.key}: capacities must be >= 0")


# --------------------------------------------------------------------------- the model


@dataclass
class Model:
    """An OR-Tools routing model built from a problem, with the maps back to the problem.

    Routing nodes: 0 = depot, ``1..n`` = the stops in ``stops``, and when ``pickups`` is set
    ``n+1..2n`` = the loading of stop ``i`` at the depot (node ``n+i``).
    """

    problem: RoutingProblem
    stops: list[RoutingStop]  # stops in the model; routing node i+1 = stops[i]
    pre_unserved: list[Unserved]  # stops no vehicle can ever serve
    pickups: bool
    horizon: int
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: pywrapcp.RoutingDimension | None = None
    trip_dim: pywrapcp.RoutingDimension | None = None
    breaks: dict[int, object] = field(default_factory=dict)  # vehicle -> its break IntervalVar
    big: int = 0

    def kind(self, node: int) -> str:
        n = len(self.stops)
        return "depot" if node == 0 else ("stop" if node <= n else "load")


def build_model(problem: RoutingProblem) -> Model:
    """The OR-Tools model of ``problem`` (see the module docstring for each rule)."""
    horizon = _horizon(problem)
    stops, pre = _servable(problem, horizon)
    pickups = _needs_loadings(problem, stops)
    n, nv = len(stops), len(problem.vehicles)
    manager = pywrapcp.RoutingIndexManager(1 + n + (n if pickups else 0), max(1, nv), 0)
    m = Model(problem, stops, pre, pickups, horizon, manager, pywrapcp.RoutingModel(manager))
    dur, dist, service = _node_matrices(m)
    cost = dist if problem.arc_cost == "distance" else dur

    _arc_cost(m, cost)
    _time(m, dur, service)
    if nv == 0:  # no vehicle: a model where everything is dropped
        m.routing.solver().Add(m.routing.ActiveVehicleVar(0) == 0)
    _totes(m)
    if any(s.cold_totes for s in stops):
        _cold_totes(m)
    if pickups:
        _several_trips(m)
    m.big = _penalty_scale(m, cost)
    if pickups and any(v.max_duration is not None for v in problem.vehicles):
        _trip_length(m, dur, service)
    unauthorised = [r for r, v in enumerate(problem.vehicles) if not v.controlled_ok]
    for i, s in enumerate(stops, start=1):
        _windows(m, i, s)
        _drop(m, i, s)
        if pickups:
            _loading(m, i, s)
            if m.trip_dim is not None:
                _trip_length_at_stop(m, i, s)
        if s.controlled and unauthorised:
            _authorisation(m, i, unauthorised)
    for r, v in enumerate(problem.vehicles):
        _shift(m, r, v)
        if v.max_duration is not None and not pickups:
            _single_trip_duration(m, r, v)
        if v.fixed_cost:
            _fixed_cost(m, r, v)
    if any(v.break_duration > 0 and v.break_window is not None for v in problem.vehicles):
        _breaks(m)
    _early_returns(m)
    return m


# --------------------------------------------------------------------------- what is in the model


def _horizon(problem: RoutingProblem) -> int:
    """The end of the day: the depot's closing (when set) or the last shift end."""
    d1 = problem.depot_window[1]
    horizon = max([d1 if d1 < 10**9 else 0] + [v.end for v in problem.vehicles] + [1])
    return min(horizon, d1)


def _servable(problem: RoutingProblem, horizon: int) -> tuple[list[RoutingStop], list[Unserved]]:
    """The stops some vehicle could serve, and the others (unserved, with a short reason)."""
    stops: list[RoutingStop] = []
    pre: list[Unserved] = []
    for s in problem.stops:
        why = hopeless(s, problem.vehicles, horizon) if problem.vehicles else "no vehicles"
        if why is None:
            stops.append(s)
        else:
            pre.append(Unserved(s.key, why))
    return stops, pre


def _needs_loadings(problem: RoutingProblem, stops: Sequence[RoutingStop]) -> bool:
    """Loading nodes are needed when a vehicle may make several trips or a stop is released late."""
    d0 = problem.depot_window[0]
    earliest_departure = min((max(v.start, d0) for v in problem.vehicles), default=0)
    return len(stops) > 0 and (
        any(v.max_trips > 1 for v in problem.vehicles) or any(s.release > earliest_departure for s in stops)
    )


def _node_matrices(m: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Driving time and distance between routing nodes, and the service time at each."""
    n = len(m.stops)
    size = 1 + n + (n if m.pickups else 0)
    nodes = np.array([0] + [s.node for s in m.stops] + ([0] * n if m.pickups else []), dtype=np.int64)
    dur = np.asarray(m.problem.duration, dtype=np.int64)[np.ix_(nodes, nodes)]
    dist = np.asarray(m.problem.distance, dtype=np.int64)[np.ix_(nodes, nodes)]
    service = np.zeros(size, dtype=np.int64)
    service[1 : n + 1] = [s.service for s in m.stops]
    return dur, dist, service


def _penalty_scale(m: Model, cost: np.ndarray) -> int:
    """A cost larger than any set of routes: the price of leaving a must-serve stop unserved."""
    scale = int(cost.max(initial=0)) * 2 * (len(m.stops) + 1)
    scale += sum(v.fixed_cost for v in m.problem.vehicles)
    scale += sum(s.late_penalty * max(0, s.max_late) for s in m.stops)
    return int(min(_MAX_BIG, max(10**6, 10 * scale)))


# --------------------------------------------------------------------------- rules: dimensions


def _arc_cost(m: Model, cost: np.ndarray) -> None:
    """Each arc costs its distance or driving time."""
    cb = m.routing.RegisterTransitMatrix(cost.tolist())
    m.routing.SetArcCostEvaluatorOfAllVehicles(cb)


def _time(m: Model, dur: np.ndarray, service: np.ndarray) -> None:
    """Time: service at the node + driving to the next; back at the depot between trips, reload first."""
    n = len(m.stops)
    transit = dur + service[:, None]
    if m.pickups and m.problem.reload_time:
        transit[1 : n + 1, n + 1 :] += int(m.problem.reload_time)
    cb = m.routing.RegisterTransitMatrix(transit.tolist())
    m.routing.AddDimension(cb, m.horizon, m.horizon, False, "time")
    m.time_dim = m.routing.GetDimensionOrDie("time")


def _load(m: Model, name: str, amounts: list[int], caps: list[int]) -> None:
    """A load: picked up at the loading node (+), dropped at the stop (-); or just summed."""
    vec = [0] + ([-a for a in amounts] + amounts if m.pickups else list(amounts))
    cb = m.routing.RegisterUnaryTransitVector(vec)
    m.routing.AddDimensionWithVehicleCapacity(cb, 0, caps or [0], True, name)


def _totes(m: Model) -> None:
    """A vehicle carries at most its capacity in totes on each trip."""
    _load(m, "totes", [s.totes for s in m.stops], [v.capacity for v in m.problem.vehicles])


def _cold_totes(m: Model) -> None:
    """A vehicle's cooler carries at most its cold capacity on each trip."""
    _load(m, "cold", [s.cold_totes for s in m.stops], [v.cold_capacity for v in m.problem.vehicles])


def _several_trips(m: Model) -> None:
    """A vehicle comes back to the depot at most ``max_trips - 1`` times (a stop then a loading)."""
    n = len(m.stops)
    size = 1 + 2 * n
    returns = np.zeros((size, size), dtype=np.int64)
    returns[1 : n + 1, n + 1 :] = 1
    cb = m.routing.RegisterTransitMatrix(returns.tolist())
    caps = [v.max_trips - 1 for v in m.problem.vehicles]
    m.routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "returns")


def _trip_length(m: Model, dur: np.ndarray, service: np.ndarray) -> None:
    """Driving + service since the last loading (waiting excluded) stays within the trip limit.

    It resets at each loading through a negative transit out of the depot and loading nodes,
    absorbed by their slack.
    """
    n, horizon = len(m.stops), m.horizon
    tm = dur + service[:, None]
    tm[0, :] -= horizon
    tm[n + 1 :, :] -= horizon
    cb = m.routing.RegisterTransitMatrix(tm.tolist())
    limits = [trip_limit(v, horizon) for v in m.problem.vehicles]
    m.routing.AddDimensionWithVehicleCapacity(cb, horizon, limits or [0], True, "trip")
    m.trip_dim = m.routing.GetDimensionOrDie("trip")


# --------------------------------------------------------------------------- rules: each stop


def _windows(m: Model, i: int, s: RoutingStop) -> None:
    """Service starts inside a window (soft: late at a price, up to ``max_late``), by the deadline."""
    idx = m.manager.NodeToIndex(i)
    cum = m.time_dim.CumulVar(idx)
    lo, hi = stop_range(s, m.horizon)
    cum.SetRange(lo, hi)
    for (_, b), (a2, _) in zip(s.windows, s.windows[1:], strict=False):
        if a2 - 1 >= b + 1:
            cum.RemoveInterval(b + 1, a2 - 1)
    if is_soft(s):
        m.time_dim.SetCumulVarSoftUpperBound(idx, s.windows[-1][1], int(s.late_penalty))


def _drop(m: Model, i: int, s: RoutingStop) -> None:
    """A stop may be left unserved at its drop penalty."""
    m.routing.AddDisjunction([m.manager.NodeToIndex(i)], drop_penalty(s, m.big))


def _loading(m: Model, i: int, s: RoutingStop) -> None:
    """The stop's totes are loaded at the depot, on the same vehicle, before it, not before release."""
    routing, solver = m.routing, m.routing.solver()
    idx, pidx = m.manager.NodeToIndex(i), m.manager.NodeToIndex(len(m.stops) + i)
    routing.AddDisjunction([pidx], 0)
    routing.AddPickupAndDelivery(pidx, idx)
    solver.Add(routing.VehicleVar(pidx) == routing.VehicleVar(idx))
    solver.Add(routing.ActiveVar(pidx) == routing.ActiveVar(idx))
    m.time_dim.CumulVar(pidx).SetRange(max(s.release, m.problem.depot_window[0], 0), m.horizon)


def _trip_length_at_stop(m: Model, i: int, s: RoutingStop) -> None:
    """No waiting is counted in the trip length, and the stop is at least a drive from the depot."""
    idx = m.manager.NodeToIndex(i)
    m.trip_dim.SlackVar(idx).SetValue(0)
    m.trip_dim.CumulVar(idx).SetMin(int(m.problem.duration[0, s.node]))


def _authorisation(m: Model, i: int, unauthorised: list[int]) -> None:
    """Controlled items ride only with an authorised driver (the stop and its loading)."""
    related = [m.manager.NodeToIndex(i)]
    if m.pickups:
        related.append(m.manager.NodeToIndex(len(m.stops) + i))
    # (SetAllowedVehiclesForIndex's absl::Span argument is not usable from Python in 9.15)
    for j in related:
        m.routing.VehicleVar(j).RemoveValues(unauthorised)


# --------------------------------------------------------------------------- rules: each vehicle


def _shift(m: Model, r: int, v: RoutingVehicle) -> None:
    """The vehicle leaves and is back inside its shift and the depot hours (else it stays home)."""
    time_dim, routing = m.time_dim, m.routing
    lo, hi = shift_bounds(v, m.problem.depot_window, m.horizon)
    time_dim.CumulVar(routing.Start(r)).SetRange(lo, max(lo, hi))
    time_dim.CumulVar(routing.End(r)).SetRange(lo, max(lo, hi))
    if lo > hi:
        routing.solver().Add(routing.ActiveVehicleVar(r) == 0)


def _single_trip_duration(m: Model, r: int, v: RoutingVehicle) -> None:
    """One trip lasts at most ``max_duration``, waiting included."""
    m.time_dim.SetSpanUpperBoundForVehicle(int(v.max_duration), r)


def _fixed_cost(m: Model, r: int, v: RoutingVehicle) -> None:
    """Using the vehicle costs its fixed cost once, however many trips it makes."""
    m.routing.SetFixedCostOfVehicle(int(v.fixed_cost), r)


def _breaks(m: Model) -> None:
    """One break per vehicle inside its window: it may interrupt a drive or a wait, never a service."""
    routing, manager, solver = m.routing, m.manager, m.routing.solver()
    visit = [0] * (routing.Size() + routing.vehicles())
    for i, s in enumerate(m.stops, start=1):
        visit[manager.NodeToIndex(i)] = int(s.service)
    for r, v in enumerate(m.problem.vehicles):
        if v.break_duration <= 0 or v.break_window is None:
            continue
        b0, b1 = v.break_window
        iv = solver.FixedDurationIntervalVar(int(b0), int(b1), int(v.break_duration), False, f"break {v.key}")
        m.breaks[r] = iv
        m.time_dim.SetBreakIntervalsOfVehicle([iv], r, visit)


def _early_returns(m: Model) -> None:
    """Returns as early as possible (services early); departures are pushed late afterwards."""
    for r in range(len(m.problem.vehicles)):
        m.routing.AddVariableMinimizedByFinalizer(m.time_dim.CumulVar(m.routing.End(r)))


# --------------------------------------------------------------------------- the rules' numbers


def hopeless(s: RoutingStop, vehicles: Sequence[RoutingVehicle], horizon: int) -> str | None:
    """Why no vehicle could ever serve ``s`` (a short placeholder; explain.py words it), else None."""
    if not any(s.totes <= v.capacity for v in vehicles):
        return "more totes than any vehicle holds"
    if not any(s.cold_totes <= v.cold_capacity for v in vehicles):
        return "more cold totes than any vehicle's cooler holds"
    fits = [v for v in vehicles if s.totes <= v.capacity and s.cold_totes <= v.cold_capacity]
    if s.controlled and not any(v.controlled_ok for v in fits):
        return "no authorised vehicle for controlled items"
    lo, hi = stop_range(s, horizon)
    if lo > hi:
        return "its windows close before they open (deadline before the window)"
    return None


def stop_range(s: RoutingStop, horizon: int) -> tuple[int, int]:
    """Earliest and latest start of service of ``s``: its windows (+ ``max_late`` when soft), deadline."""
    if s.windows:
        lo, hi = s.windows[0][0], s.windows[-1][1]
        if s.late_penalty > 0:
            hi += max(0, s.max_late)
    else:
        lo, hi = 0, horizon
    if s.deadline is not None:
        hi = min(hi, s.deadline)
    return max(lo, 0), min(hi, horizon)


def shift_bounds(v: RoutingVehicle, depot_window: tuple[int, int], horizon: int) -> tuple[int, int]:
    """Earliest departure and latest return of ``v``: its shift inside the pharmacy's hours."""
    return max(v.start, depot_window[0], 0), min(v.end, depot_window[1], horizon)


def break_minutes(v: RoutingVehicle) -> int:
    """Length of ``v``'s break (0 without one), in the problem's time unit."""
    return v.break_duration if v.break_window is not None and v.break_duration > 0 else 0


def trip_limit(v: RoutingVehicle, horizon: int) -> int:
    """Driving + service allowed per trip: ``max_duration`` minus the break (a break may fall
    inside any trip, so a trip keeps room for it: conservative)."""
    return horizon if v.max_duration is None else max(0, int(v.max_duration) - break_minutes(v))


def is_soft(s: RoutingStop) -> bool:
    """Whether ``s`` may be served late (past its last window, at ``late_penalty`` per unit)."""
    return bool(s.windows) and s.late_penalty > 0 and s.max_late > 0


def drop_penalty(s: RoutingStop, big: int) -> int:
    """Cost of leaving ``s`` unserved: its ``drop_penalty`` or, when None, ``big``."""
    return big if s.drop_penalty is None else int(min(s.drop_penalty, big))
