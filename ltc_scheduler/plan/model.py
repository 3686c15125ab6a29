"""What a planning run produces: plain, immutable result objects.

:class:`Plan` is the day's plan in **minutes from local midnight** (see ``problem/model.py``):
  batches on lines and verification, routes with stops, unserved/late stops with reasons, KPIs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ltc_scheduler.enums import OrderClass, PackagingKind


@dataclass(frozen=True, slots=True)
class Batch:
    """Order lines packed together: one facility (unit), one packaging kind, one segregation class."""

    key: str  # "B0001", unique in the plan
    facility_id: int
    unit: str
    kind: PackagingKind
    order_line_ids: tuple[int, ...]
    cards: int
    totes: int
    cold: bool
    controlled: bool
    order_class: OrderClass  # the most urgent class among its lines
    deadline_min: int  # ready-by (verified) deadline
    line_id: int | None = None
    start_min: int | None = None  # packaging start
    end_min: int | None = None  # packaging end
    verify_start_min: int | None = None
    verify_end_min: int | None = None

    @property
    def stat(self) -> bool:
        return self.order_class in (OrderClass.STAT, OrderClass.NEW_ADMISSION)

    @property
    def ready_min(self) -> int | None:
        """Verified and ready to load."""
        return self.verify_end_min


@dataclass(frozen=True, slots=True)
class PlanStop:
    seq: int  # 1-based position in the route
    facility_id: int
    arrival_min: int
    start_min: int
    departure_min: int
    totes: int
    cold_totes: int
    controlled_totes: int
    batch_keys: tuple[str, ...]
    window_start_min: int | None = None
    window_end_min: int | None = None
    late_min: int = 0
    stat: bool = False


@dataclass(frozen=True, slots=True)
class PlanRoute:
    vehicle_id: int
    trip_no: int
    depart_min: int
    return_min: int
    stops: tuple[PlanStop, ...]
    distance_m: int = 0
    drive_s: int = 0
    break_start_min: int | None = None


@dataclass(frozen=True, slots=True)
class UnservedStop:
    facility_id: int
    reason: str
    batch_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LateStop:
    facility_id: int
    minutes: int
    reason: str


@dataclass(frozen=True, slots=True)
class SolveStats:
    """One solver stage's statistics (what the dashboard shows as 'how far from optimal')."""

    stage: str
    status: str
    wall_s: float
    objective: float | None = None
    bound: float | None = None

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return abs(self.objective - self.bound) / abs(self.objective)


@dataclass(frozen=True, slots=True)
class Plan:
    date: dt.date
    batches: tuple[Batch, ...]
    routes: tuple[PlanRoute, ...]
    unserved: tuple[UnservedStop, ...] = ()
    late: tuple[LateStop, ...] = ()
    stats: tuple[SolveStats, ...] = ()
    settings_version: int = 1
    #: the stored form of the plan's figures (``PlanKpis.as_dict()``, see ``plan/kpis.py``); screens
    #: compute :func:`~ltc_scheduler.plan.kpis.plan_kpis` from the plan itself
    kpis: dict[str, float | int | str | None] = field(default_factory=dict)

    def batch(self, key: str) -> Batch:
        for b in self.batches:
            if b.key == key:
                return b
        raise KeyError(f"no batch {key!r} in this plan")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule found by the independent validator (``plan/validate*.py``).

    ``rule`` is a stable code (``"window"``, ``"capacity"``, ``"release"``, ``"line_overlap"``, ...),
    ``subject`` names what broke it (a route, a stop, a batch), ``message`` says it in words.
    ``hard`` is False for soft rules (a routine stop served late inside its allowed lateness).
    """

    rule: str
    subject: str
    message: str
    hard: bool = True

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.message}"
