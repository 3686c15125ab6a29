"""A small hand-built delivery day (problem, batches, travel matrix) for the routing bridge tests.

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

from ltc_scheduler.enums import FacilityKind, OrderClass, PackagingKind
from ltc_scheduler.plan.model import Batch
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

MDB = PackagingKind.MULTI_DOSE_BLISTER
H = 60  # minutes per hour (problem times are minutes)

DEPOT = Depot(1, "Central LTC Pharmacy", GeoPoint(41.8781, -87.6298), open_min=5 * H, close_min=22 * H)


def facility(fid: int, name: str, lat: float, lon: float, windows: tuple[tuple[int, int], ...]) -> Facility:
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
    facility(11, "Maple Court", 41.8961, -87.6298, ((6 * H, 7 * H + 30), (9 * H + 30, 13 * H))),
    facility(12, "Oak Terrace", 41.8781, -87.6900, ((8 * H, 12 * H),)),
    facility(13, "Pine Ridge", 41.8500, -87.6500, ((8 * H, 16 * H),)),
    facility(14, "Birch Gardens", 41.9100, -87.6700, ((7 * H, 11 * H),)),
)


def line(
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
    line(1, 11),
    line(2, 11, cold=True),
    line(3, 12, OrderClass.REFILL),
    line(4, 12, controlled=True),
    line(5, 14),
    line(6, 14, OrderClass.STAT, need_by=13 * H + 30, received_min=9 * H + 30),
    line(7, 14, OrderClass.NEW_ADMISSION, need_by=14 * H, received_min=10 * H),
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


def batch(
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
        batch("B1", 11, (1,), totes=2),
        batch("B2", 11, (2,), cold=True),
        batch("B3", 12, (3,), totes=2, order_class=OrderClass.REFILL, ready=7 * H),
        batch("B4", 12, (4,), controlled=True, ready=7 * H + 15),
        batch("B5", 14, (5,), totes=3),
        batch("B6", 14, (6, 7), order_class=OrderClass.STAT, ready=10 * H + 30, deadline_min=11 * H),
    ]
