"""The dashboard's Re-plan under the publishing guard (issue 10): a worse plan is kept as a draft and
shown next to the published one, "Publish anyway" publishes it, a plan in progress is shown, and an
internal error is a sentence with a reference id (logged), never a traceback."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import plans
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import PlanStatus

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CONSTRAINTS = "ltc_scheduler/ui/app_pages/constraints.py"
DAY = dt.date(2026, 12, 1)


@pytest.fixture
def dash(engine: sa.Engine, tiny: dict[str, int], monkeypatch: pytest.MonkeyPatch):
    """The tiny day with one published plan (1 s solver limit); the dashboard reads it."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the dashboard opens its own engine from DATABASE_URL (SQLite here)")
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
        cs = s.exec(sa.select(m.ConstraintSet)).scalars().one()
        cs.settings = {**cs.settings, "time_limit_s": 1.0}
    first = service.plan_date(engine, date=DAY, started_by="test")
    assert first.published
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LTC_TIMEZONE", "America/Chicago")
    monkeypatch.setenv("LTC_USER", "dashboard")
    return engine, tiny, first


def _constraints_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["plan_date"] = DAY
    at.run()
    at.switch_page(CONSTRAINTS).run()
    assert not at.exception, [e.value for e in at.exception]
    at.checkbox(key="replan_keep").uncheck()
    return at


def _published(engine: sa.Engine) -> list[int]:
    with session_scope(engine) as s:
        return [r.id for r in plans.list_plan_runs(s, date=DAY) if r.published]


def test_a_worse_replan_shows_the_comparison_and_publishes_only_when_confirmed(dash) -> None:
    engine, tiny, first = dash
    with session_scope(engine) as s:
        s.get(m.Vehicle, tiny["v1"]).active = False
    at = _constraints_page()
    at.button(key="replan").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _published(engine) == [first.plan_run_id]
    with session_scope(engine) as s:
        draft_id = max(r.id for r in plans.list_plan_runs(s, date=DAY))
    warning = next(w.value for w in at.warning if "kept as a draft" in w.value)
    assert (
        f"Plan #{draft_id} was kept as a draft; plan #{first.plan_run_id} is still the published" in warning
    )
    assert f"vs 0 in published plan #{first.plan_run_id}" in warning
    table = at.dataframe[0].value
    assert list(table.columns) == ["", f"New plan #{draft_id}", f"Published #{first.plan_run_id}"]
    row = table.set_index("").loc["Stops unserved"]
    assert int(row[f"New plan #{draft_id}"]) > 0 and row[f"Published #{first.plan_run_id}"] == "0"

    at.button(key="publish_draft").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _published(engine) == [draft_id]
    assert any(f"New plan #{draft_id} for 2026-12-01 was published anyway" in s.value for s in at.success)


def test_an_internal_error_shows_a_sentence_and_a_reference_never_a_traceback(
    dash, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _, first = dash

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError(
            "INSERT INTO plan_run (date) VALUES (?)", ("2026-12-01",), Exception("x")
        )

    monkeypatch.setattr(service, "plan_date", broken)
    at = _constraints_page()
    with caplog.at_level(logging.ERROR, logger="ltc_scheduler.ui.editing"):
        at.button(key="replan").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    ref = re.search(r"Reference \*\*([0-9a-f]{8})\*\*", error)
    assert ref, error
    assert error.startswith(
        "Re-planning failed because of an internal error; the published plan is unchanged."
    )
    assert "INSERT" not in error and "Traceback" not in error and "OperationalError" not in error
    logged = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert _published(engine) == [first.plan_run_id]


def test_the_sidebar_shows_a_plan_in_progress(dash) -> None:
    engine, _, _ = dash
    with session_scope(engine) as s:
        s.add(
            m.PlanRun(date=DAY, status=PlanStatus.RUNNING, started_by="night shift", host="elsewhere", pid=1)
        )
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["plan_date"] = DAY
    at.run()
    assert not at.exception
    info = [i.value for i in at.sidebar.info]
    assert any(re.fullmatch(r"Plan #\d+ is being made by night shift \(started .+\)", t) for t in info), info
