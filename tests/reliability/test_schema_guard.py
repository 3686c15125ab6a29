"""Schema guard (issue 10, finding 11): every command refuses a database at another revision,
``init`` copies a SQLite file aside before migrating, a downgrade to base is refused while the
tables hold data; ``--time-limit`` is capped."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from ltc_scheduler import service
from ltc_scheduler.cli import main
from ltc_scheduler.config import get_settings
from ltc_scheduler.db import models as m
from ltc_scheduler.db.engine import (
    current_revision,
    downgrade_db,
    head_revision,
    make_engine,
    session_scope,
)
from ltc_scheduler.errors import BadInput

DAY = dt.date(2026, 12, 1)


@pytest.fixture
def cli_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A migrated SQLite file with one depot, named by DATABASE_URL for the CLI."""
    path = tmp_path / "guard.db"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    eng = make_engine(f"sqlite:///{path}")
    with session_scope(eng) as s:
        s.add(m.Depot(name="Kept Pharmacy", lat=41.9, lon=-87.6))
    yield eng, path
    eng.dispose()
    get_settings.cache_clear()


def _stamp(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def _plan_runs(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM plan_run")).scalar_one()


def test_an_unknown_revision_is_refused_by_every_command_and_by_init(cli_db, capsys) -> None:
    engine, _ = cli_db
    _stamp(engine, "9999")
    for argv in (
        ["init"],
        ["plan", "--date", "2026-12-01"],
        ["export", "--date", "2026-12-01"],
        ["demo", "--date", "2026-12-01"],
        ["import", "orders", "nothing.csv"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "has schema '9999', which this version of LTC Scheduler does not know" in err, argv
        assert "Traceback" not in err and "internal error" not in err
    assert current_revision(engine) == "9999" and _plan_runs(engine) == 0
    with pytest.raises(BadInput, match="does not know"):
        service.plan_date(engine, date=DAY, time_limit_s=1)
    assert _plan_runs(engine) == 0


def test_an_older_revision_says_run_init_and_init_copies_the_file_aside(cli_db, capsys) -> None:
    engine, path = cli_db
    downgrade_db(engine, "0002")
    assert current_revision(engine) == "0002"
    assert main(["plan", "--date", "2026-12-01"]) == 2
    err = capsys.readouterr().err
    assert f"has schema 0002, this version of LTC Scheduler needs {head_revision()}" in err
    assert "run `ltc-scheduler init`" in err
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert f"migrated from 0002 to schema {head_revision()}" in out
    backups = list(path.parent.glob("guard.db.before-0002-*.bak"))
    assert len(backups) == 1 and str(backups[0]) in out
    copy = sqlite3.connect(backups[0])
    try:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]
        assert copy.execute("SELECT name FROM depot").fetchall() == [("Kept Pharmacy",)]
    finally:
        copy.close()
    assert current_revision(engine) == head_revision()
    assert main(["init"]) == 0  # up to date: no second copy
    assert "up to date" in capsys.readouterr().out
    assert len(list(path.parent.glob("guard.db.before-*.bak"))) == 1


def test_a_downgrade_to_base_is_refused_while_the_tables_hold_data(engine: sa.Engine, tiny) -> None:
    with pytest.raises(
        BadInput, match=r"refusing to downgrade to an empty database: it holds 5 rows in order_line, "
    ):
        downgrade_db(engine, "base")
    assert current_revision(engine) == head_revision()
    with session_scope(engine) as s:
        assert len(s.exec(sa.select(m.OrderLine)).all()) == 5
    downgrade_db(engine, "0002")  # not to base: allowed, data kept
    assert current_revision(engine) == "0002"


def test_the_cli_downgrade_to_base_needs_force(cli_db, capsys) -> None:
    engine, _ = cli_db
    assert main(["downgrade", "base"]) == 2
    assert capsys.readouterr().err == (
        "error: refusing to downgrade to an empty database: it holds 1 rows in depot, and every table "
        "would be dropped. Back the data up first, then force it (`ltc-scheduler downgrade base --force`).\n"
    )
    assert current_revision(engine) == head_revision()
    assert main(["downgrade", "base", "--force"]) == 0
    assert "to empty (base)" in capsys.readouterr().out
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}


@pytest.mark.parametrize("value", ["601", "0", "-1", "nan", "inf"])
def test_time_limit_is_capped_at_600_seconds(cli_db, capsys, value: str) -> None:
    assert main(["plan", "--date", "2026-12-01", f"--time-limit={value}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --time-limit")
    if value == "601":
        assert "at most 600 seconds" in err
    engine, _ = cli_db
    assert _plan_runs(engine) == 0
