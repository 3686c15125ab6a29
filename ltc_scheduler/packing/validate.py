"""Independent checker of the packaging side of a plan (batches on lines and verification).

It recomputes everything from the :class:`PlanningProblem` and never calls a solver. Rule codes
(``Violation.rule``), all hard:

=====================  ======================================================================
``unbatched``          an order line of the problem is in no batch
``duplicate_line``     an order line is in more than one batch
``unknown_line``       a batch names an order line that is not in the problem
``segregation``        a batch mixes facilities, units, packaging kinds, controlled with
                       non-controlled lines or cold with room-temperature lines
``batch_size``         a batch of several lines exceeds ``settings.max_batch_cards``
``batch_cards``        a batch's cards differ from the sum of its lines' cards
``totes``              a cold or controlled batch has fewer than ``max(1, ceil(cards / cards_per_tote))``
                       totes, or the room-temperature batches of one facility (unit) and urgency
                       have fewer totes together than ``ceil(their cards / cards_per_tote)``
``unscheduled``        a batch has no line, packaging or verification times (and is not reported
                       as not packed today)
``line_kind``          a batch is on a line that cannot make its packaging kind (or no such line)
``duration``           packaging or verification shorter than the line rate / minutes per card
                       need (minutes round up per run, not per batch: packaging per run of one
                       facility and kind packed back to back on a line, verification per session)
``line_hours``         packaging outside the line's availability windows
``downtime``           packaging overlaps the line's planned downtime
``line_overlap``       two batches overlap on a line, or the gap between them is shorter than
                       the changeover (kind switch / facility switch) the line needs
``verify_order``       verification starts before packaging ends
``received``           packaging starts before one of the batch's order lines was received
``verify_capacity``    more verification sessions at some minute than pharmacists on shift (a
                       session = the batches of one facility with the same verification start
                       and end: one pharmacist checks them together)
=====================  ======================================================================
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence

from ltc_scheduler.plan.model import Batch, Violation
from ltc_scheduler.problem.clock import fmt_min
from ltc_scheduler.problem.model import PackagingLine, PlanningProblem

__all__ = ["validate_packing", "required_changeover"]


def required_changeover(line: PackagingLine, prev: Batch, nxt: Batch) -> int:
    """Changeover a line needs between two consecutive batches (kind switch > facility switch > none)."""
    return line.changeover(prev.kind, prev.facility_id, nxt.kind, nxt.facility_id)


def _free(line: PackagingLine, a: int, b: int) -> tuple[bool, bool]:
    """(inside one availability window, clear of downtime) for packaging ``[a, b)``."""
    inside = any(w.start <= a and b <= w.end for w in line.available)
    clear = all(b <= d.start or a >= d.end for d in line.downtime)
    return inside, clear


def _chains(seq: list[Batch], same, start, end) -> list[list[Batch]]:
    """Maximal chains of consecutive batches that ``same`` groups and that follow without a gap."""
    runs: list[list[Batch]] = []
    for b in seq:
        if runs:
            a = runs[-1][-1]
            if same(a) == same(b) and start(b) == end(a):
                runs[-1].append(b)
                continue
        runs.append([b])
    return runs


def _name(run: list[Batch]) -> str:
    return run[0].key if len(run) == 1 else f"{run[0].key}..{run[-1].key}"


def _pack_durations(line: PackagingLine, seq: list[Batch]) -> list[Violation]:
    """Packaging long enough for the cards, per run of one facility and kind packed back to back."""
    out: list[Violation] = []
    for run in _chains(seq, lambda b: (b.facility_id, b.kind), lambda b: b.start_min, lambda b: b.end_min):
        cards = sum(b.cards for b in run)
        packed = run[-1].end_min - run[0].start_min  # type: ignore[operator]
        need = line.process_minutes(cards)
        if packed < need:
            out.append(
                Violation(
                    "duration",
                    _name(run),
                    f"{cards} cards packed in {packed} min on {line.name}, needs {need}",
                )
            )
    return out


def verification_sessions(batches: Sequence[Batch]) -> list[list[Batch]]:
    """Batches checked together: one facility, the same verification start and end."""
    groups: dict[tuple[int, int, int], list[Batch]] = defaultdict(list)
    for b in batches:
        groups[(b.facility_id, b.verify_start_min, b.verify_end_min)].append(b)  # type: ignore[index]
    return [sorted(g, key=lambda b: b.key) for _, g in sorted(groups.items())]


def _verify_durations(problem: PlanningProblem, sessions: list[list[Batch]]) -> list[Violation]:
    """Each session long enough for its cards (minutes per card, rounded up per session)."""
    out: list[Violation] = []
    for run in sessions:
        cards = sum(b.cards for b in run)
        checked = run[0].verify_end_min - run[0].verify_start_min  # type: ignore[operator]
        need = problem.verification.verify_minutes(cards)
        if checked < need:
            out.append(
                Violation("duration", _name(run), f"{cards} cards verified in {checked} min, needs {need}")
            )
    return out


def validate_packing(
    problem: PlanningProblem, batches: Sequence[Batch], *, unpacked: Collection[str] = ()
) -> list[Violation]:
    """Every broken packaging rule (empty list = the schedule is feasible and consistent).

    ``unpacked``: keys of batches the plan reports as not packed today (with a reason); they may
    have no line and no times.
    """
    out: list[Violation] = []
    s = problem.settings
    orders = {o.id: o for o in problem.orders}
    facilities = {f.id: f for f in problem.facilities}
    lines = {ln.id: ln for ln in problem.lines}

    # ------------------------------------------------------------ coverage and segregation
    seen: Counter[int] = Counter()
    tote_groups: dict[tuple[int, str, bool], list[int]] = {}
    for b in batches:
        seen.update(b.order_line_ids)
        members = [orders[i] for i in b.order_line_ids if i in orders]
        for i in b.order_line_ids:
            if i not in orders:
                out.append(Violation("unknown_line", b.key, f"order line {i} is not in the problem"))
        if not b.order_line_ids:
            out.append(Violation("segregation", b.key, "batch has no order lines"))
        fac = facilities.get(b.facility_id)
        large = fac is not None and fac.beds > s.large_facility_beds
        for o in members:
            bad = []
            if o.facility_id != b.facility_id:
                bad.append(f"facility {o.facility_id} != {b.facility_id}")
            if o.packaging_kind != b.kind:
                bad.append(f"kind {o.packaging_kind} != {b.kind}")
            if o.controlled != b.controlled:
                bad.append(
                    "controlled line in a non-controlled batch"
                    if o.controlled
                    else "non-controlled line in a controlled batch"
                )
            if o.cold != b.cold:
                bad.append(
                    "cold line in a room-temperature batch"
                    if o.cold
                    else "room-temperature line in a cold batch"
                )
            if large and b.unit and o.unit != b.unit:
                bad.append(f"unit {o.unit!r} != {b.unit!r}")
            if bad:
                out.append(Violation("segregation", b.key, f"order line {o.external_id}: " + "; ".join(bad)))
        cards = sum(o.cards for o in members)
        if members and cards != b.cards:
            out.append(Violation("batch_cards", b.key, f"batch says {b.cards} cards, its lines have {cards}"))
        if len(members) > 1 and cards > s.max_batch_cards:
            out.append(
                Violation(
                    "batch_size",
                    b.key,
                    f"{cards} cards in {len(members)} lines exceed the maximum {s.max_batch_cards}",
                )
            )
        if b.cold or b.controlled:
            need_totes = max(1, -(-b.cards // s.cards_per_tote))
            if b.totes < need_totes:
                out.append(
                    Violation(
                        "totes",
                        b.key,
                        f"{b.totes} totes for {b.cards} segregated cards (needs {need_totes} of its own)",
                    )
                )
        else:
            shared = tote_groups.setdefault((b.facility_id, b.unit, b.stat), [0, 0])
            shared[0] += b.cards
            shared[1] += b.totes
    for (fid, unit, stat), (cards, totes) in sorted(tote_groups.items()):
        need_totes = -(-cards // s.cards_per_tote)
        if totes < need_totes:
            out.append(
                Violation(
                    "totes",
                    f"facility {fid} {unit} {'urgent' if stat else 'routine'}".replace("  ", " "),
                    f"{totes} totes for {cards} room-temperature cards (needs {need_totes})",
                )
            )
    for oid, o in orders.items():
        if seen[oid] == 0:
            out.append(Violation("unbatched", o.external_id, "order line is in no batch"))
        elif seen[oid] > 1:
            out.append(Violation("duplicate_line", o.external_id, f"order line is in {seen[oid]} batches"))

    # ------------------------------------------------------------ lines
    on_line: dict[int, list[Batch]] = defaultdict(list)
    verify: list[Batch] = []
    for b in batches:
        if None in (b.line_id, b.start_min, b.end_min, b.verify_start_min, b.verify_end_min):
            if b.key in unpacked and b.line_id is None:
                continue
            out.append(
                Violation("unscheduled", b.key, "batch has no line or no packaging/verification times")
            )
            continue
        line = lines.get(b.line_id)  # type: ignore[arg-type]
        if line is None or b.kind not in line.kinds:
            name = line.name if line else f"line {b.line_id}"
            out.append(Violation("line_kind", b.key, f"{name} cannot make {b.kind}"))
            continue
        if b.end_min < b.start_min or b.verify_end_min < b.verify_start_min:  # type: ignore[operator]
            out.append(Violation("duration", b.key, "a batch ends before it starts"))
        inside, clear = _free(line, b.start_min, b.end_min)  # type: ignore[arg-type]
        if not inside:
            out.append(
                Violation(
                    "line_hours",
                    b.key,
                    f"{line.name} packs it {fmt_min(b.start_min)}-"
                    f"{fmt_min(b.end_min)}, outside the line's hours",
                )
            )
        if not clear:
            out.append(
                Violation(
                    "downtime",
                    b.key,
                    f"{line.name} packs it {fmt_min(b.start_min)}-"
                    f"{fmt_min(b.end_min)}, during planned downtime",
                )
            )
        if b.verify_start_min < b.end_min:  # type: ignore[operator]
            out.append(
                Violation(
                    "verify_order",
                    b.key,
                    f"verification starts {fmt_min(b.verify_start_min)} "
                    f"before packaging ends {fmt_min(b.end_min)}",
                )
            )
        got = max((orders[i].received_min for i in b.order_line_ids if i in orders), default=None)
        if got is not None and b.start_min < got:  # type: ignore[operator]
            out.append(
                Violation(
                    "received",
                    b.key,
                    f"packed from {fmt_min(b.start_min)}, but an order line "
                    f"of it was received at {fmt_min(got)}",
                )
            )
        on_line[line.id].append(b)
        verify.append(b)
    for lid, seq in on_line.items():
        line = lines[lid]
        seq.sort(key=lambda b: (b.start_min, b.end_min, b.verify_start_min, b.verify_end_min, b.key))
        out.extend(_pack_durations(line, seq))
        for a, b in zip(seq, seq[1:], strict=False):
            gap = b.start_min - a.end_min  # type: ignore[operator]
            need = required_changeover(line, a, b)
            if gap < need:
                what = "overlaps" if gap < 0 else f"starts {gap} min after"
                out.append(
                    Violation(
                        "line_overlap",
                        f"{a.key}->{b.key}",
                        f"on {line.name} {b.key} {what} {a.key} ends; needs {need} min changeover",
                    )
                )

    # ------------------------------------------------------------ verification capacity
    sessions = verification_sessions(verify)
    out.extend(_verify_durations(problem, sessions))
    events: dict[int, int] = defaultdict(int)
    for run in sessions:  # one pharmacist per session
        if run[0].verify_end_min > run[0].verify_start_min:  # type: ignore[operator]
            events[run[0].verify_start_min] += 1  # type: ignore[index]
            events[run[0].verify_end_min] -= 1  # type: ignore[index]
    for sh in problem.verification.shifts:
        events.setdefault(sh.start, 0)
        events.setdefault(sh.end, 0)
    load = 0
    reported = 0
    for t in sorted(events):
        load += events[t]
        if load <= 0:
            continue
        cap = sum(1 for sh in problem.verification.shifts if sh.start <= t < sh.end)
        if load > cap and reported < 20:
            reported += 1
            out.append(
                Violation(
                    "verify_capacity",
                    fmt_min(t),
                    f"{load} verification sessions at {fmt_min(t)} with {cap} pharmacist(s) on shift",
                )
            )
    return out
