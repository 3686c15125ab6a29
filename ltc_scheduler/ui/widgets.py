"""Small Streamlit building blocks the pages share: headers, KPI tiles, alerts, downloads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ltc_scheduler.exports.common import duration_text
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock, local_time
from ltc_scheduler.ui.data import DayPlan
from ltc_scheduler.ui.kpis import Alert, PlanKpis, plan_kpis


def page_header(title: str, date: dt.date, caption: str = "") -> None:
    st.title(title)
    st.caption(f"{date.strftime('%A %B %d, %Y')}" + (f" - {caption}" if caption else ""))


def no_plan(date: dt.date) -> None:
    """What a page shows when the chosen date has no completed plan."""
    st.info(
        f"There is no plan for {date.strftime('%A %B %d, %Y')} yet. "
        "Make one with **Re-plan** on the Constraints page, or run `ltc-scheduler plan --date "
        f"{date.isoformat()}`.",
        icon=":material/event_busy:",
    )


def plan_caption(day: DayPlan, tz: str) -> str:
    run = day.run
    return (
        f"Plan #{run.id} made {local_time(run.created_at, tz)} by {run.started_by or 'unknown'} "
        f"with constraint set v{run.constraint_set_version or day.plan.settings_version}"
    )


def kpi_tiles(k: PlanKpis) -> None:
    """Two rows of tiles: service (what the coordinator promises) and work (what it costs)."""
    row1 = st.columns(5)
    row1[0].metric("Orders", f"{k.orders:,}", help=f"{k.cards:,} cards in {k.batches} batches", border=True)
    row1[1].metric("Batches", k.batches, help="packaging batches on the lines", border=True)
    row1[2].metric("Routes", k.routes, help=f"{k.vehicles} vehicle(s), {k.stops} stops", border=True)
    row1[3].metric(
        "On time",
        "-" if k.on_time_pct is None else f"{k.on_time_pct:g}%",
        help=f"{k.late_stops} late and {k.unserved} undelivered of {k.stops + k.unserved} stops",
        border=True,
    )
    row1[4].metric("Unserved stops", k.unserved, help="facilities no route could reach in time", border=True)
    row2 = st.columns(5)
    row2[0].metric("Driving", f"{k.driving_km:,.0f} km", border=True)
    row2[1].metric("Driving time", duration_text(k.driving_hours * 60, short=True), border=True)
    row2[2].metric(
        "Packaging span",
        duration_text(k.makespan_min, short=True) or "-",
        help=f"makespan: first batch {clock(k.packaging_start)}, last one verified {clock(k.packaging_end)}",
        border=True,
    )
    row2[3].metric("Solve time", f"{k.solve_s:.1f} s", help=k.status or None, border=True)
    row2[4].metric(
        "Optimality gap",
        "-" if k.gap is None else f"{100 * k.gap:.1f}%",
        help="how far the plan may be from the best possible (solver bound); 0% = proven optimal",
        border=True,
    )


_GROUPS = (
    ("unserved", "unserved stop(s)", ":material/block:"),
    ("stat", "STAT order(s) at risk", ":material/emergency:"),
    ("late", "late stop(s)", ":material/schedule:"),
    ("check", "plan check finding(s)", ":material/rule:"),
)


def alert_list(alerts: list[Alert], *, show: int = 4) -> None:
    """One box per kind of problem (unserved, STAT at risk, late, plan checks), worst first;
    the first few items inline, all of them in an expander."""
    if not alerts:
        st.success(
            "All stops are served on time and every STAT order is on track.", icon=":material/check_circle:"
        )
        return
    for category, label, icon in _GROUPS:
        items = [a for a in alerts if a.category == category]
        if not items:
            continue
        level = "error" if any(a.level == "error" for a in items) else items[0].level
        lines = [f"- **{a.title}**" + (f": {a.detail}" if a.detail else "") for a in items[:show]]
        if len(items) > show:
            lines.append(f"- ... and {len(items) - show} more")
        getattr(st, level)(f"**{len(items)} {label}**\n" + "\n".join(lines), icon=icon)
        if len(items) > show:
            with st.expander(f"All {len(items)} {label}"):
                st.dataframe(
                    pd.DataFrame([{"What": a.title, "Why": a.detail} for a in items]),
                    hide_index=True,
                    width="stretch",
                )


def packaging_tiles(plan: Plan) -> None:
    """The packaging lead's numbers: batches, cards, lines used, first start, last verified, STAT."""
    k = plan_kpis(plan)
    cols = st.columns(6)
    cols[0].metric("Batches", k.batches, border=True)
    cols[1].metric("Cards", f"{k.cards:,}", border=True)
    cols[2].metric("Lines used", k.lines_used, border=True)
    cols[3].metric("First start", clock(k.packaging_start) or "-", border=True)
    cols[4].metric("Last verified", clock(k.packaging_end) or "-", border=True)
    cols[5].metric(
        "STAT / late",
        f"{k.stat_batches} / {k.late_batches}",
        help="STAT batches / batches ready after their deadline",
        border=True,
    )


#: the stop table's columns on the Routes page ("Stop", the full label, is left to the other tables)
STOP_COLUMNS: tuple[str, ...] = (
    "#",
    "Facility",
    "Address",
    "ETA",
    "Window",
    "Totes",
    "Cold",
    "Controlled",
    "Service (min)",
    "Late (min)",
    "STAT",
    "Note",
)

#: the batch table's columns on the Packaging page (kind and ready time are in the Gantt's hover)
BATCH_COLUMNS: tuple[str, ...] = (
    "Batch",
    "Line",
    "Facility",
    "Class",
    "Cards",
    "Totes",
    "Packed",
    "Deadline",
    "Slack (min)",
    "Flags",
    "Delivery",
)


def map_style_caption(text: str) -> str:
    """The line under the route map that says which basemap is on."""
    return f":material/map: {text}"


def attention_table(frame: pd.DataFrame, *, title: str = "Unserved and late stops") -> None:
    """The unserved and late stops with their reasons (a success line when there are none)."""
    st.subheader(title)
    if frame.empty:
        st.success("Every stop is delivered inside its window.", icon=":material/check_circle:")
        return
    unserved = int((frame["Problem"] == "unserved").sum())
    late = len(frame) - unserved
    st.caption(f"{unserved} unserved, {late} late")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "Stop": st.column_config.TextColumn(width="medium"),
            "Facility": st.column_config.TextColumn(width="medium"),
            "Problem": st.column_config.TextColumn(width="small"),
            "Why": st.column_config.TextColumn(width="large"),
            "Batches": st.column_config.TextColumn(width="small"),
        },
    )
