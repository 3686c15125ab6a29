"""CSV import: good files, bad files (exact row/column), all-or-nothing, idempotent re-import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler.config import PROJECT_ROOT
from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.enums import OrderClass, OrderStatus
from ltc_scheduler.errors import BadInput, RowError
from ltc_scheduler.importers import CsvText, import_facilities, import_medications, import_orders

EXAMPLES = PROJECT_ROOT / "data" / "examples"
TZ = "America/Chicago"
ORDER_HEADER = (
    "external_id,facility_id,resident_id,unit,room,medication,ndc,order_class,doses,cards,received_at,need_by"
)


def _load_examples(session: Session) -> None:
    import_facilities(session, EXAMPLES / "facilities.csv")
    import_medications(session, EXAMPLES / "medications.csv")
    import_orders(session, EXAMPLES / "orders.csv", tz=TZ)
    session.commit()


def _snapshot(session: Session) -> dict[str, list[tuple]]:
    out = {}
    for table in (m.Facility, m.FacilityWindow, m.Resident, m.Medication, m.OrderLine):
        t = table.__table__
        cols = [c for c in t.columns if c.name not in ("created_at", "updated_at")]
        out[t.name] = [tuple(r) for r in session.execute(sa.select(*cols).order_by(t.c.id))]
    return out


def test_example_files_import(session: Session) -> None:
    _load_examples(session)
    counts = repo.count_rows(session)
    assert (counts["facility"], counts["medication"], counts["order_line"], counts["resident"]) == (
        3,
        6,
        7,
        6,
    )
    alf = session.exec(select(m.Facility).where(m.Facility.external_id == "EX-ALF-0001")).one()
    assert (alf.kind, alf.has_fridge, alf.cycle_weekday, alf.cycle_length_days) == (
        "assisted_living",
        False,
        0,
        28,
    )
    windows = session.exec(select(m.FacilityWindow).where(m.FacilityWindow.facility_id == alf.id)).all()
    assert sorted((w.weekday, w.start_min, w.end_min) for w in windows) == (
        [(d, 780, 990) for d in range(5)] + [(5, 600, 690), (6, 600, 690)]
    )
    snf = session.exec(select(m.Facility).where(m.Facility.external_id == "EX-SNF-0002")).one()
    assert snf.kind == "skilled_nursing" and snf.service_per_tote_min == 1.5
    stat = session.exec(select(m.OrderLine).where(m.OrderLine.external_id == "EX-0003")).one()
    assert stat.order_class == OrderClass.STAT and stat.status == OrderStatus.OPEN
    assert stat.received_at == dt.datetime(2026, 12, 1, 13, 30, tzinfo=dt.UTC)  # 07:30 Chicago
    oxy = session.exec(select(m.Medication).where(m.Medication.ndc == "99999-0052-01")).one()
    assert stat.medication_id == oxy.id
    prn = session.exec(select(m.OrderLine).where(m.OrderLine.external_id == "EX-0006")).one()
    assert prn.need_by == dt.datetime(2026, 12, 2, 5, 59, tzinfo=dt.UTC)  # bare date = 23:59 local
    res = session.exec(select(m.Resident).where(m.Resident.external_id == "EX-SNF-0002-R0002")).one()
    assert (res.unit, res.room, res.facility_id) == ("South", "215B", snf.id)


def test_reimport_updates_instead_of_duplicating(session: Session) -> None:
    _load_examples(session)
    before = _snapshot(session)
    r1 = import_facilities(session, EXAMPLES / "facilities.csv")
    r2 = import_medications(session, EXAMPLES / "medications.csv")
    r3 = import_orders(session, EXAMPLES / "orders.csv", tz=TZ)
    session.commit()
    assert (r1["inserted"], r1["updated"]) == (0, 3)
    assert (r2["inserted"], r2["updated"]) == (0, 6)
    assert (r3["inserted"], r3["updated"], r3["residents_created"]) == (0, 7, 0)
    assert _snapshot(session) == before


def test_reimport_changes_values_and_keeps_status_without_status_column(session: Session) -> None:
    _load_examples(session)
    session.execute(
        sa.update(m.OrderLine).where(m.OrderLine.external_id == "EX-0001").values(status="planned")
    )
    session.commit()
    text = (
        f"{ORDER_HEADER}\n"
        "EX-0001,EX-SNF-0001,EX-SNF-0001-R0001,West,301,Simvastatin 20 mg tablet,,cycle_fill,14,2,"
        "2026-11-28 10:00,2026-12-01 11:00\n"
    )
    result = import_orders(session, CsvText("orders.csv", text), tz=TZ)
    session.commit()
    assert (result["inserted"], result["updated"]) == (0, 1)
    line = session.exec(select(m.OrderLine).where(m.OrderLine.external_id == "EX-0001")).one()
    assert (line.cards, line.doses, line.status) == (2, 14, "planned")
    res = session.get(m.Resident, line.resident_id)
    assert (res.unit, res.room) == ("West", "301")


def test_bad_rows_are_all_listed_with_row_and_column_and_nothing_changes(session: Session) -> None:
    _load_examples(session)
    before = _snapshot(session)
    text = (
        f"{ORDER_HEADER}\n"
        "N-1,EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
        "N-2,EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-02 12:00\n"
        "\n"  # blank line: row 4, skipped but counted
        "N-3,999999,R-8,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
        "N-4,EX-SNF-0001,R-9,North,1,Aspirin 81 mg,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
        "N-5,EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-13-01\n"
        "N-6,EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,seven,1,"
        "2026-12-01 08:00,2026-12-01 12:00\n"
        # a duplicate of row 2:
        "N-1,EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
        "N-8,EX-SNF-0001,R-9,North,1,,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"  # no medication
        "N-9,EX-SNF-0001,R-9,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-11-30 12:00\n"
        "N-10,EX-SNF-0001,R-9,North,1,,12345-6789-00,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
    )
    with pytest.raises(BadInput) as info:
        import_orders(session, CsvText("orders.csv", text), tz=TZ)
    session.rollback()
    errors = info.value.errors
    assert [(e.row, e.column) for e in errors] == [
        (5, "facility_id"),
        (6, "medication"),
        (7, "need_by"),
        (8, "doses"),
        (9, "external_id"),
        (10, "medication"),
        (11, "need_by"),
        (12, "ndc"),
    ]
    assert (
        str(errors[2]) == "orders.csv row 7, need_by: '2026-13-01' is not a date (expected YYYY-MM-DD HH:MM)"
    )
    assert errors[0].message == "unknown facility '999999'"
    assert errors[1].message == "unknown medication 'Aspirin 81 mg'"
    assert errors[4].message == "'N-1' already appears in row 2"
    assert errors[6].message == "is before received_at"
    assert "orders.csv: nothing was imported; 8 problem(s) in 8 row(s)" in str(info.value)
    assert _snapshot(session) == before


def test_missing_required_column_is_reported_on_row_1(session: Session) -> None:
    text = "external_id,name,kind,latitude,longitude\nX,Y,SNF,41,-87\n"
    with pytest.raises(BadInput) as info:
        import_facilities(session, CsvText("facilities.csv", text))
    assert info.value.errors == [RowError("facilities.csv", 1, "windows", "required column is missing")]


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("kind=castle", "kind", "'castle' is not a facility kind"),
        ("latitude=91", "latitude", "'91' must be at most 90"),
        ("windows=12:00-09:00", "windows", "'12:00-09:00' ends before it starts"),
        ("windows=09:00-11:00; 10:00-12:00", "windows", "windows overlap on Mon"),
        ("windows=Funday 09:00-11:00", "windows", "days must be like"),
        ("windows=09:00-25:00", "windows", "impossible time of day"),
        ("cycle_length_days=10", "cycle_length_days", "'10' must be 7, 14 or 28"),
        ("beds=-3", "beds", "'-3' must be at least 0"),
        ("has_fridge=maybe", "has_fridge", "'maybe' is not yes/no"),
        ("name=", "name", "is required"),
    ],
)
def test_facility_field_errors(session: Session, cell: str, column: str, message: str) -> None:
    values = {
        "external_id": "X1",
        "name": "X Home",
        "kind": "SNF",
        "latitude": "41.9",
        "longitude": "-87.7",
        "windows": "09:30-12:00",
        "beds": "100",
        "cycle_length_days": "7",
        "has_fridge": "yes",
    }
    key, value = cell.split("=", 1)
    values[key] = value
    text = ",".join(values) + "\n" + ",".join(f'"{v}"' for v in values.values()) + "\n"
    with pytest.raises(BadInput) as info:
        import_facilities(session, CsvText("facilities.csv", text))
    (err,) = info.value.errors
    assert (err.file, err.row, err.column) == ("facilities.csv", 2, column)
    assert message in err.message
    assert repo.count_rows(session)["facility"] == 0


def test_unknown_columns_are_ignored_and_case_does_not_matter(session: Session) -> None:
    text = (
        "External_ID,NAME,Kind,Latitude,Longitude,Windows,Comment\nX1,Home,NF,41.9,-87.7,10:00-11:00,hello\n"
    )
    assert import_facilities(session, CsvText("f.csv", text)) == {"rows": 1, "inserted": 1, "updated": 0}
    assert session.exec(select(m.Facility)).one().kind == "nursing_facility"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("a,b\x00,c\n", "NUL"),
    ],
)
def test_unreadable_files(session: Session, text: str, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        import_orders(session, CsvText("orders.csv", text), tz=TZ)


def test_file_problems(session: Session, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="file not found"):
        import_orders(session, tmp_path / "missing.csv", tz=TZ)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("name,packaging_kind\nCaf\xe9,vial_bottle\n".encode("latin-1"))
    with pytest.raises(BadInput, match="not UTF-8"):
        import_medications(session, latin)
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffname,packaging_kind\nTea tree oil,vial_bottle\n".encode())
    assert import_medications(session, bom)["inserted"] == 1


def test_row_with_too_many_values(session: Session) -> None:
    text = "name,packaging_kind\nA,vial_bottle,extra\n"
    with pytest.raises(BadInput) as info:
        import_medications(session, CsvText("m.csv", text))
    assert info.value.errors == [RowError("m.csv", 2, "(row)", "has 3 values but the header has 2 columns")]


def test_resident_in_two_facilities_in_one_file_is_an_error(session: Session) -> None:
    _load_examples(session)
    text = (
        f"{ORDER_HEADER}\n"
        "Z-1,EX-SNF-0001,RX,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
        "Z-2,EX-SNF-0002,RX,North,1,Simvastatin 20 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00\n"
    )
    with pytest.raises(BadInput) as info:
        import_orders(session, CsvText("orders.csv", text), tz=TZ)
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "resident_id")]


def test_imported_orders_build_into_the_day(session: Session) -> None:
    """Lines written by the bulk path read back and select exactly like ORM-written ones."""
    from ltc_scheduler.problem.builder import build_problem

    session.add(m.Depot(name="Pharmacy", lat=42.0, lon=-87.7))
    _load_examples(session)
    problem = build_problem(session, date=dt.date(2026, 12, 1), timezone=TZ)
    assert [o.external_id for o in problem.orders] == [f"EX-000{i}" for i in range(1, 8)]
    by_ext = {o.external_id: o for o in problem.orders}
    assert (by_ext["EX-0003"].received_min, by_ext["EX-0003"].need_by_min) == (450, 690)
    assert by_ext["EX-0006"].need_by_min == 23 * 60 + 59
    assert by_ext["EX-0003"].controlled and by_ext["EX-0004"].cold
    assert build_problem(session, date=dt.date(2026, 11, 30), timezone=TZ).orders == ()


def test_reimport_replaces_changed_windows_and_updates_fields(session: Session) -> None:
    _load_examples(session)
    text = (
        "external_id,name,kind,latitude,longitude,windows,beds\n"
        "EX-SNF-0001,Alpine Care of Evanston (renamed),SNF,42.0267,-87.69,Sat-Sun 10:00-11:00,130\n"
    )
    assert import_facilities(session, CsvText("facilities.csv", text)) == {
        "rows": 1,
        "inserted": 0,
        "updated": 1,
    }
    session.commit()
    fac = session.exec(select(m.Facility).where(m.Facility.external_id == "EX-SNF-0001")).one()
    assert (fac.name, fac.beds, fac.service_fixed_min) == ("Alpine Care of Evanston (renamed)", 130, 10)
    windows = session.exec(select(m.FacilityWindow).where(m.FacilityWindow.facility_id == fac.id)).all()
    assert sorted((w.weekday, w.start_min, w.end_min) for w in windows) == [(5, 600, 660), (6, 600, 660)]
    assert repo.count_rows(session)["facility"] == 3


def test_medication_reimport_matches_by_ndc_and_rejects_conflicts(session: Session) -> None:
    _load_examples(session)
    rename = (
        "name,ndc,packaging_kind,schedule\nAmlodipine besylate 5 mg tablet,99999-0001-01,unit_dose_card,C4\n"
    )
    assert import_medications(session, CsvText("m.csv", rename))["updated"] == 1
    med = session.exec(select(m.Medication).where(m.Medication.ndc == "99999-0001-01")).one()
    assert (med.name, med.packaging_kind, med.schedule) == (
        "Amlodipine besylate 5 mg tablet",
        "unit_dose_card",
        "IV",
    )
    clash = "name,ndc,packaging_kind\nHydromorphone 2 mg tablet,99999-0001-01,unit_dose_card\n"
    with pytest.raises(BadInput) as info:
        import_medications(session, CsvText("m.csv", clash))
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "name")]


def test_bulk_path_stores_timestamps_exactly_like_the_orm(sqlite_engine: sa.Engine) -> None:
    """SQLite compares timestamps as text: the driver-level path must write SQLAlchemy's format."""
    with Session(sqlite_engine) as session:
        _load_examples(session)
        stat = session.exec(select(m.OrderLine).where(m.OrderLine.external_id == "EX-0003")).one()
        orm_line = m.OrderLine(
            external_id="ORM-1",
            resident_id=stat.resident_id,
            facility_id=stat.facility_id,
            medication_id=stat.medication_id,
            order_class=OrderClass.STAT,
            received_at=stat.received_at,
            need_by=stat.need_by,
        )
        session.add(orm_line)
        session.commit()
        raw = (
            session.connection()
            .exec_driver_sql(
                "SELECT external_id, received_at, need_by FROM order_line "
                "WHERE external_id IN ('EX-0003', 'ORM-1') "
                "ORDER BY external_id"
            )
            .all()
        )
    assert raw[0][1:] == raw[1][1:] == ("2026-12-01 13:30:00.000000", "2026-12-01 17:30:00.000000")
