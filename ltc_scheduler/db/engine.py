"""Engine factory, schema migration and the unit of work.

* :func:`make_engine` — SQLite (WAL, foreign keys on) by default, PostgreSQL via psycopg 3 when the
  URL says so. Never called at import time.
* :func:`init_db` — ``alembic upgrade head``; idempotent, upgrades an existing database in place.
* :func:`session_scope` — one transaction per use case: commit on success, rollback on error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here."""
    u = make_url(url)
    if u.drivername in ("postgres", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, schema: str | None = None, echo: bool = False) -> sa.Engine:
    """Create an engine for ``url`` (default: ``DATABASE_URL`` from the settings).

    SQLite: the parent folder is created, every connection gets ``journal_mode=WAL``,
    ``foreign_keys=ON`` and a busy timeout. PostgreSQL: psycopg 3; ``schema`` (optional) becomes the
    connection's ``search_path`` (the tests use one fresh schema per test).
    """
    if url is None:
        from ltc_scheduler.config import get_settings

        url = get_settings().database_url
    url = normalise_url(url)
    u = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = sa.create_engine(url, **kwargs)
        memory = not u.database or u.database == ":memory:"

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if u.get_backend_name() == "postgresql":
        if schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        kwargs["pool_pre_ping"] = True
        return sa.create_engine(url, **kwargs)
    return sa.create_engine(url, **kwargs)


def alembic_config(engine: sa.Engine | None = None) -> Config:
    """The Alembic config, built in code (no ``alembic.ini``): scripts live inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def init_db(engine: sa.Engine) -> None:
    """Create or upgrade the schema to the newest migration (``alembic upgrade head``); idempotent."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: sa.Engine) -> str | None:
    """The database's Alembic revision (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """One transaction per use case: commit when the block ends, roll back if it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
