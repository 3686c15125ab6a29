"""One planner per date, exactly one published plan (issue 10, findings 2 and 9), with real OS processes.

Every test runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, on PostgreSQL. The processes are
``ltc-scheduler plan`` (``python -m ltc_scheduler.cli``) or ``test_race_entry.py`` (which can pause
inside the solve, or hold the date's lock); every wait is bounded.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_race_entry import db_args, start_cli, start_entry, wait_file

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import make_engine, session_scope
from ltc_scheduler.enums import PlanStatus

DAY = dt.date(2026, 12, 1)
LIMIT = 90  # seconds any one process may take


@pytest.fixture
def tiny_day(engine: sa.Engine, tiny: dict[str, int]) -> dict[str, int]:
    """The tiny pharmacy with a vial line too, so every order line of 2026-12-01 can be packed."""
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    return tiny


def _runs(engine: sa.Engine) -> list[m.PlanRun]:
    with session_scope(engine) as s:
        return list(reversed(plans.list_plan_runs(s, date=DAY)))


def _published(engine: sa.Engine) -> list[int]:
    return [r.id for r in _runs(engine) if r.published]


def _paused_planner(engine: sa.Engine, tmp_path: Path, **extra):
    """A planning process of DAY, paused inside its solve until ``go`` is created."""
    started, go = tmp_path / "started", tmp_path / "go"
    args = {**db_args(engine), "date": DAY.isoformat(), "started": str(started), "go": str(go), **extra}
    proc = start_entry("plan", args)
    wait_file(started, proc)
    return proc, go


def test_a_second_planner_of_the_same_date_is_told_it_is_in_progress(
    engine: sa.Engine, tiny_day, tmp_path: Path
) -> None:
    first, go = _paused_planner(engine, tmp_path, who="first")
    try:
        running = [r for r in _runs(engine) if r.status == PlanStatus.RUNNING]
        assert [(r.started_by, r.pid) for r in running] == [("first", first.pid)]
        second = start_cli(engine, "plan", "--date", DAY.isoformat(), "--time-limit", "1")
        out, err = second.communicate(timeout=LIMIT)
        assert second.returncode == 4, (out, err)
        assert err.startswith(
            f"busy: {DAY} is already being planned (run #{running[0].id}, started by first at "
        )
        assert "Traceback" not in err
    finally:
        go.write_text("go")
    out, err = first.communicate(timeout=LIMIT)
    assert first.returncode == 0, (out, err)
    result = json.loads(out.strip().splitlines()[-1])
    assert _published(engine) == [result["plan_run_id"]]
    assert [r.status for r in _runs(engine)] == [PlanStatus.COMPLETED]  # the refused request left no run


def test_two_planners_started_together_publish_exactly_one_plan(engine: sa.Engine, tiny_day) -> None:
    """Finding 2: two `plan --date D` at once published both in 2 of 3 tries on PostgreSQL."""
    for attempt in range(3):
        procs = [start_cli(engine, "plan", "--date", DAY.isoformat(), "--time-limit", "1") for _ in range(2)]
        codes = []
        for p in procs:
            out, err = p.communicate(timeout=LIMIT)
            assert p.returncode in (0, 3, 4), (attempt, p.returncode, out, err)
            codes.append(p.returncode)
        assert len(_published(engine)) == 1, (attempt, codes)
        if attempt == 0:
            assert 0 in codes
        statuses = [r.status for r in _runs(engine)]
        assert PlanStatus.RUNNING not in statuses and PlanStatus.FAILED not in statuses
    # order statuses follow the one published plan
    with session_scope(engine) as s:
        placed = plans.placed_order_line_ids(s, plan_run_id=_published(engine)[0])
        planned = {o.id for o in s.exec(sa.select(m.OrderLine)).scalars() if o.status == "planned"}
    assert planned == placed


def test_a_killed_planner_does_not_block_the_date(engine: sa.Engine, tiny_day, tmp_path: Path) -> None:
    """A planning process killed mid-solve leaves a `running` run; the next planner sees that its
    process is gone, marks it failed, and plans."""
    victim, _go = _paused_planner(engine, tmp_path, who="victim")
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=LIMIT)
    (dead,) = [r for r in _runs(engine) if r.status == PlanStatus.RUNNING]
    assert dead.pid == victim.pid
    nxt = start_cli(engine, "plan", "--date", DAY.isoformat(), "--time-limit", "1", "--json")
    out, err = nxt.communicate(timeout=LIMIT)
    assert nxt.returncode == 0, (out, err)
    data = json.loads(out)
    assert data["published"] is True and data["status"] == "published"
    runs = {r.id: r for r in _runs(engine)}
    assert runs[dead.id].status == PlanStatus.FAILED
    assert (
        runs[dead.id].error == "stopped before it finished (its process ended); marked failed by a later run"
    )
    assert _published(engine) == [data["plan_run_id"]]


def test_a_running_run_elsewhere_blocks_until_it_is_stale(engine: sa.Engine, tiny_day) -> None:
    """A run in progress on another host blocks the date; once older than STALE_AFTER it is failed."""
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as s:
        other = m.PlanRun(
            date=DAY,
            status=PlanStatus.RUNNING,
            started_by="night shift",
            host="other-host",
            pid=1,
            created_at=now,
        )
        s.add(other)
        s.flush()
        other_id = other.id
    with pytest.raises(
        service.DateBusy, match=rf"run #{other_id}, started by night shift at .* on other-host"
    ):
        service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    with session_scope(engine) as s:
        run = s.get(m.PlanRun, other_id)
        run.created_at = now - plans.STALE_AFTER - dt.timedelta(minutes=1)
        s.add(run)
    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert out.published
    with session_scope(engine) as s:
        run = s.get(m.PlanRun, other_id)
        assert run.status == PlanStatus.FAILED and "started more than 0:30:00 ago" in run.error


def test_a_save_waits_for_a_locked_database_and_keeps_the_solved_plan(
    engine: sa.Engine, tiny_day, tmp_path: Path
) -> None:
    """Finding 9: a lock held by another process while the plan is saved used to lose the solve
    ("database is locked"). Another process takes the date's lock (SQLite: BEGIN IMMEDIATE) during
    the solve and keeps it 8 s; this process's busy timeout is 0.5 s, so only the retry saves it."""
    ready = tmp_path / "ready"
    holder = []
    if engine.dialect.name == "sqlite":
        eng = make_engine(engine.url.render_as_string(hide_password=False), sqlite_busy_timeout_s=0.5)
    else:
        eng = engine

    def progress(stage: str, fraction: float) -> None:
        if not holder:
            args = {**db_args(engine), "date": DAY.isoformat(), "ready": str(ready), "seconds": 8}
            holder.append(start_entry("hold", args))
            wait_file(ready, holder[0])
            holder.append(time.monotonic())

    try:
        out = service.plan_date(eng, date=DAY, started_by="test", time_limit_s=1, progress=progress)
    finally:
        if eng is not engine:
            eng.dispose()
    waited = time.monotonic() - holder[1]
    h_out, h_err = holder[0].communicate(timeout=LIMIT)
    assert holder[0].returncode == 0, (h_out, h_err)
    assert out.published and waited >= 7.5
    assert out.result.stage_seconds["save"] >= 1.0
    assert _published(engine) == [out.plan_run_id]
    with session_scope(engine) as s:
        assert plans.load_plan_record(s, plan_run_id=out.plan_run_id).plan == out.result.plan


def test_a_database_locked_for_longer_than_the_wait_says_so_and_frees_the_date(
    engine: sa.Engine, tiny_day, tmp_path: Path
) -> None:
    """Past ``lock_wait_s`` the run gives up with a sentence (exit 4 on the CLI), nothing is
    published, and the date is not left blocked (its run is failed, or, if even that could not be
    written, seen as abandoned by this process)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL waits on the advisory lock; the SQLite write lock is the finding")
    ready = tmp_path / "ready"
    eng = make_engine(engine.url.render_as_string(hide_password=False), sqlite_busy_timeout_s=0.2)
    holder = []

    def progress(stage: str, fraction: float) -> None:
        if not holder:
            args = {**db_args(engine), "date": DAY.isoformat(), "ready": str(ready), "seconds": 8}
            holder.append(start_entry("hold", args))
            wait_file(ready, holder[0])

    try:
        with pytest.raises(service.DatabaseBusy, match="stayed locked by another program for 1 s"):
            service.plan_date(
                eng, date=DAY, started_by="test", time_limit_s=1, progress=progress, lock_wait_s=1
            )
    finally:
        eng.dispose()
    holder[0].communicate(timeout=LIMIT)
    assert _published(engine) == []
    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert out.published
    statuses = [r.status for r in _runs(engine)]
    assert statuses == [PlanStatus.FAILED, PlanStatus.COMPLETED]


def test_a_run_this_process_abandoned_does_not_block_the_date(engine: sa.Engine, tiny_day) -> None:
    """A `running` run of this very process (the dashboard server) that no thread works on any more
    is stale at once; one that is being worked on is not."""
    host, pid = plans.this_process()
    with session_scope(engine) as s:
        run = m.PlanRun(date=DAY, status=PlanStatus.RUNNING, started_by="lost thread", host=host, pid=pid)
        s.add(run)
        s.flush()
        lost = run.id
    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    assert out.published
    with session_scope(engine) as s:
        run = s.get(m.PlanRun, lost)
        assert run.status == PlanStatus.FAILED
        assert (
            run.error
            == "stopped before it finished (this program stopped working on it); marked failed by a later run"
        )
