"""End to end in a real browser: ``streamlit run app.py`` on a free localhost port against a temporary
SQLite database (the small demo day, planned with a 2 s solver limit), driven by headless Chromium
through Playwright (the system's ``chromium``, no browser download).

Opens every page, asserts on visible text, clicks Re-plan and waits for the new plan, and saves
screenshots of Today and Routes under ``tests/artifacts/``. With ``LTC_DOC_SCREENSHOTS=1`` it also
writes the README's screenshots (Today, Packaging, Routes) to ``docs/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("LTC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_DATE = dt.date(2026, 12, 1)


@dataclass(frozen=True)
class Dashboard:
    base: str  # http://127.0.0.1:PORT
    busiest_route: str  # the label of the route with the most stops (the README's Routes screenshot shows it)
    busiest_manifest: str  # the file name its driver manifest downloads as


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout} s")


@pytest.fixture(scope="module")
def dashboard(demo_small_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """A running dashboard on a planned copy of the small demo day."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set LTC_CHROMIUM or `apt-get install chromium`)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    from ltc_scheduler import service
    from ltc_scheduler.db import constraints
    from ltc_scheduler.db.engine import make_engine, session_scope

    folder = tmp_path_factory.mktemp("browser")
    path = folder / "dash.db"
    shutil.copyfile(demo_small_template, path)
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    if os.environ.get("LTC_DOC_SCREENSHOTS") != "1":  # the README's screenshots get the default limit
        with session_scope(eng) as s:
            constraints.update_settings(s, values={"time_limit_s": 2}, who="browser-test")
    outcome = service.plan_date(eng, date=DEMO_DATE, started_by="browser-test")
    from ltc_scheduler.db import plans
    from ltc_scheduler.exports.common import RunTag, route_label, route_slug

    with session_scope(eng) as s:
        record = plans.load_plan_record(s, plan_run_id=outcome.plan_run_id)
        tag = RunTag.of(record.run.id, record.run.created_at, "America/Chicago")
    routes = record.plan.routes
    no = 1 + max(range(len(routes)), key=lambda i: len(routes[i].stops)) if routes else 1
    busiest = route_label(record.plan, record.problem, no)
    manifest = f"2026-12-01_{tag.stem()}_{route_slug(record.plan, record.problem, no)}_manifest.pdf"
    eng.dispose()

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LTC_TIMEZONE": "America/Chicago",
        "LTC_USER": "browser-test",
        # the CI browser has no internet access: a plain map background instead of Carto tiles
        "LTC_MAP_STYLE": os.environ.get("LTC_MAP_STYLE", "white-bg"),
    }
    log = (folder / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield Dashboard(base, busiest, manifest)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(dashboard: Dashboard):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tall = os.environ.get("LTC_DOC_SCREENSHOTS") == "1"
        pg = browser.new_page(viewport={"width": 1440, "height": 1500 if tall else 1000})
        pg.set_default_timeout(60_000)
        yield pg
        browser.close()


def _open(page, base: str, path: str) -> None:
    page.goto(f"{base}/{path}")
    _settle(page)


def _settle(page) -> None:
    """Wait until the script run has finished and the charts have drawn."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.wait_for_timeout(1500)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)


def _text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


#: how tall a README screenshot may be (px); shorter pages are cut below their content
DOC_MAX_HEIGHT = 1500
_CONTENT_BOTTOM = """() => {
  const el = document.querySelector("[data-testid='stMainBlockContainer']");
  return Math.ceil(el.getBoundingClientRect().top + el.scrollHeight);
}"""


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if os.environ.get("LTC_DOC_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        height = min(DOC_MAX_HEIGHT, max(800, page.evaluate(_CONTENT_BOTTOM)))
        page.set_viewport_size({"width": 1440, "height": height})
        page.wait_for_timeout(2500)
        page.screenshot(path=str(DOCS / f"{name}.png"))
        page.set_viewport_size({"width": 1440, "height": DOC_MAX_HEIGHT})


def test_every_page_shows_the_plan_and_replan_makes_a_new_one(dashboard: Dashboard, page) -> None:
    base = dashboard.base
    _open(page, base, "")
    text = _text(page)
    assert "Today" in text and "Needs attention" in text and "The day in numbers" in text
    assert "Unserved stops" in text and "Timeline" in text
    sidebar = page.inner_text("[data-testid='stSidebar']")
    assert "Plan #1" in sidebar and "published" in sidebar and "Demo LTC Pharmacy" in sidebar
    _shot(page, "today")

    _open(page, base, "packaging")
    text = _text(page)
    assert "Packaging" in text and "Batches" in text and "Packing list (PDF)" in text
    assert page.locator(".js-plotly-plot").count() >= 1
    _shot(page, "packaging")

    _open(page, base, "routes")
    text = _text(page)
    assert "All routes" in text and "Stops of all routes (CSV)" in text
    assert " · trip 1" in text
    page.get_by_text(dashboard.busiest_route, exact=True).first.click()
    page.get_by_text("Driver manifest (PDF)").wait_for()
    _settle(page)
    text = _text(page)
    assert "Google Maps directions" in text and "Navigation (GPX)" in text and "Stops" in text
    _shot(page, "routes")
    with page.expect_download() as download:  # the manifest is built when the button is clicked
        page.get_by_text("Driver manifest (PDF)").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    manifest = "\n".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    assert "DRIVER MANIFEST" in manifest and "Controlled-substance count sheet" in manifest
    assert download.value.suggested_filename == dashboard.busiest_manifest

    _open(page, base, "orders")
    text = _text(page)
    assert "Orders" in text and "order lines due this day" in text and "Upload orders" in text

    _open(page, base, "compare")
    assert "Only one plan for 2026-12-01" in _text(page)

    _open(page, base, "constraints")
    text = _text(page)
    assert "Constraints" in text and "Vehicles" in text and "Objective & time limit" in text
    version = re.search(r"constraint set v(\d+) saved", text).group(1)
    # type a bad tote capacity into the vehicles table (a canvas grid AppTest cannot edit)
    page.get_by_role("tab", name="Vehicles").click()
    _settle(page)
    grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(grid["x"] + 30, grid["y"] + 53)  # row 1 (Van 01), first column
    page.wait_for_timeout(300)
    for _ in range(5):  # -> "Shift end"
        page.keyboard.press("ArrowRight")
    page.keyboard.type("x")  # typing on a selected cell replaces its value
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Save vehicles").click()
    page.get_by_text("Nothing was saved").wait_for()
    text = _text(page)
    assert (
        "Vehicles row 1, shift_end: must be a time of day from 00:00 to 24:00, such as 07:30 (got 'x')"
        in text
    )
    assert f"constraint set v{version} saved" in text  # no new version
    page.get_by_role("button", name="Re-plan", exact=True).click()
    page.get_by_text(re.compile(r"New plan #2 for|Plan #2 was kept as a draft")).first.wait_for(
        timeout=120_000
    )
    _settle(page)
    if "Plan #2 was kept as a draft" in _text(page):  # worse than plan #1 (a busy machine): confirm it
        page.get_by_role("button", name="Publish plan #2 anyway").click()
        page.get_by_text("New plan #2 for").wait_for(timeout=60_000)
        _settle(page)
    assert "It is now the published plan." in _text(page)
    assert "Plan #2" in page.inner_text("[data-testid='stSidebar']")

    _open(page, base, "compare")
    text = _text(page)
    assert "Key figures" in text and "Stops moved" in text
