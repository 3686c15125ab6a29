"""The Streamlit dashboard: pages in ``app_pages/``; data access (``data.py``), actions, tables and
KPIs as plain functions; ``state.py`` holds the only cached object (the engine)."""
