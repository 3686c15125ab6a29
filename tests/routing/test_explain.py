"""Explanations of unserved and late stops: one hand-built situation per cause."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ltc_scheduler.routing.explain import NO_CAPACITY, explain_late, explain_stop, explain_unserved
from ltc_scheduler.routing.problem import (
    RoutingProblem,
    RoutingSolution,
    RoutingStop,
    RoutingVehicle,
    Trip,
    Unserved,
    Visit,
)
from ltc_scheduler.routing.validate import hard_violations, validate_routing

H = 3600
M = 60
# depot + two facilities, 30 min from the pharmacy, 10 min apart
DUR = np.array([[0, 1800, 1800], [1800, 0, 600], [1800, 600, 0]], dtype=np.int64)


def stop(key: str = "F1", node: int = 1, **kw) -> RoutingStop:
    base = dict(key=key, node=node, totes=4, service=10 * M, windows=((8 * H, 10 * H),))
    base.update(kw)
    return RoutingStop(**base)


def van(key: str = "V1", **kw) -> RoutingVehicle:
    base = dict(key=key, capacity=10, start=6 * H, end=18 * H, cold_capacity=2, label=f"Van {key}")
    base.update(kw)
    return RoutingVehicle(**base)


def problem(stops, vehicles=(None,), **kw) -> RoutingProblem:
    vehicles = tuple(van() if v is None else v for v in vehicles)
    return RoutingProblem(stops=tuple(stops), vehicles=vehicles, duration=DUR, distance=DUR * 10, **kw)


def reason(p: RoutingProblem, key: str = "F1", solution: RoutingSolution | None = None) -> str:
    sol = solution or RoutingSolution(trips=(), unserved=(Unserved(key, "not served"),))
    out = explain_unserved(p, sol)
    return {u.key: u.reason for u in out.unserved}[key]


def test_window_unreachable_after_release():
    p = problem([stop(release=9 * H + 45 * M)])  # ready 09:45 + 30 min drive > 10:00
    r = reason(p)
    assert r.startswith("window unreachable")
    assert "ready at 09:45" in r and "10:15" in r and "08:00-10:00" in r


def test_soft_window_counts_allowed_lateness():
    s = stop(release=9 * H + 45 * M, late_penalty=10, max_late=10 * M)  # may start until 10:10
    assert reason(problem([s])).startswith("window unreachable")
    s = replace(s, max_late=20 * M)  # 10:15 is now allowed: not a window problem any more
    assert not reason(problem([s])).startswith("window unreachable")


def test_several_windows_are_named():
    s = stop(windows=((6 * H, 7 * H + 30 * M), (9 * H + 30 * M, 13 * H)), release=13 * H)
    r = reason(problem([s]))
    assert "window unreachable" in r and "06:00-07:30, 09:30-13:00" in r and "13:30" in r


def test_stat_promise_unreachable():
    s = stop(windows=(), deadline=12 * H + 10 * M, release=12 * H, priority=True)
    r = reason(problem([s]))
    assert r.startswith("STAT promise unreachable")
    assert "12:30" in r and "12:10" in r


def test_stat_promise_before_the_window_opens():
    s = stop(windows=((14 * H, 16 * H),), deadline=12 * H, priority=True)
    r = reason(problem([s]))
    assert (
        r.startswith("STAT promise unreachable") and "12:00 is before the facility's window 14:00-16:00" in r
    )


def test_totes_exceed_every_vehicle():
    r = reason(problem([stop(totes=25)], [van("V1"), van("V2", capacity=20)]))
    assert r.startswith("too many totes") and "25 totes" in r and "largest holds 20" in r


def test_cold_totes_exceed_every_cooler():
    r = reason(problem([stop(cold_totes=3)]))
    assert r.startswith("too many cold totes") and "3 cold totes" in r


def test_no_single_vehicle_holds_both():
    p = problem(
        [stop(totes=12, cold_totes=3)], [van("V1", capacity=20, cold_capacity=0), van("V2", cold_capacity=4)]
    )
    assert reason(p).startswith("too many totes: no single vehicle")


def test_controlled_without_authorised_driver():
    r = reason(problem([stop(controlled=True)], [van(controlled_ok=False)]))
    assert "controlled" in r and "no authorised driver" in r
    p = problem([stop(controlled=True, totes=8)], [van("V1", controlled_ok=False), van("V2", capacity=5)])
    assert "no authorised driver on a vehicle large enough" in reason(p)


def test_every_shift_ends_too_early():
    # leaves 06:00 (waits to 07:30 to arrive at 08:00), serves 10 min, back 08:40 > 08:30
    r = reason(problem([stop()], [van(end=8 * H + 30 * M)]))
    assert r.startswith("every shift ends too early")
    assert "08:40" in r and "08:30" in r


def test_every_shift_starts_too_late():
    r = reason(problem([stop()], [van(start=10 * H)]))
    assert r.startswith("every shift starts too late") and "10:30" in r


def test_shift_starts_too_late_for_the_stat_promise():
    s = stop(windows=(), deadline=9 * H, release=6 * H, priority=True)
    r = reason(problem([s], [van(start=9 * H)]))
    assert r.startswith("every shift starts too late") and "09:30" in r and "STAT promise 09:00" in r


def test_trip_too_long_for_max_duration():
    r = reason(problem([stop()], [van(max_duration=50 * M)]))  # 30 + 10 + 30 = 70 min
    assert r.startswith("every shift is too short") and "70 min" in r


def _full_fleet(max_trips: int) -> tuple[RoutingProblem, RoutingSolution]:
    """Two 8-tote stops, both 08:00-09:00, one 10-tote van: only one fits; the van serves F1."""
    p = problem(
        [
            stop("F1", 1, totes=8, windows=((8 * H, 9 * H),)),
            stop("F2", 2, totes=8, windows=((8 * H, 9 * H),)),
        ],
        [van(max_trips=max_trips)],
    )
    trip = Trip(
        "V1",
        1,
        7 * H + 30 * M,
        8 * H + 40 * M,
        (Visit("F1", 8 * H, 8 * H, 8 * H + 10 * M),),
        distance=36000,
    )
    sol = RoutingSolution(trips=(trip,), unserved=(Unserved("F2", "not served"),))
    assert validate_routing(p, explain_unserved(p, sol)) == []
    return p, sol


def test_no_capacity_left_suggests_one_more_vehicle():
    p, sol = _full_fleet(max_trips=1)
    r = reason(p, "F2", sol)
    assert r.startswith(NO_CAPACITY)
    assert "one more vehicle (at least 8 totes) working 07:30-08:40" in r
    assert "later window" not in r  # the only van has no trip left


def test_no_capacity_left_suggests_later_window_when_a_van_is_free_later():
    p, sol = _full_fleet(max_trips=2)
    r = reason(p, "F2", sol)
    assert r.startswith(NO_CAPACITY)
    assert "a later window, from 09:10 (Van V1 is free then)" in r  # back 08:40 + 30 min drive
    assert "one more vehicle" in r


def test_explain_unserved_keeps_everything_else():
    p, sol = _full_fleet(max_trips=1)
    out = explain_unserved(p, sol)
    assert out.trips == sol.trips and [u.key for u in out.unserved] == ["F2"]
    assert explain_unserved(p, replace(sol, unserved=())) is not None


def test_explain_stop_in_solver_units():
    # Solomon-like units: plain numbers, no clock
    s = stop(release=9 * H + 45 * M)
    p = problem([s], time_unit="dimacs")
    assert str(9 * H + 45 * M + 1800) in explain_stop(p, s)


# ---------------------------------------------------------------- late


def _late_problem(release: int = 0) -> RoutingProblem:
    soft = dict(late_penalty=10, max_late=2 * H)
    return problem(
        [
            stop("F1", 1, totes=8, windows=((8 * H, 9 * H),), **soft),
            stop("F2", 2, totes=8, windows=((8 * H, 9 * H),), release=release, **soft),
        ],
        [van(max_trips=2)],
    )


def test_late_because_released_late():
    p = _late_problem(release=9 * H)  # ready 09:00, arrives 09:30
    trip = Trip(
        "V1",
        1,
        9 * H,
        10 * H + 10 * M,
        (Visit("F2", 9 * H + 30 * M, 9 * H + 30 * M, 9 * H + 40 * M, 1800),),
        36000,
    )
    sol = RoutingSolution(trips=(trip,), unserved=(Unserved("F1", "x"),))
    late = explain_late(p, sol)
    assert list(late) == ["F2"]
    assert (
        "30 min late" in late["F2"] and "window unreachable" in late["F2"] and "ready at 09:00" in late["F2"]
    )


def test_late_because_fleet_busy():
    p = _late_problem()
    t1 = Trip("V1", 1, 7 * H + 30 * M, 8 * H + 40 * M, (Visit("F1", 8 * H, 8 * H, 8 * H + 10 * M),), 36000)
    t2 = Trip(
        "V1",
        2,
        8 * H + 40 * M,
        9 * H + 50 * M,
        (Visit("F2", 9 * H + 10 * M, 9 * H + 10 * M, 9 * H + 20 * M, 600),),
        36000,
    )
    sol = RoutingSolution(trips=(t1, t2))
    assert hard_violations(validate_routing(p, sol)) == []
    late = explain_late(p, sol)
    assert list(late) == ["F2"]
    assert "10 min late" in late["F2"] and NO_CAPACITY in late["F2"] and "one more vehicle" in late["F2"]
    assert "later window (open until at least 09:10)" in late["F2"]


def test_late_because_shifts_start_late():
    p = problem([stop(late_penalty=10, max_late=2 * H)], [van(start=9 * H + 45 * M)])
    trip = Trip(
        "V1",
        1,
        9 * H + 45 * M,
        10 * H + 55 * M,
        (Visit("F1", 10 * H + 15 * M, 10 * H + 15 * M, 10 * H + 25 * M, 900),),
        36000,
    )
    late = explain_late(p, RoutingSolution(trips=(trip,)))
    assert "15 min late" in late["F1"] and "starts too late" in late["F1"]


def test_no_late_no_entry():
    p, sol = _full_fleet(max_trips=1)
    assert explain_late(p, sol) == {}


# ---------------------------------------------------------------- with the engine


def test_engine_words_its_unserved_stops():
    routing = pytest.importorskip("ltc_scheduler.routing.search")
    from ltc_scheduler.routing.params import RoutingParams

    p, _ = _full_fleet(max_trips=1)
    p = replace(p, stops=tuple(replace(s, drop_penalty=10**7) for s in p.stops))
    sol = routing.solve_routing(p, RoutingParams(time_limit_s=1))
    assert validate_routing(p, sol) == []
    assert len(sol.unserved) == 1
    assert sol.unserved[0].reason.startswith(NO_CAPACITY)
    assert "one more vehicle" in sol.unserved[0].reason


def test_engine_words_stops_it_leaves_out_of_the_model():
    routing = pytest.importorskip("ltc_scheduler.routing.search")
    from ltc_scheduler.routing.params import RoutingParams

    p = problem([stop("F1", 1, totes=25), stop("F2", 2, controlled=True)], [van(controlled_ok=False)])
    sol = routing.solve_routing(p, RoutingParams(time_limit_s=1))
    assert validate_routing(p, sol) == []
    reasons = {u.key: u.reason for u in sol.unserved}
    assert reasons["F1"].startswith("too many totes: 25 totes")
    assert reasons["F2"].startswith("controlled items: no authorised driver")
