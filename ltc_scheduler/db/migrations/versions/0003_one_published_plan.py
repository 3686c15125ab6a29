"""one published plan per date, one plan in progress per date, who is planning

Adds ``plan_run.host``, ``pid``, ``base_run_id``, ``finished_at`` and ``publish_note``, and two
partial unique indexes on ``plan_run(date)``: one for published runs (``uq_plan_run_published_date``)
and one for runs in progress (``uq_plan_run_running_date``).

Existing rows are tidied first so the indexes can be created: where a date has more than one
published run (possible before this revision on PostgreSQL), only the newest stays published; a
run left ``running`` is marked ``failed`` (no run can be in progress while the schema changes).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_run = sa.table(
    "plan_run",
    sa.column("id", sa.Integer()),
    sa.column("date", sa.Date()),
    sa.column("published", sa.Boolean()),
    sa.column("status", sa.String()),
    sa.column("error", sa.Text()),
)


def _tidy() -> None:
    """Keep the newest published run per date; fail runs left running."""
    conn = op.get_bind()
    newest = (
        sa.select(_run.c.date, sa.func.max(_run.c.id).label("keep"))
        .where(_run.c.published.is_(True))
        .group_by(_run.c.date)
    )
    for date, keep in conn.execute(newest).all():
        conn.execute(
            sa.update(_run)
            .where(_run.c.date == date, _run.c.published.is_(True), _run.c.id != keep)
            .values(published=False)
        )
    conn.execute(
        sa.update(_run)
        .where(_run.c.status == "running")
        .values(status="failed", error="interrupted: still running when the database was upgraded")
    )


def upgrade() -> None:
    # plain ALTER TABLE, never a batch (copy-and-rename) operation: on SQLite with foreign keys on,
    # dropping the old plan_run table would cascade-delete every batch, route and stop
    op.add_column("plan_run", sa.Column("host", sa.String(length=255), nullable=True))
    op.add_column("plan_run", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("plan_run", sa.Column("base_run_id", sa.Integer(), nullable=True))
    op.add_column("plan_run", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plan_run", sa.Column("publish_note", sa.Text(), nullable=True))
    _tidy()
    op.create_index(
        "uq_plan_run_published_date",
        "plan_run",
        ["date"],
        unique=True,
        postgresql_where=sa.text("published"),
        sqlite_where=sa.text("published = 1"),
    )
    op.create_index(
        "uq_plan_run_running_date",
        "plan_run",
        ["date"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
        sqlite_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_index("uq_plan_run_running_date", table_name="plan_run")
    op.drop_index("uq_plan_run_published_date", table_name="plan_run")
    for column in ("publish_note", "finished_at", "base_run_id", "pid", "host"):
        op.drop_column("plan_run", column)  # ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), no copy
