"""order life: wider order statuses, the date a line is planned for, facility closures

* ``order_line.status`` may also be ``out_for_delivery`` and ``exception`` (the CHECK constraint
  ``ck_order_line_status`` is rebuilt);
* ``order_line.planned_for``: the date whose published plan serves a ``planned`` line. Lines that
  are ``planned`` at upgrade time get the date of the newest published plan that placed them (on a
  packaging line and not left unserved), so a later date does not plan them again;
* ``facility_closure``: a facility closed on one date or on every one weekday.

On SQLite the ``order_line`` table is rebuilt by Alembic's batch mode (copy, drop, rename); no
table refers to ``order_line`` by a foreign key, so nothing cascades. This file reads and writes
through its own table definitions, never through ``db/models.py``.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("open", "planned", "packed", "delivered", "cancelled")
NEW_STATUSES = ("open", "planned", "packed", "out_for_delivery", "delivered", "cancelled", "exception")


def _status_type(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="ck_order_line_status", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=_status_type(OLD_STATUSES),
            type_=_status_type(NEW_STATUSES),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("planned_for", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_order_line_planned_for"), ["planned_for"], unique=False)

    op.create_table(
        "facility_closure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("(date IS NULL) <> (weekday IS NULL)", name="ck_facility_closure_date_or_weekday"),
        sa.CheckConstraint("weekday IS NULL OR weekday BETWEEN 0 AND 6", name="ck_facility_closure_weekday"),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("facility_closure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facility_closure_facility_id"), ["facility_id"], unique=False)

    _backfill_planned_for()


def _json_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


def _backfill_planned_for() -> None:
    """Planned lines get the date of the newest published run that placed them."""
    bind = op.get_bind()
    meta = sa.MetaData()
    run = sa.Table("plan_run", meta, sa.Column("id"), sa.Column("date", sa.Date()), sa.Column("published"))
    batch = sa.Table(
        "plan_batch",
        meta,
        sa.Column("plan_run_id"),
        sa.Column("key"),
        sa.Column("line_id"),
        sa.Column("order_line_ids"),
    )
    unassigned = sa.Table("plan_unassigned", meta, sa.Column("plan_run_id"), sa.Column("batch_keys"))
    order_line = sa.Table(
        "order_line", meta, sa.Column("id"), sa.Column("status"), sa.Column("planned_for", sa.Date())
    )
    runs = bind.execute(
        sa.select(run.c.id, run.c.date).where(run.c.published.is_(True)).order_by(run.c.id)
    ).all()
    date_of: dict[int, Any] = {}
    for run_id, date in runs:  # oldest first: a newer run's date wins
        left = set()
        for (keys,) in bind.execute(
            sa.select(unassigned.c.batch_keys).where(unassigned.c.plan_run_id == run_id)
        ):
            left.update(_json_list(keys))
        for key, line_id, ids in bind.execute(
            sa.select(batch.c.key, batch.c.line_id, batch.c.order_line_ids).where(
                batch.c.plan_run_id == run_id
            )
        ):
            if line_id is not None and key not in left:
                for i in _json_list(ids):
                    date_of[int(i)] = date
    by_date: dict[Any, list[int]] = {}
    for line_id, date in date_of.items():
        by_date.setdefault(date, []).append(line_id)
    for date, ids in by_date.items():
        ids.sort()
        for start in range(0, len(ids), 5000):
            bind.execute(
                sa.update(order_line)
                .where(order_line.c.id.in_(ids[start : start + 5000]), order_line.c.status == "planned")
                .values(planned_for=date)
            )


def downgrade() -> None:
    with op.batch_alter_table("facility_closure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facility_closure_facility_id"))
    op.drop_table("facility_closure")
    bind = op.get_bind()
    # the old constraint knows neither status: a line on the road counts as packed, a held one as open
    bind.execute(sa.text("UPDATE order_line SET status = 'packed' WHERE status = 'out_for_delivery'"))
    bind.execute(sa.text("UPDATE order_line SET status = 'open' WHERE status = 'exception'"))
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_line_planned_for"))
        batch_op.drop_column("planned_for")
        batch_op.alter_column(
            "status",
            existing_type=_status_type(NEW_STATUSES),
            type_=_status_type(OLD_STATUSES),
            existing_nullable=False,
        )
