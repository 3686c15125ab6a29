"""Re-planning today never rewrites the road (issue 10, finding 5): for today by the clock, or any
date with ``--now``, ``plan`` keeps every departed route and started batch exactly as published;
the first plan of a date plans the whole day; replacing departed routes needs ``--from-scratch``
and a confirmation.

Runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, PostgreSQL (the CLI test: SQLite).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.errors import BadInput
from ltc_scheduler.service import replan_decision

#: solver seconds per plan: enough for the tiny day even on a loaded machine
LIMIT = 3
DAY = dt.date(2026, 12, 1)
OTHER = dt.date(2030, 1, 1)


@pytest.fixture(autouse=True)
def _clock_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default "today" is a date no test plans; tests that need today set it."""
    monkeypatch.setattr(service, "_local_today", lambda: OTHER)


def _with_vials(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))


def _slower_service(engine: sa.Engine) -> None:
    """After the plan was published, every stop takes 40 min longer: a fresh plan moves every route."""
    with session_scope(engine) as s:
        s.execute(sa.update(m.Facility).values(service_fixed_min=50))


def _runs(engine: sa.Engine) -> list[m.PlanRun]:
    with session_scope(engine) as s:
        return list(s.exec(select(m.PlanRun).order_by(m.PlanRun.id)))


def _departed(plan, now: int) -> list:
    return [r for r in plan.routes if r.stops and r.depart_min <= now]


# ----------------------------------------------------------------------------- the decision


def test_replan_decision() -> None:
    def d(**kw):
        base = dict(date=DAY, published=True, replan=False, now_min=None, from_scratch=False, today=OTHER)
        return replan_decision(**{**base, **kw})

    assert d() == (False, None)  # another day, no clock given: the whole day again
    assert d(today=DAY) == (True, None)  # today by the clock: re-plan from the current time
    assert d(now_min=600) == (True, 600)  # --now sets the clock, any date
    assert d(replan=True) == (True, None)
    assert d(published=False, now_min=600, today=DAY) == (False, None)  # first plan: the whole day
    assert d(today=DAY, now_min=600, from_scratch=True) == (False, None)
    with pytest.raises(BadInput, match="no published plan for 2026-12-01"):
        d(published=False, replan=True)
    with pytest.raises(BadInput, match="contradict"):
        d(replan=True, from_scratch=True)


# ----------------------------------------------------------------------------- the road


def test_now_keeps_departed_routes_and_started_batches_exactly_as_published(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    _with_vials(engine)
    first = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    prev = first.result.plan
    now = min(r.depart_min for r in prev.routes if r.stops) + 1
    departed = _departed(prev, now)
    started = [b for b in prev.batches if b.start_min is not None and b.start_min < now]
    assert departed and started
    _slower_service(engine)

    # no --replan: --now alone makes it a re-plan
    out = service.plan_date(engine, date=DAY, started_by="test", now_min=now, time_limit_s=LIMIT)
    plan = out.result.plan
    for r in departed:
        assert r in plan.routes
    for b in started:
        assert plan.batch(b.key) == b
    assert _runs(engine)[-1].stats["replan"] is True and _runs(engine)[-1].stats["now_min"] == now
    assert out.summary["replanned_from"] == f"{now // 60:02d}:{now % 60:02d}"

    # the control: from scratch, the same change does move a departed route (so the check above bites)
    scratch = service.plan_date(engine, date=DAY, started_by="test", from_scratch=True, time_limit_s=LIMIT)
    assert any(r not in scratch.result.plan.routes for r in departed)
    assert _runs(engine)[-1].stats["replan"] is False


def test_today_by_the_clock_re_plans_automatically(
    engine: sa.Engine, tiny: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_vials(engine)
    first = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    now = min(r.depart_min for r in first.result.plan.routes if r.stops) + 1
    departed = _departed(first.result.plan, now)
    _slower_service(engine)
    monkeypatch.setattr(service, "_local_today", lambda: DAY)
    monkeypatch.setattr(service, "_now_local_min", lambda date: now)
    out = service.plan_date(
        engine, date=DAY, started_by="test", time_limit_s=LIMIT
    )  # plain `plan --date today`
    assert all(r in out.result.plan.routes for r in departed)
    assert _runs(engine)[-1].stats["replan"] is True


def test_the_first_plan_of_a_date_plans_the_whole_day_whatever_the_clock(
    engine: sa.Engine, tiny: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_vials(engine)
    monkeypatch.setattr(service, "_local_today", lambda: DAY)
    out = service.plan_date(engine, date=DAY, started_by="test", now_min=23 * 60, time_limit_s=LIMIT)
    assert _runs(engine)[-1].stats["replan"] is False
    assert out.result.plan.routes and min(r.depart_min for r in out.result.plan.routes) < 23 * 60


def test_a_packed_line_keeps_its_batch_as_published(engine: sa.Engine, tiny: dict[str, int]) -> None:
    """A batch whose lines are packed (set by the pharmacy system) is not re-packed or dropped."""
    _with_vials(engine)
    prev = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT).result.plan
    late_batch = max((b for b in prev.batches if b.start_min is not None), key=lambda b: b.start_min)
    now = late_batch.start_min - 1  # it has not started by the plan's clock...
    with session_scope(engine) as s:  # ... but the floor says its lines are packed
        s.execute(
            sa.update(m.OrderLine)
            .where(m.OrderLine.id.in_(late_batch.order_line_ids))
            .values(status="packed")
        )
    plan = service.plan_date(engine, date=DAY, started_by="test", now_min=now, time_limit_s=LIMIT).result.plan
    assert plan.batch(late_batch.key) == late_batch
    assert late_batch.key in {k for r in plan.routes for s in r.stops for k in s.batch_keys}


def test_cli_from_scratch_asks_before_replacing_departed_routes(
    engine: sa.Engine,
    tiny: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI reads DATABASE_URL; the PostgreSQL test schema is not reachable by URL")
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings

    _with_vials(engine)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert main(["plan", "--date", "2026-12-01", "--time-limit", str(LIMIT)]) == 0
        with session_scope(engine) as s:
            prev = plans.load_plan(s, plan_run_id=_runs(engine)[-1].id)
        now = min(r.depart_min for r in prev.routes if r.stops) + 1
        clock = f"{now // 60:02d}:{now % 60:02d}"
        n_runs = len(_runs(engine))

        monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
        assert main(["plan", "--date", "2026-12-01", "--now", clock, "--from-scratch"]) == 1
        assert "have left the pharmacy" in capsys.readouterr().out
        assert len(_runs(engine)) == n_runs  # nothing planned, nothing saved

        monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
        assert (
            main(
                ["plan", "--date", "2026-12-01", "--now", clock, "--from-scratch", "--time-limit", str(LIMIT)]
            )
            == 0
        )
        assert _runs(engine)[-1].stats["replan"] is False

        # without --from-scratch, --now re-plans and asks nothing
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        capsys.readouterr()
        assert main(["plan", "--date", "2026-12-01", "--now", clock, "--time-limit", str(LIMIT)]) == 0
        assert _runs(engine)[-1].stats["replan"] is True
        assert f"re-planned from {clock}: routes that left" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
