"""The dashboard: the Constraints page's repository functions (db/constraints.py) and every page run
with ``streamlit.testing.v1.AppTest`` on a temporary SQLite database holding the small demo day
and saved plans (short solver limits)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ltc_scheduler.db import constraints
from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import make_engine, session_scope
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem.clock import try_parse_hhmm

DEMO_DATE = dt.date(2026, 12, 1)  # the date of conftest's demo_small_template (a Tuesday)
APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = "ltc_scheduler/ui/app_pages"


@pytest.fixture
def demo_db(demo_small_template: Path, tmp_path: Path) -> Iterator[sa.Engine]:
    """A private copy of the small demo day (no plan yet) for tests that edit constraints."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_small_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


def _version(engine: sa.Engine) -> int:
    with session_scope(engine) as s:
        return repo.current_constraint_set(s).version


def _audit(engine: sa.Engine) -> list[m.AuditEvent]:
    with session_scope(engine) as s:
        return [e for e in repo.list_audit_events(s) if e.what.startswith("constraints.")]


def _vehicle_rows(engine: sa.Engine) -> list[dict]:
    from ltc_scheduler.ui.data import constraint_tables

    return constraint_tables(engine, weekday=DEMO_DATE.weekday(), tz="America/Chicago").vehicles


# --------------------------------------------------------------------------- db/constraints.py


def test_parse_clock_and_windows() -> None:
    assert try_parse_hhmm("07:30", overnight=True) == 450
    assert try_parse_hhmm("7:05", overnight=True) == 425
    assert try_parse_hhmm("25:00", overnight=True) == 1500  # after midnight is allowed
    assert try_parse_hhmm("7.30", overnight=True) is None and try_parse_hhmm("07:60", overnight=True) is None
    assert try_parse_hhmm(7, overnight=True) is None
    assert constraints.parse_windows("14:00-16:00, 08:00-11:00") == [(480, 660), (840, 960)]
    assert constraints.parse_windows("") == []
    assert constraints.parse_windows("11:00-08:00") is None
    assert constraints.parse_windows("9-11") is None


def test_bad_vehicle_values_name_row_and_field_and_store_nothing(demo_db: sa.Engine) -> None:
    rows = _vehicle_rows(demo_db)
    before = [dict(r) for r in rows]
    rows[0]["tote_capacity"] = -3
    rows[1]["shift_end"] = "25:99"
    rows[2]["cold_capacity"] = rows[2]["tote_capacity"] + 1
    version = _version(demo_db)
    with pytest.raises(BadInput) as err, session_scope(demo_db) as s:
        constraints.update_vehicles(s, rows=rows, who="manager")
    text = str(err.value)
    assert "Nothing was saved" in text
    assert "Vehicles row 1, tote_capacity: must be a whole number between 1 and 500 (got -3)" in text
    assert "Vehicles row 2, shift_end: must be a time of day from 00:00 to 24:00" in text
    assert "Vehicles row 3, cold_capacity: cannot exceed the tote capacity" in text
    assert len(err.value.errors) == 3
    assert _vehicle_rows(demo_db) == before
    assert _version(demo_db) == version
    assert _audit(demo_db) == []


def test_a_shift_ending_at_25_00_is_refused(demo_db: sa.Engine) -> None:
    """Issue 12: a shift end of 25:00 used to be accepted and saved; the day is 00:00-24:00."""
    rows = _vehicle_rows(demo_db)
    before = [dict(r) for r in rows]
    rows[0]["shift_end"] = "25:00"
    with pytest.raises(BadInput) as err, session_scope(demo_db) as s:
        constraints.update_vehicles(s, rows=rows, who="manager")
    assert "Vehicles row 1, shift_end: must be a time of day from 00:00 to 24:00" in str(err.value)
    assert _vehicle_rows(demo_db) == before
    rows[0]["shift_end"] = "24:00"  # the end of the day is allowed
    with session_scope(demo_db) as s:
        constraints.update_vehicles(s, rows=rows, who="manager")
    assert _vehicle_rows(demo_db)[0]["shift_end"] == "24:00"


def test_vehicle_edit_bumps_the_version_and_is_audited(demo_db: sa.Engine) -> None:
    import pandas as pd

    rows = pd.DataFrame(_vehicle_rows(demo_db)).to_dict("records")  # numpy ints and bools, as the editor
    version = _version(demo_db)
    rows[0]["tote_capacity"] = 33
    rows[0]["shift_start"] = "07:15"
    with session_scope(demo_db) as s:
        row = constraints.update_vehicles(s, rows=rows, who="manager")
        assert row is not None and row.version == version + 1 and row.created_by == "manager"
    after = _vehicle_rows(demo_db)
    assert (after[0]["tote_capacity"], after[0]["shift_start"]) == (33, "07:15")
    assert _version(demo_db) == version + 1
    (event,) = _audit(demo_db)
    assert event.who == "manager" and event.what == "constraints.vehicles"
    assert event.details["changed"][rows[0]["name"]]["tote_capacity"][1] == 33
    assert event.details["constraint_set_version"] == version + 1
    with session_scope(demo_db) as s:  # saving the same values again stores nothing
        assert constraints.update_vehicles(s, rows=after, who="manager") is None
    assert _version(demo_db) == version + 1


def test_settings_are_validated_and_saved_as_a_new_version(demo_db: sa.Engine) -> None:
    version = _version(demo_db)
    message = r"Settings row 1, time_limit_s: must be a number at least 1"
    with pytest.raises(BadInput, match=message), session_scope(demo_db) as s:
        constraints.update_settings(s, values={"time_limit_s": 0, "late_penalty_per_min": 5}, who="manager")
    assert _version(demo_db) == version
    with session_scope(demo_db) as s:
        constraints.update_settings(
            s, values={"time_limit_s": 3, "late_penalty_per_min": 900}, who="manager", minutes_per_card=0.07
        )
    with session_scope(demo_db) as s:
        cs = repo.current_constraint_set(s)
        settings = repo.to_plan_settings(cs)
        assert (cs.version, cs.created_by, cs.minutes_per_card) == (version + 1, "manager", 0.07)
        assert (settings.time_limit_s, settings.late_penalty_per_min) == (3.0, 900)
        assert settings.stat_promise_min == 240  # untouched fields keep their values
    with pytest.raises(BadInput, match="minutes_per_card"), session_scope(demo_db) as s:
        constraints.update_settings(s, values={}, who="manager", minutes_per_card=0)


def test_packaging_line_hours_must_be_in_order(demo_db: sa.Engine) -> None:
    from ltc_scheduler.ui.data import constraint_tables

    lines = constraint_tables(demo_db, weekday=1, tz="America/Chicago").lines
    lines[0]["available_end"] = "04:00"
    lines[1]["cards_per_hour"] = 0
    with pytest.raises(BadInput) as err, session_scope(demo_db) as s:
        constraints.update_packaging_lines(s, rows=lines, who="manager")
    assert {(e.row, e.column) for e in err.value.errors} == {(1, "available_end"), (2, "cards_per_hour")}


def test_facility_windows_replace_only_that_weekday(demo_db: sa.Engine) -> None:
    from ltc_scheduler.ui.data import constraint_tables

    facilities = constraint_tables(demo_db, weekday=1, tz="America/Chicago").facilities
    fid = facilities[0]["id"]
    with session_scope(demo_db) as s:
        windows = repo.facility_windows(s, facility_id=fid)
        other_days = sorted((w.weekday, w.start_min, w.end_min) for w in windows if w.weekday != 1)
    bad = [dict(facilities[0], windows="9-11"), dict(facilities[1], service_fixed_min=-1)]
    with pytest.raises(BadInput) as err, session_scope(demo_db) as s:
        constraints.update_facilities(s, rows=bad, weekday=1, who="manager")
    assert {(e.row, e.column) for e in err.value.errors} == {(1, "windows"), (2, "service_fixed_min")}
    with session_scope(demo_db) as s:
        constraints.update_facilities(
            s, rows=[dict(facilities[0], windows="07:30-09:00, 15:00-16:00")], weekday=1, who="manager"
        )
    with session_scope(demo_db) as s:
        windows = repo.facility_windows(s, facility_id=fid)
        assert sorted((w.start_min, w.end_min) for w in windows if w.weekday == 1) == [(450, 540), (900, 960)]
        assert sorted((w.weekday, w.start_min, w.end_min) for w in windows if w.weekday != 1) == other_days


def test_pharmacist_shift_can_be_added(demo_db: sa.Engine) -> None:
    from ltc_scheduler.ui.data import constraint_tables

    shifts = constraint_tables(demo_db, weekday=1, tz="America/Chicago").shifts
    import pandas as pd

    shifts.append({"id": None, "name": "Pharmacist 3", "start": "12:00", "end": "20:00", "active": None})
    rows = pd.DataFrame(shifts).to_dict("records")  # what st.data_editor gives back: NaN id, numpy types
    with session_scope(demo_db) as s:
        constraints.update_pharmacist_shifts(s, rows=rows, who="manager", minutes_per_card=0.05)
    with session_scope(demo_db) as s:
        added = s.exec(select(m.PharmacistShift).where(m.PharmacistShift.name == "Pharmacist 3")).one()
        assert (added.start_min, added.end_min, added.active) == (720, 1200, True)
        assert repo.current_constraint_set(s).minutes_per_card == 0.05


# --------------------------------------------------------------------------- KPIs, alerts, comparison


def _sample():

    from factories import sample_plan, sample_problem

    return sample_plan(), sample_problem()


def test_plan_kpis_of_the_hand_built_plan() -> None:
    from ltc_scheduler.ui.kpis import plan_kpis

    plan, _ = _sample()
    k = plan_kpis(plan)
    assert (k.orders, k.batches, k.routes, k.vehicles, k.stops) == (16, 16, 2, 2, 14)
    assert (k.late_stops, k.unserved) == (1, 1)
    assert k.on_time_pct == 86.7  # 13 stops on time of 14 delivered + 1 not delivered (plan/kpis.py)
    assert k.driving_km == pytest.approx(84.4) and k.driving_hours == 3.33
    assert (k.packaging_start, k.packaging_end, k.makespan_min) == (360, 6 * 60 + 65 + 8, 73)
    assert k.gap == pytest.approx(0.1) and k.solve_s == pytest.approx(3.5)


def test_alerts_list_unserved_late_and_stat_at_risk() -> None:
    from dataclasses import replace

    from ltc_scheduler.ui.kpis import plan_alerts

    plan, problem = _sample()
    tight = replace(plan.batch("B0101"), deadline_min=6 * 60 + 30)  # ready 06:18: 12 min to spare
    plan = replace(plan, batches=tuple(tight if b.key == "B0101" else b for b in plan.batches))
    alerts = plan_alerts(plan, problem)
    assert [(a.category, a.level) for a in alerts] == [
        ("unserved", "error"),
        ("late", "warning"),
        ("stat", "warning"),
    ]
    assert alerts[0].title == "Facility 99" and alerts[0].detail.startswith("no vehicle can reach it")
    assert alerts[1].title == "Maple Grove Care 2 (STAT): Van A · trip 1 stop 3, 5 min late"
    assert alerts[1].detail == "window closes at 12:00"
    assert alerts[2].title == "Maple Grove Care 2: STAT batch B0101 has only 12 min to spare"
    late = replace(tight, verify_end_min=6 * 60 + 45)
    plan = replace(plan, batches=tuple(late if b.key == "B0101" else b for b in plan.batches))
    assert (
        plan_alerts(plan, problem)[2].title
        == "STAT batch B0101 for Maple Grove Care 2 is ready after its deadline"
    )


def test_compare_finds_changed_routes_and_moved_stops() -> None:
    from dataclasses import replace

    from ltc_scheduler.ui.compare import routes_changed, stops_moved

    a, problem = _sample()
    r1 = a.routes[0]
    swapped = (
        replace(r1.stops[1], seq=1, arrival_min=r1.stops[1].arrival_min - 30),
        replace(r1.stops[0], seq=2),
        r1.stops[2],
    )
    b = replace(a, routes=(replace(r1, stops=swapped), replace(a.routes[1], stops=a.routes[1].stops[:-1])))
    changed = routes_changed(a, b, problem, problem)
    assert list(changed["Change"]) == ["same stops, new order", "0 stop(s) added, 1 removed"]
    moved = stops_moved(a, b, problem, problem).set_index("Facility")["Change"].to_dict()
    assert moved == {
        "Maple Grove Care 0": "stop 1 -> 2",
        "Maple Grove Care 1": "stop 2 -> 1, ETA -30 min",
        "Maple Grove Care 13": "no longer in the plan",
    }
    assert stops_moved(a, a, problem, problem).empty


# --------------------------------------------------------------------------- pages (AppTest)


@pytest.fixture(scope="module")
def app_db(demo_small_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """The small demo day with two saved plans (solver limit 2 s): run 1, then a vehicle change and
    run 2 (published). ``DATABASE_URL`` points the dashboard at it for the whole module."""
    from ltc_scheduler import service

    path = tmp_path_factory.mktemp("ui_pages") / "ui.db"
    shutil.copyfile(demo_small_template, path)
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    with session_scope(eng) as s:
        constraints.update_settings(s, values={"time_limit_s": 2}, who="test")
    service.plan_date(eng, date=DEMO_DATE, started_by="test")
    rows = _vehicle_rows(eng)
    rows[0]["tote_capacity"] = rows[0]["tote_capacity"] + 10
    with session_scope(eng) as s:
        constraints.update_vehicles(s, rows=rows, who="test")
    service.plan_date(eng, date=DEMO_DATE, started_by="test")
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", url)
    mp.setenv("LTC_TIMEZONE", "America/Chicago")
    mp.setenv("LTC_USER", "apptest")
    yield eng
    mp.undo()
    eng.dispose()


def _published(engine: sa.Engine):
    from ltc_scheduler.ui.data import load_day_plan

    day = load_day_plan(engine, date=DEMO_DATE)
    assert day is not None
    return day


def _app(page: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["plan_date"] = DEMO_DATE
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(f"{PAGES}/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_today_shows_the_plans_kpis_and_alerts_first(app_db: sa.Engine) -> None:
    day = _published(app_db)
    at = _app()
    assert at.title[0].value == "Today"
    assert _metric(at, "Unserved stops") == str(len(day.plan.unserved))
    assert _metric(at, "Batches") == str(len(day.plan.batches))
    assert _metric(at, "Routes") == str(sum(1 for r in day.plan.routes if r.stops))
    orders = sum(len(b.order_line_ids) for b in day.plan.batches)
    assert _metric(at, "Orders") == f"{orders:,}"
    assert [h.value for h in at.subheader][:2] == ["Needs attention", "The day in numbers"]
    if day.plan.unserved:
        assert at.error[0].value.startswith(f"**{len(day.plan.unserved)} unserved stop(s)**")
    sidebar = " ".join(md.value for md in at.sidebar.markdown)
    assert f"Plan #{day.run.id}" in sidebar and "published" in sidebar
    assert len(at.get("plotly_chart")) == 1


def test_packaging_lists_every_batch(app_db: sa.Engine) -> None:
    day = _published(app_db)
    at = _app("packaging")
    assert at.title[0].value == "Packaging"
    table = at.dataframe[0].value
    assert len(table) == len(day.plan.batches)
    assert set(table["Batch"]) == {b.key for b in day.plan.batches}
    assert len(at.get("plotly_chart")) == 1
    assert {b.label for b in at.get("download_button")} == {
        "Packing list (CSV)",
        "Packing list (PDF)",
        "Every packing list (one PDF)",
    }
    assert _metric(at, "Batches") == str(len(day.plan.batches))
    first = day.plan.batches[0].key
    at.selectbox(key="packing_batch").set_value(first).run()
    assert not at.exception and at.selectbox(key="packing_batch").value == first


def test_routes_table_and_one_routes_stops(app_db: sa.Engine) -> None:
    day = _published(app_db)
    at = _app("routes")
    assert at.title[0].value == "Routes"
    assert len(at.dataframe[0].value) == len(day.plan.routes)
    at.button_group(key="route_choice").set_value(1).run()
    assert not at.exception
    stops = at.dataframe[0].value
    route = day.plan.routes[0]
    assert list(stops["#"]) == [s.seq for s in route.stops]
    assert list(stops["Totes"]) == [s.totes for s in route.stops]
    assert _metric(at, "Stops") == str(len(route.stops))
    labels = {b.label for b in at.get("download_button")}
    assert labels == {"Driver manifest (PDF)", "Stops (CSV)", "Navigation (GPX)"}
    assert any("Google Maps directions" in md.value for md in at.markdown)


def test_orders_table_and_a_bad_upload_imports_nothing(app_db: sa.Engine) -> None:
    from ltc_scheduler.ui.data import order_rows

    rows = order_rows(app_db, date=DEMO_DATE, tz="America/Chicago")
    at = _app("orders")
    assert any(c.value.startswith(f"Showing {len(rows):,} of {len(rows):,} order lines") for c in at.caption)
    assert len(at.dataframe[0].value) == len(rows)
    at.multiselect(key="orders_class").set_value(["stat"]).run()
    assert set(at.dataframe[0].value["Class"]) == {"stat"}
    bad = (
        b"external_id,facility_id,resident_id,order_class,doses,cards,received_at,need_by,medication\n"
        b"X1,NOPE,R1,stat,1,1,2026-12-01 08:00,2026-12-01 12:00,Nothing\n"
        b"X2,NOPE,R2,teleport,0,1,2026-12-01 08:00,2026-12-01 12:00,Nothing\n"
    )
    at.file_uploader(key="orders_file").upload("orders.csv", bad, "text/csv")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert any(e.value.startswith("**Nothing was imported.**") for e in at.error)
    problems = at.dataframe[-1].value
    assert set(problems["Row"]) == {2, 3}
    assert len(order_rows(app_db, date=DEMO_DATE, tz="America/Chicago")) == len(rows)

    with session_scope(app_db) as s:
        facility = s.exec(select(m.Facility)).first().external_id
        medication = s.exec(select(m.Medication)).first().name
    good = (
        "external_id,facility_id,resident_id,order_class,doses,cards,received_at,need_by,medication\n"
        f"UPLOAD-1,{facility},R-UPLOAD-1,stat,2,1,2026-12-01 08:00,2026-12-01 12:00,{medication}\n"
    ).encode()
    at.file_uploader(key="orders_file").upload("more_orders.csv", good, "text/csv")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert any(x.value.startswith("Imported more_orders.csv: 1 rows (1 new, 0 updated)") for x in at.success)
    after = order_rows(app_db, date=DEMO_DATE, tz="America/Chicago")
    assert len(after) == len(rows) + 1
    assert any(r["Order"] == "UPLOAD-1" and r["Medication"] == medication for r in after)


def test_saving_a_bad_constraint_shows_an_error_and_stores_nothing(app_db: sa.Engine) -> None:
    version = _version(app_db)
    at = _app("constraints")
    assert at.title[0].value == "Constraints"
    at.number_input(key="set_time_limit_s").set_value(0.0)
    next(b for b in at.get("form_submit_button") if b.label == "Save settings").click().run()
    assert not at.exception
    assert any(
        "**Solver time limit (s)** (`time_limit_s`): must be a number at least 1" in e.value
        and "Nothing was saved" in e.value
        for e in at.error
    )
    assert _version(app_db) == version
    at.number_input(key="set_time_limit_s").set_value(3.0)
    next(b for b in at.get("form_submit_button") if b.label == "Save settings").click().run()
    assert any(s.value.startswith(f"Saved as constraint set v{version + 1}") for s in at.success)
    assert _version(app_db) == version + 1
    with session_scope(app_db) as s:
        assert repo.to_plan_settings(repo.current_constraint_set(s)).time_limit_s == 3.0
        assert repo.current_constraint_set(s).created_by == "apptest"


def test_replan_button_makes_and_publishes_a_new_plan(app_db: sa.Engine) -> None:
    before = _published(app_db).run.id
    at = _app("constraints")
    at.checkbox(key="replan_keep").uncheck()
    at.button(key="replan").click().run()
    assert not at.exception, [e.value for e in at.exception]
    after = _published(app_db)
    assert after.run.id > before and after.run.started_by == "apptest"
    flash = [m.value for m in at.success] + [m.value for m in at.warning]
    assert any(f"New plan #{after.run.id}" in text for text in flash)
    assert f"{len(after.plan.unserved)} unserved" in next(t for t in flash if "New plan" in t)


def test_compare_shows_two_runs_side_by_side(app_db: sa.Engine) -> None:
    at = _app("compare")
    assert at.title[0].value == "Compare plans"
    assert [h.value for h in at.subheader] == ["Key figures", "Routes", "Stops moved"]
    kpis = at.dataframe[0].value
    assert list(kpis.columns) == ["A", "B", "Change"]
    from ltc_scheduler.ui.data import list_runs, load_day_plan

    runs = list_runs(app_db, date=DEMO_DATE)
    a = load_day_plan(app_db, date=DEMO_DATE, plan_run_id=runs[1].id)
    b = load_day_plan(app_db, date=DEMO_DATE, plan_run_id=runs[0].id)
    assert kpis.loc["Unserved stops", "A"] == str(len(a.plan.unserved))
    assert kpis.loc["Unserved stops", "B"] == str(len(b.plan.unserved))


def test_admin_edits_on_every_database(engine: sa.Engine, tiny: dict[str, int]) -> None:
    """The same validate -> write -> audit -> new version cycle on SQLite and (in CI) PostgreSQL."""
    from ltc_scheduler.ui.data import constraint_tables

    tables = constraint_tables(engine, weekday=1, tz="America/Chicago")
    assert [v["name"] for v in tables.vehicles] == ["Van 1", "Van 2"]
    rows = [dict(v) for v in tables.vehicles]
    rows[1]["max_trips"] = 0
    with pytest.raises(BadInput, match="Vehicles row 2, max_trips"), session_scope(engine) as s:
        constraints.update_vehicles(s, rows=rows, who="pg")
    assert _version(engine) == tables.version
    rows[1]["max_trips"] = 3
    with session_scope(engine) as s:
        constraints.update_vehicles(s, rows=rows, who="pg")
    with session_scope(engine) as s:
        assert s.get(m.Vehicle, tiny["v2"]).max_trips == 3
        assert repo.current_constraint_set(s).version == tables.version + 1
    assert [e.what for e in _audit(engine)] == ["constraints.vehicles"]


def test_every_page_guides_the_user_on_an_empty_database(sqlite_engine: sa.Engine, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["plan_date"] = DEMO_DATE
    at.run()
    assert not at.exception
    assert any("No pharmacy in the database yet" in w.value for w in at.sidebar.warning)
    assert any("There is no plan for Tuesday December 01, 2026 yet" in i.value for i in at.info)
    for page in ("packaging", "routes", "orders", "constraints", "compare"):
        at.switch_page(f"{PAGES}/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])


def test_an_uninitialised_database_says_what_to_run(tmp_path: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never_migrated.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "Run `ltc-scheduler init` and `ltc-scheduler demo`" in at.sidebar.error[0].value


def test_routes_page_shows_a_plan_as_it_was_made(
    engine: sa.Engine, tiny: dict[str, int], monkeypatch
) -> None:
    """Publish, then rename the facility and the vehicle of route 1: the Routes page still shows the
    names the plan was made with (it reads the plan's own record, not today's rows)."""
    from ltc_scheduler import service

    if engine.dialect.name != "sqlite":
        pytest.skip("the dashboard opens its own engine from DATABASE_URL (SQLite here)")
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    service.plan_date(engine, date=DEMO_DATE, started_by="test", time_limit_s=1)
    day = _published(engine)
    route = day.plan.routes[0]
    old_vehicle = next(v.name for v in day.problem.vehicles if v.id == route.vehicle_id)
    old_facility = day.problem.facility(route.stops[0].facility_id).name
    with session_scope(engine) as s:
        s.get(m.Vehicle, route.vehicle_id).name = "Renamed van"
        s.get(m.Facility, route.stops[0].facility_id).name = "Renamed facility"
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LTC_TIMEZONE", "America/Chicago")
    at = _app("routes")
    assert f"{old_vehicle} · trip {route.trip_no}" in list(at.dataframe[0].value["Route"])
    at.button_group(key="route_choice").set_value(1).run()
    assert not at.exception
    assert at.dataframe[0].value["Facility"].iloc[0] == old_facility
    assert "Renamed" not in " ".join(at.dataframe[0].value["Facility"])


# --------------------------------------------------------------------------- the dashboard its users need


def _sample():

    from factories import sample_plan, sample_problem

    return sample_plan(), sample_problem()


def test_attention_table_lists_unserved_and_late_stops_with_reasons() -> None:
    from dataclasses import replace

    from ltc_scheduler.plan.model import UnservedStop
    from ltc_scheduler.ui.tables import attention_frame

    plan, problem = _sample()
    plan = replace(
        plan,
        unserved=(
            UnservedStop(13, "window closed before the batch was ready", ("B0003",)),
            UnservedStop(99, "no vehicle can reach it inside its window", ("B0999",)),
        ),
    )
    rows = attention_frame(plan, problem).to_dict("records")
    assert rows == [
        {
            "Stop": "not delivered",
            "Facility": "Maple Grove Care 3",
            "Problem": "unserved",
            "Why": "window closed before the batch was ready",
            "Batches": "B0003",
        },
        {
            "Stop": "not delivered",
            "Facility": "Facility 99",
            "Problem": "unserved",
            "Why": "no vehicle can reach it inside its window",
            "Batches": "B0999",
        },
        {
            "Stop": "Van A · trip 1 · stop 3",
            "Facility": "Maple Grove Care 2",
            "Problem": "5 min late (STAT)",
            "Why": "window closes at 12:00",
            "Batches": "B0002, B0101",
        },
    ]


def test_batch_and_stop_tables_name_stops_by_route_and_say_shared_totes() -> None:
    from dataclasses import replace

    from ltc_scheduler.ui.tables import SHARED_TOTE, batches_frame, stops_frame

    plan, problem = _sample()
    plan = replace(plan, batches=tuple(replace(b, totes=0) if b.key == "B0100" else b for b in plan.batches))
    frame = batches_frame(plan, problem).set_index("Batch")
    assert frame.loc["B0100", "Delivery"] == "Van A · trip 1 · stop 2"
    assert frame.loc["B0100", "Totes"] == SHARED_TOTE == "shared"
    assert frame.loc["B0000", "Totes"] == "1"
    assert frame.loc["B0101", "Flags"] == "cold, STAT"
    assert frame.loc["B0100", "Packed"] == "06:00-06:04"
    stops = stops_frame(plan, problem, 1)
    assert list(stops["Stop"]) == [f"Van A · trip 1 · stop {i}" for i in (1, 2, 3)]
    assert list(stops["Note"]) == ["", "", "window closes at 12:00"]


def test_routes_page_lists_problems_says_which_map_and_prints_the_day(app_db: sa.Engine, monkeypatch) -> None:
    import json

    from ltc_scheduler.exports.common import route_label

    monkeypatch.delenv("LTC_MAP_STYLE", raising=False)
    day = _published(app_db)
    at = _app("routes")
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["layout"]["map"]["style"] == "white-bg"
    names = [t.get("name", "") for t in fig["data"]]
    assert any(n.startswith("Scale: ") for n in names)
    assert sum(1 for t in fig["data"] if t.get("mode") == "lines") == len(day.plan.routes)
    captions = " ".join(c.value for c in at.caption)
    assert "Plain map: works without internet access" in captions
    assert "Every driver manifest (one PDF)" in {b.label for b in at.get("download_button")}
    late = sum(1 for r in day.plan.routes for s in r.stops if s.late_min > 0)
    problems = [h.value for h in at.subheader]
    assert "Unserved and late stops" in problems
    if day.plan.unserved or late:
        table = at.dataframe[1].value
        assert len(table) == len(day.plan.unserved) + late
        n = len(day.plan.unserved)
        assert list(table["Why"][:n]) == [u.reason for u in day.plan.unserved]
        assert list(table["Problem"][:n]) == ["unserved"] * n
        assert all(table["Why"].str.len() > 0)
    else:
        assert any("Every stop is delivered inside its window" in s.value for s in at.success)
    # street tiles are an opt-in: the toggle switches the map and the caption
    at.toggle(key="map_tiles").set_value(True).run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["layout"]["map"]["style"] == "carto-positron"
    assert "Street map tiles (carto-positron)" in " ".join(c.value for c in at.caption)
    # one route: its stops are labelled by vehicle, trip and stop
    at.button_group(key="route_choice").set_value(1).run()
    stops = at.dataframe[0].value
    label = route_label(day.plan, day.problem, 1)
    assert list(stops["Stop"]) == [f"{label} · stop {s.seq}" for s in day.plan.routes[0].stops]
    assert _metric(at, "Distance").endswith(" km")


def test_packaging_page_explains_shared_totes_and_labels_deliveries(app_db: sa.Engine) -> None:
    day = _published(app_db)
    at = _app("packaging")
    table = at.dataframe[0].value
    assert "Delivery" in table and "Route / stop" not in table
    delivered = [d for d in table["Delivery"] if d and d != "unserved"]
    assert delivered and all(" · stop " in d for d in delivered)
    if any(b.totes == 0 for b in day.plan.batches):
        assert "shared" in set(table["Totes"])
        assert any("packed into a tote it shares" in c.value for c in at.caption)
    assert "0" not in set(table["Totes"])


def test_the_page_cache_gives_the_published_plan_of_the_date_by_run(app_db: sa.Engine) -> None:
    from ltc_scheduler.ui import cache

    day = _published(app_db)
    cached = cache.day_plan(DEMO_DATE)
    assert cached is not None and cached.run.id == day.run.id
    assert cached.plan == day.plan and cache.day_plan(DEMO_DATE).plan == day.plan  # second read: cache
    assert cache.day_plan(DEMO_DATE + dt.timedelta(days=1)) is None
    routes = cache.table(cached, "routes")
    assert len(routes) == len(day.plan.routes)
    assert list(cache.table(cached, "stops", 1)["#"]) == [s.seq for s in day.plan.routes[0].stops]
    fig = cache.route_map_figure(cached, highlight=0, style="white-bg", height=520)
    assert fig["layout"]["map"]["style"] == "white-bg"
    assert sum(1 for t in fig["data"] if t.get("mode") == "lines") == len(day.plan.routes)
    timeline = cache.timeline_figure(cached, now_min=None)
    assert len(timeline["data"]) > 0
