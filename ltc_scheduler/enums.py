"""Vocabulary shared by every layer (DB rows, problem objects, plans, UI).

Plain ``StrEnum``s with no dependencies, so ``problem/`` and ``db/`` can both import them.
"""

from __future__ import annotations

from enum import StrEnum


class FacilityKind(StrEnum):
    SKILLED_NURSING = "skilled_nursing"
    NURSING_FACILITY = "nursing_facility"
    ASSISTED_LIVING = "assisted_living"


class ControlledSchedule(StrEnum):
    NONE = "none"
    CII = "II"
    CIII = "III"
    CIV = "IV"
    CV = "V"


class PackagingKind(StrEnum):
    MULTI_DOSE_BLISTER = "multi_dose_blister"
    UNIT_DOSE_CARD = "unit_dose_card"
    STRIP_POUCH = "strip_pouch"
    VIAL_BOTTLE = "vial_bottle"


class OrderClass(StrEnum):
    CYCLE_FILL = "cycle_fill"
    NEW_ADMISSION = "new_admission"
    STAT = "stat"  # first dose / STAT, delivered within its promise (e.g. 4 h after receipt)
    REFILL = "refill"
    PRN = "prn"
    EKIT_RESTOCK = "ekit_restock"


class OrderStatus(StrEnum):
    """An order line's life: ``open -> planned -> packed -> out_for_delivery -> delivered``, or
    ``cancelled``, or ``exception`` (held: the pharmacy must look at it before anything moves).

    The planner takes ``open`` lines and the ``planned`` lines of the date it plans; see
    :data:`ORDER_LIFE` and ``problem/builder.py``.
    """

    OPEN = "open"
    PLANNED = "planned"
    PACKED = "packed"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXCEPTION = "exception"


#: the forward path of an order line (``cancelled`` and ``exception`` stand beside it)
ORDER_LIFE: tuple[OrderStatus, ...] = (
    OrderStatus.OPEN,
    OrderStatus.PLANNED,
    OrderStatus.PACKED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
)

#: statuses the planner never takes: the line is on the floor, on the road, done or withdrawn
DONE_STATUSES: frozenset[OrderStatus] = frozenset(
    {
        OrderStatus.PACKED,
        OrderStatus.OUT_FOR_DELIVERY,
        OrderStatus.DELIVERED,
        OrderStatus.CANCELLED,
        OrderStatus.EXCEPTION,
    }
)


def status_change_problem(old: OrderStatus | None, new: OrderStatus) -> str | None:
    """Why an order line cannot go from ``old`` (``None``: a new line) to ``new``, or ``None``.

    A pharmacy system moves lines along :data:`ORDER_LIFE` (forward, skipping steps is fine), or to
    ``cancelled`` / ``exception`` from anything not yet delivered. ``open`` is reached again only
    from ``exception`` or ``cancelled`` (released / reinstated). ``planned`` is set by publishing a
    plan, never by hand; ``delivered`` is final. Setting the status a line already has is no change.
    """
    if old == new:
        return None
    if new == OrderStatus.PLANNED:
        return "'planned' is set when a plan is published; use open, packed, out_for_delivery, ..."
    if old is None:
        return None
    if old == OrderStatus.DELIVERED:
        return "it is delivered already; a delivered line does not change"
    if new in (OrderStatus.CANCELLED, OrderStatus.EXCEPTION):
        return None
    if new == OrderStatus.OPEN:
        if old in (OrderStatus.EXCEPTION, OrderStatus.CANCELLED):
            return None
        return f"it is {old.value}; only an exception or a cancelled line goes back to open"
    if old == OrderStatus.CANCELLED:
        return "it is cancelled; set it to open first to reinstate it"
    if old == OrderStatus.EXCEPTION or ORDER_LIFE.index(new) > ORDER_LIFE.index(old):
        return None
    return (
        f"it is {old.value} already; statuses only move forward ({' -> '.join(s.value for s in ORDER_LIFE)})"
    )


class PlanStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


#: Order classes whose promise is a hard deadline (first doses must arrive in time).
URGENT_CLASSES: frozenset[OrderClass] = frozenset({OrderClass.STAT, OrderClass.NEW_ADMISSION})
