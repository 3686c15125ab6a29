"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 03:19:36.073784
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("what", sa.String(length=100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_what"), ["what"], unique=False)

    op.create_table(
        "constraint_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("minutes_per_card", sa.Float(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.CheckConstraint("minutes_per_card > 0", name="ck_constraint_set_mpc"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("constraint_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_constraint_set_is_current"), ["is_current"], unique=False)
        batch_op.create_index(batch_op.f("ix_constraint_set_version"), ["version"], unique=True)

    op.create_table(
        "depot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("open_min", sa.Integer(), nullable=False),
        sa.Column("close_min", sa.Integer(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.CheckConstraint("close_min > open_min", name="ck_depot_hours"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "skilled_nursing",
                "nursing_facility",
                "assisted_living",
                name="ck_facility_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("zip", sa.String(length=10), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("service_fixed_min", sa.Integer(), nullable=False),
        sa.Column("service_per_tote_min", sa.Float(), nullable=False),
        sa.Column("cycle_weekday", sa.Integer(), nullable=False),
        sa.Column("cycle_length_days", sa.Integer(), nullable=False),
        sa.Column("cycle_anchor", sa.Date(), nullable=True),
        sa.Column("has_fridge", sa.Boolean(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("beds >= 0", name="ck_facility_beds"),
        sa.CheckConstraint("cycle_length_days IN (7, 14, 28)", name="ck_facility_cycle_length"),
        sa.CheckConstraint("cycle_weekday BETWEEN 0 AND 6", name="ck_facility_cycle_weekday"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_facility_coords"),
        sa.CheckConstraint("service_fixed_min >= 0", name="ck_facility_service_fixed"),
        sa.CheckConstraint("service_per_tote_min >= 0", name="ck_facility_service_per_tote"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("facility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facility_external_id"), ["external_id"], unique=True)

    op.create_table(
        "medication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ndc", sa.String(length=20), nullable=True),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.Column(
            "schedule",
            sa.Enum(
                "none",
                "II",
                "III",
                "IV",
                "V",
                name="ck_medication_schedule",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("refrigerated", sa.Boolean(), nullable=False),
        sa.Column(
            "packaging_kind",
            sa.Enum(
                "multi_dose_blister",
                "unit_dose_card",
                "strip_pouch",
                "vial_bottle",
                name="ck_medication_packaging_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("medication", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_medication_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_medication_ndc"), ["ndc"], unique=True)

    op.create_table(
        "packaging_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("cards_per_hour", sa.Integer(), nullable=False),
        sa.Column("changeover_kind_min", sa.Integer(), nullable=False),
        sa.Column("changeover_facility_min", sa.Integer(), nullable=False),
        sa.Column("available_start_min", sa.Integer(), nullable=False),
        sa.Column("available_end_min", sa.Integer(), nullable=False),
        sa.Column("downtime", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("available_end_min > available_start_min", name="ck_packaging_line_hours"),
        sa.CheckConstraint("cards_per_hour > 0", name="ck_packaging_line_rate"),
        sa.CheckConstraint(
            "changeover_kind_min >= 0 AND changeover_facility_min >= 0", name="ck_packaging_line_changeover"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "pharmacist_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("end_min > start_min", name="ck_pharmacist_shift_order"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "facility_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_min > start_min", name="ck_facility_window_order"),
        sa.CheckConstraint("start_min >= 0 AND end_min <= 2880", name="ck_facility_window_range"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_facility_window_weekday"),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("facility_window", schema=None) as batch_op:
        batch_op.create_index("ix_facility_window_facility_weekday", ["facility_id", "weekday"], unique=False)

    op.create_table(
        "plan_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "completed",
                "failed",
                name="ck_plan_run_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("constraint_set_version", sa.Integer(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("plan_extra", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["constraint_set_version"],
            ["constraint_set.version"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_run_date"), ["date"], unique=False)
        batch_op.create_index("ix_plan_run_date_published", ["date", "published"], unique=False)

    op.create_table(
        "resident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("room", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resident_external_id"), ["external_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_resident_facility_id"), ["facility_id"], unique=False)

    op.create_table(
        "vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
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
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("cold_capacity >= 0", name="ck_vehicle_cold"),
        sa.CheckConstraint("max_route_min > 0", name="ck_vehicle_max_route"),
        sa.CheckConstraint("max_trips >= 1", name="ck_vehicle_max_trips"),
        sa.CheckConstraint("shift_end_min > shift_start_min", name="ck_vehicle_shift"),
        sa.CheckConstraint("tote_capacity > 0", name="ck_vehicle_totes"),
        sa.ForeignKeyConstraint(
            ["depot_id"],
            ["depot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicle_depot_id"), ["depot_id"], unique=False)

    op.create_table(
        "order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("medication_id", sa.Integer(), nullable=False),
        sa.Column(
            "order_class",
            sa.Enum(
                "cycle_fill",
                "new_admission",
                "stat",
                "refill",
                "prn",
                "ekit_restock",
                name="ck_order_line_class",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.Column("cards", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("need_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "planned",
                "packed",
                "delivered",
                "cancelled",
                name="ck_order_line_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cards >= 1", name="ck_order_line_cards"),
        sa.CheckConstraint("doses >= 1", name="ck_order_line_doses"),
        sa.CheckConstraint("need_by >= received_at", name="ck_order_line_need_by_after_received"),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
        ),
        sa.ForeignKeyConstraint(
            ["medication_id"],
            ["medication.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["resident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_line_external_id"), ["external_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_order_line_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_medication_id"), ["medication_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_need_by"), ["need_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index("ix_order_line_status_need_by", ["status", "need_by"], unique=False)

    op.create_table(
        "plan_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "multi_dose_blister",
                "unit_dose_card",
                "strip_pouch",
                "vial_bottle",
                name="ck_plan_batch_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("order_line_ids", sa.JSON(), nullable=False),
        sa.Column("cards", sa.Integer(), nullable=False),
        sa.Column("totes", sa.Integer(), nullable=False),
        sa.Column("cold", sa.Boolean(), nullable=False),
        sa.Column("controlled", sa.Boolean(), nullable=False),
        sa.Column(
            "order_class",
            sa.Enum(
                "cycle_fill",
                "new_admission",
                "stat",
                "refill",
                "prn",
                "ekit_restock",
                name="ck_plan_batch_class",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("deadline_min", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("start_min", sa.Integer(), nullable=True),
        sa.Column("end_min", sa.Integer(), nullable=True),
        sa.Column("verify_start_min", sa.Integer(), nullable=True),
        sa.Column("verify_end_min", sa.Integer(), nullable=True),
        sa.CheckConstraint("cards >= 0 AND totes >= 0", name="ck_plan_batch_qty"),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["packaging_line.id"],
        ),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_run_id", "key", name="uq_plan_batch_key"),
    )
    with op.batch_alter_table("plan_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_batch_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_batch_plan_run_id"), ["plan_run_id"], unique=False)

    op.create_table(
        "plan_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("trip_no", sa.Integer(), nullable=False),
        sa.Column("depart_min", sa.Integer(), nullable=False),
        sa.Column("return_min", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("drive_s", sa.Integer(), nullable=False),
        sa.Column("break_start_min", sa.Integer(), nullable=True),
        sa.CheckConstraint("trip_no >= 1", name="ck_plan_route_trip"),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_route_plan_run_id"), ["plan_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_route_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "plan_unassigned",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("batch_keys", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
        ),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_unassigned", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_unassigned_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_unassigned_plan_run_id"), ["plan_run_id"], unique=False)

    op.create_table(
        "plan_stop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("arrival_min", sa.Integer(), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("departure_min", sa.Integer(), nullable=False),
        sa.Column("totes", sa.Integer(), nullable=False),
        sa.Column("cold_totes", sa.Integer(), nullable=False),
        sa.Column("controlled_totes", sa.Integer(), nullable=False),
        sa.Column("batch_keys", sa.JSON(), nullable=False),
        sa.Column("window_start_min", sa.Integer(), nullable=True),
        sa.Column("window_end_min", sa.Integer(), nullable=True),
        sa.Column("late_min", sa.Integer(), nullable=False),
        sa.Column("stat", sa.Boolean(), nullable=False),
        sa.CheckConstraint("seq >= 1", name="ck_plan_stop_seq"),
        sa.CheckConstraint(
            "totes >= 0 AND cold_totes >= 0 AND controlled_totes >= 0", name="ck_plan_stop_qty"
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
        ),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_run.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["route_id"], ["plan_route.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("route_id", "seq", name="uq_plan_stop_seq"),
    )
    with op.batch_alter_table("plan_stop", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_stop_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_stop_plan_run_id"), ["plan_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_stop_route_id"), ["route_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("plan_stop", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_stop_route_id"))
        batch_op.drop_index(batch_op.f("ix_plan_stop_plan_run_id"))
        batch_op.drop_index(batch_op.f("ix_plan_stop_facility_id"))

    op.drop_table("plan_stop")
    with op.batch_alter_table("plan_unassigned", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_unassigned_plan_run_id"))
        batch_op.drop_index(batch_op.f("ix_plan_unassigned_facility_id"))

    op.drop_table("plan_unassigned")
    with op.batch_alter_table("plan_route", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_route_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_plan_route_plan_run_id"))

    op.drop_table("plan_route")
    with op.batch_alter_table("plan_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_batch_plan_run_id"))
        batch_op.drop_index(batch_op.f("ix_plan_batch_facility_id"))

    op.drop_table("plan_batch")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index("ix_order_line_status_need_by")
        batch_op.drop_index(batch_op.f("ix_order_line_resident_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_need_by"))
        batch_op.drop_index(batch_op.f("ix_order_line_medication_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_facility_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_external_id"))

    op.drop_table("order_line")
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_depot_id"))

    op.drop_table("vehicle")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_facility_id"))
        batch_op.drop_index(batch_op.f("ix_resident_external_id"))

    op.drop_table("resident")
    with op.batch_alter_table("plan_run", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_run_date_published")
        batch_op.drop_index(batch_op.f("ix_plan_run_date"))

    op.drop_table("plan_run")
    with op.batch_alter_table("facility_window", schema=None) as batch_op:
        batch_op.drop_index("ix_facility_window_facility_weekday")

    op.drop_table("facility_window")
    op.drop_table("pharmacist_shift")
    op.drop_table("packaging_line")
    with op.batch_alter_table("medication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_medication_ndc"))
        batch_op.drop_index(batch_op.f("ix_medication_name"))

    op.drop_table("medication")
    with op.batch_alter_table("facility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facility_external_id"))

    op.drop_table("facility")
    op.drop_table("depot")
    with op.batch_alter_table("constraint_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_constraint_set_version"))
        batch_op.drop_index(batch_op.f("ix_constraint_set_is_current"))

    op.drop_table("constraint_set")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_what"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
