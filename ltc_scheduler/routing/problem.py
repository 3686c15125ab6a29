"""The routing sub-problem in plain integer units, shared by the product and the Solomon benchmark.

The product builds it from a :class:`~ltc_scheduler.problem.model.PlanningProblem` plus the
batches' ready times, with time in **seconds from local midnight** (travel seconds rounded up);
the Solomon reader builds it with time = distance = ``floor(10 * euclid)``. The routing solver and
the validator only ever see this object, so both run the same code path on both.

Node 0 of the matrices is the depot; every stop names its own node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class RoutingStop:
    key: str  # stable id: facility id in the product, customer number in Solomon
    node: int  # row/column in the matrices (>= 1)
    totes: int
    service: int  # service (unloading) time
    windows: tuple[tuple[int, int], ...]  # allowed start-of-service windows, sorted
    cold_totes: int = 0
    controlled: bool = False
    release: int = 0  # the vehicle carrying this stop cannot leave the depot before this
    deadline: int | None = None  # hard latest start of service (STAT promise), if any
    late_penalty: int = 0  # cost per time unit past the last window's end; 0 = hard window
    max_late: int = 0  # how late a soft window may be served at most
    drop_penalty: int | None = None  # cost of leaving it unserved; None = as large as possible
    priority: bool = False  # STAT / first dose
    label: str = ""  # what a dispatcher calls it


@dataclass(frozen=True, slots=True)
class RoutingVehicle:
    key: str
    capacity: int
    start: int  # shift start (earliest departure)
    end: int  # shift end (latest return)
    cold_capacity: int = 0
    controlled_ok: bool = True
    max_duration: int | None = None  # max duration of one route/trip
    fixed_cost: int = 0
    break_duration: int = 0
    break_window: tuple[int, int] | None = None  # the break must start inside this window
    max_trips: int = 1  # a vehicle may come back to reload and leave again
    label: str = ""


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    stops: tuple[RoutingStop, ...]
    vehicles: tuple[RoutingVehicle, ...]
    duration: np.ndarray  # int64 [n, n] travel time between nodes
    distance: np.ndarray  # int64 [n, n] metres (Solomon: the same as duration)
    depot_window: tuple[int, int] = (0, 10**9)
    reload_time: int = 0  # time at the depot between two trips of a vehicle
    #: "distance" (Solomon, minimise length) or "duration" (product, minimise driving time)
    arc_cost: str = "duration"
    time_unit: str = "s"
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return int(self.duration.shape[0])


# --------------------------------------------------------------------------- the solver's answer


@dataclass(frozen=True, slots=True)
class Visit:
    stop_key: str
    arrival: int
    start: int  # start of service (arrival + waiting)
    departure: int
    late: int = 0  # start - end of the last window, if positive


@dataclass(frozen=True, slots=True)
class Trip:
    vehicle_key: str
    trip_no: int  # 1 for the first trip of the vehicle, 2 for the second, ...
    depart: int
    return_: int
    visits: tuple[Visit, ...]
    distance: int = 0
    duration: int = 0
    break_start: int | None = None


@dataclass(frozen=True, slots=True)
class Unserved:
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class RoutingSolution:
    trips: tuple[Trip, ...]
    unserved: tuple[Unserved, ...] = ()
    objective: int = 0
    status: str = ""
    wall_s: float = 0.0
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def total_distance(self) -> int:
        return sum(t.distance for t in self.trips)

    @property
    def vehicles_used(self) -> int:
        return len({t.vehicle_key for t in self.trips if t.visits})
