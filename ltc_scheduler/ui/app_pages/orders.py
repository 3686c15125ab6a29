"""Orders: the day's order lines with filters, and a CSV upload (validated, all-or-nothing)."""

import pandas as pd
import streamlit as st

from ltc_scheduler.ui import data, state, widgets
from ltc_scheduler.ui.uploads import upload_orders_form

engine, date, tz = state.engine(), state.selected_date(), state.timezone()
rows = data.order_rows(engine, date=date, tz=tz)
widgets.page_header("Orders", date, f"{len(rows):,} order lines due this day")

frame = pd.DataFrame(rows)
if frame.empty:
    st.info(f"No order lines are due on {date.isoformat()}. Upload a CSV below or pick another date.")
else:
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    facilities = c1.multiselect("Facility", sorted(frame["Facility"].unique()), key="orders_facility")
    classes = c2.multiselect("Order class", sorted(frame["Class"].unique()), key="orders_class")
    statuses = c3.multiselect("Status", sorted(frame["Status"].unique()), key="orders_status")
    search = c4.text_input("Search medication or order #", key="orders_search")
    f1, f2, _ = st.columns([1, 1, 4])
    cold_only = f1.toggle("Cold only", key="orders_cold")
    controlled_only = f2.toggle("Controlled only", key="orders_controlled")
    shown = frame
    if facilities:
        shown = shown[shown["Facility"].isin(facilities)]
    if classes:
        shown = shown[shown["Class"].isin(classes)]
    if statuses:
        shown = shown[shown["Status"].isin(statuses)]
    if cold_only:
        shown = shown[shown["Cold"]]
    if controlled_only:
        shown = shown[shown["Controlled"]]
    if search:
        hit = shown["Medication"].str.contains(search, case=False, regex=False) | shown["Order"].str.contains(
            search, case=False, regex=False
        )
        shown = shown[hit]
    st.caption(f"Showing {len(shown):,} of {len(frame):,} order lines ({shown['Cards'].sum():,} cards)")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "Cold": st.column_config.CheckboxColumn(),
            "Controlled": st.column_config.CheckboxColumn(),
        },
    )

st.subheader("Upload orders")
upload_orders_form(engine, who=state.user(), tz=tz)
