"""Import facilities and medications from CSV (all-or-nothing, re-import updates by key).

``facilities.csv`` columns (case-insensitive; unknown columns are ignored):

=====================  ========  ==============================================================
column                 required  meaning
=====================  ========  ==============================================================
external_id            yes       the pharmacy system's id, e.g. the CMS certification number
name                   yes
kind                   yes       skilled_nursing, nursing_facility, assisted_living (also SNF,
                                 NF, SNF/NF, ALF)
latitude, longitude    yes       decimal degrees
windows                yes       delivery windows, e.g. ``09:30-12:00; Mon-Fri 18:00-19:30``
address, city, state,  no
zip
beds                   no        default 0
service_fixed_min      no        unloading minutes per stop, default 10
service_per_tote_min   no        unloading minutes per tote, default 1.0
cycle_weekday          no        Mon..Sun or 0..6 (0 = Monday), default Mon
cycle_length_days      no        7, 14 or 28, default 7
has_fridge             no        yes/no, default yes
=====================  ========  ==============================================================

``medications.csv``: ``name`` (required, unique), ``packaging_kind`` (required:
multi_dose_blister, unit_dose_card, strip_pouch, vial_bottle), ``ndc``, ``form`` (default tablet),
``schedule`` (none, II, III, IV, V; also C2, CII...), ``refrigerated`` (yes/no).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator
from sqlmodel import Session

from ltc_scheduler.db import models as m
from ltc_scheduler.db.models import utcnow
from ltc_scheduler.enums import ControlledSchedule, FacilityKind, PackagingKind
from ltc_scheduler.errors import RowError
from ltc_scheduler.importers.csvfile import (
    CsvText,
    fail_if,
    parse_bool,
    parse_enum,
    parse_float,
    parse_int,
    parse_weekday,
    parse_windows,
    read_rows,
    read_source,
    validate_rows,
)

FACILITY_REQUIRED = ("external_id", "name", "kind", "latitude", "longitude", "windows")
FACILITY_OPTIONAL = (
    "address",
    "city",
    "state",
    "zip",
    "beds",
    "service_fixed_min",
    "service_per_tote_min",
    "cycle_weekday",
    "cycle_length_days",
    "has_fridge",
)
_KIND_SYNONYMS = {
    "snf": FacilityKind.SKILLED_NURSING,
    "snf_nf": FacilityKind.SKILLED_NURSING,
    "nf": FacilityKind.NURSING_FACILITY,
    "alf": FacilityKind.ASSISTED_LIVING,
    "al": FacilityKind.ASSISTED_LIVING,
}


def _text(max_len: int) -> Any:
    def check(v: Any) -> Any:
        if v is not None and len(str(v)) > max_len:
            raise ValueError(f"is longer than {max_len} characters")
        return v

    return check


class FacilityRow(BaseModel):
    """One row of ``facilities.csv`` after validation."""

    model_config = ConfigDict(extra="ignore")

    external_id: str
    name: str
    kind: FacilityKind
    latitude: float
    longitude: float
    windows: list[tuple[int, int, int]]
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    beds: int = 0
    service_fixed_min: int = 10
    service_per_tote_min: float = 1.0
    cycle_weekday: int = 0
    cycle_length_days: int = 7
    has_fridge: bool = True

    @field_validator("external_id", mode="before")
    @classmethod
    def _ext(cls, v: Any) -> Any:
        return _text(64)(v)

    @field_validator("name", "address", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return _text(200)(v)

    @field_validator("city", mode="before")
    @classmethod
    def _city(cls, v: Any) -> Any:
        return _text(100)(v) if v is not None else ""

    @field_validator("state", "zip", mode="before")
    @classmethod
    def _short(cls, v: Any) -> Any:
        return _text(10)(v) if v is not None else ""

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        return (
            v if v is None else parse_enum(FacilityKind, v, synonyms=_KIND_SYNONYMS, what="a facility kind")
        )

    @field_validator("latitude", mode="before")
    @classmethod
    def _lat(cls, v: Any) -> Any:
        return v if v is None else parse_float(v, lo=-90, hi=90)

    @field_validator("longitude", mode="before")
    @classmethod
    def _lon(cls, v: Any) -> Any:
        return v if v is None else parse_float(v, lo=-180, hi=180)

    @field_validator("windows", mode="before")
    @classmethod
    def _windows(cls, v: Any) -> Any:
        return v if v is None else parse_windows(v)

    @field_validator("beds", mode="before")
    @classmethod
    def _beds(cls, v: Any) -> Any:
        return 0 if v is None else parse_int(v, lo=0, hi=5000)

    @field_validator("service_fixed_min", mode="before")
    @classmethod
    def _svc(cls, v: Any) -> Any:
        return 10 if v is None else parse_int(v, lo=0, hi=240)

    @field_validator("service_per_tote_min", mode="before")
    @classmethod
    def _svc_tote(cls, v: Any) -> Any:
        return 1.0 if v is None else parse_float(v, lo=0, hi=60)

    @field_validator("cycle_weekday", mode="before")
    @classmethod
    def _wd(cls, v: Any) -> Any:
        return 0 if v is None else parse_weekday(v)

    @field_validator("cycle_length_days", mode="before")
    @classmethod
    def _cl(cls, v: Any) -> Any:
        if v is None:
            return 7
        n = parse_int(v)
        if n not in (7, 14, 28):
            raise ValueError(f"{v!r} must be 7, 14 or 28")
        return n

    @field_validator("has_fridge", mode="before")
    @classmethod
    def _fridge(cls, v: Any) -> Any:
        return True if v is None else parse_bool(v)


def import_facilities(session: Session, source: Any, *, who: str = "import") -> dict[str, int]:
    """Validate every row, then insert new facilities and update existing ones (by external_id).

    A facility's delivery windows are replaced by the file's. Nothing is written if any row is bad.
    Returns ``{"rows": n, "inserted": i, "updated": u}``. Does not commit.
    """
    src: CsvText = read_source(source)
    rows, errors = read_rows(src, required=FACILITY_REQUIRED, optional=FACILITY_OPTIONAL)
    good = validate_rows(src, rows, FacilityRow, errors)
    first_row: dict[str, int] = {}
    for row_no, r in good:
        if r.external_id in first_row:
            errors.append(
                RowError(
                    src.name,
                    row_no,
                    "external_id",
                    f"{r.external_id!r} already appears in row {first_row[r.external_id]}",
                )
            )
        else:
            first_row[r.external_id] = row_no
    fail_if(errors, src, "facilities")

    existing = {
        ext: fid
        for ext, fid in session.execute(
            sa.select(m.Facility.external_id, m.Facility.id).where(
                m.Facility.external_id.in_([r.external_id for _, r in good])  # type: ignore[attr-defined]
            )
        ).all()
    }
    inserted = updated = 0
    now = utcnow()
    for _, r in good:
        values = {
            "external_id": r.external_id,
            "name": r.name,
            "kind": r.kind,
            "address": r.address,
            "city": r.city,
            "state": r.state,
            "zip": r.zip,
            "lat": r.latitude,
            "lon": r.longitude,
            "beds": r.beds,
            "service_fixed_min": r.service_fixed_min,
            "service_per_tote_min": r.service_per_tote_min,
            "cycle_weekday": r.cycle_weekday,
            "cycle_length_days": r.cycle_length_days,
            "has_fridge": r.has_fridge,
            "updated_at": now,
        }
        fid = existing.get(r.external_id)
        if fid is None:
            fid = session.execute(
                sa.insert(m.Facility).values(**values).returning(m.Facility.id)
            ).scalar_one()
            inserted += 1
        else:
            session.execute(sa.update(m.Facility).where(m.Facility.id == fid).values(**values))
            updated += 1
            stored = session.execute(
                sa.select(
                    m.FacilityWindow.weekday, m.FacilityWindow.start_min, m.FacilityWindow.end_min
                ).where(m.FacilityWindow.facility_id == fid)
            ).all()
            if sorted(tuple(w) for w in stored) == sorted(r.windows):
                continue  # same windows: keep the rows
            session.execute(sa.delete(m.FacilityWindow).where(m.FacilityWindow.facility_id == fid))
        session.execute(
            sa.insert(m.FacilityWindow),
            [{"facility_id": fid, "weekday": d, "start_min": a, "end_min": b} for d, a, b in r.windows],
        )
    session.flush()
    result = {"rows": len(good), "inserted": inserted, "updated": updated}
    from ltc_scheduler.db.repository import add_audit_event

    add_audit_event(session, who=who, what="import.facilities", details={"file": src.name, **result})
    return result


# --------------------------------------------------------------------------- medications

MEDICATION_REQUIRED = ("name", "packaging_kind")
MEDICATION_OPTIONAL = ("ndc", "form", "schedule", "refrigerated")
_SCHEDULE_SYNONYMS = {
    "c2": ControlledSchedule.CII,
    "cii": ControlledSchedule.CII,
    "2": ControlledSchedule.CII,
    "c3": ControlledSchedule.CIII,
    "ciii": ControlledSchedule.CIII,
    "3": ControlledSchedule.CIII,
    "c4": ControlledSchedule.CIV,
    "civ": ControlledSchedule.CIV,
    "4": ControlledSchedule.CIV,
    "c5": ControlledSchedule.CV,
    "cv": ControlledSchedule.CV,
    "5": ControlledSchedule.CV,
    "": ControlledSchedule.NONE,
    "no": ControlledSchedule.NONE,
}


class MedicationRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    packaging_kind: PackagingKind
    ndc: str | None = None
    form: str = "tablet"
    schedule: ControlledSchedule = ControlledSchedule.NONE
    refrigerated: bool = False

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return _text(200)(v)

    @field_validator("ndc", mode="before")
    @classmethod
    def _ndc(cls, v: Any) -> Any:
        if v is None:
            return None
        s = str(v).strip()
        if len(s) > 20 or not all(c.isdigit() or c == "-" for c in s):
            raise ValueError(f"{s!r} is not an NDC (digits and dashes, e.g. 00000-0001-01)")
        return s

    @field_validator("form", mode="before")
    @classmethod
    def _form(cls, v: Any) -> Any:
        return "tablet" if v is None else _text(40)(v)

    @field_validator("packaging_kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        return v if v is None else parse_enum(PackagingKind, v, what="a packaging kind")

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, v: Any) -> Any:
        if v is None:
            return ControlledSchedule.NONE
        return parse_enum(
            ControlledSchedule, v, synonyms=_SCHEDULE_SYNONYMS, what="a controlled-substance schedule"
        )

    @field_validator("refrigerated", mode="before")
    @classmethod
    def _cold(cls, v: Any) -> Any:
        return False if v is None else parse_bool(v)


def import_medications(session: Session, source: Any, *, who: str = "import") -> dict[str, int]:
    """Insert or update medications (matched by NDC when given, else by name). Does not commit."""
    src = read_source(source)
    rows, errors = read_rows(src, required=MEDICATION_REQUIRED, optional=MEDICATION_OPTIONAL)
    good = validate_rows(src, rows, MedicationRow, errors)
    seen_name: dict[str, int] = {}
    seen_ndc: dict[str, int] = {}
    for row_no, r in good:
        key = r.name.lower()
        if key in seen_name:
            errors.append(
                RowError(src.name, row_no, "name", f"{r.name!r} already appears in row {seen_name[key]}")
            )
        seen_name.setdefault(key, row_no)
        if r.ndc:
            if r.ndc in seen_ndc:
                errors.append(
                    RowError(src.name, row_no, "ndc", f"{r.ndc!r} already appears in row {seen_ndc[r.ndc]}")
                )
            seen_ndc.setdefault(r.ndc, row_no)
    existing = session.execute(sa.select(m.Medication.id, m.Medication.name, m.Medication.ndc)).all()
    by_name = {n.lower(): i for i, n, _ in existing}
    by_ndc = {c: i for i, _, c in existing if c}
    targets: list[tuple[int | None, MedicationRow]] = []
    for row_no, r in good:
        mid = by_ndc.get(r.ndc) if r.ndc else None
        if mid is None:
            mid = by_name.get(r.name.lower())
        other = by_name.get(r.name.lower())
        if mid is not None and other is not None and other != mid:
            errors.append(
                RowError(src.name, row_no, "name", f"{r.name!r} belongs to another medication (other NDC)")
            )
        if r.ndc and r.ndc in by_ndc and by_ndc[r.ndc] != mid:
            errors.append(RowError(src.name, row_no, "ndc", f"{r.ndc!r} belongs to another medication"))
        targets.append((mid, r))
    fail_if(errors, src, "medications")
    inserted = updated = 0
    for mid, r in targets:
        values = r.model_dump()
        if mid is None:
            session.execute(sa.insert(m.Medication).values(**values))
            inserted += 1
        else:
            session.execute(sa.update(m.Medication).where(m.Medication.id == mid).values(**values))
            updated += 1
    session.flush()
    result = {"rows": len(good), "inserted": inserted, "updated": updated}
    from ltc_scheduler.db.repository import add_audit_event

    add_audit_event(session, who=who, what="import.medications", details={"file": src.name, **result})
    return result
