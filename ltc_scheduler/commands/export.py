"""``ltc-scheduler export``: driver manifests, stop lists, GPX and Maps links from the published plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ltc_scheduler.errors import BadInput

FORMATS = ("csv", "pdf", "gpx", "links", "packing", "manifests-all", "packing-all", "all")


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--date: {value!r} is not a date (use YYYY-MM-DD)") from None


def run_export(
    *, date: dt.date, route: str | None, fmt: str, out: Path, url: str | None = None
) -> list[Path]:
    """Write the exports of the published plan of ``date`` into a folder of their own under ``out``
    (see :mod:`ltc_scheduler.exports.bundle`); returns the files written, ``PLAN.txt`` last.

    ``route`` names one route by vehicle and trip (``"Van 03 · trip 1"``, ``"van03-1"``,
    ``"Van 03 trip 1"``). Everything comes from the plan's own record (names, addresses, windows,
    vehicles as they were when it was made), not from today's master data."""
    from ltc_scheduler.db import plans as plan_records
    from ltc_scheduler.db.engine import make_engine, session_scope
    from ltc_scheduler.exports.bundle import ALL_FORMATS, DAY_FORMATS, PLAN_NOTE, write_run_exports
    from ltc_scheduler.exports.common import RunTag, find_route, route_slug

    if fmt not in FORMATS:
        raise BadInput(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if out.exists() and not out.is_dir():
        raise BadInput(
            f"--out: {out} is a file, not a folder; give a folder (each plan's exports go into a new "
            "folder inside it)"
        )
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            run = plan_records.latest_plan_run(session, date=date)
            if run is None or run.id is None:
                raise BadInput(
                    f"there is no published plan for {date}: run `ltc-scheduler plan --date {date}` first"
                )
            record = plan_records.load_plan_record(session, plan_run_id=run.id)
            plan, problem = record.plan, record.problem  # as planned, whatever changed since
            tag = RunTag.of(run.id, run.created_at, run.timezone or problem.timezone)
    finally:
        engine.dispose()
    numbers: list[int] | None = None
    scope = [] if fmt == "all" else [fmt]
    if route is not None:
        try:
            no = find_route(plan, problem, route)
        except ValueError as e:
            raise BadInput(f"--route: {e}") from None
        numbers = [no]
        scope.insert(0, route_slug(plan, problem, no))
    formats = ALL_FORMATS if fmt == "all" else (fmt,)
    if route is not None:
        formats = tuple(f for f in formats if f not in ("packing", *DAY_FORMATS)) or formats
    try:
        folder = write_run_exports(
            plan, problem, tag, out, routes=numbers, formats=formats, scope="_".join(scope)
        )
    except OSError as e:
        raise BadInput(
            f"--out: could not write the exports into {out} ({e.strerror or e}); nothing was written"
        ) from None
    names = sorted(p.name for p in folder.iterdir() if p.name != PLAN_NOTE)
    return [folder / n for n in names] + [folder / PLAN_NOTE]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command("export")
    def export(
        date: str = typer.Option(..., "--date", help="plan date YYYY-MM-DD"),
        route: str | None = typer.Option(
            None,
            "--route",
            help='one route by vehicle and trip: "Van 03 · trip 1", van03-1 or "Van 03 trip 1"; '
            "default: every route",
        ),
        fmt: str = typer.Option(
            "all",
            "--format",
            help="csv (stops), pdf (driver manifest), gpx, links (Google Maps), packing, "
            "manifests-all (every manifest in one PDF), packing-all (every packing list in one PDF) or all",
        ),
        out: Path = typer.Option(
            Path("exports"),
            "--out",
            help="folder to write into (created if missing); each plan run gets a folder of its own inside",
        ),
    ) -> None:
        """Export the published plan for drivers and technicians: stop CSV, PDF manifest, GPX, Maps links."""
        paths = run_export(date=_parse_date(date), route=route, fmt=fmt.lower(), out=out)
        for p in paths:
            typer.echo(str(p))
        folder = paths[-1].parent if paths else out
        typer.echo(f"{len(paths)} file(s) written to {folder}")
