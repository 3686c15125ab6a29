"""service.plan_date on the small demo day: one transaction, published runs, failures lose nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
import sqlalchemy as sa
from conftest import DEMO_DATE
from sqlmodel import select

from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import OrderClass, OrderStatus, PlanStatus
from ltc_scheduler.planning.validate import validate_plan
from ltc_scheduler.problem.builder import build_problem, local_to_utc
from ltc_scheduler.service import InjectedFailure, has_plan, plan_date

LIMIT = 4.0
JSON_KEYS = {
    "plan_run_id",
    "date",
    "orders",
    "batches",
    "lines_used",
    "routes",
    "stops",
    "unserved",
    "late",
    "driving_km",
    "driving_hours",
    "packaging_makespan_min",
    "stage_seconds",
    "valid",
    "violations",
}


def _published(engine: sa.Engine):
    with session_scope(engine) as s:
        run = plans.latest_plan_run(s, date=DEMO_DATE, published_only=True)
        return (run.id, plans.load_plan(s, plan_run_id=run.id)) if run is not None else (None, None)


@pytest.fixture(scope="module")
def first(demo_engine_small):
    """The demo day planned once (the published plan the other tests start from)."""
    return plan_date(demo_engine_small, date=DEMO_DATE, started_by="test", time_limit_s=LIMIT)


def test_plan_date_saves_one_published_run_that_loads_back(demo_engine_small, first):
    assert has_plan(demo_engine_small, date=DEMO_DATE)
    run_id, loaded = _published(demo_engine_small)
    assert run_id == first.plan_run_id
    plan = first.result.plan
    assert (
        loaded.batches == plan.batches and loaded.routes == plan.routes and loaded.unserved == plan.unserved
    )
    s = first.summary
    assert set(s) >= JSON_KEYS
    assert s["plan_run_id"] == run_id and s["date"] == "2026-12-01"
    assert s["orders"] == len({i for b in plan.batches for i in b.order_line_ids}) > 1000
    assert s["batches"] == len(plan.batches) and s["stops"] == sum(len(r.stops) for r in plan.routes)
    assert set(s["stage_seconds"]) >= {"load", "packing", "routing", "validate", "save"}
    # the validator's verdict is the one saved and reported
    assert s["valid"] is True and first.result.valid
    assert s["valid"] == (not any(v["hard"] for v in s["violations"]))
    with session_scope(demo_engine_small) as sess:
        run = plans.get_plan_run(sess, plan_run_id=run_id)
        assert run.valid == first.result.valid and run.started_by == "test"
        assert run.snapshot["constraint_set_version"] and "stage_seconds" in run.stats
        problem = build_problem(sess, date=DEMO_DATE, timezone="America/Chicago")
    # packaging and coupling of the stored plan re-check clean on the stored rows
    packaging = [v for v in validate_plan(problem, loaded) if v.hard]
    assert packaging == []


def test_a_failure_after_the_solve_leaves_the_published_plan_untouched(demo_engine_small, first):
    before_id, before = _published(demo_engine_small)
    with pytest.raises(InjectedFailure):
        plan_date(
            demo_engine_small, date=DEMO_DATE, started_by="test", time_limit_s=LIMIT, fail_before_commit=True
        )
    after_id, after = _published(demo_engine_small)
    assert after_id == before_id
    assert after == before
    with session_scope(demo_engine_small) as s:
        runs = plans.list_plan_runs(s, date=DEMO_DATE)
        failed = [r for r in runs if r.status == PlanStatus.FAILED]
        assert failed and "injected failure" in (failed[0].error or "")
        n_batches = s.exec(
            select(sa.func.count()).select_from(m.PlanBatch).where(m.PlanBatch.plan_run_id == failed[0].id)
        ).one()
        assert n_batches == 0


def test_rerunning_a_date_creates_a_new_published_run(demo_engine_small, first):
    again = plan_date(demo_engine_small, date=DEMO_DATE, started_by="test", time_limit_s=LIMIT)
    assert again.plan_run_id != first.plan_run_id
    with session_scope(demo_engine_small) as s:
        runs = [r for r in plans.list_plan_runs(s, date=DEMO_DATE) if r.status == PlanStatus.COMPLETED]
        assert [r.id for r in runs if r.published] == [again.plan_run_id]


def test_replan_keeps_departed_routes_and_packs_a_new_stat_order(demo_engine_small, first):
    prev_id, prev = _published(demo_engine_small)
    now = 14 * 60
    with session_scope(demo_engine_small) as s:
        template = s.exec(select(m.OrderLine).where(m.OrderLine.order_class == OrderClass.STAT)).first()
        new = m.OrderLine(
            external_id="REPLAN-STAT-1",
            resident_id=template.resident_id,
            facility_id=template.facility_id,
            medication_id=template.medication_id,
            order_class=OrderClass.STAT,
            doses=2,
            cards=1,
            received_at=local_to_utc(DEMO_DATE, now, "America/Chicago"),
            need_by=local_to_utc(DEMO_DATE, now + 240, "America/Chicago"),
            status=OrderStatus.OPEN,
        )
        s.add(new)
        s.flush()
        new_id = new.id
    out = plan_date(
        demo_engine_small, date=DEMO_DATE, started_by="test", replan=True, now_min=now, time_limit_s=LIMIT
    )
    plan = out.result.plan
    for r in prev.routes:
        if r.depart_min <= now:
            assert r in plan.routes
    for b in prev.batches:
        if b.start_min is not None and b.start_min < now:
            assert plan.batch(b.key) == b
    nb = next(b for b in plan.batches if new_id in b.order_line_ids)
    assert nb.key not in {b.key for b in prev.batches}
    assert nb.start_min is None or nb.start_min >= now
    assert out.result.valid, [str(v) for v in out.result.violations if v.hard]
    _, published = _published(demo_engine_small)
    assert published == plan
    assert out.summary["date"] == dt.date(2026, 12, 1).isoformat()


def test_stat_orders_has_one_entry_per_urgent_line_with_times_and_reasons():
    """Hand-built plan on the factories day (Chicago, 2026-11-27, UTC-6): line 6 (STAT, promised
    13:30) is delivered at 13:40, line 7 (new admission, promised 14:00) is unserved."""
    from factories import day_batch as batch
    from factories import day_problem

    from ltc_scheduler.plan.model import Plan, PlanRoute, PlanStop, UnservedStop
    from ltc_scheduler.service import stat_orders

    problem = day_problem()
    b6 = batch("B6", 14, (6,), order_class=OrderClass.STAT, ready=13 * 60, deadline_min=13 * 60)
    b7 = batch("B7", 14, (7,), order_class=OrderClass.NEW_ADMISSION, ready=13 * 60 + 50)
    b1 = batch("B1", 11, (1,))
    stop = PlanStop(1, 14, 13 * 60 + 38, 13 * 60 + 40, 13 * 60 + 52, 1, 0, 0, ("B6",), stat=True)
    unserved = UnservedStop(14, "STAT promise unreachable: ready at 13:50, ...", ("B7",))
    plan = Plan(
        date=problem.date,
        batches=(b1, b6, b7),
        routes=(PlanRoute(1, 1, 13 * 60 + 10, 14 * 60 + 20, (stop,)),),
        unserved=(unserved,),
    )
    rows = stat_orders(problem, plan)
    assert rows == [
        {
            "order": "L6",
            "facility_external_id": "F14",
            "received": "2026-11-27T09:30:00-06:00",
            "promise": "2026-11-27T13:30:00-06:00",
            "ready": "2026-11-27T13:00:00-06:00",
            "arrival": "2026-11-27T13:40:00-06:00",
            "on_time": False,
            "reason": "delivered at 13:40, 10 min after the promise 13:30",
        },
        {
            "order": "L7",
            "facility_external_id": "F14",
            "received": "2026-11-27T10:00:00-06:00",
            "promise": "2026-11-27T14:00:00-06:00",
            "ready": "2026-11-27T13:50:00-06:00",
            "arrival": None,
            "on_time": False,
            "reason": "STAT promise unreachable: ready at 13:50, ...",
        },
    ]
    # delivered by the promise: on time, no reason
    early = replace(plan, routes=(replace(plan.routes[0], stops=(replace(stop, start_min=13 * 60 + 30),)),))
    assert stat_orders(problem, early)[0]["on_time"] is True
    assert stat_orders(problem, early)[0]["reason"] is None


def test_plan_json_stat_orders_cover_every_urgent_line_of_the_demo_day(demo_engine_small, first):
    plan = first.result.plan
    with session_scope(demo_engine_small) as sess:
        problem = build_problem(sess, date=DEMO_DATE, timezone="America/Chicago")
    planned = {i for b in plan.batches for i in b.order_line_ids}  # (later tests add order lines)
    urgent = [
        ln
        for ln in problem.orders
        if ln.order_class in (OrderClass.STAT, OrderClass.NEW_ADMISSION) and ln.id in planned
    ]
    rows = first.summary["stat_orders"]
    assert len(urgent) > 10
    assert sorted(r["order"] for r in rows) == sorted(ln.external_id for ln in urgent)
    by_id = {ln.external_id: ln for ln in urgent}
    stops = {k: st for r in plan.routes for st in r.stops for k in st.batch_keys}
    for r in rows:
        ln = by_id[r["order"]]
        b = next(b for b in plan.batches if ln.id in b.order_line_ids)
        midnight = dt.datetime.combine(DEMO_DATE, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=-6)))
        assert r["promise"] == (midnight + dt.timedelta(minutes=ln.need_by_min)).isoformat()
        if b.key in stops:
            st = stops[b.key]
            assert r["arrival"].endswith("-06:00") and r["ready"] <= r["arrival"]
            assert r["on_time"] == (st.start_min <= ln.need_by_min)
        else:
            assert r["arrival"] is None and r["on_time"] is False and r["reason"]
        assert (r["reason"] is None) == r["on_time"]
