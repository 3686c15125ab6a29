"""The driver's printed manifest for one route (US Letter, fpdf2).

Contents: pharmacy header, route/vehicle/driver, departure and return, the stops in order with
address, ETA, delivery window and totes (cold and controlled flagged), then a controlled-substance
count sheet per stop with printed-name and signature lines for the receiving nurse.
Deliberately contains **no resident names or ids**: the driver only needs facilities and totes.

:func:`day_manifests_pdf` prints every route's manifest into one file (the dispatcher's morning
paperwork): each route starts on a new page with its title and label. A stop list or count sheet
that runs onto the next page repeats its heading there (``Stop 4: Maple Grove (continued)``).
"""

from __future__ import annotations

from fpdf.fonts import FontFace

from ltc_scheduler.exports.common import (
    RunTag,
    get_route,
    route_label,
    route_order,
    stop_order_lines,
    stop_rows,
    vehicle_name,
)
from ltc_scheduler.exports.pdf_base import LetterPdf, latin1
from ltc_scheduler.plan.model import Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem

_HEAD = FontFace(emphasis="BOLD", fill_color=(226, 232, 240))
_COLD_FILL = (219, 234, 254)


def manifest_pdf(plan: Plan, problem: PlanningProblem, route_no: int, *, run: RunTag | None = None) -> bytes:
    """The manifest of route ``route_no`` (1-based place in ``plan.routes``) as PDF bytes; the
    header names the plan run (``run``) so a sheet can be matched to its plan."""
    pdf = LetterPdf(_footer(plan, problem, route_no))
    _draw_manifest(pdf, plan, problem, route_no, run)
    return bytes(pdf.output())


def day_manifests_pdf(plan: Plan, problem: PlanningProblem, *, run: RunTag | None = None) -> bytes:
    """Every route's manifest in one PDF, by vehicle and trip; each starts on a new page and keeps
    its own footer. A plan without routes gives one page that says so."""
    numbers = route_order(plan, problem)
    pdf = LetterPdf(f"{problem.depot.name} - {plan.date.isoformat()} - driver manifests")
    if not numbers:
        pdf.add_page()
        pdf.heading(f"{problem.depot.name} - driver manifests, {plan.date.isoformat()}", 13)
        pdf.text_line("This plan has no routes.", size=10, style="B")
    for no in numbers:
        pdf.footer_text = latin1(_footer(plan, problem, no))
        _draw_manifest(pdf, plan, problem, no, run)
    return bytes(pdf.output())


def _footer(plan: Plan, problem: PlanningProblem, route_no: int) -> str:
    return f"{problem.depot.name} - {plan.date.isoformat()} - {route_label(plan, problem, route_no)}"


def _draw_manifest(
    pdf: LetterPdf, plan: Plan, problem: PlanningProblem, route_no: int, run: RunTag | None
) -> None:
    """Add route ``route_no``'s manifest to ``pdf``, starting on a new page."""
    route = get_route(plan, route_no)
    label = route_label(plan, problem, route_no)
    rows = stop_rows(plan, problem, route_no)
    depot = problem.depot
    pdf.continued = None
    pdf.add_page()

    # --- pharmacy header
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(pdf.content_width * 0.6, 8, latin1(depot.name))
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(0, 8, "DRIVER MANIFEST", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.cell(pdf.content_width * 0.6, 5, latin1(depot.address))
    pdf.cell(0, 5, latin1(plan.date.strftime("%A %B %d, %Y")), align="R", new_x="LMARGIN", new_y="NEXT")
    if run is not None:
        pdf.cell(0, 5, latin1(run.text().capitalize()), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)

    # --- route summary
    totes = sum(r.totes for r in rows)
    cold = sum(r.cold for r in rows)
    controlled = sum(r.controlled for r in rows)
    pdf.heading(label, 13)
    half = pdf.content_width / 2
    pdf.set_font("helvetica", "", 10)
    vehicle = vehicle_name(problem, route.vehicle_id)
    pdf.cell(half, 6, latin1(f"Vehicle: {vehicle}"))
    pdf.signature_line("Driver:", half)
    pdf.ln(8)
    pdf.set_font("helvetica", "", 10)
    pdf.cell(half, 6, f"Departure: {clock(route.depart_min)}    Back at pharmacy: {clock(route.return_min)}")
    pdf.cell(
        half,
        6,
        f"Distance: {route.distance_m / 1000:.1f} km    Stops: {len(rows)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0,
        6,
        f"Totes: {totes}    Cold totes: {cold}    Controlled totes: {controlled}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if route.break_start_min is not None:
        pdf.cell(0, 6, f"Break: {clock(route.break_start_min)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    # --- the stops in order
    pdf.heading("Stops", 12)
    pdf.set_font("helvetica", "", 9)
    pdf.continued = f"{label} - stops (continued)"
    with pdf.table(
        col_widths=(8, 74, 15, 25, 13, 12, 12, 33),
        text_align=("CENTER", "LEFT", "CENTER", "CENTER", "CENTER", "CENTER", "CENTER", "LEFT"),
        headings_style=_HEAD,
        line_height=4.6,
        padding=1.2,
    ) as table:
        head = table.row()
        for text in ("#", "Facility / address", "ETA", "Window", "Totes", "Cold", "CS", "Notes"):
            head.cell(text)
        for r in rows:
            notes = []
            if r.cold:
                notes.append(f"COLD x{r.cold}: refrigerate")
            if r.controlled:
                notes.append(f"CS x{r.controlled}: count sheet")
            if r.stat:
                notes.append("STAT")
            if r.late_min:
                notes.append(f"late {r.late_min} min")
            style = FontFace(fill_color=_COLD_FILL) if r.cold else None
            row = table.row(style=style)
            row.cell(str(r.sequence))
            row.cell(latin1(f"{r.facility}\n{r.address}"))
            row.cell(r.eta)
            row.cell(r.window or "any")
            row.cell(str(r.totes))
            row.cell(str(r.cold) if r.cold else "-")
            row.cell(str(r.controlled) if r.controlled else "-")
            row.cell(latin1("; ".join(notes)))
    pdf.continued = None
    pdf.ln(2)
    pdf.text_line(
        "COLD = refrigerated items: keep in the cooler, hand over first and have them put in the "
        "fridge. CS = controlled substances: count with the nurse and get the count sheet signed.",
        size=8,
    )

    # --- controlled-substance count sheet
    pdf.add_page()
    pdf.heading("Controlled-substance count sheet", 13)
    pdf.text_line(
        "The receiving nurse counts every controlled item with the driver, then prints their name and "
        "signs. Any discrepancy: do not leave the items, call the pharmacy.",
        size=9,
    )
    pdf.ln(2)
    cs_rows = [r for r in rows if r.controlled]
    if not cs_rows:
        pdf.text_line("No controlled substances on this route.", size=10, style="B")
    stops_by_seq = {s.seq: s for s in route.stops}
    for r in cs_rows:
        lines = [o for o in stop_order_lines(plan, problem, stops_by_seq[r.sequence]) if o.controlled]
        if pdf.get_y() > pdf.h - 80:
            pdf.add_page()
        pdf.heading(f"Stop {r.sequence}: {r.facility}  (ETA {r.eta}, {r.controlled} controlled tote(s))", 10)
        pdf.set_font("helvetica", "", 9)
        pdf.continued = f"Stop {r.sequence}: {r.facility} (continued) - {label}"
        with pdf.table(
            col_widths=(30, 90, 18, 18, 30),
            text_align=("LEFT", "LEFT", "CENTER", "CENTER", "CENTER"),
            headings_style=_HEAD,
            line_height=4.6,
            padding=1.2,
        ) as table:
            head = table.row()
            for text in ("Order #", "Medication", "Cards", "Doses", "Count OK"):
                head.cell(text)
            for o in lines:
                row = table.row()
                row.cell(latin1(o.external_id))
                row.cell(latin1(o.medication_name))
                row.cell(str(o.cards))
                row.cell(str(o.doses))
                row.cell("[   ]")
            if not lines:
                row = table.row()
                row.cell(f"{r.controlled} sealed controlled tote(s)", colspan=4)
                row.cell("[   ]")
        pdf.ln(3)
        third = pdf.content_width / 3
        pdf.signature_line("Nurse printed name:", third * 1.25)
        pdf.signature_line("Nurse signature:", third * 1.05)
        pdf.signature_line("Time:", third * 0.7)
        pdf.ln(10)
        pdf.signature_line("Driver signature:", third * 1.25)
        pdf.ln(12)
        pdf.continued = None
