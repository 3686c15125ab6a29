"""SQLModel tables: the pharmacy's day as rows.

Conventions:

* Times of day (windows, shifts, line hours) are integer minutes from local midnight, as in
  ``problem/model.py``. Instants (``received_at``, ``need_by``, ``created_at``) are UTC-aware
  timestamps (:class:`UTCDateTime`); the pharmacy time zone is only applied for display and by
  ``problem/builder.py``.
* Enums from :mod:`ltc_scheduler.enums` are stored as short strings with a CHECK constraint
  (``native_enum=False``), so SQLite and PostgreSQL hold the same schema.
* Every schema change goes through an Alembic migration (``db/migrations/versions``);
  ``tests/test_migrations.py`` fails when these models and the head migration differ.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from ltc_scheduler.enums import (
    ControlledSchedule,
    FacilityKind,
    OrderClass,
    OrderStatus,
    PackagingKind,
    PlanStatus,
)


def utcnow() -> dt.datetime:
    """The current instant, UTC-aware."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always UTC-aware in Python.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text. Naive datetimes are refused
    on the way in (they are ambiguous), aware ones are converted to UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store UTC-aware timestamps")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _enum(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR(32) + CHECK constraint named ``name``."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime(), **kw)


# --------------------------------------------------------------------------- master data


class Depot(SQLModel, table=True):
    """The pharmacy: where packaging happens and every route starts and ends."""

    __tablename__ = "depot"
    __table_args__ = (sa.CheckConstraint("close_min > open_min", name="ck_depot_hours"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    lat: float
    lon: float
    open_min: int = 6 * 60
    close_min: int = 22 * 60
    synthetic: bool = False


class Facility(SQLModel, table=True):
    """A nursing home or assisted-living facility the pharmacy delivers to."""

    __tablename__ = "facility"
    __table_args__ = (
        sa.CheckConstraint("beds >= 0", name="ck_facility_beds"),
        sa.CheckConstraint("cycle_weekday BETWEEN 0 AND 6", name="ck_facility_cycle_weekday"),
        sa.CheckConstraint("cycle_length_days IN (7, 14, 28)", name="ck_facility_cycle_length"),
        sa.CheckConstraint("service_fixed_min >= 0", name="ck_facility_service_fixed"),
        sa.CheckConstraint("service_per_tote_min >= 0", name="ck_facility_service_per_tote"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_facility_coords"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: the pharmacy system's id, e.g. the CMS certification number; re-imports update by it
    external_id: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: FacilityKind = Field(sa_type=_enum(FacilityKind, "ck_facility_kind"))
    address: str = Field(default="", max_length=300)
    city: str = Field(default="", max_length=100)
    state: str = Field(default="", max_length=20)
    zip: str = Field(default="", max_length=10)
    lat: float
    lon: float
    beds: int = 0
    service_fixed_min: int = 10
    service_per_tote_min: float = 1.0
    #: weekday of the cycle fill (0 = Monday) and cycle length in days
    cycle_weekday: int = 0
    cycle_length_days: int = 7
    #: one date on which a cycle fill was due (tells 14/28-day cycles which week is "on")
    cycle_anchor: dt.date | None = None
    #: a refrigerator on site that accepts cold items after hours
    has_fridge: bool = True
    #: generated for the demo (assisted-living facilities are synthetic: no public list exists)
    synthetic: bool = False
    active: bool = True
    created_at: dt.datetime = _ts(default_factory=utcnow)
    updated_at: dt.datetime = _ts(default_factory=utcnow)


class FacilityWindow(SQLModel, table=True):
    """A delivery time window of a facility on one weekday (0 = Monday .. 6 = Sunday)."""

    __tablename__ = "facility_window"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_facility_window_weekday"),
        sa.CheckConstraint("end_min > start_min", name="ck_facility_window_order"),
        sa.CheckConstraint("start_min >= 0 AND end_min <= 2880", name="ck_facility_window_range"),
        sa.Index("ix_facility_window_facility_weekday", "facility_id", "weekday"),
    )

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", ondelete="CASCADE")
    weekday: int
    start_min: int
    end_min: int


class FacilityClosure(SQLModel, table=True):
    """A facility takes no delivery at all (not even STAT) on one date or on every one weekday.

    Exactly one of ``date`` / ``weekday`` (0 = Monday) is set; ``reason`` is shown to planners
    ("closed on 2026-12-24: Christmas Eve").
    """

    __tablename__ = "facility_closure"
    __table_args__ = (
        sa.CheckConstraint("(date IS NULL) <> (weekday IS NULL)", name="ck_facility_closure_date_or_weekday"),
        sa.CheckConstraint("weekday IS NULL OR weekday BETWEEN 0 AND 6", name="ck_facility_closure_weekday"),
    )

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", ondelete="CASCADE", index=True)
    date: dt.date | None = None
    weekday: int | None = None
    reason: str = Field(default="", max_length=200)


class Resident(SQLModel, table=True):
    """A resident: no names, only where the medication goes (facility, unit/wing, room)."""

    __tablename__ = "resident"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True, index=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    unit: str = Field(default="", max_length=50)
    room: str = Field(default="", max_length=20)


class Medication(SQLModel, table=True):
    """A dispensable product; ``packaging_kind`` says which packaging line can make it."""

    __tablename__ = "medication"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    ndc: str | None = Field(default=None, max_length=20, unique=True, index=True)
    form: str = Field(default="tablet", max_length=40)
    schedule: ControlledSchedule = Field(
        default=ControlledSchedule.NONE, sa_type=_enum(ControlledSchedule, "ck_medication_schedule")
    )
    refrigerated: bool = False
    packaging_kind: PackagingKind = Field(sa_type=_enum(PackagingKind, "ck_medication_packaging_kind"))


class OrderLine(SQLModel, table=True):
    """One medication for one resident to be packed and delivered.

    ``facility_id`` repeats the resident's facility (set on insert) so the day's orders can be read
    per facility without a join.
    """

    __tablename__ = "order_line"
    __table_args__ = (
        sa.CheckConstraint("doses >= 1", name="ck_order_line_doses"),
        sa.CheckConstraint("cards >= 1", name="ck_order_line_cards"),
        sa.CheckConstraint("need_by >= received_at", name="ck_order_line_need_by_after_received"),
        sa.Index("ix_order_line_status_need_by", "status", "need_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True, index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    medication_id: int = Field(foreign_key="medication.id", index=True)
    order_class: OrderClass = Field(sa_type=_enum(OrderClass, "ck_order_line_class"))
    doses: int = 1
    cards: int = 1
    received_at: dt.datetime = _ts()
    need_by: dt.datetime = _ts(index=True)
    status: OrderStatus = Field(default=OrderStatus.OPEN, sa_type=_enum(OrderStatus, "ck_order_line_status"))
    #: the date whose published plan serves the line (set with ``planned``, cleared when it is
    #: ``open`` again); other dates' plans leave the line alone
    planned_for: dt.date | None = Field(default=None, index=True)
    created_at: dt.datetime = _ts(default_factory=utcnow)
    updated_at: dt.datetime = _ts(default_factory=utcnow)


class PackagingLine(SQLModel, table=True):
    """A packaging machine/bench: what it can make, how fast, when it runs."""

    __tablename__ = "packaging_line"
    __table_args__ = (
        sa.CheckConstraint("cards_per_hour > 0", name="ck_packaging_line_rate"),
        sa.CheckConstraint("available_end_min > available_start_min", name="ck_packaging_line_hours"),
        sa.CheckConstraint(
            "changeover_kind_min >= 0 AND changeover_facility_min >= 0", name="ck_packaging_line_changeover"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    #: comma-separated PackagingKind values, e.g. ``"multi_dose_blister,unit_dose_card"``
    kinds: str = Field(max_length=200)
    cards_per_hour: int
    changeover_kind_min: int = 15
    changeover_facility_min: int = 3
    available_start_min: int = 6 * 60
    available_end_min: int = 18 * 60
    #: planned downtime: a JSON list of ``[start_min, end_min]`` pairs
    downtime: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON())
    active: bool = True

    def kind_set(self) -> frozenset[PackagingKind]:
        return frozenset(PackagingKind(k.strip()) for k in self.kinds.split(",") if k.strip())


class PharmacistShift(SQLModel, table=True):
    """A pharmacist on duty (every day); minutes per card live on the ConstraintSet."""

    __tablename__ = "pharmacist_shift"
    __table_args__ = (sa.CheckConstraint("end_min > start_min", name="ck_pharmacist_shift_order"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    start_min: int
    end_min: int
    active: bool = True


class Vehicle(SQLModel, table=True):
    """A vehicle with its driver's shift."""

    __tablename__ = "vehicle"
    __table_args__ = (
        sa.CheckConstraint("tote_capacity > 0", name="ck_vehicle_totes"),
        sa.CheckConstraint("cold_capacity >= 0", name="ck_vehicle_cold"),
        sa.CheckConstraint("shift_end_min > shift_start_min", name="ck_vehicle_shift"),
        sa.CheckConstraint("max_route_min > 0", name="ck_vehicle_max_route"),
        sa.CheckConstraint("max_trips >= 1", name="ck_vehicle_max_trips"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    tote_capacity: int
    cold_capacity: int = 0
    controlled_ok: bool = False
    shift_start_min: int
    shift_end_min: int
    max_route_min: int = 270
    fixed_cost: int = 0
    break_min: int = 30
    break_start_min: int | None = None
    break_end_min: int | None = None
    max_trips: int = 2
    active: bool = True


class ConstraintSet(SQLModel, table=True):
    """A version of the manager's tunables (PlanSettings fields as JSON); a plan records its version."""

    __tablename__ = "constraint_set"
    __table_args__ = (sa.CheckConstraint("minutes_per_card > 0", name="ck_constraint_set_mpc"),)

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True, index=True)
    created_at: dt.datetime = _ts(default_factory=utcnow)
    created_by: str = Field(default="", max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    #: pharmacist minutes to verify one card
    minutes_per_card: float = 0.08
    is_current: bool = Field(default=False, index=True)


# --------------------------------------------------------------------------- plans


class PlanRun(SQLModel, table=True):
    """One planning run for one date; its batches, routes, stops and unassigned rows hang off it."""

    __tablename__ = "plan_run"
    __table_args__ = (
        sa.Index("ix_plan_run_date_published", "date", "published"),
        # at most one published plan and one plan in progress per date (partial unique indexes)
        sa.Index(
            "uq_plan_run_published_date",
            "date",
            unique=True,
            postgresql_where=sa.text("published"),
            sqlite_where=sa.text("published = 1"),
        ),
        sa.Index(
            "uq_plan_run_running_date",
            "date",
            unique=True,
            postgresql_where=sa.text("status = 'running'"),
            sqlite_where=sa.text("status = 'running'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(index=True)
    status: PlanStatus = Field(sa_type=_enum(PlanStatus, "ck_plan_run_status"))
    published: bool = False
    constraint_set_version: int | None = Field(default=None, foreign_key="constraint_set.version")
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    stats: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    kpis: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    #: the plan's solver stages and late stops (round-trip of Plan.stats / Plan.late)
    plan_extra: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    valid: bool = False
    violations: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON())
    created_at: dt.datetime = _ts(default_factory=utcnow)
    started_by: str = Field(default="", max_length=100)
    error: str | None = Field(default=None, sa_type=sa.Text())
    #: the pharmacy time zone the plan's minutes are counted in (``None`` for failed runs)
    timezone: str | None = Field(default=None, max_length=64)
    #: pharmacist minutes per verified card the plan used
    minutes_per_card: float | None = None
    #: where the run is being made: host name and process id (a ``running`` run whose process is
    #: gone is stale, see ``db/plans.py``)
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = None
    #: the published run of the date when this run started (``None``: there was none)
    base_run_id: int | None = None
    #: when the run completed or failed
    finished_at: dt.datetime | None = _ts(default=None, nullable=True)
    #: why a completed run was not published (the comparison with the published plan), or a note
    #: that it was published anyway
    publish_note: str | None = Field(default=None, sa_type=sa.Text())


class PlanBatch(SQLModel, table=True):
    __tablename__ = "plan_batch"
    __table_args__ = (
        sa.UniqueConstraint("plan_run_id", "key", name="uq_plan_batch_key"),
        sa.CheckConstraint("cards >= 0 AND totes >= 0", name="ck_plan_batch_qty"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    key: str = Field(max_length=32)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    unit: str = Field(default="", max_length=50)
    kind: PackagingKind = Field(sa_type=_enum(PackagingKind, "ck_plan_batch_kind"))
    order_line_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON())
    cards: int
    totes: int
    cold: bool
    controlled: bool
    order_class: OrderClass = Field(sa_type=_enum(OrderClass, "ck_plan_batch_class"))
    deadline_min: int
    line_id: int | None = Field(default=None, foreign_key="packaging_line.id")
    start_min: int | None = None
    end_min: int | None = None
    verify_start_min: int | None = None
    verify_end_min: int | None = None


class PlanRoute(SQLModel, table=True):
    __tablename__ = "plan_route"
    __table_args__ = (sa.CheckConstraint("trip_no >= 1", name="ck_plan_route_trip"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    trip_no: int
    depart_min: int
    return_min: int
    distance_m: int = 0
    drive_s: int = 0
    break_start_min: int | None = None


class PlanStop(SQLModel, table=True):
    __tablename__ = "plan_stop"
    __table_args__ = (
        sa.UniqueConstraint("route_id", "seq", name="uq_plan_stop_seq"),
        sa.CheckConstraint("seq >= 1", name="ck_plan_stop_seq"),
        sa.CheckConstraint(
            "totes >= 0 AND cold_totes >= 0 AND controlled_totes >= 0", name="ck_plan_stop_qty"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(foreign_key="plan_route.id", ondelete="CASCADE", index=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    facility_id: int = Field(foreign_key="facility.id", index=True)
    arrival_min: int
    start_min: int
    departure_min: int
    totes: int
    cold_totes: int = 0
    controlled_totes: int = 0
    batch_keys: list[str] = Field(default_factory=list, sa_type=sa.JSON())
    window_start_min: int | None = None
    window_end_min: int | None = None
    late_min: int = 0
    stat: bool = False


class PlanUnassigned(SQLModel, table=True):
    """A facility (and its batches) the plan could not serve, with the reason."""

    __tablename__ = "plan_unassigned"

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    facility_id: int = Field(foreign_key="facility.id", index=True)
    reason: str = Field(sa_type=sa.Text())
    batch_keys: list[str] = Field(default_factory=list, sa_type=sa.JSON())


# --------------------------------------------------------------------------- what a plan was planned against
#
# A completed PlanRun keeps its own copy of the master data it planned against (written in the same
# transaction as the run by ``db/plans.py``), so the plan reads as it was made whatever is renamed,
# moved or deactivated later. The ``*_id`` columns name the master row the copy came from; they are
# not foreign keys: the master row may change or go away, the record stays.


class PlanDepot(SQLModel, table=True):
    """The pharmacy as the run saw it (one row per completed run)."""

    __tablename__ = "plan_depot"

    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", primary_key=True)
    depot_id: int
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    lat: float
    lon: float
    open_min: int
    close_min: int


class PlanFacility(SQLModel, table=True):
    """A facility as the run saw it: name, address, coordinates, the plan date's windows, units."""

    __tablename__ = "plan_facility"
    __table_args__ = (sa.UniqueConstraint("plan_run_id", "facility_id", name="uq_plan_facility"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    facility_id: int
    external_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: FacilityKind = Field(sa_type=_enum(FacilityKind, "ck_plan_facility_kind"))
    #: street and city as one line, as shown on manifests
    address: str = Field(default="", max_length=420)
    lat: float
    lon: float
    beds: int = 0
    #: delivery windows on the plan date: a JSON list of ``[start_min, end_min]``
    windows: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON())
    service_fixed_min: int
    service_per_tote_min: float
    has_fridge: bool
    units: list[str] = Field(default_factory=list, sa_type=sa.JSON())


class PlanVehicle(SQLModel, table=True):
    """A vehicle and its driver's shift as the run saw them."""

    __tablename__ = "plan_vehicle"
    __table_args__ = (sa.UniqueConstraint("plan_run_id", "vehicle_id", name="uq_plan_vehicle"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    vehicle_id: int
    name: str = Field(max_length=100)
    depot_id: int
    tote_capacity: int
    cold_capacity: int
    controlled_ok: bool
    shift_start_min: int
    shift_end_min: int
    max_route_min: int
    fixed_cost: int = 0
    break_min: int = 30
    break_start_min: int | None = None
    break_end_min: int | None = None
    max_trips: int = 2


class PlanLine(SQLModel, table=True):
    """A packaging line as the run saw it."""

    __tablename__ = "plan_line"
    __table_args__ = (sa.UniqueConstraint("plan_run_id", "line_id", name="uq_plan_line"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    line_id: int
    name: str = Field(max_length=100)
    #: comma-separated PackagingKind values
    kinds: str = Field(max_length=200)
    cards_per_hour: int
    changeover_kind_min: int
    changeover_facility_min: int
    #: JSON lists of ``[start_min, end_min]``
    available: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON())
    downtime: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON())


class PlanPharmacistShift(SQLModel, table=True):
    """A pharmacist shift as the run saw it."""

    __tablename__ = "plan_pharmacist_shift"

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(foreign_key="plan_run.id", ondelete="CASCADE", index=True)
    seq: int
    name: str = Field(max_length=100)
    start_min: int
    end_min: int


class AuditEvent(SQLModel, table=True):
    """Who did what when (imports, demo seeding, plan runs, settings changes)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _ts(default_factory=utcnow, index=True)
    who: str = Field(default="", max_length=100)
    what: str = Field(max_length=100, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())


#: tables in foreign-key order (parents first)
ALL_TABLES: tuple[type[SQLModel], ...] = (
    Depot,
    Facility,
    FacilityWindow,
    FacilityClosure,
    Resident,
    Medication,
    OrderLine,
    PackagingLine,
    PharmacistShift,
    Vehicle,
    ConstraintSet,
    PlanRun,
    PlanBatch,
    PlanRoute,
    PlanStop,
    PlanUnassigned,
    PlanDepot,
    PlanFacility,
    PlanVehicle,
    PlanLine,
    PlanPharmacistShift,
    AuditEvent,
)
