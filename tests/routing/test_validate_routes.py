"""The independent routing validator: one hand-built solution per broken rule, exact rule codes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ltc_scheduler.routing.problem import (
    RoutingProblem,
    RoutingSolution,
    RoutingStop,
    RoutingVehicle,
    Trip,
    Unserved,
    Visit,
)
from ltc_scheduler.routing.validate import fmt_time, hard_violations, validate_routing

H = 3600
DUR = np.array(
    [
        [0, 600, 600, 900],
        [600, 0, 300, 500],
        [600, 300, 0, 400],
        [900, 500, 400, 0],
    ],
    dtype=np.int64,
)


def make_problem(**kw) -> RoutingProblem:
    """Depot + three stops A (node 1), B (node 2), C (node 3); one vehicle V1 working 06:00-18:00."""
    stops = kw.pop(
        "stops",
        (
            RoutingStop("A", 1, totes=3, service=600, windows=((8 * H, 10 * H),)),
            RoutingStop("B", 2, totes=2, service=600, windows=((7 * H, 9 * H), (11 * H, 12 * H))),
            RoutingStop("C", 3, totes=1, service=300, windows=((6 * H, 20 * H),)),
        ),
    )
    vehicles = kw.pop(
        "vehicles",
        (RoutingVehicle("V1", capacity=10, start=6 * H, end=18 * H, cold_capacity=2, max_trips=2),),
    )
    return RoutingProblem(stops=stops, vehicles=vehicles, duration=DUR, distance=DUR * 10, **kw)


def good_trip(**kw) -> Trip:
    """V1 leaves 08:00, A 08:10-08:20, B 08:25-08:35, back 08:45."""
    base = dict(
        vehicle_key="V1",
        trip_no=1,
        depart=8 * H,
        return_=8 * H + 2700,
        visits=(
            Visit("A", arrival=8 * H + 600, start=8 * H + 600, departure=8 * H + 1200),
            Visit("B", arrival=8 * H + 1500, start=8 * H + 1500, departure=8 * H + 2100),
        ),
        distance=15000,
    )
    base.update(kw)
    return Trip(**base)


def good_solution(**kw) -> RoutingSolution:
    base = dict(trips=(good_trip(),), unserved=(Unserved("C", "no vehicle left"),))
    base.update(kw)
    return RoutingSolution(**base)


def rules(problem: RoutingProblem, solution: RoutingSolution) -> list[str]:
    return sorted(v.rule for v in validate_routing(problem, solution))


def with_visit(trip: Trip, i: int, **kw) -> Trip:
    visits = list(trip.visits)
    visits[i] = replace(visits[i], **kw)
    return replace(trip, visits=tuple(visits))


def test_valid_solution_has_no_violation():
    assert validate_routing(make_problem(), good_solution()) == []


def test_fmt_time():
    assert fmt_time(7 * H + 5 * 60) == "07:05"
    assert fmt_time(7 * H + 5 * 60 + 7) == "07:05:07"
    assert fmt_time(1234, "dimacs") == "1234"


# ---------------------------------------------------------------- coverage


def test_missing_stop():
    assert rules(make_problem(), good_solution(unserved=())) == ["missing"]


def test_unserved_needs_reason():
    assert rules(make_problem(), good_solution(unserved=(Unserved("C", "  "),))) == ["unserved_reason"]


def test_served_and_unserved_is_duplicate():
    sol = good_solution(unserved=(Unserved("C", "x"), Unserved("A", "x")))
    assert rules(make_problem(), sol) == ["duplicate"]


def test_served_twice_is_duplicate():
    trip2 = Trip("V1", 2, 9 * H, 9 * H + 1800, (Visit("A", 9 * H + 600, 9 * H + 600, 9 * H + 1200),), 12000)
    sol = good_solution(trips=(good_trip(), trip2))
    assert rules(make_problem(), sol) == ["duplicate"]


def test_unknown_stop_and_vehicle():
    sol = good_solution(unserved=(Unserved("C", "x"), Unserved("Z", "x")))
    assert rules(make_problem(), sol) == ["unknown_stop"]
    sol = good_solution(trips=(good_trip(vehicle_key="V9"),))
    assert rules(make_problem(), sol) == ["missing", "missing", "unknown_vehicle"]


# ---------------------------------------------------------------- timing


def test_arrival_faster_than_matrix():
    trip = with_visit(good_trip(), 1, arrival=8 * H + 1300, start=8 * H + 1500)  # 100 s after A, travel 300
    assert rules(make_problem(), good_solution(trips=(trip,))) == ["travel"]


def test_return_faster_than_matrix():
    trip = good_trip(return_=8 * H + 2600)
    assert rules(make_problem(), good_solution(trips=(trip,))) == ["travel"]


def test_service_before_arrival_and_too_short():
    trip = with_visit(good_trip(), 0, start=8 * H + 500)
    assert "service" in rules(make_problem(), good_solution(trips=(trip,)))
    trip = with_visit(good_trip(), 0, departure=8 * H + 1100)
    assert rules(make_problem(), good_solution(trips=(trip,))) == ["service"]


def test_waiting_is_allowed():
    # arrive at A at 08:10 but start at 08:15 (waiting), everything shifted consistently
    trip = good_trip(
        visits=(
            Visit("A", 8 * H + 600, 8 * H + 900, 8 * H + 1500),
            Visit("B", 8 * H + 1800, 8 * H + 1800, 8 * H + 2400),
        ),
        return_=8 * H + 3000,
    )
    assert validate_routing(make_problem(), good_solution(trips=(trip,))) == []


# ---------------------------------------------------------------- windows


def test_hard_window_too_early():
    trip = good_trip(depart=7 * H, return_=7 * H + 2700)
    trip = replace(
        trip,
        visits=(
            Visit("A", 7 * H + 600, 7 * H + 600, 7 * H + 1200),  # A opens 08:00
            Visit("B", 7 * H + 1500, 7 * H + 1500, 7 * H + 2100),
        ),
    )
    vs = validate_routing(make_problem(), good_solution(trips=(trip,)))
    assert [(v.rule, v.subject) for v in vs] == [("window", "stop A")]
    assert "07:10" in vs[0].message


def test_between_two_windows_is_hard():
    # B has 07:00-09:00 and 11:00-12:00; serve at 10:00
    trip = good_trip(
        depart=9 * H + 600,
        return_=9 * H + 600 + 2700,
        visits=(
            Visit("A", 9 * H + 1200, 9 * H + 1200, 9 * H + 1800),
            Visit("B", 9 * H + 2100, 9 * H + 2100, 9 * H + 2700),
        ),
    )
    assert rules(make_problem(), good_solution(trips=(trip,))) == ["window"]
    # the second window is fine
    trip = Trip(
        "V1",
        1,
        9 * H + 2400,
        11 * H + 1200,
        (
            Visit("A", 9 * H + 3000, 9 * H + 3000, 9 * H + 3600),
            Visit("B", 11 * H, 11 * H, 11 * H + 600),
        ),
        distance=15000,
    )
    assert validate_routing(make_problem(), good_solution(trips=(trip,))) == []


def _late_trip(late_s: int) -> Trip:
    """A is served ``late_s`` after its window end 10:00."""
    s = 10 * H + late_s
    return Trip(
        "V1",
        1,
        s - 600,
        s + 600 + 300 + 600 + 600,
        (Visit("A", s, s, s + 600, late=late_s), Visit("B", s + 900, 11 * H, 11 * H + 600)),
        distance=15000,
    )


def test_hard_window_late_is_hard():
    trip = _late_trip(300)
    trip = Trip("V1", 1, trip.depart, 11 * H + 1200, trip.visits, distance=15000)
    assert rules(make_problem(), good_solution(trips=(trip,))) == ["window"]


def test_soft_window_late_is_soft_with_minutes():
    stops = list(make_problem().stops)
    stops[0] = replace(stops[0], late_penalty=10, max_late=1800)
    prob = make_problem(stops=tuple(stops))
    trip = Trip("V1", 1, 10 * H + 300 - 600, 11 * H + 1200, _late_trip(300).visits, distance=15000)
    vs = validate_routing(prob, good_solution(trips=(trip,)))
    assert [(v.rule, v.hard) for v in vs] == [("late", False)]
    assert "300 late" in vs[0].message
    assert hard_violations(vs) == []


def test_soft_window_beyond_max_late():
    stops = list(make_problem().stops)
    stops[0] = replace(stops[0], late_penalty=10, max_late=120)
    prob = make_problem(stops=tuple(stops))
    trip = Trip("V1", 1, 10 * H + 300 - 600, 11 * H + 1200, _late_trip(300).visits, distance=15000)
    assert rules(prob, good_solution(trips=(trip,))) == ["max_late"]


def test_reported_lateness_must_match():
    stops = list(make_problem().stops)
    stops[0] = replace(stops[0], late_penalty=10, max_late=1800)
    prob = make_problem(stops=tuple(stops))
    trip = Trip("V1", 1, 10 * H + 300 - 600, 11 * H + 1200, _late_trip(300).visits, distance=15000)
    trip = with_visit(trip, 0, late=0)
    assert rules(prob, good_solution(trips=(trip,))) == ["late", "late_reported"]


def test_stat_deadline():
    stops = list(make_problem().stops)
    stops[1] = replace(stops[1], deadline=8 * H + 1400, priority=True)
    prob = make_problem(stops=tuple(stops))
    vs = validate_routing(prob, good_solution())
    assert [(v.rule, v.subject) for v in vs] == [("deadline", "stop B")]


# ---------------------------------------------------------------- loads


def test_tote_capacity():
    prob = make_problem(
        vehicles=(RoutingVehicle("V1", capacity=4, start=6 * H, end=18 * H, cold_capacity=2),)
    )
    assert rules(prob, good_solution()) == ["capacity"]


def test_cold_capacity():
    stops = list(make_problem().stops)
    stops[0] = replace(stops[0], cold_totes=2)
    stops[1] = replace(stops[1], cold_totes=1)
    assert rules(make_problem(stops=tuple(stops)), good_solution()) == ["cold_capacity"]


def test_controlled_needs_authorised_driver():
    stops = list(make_problem().stops)
    stops[0] = replace(stops[0], controlled=True)
    veh = RoutingVehicle("V1", capacity=10, start=6 * H, end=18 * H, controlled_ok=False)
    vs = validate_routing(make_problem(stops=tuple(stops), vehicles=(veh,)), good_solution())
    assert [(v.rule, v.subject) for v in vs] == [("controlled", "stop A")]
    veh = replace(veh, controlled_ok=True)
    assert validate_routing(make_problem(stops=tuple(stops), vehicles=(veh,)), good_solution()) == []


# ---------------------------------------------------------------- shifts, trips


def test_shift_end():
    veh = RoutingVehicle("V1", capacity=10, start=6 * H, end=8 * H + 2000)
    assert rules(make_problem(vehicles=(veh,)), good_solution()) == ["shift"]


def test_shift_start():
    veh = RoutingVehicle("V1", capacity=10, start=8 * H + 60, end=18 * H)
    assert rules(make_problem(vehicles=(veh,)), good_solution()) == ["shift"]


def test_depot_hours():
    assert rules(make_problem(depot_window=(0, 8 * H + 2000)), good_solution()) == ["depot_hours"]


def test_max_duration():
    veh = RoutingVehicle("V1", capacity=10, start=6 * H, end=18 * H, max_duration=2000)
    assert rules(make_problem(vehicles=(veh,)), good_solution()) == ["max_duration"]


def test_release():
    stops = list(make_problem().stops)
    stops[1] = replace(stops[1], release=8 * H + 60)
    vs = validate_routing(make_problem(stops=tuple(stops)), good_solution())
    assert [(v.rule, v.subject) for v in vs] == [("release", "stop B")]


def _second_trip(depart: int, trip_no: int = 2) -> Trip:
    return Trip(
        "V1",
        trip_no,
        depart,
        depart + 2100,
        (Visit("C", depart + 900, depart + 900, depart + 1200),),
        distance=18000,
    )


def test_two_trips_with_reload():
    prob = make_problem(reload_time=600)
    sol = RoutingSolution(trips=(good_trip(), _second_trip(8 * H + 2700 + 600)))
    assert validate_routing(prob, sol) == []
    sol = RoutingSolution(trips=(good_trip(), _second_trip(8 * H + 2700 + 599)))
    assert rules(prob, sol) == ["trip_overlap"]


def test_max_trips():
    veh = RoutingVehicle("V1", capacity=10, start=6 * H, end=18 * H, max_trips=1)
    sol = RoutingSolution(trips=(good_trip(), _second_trip(10 * H)))
    assert rules(make_problem(vehicles=(veh,)), sol) == ["max_trips"]


def test_trip_numbering():
    sol = RoutingSolution(trips=(good_trip(), _second_trip(10 * H, trip_no=1)))
    assert rules(make_problem(), sol) == ["trip_numbering"]


# ---------------------------------------------------------------- break


def _break_vehicle(**kw) -> RoutingVehicle:
    base = dict(
        key="V1",
        capacity=10,
        start=6 * H,
        end=18 * H,
        cold_capacity=2,
        break_duration=1800,
        break_window=(8 * H + 1200, 8 * H + 1800),
        max_trips=2,
    )
    base.update(kw)
    return RoutingVehicle(**base)


def _trip_with_break(break_start: int) -> Trip:
    """A 08:10-08:20, break, B at 09:00 (arrival 08:55), back 09:20."""
    return Trip(
        "V1",
        1,
        8 * H,
        9 * H + 1200,
        (
            Visit("A", 8 * H + 600, 8 * H + 600, 8 * H + 1200),
            Visit("B", 8 * H + 3300, 8 * H + 3300, 8 * H + 3900),
        ),
        distance=15000,
        break_start=break_start,
    )


def test_break_inside_window_ok():
    prob = make_problem(vehicles=(_break_vehicle(),))
    assert validate_routing(prob, good_solution(trips=(_trip_with_break(8 * H + 1200),))) == []


def test_break_outside_window():
    prob = make_problem(vehicles=(_break_vehicle(break_window=(8 * H + 1200, 8 * H + 1300)),))
    assert rules(prob, good_solution(trips=(_trip_with_break(8 * H + 1400),))) == ["break"]


def test_break_overlapping_service():
    prob = make_problem(vehicles=(_break_vehicle(break_window=(8 * H, 9 * H)),))
    assert rules(prob, good_solution(trips=(_trip_with_break(8 * H + 700),))) == ["break"]


def test_break_leg_too_short():
    # break 08:20-08:50 plus 300 s travel does not fit before B's start at 08:52
    prob = make_problem(vehicles=(_break_vehicle(),))
    trip = _trip_with_break(8 * H + 1200)
    trip = with_visit(trip, 1, arrival=8 * H + 3100, start=8 * H + 3100, departure=8 * H + 3700)
    assert rules(prob, good_solution(trips=(trip,))) == ["break"]


def test_break_missing():
    prob = make_problem(vehicles=(_break_vehicle(),))
    trip = replace(_trip_with_break(8 * H + 1200), break_start=None)
    assert rules(prob, good_solution(trips=(trip,))) == ["break_missing"]


def test_break_at_depot_between_trips_is_fine():
    # the only trip ends 08:45; the driver is idle from 08:45 (inside the window? no: window ends 08:30)
    prob = make_problem(vehicles=(_break_vehicle(break_window=(8 * H + 2700, 9 * H)),))
    assert validate_routing(prob, good_solution()) == []


# ---------------------------------------------------------------- distance


def test_reported_distance_must_match():
    assert rules(make_problem(), good_solution(trips=(good_trip(distance=14999),))) == ["distance"]


@pytest.mark.parametrize("unit", ["s", "dimacs"])
def test_messages_use_time_unit(unit):
    prob = make_problem(time_unit=unit)
    vs = validate_routing(prob, good_solution(trips=(good_trip(return_=8 * H + 2600),)))
    assert len(vs) == 1
    assert ("08:43:20" in vs[0].message) == (unit == "s")


def test_break_on_the_way_delays_the_arrival():
    # break 08:20-08:50 taken while driving to B (5 min): arriving 08:55 is fine, 08:52 or 08:30 is not
    prob = make_problem(vehicles=(_break_vehicle(),))
    trip = _trip_with_break(8 * H + 1200)
    assert validate_routing(prob, good_solution(trips=(trip,))) == []
    for arrival in (8 * H + 3120, 8 * H + 1800):
        bad = with_visit(trip, 1, arrival=arrival)
        assert rules(prob, good_solution(trips=(bad,))) == ["break"]


def test_break_while_waiting_at_the_stop():
    # arrive at B 08:25, break 08:25-08:55 before service at 08:55
    prob = make_problem(vehicles=(_break_vehicle(),))
    trip = with_visit(_trip_with_break(8 * H + 1500), 1, arrival=8 * H + 1500)
    assert validate_routing(prob, good_solution(trips=(trip,))) == []
