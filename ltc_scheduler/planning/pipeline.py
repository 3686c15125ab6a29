"""The day's planning pipeline, pure (no database): problem -> batches -> packaging -> routes -> plan.

Coupling packaging and routing (a loop, not a joint model)
----------------------------------------------------------
1. Batches get ready-by deadlines from the facilities' delivery windows and the orders' promises
   (``packing/batching.py``).
2. CP-SAT schedules the lines and the verification (``packing/solve.py``); a batch's ready time is
   its verification end.
3. The routing engine plans the deliveries with those ready times as release times.
4. For every stop that is late or unserved *because a batch was ready too late* (the vehicle
   waited for the batch, or the batch was ready after the last moment a direct trip could still
   make the window), the batch's deadline is tightened (by the minutes the stop was late, or to
   that last moment) and packaging is solved again, warm-started on the previous line choice;
   then routing again. The loop stops when nothing is tightened, after
   ``settings.coupling_iterations`` rounds, or when the time budget is spent. The best plan by
   (unserved stops, late minutes, routing objective) is kept, and the first pass is reported next
   to it (``PlanResult.single_pass`` vs ``PlanResult.final``).

Time budget: ``settings.time_limit_s`` for the whole call. Each packaging solve gets
``packing_time_limit_s`` (default 15 %), each routing solve ``routing_time_limit_s`` (default
50 %, or 72 % on days with more than ``BIG_DAY_FACILITIES`` facilities: on the large demo day
the routing engine needs 30-40 s to insert every one of its ~420 stops, and with 19-25 s it left
20-70 unserved); a coupling round runs only if at least half a full round's time is left, and is
kept only if it beats the plan so far (with the defaults: the first pass and one shorter round;
on big days usually the first pass only).

Re-planning (``problem.now_min`` and ``previous`` given)
-------------------------------------------------------
* routes of the previous plan that left the pharmacy (``depart_min <= now``) stay exactly as they
  were, with their batches;
* batches that started packaging before ``now`` keep their line and times;
* the previous plan's other batches keep their composition (unless an order line of theirs is
  gone) and their previous line is the preferred one; order lines that are new get new batches
  with keys after the previous plan's last key;
* nothing new starts packaging before ``now``; vehicles leave no earlier than ``now`` and, when
  on the road, after they return; their remaining trips are ``max_trips`` minus the trips made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ltc_scheduler.errors import PlanningError
from ltc_scheduler.packing.batching import LOAD_MARGIN_MIN, form_batches, share_totes
from ltc_scheduler.packing.solve import PackingParams, PackingResult, solve_packing
from ltc_scheduler.plan.model import (
    Batch,
    Plan,
    PlanRoute,
    SolveStats,
    UnservedStop,
    Violation,
)
from ltc_scheduler.planning.validate import validate_plan
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.problem.travel import HaversineProvider, TravelMatrix, TravelProvider
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution

__all__ = ["PlanResult", "plan_day", "travel_for", "compute_kpis"]

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class PassScore:
    """How good one round of the coupling loop was (smaller is better, in this order)."""

    unserved: int
    late_stops: int
    late_min: int
    routing_objective: int
    packing_weighted_lateness: int

    def key(self) -> tuple[int, int, int]:
        return (self.unserved, self.late_min, self.routing_objective)

    def as_dict(self) -> dict[str, int]:
        return {
            "unserved": self.unserved,
            "late_stops": self.late_stops,
            "late_min": self.late_min,
            "routing_objective": self.routing_objective,
            "packing_weighted_lateness": self.packing_weighted_lateness,
        }


@dataclass
class PlanResult:
    plan: Plan
    violations: list[Violation]
    routing_problem: RoutingProblem | None
    routing_solution: RoutingSolution | None
    stage_seconds: dict[str, float]
    single_pass: dict[str, int] = field(default_factory=dict)
    final: dict[str, int] = field(default_factory=dict)
    iterations: int = 1
    packing: PackingResult | None = None

    @property
    def valid(self) -> bool:
        return not any(v.hard for v in self.violations)


def travel_for(problem: PlanningProblem, provider: TravelProvider | None = None) -> TravelMatrix:
    """The travel matrix ``provider`` (default: straight-line haversine) gives for [depot] + facilities."""
    from ltc_scheduler.routing.from_day import day_points

    return (provider or HaversineProvider()).matrix(day_points(problem))


#: shares of ``settings.time_limit_s`` for one packaging and one routing solve; the first pass
#: and each coupling round get the same, so a round is compared with the first pass fairly
PACK_SHARE = 0.15
ROUTE_SHARE = 0.50
#: days with more facilities than this give routing ``ROUTE_SHARE_BIG`` of the budget in the first
#: pass (a second round is then rarely affordable). Large demo day (200 facilities, 420 stops, 62
#: vans x 2 trips, 50 s budget): 27.5 s of routing serve 418-420 of ~420 stops (7-8 late) since
#: the ruin-and-recreate warm start; before it, OR-Tools alone left 22-52 unserved with 25 s
BIG_DAY_FACILITIES = 120
ROUTE_SHARE_BIG = 0.55


def _travel_minutes(problem: PlanningProblem, travel: TravelMatrix) -> dict[int, int]:
    return {f.id: travel.minutes(0, i + 1) for i, f in enumerate(problem.facilities)}


# --------------------------------------------------------------------------- routing glue


def _route(problem, batches, travel, time_limit_s):
    from ltc_scheduler.routing.from_day import build_routing_problem, to_plan_routes
    from ltc_scheduler.routing.params import RoutingParams
    from ltc_scheduler.routing.search import solve_routing

    ready = {b.key: b.ready_min for b in batches if b.ready_min is not None}
    rp = build_routing_problem(problem, list(batches), travel, ready=ready)
    params = RoutingParams(time_limit_s=max(0.5, time_limit_s), seed=problem.settings.seed)
    sol = solve_routing(rp, params)
    routes, unserved, late = to_plan_routes(problem, rp, sol, list(batches))
    return rp, sol, tuple(routes), tuple(unserved), tuple(late)


def _score(sol: RoutingSolution, unserved, late, packing: PackingResult) -> PassScore:
    return PassScore(
        unserved=len(unserved),
        late_stops=len(late),
        late_min=sum(x.minutes for x in late),
        routing_objective=int(sol.objective),
        packing_weighted_lateness=packing.weighted_lateness,
    )


def _tighten(
    rp: RoutingProblem,
    sol: RoutingSolution,
    batches: dict[str, Batch],
    frozen: set[str],
) -> dict[str, int]:
    """New (earlier) ready-by deadlines for batches that made a stop late or unserved; {} = none.

    * a late stop whose vehicle left as soon as the last batch on the trip was ready: the batches
      that held the trip back must be ready ``late`` minutes earlier;
    * an unserved stop released after the last moment a direct trip could still make its
      deadline / last window: its late batches must be ready by that moment (minus the loading
      margin). Stops left out although released in time are the fleet's doing, not packaging's.
    """
    from ltc_scheduler.routing.from_day import stop_batches

    new: dict[str, int] = {}
    carried = stop_batches(rp, list(batches.values()))
    stops = {st.key: st for st in rp.stops}

    def lower(b: Batch, deadline: int) -> None:
        if b.key in frozen or b.ready_min is None or deadline >= b.ready_min:
            return
        if deadline < new.get(b.key, b.deadline_min):
            new[b.key] = deadline

    for trip in sol.trips:
        if not trip.visits:
            continue
        on_trip = [b for v in trip.visits for b in carried.get(v.stop_key, ())]
        last_ready = max((b.ready_min or 0 for b in on_trip), default=0)
        if trip.depart > last_ready * 60 + 60:
            continue  # the vehicle did not wait for packaging
        late = max((v.late for v in trip.visits), default=0)
        if late <= 0:
            continue
        for b in on_trip:
            if (b.ready_min or 0) >= last_ready - 1:
                lower(b, (b.ready_min or 0) - -(-late // 60) - 5)
    for u in sol.unserved:
        st = stops.get(u.key)
        if st is None:
            continue
        drive = int(rp.duration[0, st.node])
        last_ok = st.deadline
        if last_ok is None and st.windows:
            last_ok = st.windows[-1][1] + st.max_late
        latest_release = (last_ok - drive) // 60 - LOAD_MARGIN_MIN if last_ok is not None else None
        bs = carried.get(u.key, ())
        rel = max((b.ready_min or 0 for b in bs), default=0)
        if latest_release is None or rel <= latest_release:
            continue  # released in time: the fleet, not packaging, left it out
        for b in bs:
            lower(b, latest_release)
    return new


# --------------------------------------------------------------------------- re-planning


def _replan_parts(problem: PlanningProblem, previous: Plan, now: int):
    """Split the previous plan: departed routes, frozen batches, kept batches, new order lines."""
    departed = tuple(r for r in previous.routes if r.depart_min <= now)
    on_departed = {k for r in departed for s in r.stops for k in s.batch_keys}
    order_ids = {o.id for o in problem.orders}
    frozen: list[Batch] = []
    kept: list[Batch] = []
    for b in previous.batches:
        started = b.start_min is not None and b.start_min < now
        if b.key in on_departed or started:
            frozen.append(b)
        elif all(i in order_ids for i in b.order_line_ids):
            kept.append(replace(b, line_id=b.line_id))
    covered = {i for b in frozen + kept for i in b.order_line_ids}
    new_lines = [o for o in problem.orders if o.id not in covered]
    # frozen / delivered lines may no longer be "open" in the database: keep them in the problem view
    return departed, frozen, kept, new_lines


def _replan_vehicles(problem: PlanningProblem, departed: tuple[PlanRoute, ...], now: int) -> PlanningProblem:
    vehicles = []
    for v in problem.vehicles:
        trips = [r for r in departed if r.vehicle_id == v.id]
        start = max(v.shift_start, now, max((r.return_min for r in trips), default=-(10**6)))
        left = v.max_trips - len(trips)
        if left <= 0 or start >= v.shift_end:
            continue
        vehicles.append(replace(v, shift_start=start, max_trips=left))
    return replace(problem, vehicles=tuple(vehicles))


# --------------------------------------------------------------------------- KPIs


def compute_kpis(problem: PlanningProblem, plan: Plan) -> dict[str, float]:
    stops = [s for r in plan.routes for s in r.stops]
    n_stops = len(stops)
    on_time = sum(1 for s in stops if s.late_min <= 0)
    starts = [b.start_min for b in plan.batches if b.start_min is not None]
    ready = [b.verify_end_min for b in plan.batches if b.verify_end_min is not None]
    total = n_stops + len(plan.unserved)
    return {
        "orders": float(len({i for b in plan.batches for i in b.order_line_ids})),
        "batches": float(len(plan.batches)),
        "lines_used": float(len({b.line_id for b in plan.batches if b.line_id is not None})),
        "routes": float(sum(1 for r in plan.routes if r.stops)),
        "stops": float(n_stops),
        "on_time_pct": round(100.0 * on_time / total, 1) if total else 100.0,
        "driving_km": round(sum(r.distance_m for r in plan.routes) / 1000.0, 1),
        "driving_hours": round(sum(r.drive_s for r in plan.routes) / 3600.0, 2),
        "packaging_makespan_min": float(max(ready) - min(starts)) if starts and ready else 0.0,
        "unserved": float(len(plan.unserved)),
        "late": float(len(plan.late)),
    }


# --------------------------------------------------------------------------- the pipeline


def _unpacked_stops(unpacked) -> tuple[UnservedStop, ...]:
    """Batches not packed today, as unserved entries (one per facility and reason)."""
    groups: dict[tuple[int, str], list[str]] = {}
    for b, why in unpacked:
        groups.setdefault((b.facility_id, why), []).append(b.key)
    return tuple(
        UnservedStop(facility_id=fid, reason=f"not packed today: {why}", batch_keys=tuple(sorted(keys)))
        for (fid, why), keys in sorted(groups.items())
    )


def plan_day(
    problem: PlanningProblem,
    *,
    travel: TravelMatrix | None = None,
    travel_provider: TravelProvider | None = None,
    progress: Progress | None = None,
    previous: Plan | None = None,
    packing_params: PackingParams | None = None,
    coupling: bool = True,
) -> PlanResult:
    """Plan ``problem``'s day and validate it (pure: nothing is saved, no setting is read).

    ``travel`` is the day's matrix, else ``travel_provider`` makes it (default: haversine).

    ``coupling=False`` stops after the first pass (deadlines from windows -> packaging -> routes).
    """
    t_start = time.perf_counter()
    s = problem.settings
    budget = max(1.0, s.time_limit_s)
    stage: dict[str, float] = {}

    def tick(name: str, frac: float) -> None:
        if progress is not None:
            progress(name, frac)

    def left() -> float:
        return budget - (time.perf_counter() - t_start)

    t = time.perf_counter()
    tick("travel", 0.0)
    if travel is None:
        travel = travel_for(problem, travel_provider)
    travel_min = _travel_minutes(problem, travel)
    stage["travel"] = time.perf_counter() - t

    # ------------------------------------------------------------ batches (and re-planning split)
    t = time.perf_counter()
    tick("batching", 0.05)
    replanning = previous is not None and problem.now_min is not None
    departed: tuple[PlanRoute, ...] = ()
    frozen: list[Batch] = []
    hint_lines: dict[str, int] = {}
    if replanning:
        assert previous is not None and problem.now_min is not None
        departed, frozen, kept, new_lines = _replan_parts(problem, previous, problem.now_min)
        last = max((int(b.key[1:]) for b in previous.batches if b.key[1:].isdigit()), default=0)
        fresh = form_batches(problem, travel_minutes=travel_min, orders=new_lines, key_start=last + 1)
        hint_lines = {b.key: b.line_id for b in kept if b.line_id is not None}
        movable = [
            replace(b, line_id=None, start_min=None, end_min=None, verify_start_min=None, verify_end_min=None)
            for b in kept
        ] + fresh
    else:
        movable = form_batches(problem, travel_minutes=travel_min)
    stage["batching"] = time.perf_counter() - t
    if not movable and not frozen:
        raise PlanningError(f"no open order lines for {problem.date}: nothing to plan")

    departed_keys = {k for r in departed for st in r.stops for k in st.batch_keys}
    frozen_keys = {b.key for b in frozen}
    route_problem = _replan_vehicles(problem, departed, problem.now_min) if replanning else problem
    base = packing_params or PackingParams(seed=s.seed)

    def pack(batches: list[Batch], limit: float, hints: dict[str, int]) -> PackingResult:
        return solve_packing(
            problem, batches, replace(base, time_limit_s=max(0.5, limit)), frozen=frozen, hint_lines=hints
        )

    def deliver(packing: PackingResult, limit: float):
        """Route what was packed and is not on a departed route; totes re-shared among them."""
        movable_packed = [b for b in packing.batches if b.key not in frozen_keys]
        resh = {b.key: b for b in share_totes(movable_packed, s.cards_per_tote)}
        resh.update({b.key: b for b in share_totes([b for b, _ in packing.unpacked], s.cards_per_tote)})
        batches = [resh.get(b.key, b) for b in packing.batches]
        to_route = [b for b in batches if b.key not in departed_keys]
        rp, sol, routes, unserved, late = _route(route_problem, to_route, travel, limit)
        unserved = unserved + _unpacked_stops([(resh[b.key], why) for b, why in packing.unpacked])
        all_batches = tuple(sorted(batches + [resh[b.key] for b, _ in packing.unpacked], key=lambda b: b.key))
        return rp, sol, routes, unserved, late, all_batches

    # ------------------------------------------------------------ pass 1
    pack_limit = s.packing_time_limit_s or PACK_SHARE * budget
    big_day = len({b.facility_id for b in movable}) > BIG_DAY_FACILITIES
    route_limit = s.routing_time_limit_s or (ROUTE_SHARE_BIG if big_day else ROUTE_SHARE) * budget
    t = time.perf_counter()
    tick("packing", 0.1)
    packing = pack(movable, pack_limit, hint_lines)
    stage["packing"] = time.perf_counter() - t
    t = time.perf_counter()
    tick("routing", 0.35)
    rp, sol, routes, unserved, late, all_batches = deliver(packing, route_limit)
    stage["routing"] = time.perf_counter() - t
    score = _score(sol, unserved, late, packing)
    single = score
    best = (score, packing, rp, sol, routes, unserved, late, all_batches)

    # ------------------------------------------------------------ coupling loop
    iterations = 1
    t = time.perf_counter()
    deadlines = {b.key: b.deadline_min for b in movable}
    while coupling and iterations <= s.coupling_iterations and left() >= 0.5 * (pack_limit + route_limit):
        by_key = {b.key: b for b in best[7]}
        tighter = _tighten(best[2], best[3], by_key, frozen_keys | departed_keys)
        if not tighter:
            break
        deadlines.update(tighter)
        iterations += 1
        tick(f"coupling round {iterations}", min(0.9, 0.35 + 0.15 * iterations))
        movable = [replace(b, deadline_min=deadlines.get(b.key, b.deadline_min)) for b in movable]
        hints = {b.key: b.line_id for b in best[1].batches if b.line_id is not None}
        p2 = pack(movable, min(pack_limit, 0.3 * left()), hints)
        rp2, sol2, routes2, unserved2, late2, all2 = deliver(p2, max(0.5, min(route_limit, left() - 0.5)))
        sc2 = _score(sol2, unserved2, late2, p2)
        if sc2.key() < best[0].key():
            best = (sc2, p2, rp2, sol2, routes2, unserved2, late2, all2)
        else:
            break
    stage["coupling"] = time.perf_counter() - t

    score, packing, rp, sol, routes, unserved, late, all_batches = best
    # re-planning: departed routes stay exactly as they were; new trips are numbered after them
    if replanning:
        made: dict[int, int] = {}
        for r in departed:
            made[r.vehicle_id] = max(made.get(r.vehicle_id, 0), r.trip_no)
        routes = tuple(departed) + tuple(
            replace(r, trip_no=r.trip_no + made.get(r.vehicle_id, 0)) for r in routes
        )
        # batches on departed routes keep what the published plan said
        prev_b = {b.key: b for b in previous.batches} if previous is not None else {}
        all_batches = tuple(
            prev_b[b.key] if b.key in departed_keys and b.key in prev_b else b for b in all_batches
        )
    stats = (
        packing.stats,
        SolveStats("routing", sol.status, sol.wall_s, float(sol.objective), None),
    )
    plan = Plan(
        date=problem.date,
        batches=all_batches,
        routes=routes,
        unserved=unserved,
        late=late,
        stats=stats,
        settings_version=s.version,
    )
    plan = replace(plan, kpis=compute_kpis(problem, plan))

    t = time.perf_counter()
    tick("validate", 0.95)
    violations = validate_plan(problem, plan, routing_problem=rp, routing_solution=sol)
    stage["validate"] = time.perf_counter() - t
    stage["total"] = time.perf_counter() - t_start
    tick("done", 1.0)
    return PlanResult(
        plan=plan,
        violations=violations,
        routing_problem=rp,
        routing_solution=sol,
        stage_seconds={k: round(v, 3) for k, v in stage.items()},
        single_pass=single.as_dict(),
        final=score.as_dict(),
        iterations=iterations,
        packing=packing,
    )
