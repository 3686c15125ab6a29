"""``ltc-scheduler plan`` on a copy of the small demo day (DATABASE_URL points at it)."""

from __future__ import annotations

import json
import shutil

import pytest

from ltc_scheduler.cli import main
from ltc_scheduler.config import get_settings

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
    assert main(["plan", "--date", "2026-12-01", "--now", "14:00"]) == 2
    assert "--now only makes sense with --replan" in capsys.readouterr().err
    assert main(["plan", "--date", "2026-12-02", "--replan"]) == 2
    assert "no published plan for 2026-12-02" in capsys.readouterr().err


def test_a_solver_value_error_reaches_the_user_as_a_sentence(demo_db, capsys, monkeypatch):
    """problem/travel.py raises a plain ValueError; the service turns it into BadInput (exit 2)."""
    monkeypatch.setenv("LTC_TRAVEL_PROVIDER", "osrm")
    monkeypatch.delenv("LTC_OSRM_URL", raising=False)
    get_settings.cache_clear()
    assert main(["plan", "--date", "2026-12-01", "--time-limit", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: LTC_TRAVEL_PROVIDER=osrm needs LTC_OSRM_URL")
    assert "Traceback" not in err and "internal error" not in err
