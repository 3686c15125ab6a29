"""The frame around every page: pharmacy name, plan date picker and the plan's status (sidebar)."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError

from ltc_scheduler.db import plans as plan_records
from ltc_scheduler.db.engine import schema_problem, session_scope
from ltc_scheduler.ui import data, state


def _default_date() -> dt.date:
    """Today when it has a plan, else the newest planned date, else today."""
    today = dt.date.today()
    try:
        if data.run_info(state.engine(), date=today) is not None:
            return today
        return data.latest_plan_date(state.engine()) or today
    except (OperationalError, ProgrammingError):
        return today


_CSS = """
<style>
  [data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
  [data-testid="stMetricValue"] { font-size: 1.9rem; }
</style>
"""


def sidebar() -> None:
    st.html(_CSS)
    engine = state.engine()
    tz = state.timezone()
    with st.sidebar:
        not_set_up = "The database is not set up yet. Run `ltc-scheduler init` and `ltc-scheduler demo`."
        try:  # a database at another schema revision is refused, as by every command
            problem = schema_problem(engine, allow_empty=True)
            name = data.pharmacy_name(engine) if problem is None else None
        except (OperationalError, ProgrammingError):
            problem = not_set_up
        if problem is not None:
            st.error(problem[:1].upper() + problem[1:], icon=":material/database:")
            st.stop()
        st.markdown(f"### :material/local_pharmacy: {name or 'LTC Scheduler'}")
        if name is None:
            st.warning("No pharmacy in the database yet: run `ltc-scheduler demo` or import your data.")
        if state.DATE_KEY not in st.session_state:
            st.session_state[state.DATE_KEY] = _default_date()
        date = st.date_input("Plan date", key=state.DATE_KEY, format="YYYY-MM-DD")
        run = data.run_info(engine, date=date)
        with session_scope(engine) as session:
            running = plan_records.running_run(session, date=date)
            if running is not None:
                st.info(
                    f"Plan #{running.id} is being made by {running.started_by or 'unknown'} "
                    f"(started {data.local_time(running.created_at, tz)})",
                    icon=":material/hourglass_top:",
                )
        if run is None:
            st.caption(":material/event_busy: No plan for this date yet.")
        elif run.status == "running":
            pass  # shown above
        elif run.status == "failed":
            st.error(f"Last planning run failed: {run.error or 'unknown error'}", icon=":material/error:")
        else:
            hard = sum(1 for v in run.violations if v.hard)
            check = (
                ":green[:material/verified: checked, no rule broken]"
                if run.valid and not hard
                else f":red[:material/gpp_bad: {hard} rule(s) broken]"
            )
            st.markdown(
                f"**Plan #{run.id}** {'published' if run.published else 'draft'}  \n"
                f"{check}  \n"
                f"made {data.local_time(run.created_at, tz)} by {run.started_by or 'unknown'}  \n"
                f"constraints v{run.constraint_set_version}"
            )
        st.caption(f"Times in {tz}")
