"""Batch formation: segregation, splitting, units of large facilities, totes, ready-by deadlines."""

from __future__ import annotations

from factories import MDB, UDC, facility, line, make_problem, order

from ltc_scheduler.enums import OrderClass
from ltc_scheduler.packing.batching import LOAD_MARGIN_MIN, form_batches
from ltc_scheduler.packing.validate import validate_packing
from ltc_scheduler.problem.model import PlanSettings


def _by_lines(batches):
    return {tuple(sorted(b.order_line_ids)): b for b in batches}


def test_controlled_and_cold_lines_get_their_own_batches():
    orders = [
        order(1, 1),
        order(2, 1),
        order(3, 1, controlled=True),
        order(4, 1, cold=True),
        order(5, 1, controlled=True, cold=True),
        order(6, 1, kind=UDC),
    ]
    p = make_problem(orders, lines=(line(1, (MDB, UDC)),))
    bs = form_batches(p, travel_minutes={1: 20})
    groups = _by_lines(bs)
    assert set(groups) == {(1, 2), (3,), (4,), (5,), (6,)}
    assert groups[(3,)].controlled and not groups[(3,)].cold
    assert groups[(4,)].cold and not groups[(4,)].controlled
    assert groups[(5,)].cold and groups[(5,)].controlled
    # each segregated batch travels in a tote of its own; the plain blister and unit-dose batches share one
    assert [groups[k].totes for k in ((3,), (4,), (5,))] == [1, 1, 1]
    assert groups[(1, 2)].totes + groups[(6,)].totes == 1  # 20 + 10 cards
    assert [v.rule for v in validate_packing(p, bs) if v.rule not in ("unscheduled",)] == []


def test_batches_split_at_max_cards_and_count_totes():
    orders = [order(i, 1, cards=30) for i in range(1, 10)]  # 270 cards
    p = make_problem(orders, settings=PlanSettings(max_batch_cards=100, cards_per_tote=40))
    bs = form_batches(p, travel_minutes={1: 20})
    assert [b.cards for b in bs] == [90, 90, 90]
    # room-temperature batches of one facility share totes: ceil(270 / 40) = 7 in all
    assert [b.totes for b in bs] == [3, 2, 2]
    assert sorted(i for b in bs for i in b.order_line_ids) == list(range(1, 10))
    # a single line larger than the maximum is a batch of its own (lines are never cut)
    p2 = make_problem(
        [order(1, 1, cards=150), order(2, 1, cards=10)], settings=PlanSettings(max_batch_cards=100)
    )
    assert sorted(b.cards for b in form_batches(p2, travel_minutes={1: 20})) == [10, 150]


def test_large_facilities_are_batched_per_unit():
    big = facility(1, beds=200, units=("A", "B"))
    small = facility(2, beds=60, units=("A", "B"))
    orders = [order(1, 1, unit="A"), order(2, 1, unit="B"), order(3, 2, unit="A"), order(4, 2, unit="B")]
    p = make_problem(orders, facilities=(big, small))
    bs = form_batches(p, travel_minutes={1: 20, 2: 20})
    assert sorted((b.facility_id, b.unit, b.order_line_ids) for b in bs) == [
        (1, "A", (1,)),
        (1, "B", (2,)),
        (2, "", (3, 4)),
    ]


def test_urgent_lines_are_batched_apart_and_get_need_by_deadlines():
    orders = [
        order(1, 1, cls=OrderClass.STAT, need_by=14 * 60, received=10 * 60),
        order(2, 1, cls=OrderClass.REFILL, need_by=20 * 60),
        order(3, 1, cls=OrderClass.NEW_ADMISSION, need_by=15 * 60, received=10 * 60 + 30),
    ]
    p = make_problem(
        orders, facilities=(facility(1, windows=((6 * 60, 7 * 60 + 30), (9 * 60 + 30, 13 * 60))),)
    )
    bs = _by_lines(form_batches(p, travel_minutes={1: 90}))
    urgent = bs[(1, 3)]
    assert urgent.order_class == OrderClass.STAT and urgent.stat
    assert urgent.deadline_min == 14 * 60 - 90 - LOAD_MARGIN_MIN
    routine = bs[(2,)]
    assert routine.order_class == OrderClass.REFILL
    # 06:00-07:30 is out of reach (ready 06:06 + 90 min drive): the 09:30 window sets it
    assert routine.deadline_min == 9 * 60 + 30 - 90 - LOAD_MARGIN_MIN


def test_keys_are_deterministic_and_independent_of_input_order():
    orders = [
        order(i, 1 + i % 4, cards=7, kind=(MDB if i % 2 else UDC), controlled=i % 5 == 0)
        for i in range(1, 41)
    ]
    p1 = make_problem(orders)
    p2 = make_problem(list(reversed(orders)), facilities=tuple(reversed(p1.facilities)))
    b1, b2 = form_batches(p1), form_batches(p2)
    assert [(b.key, b.order_line_ids) for b in b1] == [(b.key, b.order_line_ids) for b in b2]
    assert [b.key for b in b1] == [f"B{i:04d}" for i in range(1, len(b1) + 1)]
    assert [b.key for b in form_batches(p1, key_start=50)][0] == "B0050"


def test_urgent_lines_received_hours_apart_are_separate_batches():
    """A STAT received at 13:00 must not hold back the one received at 07:00 (its own promise)."""
    orders = [
        order(1, 1, cls=OrderClass.STAT, need_by=11 * 60, received=7 * 60),
        order(2, 1, cls=OrderClass.STAT, need_by=11 * 60 + 30, received=7 * 60 + 30),
        order(3, 1, cls=OrderClass.STAT, need_by=17 * 60, received=13 * 60),
        order(4, 1, cls=OrderClass.REFILL, need_by=20 * 60, received=-600),
        order(5, 1, cls=OrderClass.REFILL, need_by=20 * 60, received=9 * 60),
    ]
    p = make_problem(orders, facilities=(facility(1),))
    bs = _by_lines(form_batches(p, travel_minutes={1: 20}))
    assert set(bs) == {(1, 2), (3,), (4, 5)}  # routine lines still share one batch
    assert bs[(1, 2)].deadline_min == 11 * 60 - 20 - LOAD_MARGIN_MIN
    assert bs[(3,)].deadline_min == 17 * 60 - 20 - LOAD_MARGIN_MIN
