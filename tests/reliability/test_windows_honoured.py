"""Windows are honoured (issue 10, finding 4): no window on the weekday -> no routine delivery,
its orders unserved with the reason and the facility named; urgent lines still go at any hour,
unless the facility is closed that day (``facility_closure``).

Runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import OrderStatus
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem.builder import build_problem

#: solver seconds per plan: enough for the tiny day even on a loaded machine
LIMIT = 3
DAY = dt.date(2026, 12, 1)  # a Tuesday
TZ = "America/Chicago"


@pytest.fixture(autouse=True)
def _clock_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))


def _vials_and_no_tuesday_window_at_alpha(engine: sa.Engine, tiny: dict[str, int]) -> None:
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
        s.execute(
            sa.delete(m.FacilityWindow).where(
                m.FacilityWindow.facility_id == tiny["fa"], m.FacilityWindow.weekday == DAY.weekday()
            )
        )


def _stops_at(plan, facility_id: int) -> list:
    return [s for r in plan.routes for s in r.stops if s.facility_id == facility_id]


def test_no_window_that_weekday_means_no_routine_delivery_but_stat_still_goes(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    _vials_and_no_tuesday_window_at_alpha(engine, tiny)
    with Session(engine) as s:
        problem = build_problem(s, date=DAY, timezone=TZ)
    assert [o.external_id for o in problem.orders] == ["O2", "O3"]  # O1 (cycle fill at Alpha) is held
    (held,) = problem.held
    assert (held.facility_id, held.order_line_ids, held.reason) == (
        tiny["fa"],
        (tiny["O1"],),
        "no delivery window on Tuesday",
    )

    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    plan = out.result.plan
    assert {
        "facility": "Alpha Care",
        "reason": "no delivery window on Tuesday (1 order line)",
    } in out.summary["unserved"]
    assert tiny["O1"] not in {i for b in plan.batches for i in b.order_line_ids}
    # the STAT (first dose) at Alpha goes anyway, at any hour: one stop, holding only urgent batches
    (stop,) = _stops_at(plan, tiny["fa"])
    assert all(plan.batch(k).stat for k in stop.batch_keys)
    assert out.result.valid
    with session_scope(engine) as s:  # the record keeps the unserved entry as planned
        assert plans.load_plan(s, plan_run_id=out.plan_run_id).unserved == plan.unserved
    with session_scope(engine) as s:
        o1 = s.exec(select(m.OrderLine).where(m.OrderLine.external_id == "O1")).one()
        assert (o1.status, o1.planned_for) == (OrderStatus.OPEN, None)  # comes back on a day with a window
        assert [
            o.external_id for o in build_problem(s, date=DAY + dt.timedelta(days=1), timezone=TZ).orders
        ] == [
            "O1",
            "O4",
        ]


@pytest.mark.parametrize("how", ["date", "weekday"])
def test_a_closed_facility_gets_nothing_that_day_not_even_stat(
    engine: sa.Engine, tiny: dict[str, int], how: str
) -> None:
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
        when = {"date": DAY} if how == "date" else {"weekday": DAY.weekday()}
        repo.add_facility_closure(s, facility_external_id="140001", reason="flu outbreak", who="test", **when)
    with Session(engine) as s:
        problem = build_problem(s, date=DAY, timezone=TZ)
        other_week = build_problem(s, date=DAY + dt.timedelta(days=1), timezone=TZ)
    assert [o.external_id for o in problem.orders] == ["O3"]
    (held,) = problem.held
    assert held.reason == "closed on Tuesday 2026-12-01: flu outbreak"
    assert sorted(held.order_line_ids) == sorted([tiny["O1"], tiny["O2"]])
    assert other_week.held == ()  # Wednesday: open again

    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    assert _stops_at(out.result.plan, tiny["fa"]) == []
    assert out.summary["unserved"] == [
        {"facility": "Alpha Care", "reason": "closed on Tuesday 2026-12-01: flu outbreak (2 order lines)"}
    ]


def test_closures_are_refused_without_exactly_one_of_date_or_weekday(
    session: Session, tiny: dict[str, int]
) -> None:
    with pytest.raises(BadInput, match="either a date or a weekday"):
        repo.add_facility_closure(session, facility_external_id="140001", who="t")
    with pytest.raises(BadInput, match="no facility with external id 'nope'"):
        repo.add_facility_closure(session, facility_external_id="nope", date=DAY, who="t")
    with pytest.raises(sa.exc.IntegrityError):  # the database refuses both at once too
        session.add(m.FacilityClosure(facility_id=tiny["fa"], date=DAY, weekday=1))
        session.flush()


def test_a_day_with_every_line_held_says_why(engine: sa.Engine, tiny: dict[str, int]) -> None:
    with session_scope(engine) as s:
        repo.add_facility_closure(s, facility_external_id="140001", date=DAY, who="t")
        repo.add_facility_closure(s, facility_external_id="SYN-ALF-0001", date=DAY, who="t")
    with pytest.raises(
        BadInput, match=r"nothing to plan for 2026-12-01: every order line is held \(Alpha Care"
    ):
        service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)


def test_cli_closes_lists_and_reopens_a_facility(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db.engine import make_engine

    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    with session_scope(eng) as s:
        s.add(m.Facility(external_id="F1", name="Maple", kind="skilled_nursing", lat=41.9, lon=-87.6))
    eng.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    try:
        assert main(["facilities", "close", "F1", "--weekday", "sun", "--reason", "no Sunday staff"]) == 0
        assert main(["facilities", "close", "F1", "--date", "2026-12-25"]) == 0
        capsys.readouterr()
        assert main(["facilities", "closures"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "F1 Maple: closed 2026-12-25",
            "F1 Maple: closed every Sunday (no Sunday staff)",
        ]
        assert main(["facilities", "close", "F1", "--weekday", "funday"]) == 2
        assert "'funday' is not a weekday" in capsys.readouterr().err
        assert main(["facilities", "reopen", "F1", "--date", "2026-12-25"]) == 0
        assert main(["facilities", "reopen", "F1", "--date", "2026-12-25"]) == 2
        capsys.readouterr()
        assert main(["facilities", "closures"]) == 0
        assert capsys.readouterr().out.splitlines() == ["F1 Maple: closed every Sunday (no Sunday staff)"]
    finally:
        get_settings.cache_clear()
