"""The routing engine as a whole: Solomon quality smoke test, all rules at once, edge cases, inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories import mixed_day

from ltc_scheduler.routing.params import RoutingParams
from ltc_scheduler.routing.problem import RoutingProblem, RoutingStop, RoutingVehicle
from ltc_scheduler.routing.search import solve_routing

DIR = Path("/work/shared/benchmarks/solomon")
H = 3600


def validate(p, sol):
    from ltc_scheduler.routing.validate import validate_routing

    return validate_routing(p, sol)


def test_mixed_day_every_rule_at_once_is_valid():
    p = mixed_day()
    sol = solve_routing(p, RoutingParams(time_limit_s=3))
    hard = [v for v in validate(p, sol) if v.hard]
    assert hard == []
    assert len(sol.unserved) <= 4  # the fleet is ample: nearly everything is served
    served = {v.stop_key for t in sol.trips for v in t.visits}
    assert served | {u.key for u in sol.unserved} == {s.key for s in p.stops}
    stops = {s.key: s for s in p.stops}
    for t in sol.trips:
        veh = next(v for v in p.vehicles if v.key == t.vehicle_key)
        assert sum(stops[v.stop_key].totes for v in t.visits) <= veh.capacity
        assert sum(stops[v.stop_key].cold_totes for v in t.visits) <= veh.cold_capacity
        assert t.depart >= max(stops[v.stop_key].release for v in t.visits)
        if t.vehicle_key == "V3":
            assert not any(stops[v.stop_key].controlled for v in t.visits)


def test_mixed_day_with_two_workers_is_valid():
    p = mixed_day(seed=3, n=25)
    sol = solve_routing(p, RoutingParams(time_limit_s=2, workers=2))
    assert [v for v in validate(p, sol) if v.hard] == []
    assert sol.stats["workers"] == 2


@pytest.mark.skipif(not DIR.exists(), reason="Solomon instances not available")
def test_solomon_c101_close_to_best_known_in_two_seconds():
    """Usually exactly the BKS (827.3); 5% leaves room for a busy CPU."""
    from ltc_scheduler.routing.solomon import read_bks, read_solomon

    p = read_solomon(DIR / "C101.txt")
    sol = solve_routing(p, RoutingParams(time_limit_s=2))
    assert validate(p, sol) == []
    assert sol.unserved == ()
    bks = read_bks(DIR / "bks.csv")["C101"].distance
    assert sol.total_distance / 10 <= bks * 1.05
    assert sol.objective == sol.total_distance


def test_no_vehicles_everything_unserved_with_reason():
    dur = np.array([[0, 5], [5, 0]], dtype=np.int64)
    stops = (RoutingStop("A", 1, 1, 0, ((0, 100),)),)
    p = RoutingProblem(stops=stops, vehicles=(), duration=dur, distance=dur)
    sol = solve_routing(p, RoutingParams(time_limit_s=1))
    assert sol.trips == ()
    assert [u.key for u in sol.unserved] == ["A"] and sol.unserved[0].reason
    assert validate(p, sol) == []


def test_no_stops_no_trips():
    dur = np.zeros((1, 1), dtype=np.int64)
    p = RoutingProblem(stops=(), vehicles=(RoutingVehicle("V", 10, 0, 100),), duration=dur, distance=dur)
    sol = solve_routing(p, RoutingParams(time_limit_s=1))
    assert sol.trips == () and sol.unserved == ()


@pytest.mark.parametrize(
    ("stops", "match"),
    [
        ((RoutingStop("A", 5, 1, 0, ()),), "node"),
        ((RoutingStop("A", 1, 1, 0, ()), RoutingStop("A", 1, 1, 0, ())), "twice"),
        ((RoutingStop("A", 1, 1, 0, ((50, 10),)),), "windows"),
    ],
)
def test_bad_input_names_the_stop_and_field(stops, match):
    dur = np.array([[0, 5], [5, 0]], dtype=np.int64)
    p = RoutingProblem(stops=stops, vehicles=(RoutingVehicle("V", 10, 0, 100),), duration=dur, distance=dur)
    with pytest.raises(ValueError, match=match) as err:
        solve_routing(p, RoutingParams(time_limit_s=1))
    assert type(err.value) is ValueError  # a plain sentence; the service turns it into BadInput


def test_params_operator_names_with_or_without_prefix():
    dur = np.array([[0, 5], [5, 0]], dtype=np.int64)
    p = RoutingProblem(
        stops=(RoutingStop("A", 1, 1, 0, ((0, 100),)),),
        vehicles=(RoutingVehicle("V", 10, 0, 100),),
        duration=dur,
        distance=dur,
    )
    params = RoutingParams(time_limit_s=0.5, operators={"cross_exchange": True, "use_or_opt": False})
    sol = solve_routing(p, params)
    assert [[v.stop_key for v in t.visits] for t in sol.trips] == [["A"]]
    assert validate(p, sol) == []
