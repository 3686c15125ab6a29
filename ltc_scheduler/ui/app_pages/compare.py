"""Compare: two plan runs of the day side by side (KPIs, routes changed, stops moved)."""

import streamlit as st

from ltc_scheduler.ui import data, state, widgets
from ltc_scheduler.ui.compare import routes_changed, stops_moved
from ltc_scheduler.ui.tables import kpi_frame

engine, date, tz = state.engine(), state.selected_date(), state.timezone()
widgets.page_header("Compare plans", date, "what a constraint change or a re-plan did")
runs = data.list_runs(engine, date=date)
if len(runs) < 2:
    st.info(
        f"{'Only one plan' if runs else 'No plan'} for {date.isoformat()} so far. Change a constraint and "
        "press **Re-plan** on the Constraints page, then compare the two plans here.",
        icon=":material/compare_arrows:",
    )
    st.stop()

labels = {r.id: r.label(tz) for r in runs}
left, right = st.columns(2)
a_id = left.selectbox(
    "Plan A (before)", options=list(labels), index=1, format_func=labels.get, key="compare_a"
)
b_id = right.selectbox(
    "Plan B (after)", options=list(labels), index=0, format_func=labels.get, key="compare_b"
)
a = data.load_day_plan(engine, date=date, plan_run_id=a_id, tz=tz)
b = data.load_day_plan(engine, date=date, plan_run_id=b_id, tz=tz)
if a is None or b is None:
    st.error("One of the two runs has no completed plan.")
    st.stop()

st.subheader("Key figures")
kpis = kpi_frame({"A": a.plan, "B": b.plan})
kpis["Change"] = [
    "" if x is None or y is None else (f"{y - x:+.1f}" if isinstance(y, float) else f"{y - x:+d}")
    for x, y in zip(kpis["A"], kpis["B"], strict=True)
]
st.dataframe(kpis.astype(str), width="stretch", height=36 * (len(kpis) + 1) + 4)

st.subheader("Routes")
st.dataframe(routes_changed(a.plan, b.plan, a.problem, b.problem), hide_index=True, width="stretch")

st.subheader("Stops moved")
moved = stops_moved(a.plan, b.plan, a.problem, b.problem)
if moved.empty:
    st.success("No delivery changed route, position or ETA by 10 minutes or more.")
else:
    st.dataframe(moved, hide_index=True, width="stretch")
