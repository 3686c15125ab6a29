"""A STAT line imported without ``need_by`` is promised ``received_at`` + the current constraint
set's ``stat_promise_min``; other classes still need it (a sentence naming row and column)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlmodel import Session

from ltc_scheduler.config import PROJECT_ROOT
from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.errors import BadInput, RowError
from ltc_scheduler.importers import CsvText, import_facilities, import_medications, import_orders
from ltc_scheduler.problem.model import PlanSettings

EXAMPLES = PROJECT_ROOT / "data" / "examples"
TZ = "America/Chicago"
HEADER = "external_id,facility_id,resident_id,medication,order_class,doses,cards,received_at,need_by"


def _masterdata(session: Session) -> tuple[str, str]:
    import_facilities(session, EXAMPLES / "facilities.csv")
    import_medications(session, EXAMPLES / "medications.csv")
    fac = session.query(m.Facility).order_by(m.Facility.id).first()
    med = session.query(m.Medication).order_by(m.Medication.id).first()
    return fac.external_id, med.name


def _need_by(session: Session, ext: str) -> dt.datetime:
    row = session.query(m.OrderLine).filter(m.OrderLine.external_id == ext).one()
    return row.need_by.replace(tzinfo=dt.UTC) if row.need_by.tzinfo is None else row.need_by


def test_a_stat_line_without_need_by_gets_the_current_stat_promise(session: Session) -> None:
    fac, med = _masterdata(session)
    repo.save_constraint_set(
        session, settings=dataclasses.replace(PlanSettings(), stat_promise_min=90), created_by="test"
    )
    text = (
        f"{HEADER}\n"
        f"S1,{fac},R1,{med},stat,1,1,2026-12-01 09:00,\n"
        f"S2,{fac},R1,{med},first_dose,1,1,2026-12-01 10:30,2026-12-01 16:00\n"
    )
    assert import_orders(session, CsvText("orders.csv", text), tz=TZ)["inserted"] == 2
    # 09:00 Chicago (UTC-6) + 90 min = 10:30 local = 16:30 UTC; a given need_by is kept
    assert _need_by(session, "S1") == dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC)
    assert _need_by(session, "S2") == dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC)
    # a new promise applies to lines imported after the change
    repo.save_constraint_set(
        session, settings=dataclasses.replace(PlanSettings(), stat_promise_min=240), created_by="test"
    )
    text = "external_id,facility_id,resident_id,medication,order_class,doses,cards,received_at\n"
    text += f"S3,{fac},R1,{med},stat,1,1,2026-12-01 09:00\n"
    import_orders(session, CsvText("orders.csv", text), tz=TZ)
    assert _need_by(session, "S3") == dt.datetime(2026, 12, 1, 19, 0, tzinfo=dt.UTC)


def test_other_classes_still_need_need_by(session: Session) -> None:
    fac, med = _masterdata(session)
    text = f"{HEADER}\nR9,{fac},R1,{med},refill,1,1,2026-12-01 09:00,\n"
    with pytest.raises(BadInput) as info:
        import_orders(session, CsvText("orders.csv", text), tz=TZ)
    assert info.value.errors == [
        RowError(
            "orders.csv",
            2,
            "need_by",
            "is required for a refill line (only a STAT line without it gets the STAT promise of the "
            "Constraints page)",
        )
    ]
