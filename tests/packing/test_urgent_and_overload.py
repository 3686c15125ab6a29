"""Urgent work first on the floor, an honest lower bound, and a plan (not an error) on overload."""

from __future__ import annotations

from factories import FAST, MDB, batch, hard, line, make_problem, order

from ltc_scheduler.enums import OrderClass
from ltc_scheduler.packing.solve import PackingParams, solve_packing

STAT = OrderClass.STAT


def _queued_day():
    """Six routine batches of Facility 1 (30 cards each, 30 min on the only blister line at 60
    cards/h), received 06:00 and already overdue (ready-by 06:00), queue up on the line; a STAT of
    Facility 2 (5 cards) arrives at 07:10 with a late ready-by (16:00). Earliest-deadline order
    would pack it after all the routine work (09:03); urgent first packs it within minutes."""
    routine = [batch(f"B000{i}", 1, cards=30, deadline=6 * 60) for i in range(1, 7)]
    stat = batch("B0007", 2, cards=5, deadline=16 * 60, cls=STAT)
    orders = [order(i, 1, cards=30) for i in range(1, 7)] + [
        order(7, 2, cards=5, cls=STAT, received=7 * 60 + 10)
    ]
    p = make_problem(orders, lines=(line(1, (MDB,), rate=60, fac_co=3),), minutes_per_card=0.1)
    return p, routine + [stat]


def test_a_stat_arriving_behind_queued_routine_work_is_ready_within_minutes():
    p, bs = _queued_day()
    res = solve_packing(p, bs, FAST)
    assert hard(p, res.batches) == []
    got = {b.key: b for b in res.batches}
    stat = got["B0007"]
    assert stat.start_min >= 7 * 60 + 10  # never before it was received
    assert stat.end_min - stat.start_min == 5
    assert stat.ready_min is not None and stat.ready_min - (7 * 60 + 10) <= 30
    # routine work before it ran back to back from 06:00, the rest after it
    before = sorted(b.start_min for b in got.values() if b.key != "B0007" and b.start_min < stat.start_min)
    assert before == [360, 390, 420][: len(before)] and len(before) >= 2
    assert res.extra["urgent_wait_min"] <= 15


def test_the_greedy_start_also_puts_the_stat_first():
    p, bs = _queued_day()
    res = solve_packing(p, bs, PackingParams(greedy_only=True))
    assert hard(p, res.batches) == []
    stat = {b.key: b for b in res.batches}["B0007"]
    # the line finishes the job it is on (07:00-07:30), changes facility (3 min), packs the STAT
    assert (stat.start_min, stat.end_min, stat.verify_start_min, stat.verify_end_min) == (453, 458, 458, 459)


def test_without_stat_priority_the_stat_waits_behind_routine_work():
    """stat_weight = 1 switches the priority off: the same day packs the STAT last (the rule is what
    makes the difference in the tests above)."""
    from dataclasses import replace

    from ltc_scheduler.problem.model import PlanSettings

    p, bs = _queued_day()
    p1 = replace(p, settings=PlanSettings(stat_weight=1))
    res = solve_packing(p1, bs, FAST)
    stat = {b.key: b for b in res.batches}["B0007"]
    assert stat.start_min == max(b.end_min for b in res.batches if b.key != "B0007") + 3


def test_lower_bound_is_positive_and_below_the_objective_when_lateness_is_unavoidable():
    """Two batches received 10:00, due 09:00: lateness cannot be avoided. The relaxation (each batch
    alone on the line and with the pharmacist) gives a bound > 0 that the objective respects."""
    bs = [batch("B0001", 1, cards=60, deadline=9 * 60), batch("B0002", 2, cards=60, deadline=9 * 60)]
    orders = [order(1, 1, cards=60, received=10 * 60), order(2, 2, cards=60, received=10 * 60)]
    p = make_problem(orders, lines=(line(1, (MDB,), rate=60, fac_co=3),), minutes_per_card=0.1)
    res = solve_packing(p, bs, FAST)
    assert hard(p, res.batches) == []
    relaxed = res.extra["relaxation_bound"]
    assert 0 < relaxed < res.stats.objective
    assert 0 < res.stats.bound <= res.stats.objective
    # the schedule: 10:00-11:00, changeover 3 min, 11:03-12:03; ready 11:06 and 12:09
    assert sorted(b.ready_min for b in res.batches) == [666, 729]
    assert res.weighted_lateness == (666 - 540) + (729 - 540)
    # one batch alone is its own relaxation: bound == objective
    one = solve_packing(make_problem(orders[:1], lines=p.lines, minutes_per_card=0.1), bs[:1], FAST)
    assert one.extra["relaxation_bound"] == one.stats.objective > 0


def test_too_little_line_time_plans_what_fits_stat_first_and_reports_the_rest():
    """One line open 06:00-08:00 (120 min) and 270 minutes of work: the STAT and the routine batch
    due first are packed, the others are reported with the numbers and the cheapest fix."""
    routine = [batch(f"B000{i}", i, cards=60, deadline=(7 + i) * 60) for i in range(1, 5)]
    stat = batch("B0005", 5, cards=30, deadline=12 * 60, cls=STAT)
    orders = [order(i, i, cards=60) for i in range(1, 5)] + [order(5, 5, cards=30, cls=STAT)]
    p = make_problem(
        orders, lines=(line(1, (MDB,), rate=60, avail=((6 * 60, 8 * 60),)),), minutes_per_card=0.1
    )
    res = solve_packing(p, routine + [stat], FAST)
    assert sorted(b.key for b in res.batches) == ["B0001", "B0005"]
    assert {b.key: b.start_min for b in res.batches}["B0005"] == 6 * 60  # STAT first
    why = (
        "packaging capacity (Line 1: 270 minutes needed, 120 open): cheapest fix: keep Line 1 open "
        "150 minutes longer, or move orders to another day"
    )
    assert [(b.key, r) for b, r in res.unpacked] == [("B0002", why), ("B0003", why), ("B0004", why)]
    assert {v.rule for v in hard(p, res.batches)} == {"unbatched"}  # only the reported ones
