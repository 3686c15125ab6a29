"""The pages' cache of a plan and its tables, keyed by plan run id (``st.cache_data``).

A saved plan never changes (a re-plan is a new run with a new id), so the plan record read from
the database and the tables built from it are kept per run id: after the first visit a page only
asks the database which run is current (one small query) and draws from the cache.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from ltc_scheduler.ui import data, state, tables
from ltc_scheduler.ui.data import DayPlan
from ltc_scheduler.viz.route_map import route_map


@st.cache_data(show_spinner=False, max_entries=8)
def _plan_of_run(url: str, run_id: int, tz: str) -> DayPlan | None:
    return data.load_day_plan(state.engine(), date=dt.date.today(), plan_run_id=run_id, tz=tz)


def day_plan(date: dt.date) -> DayPlan | None:
    """The published completed plan of ``date`` (what :func:`ui.data.load_day_plan` gives), read
    from the database once per plan run."""
    tz = state.timezone()
    run = data.run_info(state.engine(), date=date)
    if run is None or not run.published or run.status != "completed":
        return None
    return _plan_of_run(state.database_url(), run.id, tz)


_TABLES = {
    "routes": lambda day, _no: tables.routes_frame(day.plan, day.problem),
    "stops": lambda day, no: tables.stops_frame(day.plan, day.problem, no),
    "batches": lambda day, _no: tables.batches_frame(day.plan, day.problem),
    "attention": lambda day, _no: tables.attention_frame(day.plan, day.problem),
}


@st.cache_data(show_spinner=False, max_entries=64)
def _table(url: str, run_id: int, name: str, route_no: int, _day: DayPlan) -> pd.DataFrame:
    return _TABLES[name](_day, route_no)


def table(day: DayPlan, name: str, route_no: int = 0) -> pd.DataFrame:
    """Table ``name`` (routes, stops of ``route_no``, batches, attention) of ``day``'s plan, built
    once per plan run."""
    return _table(state.database_url(), day.run.id, name, route_no, day)


@st.cache_data(show_spinner=False, max_entries=64)
def _route_map(url: str, run_id: int, highlight: int, style: str, height: int, _day: DayPlan) -> dict:
    fig = route_map(_day.plan, _day.problem, highlight=highlight or None, map_style=style, height=height)
    return fig.to_dict()


def route_map_figure(day: DayPlan, *, highlight: int, style: str, height: int) -> dict[str, Any]:
    """The route map of ``day``'s plan as a plotly figure dict (``st.plotly_chart`` takes it), built
    once per plan run, highlighted route and style: building its traces takes ~0.5 s on a medium
    day, a dict comes out of the cache in milliseconds (a ``go.Figure`` would be validated again)."""
    return _route_map(state.database_url(), day.run.id, highlight, style, height, day)


@st.cache_data(show_spinner=False, max_entries=16)
def _timeline(url: str, run_id: int, now_min: int | None, _day: DayPlan) -> dict:
    from ltc_scheduler.viz.timeline import timeline

    return timeline(_day.plan, _day.problem, now_min=now_min).to_dict()


def timeline_figure(day: DayPlan, *, now_min: int | None) -> dict[str, Any]:
    """The Today page's timeline as a figure dict, once per plan run and minute of the clock."""
    return _timeline(state.database_url(), day.run.id, now_min, day)
