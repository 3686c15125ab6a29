"""The coupling loop reacts to stops left unserved because their batches were ready too late.

Hand-built day: facility 1 gets a STAT line (received 07:00, promised 11:00) and a new admission
(received 09:40, promised 12:20); their batches ride in one STAT stop (their ready-by deadlines
lie within one wave), which must keep the earlier promise. The new admission's own deadline is
11:45, so a single pass packs the long routine batch of facility 2 first (a shorter packaging
day) and the admission is ready at ~10:50: a direct drive (20 min) reaches facility 1 after
11:00, the stop is unserved. The loop tightens exactly that batch to 10:25 and re-solves; by
default the batch gets the stop's promise before the first pass already (``promise_deadlines``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from factories import facility, line, make_problem, order, travel, van
from factories import hard_of as hard

from ltc_scheduler.enums import OrderClass, PackagingKind
from ltc_scheduler.plan.model import Batch
from ltc_scheduler.planning.coupling import late_ready_stops, promise_deadlines, tighten
from ltc_scheduler.planning.params import PlanningParams
from ltc_scheduler.planning.pipeline import plan_day
from ltc_scheduler.planning.validate import validate_plan
from ltc_scheduler.problem.model import PlanSettings
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution, RoutingStop, Unserved

H = 60


def stat_wave_day(**settings):
    facs = (facility(1, windows=((9 * H + 30, 13 * H),)), facility(2, windows=((12 * H + 10, 12 * H + 40),)))
    orders = [
        order(1, 1, cls=OrderClass.STAT, cards=10, received=7 * H, need_by=11 * H),
        order(2, 1, cls=OrderClass.NEW_ADMISSION, cards=10, received=9 * H + 40, need_by=12 * H + 20),
        order(3, 2, cards=120),
    ]
    base = dict(time_limit_s=8.5, packing_time_limit_s=1.0, routing_time_limit_s=6.0, coupling_iterations=3)
    p = make_problem(
        orders,
        facilities=facs,
        lines=(line(1, rate=60, avail=((8 * H + 30, 18 * H),)),),
        shifts=((8 * H, 18 * H),),
        minutes_per_card=0.01,
        settings=PlanSettings(**{**base, **settings}),
    )
    p = replace(p, vehicles=(van(start=8 * H, trips=2),))
    return p, travel([[0, 20, 20], [20, 0, 30], [20, 30, 0]])


def _admission(res) -> Batch:
    return next(b for b in res.plan.batches if b.order_class == OrderClass.NEW_ADMISSION)


def test_an_unserved_stat_stop_ready_too_late_is_tightened_and_served():
    # stat_weight=1 turns packaging's urgent-first rule off, so the single pass packs the admission
    # behind the routine batch as before that rule and the coupling loop alone must fix it
    p, tm = stat_wave_day(stat_weight=1)
    single = plan_day(p, travel=tm, coupling=False)
    looped = plan_day(p, travel=tm, params=PlanningParams(promise_deadlines=False))
    for res in (single, looped):
        assert hard(res.violations) == []
        assert res.violations == validate_plan(
            p, res.plan, routing_problem=res.routing_problem, routing_solution=res.routing_solution
        )
    # single pass: the admission is packed after facility 2's batch, the STAT stop cannot be kept
    assert single.final["unserved"] == 1
    (u,) = single.plan.unserved
    assert u.facility_id == 1 and "STAT promise unreachable" in u.reason
    assert _admission(single).deadline_min == 12 * H + 20 - 20 - 15
    assert _admission(single).ready_min > 11 * H - 20
    # the loop reacts although less than half a full round (1 s + 6 s) is left after the first pass
    assert looped.iterations >= 2
    assert looped.single_pass["unserved"] == 1
    assert looped.final["unserved"] == 0 and looped.plan.unserved == ()
    adm = _admission(looped)
    assert adm.deadline_min == 11 * H - 20 - 15  # the latest ready time a direct drive allows
    assert adm.ready_min <= 11 * H - 20 - 15
    stat_stops = [s for r in looped.plan.routes for s in r.stops if s.facility_id == 1]
    assert len(stat_stops) == 1 and stat_stops[0].start_min <= 11 * H
    # the routine batch of facility 2 keeps its deadline (it was not the cause)
    f2 = next(b for b in looped.plan.batches if b.facility_id == 2)
    assert f2.deadline_min == next(b for b in single.plan.batches if b.facility_id == 2).deadline_min


def test_by_default_the_batch_gets_its_stat_stops_promise_before_the_first_pass():
    p, tm = stat_wave_day()
    res = plan_day(p, travel=tm)
    assert hard(res.violations) == []
    assert res.single_pass["unserved"] == 0 and res.plan.unserved == ()
    assert _admission(res).deadline_min == 11 * H - 20 - 15
    # only the admission moves: the STAT line's own deadline already keeps the promise
    from ltc_scheduler.packing.batching import form_batches

    batches = form_batches(p, travel_minutes={1: 20, 2: 20})
    adm = next(b for b in batches if b.order_class == OrderClass.NEW_ADMISSION)
    assert promise_deadlines(p, batches, tm) == {adm.key: 11 * H - 20 - 15}
    # already packed (re-planning) batches are never moved
    assert promise_deadlines(p, [b for b in batches if b is not adm], tm, fixed=[adm]) == {}


def _batch(key: str, fid: int, ready: int, deadline: int, cls=OrderClass.STAT) -> Batch:
    return Batch(
        key=key,
        facility_id=fid,
        unit="A",
        kind=PackagingKind.MULTI_DOSE_BLISTER,
        order_class=cls,
        order_line_ids=(int(key[1:]),),
        cards=5,
        totes=1,
        controlled=False,
        cold=False,
        deadline_min=deadline,
        verify_end_min=ready,
    )


def test_tighten_moves_exactly_the_late_batches_of_unserved_stops_to_the_latest_useful_ready_time():
    dur = np.array([[0, 1200, 1800], [1200, 0, 600], [1800, 600, 0]], dtype=np.int64)
    stat = RoutingStop("1", 1, 2, 300, (), release=650 * 60, deadline=660 * 60, priority=True)
    # a routine stop whose soft window (until 12:00, 60 min late allowed) no drive from 13:00 reaches
    routine = RoutingStop(
        "2", 2, 1, 300, ((11 * H * 60, 12 * H * 60),), release=13 * H * 60, late_penalty=10, max_late=3600
    )
    rp = RoutingProblem(stops=(stat, routine), vehicles=(), duration=dur, distance=dur)
    sol = RoutingSolution(trips=(), unserved=(Unserved("1", "x"), Unserved("2", "y")))
    assert late_ready_stops(rp, sol) == {"1": 660 - 20 - 15, "2": 13 * H - 30 - 15}
    batches = {
        "B1": _batch("B1", 1, 600, 620),  # ready 10:00, in time: stays
        "B2": _batch("B2", 1, 650, 700, OrderClass.NEW_ADMISSION),  # ready 10:50: held the stop back
        "B3": _batch("B3", 2, 13 * H, 13 * H, OrderClass.REFILL),
    }
    assert tighten(rp, sol, batches, frozen=set()) == {"B2": 625, "B3": 13 * H - 45}
    assert tighten(rp, sol, batches, frozen={"B2"}) == {"B3": 13 * H - 45}
    # a deadline that already asked for 10:25 and was missed by 25 min: 25 min earlier again
    missed = {"B2": _batch("B2", 1, 650, 625, OrderClass.NEW_ADMISSION)}
    assert tighten(rp, sol, missed, frozen=set()) == {"B2": 600}
    # a stop released in time but left out (the fleet was full) tightens nothing
    in_time = replace(stat, release=600 * 60)
    rp2 = replace(rp, stops=(in_time,))
    assert late_ready_stops(rp2, RoutingSolution(trips=(), unserved=(Unserved("1", "x"),))) == {}
