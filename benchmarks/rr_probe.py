"""The ruin-and-recreate search alone (no OR-Tools polish) on Solomon-format instances: for A/B tuning.

    python benchmarks/rr_probe.py --instances ../shared/benchmarks/homberger400 --time-limit 20 --jobs 2
    python benchmarks/rr_probe.py --instances DIR --only R2_4_1 --seeds 0,1 --time-limit 20

Each instance goes through the product's model builder (``routing.model._build`` then
``_core_problem``), so the search sees exactly the arrays ``solve_routing`` gives it; the routes are
re-costed from the matrix and checked by the independent validator of the whole engine (after
``schedule_routes`` times them). Prints per-instance gap to the ``distance_dimacs_trunc1``
best-known distance and the number of iterations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ltc_scheduler.routing import model as rm  # noqa: E402
from ltc_scheduler.routing import warm_start as rr  # noqa: E402
from ltc_scheduler.routing.solomon import SCALE, read_bks, read_solomon  # noqa: E402
from ltc_scheduler.routing.validate import validate_routing  # noqa: E402


def run_one(path: str, limit: float, seed: int, bks: float | None) -> dict:
    problem = read_solomon(path)
    m = rm._build(problem)
    core = rm._core_problem(m)
    t0 = time.perf_counter()
    cs = rr.solve(core, limit, seed=seed)
    wall = time.perf_counter() - t0
    routes = []
    for k, vt in enumerate(cs.trips):
        for t in vt:
            routes.append((problem.vehicles[k].key, [m.stops[c - 1].key for c in t]))
    sol = rm.schedule_routes(problem, routes)
    bad = validate_routing(problem, sol)
    dist = sol.total_distance / SCALE
    return {
        "instance": Path(path).stem,
        "seed": seed,
        "distance": round(dist, 1),
        "gap_pct": None if not bks else round(100.0 * (dist - bks) / bks, 3),
        "vehicles": sum(1 for vt in cs.trips if vt),
        "unserved": len(cs.unassigned),
        "iterations": cs.iterations,
        "wall_s": round(wall, 1),
        "valid": not bad,
    }


def _star(a: tuple) -> dict:
    return run_one(*a)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", required=True)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    folder = Path(args.instances)
    files = sorted(folder.glob("*.txt"))
    if args.only:
        wanted = {x.strip().upper() for x in args.only.split(",")}
        files = [p for p in files if p.stem.upper() in wanted]
    bks = (
        {k: b.distance for k, b in read_bks(folder / "bks.csv").items()}
        if (folder / "bks.csv").exists()
        else {}
    )
    rr.warm_up()
    tasks = [(str(p), args.time_limit, int(s), bks.get(p.stem)) for p in files for s in args.seeds.split(",")]
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(_star, tasks))
    else:
        rows = [run_one(*t) for t in tasks]
    for r in rows:
        if args.json:
            print(json.dumps(r))
            continue
        gap = "" if r["gap_pct"] is None else f"{r['gap_pct']:6.2f}%"
        print(
            f"{r['instance']:<9} s{r['seed']} {r['distance']:>9.1f} gap {gap} veh {r['vehicles']:>3} "
            f"uns {r['unserved']} it {r['iterations']:>8} {'ok' if r['valid'] else 'INVALID'}"
        )
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    if gaps:
        valid = all(r["valid"] for r in rows)
        print(f"mean gap {statistics.fmean(gaps):.3f}%  worst {max(gaps):.3f}%  all valid {valid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
