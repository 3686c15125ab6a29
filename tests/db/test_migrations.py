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
    assert current_revision(empty_engine) == head_revision() == "0002"
    assert set(sa.inspect(empty_engine).get_table_names()) == EXPECTED_TABLES
    init_db(empty_engine)  # idempotent
    assert current_revision(empty_engine) == "0002"


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
