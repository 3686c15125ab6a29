"""``ltc-scheduler orders set-status``: move order lines along their life (until the floor has its
own screens), and ``ltc-scheduler facilities close|reopen|closures``: days a facility takes no
delivery at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ltc_scheduler.enums import OrderStatus
from ltc_scheduler.errors import BadInput

orders_app = typer.Typer(name="orders", help="Order lines: move them along their life.", no_args_is_help=True)
facilities_app = typer.Typer(
    name="facilities", help="Facilities: days they are closed to deliveries.", no_args_is_help=True
)

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_status(value: str) -> OrderStatus:
    """``packed``, ``out_for_delivery`` (or ``out for delivery``), ... -> :class:`OrderStatus`."""
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return OrderStatus(key)
    except ValueError:
        choices = ", ".join(s.value for s in OrderStatus if s != OrderStatus.PLANNED)
        raise BadInput(f"status: {value!r} is not an order status (use one of {choices})") from None


def parse_weekday(value: str) -> int:
    """``Tuesday`` / ``tue`` / ``1`` -> 1 (0 = Monday)."""
    v = value.strip().lower()
    if v.isdigit() and 0 <= int(v) <= 6:
        return int(v)
    for i, name in enumerate(WEEKDAY_NAMES):
        if len(v) >= 3 and name.startswith(v):
            return i
    raise BadInput(f"--weekday: {value!r} is not a weekday (use Monday .. Sunday, or 0 = Monday .. 6)")


def _ids_from(ids: list[str], file: Path | None) -> list[str]:
    out = list(ids)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise BadInput(f"--file: cannot read {file}: {exc.strerror or exc}") from None
        out += [line.split(",")[0].strip() for line in text.splitlines() if line.strip()]
        if out and out[len(ids)].lower() == "external_id":  # a CSV header
            del out[len(ids)]
    return out


@orders_app.command("set-status")
def set_status_cmd(
    status: str = typer.Argument(..., help="open, packed, out_for_delivery, delivered, cancelled, exception"),
    external_ids: list[str] = typer.Argument(None, help="order lines' external ids"),
    file: Path | None = typer.Option(None, "--file", help="a file of external ids, one a line (or a CSV)"),
) -> None:
    """Set the status of order lines (all or nothing; statuses only move forward).

    ``packed`` and later: the planner leaves the line alone (re-planning keeps its batch as
    published). ``cancelled``: the published plan is shown stale. ``exception``: held until set
    back to ``open``.
    """
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db import repository as repo
    from ltc_scheduler.db.engine import make_engine, session_scope

    new = parse_status(status)
    ids = _ids_from(external_ids or [], file)
    engine = make_engine()
    try:
        with session_scope(engine) as session:
            result = repo.set_order_status(session, external_ids=ids, status=new, who=get_settings().user)
    finally:
        engine.dispose()
    typer.echo(f"{result['changed']} order line(s) set to {new.value}; {result['unchanged']} already were")


def _closure_target(date: str | None, weekday: str | None) -> tuple[dt.date | None, int | None]:
    from ltc_scheduler.commands.plan import parse_date

    if (date is None) == (weekday is None):
        raise BadInput("give --date YYYY-MM-DD or --weekday NAME (one of them)")
    return (parse_date(date) if date is not None else None), (
        parse_weekday(weekday) if weekday is not None else None
    )


@facilities_app.command("close")
def close_cmd(
    facility: str = typer.Argument(..., help="the facility's external id"),
    date: str | None = typer.Option(None, "--date", help="closed on this date, YYYY-MM-DD"),
    weekday: str | None = typer.Option(None, "--weekday", help="closed every such weekday, e.g. Sunday"),
    reason: str = typer.Option("", "--reason", help="shown with the unserved orders, e.g. 'Christmas Day'"),
) -> None:
    """Mark a facility closed: no delivery at all that day, not even STAT; its orders wait."""
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db import repository as repo
    from ltc_scheduler.db.engine import make_engine, session_scope

    day, wd = _closure_target(date, weekday)
    engine = make_engine()
    try:
        with session_scope(engine) as session:
            repo.add_facility_closure(
                session,
                facility_external_id=facility,
                date=day,
                weekday=wd,
                reason=reason,
                who=get_settings().user,
            )
    finally:
        engine.dispose()
    when = day.isoformat() if day is not None else f"every {WEEKDAY_NAMES[wd or 0].capitalize()}"
    typer.echo(f"{facility}: closed on {when}")


@facilities_app.command("reopen")
def reopen_cmd(
    facility: str = typer.Argument(..., help="the facility's external id"),
    date: str | None = typer.Option(None, "--date", help="the closed date, YYYY-MM-DD"),
    weekday: str | None = typer.Option(None, "--weekday", help="the closed weekday"),
) -> None:
    """Remove a closure added with ``facilities close``."""
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db import repository as repo
    from ltc_scheduler.db.engine import make_engine, session_scope

    day, wd = _closure_target(date, weekday)
    engine = make_engine()
    try:
        with session_scope(engine) as session:
            n = repo.remove_facility_closure(
                session, facility_external_id=facility, date=day, weekday=wd, who=get_settings().user
            )
    finally:
        engine.dispose()
    if not n:
        raise BadInput(f"{facility} has no closure on that {'date' if day else 'weekday'}")
    typer.echo(f"{facility}: open again ({n} closure(s) removed)")


@facilities_app.command("closures")
def closures_cmd() -> None:
    """List the facilities' closures."""
    from ltc_scheduler.db import repository as repo
    from ltc_scheduler.db.engine import make_engine, session_scope

    engine = make_engine()
    try:
        with session_scope(engine) as session:
            names = {f.id: (f.external_id, f.name) for f in repo.list_facilities(session, active_only=False)}
            rows = [
                (names.get(c.facility_id, ("?", "?")), c.date, c.weekday, c.reason)
                for c in repo.list_closures(session)
            ]
    finally:
        engine.dispose()
    if not rows:
        typer.echo("no facility is closed on any date or weekday")
    for (ext, name), day, wd, reason in rows:
        when = day.isoformat() if day is not None else f"every {WEEKDAY_NAMES[wd or 0].capitalize()}"
        typer.echo(f"{ext} {name}: closed {when}" + (f" ({reason})" if reason else ""))


def register(app: typer.Typer) -> None:
    """Add the ``orders`` and ``facilities`` command groups to ``app``."""
    app.add_typer(orders_app, name="orders")
    app.add_typer(facilities_app, name="facilities")
