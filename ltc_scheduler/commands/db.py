"""`ltc-scheduler init` (create/migrate the database, copy a SQLite file aside first),
`ltc-scheduler downgrade` (guarded) and `ltc-scheduler version`."""

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
        """Create the database named by DATABASE_URL, or upgrade it to the newest schema (keeps data).

        A SQLite file is copied aside first (``<file>.before-<schema>-<time>.bak``) when it is
        migrated. A database made by a newer version (unknown schema) is refused, unchanged.
        """
        from ltc_scheduler.db.engine import (
            backup_sqlite,
            current_revision,
            head_revision,
            init_db,
            known_revisions,
            make_engine,
            unknown_revision_sentence,
        )
        from ltc_scheduler.errors import BadInput

        engine = make_engine()
        url = engine.url.render_as_string(hide_password=True)
        try:
            before = current_revision(engine)
            if before is not None and before not in known_revisions():
                raise BadInput(unknown_revision_sentence(url, before, head_revision()))
            backup = None
            if before is not None and before != head_revision():
                backup = backup_sqlite(engine, label=f"before-{before}")
            init_db(engine)
            after = current_revision(engine)
        finally:
            engine.dispose()
        if before == after:
            typer.echo(f"database {url} is up to date (schema {after})")
        else:
            typer.echo(f"database {url} migrated from {before or 'empty'} to schema {after}")
        if backup is not None:
            typer.echo(f"  the database as it was is kept in {backup}")

    @app.command()
    def downgrade(
        revision: str = typer.Argument(..., help="schema to go back to, e.g. 0002, or 'base' (empty)"),
        force: bool = typer.Option(
            False, "--force", help="downgrade to 'base' even though the tables hold data (drops them)"
        ),
    ) -> None:
        """Go back to an older schema (for rolling back an upgrade). A SQLite file is copied aside
        first. Going to 'base' drops every table, so it is refused while they hold data unless
        --force."""
        from ltc_scheduler.db.engine import (
            backup_sqlite,
            current_revision,
            downgrade_db,
            known_revisions,
            make_engine,
        )
        from ltc_scheduler.errors import BadInput

        if revision != "base" and revision not in known_revisions():
            raise BadInput(
                f"downgrade: {revision!r} is not a schema this version knows "
                f"({', '.join(sorted(known_revisions()))} or base)"
            )
        engine = make_engine()
        url = engine.url.render_as_string(hide_password=True)
        try:
            before = current_revision(engine)
            backup = backup_sqlite(engine, label=f"before-downgrade-{before}") if before else None
            downgrade_db(engine, revision, force=force)
            after = current_revision(engine)
        finally:
            engine.dispose()
        typer.echo(f"database {url} went from schema {before or 'empty'} to {after or 'empty (base)'}")
        if backup is not None:
            typer.echo(f"  the database as it was is kept in {backup}")
