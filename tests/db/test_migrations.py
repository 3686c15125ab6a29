"""Alembic: an empty database upgrades to head; the head migration matches the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import ltc_scheduler.db.models as m
from ltc_scheduler.db.engine import (
    alembic_config,
    current_revision,
    head_revision,
    init_db,
    make_engine,
    session_scope,
)

EXPECTED_TABLES = {
    "alembic_version",
    "audit_event",
    "constraint_set",
    "depot",
    "facility",
    "facility_closure",
    "facility_window",
    "medication",
    "order_line",
    "packaging_line",
    "pharmacist_shift",
    "plan_batch",
    "plan_depot",
    "plan_facility",
    "plan_line",
    "plan_pharmacist_shift",
    "plan_route",
    "plan_run",
    "plan_stop",
    "plan_unassigned",
    "plan_vehicle",
    "resident",
    "vehicle",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> sa.Engine:
    """An empty, un-migrated database (PostgreSQL only with LTC_TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield eng
        eng.dispose()
    else:
        yield request.getfixturevalue("empty_pg_engine")


def _diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, SQLModel.metadata)


def test_upgrade_empty_database_to_head(empty_engine: sa.Engine) -> None:
    assert current_revision(empty_engine) is None
    init_db(empty_engine)
    assert current_revision(empty_engine) == head_revision() == "0004"
    assert set(sa.inspect(empty_engine).get_table_names()) == EXPECTED_TABLES
    init_db(empty_engine)  # idempotent
    assert current_revision(empty_engine) == "0004"


def test_models_match_head_migration(empty_engine: sa.Engine) -> None:
    """Fails when a model changes without a new migration (alembic autogenerate finds a difference)."""
    init_db(empty_engine)
    assert _diff(empty_engine) == []


def test_autogenerate_would_notice_a_model_change(sqlite_engine: sa.Engine) -> None:
    col = sa.Column("colour", sa.String(20), nullable=True)
    m.Vehicle.__table__.append_column(col)
    try:
        diff = _diff(sqlite_engine)
    finally:
        m.Vehicle.__table__._columns.remove(col)
    assert [(d[0], d[3].name) for d in diff] == [("add_column", "colour")]
    assert _diff(sqlite_engine) == []


def test_upgrade_keeps_existing_data(sqlite_engine: sa.Engine) -> None:
    with session_scope(sqlite_engine) as s:
        s.add(m.Depot(name="Kept", lat=1.0, lon=2.0))
    init_db(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        assert [d.name for d in s.exec(sa.select(m.Depot)).scalars()] == ["Kept"]


def test_downgrade_to_base_and_back(sqlite_engine: sa.Engine) -> None:
    cfg = alembic_config(sqlite_engine)
    with sqlite_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(sa.inspect(sqlite_engine).get_table_names()) == {"alembic_version"}
    init_db(sqlite_engine)
    assert set(sa.inspect(sqlite_engine).get_table_names()) == EXPECTED_TABLES


SNAPSHOT_TABLES = {"plan_depot", "plan_facility", "plan_line", "plan_pharmacist_shift", "plan_vehicle"}
#: tables a later migration than 0001 adds (besides the plan records)
LATER_TABLES = {"facility_closure"}


def _counts(engine: sa.Engine, tables: set[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in sorted(tables)}


def test_upgrading_a_0001_database_with_a_published_plan_keeps_it_loadable_and_exportable(
    engine: sa.Engine, tiny: dict[str, int], tmp_path: Path
) -> None:
    """A database at 0001 holding master data and a published plan upgrades to head: every row is
    kept, the run is backfilled from the master data as it is at upgrade time, and it loads and
    exports. (The 0001 database is made by planning at head and downgrading, which must keep the
    rows too.)"""
    import datetime as dt

    from ltc_scheduler import service
    from ltc_scheduler.db import plans
    from ltc_scheduler.exports.manifest_pdf import manifest_pdf
    from ltc_scheduler.exports.stops_csv import stops_csv

    day = dt.date(2026, 12, 1)
    with session_scope(engine) as s:  # the tiny day's vial needs a line that makes vials
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    outcome = service.plan_date(engine, date=day, started_by="old", time_limit_s=1)
    with session_scope(engine) as s:
        before = plans.load_plan_record(s, plan_run_id=outcome.plan_run_id)
    assert before.plan.routes, "the tiny day must have at least one route"
    kept = set(EXPECTED_TABLES) - SNAPSHOT_TABLES - LATER_TABLES - {"alembic_version"}
    rows_before = _counts(engine, kept)
    assert rows_before["plan_stop"] >= 1 and rows_before["order_line"] == 5

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(engine) == "0001"
    assert set(sa.inspect(engine).get_table_names()) == set(EXPECTED_TABLES) - SNAPSHOT_TABLES - LATER_TABLES
    assert "timezone" not in {c["name"] for c in sa.inspect(engine).get_columns("plan_run")}
    assert _counts(engine, kept) == rows_before

    # master data changes while the database is still at 0001: the backfill sees today's rows
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE vehicle SET name = 'Van 1 (upgraded)' WHERE name = 'Van 1'"))
    init_db(engine)
    assert current_revision(engine) == "0004"
    assert _counts(engine, kept) == rows_before
    assert _counts(engine, SNAPSHOT_TABLES) == {
        "plan_depot": 1,
        "plan_facility": 2,
        "plan_line": 2,
        "plan_pharmacist_shift": 1,
        "plan_vehicle": 2,
    }
    assert _diff(engine) == []

    with session_scope(engine) as s:
        after = plans.load_plan_record(s, plan_run_id=outcome.plan_run_id)
        assert after.run.published is True
    assert after.plan == before.plan
    assert after.problem.timezone == "America/Chicago"
    assert after.problem.verification == before.problem.verification
    assert after.problem.facilities == before.problem.facilities
    assert after.problem.lines == before.problem.lines
    assert after.problem.depot == before.problem.depot
    assert after.problem.orders == before.problem.orders
    assert [v.name for v in after.problem.vehicles] == ["Van 1 (upgraded)", "Van 2"]
    assert after.problem.settings == before.problem.settings
    csv_text = stops_csv(after.plan, after.problem)
    assert csv_text.count("\n") == 1 + sum(len(r.stops) for r in after.plan.routes)
    first_stop = after.problem.facility(after.plan.routes[0].stops[0].facility_id)
    assert first_stop.name in csv_text
    assert manifest_pdf(after.plan, after.problem, 1).startswith(b"%PDF")


def test_upgrading_to_0003_keeps_the_newest_published_run_per_date_and_fails_running_ones(
    engine: sa.Engine,
) -> None:
    """Before 0003, PostgreSQL could publish two runs for one date; the upgrade keeps the newest
    published and marks runs left ``running`` failed, so the new unique indexes can be created."""
    from ltc_scheduler.db.engine import downgrade_db

    downgrade_db(engine, "0002")
    rows = [
        ("2026-12-01", "completed", True),
        ("2026-12-01", "completed", True),
        ("2026-12-01", "running", False),
        ("2026-12-02", "completed", True),
    ]
    with engine.begin() as conn:
        for date, status, published in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO plan_run (date, status, published, settings, stats, kpis, plan_extra, "
                    "snapshot, valid, violations, created_at, started_by) VALUES (:d, :s, :p, '{}', '{}', "
                    "'{}', '{}', '{}', :v, '[]', CURRENT_TIMESTAMP, 'old')"
                ),
                {"d": date, "s": status, "p": published, "v": True},
            )
    init_db(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT id, date, status, published, error FROM plan_run ORDER BY id")
        ).all()
    assert [(r[0], str(r[1]), r[2], bool(r[3])) for r in got] == [
        (1, "2026-12-01", "completed", False),
        (2, "2026-12-01", "completed", True),
        (3, "2026-12-01", "failed", False),
        (4, "2026-12-02", "completed", True),
    ]
    assert got[2][4] == "interrupted: still running when the database was upgraded"
    assert _diff(engine) == []
