"""The manager's edits from the Constraints page: validated, audited, versioned.

Every function here is keyword-only, takes the session and never commits (the caller owns the
transaction). Each one:

1. validates **every** value first and raises :class:`~ltc_scheduler.errors.BadInput` listing all
   bad values (table, row, field and what is wrong) - nothing is written then;
2. applies the changes and records an :class:`AuditEvent` (who, what, the changed fields);
3. stores a new constraint-set version (same settings, version + 1, ``created_by`` = who), so
   every plan made afterwards records which set of constraints it was made with.

Rows come in as plain dicts (what ``st.data_editor`` returns), clock times as ``"HH:MM"`` text.
When nothing changed, the functions return ``None`` and store nothing.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.models import (
    ConstraintSet,
    Facility,
    FacilityWindow,
    PackagingLine,
    PharmacistShift,
    Vehicle,
)
from ltc_scheduler.errors import BadInput, RowError
from ltc_scheduler.problem.clock import hhmm, try_parse_hhmm

Row = Mapping[str, Any]


# --------------------------------------------------------------------------- value checks


class _Checker:
    """Collects every bad value of one table before anything is written."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.errors: list[RowError] = []

    def fail(self, row: int, field: str, message: str) -> None:
        self.errors.append(RowError(self.table, row, field, message))

    def integer(self, row: int, field: str, value: Any, lo: int, hi: int) -> int | None:
        number = _number(value)
        if number is None:
            self.fail(row, field, f"a whole number between {lo} and {hi} is required (got {_show(value)})")
            return None
        if number != int(number) or not lo <= number <= hi:
            self.fail(row, field, f"must be a whole number between {lo} and {hi} (got {_show(value)})")
            return None
        return int(number)

    def real(
        self, row: int, field: str, value: Any, lo: float, hi: float, *, lo_open: bool = False
    ) -> float | None:
        number = _number(value)
        low_ok = number is not None and (number > lo if lo_open else number >= lo)
        if number is None or not low_ok or number > hi:
            bound = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
            self.fail(row, field, f"must be a number {bound} and at most {hi:g} (got {_show(value)})")
            return None
        return float(number)

    def clock(self, row: int, field: str, value: Any) -> int | None:
        minute = _parse_clock(value)
        if minute is None:
            self.fail(
                row, field, f"must be a time of day from 00:00 to 24:00, such as 07:30 (got {_show(value)})"
            )
        return minute

    def text(self, row: int, field: str, value: Any, max_len: int = 100) -> str | None:
        s = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
        if not s:
            self.fail(row, field, "must not be empty")
            return None
        if len(s) > max_len:
            self.fail(row, field, f"must be at most {max_len} characters")
            return None
        return s

    def raise_if_any(self) -> None:
        if self.errors:
            raise BadInput(
                f"Nothing was saved: {len(self.errors)} value(s) in {self.table} must be fixed.", self.errors
            )


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _show(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def _flag(value: Any, default: bool = False) -> bool:
    """A checkbox value (bool, numpy bool, "yes"/"true"/"1"); empty (None/NaN) -> ``default``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "x")
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _parse_clock(value: Any) -> int | None:
    """A time of day on the Constraints page: 00:00-24:00 (no field there documents overnight)."""
    return try_parse_hhmm(value)


def parse_windows(text: Any) -> list[tuple[int, int]] | None:
    """``"08:00-11:00, 14:00-16:00"`` -> ``[(480, 660), (840, 960)]``; ``[]`` for empty; ``None`` if bad."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    s = str(text).strip()
    if not s:
        return []
    out = []
    for part in re.split(r"[,;]", s):
        if not part.strip():
            continue
        pieces = part.split("-")
        if len(pieces) != 2:
            return None
        a, b = _parse_clock(pieces[0]), _parse_clock(pieces[1])
        if a is None or b is None or b <= a:
            return None
        out.append((a, b))
    out.sort()
    return out


def windows_text(windows: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in windows)


# --------------------------------------------------------------------------- versioning


def _bump_version(session: Session, *, who: str, what: str, details: dict[str, Any]) -> ConstraintSet:
    """Audit the change and store the current settings again as a new version."""
    current = repo.current_constraint_set(session)
    settings = repo.to_plan_settings(current)
    row = repo.save_constraint_set(session, settings=settings, created_by=who)
    details = {**details, "constraint_set_version": row.version}
    repo.add_audit_event(session, who=who, what=what, details=details)
    return row


def _changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj``; return ``{field: [old, new]}`` for the fields that changed."""
    changed = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changed[name] = [old, new]
            setattr(obj, name, new)
    return changed


def _by_id(session: Session, model: type, ids: list[Any], table: str) -> dict[int, Any]:
    found = {}
    for i, raw in enumerate(ids, start=1):
        obj = session.get(model, int(raw)) if _number(raw) is not None else None
        if obj is None:
            raise BadInput(
                f"Nothing was saved: {table} row {i} refers to id {_show(raw)}, which does not exist."
            )
        found[int(raw)] = obj
    return found


# --------------------------------------------------------------------------- settings


#: editable PlanSettings fields: (label, kind, low, high)
SETTINGS_FIELDS: dict[str, tuple[str, str, float, float]] = {
    "time_limit_s": ("Solver time limit (s)", "float", 1, 600),
    "vehicle_cost": ("Cost of one more vehicle (s of driving)", "int", 0, 86_400),
    "late_penalty_per_min": ("Late penalty per minute", "int", 0, 1_000_000),
    "unserved_penalty": ("Penalty for an unserved stop", "int", 1, 1_000_000_000),
    "stat_weight": ("STAT lateness weight", "int", 1, 1000),
    "stat_promise_min": ("STAT promise (min after receipt)", "int", 30, 1440),
    "max_late_min": ("Max lateness of a routine stop (min)", "int", 0, 480),
    "max_batch_cards": ("Max cards per batch", "int", 1, 5000),
    "cards_per_tote": ("Cards per tote", "int", 1, 1000),
    "large_facility_beds": ("Beds for a batch per unit", "int", 1, 5000),
    "break_after_shift_min": ("Driver break after (min of shift)", "int", 60, 1440),
    "routing_workers": ("Routing searches in parallel (0 = one per core)", "int", 0, 8),
}


#: settings stored in a constraint set that the form does not edit: (label, kind, low, high)
OTHER_SETTINGS_FIELDS: dict[str, tuple[str, str, float, float]] = {
    "packing_time_limit_s": ("Packaging solver time limit (s)", "float", 0.1, 600),
    "routing_time_limit_s": ("Routing solver time limit (s)", "float", 0.1, 600),
    "seed": ("Solver seed", "int", 0, 2**31 - 1),
    "coupling_iterations": ("Coupling rounds", "int", 0, 20),
    "planning_horizon_days": ("Planning horizon (days)", "int", 1, 14),
}

#: pharmacist minutes to verify one card: more than 0, at most 10
MINUTES_PER_CARD_RANGE = (0.0, 10.0)


def check_settings(
    values: Row, *, check: _Checker | None = None, stored: bool = False
) -> tuple[dict[str, Any], list[RowError]]:
    """Check setting values by the rules of :data:`SETTINGS_FIELDS` (the dashboard form's rules).

    Returns the clean values (ints and floats) and one :class:`RowError` per bad value. With
    ``stored`` (values read back from a constraint set) the stored-only settings of
    :data:`OTHER_SETTINGS_FIELDS` are checked too (``None`` is allowed for the stage time limits)
    and unknown keys are ignored; otherwise an unknown name is an error. The form and
    ``problem/builder.py`` both use this function.
    """
    check = check or _Checker("Settings")
    first = len(check.errors)
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        rule = SETTINGS_FIELDS.get(name) or (OTHER_SETTINGS_FIELDS.get(name) if stored else None)
        if rule is None:
            if name == "version" or stored:
                continue
            check.fail(1, name, "is not an editable setting")
            continue
        if stored and raw is None and name.endswith("_time_limit_s"):
            clean[name] = None
            continue
        _, kind, lo, hi = rule
        value = (
            check.integer(1, name, raw, int(lo), int(hi))
            if kind == "int"
            else check.real(1, name, raw, lo, hi)
        )
        if value is not None:
            clean[name] = value
    return clean, check.errors[first:]


def setting_label(name: str) -> str:
    """The form's label of a setting (``"Cards per tote"``), or the name itself."""
    rule = SETTINGS_FIELDS.get(name) or OTHER_SETTINGS_FIELDS.get(name)
    return rule[0] if rule else name


def update_settings(
    session: Session, *, values: Row, who: str, minutes_per_card: Any = None
) -> ConstraintSet | None:
    """Store new objective weights/time limit (and pharmacist minutes per card) as a new version."""
    check = _Checker("Settings")
    current = repo.current_constraint_set(session)
    settings = repo.to_plan_settings(current)
    for name in values:
        if name not in SETTINGS_FIELDS:
            raise BadInput(f"Nothing was saved: {name!r} is not an editable setting")
    new, _ = check_settings(values, check=check)
    mpc = None
    if minutes_per_card is not None:
        lo, hi = MINUTES_PER_CARD_RANGE
        mpc = check.real(1, "minutes_per_card", minutes_per_card, lo, hi, lo_open=True)
    check.raise_if_any()
    changed = {k: [getattr(settings, k), v] for k, v in new.items() if getattr(settings, k) != v}
    if mpc is not None and mpc != current.minutes_per_card:
        changed["minutes_per_card"] = [current.minutes_per_card, mpc]
    if not changed:
        return None
    updated = dataclasses.replace(settings, **new)
    row = repo.save_constraint_set(
        session, settings=updated, created_by=who, minutes_per_card=mpc if mpc is not None else None
    )
    repo.add_audit_event(
        session,
        who=who,
        what="constraints.settings",
        details={"changed": changed, "constraint_set_version": row.version},
    )
    return row


def check_stored_constraint_set(row: ConstraintSet) -> None:
    """Raise :class:`BadInput` naming each bad value of a stored constraint set (what to change).

    The same rules as the dashboard's form (:func:`check_settings`), so a value edited straight in
    the database (``cards_per_tote = 0``, ``"fast"`` as a time limit) stops planning with a
    sentence instead of a crash deep in the solvers.
    """
    check = _Checker("Settings")
    values = row.settings if isinstance(row.settings, Mapping) else {}
    if not isinstance(row.settings, Mapping):
        check.fail(1, "settings", "the stored settings are not a list of named values")
    check_settings(values, check=check, stored=True)
    lo, hi = MINUTES_PER_CARD_RANGE
    check.real(1, "minutes_per_card", row.minutes_per_card, lo, hi, lo_open=True)
    if check.errors:
        what = "; ".join(f"{setting_label(e.column)} ({e.column}) {e.message}" for e in check.errors)
        raise BadInput(
            f"The current constraint set (version {row.version}) has settings that cannot be planned "
            f"with: {what}. Change them on the Constraints page (Settings) and plan again."
        )


# --------------------------------------------------------------------------- vehicles


def update_vehicles(session: Session, *, rows: Sequence[Row], who: str) -> ConstraintSet | None:
    """Edit existing vehicles: capacities, controlled-substance permit, shift, route length, trips, active."""
    check = _Checker("Vehicles")
    objs = _by_id(session, Vehicle, [r.get("id") for r in rows], "Vehicles")
    planned: list[tuple[Vehicle, dict[str, Any]]] = []
    for i, r in enumerate(rows, start=1):
        v = objs[int(r["id"])]
        values = {
            "name": check.text(i, "name", r.get("name", v.name)),
            "tote_capacity": check.integer(
                i, "tote_capacity", r.get("tote_capacity", v.tote_capacity), 1, 500
            ),
            "cold_capacity": check.integer(
                i, "cold_capacity", r.get("cold_capacity", v.cold_capacity), 0, 500
            ),
            "controlled_ok": _flag(r.get("controlled_ok", v.controlled_ok)),
            "shift_start_min": check.clock(i, "shift_start", r.get("shift_start", hhmm(v.shift_start_min))),
            "shift_end_min": check.clock(i, "shift_end", r.get("shift_end", hhmm(v.shift_end_min))),
            "max_route_min": check.integer(
                i, "max_route_min", r.get("max_route_min", v.max_route_min), 1, 1440
            ),
            "max_trips": check.integer(i, "max_trips", r.get("max_trips", v.max_trips), 1, 10),
            "active": _flag(r.get("active", v.active)),
        }
        tc, cc = values["tote_capacity"], values["cold_capacity"]
        if tc is not None and cc is not None and cc > tc:
            check.fail(i, "cold_capacity", f"cannot exceed the tote capacity ({tc})")
        s, e = values["shift_start_min"], values["shift_end_min"]
        if s is not None and e is not None and e <= s:
            check.fail(i, "shift_end", f"must be after the shift start ({hhmm(s)})")
        planned.append((v, values))
    names = [values["name"] for _, values in planned if values["name"]]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        check.fail(names.index(dup) + 1, "name", f"{dup!r} is used by more than one vehicle")
    if not any(values["active"] for _, values in planned) and planned:
        check.fail(1, "active", "at least one vehicle must stay active")
    check.raise_if_any()
    return _apply(session, planned, who=who, what="constraints.vehicles")


def _apply(
    session: Session, planned: Sequence[tuple[Any, dict[str, Any]]], *, who: str, what: str
) -> ConstraintSet | None:
    changes: dict[str, dict[str, list[Any]]] = {}
    for obj, values in planned:
        changed = _changes(obj, values)
        if changed:
            changes[getattr(obj, "name", str(obj.id))] = changed
            session.add(obj)
    if not changes:
        return None
    session.flush()
    return _bump_version(session, who=who, what=what, details={"changed": changes})


# --------------------------------------------------------------------------- packaging lines


def update_packaging_lines(session: Session, *, rows: Sequence[Row], who: str) -> ConstraintSet | None:
    """Edit existing packaging lines: rate, changeovers, hours, active."""
    check = _Checker("Packaging lines")
    objs = _by_id(session, PackagingLine, [r.get("id") for r in rows], "Packaging lines")
    planned = []
    for i, r in enumerate(rows, start=1):
        p = objs[int(r["id"])]
        values = {
            "cards_per_hour": check.integer(
                i, "cards_per_hour", r.get("cards_per_hour", p.cards_per_hour), 1, 5000
            ),
            "changeover_kind_min": check.integer(
                i, "changeover_kind_min", r.get("changeover_kind_min", p.changeover_kind_min), 0, 240
            ),
            "changeover_facility_min": check.integer(
                i,
                "changeover_facility_min",
                r.get("changeover_facility_min", p.changeover_facility_min),
                0,
                240,
            ),
            "available_start_min": check.clock(
                i, "available_start", r.get("available_start", hhmm(p.available_start_min))
            ),
            "available_end_min": check.clock(
                i, "available_end", r.get("available_end", hhmm(p.available_end_min))
            ),
            "active": _flag(r.get("active", p.active)),
        }
        s, e = values["available_start_min"], values["available_end_min"]
        if s is not None and e is not None and e <= s:
            check.fail(i, "available_end", f"must be after the start ({hhmm(s)})")
        planned.append((p, values))
    if planned and not any(values["active"] for _, values in planned):
        check.fail(1, "active", "at least one packaging line must stay active")
    check.raise_if_any()
    return _apply(session, planned, who=who, what="constraints.packaging_lines")


# --------------------------------------------------------------------------- pharmacists


def update_pharmacist_shifts(
    session: Session, *, rows: Sequence[Row], who: str, minutes_per_card: Any = None
) -> ConstraintSet | None:
    """Edit, add (rows without ``id``) or deactivate pharmacist shifts; optionally minutes per card."""
    check = _Checker("Pharmacist shifts")
    planned: list[tuple[PharmacistShift, dict[str, Any]]] = []
    for i, r in enumerate(rows, start=1):
        raw_id = r.get("id")
        if _number(raw_id) is not None:
            obj = session.get(PharmacistShift, int(raw_id))
            if obj is None:
                raise BadInput(f"Nothing was saved: Pharmacist shifts row {i}: no shift with id {raw_id}.")
        else:
            obj = PharmacistShift(name="", start_min=0, end_min=1)
        values = {
            "name": check.text(i, "name", r.get("name")),
            "start_min": check.clock(i, "start", r.get("start")),
            "end_min": check.clock(i, "end", r.get("end")),
            "active": _flag(r.get("active"), default=True),
        }
        s, e = values["start_min"], values["end_min"]
        if s is not None and e is not None and e <= s:
            check.fail(i, "end", f"must be after the start ({hhmm(s)})")
        planned.append((obj, values))
    names = [values["name"] for _, values in planned if values["name"]]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        check.fail(names.index(dup) + 1, "name", f"{dup!r} is used by more than one shift")
    if not any(values["active"] for _, values in planned):
        check.fail(1, "active", "at least one pharmacist shift must stay active")
    mpc = None
    current = repo.current_constraint_set(session)
    if minutes_per_card is not None:
        mpc = check.real(1, "minutes_per_card", minutes_per_card, 0.0, 10.0, lo_open=True)
    check.raise_if_any()
    changes: dict[str, Any] = {}
    for obj, values in planned:
        if obj.id is None:
            for k, v in values.items():
                setattr(obj, k, v)
            session.add(obj)
            changes[str(values["name"])] = "added"
            continue
        changed = _changes(obj, values)
        if changed:
            changes[obj.name] = changed
            session.add(obj)
    if mpc is not None and mpc != current.minutes_per_card:
        changes["minutes_per_card"] = [current.minutes_per_card, mpc]
    if not changes:
        return None
    session.flush()
    settings = repo.to_plan_settings(current)
    row = repo.save_constraint_set(session, settings=settings, created_by=who, minutes_per_card=mpc)
    repo.add_audit_event(
        session,
        who=who,
        what="constraints.pharmacists",
        details={"changed": changes, "constraint_set_version": row.version},
    )
    return row


# --------------------------------------------------------------------------- facilities


def facility_windows_text(session: Session, *, weekday: int) -> dict[int, str]:
    """``{facility_id: "08:00-11:00, 14:00-16:00"}`` for one weekday (0 = Monday)."""
    out: dict[int, list[tuple[int, int]]] = {}
    for w in session.exec(
        select(FacilityWindow)
        .where(FacilityWindow.weekday == weekday)
        .order_by(col(FacilityWindow.start_min))
    ):
        out.setdefault(w.facility_id, []).append((w.start_min, w.end_min))
    return {fid: windows_text(ws) for fid, ws in out.items()}


def update_facilities(
    session: Session, *, rows: Sequence[Row], weekday: int, who: str
) -> ConstraintSet | None:
    """Edit facilities' service times and their delivery windows on ``weekday`` (0 = Monday).

    ``windows`` is text like ``"08:00-11:00, 14:00-16:00"``; an empty text means no delivery that day.
    """
    if not 0 <= weekday <= 6:
        raise BadInput(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
    check = _Checker("Facilities")
    objs = _by_id(session, Facility, [r.get("id") for r in rows], "Facilities")
    current_windows = facility_windows_text(session, weekday=weekday)
    planned = []
    new_windows: dict[int, list[tuple[int, int]]] = {}
    for i, r in enumerate(rows, start=1):
        f = objs[int(r["id"])]
        values = {
            "service_fixed_min": check.integer(
                i, "service_fixed_min", r.get("service_fixed_min", f.service_fixed_min), 0, 240
            ),
            "service_per_tote_min": check.real(
                i, "service_per_tote_min", r.get("service_per_tote_min", f.service_per_tote_min), 0, 60
            ),
        }
        if "windows" in r:
            ws = parse_windows(r["windows"])
            if ws is None:
                check.fail(
                    i, "windows", f"write windows as 08:00-11:00, 14:00-16:00 (got {_show(r['windows'])})"
                )
            elif any(b > 2880 for _, b in ws):
                check.fail(i, "windows", "a window must end within the next day (before 48:00)")
            elif windows_text(ws) != current_windows.get(f.id or -1, ""):
                new_windows[int(r["id"])] = ws
        planned.append((f, values))
    check.raise_if_any()
    changes: dict[str, Any] = {}
    for obj, values in planned:
        changed = _changes(obj, values)
        if changed:
            changes[obj.name] = changed
            session.add(obj)
    for fid, ws in new_windows.items():
        for old in session.exec(
            select(FacilityWindow).where(FacilityWindow.facility_id == fid, FacilityWindow.weekday == weekday)
        ):
            session.delete(old)
        for a, b in ws:
            session.add(FacilityWindow(facility_id=fid, weekday=weekday, start_min=a, end_min=b))
        name = objs[fid].name
        changes.setdefault(name, {})["windows"] = [current_windows.get(fid, ""), windows_text(ws)]
    if not changes:
        return None
    session.flush()
    return _bump_version(
        session, who=who, what="constraints.facilities", details={"changed": changes, "weekday": weekday}
    )
