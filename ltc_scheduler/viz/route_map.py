"""Map of the day's routes: the pharmacy, the facilities and each route in its own colour.

Uses plotly's MapLibre ``Scattermap`` with the free Carto/OpenStreetMap styles (no API key).
Routes are drawn as straight legs in stop order; stop numbers are shown on the markers.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ltc_scheduler.exports.common import route_label, stop_rows
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.viz._common import FONT, route_color

_LEGEND_PX = 64  # room under the map for the legend


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
    map_style: str = "carto-positron",
    height: int = 560,
) -> go.Figure:
    """The routes of ``plan`` on a map; ``highlight`` (a 1-based route number) dims the others."""
    fig = go.Figure()
    depot = problem.depot
    lats, lons = [depot.location.lat], [depot.location.lon]
    unserved_ids = {u.facility_id for u in plan.unserved}
    reasons: dict[int, list[str]] = {}
    for u in plan.unserved:
        reasons.setdefault(u.facility_id, []).append(u.reason)
    missing = [f for f in problem.facilities if f.id in unserved_ids]
    if missing:
        fig.add_trace(
            go.Scattermap(
                lat=[f.location.lat for f in missing],
                lon=[f.location.lon for f in missing],
                mode="markers",
                marker={"size": 13, "color": "#6b7280", "opacity": 0.85},
                name=f"Unserved ({len(missing)})",
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
                    f"<b>{label}</b>, stop %{{text}}<br>%{{customdata[0]}}<br>%{{customdata[1]}}<br>"
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
    fig.update_layout(
        map={
            "style": map_style,
            "center": {"lat": (max(lats) + min(lats)) / 2, "lon": (max(lons) + min(lons)) / 2},
            "zoom": _zoom(lats, lons, height - _LEGEND_PX),
        },
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": _LEGEND_PX},
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
