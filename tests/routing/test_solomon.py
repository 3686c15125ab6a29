"""The Solomon reader (DIMACS convention) and the best-known-solution table.

The strongest check of the convention: the published distance-only BKS routes, re-costed with our
matrix, reproduce the published totals exactly, and the validator finds them feasible.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ltc_scheduler.routing.schedule import schedule_routes
from ltc_scheduler.routing.solomon import SCALE, dimacs_matrix, parse_solomon, read_bks, read_solomon

DIR = Path("/work/shared/benchmarks/solomon")
if not DIR.exists():  # the data may live next to the repository on other machines
    DIR = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "solomon"
pytestmark = pytest.mark.skipif(not DIR.exists(), reason="Solomon instances not available")

TINY = """TINY\r
\r
VEHICLE\r
NUMBER     CAPACITY\r
  2         50\r
\r
CUSTOMER\r
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\r
 \r
    0      0          0          0          0        100          0\r
    1      3          4          10         5         20         10\r
    2      1          1          20         0         50          5\r
"""


def read_sol(path: Path) -> list[list[str]]:
    routes = []
    for line in path.read_text().splitlines():
        m = re.match(r"Route #\d+:(.*)", line)
        if m:
            routes.append(m.group(1).split())
    return routes


def test_parse_tiny_instance_in_dimacs_units():
    p = parse_solomon(TINY)
    assert len(p.vehicles) == 2 and p.vehicles[0].capacity == 50
    assert p.depot_window == (0, 1000)
    assert [(s.key, s.node, s.totes, s.service, s.windows) for s in p.stops] == [
        ("1", 1, 10, 100, ((50, 200),)),
        ("2", 2, 20, 50, ((0, 500),)),
    ]
    # 0->1: 5.0 -> 50; 0->2: sqrt(2) = 1.414 -> 14; 1->2: sqrt(13) = 3.606 -> 36
    assert p.distance.tolist() == [[0, 50, 14], [50, 0, 36], [14, 36, 0]]
    assert np.array_equal(p.duration, p.distance)
    assert p.arc_cost == "distance"
    assert all(v.fixed_cost == 0 for v in p.vehicles)


def test_dimacs_matrix_truncates():
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.35]])
    assert dimacs_matrix(xy).tolist() == [[0, 14, 3], [14, 0, 11], [3, 11, 0]]


def test_not_a_solomon_file():
    with pytest.raises(ValueError, match="NUMBER CAPACITY"):
        parse_solomon("hello\nworld\n")


def test_read_c101():
    p = read_solomon(DIR / "C101.txt")
    assert len(p.stops) == 100
    assert len(p.vehicles) == 25
    assert p.vehicles[0].capacity == 200
    assert p.depot_window == (0, 12360)
    assert p.stops[0].windows == ((9120, 9670),) and p.stops[0].service == 900


def test_bks_table():
    bks = read_bks(DIR / "bks.csv")
    assert bks["C101"].distance == pytest.approx(827.3)
    assert bks["C101"].vehicles == 10
    assert len(bks) >= 47


@pytest.mark.parametrize("name", ["C101", "R102", "RC105", "R211", "C204"])
def test_published_bks_routes_reproduce_cost_and_are_feasible(name):
    """R102, RC105 and R211 break a window by a fraction in double precision, not with truncation."""
    from ltc_scheduler.routing.validate import validate_routing

    p = read_solomon(DIR / f"{name}.txt")
    routes = read_sol(DIR / "bks_routes_dimacs" / f"{name}.sol")
    sol = schedule_routes(p, [(f"v{i + 1}", r) for i, r in enumerate(routes)])
    assert sol.unserved == ()
    assert sol.total_distance / SCALE == pytest.approx(read_bks(DIR / "bks.csv")[name].distance)
    assert validate_routing(p, sol) == []
