"""Alembic environment: migrations run on a connection handed over by ``db/engine.py``.

There is no ``alembic.ini``: :func:`ltc_scheduler.db.engine.alembic_config` builds the config in code
and passes the connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import ltc_scheduler.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from ltc_scheduler.db.engine import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
        with engine.begin() as conn:
            _run(conn)
        engine.dispose()
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    if _to_base():  # a downgrade that would drop every table
        from ltc_scheduler.db.engine import guard_drop_all

        guard_drop_all(connection, force=_forced())
    with context.begin_transaction():
        context.run_migrations()


def _to_base() -> bool:
    """Is this a downgrade (or stamp) to ``base``? (Alembic reports ``base`` as ``None``; commands
    without a destination, such as ``current``, have none at all.)"""
    try:
        return context.get_revision_argument() is None
    except KeyError:
        return False


def _forced() -> bool:
    """``downgrade_db(..., force=True)`` / ``ltc-scheduler downgrade base --force`` / ``-x force=yes``."""
    x_args = context.get_x_argument(as_dictionary=True)
    return bool(config.attributes.get("force_drop")) or x_args.get("force") in ("yes", "1", "true")


if context.is_offline_mode():  # pragma: no cover - we never generate offline SQL
    raise SystemExit("offline migrations are not supported; run `ltc-scheduler init`")
run_migrations_online()
