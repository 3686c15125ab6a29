"""LTC Scheduler dashboard: the router and frame (pages live in ltc_scheduler/ui/app_pages/).

Run with ``streamlit run app.py`` (``make run`` seeds a demo pharmacy and plans today first).
"""

from __future__ import annotations

import streamlit as st

from ltc_scheduler.ui import frame

st.set_page_config(page_title="LTC Scheduler", page_icon=":material/local_pharmacy:", layout="wide")

PAGES = "ltc_scheduler/ui/app_pages"
page = st.navigation(
    [
        st.Page(f"{PAGES}/today.py", title="Today", icon=":material/today:", default=True),
        st.Page(f"{PAGES}/packaging.py", title="Packaging", icon=":material/inventory_2:"),
        st.Page(f"{PAGES}/routes.py", title="Routes", icon=":material/local_shipping:"),
        st.Page(f"{PAGES}/orders.py", title="Orders", icon=":material/receipt_long:"),
        st.Page(f"{PAGES}/constraints.py", title="Constraints", icon=":material/tune:"),
        st.Page(f"{PAGES}/compare.py", title="Compare", icon=":material/compare_arrows:"),
    ],
    position="top",
)
frame.sidebar()  # pharmacy name, plan date picker, the plan's status
page.run()
