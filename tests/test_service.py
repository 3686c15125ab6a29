"""service.plan_date on the small demo day: one transaction, published runs, failures lose nothing."""

from __future__ import annotations

import datetime as dt

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
