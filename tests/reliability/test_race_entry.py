"""Subprocess entry for the race tests (no tests here): ``python test_race_entry.py MODE ARGS_JSON``.

Modes (all bounded in time):

* ``plan``: ``service.plan_date`` on ``date``; on the first progress report it writes
  ``started`` and then waits (at most 60 s) until the file ``go`` exists, so the test can act while
  this run is in progress. Prints the outcome as one JSON line; exit 0 published, 3 draft, 4 busy.
* ``hold``: takes the date's lock (``plans.lock_date``: SQLite ``BEGIN IMMEDIATE``, PostgreSQL the
  advisory lock), writes ``ready``, keeps it ``seconds`` seconds, then commits.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path


def _engine(args: dict):
    from ltc_scheduler.db.engine import make_engine

    return make_engine(
        args["url"], schema=args.get("schema"), sqlite_busy_timeout_s=float(args.get("busy_s", 30.0))
    )


def _wait_for(path: Path, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.05)


def plan(args: dict) -> int:
    from ltc_scheduler.service import DateBusy, plan_date

    engine = _engine(args)
    started, go = Path(args["started"]), Path(args["go"])
    first = [True]

    def progress(stage: str, fraction: float) -> None:
        if first[0]:
            first[0] = False
            started.write_text(stage)
            _wait_for(go)

    try:
        out = plan_date(
            engine,
            date=dt.date.fromisoformat(args["date"]),
            started_by=args.get("who", "proc"),
            time_limit_s=float(args.get("time_limit", 1.0)),
            progress=progress,
            lock_wait_s=float(args.get("lock_wait_s", 60.0)),
        )
    except DateBusy as exc:
        print(json.dumps({"busy": str(exc)}))
        return 4
    finally:
        engine.dispose()
    print(json.dumps({"plan_run_id": out.plan_run_id, "published": out.published, "summary": out.summary}))
    return 0 if out.published else 3


def hold(args: dict) -> int:
    from ltc_scheduler.db import plans
    from ltc_scheduler.db.engine import session_scope

    engine = _engine(args)
    try:
        with session_scope(engine) as session:
            plans.lock_date(session, date=dt.date.fromisoformat(args["date"]))
            Path(args["ready"]).write_text("locked")
            time.sleep(float(args["seconds"]))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    mode, raw = sys.argv[1], sys.argv[2]
    sys.exit({"plan": plan, "hold": hold}[mode](json.loads(raw)))


# --------------------------------------------------------------------------- helpers for the tests

ENTRY = Path(__file__).resolve()
REPO = ENTRY.parents[2]


def db_args(engine) -> dict:
    """How a subprocess reaches this test's database: the URL (and the PostgreSQL schema)."""
    import sqlalchemy as sa

    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        return {"url": url, "schema": schema}
    return {"url": url}


def cli_database_url(engine) -> str:
    """``DATABASE_URL`` for an ``ltc-scheduler`` subprocess (PostgreSQL: the schema as search_path)."""
    args = db_args(engine)
    if "schema" in args:
        return f"{args['url']}?options=-csearch_path%3D{args['schema']}"
    return args["url"]


def subprocess_env(**extra: str) -> dict:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("LTC_TIMEZONE", "America/Chicago")
    env.update(extra)
    return env


def start_entry(mode: str, args: dict):
    """Start this file as a subprocess in ``mode`` (stdout/stderr captured)."""
    import subprocess

    return subprocess.Popen(
        [sys.executable, str(ENTRY), mode, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


def start_cli(engine, *argv: str):
    """``ltc-scheduler ARGV`` as a subprocess on this test's database."""
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-m", "ltc_scheduler.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(DATABASE_URL=cli_database_url(engine), LTC_USER="second"),
    )


def wait_file(path: Path, proc=None, limit_s: float = 90.0) -> None:
    """Wait until ``path`` exists (fail early if ``proc`` ended first)."""
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process ended early ({proc.returncode}): {out} {err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.05)
