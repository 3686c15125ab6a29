"""How fast the Today and Routes pages draw after navigation, in a real browser.

Usage::

    .venv/bin/python benchmarks/dash_bench.py --db /tmp/dash_medium.db [--rounds 5]

The database must hold a published plan for ``--date`` (default 2026-12-01), e.g.
``ltc-scheduler demo --scale medium --date 2026-12-01`` then ``ltc-scheduler plan --date 2026-12-01``.
Starts ``streamlit run app.py`` on a free local port, opens it in headless Chromium (playwright;
``LTC_CHROMIUM`` or /usr/bin/chromium) at 1,366 x 900, and clicks between the pages: the time is
from the click on the page's name in the top navigation to its last element drawn (Today: the
timeline chart under "Timeline"; Routes: the "Route details" table and the map). The first visit of
each page is the cold figure (the plan is read from the database); the median of the next
``--rounds`` visits is the warm one (plan and tables from the cache). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: what marks each page as drawn: its navigation link and a text near its end
PAGES = {
    "Today": ("Timeline", "Needs attention"),
    "Routes": ("Route details", "All routes"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_drawn(page, marker: str, timeout_ms: int = 60_000) -> None:
    page.get_by_text(marker, exact=True).first.wait_for(timeout=timeout_ms)
    # drawn: a chart in the page and nothing left over from the page before (Streamlit marks
    # the elements of the previous run stale until the new run replaces them)
    page.wait_for_function(
        """() => document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot .main-svg').length > 0
           && document.querySelectorAll('[data-testid="stMain"] [data-stale="true"]').length === 0""",
        timeout=timeout_ms,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, type=Path, help="SQLite file with a published plan")
    ap.add_argument("--date", default="2026-12-01")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{args.db.resolve()}",
        PYTHONPATH=str(ROOT),
        LTC_TIMEZONE=os.environ.get("LTC_TIMEZONE", "America/Chicago"),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("LTC_CHROMIUM", "/usr/bin/chromium"))
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            for _ in range(60):
                try:
                    page.goto(f"http://127.0.0.1:{port}/")
                    break
                except Exception:  # the server is still starting
                    time.sleep(1)
            _wait_drawn(page, PAGES["Today"][0])
            for _ in range(args.rounds + 1):
                for name, (marker, _) in (("Routes", PAGES["Routes"]), ("Today", PAGES["Today"])):
                    t0 = time.perf_counter()
                    page.get_by_role("link", name=name).first.click()
                    _wait_drawn(page, marker)
                    times[name].append(time.perf_counter() - t0)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    load = os.getloadavg()
    print(
        f"database {args.db}, plan date {args.date}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for name, ts in times.items():
        warm = ts[1:]
        print(
            f"{name:7s} first visit {ts[0]:.2f} s; warm median {statistics.median(warm):.2f} s "
            f"(min {min(warm):.2f}, max {max(warm):.2f}, {len(warm)} visits)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
