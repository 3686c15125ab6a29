"""The routing engine's worker count comes from the constraint set (``routing_workers``)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import Session
from test_coupling import stat_wave_day

from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.constraints import update_settings
from ltc_scheduler.errors import BadInput
from ltc_scheduler.planning import pipeline
from ltc_scheduler.problem.model import PlanSettings


def test_routing_workers_from_the_setting_or_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pipeline.routing_workers(PlanSettings()) == 1
    assert pipeline.routing_workers(PlanSettings(routing_workers=3)) == 3
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 16)
    assert pipeline.routing_workers(PlanSettings(routing_workers=0)) == 4
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    assert pipeline.routing_workers(PlanSettings(routing_workers=0)) == 2
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: None)
    assert pipeline.routing_workers(PlanSettings(routing_workers=0)) == 1


def test_plan_day_hands_the_worker_count_to_the_routing_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from ltc_scheduler.routing import search

    seen: list[int] = []
    real = search.solve_routing

    def spy(rp, params=None):
        seen.append(params.workers)
        return real(rp, params)

    monkeypatch.setattr(search, "solve_routing", spy)
    p, tm = stat_wave_day(time_limit_s=3.0, packing_time_limit_s=0.5, routing_time_limit_s=1.0)
    p = replace(p, settings=replace(p.settings, routing_workers=2))
    res = pipeline.plan_day(p, travel=tm, coupling=False)
    assert seen == [2]
    assert not any(v.hard for v in res.violations) and res.routing_solution.stats["workers"] == 2


def test_routing_workers_is_an_editable_setting(session: Session) -> None:
    row = update_settings(session, values={"routing_workers": "2"}, who="test")
    assert (
        row is not None and repo.to_plan_settings(repo.current_constraint_set(session)).routing_workers == 2
    )
    with pytest.raises(BadInput, match="routing_workers"):
        update_settings(session, values={"routing_workers": "9"}, who="test")
