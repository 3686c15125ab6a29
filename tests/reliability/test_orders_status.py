"""Moving order lines along their life (``orders set-status``, the import's ``status`` column) and a
published plan marked stale when its order lines change afterwards (cancelled, new STAT).

Runs on SQLite and, with ``LTC_TEST_DATABASE_URL``, PostgreSQL (the CLI test: SQLite).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ltc_scheduler import service
from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.enums import OrderClass, OrderStatus
from ltc_scheduler.errors import BadInput
from ltc_scheduler.importers import import_orders
from ltc_scheduler.importers.csvfile import CsvText
from ltc_scheduler.problem.builder import local_to_utc

#: solver seconds per plan: enough for the tiny day even on a loaded machine
LIMIT = 3
DAY = dt.date(2026, 12, 1)
TZ = "America/Chicago"


@pytest.fixture(autouse=True)
def _clock_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_local_today", lambda: dt.date(2030, 1, 1))


def _status(session: Session, ext: str) -> str:
    session.expire_all()
    return OrderStatus(
        session.exec(select(m.OrderLine.status).where(m.OrderLine.external_id == ext)).one()
    ).value


def test_set_status_moves_lines_forward_all_or_nothing(session: Session, tiny: dict[str, int]) -> None:
    assert repo.set_order_status(session, external_ids=["O1", "O2"], status=OrderStatus.PACKED, who="t") == {
        "changed": 2,
        "unchanged": 0,
    }
    session.commit()
    with pytest.raises(BadInput) as err:
        repo.set_order_status(session, external_ids=["O1", "O5", "NOPE"], status=OrderStatus.OPEN, who="t")
    assert str(err.value).splitlines() == [
        "Nothing was changed:",
        "  order line 'NOPE': there is no such order line",
        "  order line 'O1': cannot set open: it is packed; only an exception or a cancelled line goes back"
        " to open",
        "  order line 'O5': cannot set open: it is delivered already; a delivered line does not change",
    ]
    session.rollback()
    assert _status(session, "O1") == "packed"
    repo.set_order_status(session, external_ids=["O1"], status=OrderStatus.OUT_FOR_DELIVERY, who="t")
    repo.set_order_status(session, external_ids=["O3"], status=OrderStatus.EXCEPTION, who="t")
    repo.set_order_status(session, external_ids=["O3"], status=OrderStatus.OPEN, who="t")
    session.commit()
    assert [_status(session, e) for e in ("O1", "O2", "O3")] == ["out_for_delivery", "packed", "open"]
    (ev, *_) = repo.list_audit_events(session)
    assert ev.what == "orders.set_status" and ev.details["changed"] == {"O3": ["exception", "open"]}


def _orders_csv(rows: list[tuple[str, str]]) -> CsvText:
    head = (
        "external_id,facility_id,resident_id,medication,order_class,doses,cards,received_at,need_by,status\n"
    )
    body = "".join(
        f"{ext},140001,R1,Amlodipine 5 mg tablet,cycle_fill,14,2,2026-11-28 10:00,2026-12-01 12:00,{status}\n"
        for ext, status in rows
    )
    return CsvText("orders.csv", head + body)


def test_the_import_status_column_follows_the_same_rules(session: Session, tiny: dict[str, int]) -> None:
    import_orders(session, _orders_csv([("O1", "packed"), ("N1", "open"), ("N2", "out_for_delivery")]), tz=TZ)
    session.commit()
    assert [_status(session, e) for e in ("O1", "N1", "N2")] == ["packed", "open", "out_for_delivery"]
    with pytest.raises(BadInput) as err:
        import_orders(session, _orders_csv([("O1", "open"), ("N1", "delivered"), ("N3", "planned")]), tz=TZ)
    text = str(err.value)
    assert "row 2, status: cannot set open: it is packed" in text
    assert "row 4, status: cannot set planned: 'planned' is set when a plan is published" in text
    assert "row 3" not in text  # open -> delivered is fine
    session.rollback()
    assert _status(session, "N1") == "open"


def test_cli_set_status(
    engine: sa.Engine,
    tiny: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI reads DATABASE_URL; the PostgreSQL test schema is not reachable by URL")
    from ltc_scheduler.cli import main
    from ltc_scheduler.config import get_settings

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        ids = tmp_path / "ids.csv"
        ids.write_text("external_id\nO2\nO3\n")
        assert main(["orders", "set-status", "out for delivery", "O1", "--file", str(ids)]) == 0
        assert capsys.readouterr().out.strip() == "3 order line(s) set to out_for_delivery; 0 already were"
        assert main(["orders", "set-status", "lost", "O1"]) == 2
        assert "'lost' is not an order status" in capsys.readouterr().err
        assert main(["orders", "set-status", "packed", "O1"]) == 2
        assert "statuses only move forward" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    with session_scope(engine) as s:
        assert [_status(s, e) for e in ("O1", "O2", "O3")] == ["out_for_delivery"] * 3


def test_a_published_plan_is_stale_when_its_lines_are_cancelled_or_a_new_stat_arrives(
    engine: sa.Engine, tiny: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        s.add(m.PackagingLine(name="Vials", kinds="vial_bottle", cards_per_hour=120))
    out = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    assert not service.plan_changes(engine, plan_run_id=out.plan_run_id).stale

    with session_scope(engine) as s:
        repo.set_order_status(s, external_ids=["O1"], status=OrderStatus.CANCELLED, who="pharmacy")
        s.add(
            m.OrderLine(
                external_id="STAT-NEW",
                resident_id=tiny["r3"],
                facility_id=tiny["fb"],
                medication_id=tiny["med1"],
                order_class=OrderClass.STAT,
                cards=1,
                received_at=local_to_utc(DAY, 14 * 60, TZ),
                need_by=local_to_utc(DAY, 18 * 60, TZ),
            )
        )
        # a routine line for tomorrow does not make today's plan stale
        repo.set_order_status(s, external_ids=["O4"], status=OrderStatus.CANCELLED, who="pharmacy")
    changes = service.plan_changes(engine, plan_run_id=out.plan_run_id)
    assert changes.stale
    assert (changes.cancelled, changes.exception, changes.new_urgent) == (("O1",), (), ("STAT-NEW",))
    assert changes.sentences == (
        "1 order line(s) this plan packs were cancelled since it was made: Alpha Care.",
        "1 new STAT / first-dose order line(s) arrived after the plan was made and are not in it: "
        "Beta AL (synthetic). Re-plan to pack and deliver them.",
    )
    # re-planning takes the new STAT and leaves the cancelled line out: the new plan is not stale
    again = service.plan_date(engine, date=DAY, started_by="test", time_limit_s=LIMIT)
    assert not service.plan_changes(engine, plan_run_id=again.plan_run_id).stale
