"""Streamlit pieces of the Constraints page: save feedback and the Re-plan panel."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import sqlalchemy as sa
import streamlit as st

from ltc_scheduler.db.constraints import SETTINGS_FIELDS
from ltc_scheduler.db.plans import DateBusy
from ltc_scheduler.errors import BadInput, PlanningError
from ltc_scheduler.ui import actions, data

FLASH_KEY = "constraints_flash"
#: a re-plan kept as a draft, waiting for the user's decision: (date, outcome)
DRAFT_KEY = "replan_draft"

log = logging.getLogger(__name__)


def internal_error(exc: BaseException, *, doing: str) -> str:
    """Log ``exc`` with a new reference id and return the sentence to show (no traceback)."""
    ref = uuid.uuid4().hex[:8]
    log.error("%s failed [ref %s]", doing, ref, exc_info=exc)
    return (
        f"{doing} failed because of an internal error; the published plan is unchanged. "
        f"Reference **{ref}**: give it to your administrator (the details are in the server log)."
    )


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
    pending = st.session_state.get(DRAFT_KEY)
    if pending is not None and pending[0] == date and not clicked:
        _draft_confirmation(engine, date=date, who=who, outcome=pending[1])
    if not clicked:
        return
    st.session_state.pop(DRAFT_KEY, None)
    with st.status(f"Re-planning {date.isoformat()}...", expanded=True) as status:
        bar = st.progress(0.0, text="Loading the day's orders")

        def progress(stage: str, fraction: float) -> None:
            label = actions.STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{label}...")

        try:
            outcome = actions.replan(engine, date=date, who=who, keep_done=keep, progress=progress)
        except (BadInput, PlanningError) as exc:
            status.update(label="Re-planning failed; the previous plan is unchanged", state="error")
            st.error(bad_input_markdown(exc) if isinstance(exc, BadInput) else str(exc))
            return
        except DateBusy as exc:
            status.update(label="Not re-planned: the date is busy", state="error")
            st.error(str(exc), icon=":material/hourglass_top:")
            return
        except Exception as exc:  # noqa: BLE001 - the user sees a sentence and a reference, never a traceback
            status.update(label="Re-planning failed; the previous plan is unchanged", state="error")
            st.error(internal_error(exc, doing="Re-planning"), icon=":material/error:")
            return
        bar.progress(1.0, text="Done")
        run_id, summary = outcome.plan_run_id, outcome.summary
        if not outcome.published:
            status.update(label=f"Plan #{run_id} kept as a draft", state="complete", expanded=False)
        else:
            status.update(label=f"Plan #{run_id} is ready", state="complete", expanded=False)
    if not outcome.published:
        st.session_state[DRAFT_KEY] = (date, outcome)
        _draft_confirmation(engine, date=date, who=who, outcome=outcome)
        return
    unserved, late = len(summary.get("unserved", [])), len(summary.get("late", []))
    st.session_state[FLASH_KEY] = (
        "success" if unserved == 0 else "warning",
        f"New plan #{run_id} for {date.isoformat()}: {summary.get('routes', 0)} routes, "
        f"{summary.get('stops', 0)} stops, {unserved} unserved, {late} late. It is now the published plan.",
    )
    st.rerun()


def _draft_confirmation(engine: sa.Engine, *, date: dt.date, who: str, outcome: Any) -> None:
    """The new plan is worse than the published one (or the published plan changed meanwhile): say
    how, side by side, and let the user publish it anyway or keep the published plan."""
    with st.container(border=True):
        st.warning(
            f"**Plan #{outcome.plan_run_id} was kept as a draft; plan #{outcome.published_run_id} is "
            f"still the published plan.** {outcome.note or ''}",
            icon=":material/warning:",
        )
        rows = actions.comparison_rows(outcome)
        if rows:
            st.dataframe(rows, hide_index=True)
        a, b, _ = st.columns([1, 1, 2])
        publish = a.button(
            f"Publish plan #{outcome.plan_run_id} anyway", key="publish_draft", icon=":material/publish:"
        )
        keep = b.button("Keep the published plan", key="keep_published")
    if keep:
        st.session_state.pop(DRAFT_KEY, None)
        st.session_state[FLASH_KEY] = ("info", f"Plan #{outcome.published_run_id} stays published.")
        st.rerun()
    if publish:
        try:
            actions.publish_anyway(
                engine,
                plan_run_id=outcome.plan_run_id,
                who=who,
                expected_published=outcome.published_run_id,
            )
        except BadInput as exc:
            st.session_state.pop(DRAFT_KEY, None)
            st.error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a sentence and a reference, never a traceback
            st.error(internal_error(exc, doing="Publishing"), icon=":material/error:")
            return
        st.session_state.pop(DRAFT_KEY, None)
        st.session_state[FLASH_KEY] = (
            "success",
            f"New plan #{outcome.plan_run_id} for {date.isoformat()} was published anyway. "
            "It is now the published plan.",
        )
        st.rerun()
