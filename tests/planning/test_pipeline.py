"""The pure pipeline (batches -> packaging -> routes -> plan) on small hand-built days.

Every test asserts the independent validator's verdict (``validate_plan``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import facility, line, make_problem, order, travel, van
from factories import hard_of as hard

from ltc_scheduler.enums import OrderClass
from ltc_scheduler.plan.validate import validate_coupling
from ltc_scheduler.planning.pipeline import plan_day
from ltc_scheduler.planning.validate import validate_plan
from ltc_scheduler.problem.model import PlanSettings

H = 60


def coupled_day(**settings) -> tuple:
    """Three facilities, one packaging line opening 08:30, one van making one trip.

    F1 must be served 10:00-10:30, F2 11:30-12:00, F3 15:00-16:00. From the windows, F2's batch may
    be ready as late as 10:55, so a single pass packs the small F3 batch before it (earlier ready
    times in total) and the van, waiting for F2, reaches F1 late (the way back from F1 is too long
    for a second trip). The loop tightens F2's deadline: packed before F3, the van leaves earlier.
    """
    facs = (
        facility(1, windows=((10 * H, 10 * H + 30),)),
        facility(2, windows=((11 * H + 30, 12 * H),)),
        facility(3, windows=((15 * H, 16 * H),)),
    )
    orders = [order(1, 1, cards=60), order(2, 2, cards=60), order(3, 3, cards=10)]
    p = make_problem(
        orders,
        facilities=facs,
        lines=(line(1, rate=60, avail=((8 * H + 30, 18 * H),)),),
        shifts=((8 * H, 18 * H),),
        minutes_per_card=0.01,
        settings=PlanSettings(time_limit_s=4.0, coupling_iterations=3, **settings),
    )
    p = replace(p, vehicles=(van(trips=2),))
    # from F1 and F2 the way back to the pharmacy is long (2 h): a second trip cannot help
    tm = travel([[0, 20, 20, 20], [120, 0, 10, 30], [120, 10, 0, 30], [20, 30, 30, 0]])
    return p, tm


def test_a_hand_built_day_is_planned_and_valid():
    facs = (facility(1, windows=((9 * H + 30, 13 * H),)), facility(2, windows=((13 * H, 16 * H),)))
    orders = [order(i, 1 + i % 2, cards=20, controlled=i == 3, cold=i == 4) for i in range(1, 9)]
    orders.append(order(9, 1, cards=5, cls=OrderClass.STAT, received=8 * H, need_by=12 * H))
    p = make_problem(
        orders,
        facilities=facs,
        lines=(line(1, rate=240), line(2, rate=120)),
        settings=PlanSettings(time_limit_s=3.0),
    )
    p = replace(p, vehicles=(van(1, start=8 * H, trips=2), van(2, start=8 * H)))
    res = plan_day(p, travel=travel([[0, 15, 25], [15, 0, 20], [25, 20, 0]]))
    assert hard(res.violations) == []
    assert res.violations == validate_plan(
        p, res.plan, routing_problem=res.routing_problem, routing_solution=res.routing_solution
    )
    k = res.plan.kpis
    assert k["orders"] == 9 and k["unserved"] == 0 and k["batches"] == len(res.plan.batches)
    assert {s.facility_id for r in res.plan.routes for s in r.stops} == {1, 2}
    assert set(res.stage_seconds) >= {
        "travel",
        "batching",
        "packing",
        "routing",
        "coupling",
        "validate",
        "total",
    }
    # every stop leaves the pharmacy after its batches are verified
    ready = {b.key: b.ready_min for b in res.plan.batches}
    for r in res.plan.routes:
        for s in r.stops:
            assert all(ready[k] <= r.depart_min for k in s.batch_keys)


def test_the_validator_catches_a_route_leaving_before_its_batches_are_ready():
    p, tm = coupled_day()
    res = plan_day(p, travel=tm, coupling=False)
    assert hard(res.violations) == []
    r0 = res.plan.routes[0]
    early = replace(
        r0, depart_min=min(res.plan.batch(k).ready_min for s in r0.stops for k in s.batch_keys) - 1
    )
    bad = replace(res.plan, routes=(early,) + res.plan.routes[1:])
    assert "ready" in {v.rule for v in validate_coupling(bad)}
    # and a stop whose totes differ from its batches'
    s0 = r0.stops[0]
    wrong = replace(r0, stops=(replace(s0, totes=s0.totes + 1),) + r0.stops[1:])
    assert "stop_totes" in {v.rule for v in validate_coupling(replace(res.plan, routes=(wrong,)))}


def test_the_coupling_loop_improves_what_a_single_pass_gets_wrong():
    p, tm = coupled_day()
    single = plan_day(p, travel=tm, coupling=False)
    looped = plan_day(p, travel=tm)
    for res in (single, looped):
        assert hard(res.violations) == []
        assert res.plan.kpis["unserved"] == 0
    # single pass: F3's small batch goes before F2's, the van waits for F2 and reaches F1 late
    f2 = {b.facility_id: b for b in single.plan.batches}[2]
    f3 = {b.facility_id: b for b in single.plan.batches}[3]
    assert f3.end_min <= f2.start_min
    assert single.final["late_min"] > 0
    assert looped.iterations >= 2
    assert looped.single_pass == single.final
    assert looped.final["late_min"] < single.final["late_min"]
    f2_loop = {b.facility_id: b for b in looped.plan.batches}[2]
    assert f2_loop.ready_min < f2.ready_min


def test_no_open_orders_is_a_clear_error():
    from ltc_scheduler.errors import PlanningError

    p = make_problem([order(1, 1)])
    with pytest.raises(PlanningError, match="nothing to plan"):
        plan_day(replace(p, orders=()), travel=travel([[0, 10], [10, 0]]))


def test_planning_params_split_the_budget_and_refuse_shares_outside_0_1():
    from ltc_scheduler.planning.params import PlanningParams

    pp = PlanningParams()
    assert (pp.routing_share(120), pp.routing_share(121)) == (0.50, 0.55)
    assert PlanningParams(big_day_facilities=1).routing_share(2) == 0.55
    with pytest.raises(
        ValueError, match=r"PlanningParams.pack_share must be more than 0 and at most 1, got 1.5"
    ):
        PlanningParams(pack_share=1.5)


def test_a_day_planned_with_its_params_stores_the_figures_plan_kpis_defines():
    from ltc_scheduler.plan.kpis import plan_kpis
    from ltc_scheduler.planning.params import PlanningParams

    p, tm = coupled_day()
    # a round needs a full round's time left: 50 % + 60 % of the budget is more than the budget
    res = plan_day(p, travel=tm, params=PlanningParams(round_share=1.0, pack_share=0.5, route_share=0.6))
    assert res.iterations == 1 and res.single_pass == res.final
    assert res.plan.kpis == plan_kpis(res.plan).as_dict()
    assert res.plan.kpis["late"] == len(res.plan.late) == res.final["late_stops"]
