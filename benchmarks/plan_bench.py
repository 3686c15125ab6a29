"""Plan the small / medium / large demo days end to end and report per-stage figures.

Usage::

    .venv/bin/python benchmarks/plan_bench.py                      # small, medium, large
    .venv/bin/python benchmarks/plan_bench.py --scales large --time-limit 50 --json

For each scale: a fresh temporary SQLite database is seeded with ``generate_demo`` (date
2026-12-01, seed 7), then ``service.plan_date`` runs the whole pipeline (load, batching, CP-SAT
packaging, routing, coupling loop, validation, save in one transaction). Printed per scale: wall
time per stage, peak memory (``ru_maxrss`` of the process; each scale runs in its own child
process so the figure is that scale's), the packaging objective / CP-SAT bound / gap, the routing
objective, unserved and late counts, and the validator's verdict. Targets on the 2-core machine:
``large`` <= 60 s and < 2 GiB, ``medium`` <= 15 s. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATE = dt.date(2026, 12, 1)
SEED = 7
TARGETS = {"small": 10.0, "medium": 15.0, "large": 60.0}


def run_scale(scale: str, time_limit: float | None, seed: int = SEED) -> dict:
    from ltc_scheduler.db.engine import init_db, make_engine, session_scope
    from ltc_scheduler.demo import generate_demo
    from ltc_scheduler.service import plan_date

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / f'{scale}.db'}")
        init_db(engine)
        t = time.perf_counter()
        with session_scope(engine) as s:
            demo = generate_demo(s, scale=scale, date=DATE, seed=seed, timezone="America/Chicago")
        seed_s = time.perf_counter() - t
        t = time.perf_counter()
        outcome = plan_date(engine, date=DATE, started_by="bench", time_limit_s=time_limit)
        wall = time.perf_counter() - t
        engine.dispose()
    r = outcome.result
    pack = r.packing
    summary = outcome.summary
    return {
        "scale": scale,
        "order_lines": demo["order_lines"],
        "facilities": demo["facilities"],
        "seed_s": round(seed_s, 2),
        "plan_wall_s": round(wall, 2),
        "target_s": TARGETS[scale],
        "stage_seconds": r.stage_seconds,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "batches": summary["batches"],
        "packing_mode": pack.mode if pack else None,
        "packing_jobs": pack.jobs if pack else None,
        "packing_status": pack.stats.status if pack else None,
        "packing_objective": pack.stats.objective if pack else None,
        "packing_bound": pack.stats.bound if pack else None,
        "packing_gap": pack.stats.gap if pack else None,
        "packing_weighted_lateness": pack.weighted_lateness if pack else None,
        "greedy_weighted_lateness": pack.greedy_weighted_lateness if pack else None,
        "packaging_makespan_min": summary["packaging_makespan_min"],
        "routing_status": r.routing_solution.status if r.routing_solution else None,
        "routing_objective": r.routing_solution.objective if r.routing_solution else None,
        "routes": summary["routes"],
        "stops": summary["stops"],
        "driving_km": summary["driving_km"],
        "unserved": len(summary["unserved"]),
        "batches_not_packed": sum(
            len(u.batch_keys) for u in r.plan.unserved if u.reason.startswith("not packed today")
        ),
        "stops_unserved": sum(1 for u in r.plan.unserved if not u.reason.startswith("not packed today")),
        "late": len(summary["late"]),
        "coupling_iterations": r.iterations,
        "single_pass": r.single_pass,
        "final": r.final,
        "valid": summary["valid"],
        "hard_violations": sum(1 for v in summary["violations"] if v["hard"]),
    }


def _child(scale: str, time_limit: float | None, q) -> None:
    try:
        q.put(run_scale(scale, time_limit))
    except Exception as exc:  # noqa: BLE001 - report, do not hide
        q.put({"scale": scale, "error": f"{type(exc).__name__}: {exc}"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="small,medium,large")
    ap.add_argument(
        "--time-limit", type=float, default=None, help="overall solver limit (default: per scale)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    ctx = mp.get_context("spawn")
    for scale in args.scales.split(","):
        limit = (
            args.time_limit
            if args.time_limit is not None
            else {"small": 8.0, "medium": 13.0, "large": 50.0}[scale]
        )
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(scale, limit, q))
        p.start()
        row = q.get()
        p.join()
        rows.append(row)
        if not args.json:
            print(json.dumps(row, indent=None, default=str), flush=True)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
