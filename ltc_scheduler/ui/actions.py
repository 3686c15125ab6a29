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
) -> Any:
    """Plan ``date`` again with the current constraints; returns the :class:`service.PlanOutcome`
    (``published`` False: it was kept as a draft because it is worse, ``note`` says how).

    ``keep_done``: keep what the published plan has already packed or sent out (re-plan from now).
    """
    from ltc_scheduler import service

    replan_ = keep_done and service.has_plan(engine, date=date)
    return service.plan_date(engine, date=date, started_by=who, replan=replan_, progress=progress)


def publish_anyway(engine: sa.Engine, *, plan_run_id: int, who: str, expected_published: int | None) -> int:
    """Publish a draft the user confirmed after seeing the comparison (nothing changes if another
    plan was published meanwhile: :class:`BadInput`)."""
    from ltc_scheduler import service

    return service.publish_draft(
        engine, plan_run_id=plan_run_id, who=who, expected_published=expected_published
    )


def comparison_rows(outcome: Any) -> list[dict[str, str]]:
    """The publishing rule's figures, new plan next to the published one (the confirmation table)."""
    new, old = outcome.figures, outcome.published_figures
    if new is None or old is None:
        return []
    rows = [
        ("Stops unserved", new.unserved, old.unserved),
        ("STAT orders missed", new.stat_missed, old.stat_missed),
        ("Stops served", new.served, old.served),
        ("Solver result", new.solver_word, old.solver_word),
        ("Rules broken", new.broken_rules, old.broken_rules),
    ]
    new_col, old_col = f"New plan #{outcome.plan_run_id}", f"Published #{outcome.published_run_id}"
    return [{"": label, new_col: str(a), old_col: str(b)} for label, a, b in rows]
