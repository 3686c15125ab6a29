"""The ``ltc-scheduler`` command line: a thin Typer layer over ``service.py``.

Exit codes (README "Command line"): 0 success; 1 internal error (a sentence and a reference id on
stderr, the traceback in the log); 2 bad input (the message names the row and field, the setting,
or says to run ``ltc-scheduler init``); 3 ``plan`` saved the run as a draft, not published; 4 the
date is being planned by someone else, or the database stayed locked (nothing saved; try again).
Each command group lives in ``ltc_scheduler/commands/`` and registers itself here.
"""

from __future__ import annotations

import logging
import sys
import uuid

import typer

from ltc_scheduler.commands import db as db_commands
from ltc_scheduler.commands import demo as demo_commands
from ltc_scheduler.commands import export as export_commands
from ltc_scheduler.commands import importing as import_commands
from ltc_scheduler.commands import orders as orders_commands
from ltc_scheduler.commands import plan as plan_commands
from ltc_scheduler.db.plans import DateBusy
from ltc_scheduler.errors import BadInput

log = logging.getLogger("ltc_scheduler.cli")

#: exit codes
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_DRAFT, EXIT_BUSY = 0, 1, 2, 3, 4
#: commands that never open the database / that create it themselves when it is empty
_NO_DATABASE = {"init", "version", "downgrade"}
_CREATE_DATABASE = {"demo", "import"}

try:  # typer >= 0.20 vendors click
    from typer._click import exceptions as click_exceptions  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

app = typer.Typer(
    name="ltc-scheduler",
    help="Plan a long-term-care pharmacy's day: packaging batches, pharmacist verification, delivery routes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Plan a long-term-care pharmacy's day.

    Settings come from the environment (DATABASE_URL, LTC_TIMEZONE).
    """
    command = ctx.invoked_subcommand
    if command is None or command in _NO_DATABASE or {"--help", "-h"} & set(ctx.args):
        return
    from ltc_scheduler.db.engine import make_engine, require_current_schema

    engine = make_engine()
    try:  # every command refuses a database at another schema revision ("run ltc-scheduler init")
        require_current_schema(engine, allow_empty=command in _CREATE_DATABASE)
    finally:
        engine.dispose()


for module in (db_commands, demo_commands, import_commands, plan_commands, export_commands, orders_commands):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the process exit code (setuptools wraps it in ``sys.exit``)."""
    if argv is None:  # the real command line (tests call main([...]) and set up logging themselves)
        _log_to_file()
    try:
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:  # a command's typer.Exit(code)
            return rc
    except BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        return EXIT_BAD_INPUT
    except DateBusy as exc:
        typer.echo(f"busy: {exc}", err=True)
        return EXIT_BUSY
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 1
    except click_exceptions.ClickException as exc:
        exc.show()  # usage errors are bad input
        return 2 if isinstance(exc, click_exceptions.UsageError) else int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        ref = uuid.uuid4().hex[:8]
        log.error("internal error [ref %s]", ref, exc_info=exc)
        typer.echo(
            f"internal error (reference {ref}): {_first_line(exc)}; the details are in "
            "data/ltc_scheduler.log under that reference",
            err=True,
        )
        return EXIT_INTERNAL
    return 0


def _log_to_file() -> None:
    """Internal errors (with their reference id and traceback) go to ``data/ltc_scheduler.log``,
    never to the user's terminal (a handler here also keeps Python's last-resort stderr printer off)."""
    logger = logging.getLogger("ltc_scheduler")
    if logger.handlers:
        return
    from ltc_scheduler.config import DATA_DIR

    handler: logging.Handler
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(DATA_DIR / "ltc_scheduler.log", encoding="utf-8", delay=True)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)


def _first_line(exc: BaseException) -> str:
    """The first line of an error, without SQL or parameters (SQLAlchemy appends them)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:300] if text else ""


if __name__ == "__main__":
    sys.exit(main())
