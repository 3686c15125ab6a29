"""Re-planning during the day: what is packed or on the road stays, new STAT orders are inserted.

Every test asserts the independent validator's verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from factories import facility, line, make_problem, order, travel, van
from factories import hard_of as hard

from ltc_scheduler.enums import OrderClass
from ltc_scheduler.planning.pipeline import plan_day
from ltc_scheduler.planning.validate import validate_plan
from ltc_scheduler.problem.model import PlanSettings

H = 60
NOW = 14 * H


def morning_day():
    facs = (facility(1, windows=((9 * H, 12 * H),)), facility(2, windows=((9 * H, 17 * H),)))
    orders = [order(i, 1 + i % 2, cards=30) for i in range(1, 7)]
    p = make_problem(
        orders,
        facilities=facs,
        lines=(line(1, rate=240),),
        shifts=((6 * H, 18 * H),),
        settings=PlanSettings(time_limit_s=3.0),
    )
    p = replace(
        p, vehicles=(van(1, start=8 * H, end=18 * H, trips=2), van(2, start=8 * H, end=18 * H, trips=2))
    )
    return p, travel([[0, 20, 25], [20, 0, 15], [25, 15, 0]])


def test_stat_order_at_14_00_is_delivered_within_its_promise_and_departed_routes_stay():
    p0, tm = morning_day()
    first = plan_day(p0, travel=tm)
    assert hard(first.violations) == []
    departed = [r for r in first.plan.routes if r.depart_min <= NOW]
    assert departed, "the morning plan sends vehicles out before 14:00"

    stat = order(100, 2, cards=8, cls=OrderClass.STAT, received=NOW, need_by=NOW + 4 * H)
    p1 = replace(p0, orders=p0.orders + (stat,), now_min=NOW)
    second = plan_day(p1, travel=tm, previous=first.plan)
    assert hard(second.violations) == []
    assert second.violations == validate_plan(
        p1, second.plan, routing_problem=second.routing_problem, routing_solution=second.routing_solution
    )
    # routes that left before 14:00 are exactly as published
    for r in departed:
        assert r in second.plan.routes
    # batches packed (or started) before 14:00 keep their line and times
    for b in first.plan.batches:
        if b.start_min is not None and b.start_min < NOW:
            assert second.plan.batch(b.key) == b
    # the STAT order: packed after it arrived, delivered within its 4-hour promise
    sb = next(b for b in second.plan.batches if 100 in b.order_line_ids)
    assert sb.key not in {b.key for b in first.plan.batches}
    assert sb.start_min >= NOW
    stop = next(s for r in second.plan.routes for s in r.stops if sb.key in s.batch_keys)
    route = next(r for r in second.plan.routes if stop in r.stops)
    assert route.depart_min >= sb.ready_min >= NOW
    assert stop.start_min <= NOW + 4 * H
    assert second.plan.unserved == ()
    # the new trip is numbered after the vehicle's departed trips
    made = {r.vehicle_id: r.trip_no for r in departed}
    if route.vehicle_id in made:
        assert route.trip_no > made[route.vehicle_id]


def test_nothing_new_is_packed_before_now():
    p0, tm = morning_day()
    first = plan_day(p0, travel=tm)
    late = order(101, 1, cards=40, cls=OrderClass.REFILL, received=9 * H, need_by=17 * H)
    p1 = replace(p0, orders=p0.orders + (late,), now_min=11 * H)
    second = plan_day(p1, travel=tm, previous=first.plan)
    assert hard(second.violations) == []
    old = {b.key: b for b in first.plan.batches}
    for b in second.plan.batches:
        if b.key in old and old[b.key].start_min < 11 * H:
            assert b == old[b.key]
        else:
            assert b.start_min >= 11 * H
    assert dt.date(2026, 12, 1) == second.plan.date


def test_departed_routes_keep_their_trip_numbers_batches_and_late_stops():
    from ltc_scheduler.plan.kpis import plan_kpis
    from ltc_scheduler.plan.model import LateStop, Plan, PlanRoute, PlanStop
    from ltc_scheduler.planning.replan import ReplanStart, keep_departed

    def stop(fid: int, late: int) -> PlanStop:
        return PlanStop(1, fid, 600, 600, 610, 1, 0, 0, (f"B000{fid}",), 540, 600 - late, late)

    gone = PlanRoute(vehicle_id=1, trip_no=1, depart_min=560, return_min=650, stops=(stop(1, 7),))
    previous = Plan(
        date=dt.date(2026, 12, 1),
        batches=(),
        routes=(gone,),
        late=(LateStop(1, 7, "waited for packaging"), LateStop(2, 9, "on a route re-planned now")),
    )
    start = ReplanStart(departed=(gone,), frozen=(), movable=(), hint_lines={})
    new = PlanRoute(vehicle_id=1, trip_no=1, depart_min=700, return_min=800, stops=(stop(3, 4),))
    routes, _, late = keep_departed(start, previous, (new,), (), (LateStop(3, 4, "traffic"),))
    assert [(r.vehicle_id, r.trip_no, r.depart_min) for r in routes] == [(1, 1, 560), (1, 2, 700)]
    assert late == (LateStop(1, 7, "waited for packaging"), LateStop(3, 4, "traffic"))
    plan = Plan(date=previous.date, batches=(), routes=routes, late=late)
    assert plan_kpis(plan).late_stops == len(plan.late) == 2
