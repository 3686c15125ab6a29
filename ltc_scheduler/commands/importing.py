"""`ltc-scheduler import facilities|medications|orders FILE`: validated, all-or-nothing CSV import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

MAX_SHOWN = 50

import_app = typer.Typer(
    name="import",
    help="Import CSV files exported by the pharmacy system (all rows or nothing; re-import updates).",
    no_args_is_help=True,
)


def _run(kind: str, file: Path) -> None:
    from ltc_scheduler.config import get_settings
    from ltc_scheduler.db.engine import init_db, make_engine, session_scope
    from ltc_scheduler.errors import BadInput
    from ltc_scheduler.importers import import_facilities, import_medications, import_orders

    funcs: dict[str, Any] = {
        "facilities": import_facilities,
        "medications": import_medications,
        "orders": import_orders,
    }
    engine = make_engine()
    init_db(engine)
    try:
        with session_scope(engine) as session:
            settings = get_settings()
            extra = {"tz": settings.timezone} if kind == "orders" else {}
            result = funcs[kind](session, file, who=settings.user, **extra)
    except BadInput as exc:
        if len(exc.errors) > MAX_SHOWN:
            shown = exc.errors[:MAX_SHOWN]
            head = str(exc).splitlines()[0]
            raise BadInput(
                f"{head} (first {MAX_SHOWN} shown, {len(exc.errors) - MAX_SHOWN} more)", shown
            ) from None
        raise
    finally:
        engine.dispose()
    extra = f", {result['residents_created']} new residents" if "residents_created" in result else ""
    typer.echo(
        f"{file.name}: imported {result['rows']} {kind} rows ({result['inserted']} new, "
        f"{result['updated']} updated{extra})"
    )


@import_app.command("facilities")
def facilities_cmd(
    file: Path = typer.Argument(..., help="facilities CSV (see README for the columns)"),
) -> None:
    """Import facilities with their delivery windows (matched by external_id)."""
    _run("facilities", file)


@import_app.command("medications")
def medications_cmd(
    file: Path = typer.Argument(..., help="medications CSV (see README for the columns)"),
) -> None:
    """Import medications (matched by NDC, else by name)."""
    _run("medications", file)


@import_app.command("orders")
def orders_cmd(file: Path = typer.Argument(..., help="orders CSV (see README for the columns)")) -> None:
    """Import order lines (matched by external_id); residents are created as needed."""
    _run("orders", file)


def register(app: typer.Typer) -> None:
    """Add the ``import`` command group to ``app``."""
    app.add_typer(import_app, name="import")
