"""The Orders page's CSV upload: the CLI importer's validation, all-or-nothing."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from ltc_scheduler.db.engine import session_scope
from ltc_scheduler.errors import BadInput

FLASH_KEY = "orders_flash"

#: a header row and one example line (the columns the importer reads)
TEMPLATE = (
    "external_id,facility_id,resident_id,unit,room,medication,ndc,order_class,doses,cards,received_at,need_by\n"
    "RX0001,145011,R1001,1 North,101A,Metformin 500 mg tablet,,cycle_fill,28,1,2026-11-26 08:00,2026-11-27\n"
)


def import_orders_text(
    engine: sa.Engine, *, name: str, data: bytes, who: str, tz: str | None = None
) -> dict[str, Any]:
    """Import an uploaded orders CSV in one transaction; :class:`BadInput` lists every bad row."""
    from ltc_scheduler.importers.csvfile import CsvText
    from ltc_scheduler.importers.orders import import_orders

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{name}: is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    if tz is None:
        from ltc_scheduler.config import get_settings

        tz = get_settings().timezone
    with session_scope(engine) as session:
        return import_orders(session, CsvText(name, text), who=who, tz=tz)


def upload_orders_form(engine: sa.Engine, *, who: str, tz: str | None = None) -> None:
    """File picker + Import button; shows every bad row, or how many lines were imported."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/task_alt:")
    st.caption(
        "Columns: external_id, facility_id, resident_id, order_class, doses, cards, received_at, need_by "
        "(+ unit, room, medication or ndc, status). Same checks as `ltc-scheduler import orders`: "
        "if any row is wrong, nothing is imported and every bad row is listed."
    )
    st.download_button(
        "CSV template",
        TEMPLATE,
        file_name="orders_template.csv",
        mime="text/csv",
        icon=":material/description:",
        on_click="ignore",
    )
    with st.form("upload_orders", clear_on_submit=False):
        upload = st.file_uploader("Orders CSV", type=["csv"], key="orders_file")
        submitted = st.form_submit_button("Import orders", type="primary", icon=":material/upload_file:")
    if not submitted:
        return
    if upload is None:
        st.warning("Choose a CSV file first.")
        return
    try:
        with st.spinner(f"Checking and importing {upload.name}..."):
            result = import_orders_text(engine, name=upload.name, data=upload.getvalue(), who=who, tz=tz)
    except BadInput as exc:
        first = str(exc).splitlines()[0]
        st.error(f"**Nothing was imported.** {first}", icon=":material/error:")
        if exc.errors:
            st.dataframe(
                pd.DataFrame(
                    [{"Row": e.row, "Column": e.column, "Problem": e.message} for e in exc.errors],
                ),
                hide_index=True,
                width="stretch",
            )
        return
    st.session_state[FLASH_KEY] = (
        f"Imported {upload.name}: {result.get('rows', 0)} rows ({result.get('inserted', 0)} new, "
        f"{result.get('updated', 0)} updated). Re-plan to include them."
    )
    st.rerun()
