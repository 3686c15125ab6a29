"""Property: malformed CSVs never crash the importer with a traceback and never half-import."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from ltc_scheduler.db import repository as repo
from ltc_scheduler.errors import BadInput
from ltc_scheduler.importers import CsvText, import_facilities, import_medications, import_orders

GOOD_ORDER = (
    "EX-{i},145011,R-{i},North,101,Amlodipine 5 mg tablet,,refill,7,1,2026-12-01 08:00,2026-12-01 12:00"
)
HEADER = (
    "external_id,facility_id,resident_id,unit,room,medication,ndc,order_class,doses,cards,received_at,need_by"
)

cell = st.one_of(
    st.sampled_from(
        [
            "",
            "x",
            "0",
            "-1",
            "7",
            "2026-13-01",
            "2026-12-01 25:00",
            "stat",
            "SNF",
            "09:00-08:00",
            "145011",
            "Amlodipine 5 mg tablet",
            '"',
            "a,b",
            "1e309",
            "nan",
            "9999-12-31 23:59-05:00",
            "0001-01-01 00:00+05:00",
            "9999-12-31",
            "\ufeff",
            "\r",
            "\n",
        ]
    ),
    st.text(max_size=12),
)
row = st.lists(cell, min_size=0, max_size=14).map(lambda cells: ",".join(cells))


def _seed(session: Session) -> None:
    import_facilities(
        session,
        CsvText(
            "f.csv",
            "external_id,name,kind,latitude,longitude,windows\n145011,Alpine,SNF,42.03,-87.69,09:30-12:00\n",
        ),
    )
    import_medications(
        session, CsvText("m.csv", "name,packaging_kind\nAmlodipine 5 mg tablet,multi_dose_blister\n")
    )
    session.commit()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(st.just(HEADER), row),
    good_rows=st.integers(min_value=0, max_value=3),
    bad_rows=st.lists(row, min_size=1, max_size=4),
)
def test_malformed_orders_never_crash_or_half_import(
    sqlite_engine: sa.Engine, header: str, good_rows: int, bad_rows: list[str]
) -> None:
    with Session(sqlite_engine) as session:
        if not repo.count_rows(session)["facility"]:
            _seed(session)
        before = repo.count_rows(session)
        lines = [header] + [GOOD_ORDER.format(i=i) for i in range(good_rows)] + bad_rows
        text = "\n".join(lines) + "\n"
        try:
            result = import_orders(session, CsvText("orders.csv", text), tz="America/Chicago")
        except BadInput as exc:
            session.rollback()
            assert repo.count_rows(session) == before  # nothing written
            for err in exc.errors:
                assert err.file == "orders.csv" and err.row >= 1 and err.column
        else:
            # every row was good: all of them landed, none was dropped silently
            n_data = sum(1 for line in lines[1:] if line.strip(", \r\n\ufeff"))
            assert result["rows"] == result["inserted"] + result["updated"] <= n_data
            assert repo.count_rows(session)["order_line"] == before["order_line"] + result["inserted"]
            session.rollback()  # keep the DB as it was for the next example
        assert repo.count_rows(session)["order_line"] == before["order_line"]


FACILITY_HEADER = (
    "external_id,name,kind,latitude,longitude,windows,beds,cycle_weekday,cycle_length_days,has_fridge"
)
MEDICATION_HEADER = "name,ndc,form,schedule,refrigerated,packaging_kind"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.sampled_from(["facilities", "medications"]),
    with_header=st.booleans(),
    body=st.lists(st.one_of(row, st.text(max_size=80)), max_size=5),
)
def test_arbitrary_text_as_master_data_file(
    sqlite_engine: sa.Engine, which: str, with_header: bool, body: list[str]
) -> None:
    header = FACILITY_HEADER if which == "facilities" else MEDICATION_HEADER
    text = "\n".join(([header] if with_header else []) + body)
    func = import_facilities if which == "facilities" else import_medications
    with Session(sqlite_engine) as session:
        before = repo.count_rows(session)
        try:
            func(session, CsvText(f"{which}.csv", text))
        except BadInput as exc:
            assert all(e.file == f"{which}.csv" and e.row >= 1 for e in exc.errors)
            session.rollback()
            assert repo.count_rows(session) == before
        session.rollback()


timestamp = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat(sep=" ")),
    st.dates().map(str),
    st.sampled_from(
        ["9999-12-31 23:59-05:00", "0001-01-01 00:00+05:00", "2026-02-30 10:00", "2026-12-01T24:00"]
    ),
    st.text(max_size=20),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(received=timestamp, need_by=timestamp, doses=st.one_of(st.integers().map(str), st.text(max_size=6)))
def test_any_timestamps_and_quantities_never_crash(
    sqlite_engine: sa.Engine, received: str, need_by: str, doses: str
) -> None:
    with Session(sqlite_engine) as session:
        if not repo.count_rows(session)["facility"]:
            _seed(session)
        before = repo.count_rows(session)
        cells = [
            "T-1",
            "145011",
            "R-1",
            "North",
            "1",
            "Amlodipine 5 mg tablet",
            "",
            "refill",
            doses,
            "1",
            received,
            need_by,
        ]
        text = HEADER + "\n" + ",".join('"' + c.replace('"', '""') + '"' for c in cells) + "\n"
        try:
            import_orders(session, CsvText("orders.csv", text), tz="America/Chicago")
        except BadInput as exc:
            assert {e.row for e in exc.errors} <= {2}  # a NUL byte fails the whole file
            session.rollback()
            assert repo.count_rows(session) == before
        session.rollback()
