"""The routing engine as a whole: Solomon quality smoke test, all rules at once, edge cases, inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltc_scheduler.routing.params import RoutingParams
from ltc_scheduler.routing.problem import RoutingProblem, RoutingStop, RoutingVehicle
from ltc_scheduler.routing.search import solve_routing

DIR = Path("/work/shared/benchmarks/solomon")
H = 3600


def validate(p, sol):
    from ltc_scheduler.routing.validate import validate_routing

    return validate_routing(p, sol)


def mixed_day(seed: int = 7, n: int = 40) -> RoutingProblem:
    """A product-like day in seconds: every rule at once.

    ``n`` facilities around the pharmacy, one or two windows each (some with a gap), soft windows
    for routine stops, a few STAT deadlines, releases from packaging, cold and controlled totes;
    four vehicles (one without cooler, one not authorised for controlled items) with breaks and
    two trips each.
    """
    rng = np.random.default_rng(seed)
    xy = np.vstack([[0.0, 0.0], rng.uniform(-15_000, 15_000, size=(n, 2))])  # metres
    dist = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3).astype(np.int64)
    dur = np.ceil(dist / 11.0).astype(np.int64)  # ~40 km/h
    stops = []
    for i in range(1, n + 1):
        kind = i % 4
        if kind == 0:
            windows = ((6 * H, 7 * H + 1800), (9 * H + 1800, 13 * H))
        elif kind == 1:
            windows = ((8 * H, 12 * H),)
        else:
            windows = ((7 * H, 17 * H),)
        stat = i % 9 == 0
        stops.append(
            RoutingStop(
                key=f"F{i:02d}",
                node=i,
                totes=int(rng.integers(1, 6)),
                service=600 + 60 * int(rng.integers(0, 5)),
                windows=() if stat else windows,
                cold_totes=1 if i % 5 == 0 else 0,
                controlled=i % 7 == 0,
                release=int(rng.choice([6 * H, 7 * H, 10 * H])),
                deadline=14 * H if stat else None,
                late_penalty=0 if stat else 5,
                max_late=0 if stat else 3600,
                drop_penalty=None if stat else 10**7,
                priority=stat,
            )
        )
    vehicles = (
        RoutingVehicle(
            "V1",
            25,
            6 * H,
            18 * H,
            cold_capacity=4,
            max_duration=5 * H,
            fixed_cost=20_000,
            break_duration=1800,
            break_window=(11 * H, 13 * H),
            max_trips=2,
        ),
        RoutingVehicle(
            "V2",
            25,
            6 * H,
            18 * H,
            cold_capacity=0,
            max_duration=5 * H,
            fixed_cost=20_000,
            break_duration=1800,
            break_window=(11 * H, 13 * H),
            max_trips=2,
        ),
        RoutingVehicle(
            "V3",
            20,
            7 * H,
            16 * H,
            cold_capacity=2,
            controlled_ok=False,
            max_duration=6 * H,
            fixed_cost=20_000,
            max_trips=2,
        ),
        RoutingVehicle(
            "V4",
            30,
            6 * H,
            18 * H,
            cold_capacity=6,
            max_duration=5 * H,
            fixed_cost=20_000,
            break_duration=1800,
            break_window=(12 * H, 13 * H),
            max_trips=2,
        ),
    )
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=vehicles,
        duration=dur,
        distance=dist,
        depot_window=(5 * H, 20 * H),
        reload_time=900,
        arc_cost="duration",
    )


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
