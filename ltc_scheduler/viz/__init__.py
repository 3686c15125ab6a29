"""Plotly figure builders, one public function per module: ``gantt``, ``route_map``, ``timeline``.
No Streamlit here: the dashboard and notebooks use the same figures."""
