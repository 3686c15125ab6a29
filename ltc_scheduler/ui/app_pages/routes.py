"""Routes (dispatchers): the map, the route list, each route's stops, what went wrong and the
driver exports (one route's, or every manifest of the day in one PDF)."""

import streamlit as st

from ltc_scheduler.exports.common import RunTag, route_label, route_order, route_slug
from ltc_scheduler.exports.gpx import route_gpx
from ltc_scheduler.exports.manifest_pdf import day_manifests_pdf, manifest_pdf
from ltc_scheduler.exports.maps_links import maps_links
from ltc_scheduler.exports.stops_csv import stops_csv
from ltc_scheduler.ui import cache, state, widgets
from ltc_scheduler.viz._common import route_color
from ltc_scheduler.viz.route_map import style_text

date = state.selected_date()
day = cache.day_plan(date)
widgets.page_header("Routes", date, widgets.plan_caption(day, state.timezone()) if day else "")
if day is None:
    widgets.no_plan(date)
    st.stop()
plan, problem = day.plan, day.problem
run = RunTag.of(day.run.id, day.run.created_at, state.timezone())
if not plan.routes:
    st.warning("This plan has no routes.")
    st.stop()

routes = cache.table(day, "routes")
attention = cache.table(day, "attention")
chosen = (
    st.segmented_control(
        "Route",
        options=[0, *route_order(plan, problem)],
        format_func=lambda n: "All routes" if n == 0 else route_label(plan, problem, n),
        default=0,
        key="route_choice",
    )
    or 0
)

left, right = st.columns([3, 2], gap="medium")
with left:
    st.plotly_chart(
        cache.route_map_figure(day, highlight=chosen, style=state.map_style(), height=520),
        width="stretch",
        key="route_map",
    )
    st.toggle(
        "Street map",
        value=state.tiles_by_default(),
        key=state.MAP_TILES_KEY,
        help="Street tiles come from the internet (Carto); leave this off where the pharmacy's "
        "network cannot reach them. LTC_MAP_STYLE sets what the page starts with.",
    )
    st.caption(widgets.map_style_caption(style_text(state.map_style())))

if not chosen:
    with right:
        st.markdown("**All routes**")
        st.dataframe(
            routes[["Route", "Departs", "Back", "Stops", "km"]],  # the rest under Route details
            hide_index=True,
            width="stretch",
            column_config={
                "Route": st.column_config.TextColumn(width=110),
                "Departs": st.column_config.TextColumn(width=60),
                "Back": st.column_config.TextColumn(width=52),
                "Stops": st.column_config.NumberColumn(width=48),
                "km": st.column_config.NumberColumn(width=50, format="%.1f"),
            },
        )
        st.download_button(
            "Every driver manifest (one PDF)",
            lambda: day_manifests_pdf(plan, problem, run=run),  # built on click
            file_name=f"{date.isoformat()}_{run.stem()}_all_manifests.pdf",
            mime="application/pdf",
            icon=":material/print:",
            type="primary",
            width="stretch",
            on_click="ignore",
            help="every route's manifest in one file to print, each route starting on a new page",
        )
        st.download_button(
            "Stops of all routes (CSV)",
            lambda: stops_csv(plan, problem, run=run),
            file_name=f"{date.isoformat()}_{run.stem()}_stops.csv",
            mime="text/csv",
            icon=":material/download:",
            width="stretch",
            on_click="ignore",
        )
        st.caption("Pick a route above for its stops, driver manifest, GPX and Google Maps links.")
    widgets.attention_table(attention)
    st.subheader("Route details")
    st.dataframe(routes, hide_index=True, width="stretch")
    st.stop()

summary = routes.set_index("Route").loc[route_label(plan, problem, chosen)]
stem = f"{date.isoformat()}_{run.stem()}_{route_slug(plan, problem, chosen)}"
with right:
    st.markdown(
        f"#### :material/local_shipping: <span style='color:{route_color(chosen)}'>"
        f"{route_label(plan, problem, chosen)}</span>",
        unsafe_allow_html=True,
    )
    a, b = st.columns(2)  # two tiles a row: labels and values fit a 1,366 px laptop screen
    a.metric("Departs", summary["Departs"], border=True)
    b.metric("Back", summary["Back"], border=True)
    a.metric("Stops", int(summary["Stops"]), border=True)
    b.metric("Totes", int(summary["Totes"]), border=True)
    a.metric(
        "Cold / CS",
        f"{summary['Cold']} / {summary['Controlled']}",
        help="cold / controlled totes",
        border=True,
    )
    b.metric("Distance", f"{summary['km']:.0f} km", border=True)
    st.download_button(
        "Driver manifest (PDF)",
        lambda: manifest_pdf(plan, problem, chosen, run=run),
        file_name=f"{stem}_manifest.pdf",
        mime="application/pdf",
        icon=":material/print:",
        type="primary",
        width="stretch",
        on_click="ignore",
    )
    d1, d2 = st.columns(2)
    d1.download_button(
        "Stops (CSV)",
        stops_csv(plan, problem, chosen, run=run),
        file_name=f"{stem}_stops.csv",
        mime="text/csv",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",
    )
    d2.download_button(
        "Navigation (GPX)",
        lambda: route_gpx(plan, problem, chosen, run=run),
        file_name=f"{stem}.gpx",
        mime="application/gpx+xml",
        icon=":material/navigation:",
        width="stretch",
        on_click="ignore",
    )
    links = maps_links(plan, problem, chosen)
    st.markdown(
        "**Google Maps directions:** "
        + "  ".join(
            f"[leg {i} of {len(links)}]({url})" if len(links) > 1 else f"[open route]({url})"
            for i, url in enumerate(links, start=1)
        )
    )

st.subheader("Stops")
st.dataframe(
    cache.table(day, "stops", chosen),
    hide_index=True,
    width="stretch",
    # pixel widths that add up to the page's width on a 1,366 px laptop screen (hover shows more)
    column_order=widgets.STOP_COLUMNS,
    column_config={
        "#": st.column_config.NumberColumn(width=34),
        "Facility": st.column_config.TextColumn(width=165),
        "Address": st.column_config.TextColumn(width=165),
        "ETA": st.column_config.TextColumn(width=54),
        "Window": st.column_config.TextColumn(width=90),
        "Totes": st.column_config.NumberColumn(width=50),
        "Cold": st.column_config.NumberColumn(width=46),
        "Controlled": st.column_config.NumberColumn("CS", width=40, help="controlled totes"),
        "Service (min)": st.column_config.NumberColumn("Service", width=60, help="minutes at the stop"),
        "Late (min)": st.column_config.NumberColumn("Late", width=44, help="minutes after the window"),
        "STAT": st.column_config.CheckboxColumn(width=44),
        "Note": st.column_config.TextColumn(width=100, help="why a late stop is late"),
    },
)
route_problems = attention[attention["Stop"].str.startswith(route_label(plan, problem, chosen) + " ")]
if not route_problems.empty:
    widgets.attention_table(route_problems, title="Late stops on this route")
