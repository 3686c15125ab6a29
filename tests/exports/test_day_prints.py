"""The day's paperwork in one file each: every manifest, every packing list (read back with pypdf)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

from factories import sample_plan, sample_problem
from pypdf import PdfReader

from ltc_scheduler.exports.bundle import ALL_FORMATS, write_run_exports
from ltc_scheduler.exports.common import RunTag, route_label, route_order
from ltc_scheduler.exports.manifest_pdf import day_manifests_pdf, manifest_pdf
from ltc_scheduler.exports.packing_list import packing_list_pdf
from ltc_scheduler.exports.pdf_base import latin1


def _pages(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def _long_stop_day():
    """Stop 2 of Van A (facility 11) carries 90 controlled order lines: its count sheet runs over pages."""
    plan, problem = sample_plan(), sample_problem()
    template = next(o for o in problem.orders if o.id == 200)
    extra = tuple(
        replace(template, id=1000 + i, external_id=f"RXC{i:03d}", medication_name=f"Morphine {i} mg")
        for i in range(90)
    )
    problem = replace(problem, orders=problem.orders + extra)
    batches = tuple(
        replace(b, order_line_ids=b.order_line_ids + tuple(o.id for o in extra)) if b.key == "B0100" else b
        for b in plan.batches
    )
    return replace(plan, batches=batches), problem


def test_day_manifests_put_every_route_on_its_own_pages_with_title_and_label() -> None:
    plan, problem = sample_plan(), sample_problem()
    run = RunTag(12, dt.datetime(2026, 11, 26, 6, 15))
    pages = _pages(day_manifests_pdf(plan, problem, run=run))
    singles = [len(_pages(manifest_pdf(plan, problem, no))) for no in route_order(plan, problem)]
    assert len(pages) == sum(singles) >= len(plan.routes)
    first_pages = [0]
    for n in singles[:-1]:
        first_pages.append(first_pages[-1] + n)
    for start, no in zip(first_pages, route_order(plan, problem), strict=True):
        label = latin1(route_label(plan, problem, no))  # "Van A - trip 1" in the PDF's core font
        assert "DRIVER MANIFEST" in pages[start].upper()
        assert label in pages[start] and "Plan run #12" in pages[start]
        assert f"{label} - page {start + 1} of {len(pages)}" in pages[start]  # its own footer
    # route 2's manifest does not start on a page of route 1
    assert latin1(route_label(plan, problem, 2)) not in pages[first_pages[1] - 1].split("page")[0]


def test_a_stop_continued_on_the_next_page_repeats_its_heading() -> None:
    plan, problem = _long_stop_day()
    pages = _pages(manifest_pdf(plan, problem, 1))
    start = next(i for i, t in enumerate(pages) if "Stop 2: Maple Grove Care 1  (ETA 08:40" in t)
    assert "RXC089" not in pages[start]  # 90 lines do not fit on one page
    follow = pages[start + 1]
    assert follow.lstrip().startswith("Stop 2: Maple Grove Care 1 (continued) - Van A - trip 1")
    assert "Order #" in follow  # the column headings repeat too
    assert "RXC089" in "".join(pages[start + 1 :])
    # the same heading in the day's file
    day = _pages(day_manifests_pdf(plan, problem))
    assert any(t.lstrip().startswith("Stop 2: Maple Grove Care 1 (continued)") for t in day)


def test_a_long_batch_continued_on_the_next_page_repeats_its_heading() -> None:
    plan, problem = _long_stop_day()
    pages = _pages(packing_list_pdf(plan, problem, ["B0100"]))
    assert len(pages) >= 2
    assert pages[1].lstrip().startswith("B0100  Maple Grove Care 1 (continued)")


def test_packing_all_gives_every_batch_a_page_of_its_own() -> None:
    plan, problem = sample_plan(), sample_problem()
    pages = _pages(packing_list_pdf(plan, problem, page_per_batch=True))
    assert len(pages) == len(plan.batches)
    keys = [next(b.key for b in plan.batches if f"{b.key}  Maple" in t) for t in pages]
    assert sorted(keys) == sorted(b.key for b in plan.batches)


def test_run_exports_write_both_day_files(tmp_path) -> None:
    plan, problem = sample_plan(), sample_problem()
    run = RunTag(3, dt.datetime(2026, 11, 26, 6, 0))
    folder = write_run_exports(plan, problem, run, tmp_path, formats=ALL_FORMATS)
    manifests = folder / "2026-11-26_all_manifests.pdf"
    packing = folder / "2026-11-26_all_packing_lists.pdf"
    assert len(_pages(manifests.read_bytes())) >= len(plan.routes)
    assert len(_pages(packing.read_bytes())) == len(plan.batches)
    note = (folder / "PLAN.txt").read_text()
    assert "2026-11-26_all_manifests.pdf  every route's driver manifest" in note
    only = write_run_exports(plan, problem, run, tmp_path, formats=["manifests-all"], scope="manifests-all")
    assert sorted(p.name for p in only.iterdir()) == ["2026-11-26_all_manifests.pdf", "PLAN.txt"]
