"""Import benchmark: 100,000 order lines from CSV into SQLite and PostgreSQL.

    python benchmarks/import_bench.py [--rows 100000] [--pg-url postgresql+psycopg://...]

The database gets the small demo pharmacy (15 facilities, 72 medications) first; the CSV then
references those facilities and medications with new residents (one per 5 lines), so the import
validates every row, creates residents and bulk-inserts the lines. A second run of the same file
measures the re-import (every line updated). PostgreSQL runs when ``--pg-url`` or
``LTC_TEST_DATABASE_URL`` is set, in a throw-away schema. Target: under 10 s on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ltc_scheduler.db import models as m  # noqa: E402
from ltc_scheduler.db.engine import init_db, make_engine, session_scope  # noqa: E402
from ltc_scheduler.demo import generate_demo  # noqa: E402
from ltc_scheduler.importers import import_orders  # noqa: E402

DAY = dt.date(2026, 12, 1)
TZ = "America/Chicago"


def write_csv(path: Path, engine: sa.Engine, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with Session(engine) as s:
        facilities = [f.external_id for f in s.exec(select(m.Facility))]
        meds = [x.name for x in s.exec(select(m.Medication))]
    classes = ["cycle_fill"] * 6 + ["refill", "prn", "stat", "new_admission", "ekit_restock"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "external_id",
                "facility_id",
                "resident_id",
                "unit",
                "room",
                "medication",
                "order_class",
                "doses",
                "cards",
                "received_at",
                "need_by",
            ]
        )
        for i in range(rows):
            res = i // 5
            fac = facilities[res % len(facilities)]
            rec = rng.randint(6 * 60, 14 * 60)
            w.writerow(
                [
                    f"BENCH-{i:07d}",
                    fac,
                    f"{fac}-B{res:06d}",
                    f"Unit {res % 4}",
                    str(100 + res % 60),
                    rng.choice(meds),
                    rng.choice(classes),
                    7,
                    1,
                    f"2026-12-01 {rec // 60:02d}:{rec % 60:02d}",
                    "2026-12-01 20:00",
                ]
            )


def bench(label: str, engine: sa.Engine, rows: int, tmp: Path) -> dict[str, float]:
    init_db(engine)
    with session_scope(engine) as s:
        generate_demo(s, scale="small", date=DAY, seed=1, timezone=TZ)
    path = tmp / f"orders_{label}.csv"
    write_csv(path, engine, rows)
    out: dict[str, float] = {}
    for run in ("first import", "re-import"):
        t0, c0 = time.perf_counter(), time.process_time()
        with session_scope(engine) as s:
            result = import_orders(s, path, tz=TZ)
        out[run] = time.perf_counter() - t0
        cpu = time.process_time() - c0
        print(
            f"{label:10s} {run:13s} {rows:,} rows: wall {out[run]:6.2f} s, this process's CPU {cpu:6.2f} s  "
            f"{result}",
            flush=True,
        )
    with Session(engine) as s:
        n = s.exec(select(sa.func.count()).select_from(m.OrderLine)).one()
    assert n >= rows, n
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pg-url", default=os.environ.get("LTC_TEST_DATABASE_URL"))
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        eng = make_engine(f"sqlite:///{tmp / 'bench.db'}")
        bench("sqlite", eng, args.rows, tmp)
        eng.dispose()
        if args.pg_url:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = make_engine(args.pg_url)
            with admin.begin() as c:
                c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            try:
                eng = make_engine(args.pg_url, schema=schema)
                bench("postgresql", eng, args.rows, tmp)
                eng.dispose()
            finally:
                with admin.begin() as c:
                    c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        else:
            print("postgresql: skipped (set --pg-url or LTC_TEST_DATABASE_URL)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
