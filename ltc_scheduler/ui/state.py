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


#: the Routes page's "Street map" toggle
MAP_TILES_KEY = "map_tiles"
#: the tile style the toggle switches on when ``LTC_MAP_STYLE`` names none
DEFAULT_TILES = "carto-positron"


def configured_map_style() -> str:
    """``LTC_MAP_STYLE``: ``white-bg`` (the default: a plain map that needs no internet) or a tile
    style such as ``carto-positron`` for a site whose browsers reach the tile server."""
    from ltc_scheduler.viz.route_map import PLAIN_STYLE

    return (os.environ.get("LTC_MAP_STYLE") or PLAIN_STYLE).strip()


def tiles_by_default() -> bool:
    from ltc_scheduler.viz.route_map import PLAIN_STYLE

    return configured_map_style() != PLAIN_STYLE


def map_style() -> str:
    """The basemap of the route map: the plain map unless street tiles are on (the page's toggle,
    which starts from ``LTC_MAP_STYLE``)."""
    from ltc_scheduler.viz.route_map import PLAIN_STYLE

    on = st.session_state.get(MAP_TILES_KEY, tiles_by_default())
    if not on:
        return PLAIN_STYLE
    configured = configured_map_style()
    return configured if configured != PLAIN_STYLE else DEFAULT_TILES
