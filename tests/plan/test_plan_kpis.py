"""Each figure of ``plan/kpis.py`` on a hand-built plan with numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from ltc_scheduler.enums import OrderClass, PackagingKind
from ltc_scheduler.plan.kpis import PlanKpis, plan_kpis
from ltc_scheduler.plan.model import Batch, LateStop, Plan, PlanRoute, PlanStop, SolveStats, UnservedStop


def _batch(key: str, fid: int, lines: tuple[int, ...], *, line: int | None, start: int | None, cards: int):
    return Batch(
        key=key,
        facility_id=fid,
        unit="",
        kind=PackagingKind.MULTI_DOSE_BLISTER,
        order_line_ids=lines,
        cards=cards,
        totes=1,
        cold=False,
        controlled=False,
        order_class=OrderClass.REFILL,
        deadline_min=12 * 60,
        line_id=line,
        start_min=start,
        end_min=None if start is None else start + 20,
        verify_start_min=None if start is None else start + 20,
        verify_end_min=None if start is None else start + 30,
    )


def _stop(seq: int, fid: int, *, late: int = 0) -> PlanStop:
    return PlanStop(
        seq=seq,
        facility_id=fid,
        arrival_min=600 + 10 * seq,
        start_min=600 + 10 * seq,
        departure_min=605 + 10 * seq,
        totes=1,
        cold_totes=0,
        controlled_totes=0,
        batch_keys=(f"B{fid:04d}",),
        window_start_min=540,
        window_end_min=720,
        late_min=late,
    )


def hand_built_plan() -> Plan:
    """Five batches on two lines (one not packed; B0002 STAT, B0004 verified 09:10 for a 09:00
    deadline), two vehicles, three trips (one empty), six stops of which two are late (5 and 12
    min), and two stops not delivered (one no route made, one not packed).

    By hand: on time = 4 delivered in window / (6 delivered + 2 not delivered) = 50.0 %;
    km = (12 345 + 7 655) m = 20.0; hours = (3 600 + 1 800 + 0) s = 1.5; packaging 08:00 (first
    start) to 09:10 (last verified: 08:40 + 30) = 70 min; gap = max(0.25, none) = 0.25.
    """
    batches = (
        _batch("B0001", 1, (1, 2), line=1, start=8 * 60, cards=10),
        replace(_batch("B0002", 2, (3,), line=1, start=8 * 60 + 20, cards=4), order_class=OrderClass.STAT),
        _batch("B0003", 3, (4, 5, 6), line=2, start=8 * 60 + 5, cards=7),
        replace(_batch("B0004", 4, (7,), line=2, start=8 * 60 + 40, cards=1), deadline_min=9 * 60),
        _batch("B0005", 5, (8,), line=None, start=None, cards=3),
    )
    r1 = PlanRoute(
        vehicle_id=1,
        trip_no=1,
        depart_min=570,
        return_min=700,
        stops=(_stop(1, 1), _stop(2, 2, late=5), _stop(3, 3), _stop(4, 4)),
        distance_m=12_345,
        drive_s=3_600,
    )
    r2 = PlanRoute(
        vehicle_id=2,
        trip_no=1,
        depart_min=580,
        return_min=690,
        stops=(_stop(1, 6), _stop(2, 7, late=12)),
        distance_m=7_655,
        drive_s=1_800,
    )
    empty = PlanRoute(vehicle_id=2, trip_no=2, depart_min=700, return_min=700, stops=())
    return Plan(
        date=dt.date(2026, 12, 1),
        batches=batches,
        routes=(r1, r2, empty),
        unserved=(
            UnservedStop(facility_id=8, reason="no vehicle can reach it in its window"),
            UnservedStop(facility_id=5, reason="not packed today: too late", batch_keys=("B0005",)),
        ),
        late=(LateStop(2, 5, "traffic"), LateStop(7, 12, "waited for packaging")),
        stats=(
            SolveStats("packing", "FEASIBLE", 2.04, objective=100.0, bound=75.0),
            SolveStats("routing", "ROUTING_SUCCESS", 3.0, objective=5000.0, bound=None),
        ),
    )


def test_every_figure_of_the_hand_built_plan() -> None:
    k = plan_kpis(hand_built_plan())
    assert k == PlanKpis(
        orders=8,
        cards=25,
        batches=5,
        lines_used=2,
        stat_batches=1,
        late_batches=1,
        routes=2,
        vehicles=2,
        stops=6,
        late_stops=2,
        late_min=17,
        unserved=2,
        on_time_pct=50.0,
        driving_km=20.0,
        driving_hours=1.5,
        packaging_start=8 * 60,
        packaging_end=9 * 60 + 10,
        makespan_min=70,
        solve_s=5.0,
        gap=0.25,
        status="packing feasible, routing routing_success",
    )


def test_an_undelivered_stop_counts_as_not_on_time() -> None:
    plan = hand_built_plan()
    all_served = replace(plan, unserved=())
    assert plan_kpis(all_served).on_time_pct == pytest.approx(66.7)  # 4 of 6
    one_more = replace(plan, unserved=plan.unserved + (UnservedStop(9, "no vehicle"),))
    assert plan_kpis(one_more).on_time_pct == pytest.approx(44.4)  # 4 of 9


def test_on_time_rounds_to_one_decimal_and_is_none_with_nothing_to_deliver() -> None:
    plan = hand_built_plan()
    # 5 on time of 6 stops + 1 unserved: 71.428.. -> 71.4
    r1 = replace(plan.routes[0], stops=tuple(replace(s, late_min=0) for s in plan.routes[0].stops))
    k = plan_kpis(replace(plan, routes=(r1,) + plan.routes[1:], unserved=plan.unserved[:1]))
    assert (k.on_time_pct, k.late_stops, k.late_min) == (71.4, 1, 12)
    empty = Plan(date=dt.date(2026, 12, 1), batches=(), routes=())
    e = plan_kpis(empty)
    assert (e.on_time_pct, e.stops, e.makespan_min, e.packaging_start, e.gap) == (None, 0, None, None, None)
    assert (e.driving_km, e.driving_hours, e.solve_s, e.status) == (0.0, 0.0, 0.0, "")


def test_a_batch_without_verification_is_ready_when_packed() -> None:
    plan = hand_built_plan()
    last = replace(plan.batches[3], verify_start_min=None, verify_end_min=None)  # packed 08:40-09:00
    k = plan_kpis(replace(plan, batches=plan.batches[:3] + (last,) + plan.batches[4:]))
    # B0002 is verified at 08:20 + 30 = 08:50, B0004 packed at 09:00: the last ready is 09:00
    assert (k.packaging_end, k.makespan_min) == (9 * 60, 60)


def test_the_stored_form_keeps_the_keys_older_plan_records_used() -> None:
    d = plan_kpis(hand_built_plan()).as_dict()
    assert {
        "orders",
        "batches",
        "lines_used",
        "routes",
        "stops",
        "on_time_pct",
        "driving_km",
        "driving_hours",
        "packaging_makespan_min",
        "unserved",
        "late",
    } <= set(d)
    assert (d["on_time_pct"], d["late"], d["unserved"], d["packaging_makespan_min"]) == (50.0, 2, 2, 70)
    assert d["late_min"] == 17 and d["gap"] == 0.25
