"""`make run` serves the dashboard on this machine only, with Streamlit's CORS and XSRF protection on."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_binds_the_dashboard_to_localhost() -> None:
    out = subprocess.run(
        ["make", "-n", "run", "VENV=/nonexistent-venv"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if "streamlit run app.py" in x)
    assert "--server.address 127.0.0.1" in line


def test_streamlit_config_keeps_the_protections_on() -> None:
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableCORS"] is True and server["enableXsrfProtection"] is True
