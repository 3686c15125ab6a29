"""Database fixtures shared by the whole suite.

Every test gets its own database: a copy of a migrated SQLite file (cheap), or on PostgreSQL a
fresh, uniquely named schema (``t_<hex>``) in the ``test`` database, dropped afterwards, so that
several people can run the suite against the same server at the same time. PostgreSQL runs only
when ``LTC_TEST_DATABASE_URL`` is set (``.ci/run`` sets it).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ltc_scheduler.db.engine import init_db, make_engine

PG_URL = os.environ.get("LTC_TEST_DATABASE_URL") or None
DB_KINDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

DEMO_DATE = dt.date(2026, 12, 1)
DEMO_SEED = 7


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database migrated to head once per test session; tests get copies of it."""
    path = tmp_path_factory.mktemp("db_template") / "template.db"
    eng = make_engine(_sqlite_url(path))
    init_db(eng)
    eng.dispose()  # closes the last connection: WAL is checkpointed into the main file
    return path


def _copy_sqlite(template: Path, dest: Path) -> sa.Engine:
    shutil.copyfile(template, dest)
    return make_engine(_sqlite_url(dest))


class PgSchema:
    """A throw-away PostgreSQL schema; ``engine`` has it as its ``search_path``."""

    def __init__(self, url: str) -> None:
        self.name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin = make_engine(url)
        with self._admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        self.engine = make_engine(url, schema=self.name)

    def drop(self) -> None:
        self.engine.dispose()
        with self._admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self._admin.dispose()


@pytest.fixture(params=DB_KINDS)
def engine(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated, empty database for this test only: SQLite always, PostgreSQL too when
    ``LTC_TEST_DATABASE_URL`` is set (the test runs once per database)."""
    if request.param == "sqlite":
        eng = _copy_sqlite(sqlite_template, tmp_path / "test.db")
        yield eng
        eng.dispose()
        return
    assert PG_URL is not None
    schema = PgSchema(PG_URL)
    try:
        init_db(schema.engine)
        yield schema.engine
    finally:
        schema.drop()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session on this test's own migrated ``engine`` (so it runs on SQLite and PostgreSQL).

    The database is private to the test: committing is allowed and leaks nowhere.
    """
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated, empty SQLite database for this test only (for slow tests that needn't run twice)."""
    eng = _copy_sqlite(sqlite_template, tmp_path / "sqlite_only.db")
    yield eng
    eng.dispose()


@pytest.fixture
def empty_pg_engine() -> Iterator[sa.Engine]:
    """An un-migrated, empty PostgreSQL schema (skipped without ``LTC_TEST_DATABASE_URL``)."""
    if not PG_URL:
        pytest.skip("LTC_TEST_DATABASE_URL is not set")
    schema = PgSchema(PG_URL)
    try:
        yield schema.engine
    finally:
        schema.drop()


@pytest.fixture(scope="session")
def demo_small_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file seeded once per session: ``generate_demo(scale="small", date=2026-12-01, seed=7)``."""
    from ltc_scheduler.db.engine import session_scope
    from ltc_scheduler.demo import generate_demo

    path = tmp_path_factory.mktemp("demo_template") / "demo_small.db"
    eng = _copy_sqlite(sqlite_template, path)
    with session_scope(eng) as s:
        generate_demo(s, scale="small", date=DEMO_DATE, seed=DEMO_SEED, timezone="America/Chicago")
    eng.dispose()
    return path


@pytest.fixture(scope="module")
def demo_engine_small(
    demo_small_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """SQLite engine on the small demo day (15 Cook County facilities, about 1,800 open order lines
    due 2026-12-01, seed 7). Generated once per session and copied per test module, so a module may
    write to it (e.g. save plans) without affecting other modules."""
    path = tmp_path_factory.mktemp("demo_small") / "demo_small.db"
    eng = _copy_sqlite(demo_small_template, path)
    yield eng
    eng.dispose()


@pytest.fixture
def tiny(session: Session) -> dict[str, int]:
    """A minimal committed pharmacy in ``session``: 1 depot, 2 facilities (windows on every weekday:
    A 09:30-12:00, B 13:00-16:30 and 18:00-19:30), 3 residents, 3 medications (routine blister,
    controlled unit-dose, cold vial), 1 packaging line, 1 pharmacist, 2 vehicles, constraint set v1,
    and 5 order lines around 2026-12-01 (America/Chicago). Returns the ids by name."""
    from ltc_scheduler.db import models as m
    from ltc_scheduler.enums import ControlledSchedule, FacilityKind, OrderClass, OrderStatus, PackagingKind

    def utc(day: int, hh: int, mm: int = 0) -> dt.datetime:
        """Local time ``hh:mm`` on 2026-12-01 + ``day`` days (America/Chicago is UTC-6 in December)."""
        local = dt.datetime(2026, 12, 1, hh, mm, tzinfo=dt.UTC) + dt.timedelta(days=day)
        return local + dt.timedelta(hours=6)

    depot = m.Depot(name="Test Pharmacy", lat=41.88, lon=-87.63)
    session.add(depot)
    session.flush()
    fa = m.Facility(
        external_id="140001",
        name="Alpha Care",
        kind=FacilityKind.SKILLED_NURSING,
        lat=41.9,
        lon=-87.7,
        beds=150,
        cycle_weekday=1,
        cycle_length_days=7,
    )
    fb = m.Facility(
        external_id="SYN-ALF-0001",
        name="Beta AL (synthetic)",
        kind=FacilityKind.ASSISTED_LIVING,
        lat=41.8,
        lon=-87.6,
        beds=60,
        cycle_weekday=3,
        cycle_length_days=28,
        has_fridge=False,
        synthetic=True,
    )
    session.add_all([fa, fb])
    session.flush()
    for wd in range(7):
        session.add(m.FacilityWindow(facility_id=fa.id, weekday=wd, start_min=570, end_min=720))
        session.add(m.FacilityWindow(facility_id=fb.id, weekday=wd, start_min=1080, end_min=1170))
        session.add(m.FacilityWindow(facility_id=fb.id, weekday=wd, start_min=780, end_min=990))
    r1 = m.Resident(external_id="R1", facility_id=fa.id, unit="1 North", room="101A")
    r2 = m.Resident(external_id="R2", facility_id=fa.id, unit="1 South", room="102B")
    r3 = m.Resident(external_id="R3", facility_id=fb.id, unit="Main", room="7")
    med1 = m.Medication(
        name="Amlodipine 5 mg tablet", ndc="00000-0001-01", packaging_kind=PackagingKind.MULTI_DOSE_BLISTER
    )
    med2 = m.Medication(
        name="Oxycodone 5 mg tablet",
        ndc="00000-0002-01",
        schedule=ControlledSchedule.CII,
        packaging_kind=PackagingKind.UNIT_DOSE_CARD,
    )
    med3 = m.Medication(
        name="Insulin glargine pen", form="pen", refrigerated=True, packaging_kind=PackagingKind.VIAL_BOTTLE
    )
    session.add_all([r1, r2, r3, med1, med2, med3])
    session.flush()
    line = m.PackagingLine(
        name="Line 1",
        kinds="multi_dose_blister,unit_dose_card",
        cards_per_hour=400,
        available_start_min=300,
        available_end_min=1260,
        downtime=[[780, 810]],
    )
    ph = m.PharmacistShift(name="PharmD 1", start_min=330, end_min=810)
    v1 = m.Vehicle(
        name="Van 1",
        depot_id=depot.id,
        tote_capacity=40,
        cold_capacity=2,
        controlled_ok=True,
        shift_start_min=480,
        shift_end_min=990,
        break_start_min=690,
        break_end_min=810,
    )
    v2 = m.Vehicle(name="Van 2", depot_id=depot.id, tote_capacity=30, shift_start_min=720, shift_end_min=1230)
    session.add_all([line, ph, v1, v2])
    session.flush()
    cs = m.ConstraintSet(
        version=1, created_by="test", settings={"time_limit_s": 2.0}, minutes_per_card=0.05, is_current=True
    )
    session.add(cs)

    def ol(
        ext: str,
        res: m.Resident,
        med: m.Medication,
        cls: OrderClass,
        rec: dt.datetime,
        need: dt.datetime,
        status: OrderStatus = OrderStatus.OPEN,
        cards: int = 2,
    ) -> m.OrderLine:
        return m.OrderLine(
            external_id=ext,
            resident_id=res.id,
            facility_id=res.facility_id,
            medication_id=med.id,
            order_class=cls,
            doses=cards * 7,
            cards=cards,
            received_at=rec,
            need_by=need,
            status=status,
        )

    lines = [
        ol("O1", r1, med1, OrderClass.CYCLE_FILL, utc(-3, 10), utc(0, 12)),  # due 12:00 today
        ol("O2", r2, med2, OrderClass.STAT, utc(0, 9, 15), utc(0, 13, 15), cards=1),  # STAT today
        ol("O3", r3, med3, OrderClass.REFILL, utc(-1, 15), utc(-1, 19, 30)),  # overdue from yesterday
        ol("O4", r3, med1, OrderClass.REFILL, utc(0, 8), utc(1, 12)),  # due tomorrow: not in today's problem
        ol("O5", r1, med1, OrderClass.PRN, utc(0, 7), utc(0, 16), status=OrderStatus.DELIVERED),  # done
    ]
    session.add_all(lines)
    session.commit()
    ids = {
        "depot": depot.id,
        "fa": fa.id,
        "fb": fb.id,
        "r1": r1.id,
        "r2": r2.id,
        "r3": r3.id,
        "med1": med1.id,
        "med2": med2.id,
        "med3": med3.id,
        "line": line.id,
        "v1": v1.id,
        "v2": v2.id,
    }
    ids.update({o.external_id: o.id for o in lines})
    return {k: int(v) for k, v in ids.items()}


@pytest.fixture(autouse=True)
def _today_is_a_date_no_test_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's date may be the demo date (2026-12-01), which would make every second plan of
    that date a re-plan from "now" (issue 10: today never rewrites the road). Tests plan as if it
    were another day unless they set ``service._local_today`` themselves."""
    from ltc_scheduler import service

    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))
