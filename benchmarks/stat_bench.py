"""STAT promises on the demo days: kept, missed, and missed although reachable.

Usage::

    .venv/bin/python benchmarks/stat_bench.py                    # small, medium, large x seeds 1-10
    .venv/bin/python benchmarks/stat_bench.py --scales small,medium --seeds 1-10
    .venv/bin/python benchmarks/stat_bench.py --scales large --seeds 11,3 --json

For each (scale, seed): a fresh temporary SQLite database is seeded with ``generate_demo`` (date
2026-12-01), then ``service.plan_date`` plans the day end to end (default time limit). Every
urgent order line (STAT / first dose and new admission: the batch classes packed ahead of routine
work) is one promise, due at its need-by time:

* **kept**: its batch is on a stop that arrives by the promise;
* **missed**: not delivered by the promise (unserved, not packed today, or later);
* **missed although reachable**: missed, yet it could have been kept on an empty floor: received,
  then its own batch packed on the fastest compatible line at the first minute that line is open,
  verified at the first minute a pharmacist is on shift, ``LOAD_MARGIN_MIN`` to load, a direct
  drive arriving by the promise, inside the pharmacy's opening hours, with a van on shift for
  the whole round trip that may carry the batch (cold, controlled). STAT-only stops have no
  delivery window (the facility takes a first dose whenever it comes), so the promise is the only
  time limit at the facility.

Printed per day: urgent order lines, kept, missed, missed although reachable, and the median
minutes from received to ready (verified) of the urgent batches packed. Target: 0 missed
although reachable on every day. Each day runs in its own child process. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATE = dt.date(2026, 12, 1)
SCALES = ("small", "medium", "large")


def _parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            seeds.extend(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds


def _first_open(line, t: int, dur: int) -> int | None:
    """First start >= t of ``dur`` minutes inside the line's hours and outside its downtime."""
    for w in sorted(line.available, key=lambda w: w.start):
        st = max(w.start, t)
        while st + dur <= w.end:
            hit = [d for d in line.downtime if d.start < st + dur and st < d.end]
            if not hit:
                return st
            st = max(d.end for d in hit)
    return None


def _reachable(problem, batch, drive_min: int) -> bool:
    """Could this urgent batch keep its promise if it went first on an empty floor?"""
    from ltc_scheduler.packing.batching import LOAD_MARGIN_MIN

    received = {o.id: o for o in problem.orders}
    rel = max(received[i].received_min for i in batch.order_line_ids)
    promise = min(received[i].need_by_min for i in batch.order_line_ids)
    ends = []
    for ln in problem.lines:
        if batch.kind not in ln.kinds:
            continue
        dur = ln.process_minutes(batch.cards)
        st = _first_open(ln, rel, dur)
        if st is not None:
            ends.append(st + dur)
    if not ends:
        return False
    verify = problem.verification.verify_minutes(batch.cards)
    shifts = sorted((s.start, s.end) for s in problem.verification.shifts)
    ready = None
    for a, b in shifts:
        v = max(a, min(ends))
        if v + verify <= b and (ready is None or v + verify < ready):
            ready = v + verify
    if ready is None:
        return False
    depart = max(ready + LOAD_MARGIN_MIN, problem.depot.open_min)
    if depart + drive_min > promise:
        return False
    fac = next(f for f in problem.facilities if f.id == batch.facility_id)
    back = depart + 2 * drive_min + fac.service_minutes(batch.totes)
    if back > problem.depot.close_min:
        return False
    for v in problem.vehicles:
        if batch.cold and v.cold_capacity <= 0:
            continue
        if batch.controlled and not v.controlled_ok:
            continue
        start = max(depart, v.shift_start)
        if (
            start + drive_min <= promise
            and start + 2 * drive_min + fac.service_minutes(batch.totes) <= v.shift_end
        ):
            return True
    return False


def run_day(scale: str, seed: int) -> dict:
    from ltc_scheduler.db.engine import init_db, make_engine, session_scope
    from ltc_scheduler.demo import generate_demo
    from ltc_scheduler.problem.builder import build_problem
    from ltc_scheduler.problem.travel import HaversineProvider
    from ltc_scheduler.routing.from_day import day_points
    from ltc_scheduler.service import plan_date

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / f'{scale}-{seed}.db'}")
        init_db(engine)
        with session_scope(engine) as s:
            generate_demo(s, scale=scale, date=DATE, seed=seed, timezone="America/Chicago")
        with session_scope(engine) as s:
            problem = build_problem(s, date=DATE)
        t = time.perf_counter()
        outcome = plan_date(engine, date=DATE, started_by="stat-bench")
        wall = time.perf_counter() - t
        engine.dispose()
    plan = outcome.result.plan
    travel = HaversineProvider().matrix(day_points(problem))
    drive = {f.id: travel.minutes(0, i + 1) for i, f in enumerate(problem.facilities)}
    lines = {o.id: o for o in problem.orders}
    arrival: dict[str, int] = {}
    for r in plan.routes:
        for st in r.stops:
            for k in st.batch_keys:
                arrival[k] = st.arrival_min
    urgent = kept = missed = reachable_missed = 0
    waits = []
    missed_rows = []
    for b in plan.batches:
        if not b.stat:
            continue
        if b.ready_min is not None:
            waits.append(b.ready_min - max(lines[i].received_min for i in b.order_line_ids))
        for oid in b.order_line_ids:
            urgent += 1
            promise = lines[oid].need_by_min
            if b.key in arrival and arrival[b.key] <= promise:
                kept += 1
                continue
            missed += 1
            if _reachable(problem, b, drive[b.facility_id]):
                reachable_missed += 1
                missed_rows.append(b.key)
    return {
        "scale": scale,
        "seed": seed,
        "plan_wall_s": round(wall, 1),
        "urgent_lines": urgent,
        "kept": kept,
        "missed": missed,
        "missed_reachable": reachable_missed,
        "missed_reachable_batches": sorted(set(missed_rows)),
        "median_received_to_ready_min": statistics.median(waits) if waits else None,
        "packing_status": outcome.result.packing.stats.status if outcome.result.packing else None,
        "packing_gap": outcome.result.packing.stats.gap if outcome.result.packing else None,
        "unserved": len(plan.unserved),
        "late": len(plan.late),
        "valid": outcome.result.valid,
    }


def _child(scale: str, seed: int, q) -> None:
    q.put(run_day(scale, seed))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default=",".join(SCALES), help="comma-separated: small,medium,large")
    ap.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,3,11")
    ap.add_argument("--json", action="store_true", help="one JSON object per day")
    args = ap.parse_args(argv)
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    bad = [s for s in scales if s not in SCALES]
    if bad:
        ap.error(f"--scales: unknown scale {bad[0]!r} (small, medium or large)")
    seeds = _parse_seeds(args.seeds)
    ctx = mp.get_context("spawn")
    rows = []
    if not args.json:
        print(
            f"{'scale':<7} {'seed':>4} {'urgent':>6} {'kept':>5} {'missed':>6} {'reach.':>6} "
            f"{'median':>6} {'unserved':>8} {'late':>4} {'valid':>5} {'wall s':>6}"
        )
    for scale in scales:
        for seed in seeds:
            q = ctx.Queue()
            p = ctx.Process(target=_child, args=(scale, seed, q))
            p.start()
            p.join()
            if p.exitcode != 0:
                print(f"{scale} seed {seed}: the day failed (exit code {p.exitcode}), see above", flush=True)
                continue
            row = q.get(timeout=30)
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print(
                    f"{scale:<7} {seed:>4} {row['urgent_lines']:>6} {row['kept']:>5} {row['missed']:>6} "
                    f"{row['missed_reachable']:>6} {row['median_received_to_ready_min']!s:>6} "
                    f"{row['unserved']:>8} {row['late']:>4} {row['valid']!s:>5} {row['plan_wall_s']:>6}",
                    flush=True,
                )
    worst = max((r["missed_reachable"] for r in rows), default=0)
    if not args.json:
        print(f"days {len(rows)}, missed although reachable: worst day {worst} (target 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
