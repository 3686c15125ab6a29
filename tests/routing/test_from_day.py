"""The bridge day problem <-> routing problem: stops, windows, releases, STAT, vehicles, minutes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from factories import FACILITIES, H, day_batches, day_problem
from factories import day_batch as batch

from ltc_scheduler.enums import OrderClass
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.plan.validate import validate_coupling
from ltc_scheduler.problem.model import PlanSettings, TimeWindow
from ltc_scheduler.problem.travel import HaversineProvider, TravelMatrix
from ltc_scheduler.routing.from_day import (
    STAT_SUFFIX,
    build_routing_problem,
    day_points,
    facility_nodes,
    merge_repeat_visits,
    stop_batches,
    to_plan_routes,
)
from ltc_scheduler.routing.params import DayRoutingParams
from ltc_scheduler.routing.problem import RoutingSolution, Trip, Unserved, Visit
from ltc_scheduler.routing.validate import hard_violations, validate_routing


@pytest.fixture(scope="module")
def travel() -> TravelMatrix:
    return HaversineProvider().matrix(day_points(day_problem()))


def stops_by_key(rp):
    return {s.key: s for s in rp.stops}


# ---------------------------------------------------------------- nodes


def test_node_numbering_is_depot_then_facilities_in_order(travel):
    p = day_problem()
    pts = day_points(p)
    assert pts[0] == p.depot.location
    assert pts[1:] == [f.location for f in FACILITIES]
    assert facility_nodes(p) == {11: 1, 12: 2, 13: 3, 14: 4}
    rp = build_routing_problem(p, day_batches(), travel)
    assert {s.key: s.node for s in rp.stops} == {"11": 1, "12": 2, "14": 4, "14-stat": 4}
    assert rp.duration is travel.seconds and rp.distance is travel.metres


def test_travel_matrix_must_cover_the_day(travel):
    small = TravelMatrix(travel.metres[:3, :3].copy(), travel.seconds[:3, :3].copy())
    with pytest.raises(ValueError, match="day_points"):
        build_routing_problem(day_problem(), day_batches(), small)


def test_batch_of_unknown_facility_is_rejected(travel):
    with pytest.raises(ValueError, match="batch B9, facility_id: 99"):
        build_routing_problem(day_problem(), [batch("B9", 99, (1,))], travel)


# ---------------------------------------------------------------- stops


def test_one_stop_per_facility_with_loads_and_service(travel):
    rp = build_routing_problem(day_problem(), day_batches(), travel)
    s = stops_by_key(rp)
    assert "13" not in s  # no deliveries for Pine Ridge
    maple = s["11"]
    assert (maple.totes, maple.cold_totes, maple.controlled) == (3, 1, False)
    assert maple.service == (10 + 5) * 60  # 10 min + 1.5 min x 3 totes rounded up
    oak = s["12"]
    assert (oak.totes, oak.cold_totes, oak.controlled) == (3, 0, True)
    assert maple.label == "Maple Court"


def test_windows_in_seconds_and_soft(travel):
    rp = build_routing_problem(day_problem(), day_batches(), travel)
    maple = stops_by_key(rp)["11"]
    assert maple.windows == ((6 * 3600, 7 * 3600 + 1800), (9 * 3600 + 1800, 13 * 3600))
    assert maple.late_penalty == 10  # 600 per minute = 10 per second
    assert maple.max_late == 120 * 60
    assert maple.drop_penalty == 10_000_000
    assert maple.deadline is None and not maple.priority


def test_late_penalty_at_least_one_per_second(travel):
    p = day_problem(settings=PlanSettings(late_penalty_per_min=20, max_late_min=30, unserved_penalty=5000))
    maple = stops_by_key(build_routing_problem(p, day_batches(), travel))["11"]
    assert (maple.late_penalty, maple.max_late, maple.drop_penalty) == (1, 1800, 5000)


def test_release_is_latest_ready_batch(travel):
    rp = build_routing_problem(day_problem(), day_batches(), travel)
    assert stops_by_key(rp)["12"].release == (7 * H + 15) * 60  # B3 07:00, B4 07:15
    rp = build_routing_problem(day_problem(), day_batches(), travel, ready={"B3": 8 * H})
    assert stops_by_key(rp)["12"].release == 8 * H * 60
    # not packed yet: assumed ready at its ready-by deadline
    bs = [replace(b, verify_end_min=None) if b.key == "B1" else b for b in day_batches()]
    rp = build_routing_problem(day_problem(), bs, travel)
    assert stops_by_key(rp)["11"].release == (5 * H + 30) * 60


def test_release_not_before_now_when_replanning(travel):
    rp = build_routing_problem(day_problem(now_min=9 * H), day_batches(), travel)
    assert stops_by_key(rp)["11"].release == 9 * H * 60
    assert {v.key: v.start for v in rp.vehicles} == {"1": 9 * H * 60, "2": 9 * H * 60}


def test_stat_stop_split_when_ready_far_apart(travel):
    rp = build_routing_problem(day_problem(), day_batches(), travel)
    s = stops_by_key(rp)
    routine, stat = s["14"], s["14" + STAT_SUFFIX]
    assert routine.totes == 3 and stat.totes == 1
    assert routine.release == (5 * H + 30) * 60 and stat.release == (10 * H + 30) * 60
    # STAT: hard promise = earliest need-by of its lines (13:30 and 14:00), any hour, never dropped
    assert stat.deadline == (13 * H + 30) * 60
    assert stat.windows == ()
    assert stat.priority and stat.drop_penalty is None and stat.late_penalty == 0
    assert routine.deadline is None and not routine.priority
    assert stop_batches(rp, day_batches())["14-stat"] == tuple(b for b in day_batches() if b.key == "B6")


def test_stat_stop_merged_when_ready_together(travel):
    bs = [replace(b, verify_end_min=6 * H) if b.key == "B6" else b for b in day_batches()]
    rp = build_routing_problem(day_problem(), bs, travel)
    s = stops_by_key(rp)
    assert "14-stat" not in s
    birch = s["14"]
    assert birch.totes == 4 and birch.priority and birch.drop_penalty is None
    assert birch.deadline == (13 * H + 30) * 60
    assert birch.windows == ((7 * 3600, 11 * 3600),)  # the routine windows still apply (soft)
    assert birch.release == 6 * H * 60


def test_stat_stop_split_when_promise_before_window(travel):
    # ready together, but the promise 06:30 is before Birch's window opens at 07:00
    orders = tuple(
        replace(o, need_by_min=6 * H + 30) if o.order_class != OrderClass.CYCLE_FILL else o
        for o in day_problem().orders
    )
    bs = [replace(b, verify_end_min=5 * H + 30) if b.key == "B6" else b for b in day_batches()]
    rp = build_routing_problem(day_problem(orders=orders), bs, travel)
    assert "14-stat" in stops_by_key(rp)


def test_stat_stop_split_when_waiting_for_it_would_make_the_routine_late(travel):
    # Birch only accepts 06:00-06:30: routine ready 05:30 is on time alone; waiting for the STAT
    # batch (ready 06:25, within the 60 min gap) would arrive after 06:30 -> two stops
    facs = tuple(
        replace(f, windows=(TimeWindow(6 * H, 6 * H + 30),)) if f.id == 14 else f for f in FACILITIES
    )
    bs = [replace(b, verify_end_min=6 * H + 25) if b.key == "B6" else b for b in day_batches()]
    rp = build_routing_problem(day_problem(facilities=facs), bs, travel)
    assert {"14", "14-stat"} <= set(stops_by_key(rp))
    # ready a bit earlier (06:05): one delivery is still on time -> merged
    bs = [replace(b, verify_end_min=6 * H + 5) if b.key == "B6" else b for b in day_batches()]
    rp = build_routing_problem(day_problem(facilities=facs), bs, travel)
    assert "14-stat" not in stops_by_key(rp)


def test_stat_batches_with_promises_hours_apart_make_separate_stat_stops(travel):
    # B6 (line 6) must be ready by 11:00, B7 (line 7) by 14:00: one stop would wait for B7 and
    # break B6's promise, so each wave is its own STAT stop; the routine stop stays apart
    bs = [b for b in day_batches() if b.key != "B6"] + [
        batch("B6", 14, (6,), order_class=OrderClass.STAT, ready=9 * H, deadline_min=11 * H),
        batch("B7", 14, (7,), order_class=OrderClass.STAT, ready=12 * H, deadline_min=14 * H),
    ]
    rp = build_routing_problem(day_problem(), bs, travel)
    s = stops_by_key(rp)
    assert {"14", "14-stat", "14-stat-B7"} <= set(s)
    assert s["14-stat"].release == 9 * H * 60 and s["14-stat-B7"].release == 12 * H * 60
    assert s["14-stat"].priority and s["14-stat-B7"].drop_penalty is None
    carried = stop_batches(rp, bs)
    assert [b.key for b in carried["14-stat"]] == ["B6"] and [b.key for b in carried["14-stat-B7"]] == ["B7"]
    assert [b.key for b in carried["14"]] == ["B5"]
    # within 90 min of each other: one STAT stop
    bs2 = [replace(b, deadline_min=11 * H + 60) if b.key == "B7" else b for b in bs]
    rp2 = build_routing_problem(day_problem(), bs2, travel)
    assert "14-stat-B7" not in stops_by_key(rp2)
    assert [b.key for b in stop_batches(rp2, bs2)["14-stat"]] == ["B6", "B7"]
    # the wave width and the reload time are settings passed in (defaults 90 and 10 min)
    rp3 = build_routing_problem(day_problem(), bs2, travel, params=DayRoutingParams(stat_wave_min=59))
    assert {"14-stat", "14-stat-B7"} <= set(stops_by_key(rp3))
    rp4 = build_routing_problem(
        day_problem(), bs, travel, params=DayRoutingParams(stat_wave_min=180, reload_min=15)
    )
    assert "14-stat-B7" not in stops_by_key(rp4) and rp4.reload_time == 15 * 60


# ---------------------------------------------------------------- vehicles


def test_vehicles(travel):
    rp = build_routing_problem(day_problem(), day_batches(), travel)
    v1, v2 = rp.vehicles
    assert (v1.key, v1.capacity, v1.cold_capacity, v1.controlled_ok) == ("1", 20, 4, True)
    assert (v1.start, v1.end, v1.max_duration, v1.max_trips) == (6 * 3600, 14 * 3600, 240 * 60, 2)
    assert v1.fixed_cost == 3600 and v1.label == "Van 1"
    # 8 h shift > 6 h: the 30 min break inside 10:00-12:00; Van 2's 5 h shift has none
    assert (v1.break_duration, v1.break_window) == (1800, (10 * 3600, 12 * 3600))
    assert (v2.break_duration, v2.break_window) == (0, None)
    assert not v2.controlled_ok and v2.cold_capacity == 0
    assert rp.depot_window == (5 * 3600, 22 * 3600)
    assert rp.reload_time == 10 * 60 == DayRoutingParams().reload_min * 60
    assert (rp.arc_cost, rp.time_unit) == ("duration", "s")


# ---------------------------------------------------------------- back to minutes


def _hand_solution(rp) -> RoutingSolution:
    """Van 1: Maple at 09:30:20 (ETA seconds not on the minute), Birch routine late, Oak; STAT unserved."""
    s = stops_by_key(rp)
    d = rp.duration
    dep = 9 * 3600 + 30 * 60 - int(d[0, 1]) + 20
    a1 = dep + int(d[0, 1])
    l1 = a1 + s["11"].service
    a2 = l1 + int(d[1, 4]) + 3 * 3600  # make Birch late on purpose (after 11:00)
    l2 = a2 + s["14"].service
    a3 = l2 + int(d[4, 2])
    l3 = a3 + s["12"].service
    back = l3 + int(d[2, 0])
    visits = (
        Visit("11", a1, a1, l1),
        Visit("14", a2, a2, l2, late=a2 - 11 * 3600),
        Visit("12", a3, a3, l3, late=max(0, a3 - 12 * 3600)),
    )
    dist = int(rp.distance[0, 1] + rp.distance[1, 4] + rp.distance[4, 2] + rp.distance[2, 0])
    return RoutingSolution(
        trips=(Trip("1", 1, dep, back, visits, distance=dist, break_start=None),),
        unserved=(Unserved("14-stat", "no capacity left in the fleet at that time"),),
    )


def test_to_plan_routes_rounds_etas_up_and_departure_down(travel):
    p = day_problem()
    rp = build_routing_problem(p, day_batches(), travel)
    sol = _hand_solution(rp)
    routes, unserved, late = to_plan_routes(p, rp, sol, day_batches())
    (route,) = routes
    trip = sol.trips[0]
    assert route.vehicle_id == 1 and route.trip_no == 1
    assert route.depart_min == trip.depart // 60  # down
    assert route.return_min == -(-trip.return_ // 60)  # up
    maple = route.stops[0]
    assert maple.arrival_min == 9 * H + 31  # 09:30:20 -> 09:31, never optimistic
    assert maple.start_min >= maple.arrival_min and maple.departure_min >= maple.start_min
    assert (maple.window_start_min, maple.window_end_min) == (9 * H + 30, 13 * H)
    assert maple.batch_keys == ("B1", "B2") and maple.cold_totes == 1 and maple.controlled_totes == 0
    oak = route.stops[2]
    assert oak.batch_keys == ("B3", "B4") and oak.controlled_totes == 1
    assert [s.seq for s in route.stops] == [1, 2, 3]
    assert route.distance_m == trip.distance
    assert route.drive_s == int(rp.duration[0, 1] + rp.duration[1, 4] + rp.duration[4, 2] + rp.duration[2, 0])
    # unserved STAT keeps its batches and reason
    assert [(u.facility_id, u.batch_keys) for u in unserved] == [(14, ("B6",))]
    assert "no capacity" in unserved[0].reason


def test_to_plan_routes_late_minutes_with_reason(travel):
    p = day_problem()
    rp = build_routing_problem(p, day_batches(), travel)
    sol = _hand_solution(rp)
    routes, _, late = to_plan_routes(p, rp, sol, day_batches())
    birch = routes[0].stops[1]
    assert birch.facility_id == 14 and birch.window_end_min == 11 * H
    assert birch.late_min == birch.start_min - 11 * H > 0
    by_fac = {ls.facility_id: ls for ls in late}
    assert by_fac[14].minutes == birch.late_min
    assert "late" in by_fac[14].reason and "window 07:00-11:00" in by_fac[14].reason


def test_day_routed_by_the_engine_is_valid(travel):
    routing = pytest.importorskip("ltc_scheduler.routing.search")
    from ltc_scheduler.routing.params import RoutingParams

    p = day_problem()
    bs = day_batches()
    rp = build_routing_problem(p, bs, travel)
    sol = routing.solve_routing(rp, RoutingParams(time_limit_s=1))
    rp, sol = merge_repeat_visits(p, rp, sol)  # as the pipeline does: one visit per facility per trip
    assert hard_violations(validate_routing(rp, sol)) == []
    routes, unserved, late = to_plan_routes(p, rp, sol, bs)
    assert unserved == ()
    plan = Plan(date=p.date, batches=tuple(bs), routes=routes, unserved=unserved, late=late)
    assert validate_coupling(plan) == []  # totes per stop, ready before departure, every batch once
    carried = sorted(k for r in routes for s in r.stops for k in s.batch_keys)
    assert carried == sorted(b.key for b in bs)  # every batch exactly once
    for r in routes:
        for s in r.stops:
            b = {b.key: b for b in bs}
            # nothing leaves before it is verified, in plan minutes too
            assert all(r.depart_min >= b[k].verify_end_min for k in s.batch_keys)
            if s.stat:
                assert s.start_min <= 13 * H + 30
    # Oak's controlled batch is on Van 1 (Van 2's driver is not authorised)
    oak_vehicle = {s.facility_id: r.vehicle_id for r in routes for s in r.stops}[12]
    assert oak_vehicle == 1
    assert np.all(travel.seconds >= 0)
