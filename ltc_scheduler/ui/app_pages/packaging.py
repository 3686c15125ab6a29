"""Packaging: the Gantt of batches on the lines and on verification, and the batch table."""

import streamlit as st

from ltc_scheduler.exports.common import RunTag
from ltc_scheduler.exports.packing_list import packing_list_csv, packing_list_pdf
from ltc_scheduler.ui import cache, state, widgets
from ltc_scheduler.ui.tables import SHARED_TOTE
from ltc_scheduler.viz.gantt import gantt

date = state.selected_date()
day = cache.day_plan(date)
widgets.page_header("Packaging", date, widgets.plan_caption(day, state.timezone()) if day else "")
if day is None:
    widgets.no_plan(date)
    st.stop()
run = RunTag.of(day.run.id, day.run.created_at, state.timezone())

widgets.packaging_tiles(day.plan)
color_by = st.segmented_control(
    "Colour by",
    options=["order_class", "facility"],
    format_func=lambda v: {"order_class": "Order class", "facility": "Facility"}[v],
    default="order_class",
    key="gantt_color",
)
st.plotly_chart(
    gantt(day.plan, day.problem, color_by=color_by or "order_class"), width="stretch", key="gantt"
)
st.caption(
    "Hatched `/` = cold (refrigerated), `x` = controlled substances. Hover a bar for its batch, "
    "facility and times; click a name in the legend to hide it, double-click to show only it."
)

st.subheader("Batches")
frame = cache.table(day, "batches")
if (frame["Totes"] == SHARED_TOTE).any():
    st.caption(
        f"Totes `{SHARED_TOTE}`: the batch is packed into a tote it shares with other batches of the "
        "same facility, so it adds no tote of its own."
    )
st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    height=420,
    # pixel widths that add up to the page's width on a 1,366 px laptop screen (hover shows more)
    column_order=widgets.BATCH_COLUMNS,
    column_config={
        "Batch": st.column_config.TextColumn(width=56),
        "Line": st.column_config.TextColumn(width=84),
        "Facility": st.column_config.TextColumn(width=160),
        "Class": st.column_config.TextColumn(width=84),
        "Cards": st.column_config.NumberColumn(width=46),
        "Totes": st.column_config.TextColumn(width=54, help="shared = rides in a facility tote"),
        "Packed": st.column_config.TextColumn(width=86),
        "Deadline": st.column_config.TextColumn(width=62),
        "Slack (min)": st.column_config.NumberColumn(
            "Slack", width=46, help="minutes between verified and the deadline"
        ),
        "Flags": st.column_config.TextColumn(width=76),
        "Delivery": st.column_config.TextColumn(width=140, help="the route and stop that deliver it"),
    },
)
st.markdown("**Packing lists for the technicians**")
where = dict(zip(frame["Batch"], frame["Facility"], strict=True)) if not frame.empty else {}
batch = st.selectbox(
    "Batch",
    options=["", *where],
    format_func=lambda k: f"{k}: {where[k]}" if k else "All batches of the day",
    key="packing_batch",
)
keys = [batch] if batch else None
stem = f"{date.isoformat()}_{batch or 'packing_list'}"
left, right, every = st.columns([1, 1, 1.4])
left.download_button(
    "Packing list (CSV)",
    lambda: packing_list_csv(day.plan, day.problem, keys, run=run),
    file_name=f"{stem}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
right.download_button(
    "Packing list (PDF)",
    lambda: packing_list_pdf(day.plan, day.problem, keys, run=run),  # built on click: takes seconds
    file_name=f"{stem}.pdf",
    mime="application/pdf",
    icon=":material/print:",
    on_click="ignore",
)
every.download_button(
    "Every packing list (one PDF)",
    lambda: packing_list_pdf(day.plan, day.problem, run=run, page_per_batch=True),
    file_name=f"{date.isoformat()}_{run.stem()}_all_packing_lists.pdf",
    mime="application/pdf",
    icon=":material/print:",
    on_click="ignore",
    help="every batch's packing list in one file to print, a page per batch",
)
