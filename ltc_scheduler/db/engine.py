"""Engine factory, schema migration and the unit of work.

* :func:`make_engine` — SQLite (WAL, foreign keys on) by default, PostgreSQL via psycopg 3 when the
  URL says so. Never called at import time.
* :func:`init_db` — ``alembic upgrade head``; idempotent, upgrades an existing database in place.
* :func:`session_scope` — one transaction per use case: commit on success, rollback on error.
* :func:`require_current_schema` — every command but ``init`` refuses a database whose Alembic
  revision is not the one this code expects; :func:`backup_sqlite` copies a SQLite file aside
  before ``init`` migrates it; :func:`guard_drop_all` stops a downgrade to an empty schema while
  the tables hold data (unless forced).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ltc_scheduler.errors import BadInput

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here."""
    u = make_url(url)
    if u.drivername in ("postgres", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(
    url: str | None = None,
    *,
    schema: str | None = None,
    echo: bool = False,
    sqlite_busy_timeout_s: float = 30.0,
) -> sa.Engine:
    """Create an engine for ``url`` (default: ``DATABASE_URL`` from the settings).

    SQLite: the parent folder is created, every connection gets ``journal_mode=WAL``,
    ``foreign_keys=ON`` and a busy timeout (``sqlite_busy_timeout_s``: how long one statement
    waits for another writer's lock before "database is locked"; the plan save retries on top).
    PostgreSQL: psycopg 3; ``schema`` (optional) becomes the
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
        busy_ms = max(0, int(sqlite_busy_timeout_s * 1000))
        kwargs["connect_args"] = {"timeout": sqlite_busy_timeout_s}
        engine = sa.create_engine(url, **kwargs)
        memory = not u.database or u.database == ":memory:"

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
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


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration's revision (read once: the scripts do not change while running)."""
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


# --------------------------------------------------------------------------- schema guard


@functools.lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision this code has a migration for."""
    from alembic.script import ScriptDirectory

    return frozenset(r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def schema_problem(engine: sa.Engine, *, allow_empty: bool = False) -> str | None:
    """Why this code must not use the database, as a sentence (``None``: the schema is the expected
    one). ``allow_empty``: an empty database (no revision yet) is acceptable (``demo`` and
    ``import`` create the tables themselves)."""
    rev, head = current_revision(engine), head_revision()
    if rev == head:
        return None
    url = engine.url.render_as_string(hide_password=True)
    if rev is None:
        if allow_empty:
            return None
        return f"the database {url} has no tables yet: run `ltc-scheduler init` first"
    if rev in known_revisions():
        return (
            f"the database {url} has schema {rev}, this version of LTC Scheduler needs {head}: "
            "run `ltc-scheduler init` to upgrade it (data is kept)"
        )
    return unknown_revision_sentence(url, rev, head)


def unknown_revision_sentence(url: str, rev: str, head: str | None) -> str:
    return (
        f"the database {url} has schema {rev!r}, which this version of LTC Scheduler does not know "
        f"(it needs {head}); it was probably made by a newer version: update LTC Scheduler or restore "
        "a backup. Nothing was changed."
    )


def require_current_schema(engine: sa.Engine, *, allow_empty: bool = False) -> None:
    """Raise :class:`BadInput` (a sentence that says to run ``ltc-scheduler init``) unless the
    database is at the revision this code expects."""
    problem = schema_problem(engine, allow_empty=allow_empty)
    if problem is not None:
        raise BadInput(problem)


def sqlite_file(engine: sa.Engine) -> Path | None:
    """The SQLite database file, or ``None`` (PostgreSQL, in-memory)."""
    u = engine.url
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if u.database.startswith("file:"):
        return None
    return Path(u.database).expanduser()


def backup_sqlite(engine: sa.Engine, *, label: str) -> Path | None:
    """Copy the SQLite file aside, consistently (SQLite's online backup, so the WAL is included):
    ``<name>.<label>-<UTC time>.bak`` next to it. Returns the copy (``None``: nothing to copy)."""
    import datetime as dt
    import sqlite3

    path = sqlite_file(engine)
    if path is None or not path.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = path.with_name(f"{path.name}.{label}-{stamp}.bak")
    src = sqlite3.connect(str(path))
    try:
        out = sqlite3.connect(str(dest))
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    return dest


#: tables whose rows a downgrade to the empty schema would destroy (checked by guard_drop_all)
DATA_TABLES = (
    "order_line",
    "plan_run",
    "facility",
    "resident",
    "medication",
    "vehicle",
    "depot",
    "constraint_set",
)


def guard_drop_all(conn: sa.Connection, *, force: bool) -> None:
    """Called by the first migration's ``downgrade``: refuse to drop every table while they hold
    data, unless ``force`` (``downgrade_db(..., force=True)``, ``ltc-scheduler downgrade base
    --force``, or Alembic's ``-x force=yes``)."""
    if force:
        return
    counts: dict[str, int] = {}
    names = set(sa.inspect(conn).get_table_names())
    for table in DATA_TABLES:
        if table in names:
            n = int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            if n:
                counts[table] = n
    if counts:
        held = ", ".join(f"{n:,} rows in {t}" for t, n in counts.items())
        raise BadInput(
            f"refusing to downgrade to an empty database: it holds {held}, and every table would be "
            "dropped. Back the data up first, then force it (`ltc-scheduler downgrade base --force`)."
        )


def downgrade_db(engine: sa.Engine, revision: str, *, force: bool = False) -> None:
    """``alembic downgrade <revision>``; a downgrade to ``base`` is refused while tables hold data
    unless ``force`` (see :func:`guard_drop_all`)."""
    cfg = alembic_config(engine)
    cfg.attributes["force_drop"] = force
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
