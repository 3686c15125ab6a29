"""Input that leaves nothing to plan with exits 2 with a sentence saying what to change (issue 10,
finding 9): settings read from the database are checked by the Constraints form's rules
(``db/constraints.py``), no active vehicle, no packaging line open that day.

Runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, PostgreSQL (the CLI test: SQLite).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler import service
from ltc_scheduler.db import constraints
from ltc_scheduler.db import models as m
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem.builder import build_problem

DAY = dt.date(2026, 12, 1)
TZ = "America/Chicago"


@pytest.fixture(autouse=True)
def _clock_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))


def _store_settings(engine: sa.Engine, **values) -> None:
    """Write setting values straight into the current constraint set (as a DB edit would)."""
    with session_scope(engine) as s:
        cs = s.exec(select(m.ConstraintSet).where(m.ConstraintSet.is_current.is_(True))).one()
        cs.settings = {**(cs.settings or {}), **values}
        s.add(cs)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"cards_per_tote": 0},
            "Cards per tote (cards_per_tote) must be a whole number between 1 and 1000 (got 0)",
        ),
        (
            {"time_limit_s": "fast"},
            "Solver time limit (s) (time_limit_s) must be a number at least 1 and at most 600 (got 'fast')",
        ),
        (
            {"max_batch_cards": 2.5},
            "Max cards per batch (max_batch_cards) must be a whole number between 1 and 5000",
        ),
        ({"coupling_iterations": "many"}, "Coupling rounds (coupling_iterations)"),
    ],
)
def test_bad_stored_settings_stop_planning_with_the_setting_named(
    engine: sa.Engine, tiny: dict[str, int], values: dict, message: str
) -> None:
    _store_settings(engine, **values)
    with pytest.raises(BadInput) as err:
        service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    text = str(err.value)
    assert "The current constraint set (version 1) has settings that cannot be planned with" in text
    assert "Change them on the Constraints page (Settings)" in text
    assert message in text
    # nothing was published
    with session_scope(engine) as s:
        assert s.exec(select(m.PlanRun).where(m.PlanRun.published.is_(True))).first() is None


def test_the_form_and_the_builder_share_one_rule(session: Session, tiny: dict[str, int]) -> None:
    clean, errors = constraints.check_settings({"cards_per_tote": "0", "stat_weight": "5"})
    assert clean == {"stat_weight": 5}
    assert [(e.column, e.message) for e in errors] == [
        ("cards_per_tote", "must be a whole number between 1 and 1000 (got '0')")
    ]
    with pytest.raises(BadInput, match="cards_per_tote: must be a whole number between 1 and 1000"):
        constraints.update_settings(session, values={"cards_per_tote": 0}, who="t")
    # a bad minutes-per-card straight in the database is caught too
    session.execute(sa.update(m.ConstraintSet).values(minutes_per_card=50))
    session.commit()
    with pytest.raises(
        BadInput, match=r"minutes_per_card\) must be a number more than 0 and at most 10 \(got 50"
    ):
        build_problem(session, date=DAY, timezone=TZ)


def test_no_active_vehicle_says_what_to_change(engine: sa.Engine, tiny: dict[str, int]) -> None:
    with session_scope(engine) as s:
        s.execute(sa.update(m.Vehicle).values(active=False))
    with pytest.raises(BadInput, match=r"No vehicle is active.*Constraints page \(Vehicles\)"):
        service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)


def test_no_packaging_line_open_that_day_says_what_to_change(engine: sa.Engine, tiny: dict[str, int]) -> None:
    with session_scope(engine) as s:  # the only line is down for its whole day
        s.execute(sa.update(m.PackagingLine).values(downtime=[[300, 700], [650, 1260]]))
    with pytest.raises(BadInput, match=r"No packaging line is open on 2026-12-01.*\(Packaging lines\)"):
        service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)
    with session_scope(engine) as s:
        s.execute(sa.update(m.PackagingLine).values(active=False))
    with pytest.raises(BadInput, match=r"No packaging line is active"):
        service.plan_date(engine, date=DAY, started_by="test", time_limit_s=1)


def test_cli_exits_2_with_the_sentence(
    engine: sa.Engine,
    tiny: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI reads DATABASE_URL; the PostgreSQL test schema is not reachable by URL")
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings

    _store_settings(engine, cards_per_tote=0)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert main(["plan", "--date", "2026-12-01", "--time-limit", "1"]) == 2
        err = capsys.readouterr().err
        assert "Cards per tote (cards_per_tote) must be a whole number between 1 and 1000 (got 0)" in err
        assert "internal error" not in err and "ZeroDivisionError" not in err
    finally:
        get_settings.cache_clear()
