"""One focused test per delivery rule of the routing engine, on tiny hand-built problems.

Each problem is built so that the cheapest answer *without* the rule differs from the answer with
it: dropping the rule from the model makes the test fail. Every test also asks the independent
validator (``routing/validate.py``) for its verdict. Every test runs twice: with the default
engine (ruin-and-recreate warm start, then OR-Tools) and with OR-Tools alone, so a rule dropped
from either the warm start or the OR-Tools model fails a test.
"""

from __future__ import annotations

import numpy as np
import pytest

from ltc_scheduler.routing.params import RoutingParams
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution, RoutingStop, RoutingVehicle, Trip
from ltc_scheduler.routing.search import solve_routing

FAST = RoutingParams(time_limit_s=1.0)
#: share of the time given to the warm start in the current run of the module's tests
_SHARE = {"value": FAST.ruin_recreate_share}


@pytest.fixture(autouse=True, params=["warm start + OR-Tools", "OR-Tools alone"])
def routing_engine_kind(request):
    _SHARE["value"] = FAST.ruin_recreate_share if request.param == "warm start + OR-Tools" else 0.0
    yield request.param
    _SHARE["value"] = FAST.ruin_recreate_share


def matrix(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


def line_matrix(xs: list[int]) -> np.ndarray:
    """Travel between points on a line (node 0 = depot at xs[0])."""
    a = np.array(xs, dtype=np.int64)
    return np.abs(a[:, None] - a[None, :])


def problem(stops, vehicles, dur, dist=None, **kw) -> RoutingProblem:
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=tuple(vehicles),
        duration=dur,
        distance=dur.copy() if dist is None else dist,
        time_unit="min",
        **kw,
    )


def veh(key="A", capacity=100, start=0, end=1000, **kw) -> RoutingVehicle:
    return RoutingVehicle(key, capacity=capacity, start=start, end=end, **kw)


def stop(key, node, totes=1, service=0, windows=((0, 1000),), **kw) -> RoutingStop:
    return RoutingStop(key, node, totes=totes, service=service, windows=windows, **kw)


def solve(p: RoutingProblem, params: RoutingParams = FAST) -> RoutingSolution:
    sol = solve_routing(p, params.with_(ruin_recreate_share=_SHARE["value"]))
    assert sol.status.startswith("ROUTING_"), sol.status
    # the warm start's routes must pass the OR-Tools model's own check (a rule the warm start
    # got wrong shows up here, not only as a worse answer)
    assert sol.stats.get("start") != "ruin_recreate refused"
    return sol


def hard(p: RoutingProblem, sol: RoutingSolution) -> list:
    from ltc_scheduler.routing.validate import validate_routing

    return [v for v in validate_routing(p, sol) if v.hard]


def soft(p: RoutingProblem, sol: RoutingSolution) -> list[str]:
    from ltc_scheduler.routing.validate import validate_routing

    return sorted(v.rule for v in validate_routing(p, sol) if not v.hard)


def trip_of(sol: RoutingSolution, key: str) -> Trip:
    return next(t for t in sol.trips if any(v.stop_key == key for v in t.visits))


def order(sol: RoutingSolution) -> list[list[str]]:
    return [[v.stop_key for v in t.visits] for t in sol.trips]


def visit(sol: RoutingSolution, key: str):
    return next(v for t in sol.trips for v in t.visits if v.stop_key == key)


# --------------------------------------------------------------------------- windows


def test_multiple_windows_gap_is_not_a_window():
    """A is open 0-10 and 100-110 (not at 50): A first would be cheaper but lands in the gap.

    0->A 50, A->B 5, B->0 40 (A,B costs 95); 0->B 50, B->A 5, A->0 60 (B,A costs 115). B closes at
    60, so serving A at 100 first is impossible: only B then A (A waits for 100) is feasible.
    """
    dur = matrix([[0, 50, 50], [60, 0, 5], [40, 5, 0]])
    p = problem(
        [stop("A", 1, windows=((0, 10), (100, 110))), stop("B", 2, windows=((0, 60),))],
        [veh()],
        dur,
    )
    sol = solve(p)
    assert order(sol) == [["B", "A"]]
    assert visit(sol, "A").start == 100
    # leaves as late as B's window allows (10) to wait as little as possible for A
    assert visit(sol, "B").start == 60 and sol.trips[0].depart == 10
    assert sol.total_distance == 115
    assert hard(p, sol) == []


def test_soft_window_served_late_at_a_penalty():
    """The vehicle starts at 120; the window closes at 100: served 30 late (soft), not dropped."""
    dur = line_matrix([0, 10])
    p = problem(
        [stop("S", 1, windows=((0, 100),), late_penalty=2, max_late=50)],
        [veh(start=120)],
        dur,
    )
    sol = solve(p)
    v = visit(sol, "S")
    assert (v.arrival, v.start, v.late) == (130, 130, 30)
    assert sol.objective == 20 + 2 * 30  # driving + lateness
    assert hard(p, sol) == []
    assert soft(p, sol) == ["late"]


def test_soft_window_beyond_max_late_is_unserved():
    dur = line_matrix([0, 10])
    p = problem(
        [stop("S", 1, windows=((0, 100),), late_penalty=2, max_late=20)],
        [veh(start=120)],
        dur,
    )
    sol = solve(p)
    assert sol.trips == ()
    assert [u.key for u in sol.unserved] == ["S"]
    assert sol.unserved[0].reason
    assert hard(p, sol) == []


def test_zero_late_penalty_means_hard_window():
    dur = line_matrix([0, 10])
    p = problem([stop("S", 1, windows=((0, 100),), late_penalty=0, max_late=50)], [veh(start=120)], dur)
    sol = solve(p)
    assert [u.key for u in sol.unserved] == ["S"]
    assert hard(p, sol) == []


def test_stat_deadline_is_hard():
    """X then S is the short tour (45) but reaches S at 35; the STAT promise is 30: S goes first."""
    dur = matrix([[0, 10, 25], [40, 0, 25], [10, 25, 0]])
    p = problem(
        [stop("X", 1, windows=()), stop("S", 2, windows=(), deadline=30, priority=True)],
        [veh()],
        dur,
    )
    sol = solve(p)
    assert order(sol) == [["S", "X"]]
    assert visit(sol, "S").start <= 30
    assert hard(p, sol) == []


# --------------------------------------------------------------------------- loads and vehicles


def test_tote_capacity_splits_the_route():
    """Three stops of 5 totes next to each other; vehicles hold 10: two vehicles are needed."""
    dur = line_matrix([0, 10, 11, 12])
    p = problem(
        [stop(k, i, totes=5) for i, k in enumerate("PQR", start=1)],
        [veh("A", capacity=10), veh("B", capacity=10)],
        dur,
    )
    sol = solve(p)
    assert not sol.unserved
    assert sol.vehicles_used == 2
    loads = sorted(5 * len(t.visits) for t in sol.trips)
    assert loads == [5, 10]
    assert hard(p, sol) == []


def test_cold_totes_need_a_vehicle_with_cooler_space():
    """A is free and holds everything but has 1 cold slot; the stop needs 2 cold totes: B, at 500."""
    dur = line_matrix([0, 10, 20])
    p = problem(
        [stop("W", 1, totes=2), stop("C", 2, totes=2, cold_totes=2)],
        [veh("A", cold_capacity=1), veh("B", cold_capacity=5, fixed_cost=500)],
        dur,
    )
    sol = solve(p)
    assert trip_of(sol, "C").vehicle_key == "B"
    assert not sol.unserved
    assert hard(p, sol) == []


def test_controlled_stop_only_on_authorised_vehicle():
    dur = line_matrix([0, 10, 20])
    p = problem(
        [stop("W", 1), stop("K", 2, controlled=True)],
        [veh("A", controlled_ok=False), veh("B", controlled_ok=True, fixed_cost=500)],
        dur,
    )
    sol = solve(p)
    assert trip_of(sol, "K").vehicle_key == "B"
    assert hard(p, sol) == []


def test_controlled_stop_without_any_authorised_vehicle_is_unserved_with_reason():
    dur = line_matrix([0, 10])
    p = problem([stop("K", 1, controlled=True)], [veh("A", controlled_ok=False)], dur)
    sol = solve(p)
    assert sol.trips == ()
    assert [u.key for u in sol.unserved] == ["K"]
    assert sol.unserved[0].reason.strip()
    assert hard(p, sol) == []


def test_shift_end_excludes_the_cheap_vehicle():
    """A's shift ends at 90, the stop opens at 100: only B (fixed cost 500) can serve it."""
    dur = line_matrix([0, 10])
    p = problem(
        [stop("S", 1, windows=((100, 200),))],
        [veh("A", end=90), veh("B", fixed_cost=500)],
        dur,
    )
    sol = solve(p)
    t = trip_of(sol, "S")
    assert t.vehicle_key == "B"
    assert (t.depart, t.return_) == (90, 110)
    assert hard(p, sol) == []


def test_shift_start_delays_service():
    dur = line_matrix([0, 10])
    p = problem([stop("S", 1, windows=((0, 500),))], [veh("A", start=300)], dur)
    sol = solve(p)
    assert trip_of(sol, "S").depart == 300
    assert visit(sol, "S").start == 310
    assert hard(p, sol) == []


def test_max_duration_per_trip():
    """A trip to S takes 40 + 5 service; A may drive only 30 per trip: the expensive B goes."""
    dur = line_matrix([0, 20])
    p = problem(
        [stop("S", 1, service=5)],
        [veh("A", max_duration=30), veh("B", fixed_cost=500, max_duration=60)],
        dur,
    )
    sol = solve(p)
    t = trip_of(sol, "S")
    assert t.vehicle_key == "B"
    assert t.duration == 45
    assert hard(p, sol) == []


def test_break_is_taken_inside_its_window_between_stops():
    """The trip spans the break window 50-60 (30 min): the break must fit between A and B."""
    dur = matrix([[0, 10, 20], [10, 0, 10], [20, 10, 0]])
    p = problem(
        [
            stop("A", 1, service=5, windows=((40, 45),)),
            stop("B", 2, service=5, windows=((70, 95),)),
        ],
        [veh("A", end=300, break_duration=30, break_window=(50, 60))],
        dur,
    )
    sol = solve(p)
    assert order(sol) == [["A", "B"]]
    (t,) = sol.trips
    assert t.break_start is not None and 50 <= t.break_start <= 60
    a, b = t.visits
    assert t.break_start >= a.departure
    assert b.start >= t.break_start + 30 and b.start - a.departure >= 10 + 30
    assert hard(p, sol) == []


def test_release_time_delays_departure():
    """R is packed at 100: the trip carrying it cannot leave earlier even though R opens at 0."""
    dur = line_matrix([0, 10])
    p = problem([stop("R", 1, release=100)], [veh()], dur)
    sol = solve(p)
    t = trip_of(sol, "R")
    assert t.depart >= 100
    assert visit(sol, "R").start == t.depart + 10
    assert hard(p, sol) == []


def test_release_splits_into_two_trips_of_one_vehicle():
    """E closes at 60, R is released at 100: one vehicle, two trips (reload 5), both served."""
    dur = line_matrix([0, 10, 12])
    p = problem(
        [stop("E", 1, windows=((0, 60),)), stop("R", 2, release=100)],
        [veh("A", max_trips=2)],
        dur,
        reload_time=5,
    )
    sol = solve(p)
    assert not sol.unserved
    assert [(t.trip_no, [v.stop_key for v in t.visits]) for t in sol.trips] == [(1, ["E"]), (2, ["R"])]
    t1, t2 = sol.trips
    assert t2.depart >= max(100, t1.return_ + 5)
    assert hard(p, sol) == []


def test_second_trip_after_reload_when_capacity_runs_out():
    """Two stops of 8 totes, one vehicle of 10 with 2 trips and reload 15: both served."""
    dur = line_matrix([0, 10, 20])
    p = problem(
        [stop("P", 1, totes=8), stop("Q", 2, totes=8)],
        [veh("A", capacity=10, max_trips=2)],
        dur,
        reload_time=15,
    )
    sol = solve(p)
    assert not sol.unserved
    assert [t.trip_no for t in sol.trips] == [1, 2]
    t1, t2 = sol.trips
    assert t2.depart >= t1.return_ + 15
    assert hard(p, sol) == []


def test_single_trip_vehicle_cannot_reload():
    """Same as above with one trip allowed (a release puts the model in its multi-trip form)."""
    dur = line_matrix([0, 10, 20])
    p = problem(
        [stop("P", 1, totes=8, release=1), stop("Q", 2, totes=8)],
        [veh("A", capacity=10, max_trips=1)],
        dur,
    )
    sol = solve(p)
    assert len(sol.trips) == 1 and len(sol.unserved) == 1
    assert hard(p, sol) == []


def test_fixed_cost_is_paid_once_per_vehicle_not_per_trip():
    """A does two trips: the objective holds A's fixed cost once (100), not twice."""
    dur = line_matrix([0, 10, 20])
    p = problem(
        [stop("P", 1, totes=8), stop("Q", 2, totes=8)],
        [veh("A", capacity=10, max_trips=2, fixed_cost=100), veh("B", capacity=10, fixed_cost=150)],
        dur,
    )
    sol = solve(p)
    assert not sol.unserved
    assert {t.vehicle_key for t in sol.trips} == {"A"}
    assert sol.objective == sol.total_distance + 100 == 60 + 100
    assert hard(p, sol) == []


def test_fixed_cost_prefers_fewer_vehicles():
    """Two vehicles could each take one stop (distance 40) or one takes both (distance 40, too)."""
    dur = line_matrix([0, 10, 20])
    p = problem(
        [stop("P", 1), stop("Q", 2)],
        [veh("A", fixed_cost=100), veh("B", fixed_cost=100)],
        dur,
    )
    sol = solve(p)
    assert sol.vehicles_used == 1
    assert sol.objective == 40 + 100
    assert hard(p, sol) == []


# --------------------------------------------------------------------------- dropping and objective


def test_cheap_drop_penalty_leaves_far_stop_unserved_with_reason():
    dur = line_matrix([0, 10, 500])
    p = problem([stop("N", 1), stop("F", 2, drop_penalty=50)], [veh()], dur)
    sol = solve(p)
    assert [u.key for u in sol.unserved] == ["F"]
    assert sol.unserved[0].reason.strip()
    assert sol.objective == 20 + 50
    assert hard(p, sol) == []


def test_no_drop_penalty_means_serve_whatever_it_costs():
    dur = line_matrix([0, 10, 500])
    p = problem([stop("N", 1), stop("F", 2)], [veh()], dur)
    sol = solve(p)
    assert not sol.unserved
    assert sol.total_distance == 1000
    assert hard(p, sol) == []


def test_unreachable_stop_is_never_silently_dropped():
    """The window closes before the vehicle could get there: listed unserved, with a reason."""
    dur = line_matrix([0, 10, 50])
    p = problem([stop("N", 1), stop("U", 2, windows=((0, 20),))], [veh()], dur)
    sol = solve(p)
    assert [u.key for u in sol.unserved] == ["U"]
    assert all(u.reason.strip() for u in sol.unserved)
    assert hard(p, sol) == []


def test_too_many_totes_for_every_vehicle_is_unserved():
    dur = line_matrix([0, 10, 20])
    p = problem([stop("N", 1), stop("BIG", 2, totes=50)], [veh(capacity=20)], dur)
    sol = solve(p)
    assert [u.key for u in sol.unserved] == ["BIG"]
    assert [v.stop_key for t in sol.trips for v in t.visits] == ["N"]
    assert hard(p, sol) == []


@pytest.mark.parametrize(("arc_cost", "expected"), [("distance", ["A", "B"]), ("duration", ["B", "A"])])
def test_arc_cost_follows_the_problem(arc_cost, expected):
    """Order A,B is shorter (metres), B,A is quicker (seconds): the objective picks accordingly."""
    dist = matrix([[0, 10, 10], [50, 0, 10], [10, 50, 0]])  # A,B: 10+10+10 = 30; B,A: 10+50+50 = 110
    dur = matrix([[0, 10, 10], [10, 0, 90], [90, 10, 0]])  # A,B: 10+90+90 = 190; B,A: 10+10+10 = 30
    p = problem([stop("A", 1), stop("B", 2)], [veh()], dur, dist=dist, arc_cost=arc_cost)
    sol = solve(p)
    assert order(sol) == [expected]
    assert sol.objective == 30
    assert hard(p, sol) == []


# --------------------------------------------------------------------------- reported times


def test_departure_pushed_late_no_waiting_before_first_stop():
    """The stop opens at 100 and is 10 away: leave at 90, arrive and start at 100."""
    dur = line_matrix([0, 10])
    p = problem([stop("S", 1, service=7, windows=((100, 200),))], [veh()], dur)
    sol = solve(p)
    (t,) = sol.trips
    v = t.visits[0]
    assert (t.depart, v.arrival, v.start, v.departure, t.return_) == (90, 100, 100, 107, 117)
    assert (t.distance, t.duration) == (20, 27)
    assert hard(p, sol) == []


def test_max_duration_counts_waiting_in_the_reported_trip():
    """A closes at 20, B opens at 80: one trip A,B lasts >= 80 with waiting, over A's 60.

    The model bounds driving + service per trip (30 here); the waiting is checked on the final
    schedule, so the answer is never an over-long trip: B goes on a second trip or is reported.
    """
    dur = matrix([[0, 10, 10], [10, 0, 10], [10, 10, 0]])
    p = problem(
        [stop("A", 1, windows=((0, 20),)), stop("B", 2, windows=((80, 100),))],
        [veh("A", max_duration=60, max_trips=2)],
        dur,
        reload_time=5,
    )
    sol = solve(p)
    assert all(t.duration <= 60 for t in sol.trips)
    assert {v.stop_key for t in sol.trips for v in t.visits} | {u.key for u in sol.unserved} == {"A", "B"}
    assert all(u.reason for u in sol.unserved)
    assert hard(p, sol) == []
