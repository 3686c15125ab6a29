"""`ltc-scheduler init` (create/migrate the database) and `ltc-scheduler version`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command()
    def version() -> None:
        """Print the version."""
        from ltc_scheduler import __version__

        typer.echo(__version__)

    @app.command()
    def init() -> None:
        """Create the database named by DATABASE_URL, or upgrade it to the newest schema (keeps data)."""
        from ltc_scheduler.db.engine import current_revision, init_db, make_engine

        engine = make_engine()
        before = current_revision(engine)
        init_db(engine)
        after = current_revision(engine)
        url = engine.url.render_as_string(hide_password=True)
        engine.dispose()
        if before == after:
            typer.echo(f"database {url} is up to date (schema {after})")
        else:
            typer.echo(f"database {url} migrated from {before or 'empty'} to schema {after}")
