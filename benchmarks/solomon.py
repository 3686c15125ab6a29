"""Solomon VRPTW benchmark of the product's routing engine (DIMACS distance convention).

    python benchmarks/solomon.py --instances ../shared/benchmarks/solomon --time-limit 10
    python benchmarks/solomon.py --instances DIR --time-limit 60 --only C101,R101 --json > out.json
    python benchmarks/solomon.py --instances DIR --time-limit 10 --ruin-recreate-share 0   # OR-Tools alone

Each instance is read by ``ltc_scheduler.routing.solomon`` (distances ``floor(10*euclid)``, travel
time = distance, ready/due/service x10, the instance's fleet and capacity, no vehicle cost), solved
by ``ltc_scheduler.routing.search.solve_routing`` (the same code path as the product), checked by
the independent validator ``ltc_scheduler.routing.validate.validate_routing``, and compared
with the ``distance_dimacs_trunc1`` best-known solution in ``bks.csv`` of the same folder.

The ruin-and-recreate warm start is compiled (numba) once before the first instance, as
``make install`` does for the product, so compile time is not counted in any instance's time.

Distances are printed in the instance's units (the integer total / 10). ``--jobs N`` solves N
instances at a time (one process each); each solve may itself use ``--workers`` processes.
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

from ltc_scheduler.routing.params import RoutingParams  # noqa: E402
from ltc_scheduler.routing.search import solve_routing  # noqa: E402
from ltc_scheduler.routing.solomon import SCALE, read_bks, read_solomon  # noqa: E402


def _validate(problem, solution) -> str:
    """``"ok"``, ``"N violations"`` or ``"n/a"`` when the validator module is not there."""
    try:
        from ltc_scheduler.routing.validate import validate_routing
    except ImportError:
        return "n/a"
    bad = validate_routing(problem, solution)
    return "ok" if not bad else f"{len(bad)} violations: " + "; ".join(str(v) for v in bad[:3])


def run_one(path: str, params: RoutingParams, bks: float | None) -> dict:
    problem = read_solomon(path)
    t0 = time.perf_counter()
    sol = solve_routing(problem, params)
    runtime = time.perf_counter() - t0
    distance = sol.total_distance / SCALE
    gap = None if not bks else 100.0 * (distance - bks) / bks
    return {
        "instance": Path(path).stem,
        "distance": round(distance, 1),
        "vehicles": sol.vehicles_used,
        "unserved": len(sol.unserved),
        "runtime_s": round(runtime, 2),
        "validator": _validate(problem, sol),
        "bks": bks,
        "gap_pct": None if gap is None else round(gap, 3),
        "status": sol.status,
        "stats": {k: v for k, v in sol.stats.items() if k != "objectives"},
        "routes": [[int(v.stop_key) for v in t.visits] for t in sol.trips if t.visits],
    }


def _run_star(args: tuple) -> dict:
    return run_one(*args)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", required=True, help="folder with Solomon *.txt files and bks.csv")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    ap.add_argument("--only", default="", help="comma-separated instance names, e.g. C101,R101")
    ap.add_argument("--jobs", type=int, default=1, help="instances solved at the same time")
    ap.add_argument("--workers", type=int, default=None, help="parallel searches per instance")
    ap.add_argument("--json", action="store_true", help="print one JSON document (with the routes)")
    ap.add_argument(
        "--ruin-recreate-share",
        type=float,
        default=None,
        help="share of the time for the ruin-and-recreate warm start (0 = OR-Tools alone)",
    )
    args = ap.parse_args(argv)

    folder = Path(args.instances)
    files = sorted(p for p in folder.glob("*.txt") if p.stem.upper() != "README")
    if args.only:
        wanted = {x.strip().upper() for x in args.only.split(",") if x.strip()}
        files = [p for p in files if p.stem.upper() in wanted]
    if not files:
        print(f"no instances found in {folder}", file=sys.stderr)
        return 2
    bks_file = folder / "bks.csv"
    bks = {k: b.distance for k, b in read_bks(bks_file).items()} if bks_file.exists() else {}

    params = RoutingParams(time_limit_s=args.time_limit)
    if args.workers is not None:
        params = params.with_(workers=args.workers)
    if args.ruin_recreate_share is not None:
        params = params.with_(ruin_recreate_share=args.ruin_recreate_share)
    tasks = [(str(p), params, bks.get(p.stem)) for p in files]
    # compile the warm start's kernels (or load numba's cache) before any clock starts: the
    # product does this once at install time (`make install`)
    from ltc_scheduler.routing.warm_start import warm_up

    warm_up()
    rows: list[dict] = []
    if not args.json:
        print(
            f"{'instance':<9}{'distance':>10}{'bks':>10}{'gap %':>8}{'veh':>5}{'unserved':>9}"
            f"{'time s':>8}  validator",
            flush=True,
        )

    def emit(row: dict) -> None:
        rows.append(row)
        if args.json:  # progress on stderr, the document on stdout
            print(
                f"{row['instance']}: {row['distance']} gap {row['gap_pct']}% {row['validator']}",
                file=sys.stderr,
                flush=True,
            )
        else:
            gap = "" if row["gap_pct"] is None else f"{row['gap_pct']:.2f}"
            bk = "" if row["bks"] is None else f"{row['bks']:.1f}"
            print(
                f"{row['instance']:<9}{row['distance']:>10.1f}{bk:>10}{gap:>8}{row['vehicles']:>5}"
                f"{row['unserved']:>9}{row['runtime_s']:>8.1f}  {row['validator']}",
                flush=True,
            )

    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for row in pool.map(_run_star, tasks):
                emit(row)
    else:
        for t in tasks:
            emit(run_one(*t))

    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    summary = {
        "instances": len(rows),
        "time_limit_s": args.time_limit,
        "workers": params.workers,
        "mean_gap_pct": round(statistics.fmean(gaps), 3) if gaps else None,
        "worst_gap_pct": round(max(gaps), 3) if gaps else None,
        "worst_instance": max(rows, key=lambda r: r["gap_pct"] or -1e9)["instance"] if gaps else None,
        "all_valid": all(r["validator"] == "ok" for r in rows),
        "all_served": all(r["unserved"] == 0 for r in rows),
    }
    if args.json:
        # one instance per line: readable and still one JSON document
        body = ",\n  ".join(json.dumps(r) for r in rows)
        print(f'{{"summary": {json.dumps(summary)},\n "instances": [\n  {body}\n ]}}')
    else:
        print(
            f"summary: {summary['instances']} instances, {args.time_limit:g} s each, "
            f"workers {params.workers}: mean gap {summary['mean_gap_pct']}%, worst "
            f"{summary['worst_gap_pct']}% ({summary['worst_instance']}), "
            f"all valid: {summary['all_valid']}, all served: {summary['all_served']}"
        )
    return 0 if summary["all_valid"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
