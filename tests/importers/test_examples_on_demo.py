"""The README's import example runs on a fresh demo database and touches no demo row."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from sqlmodel import Session, select

from ltc_scheduler.db import models as m
from ltc_scheduler.db.engine import make_engine
from ltc_scheduler.importers import import_facilities, import_medications, import_orders

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "data" / "examples"
SOURCES = ROOT / "data" / "facilities"


def _rows(session: Session, table: type) -> dict[int, tuple]:
    cols = [c.name for c in table.__table__.columns if c.name not in ("created_at", "updated_at")]
    return {r.id: tuple(getattr(r, c) for c in cols) for r in session.exec(select(table)).all()}


def test_example_ids_cannot_be_demo_ids() -> None:
    """No example facility id is a CMS number the demo draws from, nor a synthetic demo id."""
    cms = set()
    for f in SOURCES.glob("*.csv"):
        with f.open(encoding="utf-8") as fh:
            cms |= {r["provider_id"] for r in csv.DictReader(fh)}
    with (EXAMPLES / "facilities.csv").open(encoding="utf-8") as fh:
        ids = [r["external_id"] for r in csv.DictReader(fh)]
    assert ids and not set(ids) & cms
    assert not any(i.startswith("SYN-") for i in ids)


def test_readme_import_example_on_a_demo_database(demo_small_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_small_template, path)
    engine = make_engine(f"sqlite:///{path}")
    tables = (m.Facility, m.FacilityWindow, m.Resident, m.Medication, m.OrderLine)
    with Session(engine) as s:
        before = {t.__name__: _rows(s, t) for t in tables}
        fac = import_facilities(s, EXAMPLES / "facilities.csv")
        med = import_medications(s, EXAMPLES / "medications.csv")
        orders = import_orders(s, EXAMPLES / "orders.csv", tz="America/Chicago")
        s.commit()
        after = {t.__name__: _rows(s, t) for t in tables}
    engine.dispose()
    assert (fac["inserted"], fac["updated"]) == (3, 0)
    assert (med["inserted"], med["updated"]) == (6, 0)
    assert (orders["inserted"], orders["updated"]) == (7, 0)
    for name, rows in before.items():
        assert {k: after[name][k] for k in rows} == rows, f"a demo {name} row changed"
    assert len(after["Facility"]) == len(before["Facility"]) + 3
    assert len(after["OrderLine"]) == len(before["OrderLine"]) + 7
