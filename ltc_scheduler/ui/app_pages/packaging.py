"""Packaging: the Gantt of batches on the lines and on verification, and the batch table."""

import streamlit as st

from ltc_scheduler.exports.packing_list import packing_list_csv, packing_list_pdf
from ltc_scheduler.ui import data, state, widgets
from ltc_scheduler.ui.tables import batches_frame
from ltc_scheduler.viz.gantt import gantt

date = state.selected_date()
day = data.load_day_plan(state.engine(), date=date)
widgets.page_header("Packaging", date, widgets.plan_caption(day, state.timezone()) if day else "")
if day is None:
    widgets.no_plan(date)
    st.stop()

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
    column_config={
        "Cold": st.column_config.CheckboxColumn(),
        "Controlled": st.column_config.CheckboxColumn(),
        "Slack (min)": st.column_config.NumberColumn(help="minutes between verified and the deadline"),
    },
)
left, right, _ = st.columns([1, 1, 3])
left.download_button(
    "Packing list (CSV)",
    packing_list_csv(day.plan, day.problem),
    file_name=f"{date.isoformat()}_packing_list.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
right.download_button(
    "Packing list (PDF)",
    packing_list_pdf(day.plan, day.problem),
    file_name=f"{date.isoformat()}_packing_list.pdf",
    mime="application/pdf",
    icon=":material/print:",
    on_click="ignore",
)
