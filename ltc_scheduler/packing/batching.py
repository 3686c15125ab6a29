"""Group the day's order lines into packaging batches, the way an LTC pharmacy packs.

A batch is one facility (one unit/wing for facilities with more than
``settings.large_facility_beds`` beds), one packaging kind and one segregation class:

* controlled-substance lines never share a batch with other lines (own tote, own count sheet);
* refrigerated (cold) lines never share a batch with room-temperature lines (cooler tote);
* urgent lines (STAT / new admission) are batched apart from routine lines, so that a first dose
  does not wait for a cycle fill; urgent lines received more than :data:`URGENT_WAVE_MIN` minutes
  apart are batched apart too (each arrival has its own promise).

Groups larger than ``settings.max_batch_cards`` are split (lines sorted by need-by, then id; a
single line larger than the maximum is a batch of its own, lines are never cut in two).
Totes: a cold or controlled batch has ``max(1, ceil(cards / settings.cards_per_tote))`` totes of
its own; the room-temperature batches of one facility (unit) and urgency share totes:
``ceil(their cards / cards_per_tote)`` in all, each batch counting the totes it opens (0 when it
rides in the previous batch's tote).

Ready-by deadlines (minutes from local midnight, when the batch must be packed *and verified*):

* urgent batches: earliest need-by of its lines - direct travel time from the pharmacy -
  :data:`LOAD_MARGIN_MIN`;
* routine batches: the facility's first delivery window that can still be reached (its end is at
  least the earliest time the batch could be ready plus travel): that window's start - travel -
  :data:`LOAD_MARGIN_MIN`, never later than the lines' need-by - travel - margin, and never
  earlier than the earliest moment the batch could possibly be ready (so a deadline is never
  impossible by construction). Facilities without windows use need-by only. The routine batches
  of a facility travel together (one stop), so "the earliest moment" is that of the last of them,
  counting when its order lines were received: a refill received at 10:30 sends the facility's
  routine delivery to the afternoon window instead of asking the lines for an impossible morning.

Keys are ``B0001``, ``B0002``, ... in a deterministic order (facility id, unit, kind, class).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from ltc_scheduler.enums import OrderClass, PackagingKind
from ltc_scheduler.plan.model import Batch
from ltc_scheduler.problem.model import Facility, GeoPoint, OrderLine, PlanningProblem, split_by_cards

#: minutes reserved between "verified" and "vehicle can leave" (loading the tote, paperwork)
LOAD_MARGIN_MIN = 15

#: how urgent an order class is (0 = most urgent); a batch takes its most urgent line's class
CLASS_RANK: dict[OrderClass, int] = {
    OrderClass.STAT: 0,
    OrderClass.NEW_ADMISSION: 1,
    OrderClass.EKIT_RESTOCK: 2,
    OrderClass.PRN: 3,
    OrderClass.REFILL: 4,
    OrderClass.CYCLE_FILL: 5,
}

URGENT = (OrderClass.STAT, OrderClass.NEW_ADMISSION)

#: urgent lines of one facility and kind received more than this many minutes apart are batched
#: apart (each arrival wave is its own delivery promise)
URGENT_WAVE_MIN = 60

#: fallback travel estimate when no travel matrix is given: great circle x detour at this speed
_FALLBACK_DETOUR = 1.3
_FALLBACK_KMH = 40.0

_KIND_ORDER = {k: i for i, k in enumerate(PackagingKind)}


def haversine_minutes(a: GeoPoint, b: GeoPoint) -> int:
    """A rough road time (rounded up) used only when the caller gives no travel matrix."""
    r = 6_371.0088
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * r * math.asin(min(1.0, math.sqrt(h))) * _FALLBACK_DETOUR
    return math.ceil(km / _FALLBACK_KMH * 60)


def facility_travel_minutes(problem: PlanningProblem) -> dict[int, int]:
    """Direct pharmacy -> facility minutes by the fallback estimate."""
    return {f.id: haversine_minutes(problem.depot.location, f.location) for f in problem.facilities}


def batch_unit(facility: Facility, unit: str, large_beds: int) -> str:
    """The unit a line is batched under: its own unit in a large facility, '' otherwise."""
    return unit if facility.beds > large_beds else ""


def routine_deadline(facility: Facility, *, travel_min: int, earliest_ready: int, need_by: int | None) -> int:
    """Ready-by of a routine batch (see the module docstring)."""
    cap = need_by - travel_min - LOAD_MARGIN_MIN if need_by is not None else None
    target: int | None = None
    for w in facility.windows:
        if w.end - travel_min >= earliest_ready:
            target = w.start - travel_min - LOAD_MARGIN_MIN
            break
    if target is None:
        target = cap if cap is not None else earliest_ready
    if cap is not None:
        target = min(target, cap)
    return max(target, earliest_ready)


def _earliest_ready(
    problem: PlanningProblem, kind: PackagingKind, cards: int, received: int | None = None
) -> int:
    """The earliest moment a batch of ``cards`` cards of ``kind``, whose last order line was
    received at ``received``, could be verified."""
    best: int | None = None
    for line in problem.lines:
        if kind not in line.kinds or not line.available:
            continue
        start = min(w.start for w in line.available)
        if problem.now_min is not None:
            start = max(start, problem.now_min)
        if received is not None:
            start = max(start, received)
        t = start + line.process_minutes(cards)
        best = t if best is None else min(best, t)
    if best is None:
        best = problem.depot.open_min
    shift_start = min((s.start for s in problem.verification.shifts), default=best)
    return max(best, shift_start) + problem.verification.verify_minutes(cards)


def _arrival_waves(lines: list[OrderLine]) -> list[list[OrderLine]]:
    """Urgent lines in arrival waves: a new wave when a line arrives more than
    :data:`URGENT_WAVE_MIN` after the wave's first one (a STAT received at 13:00 does not hold back
    the one received at 07:00). Each wave keeps the need-by order."""
    waves: list[list[OrderLine]] = []
    for ln in sorted(lines, key=lambda ln: (ln.received_min, ln.id)):
        if waves and ln.received_min - waves[-1][0].received_min <= URGENT_WAVE_MIN:
            waves[-1].append(ln)
        else:
            waves.append([ln])
    return [sorted(w, key=lambda ln: (ln.need_by_min, ln.id)) for w in waves]


def form_batches(
    problem: PlanningProblem,
    *,
    travel_minutes: Mapping[int, int] | None = None,
    orders: Iterable[OrderLine] | None = None,
    key_start: int = 1,
) -> list[Batch]:
    """Batches for ``orders`` (default: all the problem's order lines), keyed ``B{n:04d}`` from ``key_start``.

    ``travel_minutes`` maps facility id -> direct minutes from the pharmacy (default: a great-circle
    estimate); the pipeline passes the travel matrix's figures.
    """
    s = problem.settings
    travel = dict(travel_minutes) if travel_minutes is not None else facility_travel_minutes(problem)
    facilities = {f.id: f for f in problem.facilities}
    groups: dict[tuple, list[OrderLine]] = defaultdict(list)
    for ln in problem.orders if orders is None else orders:
        fac = facilities.get(ln.facility_id)
        if fac is None:
            raise KeyError(f"order line {ln.external_id} names facility {ln.facility_id}, not in the problem")
        urgent = ln.order_class in URGENT
        unit = batch_unit(fac, ln.unit, s.large_facility_beds)
        key = (
            ln.facility_id,
            unit,
            _KIND_ORDER[ln.packaging_kind],
            ln.packaging_kind,
            ln.controlled,
            ln.cold,
            not urgent,
        )
        groups[key].append(ln)

    chunks: list[tuple[tuple, list[OrderLine]]] = []
    # the routine batches of a facility travel together (one stop): they aim at the first window
    # that the last of them can still reach (received late in the morning -> the afternoon window)
    fac_ready: dict[int, int] = {}
    for key in sorted(groups, key=lambda k: k[:3] + k[4:]):
        lines = sorted(groups[key], key=lambda ln: (ln.need_by_min, ln.id))
        arrivals = [lines] if key[6] else _arrival_waves(lines)
        for chunk in (c for wave in arrivals for c in split_by_cards(wave, s.max_batch_cards)):
            chunks.append((key, chunk))
            if key[6]:
                got = max(ln.received_min for ln in chunk)
                ready = _earliest_ready(problem, key[3], sum(ln.cards for ln in chunk), got)
                fac_ready[key[0]] = max(fac_ready.get(key[0], ready), ready)
    batches: list[Batch] = []
    n = key_start
    for key, chunk in chunks:
        fac_id, unit, _, kind, controlled, cold, routine = key
        fac = facilities[fac_id]
        tr = travel.get(fac_id, 0)
        cards = sum(ln.cards for ln in chunk)
        order_class = min((ln.order_class for ln in chunk), key=lambda c: CLASS_RANK[c])
        need_by = min(ln.need_by_min for ln in chunk)
        if routine:
            deadline = routine_deadline(fac, travel_min=tr, earliest_ready=fac_ready[fac_id], need_by=need_by)
        else:
            deadline = need_by - tr - LOAD_MARGIN_MIN
        batches.append(
            Batch(
                key=f"B{n:04d}",
                facility_id=fac_id,
                unit=unit,
                kind=kind,
                order_line_ids=tuple(ln.id for ln in chunk),
                cards=cards,
                totes=max(1, -(-cards // s.cards_per_tote)),
                cold=cold,
                controlled=controlled,
                order_class=order_class,
                deadline_min=deadline,
            )
        )
        n += 1
    return share_totes(batches, s.cards_per_tote)


def share_totes(batches: list[Batch], cards_per_tote: int) -> list[Batch]:
    """Room-temperature batches of one facility (unit) and urgency fill totes together.

    Their totes are ``ceil(cards / cards_per_tote)`` for the group; each batch counts the totes it
    opens (so a small batch riding in the previous batch's tote has 0). Cold and controlled
    batches keep totes of their own.
    """
    filled: dict[tuple[int, str, bool], int] = {}
    out: list[Batch] = []
    for b in batches:
        if b.cold or b.controlled:
            out.append(b)
            continue
        g = (b.facility_id, b.unit, b.stat)
        before = filled.get(g, 0)
        after = before + b.cards
        filled[g] = after
        totes = -(-after // cards_per_tote) - -(-before // cards_per_tote)
        out.append(replace(b, totes=totes))
    return out
