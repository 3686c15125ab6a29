"""The day's figures, each defined once: :class:`PlanKpis` and :func:`plan_kpis`.

The ``plan --json`` summary, the dashboard's tiles, the Compare page and the tests all read these
numbers; none of them counts anything itself. Figures are rounded here, to the precision they are
reported in, so every screen shows the same number.

On time, as a pharmacy counts it: a **stop** is one delivery to a facility (a route stop, or an
entry of the plan's unserved list: a stop no route could make, or batches not packed today). A
delivered stop is on time when it arrives inside its delivery window (or, for a STAT stop, by its
promise): ``late_min == 0``. A stop that is not delivered is not on time. So::

    on-time % = stops delivered on time / (stops delivered + stops not delivered)

A day with nothing to deliver has no on-time figure (``None``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ltc_scheduler.plan.model import Plan

__all__ = ["PlanKpis", "plan_kpis"]


@dataclass(frozen=True, slots=True)
class PlanKpis:
    """The headline numbers of one plan (see the module docstring for on-time)."""

    #: order lines in the plan's batches (packed or not)
    orders: int
    #: medication cards in the plan's batches
    cards: int
    #: packaging batches
    batches: int
    #: packaging lines with at least one batch
    lines_used: int
    #: batches holding a STAT or new-admission order line
    stat_batches: int
    #: batches ready (verified) after their ready-by deadline
    late_batches: int
    #: vehicle trips with at least one stop
    routes: int
    #: vehicles with at least one trip
    vehicles: int
    #: route stops (deliveries planned)
    stops: int
    #: route stops that arrive after their window / promise (``late_min > 0``)
    late_stops: int
    #: minutes late, summed over the late stops
    late_min: int
    #: stops not delivered: the plan's unserved entries (no route could make them, or not packed today)
    unserved: int
    #: stops on time / (route stops + unserved), in %, one decimal; None when there is nothing to deliver
    on_time_pct: float | None
    #: distance driven by all routes, km, one decimal
    driving_km: float
    #: time spent driving by all routes (waiting and service excluded), hours, two decimals
    driving_hours: float
    #: first packaging start (minutes from midnight), None when nothing is packed
    packaging_start: int | None
    #: last batch ready (verified; packed when it needs no verification), None when nothing is packed
    packaging_end: int | None
    #: packaging makespan: ``packaging_end - packaging_start`` in minutes, None when nothing is packed
    makespan_min: int | None
    #: seconds the solvers ran, summed over the stages, one decimal
    solve_s: float
    #: optimality gap: the largest gap any solver stage reports (``SolveStats.gap``, 0..1), None if none
    gap: float | None
    #: each stage's solver status, "packing optimal, routing ..."
    status: str

    def as_dict(self) -> dict[str, float | int | str | None]:
        """The stored and JSON form: the field names above, plus the keys older plan records used
        (``driving_hours``, ``packaging_makespan_min``, ``late`` = late stops)."""
        out: dict[str, float | int | str | None] = asdict(self)
        out["packaging_makespan_min"] = self.makespan_min or 0
        out["late"] = self.late_stops
        return out


def _ready(b) -> int | None:
    return b.verify_end_min if b.verify_end_min is not None else b.end_min


def plan_kpis(plan: Plan) -> PlanKpis:
    """Every figure of ``plan``, computed from its batches, routes, unserved list and solver stats."""
    stops = [s for r in plan.routes for s in r.stops]
    late = [s for s in stops if s.late_min > 0]
    to_deliver = len(stops) + len(plan.unserved)
    starts = [b.start_min for b in plan.batches if b.start_min is not None]
    ends = [e for e in (_ready(b) for b in plan.batches) if e is not None]
    gaps = [g for g in (s.gap for s in plan.stats) if g is not None]
    start = min(starts) if starts else None
    end = max(ends) if ends else None
    return PlanKpis(
        orders=len({i for b in plan.batches for i in b.order_line_ids}),
        cards=sum(b.cards for b in plan.batches),
        batches=len(plan.batches),
        lines_used=len({b.line_id for b in plan.batches if b.line_id is not None}),
        stat_batches=sum(1 for b in plan.batches if b.stat),
        late_batches=sum(1 for b in plan.batches if b.ready_min is not None and b.ready_min > b.deadline_min),
        routes=sum(1 for r in plan.routes if r.stops),
        vehicles=len({r.vehicle_id for r in plan.routes if r.stops}),
        stops=len(stops),
        late_stops=len(late),
        late_min=sum(s.late_min for s in late),
        unserved=len(plan.unserved),
        on_time_pct=round(100.0 * (len(stops) - len(late)) / to_deliver, 1) if to_deliver else None,
        driving_km=round(sum(r.distance_m for r in plan.routes) / 1000.0, 1),
        driving_hours=round(sum(r.drive_s for r in plan.routes) / 3600.0, 2),
        packaging_start=start,
        packaging_end=end,
        makespan_min=end - start if start is not None and end is not None else None,
        solve_s=round(sum(s.wall_s for s in plan.stats), 1),
        gap=max(gaps) if gaps else None,
        status=", ".join(f"{s.stage} {s.status.lower()}" for s in plan.stats),
    )
