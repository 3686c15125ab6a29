"""Constraints (managers): edit vehicles, lines, pharmacists, facilities and the objective; re-plan."""

import pandas as pd
import streamlit as st

from ltc_scheduler.db.constraints import SETTINGS_FIELDS
from ltc_scheduler.ui import data, state, widgets
from ltc_scheduler.ui.editing import replan_panel, save_form_result

engine, date, tz, who = state.engine(), state.selected_date(), state.timezone(), state.user()
tables = data.constraint_tables(engine, weekday=date.weekday(), tz=tz)
widgets.page_header(
    "Constraints",
    date,
    f"constraint set v{tables.version} saved {data.local_time(tables.created_at, tz)} by {tables.created_by}",
)
st.caption(
    "Every save stores a new constraint-set version with who and when; invalid values are refused "
    "with a message and nothing is stored. Re-plan to see what a change does."
)

replan_panel(engine, date=date, who=who, tz=tz)

tabs = st.tabs(
    ["Objective & time limit", "Vehicles", "Packaging lines", "Pharmacists", "Facilities", "History"],
    key="constraints_tab",  # stays on the same tab after a save reloads the page
    on_change="rerun",
)

with tabs[0], st.form("settings_form"):
    st.markdown("**Objective weights and solver time limit**")
    cols = st.columns(3)
    values = {}
    for i, (name, (label, kind, lo, hi)) in enumerate(SETTINGS_FIELDS.items()):
        current = tables.settings[name]
        values[name] = cols[i % 3].number_input(
            label,
            value=float(current) if kind == "float" else int(current),
            step=1.0 if kind == "float" else 1,
            key=f"set_{name}",
            help=f"allowed: {lo:g} to {hi:g}",
        )
    mpc = cols[len(SETTINGS_FIELDS) % 3].number_input(
        "Pharmacist minutes per card",
        value=float(tables.minutes_per_card),
        step=0.01,
        format="%.3f",
        key="set_minutes_per_card",
    )
    if st.form_submit_button("Save settings", type="primary"):
        save_form_result(engine, "settings", who=who, values=values, minutes_per_card=mpc)

with tabs[1], st.form("vehicles_form"):
    st.markdown("**Vehicles and driver shifts** (times as HH:MM)")
    edited = st.data_editor(
        pd.DataFrame(tables.vehicles),
        key="vehicles_editor",
        hide_index=True,
        disabled=["id"],
        column_config={
            "id": None,
            "name": st.column_config.TextColumn("Vehicle"),
            "tote_capacity": st.column_config.NumberColumn("Totes", step=1),
            "cold_capacity": st.column_config.NumberColumn("Cold totes", step=1),
            "controlled_ok": st.column_config.CheckboxColumn("Controlled OK"),
            "shift_start": st.column_config.TextColumn("Shift start"),
            "shift_end": st.column_config.TextColumn("Shift end"),
            "max_route_min": st.column_config.NumberColumn("Max route (min)", step=1),
            "max_trips": st.column_config.NumberColumn("Max trips", step=1),
            "active": st.column_config.CheckboxColumn("Active"),
        },
    )
    if st.form_submit_button("Save vehicles", type="primary"):
        save_form_result(engine, "vehicles", who=who, rows=edited.to_dict("records"))

with tabs[2], st.form("lines_form"):
    st.markdown("**Packaging lines**: rates, hours and changeovers")
    edited = st.data_editor(
        pd.DataFrame(tables.lines),
        key="lines_editor",
        hide_index=True,
        disabled=["id", "name", "kinds"],
        column_config={
            "id": None,
            "name": st.column_config.TextColumn("Line"),
            "kinds": st.column_config.TextColumn("Packaging kinds"),
            "cards_per_hour": st.column_config.NumberColumn("Cards per hour", step=1),
            "changeover_kind_min": st.column_config.NumberColumn("Changeover kind (min)", step=1),
            "changeover_facility_min": st.column_config.NumberColumn("Changeover facility (min)", step=1),
            "available_start": st.column_config.TextColumn("Opens"),
            "available_end": st.column_config.TextColumn("Closes"),
            "active": st.column_config.CheckboxColumn("Active"),
        },
    )
    if st.form_submit_button("Save packaging lines", type="primary"):
        save_form_result(engine, "lines", who=who, rows=edited.to_dict("records"))

with tabs[3], st.form("shifts_form"):
    st.markdown("**Pharmacist verification**: shifts (add a row for another pharmacist) and minutes per card")
    edited = st.data_editor(
        pd.DataFrame(tables.shifts),
        key="shifts_editor",
        hide_index=True,
        num_rows="dynamic",
        disabled=["id"],
        column_config={
            "id": None,
            "name": st.column_config.TextColumn("Pharmacist"),
            "start": st.column_config.TextColumn("Start"),
            "end": st.column_config.TextColumn("End"),
            "active": st.column_config.CheckboxColumn("Active", default=True),
        },
    )
    shift_mpc = st.number_input(
        "Minutes per card", value=float(tables.minutes_per_card), step=0.01, format="%.3f", key="shift_mpc"
    )
    if st.form_submit_button("Save pharmacists", type="primary"):
        save_form_result(
            engine, "shifts", who=who, rows=edited.to_dict("records"), minutes_per_card=shift_mpc
        )

with tabs[4], st.form("facilities_form"):
    st.markdown(
        f"**Facility delivery windows on {date.strftime('%A')}s** and unloading times "
        "(windows like `08:00-11:00, 14:00-16:00`; empty = no delivery that day)"
    )
    edited = st.data_editor(
        pd.DataFrame(tables.facilities),
        key="facilities_editor",
        hide_index=True,
        disabled=["id", "name"],
        column_config={
            "id": None,
            "name": st.column_config.TextColumn("Facility", width="large"),
            "windows": st.column_config.TextColumn(f"{date.strftime('%A')} windows", width="medium"),
            "service_fixed_min": st.column_config.NumberColumn("Fixed service (min)", step=1),
            "service_per_tote_min": st.column_config.NumberColumn("Per tote (min)", step=0.1),
        },
    )
    if st.form_submit_button("Save facilities", type="primary"):
        save_form_result(
            engine, "facilities", who=who, rows=edited.to_dict("records"), weekday=date.weekday()
        )

with tabs[5]:
    st.markdown("**Constraint-set versions** (newest first)")
    st.dataframe(pd.DataFrame(tables.history), hide_index=True)
