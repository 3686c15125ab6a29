"""Packaging schedule (CP-SAT) on small hand-built problems; every schedule is checked by the validator."""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import FAST, MDB, UDC, batch, hard, line, make_problem, order, orders_for

from ltc_scheduler.enums import OrderClass, PackagingKind
from ltc_scheduler.errors import PlanningError
from ltc_scheduler.packing.batching import form_batches
from ltc_scheduler.packing.solve import PackingParams, solve_packing
from ltc_scheduler.problem.model import (
    PlanSettings,
)


def test_smoke_demo_like():
    orders = [
        order(i, 1 + i % 3, cards=5 + i % 7, kind=(MDB if i % 4 else UDC), cls=OrderClass.REFILL)
        for i in range(1, 40)
    ]
    p = make_problem(orders, lines=(line(1, (MDB, UDC)), line(2, (MDB,))))
    bs = form_batches(p)
    res = solve_packing(p, bs, FAST)
    assert hard(p, res.batches) == []
    assert res.stats.status in ("OPTIMAL", "FEASIBLE")


def test_each_batch_runs_on_a_compatible_line():
    """Unit-dose cards can only go to the (slower) unit-dose line even though the blister line is idle."""
    bs = [batch("B0001", 1, kind=UDC, cards=60), batch("B0002", 1, kind=MDB, cards=60)]
    p = make_problem(orders_for(bs), lines=(line(1, (MDB,), rate=600), line(2, (UDC,), rate=60)))
    res = solve_packing(p, bs, FAST)
    got = {b.key: b.line_id for b in res.batches}
    assert got == {"B0001": 2, "B0002": 1}
    b1 = next(b for b in res.batches if b.key == "B0001")
    assert b1.end_min - b1.start_min == 60  # 60 cards at 60 cards/hour
    assert hard(p, res.batches) == []


def test_no_line_for_a_kind_is_a_clear_error():
    bs = [batch("B0001", 1, kind=PackagingKind.STRIP_POUCH, cards=10)]
    p = make_problem(orders_for(bs), lines=(line(1, (MDB,)),))
    with pytest.raises(PlanningError, match="no packaging line makes strip_pouch"):
        solve_packing(p, bs, FAST)


def test_sequence_dependent_changeovers_are_respected_and_minimised():
    """Two kinds on one line: kinds are grouped (one 15-min kind changeover), gaps hold the changeover."""
    bs = [
        batch("B0001", 1, kind=MDB, cards=60, deadline=20 * 60),
        batch("B0002", 1, kind=UDC, cards=60, deadline=20 * 60),
        batch("B0003", 2, kind=MDB, cards=60, deadline=20 * 60),
        batch("B0004", 2, kind=UDC, cards=60, deadline=20 * 60),
    ]
    p = make_problem(orders_for(bs), lines=(line(1, (MDB, UDC), rate=120, kind_co=15, fac_co=3),))
    res = solve_packing(p, bs, FAST)
    seq = sorted(res.batches, key=lambda b: b.start_min)
    kinds = [b.kind for b in seq]
    assert kinds in ([MDB, MDB, UDC, UDC], [UDC, UDC, MDB, MDB])
    gaps = [b.start_min - a.end_min for a, b in zip(seq, seq[1:], strict=False)]
    assert gaps == [3, 15, 3]  # facility switch, kind switch, facility switch
    assert res.changeovers == 3
    assert hard(p, res.batches) == []
    # the validator catches a missing kind changeover
    squeezed = [replace(seq[2], start_min=seq[1].end_min, end_min=seq[1].end_min + 30)]
    bad = hard(p, [b for b in res.batches if b.key != seq[2].key] + squeezed)
    assert any(v.rule == "line_overlap" for v in bad)


def test_line_availability_and_downtime():
    """A line open from 10:00 with downtime 11:00-12:00: nothing is packed before 10:00 or during downtime."""
    bs = [batch(f"B000{i}", 1, cards=60, deadline=6 * 60) for i in range(1, 4)]
    p = make_problem(
        orders_for(bs), lines=(line(1, rate=60, avail=((10 * 60, 18 * 60),), downtime=((11 * 60, 12 * 60),)),)
    )
    res = solve_packing(p, bs, FAST)
    spans = sorted((b.start_min, b.end_min) for b in res.batches)
    assert spans == [(600, 660), (720, 780), (780, 840)]
    assert hard(p, res.batches) == []


def test_verification_capacity_follows_pharmacist_shifts():
    """Four batches end together on four lines; one pharmacist until 08:00, two after."""
    bs = [batch(f"B000{i}", i, cards=30, deadline=6 * 60) for i in range(1, 5)]
    p = make_problem(
        orders_for(bs),
        lines=tuple(line(i, rate=60) for i in range(1, 5)),
        shifts=((6 * 60, 18 * 60), (8 * 60, 18 * 60)),
        minutes_per_card=2.0,
    )
    res = solve_packing(p, bs, FAST)
    assert hard(p, res.batches) == []
    assert all(b.end_min == 6 * 60 + 30 for b in res.batches)
    ivs = sorted((b.verify_start_min, b.verify_end_min) for b in res.batches)
    for t in range(6 * 60, 12 * 60):
        load = sum(1 for a, e in ivs if a <= t < e)
        assert load <= (1 if t < 8 * 60 else 2)
    # 60-minute checks: 06:30-07:30 alone, 07:30-08:30 alone then a second pharmacist from 08:00
    assert ivs[0] == (390, 450) and ivs[1][0] in (450, 480)
    assert all(b.verify_start_min >= b.end_min for b in res.batches)


def test_verification_capacity_exhausted_plans_what_fits_and_reports_the_rest():
    """Each batch alone could be checked, all three cannot: 300 pharmacist-minutes needed, 240 on
    shift. Two are planned, the third is reported with the numbers and the cheapest fix."""
    bs = [batch(f"B000{i}", 1, cards=100, deadline=6 * 60) for i in range(1, 4)]
    p = make_problem(
        orders_for(bs), lines=(line(1, rate=6000),), shifts=((6 * 60, 10 * 60),), minutes_per_card=1.0
    )
    res = solve_packing(p, bs, FAST)
    assert sorted(b.key for b in res.batches) == ["B0001", "B0002"]
    assert [(b.key, why) for b, why in res.unpacked] == [
        (
            "B0003",
            "verification capacity (pharmacists: 300 minutes needed, 240 on shift): cheapest fix: "
            "one more pharmacist shift of 60 minutes, or move orders to another day",
        )
    ]
    assert [v.rule for v in hard(p, res.batches)] == ["unbatched"]  # B0003's order line, reported


def test_order_received_after_the_last_pharmacist_shift_is_reported_not_packed():
    """A STAT received at 17:00 cannot be verified today (shift ends 16:00): reported, the rest packed."""
    early = batch("B0001", 1, cards=30, deadline=8 * 60)
    late = batch("B0002", 2, cards=10, deadline=20 * 60, cls=OrderClass.STAT)
    orders = [order(1, 1, cards=30), order(2, 2, cards=10, cls=OrderClass.STAT, received=17 * 60)]
    p = make_problem(orders, shifts=((6 * 60, 16 * 60),), minutes_per_card=0.5)
    res = solve_packing(p, [early, late], FAST)
    assert [b.key for b in res.batches] == ["B0001"]
    assert [(b.key, "pharmacist" in why) for b, why in res.unpacked] == [("B0002", True)]
    got = res.batches[0]
    assert got.start_min >= 6 * 60 and hard(p, list(res.batches)) == [
        v for v in hard(p, list(res.batches)) if v.rule == "unbatched"
    ]


def test_packaging_never_starts_before_the_order_is_received():
    bs = [batch("B0001", 1, cards=30, deadline=6 * 60, cls=OrderClass.STAT)]
    p = make_problem([order(1, 1, cards=30, cls=OrderClass.STAT, received=11 * 60)])
    res = solve_packing(p, bs, FAST)
    assert res.batches[0].start_min == 11 * 60
    assert hard(p, list(res.batches)) == []
    early = [replace(res.batches[0], start_min=600, end_min=615, verify_start_min=615, verify_end_min=618)]
    assert [v.rule for v in hard(p, early)] == ["received"]


def test_stat_batches_go_first():
    """A longer STAT batch goes before a shorter routine one (equal weights would swap them)."""
    bs = [
        batch("B0001", 1, cards=20, deadline=6 * 60, cls=OrderClass.REFILL),
        batch("B0002", 2, cards=40, deadline=6 * 60, cls=OrderClass.STAT),
    ]
    p = make_problem(orders_for(bs), lines=(line(1, rate=60),), minutes_per_card=0.05)
    res = solve_packing(p, bs, FAST)
    got = {b.key: b for b in res.batches}
    assert got["B0002"].start_min == 6 * 60
    assert got["B0001"].start_min > got["B0002"].end_min
    assert hard(p, res.batches) == []
    # the rule is the weight: with stat_weight = 1 the shorter routine batch goes first
    p1 = replace(p, settings=PlanSettings(stat_weight=1))
    res1 = solve_packing(p1, bs, FAST)
    assert {b.key: b for b in res1.batches}["B0001"].start_min == 6 * 60


def test_status_objective_and_bound_are_reported():
    bs = [batch(f"B000{i}", i, cards=30 + 10 * i, deadline=7 * 60) for i in range(1, 6)]
    p = make_problem(orders_for(bs), lines=(line(1, rate=120), line(2, rate=90)))
    res = solve_packing(p, bs, FAST)
    assert res.stats.stage == "packing"
    assert res.stats.status == "OPTIMAL"
    assert res.stats.objective is not None and res.stats.bound is not None
    assert res.stats.bound <= res.stats.objective + 1e-6
    assert res.stats.gap == pytest.approx(0.0)
    assert res.weighted_lateness <= res.greedy_weighted_lateness
    assert hard(p, res.batches) == []


def test_greedy_only_and_aggregated_mode_are_valid():
    orders = [order(i, 1 + i % 9, cards=15 + i % 11, kind=(MDB if i % 3 else UDC)) for i in range(1, 160)]
    p = make_problem(
        orders, lines=(line(1, (MDB, UDC), rate=300), line(2, (MDB,), rate=240), line(3, (UDC,), rate=200))
    )
    bs = form_batches(p)
    agg = solve_packing(p, bs, PackingParams(time_limit_s=2.0, exact_max_batches=5, circuit_max_jobs=4))
    assert agg.mode == "aggregated" and agg.jobs < len(bs)
    assert hard(p, agg.batches) == []
    greedy = solve_packing(p, bs, PackingParams(greedy_only=True))
    assert greedy.stats.status == "GREEDY"
    assert hard(p, greedy.batches) == []
    assert sorted(b.key for b in greedy.batches) == sorted(b.key for b in bs)


def test_frozen_batches_keep_their_times_and_new_work_starts_after_now():
    done = replace(
        batch("B0001", 1, cards=60),
        line_id=1,
        start_min=360,
        end_min=390,
        verify_start_min=390,
        verify_end_min=396,
    )
    new = [batch("B0002", 2, cards=60, deadline=6 * 60, cls=OrderClass.STAT)]
    p = make_problem(orders_for([done] + new), lines=(line(1, rate=120),), now=600)
    res = solve_packing(p, new, FAST, frozen=[done])
    got = {b.key: b for b in res.batches}
    assert got["B0001"] == done
    assert got["B0002"].start_min >= 600
    assert hard(p, res.batches) == []


def test_bad_input_is_a_plain_value_error():
    """A batch without cards, a repeated batch key or a zero time limit: ValueError naming it."""
    bs = [batch("B0001", 1, cards=30)]
    p = make_problem(orders_for(bs))
    with pytest.raises(ValueError, match="batch B0001 has 0 cards"):
        solve_packing(p, [replace(bs[0], cards=0)], FAST)
    with pytest.raises(ValueError, match="batch key B0001 is used twice"):
        solve_packing(p, [bs[0], bs[0]], FAST)
    with pytest.raises(ValueError, match="time limit must be positive, got 0"):
        solve_packing(p, bs, PackingParams(time_limit_s=0))
