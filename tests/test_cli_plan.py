"""``ltc-scheduler plan`` on a copy of the small demo day (DATABASE_URL points at it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DEMO_DATE

from ltc_scheduler.cli import main
from ltc_scheduler.config import get_settings

APP = str(Path(__file__).resolve().parents[1] / "app.py")

KEYS = {
    "plan_run_id",
    "date",
    "orders",
    "batches",
    "lines_used",
    "routes",
    "stops",
    "unserved",
    "late",
    "driving_km",
    "driving_hours",
    "packaging_makespan_min",
    "stage_seconds",
    "valid",
    "violations",
}


@pytest.fixture
def demo_db(demo_small_template, tmp_path, monkeypatch):
    """A private copy of the small demo database, named by DATABASE_URL for the CLI."""
    path = tmp_path / "cli_demo.db"
    shutil.copyfile(demo_small_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_plan_json_prints_one_object_with_the_documented_keys(demo_db, capsys):
    assert main(["plan", "--date", "2026-12-01", "--json", "--time-limit", "3"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON object
    assert set(data) >= KEYS
    assert data["date"] == "2026-12-01" and isinstance(data["plan_run_id"], int)
    assert data["orders"] > 1000 and data["batches"] > 100 and data["lines_used"] == 3
    assert data["valid"] is True and [v for v in data["violations"] if v["hard"]] == []
    assert all(set(u) == {"facility", "reason"} and u["reason"] for u in data["unserved"])
    assert all(set(x) == {"facility", "minutes", "reason"} for x in data["late"])
    assert {"packing", "routing", "validate"} <= set(data["stage_seconds"])
    # --if-missing: the date has a plan now, nothing is planned again
    assert main(["plan", "--date", "2026-12-01", "--json", "--if-missing"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "date": "2026-12-01",
        "skipped": True,
        "reason": "plan exists",
    }


def test_plan_replan_with_now(demo_db, capsys):
    assert main(["plan", "--date", "2026-12-01", "--time-limit", "3"]) == 0
    assert "plan run" in capsys.readouterr().out
    assert (
        main(["plan", "--date", "2026-12-01", "--replan", "--now", "14:00", "--json", "--time-limit", "3"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True


def test_bad_arguments_exit_2_naming_the_field(demo_db, capsys):
    assert main(["plan", "--date", "2026-13-01"]) == 2
    assert "--date: '2026-13-01' is not a date" in capsys.readouterr().err
    assert main(["plan", "--date", "2026-12-01", "--now", "25:99", "--replan"]) == 2
    assert "--now" in capsys.readouterr().err
    assert main(["plan", "--date", "2026-12-01", "--replan", "--from-scratch"]) == 2
    assert "--replan and --from-scratch contradict each other" in capsys.readouterr().err
    assert main(["plan", "--date", "2026-12-02", "--replan"]) == 2
    assert "no published plan for 2026-12-02" in capsys.readouterr().err


def _short_of_vans(path, vans: int) -> None:
    """Only the first ``vans`` vehicles drive, one trip each: some stops cannot be delivered."""
    from ltc_scheduler.db import constraints
    from ltc_scheduler.db.engine import make_engine, session_scope
    from ltc_scheduler.ui.data import constraint_tables

    eng = make_engine(f"sqlite:///{path}")
    rows = constraint_tables(eng, weekday=DEMO_DATE.weekday(), tz="America/Chicago").vehicles
    for i, r in enumerate(rows):
        r["active"], r["max_trips"] = i < vans, 1
    with session_scope(eng) as s:
        constraints.update_vehicles(s, rows=rows, who="test")
    eng.dispose()


def _by_hand(plan) -> tuple[float, int, int]:
    """On time %, late stops and undelivered stops counted from the plan's stops (README definition)."""
    stops = [s for r in plan.routes for s in r.stops]
    late = sum(1 for s in stops if s.late_min > 0)
    return round(100 * (len(stops) - late) / (len(stops) + len(plan.unserved)), 1), late, len(plan.unserved)


def test_cli_json_today_tiles_and_compare_agree_on_a_day_short_of_vans(demo_db, capsys, monkeypatch):
    """One definition of on time / late / unserved: with stops left undelivered, a screen that
    counted on-time among delivered stops only (100 %) or counted its own late stops disagrees."""
    from streamlit.testing.v1 import AppTest

    from ltc_scheduler.db.engine import make_engine
    from ltc_scheduler.ui.data import list_runs, load_day_plan

    monkeypatch.setenv("LTC_TIMEZONE", "America/Chicago")
    summaries = []
    for vans in (2, 3):
        _short_of_vans(demo_db, vans)
        assert main(["plan", "--date", "2026-12-01", "--json", "--time-limit", "3"]) == 0
        summaries.append(json.loads(capsys.readouterr().out))
    eng = make_engine(f"sqlite:///{demo_db}")
    runs = list_runs(eng, date=DEMO_DATE)
    assert [r.id for r in runs] == [summaries[1]["plan_run_id"], summaries[0]["plan_run_id"]]
    for data in summaries:
        day = load_day_plan(eng, date=DEMO_DATE, plan_run_id=data["plan_run_id"])  # what the dashboard reads
        on_time, late, unserved = _by_hand(day.plan)
        assert unserved > 0 and on_time < 100.0
        assert data["on_time_pct"] == on_time
        assert data["late_stops"] == len(data["late"]) == late
        assert data["unserved_stops"] == len(data["unserved"]) == unserved
    newest = summaries[1]

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["plan_date"] = DEMO_DATE
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tiles = {m.label: m for m in at.metric}
    assert tiles["On time"].value == f"{newest['on_time_pct']:g}%"
    assert tiles["Unserved stops"].value == str(newest["unserved_stops"])
    assert tiles["On time"].proto.help.startswith(
        f"{newest['late_stops']} late and {newest['unserved_stops']} undelivered of "
        f"{newest['stops'] + newest['unserved_stops']} stops"
    )

    at.switch_page("ltc_scheduler/ui/app_pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    figures = at.dataframe[0].value
    for column, data in (("A", summaries[0]), ("B", summaries[1])):
        assert figures.loc["On time %", column] == str(data["on_time_pct"])
        assert figures.loc["Late stops", column] == str(data["late_stops"])
        assert figures.loc["Unserved stops", column] == str(data["unserved_stops"])


def test_a_solver_value_error_reaches_the_user_as_a_sentence(demo_db, capsys, monkeypatch):
    """problem/travel.py raises a plain ValueError; the service turns it into BadInput (exit 2)."""
    monkeypatch.setenv("LTC_TRAVEL_PROVIDER", "osrm")
    monkeypatch.delenv("LTC_OSRM_URL", raising=False)
    get_settings.cache_clear()
    assert main(["plan", "--date", "2026-12-01", "--time-limit", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: LTC_TRAVEL_PROVIDER=osrm needs LTC_OSRM_URL")
    assert "Traceback" not in err and "internal error" not in err


def test_plan_json_lists_every_stat_order_line_with_iso_local_times(demo_db, capsys):
    assert main(["plan", "--date", "2026-12-01", "--json", "--time-limit", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)["stat_orders"]
    keys = {"order", "facility_external_id", "received", "promise", "ready", "arrival", "on_time", "reason"}
    assert len(rows) > 10 and all(set(r) == keys for r in rows)
    for r in rows:
        # December in Chicago: UTC-6, the plan date
        assert r["received"] <= r["promise"] and r["promise"].startswith("2026-12-01T")
        assert r["promise"].endswith("-06:00")
        assert (r["reason"] is None) == r["on_time"]
        assert r["arrival"] is None or r["ready"] <= r["arrival"]
        if r["on_time"]:
            assert r["arrival"] <= r["promise"]
