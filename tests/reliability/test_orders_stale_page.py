"""The Today page marks a published plan stale when its order lines changed afterwards (AppTest,
SQLite: the dashboard reads ``DATABASE_URL``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import OrderStatus

#: solver seconds per plan: enough for the tiny day even on a loaded machine
LIMIT = 3
DAY = dt.date(2026, 12, 1)
APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _today_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["plan_date"] = DAY
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_today_shows_a_stale_banner_naming_what_changed(
    engine: sa.Engine, tiny: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the dashboard reads DATABASE_URL; the PostgreSQL test schema is not reachable by URL")
    from ltc_scheduler.config import get_settings

    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LTC_TIMEZONE", "America/Chicago")
    get_settings.cache_clear()
    try:
        at = _today_page()
        assert not [w for w in at.warning if "stale" in w.value]
        with session_scope(engine) as s:
            repo.set_order_status(s, external_ids=["O2"], status=OrderStatus.CANCELLED, who="pharmacy")
        at = _today_page()
        (banner,) = [w.value for w in at.warning if "stale" in w.value]
        assert banner.startswith("**This plan is stale: its order lines changed after it was made.**")
        assert "1 order line(s) this plan packs were cancelled since it was made: Alpha Care." in banner
    finally:
        get_settings.cache_clear()
