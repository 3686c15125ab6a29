"""The day's planning problem as plain, immutable objects.

Conventions (every module relies on them):

* Times of day are integer **minutes from local midnight of the plan date** in the pharmacy's
  time zone (``0`` = 00:00, ``13*60`` = 13:00). A value may be negative (received yesterday) or
  exceed 1440 (after midnight).
* Durations are integer minutes unless the name says ``_s`` (seconds).
* Distances are integer metres; the travel matrix holds metres and seconds.
* Ids are the database ids (``int``); ``external_id`` is what the pharmacy system calls it.

``builder.py`` is the only code that creates these from database rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ltc_scheduler.enums import FacilityKind, OrderClass, PackagingKind


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """``[start, end]`` in minutes from local midnight; ``end`` is the latest start of service."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"time window ends ({self.end}) before it starts ({self.start})")

    def contains(self, t: int) -> bool:
        return self.start <= t <= self.end


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Depot:
    """The pharmacy: where every route starts and ends and where packaging happens."""

    id: int
    name: str
    location: GeoPoint
    address: str = ""
    open_min: int = 6 * 60
    close_min: int = 22 * 60


@dataclass(frozen=True, slots=True)
class Facility:
    id: int
    external_id: str
    name: str
    kind: FacilityKind
    location: GeoPoint
    address: str = ""
    beds: int = 0
    #: delivery windows on the plan date's weekday, sorted, non-overlapping
    windows: tuple[TimeWindow, ...] = ()
    service_fixed_min: int = 10
    service_per_tote_min: float = 1.0
    has_fridge: bool = True
    #: wings/units; large facilities get one batch per unit
    units: tuple[str, ...] = ()

    def service_minutes(self, totes: int) -> int:
        """Unloading time at this facility for ``totes`` totes (rounded up)."""
        return self.service_fixed_min + int(-(-self.service_per_tote_min * totes // 1))


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: int
    external_id: str
    facility_id: int
    unit: str
    resident_id: int
    medication_id: int
    medication_name: str
    packaging_kind: PackagingKind
    order_class: OrderClass
    cards: int
    doses: int
    controlled: bool
    cold: bool
    received_min: int
    #: latest acceptable delivery (start of service at the facility), minutes from local midnight
    need_by_min: int


@dataclass(frozen=True, slots=True)
class PackagingLine:
    id: int
    name: str
    kinds: frozenset[PackagingKind]
    cards_per_hour: int
    #: changeover when the line switches packaging kind (cleaning, new tooling)
    changeover_kind_min: int = 15
    #: changeover when the line switches facility within the same kind (labels, count sheet)
    changeover_facility_min: int = 3
    available: tuple[TimeWindow, ...] = (TimeWindow(6 * 60, 18 * 60),)
    downtime: tuple[TimeWindow, ...] = ()

    def process_minutes(self, cards: int) -> int:
        """Minutes to pack ``cards`` cards on this line (rounded up, at least 1)."""
        return max(1, -(-cards * 60 // self.cards_per_hour))

    def changeover(
        self, prev_kind: PackagingKind, prev_facility: int, next_kind: PackagingKind, next_facility: int
    ) -> int:
        """The sequence-dependent setup: a kind switch > a facility switch > none."""
        if prev_kind != next_kind:
            return self.changeover_kind_min
        if prev_facility != next_facility:
            return self.changeover_facility_min
        return 0


@dataclass(frozen=True, slots=True)
class PharmacistShift:
    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Verification:
    """Pharmacists check every card before it leaves: a cumulative resource."""

    minutes_per_card: float
    shifts: tuple[PharmacistShift, ...]

    def verify_minutes(self, cards: int) -> int:
        return max(1, int(-(-cards * self.minutes_per_card // 1)))


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: int
    name: str
    tote_capacity: int
    cold_capacity: int
    controlled_ok: bool
    shift_start: int
    shift_end: int
    max_route_min: int
    depot_id: int
    fixed_cost: int = 0
    #: an unpaid break of ``break_min`` inside ``break_window`` for shifts longer than
    #: ``Settings.break_after_shift_min``; ``None`` = no break
    break_min: int = 30
    break_window: TimeWindow | None = None
    max_trips: int = 2


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """The manager's tunables (a ConstraintSet version)."""

    version: int = 1
    time_limit_s: float = 20.0
    packing_time_limit_s: float | None = None
    routing_time_limit_s: float | None = None
    seed: int = 0
    # --- objective weights (routing: cost units are seconds of driving) ---
    vehicle_cost: int = 3600  # cost of using one more vehicle (in seconds of driving)
    late_penalty_per_min: int = 600  # routine stop served late, per minute
    unserved_penalty: int = 10_000_000  # routine stop left unserved
    stat_weight: int = 20  # packaging lateness weight of STAT batches vs routine (1)
    # --- service rules ---
    stat_promise_min: int = 240
    max_late_min: int = 120  # a routine stop may be at most this late (soft window)
    break_after_shift_min: int = 6 * 60
    # --- batching ---
    max_batch_cards: int = 120
    cards_per_tote: int = 40
    large_facility_beds: int = 120  # facilities with more beds get a batch per unit/wing
    # --- coupling loop ---
    coupling_iterations: int = 3
    #: parallel routing searches (forked processes, the best answer wins); 0 = one per core, at
    #: most 4. Default 1: on the 2-core test machine 2 workers did not find better routes on the
    #: medium or large demo day (README "Routing workers"), and a forked search inside the
    #: multi-threaded dashboard server is best avoided.
    routing_workers: int = 1
    planning_horizon_days: int = 1


@dataclass(frozen=True, slots=True)
class HeldOrders:
    """Order lines of one facility the day cannot serve, known before any solver runs (the
    facility has no delivery window that weekday, or is closed); the plan lists them unserved."""

    facility_id: int
    order_line_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    """Everything the solvers need to plan one day; immutable."""

    date: dt.date
    timezone: str
    depot: Depot
    facilities: tuple[Facility, ...]
    orders: tuple[OrderLine, ...]
    lines: tuple[PackagingLine, ...]
    verification: Verification
    vehicles: tuple[Vehicle, ...]
    settings: PlanSettings = field(default_factory=PlanSettings)
    #: re-planning: "now", minutes from local midnight; work before it is frozen
    now_min: int | None = None
    #: ids of the database rows this problem was built from (a plan records its inputs)
    snapshot: dict[str, str] = field(default_factory=dict)
    #: order lines held out of ``orders`` with the reason (no window that weekday, closed)
    held: tuple[HeldOrders, ...] = ()
    #: re-planning: order lines of this date already packed or on the road (in ``orders`` only so
    #: that their batches can be routed); the published plan's batches holding them stay as published
    progressed_line_ids: frozenset[int] = frozenset()

    def facility(self, facility_id: int) -> Facility:
        for f in self.facilities:
            if f.id == facility_id:
                return f
        raise KeyError(f"no facility with id {facility_id} in this problem")


class _HasCards(Protocol):
    @property
    def cards(self) -> int: ...


_C = TypeVar("_C", bound=_HasCards)


def split_by_cards(items: Iterable[_C], max_cards: int) -> list[list[_C]]:
    """Consecutive runs of ``items`` (in the given order) of at most ``max_cards`` cards each; an
    item larger than ``max_cards`` forms a run of its own. Order lines into batches, batches
    into packing jobs."""
    runs: list[list[_C]] = []
    run: list[_C] = []
    cards = 0
    for item in items:
        if run and cards + item.cards > max_cards:
            runs.append(run)
            run, cards = [], 0
        run.append(item)
        cards += item.cards
    if run:
        runs.append(run)
    return runs
