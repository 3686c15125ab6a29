"""Dispatch exports (CSV, PDF manifest, GPX, Maps links, packing lists) on a hand-built plan.

``sample_problem()`` / ``sample_plan()`` are also used by ``test_viz.py``: a pharmacy with 14
facilities, two vans; route 1 has 3 stops (one cold, one controlled, one STAT), route 2 has 11
stops (more than one Google Maps link holds).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import parse_qs, urlparse

import gpxpy
import pytest
from factories import RESIDENT_NAME, sample_plan, sample_problem
from pypdf import PdfReader

from ltc_scheduler.exports.bundle import write_packing_lists, write_route_exports
from ltc_scheduler.exports.common import RunTag, route_label, route_slug, stop_rows
from ltc_scheduler.exports.gpx import route_gpx
from ltc_scheduler.exports.manifest_pdf import manifest_pdf
from ltc_scheduler.exports.maps_links import MAX_WAYPOINTS, maps_links
from ltc_scheduler.exports.packing_list import packing_list_csv, packing_list_pdf
from ltc_scheduler.exports.stops_csv import STOP_COLUMNS, stops_csv
from ltc_scheduler.problem.clock import clock

# --------------------------------------------------------------------------- helpers


def test_clock_formats_other_days() -> None:
    assert clock(0) == "00:00"
    assert clock(8 * 60 + 5) == "08:05"
    assert clock(1440 + 30) == "00:30 +1d"
    assert clock(-30) == "23:30 -1d"
    assert clock(None) == ""


def test_route_label_is_vehicle_and_trip_and_bad_route_number() -> None:
    plan, problem = sample_plan(), sample_problem()
    assert route_label(plan, problem, 2) == "Van B · trip 1"
    with pytest.raises(ValueError, match="has 2 route"):
        stop_rows(plan, problem, 3)


# --------------------------------------------------------------------------- CSV


def test_stops_csv_parses_and_matches_the_plan() -> None:
    plan, problem = sample_plan(), sample_problem()
    rows = list(csv.DictReader(io.StringIO(stops_csv(plan, problem, 1))))
    assert tuple(rows[0].keys()) == STOP_COLUMNS
    assert [r["sequence"] for r in rows] == ["1", "2", "3"]
    assert [r["facility"] for r in rows] == ["Maple Grove Care 0", "Maple Grove Care 1", "Maple Grove Care 2"]
    assert [r["eta"] for r in rows] == ["08:15", "08:40", "12:05"]
    assert rows[0]["window"] == "08:00-12:00"
    assert rows[1]["address"] == "101 Main St, Evanston, IL"
    assert [r["totes"] for r in rows] == ["1", "2", "2"]
    assert [r["cold"] for r in rows] == ["0", "0", "1"]
    assert [r["controlled"] for r in rows] == ["0", "1", "0"]
    assert rows[2]["late_min"] == "5" and rows[2]["stat"] == "yes"
    assert rows[0]["service_min"] == "11"


def test_stops_csv_of_all_routes_has_every_stop() -> None:
    plan, problem = sample_plan(), sample_problem()
    rows = list(csv.DictReader(io.StringIO(stops_csv(plan, problem))))
    assert len(rows) == 3 + 11
    assert {r["route"] for r in rows} == {"Van A · trip 1", "Van B · trip 1"}
    assert [int(r["facility_id"]) for r in rows if r["route"] == "Van B · trip 1"] == list(range(13, 24))


# --------------------------------------------------------------------------- PDF


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_manifest_pdf_is_letter_and_lists_stops_in_order_with_signature_lines() -> None:
    plan, problem = sample_plan(), sample_problem()
    data = manifest_pdf(plan, problem, 1)
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter in points
    text = _pdf_text(data)
    assert "Lakeshore LTC Pharmacy" in text and "DRIVER MANIFEST" in text
    assert "Van A" in text and "Departure: 08:00" in text
    positions = [text.index(f"Maple Grove Care {i}") for i in range(3)]
    assert positions == sorted(positions)
    for eta, address in (("08:15", "100 Main St"), ("08:40", "101 Main St"), ("12:05", "102 Main St")):
        assert eta in text and address in text
    assert "08:00-12:00" in text
    assert "COLD x1" in text
    assert "Controlled-substance count sheet" in text
    assert "Oxycodone 5 mg" in text and "RX2000" in text
    assert "Nurse printed name:" in text and "Nurse signature:" in text


def test_manifest_pdf_has_no_resident_identifiers() -> None:
    plan, problem = sample_plan(), sample_problem()
    text = _pdf_text(manifest_pdf(plan, problem, 1))
    assert RESIDENT_NAME not in text
    assert "777" not in text  # the controlled line's resident id
    assert "Resident" not in text


def test_manifest_pdf_without_controlled_says_so() -> None:
    plan, problem = sample_plan(), sample_problem()
    text = _pdf_text(manifest_pdf(plan, problem, 2))
    assert "No controlled substances on this route." in text
    positions = [text.index(f"{100 + i} Main St") for i in range(3, 14)]
    assert positions == sorted(positions)


# --------------------------------------------------------------------------- GPX and links


def test_gpx_parses_with_waypoints_in_stop_order() -> None:
    plan, problem = sample_plan(), sample_problem()
    gpx = gpxpy.parse(route_gpx(plan, problem, 1))
    names = [w.name for w in gpx.waypoints]
    assert names == ["01 Maple Grove Care 0", "02 Maple Grove Care 1", "03 Maple Grove Care 2"]
    assert gpx.waypoints[1].latitude == pytest.approx(42.01)
    assert gpx.waypoints[1].longitude == pytest.approx(-87.705)
    assert gpx.waypoints[0].time == dt.datetime(2026, 11, 26, 14, 15, tzinfo=dt.UTC)  # 08:15 CST
    route = gpx.routes[0]
    assert len(route.points) == 5  # pharmacy, 3 stops, pharmacy
    assert route.points[0].latitude == pytest.approx(42.0450) == route.points[-1].latitude


def test_maps_link_of_a_short_route_is_one_link_through_every_stop() -> None:
    plan, problem = sample_plan(), sample_problem()
    links = maps_links(plan, problem, 1)
    assert len(links) == 1
    q = parse_qs(urlparse(links[0]).query)
    assert q["origin"] == ["42.045000,-87.687700"] == q["destination"]
    assert q["waypoints"][0].split("|") == [
        "42.000000,-87.700000",
        "42.010000,-87.705000",
        "42.020000,-87.710000",
    ]


def test_maps_links_split_long_routes_and_chain() -> None:
    plan, problem = sample_plan(), sample_problem()
    links = maps_links(plan, problem, 2)  # 11 stops + pharmacy twice = 13 points
    assert len(links) == 2
    queries = [parse_qs(urlparse(u).query) for u in links]
    assert all(len(q.get("waypoints", [""])[0].split("|")) <= MAX_WAYPOINTS for q in queries)
    assert queries[0]["destination"] == queries[1]["origin"]  # legs chain
    visited = [queries[0]["origin"][0]]
    for q in queries:
        visited += q["waypoints"][0].split("|") if "waypoints" in q else []
        visited.append(q["destination"][0])
    expected_stops = [f"{42.0 + i * 0.01:.6f},{-87.70 - i * 0.005:.6f}" for i in range(3, 14)]
    assert visited == ["42.045000,-87.687700", *expected_stops, "42.045000,-87.687700"]


# --------------------------------------------------------------------------- packing list and files


def test_packing_list_csv_lists_every_order_line_with_flags() -> None:
    plan, problem = sample_plan(), sample_problem()
    rows = list(csv.DictReader(io.StringIO(packing_list_csv(plan, problem))))
    assert len(rows) == 16
    oxy = next(r for r in rows if r["order"] == "RX2000")
    assert (oxy["batch"], oxy["line"], oxy["controlled"], oxy["cold"]) == (
        "B0100",
        "Unit-dose line",
        "yes",
        "no",
    )
    insulin = next(r for r in rows if r["order"] == "RX2001")
    assert (insulin["cold"], insulin["order_class"], insulin["start"]) == ("yes", "stat", "06:10")
    only = list(csv.DictReader(io.StringIO(packing_list_csv(plan, problem, ["B0101"]))))
    assert [r["order"] for r in only] == ["RX2001"]


def test_packing_list_pdf_has_a_block_per_batch() -> None:
    plan, problem = sample_plan(), sample_problem()
    text = _pdf_text(packing_list_pdf(plan, problem))
    for b in plan.batches:
        assert b.key in text
    assert "[COLD, STAT]" in text and "[CONTROLLED]" in text


def test_write_route_exports_writes_all_files(tmp_path) -> None:
    plan, problem = sample_plan(), sample_problem()
    paths = write_route_exports(plan, problem, 2, tmp_path)
    assert sorted(p.name for p in paths) == [
        "2026-11-26_vanb-1.gpx",
        "2026-11-26_vanb-1_manifest.pdf",
        "2026-11-26_vanb-1_maps_links.txt",
        "2026-11-26_vanb-1_stops.csv",
    ]
    assert len((tmp_path / "2026-11-26_vanb-1_maps_links.txt").read_text().split()) == 2
    packing = write_packing_lists(plan, problem, tmp_path)
    assert all(p.stat().st_size > 0 for p in packing)
    with pytest.raises(ValueError, match="unknown export format"):
        write_route_exports(plan, problem, 1, tmp_path, ["xls"])


# --------------------------------------------------------------------------- CLI on a saved plan


@pytest.fixture(scope="module")
def planned_demo(demo_small_template, tmp_path_factory):
    """The small demo day (2026-12-01) planned once with a 2 s solver limit; yields its URL."""
    import shutil

    from ltc_scheduler import service
    from ltc_scheduler.db import constraints
    from ltc_scheduler.db.engine import make_engine, session_scope

    path = tmp_path_factory.mktemp("export_cli") / "planned.db"
    shutil.copyfile(demo_small_template, path)
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    with session_scope(eng) as s:
        constraints.update_settings(s, values={"time_limit_s": 2}, who="test")
    service.plan_date(eng, date=dt.date(2026, 12, 1), started_by="test")
    eng.dispose()
    return url


def test_export_command_writes_every_format_of_the_published_plan(
    planned_demo, tmp_path, monkeypatch
) -> None:
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db import plans
    from ltc_scheduler.db.engine import make_engine, session_scope

    eng = make_engine(planned_demo)
    with session_scope(eng) as s:
        run = plans.latest_plan_run(s, date=dt.date(2026, 12, 1))
        record = plans.load_plan_record(s, plan_run_id=run.id)
        plan, problem = record.plan, record.problem
    eng.dispose()
    first = plan.routes[0]
    label = route_label(plan, problem, 1)
    slug = route_slug(plan, problem, 1)
    assert (
        label
        == f"{next(v.name for v in problem.vehicles if v.id == first.vehicle_id)} · trip {first.trip_no}"
    )
    monkeypatch.setenv("DATABASE_URL", planned_demo)
    get_settings.cache_clear()
    try:
        assert main(["export", "--date", "2026-12-01", "--route", label, "--out", str(tmp_path)]) == 0
        assert main(["export", "--date", "2026-12-01", "--route", "1", "--out", str(tmp_path)]) == 2
        assert main(["export", "--date", "2026-11-30", "--out", str(tmp_path)]) == 2
        assert main(["export", "--date", "2026-12-01", "--format", "xls", "--out", str(tmp_path)]) == 2
        assert main(["export", "--date", "2026-12-01", "--out", str(tmp_path)]) == 0
    finally:
        get_settings.cache_clear()
    made = RunTag.of(run.id, run.created_at, run.timezone)
    whole = tmp_path / f"2026-12-01_{made.stem()}"
    one = tmp_path / f"2026-12-01_{made.stem()}_{slug}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([whole.name, one.name])
    assert sorted(p.name for p in one.iterdir()) == [
        f"2026-12-01_{slug}.gpx",
        f"2026-12-01_{slug}_manifest.pdf",
        f"2026-12-01_{slug}_maps_links.txt",
        f"2026-12-01_{slug}_stops.csv",
        "PLAN.txt",
    ]
    note = (whole / "PLAN.txt").read_text()
    assert f"Plan run #{run.id}, made {made.made_at:%Y-%m-%d %H:%M}." in note
    assert len(list(whole.glob("*_manifest.pdf"))) == len(plan.routes)
    rows = list(csv.DictReader(io.StringIO((one / f"2026-12-01_{slug}_stops.csv").read_text())))
    assert [int(r["facility_id"]) for r in rows] == [s.facility_id for s in first.stops]
    assert [int(r["totes"]) for r in rows] == [s.totes for s in first.stops]
    assert {(r["route"], r["plan_run"]) for r in rows} == {(label, str(run.id))}
    gpx = gpxpy.parse((one / f"2026-12-01_{slug}.gpx").read_text())
    assert len(gpx.waypoints) == len(first.stops)
    assert f"plan run #{run.id}" in gpx.description
    text = _pdf_text((one / f"2026-12-01_{slug}_manifest.pdf").read_bytes())
    assert f"Plan run #{run.id}" in text
    for r in rows:
        assert r["address"].split(",")[0] in text
    tmp_path = whole
    packing = list(csv.DictReader(io.StringIO((tmp_path / "2026-12-01_packing_list.csv").read_text())))
    assert len(packing) == sum(len(b.order_line_ids) for b in plan.batches)


def test_window_text_with_open_ends() -> None:
    from ltc_scheduler.exports.common import window_text

    assert window_text(480, 660) == "08:00-11:00"
    assert window_text(None, 660) == "by 11:00"
    assert window_text(480, None) == "from 08:00"
    assert window_text(None, None) == ""


def test_export_command_prints_the_day_in_one_file_each(planned_demo, tmp_path, monkeypatch) -> None:
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db import plans
    from ltc_scheduler.db.engine import make_engine, session_scope

    eng = make_engine(planned_demo)
    with session_scope(eng) as s:
        run = plans.latest_plan_run(s, date=dt.date(2026, 12, 1))
        plan = plans.load_plan_record(s, plan_run_id=run.id).plan
    eng.dispose()
    monkeypatch.setenv("DATABASE_URL", planned_demo)
    get_settings.cache_clear()
    try:
        for fmt in ("manifests-all", "packing-all", "all"):
            assert main(["export", "--date", "2026-12-01", "--format", fmt, "--out", str(tmp_path)]) == 0
    finally:
        get_settings.cache_clear()
    stem = f"2026-12-01_{RunTag.of(run.id, run.created_at, run.timezone).stem()}"
    assert sorted(p.name for p in (tmp_path / f"{stem}_manifests-all").iterdir()) == [
        "2026-12-01_all_manifests.pdf",
        "PLAN.txt",
    ]
    assert sorted(p.name for p in (tmp_path / f"{stem}_packing-all").iterdir()) == [
        "2026-12-01_all_packing_lists.pdf",
        "PLAN.txt",
    ]
    whole = tmp_path / stem
    manifests = PdfReader(whole / "2026-12-01_all_manifests.pdf")
    assert len(manifests.pages) >= len(plan.routes)
    titled = [p.extract_text() for p in manifests.pages if "DRIVER MANIFEST" in p.extract_text()]
    assert len(titled) == len(plan.routes)
    packing = PdfReader(whole / "2026-12-01_all_packing_lists.pdf")
    assert len(packing.pages) >= len(plan.batches)
