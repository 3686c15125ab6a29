"""A plan is a record: after publishing, renaming a facility, moving its window and renaming a
vehicle leave the old run's loader, dashboard data, manifest PDF and stops CSV as they were; a new
run shows the new values. Runs on SQLite and (with LTC_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlmodel import Session

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.errors import BadInput
from ltc_scheduler.exports.common import RunTag, route_label
from ltc_scheduler.exports.manifest_pdf import manifest_pdf
from ltc_scheduler.exports.stops_csv import stops_csv
from ltc_scheduler.problem.model import TimeWindow
from ltc_scheduler.ui import data

DAY = dt.date(2026, 12, 1)  # a Tuesday (weekday 1)


def _pdf_text(payload: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(payload)).pages)


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _route_of(plan, facility_id: int) -> int:
    """The 1-based number of the route that stops at ``facility_id``."""
    for no, route in enumerate(plan.routes, start=1):
        if any(s.facility_id == facility_id for s in route.stops):
            return no
    raise AssertionError(f"facility {facility_id} is on no route")


@pytest.fixture
def published(engine: sa.Engine, session: Session, tiny: dict[str, int]) -> dict[str, int]:
    """The tiny day (plus a vial line and street addresses) planned and published once."""
    session.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    fa = session.get(m.Facility, tiny["fa"])
    assert fa is not None
    fa.address, fa.city = "100 Old Street", "Chicago"
    session.add(fa)
    session.commit()
    outcome = service.plan_date(engine, date=DAY, started_by="first", time_limit_s=1)
    return {**tiny, "run": outcome.plan_run_id}


def _change_master_data(engine: sa.Engine, ids: dict[str, int], *, vehicle_id: int) -> None:
    """Rename facility A and move it, move its Tuesday window 09:30-12:00 -> 10:00-13:00, rename
    the vehicle that serves it."""
    with session_scope(engine) as s:
        fa = s.get(m.Facility, ids["fa"])
        van = s.get(m.Vehicle, vehicle_id)
        assert fa is not None and van is not None
        fa.name, fa.address, fa.lat, fa.lon = "Alpha Care North", "200 New Avenue", 41.95, -87.72
        van.name = "Van Renamed"
        s.add_all([fa, van])
        s.execute(
            sa.update(m.FacilityWindow)
            .where(m.FacilityWindow.facility_id == ids["fa"], m.FacilityWindow.weekday == DAY.weekday())
            .values(start_min=600, end_min=780)
        )


def test_old_run_reads_as_it_was_made_and_a_new_run_shows_the_changes(
    engine: sa.Engine, published: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, old_id = published, published["run"]
    with session_scope(engine) as s:
        old = plans.load_plan_record(s, plan_run_id=old_id)
    route_no = _route_of(old.plan, ids["fa"])
    vehicle_id = old.plan.routes[route_no - 1].vehicle_id
    old_vehicle = next(v.name for v in old.problem.vehicles if v.id == vehicle_id)
    assert old_vehicle in ("Van 1", "Van 2")
    old_csv = stops_csv(old.plan, old.problem, route_no)
    old_pdf = _pdf_text(manifest_pdf(old.plan, old.problem, route_no))

    _change_master_data(engine, ids, vehicle_id=vehicle_id)

    # --- the loader: the old record still holds the old values
    with session_scope(engine) as s:
        again = plans.load_plan_record(s, plan_run_id=old_id)
    fa = again.problem.facility(ids["fa"])
    assert (fa.name, fa.address, fa.location.lat, fa.location.lon) == (
        "Alpha Care",
        "100 Old Street, Chicago",
        41.9,
        -87.7,
    )
    assert fa.windows == (TimeWindow(570, 720),)
    assert next(v.name for v in again.problem.vehicles if v.id == vehicle_id) == old_vehicle
    assert again.plan == old.plan
    assert again.problem == old.problem

    # --- the exports of the old plan are byte-for-byte what they were (CSV) and name the old values
    assert stops_csv(again.plan, again.problem, route_no) == old_csv
    row = next(r for r in _csv_rows(old_csv) if r["facility_id"] == str(ids["fa"]))
    assert (row["facility"], row["address"], row["vehicle"]) == (
        "Alpha Care",
        "100 Old Street, Chicago",
        old_vehicle,
    )
    assert (float(row["lat"]), float(row["lon"])) == (41.9, -87.7)
    pdf = _pdf_text(manifest_pdf(again.plan, again.problem, route_no))
    assert pdf == old_pdf
    assert "Alpha Care" in pdf and "100 Old Street" in pdf and old_vehicle in pdf
    assert "Alpha Care North" not in pdf and "200 New Avenue" not in pdf and "Van Renamed" not in pdf

    # --- the dashboard and the export command read only the record: rebuilding from today's rows
    # would fail loudly here
    def _no_rebuild(*_a: object, **_k: object) -> None:
        raise AssertionError("a saved plan was rebuilt from today's rows")

    monkeypatch.setattr("ltc_scheduler.problem.builder.build_problem", _no_rebuild)
    day = data.load_day_plan(engine, date=DAY, plan_run_id=old_id)
    assert day is not None
    assert day.problem.facility(ids["fa"]).name == "Alpha Care"
    assert day.problem.facility(ids["fa"]).windows == (TimeWindow(570, 720),)
    if engine.dialect.name == "sqlite":  # the command opens its own engine from a URL (no schema)
        from ltc_scheduler.commands.export import run_export

        url = engine.url.render_as_string(hide_password=False)
        label = route_label(old.plan, old.problem, route_no)
        written = run_export(date=DAY, route=label, fmt="csv", out=tmp_path / "old", url=url)
        assert [p.name for p in written][-1] == "PLAN.txt"
        tag = RunTag.of(old.run.id, old.run.created_at, old.run.timezone)
        assert written[0].read_text() == stops_csv(old.plan, old.problem, route_no, run=tag)
    monkeypatch.undo()

    # --- a new run plans against (and shows) the new values; the old one is untouched
    new_id = service.plan_date(engine, date=DAY, started_by="second", time_limit_s=1).plan_run_id
    with session_scope(engine) as s:
        new = plans.load_plan_record(s, plan_run_id=new_id)
        old_after = plans.load_plan_record(s, plan_run_id=old_id)
        assert (new.run.published, old_after.run.published) == (True, False)
    nfa = new.problem.facility(ids["fa"])
    assert (nfa.name, nfa.address, nfa.windows) == (
        "Alpha Care North",
        "200 New Avenue, Chicago",
        (TimeWindow(600, 780),),
    )
    assert next(v.name for v in new.problem.vehicles if v.id == vehicle_id) == "Van Renamed"
    new_no = _route_of(new.plan, ids["fa"])
    stop = next(s for s in new.plan.routes[new_no - 1].stops if s.facility_id == ids["fa"])
    assert 600 <= stop.start_min <= 780 + new.problem.settings.max_late_min
    new_row = next(
        r for r in _csv_rows(stops_csv(new.plan, new.problem, new_no)) if r["facility_id"] == str(ids["fa"])
    )
    assert (new_row["facility"], new_row["address"]) == ("Alpha Care North", "200 New Avenue, Chicago")
    assert old_after.problem == old.problem
    assert stops_csv(old_after.plan, old_after.problem, route_no) == old_csv


def test_a_failed_or_unknown_run_has_no_record_to_show(engine: sa.Engine, tiny: dict[str, int]) -> None:
    with session_scope(engine) as s:
        failed = plans.record_failed_run(s, date=DAY, started_by="x", error="solver crashed")
    with session_scope(engine) as s:
        with pytest.raises(BadInput, match=rf"plan run {failed} did not complete"):
            plans.load_plan_record(s, plan_run_id=failed)
        with pytest.raises(BadInput, match="there is no plan run 999"):
            plans.load_plan_record(s, plan_run_id=999)
    assert data.load_day_plan(engine, date=DAY, plan_run_id=failed) is None
