"""``plan --json`` lists every route by its stable label, with its stops, one per facility per trip.

Runs the CLI on a copy of the small demo day (2026-12-01, 3 s solver limit) and checks the
``route_details`` key against the saved plan record and the independent validators.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import DEMO_DATE

from ltc_scheduler.cli import main
from ltc_scheduler.config import get_settings
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import make_engine, session_scope
from ltc_scheduler.enums import URGENT_CLASSES
from ltc_scheduler.exports.common import route_label
from ltc_scheduler.plan.validate import validate_coupling
from ltc_scheduler.problem.clock import clock


@pytest.fixture
def demo_url(demo_small_template, tmp_path, monkeypatch):
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_small_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_plan_json_route_details(demo_url, capsys):
    assert main(["plan", "--date", DEMO_DATE.isoformat(), "--json", "--time-limit", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    details = data["route_details"]
    eng = make_engine(demo_url)
    with session_scope(eng) as s:
        record = plans.load_plan_record(s, plan_run_id=data["plan_run_id"])
    eng.dispose()
    plan, problem = record.plan, record.problem
    assert len(details) == len(plan.routes) == data["routes"]
    assert [d["route"] for d in details] == [
        route_label(plan, problem, n) for n in range(1, len(details) + 1)
    ]
    assert len({d["route"] for d in details}) == len(details)
    batches = {b.key: b for b in plan.batches}
    names = {f.id: f for f in problem.facilities}
    repeats = 0
    for d, r in zip(details, plan.routes, strict=True):
        vehicle = next(v.name for v in problem.vehicles if v.id == r.vehicle_id)
        assert d["route"] == f"{vehicle} · trip {r.trip_no}"
        assert (d["vehicle"], d["trip"], d["depart"], d["return"]) == (
            vehicle,
            r.trip_no,
            clock(r.depart_min),
            clock(r.return_min),
        )
        assert re.fullmatch(r"\d\d:\d\d", d["depart"]) and re.fullmatch(r"\d\d:\d\d", d["return"])
        assert len(d["stops"]) == len(r.stops)
        for got, stop in zip(d["stops"], sorted(r.stops, key=lambda s: s.seq), strict=True):
            classes = {batches[k].order_class for k in stop.batch_keys}
            assert got == {
                "facility": names[stop.facility_id].name,
                "facility_external_id": names[stop.facility_id].external_id,
                "arrival": clock(stop.arrival_min),
                "totes": stop.totes,
                "cold_totes": stop.cold_totes,
                "controlled_totes": stop.controlled_totes,
                "routine": any(c not in URGENT_CLASSES for c in classes),
                "urgent": any(c in URGENT_CLASSES for c in classes),
            }
        facilities = [s["facility_external_id"] for s in d["stops"]]
        repeats += sum(x == y for x, y in zip(facilities, facilities[1:], strict=False))
    # every pair one arrival can serve is merged; a pair left (a STAT promise before the routine
    # window) is two deliveries, shown as such and named by the validator as a warning
    warnings = [v for v in validate_coupling(plan) if v.rule == "repeat_visit"]
    assert len(warnings) == repeats and not any(v.hard for v in warnings)
    assert data["valid"] is True
