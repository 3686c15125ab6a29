"""Streamlit pieces of the Constraints page: save feedback and the Re-plan panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import streamlit as st

from ltc_scheduler.db.constraints import SETTINGS_FIELDS
from ltc_scheduler.errors import BadInput, PlanningError
from ltc_scheduler.ui import actions, data

FLASH_KEY = "constraints_flash"


def show_flash() -> None:
    """A message left by the previous run (after a save or a re-plan the page reloads)."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        level, text = flash
        getattr(st, level)(text)
        if text.startswith("New plan"):
            a, b, _ = st.columns([1, 1, 3])
            a.page_link(
                "ltc_scheduler/ui/app_pages/today.py", label="See it on Today", icon=":material/today:"
            )
            b.page_link(
                "ltc_scheduler/ui/app_pages/compare.py",
                label="Compare with before",
                icon=":material/compare_arrows:",
            )


def bad_input_markdown(exc: BadInput) -> str:
    """The refusal as Markdown: the headline, then one bullet per bad value naming row and field."""
    head = str(exc).splitlines()[0]
    if not exc.errors:
        return f"**{head}**"
    bullets = []
    for e in exc.errors:
        if e.file == "Settings":
            label = SETTINGS_FIELDS.get(e.column, (e.column,))[0]
            if e.column == "minutes_per_card":
                label = "Pharmacist minutes per card"
            bullets.append(f"- **{label}** (`{e.column}`): {e.message}")
        else:
            bullets.append(f"- {e.file} row {e.row}, **{e.column}**: {e.message}")
    return f"**{head}**\n\n" + "\n".join(bullets)


def save_form_result(engine: sa.Engine, kind: str, *, who: str, **kwargs: Any) -> None:
    """Save one form; show what was wrong (nothing stored) or reload with a confirmation."""
    try:
        version = actions.save_edit(engine, kind, who=who, **kwargs)
    except BadInput as exc:
        st.error(bad_input_markdown(exc), icon=":material/error:")
        return
    if version is None:
        st.info("Nothing changed, so nothing was saved.")
        return
    st.session_state[FLASH_KEY] = ("success", f"Saved as constraint set v{version}. Re-plan to apply it.")
    st.rerun()


def replan_panel(engine: sa.Engine, *, date: dt.date, who: str, tz: str) -> None:
    """The Re-plan button with a progress indicator; the page reloads with the new plan's summary."""
    show_flash()
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        keep = left.checkbox(
            "Keep what is already packed or on the road (re-plan from now)",
            value=date == data.local_today(tz),
            key="replan_keep",
            help="Off: plan the whole day again from scratch with the current constraints.",
        )
        clicked = right.button(
            "Re-plan", type="primary", icon=":material/autorenew:", key="replan", width="stretch"
        )
    if not clicked:
        return
    with st.status(f"Re-planning {date.isoformat()}...", expanded=True) as status:
        bar = st.progress(0.0, text="Loading the day's orders")

        def progress(stage: str, fraction: float) -> None:
            label = actions.STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{label}...")

        try:
            run_id, summary = actions.replan(engine, date=date, who=who, keep_done=keep, progress=progress)
        except (BadInput, PlanningError) as exc:
            status.update(label="Re-planning failed; the previous plan is unchanged", state="error")
            st.error(str(exc))
            return
        bar.progress(1.0, text="Done")
        status.update(label=f"Plan #{run_id} is ready", state="complete", expanded=False)
    unserved, late = len(summary.get("unserved", [])), len(summary.get("late", []))
    st.session_state[FLASH_KEY] = (
        "success" if unserved == 0 else "warning",
        f"New plan #{run_id} for {date.isoformat()}: {summary.get('routes', 0)} routes, "
        f"{summary.get('stops', 0)} stops, {unserved} unserved, {late} late. It is now the published plan.",
    )
    st.rerun()
