"""The day's planning pipeline, pure (no database): problem -> batches -> packaging -> routes -> plan.

1. travel matrix for [depot] + facilities (``travel`` given, else ``travel_provider``);
2. batches with ready-by deadlines (``packing/batching.py``), or, when re-planning, what the
   published plan keeps and the new order lines' batches (``planning/replan.py``);
   with coupling on, the urgent batches then get the promise of the STAT stop they will ride in
   (``planning/coupling.py``, :func:`~ltc_scheduler.planning.coupling.promise_deadlines`);
3. the first pass: packaging (``packing/solve.py``), then routing what was packed
   (``routing/``), released at the batches' ready times;
4. the coupling loop (``planning/coupling.py``): late ready times tighten batch deadlines, then
   packaging and routing again; the best pass is kept and the first one reported next to it
   (``PlanResult.single_pass`` vs ``PlanResult.final``);
5. the plan with its figures (``plan/kpis.py``) and the independent validator's verdict.

Routing runs ``settings.routing_workers`` searches in parallel (:func:`routing_workers`; 0 = one
per core, at most 4; default 1).

Time budget: ``settings.time_limit_s`` for the whole call. Each packaging solve gets
``settings.packing_time_limit_s`` (default :attr:`PlanningParams.pack_share`, 15 %), each routing
solve ``settings.routing_time_limit_s`` (default 50 %, or 55 % on days with more than
:attr:`PlanningParams.big_day_facilities` facilities: on the large demo day the routing engine
needs most of the budget to insert every one of its ~420 stops); a coupling round runs only if at
least half a full round's time is left (or, when a stop was left unserved because its batches
were ready too late, :attr:`PlanningParams.react_min_s`), and is kept only if it beats the plan so
far (with the defaults: the first pass and one shorter round; on big days usually the first pass
only).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ltc_scheduler.errors import PlanningError
from ltc_scheduler.packing.batching import form_batches, share_totes
from ltc_scheduler.packing.solve import PackingParams, PackingResult, solve_packing
from ltc_scheduler.plan.kpis import plan_kpis
from ltc_scheduler.plan.model import Batch, LateStop, Plan, PlanRoute, SolveStats, UnservedStop, Violation
from ltc_scheduler.planning.coupling import PassResult, coupling_rounds, promise_deadlines, score_of
from ltc_scheduler.planning.params import PlanningParams
from ltc_scheduler.planning.replan import ReplanStart, keep_departed, replan_start, vehicles_left
from ltc_scheduler.planning.validate import validate_plan
from ltc_scheduler.problem.model import PlanningProblem, PlanSettings
from ltc_scheduler.problem.travel import HaversineProvider, TravelMatrix, TravelProvider
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution

__all__ = ["PlanResult", "plan_day", "routing_workers", "travel_for"]

Progress = Callable[[str, float], None]


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


def routing_workers(settings: PlanSettings) -> int:
    """The routing engine's parallel searches: ``settings.routing_workers``, or with 0 one per
    core of this machine, at most 4."""
    if settings.routing_workers > 0:
        return settings.routing_workers
    return max(1, min(4, os.cpu_count() or 1))


def _travel_minutes(problem: PlanningProblem, travel: TravelMatrix) -> dict[int, int]:
    return {f.id: travel.minutes(0, i + 1) for i, f in enumerate(problem.facilities)}


@dataclass(frozen=True)
class _Routed:
    """The routing engine's answer for one pass, in plan terms."""

    routing_problem: RoutingProblem
    solution: RoutingSolution
    routes: tuple[PlanRoute, ...]
    unserved: tuple[UnservedStop, ...]
    late: tuple[LateStop, ...]


def _route(problem: PlanningProblem, batches: list[Batch], travel: TravelMatrix, limit_s: float) -> _Routed:
    from ltc_scheduler.routing.from_day import build_routing_problem, merge_repeat_visits, to_plan_routes
    from ltc_scheduler.routing.params import RoutingParams
    from ltc_scheduler.routing.search import solve_routing

    ready = {b.key: b.ready_min for b in batches if b.ready_min is not None}
    rp = build_routing_problem(problem, batches, travel, ready=ready)
    params = RoutingParams(
        time_limit_s=limit_s, seed=problem.settings.seed, workers=routing_workers(problem.settings)
    )
    sol = solve_routing(rp, params)
    rp, sol = merge_repeat_visits(problem, rp, sol)  # one visit per facility per trip
    routes, unserved, late = to_plan_routes(problem, rp, sol, batches)
    return _Routed(rp, sol, tuple(routes), tuple(unserved), tuple(late))


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
    params: PlanningParams | None = None,
    coupling: bool = True,
) -> PlanResult:
    """Plan ``problem``'s day and validate it (pure: nothing is saved, no setting is read).

    ``travel`` is the day's matrix, else ``travel_provider`` makes it (default: haversine).
    ``previous`` (with ``problem.now_min``) re-plans: what departed or started stays
    (``planning/replan.py``). ``params`` split the time budget (default :class:`PlanningParams`).
    ``coupling=False`` stops after the first pass (deadlines from windows -> packaging -> routes).
    """
    t_start = time.perf_counter()
    s = problem.settings
    pp = params or PlanningParams()
    budget = max(pp.min_budget_s, s.time_limit_s)
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
    start: ReplanStart | None = None
    if previous is not None and problem.now_min is not None:
        start = replan_start(problem, previous, problem.now_min, travel_minutes=travel_min)
        movable, frozen, hint_lines = list(start.movable), list(start.frozen), dict(start.hint_lines)
        departed_keys = start.departed_keys
        route_problem = vehicles_left(problem, start.departed, problem.now_min)
    else:
        movable, frozen, hint_lines = form_batches(problem, travel_minutes=travel_min), [], {}
        departed_keys, route_problem = set(), problem
    if not movable and not frozen:
        raise PlanningError(f"no open order lines for {problem.date}: nothing to plan")
    if coupling and pp.promise_deadlines and movable:
        kept = [b for b in frozen if b.key not in departed_keys]
        promised = promise_deadlines(route_problem, movable, travel, fixed=kept)
        movable = [replace(b, deadline_min=promised.get(b.key, b.deadline_min)) for b in movable]
    stage["batching"] = time.perf_counter() - t

    frozen_keys = {b.key for b in frozen}
    base = packing_params or PackingParams(seed=s.seed)

    def pack(batches: list[Batch], limit: float, hints: dict[str, int]) -> PackingResult:
        return solve_packing(
            problem,
            batches,
            replace(base, time_limit_s=max(pp.min_solve_s, limit)),
            frozen=frozen,
            hint_lines=hints,
        )

    def deliver(packing: PackingResult, limit: float) -> PassResult:
        """Route what was packed and is not on a departed route; totes re-shared among them."""
        movable_packed = [b for b in packing.batches if b.key not in frozen_keys]
        resh = {b.key: b for b in share_totes(movable_packed, s.cards_per_tote)}
        resh.update({b.key: b for b in share_totes([b for b, _ in packing.unpacked], s.cards_per_tote)})
        batches = [resh.get(b.key, b) for b in packing.batches]
        to_route = [b for b in batches if b.key not in departed_keys]
        routed = _route(route_problem, to_route, travel, max(pp.min_solve_s, limit))
        unserved = routed.unserved + _unpacked_stops([(resh[b.key], why) for b, why in packing.unpacked])
        all_batches = tuple(sorted(batches + [resh[b.key] for b, _ in packing.unpacked], key=lambda b: b.key))
        return PassResult(
            score=score_of(routed.solution, unserved, routed.late, packing),
            packing=packing,
            routing_problem=routed.routing_problem,
            routing_solution=routed.solution,
            routes=routed.routes,
            unserved=unserved,
            late=routed.late,
            batches=all_batches,
        )

    # ------------------------------------------------------------ pass 1
    pack_limit = s.packing_time_limit_s or pp.pack_share * budget
    route_share = pp.routing_share(len({b.facility_id for b in movable}))
    route_limit = s.routing_time_limit_s or route_share * budget
    t = time.perf_counter()
    tick("packing", 0.1)
    packing = pack(movable, pack_limit, hint_lines)
    stage["packing"] = time.perf_counter() - t
    t = time.perf_counter()
    tick("routing", 0.35)
    first = deliver(packing, route_limit)
    stage["routing"] = time.perf_counter() - t

    # ------------------------------------------------------------ coupling loop
    t = time.perf_counter()
    best, passes = coupling_rounds(
        first,
        movable,
        max_rounds=s.coupling_iterations if coupling else 0,
        untouchable=frozen_keys | departed_keys,
        pack=pack,
        deliver=deliver,
        time_left=left,
        pack_limit=pack_limit,
        route_limit=route_limit,
        params=pp,
        tick=tick,
    )
    stage["coupling"] = time.perf_counter() - t

    routes, all_batches, late = best.routes, best.batches, best.late
    if start is not None and previous is not None:
        routes, all_batches, late = keep_departed(start, previous, routes, all_batches, late)
    sol = best.routing_solution
    plan = Plan(
        date=problem.date,
        batches=all_batches,
        routes=routes,
        unserved=best.unserved,
        late=late,
        stats=(best.packing.stats, SolveStats("routing", sol.status, sol.wall_s, float(sol.objective), None)),
        settings_version=s.version,
    )
    plan = replace(plan, kpis=plan_kpis(plan).as_dict())

    t = time.perf_counter()
    tick("validate", 0.95)
    violations = validate_plan(problem, plan, routing_problem=best.routing_problem, routing_solution=sol)
    stage["validate"] = time.perf_counter() - t
    stage["total"] = time.perf_counter() - t_start
    tick("done", 1.0)
    return PlanResult(
        plan=plan,
        violations=violations,
        routing_problem=best.routing_problem,
        routing_solution=sol,
        stage_seconds={k: round(v, 3) for k, v in stage.items()},
        single_pass=first.score.as_dict(),
        final=best.score.as_dict(),
        iterations=passes,
        packing=best.packing,
    )
