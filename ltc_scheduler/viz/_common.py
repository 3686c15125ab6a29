"""Private helpers shared by the figure builders: colours, clock axis, labels."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go

from ltc_scheduler.enums import OrderClass
from ltc_scheduler.problem.clock import clock

#: what a late stop is drawn in (timeline markers, map hover) and an unserved facility
LATE_COLOR = "#dc2626"
UNSERVED_COLOR = "#6b7280"

#: palette for routes (repeats after 12): no reds, oranges or greys, which mean late or unserved
ROUTE_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#17becf",
    "#e377c2",
    "#bcbd22",
    "#393b79",
    "#637939",
    "#0b7285",
    "#7b4173",
    "#5c940d",
    "#ae3ec9",
)

#: fixed colours per order class (urgent classes in warm colours)
CLASS_COLORS: dict[str, str] = {
    OrderClass.STAT.value: "#d62728",
    OrderClass.NEW_ADMISSION.value: "#ff7f0e",
    OrderClass.CYCLE_FILL.value: "#1f77b4",
    OrderClass.REFILL.value: "#2ca02c",
    OrderClass.PRN.value: "#9467bd",
    OrderClass.EKIT_RESTOCK.value: "#8c564b",
}

FACILITY_COLORS: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
)

FONT = "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif"


def route_color(route_no: int) -> str:
    """The colour of route ``route_no`` (1-based) on every figure and table."""
    return ROUTE_COLORS[(route_no - 1) % len(ROUTE_COLORS)]


def at(date: dt.date, minute: int) -> dt.datetime:
    """Minutes from local midnight as a naive local datetime (plotly date axis)."""
    return dt.datetime.combine(date, dt.time(0)) + dt.timedelta(minutes=minute)


def span_ms(start: int, end: int) -> int:
    """Bar length on a plotly date axis: milliseconds."""
    return max(end - start, 0) * 60_000


_CLASS_LABELS = {"stat": "STAT", "prn": "PRN", "ekit_restock": "E-kit restock"}


def class_label(value: str) -> str:
    """``"cycle_fill"`` -> ``"Cycle fill"``, ``"stat"`` -> ``"STAT"``."""
    return _CLASS_LABELS.get(value, value.replace("_", " ").capitalize())


def empty_figure(message: str, height: int = 260) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        font={"size": 15, "color": "#555"},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, template="plotly_white", margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def style_time_axis(fig: go.Figure, date: dt.date, start: int, end: int) -> None:
    """A clock x-axis from ``start`` to ``end`` minutes (rounded out to whole hours)."""
    lo = (start // 60) * 60
    hi = -(-end // 60) * 60
    fig.update_xaxes(
        type="date",
        range=[at(date, lo), at(date, hi)],
        tickformat="%H:%M",
        dtick=3_600_000 if hi - lo <= 16 * 60 else 7_200_000,
        showgrid=True,
        gridcolor="#e5e7eb",
        title=None,
    )


def hover_clock(minute: int | None) -> str:
    return clock(minute, empty="-")
