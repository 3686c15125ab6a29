"""Write 1,000-customer Solomon-format instances drawn from the Gehring-Homberger 400 ones.

    python benchmarks/scaled_homberger.py --out /tmp/syn1000
    python benchmarks/solomon.py --instances /tmp/syn1000 --time-limit 60     # no bks: distances only

Not Gehring-Homberger 1,000 instances and not for gaps (there is no best-known solution): a size
for measuring speed and A/B comparisons of the engine at 1,000 stops with the same kind of windows.
Each customer is a random customer of the 400 instance (same demand and service) moved by up to 8
units and its window shifted by up to 30, clipped so that the depot can still be reached back in
time; 250 vehicles of the instance's capacity. Seeded: the same seed writes the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SRC = Path("/work/shared/benchmarks/homberger400")
if not SRC.exists():
    SRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "homberger400"
#: in the order the random draws are made (the files measured in benchmarks/README.md)
NAMES = ("C1_4_1", "R1_4_1", "R2_4_1", "RC1_4_1", "RC2_4_1", "C2_4_1")


def _rows(path: Path) -> tuple[list[list[int]], int]:
    lines = path.read_text().splitlines()
    rows = [[int(x) for x in ln.split()] for ln in lines if len(ln.split()) == 7 and ln.split()[0].isdigit()]
    capacity = int(
        next(ln for ln in lines[lines.index("NUMBER     CAPACITY") + 1 :] if ln.strip()).split()[1]
    )
    return rows, capacity


def scaled(path: Path, n: int, rng: np.random.Generator) -> str:
    rows, capacity = _rows(path)
    depot, cust = rows[0], rows[1:]
    out = [
        path.stem.replace("_4_", "_X_"), "", "VEHICLE", "NUMBER     CAPACITY", f"  {n // 4}   {capacity}", "",
        "CUSTOMER", "CUST NO.  XCOORD.    YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE TIME", " ",
        f"{0:5d} {depot[1]:8d} {depot[2]:8d} {0:8d} {depot[4]:8d} {depot[5]:8d} {0:8d}",
    ]  # fmt: skip
    for i, j in enumerate(rng.integers(0, len(cust), size=n), start=1):
        c = cust[j]
        x = int(np.clip(c[1] + rng.integers(-8, 9), 0, 200))
        y = int(np.clip(c[2] + rng.integers(-8, 9), 0, 200))
        shift = int(rng.integers(-30, 31))
        back = int(np.hypot(x - depot[1], y - depot[2])) + 1
        last = depot[5] - back - c[6] - 1  # latest start that still gets back to the depot
        a = min(max(0, c[4] + shift), last)
        b = min(max(max(0, c[5] + shift), a), last)
        if b < back:
            a, b = back, back + (c[5] - c[4])
        out.append(f"{i:5d} {x:8d} {y:8d} {c[3]:8d} {a:8d} {b:8d} {c[6]:8d}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder to write the instances (and an empty bks.csv) to")
    ap.add_argument("--src", default=str(SRC), help="folder of the 400-customer instances")
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for name in NAMES:
        text = scaled(Path(args.src) / f"{name}.txt", args.customers, rng)
        (out / f"{name.replace('_4_', '_X_')}.txt").write_text(text)
    (out / "bks.csv").write_text("instance,bks_vehicles,bks_distance,convention,source\n")
    print(f"wrote {len(NAMES)} instances of {args.customers} customers to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
