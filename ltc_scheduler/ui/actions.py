"""The dashboard's write actions: save an edit (one transaction) and re-plan (with progress).

Each function opens its own short session; errors the user can fix come back as
:class:`~ltc_scheduler.errors.BadInput` (nothing was stored).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ltc_scheduler.db import constraints
from ltc_scheduler.db.engine import session_scope

#: what the progress indicator says while a pipeline stage runs
STAGE_LABELS = {
    "travel": "Computing travel times",
    "batching": "Forming batches",
    "packing": "Scheduling packaging and verification",
    "routing": "Routing the vehicles",
    "coupling": "Re-checking ready times against routes",
    "validate": "Checking the plan",
    "validation": "Checking the plan",
    "save": "Saving",
    "done": "Done",
}


def save_edit(engine: sa.Engine, kind: str, *, who: str, **kwargs: Any) -> int | None:
    """Run one admin edit (``settings``, ``vehicles``, ``lines``, ``shifts``, ``facilities``) in one
    transaction; returns the new constraint-set version, or None when nothing changed."""
    fn: Callable[..., Any] = {
        "settings": constraints.update_settings,
        "vehicles": constraints.update_vehicles,
        "lines": constraints.update_packaging_lines,
        "shifts": constraints.update_pharmacist_shifts,
        "facilities": constraints.update_facilities,
    }[kind]
    with session_scope(engine) as session:
        row = fn(session, who=who, **kwargs)
        return None if row is None else int(row.version)


def replan(
    engine: sa.Engine,
    *,
    date: dt.date,
    who: str,
    keep_done: bool,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Plan ``date`` again with the current constraints; returns (plan run id, summary).

    ``keep_done``: keep what the published plan has already packed or sent out (re-plan from now).
    """
    from ltc_scheduler import service

    replan_ = keep_done and service.has_plan(engine, date=date)
    outcome = service.plan_date(engine, date=date, started_by=who, replan=replan_, progress=progress)
    return outcome.plan_run_id, outcome.summary
