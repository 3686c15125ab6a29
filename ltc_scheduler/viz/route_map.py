"""Map of the day's routes: the pharmacy, the facilities and each route in its own colour.

Uses plotly's MapLibre ``Scattermap``. The default style, :data:`PLAIN_STYLE`, loads nothing from
the internet (a plain background), so the routes, stops, pharmacy and the scale bar show on a
network that cannot reach a tile server; street tiles (Carto's free styles, no API key) are an
opt-in for sites that reach them (:data:`TILE_STYLES`). Routes are drawn as straight legs in stop
order; stop numbers are shown on the markers (and in the hover, which needs no map fonts).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ltc_scheduler.exports.common import LABEL_SEP, route_label, stop_rows
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.viz._common import FONT, UNSERVED_COLOR, route_color

_LEGEND_PX = 64  # room under the map for the legend (a few routes)
_LEGEND_ROW_PX = 22  # one line of legend entries
_LEGEND_PER_ROW = 4  # entries on one line in the map's column on a 1,366 px screen


def legend_px(entries: int) -> int:
    """Room under the map for a legend of ``entries`` names, so a day with many routes does not
    squeeze the map itself."""
    return max(_LEGEND_PX, _LEGEND_ROW_PX * math.ceil(entries / _LEGEND_PER_ROW) + 12)


_WIDTH_PX = 600  # the map's width when fitting the zoom: its column on a 1,366 px laptop screen

#: the default: a plain background, nothing fetched from the internet
PLAIN_STYLE = "white-bg"
#: basemaps with street tiles, fetched by the browser from the tile server (needs internet access)
TILE_STYLES: tuple[str, ...] = ("carto-positron", "carto-voyager", "open-street-map")
#: scale bar lengths to choose from, km
_SCALE_KM: tuple[float, ...] = (0.5, 1, 2, 5, 10, 20, 50, 100, 200)
_KM_PER_DEG_LAT = 111.32


def style_text(map_style: str) -> str:
    """What the page says about the basemap in use."""
    if map_style == PLAIN_STYLE:
        return (
            "Plain map: works without internet access (no street tiles); hover a stop for its "
            "number, facility and times."
        )
    return (
        f"Street map tiles ({map_style}), loaded by your browser from the internet; if the map stays "
        "blank, this computer cannot reach the tile server: switch the street map off."
    )


def scale_km(lats: list[float], lons: list[float]) -> float:
    """The scale bar's length: the longest of 0.5, 1, 2, 5, 10 ... km not over a quarter of the
    width of the area shown."""
    mid = math.radians((max(lats) + min(lats)) / 2)
    width_km = max(max(lons) - min(lons), 0.002) * _KM_PER_DEG_LAT * max(math.cos(mid), 0.1)
    fits = [k for k in _SCALE_KM if k <= width_km / 4]
    return fits[-1] if fits else _SCALE_KM[0]


def _scale_traces(lats: list[float], lons: list[float]) -> list[go.Scattermap]:
    """A scale bar under the bottom-left corner of the points: a line of :func:`scale_km` with end
    ticks, its length written beside it, and named in the legend (``Scale: 5 km``) so it reads
    where the map cannot load its fonts."""
    km = scale_km(lats, lons)
    mid = math.radians((max(lats) + min(lats)) / 2)
    dlat = max(max(lats) - min(lats), 0.002)
    lat0 = min(lats) - 0.06 * dlat
    lon0 = min(lons)
    lon1 = lon0 + km / (_KM_PER_DEG_LAT * max(math.cos(mid), 0.1))
    tick = 0.025 * dlat
    text = f"{km:g} km"
    bar = go.Scattermap(
        lat=[lat0 + tick, lat0, lat0, lat0 + tick],
        lon=[lon0, lon0, lon1, lon1],
        mode="lines+markers",  # not "lines": those are the routes
        marker={"size": 1, "color": "#111827"},
        line={"color": "#111827", "width": 3},
        name=f"Scale: {text}",
        legendgroup="scale",
        legendrank=10_000,
        hoverinfo="skip",
        meta={"scale_km": km},
    )
    label = go.Scattermap(
        lat=[lat0],
        lon=[lon1],
        mode="markers+text",
        marker={"size": 1, "color": "#111827", "opacity": 0},
        text=[text],
        textposition="middle right",
        textfont={"color": "#111827", "size": 12},
        name=f"Scale: {text} (label)",
        legendgroup="scale",
        showlegend=False,
        hoverinfo="skip",
    )
    return [bar, label]


def _zoom(lats: list[float], lons: list[float], height: int, width: int = 900) -> float:
    """The Web Mercator zoom level that fits the points into a ``width`` x ``height`` px map."""
    dlat = max(max(lats) - min(lats), 0.002)
    dlon = max(max(lons) - min(lons), 0.002)
    cos_lat = max(math.cos(math.radians((max(lats) + min(lats)) / 2)), 0.1)
    fit_lon = math.log2(width * 360 / (512 * dlon))  # MapLibre: the world is 512 px wide at zoom 0
    fit_lat = math.log2(height * 360 * cos_lat / (512 * dlat))
    return max(2.0, min(15.0, min(fit_lon, fit_lat) - 0.35))


def route_map(
    plan: Plan,
    problem: PlanningProblem,
    *,
    highlight: int | None = None,
    map_style: str = PLAIN_STYLE,
    height: int = 560,
) -> go.Figure:
    """The routes of ``plan`` on a map with a scale bar; ``highlight`` (a 1-based route number) dims
    the others. ``map_style``: :data:`PLAIN_STYLE` (default, no internet needed) or a tile style."""
    fig = go.Figure()
    depot = problem.depot
    lats, lons = [depot.location.lat], [depot.location.lon]
    reasons: dict[int, list[str]] = {}
    for u in plan.unserved:
        reasons.setdefault(u.facility_id, []).append(u.reason)
    missing = [f for f in problem.facilities if f.id in reasons]
    if missing:
        placed = sum(len(reasons[f.id]) for f in missing)
        off_map = len(plan.unserved) - placed
        fig.add_trace(
            go.Scattermap(
                lat=[f.location.lat for f in missing],
                lon=[f.location.lon for f in missing],
                mode="markers",
                marker={"size": 13, "color": UNSERVED_COLOR, "opacity": 0.85},
                name=f"Unserved ({len(plan.unserved)}" + (f", {off_map} not on the map)" if off_map else ")"),
                text=[f"{f.name}: " + "; ".join(reasons[f.id]) for f in missing],
                hovertemplate="<b>Unserved</b><br>%{text}<extra></extra>",
            )
        )
        lats += [f.location.lat for f in missing]
        lons += [f.location.lon for f in missing]
    order = sorted(range(1, len(plan.routes) + 1), key=lambda n: n == highlight)  # highlighted route on top
    for no in order:
        rows = stop_rows(plan, problem, no)
        pts = [r for r in rows if r.lat is not None and r.lon is not None]
        color = route_color(no)
        dim = highlight is not None and highlight != no
        label = route_label(plan, problem, no)
        lat = [depot.location.lat, *[r.lat for r in pts], depot.location.lat]
        lon = [depot.location.lon, *[r.lon for r in pts], depot.location.lon]
        lats += lat
        lons += lon
        fig.add_trace(
            go.Scattermap(
                lat=lat,
                lon=lon,
                mode="lines",
                line={"color": color, "width": 5 if highlight == no else 3},
                opacity=0.25 if dim else 0.9,
                name=label,
                legendgroup=f"r{no}",
                legendrank=no,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scattermap(
                lat=[r.lat for r in pts],
                lon=[r.lon for r in pts],
                mode="markers+text",
                marker={"size": 17 if highlight == no else 14, "color": color},
                opacity=0.3 if dim else 1.0,
                text=[str(r.sequence) for r in pts],
                textfont={"color": "white", "size": 11},
                textposition="middle center",
                name=label,
                legendgroup=f"r{no}",
                showlegend=False,
                customdata=[
                    [
                        r.facility,
                        r.address,
                        r.eta,
                        r.window or "any",
                        r.totes,
                        r.cold,
                        r.controlled,
                        f"late {r.late_min} min" if r.late_min else "on time",
                    ]
                    for r in pts
                ],
                hovertemplate=(
                    f"<b>{label}{LABEL_SEP}stop %{{text}}</b><br>%{{customdata[0]}}<br>%{{customdata[1]}}<br>"
                    "ETA %{customdata[2]} (window %{customdata[3]}), %{customdata[7]}<br>"
                    "%{customdata[4]} totes (%{customdata[5]} cold, %{customdata[6]} controlled)"
                    "<extra></extra>"
                ),
            )
        )
    fig.add_trace(
        go.Scattermap(
            lat=[depot.location.lat],
            lon=[depot.location.lon],
            mode="markers",
            marker={"size": 24, "color": "#0f172a"},
            name=depot.name,
            text=[f"{depot.name}<br>{depot.address}"],
            hovertemplate="<b>Pharmacy</b><br>%{text}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scattermap(
            lat=[depot.location.lat],
            lon=[depot.location.lon],
            mode="markers",
            marker={"size": 10, "color": "#fbbf24"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    legend = legend_px(sum(1 for t in fig.data if t.showlegend is not False) + 2)  # scale, long name
    scale = _scale_traces(lats, lons)
    fig.add_traces(scale)
    lats.append(scale[0].lat[1])
    fig.update_layout(
        map={
            "style": map_style,
            "center": {"lat": (max(lats) + min(lats)) / 2, "lon": (max(lons) + min(lons)) / 2},
            "zoom": _zoom(lats, lons, height - _LEGEND_PX, _WIDTH_PX),  # the map, legend aside
        },
        height=height - _LEGEND_PX + legend,
        margin={"l": 0, "r": 0, "t": 0, "b": legend},
        font={"family": FONT, "size": 13},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.01,
            "xanchor": "left",
            "x": 0,
            "font": {"size": 12},
        },
        uirevision="routes",
    )
    if plan.routes:
        first = min(r.depart_min for r in plan.routes)
        last = max(r.return_min for r in plan.routes)
        fig.update_layout(meta={"span": f"{clock(first)}-{clock(last)}"})
    return fig
