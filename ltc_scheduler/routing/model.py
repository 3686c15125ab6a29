"""The delivery routing engine: OR-Tools' routing library on a :class:`RoutingProblem`.

This is the only module that imports the routing API (``pywrapcp``). It turns a problem into an
OR-Tools model, searches, and returns a :class:`RoutingSolution` with exact times per visit.

How each product rule is modelled
---------------------------------
* **Vehicles.** One routing vehicle per physical vehicle (fixed cost ``SetFixedCostOfVehicle``,
  paid once however many trips it makes).
* **Trips, releases, loads.** When a vehicle may do several trips or a stop has a release time,
  every stop ``i`` gets a *loading* node at the depot paired with it (``AddPickupAndDelivery``,
  same vehicle, loading first). Visiting a loading node after a stop means driving back to the
  depot: that ends a trip, and the arc into it costs ``reload_time``. The loading node's time
  window opens at the stop's ``release``, so the trip that carries the stop leaves no earlier.
  Totes (and cold totes) are +picked up at the loading node and -dropped at the stop, so the load
  dimension resets between trips; a ``returns`` dimension counts back-to-depot arcs, at most
  ``max_trips - 1``. Without trips or releases (Solomon), stops just add their totes.
* **Time.** One ``time`` dimension; transit ``i -> j`` = service at ``i`` + travel time, slack =
  waiting. Windows: ``CumulVar.SetRange(first open, last close)`` plus ``RemoveInterval`` for the
  gaps between windows. A soft window (``late_penalty > 0``) extends the range by ``max_late`` and
  costs ``late_penalty`` per unit past the last close (``SetCumulVarSoftUpperBound``). A STAT
  ``deadline`` caps the range (hard).
* **Shifts.** The route starts (first departure) and ends (last return) inside the shift and the
  depot hours.
* **Trip duration.** Single-trip model: ``SetSpanUpperBoundForVehicle``. Loading model: a ``trip``
  dimension counts driving + service since the last loading (reset by a negative transit out of
  the loading nodes that their slack absorbs), capped at ``max_duration`` minus the break (the
  break may fall in any trip). Waiting inside a trip is not counted there; the reported schedule
  is checked and, if waiting still makes a trip too long, its last stops are reported unserved
  (never silently dropped, never an invalid trip).
* **Break.** One fixed-duration interval per vehicle starting in ``break_window``
  (``SetBreakIntervalsOfVehicle``): it may interrupt a drive or a wait (also at the depot between
  trips), never a service.
* **Controlled substances.** The stop's (and its loading's) ``VehicleVar`` excludes vehicles whose
  driver is not authorised.
* **Unserved.** Every stop is in a disjunction: ``drop_penalty`` or, when ``None``, a penalty
  larger than any possible route cost. Stops no vehicle could ever carry (too many totes, no
  authorised driver, an empty window) are left out of the model and reported unserved; reasons
  are worded by ``routing/explain.py`` when it is there.
* **Objective.** Arc cost = distance or driving time (``problem.arc_cost``) + fixed vehicle cost +
  lateness penalties + drop penalties.

How it searches
---------------
A ruin-and-recreate search (SISR, :mod:`ltc_scheduler.routing.warm_start`, compiled with
numba) gets ``params.ruin_recreate_share`` of the time on the same problem in plain arrays (several
trips through trip markers, the break taken at the pharmacy between trips, soft windows as hard
and late stops put in at the end). Its routes are loaded into the OR-Tools model
(``ReadAssignmentFromRoutes``, which checks them against every rule of the model); guided local
search then polishes them for the rest of the time and prices lateness exactly. With
``ruin_recreate_share = 0``, for fewer than two stops, or if the model refused the routes, the
start is OR-Tools' first-solution heuristic (``params.first_solution``) and guided local search
gets all the time.

Times reported
--------------
The solver's cumuls give a feasible trip; the answer is recomputed from them. Every departure
between the solver's and the latest one that keeps the trip feasible (windows, no more lateness
than the solver's, the break where it is, back in time for the next trip/shift end) is feasible,
and the latest gives the shortest trip. The engine reports the *earliest* departure with that
shortest duration, then recomputes forwards: ``start`` = earliest time inside a window at or after
the arrival (a soft-window stop past its last window starts on arrival; ``late`` = start - last
close). So there is no waiting before the first stop unless a later window forces it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from ltc_scheduler.errors import BadInput
from ltc_scheduler.routing.params import (
    DEFAULT_OPERATORS,
    DEFAULT_TWEAKS,
    MULTI_START_STRATEGIES,
    RoutingParams,
)
from ltc_scheduler.routing.problem import (
    RoutingProblem,
    RoutingSolution,
    RoutingStop,
    RoutingVehicle,
    Trip,
    Unserved,
    Visit,
)

__all__ = ["solve_routing", "schedule_routes"]

_STATUS = {v: k for k, v in routing_enums_pb2.RoutingSearchStatus.Value.items()}
_MAX_BIG = 10**12
_BOOL_TRUE = optional_boolean_pb2.BOOL_TRUE
_BOOL_FALSE = optional_boolean_pb2.BOOL_FALSE
#: operators that only add/remove stops (useless once all stops are served and none may be dropped)
_ACTIVITY_OPERATORS = (
    "make_active",
    "make_inactive",
    "make_chain_inactive",
    "swap_active",
    "extended_swap_active",
    "relocate_and_make_active",
    "exchange_and_make_active",
    "exchange_path_start_ends_and_make_active",
    "relocate_path_global_cheapest_insertion_insert_unperformed",
    "shortest_path_swap_active",
    "swap_active_chain",
    "node_pair_swap_active",
    "inactive_lns",
)


# --------------------------------------------------------------------------- public entry


def solve_routing(problem: RoutingProblem, params: RoutingParams | None = None) -> RoutingSolution:
    """Route ``problem``: every stop is on a trip or in ``unserved`` with a reason.

    With ``params.workers > 1`` several independent searches run in parallel processes (different
    first-solution strategies) and the one with the lowest objective wins.
    """
    params = params or RoutingParams()
    t0 = time.perf_counter()
    _check(problem)
    if params.workers > 1 and len(problem.stops) > 1:
        sol = _solve_parallel(problem, params, t0)
    else:
        sol = _solve_one(problem, params, t0)
    sol = _explain(problem, sol)
    return _with(sol, wall_s=time.perf_counter() - t0)


# --------------------------------------------------------------------------- checks


def _check(problem: RoutingProblem) -> None:
    n = problem.n_nodes
    if problem.duration.shape != (n, n) or problem.distance.shape != (n, n):
        raise BadInput(
            f"routing matrices must be square and equal in size, got {problem.duration.shape} "
            f"and {problem.distance.shape}"
        )
    if problem.arc_cost not in ("distance", "duration"):
        raise BadInput(f"arc_cost must be 'distance' or 'duration', got {problem.arc_cost!r}")
    keys: set[str] = set()
    for s in problem.stops:
        if s.key in keys:
            raise BadInput(f"stop {s.key}: key used twice")
        keys.add(s.key)
        if not 1 <= s.node < n:
            raise BadInput(f"stop {s.key}, node: {s.node} is not a row of the {n}x{n} matrix (0 = depot)")
        if s.totes < 0 or s.cold_totes < 0 or s.service < 0:
            raise BadInput(f"stop {s.key}: totes, cold_totes and service must be >= 0")
        for a, b in s.windows:
            if b < a:
                raise BadInput(f"stop {s.key}, windows: window {a}-{b} ends before it starts")
    vkeys: set[str] = set()
    for v in problem.vehicles:
        if v.key in vkeys:
            raise BadInput(f"vehicle {v.key}: key used twice")
        vkeys.add(v.key)
        if v.max_trips < 1:
            raise BadInput(f"vehicle {v.key}, max_trips: must be >= 1, got {v.max_trips}")
        if v.capacity < 0 or v.cold_capacity < 0:
            raise BadInput(f"vehicle {v.key}: capacities must be >= 0")


# --------------------------------------------------------------------------- model


@dataclass
class _Model:
    """An OR-Tools routing model built from a problem, with the maps back to the problem.

    Routing nodes: 0 = depot, ``1..n`` = the stops in ``stops``, and when ``pickups`` is set
    ``n+1..2n`` = the loading of stop ``i`` at the depot (node ``n+i``).
    """

    problem: RoutingProblem
    stops: list[RoutingStop]  # stops in the model; routing node i+1 = stops[i]
    pre_unserved: list[Unserved]  # stops no vehicle can ever serve
    pickups: bool
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: pywrapcp.RoutingDimension
    breaks: dict[int, object]  # vehicle -> its break IntervalVar
    big: int
    horizon: int

    def kind(self, node: int) -> str:
        n = len(self.stops)
        return "depot" if node == 0 else ("stop" if node <= n else "load")


def _hopeless(s: RoutingStop, vehicles: Sequence[RoutingVehicle], horizon: int) -> str | None:
    """Why no vehicle could ever serve ``s`` (a short placeholder; explain.py words it), else None."""
    if not any(s.totes <= v.capacity for v in vehicles):
        return "more totes than any vehicle holds"
    if not any(s.cold_totes <= v.cold_capacity for v in vehicles):
        return "more cold totes than any vehicle's cooler holds"
    fits = [v for v in vehicles if s.totes <= v.capacity and s.cold_totes <= v.cold_capacity]
    if s.controlled and not any(v.controlled_ok for v in fits):
        return "no authorised vehicle for controlled items"
    lo, hi = _stop_range(s, horizon)
    if lo > hi:
        return "its windows close before they open (deadline before the window)"
    return None


def _stop_range(s: RoutingStop, horizon: int) -> tuple[int, int]:
    if s.windows:
        lo, hi = s.windows[0][0], s.windows[-1][1]
        if s.late_penalty > 0:
            hi += max(0, s.max_late)
    else:
        lo, hi = 0, horizon
    if s.deadline is not None:
        hi = min(hi, s.deadline)
    return max(lo, 0), min(hi, horizon)


def _shift(v: RoutingVehicle, depot_window: tuple[int, int], horizon: int) -> tuple[int, int]:
    """Earliest departure and latest return of ``v``: its shift inside the pharmacy's hours."""
    return max(v.start, depot_window[0], 0), min(v.end, depot_window[1], horizon)


def _break_minutes(v: RoutingVehicle) -> int:
    return v.break_duration if v.break_window is not None and v.break_duration > 0 else 0


def _trip_limit(v: RoutingVehicle, horizon: int) -> int:
    """Driving + service allowed per trip: ``max_duration`` minus the break (a break may fall
    inside any trip, so a trip keeps room for it: conservative)."""
    return horizon if v.max_duration is None else max(0, int(v.max_duration) - _break_minutes(v))


def _is_soft(s: RoutingStop) -> bool:
    return bool(s.windows) and s.late_penalty > 0 and s.max_late > 0


def _drop_penalty(s: RoutingStop, big: int) -> int:
    """Cost of leaving ``s`` unserved: its ``drop_penalty`` or, when None, ``big``."""
    return big if s.drop_penalty is None else int(min(s.drop_penalty, big))


def _build(problem: RoutingProblem) -> _Model:
    vehicles = problem.vehicles
    nv = len(vehicles)
    d0, d1 = problem.depot_window
    horizon = max([d1 if d1 < 10**9 else 0] + [v.end for v in vehicles] + [1])
    horizon = min(horizon, d1)

    stops: list[RoutingStop] = []
    pre: list[Unserved] = []
    for s in problem.stops:
        why = _hopeless(s, vehicles, horizon) if vehicles else "no vehicles"
        if why is None:
            stops.append(s)
        else:
            pre.append(Unserved(s.key, why))
    n = len(stops)
    earliest_departure = min((max(v.start, d0) for v in vehicles), default=0)
    pickups = n > 0 and (
        any(v.max_trips > 1 for v in vehicles) or any(s.release > earliest_departure for s in stops)
    )
    size = 1 + n + (n if pickups else 0)

    manager = pywrapcp.RoutingIndexManager(size, max(1, nv), 0)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    nodes = np.array([0] + [s.node for s in stops] + ([0] * n if pickups else []), dtype=np.int64)
    dur = np.asarray(problem.duration, dtype=np.int64)[np.ix_(nodes, nodes)]
    dist = np.asarray(problem.distance, dtype=np.int64)[np.ix_(nodes, nodes)]
    service = np.zeros(size, dtype=np.int64)
    service[1 : n + 1] = [s.service for s in stops]
    cost = dist if problem.arc_cost == "distance" else dur
    transit = dur + service[:, None]
    if pickups and problem.reload_time:
        transit[1 : n + 1, n + 1 :] += int(problem.reload_time)  # back at the depot: reload first

    cost_cb = routing.RegisterTransitMatrix(cost.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    if nv == 0:  # no vehicle: a model where everything is dropped
        solver.Add(routing.ActiveVehicleVar(0) == 0)

    # --- loads: picked up at the depot (+), dropped at the stop (-); or just summed (no pickups)
    def load_dim(name: str, amounts: list[int], caps: list[int]) -> None:
        vec = [0] + ([-a for a in amounts] + amounts if pickups else list(amounts))
        cb = routing.RegisterUnaryTransitVector(vec)
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps or [0], True, name)

    load_dim("totes", [s.totes for s in stops], [v.capacity for v in vehicles])
    if any(s.cold_totes for s in stops):
        load_dim("cold", [s.cold_totes for s in stops], [v.cold_capacity for v in vehicles])
    if pickups:
        returns = np.zeros((size, size), dtype=np.int64)
        returns[1 : n + 1, n + 1 :] = 1  # a stop followed by a loading = back to the depot
        cb = routing.RegisterTransitMatrix(returns.tolist())
        routing.AddDimensionWithVehicleCapacity(cb, 0, [v.max_trips - 1 for v in vehicles], True, "returns")

    # --- stops: windows, deadlines, soft lateness, authorisation, drop penalty
    scale = int(cost.max(initial=0)) * 2 * (n + 1)
    scale += sum(v.fixed_cost for v in vehicles)
    scale += sum(s.late_penalty * max(0, s.max_late) for s in stops)
    big = int(min(_MAX_BIG, max(10**6, 10 * scale)))
    unauthorised = [r for r, v in enumerate(vehicles) if not v.controlled_ok]
    max_dur = [_trip_limit(v, horizon) for v in vehicles]
    trip_dim = None
    if pickups and any(v.max_duration is not None for v in vehicles):
        # driving + service time since the last loading (waiting excluded): resets at each loading
        # through a negative transit out of the depot/loading nodes absorbed by their slack
        tm = dur + service[:, None]
        tm[0, :] -= horizon
        tm[n + 1 :, :] -= horizon
        cb = routing.RegisterTransitMatrix(tm.tolist())
        routing.AddDimensionWithVehicleCapacity(cb, horizon, max_dur or [0], True, "trip")
        trip_dim = routing.GetDimensionOrDie("trip")
    for i, s in enumerate(stops, start=1):
        idx = manager.NodeToIndex(i)
        cum = time_dim.CumulVar(idx)
        lo, hi = _stop_range(s, horizon)
        soft = _is_soft(s)
        cum.SetRange(lo, hi)
        for (_, b), (a2, _) in zip(s.windows, s.windows[1:], strict=False):
            if a2 - 1 >= b + 1:
                cum.RemoveInterval(b + 1, a2 - 1)
        if soft:
            time_dim.SetCumulVarSoftUpperBound(idx, s.windows[-1][1], int(s.late_penalty))
        routing.AddDisjunction([idx], _drop_penalty(s, big))
        related = [idx]
        if pickups:
            pidx = manager.NodeToIndex(n + i)
            related.append(pidx)
            routing.AddDisjunction([pidx], 0)
            routing.AddPickupAndDelivery(pidx, idx)
            solver.Add(routing.VehicleVar(pidx) == routing.VehicleVar(idx))
            solver.Add(routing.ActiveVar(pidx) == routing.ActiveVar(idx))
            time_dim.CumulVar(pidx).SetRange(max(s.release, d0, 0), horizon)
            # trip duration (driving + service since loading; waiting is checked afterwards)
            if trip_dim is not None:
                trip_dim.SlackVar(idx).SetValue(0)
                trip_dim.CumulVar(idx).SetMin(int(problem.duration[0, s.node]))
        if s.controlled and unauthorised:
            # (SetAllowedVehiclesForIndex's absl::Span argument is not usable from Python in 9.15)
            for j in related:
                routing.VehicleVar(j).RemoveValues(unauthorised)

    # --- vehicles: shifts, depot hours, duration, fixed cost
    for r, v in enumerate(vehicles):
        start, end = routing.Start(r), routing.End(r)
        lo, hi = _shift(v, problem.depot_window, horizon)
        time_dim.CumulVar(start).SetRange(lo, max(lo, hi))
        time_dim.CumulVar(end).SetRange(lo, max(lo, hi))
        if lo > hi:  # a shift outside the depot hours: the vehicle cannot be used
            solver.Add(routing.ActiveVehicleVar(r) == 0)
        if v.max_duration is not None and not pickups:
            time_dim.SetSpanUpperBoundForVehicle(int(v.max_duration), r)
        if v.fixed_cost:
            routing.SetFixedCostOfVehicle(int(v.fixed_cost), r)

    # --- breaks: may interrupt a drive or a wait (also at the depot), never a service
    breaks: dict[int, object] = {}
    if any(v.break_duration > 0 and v.break_window is not None for v in vehicles):
        visit = [0] * (routing.Size() + routing.vehicles())
        for i, s in enumerate(stops, start=1):
            visit[manager.NodeToIndex(i)] = int(s.service)
        for r, v in enumerate(vehicles):
            if v.break_duration <= 0 or v.break_window is None:
                continue
            b0, b1 = v.break_window
            iv = solver.FixedDurationIntervalVar(
                int(b0), int(b1), int(v.break_duration), False, f"break {v.key}"
            )
            breaks[r] = iv
            time_dim.SetBreakIntervalsOfVehicle([iv], r, visit)

    # returns as early as possible (services early); departures are pushed late afterwards
    for r in range(nv):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(r)))
    return _Model(problem, stops, pre, pickups, manager, routing, time_dim, breaks, big, horizon)


def _core_problem(m: _Model):
    """The model as plain arrays for the ruin-and-recreate warm start (None for fewer than two
    stops).

    Several trips: a vehicle that may make ``t`` trips gets ``t - 1`` *trip markers*, nodes at the
    pharmacy that stay on its route (reload time as their service; loads, releases and the trip
    length limit start again after them). The warm start is conservative where the model is
    richer: the break is taken at the pharmacy (the first marker starts inside the break window
    and lasts break + reload; a single-trip vehicle is back by the latest break start), a trip's
    driving + service is capped as in the model, a soft window counts as hard. What it leaves
    out, OR-Tools inserts afterwards (late, or anywhere else its model allows).
    """
    if len(m.stops) < 2 or not m.problem.vehicles:
        return None
    from ltc_scheduler.routing.warm_start import CoreProblem

    problem, stops, vehicles = m.problem, m.stops, m.problem.vehicles
    n, nv, horizon = len(stops), len(vehicles), m.horizon
    extra_trips = [max(0, v.max_trips - 1) if m.pickups else 0 for v in vehicles]
    n_mark = sum(extra_trips)
    size = n + 1 + n_mark
    nodes = np.array([0] + [s.node for s in stops] + [0] * n_mark, dtype=np.int64)
    travel = np.asarray(problem.duration, dtype=np.int64)[np.ix_(nodes, nodes)]
    base = problem.distance if problem.arc_cost == "distance" else problem.duration
    cost = np.asarray(base, dtype=np.int64)[np.ix_(nodes, nodes)]
    width = max(1, max(len(s.windows) for s in stops))
    win_a = np.zeros((size, width), dtype=np.int64)
    win_b = np.zeros((size, width), dtype=np.int64)
    nwin = np.ones(size, dtype=np.int64)
    win_b[:, 0] = horizon
    service = np.zeros(size, dtype=np.int64)
    allowed = np.ones((size, nv), dtype=np.bool_)
    for i, s in enumerate(stops, start=1):
        service[i] = s.service
        hi_cap = min(horizon, s.deadline if s.deadline is not None else horizon)
        wins = [(max(a, 0), min(b, hi_cap)) for a, b in (s.windows or ((0, horizon),))]
        wins = [(a, b) for a, b in wins if a <= b]  # a soft window counts as hard here
        nwin[i] = max(1, len(wins))
        for w, (a, b) in enumerate(wins):
            win_a[i, w], win_b[i, w] = a, b
        if not wins:
            allowed[i, :] = False
        if s.controlled:
            allowed[i, :] &= np.array([v.controlled_ok for v in vehicles], dtype=np.bool_)
    vstart = np.zeros(nv, dtype=np.int64)
    vend = np.zeros(nv, dtype=np.int64)
    maxspan = np.full(nv, horizon, dtype=np.int64)
    maxdrive = np.full(nv, horizon, dtype=np.int64)
    markers = np.full((nv, max(extra_trips) if n_mark else 0), -1, dtype=np.int64)
    node = n + 1
    for r, v in enumerate(vehicles):
        lo, hi = _shift(v, problem.depot_window, horizon)
        brk = _break_minutes(v)
        for j in range(extra_trips[r]):
            markers[r, j] = node
            service[node] = int(problem.reload_time)
            if j == 0 and brk:  # the break, at the pharmacy between two trips
                service[node] += brk
                win_a[node, 0], win_b[node, 0] = v.break_window  # type: ignore[misc]
            node += 1
        if brk and not extra_trips[r]:
            hi = min(hi, v.break_window[1])  # type: ignore[index]  # back for the break
        maxdrive[r] = _trip_limit(v, horizon)
        if v.max_duration is not None and not extra_trips[r]:
            maxspan[r] = maxdrive[r]  # one trip: waiting counts too
        vstart[r], vend[r] = lo, hi
        if lo > hi:
            allowed[:, r] = False
    demand = np.zeros(size, dtype=np.int64)
    demand2 = np.zeros(size, dtype=np.int64)
    release = np.zeros(size, dtype=np.int64)
    penalty = np.zeros(size, dtype=np.int64)
    late_end = np.zeros(size, dtype=np.int64)
    for i, s in enumerate(stops, start=1):
        if _is_soft(s):
            late_end[i] = _stop_range(s, horizon)[1]
        demand[i], demand2[i], release[i] = s.totes, s.cold_totes, max(s.release, 0)
        penalty[i] = _drop_penalty(s, m.big)
    return CoreProblem(
        cost=cost,
        travel=travel,
        service=service,
        win_a=win_a,
        win_b=win_b,
        nwin=nwin,
        demand=demand,
        demand2=demand2,
        penalty=penalty,
        allowed=allowed,
        cap=np.array([v.capacity for v in vehicles], dtype=np.int64),
        cap2=np.array([v.cold_capacity for v in vehicles], dtype=np.int64),
        vstart=vstart,
        vend=vend,
        fixed=np.array([v.fixed_cost for v in vehicles], dtype=np.int64),
        release=release,
        maxspan=maxspan,
        maxdrive=maxdrive,
        markers=markers,
        late_end=late_end,
    )


# --------------------------------------------------------------------------- search


def _search_params(
    params: RoutingParams,
    time_limit_s: float,
    first: str | None = None,
    nodes: int = 0,
    extra_operators: dict[str, bool] | None = None,
):
    sp = pywrapcp.DefaultRoutingSearchParameters()
    if params.insertion_neighbors and nodes > params.insertion_neighbors:
        gci = sp.global_cheapest_insertion_first_solution_parameters
        gci.neighbors_ratio = params.insertion_neighbors / nodes
        gci.min_neighbors = min(10, params.insertion_neighbors)
    fss = routing_enums_pb2.FirstSolutionStrategy
    lsm = routing_enums_pb2.LocalSearchMetaheuristic
    sp.first_solution_strategy = fss.Value.Value(first or params.first_solution)
    sp.local_search_metaheuristic = lsm.Value.Value(params.metaheuristic)
    sp.guided_local_search_lambda_coefficient = params.gls_lambda
    sp.use_full_propagation = params.use_full_propagation
    sp.lns_time_limit.FromMilliseconds(max(1, int(params.lns_time_limit_s * 1000)))
    if params.iterated_local_search:
        sp.use_iterated_local_search = True
        rr = sp.iterated_local_search_parameters.ruin_recreate_parameters
        if not rr.ruin_strategies:
            sisr = rr.ruin_strategies.add().sisr  # slack induction by string removals
            sisr.max_removed_sequence_size = 10
            sisr.avg_num_removed_visits = 10
            sisr.bypass_factor = 0.01
    ops = {**DEFAULT_OPERATORS, **(extra_operators or {}), **params.operators}
    for name, on in ops.items():
        field_name = name if name.startswith("use_") else f"use_{name}"
        if not hasattr(sp.local_search_operators, field_name):
            raise BadInput(f"RoutingParams.operators: unknown local search operator {name!r}")
        setattr(sp.local_search_operators, field_name, _BOOL_TRUE if on else _BOOL_FALSE)
    for name, value in {**DEFAULT_TWEAKS, **params.tweaks}.items():
        target = sp
        *path, last = name.split(".")
        try:
            for part in path:
                target = getattr(target, part)
            setattr(target, last, value)
        except (AttributeError, TypeError, ValueError) as exc:
            raise BadInput(f"RoutingParams.tweaks: cannot set {name!r} to {value!r} ({exc})") from exc
    sp.time_limit.FromMilliseconds(max(10, int(time_limit_s * 1000)))
    sp.log_search = params.log
    return sp


def _solve_one(
    problem: RoutingProblem, params: RoutingParams, t0: float, first: str | None = None
) -> RoutingSolution:
    m = _build(problem)
    build_s = time.perf_counter() - t0
    routing = m.routing

    def remaining() -> float:
        return max(0.05, params.time_limit_s - (time.perf_counter() - t0) - 0.05)

    stats_extra: dict[str, str] = {}
    kept_start = False
    if not m.stops:
        sp = _search_params(params, remaining(), first, routing.nodes())
        sp.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.ALL_UNPERFORMED
        sp.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        assignment = routing.SolveWithParameters(sp)
    else:
        nodes = routing.nodes()
        warm = None
        core = _core_problem(m) if params.ruin_recreate_share > 0 else None
        if core is not None:
            from ltc_scheduler.routing import warm_start  # numba: imported only when used

            cs = warm_start.solve(core, remaining() * params.ruin_recreate_share, seed=params.seed)
            # the operators of the polish are chosen below, per solve (as after OR-Tools' start)
            # reading the routes in is one solution, not a search: without the solution limit it
            # runs to the time limit (and refuses the routes when too little time is left)
            close = _search_params(params, max(remaining(), 5.0), first, nodes)
            close.solution_limit = 1
            routing.CloseModelWithParameters(close)
            # the loading model: each trip's loadings at the pharmacy first, then its stops
            n = len(m.stops)
            seqs = [
                [c for trip in vt for c in ([n + c for c in trip] if m.pickups else []) + trip]
                for vt in cs.trips
            ]
            routes = [[m.manager.NodeToIndex(c) for c in seq] for seq in seqs]
            warm = routing.ReadAssignmentFromRoutes(routes, True)
            stats_extra["ruin_recreate_iterations"] = str(cs.iterations)
            stats_extra["ruin_recreate_cost"] = str(cs.cost)
            stats_extra["ruin_recreate_late_inserted"] = str(cs.late_inserted)
            stats_extra["start"] = "ruin_recreate" if warm is not None else "ruin_recreate refused"
        if warm is None:
            # phase 1: the start (the construction alone, or a short greedy descent as warm start)
            quick = params.with_(metaheuristic="GREEDY_DESCENT")
            sp = _search_params(quick, params.warm_start_s or remaining(), first, nodes)
            if params.warm_start_s <= 0:
                sp.solution_limit = 1
            warm = routing.SolveWithParameters(sp)
            if routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_INVALID:
                raise BadInput(f"invalid routing search parameters: {params}")
        # phase 2: the metaheuristic. When the start serves every stop and none may be dropped,
        # the operators that make stops (in)active can only waste time: switch them off.
        extra = {}
        if warm is not None and all(s.drop_penalty is None for s in m.stops):
            unperformed = sum(
                1
                for i in range(1, len(m.stops) + 1)
                if warm.Value(routing.NextVar(m.manager.NodeToIndex(i))) == m.manager.NodeToIndex(i)
            )
            if unperformed == 0:
                extra = dict.fromkeys(_ACTIVITY_OPERATORS, False)
        sp = _search_params(params, remaining(), first, nodes, extra)
        assignment = (
            routing.SolveFromAssignmentWithParameters(warm, sp)
            if warm is not None
            else routing.SolveWithParameters(sp)
        )
        kept_start = assignment is None and warm is not None
        if assignment is None:
            assignment = warm
        stats_extra["activity_operators"] = "off" if extra else "on"
    status = _STATUS.get(routing.status(), str(routing.status()))
    if kept_start:
        # the polish ran out of time before improving on the start: the start is the answer (a
        # solution, not a failure, as OR-Tools' "FAIL_TIMEOUT" would suggest)
        status = "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"
        stats_extra["polish"] = "no better routes within the time limit"
    if status == "ROUTING_INVALID":
        raise BadInput(f"invalid routing search parameters: {params}")
    stats: dict[str, float | int | str] = {
        "build_s": round(build_s, 3),
        "first_solution": first or params.first_solution,
        "routing_nodes": routing.nodes(),
        **stats_extra,
    }
    if assignment is None:
        unserved = tuple(m.pre_unserved) + tuple(Unserved(s.key, "not served") for s in m.stops)
        return RoutingSolution(trips=(), unserved=unserved, objective=0, status=status, stats=stats)
    return _extract(m, assignment, status, stats)


def _solve_parallel(problem: RoutingProblem, params: RoutingParams, t0: float) -> RoutingSolution:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    n = params.workers
    firsts = [params.first_solution] + [s for s in MULTI_START_STRATEGIES if s != params.first_solution]
    firsts = [firsts[(params.seed + i) % len(firsts)] if i else firsts[0] for i in range(n)]
    budget = max(0.1, params.time_limit_s - (time.perf_counter() - t0) - 0.3)
    sub = params.with_(workers=1, time_limit_s=budget)
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        # each worker: its own start heuristic and its own ruin-and-recreate seed
        futures = [
            pool.submit(_worker, problem, sub.with_(seed=params.seed + i), f) for i, f in enumerate(firsts)
        ]
        results = [f.result() for f in futures]
    best = min(results, key=lambda s: s.objective if s.trips or not s.unserved else 2**62)
    stats = dict(best.stats)
    stats["workers"] = n
    stats["objectives"] = ",".join(str(r.objective) for r in results)
    return _with(best, stats=stats)


def _worker(problem: RoutingProblem, params: RoutingParams, first: str) -> RoutingSolution:
    return _solve_one(problem, params, time.perf_counter(), first)


# --------------------------------------------------------------------------- answer


def _extract(m: _Model, a, status: str, stats: dict) -> RoutingSolution:
    problem, routing, manager, time_dim = m.problem, m.routing, m.manager, m.time_dim
    vehicles = problem.vehicles
    reload = problem.reload_time if m.pickups else 0

    trips: list[Trip] = []
    served: set[str] = set()
    trimmed: list[Unserved] = []
    for r, v in enumerate(vehicles):
        bs = None
        if r in m.breaks:
            with contextlib.suppress(Exception):
                bs = int(a.StartValue(m.breaks[r]))
        brk = (bs, bs + v.break_duration) if bs is not None else None
        # walk the route, cutting it into trips at each return to the depot (a loading node)
        idx = routing.Start(r)
        dep0 = a.Value(time_dim.CumulVar(idx))
        raw: list[tuple[list[RoutingStop], list[int], int, int, int]] = []
        route: list[RoutingStop] = []
        starts: list[int] = []
        idx = a.Value(routing.NextVar(idx))
        while True:
            node = manager.IndexToNode(idx)
            at = a.Value(time_dim.CumulVar(idx))
            kind = "end" if routing.IsEnd(idx) else m.kind(node)
            if kind == "stop":
                s = m.stops[node - 1]
                route.append(s)
                starts.append(at)
                served.add(s.key)
            else:  # a loading node or the end: a trip (if any) ends here
                if route:
                    cap = at - reload if kind == "load" else min(v.end, problem.depot_window[1])
                    raw.append((route, starts, dep0, at - (reload if kind == "load" else 0), cap))
                    route, starts = [], []
                if kind == "load":
                    dep0 = at  # leaves after the last loading of the block
            if routing.IsEnd(idx):
                break
            idx = a.Value(routing.NextVar(idx))
        sched = []
        for rt, st, d, back, cap in raw:
            trip = _schedule(problem, v, rt, st, d, back, brk, cap)
            # the model bounds driving + service per trip; waiting inside a trip can still make
            # it too long: then the last stops are given up (reported, never silently dropped)
            while v.max_duration is not None and trip.duration > v.max_duration and len(rt) > 1:
                cut = rt.pop()
                st = st[: len(rt)]
                served.discard(cut.key)
                trimmed.append(Unserved(cut.key, "the trip would exceed the vehicle's maximum duration"))
                trip = _schedule(problem, v, rt, st, d, back, brk, cap)
            sched.append(trip)
        owner = _break_owner(sched, bs, v.break_duration) if bs is not None else None
        for no, t in enumerate(sched, start=1):
            trips.append(_with(t, trip_no=no, break_start=bs if owner == no - 1 else None))
    cut = {u.key for u in trimmed}
    unserved = list(m.pre_unserved) + trimmed
    unserved += [Unserved(s.key, "not served") for s in m.stops if s.key not in served and s.key not in cut]
    stats = dict(stats)
    stats["dropped"] = len(unserved)
    return RoutingSolution(
        trips=tuple(trips),
        unserved=tuple(unserved),
        objective=int(a.ObjectiveValue()),
        status=status,
        stats=stats,
    )


def _break_owner(trips: list[Trip], bs: int, bd: int) -> int:
    """Index of the trip that reports the break: the one it falls in, else the one before it."""
    for i, t in enumerate(trips):
        if t.depart <= bs and bs + bd <= t.return_:
            return i
    before = [i for i, t in enumerate(trips) if t.return_ <= bs]
    return before[-1] if before else 0


def _earliest_start(s: RoutingStop, ready: int) -> int:
    """Earliest start of service at or after ``ready`` inside a window (or late, for soft windows)."""
    for a, b in s.windows:
        if ready <= b:
            return max(ready, a)
    return ready


def _schedule(
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
    :func:`solve_routing`. No break is placed. Stops on no route are reported unserved. Used to
    re-check published routes (Solomon best-known solutions) with the validator.
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
        trip = _schedule(problem, v, route, starts, dep, t + int(dur[node, 0]), None)
        no = sum(1 for tr in trips if tr.vehicle_key == vkey) + 1
        trips.append(_with(trip, trip_no=no))
        last_return[vkey] = trip.return_
    unserved = tuple(Unserved(s.key, "not on any route") for s in problem.stops if s.key not in served)
    return RoutingSolution(trips=tuple(trips), unserved=unserved, objective=objective, status="GIVEN")


# --------------------------------------------------------------------------- helpers


def _with(sol: RoutingSolution, **changes) -> RoutingSolution:
    from dataclasses import replace

    return replace(sol, **changes)


def _explain(problem: RoutingProblem, sol: RoutingSolution) -> RoutingSolution:
    """Word the reasons of unserved stops with ``routing/explain.py`` when it exists."""
    if not sol.unserved:
        return sol
    try:
        from ltc_scheduler.routing import explain  # type: ignore[attr-defined]
    except ImportError:
        return sol
    fn = getattr(explain, "explain_unserved", None)
    if fn is None:
        return sol
    out = fn(problem, sol)
    if isinstance(out, RoutingSolution):
        return out
    if isinstance(out, dict):
        return _with(
            sol, unserved=tuple(Unserved(u.key, out.get(u.key, u.reason) or u.reason) for u in sol.unserved)
        )
    if isinstance(out, list | tuple):
        got = {u.key: u for u in out if isinstance(u, Unserved)}
        return _with(sol, unserved=tuple(got.get(u.key, u) for u in sol.unserved))
    return sol
