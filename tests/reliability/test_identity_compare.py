"""Compare pairs routes by vehicle and trip and deliveries by facility and wave, and reads each
plan with its own record's names.

Hand-built: Maple (10) gets a routine delivery on Van A's first trip at 09:00; in plan B a STAT
order for Maple was added and rides on Van A's second trip at 15:41.
"""

from __future__ import annotations

from dataclasses import replace

from factories import sample_plan, sample_problem

from ltc_scheduler.enums import OrderClass  # noqa: E402
from ltc_scheduler.plan.model import Plan, PlanRoute, PlanStop  # noqa: E402
from ltc_scheduler.ui.compare import routes_changed, stops_moved  # noqa: E402


def _plans() -> tuple[Plan, Plan]:
    base = sample_plan()
    routine = PlanStop(1, 10, 9 * 60, 9 * 60, 9 * 60 + 11, 1, 0, 0, ("B0000",), 480, 720)
    a = replace(base, routes=(replace(base.routes[0], stops=(routine,)), base.routes[1]))
    stat_batch = replace(base.batch("B0003"), key="B0200", facility_id=10, order_class=OrderClass.STAT)
    urgent = PlanStop(1, 10, 15 * 60 + 41, 15 * 60 + 41, 15 * 60 + 52, 1, 0, 0, ("B0200",), stat=True)
    trip2 = PlanRoute(
        vehicle_id=1, trip_no=2, depart_min=15 * 60 + 20, return_min=16 * 60 + 20, stops=(urgent,)
    )
    b = replace(a, batches=(*a.batches, stat_batch), routes=(a.routes[0], trip2, a.routes[1]))
    return a, b


def test_a_second_delivery_to_a_facility_is_not_a_phantom_move() -> None:
    a, b = _plans()
    problem = sample_problem()
    moved = stops_moved(a, b, problem, problem)
    # the routine delivery did not move; the STAT one is new (the old pairing by facility reported
    # "ETA +401 min" for Maple)
    assert moved.to_dict("records") == [
        {
            "Facility": "Maple Grove Care 0",
            "Delivery": "STAT",
            "A": "not in the plan",
            "B": "Van A · trip 2 stop 1 at 15:41",
            "Change": "new in the plan",
        }
    ]
    assert list(routes_changed(a, b, problem, problem)["Route"]) == [
        "Van A · trip 1",
        "Van A · trip 2",
        "Van B · trip 1",
    ]
    assert list(routes_changed(a, b, problem, problem)["Change"]) == ["same", "new route", "same"]


def test_routes_are_paired_by_vehicle_and_trip_not_by_place_in_the_list() -> None:
    a, b = _plans()
    problem = sample_problem()
    # plan B lists Van B first: the routes are the same, nothing moved
    a_reordered = replace(a, routes=(a.routes[1], a.routes[0]))
    assert stops_moved(a, a_reordered, problem, problem).empty
    assert set(routes_changed(a, a_reordered, problem, problem)["Change"]) == {"same"}
    # Maple's routine delivery moves to Van B: named by each plan's own route
    moved_stop = replace(a.routes[0].stops[0], seq=12, arrival_min=12 * 60)
    b2 = replace(
        a,
        routes=(replace(a.routes[0], stops=()), replace(a.routes[1], stops=(*a.routes[1].stops, moved_stop))),
    )
    row = stops_moved(a, b2, problem, problem).to_dict("records")[0]
    assert (row["Delivery"], row["Change"]) == ("routine", "Van A · trip 1 -> Van B · trip 1, ETA +180 min")


def test_each_plan_is_named_from_its_own_record() -> None:
    a, b = _plans()
    problem_a = sample_problem()
    # between the two plans Van A was renamed and Maple renamed: A shows the old names, B the new
    problem_b = replace(
        problem_a,
        vehicles=tuple(replace(v, name="Van A1") if v.id == 1 else v for v in problem_a.vehicles),
        facilities=tuple(replace(f, name="Maple North") if f.id == 10 else f for f in problem_a.facilities),
    )
    moved_stop = replace(a.routes[0].stops[0], arrival_min=9 * 60 + 30)
    b = replace(a, routes=(replace(a.routes[0], stops=(moved_stop,)), a.routes[1]))
    (row,) = stops_moved(a, b, problem_a, problem_b).to_dict("records")
    assert row == {
        "Facility": "Maple North",
        "Delivery": "routine",
        "A": "Van A · trip 1 stop 1 at 09:00",
        "B": "Van A1 · trip 1 stop 1 at 09:30",
        "Change": "ETA +30 min",
    }
    assert list(routes_changed(a, b, problem_a, problem_b)["Route"]) == ["Van A1 · trip 1", "Van B · trip 1"]
