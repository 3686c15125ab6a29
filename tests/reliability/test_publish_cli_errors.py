"""An internal error on the command line (issue 10, finding 9): one sentence with a reference id,
no SQL, no parameters, no traceback; the traceback is logged under that reference."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from ltc_scheduler import service
from ltc_scheduler.cli import main
from ltc_scheduler.config import get_settings


def test_an_internal_error_is_a_sentence_with_a_reference_and_is_logged(
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "err.db"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    logger = logging.getLogger("ltc_scheduler")
    quiet = logging.NullHandler()
    logger.addHandler(quiet)

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError(
            "INSERT INTO plan_batch (plan_run_id, seq) VALUES (?, ?)", (1, 2), Exception("disk I/O error")
        )

    monkeypatch.setattr(service, "plan_date", broken)
    try:
        with caplog.at_level(logging.ERROR, logger="ltc_scheduler.cli"):
            assert main(["plan", "--date", "2026-12-01", "--time-limit", "1"]) == 1
    finally:
        logger.removeHandler(quiet)
        get_settings.cache_clear()
    err = capsys.readouterr().err
    ref = re.fullmatch(
        r"internal error \(reference ([0-9a-f]{8})\): disk I/O error; the details are in "
        r"data/ltc_scheduler.log under that reference\n",
        err,
    )
    assert ref, err
    assert "INSERT" not in err and "[SQL" not in err and "Traceback" not in err
    (record,) = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert record.exc_info is not None and "INSERT INTO plan_batch" in caplog.text
