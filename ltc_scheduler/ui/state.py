"""Streamlit glue shared by the pages: the cached engine, the chosen plan date, the user.

The engine is the only cached object (``st.cache_resource``); every page opens short sessions
through :mod:`ltc_scheduler.ui.data` for each thing it shows or saves.
"""

from __future__ import annotations

import datetime as dt
import os

import sqlalchemy as sa
import streamlit as st

from ltc_scheduler.config import get_settings

DATE_KEY = "plan_date"


def database_url() -> str:
    """``DATABASE_URL`` from the environment (read each run, so tests can point at a temp DB)."""
    return os.environ.get("DATABASE_URL") or get_settings().database_url


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> sa.Engine:
    from ltc_scheduler.db.engine import make_engine

    return make_engine(url)


def engine() -> sa.Engine:
    return _engine(database_url())


def timezone() -> str:
    return os.environ.get("LTC_TIMEZONE") or get_settings().timezone


def user() -> str:
    return os.environ.get("LTC_USER") or get_settings().user


def selected_date() -> dt.date:
    """The plan date picked in the sidebar (today until one is picked)."""
    value = st.session_state.get(DATE_KEY)
    return value if isinstance(value, dt.date) else dt.date.today()


def map_style() -> str:
    """The basemap of the route map: Carto's free tiles by default (no API key); ``LTC_MAP_STYLE=white-bg``
    for a plain background where the browser has no internet access."""
    return os.environ.get("LTC_MAP_STYLE") or "carto-positron"
