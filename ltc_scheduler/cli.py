"""The ``ltc-scheduler`` command line: a thin Typer layer over ``service.py``.

Exit codes: 0 success, 2 bad input (the message names the row and field), 1 internal error.
Each command group lives in ``ltc_scheduler/commands/`` and registers itself here.
"""

from __future__ import annotations

import sys

import typer

from ltc_scheduler.commands import db as db_commands
from ltc_scheduler.commands import demo as demo_commands
from ltc_scheduler.commands import export as export_commands
from ltc_scheduler.commands import importing as import_commands
from ltc_scheduler.commands import orders as orders_commands
from ltc_scheduler.commands import plan as plan_commands
from ltc_scheduler.errors import BadInput

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
def _root() -> None:
    """Plan a long-term-care pharmacy's day.

    Settings come from the environment (DATABASE_URL, LTC_TIMEZONE).
    """


for module in (db_commands, demo_commands, import_commands, plan_commands, export_commands, orders_commands):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the process exit code (setuptools wraps it in ``sys.exit``)."""
    try:
        app(args=argv, standalone_mode=False)
    except BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 1
    except click_exceptions.ClickException as exc:
        exc.show()  # usage errors are bad input
        return 2 if isinstance(exc, click_exceptions.UsageError) else int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        typer.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
