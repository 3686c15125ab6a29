"""Packaging: the Gantt of batches on the lines and on verification, and the batch table."""

import streamlit as st

from ltc_scheduler.exports.packing_list import packing_list_csv, packing_list_pdf
from ltc_scheduler.ui import data, state, widgets
from ltc_scheduler.ui.tables import batches_frame
from ltc_scheduler.viz.gantt import gantt

date = state.selected_date()
day = data.load_day_plan(state.engine(), date=date, tz=state.timezone())
widgets.page_header("Packaging", date, widgets.plan_caption(day, state.timezone()) if day else "")
if day is None:
    widgets.no_plan(date)
    st.stop()

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
st.caption("Hatched `/` = cold (refrigerated), `x` = controlled substances. Hover a bar for details.")

st.subheader("Batches")
frame = batches_frame(day.plan, day.problem)
st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    height=420,
    column_config={
        "Cold": st.column_config.CheckboxColumn(),
        "Controlled": st.column_config.CheckboxColumn(),
        "Slack (min)": st.column_config.NumberColumn(help="minutes between verified and the deadline"),
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
left, right, _ = st.columns([1, 1, 3])
left.download_button(
    "Packing list (CSV)",
    lambda: packing_list_csv(day.plan, day.problem, keys),
    file_name=f"{stem}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
right.download_button(
    "Packing list (PDF)",
    lambda: packing_list_pdf(day.plan, day.problem, keys),  # built on click: a day's list takes seconds
    file_name=f"{stem}.pdf",
    mime="application/pdf",
    icon=":material/print:",
    on_click="ignore",
)
