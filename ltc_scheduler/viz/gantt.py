"""Gantt chart of the packaging schedule: batches per line, then pharmacist verification."""

from __future__ import annotations

import math
from collections import defaultdict

import plotly.graph_objects as go

from ltc_scheduler.exports.common import facility_name
from ltc_scheduler.plan.model import Batch, Plan
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.viz._common import (
    CLASS_COLORS,
    FACILITY_COLORS,
    FONT,
    at,
    class_label,
    empty_figure,
    hover_clock,
    span_ms,
    style_time_axis,
)

_PATTERN = {(False, False): "", (True, False): "/", (False, True): "x", (True, True): "+"}


def _verification_lanes(batches: list[Batch]) -> dict[str, int]:
    """A lane per verification session, greedily, so concurrent checks do not overlap on one row.

    A pharmacist checks a facility's batches of one packing job together: batches with the same
    facility and the same verification interval are one session and share one lane (drawing each
    batch in a lane of its own would suggest more pharmacists at work than are on shift).
    """
    lanes: list[int] = []  # end minute of the last session in each lane
    lane_of_session: dict[tuple[int, int, int], int] = {}
    lane_of: dict[str, int] = {}
    for b in sorted(batches, key=lambda b: (b.verify_start_min, b.verify_end_min, b.facility_id, b.key)):
        assert b.verify_start_min is not None and b.verify_end_min is not None
        session = (b.facility_id, b.verify_start_min, b.verify_end_min)
        if session not in lane_of_session:
            for i, end in enumerate(lanes):
                if end <= b.verify_start_min:
                    lanes[i] = b.verify_end_min
                    lane_of_session[session] = i
                    break
            else:
                lanes.append(b.verify_end_min)
                lane_of_session[session] = len(lanes) - 1
        lane_of[b.key] = lane_of_session[session]
    return lane_of


def gantt(plan: Plan, problem: PlanningProblem, *, color_by: str = "order_class") -> go.Figure:
    """Batches on each packaging line and on verification, coloured by ``order_class`` or ``facility``.

    Cold batches are hatched ``/``, controlled ones ``x``; hovering a bar shows the batch's facility,
    kind, class, cards, totes, packing and verification times and its deadline.
    """
    if color_by not in ("order_class", "facility"):
        raise ValueError("color_by must be 'order_class' or 'facility'")
    scheduled = [b for b in plan.batches if b.start_min is not None and b.end_min is not None]
    if not scheduled:
        return empty_figure("No batches scheduled in this plan")
    line_names = {p.id: p.name for p in problem.lines}
    facility_ids = sorted({b.facility_id for b in scheduled})
    fac_color = {fid: FACILITY_COLORS[i % len(FACILITY_COLORS)] for i, fid in enumerate(facility_ids)}

    def group_of(b: Batch) -> tuple[str, str]:
        if color_by == "facility":
            return facility_name(problem, b.facility_id), fac_color[b.facility_id]
        return class_label(b.order_class.value), CLASS_COLORS.get(b.order_class.value, "#7f7f7f")

    verified = [b for b in scheduled if b.verify_start_min is not None and b.verify_end_min is not None]
    lane_of = _verification_lanes(verified)
    n_lanes = max(lane_of.values(), default=-1) + 1

    bars: dict[tuple[str, str], list[tuple[str, int, int, Batch, str]]] = defaultdict(list)
    for b in scheduled:
        row = line_names.get(b.line_id, f"Line {b.line_id}") if b.line_id is not None else "Unassigned line"
        bars[group_of(b)].append((row, b.start_min, b.end_min, b, "packing"))  # type: ignore[arg-type]
    for b in verified:
        row = "Verification" if n_lanes == 1 else f"Verification {lane_of[b.key] + 1}"
        bars[group_of(b)].append((row, b.verify_start_min, b.verify_end_min, b, "verification"))  # type: ignore[arg-type]

    fig = go.Figure()
    for (name, color), items in sorted(bars.items()):
        fig.add_trace(
            go.Bar(
                name=name,
                orientation="h",
                y=[row for row, *_ in items],
                base=[at(plan.date, s) for _, s, _, _, _ in items],
                x=[span_ms(s, e) for _, s, e, _, _ in items],
                marker={
                    "color": color,
                    "line": {"color": "white", "width": 0.6},
                    "pattern": {
                        "shape": [_PATTERN[(b.cold, b.controlled)] for *_, b, _ in items],
                        "fgcolor": "#111827",
                        "size": 6,
                        "solidity": 0.25,
                    },
                },
                customdata=[
                    [
                        b.key,
                        facility_name(problem, b.facility_id) + (f" / {b.unit}" if b.unit else ""),
                        b.kind.value.replace("_", " "),
                        class_label(b.order_class.value),
                        b.cards,
                        b.totes,
                        f"{hover_clock(b.start_min)}-{hover_clock(b.end_min)}",
                        f"{hover_clock(b.verify_start_min)}-{hover_clock(b.verify_end_min)}",
                        hover_clock(b.deadline_min),
                        ", ".join(f for f, on in (("cold", b.cold), ("controlled", b.controlled)) if on)
                        or "-",
                        stage,
                    ]
                    for *_, b, stage in items
                ],
                hovertemplate=(
                    "<b>%{customdata[0]}</b> (%{customdata[10]})<br>%{customdata[1]}<br>"
                    "%{customdata[2]}, %{customdata[3]}<br>%{customdata[4]} cards, %{customdata[5]} totes<br>"
                    "packed %{customdata[6]}, verified %{customdata[7]}<br>deadline %{customdata[8]}"
                    "<br>flags: %{customdata[9]}<extra></extra>"
                ),
                showlegend=True,  # facility colours need their names (the hover has them too)
            )
        )
    for label, shape in (("Cold", "/"), ("Controlled", "x")):
        fig.add_trace(
            go.Bar(
                name=label,
                orientation="h",
                x=[None],
                y=[None],
                legendgroup="flags",
                marker={"color": "#e5e7eb", "pattern": {"shape": shape, "fgcolor": "#111827"}},
                showlegend=True,
                hoverinfo="skip",
            )
        )
    rows = [line_names[p.id] for p in problem.lines if any(b.line_id == p.id for b in scheduled)]
    rows += sorted(
        {r for items in bars.values() for r, *_ in items}
        - set(rows)
        - {"Verification"}
        - {f"Verification {i + 1}" for i in range(n_lanes)}
    )
    rows += ["Verification"] if n_lanes == 1 else [f"Verification {i + 1}" for i in range(n_lanes)]
    start = min(b.start_min for b in scheduled)  # type: ignore[type-var]
    end = max([b.end_min for b in scheduled] + [b.verify_end_min for b in verified])  # type: ignore[type-var]
    fig.update_layout(
        barmode="overlay",
        bargap=0.25,
        template="plotly_white",
        font={"family": FONT, "size": 13},
        # room for the legend above the bars: many facilities take several lines of it
        height=max(320, 90 + 56 * len(rows))
        + (22 * math.ceil(len(bars) / 3) if color_by == "facility" else 0),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hoverlabel={"bgcolor": "white"},
    )
    fig.update_yaxes(categoryorder="array", categoryarray=rows, autorange="reversed", title=None)
    style_time_axis(fig, plan.date, start, end)
    return fig
