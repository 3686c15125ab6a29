"""Small, named problems and plans shared by the tests: one place to build them (like PyVRP's
``tests/conftest.py`` and its tiny named instances).

Sections:

* **packaging day** -- ``facility``, ``order``, ``line``, ``make_problem``, ``batch``: a pharmacy with
  hand-picked order lines and packaging lines (times are minutes from local midnight).
* **routing bridge day** -- ``day_problem``, ``day_batch``, ``day_batches``: four facilities in
  Chicago and two vans, described below.
* **pipeline helpers** -- ``travel`` (a travel matrix from whole minutes), ``van``, ``hard_of``.
* **mixed routing day** -- ``mixed_day``: a routing problem in seconds with every rule at once.
* **exports sample** -- ``sample_problem``, ``sample_plan``: 14 facilities around Evanston, two vans;
  route 1 has 3 stops (one cold, one controlled, one STAT), route 2 has 11 stops.

The routing bridge day
----------------------
A small hand-built delivery day (problem, batches, travel matrix) for the routing bridge tests.

The pharmacy is in Chicago; four facilities within ~6 km:

* 11 "Maple Court"   -- two windows 06:00-07:30 and 09:30-13:00, routine cycle fill (cold tote)
* 12 "Oak Terrace"   -- one window 08:00-12:00, routine refill + controlled batch
* 13 "Pine Ridge"    -- no deliveries today (still a node of the travel matrix)
* 14 "Birch Gardens" -- window 07:00-11:00, a routine batch and a STAT batch (first dose)

Vehicles: 1 "Van 1" (20 totes, 4 cold, controlled OK, 06:00-14:00 = 8 h > 6 h, so it takes a
30 min break in 10:00-12:00, 2 trips) and 2 "Van 2" (10 totes, no cooler, not authorised, 07:00-12:00).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np

from ltc_scheduler.enums import FacilityKind, OrderClass, PackagingKind
from ltc_scheduler.packing.solve import PackingParams
from ltc_scheduler.packing.validate import validate_packing
from ltc_scheduler.plan.model import Batch, LateStop, Plan, PlanRoute, PlanStop, SolveStats, UnservedStop
from ltc_scheduler.problem.model import (
    Depot,
    Facility,
    GeoPoint,
    OrderLine,
    PackagingLine,
    PharmacistShift,
    PlanningProblem,
    PlanSettings,
    TimeWindow,
    Vehicle,
    Verification,
)
from ltc_scheduler.problem.travel import TravelMatrix
from ltc_scheduler.routing.problem import RoutingProblem, RoutingStop, RoutingVehicle

MDB = PackagingKind.MULTI_DOSE_BLISTER
H = 60  # minutes per hour (problem times are minutes)

DEPOT = Depot(1, "Central LTC Pharmacy", GeoPoint(41.8781, -87.6298), open_min=5 * H, close_min=22 * H)


def _day_facility(
    fid: int, name: str, lat: float, lon: float, windows: tuple[tuple[int, int], ...]
) -> Facility:
    return Facility(
        id=fid,
        external_id=f"F{fid}",
        name=name,
        kind=FacilityKind.SKILLED_NURSING,
        location=GeoPoint(lat, lon),
        windows=tuple(TimeWindow(a, b) for a, b in windows),
        service_fixed_min=10,
        service_per_tote_min=1.5,
    )


FACILITIES = (
    _day_facility(11, "Maple Court", 41.8961, -87.6298, ((6 * H, 7 * H + 30), (9 * H + 30, 13 * H))),
    _day_facility(12, "Oak Terrace", 41.8781, -87.6900, ((8 * H, 12 * H),)),
    _day_facility(13, "Pine Ridge", 41.8500, -87.6500, ((8 * H, 16 * H),)),
    _day_facility(14, "Birch Gardens", 41.9100, -87.6700, ((7 * H, 11 * H),)),
)


def _day_line(
    lid: int, fid: int, cls: OrderClass = OrderClass.CYCLE_FILL, need_by: int = 18 * H, **kw
) -> OrderLine:
    base = dict(
        id=lid,
        external_id=f"L{lid}",
        facility_id=fid,
        unit="",
        resident_id=lid,
        medication_id=1,
        medication_name="Metformin 500 mg",
        packaging_kind=MDB,
        order_class=cls,
        cards=10,
        doses=28,
        controlled=False,
        cold=False,
        received_min=4 * H,
        need_by_min=need_by,
    )
    base.update(kw)
    return OrderLine(**base)


ORDERS = (
    _day_line(1, 11),
    _day_line(2, 11, cold=True),
    _day_line(3, 12, OrderClass.REFILL),
    _day_line(4, 12, controlled=True),
    _day_line(5, 14),
    _day_line(6, 14, OrderClass.STAT, need_by=13 * H + 30, received_min=9 * H + 30),
    _day_line(7, 14, OrderClass.NEW_ADMISSION, need_by=14 * H, received_min=10 * H),
)

VEHICLES = (
    Vehicle(
        id=1,
        name="Van 1",
        tote_capacity=20,
        cold_capacity=4,
        controlled_ok=True,
        shift_start=6 * H,
        shift_end=14 * H,
        max_route_min=240,
        depot_id=1,
        break_min=30,
        break_window=TimeWindow(10 * H, 12 * H),
        max_trips=2,
    ),
    Vehicle(
        id=2,
        name="Van 2",
        tote_capacity=10,
        cold_capacity=0,
        controlled_ok=False,
        shift_start=7 * H,
        shift_end=12 * H,
        max_route_min=180,
        depot_id=1,
        break_min=30,
        break_window=TimeWindow(9 * H, 10 * H),  # shift of 5 h: no break required
        max_trips=2,
    ),
)


def day_problem(**kw) -> PlanningProblem:
    """The day described in the module docstring; keyword arguments replace fields."""
    base = PlanningProblem(
        date=dt.date(2026, 11, 27),
        timezone="America/Chicago",
        depot=DEPOT,
        facilities=FACILITIES,
        orders=ORDERS,
        lines=(PackagingLine(1, "Blister 1", frozenset({MDB}), cards_per_hour=600),),
        verification=Verification(0.5, (PharmacistShift("RPh", 5 * H, 17 * H),)),
        vehicles=VEHICLES,
        settings=PlanSettings(),
    )
    return replace(base, **kw)


def day_batch(
    key: str, fid: int, lines: tuple[int, ...], *, totes: int = 1, ready: int | None = 5 * H + 30, **kw
) -> Batch:
    base = dict(
        key=key,
        facility_id=fid,
        unit="",
        kind=MDB,
        order_line_ids=lines,
        cards=10 * len(lines),
        totes=totes,
        cold=False,
        controlled=False,
        order_class=OrderClass.CYCLE_FILL,
        deadline_min=5 * H + 30,
        verify_end_min=ready,
    )
    base.update(kw)
    return Batch(**base)


def day_batches() -> list[Batch]:
    """B1/B2 Maple (2 totes + 1 cold), B3/B4 Oak (refill 2 totes + controlled), B5 Birch routine,
    B6 Birch STAT (first doses, verified 10:30)."""
    return [
        day_batch("B1", 11, (1,), totes=2),
        day_batch("B2", 11, (2,), cold=True),
        day_batch("B3", 12, (3,), totes=2, order_class=OrderClass.REFILL, ready=7 * H),
        day_batch("B4", 12, (4,), controlled=True, ready=7 * H + 15),
        day_batch("B5", 14, (5,), totes=3),
        day_batch("B6", 14, (6, 7), order_class=OrderClass.STAT, ready=10 * H + 30, deadline_min=11 * H),
    ]


# --------------------------------------------------------------------------- packaging day


UDC = PackagingKind.UNIT_DOSE_CARD

FAST = PackingParams(time_limit_s=2.0, workers=2, seed=1)


def facility(
    fid: int,
    *,
    beds: int = 60,
    units: tuple[str, ...] = (),
    windows=((9 * 60 + 30, 13 * 60),),
    lat: float = 41.9,
) -> Facility:
    return Facility(
        id=fid,
        external_id=f"F{fid}",
        name=f"Facility {fid}",
        kind=FacilityKind.SKILLED_NURSING,
        location=GeoPoint(lat, -87.7),
        beds=beds,
        units=units,
        windows=tuple(TimeWindow(a, b) for a, b in windows),
    )


def order(
    oid: int,
    fid: int,
    *,
    kind: PackagingKind = MDB,
    cards: int = 10,
    cls: OrderClass = OrderClass.REFILL,
    controlled: bool = False,
    cold: bool = False,
    unit: str = "A",
    need_by: int = 16 * 60,
    received: int = 6 * 60,
) -> OrderLine:
    return OrderLine(
        id=oid,
        external_id=f"O{oid}",
        facility_id=fid,
        unit=unit,
        resident_id=oid,
        medication_id=1,
        medication_name="med",
        packaging_kind=kind,
        order_class=cls,
        cards=cards,
        doses=cards * 30,
        controlled=controlled,
        cold=cold,
        received_min=received,
        need_by_min=need_by,
    )


def line(
    lid: int,
    kinds=(MDB,),
    *,
    rate: int = 120,
    avail=((6 * 60, 18 * 60),),
    downtime=(),
    kind_co: int = 15,
    fac_co: int = 3,
) -> PackagingLine:
    return PackagingLine(
        id=lid,
        name=f"Line {lid}",
        kinds=frozenset(kinds),
        cards_per_hour=rate,
        changeover_kind_min=kind_co,
        changeover_facility_min=fac_co,
        available=tuple(TimeWindow(a, b) for a, b in avail),
        downtime=tuple(TimeWindow(a, b) for a, b in downtime),
    )


def make_problem(
    orders,
    *,
    facilities=None,
    lines=None,
    shifts=((6 * 60, 18 * 60),),
    minutes_per_card=0.1,
    settings: PlanSettings | None = None,
    now: int | None = None,
) -> PlanningProblem:
    facs = facilities or tuple(
        {o.facility_id for o in orders} and (facility(f) for f in sorted({o.facility_id for o in orders}))
    )
    return PlanningProblem(
        date=dt.date(2026, 12, 1),
        timezone="America/Chicago",
        depot=Depot(id=1, name="Pharmacy", location=GeoPoint(41.88, -87.63)),
        facilities=tuple(facs),
        orders=tuple(orders),
        lines=tuple(lines or (line(1),)),
        verification=Verification(
            minutes_per_card, tuple(PharmacistShift(f"P{i}", a, b) for i, (a, b) in enumerate(shifts))
        ),
        vehicles=(),
        settings=settings or PlanSettings(),
        now_min=now,
    )


def batch(
    key: str,
    fid: int,
    *,
    kind=MDB,
    cards: int = 60,
    deadline: int = 8 * 60,
    cls: OrderClass = OrderClass.REFILL,
    ids: tuple[int, ...] | None = None,
) -> Batch:
    return Batch(
        key=key,
        facility_id=fid,
        unit="",
        kind=kind,
        order_line_ids=ids or (int(key[1:]),),
        cards=cards,
        totes=max(1, -(-cards // 40)),
        cold=False,
        controlled=False,
        order_class=cls,
        deadline_min=deadline,
    )


def hard(problem, batches):
    """The hard findings of the packaging validator on ``batches``."""
    return [v for v in validate_packing(problem, batches) if v.hard]


def orders_for(batches: list[Batch]) -> list[OrderLine]:
    """One order line per hand-made batch, consistent with it (so the validator's coverage checks pass)."""
    return [
        order(b.order_line_ids[0], b.facility_id, kind=b.kind, cards=b.cards, cls=b.order_class)
        for b in batches
    ]


# --------------------------------------------------------------------------- pipeline helpers


def travel(minutes: list[list[int]]) -> TravelMatrix:
    """A travel matrix from whole minutes (node 0 = pharmacy, node i = facility i in problem order)."""
    sec = np.array(minutes, dtype=np.int64) * 60
    return TravelMatrix(metres=sec * 10, seconds=sec)


def van(vid: int = 1, *, start: int = 9 * H, end: int = 17 * H, trips: int = 1, totes: int = 40) -> Vehicle:
    """A van of the pharmacy (depot 1), controlled-substance authorised, with a small cooler."""
    return Vehicle(
        id=vid,
        name=f"Van {vid}",
        tote_capacity=totes,
        cold_capacity=4,
        controlled_ok=True,
        shift_start=start,
        shift_end=end,
        max_route_min=10 * H,
        depot_id=1,
        max_trips=trips,
    )


def hard_of(violations):
    """Only the hard findings of a validator's list."""
    return [v for v in violations if v.hard]


# --------------------------------------------------------------------------- mixed routing day

HOUR_S = 3600  # the routing problem is in seconds


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
            windows = ((6 * HOUR_S, 7 * HOUR_S + 1800), (9 * HOUR_S + 1800, 13 * HOUR_S))
        elif kind == 1:
            windows = ((8 * HOUR_S, 12 * HOUR_S),)
        else:
            windows = ((7 * HOUR_S, 17 * HOUR_S),)
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
                release=int(rng.choice([6 * HOUR_S, 7 * HOUR_S, 10 * HOUR_S])),
                deadline=14 * HOUR_S if stat else None,
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
            6 * HOUR_S,
            18 * HOUR_S,
            cold_capacity=4,
            max_duration=5 * HOUR_S,
            fixed_cost=20_000,
            break_duration=1800,
            break_window=(11 * HOUR_S, 13 * HOUR_S),
            max_trips=2,
        ),
        RoutingVehicle(
            "V2",
            25,
            6 * HOUR_S,
            18 * HOUR_S,
            cold_capacity=0,
            max_duration=5 * HOUR_S,
            fixed_cost=20_000,
            break_duration=1800,
            break_window=(11 * HOUR_S, 13 * HOUR_S),
            max_trips=2,
        ),
        RoutingVehicle(
            "V3",
            20,
            7 * HOUR_S,
            16 * HOUR_S,
            cold_capacity=2,
            controlled_ok=False,
            max_duration=6 * HOUR_S,
            fixed_cost=20_000,
            max_trips=2,
        ),
        RoutingVehicle(
            "V4",
            30,
            6 * HOUR_S,
            18 * HOUR_S,
            cold_capacity=6,
            max_duration=5 * HOUR_S,
            fixed_cost=20_000,
            break_duration=1800,
            break_window=(12 * HOUR_S, 13 * HOUR_S),
            max_trips=2,
        ),
    )
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=vehicles,
        duration=dur,
        distance=dist,
        depot_window=(5 * HOUR_S, 20 * HOUR_S),
        reload_time=900,
        arc_cost="duration",
    )


# --------------------------------------------------------------------------- exports sample


SAMPLE_DAY = dt.date(2026, 11, 26)

RESIDENT_NAME = "Eleanor Rigby"  # must never reach a driver manifest


def sample_problem() -> PlanningProblem:
    """14 facilities around Evanston, 2 vans, 2 packaging lines, 1 order line per facility + extras."""
    depot = Depot(1, "Lakeshore LTC Pharmacy", GeoPoint(42.0450, -87.6877), "1600 Sherman Ave, Evanston, IL")
    facilities = tuple(
        Facility(
            id=10 + i,
            external_id=f"F{i:02d}",
            name=f"Maple Grove Care {i}",
            kind=FacilityKind.SKILLED_NURSING,
            location=GeoPoint(42.0 + i * 0.01, -87.70 - i * 0.005),
            address=f"{100 + i} Main St, Evanston, IL",
            beds=80,
            windows=(TimeWindow(8 * 60, 12 * 60),),
        )
        for i in range(14)
    )
    orders = [
        OrderLine(
            100 + i,
            f"RX{1000 + i}",
            10 + i,
            "",
            500 + i,
            7,
            "Metformin 500 mg",
            PackagingKind.MULTI_DOSE_BLISTER,
            OrderClass.CYCLE_FILL,
            4,
            28,
            False,
            False,
            -600,
            12 * 60,
        )
        for i in range(14)
    ]
    orders.append(
        OrderLine(
            200,
            "RX2000",
            11,
            "",
            777,
            8,
            "Oxycodone 5 mg",
            PackagingKind.UNIT_DOSE_CARD,
            OrderClass.REFILL,
            2,
            30,
            True,
            False,
            -600,
            12 * 60,
        )
    )
    orders.append(
        OrderLine(
            201,
            "RX2001",
            12,
            "",
            778,
            9,
            "Insulin glargine",
            PackagingKind.VIAL_BOTTLE,
            OrderClass.STAT,
            1,
            1,
            False,
            True,
            7 * 60,
            11 * 60,
        )
    )
    lines = (
        PackagingLine(1, "Blister line A", frozenset({PackagingKind.MULTI_DOSE_BLISTER}), 120),
        PackagingLine(
            2, "Unit-dose line", frozenset({PackagingKind.UNIT_DOSE_CARD, PackagingKind.VIAL_BOTTLE}), 90
        ),
    )
    vehicles = (
        Vehicle(1, "Van A", 40, 6, True, 7 * 60, 17 * 60, 8 * 60, 1),
        Vehicle(2, "Van B", 40, 6, False, 7 * 60, 17 * 60, 8 * 60, 1),
    )
    return PlanningProblem(
        date=SAMPLE_DAY,
        timezone="America/Chicago",
        depot=depot,
        facilities=facilities,
        orders=tuple(orders),
        lines=lines,
        verification=Verification(0.5, (PharmacistShift("RPh Kim", 6 * 60, 14 * 60),)),
        vehicles=vehicles,
    )


def _sample_batch(key: str, fid: int, ids: tuple[int, ...], line: int, start: int, **kw: object) -> Batch:
    base = dict(
        key=key,
        facility_id=fid,
        unit="",
        kind=PackagingKind.MULTI_DOSE_BLISTER,
        order_line_ids=ids,
        cards=4,
        totes=1,
        cold=False,
        controlled=False,
        order_class=OrderClass.CYCLE_FILL,
        deadline_min=9 * 60,
        line_id=line,
        start_min=start,
        end_min=start + 4,
        verify_start_min=start + 5,
        verify_end_min=start + 8,
    )
    base.update(kw)
    return Batch(**base)  # type: ignore[arg-type]


def sample_plan() -> Plan:
    """Route 1: facilities 10, 11 (controlled), 12 (cold STAT, 5 min late); route 2: 13..23 (11 stops)."""
    batches = [_sample_batch(f"B{i:04d}", 10 + i, (100 + i,), 1, 6 * 60 + 5 * i) for i in range(14)]
    batches.append(
        _sample_batch(
            "B0100",
            11,
            (200,),
            2,
            6 * 60,
            kind=PackagingKind.UNIT_DOSE_CARD,
            controlled=True,
            order_class=OrderClass.REFILL,
        )
    )
    batches.append(
        _sample_batch(
            "B0101",
            12,
            (201,),
            2,
            6 * 60 + 10,
            kind=PackagingKind.VIAL_BOTTLE,
            cold=True,
            order_class=OrderClass.STAT,
            deadline_min=8 * 60,
        )
    )
    r1 = PlanRoute(
        vehicle_id=1,
        trip_no=1,
        depart_min=8 * 60,
        return_min=10 * 60,
        distance_m=23_400,
        drive_s=3000,
        stops=(
            PlanStop(1, 10, 8 * 60 + 15, 8 * 60 + 15, 8 * 60 + 26, 1, 0, 0, ("B0000",), 480, 720),
            PlanStop(2, 11, 8 * 60 + 40, 8 * 60 + 40, 8 * 60 + 52, 2, 0, 1, ("B0001", "B0100"), 480, 720),
            PlanStop(
                3,
                12,
                12 * 60 + 5,
                12 * 60 + 5,
                12 * 60 + 17,
                2,
                1,
                0,
                ("B0002", "B0101"),
                480,
                720,
                late_min=5,
                stat=True,
            ),
        ),
    )
    r2_stops = tuple(
        PlanStop(
            k + 1,
            13 + k,
            8 * 60 + 20 * k,
            8 * 60 + 20 * k,
            8 * 60 + 20 * k + 11,
            1,
            0,
            0,
            (f"B{3 + k:04d}",),
            480,
            720,
        )
        for k in range(11)
    )
    r2 = PlanRoute(
        vehicle_id=2,
        trip_no=1,
        depart_min=7 * 60 + 45,
        return_min=12 * 60 + 30,
        stops=r2_stops,
        distance_m=61_000,
        drive_s=9000,
    )
    return Plan(
        date=SAMPLE_DAY,
        batches=tuple(batches),
        routes=(r1, r2),
        unserved=(UnservedStop(99, "no vehicle can reach it inside its window", ("B0999",)),),
        late=(LateStop(12, 5, "window closes at 12:00"),),
        stats=(
            SolveStats("packing", "OPTIMAL", 1.5, 100.0, 100.0),
            SolveStats("routing", "FEASIBLE", 2.0, 5000.0, 4500.0),
        ),
    )
