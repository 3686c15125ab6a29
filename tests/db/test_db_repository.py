"""Repository: plans round-trip exactly, publishing, failed runs, constraint-set versions."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import OrderClass, OrderStatus, PackagingKind, PlanStatus
from ltc_scheduler.plan import model as pm
from ltc_scheduler.problem.builder import build_problem
from ltc_scheduler.problem.model import TimeWindow

DAY = dt.date(2026, 12, 1)


def _plan(ids: dict[str, int], *, kpi: float = 97.5) -> pm.Plan:
    b1 = pm.Batch(
        key="B0001",
        facility_id=ids["fa"],
        unit="1 North",
        kind=PackagingKind.MULTI_DOSE_BLISTER,
        order_line_ids=(ids["O1"],),
        cards=2,
        totes=1,
        cold=False,
        controlled=False,
        order_class=OrderClass.CYCLE_FILL,
        deadline_min=690,
        line_id=ids["line"],
        start_min=300,
        end_min=305,
        verify_start_min=330,
        verify_end_min=331,
    )
    b2 = pm.Batch(
        key="B0002",
        facility_id=ids["fa"],
        unit="1 South",
        kind=PackagingKind.UNIT_DOSE_CARD,
        order_line_ids=(ids["O2"],),
        cards=1,
        totes=1,
        cold=False,
        controlled=True,
        order_class=OrderClass.STAT,
        deadline_min=780,
    )
    b3 = pm.Batch(
        key="B0003",
        facility_id=ids["fb"],
        unit="Main",
        kind=PackagingKind.VIAL_BOTTLE,
        order_line_ids=(ids["O3"],),
        cards=2,
        totes=1,
        cold=True,
        controlled=False,
        order_class=OrderClass.REFILL,
        deadline_min=1100,
    )
    stops = (
        pm.PlanStop(
            seq=1,
            facility_id=ids["fa"],
            arrival_min=560,
            start_min=570,
            departure_min=584,
            totes=2,
            cold_totes=0,
            controlled_totes=1,
            batch_keys=("B0001", "B0002"),
            window_start_min=570,
            window_end_min=720,
            stat=True,
        ),
    )
    route = pm.PlanRoute(
        vehicle_id=ids["v1"],
        trip_no=1,
        depart_min=540,
        return_min=610,
        stops=stops,
        distance_m=12345,
        drive_s=1800,
        break_start_min=None,
    )
    empty_second_trip = pm.PlanRoute(
        vehicle_id=ids["v1"], trip_no=2, depart_min=700, return_min=700, stops=()
    )
    return pm.Plan(
        date=DAY,
        batches=(b1, b2, b3),
        routes=(route, empty_second_trip),
        unserved=(
            pm.UnservedStop(facility_id=ids["fb"], reason="window unreachable", batch_keys=("B0003",)),
        ),
        late=(pm.LateStop(facility_id=ids["fa"], minutes=5, reason="batch ready late"),),
        stats=(
            pm.SolveStats(stage="packing", status="OPTIMAL", wall_s=0.5, objective=10.0, bound=10.0),
            pm.SolveStats(stage="routing", status="ROUTING_SUCCESS", wall_s=1.25),
        ),
        settings_version=1,
        kpis={"on_time_pct": kpi, "driving_km": 12.3},
    )


def test_save_then_load_returns_the_same_plan(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    plan = _plan(tiny)
    violations = [pm.Violation(rule="window", subject="stop 1", message="late by 5", hard=False)]
    run_id = plans.save_plan(
        session,
        plan=plan,
        problem=problem,
        started_by="alice",
        valid=True,
        violations=violations,
        stats={"wall_s": 1.75},
    )
    session.commit()
    session.expire_all()
    assert plans.load_plan(session, plan_run_id=run_id) == plan
    run = plans.get_plan_run(session, plan_run_id=run_id)
    assert run is not None
    assert (run.status, run.published, run.valid, run.started_by) == (
        PlanStatus.COMPLETED,
        True,
        True,
        "alice",
    )
    assert run.constraint_set_version == 1
    assert run.stats == {"wall_s": 1.75}
    assert plans.load_violations(run) == violations
    assert run.snapshot["order_lines"] == "3"
    assert run.created_at.tzinfo is not None


def _status(session: Session) -> dict[str, str]:
    return dict(session.execute(sa.select(m.OrderLine.external_id, m.OrderLine.status)).all())


def test_order_statuses_follow_the_published_plan(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    plan = _plan(tiny)
    b1, b2, b3 = plan.batches
    placed_both = dataclasses.replace(
        plan, batches=(b1, dataclasses.replace(b2, line_id=tiny["line"], start_min=310, end_min=311), b3)
    )
    # B0003 is not on a line (and unserved): O3 stays open; B0001 and B0002 are placed
    plans.save_plan(
        session, plan=placed_both, problem=problem, started_by="t", valid=True, violations=[], stats={}
    )
    session.commit()
    assert _status(session) == {
        "O1": "planned",
        "O2": "planned",
        "O3": "open",
        "O4": "open",
        "O5": "delivered",
    }
    # a draft changes nothing
    draft = plans.save_plan(
        session,
        plan=plan,
        problem=problem,
        started_by="t",
        valid=True,
        violations=[],
        stats={},
        publish=False,
    )
    assert _status(session)["O2"] == "planned"
    # publishing a plan that no longer places B0002 (not on a line) puts O2 back to open
    plans.publish_plan_run(session, plan_run_id=draft)
    session.commit()
    assert _status(session) == {"O1": "planned", "O2": "open", "O3": "open", "O4": "open", "O5": "delivered"}
    assert plans.placed_order_line_ids(session, plan_run_id=draft) == {tiny["O1"]}


def test_publishing_a_new_run_unpublishes_the_previous_one(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    first = plans.save_plan(
        session, plan=_plan(tiny), problem=problem, started_by="a", valid=True, violations=[], stats={}
    )
    second = plans.save_plan(
        session,
        plan=_plan(tiny, kpi=99.0),
        problem=problem,
        started_by="b",
        valid=True,
        violations=[],
        stats={},
    )
    draft = plans.save_plan(
        session,
        plan=_plan(tiny, kpi=50.0),
        problem=problem,
        started_by="c",
        valid=False,
        violations=[],
        stats={},
        publish=False,
    )
    session.commit()
    latest = plans.latest_plan_run(session, date=DAY)
    assert latest is not None and latest.id == second
    assert [r.id for r in plans.list_plan_runs(session, date=DAY)] == [draft, second, first]
    assert plans.latest_plan_run(session, date=DAY, published_only=False).id == draft
    published = [r.id for r in plans.list_plan_runs(session, date=DAY) if r.published]
    assert published == [second]
    plans.publish_plan_run(session, plan_run_id=first)
    session.commit()
    assert [r.id for r in plans.list_plan_runs(session, date=DAY) if r.published] == [first]
    assert plans.latest_plan_run(session, date=DAY + dt.timedelta(days=1)) is None


def test_failed_run_keeps_the_published_plan(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    good = plans.save_plan(
        session, plan=_plan(tiny), problem=problem, started_by="a", valid=True, violations=[], stats={}
    )
    failed = plans.record_failed_run(session, date=DAY, started_by="b", error="solver crashed")
    session.commit()
    run = plans.get_plan_run(session, plan_run_id=failed)
    assert (run.status, run.published, run.error) == (PlanStatus.FAILED, False, "solver crashed")
    assert plans.latest_plan_run(session, date=DAY).id == good
    from ltc_scheduler.errors import BadInput

    with pytest.raises(BadInput, match="only completed runs"):
        plans.publish_plan_run(session, plan_run_id=failed)


def test_saving_a_plan_is_all_or_nothing(engine: sa.Engine, tiny: dict[str, int]) -> None:
    """A stop for a facility that does not exist aborts the whole save: no run, no batch remains."""
    with session_scope(engine) as s:
        problem = build_problem(s, date=DAY, timezone="America/Chicago")
    plan = _plan(tiny)
    bad_stop = dataclasses.replace(plan.routes[0].stops[0], facility_id=987_654)
    bad = dataclasses.replace(plan, routes=(dataclasses.replace(plan.routes[0], stops=(bad_stop,)),))
    with pytest.raises(sa.exc.IntegrityError), session_scope(engine) as s:
        plans.save_plan(s, plan=bad, problem=problem, started_by="x", valid=True, violations=[], stats={})
    with session_scope(engine) as s:
        counts = repo.count_rows(s)
        assert counts["plan_run"] == counts["plan_batch"] == counts["plan_stop"] == 0
        assert s.exec(select(m.OrderLine).where(m.OrderLine.status == OrderStatus.PLANNED)).all() == []


def test_constraint_set_versions(session: Session) -> None:
    first = repo.current_constraint_set(session)  # empty DB: version 1 from defaults
    assert (first.version, first.is_current) == (1, True)
    assert repo.to_plan_settings(first) == repo.PlanSettings(version=1)
    new = repo.PlanSettings(time_limit_s=5.0, late_penalty_per_min=900)
    row = repo.save_constraint_set(session, settings=new, created_by="manager", minutes_per_card=0.07)
    session.commit()
    assert row.version == 2
    current = repo.current_constraint_set(session)
    assert (current.version, current.created_by, current.minutes_per_card) == (2, "manager", 0.07)
    assert repo.to_plan_settings(current) == dataclasses.replace(new, version=2)
    assert [(c.version, c.is_current) for c in repo.list_constraint_sets(session)] == [(1, False), (2, True)]
    third = repo.save_constraint_set(session, settings=new, created_by="manager")
    assert (third.version, third.minutes_per_card) == (3, 0.07)  # minutes per card kept


def test_count_rows_and_audit(session: Session, tiny: dict[str, int]) -> None:
    repo.add_audit_event(session, who="alice", what="import.orders", details={"rows": 5, "day": DAY})
    session.commit()
    counts = repo.count_rows(session)
    assert counts["facility"] == 2 and counts["order_line"] == 5 and counts["audit_event"] == 1
    ev = repo.list_audit_events(session)[0]
    assert (ev.who, ev.what, ev.details) == ("alice", "import.orders", {"rows": 5, "day": "2026-12-01"})


def test_list_helpers(session: Session, tiny: dict[str, int]) -> None:
    assert [f.external_id for f in repo.list_facilities(session)] == ["140001", "SYN-ALF-0001"]
    assert [v.name for v in repo.list_vehicles(session)] == ["Van 1", "Van 2"]
    assert [p.name for p in repo.list_packaging_lines(session)] == ["Line 1"]
    assert [p.name for p in repo.list_pharmacist_shifts(session)] == ["PharmD 1"]
    assert repo.get_depot(session).name == "Test Pharmacy"
    day = repo.list_order_lines(session, date=DAY, tz="America/Chicago")
    assert [o.external_id for o in day] == ["O1", "O2", "O5"]
    open_ = repo.list_order_lines(session, date=DAY, tz="America/Chicago", statuses=(OrderStatus.OPEN,))
    assert [o.external_id for o in open_] == ["O1", "O2"]


def test_non_finite_and_numpy_numbers_are_stored_as_json(session: Session, tiny: dict[str, int]) -> None:
    import numpy as np

    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    plan = dataclasses.replace(
        _plan(tiny),
        stats=(
            pm.SolveStats(stage="packing", status="FEASIBLE", wall_s=1.0, objective=float("inf"), bound=3.0),
        ),
        kpis={"on_time_pct": float(np.float64(99.5)), "gap": float("nan")},
    )
    run_id = plans.save_plan(
        session,
        plan=plan,
        problem=problem,
        started_by="t",
        valid=True,
        violations=[],
        stats={"wall_s": np.float64(1.5), "iterations": np.int64(3), "gap": float("inf")},
    )
    session.commit()
    session.expire_all()
    run = plans.get_plan_run(session, plan_run_id=run_id)
    assert run.stats == {"wall_s": 1.5, "iterations": 3, "gap": None}
    loaded = plans.load_plan(session, plan_run_id=run_id)
    assert loaded.stats[0].objective is None and loaded.stats[0].bound == 3.0
    assert loaded.kpis == {"on_time_pct": 99.5, "gap": None}


def test_the_record_holds_the_problem_it_was_planned_against(session: Session, tiny: dict[str, int]) -> None:
    """load_plan_record gives back the built problem: every facility, vehicle, line, shift, the depot,
    settings, time zone and snapshot; the orders are those the batches name (read by id)."""
    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    plan = _plan(tiny)
    run_id = plans.save_plan(
        session, plan=plan, problem=problem, started_by="a", valid=True, violations=[], stats={}
    )
    session.commit()
    session.expire_all()
    record = plans.load_plan_record(session, plan_run_id=run_id)
    got = record.problem
    assert record.plan == plan and record.violations == ()
    assert (got.date, got.timezone, got.depot, got.settings) == (
        problem.date,
        problem.timezone,
        problem.depot,
        problem.settings,
    )
    assert got.facilities == problem.facilities
    assert [f.windows for f in got.facilities] == [
        (TimeWindow(570, 720),),
        (TimeWindow(780, 990), TimeWindow(1080, 1170)),
    ]
    assert got.vehicles == problem.vehicles and got.lines == problem.lines
    assert got.verification == problem.verification and got.verification.minutes_per_card == 0.05
    assert got.snapshot == problem.snapshot
    assert [o.external_id for o in got.orders] == ["O1", "O2", "O3"]
    assert got.orders == tuple(o for o in problem.orders if o.id in {tiny["O1"], tiny["O2"], tiny["O3"]})
    counts = repo.count_rows(session)
    assert (counts["plan_depot"], counts["plan_facility"], counts["plan_vehicle"]) == (1, 2, 2)
    assert (counts["plan_line"], counts["plan_pharmacist_shift"]) == (1, 1)


def test_deleting_a_run_deletes_its_record_and_no_master_data(session: Session, tiny: dict[str, int]) -> None:
    problem = build_problem(session, date=DAY, timezone="America/Chicago")
    run_id = plans.save_plan(
        session, plan=_plan(tiny), problem=problem, started_by="a", valid=True, violations=[], stats={}
    )
    session.commit()
    before = repo.count_rows(session)
    session.execute(sa.delete(m.PlanRun).where(m.PlanRun.id == run_id))
    session.commit()
    after = repo.count_rows(session)
    snapshot = ("plan_depot", "plan_facility", "plan_vehicle", "plan_line", "plan_pharmacist_shift")
    assert [after[t] for t in snapshot] == [0, 0, 0, 0, 0]
    assert [before[t] for t in snapshot] == [1, 2, 2, 1, 1]
    master = ("depot", "facility", "facility_window", "vehicle", "packaging_line", "order_line")
    assert [after[t] for t in master] == [before[t] for t in master]
