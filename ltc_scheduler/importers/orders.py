"""Import order lines from CSV: validated per row, all-or-nothing, bulk writes, re-import updates.

``orders.csv`` columns (case-insensitive; unknown columns are ignored):

===============  ========  ====================================================================
column           required  meaning
===============  ========  ====================================================================
external_id      yes       the order line's id in the pharmacy system (re-import updates it)
facility_id      yes       the facility's external id (must exist: import facilities first)
resident_id      yes       the resident's external id; a new one is created in this facility
unit, room       no        where the resident lives (updates the resident when given)
medication       one of    medication name (must exist)
ndc              these     or its NDC (must exist); NDC wins when both are given
order_class      yes       cycle_fill, new_admission, stat (first dose), refill, prn, ekit_restock
doses            yes       whole number >= 1
cards            yes       cards/pouches/bottles to pack, whole number >= 1
received_at      yes       ``YYYY-MM-DD HH:MM`` in pharmacy local time (or with a UTC offset)
need_by          yes [*]_  deadline, same format; a bare date means 23:59 of that day
status           no        open (default for new lines), packed, out_for_delivery, delivered,
                           cancelled, exception; a re-import moves a line along its life
                           (``enums.status_change_problem``: forward only, ``planned`` is the
                           planner's); when the column or the value is absent the stored status stays
===============  ========  ====================================================================

.. [*] A ``stat`` (first dose) line may leave ``need_by`` empty (or the column out): its promise is
   then ``received_at`` + the current constraint set's STAT promise (``stat_promise_min``, "STAT
   promise (min after receipt)" on the Constraints page, default 240 min). Every other class
   needs it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from sqlmodel import Session

from ltc_scheduler.db import models as m
from ltc_scheduler.db.models import utcnow
from ltc_scheduler.enums import OrderClass, OrderStatus, status_change_problem
from ltc_scheduler.errors import RowError
from ltc_scheduler.importers.csvfile import (
    chunks,
    fail_if,
    parse_datetime,
    parse_enum,
    parse_int,
    read_rows,
    read_source,
)

ORDER_REQUIRED = (
    "external_id",
    "facility_id",
    "resident_id",
    "order_class",
    "doses",
    "cards",
    "received_at",
)
ORDER_OPTIONAL = ("unit", "room", "medication", "ndc", "status", "need_by")

_CLASS_SYNONYMS = {
    "first_dose": OrderClass.STAT,
    "cycle": OrderClass.CYCLE_FILL,
    "admission": OrderClass.NEW_ADMISSION,
    "e_kit": OrderClass.EKIT_RESTOCK,
    "ekit": OrderClass.EKIT_RESTOCK,
    "e_kit_restock": OrderClass.EKIT_RESTOCK,
}

CHUNK = 5000


def _sqlite_value(value: Any, _cache: dict[dt.datetime, str] = {}) -> Any:  # noqa: B006 - a memo
    """What SQLAlchemy's SQLite dialect would store: naive UTC text for datetimes, enum values."""
    if isinstance(value, dt.datetime):
        text = _cache.get(value)
        if text is None:
            if len(_cache) > 100_000:
                _cache.clear()
            utc = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
            text = _cache[value] = utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return text
    if isinstance(value, StrEnum):
        return value.value
    return value


def bulk_write(
    session: Session, table: sa.Table, rows: list[dict[str, Any]], *, key: str | None = None
) -> None:
    """INSERT (or, with ``key``, UPDATE ... WHERE key = ?) ``rows`` in one executemany.

    On SQLite the values are converted here and sent through the driver directly, which skips
    SQLAlchemy's per-row parameter processing (about half the write time of a 100k-row import); other
    databases use a Core statement. All rows must have the same keys.
    """
    if not rows:
        return
    cols = [c for c in rows[0] if c != key]
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        if key is None:
            sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            params = [tuple(_sqlite_value(r[c]) for c in cols) for r in rows]
        else:
            sql = f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE {key} = ?"
            params = [tuple(_sqlite_value(r[c]) for c in [*cols, key]) for r in rows]
        conn.exec_driver_sql(sql, params)
        return
    if key is None:
        session.execute(table.insert(), rows)
        return
    stmt = (
        table.update()
        .where(table.c[key] == sa.bindparam(f"b_{key}"))
        .values({c: sa.bindparam(f"b_{c}") for c in cols})
    )
    session.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])


class OrderRow(BaseModel):
    """One validated row of ``orders.csv`` (timestamps already UTC-aware)."""

    model_config = ConfigDict(extra="ignore")

    external_id: str
    facility_id: str
    resident_id: str
    unit: str | None = None
    room: str | None = None
    medication: str | None = None
    ndc: str | None = None
    order_class: OrderClass
    doses: int
    cards: int
    received_at: dt.datetime
    need_by: dt.datetime | None = None
    status: OrderStatus | None = None

    @field_validator("external_id", "facility_id", "resident_id", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        if v is not None and len(str(v)) > 64:
            raise ValueError("is longer than 64 characters")
        return v

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, v: Any) -> Any:
        if v is not None and len(str(v)) > 50:
            raise ValueError("is longer than 50 characters")
        return v

    @field_validator("room", "ndc", mode="before")
    @classmethod
    def _room(cls, v: Any) -> Any:
        if v is not None and len(str(v)) > 20:
            raise ValueError("is longer than 20 characters")
        return v

    @field_validator("medication", mode="before")
    @classmethod
    def _med(cls, v: Any) -> Any:
        if v is not None and len(str(v)) > 200:
            raise ValueError("is longer than 200 characters")
        return v

    @field_validator("order_class", mode="before")
    @classmethod
    def _class(cls, v: Any) -> Any:
        return v if v is None else parse_enum(OrderClass, v, synonyms=_CLASS_SYNONYMS, what="an order class")

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        return v if v is None else parse_enum(OrderStatus, v, what="an order status")

    @field_validator("doses", "cards", mode="before")
    @classmethod
    def _qty(cls, v: Any) -> Any:
        return v if v is None else parse_int(v, lo=1, hi=100_000)

    @field_validator("received_at", mode="before")
    @classmethod
    def _received(cls, v: Any, info: Any) -> Any:
        return v if v is None else parse_datetime(v, tz=(info.context or {}).get("tz", "UTC"))

    @field_validator("need_by", mode="before")
    @classmethod
    def _need_by(cls, v: Any, info: Any) -> Any:
        return (
            v if v is None else parse_datetime(v, tz=(info.context or {}).get("tz", "UTC"), end_of_day=True)
        )

    @model_validator(mode="after")
    def _check(self) -> OrderRow:
        if not self.medication and not self.ndc:
            raise ValueError("medication: give the medication name or its NDC")
        if self.need_by is None:
            if self.order_class != OrderClass.STAT:
                raise ValueError(
                    f"need_by: is required for a {self.order_class.value} line (only a STAT line without "
                    "it gets the STAT promise of the Constraints page)"
                )
        elif self.need_by < self.received_at:
            raise ValueError("need_by: is before received_at")
        return self


def stat_promise_min(session: Session) -> int:
    """The current constraint set's STAT promise, minutes after receipt (the default when none is
    stored yet); read without creating a constraint set."""
    from sqlmodel import col, select

    from ltc_scheduler.db.repository import to_plan_settings
    from ltc_scheduler.problem.model import PlanSettings

    row = session.exec(
        select(m.ConstraintSet)
        .where(col(m.ConstraintSet.is_current).is_(True))
        .order_by(col(m.ConstraintSet.version).desc())
    ).first()
    return (to_plan_settings(row) if row is not None else PlanSettings()).stat_promise_min


def _validate(src: Any, rows: list[tuple[int, dict[str, str]]], errors: list[RowError], tz: str) -> list:
    from pydantic import ValidationError

    from ltc_scheduler.importers.csvfile import _message

    good: list[tuple[int, OrderRow]] = []
    for row_no, values in rows:
        data = {k: (v if v != "" else None) for k, v in values.items()}
        try:
            good.append((row_no, OrderRow.model_validate(data, context={"tz": tz})))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = err.get("loc") or ()
                column = str(loc[0]) if loc else "(row)"
                msg = _message(err, values.get(column))
                if not loc and ": " in msg:  # model-level check names its column
                    column, msg = msg.split(": ", 1)
                errors.append(RowError(src.name, row_no, column, msg))
    return good


def _stored_statuses(session: Session, external_ids: list[str]) -> dict[str, OrderStatus]:
    """The stored status of each known order line among ``external_ids``."""
    out: dict[str, OrderStatus] = {}
    for chunk in chunks(external_ids, CHUNK):
        for ext, status in session.execute(
            sa.select(m.OrderLine.external_id, m.OrderLine.status).where(
                m.OrderLine.external_id.in_(chunk)  # type: ignore[attr-defined]
            )
        ).all():
            out[ext] = OrderStatus(status)
    return out


def import_orders(session: Session, source: Any, *, tz: str, who: str = "import") -> dict[str, int]:
    """Validate every row, then bulk-insert new order lines and bulk-update known ones.

    Residents are created on the fly (facility + unit + room + resident id). Unknown facilities or
    medications are errors. Nothing is written unless every row is good. Does not commit.
    ``tz`` is the pharmacy's time zone (the caller passes its setting): the CSV's local times are
    read in it. Returns ``{"rows", "inserted", "updated", "residents_created"}``.
    """
    src = read_source(source)
    rows, errors = read_rows(src, required=ORDER_REQUIRED, optional=ORDER_OPTIONAL)
    has_status = bool(rows) and "status" in rows[0][1]
    good = _validate(src, rows, errors, tz)
    if any(r.need_by is None for _, r in good):
        promise = dt.timedelta(minutes=stat_promise_min(session))
        good = [
            (no, r if r.need_by is not None else r.model_copy(update={"need_by": r.received_at + promise}))
            for no, r in good
        ]

    # ---- references
    fac_ids = dict(
        session.execute(
            sa.select(m.Facility.external_id, m.Facility.id).where(
                m.Facility.external_id.in_({r.facility_id for _, r in good})  # type: ignore[attr-defined]
            )
        ).all()
    )
    meds = session.execute(sa.select(m.Medication.id, m.Medication.name, m.Medication.ndc)).all()
    med_by_name = {n.lower(): i for i, n, _ in meds}
    med_by_ndc = {c: i for i, _, c in meds if c}

    res_keys = sorted({r.resident_id for _, r in good})
    residents: dict[str, tuple[int, int, str, str]] = {}
    for chunk in chunks(res_keys, CHUNK):
        for rid, ext, fid, unit, room in session.execute(
            sa.select(
                m.Resident.id,
                m.Resident.external_id,
                m.Resident.facility_id,
                m.Resident.unit,
                m.Resident.room,
            ).where(m.Resident.external_id.in_(chunk))  # type: ignore[attr-defined]
        ).all():
            residents[ext] = (rid, fid, unit, room)

    seen_line: dict[str, int] = {}
    res_fac: dict[str, tuple[str, int]] = {}
    prepared: list[tuple[OrderRow, int, int]] = []  # row, facility id, medication id
    row_of: dict[str, int] = {}
    for row_no, r in good:
        ok = True
        if r.external_id in seen_line:
            errors.append(
                RowError(
                    src.name,
                    row_no,
                    "external_id",
                    f"{r.external_id!r} already appears in row {seen_line[r.external_id]}",
                )
            )
            ok = False
        else:
            seen_line[r.external_id] = row_no
        fid = fac_ids.get(r.facility_id)
        if fid is None:
            errors.append(RowError(src.name, row_no, "facility_id", f"unknown facility {r.facility_id!r}"))
            ok = False
        if r.ndc:
            mid = med_by_ndc.get(r.ndc)
            if mid is None:
                errors.append(RowError(src.name, row_no, "ndc", f"unknown medication NDC {r.ndc!r}"))
                ok = False
        else:
            mid = med_by_name.get((r.medication or "").lower())
            if mid is None:
                errors.append(
                    RowError(src.name, row_no, "medication", f"unknown medication {r.medication!r}")
                )
                ok = False
        prev = res_fac.get(r.resident_id)
        if prev is not None and prev[0] != r.facility_id:
            errors.append(
                RowError(
                    src.name,
                    row_no,
                    "resident_id",
                    f"{r.resident_id!r} is in {prev[0]!r} in row {prev[1]}, here in {r.facility_id!r}",
                )
            )
            ok = False
        elif prev is None:
            res_fac[r.resident_id] = (r.facility_id, row_no)
        if ok:
            prepared.append((r, int(fid), int(mid)))  # type: ignore[arg-type]
            row_of[r.external_id] = row_no
    stored = _stored_statuses(session, [r.external_id for r, _, _ in prepared]) if has_status else {}
    for r, _, _ in prepared:
        if r.status is None:
            continue
        why = status_change_problem(stored.get(r.external_id), r.status)
        if why is not None:
            errors.append(
                RowError(src.name, row_of[r.external_id], "status", f"cannot set {r.status.value}: {why}")
            )
    fail_if(errors, src, "orders")

    # ---- residents: create new ones, move/update known ones
    now = utcnow()
    new_res: dict[str, dict[str, Any]] = {}
    upd_res: dict[int, dict[str, Any]] = {}
    for r, fid, _ in prepared:
        known = residents.get(r.resident_id)
        if known is None:
            entry = new_res.setdefault(
                r.resident_id, {"external_id": r.resident_id, "facility_id": fid, "unit": "", "room": ""}
            )
            if r.unit is not None:
                entry["unit"] = r.unit
            if r.room is not None:
                entry["room"] = r.room
        else:
            rid, kfid, unit, room = known
            want = {
                "id": rid,
                "facility_id": fid,
                "unit": r.unit if r.unit is not None else unit,
                "room": r.room if r.room is not None else room,
            }
            if (want["facility_id"], want["unit"], want["room"]) != (kfid, unit, room):
                upd_res[rid] = want
    if new_res:
        for chunk in chunks(list(new_res.values()), CHUNK):
            session.execute(m.Resident.__table__.insert(), chunk)
        for chunk in chunks(list(new_res), CHUNK):
            for rid, ext in session.execute(
                sa.select(m.Resident.id, m.Resident.external_id).where(m.Resident.external_id.in_(chunk))  # type: ignore[attr-defined]
            ).all():
                residents[ext] = (rid, 0, "", "")
    if upd_res:
        session.execute(sa.update(m.Resident), list(upd_res.values()))

    # ---- order lines: insert new, update known (by external id)
    line_ids: dict[str, int] = {}
    for chunk in chunks([r.external_id for r, _, _ in prepared], CHUNK):
        for lid, ext in session.execute(
            sa.select(m.OrderLine.id, m.OrderLine.external_id).where(m.OrderLine.external_id.in_(chunk))  # type: ignore[attr-defined]
        ).all():
            line_ids[ext] = lid
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for r, fid, mid in prepared:
        values: dict[str, Any] = {
            "external_id": r.external_id,
            "resident_id": residents[r.resident_id][0],
            "facility_id": fid,
            "medication_id": mid,
            "order_class": r.order_class,
            "doses": r.doses,
            "cards": r.cards,
            "received_at": r.received_at,
            "need_by": r.need_by,
            "updated_at": now,
        }
        lid = line_ids.get(r.external_id)
        if lid is None:
            values["status"] = r.status or OrderStatus.OPEN
            values["created_at"] = now
            inserts.append(values)
        else:
            values["id"] = lid
            if has_status and r.status is not None and r.status != stored.get(r.external_id):
                values["status"] = r.status
                if r.status == OrderStatus.OPEN:
                    values["planned_for"] = None
            updates.append(values)
    # bulk executemany, never ORM objects one by one: the fast path for 100k rows
    table = m.OrderLine.__table__
    for chunk in chunks(inserts, 10_000):
        bulk_write(session, table, chunk)
    if updates:
        # rows with different columns go in separate executemany batches
        parts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for u in updates:
            parts.setdefault(tuple(sorted(u)), []).append(u)
        for part in parts.values():
            for chunk in chunks(part, 10_000):
                bulk_write(session, table, chunk, key="id")
    session.flush()
    result = {
        "rows": len(prepared),
        "inserted": len(inserts),
        "updated": len(updates),
        "residents_created": len(new_res),
    }
    from ltc_scheduler.db.repository import add_audit_event

    add_audit_event(session, who=who, what="import.orders", details={"file": src.name, **result})
    return result
