"""Write a route's exports to a folder (what ``ltc-scheduler export`` and the dashboard use)."""

from __future__ import annotations

from pathlib import Path

from ltc_scheduler.exports.gpx import route_gpx
from ltc_scheduler.exports.manifest_pdf import manifest_pdf
from ltc_scheduler.exports.maps_links import maps_links
from ltc_scheduler.exports.packing_list import packing_list_csv, packing_list_pdf
from ltc_scheduler.exports.stops_csv import stops_csv
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.model import PlanningProblem

ROUTE_FORMATS: tuple[str, ...] = ("csv", "pdf", "gpx", "links")
ALL_FORMATS: tuple[str, ...] = (*ROUTE_FORMATS, "packing")


def route_file_stem(plan: Plan, route_no: int) -> str:
    return f"{plan.date.isoformat()}_route{route_no:02d}"


def write_route_exports(
    plan: Plan,
    problem: PlanningProblem,
    route_no: int,
    out_dir: Path,
    formats: tuple[str, ...] | list[str] = ROUTE_FORMATS,
) -> list[Path]:
    """Write route ``route_no``'s files in ``formats`` (csv, pdf, gpx, links) into ``out_dir``."""
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; use {', '.join(ALL_FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = route_file_stem(plan, route_no)
    written: list[Path] = []
    if "csv" in formats:
        path = out_dir / f"{stem}_stops.csv"
        path.write_text(stops_csv(plan, problem, route_no), encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        path = out_dir / f"{stem}_manifest.pdf"
        path.write_bytes(manifest_pdf(plan, problem, route_no))
        written.append(path)
    if "gpx" in formats:
        path = out_dir / f"{stem}.gpx"
        path.write_text(route_gpx(plan, problem, route_no), encoding="utf-8")
        written.append(path)
    if "links" in formats:
        path = out_dir / f"{stem}_maps_links.txt"
        path.write_text("\n".join(maps_links(plan, problem, route_no)) + "\n", encoding="utf-8")
        written.append(path)
    return written


def write_packing_lists(plan: Plan, problem: PlanningProblem, out_dir: Path) -> list[Path]:
    """The day's packing list for every batch, as CSV and PDF."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{plan.date.isoformat()}_packing_list.csv"
    csv_path.write_text(packing_list_csv(plan, problem), encoding="utf-8")
    pdf_path = out_dir / f"{plan.date.isoformat()}_packing_list.pdf"
    pdf_path.write_bytes(packing_list_pdf(plan, problem))
    return [csv_path, pdf_path]
