"""The whole-plan rules that neither half can check alone: how packaging and delivery fit together.

Checked on the plan itself (minutes from local midnight); never calls a solver. The packaging and
routing halves have their own validators (``packing/validate.py``, ``routing/validate.py``);
``planning/validate.py`` runs all three.

===================  ===========================================================================
``ready``            a stop's batch is verified after the stop's vehicle leaves the pharmacy
``stop_totes``       a stop's totes (cold, controlled) differ from the sum of its batches' totes
``stop_facility``    a stop carries a batch of another facility
``unknown_batch``    a stop or unserved entry names a batch that is not in the plan
``batch_delivery``   a batch is on no stop and not reported unserved, or on more than one stop
``repeat_visit``     a trip stops at the same facility twice in a row (deliveries to one facility on
                     one trip are one stop: one arrival, one service for all its totes)
===================  ===========================================================================
"""

from __future__ import annotations

from collections import Counter

from ltc_scheduler.plan.model import Plan, Violation
from ltc_scheduler.problem.clock import fmt_min

__all__ = ["validate_coupling"]


def validate_coupling(plan: Plan) -> list[Violation]:
    """Packaging-to-delivery rules: ready before departure, totes of a stop = totes of its batches."""
    out: list[Violation] = []
    batches = {b.key: b for b in plan.batches}
    delivered: Counter[str] = Counter()
    for route in plan.routes:
        name = f"vehicle {route.vehicle_id} trip {route.trip_no}"
        ordered = sorted(route.stops, key=lambda s: s.seq)
        for prev, stop in zip(ordered, ordered[1:], strict=False):
            if prev.facility_id == stop.facility_id:
                out.append(
                    Violation(
                        "repeat_visit",
                        f"{name} stop {stop.seq} (facility {stop.facility_id})",
                        f"stops {prev.seq} and {stop.seq} are both at facility {stop.facility_id}; "
                        "deliveries to one facility on one trip are one stop",
                        # left only when one arrival could not keep both (see routing/validate.py)
                        hard=False,
                    )
                )
        for stop in route.stops:
            subject = f"{name} stop {stop.seq} (facility {stop.facility_id})"
            totes = cold = controlled = 0
            for key in stop.batch_keys:
                b = batches.get(key)
                if b is None:
                    out.append(Violation("unknown_batch", subject, f"batch {key} is not in the plan"))
                    continue
                delivered[key] += 1
                totes += b.totes
                cold += b.totes if b.cold else 0
                controlled += b.totes if b.controlled else 0
                if b.facility_id != stop.facility_id:
                    out.append(
                        Violation(
                            "stop_facility", subject, f"batch {key} belongs to facility {b.facility_id}"
                        )
                    )
                if b.ready_min is None or b.ready_min > route.depart_min:
                    out.append(
                        Violation(
                            "ready",
                            subject,
                            f"batch {key} is verified at {fmt_min(b.ready_min)} but the vehicle leaves "
                            f"at {fmt_min(route.depart_min)}",
                        )
                    )
            if (totes, cold, controlled) != (stop.totes, stop.cold_totes, stop.controlled_totes):
                out.append(
                    Violation(
                        "stop_totes",
                        subject,
                        f"stop says {stop.totes} totes ({stop.cold_totes} cold, "
                        f"{stop.controlled_totes} controlled), "
                        f"its batches have {totes} ({cold} cold, {controlled} controlled)",
                    )
                )
    reported: Counter[str] = Counter()
    for u in plan.unserved:
        for key in u.batch_keys:
            if key not in batches:
                out.append(
                    Violation("unknown_batch", f"unserved facility {u.facility_id}", f"batch {key} unknown")
                )
            reported[key] += 1
    for key in batches:
        n = delivered[key]
        if n > 1:
            out.append(Violation("batch_delivery", key, f"batch is on {n} stops"))
        elif n == 0 and reported[key] == 0:
            out.append(Violation("batch_delivery", key, "batch is on no stop and not reported unserved"))
        elif n == 1 and reported[key]:
            out.append(Violation("batch_delivery", key, "batch is delivered and also reported unserved"))
    return out
