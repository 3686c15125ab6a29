"""CLI: init, demo, import (exit codes 0 / 2, messages) on a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from ltc_scheduler.cli import main
from ltc_scheduler.config import PROJECT_ROOT, get_settings
from ltc_scheduler.db import models as m
from ltc_scheduler.db.engine import current_revision, head_revision, make_engine

EXAMPLES = PROJECT_ROOT / "data" / "examples"


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL pointing at a fresh SQLite file (settings cache cleared before and after)."""
    url = f"sqlite:///{tmp_path / 'sub' / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LTC_USER", "tester")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_init_creates_and_is_idempotent(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    assert f"migrated from empty to schema {head_revision()}" in capsys.readouterr().out
    assert main(["init"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert current_revision(make_engine(db_url)) == head_revision() == "0003"


def test_demo_then_if_empty_then_refuses(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["demo", "--date", "2026-12-01", "--seed", "5", "--facilities", "6", "--region", "peoria"]) == 0
    )
    out = capsys.readouterr().out
    assert "demo pharmacy seeded for 2026-12-01 (small, region peoria, seed 5)" in out
    assert "facilities 6" in out
    assert main(["demo", "--if-empty", "--date", "2026-12-01"]) == 0
    assert "demo not seeded" in capsys.readouterr().out
    assert main(["demo", "--date", "2026-12-01"]) == 2
    assert "already holds data" in capsys.readouterr().err
    with Session(make_engine(db_url)) as s:
        assert len(s.exec(select(m.Facility)).all()) == 6


def test_demo_bad_arguments_exit_2(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--date", "2026-13-01"]) == 2
    assert "--date: '2026-13-01' is not a date" in capsys.readouterr().err
    assert main(["demo", "--scale", "huge"]) == 2
    assert main(["demo", "--region", "mars"]) == 2


def test_import_examples_and_bad_file(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("facilities", "medications", "orders"):
        assert main(["import", kind, str(EXAMPLES / f"{kind}.csv")]) == 0
    out = capsys.readouterr().out
    assert "orders.csv: imported 7 orders rows (7 new, 0 updated, 6 new residents)" in out
    bad = tmp_path / "orders.csv"
    bad.write_text(
        "external_id,facility_id,resident_id,medication,order_class,doses,cards,received_at,need_by\n"
        "Q1,EX-SNF-0001,R1,Simvastatin 20 mg tablet,refill,1,1,2026-12-01 08:00,2026-13-01\n"
    )
    assert main(["import", "orders", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "orders.csv row 2, need_by: '2026-13-01' is not a date" in err
    assert main(["import", "orders", str(tmp_path / "nope.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    with Session(make_engine(db_url)) as s:
        assert len(s.exec(select(m.OrderLine)).all()) == 7
        events = [e.what for e in s.exec(select(m.AuditEvent))]
    assert events == ["import.facilities", "import.medications", "import.orders"]


def test_import_lists_at_most_50_errors(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "meds.csv"
    bad.write_text("name,packaging_kind\n" + "".join(f"M{i},box\n" for i in range(70)))
    assert main(["import", "medications", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "70 problem(s) in 70 row(s) (first 50 shown, 20 more)" in err
    assert "meds.csv row 51, packaging_kind" in err and "meds.csv row 52," not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["init", "--help"],
        ["demo", "--help"],
        ["import", "--help"],
        ["import", "orders", "--help"],
        ["import", "facilities", "--help"],
        ["import", "medications", "--help"],
        ["version"],
    ],
)
def test_help_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out.strip()
