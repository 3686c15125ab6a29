"""Migration 0004 (order life): the widened status CHECK, ``order_line.planned_for`` backfilled from
the published plans, ``facility_closure``; every row survives the upgrade and the downgrade (on
SQLite the ``order_line`` table is rebuilt by batch mode).

Runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db.engine import alembic_config, current_revision, init_db, session_scope

#: solver seconds per plan: enough for the tiny day even on a loaded machine
LIMIT = 3
DAY = dt.date(2026, 12, 1)
TABLES = (
    "facility",
    "facility_window",
    "resident",
    "medication",
    "order_line",
    "plan_run",
    "plan_batch",
    "plan_route",
    "plan_stop",
    "plan_unassigned",
    "plan_facility",
    "audit_event",
)


@pytest.fixture(autouse=True)
def _clock_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def _lines(engine: sa.Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT external_id, status, cards, need_by FROM order_line")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _migrate(engine: sa.Engine, how: str, rev: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, rev)


def test_0004_down_and_up_keeps_every_row_and_backfills_planned_for(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    before, lines_before = _counts(engine), _lines(engine)
    assert before["plan_stop"] >= 1 and before["order_line"] == 5
    assert lines_before["O1"][0] == "planned" and lines_before["O5"][0] == "delivered"

    _migrate(engine, "downgrade", "0003")
    assert current_revision(engine) == "0003"
    assert "facility_closure" not in sa.inspect(engine).get_table_names()
    assert "planned_for" not in {c["name"] for c in sa.inspect(engine).get_columns("order_line")}
    assert _counts(engine) == before and _lines(engine) == lines_before
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # 0003 does not know the status
        conn.execute(sa.text("UPDATE order_line SET status = 'exception' WHERE external_id = 'O4'"))

    init_db(engine)  # back to head
    assert current_revision(engine) == "0004"
    assert _counts(engine) == before and _lines(engine) == lines_before
    with engine.connect() as conn:
        planned_for = dict(conn.execute(sa.text("SELECT external_id, planned_for FROM order_line")).all())
    # placed by the published 12-01 plan: planned for that date; the others have none
    assert {k: v for k, v in planned_for.items() if v is not None} == {
        "O1": planned_for["O1"],
        "O2": planned_for["O2"],
        "O3": planned_for["O3"],
    }
    assert str(planned_for["O1"]) == "2026-12-01"

    with engine.begin() as conn:  # the widened CHECK takes the new statuses ...
        conn.execute(sa.text("UPDATE order_line SET status = 'out_for_delivery' WHERE external_id = 'O1'"))
        conn.execute(sa.text("UPDATE order_line SET status = 'exception' WHERE external_id = 'O4'"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # ... and still refuses others
        conn.execute(sa.text("UPDATE order_line SET status = 'lost' WHERE external_id = 'O4'"))

    # downgrading with the new statuses in use maps them onto the old ones, losing no row
    _migrate(engine, "downgrade", "0003")
    assert _counts(engine) == before
    assert _lines(engine)["O1"][0] == "packed" and _lines(engine)["O4"][0] == "open"
