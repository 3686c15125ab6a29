"""The warm start's routes reach the answer even when the warm start used up the time limit.

OR-Tools applies the time limit the model is closed with to reading routes in as well: closed
with what was left (nothing, after a warm start that overran on a loaded machine), it refused
valid routes, its own start had no time either, and a 500-facility day came back with no routes
at all. ``search.py`` gives the read its own allowance.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from ltc_scheduler.routing import warm_start
from ltc_scheduler.routing.params import RoutingParams
from ltc_scheduler.routing.problem import RoutingProblem, RoutingStop, RoutingVehicle
from ltc_scheduler.routing.search import solve_routing
from ltc_scheduler.routing.validate import hard_violations, validate_routing


def _problem(n: int = 600) -> RoutingProblem:
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 20_000, size=(n + 1, 2))
    d = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 10).astype(np.int64)
    stops = tuple(
        RoutingStop(
            str(i), i, 1, 120, ((8 * 3600, 16 * 3600),), release=7 * 3600 + int(rng.integers(0, 3600))
        )
        for i in range(1, n + 1)
    )
    vans = tuple(RoutingVehicle(str(k), 20, 7 * 3600, 18 * 3600, max_trips=2) for k in range(24))
    return RoutingProblem(stops=stops, vehicles=vans, duration=d, distance=d, reload_time=600)


def test_routes_of_a_warm_start_that_overran_its_time_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    real = warm_start.solve
    limit = 2.0

    def overrunning(core, time_limit_s, seed=0, **kw):
        t0 = time.perf_counter()
        out = real(core, time_limit_s, seed=seed, max_iterations=300)
        time.sleep(max(0.0, limit + 0.2 - (time.perf_counter() - t0)))  # a loaded machine
        return out

    monkeypatch.setattr(warm_start, "solve", overrunning)
    p = _problem()
    sol = solve_routing(p, RoutingParams(time_limit_s=limit))
    assert sol.stats["start"] == "ruin_recreate"
    assert sum(len(t.visits) for t in sol.trips) == len(p.stops) and sol.unserved == ()
    assert hard_violations(validate_routing(p, sol)) == []
