"""The packaging validator catches each broken rule (and passes a correct schedule)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import FAST, MDB, UDC, line, make_problem, order

from ltc_scheduler.packing.batching import form_batches
from ltc_scheduler.packing.solve import solve_packing
from ltc_scheduler.packing.validate import validate_packing


@pytest.fixture(scope="module")
def solved():
    orders = [
        order(1, 1, cards=30),
        order(2, 1, cards=30, controlled=True),
        order(3, 2, cards=30, cold=True),
        order(4, 2, cards=40, kind=UDC),
        order(5, 3, cards=50),
    ]
    p = make_problem(
        orders,
        lines=(line(1, (MDB, UDC), rate=120, downtime=((12 * 60, 13 * 60),)), line(2, (MDB,), rate=60)),
        shifts=((6 * 60, 18 * 60),),
        minutes_per_card=0.5,
    )
    res = solve_packing(p, form_batches(p), FAST)
    return p, list(res.batches)


def rules(p, bs):
    return sorted({v.rule for v in validate_packing(p, bs)})


def swap(bs, key, **changes):
    return [replace(b, **changes) if b.key == key else b for b in bs]


def test_a_correct_schedule_passes(solved):
    p, bs = solved
    assert validate_packing(p, bs) == []


def test_segregation_mixing_controlled_is_caught(solved):
    p, bs = solved
    ctl = next(b for b in bs if b.controlled)
    plain = next(b for b in bs if b.facility_id == ctl.facility_id and not b.controlled)
    merged = replace(
        plain, order_line_ids=plain.order_line_ids + ctl.order_line_ids, cards=plain.cards + ctl.cards
    )
    assert "segregation" in rules(p, [merged] + [b for b in bs if b.key not in (ctl.key, plain.key)])


def test_segregation_mixing_cold_is_caught(solved):
    p, bs = solved
    cold = next(b for b in bs if b.cold)
    assert "segregation" in rules(p, swap(bs, cold.key, cold=False))


def test_coverage_unbatched_and_duplicates(solved):
    p, bs = solved
    assert "unbatched" in rules(p, bs[1:])
    assert "duplicate_line" in rules(p, bs + [replace(bs[0], key="B9999")])


def test_max_batch_size(solved):
    p, bs = solved
    p2 = replace(p, settings=replace(p.settings, max_batch_cards=60))
    assert "batch_size" not in rules(p2, bs)  # single-line batches may be large
    a = next(b for b in bs if b.order_line_ids == (1,))
    e = next(b for b in bs if b.order_line_ids == (5,))
    merged = replace(a, order_line_ids=(1, 5), cards=80, totes=2)
    assert "batch_size" in rules(p2, [merged] + [b for b in bs if b.key not in (a.key, e.key)])


def test_wrong_line_kind(solved):
    p, bs = solved
    udc = next(b for b in bs if b.kind == UDC)
    assert "line_kind" in rules(p, swap(bs, udc.key, line_id=2))


def test_overlap_and_changeover(solved):
    p, bs = solved
    on1 = sorted((b for b in bs if b.line_id == 1), key=lambda b: b.start_min)
    a, b = on1[0], on1[1]
    shift = b.start_min - a.end_min + 1  # b now starts one minute before a ends
    moved = swap(bs, b.key, start_min=b.start_min - shift, end_min=b.end_min - shift)
    assert "line_overlap" in rules(p, moved)


def test_hours_and_downtime(solved):
    p, bs = solved
    b = next(x for x in bs if x.line_id == 1)
    d = b.end_min - b.start_min
    assert "line_hours" in rules(p, swap(bs, b.key, start_min=5 * 60, end_min=5 * 60 + d))
    assert "downtime" in rules(p, swap(bs, b.key, start_min=12 * 60 + 10, end_min=12 * 60 + 10 + d))


def test_duration_and_verification_order(solved):
    p, bs = solved
    b = bs[0]
    assert "duration" in rules(p, swap(bs, b.key, end_min=b.start_min + 1))
    assert "verify_order" in rules(
        p, swap(bs, b.key, verify_start_min=b.end_min - 5, verify_end_min=b.verify_end_min - 5)
    )


def test_verification_capacity(solved):
    p, bs = solved
    a = next(x for x in bs if x.facility_id == 1)
    b = next(x for x in bs if x.facility_id == 2)
    # put b's check on top of a's: two checks (two facilities) at once with one pharmacist
    vd = b.verify_end_min - b.verify_start_min
    late = max(a.verify_start_min, a.end_min, b.end_min)
    va = a.verify_end_min - a.verify_start_min
    moved = swap(
        swap(bs, a.key, verify_start_min=late, verify_end_min=late + va),
        b.key,
        verify_start_min=late,
        verify_end_min=late + vd,
    )
    assert "verify_capacity" in rules(p, moved)


def test_unscheduled(solved):
    p, bs = solved
    assert "unscheduled" in rules(p, swap(bs, bs[0].key, line_id=None))


def test_checks_of_one_facility_with_the_same_interval_are_one_session(solved):
    """Batches of one facility verified in the same interval are one check: its minutes must cover
    all their cards."""
    p, bs = solved
    a, b = (x for x in bs if x.facility_id == 1)
    late = max(x.verify_end_min for x in bs)  # after every other check: one pharmacist is free
    one = problem_minutes = p.verification.verify_minutes(a.cards + b.cards)
    ok = swap(
        swap(bs, a.key, verify_start_min=late, verify_end_min=late + one),
        b.key,
        verify_start_min=late,
        verify_end_min=late + one,
    )
    assert "verify_capacity" not in rules(p, ok) and "duration" not in rules(p, ok)
    short = problem_minutes - 1
    bad = swap(
        swap(bs, a.key, verify_start_min=late, verify_end_min=late + short),
        b.key,
        verify_start_min=late,
        verify_end_min=late + short,
    )
    assert "duration" in rules(p, bad)
