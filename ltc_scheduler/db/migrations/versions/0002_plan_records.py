"""plan records: each plan run keeps the master data it planned against

Creates ``plan_depot``, ``plan_facility``, ``plan_vehicle``, ``plan_line`` and
``plan_pharmacist_shift`` and adds ``plan_run.timezone`` / ``plan_run.minutes_per_card``.

Runs already in the database (made under 0001, which kept no copy) are backfilled from the master
data **as it is at upgrade time**: the first depot, the active facilities with the windows of the
run's weekday, vehicles, packaging lines and pharmacist shifts, plus any inactive row a run's
batches, routes or stops point at. The time zone comes from the run's snapshot (``LTC_TIMEZONE``
when it has none); minutes per card from the run's constraint-set version.

This file reads and writes through its own table definitions, never through ``db/models.py``, so it
keeps working when the models move on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:23:14.567226
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_depot",
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("open_min", sa.Integer(), nullable=False),
        sa.Column("close_min", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_run_id"),
    )
    op.create_table(
        "plan_facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "skilled_nursing",
                "nursing_facility",
                "assisted_living",
                name="ck_plan_facility_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=420), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("service_fixed_min", sa.Integer(), nullable=False),
        sa.Column("service_per_tote_min", sa.Float(), nullable=False),
        sa.Column("has_fridge", sa.Boolean(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_run_id", "facility_id", name="uq_plan_facility"),
    )
    with op.batch_alter_table("plan_facility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_facility_plan_run_id"), ["plan_run_id"], unique=False)

    op.create_table(
        "plan_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("cards_per_hour", sa.Integer(), nullable=False),
        sa.Column("changeover_kind_min", sa.Integer(), nullable=False),
        sa.Column("changeover_facility_min", sa.Integer(), nullable=False),
        sa.Column("available", sa.JSON(), nullable=False),
        sa.Column("downtime", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_run_id", "line_id", name="uq_plan_line"),
    )
    with op.batch_alter_table("plan_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_line_plan_run_id"), ["plan_run_id"], unique=False)

    op.create_table(
        "plan_pharmacist_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_pharmacist_shift", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_pharmacist_shift_plan_run_id"), ["plan_run_id"], unique=False
        )

    op.create_table(
        "plan_vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("tote_capacity", sa.Integer(), nullable=False),
        sa.Column("cold_capacity", sa.Integer(), nullable=False),
        sa.Column("controlled_ok", sa.Boolean(), nullable=False),
        sa.Column("shift_start_min", sa.Integer(), nullable=False),
        sa.Column("shift_end_min", sa.Integer(), nullable=False),
        sa.Column("max_route_min", sa.Integer(), nullable=False),
        sa.Column("fixed_cost", sa.Integer(), nullable=False),
        sa.Column("break_min", sa.Integer(), nullable=False),
        sa.Column("break_start_min", sa.Integer(), nullable=True),
        sa.Column("break_end_min", sa.Integer(), nullable=True),
        sa.Column("max_trips", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_run_id", "vehicle_id", name="uq_plan_vehicle"),
    )
    with op.batch_alter_table("plan_vehicle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_vehicle_plan_run_id"), ["plan_run_id"], unique=False)

    with op.batch_alter_table("plan_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("minutes_per_card", sa.Float(), nullable=True))

    _backfill(op.get_bind())


def downgrade() -> None:
    # Not a batch (copy-and-rename) operation: on SQLite with foreign keys on, dropping the old
    # plan_run table would cascade-delete every batch, route and stop. ALTER TABLE ... DROP COLUMN
    # (SQLite 3.35+) keeps the rows.
    op.drop_column("plan_run", "minutes_per_card")
    op.drop_column("plan_run", "timezone")

    with op.batch_alter_table("plan_vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_vehicle_plan_run_id"))

    op.drop_table("plan_vehicle")
    with op.batch_alter_table("plan_pharmacist_shift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_pharmacist_shift_plan_run_id"))

    op.drop_table("plan_pharmacist_shift")
    with op.batch_alter_table("plan_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_line_plan_run_id"))

    op.drop_table("plan_line")
    with op.batch_alter_table("plan_facility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_facility_plan_run_id"))

    op.drop_table("plan_facility")
    op.drop_table("plan_depot")


# --------------------------------------------------------------------------- backfill of 0001 runs

_run = sa.table(
    "plan_run",
    sa.column("id", sa.Integer),
    sa.column("date", sa.Date),
    sa.column("status", sa.String),
    sa.column("constraint_set_version", sa.Integer),
    sa.column("snapshot", sa.JSON),
    sa.column("timezone", sa.String),
    sa.column("minutes_per_card", sa.Float),
)
_cs = sa.table(
    "constraint_set",
    sa.column("version", sa.Integer),
    sa.column("minutes_per_card", sa.Float),
    sa.column("is_current", sa.Boolean),
)
_depot = sa.table(
    "depot",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("address", sa.String),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("open_min", sa.Integer),
    sa.column("close_min", sa.Integer),
)
_facility = sa.table(
    "facility",
    *(sa.column(c) for c in ("id", "external_id", "name", "kind", "address", "city", "lat", "lon", "beds")),
    *(sa.column(c) for c in ("service_fixed_min", "service_per_tote_min", "has_fridge", "active")),
)
_window = sa.table(
    "facility_window",
    *(sa.column(c) for c in ("facility_id", "weekday", "start_min", "end_min")),
)
_resident = sa.table("resident", sa.column("facility_id"), sa.column("unit"))
_vehicle = sa.table(
    "vehicle",
    *(
        sa.column(c)
        for c in (
            "id",
            "name",
            "depot_id",
            "tote_capacity",
            "cold_capacity",
            "controlled_ok",
            "shift_start_min",
            "shift_end_min",
            "max_route_min",
            "fixed_cost",
            "break_min",
            "break_start_min",
            "break_end_min",
            "max_trips",
            "active",
        )
    ),
)
_line = sa.table(
    "packaging_line",
    *(
        sa.column(c)
        for c in (
            "id",
            "name",
            "kinds",
            "cards_per_hour",
            "changeover_kind_min",
            "changeover_facility_min",
            "available_start_min",
            "available_end_min",
            "active",
        )
    ),
    sa.column("downtime", sa.JSON),
)
_shift = sa.table(
    "pharmacist_shift", *(sa.column(c) for c in ("id", "name", "start_min", "end_min", "active"))
)
_batch = sa.table("plan_batch", sa.column("plan_run_id"), sa.column("facility_id"), sa.column("line_id"))
_route = sa.table("plan_route", sa.column("plan_run_id"), sa.column("vehicle_id"))
_stop = sa.table("plan_stop", sa.column("plan_run_id"), sa.column("facility_id"))
_unassigned = sa.table("plan_unassigned", sa.column("plan_run_id"), sa.column("facility_id"))

_plan_depot = sa.table(
    "plan_depot",
    *(sa.column(c) for c in ("plan_run_id", "depot_id", "name", "address", "lat", "lon")),
    sa.column("open_min"),
    sa.column("close_min"),
)
_plan_facility = sa.table(
    "plan_facility",
    *(sa.column(c) for c in ("plan_run_id", "seq", "facility_id", "external_id", "name", "kind")),
    *(sa.column(c) for c in ("address", "lat", "lon", "beds", "service_fixed_min", "service_per_tote_min")),
    sa.column("has_fridge"),
    sa.column("windows", sa.JSON),
    sa.column("units", sa.JSON),
)
_plan_vehicle = sa.table(
    "plan_vehicle",
    *(
        sa.column(c)
        for c in (
            "plan_run_id",
            "seq",
            "vehicle_id",
            "name",
            "depot_id",
            "tote_capacity",
            "cold_capacity",
            "controlled_ok",
            "shift_start_min",
            "shift_end_min",
            "max_route_min",
            "fixed_cost",
            "break_min",
            "break_start_min",
            "break_end_min",
            "max_trips",
        )
    ),
)
_plan_line = sa.table(
    "plan_line",
    *(
        sa.column(c)
        for c in (
            "plan_run_id",
            "seq",
            "line_id",
            "name",
            "kinds",
            "cards_per_hour",
            "changeover_kind_min",
            "changeover_facility_min",
        )
    ),
    sa.column("available", sa.JSON),
    sa.column("downtime", sa.JSON),
)
_plan_shift = sa.table(
    "plan_pharmacist_shift", *(sa.column(c) for c in ("plan_run_id", "seq", "name", "start_min", "end_min"))
)


def _merged(windows: list[tuple[int, int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def _ids(conn: sa.Connection, column: Any, run_column: Any, run_id: int) -> set[int]:
    return {
        int(x) for x in conn.execute(sa.select(column).where(run_column == run_id)).scalars() if x is not None
    }


def _default_timezone() -> str:
    from ltc_scheduler.config import get_settings

    return get_settings().timezone


def _backfill(conn: sa.Connection) -> None:
    runs = list(conn.execute(sa.select(_run).where(_run.c.status == "completed").order_by(_run.c.id)))
    if not runs:
        return
    depot = conn.execute(sa.select(_depot).order_by(_depot.c.id).limit(1)).first()
    mpc_by_version = {
        int(v): float(x) for v, x in conn.execute(sa.select(_cs.c.version, _cs.c.minutes_per_card))
    }
    current = conn.execute(
        sa.select(_cs.c.minutes_per_card).order_by(_cs.c.is_current.desc(), _cs.c.version.desc()).limit(1)
    ).scalar()
    facilities = {int(f.id): f for f in conn.execute(sa.select(_facility).order_by(_facility.c.id))}
    windows: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for fid, weekday, start, end in conn.execute(sa.select(_window)):
        windows[(int(fid), int(weekday))].append((int(start), int(end)))
    units: dict[int, set[str]] = defaultdict(set)
    for fid, unit in conn.execute(sa.select(_resident.c.facility_id, _resident.c.unit).distinct()):
        if unit:
            units[int(fid)].add(str(unit))
    vehicles = {int(v.id): v for v in conn.execute(sa.select(_vehicle).order_by(_vehicle.c.id))}
    lines = {int(x.id): x for x in conn.execute(sa.select(_line).order_by(_line.c.id))}
    shifts = list(
        conn.execute(
            sa.select(_shift).where(_shift.c.active.is_(True)).order_by(_shift.c.start_min, _shift.c.id)
        )
    )
    for run in runs:
        run_id = int(run.id)
        snapshot = run.snapshot or {}
        tz = str(snapshot.get("timezone") or _default_timezone())
        mpc = mpc_by_version.get(int(run.constraint_set_version or -1), current)
        conn.execute(
            sa.update(_run)
            .where(_run.c.id == run_id)
            .values(timezone=tz, minutes_per_card=float(mpc) if mpc is not None else 0.08)
        )
        if depot is not None:
            conn.execute(
                sa.insert(_plan_depot).values(
                    plan_run_id=run_id,
                    depot_id=depot.id,
                    name=depot.name,
                    address=depot.address or "",
                    lat=depot.lat,
                    lon=depot.lon,
                    open_min=depot.open_min,
                    close_min=depot.close_min,
                )
            )
        run_date = run.date if isinstance(run.date, dt.date) else dt.date.fromisoformat(str(run.date))
        used_f = (
            _ids(conn, _batch.c.facility_id, _batch.c.plan_run_id, run_id)
            | _ids(conn, _stop.c.facility_id, _stop.c.plan_run_id, run_id)
            | _ids(conn, _unassigned.c.facility_id, _unassigned.c.plan_run_id, run_id)
        )
        f_rows = [f for fid, f in facilities.items() if f.active or fid in used_f]
        if f_rows:
            conn.execute(
                sa.insert(_plan_facility),
                [
                    {
                        "plan_run_id": run_id,
                        "seq": i,
                        "facility_id": int(f.id),
                        "external_id": f.external_id,
                        "name": f.name,
                        "kind": f.kind,
                        "address": ", ".join(x for x in (f.address, f.city) if x),
                        "lat": f.lat,
                        "lon": f.lon,
                        "beds": f.beds,
                        "service_fixed_min": f.service_fixed_min,
                        "service_per_tote_min": f.service_per_tote_min,
                        "has_fridge": bool(f.has_fridge),
                        "windows": _merged(windows.get((int(f.id), run_date.weekday()), [])),
                        "units": sorted(units.get(int(f.id), ())),
                    }
                    for i, f in enumerate(f_rows)
                ],
            )
        used_v = _ids(conn, _route.c.vehicle_id, _route.c.plan_run_id, run_id)
        v_rows = [v for vid, v in vehicles.items() if v.active or vid in used_v]
        if v_rows:
            conn.execute(
                sa.insert(_plan_vehicle),
                [
                    {
                        "plan_run_id": run_id,
                        "seq": i,
                        "vehicle_id": int(v.id),
                        **{c: getattr(v, c) for c in _VEHICLE_COPIED},
                        "controlled_ok": bool(v.controlled_ok),
                    }
                    for i, v in enumerate(v_rows)
                ],
            )
        used_l = _ids(conn, _batch.c.line_id, _batch.c.plan_run_id, run_id)
        l_rows = [x for lid, x in lines.items() if x.active or lid in used_l]
        if l_rows:
            conn.execute(
                sa.insert(_plan_line),
                [
                    {
                        "plan_run_id": run_id,
                        "seq": i,
                        "line_id": int(x.id),
                        "name": x.name,
                        "kinds": x.kinds,
                        "cards_per_hour": x.cards_per_hour,
                        "changeover_kind_min": x.changeover_kind_min,
                        "changeover_facility_min": x.changeover_facility_min,
                        "available": [[int(x.available_start_min), int(x.available_end_min)]],
                        "downtime": [[int(a), int(b)] for a, b in (x.downtime or [])],
                    }
                    for i, x in enumerate(l_rows)
                ],
            )
        if shifts:
            conn.execute(
                sa.insert(_plan_shift),
                [
                    {
                        "plan_run_id": run_id,
                        "seq": i,
                        "name": s.name,
                        "start_min": s.start_min,
                        "end_min": s.end_min,
                    }
                    for i, s in enumerate(shifts)
                ],
            )


_VEHICLE_COPIED = (
    "name",
    "depot_id",
    "tote_capacity",
    "cold_capacity",
    "shift_start_min",
    "shift_end_min",
    "max_route_min",
    "fixed_cost",
    "break_min",
    "break_start_min",
    "break_end_min",
    "max_trips",
)
