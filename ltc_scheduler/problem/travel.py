"""Travel matrices: metres and seconds between every pair of points, from a pluggable provider.

* :class:`HaversineProvider` (default, no server): great-circle distance x a road detour factor,
  driven at an urban speed for short legs and a rural speed for the rest of longer legs.
  Vectorised numpy: 500 points take a few milliseconds.
* :class:`OsrmProvider`: an OSRM server's table API (``/table/v1/driving/...``), for real road
  distances and times. Large matrices are fetched in blocks that respect the server's
  ``--max-table-size``.

Every provider returns integer metres and integer seconds **rounded up**, so that an ETA built
from the matrix is never optimistic. :func:`provider_named` picks one by the setting's name
(``LTC_TRAVEL_PROVIDER=haversine|osrm``, ``LTC_OSRM_URL``).
"""

from __future__ import annotations

import contextlib
import json
import math
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ltc_scheduler.errors import PlanningError
from ltc_scheduler.problem.model import GeoPoint

__all__ = [
    "EARTH_RADIUS_M",
    "HaversineProvider",
    "OsrmProvider",
    "TravelError",
    "TravelMatrix",
    "TravelProvider",
    "provider_named",
]

EARTH_RADIUS_M = 6_371_008.8


class TravelError(PlanningError):
    """The travel matrix could not be built (routing server down, bad answer)."""


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """``metres[i, j]`` and ``seconds[i, j]`` from point ``i`` to point ``j`` (int64, zero diagonal)."""

    metres: np.ndarray
    seconds: np.ndarray

    def __post_init__(self) -> None:
        for name in ("metres", "seconds"):
            a = getattr(self, name)
            if not isinstance(a, np.ndarray) or a.ndim != 2 or a.shape[0] != a.shape[1]:
                raise ValueError(f"TravelMatrix.{name} must be a square 2-D array")
            if a.dtype != np.int64:
                raise ValueError(f"TravelMatrix.{name} must be int64, got {a.dtype}")
        if self.metres.shape != self.seconds.shape:
            raise ValueError(
                f"TravelMatrix metres {self.metres.shape} and seconds {self.seconds.shape} differ in shape"
            )

    @property
    def size(self) -> int:
        return int(self.metres.shape[0])

    def minutes(self, i: int, j: int) -> int:
        """Travel time from ``i`` to ``j`` in whole minutes, rounded up."""
        return -(-int(self.seconds[i, j]) // 60)


@runtime_checkable
class TravelProvider(Protocol):
    def matrix(self, points: Sequence[GeoPoint]) -> TravelMatrix: ...


def _coords(points: Sequence[GeoPoint]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.fromiter((p.lat for p in points), dtype=np.float64, count=len(points))
    lon = np.fromiter((p.lon for p in points), dtype=np.float64, count=len(points))
    bad = ~np.isfinite(lat) | ~np.isfinite(lon) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"point {i} has an invalid location (lat={lat[i]}, lon={lon[i]})")
    return lat, lon


def great_circle_m(points: Sequence[GeoPoint]) -> np.ndarray:
    """Great-circle distances in metres (float64 [n, n]), vectorised haversine."""
    lat, lon = _coords(points)
    phi = np.radians(lat)
    lam = np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True, slots=True)
class HaversineProvider:
    """Great circle x ``detour``; legs up to ``urban_radius_km`` road km are driven at ``urban_kmh``,
    the part of a longer leg beyond that at ``rural_kmh`` (city streets at both ends of a short
    hop, highway in between on a long one)."""

    detour: float = 1.3
    urban_kmh: float = 30.0
    rural_kmh: float = 65.0
    urban_radius_km: float = 8.0

    def __post_init__(self) -> None:
        if self.detour < 1.0:
            raise ValueError(f"detour must be >= 1.0, got {self.detour}")
        if self.urban_kmh <= 0 or self.rural_kmh <= 0:
            raise ValueError("speeds must be positive")
        if self.urban_radius_km < 0:
            raise ValueError("urban_radius_km must be >= 0")

    def matrix(self, points: Sequence[GeoPoint]) -> TravelMatrix:
        if len(points) == 0:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(empty, empty.copy())
        metres = np.rint(great_circle_m(points) * self.detour).astype(np.int64)
        np.fill_diagonal(metres, 0)
        return TravelMatrix(metres=metres, seconds=self.seconds_for(metres))

    def seconds_for(self, metres: np.ndarray) -> np.ndarray:
        """Driving seconds (rounded up) for road distances in metres."""
        m = np.asarray(metres, dtype=np.float64)
        r = self.urban_radius_km * 1000.0
        urban = np.minimum(m, r)
        rural = np.maximum(m - r, 0.0)
        s = urban * 3.6 / self.urban_kmh + rural * 3.6 / self.rural_kmh
        # tolerate float noise (1000 m at 36 km/h is 100 s, not 101)
        return np.ceil(s - 1e-6).astype(np.int64)


@dataclass(frozen=True, slots=True)
class OsrmProvider:
    """Road distances and times from an OSRM server (``osrm-routed``) table API.

    ``max_table_size`` is the server's ``--max-table-size`` (default 100 coordinates per
    request); larger matrices are fetched in blocks of sources x destinations.
    """

    base_url: str
    timeout: float = 30.0
    profile: str = "driving"
    max_table_size: int = 100

    def matrix(self, points: Sequence[GeoPoint]) -> TravelMatrix:
        n = len(points)
        if n == 0:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(empty, empty.copy())
        _coords(points)  # validate
        metres = np.zeros((n, n), dtype=np.int64)
        seconds = np.zeros((n, n), dtype=np.int64)
        if n <= self.max_table_size:
            dist, dur = self._table(list(points), None, None)
            metres[:, :], seconds[:, :] = dist, dur
        else:
            block = max(1, self.max_table_size // 2)
            for i0 in range(0, n, block):
                src = list(range(i0, min(n, i0 + block)))
                for j0 in range(0, n, block):
                    dst = list(range(j0, min(n, j0 + block)))
                    pts = [points[i] for i in src] + [points[j] for j in dst]
                    dist, dur = self._table(
                        pts, list(range(len(src))), list(range(len(src), len(src) + len(dst)))
                    )
                    metres[src[0] : src[-1] + 1, dst[0] : dst[-1] + 1] = dist
                    seconds[src[0] : src[-1] + 1, dst[0] : dst[-1] + 1] = dur
        np.fill_diagonal(metres, 0)
        np.fill_diagonal(seconds, 0)
        return TravelMatrix(metres=metres, seconds=seconds)

    def _url(self, points: Sequence[GeoPoint], sources: list[int] | None, dests: list[int] | None) -> str:
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in points)
        url = f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}?annotations=distance,duration"
        if sources is not None:
            url += "&sources=" + ";".join(map(str, sources))
        if dests is not None:
            url += "&destinations=" + ";".join(map(str, dests))
        return url

    def _table(
        self, points: Sequence[GeoPoint], sources: list[int] | None, dests: list[int] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        url = self._url(points, sources, dests)
        where = f"OSRM server at {self.base_url}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:  # noqa: S310 - configured URL
                body = resp.read()
        except urllib.error.HTTPError as e:
            detail = ""
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(e.read() or b"{}").get("message", "")
            raise TravelError(f"{where} answered HTTP {e.code}{': ' + detail if detail else ''}") from e
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise TravelError(
                f"{where} is not reachable ({reason}); start it or set LTC_TRAVEL_PROVIDER=haversine"
            ) from e
        try:
            data = json.loads(body)
        except ValueError as e:
            raise TravelError(f"{where} did not answer JSON") from e
        if not isinstance(data, dict) or data.get("code") != "Ok":
            code = data.get("code") if isinstance(data, dict) else None
            msg = data.get("message", "") if isinstance(data, dict) else ""
            raise TravelError(f"{where} answered code {code!r}{': ' + msg if msg else ''}")
        rows = len(sources) if sources is not None else len(points)
        cols = len(dests) if dests is not None else len(points)
        out = []
        for key in ("distances", "durations"):
            table = data.get(key)
            if table is None:
                raise TravelError(f"{where} answered without '{key}' (does it support annotations?)")
            try:
                arr = np.array(
                    [[math.nan if x is None else float(x) for x in row] for row in table], dtype=np.float64
                )
            except (TypeError, ValueError) as e:
                raise TravelError(f"{where} answered a malformed '{key}' table") from e
            if arr.shape != (rows, cols):
                raise TravelError(f"{where} answered '{key}' of shape {arr.shape}, expected {(rows, cols)}")
            if np.isnan(arr).any():
                i, j = (int(x) for x in np.argwhere(np.isnan(arr))[0])
                a = sources[i] if sources is not None else i
                b = dests[j] if dests is not None else j
                raise TravelError(
                    f"{where} found no road between points {points[a].lat:.5f},{points[a].lon:.5f} "
                    f"and {points[b].lat:.5f},{points[b].lon:.5f}"
                )
            if (arr < 0).any():
                raise TravelError(f"{where} answered negative values in '{key}'")
            out.append(arr)
        dist, dur = out
        return np.ceil(dist - 1e-9).astype(np.int64), np.ceil(dur - 1e-9).astype(np.int64)


def provider_named(
    name: str | None, *, osrm_url: str | None = None, timeout_s: float = 30.0
) -> TravelProvider:
    """The provider a setting names: ``haversine`` (built in, the default) or ``osrm`` (needs a URL).

    The caller passes the settings in (``LTC_TRAVEL_PROVIDER``, ``LTC_OSRM_URL``,
    ``LTC_OSRM_TIMEOUT_S``); nothing here reads the environment.
    """
    name = (name or "haversine").strip().lower()
    if name == "haversine":
        return HaversineProvider()
    if name == "osrm":
        if not osrm_url:
            raise ValueError("LTC_TRAVEL_PROVIDER=osrm needs LTC_OSRM_URL (e.g. http://localhost:5000)")
        return OsrmProvider(osrm_url, timeout=timeout_s)
    raise ValueError(f"LTC_TRAVEL_PROVIDER: unknown travel provider {name!r} (use 'haversine' or 'osrm')")
