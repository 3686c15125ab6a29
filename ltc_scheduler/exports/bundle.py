"""Write a plan run's exports to a folder of their own (what ``ltc-scheduler export`` uses).

Every run's files go into one folder named after the date, the run and when it was made
(``2026-12-01_run12_0615``; a single route or format adds ``_van03-1`` / ``_csv``), next to a
``PLAN.txt`` that names the plan run and lists each file. The folder is first written under a
temporary name in the same place and renamed when every file is complete, so the files of two
plans never mix and a failed export (a full disk, a crash) leaves nothing half-written: no
partial folder, no 0-byte file, and an earlier export of the same run stays as it was.

File names use the route's slug, its vehicle and trip (``2026-12-01_van03-1_manifest.pdf``),
never a route number that could mean another van in the next plan.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ltc_scheduler.exports.common import RunTag, route_label, route_order, route_slug
from ltc_scheduler.exports.gpx import route_gpx
from ltc_scheduler.exports.manifest_pdf import day_manifests_pdf, manifest_pdf
from ltc_scheduler.exports.maps_links import maps_links
from ltc_scheduler.exports.packing_list import packing_list_csv, packing_list_pdf
from ltc_scheduler.exports.stops_csv import stops_csv
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.model import PlanningProblem

ROUTE_FORMATS: tuple[str, ...] = ("csv", "pdf", "gpx", "links")
#: the day's paperwork in one file each: every manifest, every batch's packing list
DAY_FORMATS: tuple[str, ...] = ("manifests-all", "packing-all")
#: the per-route files and the packing lists (what :func:`write_run_exports` writes by default)
FILE_FORMATS: tuple[str, ...] = (*ROUTE_FORMATS, "packing")
#: everything, also the day's print files (``ltc-scheduler export --format all``)
ALL_FORMATS: tuple[str, ...] = (*FILE_FORMATS, *DAY_FORMATS)

#: the file in every export folder that says which plan run it holds
PLAN_NOTE = "PLAN.txt"


def route_file_stem(plan: Plan, problem: PlanningProblem, route_no: int) -> str:
    """``"2026-12-01_van03-1"``: the date and the route's vehicle and trip."""
    return f"{plan.date.isoformat()}_{route_slug(plan, problem, route_no)}"


def run_folder_name(plan: Plan, run: RunTag, *, scope: str = "") -> str:
    """``"2026-12-01_run12_0615"`` (``scope`` appended: ``"..._van03-1"``)."""
    return f"{plan.date.isoformat()}_{run.stem()}" + (f"_{scope}" if scope else "")


def _check_formats(formats: Sequence[str]) -> None:
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; use {', '.join(ALL_FORMATS)}")


def _write(path: Path, data: str | bytes) -> Path:
    """Write ``data`` and make sure it reached the disk (a full disk fails here, not later)."""
    with open(path, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def write_route_exports(
    plan: Plan,
    problem: PlanningProblem,
    route_no: int,
    out_dir: Path,
    formats: Sequence[str] = ROUTE_FORMATS,
    *,
    run: RunTag | None = None,
) -> list[Path]:
    """Write route ``route_no``'s files in ``formats`` (csv, pdf, gpx, links) into ``out_dir``
    (an existing folder; :func:`write_run_exports` gives it one of its own)."""
    _check_formats(formats)
    stem = route_file_stem(plan, problem, route_no)
    written: list[Path] = []
    if "csv" in formats:
        written.append(_write(out_dir / f"{stem}_stops.csv", stops_csv(plan, problem, route_no, run=run)))
    if "pdf" in formats:
        written.append(
            _write(out_dir / f"{stem}_manifest.pdf", manifest_pdf(plan, problem, route_no, run=run))
        )
    if "gpx" in formats:
        written.append(_write(out_dir / f"{stem}.gpx", route_gpx(plan, problem, route_no, run=run)))
    if "links" in formats:
        head = [f"# {route_label(plan, problem, route_no)}, {run.text()}"] if run is not None else []
        text = "\n".join([*head, *maps_links(plan, problem, route_no)]) + "\n"
        written.append(_write(out_dir / f"{stem}_maps_links.txt", text))
    return written


def write_packing_lists(
    plan: Plan, problem: PlanningProblem, out_dir: Path, *, run: RunTag | None = None
) -> list[Path]:
    """The day's packing list for every batch, as CSV and PDF, into ``out_dir`` (an existing folder)."""
    day = plan.date.isoformat()
    return [
        _write(out_dir / f"{day}_packing_list.csv", packing_list_csv(plan, problem, run=run)),
        _write(out_dir / f"{day}_packing_list.pdf", packing_list_pdf(plan, problem, run=run)),
    ]


def manifests_all_name(plan: Plan) -> str:
    """``"2026-12-01_all_manifests.pdf"``."""
    return f"{plan.date.isoformat()}_all_manifests.pdf"


def packing_all_name(plan: Plan) -> str:
    """``"2026-12-01_all_packing_lists.pdf"``."""
    return f"{plan.date.isoformat()}_all_packing_lists.pdf"


def write_day_files(
    plan: Plan,
    problem: PlanningProblem,
    out_dir: Path,
    formats: Sequence[str] = DAY_FORMATS,
    *,
    run: RunTag | None = None,
) -> list[Path]:
    """The day's print files into ``out_dir``: every route's manifest in one PDF
    (``manifests-all``) and every batch's packing list, a page each, in one PDF (``packing-all``)."""
    written: list[Path] = []
    if "manifests-all" in formats:
        written.append(_write(out_dir / manifests_all_name(plan), day_manifests_pdf(plan, problem, run=run)))
    if "packing-all" in formats:
        data = packing_list_pdf(plan, problem, run=run, page_per_batch=True)
        written.append(_write(out_dir / packing_all_name(plan), data))
    return written


def _note(plan: Plan, problem: PlanningProblem, run: RunTag, files: dict[str, str]) -> str:
    lines = [
        f"{problem.depot.name}: dispatch exports for {plan.date.isoformat()}",
        f"{run.text().capitalize()}.",
        "Every file in this folder belongs to this plan run; a newer plan gets a folder of its own.",
        "",
    ]
    lines += [f"{name}  {what}" for name, what in files.items()]
    return "\n".join(lines) + "\n"


def write_run_exports(
    plan: Plan,
    problem: PlanningProblem,
    run: RunTag,
    out_root: Path,
    *,
    routes: Sequence[int] | None = None,
    formats: Sequence[str] = FILE_FORMATS,
    scope: str = "",
) -> Path:
    """Write the exports of plan run ``run`` into a new folder under ``out_root``; returns it.

    ``routes``: the route numbers (1-based places in ``plan.routes``; default every route);
    ``formats``: csv, pdf, gpx, links, packing (the default), manifests-all, packing-all (or
    :data:`ALL_FORMATS`); ``scope`` is added to the folder's name when only part of the run is
    exported. Written atomically (see the module
    docstring): on any error the temporary folder is removed and the error raised; an earlier
    folder of the same name is replaced only once the new one is complete.
    """
    _check_formats(formats)
    out_root.mkdir(parents=True, exist_ok=True)
    target = out_root / run_folder_name(plan, run, scope=scope)
    numbers = list(routes) if routes is not None else route_order(plan, problem)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=out_root))
    try:
        files: dict[str, str] = {}
        route_formats = [f for f in formats if f in ROUTE_FORMATS]
        for no in numbers:
            label = route_label(plan, problem, no)
            for path in write_route_exports(plan, problem, no, tmp, route_formats, run=run):
                files[path.name] = label
        if "packing" in formats:
            for path in write_packing_lists(plan, problem, tmp, run=run):
                files[path.name] = "packing list, every batch"
        for path in write_day_files(plan, problem, tmp, [f for f in formats if f in DAY_FORMATS], run=run):
            files[path.name] = (
                "every route's driver manifest, one file to print"
                if path.name == manifests_all_name(plan)
                else "every batch's packing list, a page each, one file to print"
            )
        _write(tmp / PLAN_NOTE, _note(plan, problem, run, files))
        _replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _replace_folder(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``; an existing ``target`` is moved aside first and removed after."""
    if not target.exists():
        new.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)  # put the earlier export back
        raise
    shutil.rmtree(old, ignore_errors=True)
