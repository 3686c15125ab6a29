"""One visit per facility per trip: back-to-back stops at one facility become one stop.

Birch Gardens (14) has a routine stop "14" and a STAT stop "14-stat" (B6 verified 10:30, so they
are split). A hand-made trip of Van 1 leaving at 10:35 serves both back to back, then Oak Terrace.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import H, day_batches, day_problem

from ltc_scheduler.plan.model import Plan, PlanRoute, PlanStop
from ltc_scheduler.plan.validate import validate_coupling
from ltc_scheduler.problem.travel import HaversineProvider, TravelMatrix
from ltc_scheduler.routing.from_day import (
    build_routing_problem,
    day_points,
    merge_repeat_visits,
    stop_batches,
    to_plan_routes,
)
from ltc_scheduler.routing.problem import RoutingSolution, Trip, Visit
from ltc_scheduler.routing.validate import validate_routing


@pytest.fixture(scope="module")
def travel() -> TravelMatrix:
    return HaversineProvider().matrix(day_points(day_problem()))


def _back_to_back(rp) -> RoutingSolution:
    """Van 1, 10:35: Birch routine, Birch STAT right after (no travel), Oak Terrace."""
    s = {st.key: st for st in rp.stops}
    d = rp.duration
    dep = 10 * 3600 + 35 * 60
    a1 = dep + int(d[0, 4])
    l1 = a1 + s["14"].service
    l2 = l1 + s["14-stat"].service
    a3 = l2 + int(d[4, 2])
    l3 = a3 + s["12"].service
    back = l3 + int(d[2, 0])
    visits = (Visit("14", a1, a1, l1), Visit("14-stat", l1, l1, l2), Visit("12", a3, a3, l3))
    dist = int(rp.distance[0, 4] + rp.distance[4, 2] + rp.distance[2, 0])
    return RoutingSolution(trips=(Trip("1", 1, dep, back, visits, distance=dist, duration=back - dep),))


def _rules(violations) -> set[str]:
    return {v.rule for v in violations}


def test_routing_validator_flags_a_facility_visited_twice_in_a_row(travel):
    rp = build_routing_problem(day_problem(), day_batches(), travel)
    sol = _back_to_back(rp)
    repeat = [v for v in validate_routing(rp, sol) if v.rule == "repeat_visit"]
    assert [v.subject for v in repeat] == ["stop 14-stat"]
    # soft: the pipeline merges every pair it can; one left is two deliveries one arrival cannot make
    assert not repeat[0].hard


def test_back_to_back_stops_merge_into_one_visit(travel):
    p = day_problem()
    rp = build_routing_problem(p, day_batches(), travel)
    sol = _back_to_back(rp)
    before = _rules(validate_routing(rp, sol))
    rp2, sol2 = merge_repeat_visits(p, rp, sol)
    # the merged pair is re-checked by the independent validator: the repeat is gone, nothing new
    assert _rules(validate_routing(rp2, sol2)) == before - {"repeat_visit"}
    (trip,) = sol2.trips
    assert [v.stop_key for v in trip.visits] == ["14+14-stat", "12"]
    merged = {st.key: st for st in rp2.stops}["14+14-stat"]
    assert merged.totes == 4 and merged.service == (10 + 6) * 60  # one service for 3 + 1 totes
    assert merged.deadline == (13 * H + 30) * 60 and merged.windows == ((7 * 3600, 11 * 3600),)
    assert merged.priority and merged.drop_penalty is None
    old = sol.trips[0].visits
    assert trip.visits[0].arrival == old[0].arrival  # one arrival
    assert trip.visits[0].departure == old[0].start + merged.service
    # 15 + 12 min of service become 16: Oak and the return come 11 min sooner
    assert (old[0].departure - old[0].start, old[1].departure - old[1].start) == (15 * 60, 12 * 60)
    assert trip.visits[1].arrival == old[2].arrival - 11 * 60
    assert trip.return_ == sol.trips[0].return_ - 11 * 60
    assert [b.key for b in stop_batches(rp2, day_batches())["14+14-stat"]] == ["B5", "B6"]


def test_plan_routes_have_one_stop_per_facility_per_trip(travel):
    p = day_problem()
    rp = build_routing_problem(p, day_batches(), travel)
    routes, unserved, _ = to_plan_routes(p, rp, _back_to_back(rp), day_batches())
    (route,) = routes
    assert [(s.seq, s.facility_id) for s in route.stops] == [(1, 14), (2, 12)]
    birch = route.stops[0]
    assert birch.batch_keys == ("B5", "B6") and birch.totes == 4 and birch.stat
    assert birch.departure_min - birch.start_min == 16
    plan = Plan(date=p.date, batches=tuple(day_batches()), routes=routes, unserved=unserved)
    assert not [v for v in validate_coupling(plan) if v.rule == "repeat_visit"]


def test_merge_that_would_break_the_stat_promise_is_not_made(travel):
    # the STAT is promised by 11:00, the routine window opens at 12:00: the van hands over the
    # STAT, waits and delivers the routine totes -- one start of service cannot keep both
    p = day_problem()
    rp = build_routing_problem(p, day_batches(), travel)
    s = {st.key: st for st in rp.stops}
    changed = {
        "14": replace(s["14"], windows=((12 * 3600, 13 * 3600),)),
        "14-stat": replace(s["14-stat"], deadline=11 * 3600),
    }
    s = changed | {k: v for k, v in s.items() if k not in changed}
    rp = replace(rp, stops=tuple(changed.get(st.key, st) for st in rp.stops))
    d = rp.duration
    dep = 10 * 3600 + 35 * 60
    a1 = dep + int(d[0, 4])
    l1 = a1 + s["14-stat"].service
    visits = (Visit("14-stat", a1, a1, l1), Visit("14", l1, 12 * 3600, 12 * 3600 + s["14"].service))
    back = visits[1].departure + int(d[4, 0])
    sol = RoutingSolution(trips=(Trip("1", 1, dep, back, visits, distance=int(rp.distance[0, 4] * 2)),))
    rp2, sol2 = merge_repeat_visits(p, rp, sol)
    assert rp2 is rp and sol2 is sol  # kept as two stops ...
    assert "repeat_visit" in _rules(validate_routing(rp2, sol2))  # ... and the validator names it


def test_plan_validator_flags_two_stops_at_one_facility_in_a_row():
    p = day_problem()
    bs = tuple(day_batches())
    stop = PlanStop(1, 14, 10 * H, 10 * H, 10 * H + 15, 3, 0, 0, ("B5",))
    stat = PlanStop(2, 14, 10 * H + 15, 10 * H + 15, 10 * H + 27, 1, 0, 0, ("B6",))
    others = (
        PlanStop(3, 11, 11 * H, 11 * H, 11 * H + 15, 3, 1, 0, ("B1", "B2")),
        PlanStop(4, 12, 12 * H, 12 * H, 12 * H + 15, 3, 0, 1, ("B3", "B4")),
    )
    route = PlanRoute(1, 1, 11 * H, 13 * H, (stop, stat, *others))
    plan = Plan(date=p.date, batches=bs, routes=(route,))
    repeat = [v for v in validate_coupling(plan) if v.rule == "repeat_visit"]
    assert [v.subject for v in repeat] == ["vehicle 1 trip 1 stop 2 (facility 14)"]
    assert not repeat[0].hard


def test_a_break_taken_between_the_two_deliveries_is_taken_on_arrival(travel):
    # Van 1 hands over the STAT at Birch, takes its 30 min break there and waits for the routine
    # window (11:00); as one visit: arrive, break, one service from 11:00
    p = day_problem()
    rp = build_routing_problem(p, day_batches(), travel)
    s = {st.key: st for st in rp.stops}
    routine = replace(s["14"], windows=((11 * 3600, 13 * 3600),))
    rp = replace(rp, stops=tuple(routine if st.key == "14" else st for st in rp.stops))
    d = rp.duration
    dep = 10 * 3600 + 35 * 60
    a1 = dep + int(d[0, 4])
    l1 = a1 + s["14-stat"].service
    start2 = max(11 * 3600, l1 + 1800)
    visits = (Visit("14-stat", a1, a1, l1), Visit("14", l1, start2, start2 + routine.service))
    back = visits[1].departure + int(d[4, 0])
    trip = Trip("1", 1, dep, back, visits, distance=int(rp.distance[0, 4] * 2), break_start=l1)
    sol = RoutingSolution(trips=(trip,))
    before = _rules(validate_routing(rp, sol))
    assert "repeat_visit" in before and "break" not in before
    rp2, sol2 = merge_repeat_visits(p, rp, sol)
    assert _rules(validate_routing(rp2, sol2)) == before - {"repeat_visit"}
    (new,) = sol2.trips
    (visit,) = new.visits
    assert visit.stop_key == "14-stat+14" and visit.arrival == a1
    assert new.break_start == l1 and visit.start == max(11 * 3600, l1 + 1800)
