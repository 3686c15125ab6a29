"""Is a published plan still the plan of record? What changed in its order lines since it was made.

A plan goes stale when, after it was made:

* order lines it had placed were **cancelled** (or put on **exception**): the totes it packs for
  them must not go out;
* **urgent** lines (STAT, new admission / first dose) for its date arrived that it does not hold:
  someone must re-plan to get them packed and delivered in time.

Reads only (the caller owns the session); the dashboard's Today page shows the sentences.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ltc_scheduler.db import plans
from ltc_scheduler.db.models import Facility, OrderLine, PlanBatch, PlanRun
from ltc_scheduler.db.repository import local_day_bounds_utc
from ltc_scheduler.enums import URGENT_CLASSES, OrderClass, OrderStatus

__all__ = ["PlanChanges", "plan_changes"]


@dataclass(frozen=True, slots=True)
class PlanChanges:
    """Order lines that changed under a published plan (external ids, by kind)."""

    cancelled: tuple[str, ...] = ()
    exception: tuple[str, ...] = ()
    new_urgent: tuple[str, ...] = ()
    #: one sentence per kind of change, naming the facilities
    sentences: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.cancelled or self.exception or self.new_urgent)


def _per_facility(names: list[str]) -> str:
    counts = Counter(names)
    return ", ".join(f"{n} ({c})" if c > 1 else n for n, c in sorted(counts.items()))


def plan_changes(session: Session, *, plan_run_id: int) -> PlanChanges:
    """What changed in the order lines of run ``plan_run_id``'s date since the run was made."""
    run = session.get(PlanRun, plan_run_id)
    if run is None or run.id is None:
        return PlanChanges()
    placed = plans.placed_order_line_ids(session, plan_run_id=run.id)
    in_plan: set[int] = set()
    for ids in session.exec(select(PlanBatch.order_line_ids).where(PlanBatch.plan_run_id == run.id)):
        in_plan.update(int(i) for i in ids or [])
    fac_name = {f.id: f.name for f in session.exec(select(Facility))}

    gone: dict[OrderStatus, list[tuple[str, str]]] = {OrderStatus.CANCELLED: [], OrderStatus.EXCEPTION: []}
    ordered = sorted(placed)
    for start in range(0, len(ordered), 5000):
        for ext, fid, status in session.exec(
            select(OrderLine.external_id, OrderLine.facility_id, OrderLine.status).where(
                col(OrderLine.id).in_(ordered[start : start + 5000]),
                col(OrderLine.status).in_([OrderStatus.CANCELLED.value, OrderStatus.EXCEPTION.value]),
            )
        ):
            gone[OrderStatus(status)].append((ext, fac_name.get(fid, str(fid))))

    _, end = local_day_bounds_utc(run.date, run.timezone or "UTC")
    new_urgent: list[tuple[str, str, str]] = []
    for oid, ext, fid, cls in session.exec(
        select(OrderLine.id, OrderLine.external_id, OrderLine.facility_id, OrderLine.order_class).where(
            col(OrderLine.order_class).in_([c.value for c in URGENT_CLASSES]),
            col(OrderLine.status) == OrderStatus.OPEN.value,
            col(OrderLine.created_at) > run.created_at,
            col(OrderLine.need_by) < end,
            col(OrderLine.received_at) < end,
        )
    ):
        if oid not in in_plan:
            new_urgent.append((ext, fac_name.get(fid, str(fid)), OrderClass(cls).value))

    sentences = []
    for status, verb in (
        (OrderStatus.CANCELLED, "were cancelled"),
        (OrderStatus.EXCEPTION, "were put on exception"),
    ):
        rows = gone[status]
        if rows:
            sentences.append(
                f"{len(rows)} order line(s) this plan packs {verb} since it was made: "
                f"{_per_facility([n for _, n in rows])}."
            )
    if new_urgent:
        sentences.append(
            f"{len(new_urgent)} new STAT / first-dose order line(s) arrived after the plan was made and are "
            f"not in it: {_per_facility([n for _, n, _ in new_urgent])}. Re-plan to pack and deliver them."
        )
    return PlanChanges(
        cancelled=tuple(sorted(e for e, _ in gone[OrderStatus.CANCELLED])),
        exception=tuple(sorted(e for e, _ in gone[OrderStatus.EXCEPTION])),
        new_urgent=tuple(sorted(e for e, _, _ in new_urgent)),
        sentences=tuple(sentences),
    )
