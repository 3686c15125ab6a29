"""The publishing guard: a worse plan never silently replaces the published one (issue 10, finding 1).

On the tiny day (both databases) and on the small demo day (SQLite, slow), a run that is worse on
what matters to the pharmacy is saved as a draft, order statuses stay with the published plan,
``--publish-anyway`` publishes it, and a published plan that changed during the run makes the run a
draft too.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import sqlalchemy as sa
from conftest import DEMO_DATE
from sqlmodel import select

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import make_engine, session_scope
from ltc_scheduler.enums import OrderStatus, PlanStatus
from ltc_scheduler.plan.publishing import PublishFigures, why_worse

DAY = dt.date(2026, 12, 1)


def _published_ids(engine: sa.Engine, day: dt.date = DAY) -> list[int]:
    with session_scope(engine) as s:
        return [r.id for r in plans.list_plan_runs(s, date=day) if r.published]


def _statuses(engine: sa.Engine) -> dict[int, str]:
    with session_scope(engine) as s:
        return {o.id: str(o.status.value) for o in s.exec(select(m.OrderLine))}


@pytest.fixture
def tiny_day(engine: sa.Engine, tiny: dict[str, int]) -> dict[str, int]:
    """The tiny pharmacy with a vial line too, so every order line of 2026-12-01 can be packed."""
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    return tiny


def _set_vehicle_active(engine: sa.Engine, vehicle_id: int, active: bool) -> None:
    with session_scope(engine) as s:
        v = s.get(m.Vehicle, vehicle_id)
        v.active = active
        s.add(v)


# --------------------------------------------------------------------------- the rule itself


def _f(unserved=0, stat=0, served=10, solver=2, broken=0, to_deliver=None, limit=20.0) -> PublishFigures:
    return PublishFigures(
        unserved=unserved,
        stat_missed=stat,
        served=served,
        to_deliver=served + unserved if to_deliver is None else to_deliver,
        solver=solver,
        broken_rules=broken,
        time_limit_s=limit,
    )


def test_each_rule_of_the_publishing_guard_can_refuse_alone() -> None:
    base = _f()
    assert why_worse(_f(), base) == []
    assert why_worse(_f(unserved=17, served=10), base) == ["17 stops unserved vs 0"]
    assert why_worse(_f(stat=3), base) == ["3 STAT orders missed vs 0"]
    assert why_worse(_f(served=8, to_deliver=10), base) == ["8 stops served vs 10"]
    # a partial solver result counts when the run had a shorter budget (`--time-limit 1`) ...
    assert why_worse(_f(solver=1, limit=1.0), base) == ["solver result partial vs complete"]
    # ... not with the same budget (a busy machine; the figures decide), a failed one always
    assert why_worse(_f(solver=1), base) == []
    assert why_worse(_f(solver=0), _f(solver=1)) == ["solver result failed vs partial"]
    assert why_worse(_f(broken=2), base) == ["2 rules broken vs none"]
    # better or equal is not worse; fewer stops because there is less to deliver is not worse
    assert why_worse(_f(served=12), base) == []
    assert why_worse(_f(served=8), base) == []  # to_deliver 8 < 10: orders were cancelled
    assert why_worse(_f(broken=1), _f(broken=1)) == []


# --------------------------------------------------------------------------- tiny day, both databases


def test_a_worse_plan_is_kept_as_a_draft_and_statuses_stay_with_the_published_one(
    engine: sa.Engine, tiny_day: dict[str, int]
) -> None:
    good = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert good.published and good.summary["status"] == "published" and good.summary["published"] is True
    assert good.figures is not None and good.figures.unserved == 0
    statuses = _statuses(engine)
    assert statuses[tiny_day["O1"]] == "planned"

    _set_vehicle_active(engine, tiny_day["v1"], False)  # the morning van with the controlled permit
    worse = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert worse.published is False
    assert worse.summary["status"] == "draft" and worse.summary["published"] is False
    assert worse.summary["published_plan_run_id"] == good.plan_run_id
    assert worse.figures.unserved > 0
    assert worse.note.startswith(
        f"saved as draft #{worse.plan_run_id}, not published: {worse.figures.unserved} stops unserved "
        f"vs 0 in published plan #{good.plan_run_id}"
    )
    assert worse.summary["reason"] == worse.note
    assert _published_ids(engine) == [good.plan_run_id]
    assert _statuses(engine) == statuses  # a draft changes no order status
    with session_scope(engine) as s:
        run = plans.get_plan_run(s, plan_run_id=worse.plan_run_id)
        assert run.status == PlanStatus.COMPLETED and run.published is False
        assert run.publish_note == worse.note and run.base_run_id == good.plan_run_id
        assert plans.load_plan_record(s, plan_run_id=worse.plan_run_id).plan == worse.result.plan

    forced = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1, publish_anyway=True)
    assert forced.published and forced.note.startswith(
        f"published anyway, although worse than plan #{good.plan_run_id}: "
    )
    assert _published_ids(engine) == [forced.plan_run_id]
    placed = set()
    with session_scope(engine) as s:
        placed = plans.placed_order_line_ids(s, plan_run_id=forced.plan_run_id)
    after = _statuses(engine)
    assert {i for i, st in after.items() if st == "planned"} == placed


def test_a_draft_can_be_published_after_the_comparison_unless_another_plan_was_published(
    engine: sa.Engine, tiny_day: dict[str, int]
) -> None:
    good = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    _set_vehicle_active(engine, tiny_day["v1"], False)
    draft = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert not draft.published
    with pytest.raises(service.BadInput, match="was published since you compared"):
        service.publish_draft(engine, plan_run_id=draft.plan_run_id, who="x", expected_published=None)
    assert _published_ids(engine) == [good.plan_run_id]
    service.publish_draft(
        engine, plan_run_id=draft.plan_run_id, who="boss", expected_published=good.plan_run_id
    )
    assert _published_ids(engine) == [draft.plan_run_id]
    with session_scope(engine) as s:
        note = plans.get_plan_run(s, plan_run_id=draft.plan_run_id).publish_note
    assert note == f"published anyway by boss, replacing plan #{good.plan_run_id}"


def test_a_run_whose_published_plan_changed_meanwhile_is_saved_as_a_draft(
    engine: sa.Engine, tiny_day: dict[str, int]
) -> None:
    """While the run solves, someone publishes another plan: at save time the run sees that the
    published plan is no longer the one it started from, and keeps itself as a draft."""
    first = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    _set_vehicle_active(engine, tiny_day["v1"], False)
    other = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert not other.published
    _set_vehicle_active(engine, tiny_day["v1"], True)
    done = []

    def progress(stage: str, fraction: float) -> None:
        if not done:
            done.append(stage)
            service.publish_draft(
                engine, plan_run_id=other.plan_run_id, who="else", expected_published=first.plan_run_id
            )

    third = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1, progress=progress)
    assert done
    assert third.published is False
    assert third.note == (
        f"saved as draft #{third.plan_run_id}, not published: plan #{other.plan_run_id} was published "
        f"while this one was being made (it started from plan #{first.plan_run_id}); compare them "
        "before publishing"
    )
    assert _published_ids(engine) == [other.plan_run_id]


def test_the_database_allows_one_published_plan_per_date(engine: sa.Engine, tiny_day) -> None:
    """The partial unique index stops a second published run even if the code forgot the lock."""
    with session_scope(engine) as s:
        s.add(m.PlanRun(date=DAY, status=PlanStatus.COMPLETED, published=True))
        s.add(m.PlanRun(date=DAY, status=PlanStatus.COMPLETED, published=False))
        s.add(m.PlanRun(date=DAY + dt.timedelta(days=1), status=PlanStatus.COMPLETED, published=True))
    with pytest.raises(sa.exc.IntegrityError), session_scope(engine) as s:
        s.add(m.PlanRun(date=DAY, status=PlanStatus.COMPLETED, published=True))
    with pytest.raises(sa.exc.IntegrityError), session_scope(engine) as s:
        s.add(m.PlanRun(date=DAY, status=PlanStatus.RUNNING, published=False))
        s.add(m.PlanRun(date=DAY, status=PlanStatus.RUNNING, published=False))
    assert len(_published_ids(engine)) == 1


# --------------------------------------------------------------------------- the small demo day (CLI)


@pytest.fixture
def demo_db(demo_small_template, tmp_path, monkeypatch):
    """A private copy of the small demo day for the CLI, with a first plan published (8 s)."""
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings

    path = tmp_path / "guard_demo.db"
    shutil.copyfile(demo_small_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    assert main(["plan", "--date", DEMO_DATE.isoformat(), "--time-limit", "8"]) == 0
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()
    get_settings.cache_clear()


def _demo_state(engine: sa.Engine) -> tuple[list[int], dict[int, str]]:
    return _published_ids(engine, DEMO_DATE), _statuses(engine)


def test_demo_day_with_every_vehicle_inactive_publishes_nothing(demo_db, capsys) -> None:
    """Finding 1: all vehicles inactive used to publish a 0-route plan (exit 0) and send every
    order line back to open. Now nothing is published: an input error (exit 2) or a draft (exit 3)."""
    from ltc_scheduler.cli import main

    capsys.readouterr()
    before = _demo_state(demo_db)
    assert len(before[0]) == 1 and sum(1 for v in before[1].values() if v == "planned") > 1000
    with session_scope(demo_db) as s:
        s.execute(sa.update(m.Vehicle).values(active=False))
    rc = main(["plan", "--date", DEMO_DATE.isoformat(), "--time-limit", "2", "--json"])
    assert rc in (2, 3)
    out = capsys.readouterr().out
    data = json.loads(out.strip().splitlines()[-1])
    assert data["published"] is False and data["status"] in ("draft", "failed")
    assert _demo_state(demo_db) == before


def test_demo_day_with_negative_penalties_in_the_settings_publishes_nothing(demo_db, capsys) -> None:
    """Finding 1: negative penalties written straight into constraint_set.settings made a plan that
    left stops unserved and was published. Now it is refused (exit 2) or kept as a draft (exit 3)."""
    from ltc_scheduler.cli import main

    capsys.readouterr()
    before = _demo_state(demo_db)
    with session_scope(demo_db) as s:
        cs = s.exec(select(m.ConstraintSet).where(m.ConstraintSet.is_current.is_(True))).one()
        cs.settings = {**cs.settings, "unserved_penalty": -10_000_000, "stat_unserved_penalty": -1}
        s.add(cs)
    rc = main(["plan", "--date", DEMO_DATE.isoformat(), "--time-limit", "2"])
    captured = capsys.readouterr()
    assert rc in (2, 3), captured
    if rc == 3:
        assert "not published:" in captured.out and "in published plan #" in captured.out
    assert _demo_state(demo_db) == before
    with session_scope(demo_db) as s:
        assert OrderStatus.PLANNED.value in {str(o.status.value) for o in s.exec(select(m.OrderLine))}


def test_plan_json_says_failed_when_the_run_fails(engine: sa.Engine, tiny_day, monkeypatch, capsys) -> None:
    """``plan --json`` prints one object with ``status: failed`` (and exits with the error's code)."""
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings

    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI opens its own engine from DATABASE_URL (SQLite here)")
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LTC_TRAVEL_PROVIDER", "osrm")
    monkeypatch.delenv("LTC_OSRM_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["plan", "--date", "2026-12-01", "--time-limit", "1", "--json"]) == 2
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    with session_scope(engine) as s:
        (run,) = plans.list_plan_runs(s, date=DAY)
    assert run.status == PlanStatus.FAILED and run.error.startswith(
        "LTC_TRAVEL_PROVIDER=osrm needs LTC_OSRM_URL"
    )
    assert data == {
        "plan_run_id": run.id,
        "date": "2026-12-01",
        "published": False,
        "status": "failed",
        "error": run.error.splitlines()[0],
    }
    assert captured.err.startswith("error: LTC_TRAVEL_PROVIDER=osrm needs LTC_OSRM_URL")
