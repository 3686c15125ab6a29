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


class PlanStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


#: Order classes whose promise is a hard deadline (first doses must arrive in time).
URGENT_CLASSES: frozenset[OrderClass] = frozenset({OrderClass.STAT, OrderClass.NEW_ADMISSION})
