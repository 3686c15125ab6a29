"""Stable route identity in the exports: a route is its vehicle and trip, every export names its
plan run, each run's files go atomically into a folder of their own.

Uses the hand-built plan of ``tests/exports/test_exports.py``: Van A (vehicle 1) trip 1 with 3
stops, Van B (vehicle 2) trip 1 with 11 stops.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
from dataclasses import replace
from pathlib import Path

import pytest
from factories import sample_plan, sample_problem

from ltc_scheduler.errors import BadInput  # noqa: E402
from ltc_scheduler.exports import bundle  # noqa: E402
from ltc_scheduler.exports.bundle import PLAN_NOTE, write_run_exports  # noqa: E402
from ltc_scheduler.exports.common import RunTag, find_route, route_label, route_slug  # noqa: E402
from ltc_scheduler.exports.stops_csv import stops_csv  # noqa: E402
from ltc_scheduler.problem.model import Vehicle  # noqa: E402

RUN_1 = RunTag(11, dt.datetime(2026, 11, 26, 6, 15))
RUN_2 = RunTag(12, dt.datetime(2026, 11, 26, 9, 40))


def _tree(root: Path) -> dict[str, list[str]]:
    """Folder name -> sorted file names, hidden entries included."""
    return {d.name: sorted(p.name for p in d.iterdir()) for d in sorted(root.iterdir()) if d.is_dir()} | {
        f.name: [] for f in root.iterdir() if f.is_file()
    }


def test_a_route_keeps_its_label_and_file_name_when_the_plan_changes() -> None:
    plan, problem = sample_plan(), sample_problem()
    # the re-plan drops Van A's trip: Van B's route is now first in the list, still "Van B · trip 1"
    replanned = replace(plan, routes=plan.routes[1:])
    assert route_label(plan, problem, 2) == route_label(replanned, problem, 1) == "Van B · trip 1"
    assert route_slug(plan, problem, 2) == route_slug(replanned, problem, 1) == "vanb-1"
    assert bundle.route_file_stem(replanned, problem, 1) == "2026-11-26_vanb-1"
    rows = list(csv.DictReader(io.StringIO(stops_csv(replanned, problem, run=RUN_2))))
    assert {(r["route"], r["plan_run"], r["planned_at"]) for r in rows} == {
        ("Van B · trip 1", "12", "2026-11-26 09:40")
    }


def test_find_route_reads_the_label_the_slug_and_vehicle_plus_trip() -> None:
    plan, problem = sample_plan(), sample_problem()
    for text in ("Van B · trip 1", "vanb-1", "Van B trip 1", "van b 1", "VAN-B", "Van B"):
        assert find_route(plan, problem, text) == 2, text
    with pytest.raises(
        ValueError, match=r'not by number\); the routes are "Van A · trip 1", "Van B · trip 1"'
    ):
        find_route(plan, problem, "2")
    with pytest.raises(ValueError, match="no route 'Van C'"):
        find_route(plan, problem, "Van C")
    # a second trip: the vehicle's name alone no longer says which
    two_trips = replace(plan, routes=(*plan.routes, replace(plan.routes[1], trip_no=2)))
    assert find_route(two_trips, problem, "vanb-2") == 3
    with pytest.raises(ValueError, match="no route 'Van B'"):
        find_route(two_trips, problem, "Van B")


def test_slugs_stay_apart_when_two_vehicle_names_read_the_same() -> None:
    plan, problem = sample_plan(), sample_problem()
    same = tuple(replace(v, name="Van-A") if v.id == 2 else v for v in problem.vehicles)
    problem = replace(problem, vehicles=same)
    assert isinstance(problem.vehicles[0], Vehicle)
    assert [route_slug(plan, problem, n) for n in (1, 2)] == ["vanav1-1", "vanav2-1"]


def test_each_run_gets_its_own_folder_naming_the_run(tmp_path: Path) -> None:
    plan, problem = sample_plan(), sample_problem()
    first = write_run_exports(plan, problem, RUN_1, tmp_path)
    second = write_run_exports(replace(plan, routes=plan.routes[1:]), problem, RUN_2, tmp_path)
    assert (first.name, second.name) == ("2026-11-26_run11_0615", "2026-11-26_run12_0940")
    tree = _tree(tmp_path)
    assert sorted(tree) == [first.name, second.name]  # nothing else: no temporary folder left
    assert tree[second.name] == [
        "2026-11-26_packing_list.csv",
        "2026-11-26_packing_list.pdf",
        "2026-11-26_vanb-1.gpx",
        "2026-11-26_vanb-1_manifest.pdf",
        "2026-11-26_vanb-1_maps_links.txt",
        "2026-11-26_vanb-1_stops.csv",
        PLAN_NOTE,
    ]
    assert "2026-11-26_vana-1_manifest.pdf" in tree[first.name]
    note = (second / PLAN_NOTE).read_text()
    assert "Plan run #12, made 2026-11-26 09:40." in note
    assert "2026-11-26_vanb-1_manifest.pdf  Van B · trip 1" in note
    links = (second / "2026-11-26_vanb-1_maps_links.txt").read_text().splitlines()
    assert links[0] == "# Van B · trip 1, plan run #12, made 2026-11-26 09:40"
    assert all(p.stat().st_size > 0 for p in second.iterdir())


def test_exporting_a_run_again_replaces_its_folder_whole(tmp_path: Path) -> None:
    plan, problem = sample_plan(), sample_problem()
    folder = write_run_exports(plan, problem, RUN_1, tmp_path)
    (folder / "stray.txt").write_text("left by hand")
    again = write_run_exports(plan, problem, RUN_1, tmp_path, formats=("csv",))
    assert again == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-11-26_vana-1_stops.csv",
        "2026-11-26_vanb-1_stops.csv",
        PLAN_NOTE,
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


def _fail_on_second_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up while the second route's manifest is written (the first route's files and
    its manifest are already on disk by then)."""
    real = bundle.manifest_pdf

    def manifest(plan, problem, route_no, *, run=None):
        if route_no == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(plan, problem, route_no, run=run)

    monkeypatch.setattr(bundle, "manifest_pdf", manifest)


def test_a_failed_export_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, problem = sample_plan(), sample_problem()
    previous = write_run_exports(plan, problem, RUN_1, tmp_path)
    before = {p.name: p.read_bytes() for p in previous.iterdir()}
    _fail_on_second_route(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        write_run_exports(plan, problem, RUN_2, tmp_path)
    # no folder of run 12, no temporary folder, no 0-byte file; run 11's folder as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == [previous.name]
    assert {p.name: p.read_bytes() for p in previous.iterdir()} == before
    # the same failure while re-exporting run 11 leaves run 11's earlier folder in place
    with pytest.raises(OSError):
        write_run_exports(plan, problem, RUN_1, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [previous.name]
    assert {p.name: p.read_bytes() for p in previous.iterdir()} == before


def test_a_full_disk_is_one_plain_sentence_from_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ltc_scheduler.commands import export

    plan, problem = sample_plan(), sample_problem()

    class _Record:
        pass

    record = _Record()
    record.plan, record.problem = plan, problem

    class _Run:
        id, created_at, timezone = 11, dt.datetime(2026, 11, 26, 12, 15), "America/Chicago"

    monkeypatch.setattr("ltc_scheduler.db.plans.latest_plan_run", lambda session, date: _Run())
    monkeypatch.setattr("ltc_scheduler.db.plans.load_plan_record", lambda session, plan_run_id: record)
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    written = export.run_export(date=plan.date, route="vanb-1", fmt="all", out=tmp_path / "out", url=url)
    assert written[-1].parent.name == "2026-11-26_run11_0615_vanb-1"  # 12:15 UTC = 06:15 in Chicago
    assert [p.name for p in written] == [
        "2026-11-26_vanb-1.gpx",
        "2026-11-26_vanb-1_manifest.pdf",
        "2026-11-26_vanb-1_maps_links.txt",
        "2026-11-26_vanb-1_stops.csv",
        PLAN_NOTE,
    ]
    _fail_on_second_route(monkeypatch)
    with pytest.raises(BadInput, match="No space left on device.*nothing was written"):
        export.run_export(date=plan.date, route=None, fmt="pdf", out=tmp_path / "out", url=url)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["2026-11-26_run11_0615_vanb-1"]
    with pytest.raises(BadInput, match="--route: there is no route '3'"):
        export.run_export(date=plan.date, route="3", fmt="all", out=tmp_path / "out", url=url)


def test_out_onto_an_existing_file_is_a_clear_error(tmp_path: Path) -> None:
    from ltc_scheduler.cli import main
    from ltc_scheduler.commands.export import run_export

    target = tmp_path / "manifest.pdf"
    target.write_bytes(b"%PDF old")
    with pytest.raises(BadInput, match=r"--out: .*manifest.pdf is a file, not a folder"):
        run_export(date=dt.date(2026, 11, 26), route=None, fmt="all", out=target)
    assert main(["export", "--date", "2026-11-26", "--out", str(target)]) == 2
    assert target.read_bytes() == b"%PDF old"


def test_every_list_shows_the_routes_by_vehicle_and_trip() -> None:
    from ltc_scheduler.exports.common import route_order
    from ltc_scheduler.ui.tables import routes_frame

    plan, problem = sample_plan(), sample_problem()
    a1, b1 = plan.routes
    # a re-plan keeps departed routes first: Van B's trip, then Van A's second and first trips
    shuffled = replace(plan, routes=(b1, replace(a1, trip_no=2), a1))
    assert route_order(shuffled, problem) == [3, 2, 1]
    assert list(routes_frame(shuffled, problem)["Route"]) == [
        "Van A · trip 1",
        "Van A · trip 2",
        "Van B · trip 1",
    ]
    rows = list(csv.DictReader(io.StringIO(stops_csv(shuffled, problem))))
    assert list(dict.fromkeys(r["route"] for r in rows)) == [
        "Van A · trip 1",
        "Van A · trip 2",
        "Van B · trip 1",
    ]
