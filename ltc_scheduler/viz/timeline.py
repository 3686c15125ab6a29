"""The day at a glance: packaging, verification and every route on one clock axis."""

from __future__ import annotations

import plotly.graph_objects as go

from ltc_scheduler.exports.common import facility_name, route_label
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.viz._common import (
    FONT,
    LATE_COLOR,
    at,
    empty_figure,
    route_color,
    span_ms,
    style_time_axis,
)


def timeline(plan: Plan, problem: PlanningProblem, *, now_min: int | None = None) -> go.Figure:
    """One row per packaging line, one for verification and one per route (depart -> back).

    Route bars carry a marker per stop at its arrival: white when on time, red when late,
    a star for STAT stops. ``now_min`` (minutes from local midnight) draws a "now" line.
    """
    packed = [b for b in plan.batches if b.start_min is not None and b.end_min is not None]
    verified = [b for b in plan.batches if b.verify_start_min is not None and b.verify_end_min is not None]
    if not packed and not plan.routes:
        return empty_figure("Nothing planned for this day yet")
    fig = go.Figure()
    rows: list[str] = []
    line_names = {p.id: p.name for p in problem.lines}
    if packed:
        names = [line_names.get(b.line_id, f"Line {b.line_id}") for b in packed]  # type: ignore[arg-type]
        rows += [line_names[p.id] for p in problem.lines if line_names[p.id] in names]
        rows += sorted(set(names) - set(rows))
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=names,
                base=[at(plan.date, b.start_min) for b in packed],  # type: ignore[arg-type]
                x=[span_ms(b.start_min, b.end_min) for b in packed],  # type: ignore[arg-type]
                marker={"color": "#94a3b8", "line": {"color": "white", "width": 0.5}},
                name="Packaging",
                customdata=[
                    [b.key, facility_name(problem, b.facility_id), clock(b.start_min), clock(b.end_min)]
                    for b in packed
                ],
                hovertemplate="%{customdata[0]} %{customdata[1]}<br>%{customdata[2]}-%{customdata[3]}"
                "<extra>packaging</extra>",
            )
        )
    if verified:
        rows.append("Verification")
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=["Verification"] * len(verified),
                base=[at(plan.date, b.verify_start_min) for b in verified],  # type: ignore[arg-type]
                x=[span_ms(b.verify_start_min, b.verify_end_min) for b in verified],  # type: ignore[arg-type]
                marker={"color": "#64748b", "opacity": 0.55},
                name="Verification",
                customdata=[[b.key, clock(b.verify_start_min), clock(b.verify_end_min)] for b in verified],
                hovertemplate="%{customdata[0]} %{customdata[1]}-%{customdata[2]}<extra>verification</extra>",
            )
        )
    for no, route in enumerate(plan.routes, start=1):
        label = route_label(plan, problem, no)
        rows.append(label)
        color = route_color(no)
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[label],
                base=[at(plan.date, route.depart_min)],
                x=[span_ms(route.depart_min, route.return_min)],
                marker={"color": color, "opacity": 0.8},
                name=label,
                showlegend=False,
                hovertemplate=f"{label}<br>departs {clock(route.depart_min)}, back {clock(route.return_min)}"
                f"<br>{len(route.stops)} stops, {route.distance_m / 1000:.1f} km<extra></extra>",
            )
        )
        stops = sorted(route.stops, key=lambda s: s.seq)
        fig.add_trace(
            go.Scatter(
                x=[at(plan.date, s.arrival_min) for s in stops],
                y=[label] * len(stops),
                mode="markers",
                marker={
                    "symbol": ["star" if s.stat else "circle" for s in stops],
                    "size": [13 if s.stat else 9 for s in stops],
                    "color": [LATE_COLOR if s.late_min else "white" for s in stops],
                    "line": {"color": "#111827", "width": 1},
                },
                showlegend=False,
                customdata=[
                    [s.seq, facility_name(problem, s.facility_id), clock(s.arrival_min), s.late_min]
                    for s in stops
                ],
                hovertemplate="stop %{customdata[0]}: %{customdata[1]}<br>ETA %{customdata[2]}, "
                "late %{customdata[3]} min<extra></extra>",
            )
        )
    starts = [b.start_min for b in packed] + [r.depart_min for r in plan.routes]
    ends = [b.verify_end_min or b.end_min for b in packed] + [r.return_min for r in plan.routes]
    fig.update_layout(
        barmode="overlay",
        bargap=0.35,
        template="plotly_white",
        font={"family": FONT, "size": 13},
        height=max(240, 60 + 34 * len(rows)),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        showlegend=False,
        hoverlabel={"bgcolor": "white"},
    )
    fig.update_yaxes(categoryorder="array", categoryarray=rows, autorange="reversed", title=None)
    lo, hi = min(starts), max(ends)  # type: ignore[type-var]
    if now_min is not None and lo - 60 <= now_min <= hi + 60:
        fig.add_vline(x=at(plan.date, now_min), line={"color": "#dc2626", "width": 2, "dash": "dot"})
        fig.add_annotation(
            x=at(plan.date, now_min),
            y=1,
            yref="paper",
            yanchor="bottom",
            text=f"now {clock(now_min)}",
            showarrow=False,
            font={"color": "#dc2626", "size": 12},
        )
        fig.update_layout(margin={"t": 26})
    style_time_axis(fig, plan.date, lo, hi)
    return fig
