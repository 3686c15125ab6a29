"""``ltc-scheduler export``: driver manifests, stop lists, GPX and Maps links from the published plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ltc_scheduler.errors import BadInput

FORMATS = ("csv", "pdf", "gpx", "links", "packing", "all")


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--date: {value!r} is not a date (use YYYY-MM-DD)") from None


def run_export(
    *, date: dt.date, route: int | None, fmt: str, out: Path, url: str | None = None
) -> list[Path]:
    """Write the exports of the published plan of ``date``; returns the files written.

    Everything comes from the plan's own record (names, addresses, windows, vehicles as they were
    when it was made), not from today's master data."""
    from ltc_scheduler.db import plans as plan_records
    from ltc_scheduler.db.engine import make_engine, session_scope
    from ltc_scheduler.exports.bundle import ROUTE_FORMATS, write_packing_lists, write_route_exports

    if fmt not in FORMATS:
        raise BadInput(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
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
    finally:
        engine.dispose()
    if route is not None and not 1 <= route <= len(plan.routes):
        raise BadInput(f"--route: the plan for {date} has routes 1..{len(plan.routes)}, not {route}")
    numbers = [route] if route is not None else list(range(1, len(plan.routes) + 1))
    written: list[Path] = []
    route_formats = ROUTE_FORMATS if fmt == "all" else tuple(f for f in (fmt,) if f in ROUTE_FORMATS)
    if route_formats:
        for no in numbers:
            written += write_route_exports(plan, problem, no, out, route_formats)
    if fmt in ("packing", "all"):
        written += write_packing_lists(plan, problem, out)
    return written


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command("export")
    def export(
        date: str = typer.Option(..., "--date", help="plan date YYYY-MM-DD"),
        route: int | None = typer.Option(
            None, "--route", help="route number (1-based); default: every route"
        ),
        fmt: str = typer.Option(
            "all",
            "--format",
            help="csv (stops), pdf (driver manifest), gpx, links (Google Maps), packing or all",
        ),
        out: Path = typer.Option(Path("exports"), "--out", help="folder to write into (created if missing)"),
    ) -> None:
        """Export the published plan for drivers and technicians: stop CSV, PDF manifest, GPX, Maps links."""
        paths = run_export(date=_parse_date(date), route=route, fmt=fmt.lower(), out=out)
        for p in paths:
            typer.echo(str(p))
        typer.echo(f"{len(paths)} file(s) written to {out}")
