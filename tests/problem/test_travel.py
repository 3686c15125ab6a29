"""Travel matrices: the haversine default and the OSRM table client against a fake OSRM server."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from ltc_scheduler.config import Settings
from ltc_scheduler.problem.model import GeoPoint
from ltc_scheduler.problem.travel import (
    HaversineProvider,
    OsrmProvider,
    TravelError,
    TravelMatrix,
    TravelProvider,
    great_circle_m,
    provider_named,
)

CHICAGO = GeoPoint(41.8781, -87.6298)
# one degree of latitude is 111.195 km on the mean-radius sphere
NORTH_1KM = GeoPoint(41.8781 + 1 / 111.19508, -87.6298)


# ---------------------------------------------------------------- haversine


def test_great_circle_one_degree_latitude():
    d = great_circle_m([GeoPoint(0.0, 0.0), GeoPoint(1.0, 0.0)])
    assert d[0, 1] == pytest.approx(111_195, abs=1)
    assert d[1, 0] == d[0, 1]


def test_haversine_integer_metres_and_seconds_rounded_up():
    prov = HaversineProvider(detour=1.3, urban_kmh=30, rural_kmh=60, urban_radius_km=8)
    m = prov.matrix([CHICAGO, NORTH_1KM])
    assert m.metres.dtype == np.int64 and m.seconds.dtype == np.int64
    assert m.metres[0, 1] == 1300  # 1 km x 1.3
    assert m.seconds[0, 1] == 156  # 1300 m at 30 km/h = 156.0 s exactly
    assert m.metres[0, 0] == 0 and m.seconds[1, 1] == 0
    # 1301 m at 30 km/h = 156.12 s -> 157 (never optimistic)
    assert prov.seconds_for(np.array([1301]))[0] == 157


def test_haversine_urban_then_rural_speed():
    prov = HaversineProvider(detour=1.0, urban_kmh=30, rural_kmh=60, urban_radius_km=8)
    s = prov.seconds_for(np.array([8000, 20000]))
    assert s[0] == 960  # 8 km at 30 km/h
    assert s[1] == 960 + 720  # + 12 km at 60 km/h
    # long legs are faster per km than short ones, and time grows with distance
    assert s[1] / 20000 < s[0] / 8000


def test_haversine_matrix_symmetric_and_big():
    rng = np.random.default_rng(7)
    pts = [GeoPoint(41.5 + rng.random(), -88.0 + rng.random()) for _ in range(250)]
    m = HaversineProvider().matrix(pts)
    assert m.size == 250
    assert (m.metres == m.metres.T).all()
    assert (np.diag(m.seconds) == 0).all()
    off = ~np.eye(250, dtype=bool)
    assert (m.seconds[off] > 0).all()


def test_haversine_rejects_bad_points():
    with pytest.raises(ValueError, match="point 1"):
        HaversineProvider().matrix([CHICAGO, GeoPoint(91.0, 0.0)])


def test_matrix_shape_checked():
    with pytest.raises(ValueError):
        TravelMatrix(np.zeros((2, 2), dtype=np.int64), np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(ValueError):
        TravelMatrix(np.zeros((2, 2)), np.zeros((2, 2), dtype=np.int64))


def test_minutes_round_up():
    m = TravelMatrix(np.zeros((2, 2), dtype=np.int64), np.array([[0, 61], [60, 0]], dtype=np.int64))
    assert m.minutes(0, 1) == 2
    assert m.minutes(1, 0) == 1


def test_providers_satisfy_protocol():
    assert isinstance(HaversineProvider(), TravelProvider)
    assert isinstance(OsrmProvider("http://x"), TravelProvider)


# ---------------------------------------------------------------- fake OSRM


class FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/... with distance = 1.5 x great circle, duration = distance / 10 m/s."""

    mode = "ok"
    requests: list[str] = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up (timeout test)
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        type(self).requests.append(self.path)
        url = urlsplit(self.path)
        parts = url.path.split("/")
        if parts[1:4] != ["table", "v1", "driving"]:
            self._send(400, json.dumps({"code": "InvalidUrl", "message": "bad path"}).encode())
            return
        coords = [tuple(map(float, c.split(","))) for c in parts[4].split(";")]
        pts = [GeoPoint(lat, lon) for lon, lat in coords]
        q = parse_qs(url.query)
        assert q["annotations"] == ["distance,duration"]
        src = [int(x) for x in q["sources"][0].split(";")] if "sources" in q else list(range(len(pts)))
        dst = (
            [int(x) for x in q["destinations"][0].split(";")]
            if "destinations" in q
            else list(range(len(pts)))
        )
        d = great_circle_m(pts) * 1.5
        dist = [[round(float(d[i, j]), 1) for j in dst] for i in src]
        dur = [[round(float(d[i, j]) / 10.0, 1) for j in dst] for i in src]
        mode = type(self).mode
        if mode == "http500":
            self._send(500, b"oops")
        elif mode == "toobig":
            self._send(400, json.dumps({"code": "TooBig", "message": "Too many table coordinates"}).encode())
        elif mode == "notjson":
            self._send(200, b"<html>hello</html>")
        elif mode == "nocode":
            self._send(200, json.dumps({"code": "NoTable"}).encode())
        elif mode == "null":
            dur[0][-1] = None
            self._send(200, json.dumps({"code": "Ok", "distances": dist, "durations": dur}).encode())
        elif mode == "nodist":
            self._send(200, json.dumps({"code": "Ok", "durations": dur}).encode())
        elif mode == "slow":
            time.sleep(1.0)
            self._send(200, json.dumps({"code": "Ok", "distances": dist, "durations": dur}).encode())
        else:
            self._send(200, json.dumps({"code": "Ok", "distances": dist, "durations": dur}).encode())


@pytest.fixture(scope="module")
def _osrm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def osrm_url(_osrm_server):
    """A fake OSRM server on a free local port, reset to answering correctly."""
    FakeOsrm.mode = "ok"
    FakeOsrm.requests = []
    return _osrm_server


def _points(n: int) -> list[GeoPoint]:
    return [GeoPoint(41.80 + 0.01 * i, -87.70 + 0.013 * (i % 3)) for i in range(n)]


def test_osrm_matrix_from_fake_server(osrm_url):
    pts = _points(5)
    m = OsrmProvider(osrm_url, timeout=5).matrix(pts)
    expected_m = great_circle_m(pts) * 1.5
    assert m.metres.dtype == np.int64
    # integer metres, seconds rounded up from the server's (rounded to 0.1) values
    assert np.abs(m.metres - expected_m).max() <= 1.0
    assert (m.seconds >= np.round(expected_m / 10.0, 1) - 1e-9).all()
    assert m.seconds[0, 4] == int(np.ceil(round(expected_m[0, 4] / 10.0, 1)))
    assert len(FakeOsrm.requests) == 1
    assert FakeOsrm.requests[0].startswith("/table/v1/driving/-87.700000,41.800000;")


def test_osrm_large_matrix_in_blocks(osrm_url):
    pts = _points(11)
    whole = OsrmProvider(osrm_url, max_table_size=100).matrix(pts)
    assert len(FakeOsrm.requests) == 1
    blocks = OsrmProvider(osrm_url, max_table_size=6).matrix(pts)  # blocks of 3 -> 4 x 4 requests
    assert len(FakeOsrm.requests) == 1 + 16
    assert (blocks.metres == whole.metres).all()
    assert (blocks.seconds == whole.seconds).all()


@pytest.mark.parametrize(
    "mode, match",
    [
        ("http500", "HTTP 500"),
        ("toobig", "Too many table coordinates"),
        ("notjson", "did not answer JSON"),
        ("nocode", "NoTable"),
        ("null", "no road between"),
        ("nodist", "without 'distances'"),
    ],
)
def test_osrm_bad_answers(osrm_url, mode, match):
    FakeOsrm.mode = mode
    with pytest.raises(TravelError, match=match):
        OsrmProvider(osrm_url, timeout=5).matrix(_points(3))


def test_osrm_timeout(osrm_url):
    FakeOsrm.mode = "slow"
    with pytest.raises(TravelError, match="not reachable"):
        OsrmProvider(osrm_url, timeout=0.2).matrix(_points(2))


def test_osrm_server_down():
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TravelError, match="not reachable.*haversine"):
        OsrmProvider(f"http://127.0.0.1:{port}", timeout=2).matrix(_points(2))


# ---------------------------------------------------------------- configuration


def test_provider_named_default_is_haversine(monkeypatch):
    monkeypatch.delenv("LTC_TRAVEL_PROVIDER", raising=False)
    assert isinstance(
        provider_named(Settings().travel_provider, osrm_url=Settings().osrm_url), HaversineProvider
    )


def test_provider_named_osrm(monkeypatch):
    monkeypatch.setenv("LTC_TRAVEL_PROVIDER", "osrm")
    monkeypatch.setenv("LTC_OSRM_URL", "http://osrm.local:5000")
    prov = provider_named(Settings().travel_provider, osrm_url=Settings().osrm_url)
    assert isinstance(prov, OsrmProvider)
    assert prov.base_url == "http://osrm.local:5000"


def test_provider_named_errors(monkeypatch):
    monkeypatch.setenv("LTC_TRAVEL_PROVIDER", "osrm")
    monkeypatch.delenv("LTC_OSRM_URL", raising=False)
    with pytest.raises(ValueError, match="LTC_OSRM_URL"):
        provider_named(Settings().travel_provider, osrm_url=Settings().osrm_url)
    monkeypatch.setenv("LTC_TRAVEL_PROVIDER", "google")
    with pytest.raises(ValueError, match="unknown travel provider 'google'"):
        provider_named(Settings().travel_provider, osrm_url=Settings().osrm_url)
