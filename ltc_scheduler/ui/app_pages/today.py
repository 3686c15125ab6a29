"""Today (coordinators): alerts first, then the KPI tiles and the day's timeline."""

import streamlit as st

from ltc_scheduler import service
from ltc_scheduler.ui import cache, data, state, widgets
from ltc_scheduler.ui.kpis import plan_alerts, plan_kpis

date = state.selected_date()
day = cache.day_plan(date)  # read once per plan run (st.cache_data)
widgets.page_header("Today", date, widgets.plan_caption(day, state.timezone()) if day else "")
if day is None:
    widgets.no_plan(date)
    st.stop()

changes = service.plan_changes(state.engine(), plan_run_id=day.run.id) if day.run.published else None
if changes is not None and changes.stale:
    st.warning(
        "**This plan is stale: its order lines changed after it was made.**\n"
        + "\n".join(f"- {s}" for s in changes.sentences),
        icon=":material/update:",
    )

st.subheader("Needs attention")
widgets.alert_list(plan_alerts(day.plan, day.problem, violations=day.run.violations))

st.subheader("The day in numbers")
widgets.kpi_tiles(plan_kpis(day.plan))

st.subheader("Timeline")
st.caption(
    "Packaging lines and pharmacist verification, then every route from departure to return. "
    "Stops: white = on time, red = late, star = STAT."
)
st.plotly_chart(
    cache.timeline_figure(day, now_min=data.now_min(date, state.timezone())),
    width="stretch",
    key="timeline",
)
