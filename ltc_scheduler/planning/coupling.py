"""The coupling loop: late ready times tighten batch deadlines, then packaging and routing again.

1. Batches get ready-by deadlines from the facilities' delivery windows and the orders' promises
   (``packing/batching.py``).
2. CP-SAT schedules the lines and the verification (``packing/solve.py``); a batch's ready time is
   its verification end.
3. The routing engine plans the deliveries with those ready times as release times.
4. For every stop that is late or unserved *because a batch was ready too late* (the vehicle
   waited for the batch, or the batch was ready after the last moment a direct trip could still
   make the window), the batch's deadline is tightened (by the minutes the stop was late, or to
   that last moment) and packaging is solved again, warm-started on the previous line choice;
   then routing again (:func:`tighten`, :func:`coupling_rounds`). The loop stops when nothing is
   tightened, after ``settings.coupling_iterations`` rounds, when the time budget is spent, or
   when a round is not better than the plan so far. The best pass by (unserved stops, late
   minutes, routing objective) is kept (:meth:`PassScore.key`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ltc_scheduler.packing.batching import LOAD_MARGIN_MIN
from ltc_scheduler.packing.solve import PackingResult
from ltc_scheduler.plan.model import Batch, LateStop, PlanRoute, UnservedStop
from ltc_scheduler.planning.params import PlanningParams
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution

__all__ = ["PassScore", "PassResult", "score_of", "tighten", "coupling_rounds"]


@dataclass(frozen=True)
class PassScore:
    """How good one pass (first pass or coupling round) was; smaller is better (:meth:`key`)."""

    unserved: int
    late_stops: int
    late_min: int
    routing_objective: int
    packing_weighted_lateness: int

    def key(self) -> tuple[int, int, int]:
        """What the loop compares: unserved stops, then late minutes, then the routing objective."""
        return (self.unserved, self.late_min, self.routing_objective)

    def as_dict(self) -> dict[str, int]:
        return {
            "unserved": self.unserved,
            "late_stops": self.late_stops,
            "late_min": self.late_min,
            "routing_objective": self.routing_objective,
            "packing_weighted_lateness": self.packing_weighted_lateness,
        }


@dataclass(frozen=True)
class PassResult:
    """One packaging solve and the routing of what it packed.

    ``batches`` are all the pass's batches (packed or not, totes re-shared), by key; ``unserved``
    includes the batches not packed today.
    """

    score: PassScore
    packing: PackingResult
    routing_problem: RoutingProblem
    routing_solution: RoutingSolution
    routes: tuple[PlanRoute, ...]
    unserved: tuple[UnservedStop, ...]
    late: tuple[LateStop, ...]
    batches: tuple[Batch, ...]


def score_of(
    sol: RoutingSolution,
    unserved: tuple[UnservedStop, ...],
    late: tuple[LateStop, ...],
    packing: PackingResult,
) -> PassScore:
    return PassScore(
        unserved=len(unserved),
        late_stops=len(late),
        late_min=sum(x.minutes for x in late),
        routing_objective=int(sol.objective),
        packing_weighted_lateness=packing.weighted_lateness,
    )


def tighten(
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


Pack = Callable[[list[Batch], float, dict[str, int]], PackingResult]
Deliver = Callable[[PackingResult, float], PassResult]


def coupling_rounds(
    first: PassResult,
    movable: list[Batch],
    *,
    max_rounds: int,
    untouchable: set[str],
    pack: Pack,
    deliver: Deliver,
    time_left: Callable[[], float],
    pack_limit: float,
    route_limit: float,
    params: PlanningParams,
    tick: Callable[[str, float], None] = lambda name, frac: None,
) -> tuple[PassResult, int]:
    """Run coupling rounds after ``first``; the best pass and the number of passes made (1 = none).

    ``movable`` are the batches packaging may schedule (their deadlines get tightened);
    ``untouchable`` the keys of batches whose deadlines stay (frozen or on departed routes).
    ``pack(batches, limit_s, line_hints)`` and ``deliver(packing, limit_s)`` make one pass;
    a round runs only if ``params.round_share`` of a full round (``pack_limit + route_limit``)
    is left.
    """
    best = first
    passes = 1
    deadlines = {b.key: b.deadline_min for b in movable}
    while passes <= max_rounds and time_left() >= params.round_share * (pack_limit + route_limit):
        tighter = tighten(
            best.routing_problem, best.routing_solution, {b.key: b for b in best.batches}, untouchable
        )
        if not tighter:
            break
        deadlines.update(tighter)
        passes += 1
        tick(f"coupling round {passes}", min(0.9, 0.35 + 0.15 * passes))
        movable = [replace(b, deadline_min=deadlines.get(b.key, b.deadline_min)) for b in movable]
        hints = {b.key: b.line_id for b in best.packing.batches if b.line_id is not None}
        packing = pack(movable, min(pack_limit, params.round_pack_share * time_left()), hints)
        candidate = deliver(
            packing, max(params.min_solve_s, min(route_limit, time_left() - params.min_solve_s))
        )
        if candidate.score.key() < best.score.key():
            best = candidate
        else:
            break
    return best, passes
