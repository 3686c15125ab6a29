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

Before the first pass (:func:`promise_deadlines`), the urgent batches that will ride in one STAT
stop get that stop's deadline: a stop keeps the earliest promise of its order lines, so a new
admission promised for 12:20 that rides with a STAT line promised for 11:00 must be ready for the
11:00 drive, not only for its own. This costs no solve (the stops are grouped as the routing
engine will group them, with each batch ready at its deadline).

A round normally runs only when ``params.round_share`` of a full round's time is left. When a stop
was left **unserved** because its batches were ready too late (a STAT promise or a window no
direct trip could still keep from the ready time: read from the routing problem's stop, its
release, promise, windows and the drive from the pharmacy, not from the reason's words), the loop
reacts with whatever is left, if at least ``params.react_min_s``: an unserved STAT line is a
broken promise, worth a shorter round (kept only if it is better).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ltc_scheduler.packing.batching import LOAD_MARGIN_MIN
from ltc_scheduler.packing.solve import PackingResult
from ltc_scheduler.plan.model import Batch, LateStop, PlanRoute, UnservedStop
from ltc_scheduler.planning.params import PlanningParams
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.problem.travel import TravelMatrix
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution, RoutingStop

__all__ = [
    "PassScore",
    "PassResult",
    "score_of",
    "tighten",
    "late_ready_stops",
    "promise_deadlines",
    "coupling_rounds",
]


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


def _latest_release_min(rp: RoutingProblem, st: RoutingStop) -> int | None:
    """The latest ready time (minutes) from which a direct drive still starts service inside what
    the stop accepts: its STAT promise and the end of its last window (plus the allowed lateness
    of a soft window), minus the loading margin; None when the stop accepts any time."""
    limits = []
    if st.deadline is not None:
        limits.append(st.deadline)
    if st.windows:
        limits.append(st.windows[-1][1] + (st.max_late if st.late_penalty > 0 else 0))
    if not limits:
        return None
    drive = int(rp.duration[0, st.node])
    return (min(limits) - drive) // 60 - LOAD_MARGIN_MIN


def late_ready_stops(rp: RoutingProblem, sol: RoutingSolution) -> dict[str, int]:
    """Unserved stops released too late for a direct drive to keep their promise or window: stop
    key -> the latest ready time (minutes) that would have kept it. Stops left out although released
    in time are the fleet's doing, not packaging's, and are not here."""
    stops = {st.key: st for st in rp.stops}
    out: dict[str, int] = {}
    for u in sol.unserved:
        st = stops.get(u.key)
        if st is None:
            continue
        latest = _latest_release_min(rp, st)
        if latest is not None and st.release // 60 > latest:
            out[u.key] = latest
    return out


def promise_deadlines(
    problem: PlanningProblem,
    batches: list[Batch],
    travel: TravelMatrix,
    *,
    fixed: list[Batch] | tuple[Batch, ...] = (),
) -> dict[str, int]:
    """Earlier ready-by deadlines for urgent batches whose STAT stop has an earlier promise than
    their own: batch key -> the latest ready time from which a direct drive keeps the stop's
    promise (:func:`_latest_release_min`); {} when every batch's deadline already does.

    The stops are built as the routing engine builds them (``routing/from_day.py``), each batch
    taken as ready at its deadline (``fixed`` batches, already packed when re-planning: at their
    ready time; they are never changed); repeated (at most three times) because an earlier
    deadline can move a batch into another STAT wave.
    """
    from ltc_scheduler.routing.from_day import build_routing_problem, stop_batches

    new: dict[str, int] = {}
    current = list(batches)
    for _ in range(3):
        ready = {b.key: b.deadline_min for b in current}
        ready.update({b.key: b.ready_min for b in fixed if b.ready_min is not None})
        rp = build_routing_problem(problem, current + list(fixed), travel, ready=ready)
        carried = stop_batches(rp, current + list(fixed))
        movable = {b.key for b in current}
        changed = False
        for st in rp.stops:
            if st.deadline is None:
                continue
            latest = _latest_release_min(rp, st)
            for b in carried.get(st.key, ()):
                if latest is not None and b.key in movable and b.stat and b.deadline_min > latest:
                    new[b.key] = latest
                    changed = True
        if not changed:
            break
        current = [replace(b, deadline_min=new.get(b.key, b.deadline_min)) for b in current]
    return new


def tighten(
    rp: RoutingProblem,
    sol: RoutingSolution,
    batches: dict[str, Batch],
    frozen: set[str],
) -> dict[str, int]:
    """New (earlier) ready-by deadlines for batches that made a stop late or unserved; {} = none.

    * a late stop whose vehicle left as soon as the last batch on the trip was ready: the batches
      that held the trip back must be ready ``late`` minutes earlier;
    * an unserved stop released after the last moment a direct trip could still keep its STAT
      promise / start inside its last window (:func:`late_ready_stops`): exactly its batches that
      were ready after that moment must be ready by it (the loading margin kept); a batch whose
      deadline already asked for that and was missed is asked the missed minutes earlier.
    """
    from ltc_scheduler.routing.from_day import stop_batches

    new: dict[str, int] = {}
    carried = stop_batches(rp, list(batches.values()))

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
    for key, latest_release in late_ready_stops(rp, sol).items():
        for b in carried.get(key, ()):
            if b.ready_min is None or b.ready_min <= latest_release:
                continue
            # the deadline asked for it already and packaging missed it: ask that much earlier
            miss = b.ready_min - latest_release if b.deadline_min <= latest_release else 0
            lower(b, min(latest_release, b.deadline_min - miss))
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
    is left, or, when a stop was left unserved for a late ready time, ``params.react_min_s``.
    """
    best = first
    passes = 1
    deadlines = {b.key: b.deadline_min for b in movable}
    full_round = pack_limit + route_limit
    while passes <= max_rounds:
        left = time_left()
        react = bool(late_ready_stops(best.routing_problem, best.routing_solution))
        if left < params.round_share * full_round and not (react and left >= params.react_min_s):
            break
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
