"""The delivery routing engine's entry point: :func:`solve_routing` searches the model of
:mod:`ltc_scheduler.routing.model` and returns a :class:`RoutingSolution` with exact times per visit.

With :mod:`ltc_scheduler.routing.model` this is the only place that imports the routing API.

How it searches
---------------
A ruin-and-recreate search (SISR, :mod:`ltc_scheduler.routing.warm_start`, compiled with
numba) gets ``params.ruin_recreate_share`` of the time on the same problem in plain arrays
(:func:`warm_start_problem`: several trips through trip markers, the break taken at the pharmacy
between trips, soft windows as hard and late stops put in at the end). Its routes are loaded into
the OR-Tools model (``ReadAssignmentFromRoutes``, which checks them against every rule of the
model); guided local search then polishes them for the rest of the time and prices lateness
exactly. With ``ruin_recreate_share = 0``, for fewer than two stops, or if the model refused the
routes, the start is OR-Tools' first-solution heuristic (``params.first_solution``) and guided
local search gets all the time. With ``params.workers > 1`` several searches run in parallel
processes and the lowest objective wins.

The answer's times are recomputed by :mod:`ltc_scheduler.routing.schedule`; the reasons of
unserved stops are worded by :mod:`ltc_scheduler.routing.explain`. A problem or settings that
cannot be solved raise :class:`ValueError` with a plain sentence.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from ltc_scheduler.routing.explain import explain_unserved
from ltc_scheduler.routing.model import (
    Model,
    break_minutes,
    build_model,
    check_problem,
    drop_penalty,
    is_soft,
    shift_bounds,
    stop_range,
    trip_limit,
)
from ltc_scheduler.routing.params import (
    DEFAULT_OPERATORS,
    DEFAULT_TWEAKS,
    MULTI_START_STRATEGIES,
    RoutingParams,
)
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution, RoutingStop, Trip, Unserved
from ltc_scheduler.routing.schedule import schedule_trip

__all__ = ["solve_routing", "warm_start_problem"]

_STATUS = {v: k for k, v in routing_enums_pb2.RoutingSearchStatus.Value.items()}
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


#: the share of the time limit the OR-Tools start gets at least when the model refused the warm start
_FALLBACK_SHARE = 0.25


def _read_allowance(nodes: int) -> float:
    """Seconds allowed for reading the warm start's routes into the model (``nodes`` routing
    nodes). Measured: 0.15-0.4 s for the large demo day's 801 nodes on an idle 2-core machine;
    the time limit the model is closed with is at least four times this, because a read that runs
    out of time is refused, not slowed."""
    return 0.2 + nodes / 1000


# --------------------------------------------------------------------------- public entry


def solve_routing(problem: RoutingProblem, params: RoutingParams | None = None) -> RoutingSolution:
    """Route ``problem``: every stop is on a trip or in ``unserved`` with a reason.

    With ``params.workers > 1`` several independent searches run in parallel processes (different
    first-solution strategies) and the one with the lowest objective wins.
    """
    params = params or RoutingParams()
    t0 = time.perf_counter()
    check_problem(problem)
    if params.workers > 1 and len(problem.stops) > 1:
        sol = _solve_parallel(problem, params, t0)
    else:
        sol = _solve_one(problem, params, t0)
    sol = explain_unserved(problem, sol)
    return replace(sol, wall_s=time.perf_counter() - t0)


def warm_start_problem(m: Model):
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
        lo, hi = shift_bounds(v, problem.depot_window, horizon)
        brk = break_minutes(v)
        for j in range(extra_trips[r]):
            markers[r, j] = node
            service[node] = int(problem.reload_time)
            if j == 0 and brk:  # the break, at the pharmacy between two trips
                service[node] += brk
                win_a[node, 0], win_b[node, 0] = v.break_window  # type: ignore[misc]
            node += 1
        if brk and not extra_trips[r]:
            hi = min(hi, v.break_window[1])  # type: ignore[index]  # back for the break
        maxdrive[r] = trip_limit(v, horizon)
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
        if is_soft(s):
            late_end[i] = stop_range(s, horizon)[1]
        demand[i], demand2[i], release[i] = s.totes, s.cold_totes, max(s.release, 0)
        penalty[i] = drop_penalty(s, m.big)
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
            raise ValueError(f"RoutingParams.operators: unknown local search operator {name!r}")
        setattr(sp.local_search_operators, field_name, _BOOL_TRUE if on else _BOOL_FALSE)
    for name, value in {**DEFAULT_TWEAKS, **params.tweaks}.items():
        target = sp
        *path, last = name.split(".")
        try:
            for part in path:
                target = getattr(target, part)
            setattr(target, last, value)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"RoutingParams.tweaks: cannot set {name!r} to {value!r} ({exc})") from exc
    sp.time_limit.FromMilliseconds(max(10, int(time_limit_s * 1000)))
    sp.log_search = params.log
    return sp


def _solve_one(
    problem: RoutingProblem, params: RoutingParams, t0: float, first: str | None = None
) -> RoutingSolution:
    m = build_model(problem)
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
        core = warm_start_problem(m) if params.ruin_recreate_share > 0 else None
        if core is not None:
            from ltc_scheduler.routing import warm_start  # numba: imported only when used

            # the routes are read into the model below, which takes time of its own: it is kept
            # out of the warm start's share so that a late read cannot lose the whole start
            read_s = _read_allowance(nodes)
            ws_s = min(remaining() * params.ruin_recreate_share, max(0.0, remaining() - read_s))
            cs = warm_start.solve(core, ws_s, seed=params.seed)
            # the operators of the polish are chosen below, per solve (as after OR-Tools' start).
            # OR-Tools applies the closing time limit to reading the routes in too: with what is
            # left of the budget (or less, when the warm start overran it) it refuses routes that
            # are valid, and the day is left with no routes at all. The read gets its allowance.
            # Reading the routes in is one solution, not a search: without a solution limit the
            # read runs on to the time limit and leaves the polish nothing.
            close = _search_params(params, max(remaining(), 4 * read_s), first, nodes)
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
            # a start with no time left finds nothing: give the construction a floor
            floor = _FALLBACK_SHARE * params.time_limit_s if core is not None else 0.0
            sp = _search_params(quick, params.warm_start_s or max(remaining(), floor), first, nodes)
            if params.warm_start_s <= 0:
                sp.solution_limit = 1
            warm = routing.SolveWithParameters(sp)
            if routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_INVALID:
                raise ValueError(f"invalid routing search parameters: {params}")
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
        raise ValueError(f"invalid routing search parameters: {params}")
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
    return replace(best, stats=stats)


def _worker(problem: RoutingProblem, params: RoutingParams, first: str) -> RoutingSolution:
    return _solve_one(problem, params, time.perf_counter(), first)


# --------------------------------------------------------------------------- answer


def _extract(m: Model, a, status: str, stats: dict) -> RoutingSolution:
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
            trip = schedule_trip(problem, v, rt, st, d, back, brk, cap)
            # the model bounds driving + service per trip; waiting inside a trip can still make
            # it too long: then the last stops are given up (reported, never silently dropped)
            while v.max_duration is not None and trip.duration > v.max_duration and len(rt) > 1:
                cut = rt.pop()
                st = st[: len(rt)]
                served.discard(cut.key)
                trimmed.append(Unserved(cut.key, "the trip would exceed the vehicle's maximum duration"))
                trip = schedule_trip(problem, v, rt, st, d, back, brk, cap)
            sched.append(trip)
        owner = _break_owner(sched, bs, v.break_duration) if bs is not None else None
        for no, t in enumerate(sched, start=1):
            trips.append(replace(t, trip_no=no, break_start=bs if owner == no - 1 else None))
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
